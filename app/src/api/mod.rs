//! The API contract: wire types, the error type and the server functions at `/api/<name>`.

#[cfg(feature = "ssr")]
pub mod backend;
pub mod clips;
mod codec;
pub mod console;
pub mod error;
mod functions;
pub mod requests;
pub mod types;
pub mod undo;

pub use clips::*;
pub use console::*;
pub use error::{ApiError, ErrorCode};
pub use functions::*;
pub use requests::*;
pub use types::*;
pub use undo::*;
