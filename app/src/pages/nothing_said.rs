//! What an episode page says where a transcript or clips would be, from stored facts: a transcript that
//! was written and is empty means no speech was found (so there is nothing to cut), which is not the same
//! as "not processed yet".

/// Where the transcript would be.
pub fn no_transcript(written_empty: bool) -> &'static str {
    if written_empty {
        "No speech was found in the audio, so the transcript is empty and there are no clips."
    } else {
        "No transcript yet: it is written at the “transcribed” stage. Process the episode, or add a \
         .vtt/.srt next to its video."
    }
}

/// Where the clips would be. `highlight_note` is the enrich stage's "no highlight: …", when it wrote one.
pub fn no_clips(written_empty: bool, highlight_note: Option<&str>) -> String {
    match highlight_note {
        _ if written_empty => {
            "No clips: no speech was found in the audio, so there was nothing to cut.".to_string()
        }
        Some(note) if note.starts_with("no highlight:") => {
            format!(
                "No clips: {}.",
                note.trim_start_matches("no highlight:").trim()
            )
        }
        _ => "No clips yet: they are cut at the “clipped” stage from the transcript's highlights. \
              Process the episode to get them."
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_empty_transcript_is_said_as_no_speech_not_as_not_processed() {
        assert!(super::no_transcript(true).starts_with("No speech was found"));
        assert!(super::no_transcript(false).contains("Process the episode"));
        let note = Some("no highlight: the transcript has no speech");
        assert!(super::no_clips(true, note).contains("no speech was found"));
        assert_eq!(
            super::no_clips(false, Some("no highlight: this does not sound like speech")),
            "No clips: this does not sound like speech."
        );
        assert!(super::no_clips(false, None).contains("Process the episode"));
    }
}
