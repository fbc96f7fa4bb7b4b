//! Why a cleanup ran: stored with the run, shown in the console, the `/metrics` label, and typed on the
//! wire (`CleanupReport.trigger`, `CleanupRunSummary.trigger`, `TrashRun.trigger`) as the same
//! kebab-case string (`"deep-clean"`, `as_str()`), so JSON clients see no change. Typing those fields
//! costs the pages 1–2 KB gzip (measured; the 15 KB measured once was the splitter keeping all data in
//! the main module, README, WebAssembly).

use super::words::word_enum;

word_enum! {
    pub enum Trigger {
        /// A failed attempt's partial outputs.
        Failure => "failure",
        /// A cancelled attempt's partial outputs.
        Cancel => "cancel",
        /// One episode's derived files, on request.
        Episode => "episode",
        /// Force reprocess: everything derived, then a fresh attempt.
        Force => "force",
        /// A Start that clears the last attempt's cache first (not after a failure: that is a retry).
        Start => "start",
        /// Retry of failed episodes: their outputs, then a new attempt.
        Retry => "retry",
        DeepClean => "deep-clean",
        /// The scheduled sweep of stale uploads and work dirs.
        Schedule => "schedule",
        /// A dead owner's run, finished by another process.
        Recovery => "recovery",
        /// An attempt's scratch after success.
        Scratch => "scratch",
        /// A run's trash moved back.
        Restore => "restore",
        /// The storage budget evicting regenerable artifacts.
        Budget => "budget",
        /// Failed episodes cleaned and set back to idle (one failure group, or named ones).
        CleanFailed => "clean-failed",
        /// One clip's files, deleted or about to be cut again.
        Clip => "clip",
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
