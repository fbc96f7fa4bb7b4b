//! Episode ids: `<show>_ep<NNN>_<YYYY-MM-DD>`, derived from `inbox/<show>/ep<NNN>_<YYYY-MM-DD>.mp4`.
//! `NNN` is three digits or more (`ep1000`, no leading zero past three: one spelling per number);
//! lists sort by show, then number, then date ([`EpisodeId::sort_key`], and the registry's `ORDER BY`).
//!
//! Ids are validated wherever they enter (API, CLI, file names) and are never used as a substring or glob
//! to find files: paths come from the registry and from fixed per-episode directories only.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EpisodeId {
    id: String,
    show_len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid episode id `{input}`: {reason}")]
pub struct InvalidId {
    pub input: String,
    pub reason: &'static str,
}

/// `YYYY-MM-DD`: every id ends with it.
const DATE_LEN: usize = 10;

const SHAPE: &str = "expected <show>_ep<NNN>_<YYYY-MM-DD> with show made of [a-z0-9-]";

impl EpisodeId {
    /// Parses and validates an id exactly as clients send it.
    pub fn parse(input: &str) -> Result<Self, InvalidId> {
        let bad = |reason| InvalidId {
            input: input.chars().take(120).collect(),
            reason,
        };
        let (show, rest) = input.split_once("_ep").ok_or_else(|| bad(SHAPE))?;
        if !valid_show(show) {
            return Err(bad(
                "the show part must be [a-z0-9][a-z0-9-]*, at most 64 chars",
            ));
        }
        let (num, date) = rest.split_once('_').ok_or_else(|| bad(SHAPE))?;
        if !app::api::valid_episode_number(num) {
            return Err(bad(
                "the episode number must be three ASCII digits (ep001), or up to nine without a leading zero (ep1000)",
            ));
        }
        if !app::api::valid_episode_date(date) {
            return Err(bad(
                "the date must be a real YYYY-MM-DD written with ASCII digits (2026-01-31)",
            ));
        }
        Ok(EpisodeId {
            id: input.to_string(),
            show_len: show.len(),
        })
    }

    /// The id of `inbox/<show>/<file_name>`, or why that file is not an episode.
    pub fn from_inbox(show: &str, file_name: &str) -> Result<Self, String> {
        if !valid_show(show) {
            return Err(format!(
                "show folder `{show}` must be lowercase letters, digits and dashes"
            ));
        }
        let stem = file_name
            .strip_suffix(".mp4")
            .ok_or_else(|| "not an .mp4 video".to_string())?;
        let rest = stem
            .strip_prefix("ep")
            .ok_or_else(|| "file name must look like ep001_2026-01-31.mp4".to_string())?;
        EpisodeId::parse(&format!("{show}_ep{rest}")).map_err(|e| {
            format!(
                "file name must look like ep001_2026-01-31.mp4 ({})",
                e.reason
            )
        })
    }

    pub fn as_str(&self) -> &str {
        &self.id
    }
    pub fn show(&self) -> &str {
        &self.id[..self.show_len]
    }
    /// `NNN` of `epNNN` (three digits or more).
    pub fn number(&self) -> u32 {
        self.id[self.show_len + 3..self.id.len() - DATE_LEN - 1]
            .parse()
            .unwrap_or(0)
    }
    /// `YYYY-MM-DD`.
    pub fn date(&self) -> &str {
        &self.id[self.id.len() - DATE_LEN..]
    }
    /// Natural order: show, then episode number (ep999 before ep1000), then date.
    pub fn sort_key(&self) -> (&str, u32, &str) {
        (self.show(), self.number(), self.date())
    }
    pub fn year(&self) -> &str {
        &self.date()[..4]
    }
}

impl fmt::Display for EpisodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

pub use app::api::valid_show;

/// A real calendar date spelled exactly `YYYY-MM-DD` with ASCII digits, so each date has one spelling
/// (`str::parse` alone would also take `+1`, making `2026-+1-+1` a second id for `2026-01-01`).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shape() {
        let id = EpisodeId::parse("talk-1_ep007_2026-02-28").unwrap();
        assert_eq!(id.show(), "talk-1");
        assert_eq!(id.number(), 7);
        assert_eq!(id.date(), "2026-02-28");
        assert_eq!(id.year(), "2026");
    }

    #[test]
    fn refuses_anything_that_could_escape_or_glob() {
        for bad in [
            "",
            "../etc_ep001_2026-01-01",
            "talk_ep001_2026-01-01/..",
            "talk_ep001_2026-01-01/../../x",
            "/abs_ep001_2026-01-01",
            "Talk_ep001_2026-01-01",
            "talk_ep01_2026-01-01",
            "talk_ep001_2026-02-30",
            "talk_ep001_2026-01-01*",
            "talk*_ep001_2026-01-01",
            "talk_ep001_2026-1-01",
            "ta lk_ep001_2026-01-01",
        ] {
            assert!(EpisodeId::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn one_spelling_per_episode_digits_only_where_digits_are_meant() {
        for (bad, why) in [
            ("talk_ep001_2026-+1-+1", "ASCII digits"),
            ("talk_ep001_+026-01-01", "ASCII digits"),
            ("talk_ep001_2026-01-+1", "ASCII digits"),
            ("talk_ep+01_2026-01-01", "three ASCII digits"),
            ("talk_ep00١_2026-01-01", "three ASCII digits"),
            ("talk_ep001_2026-0١-01", "ASCII digits"),
            ("talk_ep001_２０２６-01-01", "ASCII digits"),
            ("talk_ep001_2026-01-01 ", "ASCII digits"),
            ("talk_ep001_2026-01-1 ", "ASCII digits"),
            ("talk_ep001_2026-00-10", "real YYYY-MM-DD"),
            ("talk_ep0001_2026-01-01", "three ASCII digits"),
            ("talk_ep01000_2026-01-01", "without a leading zero"),
            ("talk_ep1234567890_2026-01-01", "up to nine"),
        ] {
            let err = EpisodeId::parse(bad).expect_err(bad);
            assert!(err.to_string().contains(why), "{bad:?}: {err}");
        }
        for good in [
            "talk_ep001_2026-01-01",
            "a_ep999_2024-02-29",
            "x-1_ep000_1900-12-31",
        ] {
            assert_eq!(EpisodeId::parse(good).unwrap().as_str(), good);
        }
        assert!(EpisodeId::parse("a_ep001_2023-02-29").is_err());
        let err = EpisodeId::from_inbox("talk", "ep001_2026-+1-+1.mp4").unwrap_err();
        assert!(err.contains("ASCII digits"), "{err}");
    }

    #[test]
    fn numbers_past_999_are_ids_and_sort_after_999() {
        let big = EpisodeId::from_inbox("talk", "ep1000_2026-01-01.mp4").unwrap();
        assert_eq!(big.as_str(), "talk_ep1000_2026-01-01");
        assert_eq!(big.number(), 1000);
        assert_eq!(big.date(), "2026-01-01");
        assert_eq!(big.year(), "2026");
        let huge = EpisodeId::parse("talk_ep123456789_2031-12-31").unwrap();
        assert_eq!((huge.number(), huge.date()), (123_456_789, "2031-12-31"));
        let small = EpisodeId::parse("talk_ep999_2026-12-31").unwrap();
        assert_eq!(small.number(), 999);
        assert!(small.sort_key() < big.sort_key());
        assert!(big.sort_key() < huge.sort_key());
    }

    #[test]
    fn derives_ids_from_inbox_names_and_explains_refusals() {
        let id = EpisodeId::from_inbox("talk", "ep001_2026-01-01.mp4").unwrap();
        assert_eq!(id.as_str(), "talk_ep001_2026-01-01");
        assert!(
            EpisodeId::from_inbox("talk", "notes.txt")
                .unwrap_err()
                .contains(".mp4")
        );
        assert!(
            EpisodeId::from_inbox("talk", "episode1.mp4")
                .unwrap_err()
                .contains("ep001")
        );
        assert!(
            EpisodeId::from_inbox("Bad Show", "ep001_2026-01-01.mp4")
                .unwrap_err()
                .contains("show")
        );
    }
}
