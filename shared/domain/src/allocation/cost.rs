//! What a shipment costs: the carriers' rate tables price a parcel by distance and weight
//! (the cheapest band of any carrier and service that fits it), each shipment adds a
//! handling cost, and each shipment beyond the first a split penalty (a buyer waits for
//! two parcels, support answers two questions).
//!
//! Without a rate table, or for a parcel no band fits, the documented default applies:
//! [`DEFAULT_BASE_PRICE`] + [`DEFAULT_PRICE_PER_KM`] per km + [`DEFAULT_PRICE_PER_KG`] per
//! started kg beyond the first. A SKU the catalogue does not weigh weighs
//! [`DEFAULT_UNIT_WEIGHT_G`]. Costs are compared in integer fen (hundredths of the
//! planning currency); rate tables in another currency are not used for planning.

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::carrier::{RateBand, RateTable};
use crate::Sku;

/// The currency plans are costed in; rate tables in others are left out of planning.
pub const PLANNING_CURRENCY: &str = "CNY";

/// The default price of a parcel, before distance and weight.
pub const DEFAULT_BASE_PRICE: Decimal = Decimal::from_parts(600, 0, 0, false, 2);
/// The default price per km of distance (0.005: 5.00 per 1000 km).
pub const DEFAULT_PRICE_PER_KM: Decimal = Decimal::from_parts(5, 0, 0, false, 3);
/// The default price per started kg beyond the first.
pub const DEFAULT_PRICE_PER_KG: Decimal = Decimal::from_parts(200, 0, 0, false, 2);
/// What one unit of a SKU weighs when the catalogue does not say.
pub const DEFAULT_UNIT_WEIGHT_G: u32 = 500;
/// What packing and handing over one shipment costs the warehouse.
pub const HANDLING_PER_SHIPMENT: Decimal = Decimal::from_parts(150, 0, 0, false, 2);
/// What each shipment beyond the first costs besides its price and handling.
pub const SPLIT_PENALTY: Decimal = Decimal::from_parts(300, 0, 0, false, 2);
/// How far a warehouse is taken to be from an address that cannot be placed (or from a
/// warehouse not on record): every warehouse alike, so distance decides nothing then.
pub const UNKNOWN_DISTANCE_KM: u32 = 1_000;

/// How far a shipment from `warehouse` (its record, if on file) goes to a buyer at
/// `place` (if the address could be placed), in whole km: the great-circle distance, or
/// [`UNKNOWN_DISTANCE_KM`] when either end is unknown.
pub fn distance_km(place: Option<super::geo::Place>, warehouse: Option<&crate::stock::Warehouse>) -> u32 {
    match (place, warehouse) {
        (Some(to), Some(w)) => super::geo::distance_km(to.point, super::geo::Point { lat: w.lat, lon: w.lon }).round() as u32,
        _ => UNKNOWN_DISTANCE_KM,
    }
}

/// An amount in fen (hundredths), as plans are compared.
pub type Fen = i64;

/// An amount as fen, rounded to the nearest.
pub fn to_fen(amount: Decimal) -> Fen {
    use rust_decimal::prelude::ToPrimitive as _;
    (amount * Decimal::ONE_HUNDRED).round().to_i64().unwrap_or(i64::MAX / 4)
}

/// Fen as a decimal amount ("12.30").
pub fn from_fen(fen: Fen) -> Decimal {
    Decimal::new(fen, 2)
}

/// The prices and weights plans are costed with.
#[derive(Debug, Clone)]
pub struct CostModel {
    /// The parcel prices by weight for each distance tier, nearest tier first: which bands
    /// fit a parcel depends only on the first band distance at least as far as it, so
    /// they are worked out once per tier, not per shipment.
    tiers: Vec<Tier>,
    weights: HashMap<Sku, u32>,
    /// Per shipment.
    pub handling: Fen,
    /// Per shipment beyond the first.
    pub split_penalty: Fen,
}

/// The weight steps of every band reaching at least `max_distance_km`.
#[derive(Debug, Clone)]
struct Tier {
    max_distance_km: u32,
    steps: Vec<(u32, Fen)>,
}

impl Default for CostModel {
    /// The default rates and weights only.
    fn default() -> Self {
        Self::new(Vec::new(), HashMap::new())
    }
}

impl CostModel {
    /// Costs from `tables` (those in [`PLANNING_CURRENCY`]) and the catalogue's unit
    /// weights, with the default handling and split penalty.
    pub fn new(tables: Vec<RateTable>, weights: HashMap<Sku, u32>) -> Self {
        let bands: Vec<&RateBand> =
            tables.iter().filter(|t| t.currency.code() == PLANNING_CURRENCY).flat_map(|t| &t.bands).collect();
        let mut limits: Vec<u32> = bands.iter().map(|b| b.max_distance_km).collect();
        limits.sort_unstable();
        limits.dedup();
        let tiers = limits
            .into_iter()
            .map(|max_distance_km| Tier { max_distance_km, steps: weight_steps(&bands, max_distance_km) })
            .collect();
        Self { tiers, weights, handling: to_fen(HANDLING_PER_SHIPMENT), split_penalty: to_fen(SPLIT_PENALTY) }
    }

    /// What one unit of `sku` weighs.
    pub fn unit_weight_g(&self, sku: &Sku) -> u32 {
        self.weights.get(sku).copied().unwrap_or(DEFAULT_UNIT_WEIGHT_G)
    }

    /// The price of a parcel by weight, for parcels going `distance_km`.
    pub fn tariff(&self, distance_km: u32) -> Tariff<'_> {
        let steps = self.tiers.iter().find(|t| t.max_distance_km >= distance_km).map_or(&[][..], |t| &t.steps);
        let per_km_tenth_fen = to_fen(DEFAULT_PRICE_PER_KM * Decimal::TEN);
        let default_base = to_fen(DEFAULT_BASE_PRICE) + (i64::from(distance_km) * per_km_tenth_fen + 5) / 10;
        Tariff { steps, default_base, per_kg: to_fen(DEFAULT_PRICE_PER_KG) }
    }
}

/// The price steps by weight of the `bands` reaching `distance_km`: (heaviest parcel,
/// price), lightest first, each price the cheapest of its band and every heavier one (a
/// light parcel may go in a heavier band), so the price never falls as weight grows.
fn weight_steps(bands: &[&RateBand], distance_km: u32) -> Vec<(u32, Fen)> {
    let mut steps: Vec<(u32, Fen)> =
        bands.iter().filter(|b| b.max_distance_km >= distance_km).map(|b| (b.max_weight_g, to_fen(b.price))).collect();
    steps.sort_unstable();
    for i in (0..steps.len().saturating_sub(1)).rev() {
        steps[i].1 = steps[i].1.min(steps[i + 1].1);
    }
    // Of steps at one price only the heaviest matters.
    steps.iter().enumerate().filter(|(i, s)| steps.get(i + 1).is_none_or(|next| next.1 != s.1)).map(|(_, s)| *s).collect()
}

/// Parcel prices by weight at one distance: never lower for a heavier parcel.
#[derive(Debug, Clone, PartialEq)]
pub struct Tariff<'m> {
    /// (heaviest parcel, price), lightest first; prices ascending.
    steps: &'m [(u32, Fen)],
    default_base: Fen,
    per_kg: Fen,
}

impl Tariff<'_> {
    /// The price of a parcel of `weight_g`.
    pub fn price(&self, weight_g: u32) -> Fen {
        if let Some((_, price)) = self.steps.iter().find(|(max, _)| *max >= weight_g) {
            return *price;
        }
        let extra_kg = if weight_g > 1000 { i64::from((weight_g - 1) / 1000) } else { 0 };
        let default = self.default_base + extra_kg * self.per_kg;
        // Past every band: the default, never below the dearest band.
        self.steps.last().map_or(default, |(_, top)| default.max(*top))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier::UncheckedBand;
    use crate::{CarrierId, Currency};

    fn table(currency: &str, bands: &[(i64, i64, i64)]) -> RateTable {
        let bands = bands
            .iter()
            .map(|(km, g, fen)| UncheckedBand {
                service: "standard".into(),
                max_distance_km: *km,
                max_weight_g: *g,
                price: Decimal::new(*fen, 2),
                transit_days: 2,
                handles: Vec::new(),
                max_side_mm: None,
            })
            .collect();
        RateTable::new(CarrierId::parse("sf").unwrap(), Currency::parse(currency).unwrap(), bands).unwrap()
    }

    #[test]
    fn the_default_rate_charges_base_distance_and_each_started_kg_after_the_first() {
        let model = CostModel::default();
        let tariff = model.tariff(1000);
        assert_eq!(tariff.price(1), 600 + 500);
        assert_eq!(tariff.price(1000), 1100);
        assert_eq!(tariff.price(1001), 1100 + 200);
        assert_eq!(tariff.price(3000), 1100 + 400);
    }

    #[test]
    fn a_rate_table_prices_by_the_cheapest_fitting_band_and_never_falls_with_weight() {
        let model = CostModel::new(vec![table("CNY", &[(500, 1000, 800), (500, 3000, 700), (2000, 1000, 1500)])], HashMap::new());
        let near = model.tariff(300);
        assert_eq!((near.price(500), near.price(2500)), (700, 700), "the heavier band is cheaper and takes light parcels");
        assert_eq!(model.tariff(1500).price(800), 1500);
        // Past every band: the default, but never below the dearest band.
        assert_eq!(model.tariff(1500).price(5000), 600 + 750 + 800, "the default, 21.50, above the dearest band, 15.00");
    }

    #[test]
    fn tables_in_another_currency_and_unknown_weights_fall_back_to_the_defaults() {
        let model = CostModel::new(vec![table("USD", &[(5000, 5000, 1)])], HashMap::new());
        assert_eq!(model.tariff(0).price(100), 600);
        assert_eq!(model.unit_weight_g(&Sku::parse("X").unwrap()), DEFAULT_UNIT_WEIGHT_G);
        assert_eq!((from_fen(1230).to_string(), to_fen(Decimal::new(1236, 3))), ("12.30".to_owned(), 124));
    }
}
