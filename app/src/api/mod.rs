//! The API contract: wire types, the error type and the server functions at `/api/<name>`.

#[cfg(feature = "ssr")]
pub mod backend;
pub mod clips;
mod codec;
pub mod console;
pub mod error;
mod functions;
mod job_state;
pub mod media;
pub mod queue;
pub mod requests;
mod trigger;
pub mod types;
pub mod undo;
mod words;

pub use clips::*;
pub use console::*;
pub use error::{ApiError, ErrorCode};
pub use functions::*;
pub use job_state::JobState;
pub use media::*;
pub use queue::*;
pub use requests::*;
pub use trigger::Trigger;
pub use types::*;
pub use undo::*;
pub use words::UnknownWord;
