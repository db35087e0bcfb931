//! Per-customer pricing: regression models trained on purchase history, chosen per
//! segment by the shape of the data and by their error on held-out data, and quotes that
//! answer from the narrowest segment that has a model, within guard rails.
//!
//! - [`history`]: the purchase rows and reading them from CSV.
//! - [`features`]: from a purchase or a query to standardised features.
//! - [`models`]: the candidates (OLS, ridge, lasso, elastic net, stagewise, our tree).
//! - [`selection`]: segments in layers, candidates per segment, the artifact and report.
//! - [`quote`]: a price for a customer, SKU and quantity from an artifact.

pub mod artifact;
pub mod features;
pub mod history;
pub mod hit_rate;
pub mod models;
pub mod offers;
pub mod quote;
pub mod selection;
pub mod signals;
pub mod stored;

pub use artifact::{merchant_segment, Artifact, Report, Segment, DEFAULT_MERCHANT};
pub use features::Query;
pub use history::{by_merchant, from_sales, read_csv, Purchase};
pub use models::Algorithm;
pub use offers::{Offer, OfferIndex};
pub use quote::{CataloguePrices, Clamp, GuardRails, Quote, QuoteError, DEFAULT_MIN_MARGIN};
pub use selection::{train, Progress, TrainError, TrainOptions};
