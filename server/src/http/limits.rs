//! What one client may hold open at once: event streams (per user and in all) and uploads (in all).
//! A slot is taken before the work starts and given back when its guard drops — the stream closed or
//! the request finished, however it ended. Past a cap the answer is 429 with what to do about it.

use crate::error::Error;
use crate::studio::EdgeLimits;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct Limits {
    streams: Arc<Streams>,
    uploads: Arc<Semaphore>,
    max_uploads: u32,
}

struct Streams {
    per_user: u32,
    max: u32,
    /// Open streams by user, and their total.
    open: Mutex<(HashMap<String, u32>, u32)>,
}

/// One open event stream, counted until dropped.
pub struct StreamSlot {
    streams: Arc<Streams>,
    user: String,
}

impl Limits {
    pub fn new(edges: &EdgeLimits) -> Self {
        Limits {
            streams: Arc::new(Streams {
                per_user: edges.events_per_user,
                max: edges.events_max,
                open: Mutex::new((HashMap::new(), 0)),
            }),
            uploads: Arc::new(Semaphore::new(edges.max_uploads as usize)),
            max_uploads: edges.max_uploads,
        }
    }

    /// A slot for one more event stream of `user`, or 429 naming the cap that was reached.
    pub fn open_stream(&self, user: &str) -> Result<StreamSlot, Error> {
        let s = &self.streams;
        let mut open = s.open.lock().unwrap_or_else(|e| e.into_inner());
        let mine = open.0.get(user).copied().unwrap_or(0);
        if mine >= s.per_user {
            return Err(Error::TooBusy(format!(
                "`{user}` already has {mine} live event streams open (the limit per user, EWG_EVENTS_PER_USER); close a tab or window and try again"
            )));
        }
        if open.1 >= s.max {
            return Err(Error::TooBusy(format!(
                "the server already serves {} live event streams (EWG_EVENTS_MAX); try again later",
                open.1
            )));
        }
        *open.0.entry(user.to_string()).or_default() += 1;
        open.1 += 1;
        Ok(StreamSlot {
            streams: Arc::clone(s),
            user: user.to_string(),
        })
    }

    /// Event streams open now, in all.
    pub fn streams_open(&self) -> u32 {
        self.streams
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
    }

    /// A slot for one more upload, or 429 when as many as `--max-uploads` are streaming already.
    pub fn start_upload(&self) -> Result<OwnedSemaphorePermit, Error> {
        Arc::clone(&self.uploads).try_acquire_owned().map_err(|_| {
            Error::TooBusy(format!(
                "{} uploads are already in progress (the limit, EWG_MAX_UPLOADS); try again when one has finished",
                self.max_uploads
            ))
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.0.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.0.remove(&self.user);
            }
        }
        open.1 = open.1.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_capped_per_user_and_in_all_and_freed_on_drop() {
        let l = Limits::new(&EdgeLimits {
            events_per_user: 2,
            events_max: 3,
            ..EdgeLimits::default()
        });
        let a1 = l.open_stream("ana").unwrap();
        let _a2 = l.open_stream("ana").unwrap();
        assert!(l.open_stream("ana").is_err(), "per user");
        let _b1 = l.open_stream("bob").unwrap();
        assert!(l.open_stream("cy").is_err(), "in all");
        drop(a1);
        assert_eq!(l.streams_open(), 2);
        assert!(l.open_stream("cy").is_ok());
    }
}
