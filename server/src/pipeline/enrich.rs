//! Deterministic enrichment from transcript cues: title, summary, keywords, highlight candidates.

use super::transcript::Cue;
use crate::ids::EpisodeId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Highlight {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Enriched {
    pub title: String,
    pub summary: String,
    pub keywords: Vec<String>,
    pub highlights: Vec<Highlight>,
}

const STOP: &[&str] = &[
    "that", "this", "with", "from", "have", "about", "they", "their", "there", "what", "when",
    "were", "will", "would", "your", "into", "just", "like", "then", "than", "them", "been",
    "also", "some", "part", "episode",
];

/// Longest clip we cut, in seconds: short-form platforms want short clips.
const MAX_CLIP_SECS: f64 = 30.0;

pub fn enrich(id: &EpisodeId, cues: &[Cue], duration: f64, max_clips: usize) -> Enriched {
    let show = id
        .show()
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ");
    let title = format!("{show} #{} — {}", id.number(), id.date());

    let mut summary = String::new();
    for c in cues {
        if summary.len() + c.text.len() > 280 {
            break;
        }
        if !summary.is_empty() {
            summary.push(' ');
        }
        summary += &c.text;
    }

    let mut freq: HashMap<String, usize> = HashMap::new();
    for c in cues {
        for w in c.text.split(|ch: char| !ch.is_alphanumeric()) {
            let w = w.to_lowercase();
            if w.chars().count() >= 4 && !STOP.contains(&w.as_str()) {
                *freq.entry(w).or_default() += 1;
            }
        }
    }
    let mut words: Vec<_> = freq.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let keywords = words.into_iter().take(8).map(|(w, _)| w).collect();

    // The most substantial cues make the highlights, shown in the order they occur.
    let mut ranked: Vec<&Cue> = cues
        .iter()
        .filter(|c| c.start < duration && c.end - c.start >= 0.5)
        .collect();
    ranked.sort_by(|a, b| {
        b.text
            .len()
            .cmp(&a.text.len())
            .then(a.start.total_cmp(&b.start))
    });
    let mut highlights: Vec<Highlight> = ranked
        .into_iter()
        .take(max_clips)
        .map(|c| Highlight {
            start: c.start,
            end: c.end.min(duration).min(c.start + MAX_CLIP_SECS),
            text: c.text.clone(),
        })
        .collect();
    highlights.sort_by(|a, b| a.start.total_cmp(&b.start));

    Enriched {
        title,
        summary,
        keywords,
        highlights,
    }
}
