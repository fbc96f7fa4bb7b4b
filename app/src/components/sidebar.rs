use super::deep_clean_button::DeepCleanButton;
use super::session::Session;
use crate::api::logout;
use leptos::prelude::*;
use leptos_router::components::A;

/// Navigation, the signed-in user and Deep Clean: on every page. Below 720 px wide it is a top bar
/// (see `style/main.css`).
#[component]
pub fn Sidebar(session: Session) -> impl IntoView {
    let do_logout = Action::new(|_: &()| logout());
    Effect::new(move |_| {
        if let Some(Ok(())) = do_logout.value().get() {
            session.refetch_all();
        }
    });
    view! {
        <nav class="sidebar" aria-label="Main">
            <h1 class="brand">"EWG Studio"</h1>
            <ul class="nav">
                <li><A href="/">"Dashboard"</A></li>
                <li><A href="/process">"Process"</A></li>
                <li><A href="/queue">"Queue"</A></li>
                <li><A href="/upload">"Upload"</A></li>
                <li><A href="/maintenance">"Maintenance"</A></li>
                <li><A href="/trash">"Trash"</A></li>
                <li><A href="/storage">"Storage"</A></li>
            </ul>
            // Who is signed in, and Deep Clean (it needs a session: the server part is refused without
            // one), both read straight from the session resource in one closure. No `Memo`/`Show` of the
            // session: on the server the resource resolves on another thread, and a memo recomputing at
            // that moment keeps the value it read (see the test below), so the server rendered the page
            // without Deep Clean while the browser, reading the serialized session, hydrated it with
            // Deep Clean (issue 26: "expected an HTML <div> element, but found [object Comment]").
            <Transition fallback=|| ()>
                {move || session.me.get().map(|me| match me {
                    Ok(Some(me)) => view! {
                        <div class="user">
                            <span class="who" data-testid="whoami">{me.username} " (" {me.role.as_str()} ")"</span>
                            <button type="button" class="link" on:click=move |_| { do_logout.dispatch(()); }>"Sign out"</button>
                        </div>
                        <DeepCleanButton/>
                    }.into_any(),
                    _ => view! { <div class="user"><A href="/login">"Sign in"</A></div> }.into_any(),
                })}
            </Transition>
            <Show when=move || session.wiped_elsewhere.get()>
                <p class="notice" data-testid="wiped-elsewhere">"Deep Clean ran in another tab: cached state dropped and reloaded."</p>
            </Show>
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use leptos::prelude::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};

    /// Why the sidebar reads the session resource directly instead of through a `Memo` (or `Show`, which
    /// memoizes `when`): in reactive_graph a memo that is marked dirty by another thread while it is
    /// recomputing marks itself clean afterwards with the value it had read, and keeps that stale value.
    /// During server rendering the session resource resolves on a Tokio worker thread, so such a memo
    /// could say "signed out" for a signed-in visitor. Should this test start failing, the library has
    /// fixed the race; the sidebar's rule stays harmless.
    #[test]
    fn a_memo_keeps_a_stale_value_when_its_source_changes_on_another_thread_while_it_runs() {
        let source = ArcRwSignal::new(false);
        let read = Arc::new(Barrier::new(2));
        let written = Arc::new(Barrier::new(2));
        let first = AtomicBool::new(true);
        let memo = ArcMemo::new({
            let (source, read, written) = (source.clone(), read.clone(), written.clone());
            move |_| {
                let v = source.get();
                if first.swap(false, Ordering::SeqCst) {
                    read.wait();
                    written.wait();
                }
                v
            }
        });
        let writer = std::thread::spawn({
            let source = source.clone();
            move || {
                read.wait();
                source.set(true);
                written.wait();
            }
        });
        assert!(!memo.get());
        writer.join().unwrap();
        assert!(source.get_untracked());
        assert!(
            !memo.get(),
            "the memo saw the change (reactive_graph fixed the race)"
        );
    }
}
