use super::widgets::ErrorLine;
use crate::api::login;
use crate::components::session::use_studio;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn LoginPage() -> impl IntoView {
    let studio = use_studio();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let submit = Action::new(|(u, p): &(String, String)| login(u.clone(), p.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = submit.value().get() {
            studio.refetch_all();
            navigate("/", Default::default());
        }
    });
    view! {
        <h2>"Sign in"</h2>
        <form class="login" on:submit=move |ev| {
            ev.prevent_default();
            submit.dispatch((username.get_untracked(), password.get_untracked()));
        }>
            <label>"User name" <input name="username" autocomplete="username" bind:value=username/></label>
            <label>"Password" <input name="password" type="password" autocomplete="current-password" bind:value=password/></label>
            <button type="submit" data-testid="login" disabled=move || submit.pending().get()>"Sign in"</button>
        </form>
        {move || submit.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorLine error=e/> })}
    }
}
