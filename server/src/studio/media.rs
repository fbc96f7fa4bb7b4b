//! What an episode produced, as the episode page shows it: its transcript, page, highlight candidates,
//! clips and social posts, read back from its registered files as they are on disk now.

use super::Studio;
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::pipeline::enrich::{Enriched, Highlight};
use crate::pipeline::highlights::{Discovery, Preset};
use crate::pipeline::{social, transcript};
use crate::registry::{ArtifactKind, ArtifactRow};
use app::api::{
    Clip, ClipFile, ClipPreset, ClipVariant, DiscoverySettings, EpisodeMedia, HighlightCandidate,
    SocialPost, TranscriptLine,
};
use std::collections::BTreeMap;

/// Largest transcript or social post the episode page reads back (a real one is a few hundred KB).
const MAX_TEXT_BYTES: u64 = 8 * 1024 * 1024;

impl Studio {
    /// What the episode produced, from its registered files as they are on disk now. A file that cannot
    /// be read is left out (and logged): the page shows what is there.
    pub(super) async fn media(&self, id: &EpisodeId) -> Result<EpisodeMedia> {
        let rows = self.registry.artifacts_of(id.as_str()).await?;
        let mut media = EpisodeMedia::default();
        let mut clips: BTreeMap<u32, Clip> = BTreeMap::new();
        let clips_dir = format!("{}/clips/", self.root.outputs_dir(id));
        for row in &rows {
            match row.kind() {
                ArtifactKind::Transcript => self.add_transcript(id, row, &mut media),
                ArtifactKind::Page => media.page = Some(file_url(row)),
                ArtifactKind::Enriched => self.add_candidates(id, row, &mut media),
                // A clip's posts sit in its directory; the episode's own posts anywhere else.
                ArtifactKind::Social if row.path.starts_with(&clips_dir) => {
                    self.add_clip_posts(id, row, &clips_dir, &mut clips)
                }
                ArtifactKind::Social => self.add_social_post(id, row, &mut media),
                ArtifactKind::Clip | ArtifactKind::Thumbnail => {
                    add_clip_file(row, &clips_dir, &mut clips)
                }
                _ => {}
            }
        }
        for clip in clips.values_mut() {
            clip.files.sort_by_key(|f| f.variant as u8);
        }
        media.clips = clips.into_values().collect();
        media.social.sort_by(|a, b| a.platform.cmp(&b.platform));
        Ok(media)
    }

    /// The transcript's lines (the `.vtt`), or which engine made it and its note (the `.json`).
    fn add_transcript(&self, id: &EpisodeId, row: &ArtifactRow, media: &mut EpisodeMedia) {
        if row.path.ends_with(".vtt") {
            match self.read_text(&row.path) {
                Ok(text) => {
                    media.transcript = transcript::parse(&text)
                        .into_iter()
                        .map(|c| TranscriptLine {
                            start: c.start,
                            end: c.end,
                            text: c.text,
                        })
                        .collect();
                    media.transcript_empty = media.transcript.is_empty();
                }
                Err(e) => tracing::warn!(episode = %id, error = %e, "transcript unreadable"),
            }
        } else if row.path.ends_with(".json") {
            match self.read_text(&row.path).map(|t| transcript_origin(&t)) {
                Ok((engine, note)) => {
                    media.transcript_engine = engine;
                    media.transcript_note = note;
                }
                Err(e) => tracing::warn!(episode = %id, error = %e, "transcript json unreadable"),
            }
        }
    }

    /// The highlight candidates of the enrichment.
    fn add_candidates(&self, id: &EpisodeId, row: &ArtifactRow, media: &mut EpisodeMedia) {
        match self.read_text(&row.path) {
            Ok(text) => match serde_json::from_str::<Enriched>(&text) {
                Ok(e) => highlight_candidates(&e, media),
                Err(e) => tracing::warn!(episode = %id, error = %e, "enrichment unreadable"),
            },
            Err(e) => tracing::warn!(episode = %id, error = %e, "enrichment unreadable"),
        }
    }

    /// One clip's social posts.
    fn add_clip_posts(
        &self,
        id: &EpisodeId,
        row: &ArtifactRow,
        clips_dir: &str,
        clips: &mut BTreeMap<u32, Clip>,
    ) {
        let Some((n, _)) = clip_file(&row.path, clips_dir) else {
            return;
        };
        match self.read_text(&row.path).map(|t| clip_posts(&t)) {
            Ok(posts) => new_clip(clips, n).posts = posts,
            Err(e) => tracing::warn!(episode = %id, error = %e, "clip posts unreadable"),
        }
    }

    /// One of the episode's own social posts.
    fn add_social_post(&self, id: &EpisodeId, row: &ArtifactRow, media: &mut EpisodeMedia) {
        match self.read_text(&row.path).map(|t| social_post(&t)) {
            Ok(Some(post)) => media.social.push(post),
            Ok(None) => tracing::warn!(episode = %id, path = %row.path, "social post unreadable"),
            Err(e) => tracing::warn!(episode = %id, error = %e, "social post unreadable"),
        }
    }

    /// A small text file under the data root, read without following a symlink anywhere on the way.
    pub(super) fn read_text(&self, rel: &str) -> Result<String> {
        use std::io::Read;
        use std::os::unix::fs::OpenOptionsExt;
        let abs = self.no_symlink_path(rel)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&abs)
            .map_err(|e| Error::io(&abs, e))?;
        let mut text = String::new();
        file.take(MAX_TEXT_BYTES)
            .read_to_string(&mut text)
            .map_err(|e| Error::io(&abs, e))?;
        Ok(text)
    }
}

/// The scored candidates for the episode page, each marked with the clip it is cut as. Enrichment
/// written before candidates were kept lists only its highlights.
pub(super) fn highlight_candidates(e: &Enriched, media: &mut EpisodeMedia) {
    let list = if e.candidates.is_empty() {
        &e.highlights
    } else {
        &e.candidates
    };
    media.candidates = list
        .iter()
        .map(|c| {
            let clip = e
                .highlights
                .iter()
                .position(|h| h.start == c.start && h.end == c.end)
                .map(|i| i as u32 + 1);
            shown(c, clip)
        })
        .collect();
    media.highlights = e
        .highlights
        .iter()
        .enumerate()
        .map(|(i, h)| shown(h, Some(i as u32 + 1)))
        .collect();
    media.discovery = Some(settings_of(e.discovery));
    media.highlight_note = e.note.clone();
}

/// `clips/<n>/<file>` under the episode's clips dir: the clip number and the file name.
fn clip_file<'a>(path: &'a str, clips_dir: &str) -> Option<(u32, &'a str)> {
    let (n, file) = path.strip_prefix(clips_dir)?.split_once('/')?;
    Some((n.parse().ok()?, file))
}

fn new_clip(clips: &mut BTreeMap<u32, Clip>, n: u32) -> &mut Clip {
    clips.entry(n).or_insert_with(|| Clip {
        n,
        files: vec![],
        thumb: None,
        posts: vec![],
    })
}

/// A clip's own posts (`clips/<n>/posts.json`, one per platform), or none when unreadable.
fn clip_posts(json: &str) -> Vec<SocialPost> {
    serde_json::from_str::<Vec<social::Post>>(json)
        .map(|posts| posts.into_iter().map(api_post).collect())
        .unwrap_or_default()
}

/// A packaged post, its length counted in characters as platforms do.
fn social_post(json: &str) -> Option<SocialPost> {
    let p: social::Post = serde_json::from_str(json).ok()?;
    Some(api_post(p))
}

fn api_post(p: social::Post) -> SocialPost {
    SocialPost {
        chars: p.text.chars().count() as i64,
        platform: p.platform,
        text: p.text,
        limit: p.limit as i64,
        clip: p.clip.map(|c| format!("/files/{c}")),
    }
}

/// `engine` and `note` of a `transcripts/<id>.json` (the words are not needed for the page).
fn transcript_origin(json: &str) -> (Option<String>, Option<String>) {
    #[derive(serde::Deserialize)]
    struct Origin {
        engine: Option<String>,
        note: Option<String>,
    }
    serde_json::from_str::<Origin>(json)
        .map(|o| (o.engine, o.note))
        .unwrap_or((None, None))
}

/// The discovery settings an enrichment was made with, as the episode page shows them.
pub(super) fn settings_of(d: Discovery) -> DiscoverySettings {
    DiscoverySettings {
        preset: match d.preset {
            Preset::Short => ClipPreset::Short,
            Preset::Medium => ClipPreset::Medium,
            Preset::Long => ClipPreset::Long,
        },
        count: d.count as u32,
    }
}

/// Where the browser fetches a registered file.
fn file_url(row: &ArtifactRow) -> String {
    format!("/files/{}", row.path)
}

/// A clip's rendition or thumbnail, by its file name in the clip's directory.
fn add_clip_file(row: &ArtifactRow, clips_dir: &str, clips: &mut BTreeMap<u32, Clip>) {
    let Some((n, file)) = clip_file(&row.path, clips_dir) else {
        return;
    };
    let clip = new_clip(clips, n);
    match ClipVariant::from_file(file) {
        Some(variant) => clip.files.push(ClipFile {
            variant,
            url: file_url(row),
            bytes: row.bytes,
        }),
        None if file == "thumb.jpg" => clip.thumb = Some(file_url(row)),
        None => {}
    }
}

/// A scored highlight as the page lists it (a candidate, or a clip's own), its text as written
/// sentences when enrichment kept them.
fn shown(h: &Highlight, clip: Option<u32>) -> HighlightCandidate {
    HighlightCandidate {
        start: h.start,
        end: h.end,
        score: h.score,
        why: h.why.clone(),
        text: if h.sentences.is_empty() {
            h.text.clone()
        } else {
            h.sentences.join(" ")
        },
        clip,
    }
}
