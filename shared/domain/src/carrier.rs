//! Carrier rate tables: what a carrier charges to ship a parcel so far and so heavy, by
//! service. Configuration, not code (`PUT /carriers/{id}/rates`): allocation prices each
//! candidate shipment with the cheapest band that fits it, and choosing a carrier for a
//! shipment reads the same table.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalogue::{MAX_SIDE_MM, MAX_WEIGHT_G};
use crate::{CarrierId, Currency, ValidationError};

/// Most bands one table may hold.
pub const MAX_BANDS: usize = 500;

/// Farthest a band may reach, in km (further than any two points in China).
pub const MAX_DISTANCE_KM: u32 = 10_000;

/// Longest transit a band may promise, in days.
pub const MAX_TRANSIT_DAYS: u32 = 60;

/// Highest price of one band.
pub const MAX_BAND_PRICE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// Longest service name, in bytes.
pub const MAX_SERVICE_LEN: usize = 40;

/// The SKU traits that restrict how a parcel may travel: a parcel holding a unit with one
/// of them goes only with a band that lists the trait in its `handles`. Other traits
/// (`gift`, `bulky`, ...) restrict nothing. A band handles none of them unless it says so.
pub const RESTRICTED_TRAITS: [&str; 3] = ["fragile", "hazardous", "cold_chain"];

/// Most entries of one band's `handles` list.
pub const MAX_HANDLES: usize = 8;

/// One price of a carrier's service: a parcel of at most `max_weight_g` going at most
/// `max_distance_km` costs `price` and takes `transit_days`. A parcel fits every band at
/// least as far and as heavy as it, and is charged the cheapest of them.
///
/// What the service can carry: the [`RESTRICTED_TRAITS`] it `handles` (none unless
/// listed) and the longest side of a parcel it takes (`max_side_mm`, no limit when
/// absent). Choosing a carrier for a shipment (`crate::carrier_choice`) reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateBand {
    pub service: String,
    pub max_distance_km: u32,
    pub max_weight_g: u32,
    pub price: Decimal,
    pub transit_days: u32,
    /// The restricted traits it carries, in the order of [`RESTRICTED_TRAITS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handles: Vec<String>,
    /// The longest side of a parcel it takes, in mm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_side_mm: Option<u32>,
}

impl RateBand {
    /// Whether it carries a parcel with the restricted trait `name`.
    pub fn handles(&self, name: &str) -> bool {
        self.handles.iter().any(|h| h == name)
    }
}

/// One carrier's prices, every service, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateTable {
    pub carrier: CarrierId,
    pub currency: Currency,
    pub bands: Vec<RateBand>,
}

/// The price of one parcel with one carrier's service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote<'a> {
    pub carrier: &'a CarrierId,
    pub band: &'a RateBand,
}

/// A band as a caller gives it, before the rules are applied.
#[derive(Debug, Clone, PartialEq)]
pub struct UncheckedBand {
    pub service: String,
    pub max_distance_km: i64,
    pub max_weight_g: i64,
    pub price: Decimal,
    pub transit_days: i64,
    /// Restricted traits the band carries; empty: none.
    pub handles: Vec<String>,
    pub max_side_mm: Option<i64>,
}

impl RateTable {
    /// A table by the rules: 1 to [`MAX_BANDS`] bands; each a service name (a lower-case
    /// word of letters, digits, `_` or `-`), a distance from 1 to [`MAX_DISTANCE_KM`] km,
    /// a weight from 1 g to the catalogue's heaviest unit, a price from 0 to
    /// [`MAX_BAND_PRICE`] no finer than the currency allows, and transit of 0 to
    /// [`MAX_TRANSIT_DAYS`] days; `handles` at most [`MAX_HANDLES`] names, each one of
    /// [`RESTRICTED_TRAITS`] (repeats dropped); `max_side_mm`, when given, from 1 to the
    /// catalogue's longest side; no two bands of one service with the same limits.
    /// Errors name the field (`bands[2].price`).
    pub fn new(carrier: CarrierId, currency: Currency, bands: Vec<UncheckedBand>) -> Result<Self, ValidationError> {
        if bands.is_empty() || bands.len() > MAX_BANDS {
            return Err(ValidationError::new("bands", format!("must hold 1 to {MAX_BANDS} bands")));
        }
        let mut checked: Vec<RateBand> = Vec::with_capacity(bands.len());
        for (i, raw) in bands.into_iter().enumerate() {
            let band = check_band(raw, currency).map_err(|e| e.within(&format!("bands[{i}]")))?;
            if checked.iter().any(|b| {
                b.service == band.service && b.max_distance_km == band.max_distance_km && b.max_weight_g == band.max_weight_g
            }) {
                return Err(ValidationError::new(format!("bands[{i}]"), "repeats the limits of an earlier band of its service"));
            }
            checked.push(band);
        }
        Ok(RateTable { carrier, currency, bands: checked })
    }

    /// The cheapest band that fits a parcel of `weight_g` going `distance_km` (ties: the
    /// faster), if any does.
    pub fn quote(&self, distance_km: u32, weight_g: u32) -> Option<Quote<'_>> {
        self.bands
            .iter()
            .filter(|b| b.max_distance_km >= distance_km && b.max_weight_g >= weight_g)
            .min_by_key(|b| (b.price, b.transit_days))
            .map(|band| Quote { carrier: &self.carrier, band })
    }
}

fn check_band(raw: UncheckedBand, currency: Currency) -> Result<RateBand, ValidationError> {
    let service = raw.service.trim();
    let word = service.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if service.is_empty() || service.len() > MAX_SERVICE_LEN || !word {
        return Err(ValidationError::new(
            "service",
            format!("must be a lower-case word of letters, digits, _ or - (1 to {MAX_SERVICE_LEN})"),
        ));
    }
    let bounded = |field: &str, value: i64, min: u32, max: u32| -> Result<u32, ValidationError> {
        u32::try_from(value)
            .ok()
            .filter(|v| (min..=max).contains(v))
            .ok_or_else(|| ValidationError::new(field, format!("must be from {min} to {max}, got {value}")))
    };
    let price = crate::money::check_price(raw.price, currency).map_err(|e| e.within("price"))?;
    if price > MAX_BAND_PRICE {
        return Err(ValidationError::new("price", format!("must be at most {MAX_BAND_PRICE}")));
    }
    if raw.handles.len() > MAX_HANDLES {
        return Err(ValidationError::new("handles", format!("must list at most {MAX_HANDLES} traits")));
    }
    if let Some(unknown) = raw.handles.iter().find(|h| !RESTRICTED_TRAITS.contains(&h.as_str())) {
        let shown: String = unknown.chars().take(MAX_SERVICE_LEN).collect();
        return Err(ValidationError::new(
            "handles",
            format!("{shown:?} is not a restricted trait (one of {})", RESTRICTED_TRAITS.join(", ")),
        ));
    }
    let handles = RESTRICTED_TRAITS.iter().filter(|t| raw.handles.iter().any(|h| h == *t)).map(|t| (*t).to_owned()).collect();
    Ok(RateBand {
        service: service.to_owned(),
        max_distance_km: bounded("max_distance_km", raw.max_distance_km, 1, MAX_DISTANCE_KM)?,
        max_weight_g: bounded("max_weight_g", raw.max_weight_g, 1, MAX_WEIGHT_G)?,
        price,
        transit_days: bounded("transit_days", raw.transit_days, 0, MAX_TRANSIT_DAYS)?,
        handles,
        max_side_mm: raw.max_side_mm.map(|side| bounded("max_side_mm", side, 1, MAX_SIDE_MM)).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(service: &str, km: i64, g: i64, price: i64, days: i64) -> UncheckedBand {
        UncheckedBand {
            service: service.into(),
            max_distance_km: km,
            max_weight_g: g,
            price: Decimal::new(price, 2),
            transit_days: days,
            handles: Vec::new(),
            max_side_mm: None,
        }
    }

    fn table(bands: Vec<UncheckedBand>) -> Result<RateTable, ValidationError> {
        RateTable::new(CarrierId::parse("sf").unwrap(), Currency::parse("CNY").unwrap(), bands)
    }

    #[test]
    fn a_parcel_is_charged_the_cheapest_band_that_fits_it() {
        let t = table(vec![
            band("standard", 300, 1000, 800, 1),
            band("standard", 3000, 1000, 1500, 3),
            band("standard", 3000, 5000, 2600, 3),
            band("economy", 3000, 5000, 2000, 5),
        ])
        .unwrap();
        assert_eq!(t.quote(100, 500).unwrap().band.price, Decimal::new(800, 2));
        assert_eq!(t.quote(1200, 500).unwrap().band.price, Decimal::new(1500, 2));
        let heavy = t.quote(1200, 3000).unwrap();
        assert_eq!((heavy.band.service.as_str(), heavy.band.price), ("economy", Decimal::new(2000, 2)));
        assert!(t.quote(4000, 500).is_none(), "nothing reaches that far");
    }

    #[test]
    fn bad_bands_are_refused_naming_the_band_and_field() {
        let field = |bands| table(bands).unwrap_err().field;
        assert_eq!(field(vec![]), "bands");
        assert_eq!(field(vec![band("standard", 300, 1000, -1, 1)]), "bands[0].price");
        assert_eq!(field(vec![band("standard", 0, 1000, 1, 1)]), "bands[0].max_distance_km");
        assert_eq!(field(vec![band("standard", 300, -5, 1, 1)]), "bands[0].max_weight_g");
        assert_eq!(field(vec![band("Standard!", 300, 5, 1, 1)]), "bands[0].service");
        assert_eq!(field(vec![band("std", 300, 5, 1, 1), band("std", 300, 5, 2, 1)]), "bands[1]");
        let with = |handles: &[&str], side: Option<i64>| UncheckedBand {
            handles: handles.iter().map(|h| (*h).to_owned()).collect(),
            max_side_mm: side,
            ..band("std", 300, 5, 1, 1)
        };
        assert_eq!(field(vec![with(&["fragile", "gift"], None)]), "bands[0].handles");
        assert_eq!(field(vec![with(&["fragile"; 9], None)]), "bands[0].handles");
        assert_eq!(field(vec![with(&[], Some(0))]), "bands[0].max_side_mm");
        assert_eq!(field(vec![with(&[], Some(20_001))]), "bands[0].max_side_mm");
    }

    #[test]
    fn a_band_lists_the_restricted_traits_it_handles_once_each_in_a_fixed_order() {
        let raw = UncheckedBand {
            handles: vec!["cold_chain".into(), "fragile".into(), "cold_chain".into()],
            max_side_mm: Some(600),
            ..band("std", 300, 5, 1, 1)
        };
        let t = table(vec![raw]).unwrap();
        assert_eq!(t.bands[0].handles, ["fragile", "cold_chain"]);
        assert!(t.bands[0].handles("fragile") && !t.bands[0].handles("hazardous"));
        assert_eq!(t.bands[0].max_side_mm, Some(600));
    }
}
