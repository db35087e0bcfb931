//! Warehouses and the stock they hold.

use serde::{Deserialize, Serialize};

use crate::{MerchantId, Sku, ValidationError, WarehouseId};

/// A warehouse: who runs it and where it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warehouse {
    pub warehouse_id: WarehouseId,
    pub name: String,
    pub merchant_id: MerchantId,
    pub province: String,
    pub city: String,
    pub lat: f64,
    pub lon: f64,
    /// The provinces it ships to (English names, as `allocation::geo` spells them); empty
    /// when it ships everywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serves: Vec<String>,
}

/// Stock of one SKU in one warehouse: `reserved <= on_hand` always holds, so
/// `available = on_hand - reserved` is never negative. A stored row that breaks this is
/// corrupt, and [`StockCounts::new`] refuses it rather than hiding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockCounts {
    on_hand: u32,
    reserved: u32,
}

/// Counts with more units reserved than on hand: never written by the stores, so a stored
/// row holding them is corrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{reserved} units reserved exceed the {on_hand} on hand")]
pub struct ReservedAboveOnHand {
    pub on_hand: u32,
    pub reserved: u32,
}

impl StockCounts {
    /// Counts with `reserved <= on_hand`; anything else is an error.
    pub fn new(on_hand: u32, reserved: u32) -> Result<Self, ReservedAboveOnHand> {
        if reserved > on_hand {
            return Err(ReservedAboveOnHand { on_hand, reserved });
        }
        Ok(Self { on_hand, reserved })
    }

    pub fn on_hand(&self) -> u32 {
        self.on_hand
    }

    pub fn reserved(&self) -> u32 {
        self.reserved
    }

    /// `on_hand - reserved`, which the constructor keeps non-negative.
    pub fn available(&self) -> u32 {
        self.on_hand - self.reserved
    }
}

/// The stock of one SKU that one merchant owns in one warehouse, as `GET /inventory/{sku}`
/// lists it. Stock is owned per (warehouse, merchant, SKU): in a shared warehouse several
/// merchants keep the same SKU side by side, each counted and reserved on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub warehouse: WarehouseId,
    /// The merchant whose units these are.
    #[serde(rename = "merchant_id")]
    pub owner: MerchantId,
    pub sku: Sku,
    pub on_hand: u32,
    pub reserved: u32,
    pub available: u32,
}

impl StockLevel {
    /// The level of counts that are consistent by construction.
    pub fn new(warehouse: WarehouseId, owner: MerchantId, sku: Sku, counts: StockCounts) -> Self {
        Self { warehouse, owner, sku, on_hand: counts.on_hand, reserved: counts.reserved, available: counts.available() }
    }
}

/// Most units one warehouse may record for one merchant's SKU.
pub const MAX_ON_HAND: u32 = 100_000_000;

/// Longest name, province or city of a warehouse, in bytes.
pub const MAX_WAREHOUSE_TEXT: usize = 200;

impl Warehouse {
    /// A warehouse, by the rules: name, province and city trimmed and 1 to
    /// `MAX_WAREHOUSE_TEXT` long, without control or text-direction characters
    /// ([`refuse_hidden_text`](crate::validation::refuse_hidden_text)), latitude within ±90 and longitude within ±180 degrees.
    /// Errors name the field at fault (`lat`, `lon`, `name`, `province`, `city`).
    pub fn new(
        warehouse_id: WarehouseId,
        name: &str,
        merchant_id: MerchantId,
        province: &str,
        city: &str,
        lat: f64,
        lon: f64,
    ) -> Result<Self, ValidationError> {
        let text = |field: &str, value: &str| -> Result<String, ValidationError> {
            crate::validation::refuse_hidden_text(field, value)?;
            let value = crate::validation::clean_text(value);
            if value.is_empty() || value.len() > MAX_WAREHOUSE_TEXT {
                return Err(ValidationError::new(field, format!("must be 1 to {MAX_WAREHOUSE_TEXT} characters")));
            }
            Ok(value)
        };
        if !(-90.0..=90.0).contains(&lat) {
            return Err(ValidationError::new("lat", "must be between -90 and 90"));
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(ValidationError::new("lon", "must be between -180 and 180"));
        }
        Ok(Warehouse {
            warehouse_id,
            name: text("name", name)?,
            merchant_id,
            province: text("province", province)?,
            city: text("city", city)?,
            lat,
            lon,
            serves: Vec::new(),
        })
    }

    /// The warehouse shipping only to `provinces` (each a province of China, in English or
    /// Chinese; kept in English, once each); none means everywhere. Errors name the entry
    /// (`serves[2]`).
    pub fn serving(mut self, provinces: &[String]) -> Result<Self, ValidationError> {
        let mut serves: Vec<String> = Vec::with_capacity(provinces.len());
        for (i, name) in provinces.iter().enumerate() {
            let province = crate::allocation::geo::canonical_province(name)
                .ok_or_else(|| ValidationError::new(format!("serves[{i}]"), format!("{name:?} is not a province of China")))?;
            if !serves.iter().any(|p| p == province) {
                serves.push(province.to_owned());
            }
        }
        self.serves = serves;
        Ok(self)
    }
}

/// Checks an on-hand count: from 0 to `MAX_ON_HAND` (errors name the field `on_hand`).
pub fn check_on_hand(count: i64) -> Result<u32, ValidationError> {
    u32::try_from(count)
        .ok()
        .filter(|n| *n <= MAX_ON_HAND)
        .ok_or_else(|| ValidationError::new("on_hand", format!("must be from 0 to {MAX_ON_HAND}, got {count}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warehouse(name: &str, lat: f64, lon: f64) -> Result<Warehouse, ValidationError> {
        let id = WarehouseId::parse("wh-1").unwrap();
        Warehouse::new(id, name, MerchantId::parse("m-1").unwrap(), " Zhejiang ", "Hangzhou", lat, lon)
    }

    #[test]
    fn a_warehouse_keeps_trimmed_text_and_its_coordinates() {
        let wh = warehouse("Hangzhou West", 30.27, 120.15).unwrap();
        assert_eq!((wh.province.as_str(), wh.lat, wh.lon), ("Zhejiang", 30.27, 120.15));
    }

    #[test]
    fn a_warehouse_refuses_blank_or_long_text_and_coordinates_out_of_range_naming_the_field() {
        let field = |r: Result<Warehouse, ValidationError>| r.unwrap_err().field;
        assert_eq!(field(warehouse("  ", 0.0, 0.0)), "name");
        assert_eq!(field(warehouse(&"x".repeat(201), 0.0, 0.0)), "name");
        assert_eq!(field(warehouse("a", 90.5, 0.0)), "lat");
        assert_eq!(field(warehouse("a", f64::NAN, 0.0)), "lat");
        assert_eq!(field(warehouse("a", 0.0, -180.5)), "lon");
        assert_eq!(field(warehouse("West\u{202E}tsaE", 0.0, 0.0)), "name");
        assert_eq!(field(warehouse("West\tEast", 0.0, 0.0)), "name");
    }

    #[test]
    fn a_warehouse_serves_named_provinces_in_their_english_names_and_refuses_unknown_ones() {
        let wh = warehouse("a", 30.0, 120.0).unwrap();
        let served = wh.clone().serving(&["浙江省".into(), "Shanghai".into(), "zhejiang".into()]).unwrap();
        assert_eq!(served.serves, ["Zhejiang", "Shanghai"]);
        assert_eq!(wh.serving(&["Shanghai".into(), "Narnia".into()]).unwrap_err().field, "serves[1]");
    }

    #[test]
    fn on_hand_counts_run_from_zero_to_the_bound() {
        assert_eq!(check_on_hand(0), Ok(0));
        assert_eq!(check_on_hand(i64::from(MAX_ON_HAND)), Ok(MAX_ON_HAND));
        assert_eq!(check_on_hand(-1).unwrap_err().field, "on_hand");
        assert_eq!(
            check_on_hand(i64::from(MAX_ON_HAND) + 1).unwrap_err().message,
            format!("must be from 0 to {MAX_ON_HAND}, got {}", i64::from(MAX_ON_HAND) + 1)
        );
    }

    #[test]
    fn counts_with_more_reserved_than_on_hand_are_refused() {
        assert_eq!(StockCounts::new(2, 3), Err(ReservedAboveOnHand { on_hand: 2, reserved: 3 }));
        let counts = StockCounts::new(5, 3).unwrap();
        assert_eq!((counts.on_hand(), counts.reserved(), counts.available()), (5, 3, 2));
        assert_eq!(StockCounts::new(0, 0).unwrap().available(), 0);
    }
}
