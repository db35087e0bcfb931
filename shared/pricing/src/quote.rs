//! A price for one customer, SKU and quantity, from an artifact: the narrowest segment's
//! model predicts the log price, and the SKU's guard rails clamp it.

use ndarray::ArrayView1;
use rust_decimal::prelude::{FromPrimitive as _, ToPrimitive as _};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::artifact::Artifact;
use crate::features::{Query, FEATURES};
use crate::models::Algorithm;

/// The least margin over cost a floor keeps unless configured: 5 %.
pub const DEFAULT_MIN_MARGIN: Decimal = Decimal::from_parts(5, 0, 0, false, 2);

pub(crate) fn default_min_margin() -> Decimal {
    DEFAULT_MIN_MARGIN
}

/// What the SKU catalogue says of a SKU's prices; zero is "not given".
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CataloguePrices {
    pub cost: Decimal,
    pub list_price: Decimal,
}

impl CataloguePrices {
    /// The rails these prices set: the floor is the cost plus `min_margin` (a fraction),
    /// the ceiling the list price; a part the catalogue lacks (zero) comes from `paid`,
    /// the history's lowest and highest price. `None` when neither gives both. A floor
    /// above the ceiling (a list price below cost plus margin) is lowered to the ceiling:
    /// the list price is what the shop shows.
    pub fn rails(&self, min_margin: Decimal, paid: Option<GuardRails>) -> Option<GuardRails> {
        let floor = if self.cost > Decimal::ZERO {
            Some((self.cost * (Decimal::ONE + min_margin)).round_dp(2))
        } else {
            paid.map(|rails| rails.floor)
        }?;
        let ceiling = if self.list_price > Decimal::ZERO { Some(self.list_price) } else { paid.map(|rails| rails.ceiling) }?;
        Some(GuardRails { floor: floor.min(ceiling), ceiling })
    }
}

/// The lowest and highest price a SKU may be quoted at: from the SKU catalogue (cost plus
/// the least margin, the list price) where it gives them, else the lowest and highest unit
/// price paid for the SKU in the history.
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
        self.quote_with(query, None)
    }

    /// [`quote`](Self::quote) with the SKU catalogue's prices as they are now, which set
    /// the rails in place of those trained (a part they lack falls back to the trained one).
    pub fn quote_with(&self, query: &Query<'_>, catalogue: Option<&CataloguePrices>) -> Result<Quote, QuoteError> {
        let (segment, selected) =
            self.models.narrowest(query.customer_id, query.sku, query.province).ok_or(QuoteError::NoModel)?;
        let mut row = [0.0; FEATURES];
        self.featurizer.features_into(query, &mut row);
        let model_price = selected.model.predict_row(ArrayView1::from(&row[..])).exp();
        let trained = self.guard_rails.get(query.sku).copied();
        let rails = match catalogue {
            Some(prices) => prices.rails(self.min_margin, trained),
            None => trained,
        };
        let (price, clamped) = clamp(rails, model_price);
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

fn clamp(rails: Option<GuardRails>, model_price: f64) -> (Decimal, Option<Clamp>) {
    let cents = |price: f64| Decimal::from_f64(price).unwrap_or_default().round_dp(2);
    let Some(rails) = rails else { return (cents(model_price), None) };
    if model_price > rails.ceiling.to_f64().unwrap_or(f64::INFINITY) {
        (rails.ceiling, Some(Clamp::Ceiling))
    } else if model_price < rails.floor.to_f64().unwrap_or(f64::NEG_INFINITY) {
        (rails.floor, Some(Clamp::Floor))
    } else {
        (cents(model_price), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_sets_the_floor_at_cost_plus_margin_and_the_ceiling_at_list_price() {
        let paid = Some(GuardRails { floor: Decimal::new(50, 0), ceiling: Decimal::new(150, 0) });
        let both = CataloguePrices { cost: Decimal::new(80, 0), list_price: Decimal::new(120, 0) };
        assert_eq!(
            both.rails(DEFAULT_MIN_MARGIN, paid),
            Some(GuardRails { floor: Decimal::new(84, 0), ceiling: Decimal::new(120, 0) })
        );
        let no_cost = CataloguePrices { cost: Decimal::ZERO, list_price: Decimal::new(120, 0) };
        assert_eq!(no_cost.rails(DEFAULT_MIN_MARGIN, paid).unwrap().floor, Decimal::new(50, 0), "the history's floor");
        assert_eq!(no_cost.rails(DEFAULT_MIN_MARGIN, None), None);
        let below_cost = CataloguePrices { cost: Decimal::new(100, 0), list_price: Decimal::new(90, 0) };
        assert_eq!(below_cost.rails(DEFAULT_MIN_MARGIN, None).unwrap().floor, Decimal::new(90, 0));
        assert_eq!(clamp(both.rails(DEFAULT_MIN_MARGIN, paid), 70.0), (Decimal::new(84, 0), Some(Clamp::Floor)));
        assert_eq!(clamp(both.rails(DEFAULT_MIN_MARGIN, paid), 130.0), (Decimal::new(120, 0), Some(Clamp::Ceiling)));
    }
}
