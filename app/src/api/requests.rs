//! What each state-changing call asks for, as one struct per call: built once from the wire arguments
//! (defaults applied here, nowhere else), validated here for browser and server alike, and handed to
//! the implementation whole — so no call site passes a run of bare bools.

use super::console::FailedSelection;
use super::error::ApiError;
use serde::{Deserialize, Serialize};

/// `process`: queue episodes, optionally starting over (`force`) or dropping the previous attempt's
/// files first (`clear_cache`; what the user chose to keep stays).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessRequest {
    pub ids: Vec<String>,
    pub force: bool,
    pub clear_cache: bool,
}

/// `cleanup_episode`: an episode's derived files; transcripts and audio stay unless asked for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CleanEpisodeRequest {
    pub id: String,
    pub include_transcripts: bool,
    pub include_audio: bool,
    pub dry_run: bool,
}

/// `force_reprocess`: stop, remove everything derived, start over.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReprocessRequest {
    pub id: String,
    pub dry_run: bool,
}

/// `retry_failed`: the named failed episodes, one failure group, or every failed one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetryRequest {
    #[serde(flatten)]
    pub select: FailedSelection,
    pub dry_run: bool,
}

/// `deep_clean`: `confirm_orphans` repeats the file count the orphan guard named, and `orphans_digest`
/// the digest of the files it named, to go ahead: a sweep whose files changed since is refused (409).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeepCleanRequest {
    pub dry_run: bool,
    pub confirm_orphans: Option<i64>,
    /// The orphan plan's digest the guard named (with `confirm_orphans`). Optional on the wire for older
    /// clients (then only the count is checked); the UI always sends it.
    #[serde(default)]
    pub orphans_digest: Option<String>,
    /// Free the space at once instead of keeping the run's trash for the retention window.
    #[serde(default)]
    pub purge_now: bool,
}

impl ProcessRequest {
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.ids.is_empty() {
            return Err(ApiError::bad_request(
                "`ids` must name at least one episode",
            ));
        }
        Ok(())
    }
}

impl RetryRequest {
    pub fn validate(&self) -> Result<(), ApiError> {
        self.select.validate()
    }
}

impl DeepCleanRequest {
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.confirm_orphans.is_some_and(|n| n < 0) {
            return Err(ApiError::bad_request(
                "`confirm_orphans` must be the file count the guard named (0 or more)",
            ));
        }
        if self.orphans_digest.is_some() && self.confirm_orphans.is_none() {
            return Err(ApiError::bad_request(
                "`orphans_digest` goes with `confirm_orphans`: send both, as the guard named them",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ErrorCode;

    #[test]
    fn requests_refuse_what_cannot_mean_anything() {
        let bad = [
            ProcessRequest::default().validate(),
            RetryRequest {
                select: FailedSelection {
                    ids: Some(vec![]),
                    group: None,
                    previewed: None,
                },
                dry_run: false,
            }
            .validate(),
            DeepCleanRequest {
                dry_run: false,
                confirm_orphans: Some(-1),
                orphans_digest: None,
                purge_now: false,
            }
            .validate(),
        ];
        for r in bad {
            assert_eq!(r.expect_err("refused").code(), ErrorCode::BadRequest);
        }
        assert!(
            RetryRequest::default().validate().is_ok(),
            "no ids = all failed"
        );
        assert!(DeepCleanRequest::default().validate().is_ok());
    }
}
