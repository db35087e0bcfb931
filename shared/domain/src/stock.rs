//! Warehouses and the stock they hold.

use serde::{Deserialize, Serialize};

use crate::{MerchantId, Sku, WarehouseId};

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

/// The stock of one SKU in one warehouse, as `GET /inventory/{sku}` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub warehouse: WarehouseId,
    pub sku: Sku,
    pub on_hand: u32,
    pub reserved: u32,
    pub available: u32,
}

impl StockLevel {
    /// The level of counts that are consistent by construction.
    pub fn new(warehouse: WarehouseId, sku: Sku, counts: StockCounts) -> Self {
        Self { warehouse, sku, on_hand: counts.on_hand, reserved: counts.reserved, available: counts.available() }
    }
}

/// Most units one warehouse may record for one SKU.
pub const MAX_ON_HAND: u32 = 100_000_000;

/// The body of `PUT /warehouses/{id}`.
#[derive(Debug, Deserialize)]
struct WarehouseBody {
    name: String,
    merchant_id: String,
    province: String,
    city: String,
    lat: f64,
    lon: f64,
}

impl Warehouse {
    /// Parses `PUT /warehouses/{id}`: every field required, coordinates in range.
    pub fn parse(id: &str, body: &[u8]) -> Result<Self, crate::ValidationError> {
        use crate::ValidationError;
        let raw: WarehouseBody = crate::validation::parse_json(body)?;
        let text = |field: &str, value: String| -> Result<String, ValidationError> {
            let value = value.trim().to_owned();
            if value.is_empty() || value.len() > 200 {
                return Err(ValidationError::new(field, "must be 1 to 200 characters"));
            }
            Ok(value)
        };
        if !(-90.0..=90.0).contains(&raw.lat) {
            return Err(ValidationError::new("lat", "must be between -90 and 90"));
        }
        if !(-180.0..=180.0).contains(&raw.lon) {
            return Err(ValidationError::new("lon", "must be between -180 and 180"));
        }
        Ok(Warehouse {
            warehouse_id: WarehouseId::parse(id).map_err(|e| e.within("warehouse_id"))?,
            name: text("name", raw.name)?,
            merchant_id: MerchantId::parse(raw.merchant_id).map_err(|e| e.within("merchant_id"))?,
            province: text("province", raw.province)?,
            city: text("city", raw.city)?,
            lat: raw.lat,
            lon: raw.lon,
        })
    }
}

/// The body of `PUT /inventory/{warehouse}/{sku}`.
#[derive(Debug, Deserialize)]
struct OnHandBody {
    on_hand: i64,
}

/// Parses `{"on_hand": N}` with N from 0 to `MAX_ON_HAND`.
pub fn parse_on_hand(body: &[u8]) -> Result<u32, crate::ValidationError> {
    let raw: OnHandBody = crate::validation::parse_json(body)?;
    if raw.on_hand < 0 || raw.on_hand > i64::from(MAX_ON_HAND) {
        return Err(crate::ValidationError::new("on_hand", format!("must be from 0 to {MAX_ON_HAND}, got {}", raw.on_hand)));
    }
    Ok(raw.on_hand as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_with_more_reserved_than_on_hand_are_refused() {
        assert_eq!(StockCounts::new(2, 3), Err(ReservedAboveOnHand { on_hand: 2, reserved: 3 }));
        let counts = StockCounts::new(5, 3).unwrap();
        assert_eq!((counts.on_hand(), counts.reserved(), counts.available()), (5, 3, 2));
        assert_eq!(StockCounts::new(0, 0).unwrap().available(), 0);
    }
}
