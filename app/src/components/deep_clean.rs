//! Deep Clean, one click: stop polling → wipe `cache:`/`run:` keys → tell other tabs → server cleanup →
//! show its report (what moved, with Undo) → refetch. The browser part is done even when the server part
//! fails, and a server failure is shown as a failure.
//!
//! One [`DeepClean`] per page, provided by the app: the sidebar's button and the Maintenance page's "Run
//! Deep Clean" start the same run and share its report. The button is `deep_clean_button.rs`, the report
//! `deep_clean_report.rs`.

use super::session::{Session, use_session};
use crate::api::{ApiError, CleanupReport, ErrorCode, RestoreReport, deep_clean};
use crate::cache;
use crate::pages::deferred::PageSlot;
use leptos::prelude::*;

/// A Deep Clean's state, kept above whoever shows its button so that what it reports survives the button
/// being rendered again: the sidebar renders it anew whenever the session is refetched, which Deep Clean
/// itself does when it ends (and Undo when it has restored).
#[derive(Clone, Copy)]
pub struct DeepClean {
    session: Session,
    /// `Some((n, digest))`: the second click after the orphan guard stopped the sweep, confirming the
    /// count and the digest of the files it named (so files that changed since are not removed unseen).
    pub(crate) server: Action<Option<(i64, String)>, Result<CleanupReport, ApiError>>,
    pub(crate) browser: RwSignal<Option<(usize, f64)>>,
    /// Undo: the run's trash restored (the Trash page's restore of the whole run). Made by the report's
    /// chunk when it first shows, so its code is not in every page's first download.
    pub(crate) undo: PageSlot<UndoAction>,
}

impl DeepClean {
    /// Creates the page's Deep Clean and provides it to everything below.
    pub fn provide() -> Self {
        let state = Self::create();
        provide_context(state);
        state
    }

    /// A Deep Clean of its own (a button whose report shows beside it only).
    pub fn create() -> Self {
        let session = use_session();
        let server = Action::new(|confirm: &Option<(i64, String)>| {
            let (count, digest) = confirm.clone().unzip();
            deep_clean(Some(false), count, digest, None)
        });
        Effect::new(move |_| {
            if server.value().get().is_some() {
                session.polling.set(true);
                session.refetch_all();
            }
        });
        DeepClean {
            session,
            server,
            browser: RwSignal::new(None),
            undo: PageSlot::new(),
        }
    }

    /// The one click: the browser's part at once, then the server's.
    pub fn run(&self) {
        self.session.polling.set(false);
        let started = cache::js_sys_now();
        let removed = cache::wipe_volatile();
        let took = cache::js_sys_now() - started;
        cache::broadcast_wipe();
        self.browser.set(Some((removed, took)));
        if let Some(undo) = self.undo.get() {
            undo.value().set(None);
        }
        self.server.dispatch(None);
    }

    pub(crate) fn session(&self) -> Session {
        self.session
    }

    pub fn pending(&self) -> Signal<bool> {
        self.server.pending().into()
    }
}

/// A run id → what restoring its trash did.
pub(crate) type UndoAction = Action<String, Result<RestoreReport, ApiError>>;

pub fn use_deep_clean() -> DeepClean {
    expect_context::<DeepClean>()
}

/// The file count and digest a 409 from the orphan guard asks to be confirmed
/// (`"confirm_orphans": N, "orphans_digest": "…"`).
pub(crate) fn guarded_count(e: &ApiError) -> Option<(i64, String)> {
    if e.code() != ErrorCode::Conflict {
        return None;
    }
    let msg = e.to_string();
    let rest = msg.split("\"confirm_orphans\": ").nth(1)?;
    let count = rest
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    let digest = msg
        .split("\"orphans_digest\": \"")
        .nth(1)?
        .split('"')
        .next()?
        .to_string();
    Some((count, digest))
}
