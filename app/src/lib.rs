//! EWG Studio's user interface and API contract, shared by the server (SSR) and the browser (hydrate).
// Release builds of the hydrate side compute layouts of deeply nested view types (the Trash page).
#![recursion_limit = "256"]

pub mod api;
pub mod cache;
mod components;
mod pages;
pub mod signin;
mod url;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, LazyRoute,
    components::{A, Route, Router, Routes},
    lazy_route, path,
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
                <script inner_html=BOOT_WATCH></script>
            </head>
            <body>
                <App/>
                // After the app, so hydration never walks it (hydration starts at the body's first node).
                <div id="boot-failed" class="boot-failed" role="alert" hidden=true>
                    "This page did not start: its buttons will not respond. "
                    // A plain reload: the router's click handling may be dead along with the WebAssembly.
                    <a href="" data-testid="boot-reload" onclick="location.reload();return false">"Reload"</a>
                </div>
            </body>
        </html>
    }
}

/// Shows `#boot-failed` when the page's WebAssembly fails to load or start: an uncaught error or
/// rejection before the document is marked hydrated (a failed download, a hydration mismatch, which
/// panics), or a WebAssembly trap (a panic) at any time after. Buttons are then never silently dead.
const BOOT_WATCH: &str = r#"(function(){
var shown=false;
function show(){var b=document.getElementById("boot-failed");if(b&&!shown){shown=true;b.hidden=false;}}
function hydrated(){var l=document.querySelector(".layout");return !!l&&l.getAttribute("data-hydrated")==="true";}
function seen(e){var x=e.error||e.reason;if(!hydrated()||(typeof WebAssembly==="object"&&x instanceof WebAssembly.RuntimeError))show();}
addEventListener("error",seen);
addEventListener("unhandledrejection",seen);
})();"#;

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let session = components::session::provide_session(components::guard::redirect_anonymous_page);
    components::deep_clean::DeepClean::provide();

    view! {
        <Title text="EWG Studio"/>
        <Router>
            <div class="layout" data-hydrated="false">
                <components::guard::SignInGuard/>
                <components::sidebar::Sidebar session/>
                <main class="content" id="main">
                    <Routes fallback=|| view! { <p class="empty">"Page not found. " <A href="/">"Go to the episode list"</A></p> }>
                        <Route path=path!("/") view={Lazy::<DashboardRoute>::new()}/>
                        <Route path=path!("/episodes/:id") view={Lazy::<EpisodePageRoute>::new()}/>
                        <Route path=path!("/process") view={Lazy::<ProcessPageRoute>::new()}/>
                        <Route path=path!("/queue") view={Lazy::<QueuePageRoute>::new()}/>
                        // The queue page lists the workers too.
                        <Route path=path!("/workers") view={Lazy::<QueuePageRoute>::new()}/>
                        <Route path=path!("/upload") view={Lazy::<UploadPageRoute>::new()}/>
                        <Route path=path!("/maintenance") view={Lazy::<MaintenancePageRoute>::new()}/>
                        <Route path=path!("/trash") view={Lazy::<TrashPageRoute>::new()}/>
                        <Route path=path!("/storage") view={Lazy::<StoragePageRoute>::new()}/>
                        <Route path=path!("/login") view={Lazy::<LoginPageRoute>::new()}/>
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

/// Marks the document hydrated (`data-hydrated="true"` on `.layout`, which the server renders as "false"):
/// the browser entry point calls this once hydration, including the current route's lazily loaded page
/// code, has finished.
pub fn mark_hydrated() {
    if let Some(layout) = document().query_selector(".layout").ok().flatten() {
        _ = layout.set_attribute("data-hydrated", "true");
    }
}

// Every page is a lazy route: `cargo leptos build --split` puts each page's code in its own WebAssembly
// chunk, so the first download is the shared code plus the chunk(s) of the page being opened.
macro_rules! lazy_page {
    ($route:ident, $page:path) => {
        #[derive(Debug)]
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    };
}
lazy_page!(DashboardRoute, pages::dashboard::Dashboard);
lazy_page!(EpisodePageRoute, pages::episode::EpisodePage);
lazy_page!(ProcessPageRoute, pages::process::ProcessPage);
lazy_page!(QueuePageRoute, pages::queue::QueuePage);
lazy_page!(UploadPageRoute, pages::upload::UploadPage);
lazy_page!(MaintenancePageRoute, pages::maintenance::MaintenancePage);
lazy_page!(TrashPageRoute, pages::trash::TrashPage);
lazy_page!(StoragePageRoute, pages::storage::StoragePage);
lazy_page!(LoginPageRoute, pages::login::LoginPage);
