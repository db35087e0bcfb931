//! The functions' HTTP front doors, written once: an axum `Router` per HTTP function. The
//! Lambda binaries wrap these with lambda_http; `oms serve` hosts all of them in one
//! process. (The queue consumers are use cases: `oms_domain::usecases::fulfilment`.)

pub mod admission;
pub mod answers;
pub mod auth;
pub mod error;
pub mod routes;
pub mod throttle;
pub mod webhook_secrets;

pub use auth::{Authed, Authenticator, GatewayClaims, TokenTable};
pub use error::{ApiError, ErrorCode};
pub use oms_channels::secrets::{ChannelSecrets, UnsignedPolicy};
pub use routes::{AppState, BodyReadLimit, PricingModel, ReportDirectory, ReportFiles};
pub use webhook_secrets::{LoadSecrets, WebhookSecrets};
