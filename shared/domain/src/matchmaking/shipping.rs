//! What one parcel costs from a warehouse to a buyer's region, by the allocation's cost
//! model: the region is placed at its capital (`allocation::geo`), the distance is the
//! great-circle one, and the parcel is priced by the carriers' tariff at that distance.

use rust_decimal::Decimal;

use crate::allocation::cost::{distance_km, from_fen};
use crate::allocation::{geo, CostModel};
use crate::order::Address;
use crate::stock::Warehouse;

/// The price of a parcel of `weight_g` from `warehouse` to `region` (a province).
pub fn parcel_to_region(model: &CostModel, warehouse: &Warehouse, region: &str, weight_g: u32) -> Decimal {
    let capital = Address {
        name: None,
        line1: String::new(),
        line2: None,
        city: String::new(),
        province: Some(region.to_owned()),
        postal_code: None,
        country: "CN".to_owned(),
    };
    let distance = distance_km(geo::locate(&capital), Some(warehouse));
    from_fen(model.tariff(distance).price(weight_g))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MerchantId, WarehouseId};

    fn warehouse(lat: f64, lon: f64) -> Warehouse {
        Warehouse {
            warehouse_id: WarehouseId::parse("wh").unwrap(),
            name: "wh".into(),
            merchant_id: MerchantId::parse("m").unwrap(),
            province: String::new(),
            city: String::new(),
            lat,
            lon,
            serves: Vec::new(),
        }
    }

    #[test]
    fn a_parcel_costs_more_further_away_and_heavier() {
        let model = CostModel::default();
        let hangzhou = warehouse(30.27, 120.15);
        let urumqi = warehouse(43.83, 87.62);
        let near = parcel_to_region(&model, &hangzhou, "Zhejiang", 1_000);
        let far = parcel_to_region(&model, &urumqi, "Zhejiang", 1_000);
        let heavy = parcel_to_region(&model, &hangzhou, "Zhejiang", 20_000);
        assert!(near > Decimal::ZERO && near < far && near < heavy, "{near} {far} {heavy}");
    }
}
