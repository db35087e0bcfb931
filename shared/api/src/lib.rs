//! The functions' HTTP front doors, written once: an axum `Router` per HTTP function. The
//! Lambda binaries wrap these with lambda_http; `oms serve` hosts all of them in one
//! process. (The queue consumers are use cases: `oms_domain::usecases::fulfilment`.)

pub mod error;
pub mod routes;
pub mod webhooks;

pub use error::ApiError;
pub use routes::AppState;
pub use webhooks::{ChannelSecrets, UnsignedPolicy};
