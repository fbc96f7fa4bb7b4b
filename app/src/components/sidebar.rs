use super::deep_clean::DeepCleanButton;
use super::session::Studio;
use crate::api::logout;
use leptos::prelude::*;
use leptos_router::components::A;

/// Navigation, the signed-in user and Deep Clean: on every page. Below 720 px wide it is a top bar
/// (see `style/main.css`).
#[component]
pub fn Sidebar(session: Studio) -> impl IntoView {
    let do_logout = Action::new(|_: &()| logout());
    Effect::new(move |_| {
        if let Some(Ok(())) = do_logout.value().get() {
            session.refetch_all();
        }
    });
    let signed_in = move || matches!(session.me.get(), Some(Ok(Some(_))));
    view! {
        <nav class="sidebar" aria-label="Main">
            <h1 class="brand">"EWG Studio"</h1>
            <ul class="nav">
                <li><A href="/">"Dashboard"</A></li>
                <li><A href="/process">"Process"</A></li>
                <li><A href="/upload">"Upload"</A></li>
                <li><A href="/maintenance">"Maintenance"</A></li>
                <li><A href="/trash">"Trash"</A></li>
                <li><A href="/storage">"Storage"</A></li>
            </ul>
            <div class="user">
                <Transition fallback=|| ()>
                    {move || session.me.get().map(|me| match me {
                        Ok(Some(me)) => view! {
                            <span class="who" data-testid="whoami">{me.username} " (" {me.role.as_str()} ")"</span>
                            <button type="button" class="link" on:click=move |_| { do_logout.dispatch(()); }>"Sign out"</button>
                        }.into_any(),
                        _ => view! { <A href="/login">"Sign in"</A> }.into_any(),
                    })}
                </Transition>
            </div>
            // Deep Clean needs a session (the server part is refused without one).
            <Transition fallback=|| ()>
                <Show when=signed_in>
                    <DeepCleanButton/>
                </Show>
            </Transition>
            <Show when=move || session.wiped_elsewhere.get()>
                <p class="notice" data-testid="wiped-elsewhere">"Deep Clean ran in another tab: cached state dropped and reloaded."</p>
            </Show>
        </nav>
    }
}
