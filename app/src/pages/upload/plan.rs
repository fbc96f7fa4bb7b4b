//! The client-side check of the picked files and the upload query. Clear messages early; the server
//! decides.

use crate::api::{valid_episode_stem, valid_show};
use crate::url::encode_query_value;

pub(super) const EXPECTED: &str = "ep<NNN>_<YYYY-MM-DD>.mp4, e.g. ep004_2026-01-04.mp4";

/// What to send: the video's file name and, when subtitles were picked, the name they get beside it.
#[derive(Debug, PartialEq)]
pub(super) struct Plan {
    pub video: String,
    pub subs: Option<String>,
}

/// The client-side check: clear messages early. The server decides.
pub(super) fn plan(show: &str, video: Option<&str>, subs: Option<&str>) -> Result<Plan, String> {
    if show.is_empty() {
        return Err("Enter the show the episode belongs to (e.g. talk).".into());
    }
    if !valid_show(show) {
        return Err(format!(
            "Show “{show}” must be lowercase letters, digits and dashes (e.g. morning-show)."
        ));
    }
    let Some(video) = video else {
        return Err("Choose the episode video (.mp4).".into());
    };
    let Some(stem) = video.strip_suffix(".mp4").filter(|s| valid_episode_stem(s)) else {
        return Err(format!(
            "“{video}” is not named like an episode video: expected {EXPECTED}. Rename the file and choose it again."
        ));
    };
    let subs = match subs {
        None => None,
        Some(s) => {
            let lower = s.to_ascii_lowercase();
            let ext = if lower.ends_with(".vtt") {
                "vtt"
            } else if lower.ends_with(".srt") {
                "srt"
            } else {
                return Err(format!(
                    "“{s}” is not a subtitle file: choose a .vtt or .srt file."
                ));
            };
            // Subtitles are stored beside the video under its name, whatever the local file was called.
            Some(format!("{stem}.{ext}"))
        }
    };
    Ok(Plan {
        video: video.to_string(),
        subs,
    })
}

pub(super) fn upload_url(show: &str, name: &str) -> String {
    format!(
        "/api/upload?show={}&name={}",
        encode_query_value(show),
        encode_query_value(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_subtitles_after_the_video() {
        assert_eq!(
            plan(
                "talk",
                Some("ep004_2026-01-04.mp4"),
                Some("My Subtitles.VTT")
            ),
            Ok(Plan {
                video: "ep004_2026-01-04.mp4".into(),
                subs: Some("ep004_2026-01-04.vtt".into()),
            })
        );
        assert_eq!(
            plan("talk", Some("ep004_2026-01-04.mp4"), None).map(|p| p.subs),
            Ok(None)
        );
    }

    #[test]
    fn explains_what_is_expected() {
        for (show, video, subs, says) in [
            ("", Some("ep004_2026-01-04.mp4"), None, "show"),
            ("Talk Show", Some("ep004_2026-01-04.mp4"), None, "lowercase"),
            ("talk", None, None, "Choose"),
            (
                "talk",
                Some("holiday.mp4"),
                None,
                "ep<NNN>_<YYYY-MM-DD>.mp4",
            ),
            ("talk", Some("ep4_2026-01-04.mp4"), None, "expected"),
            ("talk", Some("ep004_2026-01-04.mov"), None, "expected"),
            (
                "talk",
                Some("ep004_2026-01-04.mp4"),
                Some("notes.txt"),
                ".vtt",
            ),
        ] {
            let msg = plan(show, video, subs).unwrap_err();
            assert!(msg.contains(says), "{msg:?} should mention {says:?}");
        }
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(
            upload_url("a b", "&é"),
            "/api/upload?show=a%20b&name=%26%C3%A9"
        );
        assert_eq!(
            upload_url("talk", "ep004_2026-01-04.mp4"),
            "/api/upload?show=talk&name=ep004_2026-01-04.mp4"
        );
    }
}
