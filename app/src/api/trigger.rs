//! Why a cleanup ran: stored with the run, shown in the console, the `/metrics` label, and typed on the
//! wire (`CleanupReport.trigger`, `CleanupRunSummary.trigger`, `TrashRun.trigger`) as the same
//! kebab-case string (`"deep-clean"`, `as_str()`), so JSON clients see no change. Typing those fields
//! costs the pages 1–2 KB gzip (measured; the 15 KB measured once was the splitter keeping all data in
//! the main module, README, WebAssembly).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// A failed attempt's partial outputs.
    Failure,
    /// A cancelled attempt's partial outputs.
    Cancel,
    /// One episode's derived files, on request.
    Episode,
    /// Force reprocess: everything derived, then a fresh attempt.
    Force,
    /// A Start that clears the last attempt's cache first (not after a failure: that is a retry).
    Start,
    /// Retry of failed episodes: their outputs, then a new attempt.
    Retry,
    DeepClean,
    /// The scheduled sweep of stale uploads and work dirs.
    Schedule,
    /// A dead owner's run, finished by another process.
    Recovery,
    /// An attempt's scratch after success.
    Scratch,
    /// A run's trash moved back.
    Restore,
    /// The storage budget evicting regenerable artifacts.
    Budget,
    /// Failed episodes cleaned and set back to idle (one failure group, or named ones).
    CleanFailed,
    /// One clip's files, deleted or about to be cut again.
    Clip,
}

impl Trigger {
    pub const ALL: [Trigger; 14] = [
        Trigger::Failure,
        Trigger::Cancel,
        Trigger::Episode,
        Trigger::Force,
        Trigger::Start,
        Trigger::Retry,
        Trigger::DeepClean,
        Trigger::Schedule,
        Trigger::Recovery,
        Trigger::Scratch,
        Trigger::Restore,
        Trigger::Budget,
        Trigger::CleanFailed,
        Trigger::Clip,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Failure => "failure",
            Trigger::Cancel => "cancel",
            Trigger::Episode => "episode",
            Trigger::Force => "force",
            Trigger::Start => "start",
            Trigger::Retry => "retry",
            Trigger::DeepClean => "deep-clean",
            Trigger::Schedule => "schedule",
            Trigger::Recovery => "recovery",
            Trigger::Scratch => "scratch",
            Trigger::Restore => "restore",
            Trigger::Budget => "budget",
            Trigger::CleanFailed => "clean-failed",
            Trigger::Clip => "clip",
        }
    }

    pub fn parse(s: &str) -> Option<Trigger> {
        Trigger::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `report.trigger == "deep-clean"` reads as the JSON does.
impl PartialEq<&str> for Trigger {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A stored trigger this build does not know (a newer build wrote it).
#[derive(Debug)]
pub struct UnknownTrigger(pub String);

impl fmt::Display for UnknownTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown cleanup trigger `{}`", self.0)
    }
}

impl std::error::Error for UnknownTrigger {}

impl TryFrom<String> for Trigger {
    type Error = UnknownTrigger;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Trigger::parse(&s).ok_or(UnknownTrigger(s))
    }
}

#[cfg(test)]
mod tests {
    use super::Trigger;

    #[test]
    fn the_wire_strings_are_the_stored_strings() {
        for t in Trigger::ALL {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<Trigger>(&json).unwrap(), t);
            assert_eq!(Trigger::parse(t.as_str()), Some(t));
        }
        assert_eq!(Trigger::DeepClean, "deep-clean");
        assert!(Trigger::parse("deep_clean").is_none());
    }
}
