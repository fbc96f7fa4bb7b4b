//! Who is calling, as an extractor: a handler's signature says who may call it. Bearer tokens for
//! scripts, the session cookie for browsers (cross-origin cookie calls are refused in
//! [`crate::auth::Auth::authenticate`]).

use super::AppState;
use super::error::HttpError;
use app::api::backend::Actor;
use app::api::{ApiError, Role};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::marker::PhantomData;

/// The least role a handler needs.
pub trait MinRole: Send + Sync {
    const ROLE: Role;
    /// What the caller was trying to do, for the refusal message.
    const ACTION: &'static str;
}

/// Any signed-in user: read access.
pub struct Viewer;
impl MinRole for Viewer {
    const ROLE: Role = Role::Viewer;
    const ACTION: &'static str = "see media";
}

/// Operators and admins: processing, cleaning, uploading.
pub struct Operator;
impl MinRole for Operator {
    const ROLE: Role = Role::Operator;
    const ACTION: &'static str = "upload";
}

/// A signed-in caller with at least role `R`: 401 when nobody is signed in, 403 when the role is short.
pub struct Caller<R: MinRole> {
    pub actor: Actor,
    _role: PhantomData<R>,
}

impl<R: MinRole> FromRequestParts<AppState> for Caller<R> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let Some(actor) = s.studio.auth.authenticate(parts).await? else {
            return Err(ApiError::unauthorized(format!("sign in to {}", R::ACTION)).into());
        };
        if actor.role < R::ROLE {
            return Err(ApiError::forbidden(format!(
                "{} needs the {} role; `{}` is {}",
                R::ACTION,
                R::ROLE.as_str(),
                actor.name,
                actor.role.as_str()
            ))
            .into());
        }
        Ok(Caller {
            actor,
            _role: PhantomData,
        })
    }
}
