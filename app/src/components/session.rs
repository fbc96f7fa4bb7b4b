//! App-wide state: who is signed in, a refresh counter every data resource depends on, and whether
//! polling may run. Also listens for Deep Clean broadcasts from other tabs.

use crate::api::{ApiError, SessionUser, me};
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Studio {
    pub me: Resource<Result<Option<SessionUser>, ApiError>>,
    /// Bumped to refetch every piece of server data on the page.
    pub refresh: RwSignal<u64>,
    /// Cleared while Deep Clean runs so no poll writes stale state back into the caches.
    pub polling: RwSignal<bool>,
    /// Set when another tab ran Deep Clean and this tab dropped its state.
    pub wiped_elsewhere: RwSignal<bool>,
}

impl Studio {
    pub fn refetch_all(&self) {
        self.refresh.update(|n| *n += 1);
    }
}

pub fn provide_session() -> Studio {
    let refresh = RwSignal::new(0u64);
    let studio = Studio {
        // Blocking: the server sends nothing of a page until it knows who asks, so an anonymous visitor
        // gets a redirect to the sign-in page instead of a page of errors (see `guard`).
        me: Resource::new_blocking(
            move || refresh.get(),
            |_| async {
                let who = me().await;
                #[cfg(feature = "ssr")]
                if matches!(who, Ok(None)) {
                    super::guard::redirect_anonymous_page();
                }
                who
            },
        ),
        refresh,
        polling: RwSignal::new(true),
        wiped_elsewhere: RwSignal::new(false),
    };
    provide_context(studio);
    Effect::new(move |_| listen_for_wipes(studio));
    studio
}

pub fn use_studio() -> Studio {
    expect_context::<Studio>()
}

/// Another tab's Deep Clean emptied localStorage; drop what this tab holds in memory and refetch.
fn listen_for_wipes(studio: Studio) {
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
                studio.wiped_elsewhere.set(true);
                studio.refetch_all();
            }
        });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The listener lives as long as the page: the channel and closure are intentionally leaked once.
    on_message.forget();
    std::mem::forget(channel);
}
