//! An episode's media as the episode page reads it: the transcript, the rendered page, the clips in
//! their four renditions, the social posts, and the scored highlight candidates with the settings they
//! were looked for with.

use serde::{Deserialize, Serialize};

/// Clip length presets (seconds): `short` 15–30, `medium` 20–60 (the default), `long` 60–120.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClipPreset {
    Short,
    #[default]
    Medium,
    Long,
}

impl ClipPreset {
    pub const ALL: [ClipPreset; 3] = [ClipPreset::Short, ClipPreset::Medium, ClipPreset::Long];

    pub fn as_str(self) -> &'static str {
        match self {
            ClipPreset::Short => "short",
            ClipPreset::Medium => "medium",
            ClipPreset::Long => "long",
        }
    }

    /// "short (15–30 s)", for the page.
    pub fn label(self) -> &'static str {
        match self {
            ClipPreset::Short => "short (15–30 s)",
            ClipPreset::Medium => "medium (20–60 s)",
            ClipPreset::Long => "long (60–120 s)",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s.trim())
    }
}

/// What the candidates were looked for with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoverySettings {
    pub preset: ClipPreset,
    /// Clips rendered by processing (more candidates than this are kept).
    pub count: u32,
}

/// Most clips an episode may be asked for: each is four renditions.
pub const MAX_CLIP_COUNT: u32 = 50;

/// One of a clip's four renditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipVariant {
    #[serde(rename = "16x9_clean")]
    WideClean,
    #[serde(rename = "16x9_subtitled")]
    WideSubtitled,
    #[serde(rename = "9x16_clean")]
    TallClean,
    #[serde(rename = "9x16_subtitled")]
    TallSubtitled,
}

impl ClipVariant {
    pub const ALL: [ClipVariant; 4] = [
        ClipVariant::WideClean,
        ClipVariant::WideSubtitled,
        ClipVariant::TallClean,
        ClipVariant::TallSubtitled,
    ];
    /// Also the file name's stem: `clips/<n>/<name>.mp4`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClipVariant::WideClean => "16x9_clean",
            ClipVariant::WideSubtitled => "16x9_subtitled",
            ClipVariant::TallClean => "9x16_clean",
            ClipVariant::TallSubtitled => "9x16_subtitled",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ClipVariant::WideClean => "16:9 clean",
            ClipVariant::WideSubtitled => "16:9 subtitled",
            ClipVariant::TallClean => "9:16 clean",
            ClipVariant::TallSubtitled => "9:16 subtitled",
        }
    }
    pub fn from_file(name: &str) -> Option<Self> {
        let stem = name.strip_suffix(".mp4")?;
        ClipVariant::ALL.into_iter().find(|v| v.as_str() == stem)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClipFile {
    pub variant: ClipVariant,
    /// `/files/…`: where the browser fetches it.
    pub url: String,
    pub bytes: i64,
}

/// One highlight clip: its renditions that exist, and its thumbnail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Clip {
    /// 1-based, as in `clips/<n>/`.
    pub n: u32,
    pub files: Vec<ClipFile>,
    pub thumb: Option<String>,
    /// This clip's own posts, one per platform, written from its sentences (`clips/<n>/posts.json`).
    #[serde(default)]
    pub posts: Vec<SocialPost>,
}

/// A social post as packaged, with its length counted the way the platform counts (characters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SocialPost {
    pub platform: String,
    pub text: String,
    pub chars: i64,
    pub limit: i64,
    pub clip: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TranscriptLine {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// A highlight candidate the enrich stage scored: what the operator chooses clips from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HighlightCandidate {
    pub start: f64,
    pub end: f64,
    /// Higher is better; comparable within one episode only.
    pub score: f64,
    /// Why it was chosen, in a few words.
    pub why: String,
    pub text: String,
    /// The clip it is cut as (`clips/<n>/`), when it is one of the rendered highlights.
    pub clip: Option<u32>,
}

/// What an episode produced, read from its registered files.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpisodeMedia {
    pub transcript: Vec<TranscriptLine>,
    /// What made the transcript (`whisper tiny.en`, `whisper base`, `pocketsphinx`, `sidecar`, `command`)
    /// and its note (why the fallback recognizer was used, no speech); absent for older transcripts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript_engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript_note: Option<String>,
    /// A transcript was written and has no line: the recognizer found no speech (or the sidecar is
    /// empty). Distinguishes "nothing was said" from "not transcribed yet".
    #[serde(default)]
    pub transcript_empty: bool,
    /// `/files/…/index.html` when the page is rendered.
    pub page: Option<String>,
    pub clips: Vec<Clip>,
    pub social: Vec<SocialPost>,
    /// Scored highlight candidates, best first (more than are rendered).
    #[serde(default)]
    pub candidates: Vec<HighlightCandidate>,
    /// Why the episode has no (or an unusual) highlight: "no highlight: …".
    #[serde(default)]
    pub highlight_note: Option<String>,
    /// Every clip the enrichment knows (`clip` set), rendered or dropped, nudged ones included.
    #[serde(default)]
    pub highlights: Vec<HighlightCandidate>,
    /// What the candidates were looked for with.
    #[serde(default)]
    pub discovery: Option<DiscoverySettings>,
}

#[cfg(test)]
mod tests {
    use super::ClipVariant;

    #[test]
    fn each_rendition_is_named_by_its_file() {
        for v in ClipVariant::ALL {
            assert_eq!(
                ClipVariant::from_file(&format!("{}.mp4", v.as_str())),
                Some(v)
            );
        }
    }
}
