//! Social posts, one per platform, each within that platform's caption limit (in characters).

use super::enrich::Enriched;
use serde::{Deserialize, Serialize};

pub const PLATFORMS: [(&str, usize); 5] = [
    ("youtube", 5000),
    ("instagram", 2200),
    ("tiktok", 2200),
    ("x", 280),
    ("facebook", 63206),
];

/// `social/<episode>/<platform>.json` as the package stage writes it and the episode page reads it back.
#[derive(Serialize, Deserialize)]
pub struct Post {
    pub platform: String,
    pub limit: usize,
    pub text: String,
    /// Relative to the data root.
    pub clip: Option<String>,
}

pub fn post(platform: &str, limit: usize, e: &Enriched, clip: Option<String>) -> Post {
    let tags: String = e
        .keywords
        .iter()
        .take(5)
        .map(|k| format!(" #{k}"))
        .collect();
    let full = format!("{}\n\n{}{tags}", e.title, e.summary);
    Post {
        platform: platform.to_string(),
        limit,
        text: truncate(&full, limit),
        clip,
    }
}

/// Cuts to at most `limit` characters (not bytes), ending with an ellipsis when cut.
pub fn truncate(s: &str, limit: usize) -> String {
    if s.chars().count() <= limit {
        return s.to_string();
    }
    let mut out: String = s.chars().take(limit.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn truncation_counts_characters_not_bytes() {
        let s = "é".repeat(300);
        let t = super::truncate(&s, 280);
        assert_eq!(t.chars().count(), 280);
        assert!(t.ends_with('…'));
        assert_eq!(super::truncate("short", 280), "short");
    }
}
