//! Browser-side state in localStorage, namespaced and versioned as `ewg:v1:<group>:<name>`.
//!
//! Groups: `cache:` (copies of server data, safe to drop any time), `run:` (state of runs in progress in
//! this browser), `prefs:` (the user's choices; survive Deep Clean). Every read tolerates a corrupt value
//! and every write tolerates a full quota: the entry is dropped and the page refetches, never panics.
//! Nothing here runs during SSR: callers use it from effects and event handlers only.

use gloo_storage::{LocalStorage, Storage};
use serde::{Serialize, de::DeserializeOwned};

pub const PREFIX: &str = "ewg:v1:";
/// The BroadcastChannel other tabs listen on, and the message that tells them to drop their state.
pub const CHANNEL: &str = "ewg:v1";
pub const WIPE_MESSAGE: &str = "deep-clean";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Cache,
    Run,
    Prefs,
}

impl Group {
    fn as_str(self) -> &'static str {
        match self {
            Group::Cache => "cache",
            Group::Run => "run",
            Group::Prefs => "prefs",
        }
    }
}

pub fn key(group: Group, name: &str) -> String {
    format!("{PREFIX}{}:{name}", group.as_str())
}

/// Reads a value; a missing one is `None`, a corrupt one is deleted and is `None` too.
pub fn read<T: DeserializeOwned>(group: Group, name: &str) -> Option<T> {
    let key = key(group, name);
    let raw = LocalStorage::raw().get_item(&key).ok().flatten()?;
    match serde_json::from_str(&raw) {
        Ok(v) => Some(v),
        Err(e) => {
            leptos::logging::warn!("dropping corrupt cache entry {key}: {e}");
            LocalStorage::delete(&key);
            None
        }
    }
}

/// Writes a value; when storage refuses (quota), the stale entry is removed rather than left behind.
pub fn write<T: Serialize>(group: Group, name: &str, value: &T) {
    let key = key(group, name);
    if let Err(e) = LocalStorage::set(&key, value) {
        leptos::logging::warn!("could not cache {key}: {e}");
        LocalStorage::delete(&key);
    }
}

/// Stores a value together with the time it was fetched (`<name>` and `<name>:at`).
pub fn write_stamped<T: Serialize>(group: Group, name: &str, value: &T) {
    write(group, name, value);
    write(group, &format!("{name}:at"), &js_sys_now());
}

pub fn remove(group: Group, name: &str) {
    LocalStorage::delete(key(group, name));
}

/// Removes every `cache:` and `run:` key (preferences and the login cookie stay). Returns how many keys
/// were removed. Keys are collected first because removing while indexing shifts the indices.
pub fn wipe_volatile() -> usize {
    let Ok(storage) = web_sys::window()
        .ok_or(())
        .and_then(|w| w.local_storage().ok().flatten().ok_or(()))
    else {
        return 0;
    };
    let volatile = [key(Group::Cache, ""), key(Group::Run, "")];
    let len = storage.length().unwrap_or(0);
    let doomed: Vec<String> = (0..len)
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|k| volatile.iter().any(|p| k.starts_with(p.as_str())))
        .collect();
    for k in &doomed {
        let _ = storage.remove_item(k);
    }
    doomed.len()
}

/// Tells other open tabs to drop their in-memory copies of server state. The message names this tab:
/// a BroadcastChannel delivers it to every other channel object of that name, the sending tab's own
/// listener included (it is another object), and that listener must not report "another tab".
pub fn broadcast_wipe() {
    if let Ok(ch) = web_sys::BroadcastChannel::new(CHANNEL) {
        let message = wipe_message(&tab_id());
        let _ = ch.post_message(&wasm_bindgen::JsValue::from_str(&message));
        ch.close();
    }
}

/// This tab, for as long as its document lives: the document's time origin (microsecond precision), which
/// two tabs share only if opened in the same microsecond.
pub fn tab_id() -> String {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| format!("{:.3}", p.time_origin()))
        .unwrap_or_default()
}

/// `deep-clean:<tab>`: the wipe, and which tab ran it.
pub fn wipe_message(tab: &str) -> String {
    format!("{WIPE_MESSAGE}:{tab}")
}

/// Whether a channel message is a Deep Clean that ran in a tab other than `me`.
pub fn wiped_by_another_tab(message: &str, me: &str) -> bool {
    message
        .strip_prefix(WIPE_MESSAGE)
        .and_then(|rest| rest.strip_prefix(':'))
        .is_some_and(|tab| tab != me)
}

/// Milliseconds since the epoch, from the browser clock.
pub fn js_sys_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.time_origin() + p.now())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_tab_does_not_take_its_own_deep_clean_for_another_tabs() {
        let mine = super::wipe_message("1733443200123.456");
        assert!(!super::wiped_by_another_tab(&mine, "1733443200123.456"));
        assert!(super::wiped_by_another_tab(&mine, "1733443200999.000"));
        assert!(!super::wiped_by_another_tab("something else", "1"));
    }
}
