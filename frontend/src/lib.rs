//! The browser entry point: hydrates the server-rendered `app` so it becomes interactive.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Pages are lazy routes (loaded as separate WebAssembly chunks), which needs the async hydration;
    // the document is marked hydrated only once the current page's chunk has loaded and hydrated too.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document().body().expect("a <body>");
        let owner = leptos::mount::hydrate_from_async(body, app::App).await;
        owner.forget();
        app::mark_hydrated();
    });
}
