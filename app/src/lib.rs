//! EWG Studio's user interface and API contract, shared by the server (SSR) and the browser (hydrate).
// Release builds of the hydrate side compute layouts of deeply nested view types (the Trash page).
#![recursion_limit = "256"]

pub mod api;
pub mod cache;
mod components;
mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    components::{A, Route, Router, Routes},
    path,
};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="icon" href="/favicon.ico" sizes="32x32"/>
                <link rel="stylesheet" href="/pkg/ewg.css"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let session = components::session::provide_session();
    let hydrated = RwSignal::new(false);
    // Effects never run during SSR, so this marks the moment the WebAssembly side has taken over.
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Title text="EWG Studio"/>
        <Router>
            <div class="layout" data-hydrated=move || hydrated.get().to_string()>
                <components::guard::SignInGuard/>
                <components::sidebar::Sidebar session/>
                <main class="content" id="main">
                    <Routes fallback=|| view! { <p class="empty">"Page not found. " <A href="/">"Go to the episode list"</A></p> }>
                        <Route path=path!("/") view=pages::dashboard::Dashboard/>
                        <Route path=path!("/episodes/:id") view=pages::episode::EpisodePage/>
                        <Route path=path!("/process") view=pages::process::ProcessPage/>
                        <Route path=path!("/upload") view=pages::upload::UploadPage/>
                        <Route path=path!("/maintenance") view=pages::maintenance::MaintenancePage/>
                        <Route path=path!("/trash") view=pages::trash::TrashPage/>
                        <Route path=path!("/storage") view=pages::storage::StoragePage/>
                        <Route path=path!("/login") view=pages::login::LoginPage/>
                    </Routes>
                </main>
            </div>
        </Router>
    }
}
