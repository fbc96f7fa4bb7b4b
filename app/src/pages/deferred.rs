//! Parts of a page whose code is loaded after hydration: with `cargo leptos build --split` a `#[lazy]`
//! function is its own WebAssembly chunk, which the first download of the page then leaves out.

use leptos::prelude::*;
use std::future::Future;

/// Nothing on the server and while hydrating; once hydrated, runs `load` (a `#[lazy]` function, which
/// fetches its chunk) and shows the view it returns.
///
/// Both sides render the same shape (a reactive `Option<AnyView>` that starts empty), so hydration
/// matches. The slot holding the loaded view is browser-only state: it exists only in the hydrate build,
/// because a thread-local value created during server rendering would be dropped on whichever worker
/// thread finishes the response (`SendWrapper` panics on that).
pub fn after_hydration<F>(load: impl FnOnce() -> F + 'static) -> impl IntoView
where
    F: Future<Output = AnyView> + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        let slot = StoredValue::new_local(None::<AnyView>);
        let ready = RwSignal::new(false);
        let mut load = Some(load);
        Effect::new(move |_| {
            if let Some(load) = load.take() {
                let future = load();
                leptos::task::spawn_local(async move {
                    let view = future.await;
                    slot.set_value(Some(view));
                    ready.set(true);
                });
            }
        });
        move || {
            ready.track();
            slot.try_update_value(Option::take).flatten()
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        drop(load);
        || None::<AnyView>
    }
}

/// State a lazily loaded part keeps for the whole page: created on its first use, under the owner of
/// whoever made the slot, so a redraw of the part (after a refetch) finds the same state again. Only the
/// slot is in the page's first download; what `init` creates (actions and their server calls) stays in
/// the part's chunk.
pub struct PageSlot<T: 'static> {
    owner: StoredValue<Owner>,
    value: StoredValue<Option<T>>,
}

impl<T: 'static> Clone for PageSlot<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for PageSlot<T> {}

impl<T: Copy + Send + Sync + 'static> PageSlot<T> {
    pub fn new() -> Self {
        PageSlot {
            owner: StoredValue::new(Owner::current().unwrap_or_default()),
            value: StoredValue::new(None),
        }
    }

    /// The state, if the part made it already.
    pub fn get(&self) -> Option<T> {
        self.value.get_value()
    }

    pub fn get_or_init(&self, init: impl FnOnce() -> T) -> T {
        if let Some(v) = self.value.get_value() {
            return v;
        }
        let v = self.owner.with_value(|o| o.with(init));
        self.value.set_value(Some(v));
        v
    }
}

impl<T: Copy + Send + Sync + 'static> Default for PageSlot<T> {
    fn default() -> Self {
        Self::new()
    }
}
