//! The functions' HTTP front doors, written once: an axum `Router` per HTTP function. The
//! Lambda binaries wrap these with lambda_http; `oms serve` hosts all of them in one
//! process. (The queue consumers are use cases: `oms_domain::usecases::fulfilment`.)

pub mod error;
pub mod routes;

pub use error::ApiError;
/// The channel secrets and the signature check on webhooks live with the channels; this
/// path is kept for the routes and other callers.
pub use oms_channels::secrets as webhooks;
pub use routes::AppState;
pub use webhooks::{ChannelSecrets, UnsignedPolicy};
