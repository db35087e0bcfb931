//! `SkuCatalogue` and `RateTables`: SKU facts by SKU, rate tables by carrier, each read
//! back whole and replaced whole.

use oms_domain::carrier::{RateTable, UncheckedBand};
use oms_domain::catalogue::{SkuFacts, UncheckedSkuFacts};
use oms_domain::{CarrierId, Currency};
use rust_decimal::Decimal;

use crate::fixtures::sku;
use crate::Subject;

/// Facts of `id` weighing `weight_g`, with every field filled in.
pub fn sku_facts(id: &str, weight_g: i64) -> SkuFacts {
    let raw = UncheckedSkuFacts {
        merchant_id: "m-1".into(),
        name: format!("Product {id}"),
        category: "tea".into(),
        cost: Decimal::new(1250, 2),
        list_price: Decimal::new(3990, 2),
        weight_g,
        dims_mm: [120, 80, 60],
        traits: vec!["fragile".into(), "cold_chain".into()],
    };
    SkuFacts::new(sku(id), raw).expect("valid facts")
}

/// A table of `carrier` with one band per (distance, price) given, of service `standard`.
pub fn rate_table(carrier: &str, bands: &[(i64, i64)]) -> RateTable {
    let bands = bands
        .iter()
        .map(|(km, fen)| UncheckedBand {
            service: "standard".into(),
            max_distance_km: *km,
            max_weight_g: 3000,
            price: Decimal::new(*fen, 2),
            transit_days: 2,
            handles: Vec::new(),
            max_side_mm: None,
        })
        .collect();
    let carrier = CarrierId::parse(carrier).expect("a valid carrier id");
    RateTable::new(carrier, Currency::parse("CNY").expect("CNY"), bands).expect("a valid table")
}

pub async fn sku_facts_read_back_whole_and_an_unknown_sku_reads_as_none(s: Subject) {
    assert_eq!(s.catalogue.get_sku(&sku("TEA-1")).await.expect("get failed"), None);
    let facts = sku_facts("TEA-1", 300);
    s.catalogue.put_sku(&facts).await.expect("put failed");
    assert_eq!(s.catalogue.get_sku(&sku("TEA-1")).await.expect("get failed"), Some(facts));
    assert_eq!(s.catalogue.get_sku(&sku("TEA-2")).await.expect("get failed"), None);
    // A reorder point set by hand reads back with the facts.
    let by_hand = sku_facts("TEA-3", 300).with_reorder(Some(5), Some(24)).expect("a valid threshold");
    s.catalogue.put_sku(&by_hand).await.expect("put failed");
    let read = s.catalogue.get_sku(&sku("TEA-3")).await.expect("get failed").expect("the facts");
    assert_eq!((read.reorder_point, read.reorder_quantity), (Some(5), Some(24)));
    assert_eq!(read, by_hand);
}

pub async fn putting_sku_facts_again_replaces_them(s: Subject) {
    s.catalogue.put_sku(&sku_facts("TEA-1", 300)).await.expect("put failed");
    let heavier = SkuFacts { traits: Vec::new(), ..sku_facts("TEA-1", 900) };
    s.catalogue.put_sku(&heavier).await.expect("put failed");
    assert_eq!(s.catalogue.get_sku(&sku("TEA-1")).await.expect("get failed"), Some(heavier));
}

pub async fn rate_tables_read_back_whole_and_are_listed_by_carrier(s: Subject) {
    assert_eq!(s.rates.list_rates().await.expect("list failed"), Vec::new());
    let zto = rate_table("zto", &[(300, 500), (3000, 1200)]);
    let sf = rate_table("sf", &[(5000, 1800)]);
    s.rates.put_rates(&zto).await.expect("put failed");
    s.rates.put_rates(&sf).await.expect("put failed");
    let carrier = |id: &str| CarrierId::parse(id).expect("a valid carrier id");
    assert_eq!(s.rates.get_rates(&carrier("zto")).await.expect("get failed"), Some(zto.clone()));
    assert_eq!(s.rates.get_rates(&carrier("dhl")).await.expect("get failed"), None);
    assert_eq!(s.rates.list_rates().await.expect("list failed"), [sf, zto]);
}

pub async fn putting_a_rate_table_again_replaces_every_band(s: Subject) {
    s.rates.put_rates(&rate_table("zto", &[(300, 500), (3000, 1200)])).await.expect("put failed");
    let cheaper = rate_table("zto", &[(5000, 700)]);
    s.rates.put_rates(&cheaper).await.expect("put failed");
    assert_eq!(s.rates.list_rates().await.expect("list failed"), [cheaper]);
}
