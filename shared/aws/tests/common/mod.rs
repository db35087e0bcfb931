//! Shared by the test binaries: adapters over fresh resources on the emulator, and sample data.
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use oms_aws::emulator::Emulator;
use oms_aws::Aws;
use oms_domain::order::{Address, Channel, Customer, NewOrder, Order, OrderLine};
use oms_domain::stock::Warehouse;
use oms_domain::{Currency, CustomerId, ExternalId, MerchantId, OrderId, Sku, WarehouseId};
use rust_decimal::Decimal;

/// The adapters over a table, queues and bucket of this test's own.
pub async fn aws(label: &str) -> Aws {
    Emulator::shared().provisioned(label).await
}

pub fn sku(raw: &str) -> Sku {
    Sku::parse(raw).expect("a valid SKU")
}

pub fn wh(raw: &str) -> WarehouseId {
    WarehouseId::parse(raw).expect("a valid warehouse id")
}

/// An order received from `channel` as `external_id` for `customer`, with one line.
pub fn order(channel: Channel, external_id: &str, customer: &str, phone: Option<&str>) -> Order {
    let new = NewOrder {
        channel,
        external_id: ExternalId::parse(external_id).expect("a valid external id"),
        merchant_id: MerchantId::parse("m-1").expect("a valid merchant id"),
        placed_at: Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).single().expect("a valid time"),
        currency: Currency::parse("CNY").expect("a known currency"),
        customer: Customer {
            id: CustomerId::parse(customer).expect("a valid customer id"),
            email: Some("a@example.com".into()),
            phone: phone.map(str::to_owned),
            name: None,
        },
        shipping_address: Address {
            name: Some("Li Lei".into()),
            line1: "1 West Lake Rd".into(),
            line2: None,
            city: "Hangzhou".into(),
            province: Some("Zhejiang".into()),
            postal_code: Some("310000".into()),
            country: "CN".into(),
        },
        lines: vec![OrderLine { sku: sku("SKU-1"), quantity: 2, unit_price: Decimal::new(1990, 2) }],
    };
    Order::receive(new, OrderId::generate(), Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 1).single().expect("a valid time"))
}

pub fn warehouse(id: &str) -> Warehouse {
    Warehouse {
        warehouse_id: wh(id),
        name: format!("Warehouse {id}"),
        merchant_id: MerchantId::parse("m-1").expect("a valid merchant id"),
        province: "Zhejiang".into(),
        city: "Hangzhou".into(),
        lat: 30.25,
        lon: 120.1667,
    }
}

/// An SDK configuration for the emulator, to look at resources behind the adapters' backs.
pub async fn emulator_config() -> aws_config::SdkConfig {
    Emulator::shared().sdk_config().await
}
