use super::widgets::ErrorLine;
use crate::api::login;
use crate::components::guard::safe_next;
use crate::components::session::use_session;
use crate::signin;
use leptos::html;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

/// Sign in, then go back to `?next=` (a same-site path only; anything else goes to the dashboard).
///
/// The form works before the page's WebAssembly has loaded, and without it: the browser posts it to
/// `POST /login`, which signs in and redirects (see [`signin`]). Once hydrated, submitting signs in
/// without a reload. The inputs are not bound to signals, so hydration leaves whatever was typed or
/// autofilled in place; their values are read from the form when it is submitted.
#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let next = Memo::new(move |_| {
        query.with(|q| q.get_str("next").and_then(safe_next).map(str::to_string))
    });
    // A form post that failed (before hydration) comes back here with `?error=<key>`.
    let posted_error =
        Memo::new(move |_| query.with(|q| q.get_str("error").and_then(signin::failure_message)));
    let username = NodeRef::<html::Input>::new();
    let password = NodeRef::<html::Input>::new();
    let submit = Action::new(|(u, p): &(String, String)| login(u.clone(), p.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = submit.value().get() {
            session.refetch_all();
        }
    });
    // Leave only once the session says who is signed in: leaving earlier, the sign-in guard would still
    // see an anonymous session and send the browser straight back here.
    Effect::new(move |_| {
        let signed_in = matches!(submit.value().get(), Some(Ok(_)))
            && matches!(session.me.get(), Some(Ok(Some(_))));
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
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if submit.pending().get_untracked() {
            return;
        }
        let value = |input: NodeRef<html::Input>| {
            input.get_untracked().map(|i| i.value()).unwrap_or_default()
        };
        submit.dispatch((value(username), value(password)));
    };
    view! {
        <h2>"Sign in"</h2>
        {move || next.get().map(|to| view! {
            <p class="muted" data-testid="login-next">"Sign in to continue to " <code>{to}</code> "."</p>
        })}
        // `post`: the password never goes into the address.
        <form class="login" method="post" action=signin::FORM_ACTION on:submit=on_submit>
            <input type="hidden" name="next" value=move || next.get().unwrap_or_default()/>
            <label>"User name" <input name="username" autocomplete="username" required node_ref=username/></label>
            <label>"Password" <input name="password" type="password" autocomplete="current-password" required node_ref=password/></label>
            <button type="submit" data-testid="login" disabled=move || submit.pending().get()>"Sign in"</button>
        </form>
        {move || match submit.value().get() {
            Some(Err(e)) => Some(view! { <ErrorLine error=e/> }.into_any()),
            Some(Ok(_)) => None,
            None => posted_error.get().map(|m| view! {
                <p class="error" data-testid="error" role="alert">{m}</p>
            }.into_any()),
        }}
        <p class="muted">"No account? An admin creates one with " <code>"ewg user add NAME"</code> "."</p>
    }
}
