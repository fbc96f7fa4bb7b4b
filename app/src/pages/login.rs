use super::widgets::ErrorLine;
use crate::api::login;
use crate::components::guard::safe_next;
use crate::components::session::use_studio;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

/// Sign in, then go back to `?next=` (a same-site path only; anything else goes to the dashboard).
#[component]
pub fn LoginPage() -> impl IntoView {
    let studio = use_studio();
    let query = use_query_map();
    let next = Memo::new(move |_| {
        query.with(|q| q.get_str("next").and_then(safe_next).map(str::to_string))
    });
    // Until the page is hydrated the form cannot sign in; a native submit would only reload the page.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let submit = Action::new(|(u, p): &(String, String)| login(u.clone(), p.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = submit.value().get() {
            studio.refetch_all();
        }
    });
    // Leave only once the session says who is signed in: leaving earlier, the sign-in guard would still
    // see an anonymous session and send the browser straight back here.
    Effect::new(move |_| {
        let signed_in = matches!(submit.value().get(), Some(Ok(_)))
            && matches!(studio.me.get(), Some(Ok(Some(_))));
        if signed_in {
            let to = next.get_untracked().unwrap_or_else(|| "/".into());
            navigate(
                &to,
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    view! {
        <h2>"Sign in"</h2>
        {move || next.get().map(|to| view! {
            <p class="muted" data-testid="login-next">"Sign in to continue to " <code>{to}</code> "."</p>
        })}
        // `post`: should the browser ever submit the form itself, the password stays out of the URL.
        <form class="login" method="post" on:submit=move |ev| {
            ev.prevent_default();
            submit.dispatch((username.get_untracked(), password.get_untracked()));
        }>
            <label>"User name" <input name="username" autocomplete="username" required bind:value=username/></label>
            <label>"Password" <input name="password" type="password" autocomplete="current-password" required bind:value=password/></label>
            <button type="submit" data-testid="login" disabled=move || !ready.get() || submit.pending().get()>"Sign in"</button>
        </form>
        {move || submit.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorLine error=e/> })}
        <p class="muted">"No account? An admin creates one with " <code>"ewg user add NAME"</code> "."</p>
    }
}
