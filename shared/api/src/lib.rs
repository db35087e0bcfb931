//! The functions' front doors, written once: an axum `Router` per HTTP function and a
//! dispatcher for queued messages. The Lambda binaries wrap these with lambda_http and
//! the SQS event; `oms serve` hosts all of them in one process.

pub mod answers;
pub mod consumers;
pub mod error;
pub mod routes;
pub mod webhooks;

pub use error::{ApiError, ErrorCode};
pub use routes::AppState;
pub use webhooks::{ChannelSecrets, UnsignedPolicy};
