//! A price for one customer, SKU and quantity, from an artifact: the narrowest segment's
//! model predicts the log price, and the SKU's guard rails clamp it.

use ndarray::ArrayView1;
use rust_decimal::prelude::{FromPrimitive as _, ToPrimitive as _};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::artifact::Artifact;
use crate::features::{Query, FEATURES};
use crate::models::Algorithm;

/// The lowest and highest price a SKU may be quoted at. Until the SKU catalogue (cost,
/// list price) exists, training sets them to the lowest and highest unit price paid for
/// the SKU in the history.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GuardRails {
    pub floor: Decimal,
    pub ceiling: Decimal,
}

/// Which guard rail moved the model's price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clamp {
    Floor,
    Ceiling,
}

/// A quoted price and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    /// Rounded to cents.
    pub price: Decimal,
    pub currency: String,
    pub model_version: String,
    pub algorithm: Algorithm,
    pub segment: String,
    /// The model's own price, before the guard rails and rounding.
    pub model_price: f64,
    /// Set when a guard rail moved the price.
    pub clamped: Option<Clamp>,
}

#[derive(Debug, thiserror::Error)]
pub enum QuoteError {
    #[error("the pricing model has no segment that can price this request")]
    NoModel,
}

impl Artifact {
    /// Quotes a price for `query`. An unknown customer, SKU or place is priced by the
    /// widest segment that has a model, with neutral features for what is unknown.
    pub fn quote(&self, query: &Query<'_>) -> Result<Quote, QuoteError> {
        let (segment, selected) =
            self.models.narrowest(query.customer_id, query.sku, query.province).ok_or(QuoteError::NoModel)?;
        let mut row = [0.0; FEATURES];
        self.featurizer.features_into(query, &mut row);
        let model_price = selected.model.predict_row(ArrayView1::from(&row[..])).exp();
        let (price, clamped) = self.clamp(query.sku, model_price);
        Ok(Quote {
            price,
            currency: self.currency.clone(),
            model_version: self.version.clone(),
            algorithm: selected.algorithm,
            segment: segment.to_string(),
            model_price,
            clamped,
        })
    }

    fn clamp(&self, sku: &str, model_price: f64) -> (Decimal, Option<Clamp>) {
        let cents = |price: f64| Decimal::from_f64(price).unwrap_or_default().round_dp(2);
        let Some(rails) = self.guard_rails.get(sku) else { return (cents(model_price), None) };
        if model_price < rails.floor.to_f64().unwrap_or(f64::NEG_INFINITY) {
            (rails.floor, Some(Clamp::Floor))
        } else if model_price > rails.ceiling.to_f64().unwrap_or(f64::INFINITY) {
            (rails.ceiling, Some(Clamp::Ceiling))
        } else {
            (cents(model_price), None)
        }
    }

    /// The RMSE of the quotes (guard rails applied, before rounding to cents) against
    /// the prices paid in `rows`; `None` without rows.
    pub fn rmse<'a>(&self, rows: impl Iterator<Item = (Query<'a>, f64)>) -> Option<f64> {
        let (sse, count) = rows.fold((0.0, 0usize), |(sse, count), (query, paid)| {
            let quoted = self.quote(&query).map_or(f64::NAN, |quote| match quote.clamped {
                Some(_) => quote.price.to_f64().unwrap_or(f64::NAN),
                None => quote.model_price,
            });
            (sse + (quoted - paid).powi(2), count + 1)
        });
        (count > 0).then(|| (sse / count as f64).sqrt())
    }
}
