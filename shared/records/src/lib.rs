//! The stored layout of orders and warehouses that both adapter sets share: the SQLite
//! `orders.body` / `warehouses.body` JSON is a record, and a DynamoDB order or warehouse
//! item is a record's fields beside the item's keys. The layout is pinned by the tests
//! below (each adapter pins its own framing of it), never by the domain's serde: renaming
//! a field of a domain struct does not change what is stored.
//!
//! Records are written from the domain (`OrderRecord::new`, `From<&Warehouse>`) and read
//! back through the domain's constructors (`TryFrom<OrderRecord> for Order`): stored data
//! is trusted, but a record that does not parse is a [`CorruptRecord`] naming the field,
//! never a silent default.

use chrono::{DateTime, Utc};
use oms_domain::allocation::merge::Merge;
use oms_domain::allocation::{Candidate, Costing, Method};
use oms_domain::carrier::{RateTable, UncheckedBand};
use oms_domain::carrier_choice::{RunnerUp, ShipmentCarrier};
use oms_domain::catalogue::{SkuFacts, UncheckedSkuFacts};
use oms_domain::order::{Address, AllocatedLine, Allocation, Billing, Channel, Charges, Customer, OrderLine, TimelineEvent};
use oms_domain::stock::Warehouse;
use oms_domain::{
    CarrierId, Currency, CustomerId, ExternalId, MerchantId, Order, OrderId, OrderNumber, OrderStatus, Sku, WarehouseId,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub mod flash_sale;
pub use flash_sale::{ClaimRecord, SaleRecord, ShardRecord};
pub mod sales;
pub use sales::{PurchaseLineRecord, PurchaseRecord};
pub mod consignment;
pub use consignment::{ConsignmentRecord, PriceRecord};
pub mod auction;
pub use auction::{AuctionRecord, BidRecord};

/// A stored record that does not hold what its layout says. `field` is its path in the
/// record (`timeline.status`); each adapter names it in its own words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stored field {field} is invalid: {reason}")]
pub struct CorruptRecord {
    pub field: &'static str,
    pub reason: String,
}

impl CorruptRecord {
    pub fn new(field: &'static str, reason: impl std::fmt::Display) -> Self {
        Self { field, reason: reason.to_string() }
    }
}

/// Parses one stored field with a domain constructor, naming it when it fails.
fn parse<T, E: std::fmt::Display>(field: &'static str, parsed: Result<T, E>) -> Result<T, CorruptRecord> {
    parsed.map_err(|e| CorruptRecord::new(field, e))
}

fn status(field: &'static str, raw: &str) -> Result<OrderStatus, CorruptRecord> {
    OrderStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == raw)
        .ok_or_else(|| CorruptRecord::new(field, format!("unknown status {raw:?}")))
}

/// An order as it is stored, fields in this order (the SQLite body's JSON keeps it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub order_id: String,
    pub status: String,
    pub channel: String,
    pub external_id: String,
    /// The channel's own number of the order. Absent on orders stored before it was
    /// recorded: those read as their external id (what generic, CSV and Amazon orders
    /// use, and the best guess for the others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    pub merchant_id: String,
    pub placed_at: DateTime<Utc>,
    pub customer: CustomerRecord,
    pub shipping_address: AddressRecord,
    pub currency: String,
    pub lines: Vec<OrderLineRecord>,
    /// Absent on orders stored before charges were recorded: all zero.
    #[serde(default)]
    pub charges: ChargesRecord,
    pub allocation: Option<AllocationRecord>,
    /// The newest [`TIMELINE_KEPT`] entries of the order's history, oldest first.
    pub timeline: Vec<EventRecord>,
    /// How many older entries were moved out of the record to rows (SQLite `timeline`) or
    /// items (DynamoDB `ORDER#<id>` / `EVENT#<seq>`) of their own, numbered from 0; read
    /// back before `timeline` through [`OrderRecord::with_moved`]. Absent when none are.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeline_moved: u64,
    /// The channel's time of the last version applied. Absent on orders stored before it
    /// was recorded: their `placed_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_updated_at: Option<DateTime<Utc>>,
    pub version: u64,
    /// Whether the order is paid. Absent on orders stored before payments were recorded
    /// (and on paid orders): paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid: Option<bool>,
    /// The payments recorded, oldest first. Absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payments: Vec<PaymentRecord>,
    /// The promised delivery date (`YYYY-MM-DD`). Absent when the channel gave none (and
    /// on orders stored before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_by: Option<chrono::NaiveDate>,
}

/// A payment recorded for an order: `amount` a decimal string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentRecord {
    pub amount: Decimal,
    pub currency: String,
    pub reference: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRecord {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The card's fingerprint (`Customer::card`); absent when the channel gave none, as on
    /// old records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
    /// The invoice details given at checkout (`Customer::billing`); absent when none were,
    /// as on old records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<BillingRecord>,
}

/// `Customer::billing` as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BillingRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddressRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    pub country: String,
}

impl From<&Address> for AddressRecord {
    fn from(a: &Address) -> AddressRecord {
        AddressRecord {
            name: a.name.clone(),
            line1: a.line1.clone(),
            line2: a.line2.clone(),
            city: a.city.clone(),
            province: a.province.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.clone(),
        }
    }
}

impl From<AddressRecord> for Address {
    fn from(a: AddressRecord) -> Address {
        Address {
            name: a.name,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            province: a.province,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLineRecord {
    pub sku: String,
    pub quantity: u32,
    /// A decimal string.
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
}

/// Amounts as decimal strings (rust_decimal's own serde form).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChargesRecord {
    pub discount: Decimal,
    pub shipping: Decimal,
    pub tax: Decimal,
    #[serde(default)]
    pub taxes_included: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllocationRecord {
    pub lines: Vec<AllocatedLineRecord>,
    pub explanation: String,
    /// The candidates weighed and their costs. Absent on plans made before plans were
    /// costed: those read without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub costing: Option<CostingRecord>,
    pub planned_at: DateTime<Utc>,
    /// The parcels the order shares with orders of its merge group. Absent when it ships
    /// alone, and on plans made before orders merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge: Option<MergeRecord>,
    /// The carrier and service chosen for each shipment. Absent on plans made before
    /// carriers were chosen (and when the plan ships nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shipments: Vec<ShipmentCarrierRecord>,
    /// A flash-sale claim's plan: the sale and shard its units came from. Absent on every
    /// other plan (and on claims' plans made before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_from: Option<ClaimedFromRecord>,
}

/// The sale and shard a claim's units came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimedFromRecord {
    pub sale_id: String,
    pub shard: u32,
}

/// The carrier chosen for one shipment: `carrier`, `service`, `price` (a decimal
/// string), `currency` and `transit_days` absent when none was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentCarrierRecord {
    pub warehouse: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rust_decimal::serde::str_option")]
    pub price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transit_days: Option<u32>,
    pub why: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runners_up: Vec<RunnerUpRecord>,
}

/// A service that lost a shipment: `price` and `transit_days` absent when it did not fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunnerUpRecord {
    pub carrier: String,
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rust_decimal::serde::str_option")]
    pub price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transit_days: Option<u32>,
    pub why: String,
}

impl From<&ShipmentCarrier> for ShipmentCarrierRecord {
    fn from(c: &ShipmentCarrier) -> Self {
        Self {
            warehouse: c.warehouse.to_string(),
            carrier: c.carrier.as_ref().map(ToString::to_string),
            service: c.service.clone(),
            price: c.price,
            currency: c.currency.map(|c| c.code().to_owned()),
            transit_days: c.transit_days,
            why: c.why.clone(),
            runners_up: c
                .runners_up
                .iter()
                .map(|r| RunnerUpRecord {
                    carrier: r.carrier.to_string(),
                    service: r.service.clone(),
                    price: r.price,
                    transit_days: r.transit_days,
                    why: r.why.clone(),
                })
                .collect(),
        }
    }
}

/// An order's merge: its `group` (the group's first order), the orders it was merged
/// `with`, the `warehouses` whose parcels are shared and the `saving` (a decimal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeRecord {
    pub group: String,
    pub with: Vec<String>,
    pub warehouses: Vec<String>,
    pub saving: Decimal,
}

impl From<&Merge> for MergeRecord {
    fn from(merge: &Merge) -> Self {
        Self {
            group: merge.group.to_string(),
            with: merge.with.iter().map(ToString::to_string).collect(),
            warehouses: merge.warehouses.iter().map(ToString::to_string).collect(),
            saving: merge.saving,
        }
    }
}

impl TryFrom<MergeRecord> for Merge {
    type Error = CorruptRecord;

    fn try_from(record: MergeRecord) -> Result<Self, CorruptRecord> {
        Ok(Merge {
            group: parse("allocation.merge.group", OrderId::parse(record.group))?,
            with: record
                .with
                .into_iter()
                .map(|id| parse("allocation.merge.with", OrderId::parse(id)))
                .collect::<Result<_, _>>()?,
            warehouses: record
                .warehouses
                .into_iter()
                .map(|id| parse("allocation.merge.warehouses", WarehouseId::parse(id)))
                .collect::<Result<_, _>>()?,
            saving: record.saving,
        })
    }
}

impl TryFrom<ShipmentCarrierRecord> for ShipmentCarrier {
    type Error = CorruptRecord;
    fn try_from(r: ShipmentCarrierRecord) -> Result<Self, CorruptRecord> {
        Ok(ShipmentCarrier {
            warehouse: parse("allocation.shipments.warehouse", WarehouseId::parse(r.warehouse))?,
            carrier: r.carrier.map(|c| parse("allocation.shipments.carrier", CarrierId::parse(c))).transpose()?,
            service: r.service,
            price: r.price,
            currency: r.currency.map(|c| parse("allocation.shipments.currency", Currency::parse(&c))).transpose()?,
            transit_days: r.transit_days,
            why: r.why,
            runners_up: r
                .runners_up
                .into_iter()
                .map(|u| {
                    Ok(RunnerUp {
                        carrier: parse("allocation.shipments.runners_up.carrier", CarrierId::parse(u.carrier))?,
                        service: u.service,
                        price: u.price,
                        transit_days: u.transit_days,
                        why: u.why,
                    })
                })
                .collect::<Result<_, CorruptRecord>>()?,
        })
    }
}

/// The costs behind a plan: the winner, the candidates (cheapest first), how many were
/// weighed, `method` (`exact` or `heuristic`) and the search's placements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostingRecord {
    pub chosen: CandidateRecord,
    pub candidates: Vec<CandidateRecord>,
    pub considered: u32,
    pub method: String,
    pub steps: u32,
}

/// One plan weighed: its warehouses, its cost (a decimal string) and its shipments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateRecord {
    pub warehouses: Vec<String>,
    #[serde(with = "rust_decimal::serde::str")]
    pub cost: Decimal,
    pub shipments: u32,
}

impl From<&Costing> for CostingRecord {
    fn from(c: &Costing) -> Self {
        let candidate = |c: &Candidate| CandidateRecord {
            warehouses: c.warehouses.iter().map(ToString::to_string).collect(),
            cost: c.cost,
            shipments: c.shipments,
        };
        Self {
            chosen: candidate(&c.chosen),
            candidates: c.candidates.iter().map(candidate).collect(),
            considered: c.considered,
            method: c.method.as_str().to_owned(),
            steps: c.steps,
        }
    }
}

impl TryFrom<CostingRecord> for Costing {
    type Error = CorruptRecord;
    fn try_from(r: CostingRecord) -> Result<Self, CorruptRecord> {
        let candidate = |c: CandidateRecord| -> Result<Candidate, CorruptRecord> {
            Ok(Candidate {
                warehouses: c
                    .warehouses
                    .into_iter()
                    .map(|w| parse("allocation.costing.warehouses", WarehouseId::parse(w)))
                    .collect::<Result<_, _>>()?,
                cost: c.cost,
                shipments: c.shipments,
            })
        };
        let method = [Method::Exact, Method::Heuristic]
            .into_iter()
            .find(|m| m.as_str() == r.method)
            .ok_or_else(|| CorruptRecord::new("allocation.costing.method", format!("unknown method {:?}", r.method)))?;
        Ok(Costing {
            chosen: candidate(r.chosen)?,
            candidates: r.candidates.into_iter().map(candidate).collect::<Result<_, _>>()?,
            considered: r.considered,
            method,
            steps: r.steps,
        })
    }
}

/// So many units of a SKU from one warehouse, from the stock of the merchant `merchant_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllocatedLineRecord {
    pub warehouse: String,
    /// The owner of the stock the line takes. Absent on records written before stock had
    /// owners: read as the order's own merchant, the only owner a plan may take from now
    /// (a plan of an order not yet reserved that took another merchant's units then finds
    /// none of its own merchant's there, and is planned again by the rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_id: Option<String>,
    pub sku: String,
    pub quantity: u32,
    /// Per unit, owed to the owner: only on lines of another merchant's units taken on
    /// consignment (absent on own units and on records written before consignment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_price: Option<PriceRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub at: DateTime<Utc>,
    pub status: String,
    pub detail: String,
}

impl OrderRecord {
    /// The record of `order` at `version` (the version it is stored at).
    pub fn new(order: &Order, version: u64) -> Self {
        let customer = &order.customer;
        let address = &order.shipping_address;
        Self {
            order_id: order.order_id.to_string(),
            status: order.status.as_str().to_owned(),
            channel: order.channel.as_str().to_owned(),
            external_id: order.external_id.to_string(),
            order_number: Some(order.order_number.to_string()),
            merchant_id: order.merchant_id.to_string(),
            placed_at: order.placed_at,
            customer: CustomerRecord {
                id: customer.id.to_string(),
                email: customer.email.clone(),
                phone: customer.phone.clone(),
                name: customer.name.clone(),
                card: customer.card.clone(),
                billing: customer.billing.as_ref().map(|b| BillingRecord {
                    company: b.company.clone(),
                    tax_id: b.tax_id.clone(),
                    address: b.address.as_ref().map(AddressRecord::from),
                }),
            },
            shipping_address: AddressRecord::from(address),
            currency: order.currency.code().to_owned(),
            lines: order
                .lines
                .iter()
                .map(|l| OrderLineRecord { sku: l.sku.to_string(), quantity: l.quantity, unit_price: l.unit_price })
                .collect(),
            charges: ChargesRecord {
                discount: order.charges.discount,
                shipping: order.charges.shipping,
                tax: order.charges.tax,
                taxes_included: order.charges.taxes_included,
            },
            allocation: order.allocation.as_ref().map(|a| AllocationRecord {
                lines: a
                    .lines
                    .iter()
                    .map(|l| AllocatedLineRecord {
                        warehouse: l.warehouse.to_string(),
                        merchant_id: Some(l.owner.to_string()),
                        sku: l.sku.to_string(),
                        quantity: l.quantity,
                        transfer_price: l.transfer_price.map(PriceRecord::from),
                    })
                    .collect(),
                explanation: a.explanation.clone(),
                costing: a.costing.as_ref().map(CostingRecord::from),
                planned_at: a.planned_at,
                merge: a.merge.as_ref().map(MergeRecord::from),
                shipments: a.shipments.iter().map(ShipmentCarrierRecord::from).collect(),
                claimed_from: a
                    .claimed_from
                    .as_ref()
                    .map(|c| ClaimedFromRecord { sale_id: c.sale_id.to_string(), shard: c.shard }),
            }),
            timeline: order.timeline[moved_count(order.timeline.len())..].iter().map(EventRecord::from).collect(),
            timeline_moved: moved_count(order.timeline.len()) as u64,
            channel_updated_at: Some(order.channel_updated_at),
            version,
            paid: (!order.paid).then_some(false),
            payments: order
                .payments
                .iter()
                .map(|p| PaymentRecord {
                    amount: p.amount,
                    currency: p.currency.to_string(),
                    reference: p.reference.clone(),
                    at: p.at,
                })
                .collect(),
            deliver_by: order.deliver_by,
        }
    }
}

/// How many of the newest timeline entries an order's record keeps; older ones are moved to
/// records of their own in the same atomic write as the order, so the record stays bounded
/// however long the order's history grows.
pub const TIMELINE_KEPT: usize = 50;

/// How many of an order's `len` timeline entries are moved out of its record: all but the
/// newest [`TIMELINE_KEPT`]. The timeline only grows, so an entry once moved stays moved.
pub fn moved_count(len: usize) -> usize {
    len.saturating_sub(TIMELINE_KEPT)
}

/// The entries of `order`'s timeline that its record at this length moves out and a record
/// holding `already` moved entries does not have yet: `(seq, entry)`, seq from 0.
pub fn newly_moved(order: &Order, already: usize) -> Vec<(u64, EventRecord)> {
    let moved = moved_count(order.timeline.len());
    (already..moved).map(|seq| (seq as u64, EventRecord::from(&order.timeline[seq]))).collect()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl From<&TimelineEvent> for EventRecord {
    fn from(e: &TimelineEvent) -> Self {
        EventRecord { at: e.at, status: e.status.as_str().to_owned(), detail: e.detail.clone() }
    }
}

impl OrderRecord {
    /// The record with its moved entries (`seq` 0 up, as the adapter read them) put back
    /// before the kept ones: the order's whole history. An adapter that finds a different
    /// number of moved entries than the record counts answers a corrupt record.
    pub fn with_moved(mut self, moved: Vec<EventRecord>) -> Result<Self, CorruptRecord> {
        if moved.len() as u64 != self.timeline_moved {
            return Err(CorruptRecord::new(
                "timeline_moved",
                format!("the record counts {} moved timeline entries, {} are stored", self.timeline_moved, moved.len()),
            ));
        }
        let mut timeline = moved;
        timeline.append(&mut self.timeline);
        Ok(Self { timeline, timeline_moved: 0, ..self })
    }
}

impl TryFrom<OrderRecord> for Order {
    type Error = CorruptRecord;
    /// The whole history is needed: a record whose moved entries were not put back
    /// ([`OrderRecord::with_moved`]) is refused rather than read as a shorter timeline.
    fn try_from(record: OrderRecord) -> Result<Self, CorruptRecord> {
        if record.timeline_moved != 0 {
            return Err(CorruptRecord::new("timeline_moved", "the moved timeline entries were not read back"));
        }
        let customer = record.customer;
        let address = record.shipping_address;
        let merchant_id = parse("merchant_id", MerchantId::parse(record.merchant_id))?;
        Ok(Order {
            order_id: parse("order_id", OrderId::parse(record.order_id))?,
            status: status("status", &record.status)?,
            channel: Channel::parse(&record.channel)
                .ok_or_else(|| CorruptRecord::new("channel", format!("unknown channel {:?}", record.channel)))?,
            order_number: parse(
                "order_number",
                OrderNumber::parse(record.order_number.unwrap_or_else(|| record.external_id.clone())),
            )?,
            external_id: parse("external_id", ExternalId::parse(record.external_id))?,
            merchant_id: merchant_id.clone(),
            placed_at: record.placed_at,
            customer: Customer {
                id: parse("customer.id", CustomerId::parse(customer.id))?,
                email: customer.email,
                phone: customer.phone,
                name: customer.name,
                card: customer.card,
                billing: customer.billing.map(|b| Billing {
                    company: b.company,
                    tax_id: b.tax_id,
                    address: b.address.map(Address::from),
                }),
            },
            shipping_address: Address::from(address),
            currency: parse("currency", Currency::parse(&record.currency))?,
            lines: record
                .lines
                .into_iter()
                .map(|l| {
                    Ok(OrderLine { sku: parse("lines.sku", Sku::parse(l.sku))?, quantity: l.quantity, unit_price: l.unit_price })
                })
                .collect::<Result<_, CorruptRecord>>()?,
            charges: Charges {
                discount: record.charges.discount,
                shipping: record.charges.shipping,
                tax: record.charges.tax,
                taxes_included: record.charges.taxes_included,
            },
            allocation: record
                .allocation
                .map(|a| -> Result<Allocation, CorruptRecord> {
                    Ok(Allocation {
                        lines: a
                            .lines
                            .into_iter()
                            .map(|l| {
                                Ok(AllocatedLine {
                                    warehouse: parse("allocation.lines.warehouse", WarehouseId::parse(l.warehouse))?,
                                    owner: match l.merchant_id {
                                        Some(owner) => parse("allocation.lines.merchant_id", MerchantId::parse(owner))?,
                                        None => merchant_id.clone(),
                                    },
                                    sku: parse("allocation.lines.sku", Sku::parse(l.sku))?,
                                    quantity: l.quantity,
                                    transfer_price: l
                                        .transfer_price
                                        .map(|p| p.into_money("allocation.lines.transfer_price.currency"))
                                        .transpose()?,
                                })
                            })
                            .collect::<Result<_, CorruptRecord>>()?,
                        explanation: a.explanation,
                        costing: a.costing.map(Costing::try_from).transpose()?,
                        planned_at: a.planned_at,
                        merge: a.merge.map(Merge::try_from).transpose()?,
                        shipments: a
                            .shipments
                            .into_iter()
                            .map(ShipmentCarrier::try_from)
                            .collect::<Result<_, CorruptRecord>>()?,
                        claimed_from: a
                            .claimed_from
                            .map(|c| -> Result<_, CorruptRecord> {
                                Ok(oms_domain::flash_sale::ClaimedFrom {
                                    sale_id: parse(
                                        "allocation.claimed_from.sale_id",
                                        oms_domain::flash_sale::SaleId::parse(c.sale_id),
                                    )?,
                                    shard: c.shard,
                                })
                            })
                            .transpose()?,
                    })
                })
                .transpose()?,
            timeline: record
                .timeline
                .into_iter()
                .map(|e| Ok(TimelineEvent { at: e.at, status: status("timeline.status", &e.status)?, detail: e.detail }))
                .collect::<Result<_, CorruptRecord>>()?,
            channel_updated_at: record.channel_updated_at.unwrap_or(record.placed_at),
            version: record.version,
            paid: record.paid.unwrap_or(true),
            payments: record
                .payments
                .into_iter()
                .map(|p| {
                    Ok(oms_domain::order::Payment {
                        amount: p.amount,
                        currency: parse("payments.currency", Currency::parse(&p.currency))?,
                        reference: p.reference,
                        at: p.at,
                    })
                })
                .collect::<Result<_, CorruptRecord>>()?,
            deliver_by: record.deliver_by,
        })
    }
}

/// A warehouse as it is stored, fields in this order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarehouseRecord {
    pub warehouse_id: String,
    pub name: String,
    pub merchant_id: String,
    pub province: String,
    pub city: String,
    pub lat: f64,
    pub lon: f64,
    /// The provinces it ships to; absent when it ships everywhere (and on warehouses
    /// stored before served regions were recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serves: Vec<String>,
}

impl From<&Warehouse> for WarehouseRecord {
    fn from(w: &Warehouse) -> Self {
        Self {
            warehouse_id: w.warehouse_id.to_string(),
            name: w.name.clone(),
            merchant_id: w.merchant_id.to_string(),
            province: w.province.clone(),
            city: w.city.clone(),
            lat: w.lat,
            lon: w.lon,
            serves: w.serves.clone(),
        }
    }
}

impl TryFrom<WarehouseRecord> for Warehouse {
    type Error = CorruptRecord;
    fn try_from(record: WarehouseRecord) -> Result<Self, CorruptRecord> {
        Ok(Warehouse {
            warehouse_id: parse("warehouse_id", WarehouseId::parse(record.warehouse_id))?,
            name: record.name,
            merchant_id: parse("merchant_id", MerchantId::parse(record.merchant_id))?,
            province: record.province,
            city: record.city,
            lat: record.lat,
            lon: record.lon,
            serves: record.serves,
        })
    }
}

/// A SKU's catalogue facts as stored: amounts as decimal strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkuRecord {
    pub sku: String,
    pub merchant_id: String,
    pub name: String,
    pub category: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub cost: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub list_price: Decimal,
    pub weight_g: u32,
    pub dims_mm: [u32; 3],
    pub traits: Vec<String>,
    /// A reorder point (and quantity) set by hand; absent in records written before them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_point: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_quantity: Option<u32>,
}

impl From<&SkuFacts> for SkuRecord {
    fn from(f: &SkuFacts) -> Self {
        Self {
            sku: f.sku.to_string(),
            merchant_id: f.merchant_id.to_string(),
            name: f.name.clone(),
            category: f.category.clone(),
            cost: f.cost,
            list_price: f.list_price,
            weight_g: f.weight_g,
            dims_mm: f.dims_mm,
            traits: f.traits.clone(),
            reorder_point: f.reorder_point,
            reorder_quantity: f.reorder_quantity,
        }
    }
}

impl TryFrom<SkuRecord> for SkuFacts {
    type Error = CorruptRecord;
    /// Read back through the catalogue's rules, so a stored record that breaks them is
    /// corrupt, naming the field.
    fn try_from(r: SkuRecord) -> Result<Self, CorruptRecord> {
        let sku = parse("sku", Sku::parse(r.sku))?;
        let raw = UncheckedSkuFacts {
            merchant_id: r.merchant_id,
            name: r.name,
            category: r.category,
            cost: r.cost,
            list_price: r.list_price,
            weight_g: i64::from(r.weight_g),
            dims_mm: r.dims_mm.map(i64::from),
            traits: r.traits,
        };
        SkuFacts::new(sku, raw)
            .and_then(|facts| facts.with_reorder(r.reorder_point.map(i64::from), r.reorder_quantity.map(i64::from)))
            .map_err(|e| CorruptRecord::new("sku facts", e))
    }
}

/// A carrier's rate table as stored: prices as decimal strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateTableRecord {
    pub carrier_id: String,
    pub currency: String,
    pub bands: Vec<RateBandRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateBandRecord {
    pub service: String,
    pub max_distance_km: u32,
    pub max_weight_g: u32,
    #[serde(with = "rust_decimal::serde::str")]
    pub price: Decimal,
    pub transit_days: u32,
    /// The restricted traits the band carries. Absent when none (and on tables stored
    /// before bands said so: those carry none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handles: Vec<String>,
    /// The longest side of a parcel it takes, in mm. Absent: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_side_mm: Option<u32>,
}

impl From<&RateTable> for RateTableRecord {
    fn from(t: &RateTable) -> Self {
        Self {
            carrier_id: t.carrier.to_string(),
            currency: t.currency.code().to_owned(),
            bands: t
                .bands
                .iter()
                .map(|b| RateBandRecord {
                    service: b.service.clone(),
                    max_distance_km: b.max_distance_km,
                    max_weight_g: b.max_weight_g,
                    price: b.price,
                    transit_days: b.transit_days,
                    handles: b.handles.clone(),
                    max_side_mm: b.max_side_mm,
                })
                .collect(),
        }
    }
}

impl TryFrom<RateTableRecord> for RateTable {
    type Error = CorruptRecord;
    /// Read back through the table's rules, like [`SkuFacts`].
    fn try_from(r: RateTableRecord) -> Result<Self, CorruptRecord> {
        let carrier = parse("carrier_id", CarrierId::parse(r.carrier_id))?;
        let currency = parse("currency", Currency::parse(&r.currency))?;
        let bands = r
            .bands
            .into_iter()
            .map(|b| UncheckedBand {
                service: b.service,
                max_distance_km: i64::from(b.max_distance_km),
                max_weight_g: i64::from(b.max_weight_g),
                price: b.price,
                transit_days: i64::from(b.transit_days),
                handles: b.handles,
                max_side_mm: b.max_side_mm.map(i64::from),
            })
            .collect();
        RateTable::new(carrier, currency, bands).map_err(|e| CorruptRecord::new("bands", e))
    }
}

#[cfg(test)]
mod tests;
