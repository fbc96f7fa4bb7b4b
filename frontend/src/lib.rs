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

/// Room for `cargo leptos build --split` to lay out the read-only data segment again. The splitter
/// regroups the segment's symbols by the module that uses them (the main module, then each chunk, each
/// group aligned); when that comes out longer than the segment it had — a few bytes of alignment are
/// enough — it keeps the whole segment, every chunk's strings and tables included, in the main module:
/// ~60 KB raw, ~25 KB gzip more on every page's first visit, flipping with unrelated changes (measured:
/// "Overlong segment 0 by 44 after relocation"). Nothing uses these bytes, so the splitter places them
/// nowhere and their length is slack for its padding.
#[used]
static SPLIT_SLACK: [u8; 8192] = [0xA5; 8192];
