//! Where a job is in its life: stored as text in `jobs.state`, and the type of `JobInfo.state`, which
//! travels as the same lowercase word (`"running"`, `as_str()`).

use super::words::word_enum;

word_enum! {
    pub enum JobState {
        Queued => "queued",
        Running => "running",
        Done => "done",
        Failed => "failed",
        Cancelled => "cancelled",
        /// Its worker stopped renewing the lease (died, or lost the registry).
        Interrupted => "interrupted",
    }
}

impl JobState {
    /// Queued or running: it still holds its episode.
    pub fn is_live(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

#[cfg(test)]
mod tests {
    use super::JobState;

    #[test]
    fn the_wire_words_are_the_stored_words() {
        for s in JobState::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<JobState>(&json).unwrap(), s);
        }
    }
}
