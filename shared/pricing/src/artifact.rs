//! The model artifact: everything a quote needs (the featurizer, every segment's
//! selected model, the guard rails) and the report of the training that made it, as one
//! serde JSON document.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::features::Featurizer;
use crate::models::{Algorithm, Model};
use crate::quote::GuardRails;

/// A slice of the history with a model of its own. Layers from the widest: every
/// customer, one province, one SKU, one customer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    All,
    Province(String),
    Sku(String),
    Customer(String),
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::All => f.write_str("all"),
            Segment::Province(province) => write!(f, "province:{province}"),
            Segment::Sku(sku) => write!(f, "sku:{sku}"),
            Segment::Customer(customer) => write!(f, "customer:{customer}"),
        }
    }
}

/// The model a segment kept, with its error on the held-out rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectedModel {
    pub algorithm: Algorithm,
    pub model: Model,
    pub held_out_rmse: f64,
}

/// Every segment's selected model, by layer. A narrow segment is here only when it beat,
/// on its own held-out rows, what the wider layers would have answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentModels {
    pub all: Option<SelectedModel>,
    pub provinces: HashMap<String, SelectedModel>,
    pub skus: HashMap<String, SelectedModel>,
    pub customers: HashMap<String, SelectedModel>,
}

impl SegmentModels {
    /// The narrowest segment with a model for this customer, SKU and province: the
    /// customer's own, else the SKU's, else the province's, else everyone's.
    pub fn narrowest(&self, customer: &str, sku: &str, province: &str) -> Option<(Segment, &SelectedModel)> {
        if let Some(model) = self.customers.get(customer) {
            return Some((Segment::Customer(customer.to_owned()), model));
        }
        if let Some(model) = self.skus.get(sku) {
            return Some((Segment::Sku(sku.to_owned()), model));
        }
        if let Some(model) = self.provinces.get(province) {
            return Some((Segment::Province(province.to_owned()), model));
        }
        self.all.as_ref().map(|model| (Segment::All, model))
    }

    /// Every kept segment with its model, widest layer first.
    pub fn iter(&self) -> impl Iterator<Item = (Segment, &SelectedModel)> {
        let all = self.all.iter().map(|model| (Segment::All, model));
        let provinces = self.provinces.iter().map(|(key, model)| (Segment::Province(key.clone()), model));
        let skus = self.skus.iter().map(|(key, model)| (Segment::Sku(key.clone()), model));
        let customers = self.customers.iter().map(|(key, model)| (Segment::Customer(key.clone()), model));
        all.chain(provinces).chain(skus).chain(customers)
    }

    pub(crate) fn insert(&mut self, segment: Segment, model: SelectedModel) {
        match segment {
            Segment::All => self.all = Some(model),
            Segment::Province(key) => _ = self.provinces.insert(key, model),
            Segment::Sku(key) => _ = self.skus.insert(key, model),
            Segment::Customer(key) => _ = self.customers.insert(key, model),
        }
    }
}

/// One candidate's score on its segment's held-out rows, in price units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    pub segment: String,
    pub algorithm: Algorithm,
    /// Rows it was fitted on.
    pub rows: usize,
    pub held_out_rows: usize,
    pub rmse: f64,
    pub sse: f64,
}

/// A segment that kept a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub segment: String,
    pub algorithm: Algorithm,
    pub rmse: f64,
    /// The held-out RMSE of the wider layers on the same rows, which it beat (none for `all`).
    pub wider_rmse: Option<f64>,
}

/// What a training did, in the contract's shape (`test_rmse`, `candidates`, `selected`)
/// plus the sizes and the held-out error of the whole selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub model_version: String,
    /// The RMSE of the quotes (selected models, guard rails) over the whole test file,
    /// when there was one; else over the held-out rows of the training file.
    pub test_rmse: f64,
    pub test_rows: usize,
    /// `"test_file"` or `"held_out"`: where `test_rmse` was measured.
    pub test_on: String,
    pub train_rows: usize,
    pub fitted_rows: usize,
    pub held_out_rows: usize,
    /// The held-out RMSE of the selected models together, each row answered by its narrowest kept segment.
    pub held_out_rmse: f64,
    pub seconds: f64,
    pub candidates: Vec<CandidateScore>,
    pub selected: Vec<Selection>,
}

/// The merchant a history without one belongs to (a CSV without a `merchant_id` column).
pub const DEFAULT_MERCHANT: &str = "default";

fn default_merchant() -> String {
    DEFAULT_MERCHANT.to_owned()
}

/// A merchant id as one segment of a path or object key (`models/<segment>/current`):
/// every byte but ASCII letters, digits, `-`, `_` and `.` percent-escaped, and `.` and
/// `..` escaped whole, so no merchant id can name another's directory.
pub fn merchant_segment(merchant: &str) -> String {
    let mut out = String::with_capacity(merchant.len());
    for byte in merchant.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_') || (byte == b'.' && merchant.len() > 2) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A trained, versioned pricing model of one merchant: trained on that merchant's
/// history only, and asked only for that merchant's quotes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    pub version: String,
    /// Whose history trained it ([`DEFAULT_MERCHANT`] in an artifact from before merchants).
    #[serde(default = "default_merchant")]
    pub merchant_id: String,
    pub currency: String,
    pub trained_at: DateTime<Utc>,
    pub featurizer: Featurizer,
    pub models: SegmentModels,
    /// Per SKU; a SKU without rails is quoted unclamped.
    pub guard_rails: HashMap<String, GuardRails>,
    /// The least margin over cost the floor keeps when the catalogue gives a cost.
    #[serde(default = "crate::quote::default_min_margin")]
    pub min_margin: rust_decimal::Decimal,
    /// What offers are answered from (`offers`): the merchant's history, indexed.
    #[serde(default)]
    pub offers: crate::offers::OfferIndex,
    pub report: Report,
}

impl Artifact {
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }

    pub fn from_json(json: &str) -> serde_json::Result<Artifact> {
        serde_json::from_str(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merchant_segment_never_leaves_its_directory_and_two_merchants_never_share_one() {
        assert_eq!(merchant_segment("m-1"), "m-1");
        assert_eq!(merchant_segment("shop.example.com"), "shop.example.com");
        assert_eq!(merchant_segment(".."), "%2E%2E");
        assert_eq!(merchant_segment("a/b"), "a%2Fb");
        assert_ne!(merchant_segment("a%2Fb"), merchant_segment("a/b"));
    }
}
