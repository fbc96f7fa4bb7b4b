//! What to look for in an episode: the clip length presets and the settings files that choose them.

use serde::{Deserialize, Serialize};

/// Clip length presets, as the system EWG Studio replaces offered them (seconds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// 15–30 s: TikTok, Reels, Shorts at their snappiest.
    Short,
    /// 20–60 s: the short-form sweet spot.
    #[default]
    Medium,
    /// 60–120 s: a full answer, for YouTube and Facebook.
    Long,
}

impl Preset {
    pub fn range(self) -> (f64, f64) {
        match self {
            Preset::Short => (15.0, 30.0),
            Preset::Medium => (20.0, 60.0),
            Preset::Long => (60.0, 120.0),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "short" => Some(Preset::Short),
            "medium" => Some(Preset::Medium),
            "long" => Some(Preset::Long),
            _ => None,
        }
    }
}

/// Discovery parameters: how many clips to cut and how long. Stored in the enriched json so the page
/// shows what the candidates were chosen for.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Discovery {
    pub preset: Preset,
    /// Clips rendered; more candidates than this are scored and kept for the operator.
    pub count: usize,
}

impl Default for Discovery {
    fn default() -> Self {
        Discovery {
            preset: Preset::Medium,
            count: 3,
        }
    }
}

impl Discovery {
    /// Applies settings text (`preset=short count=5`, whitespace- or line-separated, `#` comments) from
    /// a show's `show.clips` or an episode's `<video stem>.clips`. Unknown keys and bad values are
    /// reported and leave the setting as it was: a typo must not stop an episode.
    pub fn with_settings(mut self, text: &str) -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        for item in text
            .lines()
            // `preset = long` reads like `preset=long`.
            .map(|l| {
                let l = l.split('#').next().unwrap_or("");
                l.split('=').map(str::trim).collect::<Vec<_>>().join("=")
            })
            .collect::<Vec<_>>()
            .iter()
            .flat_map(|l| l.split_whitespace())
        {
            let Some((k, v)) = item.split_once('=') else {
                problems.push(format!("`{item}` is not key=value"));
                continue;
            };
            match (k.trim(), v.trim()) {
                ("preset", v) => match Preset::parse(v) {
                    Some(p) => self.preset = p,
                    None => problems.push(format!("preset `{v}` is not short|medium|long")),
                },
                ("count", v) => match v.parse::<usize>() {
                    Ok(n) if n <= 50 => self.count = n,
                    _ => problems.push(format!("count `{v}` is not a number of clips (0–50)")),
                },
                (k, _) => problems.push(format!("unknown setting `{k}` (preset, count)")),
            }
        }
        (self, problems)
    }
}
