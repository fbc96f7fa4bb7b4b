//! `XMLHttpRequest` as a future: the one browser API that reports upload progress.

use crate::api::{ApiError, UploadDone};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

fn js_err(e: JsValue) -> String {
    format!(
        "the browser refused the upload: {}",
        e.as_string().unwrap_or_else(|| format!("{e:?}"))
    )
}

pub(super) async fn send(
    url: &str,
    body: Option<&web_sys::File>,
    on_progress: impl Fn(f64) + 'static,
) -> Result<UploadDone, String> {
    let req = web_sys::XmlHttpRequest::new().map_err(js_err)?;
    req.open_with_async("POST", url, true).map_err(js_err)?;
    req.set_request_header("Content-Type", "application/octet-stream")
        .map_err(js_err)?;
    let (tx, rx) = futures::channel::oneshot::channel::<Result<(), String>>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let settle = move |r: Result<(), String>| {
        if let Some(tx) = tx.borrow_mut().take() {
            let _ = tx.send(r);
        }
    };
    let progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            if e.length_computable() {
                on_progress(e.loaded());
            }
        });
    let on_load = {
        let settle = settle.clone();
        Closure::<dyn FnMut()>::new(move || settle(Ok(())))
    };
    let on_error = {
        let settle = settle.clone();
        Closure::<dyn FnMut()>::new(move || {
            settle(Err(
                "The connection to the server failed during the upload; nothing was stored. Try again."
                    .into(),
            ))
        })
    };
    let on_abort = Closure::<dyn FnMut()>::new(move || {
        settle(Err("The upload was cancelled; nothing was stored.".into()))
    });
    req.upload()
        .map_err(js_err)?
        .set_onprogress(Some(progress.as_ref().unchecked_ref()));
    req.set_onload(Some(on_load.as_ref().unchecked_ref()));
    req.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    req.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
    match body {
        Some(file) => req.send_with_opt_blob(Some(file)),
        None => req.send(),
    }
    .map_err(js_err)?;
    let settled = rx
        .await
        .unwrap_or_else(|_| Err("The upload stopped unexpectedly.".into()));
    // The handlers have fired; they can go now.
    drop((progress, on_load, on_error, on_abort));
    settled?;
    let status = req.status().unwrap_or(0);
    let text = req.response_text().ok().flatten().unwrap_or_default();
    if status == 200 {
        serde_json::from_str::<UploadDone>(&text)
            .map_err(|e| format!("The server answered something unexpected: {e}"))
    } else {
        Err(serde_json::from_str::<ApiError>(&text)
            .map(|e| e.to_string())
            .unwrap_or_else(|_| format!("The upload failed (HTTP {status}).")))
    }
}
