//! How many days a parcel takes from a warehouse to a customer: the distance from the
//! warehouse to where the customer's address is (`allocation::geo`), and the carriers'
//! rate tables (`carrier`): each carrier's band for that distance and weight as allocation
//! charges it (the cheapest that fits), and of those the fastest. Unknown when the
//! customer's place or the warehouse is not known, or no carrier carries the parcel: then
//! nothing is guessed.

use crate::allocation::geo::{locate, Place, Point};
use crate::carrier::RateTable;
use crate::order::Address;
use crate::stock::Warehouse;

/// Where a customer in `province` and `city` (either may be empty) is, if the table of
/// places knows it.
pub fn place_of(province: Option<&str>, city: &str) -> Option<Place> {
    let address = Address {
        name: None,
        line1: String::new(),
        line2: None,
        city: city.to_owned(),
        province: province.map(str::to_owned),
        postal_code: None,
        country: "CN".to_owned(),
    };
    locate(&address)
}

/// The transit days of a parcel of `weight_g` from `warehouse` to `to`, or `None` when it
/// cannot be told.
pub fn delivery_days(to: Option<Place>, warehouse: &Warehouse, weight_g: u32, rates: &[RateTable]) -> Option<u32> {
    let to = to?;
    let km = crate::allocation::geo::distance_km(to.point, Point { lat: warehouse.lat, lon: warehouse.lon }).round() as u32;
    rates.iter().filter_map(|table| table.quote(km, weight_g)).map(|quote| quote.band.transit_days).min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier::UncheckedBand;
    use crate::{CarrierId, Currency, MerchantId, WarehouseId};
    use rust_decimal::Decimal;

    fn table(carrier: &str, bands: &[(i64, i64, i64)]) -> RateTable {
        let bands = bands
            .iter()
            .map(|&(km, price, days)| UncheckedBand {
                service: "standard".into(),
                max_distance_km: km,
                max_weight_g: 5_000,
                price: Decimal::new(price, 2),
                transit_days: days,
                handles: Vec::new(),
                max_side_mm: None,
            })
            .collect();
        RateTable::new(CarrierId::parse(carrier).unwrap(), Currency::parse("CNY").unwrap(), bands).unwrap()
    }

    fn hangzhou() -> Warehouse {
        Warehouse::new(
            WarehouseId::parse("WH-HZ").unwrap(),
            "HZ",
            MerchantId::parse("m-1").unwrap(),
            "Zhejiang",
            "Hangzhou",
            30.27,
            120.15,
        )
        .unwrap()
    }

    #[test]
    fn a_near_customer_gets_the_short_bands_days_and_a_far_one_the_long_bands() {
        let rates = [table("sf", &[(300, 800, 1), (4_000, 1_500, 4)]), table("yto", &[(4_000, 1_200, 3)])];
        let near = place_of(Some("Zhejiang"), "Ningbo");
        assert_eq!(delivery_days(near, &hangzhou(), 500, &rates), Some(1));
        let far = place_of(Some("Xinjiang"), "Urumqi");
        assert_eq!(delivery_days(far, &hangzhou(), 500, &rates), Some(3), "sf charges 4 days, yto 3: the faster");
    }

    #[test]
    fn an_unknown_place_or_a_parcel_no_carrier_takes_has_no_delivery_days() {
        let rates = [table("sf", &[(300, 800, 1)])];
        assert_eq!(delivery_days(place_of(None, "Atlantis"), &hangzhou(), 500, &rates), None);
        assert_eq!(delivery_days(place_of(Some("Xinjiang"), ""), &hangzhou(), 500, &rates), None, "beyond every band");
        assert_eq!(delivery_days(place_of(Some("Zhejiang"), ""), &hangzhou(), 500, &[]), None, "no rate table");
    }
}
