//! A run's report: the empty one a run starts with, what the purge adds to it, and the result its errors
//! and removals add up to. Shared by live runs, recovery's replays and restores.

use crate::registry::RunRecord;
use crate::storage::Purged;
use app::api::{CleanupReport, CleanupResult, PathError};

pub(crate) fn empty_report(record: &RunRecord, errors: Vec<PathError>) -> CleanupReport {
    CleanupReport {
        run_id: record.id.clone(),
        trigger: record.trigger,
        dry_run: record.dry_run,
        result: CleanupResult::Ok,
        files: 0,
        bytes: 0,
        errors,
        duration_ms: 0,
        paths: vec![],
        kept_until: None,
    }
}

pub(crate) fn result_of(report: &CleanupReport) -> CleanupResult {
    match (
        report.errors.is_empty(),
        report.files > 0 || !report.paths.is_empty(),
    ) {
        (true, _) => CleanupResult::Ok,
        (false, true) => CleanupResult::Partial,
        (false, false) => CleanupResult::Failed,
    }
}

pub(crate) fn add_purged(report: &mut CleanupReport, purged: Purged) {
    report.files += purged.files;
    report.bytes += purged.bytes;
    report.errors.extend(
        purged
            .errors
            .into_iter()
            .map(|(path, message)| PathError { path, message }),
    );
}
