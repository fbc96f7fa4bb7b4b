//! App-wide state: who is signed in, a refresh counter every data resource depends on, and whether
//! polling may run. Also listens for Deep Clean broadcasts from other tabs.

use crate::api::{ApiError, SessionUser, me};
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Session {
    pub me: Resource<Result<Option<SessionUser>, ApiError>>,
    /// Bumped to refetch every piece of server data on the page.
    pub refresh: RwSignal<u64>,
    /// Cleared while Deep Clean runs so no poll writes stale state back into the caches.
    pub polling: RwSignal<bool>,
    /// Set when another tab ran Deep Clean and this tab dropped its state.
    pub wiped_elsewhere: RwSignal<bool>,
}

impl Session {
    pub fn refetch_all(&self) {
        self.refresh.update(|n| *n += 1);
    }
}

/// `on_anonymous` runs on the server, while rendering a page, when the visitor turns out to be signed
/// out: the guard's redirect to the sign-in page (passed in, so that the session, which the guard reads,
/// does not import the guard).
pub fn provide_session(on_anonymous: fn()) -> Session {
    let refresh = RwSignal::new(0u64);
    let session = Session {
        // Blocking: the server sends nothing of a page until it knows who asks, so an anonymous visitor
        // gets a redirect to the sign-in page instead of a page of errors.
        me: Resource::new_blocking(
            move || refresh.get(),
            move |_| async move {
                let who = me().await;
                if cfg!(feature = "ssr") && matches!(who, Ok(None)) {
                    on_anonymous();
                }
                who
            },
        ),
        refresh,
        polling: RwSignal::new(true),
        wiped_elsewhere: RwSignal::new(false),
    };
    provide_context(session);
    Effect::new(move |_| listen_for_wipes(session));
    session
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// Another tab's Deep Clean emptied localStorage; drop what this tab holds in memory and refetch.
fn listen_for_wipes(session: Session) {
    use wasm_bindgen::{JsCast, closure::Closure};
    let Ok(channel) = web_sys::BroadcastChannel::new(crate::cache::CHANNEL) else {
        return;
    };
    let me = crate::cache::tab_id();
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let message = ev.data().as_string().unwrap_or_default();
            // This tab's own Deep Clean reaches this listener too (another channel object).
            if crate::cache::wiped_by_another_tab(&message, &me) {
                session.wiped_elsewhere.set(true);
                session.refetch_all();
            }
        });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The listener lives as long as the page: the channel and closure are intentionally leaked once.
    on_message.forget();
    std::mem::forget(channel);
}
