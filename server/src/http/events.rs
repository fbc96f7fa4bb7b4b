//! `GET /api/events`: the live feed as server-sent events (`text/event-stream`).
//!
//! Authenticated like any call (session cookie or bearer token), and re-checked every
//! [`SESSION_CHECK`]: a session that ends while the stream is open (expired, signed out, password
//! changed, token revoked) gets one `session_ended` event and the stream closes — an open tab never keeps
//! receiving what its user may no longer see. The re-check reuses a verdict of the last
//! `--events-session-check-secs` ([`crate::auth::Auth::recheck`]), so open streams do not queue on the
//! registry's pool; a sign-out here is seen at the next tick, a revocation elsewhere within the window.
//! Streams are capped per user and in all (429 past either). A stream that falls behind gets `resync`
//! (refetch) rather than a silent gap. Event names and payloads are `app::api::events`.

use super::AppState;
use super::error::HttpError;
use super::extract::{Caller, Viewer};
use super::limits::StreamSlot;
use crate::studio::LiveEvent;
use app::api::{ApiError, events};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::{Receiver, error::RecvError};

/// How often an open stream re-checks its caller's session.
const SESSION_CHECK: Duration = Duration::from_secs(2);

pub async fn events(State(s): State<AppState>, req: Request) -> Result<Response, HttpError> {
    let (mut parts, _) = req.into_parts();
    let caller = Caller::<Viewer>::from_request_parts(&mut parts, &s).await?;
    let only = episode_filter(&parts)?;
    if let Some(id) = &only {
        s.studio.find(id).await?;
    }
    let slot = s.limits.open_stream(&caller.actor.name).inspect_err(|e| {
        tracing::info!(user = %caller.actor.name, error = %e, "event stream refused");
    })?;
    let stream = Stream {
        _slot: slot,
        rx: s.studio.live.subscribe(),
        only,
        parts,
        state: s,
        check: tokio::time::interval_at(tokio::time::Instant::now() + SESSION_CHECK, SESSION_CHECK),
        ended: false,
    };
    let first = futures::stream::once(async { Ok(Event::default().comment("connected")) });
    let rest = futures::stream::unfold(stream, |mut st| async move {
        let ev = st.next().await?;
        Some((Ok::<_, Infallible>(ev), st))
    });
    Ok(Sse::new(futures::StreamExt::chain(first, rest))
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The one parameter: `episode=<id>`. Anything else is refused, so a typo is not a silent firehose.
fn episode_filter(parts: &Parts) -> Result<Option<String>, HttpError> {
    let query: HashMap<String, String> = axum::extract::Query::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .map_err(|e| ApiError::bad_request(format!("malformed query: {e}")))?;
    let mut only = None;
    for (k, v) in query {
        match k.as_str() {
            "episode" => {
                crate::ids::EpisodeId::parse(&v).map_err(crate::error::Error::from)?;
                only = Some(v);
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter `{other}` (the stream takes only `episode`)"
                ))
                .into());
            }
        }
    }
    Ok(only)
}

struct Stream {
    /// Given back when the stream is dropped (the client went away or the stream ended).
    _slot: StreamSlot,
    rx: Receiver<Arc<LiveEvent>>,
    only: Option<String>,
    parts: Parts,
    state: AppState,
    check: tokio::time::Interval,
    ended: bool,
}

impl Stream {
    /// The next event to send; `None` ends the stream.
    async fn next(&mut self) -> Option<Event> {
        if self.ended {
            return None;
        }
        loop {
            tokio::select! {
                got = self.rx.recv() => match got {
                    Ok(ev) => {
                        if let Some(e) = self.wanted(&ev) {
                            return Some(e);
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        tracing::debug!(skipped = n, "event stream fell behind");
                        return Some(Event::default().event(events::RESYNC).data("{}"));
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = self.check.tick() => {
                    if let Some(why) = self.session_gone().await {
                        self.ended = true;
                        let data = serde_json::json!({ "message": why }).to_string();
                        return Some(Event::default().event(events::SESSION_ENDED).data(data));
                    }
                }
            }
        }
    }

    fn wanted(&self, ev: &LiveEvent) -> Option<Event> {
        if let Some(only) = &self.only
            && ev.episode_id() != Some(only.as_str())
        {
            return None;
        }
        let (name, data) = match ev {
            LiveEvent::Episode(e) => (events::EPISODE, serde_json::to_string(e)),
            LiveEvent::Cleanup(r) => (events::CLEANUP, serde_json::to_string(r)),
            LiveEvent::Scan(s) => (events::SCAN, serde_json::to_string(s)),
        };
        match data {
            Ok(data) => Some(Event::default().event(name).data(data)),
            Err(e) => {
                tracing::error!(error = %e, "event not serialisable");
                None
            }
        }
    }

    /// Why the caller may no longer listen, if so. A registry that does not answer is not a verdict on
    /// the session: the stream stays open and checks again.
    async fn session_gone(&self) -> Option<String> {
        match self.state.studio.auth.recheck(&self.parts).await {
            Ok(Some(_)) => None,
            Ok(None) => Some("your session has ended; sign in again".into()),
            Err(crate::error::Error::Unauthorized(why)) => Some(why),
            Err(e) => {
                tracing::warn!(error = %e, "event stream: could not re-check the session");
                None
            }
        }
    }
}
