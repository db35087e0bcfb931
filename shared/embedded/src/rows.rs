//! The stored JSON bodies of the `orders` and `warehouses` tables, private to this
//! adapter: renaming a field of a domain struct does not change them. The conversions
//! below are the one place that maps the domain onto them and back; reading goes through
//! the domain's constructors, and a body that does not parse is an error naming the field.
//!
//! The columns beside a body (`order_id`, `channel`, `status`, `version`, ...) are written
//! by `orders.rs`; `version` is the column's truth, the body's copy is only informative.

use anyhow::{anyhow, Context};
use chrono::{DateTime, Utc};
use oms_domain::order::{Address, AllocatedLine, Allocation, Channel, Charges, Customer, OrderLine, TimelineEvent};
use oms_domain::stock::Warehouse;
use oms_domain::{Currency, CustomerId, ExternalId, MerchantId, Order, OrderId, OrderStatus, Sku, WarehouseId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Parses one stored field with a domain constructor, naming it when it fails.
fn parse<T, E>(field: &'static str, parsed: Result<T, E>) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    parsed.with_context(|| format!("The stored field {field} is invalid"))
}

fn status(field: &'static str, raw: &str) -> anyhow::Result<OrderStatus> {
    OrderStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == raw)
        .ok_or_else(|| anyhow!("The stored field {field} is invalid: unknown status {raw:?}"))
}

/// `orders.body`: the order as JSON, fields in this order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct OrderBody {
    order_id: String,
    status: String,
    channel: String,
    external_id: String,
    merchant_id: String,
    placed_at: DateTime<Utc>,
    customer: StoredCustomer,
    shipping_address: StoredAddress,
    currency: String,
    lines: Vec<StoredOrderLine>,
    /// Absent on orders stored before charges were recorded: all zero.
    #[serde(default)]
    charges: StoredCharges,
    allocation: Option<StoredAllocation>,
    timeline: Vec<StoredEvent>,
    version: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredCustomer {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    line2: Option<String>,
    city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    postal_code: Option<String>,
    country: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredOrderLine {
    sku: String,
    quantity: u32,
    /// A decimal string.
    #[serde(with = "rust_decimal::serde::str")]
    unit_price: Decimal,
}

/// Amounts as decimal strings (rust_decimal's own serde form).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct StoredCharges {
    discount: Decimal,
    shipping: Decimal,
    tax: Decimal,
    #[serde(default)]
    taxes_included: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredAllocation {
    lines: Vec<StoredLine>,
    explanation: String,
    planned_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredLine {
    warehouse: String,
    sku: String,
    quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredEvent {
    at: DateTime<Utc>,
    status: String,
    detail: String,
}

impl OrderBody {
    /// The body of `order` at `version`.
    pub fn new(order: &Order, version: u64) -> Self {
        let customer = &order.customer;
        let address = &order.shipping_address;
        Self {
            order_id: order.order_id.to_string(),
            status: order.status.as_str().to_owned(),
            channel: order.channel.as_str().to_owned(),
            external_id: order.external_id.to_string(),
            merchant_id: order.merchant_id.to_string(),
            placed_at: order.placed_at,
            customer: StoredCustomer {
                id: customer.id.to_string(),
                email: customer.email.clone(),
                phone: customer.phone.clone(),
                name: customer.name.clone(),
            },
            shipping_address: StoredAddress {
                name: address.name.clone(),
                line1: address.line1.clone(),
                line2: address.line2.clone(),
                city: address.city.clone(),
                province: address.province.clone(),
                postal_code: address.postal_code.clone(),
                country: address.country.clone(),
            },
            currency: order.currency.code().to_owned(),
            lines: order
                .lines
                .iter()
                .map(|l| StoredOrderLine { sku: l.sku.to_string(), quantity: l.quantity, unit_price: l.unit_price })
                .collect(),
            charges: StoredCharges {
                discount: order.charges.discount,
                shipping: order.charges.shipping,
                tax: order.charges.tax,
                taxes_included: order.charges.taxes_included,
            },
            allocation: order.allocation.as_ref().map(|a| StoredAllocation {
                lines: a
                    .lines
                    .iter()
                    .map(|l| StoredLine { warehouse: l.warehouse.to_string(), sku: l.sku.to_string(), quantity: l.quantity })
                    .collect(),
                explanation: a.explanation.clone(),
                planned_at: a.planned_at,
            }),
            timeline: order
                .timeline
                .iter()
                .map(|e| StoredEvent { at: e.at, status: e.status.as_str().to_owned(), detail: e.detail.clone() })
                .collect(),
            version,
        }
    }

    /// The order, at `version` (the row's column, which is the truth).
    pub fn into_order(self, version: u64) -> anyhow::Result<Order> {
        let customer = self.customer;
        let address = self.shipping_address;
        Ok(Order {
            order_id: parse("order_id", OrderId::parse(self.order_id))?,
            status: status("status", &self.status)?,
            channel: Channel::parse(&self.channel)
                .ok_or_else(|| anyhow!("The stored field channel is invalid: unknown channel {:?}", self.channel))?,
            external_id: parse("external_id", ExternalId::parse(self.external_id))?,
            merchant_id: parse("merchant_id", MerchantId::parse(self.merchant_id))?,
            placed_at: self.placed_at,
            customer: Customer {
                id: parse("customer.id", CustomerId::parse(customer.id))?,
                email: customer.email,
                phone: customer.phone,
                name: customer.name,
            },
            shipping_address: Address {
                name: address.name,
                line1: address.line1,
                line2: address.line2,
                city: address.city,
                province: address.province,
                postal_code: address.postal_code,
                country: address.country,
            },
            currency: parse("currency", Currency::parse(&self.currency))?,
            lines: self
                .lines
                .into_iter()
                .map(|l| {
                    Ok(OrderLine { sku: parse("lines.sku", Sku::parse(l.sku))?, quantity: l.quantity, unit_price: l.unit_price })
                })
                .collect::<anyhow::Result<_>>()?,
            charges: Charges {
                discount: self.charges.discount,
                shipping: self.charges.shipping,
                tax: self.charges.tax,
                taxes_included: self.charges.taxes_included,
            },
            allocation: self
                .allocation
                .map(|a| -> anyhow::Result<Allocation> {
                    Ok(Allocation {
                        lines: a
                            .lines
                            .into_iter()
                            .map(|l| {
                                Ok(AllocatedLine {
                                    warehouse: parse("allocation.lines.warehouse", WarehouseId::parse(l.warehouse))?,
                                    sku: parse("allocation.lines.sku", Sku::parse(l.sku))?,
                                    quantity: l.quantity,
                                })
                            })
                            .collect::<anyhow::Result<_>>()?,
                        explanation: a.explanation,
                        planned_at: a.planned_at,
                    })
                })
                .transpose()?,
            timeline: self
                .timeline
                .into_iter()
                .map(|e| Ok(TimelineEvent { at: e.at, status: status("timeline.status", &e.status)?, detail: e.detail }))
                .collect::<anyhow::Result<_>>()?,
            version,
        })
    }
}

/// `warehouses.body`: the warehouse as JSON, fields in this order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WarehouseBody {
    warehouse_id: String,
    name: String,
    merchant_id: String,
    province: String,
    city: String,
    lat: f64,
    lon: f64,
}

impl From<&Warehouse> for WarehouseBody {
    fn from(w: &Warehouse) -> Self {
        Self {
            warehouse_id: w.warehouse_id.to_string(),
            name: w.name.clone(),
            merchant_id: w.merchant_id.to_string(),
            province: w.province.clone(),
            city: w.city.clone(),
            lat: w.lat,
            lon: w.lon,
        }
    }
}

impl TryFrom<WarehouseBody> for Warehouse {
    type Error = anyhow::Error;
    fn try_from(body: WarehouseBody) -> anyhow::Result<Self> {
        Ok(Warehouse {
            warehouse_id: parse("warehouse_id", WarehouseId::parse(body.warehouse_id))?,
            name: body.name,
            merchant_id: parse("merchant_id", MerchantId::parse(body.merchant_id))?,
            province: body.province,
            city: body.city,
            lat: body.lat,
            lon: body.lon,
        })
    }
}
