//! The functions' front doors, written once: an axum `Router` per HTTP function and a
//! dispatcher for queued messages. The Lambda binaries wrap these with lambda_http and
//! the SQS event; `oms serve` hosts all of them in one process.

pub mod consumers;
pub mod error;
pub mod routes;

pub use error::ApiError;
/// The channel secrets and the signature check on webhooks live with the channels; this
/// path is kept for the routes and other callers.
pub use oms_channels::secrets as webhooks;
pub use routes::AppState;
pub use webhooks::{ChannelSecrets, UnsignedPolicy};
