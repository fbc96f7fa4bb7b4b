//! The operator's console: failures grouped by cause, per-clip actions and the live event stream's
//! vocabulary.

use super::error::ApiError;
use super::types::{CleanupReport, JobInfo, Stage};
use serde::{Deserialize, Serialize};

/// Failed episodes that failed the same way: same stage, same error once the parts that differ per
/// episode (numbers, paths, ids) are normalised away.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailureGroup {
    /// Stable while the group's stage and signature stay the same: what `retry_failed` and
    /// `cleanup_failed` take as `group`.
    pub key: String,
    pub stage: Stage,
    /// The error with per-episode details replaced by `<n>`, `<path>` and `<id>`.
    pub signature: String,
    pub count: i64,
    /// Every episode in the group, newest failure first.
    pub episodes: Vec<String>,
    /// The newest failure in the group, as it was recorded.
    pub example: FailureExample,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailureExample {
    pub episode: String,
    pub error: String,
    pub failed_at: i64,
}

/// Largest groups first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailureGroupList {
    pub groups: Vec<FailureGroup>,
    /// Failed episodes in all groups.
    pub failed: i64,
}

/// An error message with what differs between episodes taken out, so one cause reads as one line:
/// paths (anything with a `/`) become `<path>`, episode ids `<id>`, memory addresses (`0x5627e409ea00`,
/// which ffmpeg prints in every message: `[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5627e409ea00]`) `<addr>`, numbers
/// `<n>`.
pub fn failure_signature(error: &str) -> String {
    let words: Vec<String> = error
        .split_whitespace()
        .map(|w| {
            let core = w.trim_matches(|c: char| "`'\"()[]{},;:".contains(c));
            if core.contains('/') {
                w.replace(core, "<path>")
            } else if looks_like_episode_id(core) {
                w.replace(core, "<id>")
            } else if looks_like_address(core) {
                w.replace(core, "<addr>")
            } else {
                numbers_out(w)
            }
        })
        .collect();
    words.join(" ")
}

fn looks_like_episode_id(w: &str) -> bool {
    w.rsplit_once('_').is_some_and(|(rest, date)| {
        super::types::valid_episode_date(date)
            && rest
                .rsplit_once('_')
                .is_some_and(|(show, ep)| super::types::valid_show(show) && ep.starts_with("ep"))
    })
}

/// `0x` and hex digits (a pointer in a log line).
fn looks_like_address(w: &str) -> bool {
    w.strip_prefix("0x")
        .is_some_and(|hex| !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Every run of digits (with a decimal point or thousands separator between digits) becomes `<n>`.
fn numbers_out(w: &str) -> String {
    let mut out = String::with_capacity(w.len());
    let mut in_number = false;
    let mut chars = w.chars().peekable();
    while let Some(c) = chars.next() {
        let between_digits =
            in_number && matches!(c, '.' | ',') && chars.peek().is_some_and(char::is_ascii_digit);
        let numeric = c.is_ascii_digit() || between_digits;
        if numeric {
            if !in_number {
                out.push_str("<n>");
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

/// The group key: the stage and a 64-bit FNV-1a hash of the signature, so a key survives restarts and
/// is the same on every node.
pub fn failure_group_key(stage: Stage, signature: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in signature.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{}-{h:016x}", stage.as_str())
}

/// `retry_failed` and `cleanup_failed`: the named failed episodes, one failure group, or (neither) every
/// failed episode.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FailedSelection {
    pub ids: Option<Vec<String>>,
    pub group: Option<String>,
    /// The episodes the caller previewed (a group's `episodes` from `failure_groups`, the ids a dry run
    /// was asked for). When present, the selection is resolved again at action time and must name
    /// exactly these episodes, or the call answers 409 naming who joined and who left. The UI always
    /// sends it; leaving it out acts on whatever the selection names now.
    #[serde(default)]
    pub previewed: Option<Vec<String>>,
}

impl FailedSelection {
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.ids.is_some() && self.group.is_some() {
            return Err(ApiError::bad_request(
                "name either `ids` or a `group`, not both",
            ));
        }
        if self.ids.as_ref().is_some_and(|ids| ids.is_empty()) {
            return Err(ApiError::bad_request(
                "`ids` must name at least one episode (leave it out for every failed episode)",
            ));
        }
        if self.group.as_ref().is_some_and(|g| g.trim().is_empty()) {
            return Err(ApiError::bad_request("`group` must not be empty"));
        }
        Ok(())
    }
}

/// How the episodes a selection names now differ from the ones previewed: `None` when they are the same
/// set, else a sentence naming who joined and who left (at most five names each), for a 409.
pub fn selection_changed(now: &[String], previewed: &[String]) -> Option<String> {
    use std::collections::BTreeSet;
    let now: BTreeSet<&str> = now.iter().map(String::as_str).collect();
    let before: BTreeSet<&str> = previewed.iter().map(String::as_str).collect();
    let joined: Vec<&str> = now.difference(&before).copied().collect();
    let left: Vec<&str> = before.difference(&now).copied().collect();
    if joined.is_empty() && left.is_empty() {
        return None;
    }
    let names = |v: &[&str]| {
        let mut s = v.iter().take(5).copied().collect::<Vec<_>>().join(", ");
        if v.len() > 5 {
            s.push_str(&format!(" and {} more", v.len() - 5));
        }
        s
    };
    let count =
        |n: usize, verb: &str| format!("{n} episode{} {verb}", if n == 1 { "" } else { "s" });
    let mut parts = Vec::new();
    if !joined.is_empty() {
        parts.push(format!(
            "{} ({})",
            count(joined.len(), "joined"),
            names(&joined)
        ));
    }
    if !left.is_empty() {
        parts.push(format!("{} ({})", count(left.len(), "left"), names(&left)));
    }
    Some(parts.join(", "))
}

/// `cleanup_failed`: remove whatever the failed attempts left and set the episodes back to idle, so the
/// group goes away; the run is audited like every cleanup and kept in the trash.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CleanFailedRequest {
    #[serde(flatten)]
    pub select: FailedSelection,
    pub dry_run: bool,
}

/// `delete_clip` / `regenerate_clip`: one clip of one episode, its files only.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClipRequest {
    pub episode: String,
    pub clip: u32,
    pub dry_run: bool,
}

impl ClipRequest {
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.clip == 0 {
            return Err(ApiError::bad_request("`clip` counts from 1"));
        }
        Ok(())
    }
}

/// What a per-clip action did: the cleanup of that clip's files and, for a regenerate, the queued job
/// that cuts it again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClipOutcome {
    pub report: CleanupReport,
    pub job: Option<JobInfo>,
}

/// Event names on `GET /api/events` (`text/event-stream`). Each `data:` line is JSON.
pub mod events {
    /// An episode changed (state, stage, progress, stuck): data is an `EpisodeSummary`.
    pub const EPISODE: &str = "episode";
    /// A cleanup run started or ended: data is a `CleanupRunSummary`.
    pub const CLEANUP: &str = "cleanup";
    /// An inbox scan moved on (a few times a second at most) or finished: data is a `ScanStatus`.
    pub const SCAN: &str = "scan";
    /// The stream fell behind and skipped events: refetch what is shown.
    pub const RESYNC: &str = "resync";
    /// The caller's session ended (expired, signed out, password changed): data is
    /// `{"message": …}`; the stream closes after it.
    pub const SESSION_ENDED: &str = "session_ended";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_drop_what_differs_per_episode() {
        let a = failure_signature(
            "ffmpeg exited with status 1 after 2.5 s: /data/inbox/talk/ep001_2026-01-01.mp4: Invalid data",
        );
        let b = failure_signature(
            "ffmpeg exited with status 1 after 13.75 s: /data/inbox/news/ep017_2026-03-02.mp4: Invalid data",
        );
        assert_eq!(a, b);
        assert_eq!(
            a,
            "ffmpeg exited with status <n> after <n> s: <path>: Invalid data"
        );
        assert_eq!(
            failure_signature("episode `talk_ep001_2026-01-01` timed out"),
            "episode `<id>` timed out"
        );
        assert_eq!(
            failure_signature("injected failure (ep002_2026-03-02.fail-at names clipped)"),
            "injected failure (ep<n>_<n>-<n>-<n>.fail-at names clipped)"
        );
        assert_eq!(failure_signature("1,024.5 MB"), "<n> MB");
        assert_ne!(
            failure_signature("injected failure (EWG_FAIL_AT=clipped)"),
            failure_signature("injected failure (EWG_FAIL_AT=prepped)")
        );
    }

    #[test]
    fn two_identical_ffmpeg_failures_are_one_group_whatever_the_pointer() {
        let a = failure_signature(
            "ffmpeg exited with status 1: [mov,mp4,m4a,3gp,3g2,mj2 @ 0x5627e409ea00] moov atom not found",
        );
        let b = failure_signature(
            "ffmpeg exited with status 1: [mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d1c3a2f140] moov atom not found",
        );
        assert_eq!(a, b);
        assert_eq!(
            a,
            "ffmpeg exited with status <n>: [mov,mp<n>,m<n>a,<n>gp,<n>g<n>,mj<n> @ <addr>] moov atom not found"
        );
        assert_eq!(
            failure_group_key(Stage::Prepped, &a),
            failure_group_key(Stage::Prepped, &b)
        );
        assert_eq!(failure_signature("0x"), "<n>x");
    }

    #[test]
    fn group_keys_are_stable_and_separate_stages() {
        let k = failure_group_key(Stage::Prepped, "x <n>");
        assert_eq!(k, failure_group_key(Stage::Prepped, "x <n>"));
        assert!(k.starts_with("prepped-"));
        assert_ne!(k, failure_group_key(Stage::Clipped, "x <n>"));
    }

    #[test]
    fn a_changed_selection_names_who_joined_and_who_left() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(selection_changed(&v(&["a", "b"]), &v(&["b", "a"])), None);
        assert_eq!(
            selection_changed(&v(&["a", "b", "c"]), &v(&["a", "d"])).as_deref(),
            Some("2 episodes joined (b, c), 1 episode left (d)")
        );
    }

    #[test]
    fn selections_name_one_thing() {
        let both = FailedSelection {
            ids: Some(vec!["a".into()]),
            group: Some("g".into()),
            previewed: None,
        };
        assert!(both.validate().is_err());
        assert!(FailedSelection::default().validate().is_ok());
    }
}
