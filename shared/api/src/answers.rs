//! What the routes answer: the API's own types, built from the domain values with `From`.
//! The HTTP contract is these types' JSON, not the domain's: a domain field can be renamed
//! without changing a single answer. Money is a decimal string; times are RFC 3339 (UTC).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use oms_domain::alert::{Alert, AlertKind, AlertPage, AlertStatus};
use oms_domain::allocation::merge::Merge;
use oms_domain::allocation::Candidate;
use oms_domain::order::{
    Address, AllocatedLine, Allocation, Channel, Charges, Customer, HoldReason, Order, OrderLine, OrderPart, TimelineEvent,
};
use oms_domain::stock::{StockLevel, Warehouse};
use oms_domain::usecases::intake::{NotApplied, Receipt};
use oms_domain::OrderStatus;

/// `GET /health`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HealthAnswer {
    /// Always `ok`.
    pub status: &'static str,
}

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusAnswer {
    Received,
    OnHold,
    Allocated,
    Reserved,
    Backordered,
    Shipped,
    InTransit,
    Delivered,
    Cancelled,
    Exception,
    PartiallyShipped,
}

impl From<OrderStatus> for StatusAnswer {
    fn from(status: OrderStatus) -> Self {
        match status {
            OrderStatus::Received => Self::Received,
            OrderStatus::OnHold => Self::OnHold,
            OrderStatus::Allocated => Self::Allocated,
            OrderStatus::Reserved => Self::Reserved,
            OrderStatus::Backordered => Self::Backordered,
            OrderStatus::Shipped => Self::Shipped,
            OrderStatus::InTransit => Self::InTransit,
            OrderStatus::Delivered => Self::Delivered,
            OrderStatus::Cancelled => Self::Cancelled,
            OrderStatus::Exception => Self::Exception,
            OrderStatus::PartiallyShipped => Self::PartiallyShipped,
        }
    }
}

/// The sales channel an order came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChannelAnswer {
    Shopify,
    #[serde(rename = "woocommerce")]
    WooCommerce,
    Amazon,
    Generic,
    /// Bulk import from a CSV file.
    Import,
    /// Made from a flash-sale claim.
    #[serde(rename = "flash_sale")]
    FlashSale,
    /// Made for an auction's winner.
    Auction,
    /// Made from a filled group buy's join.
    #[serde(rename = "group_buy")]
    GroupBuy,
    /// Made for a rental booking's rent and deposit (a service order, never allocated).
    Rental,
    /// Made for an accepted repair's labour and parts (a service order, never allocated).
    Repair,
    /// Made for an exchange's replacement (external id: the return id).
    Exchange,
    /// Placed through the platform's own checkout (external id: the checkout id).
    Checkout,
    /// Made for one merchant's share of an accepted request for quotes (external id:
    /// `<rfq id>-<merchant>`).
    Rfq,
    /// Made from a buyer request's accepted offer (external id: the request id).
    Marketplace,
}

impl From<Channel> for ChannelAnswer {
    fn from(channel: Channel) -> Self {
        match channel {
            Channel::Shopify => Self::Shopify,
            Channel::WooCommerce => Self::WooCommerce,
            Channel::Amazon => Self::Amazon,
            Channel::Generic => Self::Generic,
            Channel::Import => Self::Import,
            Channel::FlashSale => Self::FlashSale,
            Channel::Auction => Self::Auction,
            Channel::GroupBuy => Self::GroupBuy,
            Channel::Rental => Self::Rental,
            Channel::Repair => Self::Repair,
            Channel::Exchange => Self::Exchange,
            Channel::Checkout => Self::Checkout,
            Channel::Rfq => Self::Rfq,
            Channel::Marketplace => Self::Marketplace,
        }
    }
}

/// `POST /channels/{channel}/orders`: 202 for a new order, 200 for a repeated delivery.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReceiptAnswer {
    pub order_id: String,
    pub status: StatusAnswer,
    /// True when the channel had delivered this order before; `order_id` is the first one's.
    pub duplicate: bool,
    /// Parts of the order a later delivery changed (`customer`, `shipping_address`, `lines`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub updated: Vec<String>,
    /// Parts a later delivery would have changed but the order's stage no longer allows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub not_updated: Vec<String>,
    /// Why a delivery of an order we hold changed nothing, when it is for a reason of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, required = false)]
    pub not_applied_reason: Option<NotAppliedAnswer>,
}

/// Why a channel's delivery changed nothing: `stale` (not newer than the version of the
/// order already applied: a retry, or an older version arriving late), `cancel_refused`
/// (the channel cancelled an order that has shipped; an alert was raised for staff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotAppliedAnswer {
    Stale,
    CancelRefused,
}

impl From<NotApplied> for NotAppliedAnswer {
    fn from(reason: NotApplied) -> Self {
        match reason {
            NotApplied::Stale => Self::Stale,
            NotApplied::CancelRefused => Self::CancelRefused,
        }
    }
}

impl From<Receipt> for ReceiptAnswer {
    fn from(receipt: Receipt) -> Self {
        let parts = |parts: Vec<OrderPart>| parts.into_iter().map(|part| part.as_str().to_owned()).collect();
        Self {
            order_id: receipt.order_id.into(),
            status: receipt.status.into(),
            duplicate: receipt.duplicate,
            updated: parts(receipt.updated),
            not_updated: parts(receipt.not_updated),
            not_applied_reason: receipt.not_applied.map(Into::into),
        }
    }
}

/// The buyer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerAnswer {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub email: Option<String>,
    /// `+` and digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
}

impl From<Customer> for CustomerAnswer {
    fn from(c: Customer) -> Self {
        Self { id: c.id.into(), email: c.email, phone: c.phone, name: c.name }
    }
}

/// Where the order goes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AddressAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    pub line1: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub line2: Option<String>,
    pub city: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub province: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

impl From<Address> for AddressAnswer {
    fn from(a: Address) -> Self {
        Self {
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

/// One line of an order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineAnswer {
    pub sku: String,
    pub quantity: u32,
    /// A decimal string in the order's currency ("19.9").
    #[schema(examples("19.9"))]
    pub unit_price: String,
}

impl From<OrderLine> for LineAnswer {
    fn from(l: OrderLine) -> Self {
        Self { sku: l.sku.into(), quantity: l.quantity, unit_price: l.unit_price.to_string() }
    }
}

/// Order-level amounts beyond the unit prices, as decimal strings in the order's currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChargesAnswer {
    /// Everything taken off: line and order discounts, coupons, promotions.
    pub discount: String,
    /// What the buyer pays for shipping, before shipping discounts.
    pub shipping: String,
    /// Tax on the items and on shipping.
    pub tax: String,
    /// True when the unit prices already include `tax`.
    pub taxes_included: bool,
}

impl From<Charges> for ChargesAnswer {
    fn from(c: Charges) -> Self {
        Self {
            discount: c.discount.to_string(),
            shipping: c.shipping.to_string(),
            tax: c.tax.to_string(),
            taxes_included: c.taxes_included,
        }
    }
}

/// So many units of a SKU from one warehouse, from the stock of the merchant `merchant_id`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AllocatedLineAnswer {
    pub warehouse: String,
    /// Whose stock the units are taken from.
    pub merchant_id: String,
    pub sku: String,
    pub quantity: u32,
    /// Per unit, owed to the owner, when the units are another merchant's on consignment;
    /// absent on the order's merchant's own units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_price: Option<crate::routes::PriceBody>,
}

impl From<AllocatedLine> for AllocatedLineAnswer {
    fn from(l: AllocatedLine) -> Self {
        let transfer_price = l.transfer_price.map(crate::routes::PriceBody::from);
        Self {
            warehouse: l.warehouse.into(),
            merchant_id: l.owner.into(),
            sku: l.sku.into(),
            quantity: l.quantity,
            transfer_price,
        }
    }
}

/// Which warehouses ship which lines, and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AllocationAnswer {
    pub lines: Vec<AllocatedLineAnswer>,
    pub explanation: ExplanationAnswer,
    #[schema(value_type = String, format = DateTime)]
    pub planned_at: DateTime<Utc>,
    /// The parcels it shares with the same customer's orders; absent when it ships alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge: Option<MergeAnswer>,
    /// The carrier and service chosen for each shipment (one per warehouse), why it won
    /// and the runners-up. Chosen at plan time: the warehouse may ship with another, and
    /// the shipment it reports records the one used. Absent on plans made before carriers
    /// were chosen and on flash-sale claims' plans.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(nullable = false, required = false)]
    pub shipments: Vec<ShipmentCarrierAnswer>,
}

/// The carrier chosen for one shipment of a plan. `carrier`, `service`, `price`,
/// `currency` and `transit_days` are `null` when no service fits the parcel (the warehouse
/// chooses).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShipmentCarrierAnswer {
    /// The warehouse the shipment leaves from.
    pub warehouse: String,
    pub carrier: Option<String>,
    #[schema(examples("express"))]
    pub service: Option<String>,
    /// The band's price for the parcel, a decimal string.
    #[schema(examples("15.00"))]
    pub price: Option<String>,
    pub currency: Option<String>,
    pub transit_days: Option<u32>,
    /// Why it won, or why none did, in a sentence.
    pub why: String,
    /// The services that lost (at most 5), fitting ones first in the order they ranked.
    pub runners_up: Vec<RunnerUpAnswer>,
}

/// A service that lost a shipment, and why ("dearer by 3.20", "arrives 2 days after
/// deliver_by", "does not handle fragile", "too heavy for its bands (6000 g)").
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunnerUpAnswer {
    pub carrier: String,
    pub service: String,
    /// Its price for the parcel; `null` when it does not fit.
    pub price: Option<String>,
    pub transit_days: Option<u32>,
    pub why: String,
}

impl From<oms_domain::carrier_choice::ShipmentCarrier> for ShipmentCarrierAnswer {
    fn from(c: oms_domain::carrier_choice::ShipmentCarrier) -> Self {
        let digits = c.currency.map_or(2, |c| c.minor_digits()) as usize;
        let amount = move |p: rust_decimal::Decimal| format!("{p:.digits$}");
        Self {
            warehouse: c.warehouse.into(),
            carrier: c.carrier.map(Into::into),
            service: c.service,
            price: c.price.map(amount),
            currency: c.currency.map(|c| c.code().to_owned()),
            transit_days: c.transit_days,
            why: c.why,
            runners_up: c
                .runners_up
                .into_iter()
                .map(|r| RunnerUpAnswer {
                    carrier: r.carrier.into(),
                    service: r.service,
                    price: r.price.map(amount),
                    transit_days: r.transit_days,
                    why: r.why,
                })
                .collect(),
        }
    }
}

/// A merge with the customer's other orders: their parcels from `warehouses` travel as
/// one, and a shipment of this order may carry their lines (`lines[].order_id`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MergeAnswer {
    /// The merge group: its first order's id.
    pub group: String,
    /// The orders it was merged with when planned.
    pub with: Vec<String>,
    pub warehouses: Vec<String>,
    /// What one parcel per warehouse saves against separate ones, a decimal string in CNY.
    #[schema(examples("10.50"))]
    pub saving: String,
}

impl From<Merge> for MergeAnswer {
    fn from(m: Merge) -> Self {
        Self {
            group: m.group.into(),
            with: m.with.into_iter().map(Into::into).collect(),
            warehouses: m.warehouses.into_iter().map(Into::into).collect(),
            saving: m.saving.to_string(),
        }
    }
}

/// Why the plan won: the candidates weighed with their costs (cheapest first), the winner
/// and the reason. Plans made before plans were costed have only the reason.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExplanationAnswer {
    /// The winner; `null` on plans made before plans were costed.
    pub chosen: Option<CandidateAnswer>,
    pub candidates: Vec<CandidateAnswer>,
    /// How many candidates were weighed (the list shows the cheapest few).
    pub considered: u32,
    /// `exact` (no plan is cheaper) or `heuristic` (the order was past the exact search's
    /// bound); `null` on plans made before plans were costed.
    pub method: Option<String>,
    pub reason: String,
}

/// One plan weighed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CandidateAnswer {
    pub warehouses: Vec<String>,
    /// Shipping, handling and split penalty, a decimal string in CNY.
    #[schema(examples("12.30"))]
    pub cost: String,
    pub shipments: u32,
}

impl From<Candidate> for CandidateAnswer {
    fn from(c: Candidate) -> Self {
        Self {
            warehouses: c.warehouses.into_iter().map(Into::into).collect(),
            cost: c.cost.round_dp(2).to_string(),
            shipments: c.shipments,
        }
    }
}

impl From<Allocation> for AllocationAnswer {
    fn from(a: Allocation) -> Self {
        let explanation = match a.costing {
            Some(c) => ExplanationAnswer {
                chosen: Some(c.chosen.into()),
                candidates: c.candidates.into_iter().map(Into::into).collect(),
                considered: c.considered,
                method: Some(c.method.as_str().to_owned()),
                reason: a.explanation,
            },
            None => {
                ExplanationAnswer { chosen: None, candidates: Vec::new(), considered: 0, method: None, reason: a.explanation }
            }
        };
        Self {
            lines: a.lines.into_iter().map(Into::into).collect(),
            explanation,
            planned_at: a.planned_at,
            merge: a.merge.map(Into::into),
            shipments: a.shipments.into_iter().map(Into::into).collect(),
        }
    }
}

/// One entry of an order's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    pub status: StatusAnswer,
    pub detail: String,
}

impl From<TimelineEvent> for TimelineEntry {
    fn from(e: TimelineEvent) -> Self {
        Self { at: e.at, status: e.status.into(), detail: e.detail }
    }
}

/// The canonical order: `GET /orders/{id}`, and the answer of cancel and modify.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderAnswer {
    pub order_id: String,
    pub status: StatusAnswer,
    pub channel: ChannelAnswer,
    /// The channel's id of the order.
    pub external_id: String,
    /// The channel's own number of the order, as the buyer saw it (Shopify's `#1001`).
    #[schema(examples("#1001"))]
    pub order_number: String,
    pub merchant_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub placed_at: DateTime<Utc>,
    pub customer: CustomerAnswer,
    pub shipping_address: AddressAnswer,
    /// ISO 4217.
    #[schema(examples("CNY"))]
    pub currency: String,
    pub lines: Vec<LineAnswer>,
    pub charges: ChargesAnswer,
    /// The plan, once the order is allocated; `null` before.
    pub allocation: Option<AllocationAnswer>,
    /// Why the order is on hold, while it is; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, required = false)]
    pub hold: Option<HoldAnswer>,
    pub timeline: Vec<TimelineEntry>,
    /// The channel's own time of the version of the order last applied (its
    /// `updated_at`, or the placed time): a delivery not newer than this changes nothing.
    #[schema(value_type = String, format = DateTime)]
    pub channel_updated_at: DateTime<Utc>,
    /// The stored revision; it grows with every change.
    pub version: u64,
    /// `paid` or `unpaid`: as the channel delivered it, or `paid` once a payment is
    /// recorded. An unpaid order's hold of stock expires (`payment_expired`).
    pub payment_status: String,
    /// The payments recorded, oldest first.
    pub payments: Vec<PaymentAnswer>,
    /// The delivery date promised to the buyer (`YYYY-MM-DD`), when the channel gave one;
    /// absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, nullable = false, required = false)]
    pub deliver_by: Option<chrono::NaiveDate>,
}

/// A payment recorded for an order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentAnswer {
    /// A decimal string.
    pub amount: String,
    pub currency: String,
    pub reference: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
}

/// Why an order is on hold: `reason` `unknown_sku` names the `sku` no warehouse has
/// counted (counting stock of it in, `PUT /inventory`, releases the order);
/// `address_missing` (a flash-sale claim made without one) waits for a shipping address
/// (`PATCH /orders/{id}`); `fraud_review` (the fraud rules' `score` and `reasons`) waits
/// for staff to release it (`POST /orders/{id}/release`) or cancel it;
/// `merchant_not_approved` (the merchant's onboarding is not approved yet) waits for its
/// approval, which releases it; `product_not_sellable` (the `sku`'s listing is
/// `not_approved` or `unlisted`, said by `why`) waits for it to be approved and listed,
/// which releases it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoldAnswer {
    #[schema(examples("unknown_sku", "address_missing", "fraud_review", "merchant_not_approved", "product_not_sellable"))]
    pub reason: &'static str,
    /// Why a `product_not_sellable` hold's listing is not on sale: `not_approved` or `unlisted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, required = false)]
    pub why: Option<&'static str>,
    /// The SKU of an `unknown_sku` or `product_not_sellable` hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, required = false)]
    pub sku: Option<String>,
    /// The fraud score (0 to 100) of a `fraud_review` hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, required = false)]
    pub score: Option<u32>,
    /// The rules that fired, of a `fraud_review` hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, required = false)]
    pub reasons: Option<Vec<String>>,
}

impl From<HoldReason> for HoldAnswer {
    fn from(reason: HoldReason) -> Self {
        let code = reason.code();
        match reason {
            HoldReason::UnknownSku(sku) => {
                Self { reason: code, why: None, sku: Some(sku.to_string()), score: None, reasons: None }
            }
            HoldReason::ProductNotSellable { sku, why } => {
                Self { reason: code, why: Some(why.as_str()), sku: Some(sku.to_string()), score: None, reasons: None }
            }
            HoldReason::AddressMissing | HoldReason::MerchantNotApproved => {
                Self { reason: code, why: None, sku: None, score: None, reasons: None }
            }
            HoldReason::FraudReview(assessment) => {
                Self { reason: code, why: None, sku: None, score: Some(assessment.score), reasons: Some(assessment.reasons) }
            }
        }
    }
}

impl From<Order> for OrderAnswer {
    fn from(o: Order) -> Self {
        let hold = o.hold().map(Into::into);
        Self {
            hold,
            order_id: o.order_id.into(),
            status: o.status.into(),
            channel: o.channel.into(),
            external_id: o.external_id.into(),
            order_number: o.order_number.into(),
            merchant_id: o.merchant_id.into(),
            placed_at: o.placed_at,
            customer: o.customer.into(),
            shipping_address: o.shipping_address.into(),
            currency: o.currency.into(),
            lines: o.lines.into_iter().map(Into::into).collect(),
            charges: o.charges.into(),
            allocation: o.allocation.map(Into::into),
            timeline: o.timeline.into_iter().map(Into::into).collect(),
            channel_updated_at: o.channel_updated_at,
            version: o.version,
            payment_status: if o.paid { "paid" } else { "unpaid" }.to_owned(),
            payments: o
                .payments
                .into_iter()
                .map(|p| PaymentAnswer {
                    amount: p.amount.to_string(),
                    currency: p.currency.to_string(),
                    reference: p.reference,
                    at: p.at,
                })
                .collect(),
            deliver_by: o.deliver_by,
        }
    }
}

/// `GET /orders?...`: a page of the merchant's orders matching every filter given,
/// newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrdersAnswer {
    pub orders: Vec<OrderAnswer>,
    /// The `cursor` of the next page; `null` on the last one.
    pub next: Option<String>,
}

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertKindAnswer {
    /// A channel cancelled an order that had already shipped.
    ChannelCancelRefused,
    /// A paid order was stored on hold (a SKU no warehouse has counted).
    OrderOnHold,
    /// The sweeper queued an order's step again several times and it did not move.
    OrderStuck,
    /// A carrier could not deliver a parcel.
    DeliveryFailed,
    /// A carrier returned a parcel to the sender.
    ShipmentReturned,
    /// A carrier lost a parcel.
    ShipmentLost,
    /// A parcel in transit has had no carrier scan for too long.
    ShipmentNoScan,
    /// A parcel is past its ETA and not delivered.
    ShipmentLate,
    /// A stock's available and incoming units fell to its reorder point.
    LowStock,
    /// A warehouse's endpoint or a shop's API refused a notice for good.
    NoticeRefused,
    /// Units of an expired lot are still on hand because orders hold them.
    ExpiredStockHeld,
}

impl From<AlertKind> for AlertKindAnswer {
    fn from(kind: AlertKind) -> Self {
        match kind {
            AlertKind::ChannelCancelRefused => Self::ChannelCancelRefused,
            AlertKind::OrderOnHold => Self::OrderOnHold,
            AlertKind::OrderStuck => Self::OrderStuck,
            AlertKind::DeliveryFailed => Self::DeliveryFailed,
            AlertKind::ShipmentReturned => Self::ShipmentReturned,
            AlertKind::ShipmentLost => Self::ShipmentLost,
            AlertKind::ShipmentNoScan => Self::ShipmentNoScan,
            AlertKind::ShipmentLate => Self::ShipmentLate,
            AlertKind::LowStock => Self::LowStock,
            AlertKind::NoticeRefused => Self::NoticeRefused,
            AlertKind::ExpiredStockHeld => Self::ExpiredStockHeld,
        }
    }
}

/// Where an alert is in staff's hands: open, then acknowledged, then resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatusAnswer {
    Open,
    Acknowledged,
    Resolved,
}

impl From<AlertStatus> for AlertStatusAnswer {
    fn from(status: AlertStatus) -> Self {
        match status {
            AlertStatus::Open => Self::Open,
            AlertStatus::Acknowledged => Self::Acknowledged,
            AlertStatus::Resolved => Self::Resolved,
        }
    }
}

/// One alert for staff.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertAnswer {
    pub alert_id: String,
    pub kind: AlertKindAnswer,
    /// What it is about, unique per kind (the order id for an order's alert).
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, required = false)]
    pub order_id: Option<String>,
    pub merchant_id: String,
    pub message: String,
    pub status: AlertStatusAnswer,
    #[schema(value_type = String, format = DateTime)]
    pub raised_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<Alert> for AlertAnswer {
    fn from(a: Alert) -> Self {
        Self {
            alert_id: a.alert_id.into(),
            kind: a.kind.into(),
            subject: a.subject,
            order_id: a.order_id.map(Into::into),
            merchant_id: a.merchant_id.into(),
            message: a.message,
            status: a.status.into(),
            raised_at: a.raised_at,
            updated_at: a.updated_at,
        }
    }
}

/// `GET /alerts`: one page of alerts, oldest first, and the cursor of the next page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertsAnswer {
    pub alerts: Vec<AlertAnswer>,
    /// Give it as `cursor` for the next page; `null` on the last page.
    pub next: Option<String>,
}

impl From<AlertPage> for AlertsAnswer {
    fn from(page: AlertPage) -> Self {
        Self { alerts: page.alerts.into_iter().map(Into::into).collect(), next: page.next.map(Into::into) }
    }
}

/// `PUT /warehouses/{id}`: the warehouse as registered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WarehouseAnswer {
    pub warehouse_id: String,
    pub name: String,
    pub merchant_id: String,
    pub province: String,
    pub city: String,
    pub lat: f64,
    pub lon: f64,
    /// The provinces it ships to; empty: everywhere.
    pub serves: Vec<String>,
}

impl From<Warehouse> for WarehouseAnswer {
    fn from(w: Warehouse) -> Self {
        Self {
            warehouse_id: w.warehouse_id.into(),
            name: w.name,
            merchant_id: w.merchant_id.into(),
            province: w.province,
            city: w.city,
            lat: w.lat,
            lon: w.lon,
            serves: w.serves,
        }
    }
}

/// `PUT /inventory/{warehouse}/{sku}`: the counts of the owner's SKU in that warehouse now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockLevelAnswer {
    pub warehouse: String,
    /// The merchant who owns these units.
    pub merchant_id: String,
    pub sku: String,
    pub on_hand: u32,
    pub reserved: u32,
    /// `on_hand - reserved`, never below zero.
    pub available: u32,
}

impl From<StockLevel> for StockLevelAnswer {
    fn from(l: StockLevel) -> Self {
        Self {
            warehouse: l.warehouse.into(),
            merchant_id: l.owner.into(),
            sku: l.sku.into(),
            on_hand: l.on_hand,
            reserved: l.reserved,
            available: l.available,
        }
    }
}

/// The hold a ledger entry concerns.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoldRefAnswer {
    /// `order` (the id is the order's) or `flash_sale` (the id is the sale's).
    pub kind: String,
    pub id: String,
}

/// One entry of a SKU's stock ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerEntryAnswer {
    /// `led_` and a ULID: entries sort by it, oldest first.
    pub entry_id: String,
    pub sku: String,
    pub warehouse: String,
    /// The merchant who owns the units.
    pub merchant_id: String,
    /// reserve, release, expire, ship, receive, recount, adjust or set_aside.
    pub kind: String,
    pub delta_on_hand: i64,
    pub delta_held: i64,
    pub hold: Option<HoldRefAnswer>,
    pub reason: String,
    pub at: String,
}

impl From<oms_domain::ledger::LedgerEntry> for LedgerEntryAnswer {
    fn from(e: oms_domain::ledger::LedgerEntry) -> Self {
        Self {
            entry_id: e.entry_id,
            sku: e.sku.into(),
            warehouse: e.warehouse.into(),
            merchant_id: e.owner.into(),
            kind: e.kind.as_str().to_owned(),
            delta_on_hand: e.delta_on_hand,
            delta_held: e.delta_held,
            hold: e.hold.map(|h| HoldRefAnswer { kind: h.kind.as_str().to_owned(), id: h.id }),
            reason: e.reason,
            at: e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        }
    }
}

/// `GET /inventory/{sku}/ledger`: one page of entries, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerAnswer {
    pub entries: Vec<LedgerEntryAnswer>,
    /// Give it as `cursor` for the next page; `null` on the last page.
    pub next: Option<String>,
}

impl From<oms_domain::ledger::LedgerPage> for LedgerAnswer {
    fn from(page: oms_domain::ledger::LedgerPage) -> Self {
        Self { entries: page.entries.into_iter().map(Into::into).collect(), next: page.next }
    }
}

/// `POST /inventory/{warehouse}/{sku}/adjustments`: the stock now and the entry written.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdjustmentAnswer {
    pub stock: StockLevelAnswer,
    pub entry: LedgerEntryAnswer,
}

/// `GET /inventory/{sku}`: on hand, reserved and available of every owner in every
/// warehouse that counts it, by warehouse, then owner.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockAnswer {
    pub sku: String,
    pub warehouses: Vec<WarehouseStockAnswer>,
}

/// One owner's counts of the SKU in one warehouse (a shared warehouse lists one entry per
/// merchant keeping the SKU there).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WarehouseStockAnswer {
    pub warehouse: String,
    /// The merchant who owns these units.
    pub merchant_id: String,
    pub on_hand: u32,
    pub reserved: u32,
    /// `on_hand - reserved`, never below zero.
    pub available: u32,
    /// Units of this owner's open purchase orders still to come into this warehouse.
    pub incoming: u32,
    /// When the earliest of those purchase orders is expected (RFC 3339); null when none is open.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expected_at: Option<DateTime<Utc>>,
    /// The owner's view: the merchants an active consignment grant lets sell these units
    /// (their orders' holds are in `reserved`); absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consigned_to: Vec<String>,
    /// A seller's view of another merchant's units it may sell on consignment: the grant
    /// and the transfer price (`available` is what its orders may take); absent on the
    /// caller's own units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consignment: Option<ConsignedAnswer>,
}

/// The grant under which a seller may sell another merchant's units.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsignedAnswer {
    pub consignment_id: String,
    pub transfer_price: crate::routes::PriceBody,
}

impl From<StockLevel> for WarehouseStockAnswer {
    fn from(l: StockLevel) -> Self {
        Self {
            warehouse: l.warehouse.into(),
            merchant_id: l.owner.into(),
            on_hand: l.on_hand,
            reserved: l.reserved,
            available: l.available,
            incoming: 0,
            expected_at: None,
            consigned_to: Vec::new(),
            consignment: None,
        }
    }
}

impl From<oms_domain::usecases::consignments::StockView> for WarehouseStockAnswer {
    fn from(v: oms_domain::usecases::consignments::StockView) -> Self {
        let consignment =
            v.consigned.map(|(id, price)| ConsignedAnswer { consignment_id: id.to_string(), transfer_price: price.into() });
        Self { consigned_to: v.consigned_to.into_iter().map(String::from).collect(), consignment, ..v.level.into() }
    }
}

impl StockAnswer {
    /// The answer for `sku` from its stock records.
    pub fn new(sku: oms_domain::Sku, levels: Vec<StockLevel>) -> Self {
        Self { sku: sku.into(), warehouses: levels.into_iter().map(Into::into).collect() }
    }

    /// The answer for `sku` from the stock a caller sees with consignment.
    pub fn seen(sku: oms_domain::Sku, views: Vec<oms_domain::usecases::consignments::StockView>) -> Self {
        Self { sku: sku.into(), warehouses: views.into_iter().map(Into::into).collect() }
    }

    /// The answer with the units open purchase orders bring per (warehouse, owner): an
    /// owner with incoming units but no stock record yet is listed with zero counts.
    pub fn with_incoming(sku: oms_domain::Sku, levels: Vec<StockLevel>, incoming: &[oms_domain::supply::Incoming]) -> Self {
        Self::new(sku, levels).add_incoming(incoming)
    }

    /// This answer with `incoming` added to its (warehouse, owner) entries.
    pub fn add_incoming(self, incoming: &[oms_domain::supply::Incoming]) -> Self {
        let mut answer = self;
        for line in incoming {
            let at = answer
                .warehouses
                .iter()
                .position(|w| w.warehouse == line.warehouse.as_str() && w.merchant_id == line.merchant_id.as_str());
            let at = at.unwrap_or_else(|| {
                answer.warehouses.push(WarehouseStockAnswer {
                    warehouse: line.warehouse.to_string(),
                    merchant_id: line.merchant_id.to_string(),
                    on_hand: 0,
                    reserved: 0,
                    available: 0,
                    incoming: 0,
                    expected_at: None,
                    consigned_to: Vec::new(),
                    consignment: None,
                });
                answer.warehouses.len() - 1
            });
            let entry = &mut answer.warehouses[at];
            entry.incoming = entry.incoming.saturating_add(line.units);
            entry.expected_at = Some(entry.expected_at.map_or(line.expected_at, |e| e.min(line.expected_at)));
        }
        answer.warehouses.sort_by(|a, b| (&a.warehouse, &a.merchant_id).cmp(&(&b.warehouse, &b.merchant_id)));
        answer
    }
}

/// These pin the HTTP contract: the exact JSON of each answer, keys and shapes. A change
/// here is a change of the contract (DESIGN.md), not a refactoring.
#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use oms_conformance::fixtures;
    use rust_decimal::Decimal;
    use serde_json::json;

    use oms_domain::order::Charges;
    use oms_domain::{OrderId, Sku, WarehouseId};

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, hour, 0, 0).unwrap()
    }

    /// The conformance suite's order with a fixed id, no customer name, charges and an
    /// allocation, at version 3.
    fn sample_order() -> Order {
        let mut order = fixtures::order(Channel::Generic, "A-1001");
        order.order_id = OrderId::parse("ord_01").unwrap();
        order.customer.name = None;
        order.charges =
            Charges { discount: Decimal::new(500, 2), shipping: Decimal::new(8, 0), tax: Decimal::ZERO, taxes_included: true };
        order.transition(OrderStatus::Allocated, at(13), "wh-hz holds every line").unwrap();
        let lines = vec![fixtures::line("wh-hz", "SKU-1", 2)];
        order.allocation = Some(Allocation {
            lines,
            explanation: "nearest".into(),
            costing: None,
            planned_at: at(13),
            merge: None,
            shipments: Vec::new(),
            claimed_from: None,
        });
        order.version = 3;
        order
    }

    #[test]
    fn an_order_answer_is_the_contracts_json() {
        let answer = serde_json::to_value(OrderAnswer::from(sample_order())).unwrap();
        assert_eq!(
            answer,
            json!({
                "order_id": "ord_01", "status": "allocated", "channel": "generic", "external_id": "A-1001",
                "order_number": "#A-1001",
                "merchant_id": "m-1", "placed_at": "2026-11-20T10:00:00Z",
                "customer": {"id": "c-1", "email": "a@example.com", "phone": "+8613800000000"},
                "shipping_address": {"name": "Li Lei", "line1": "1 West Lake Rd", "city": "Hangzhou",
                                     "province": "Zhejiang", "postal_code": "310000", "country": "CN"},
                "currency": "CNY",
                "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price": "19.90"}],
                "charges": {"discount": "5.00", "shipping": "8", "tax": "0", "taxes_included": true},
                "allocation": {"lines": [{"warehouse": "wh-hz", "merchant_id": "m-1", "sku": "SKU-1", "quantity": 2}],
                               "explanation": {"chosen": null, "candidates": [], "considered": 0, "method": null,
                                               "reason": "nearest"},
                               "planned_at": "2026-11-20T13:00:00Z"},
                "timeline": [
                    {"at": "2026-11-20T12:00:00Z", "status": "received", "detail": "received from generic"},
                    {"at": "2026-11-20T13:00:00Z", "status": "allocated", "detail": "wh-hz holds every line"}
                ],
                "channel_updated_at": "2026-11-20T10:00:00Z",
                "version": 3,
                "payment_status": "paid", "payments": []
            })
        );
    }

    #[test]
    fn a_costed_plan_answers_its_candidates_winner_and_reason() {
        use oms_domain::allocation::{Costing, Method};
        let mut order = sample_order();
        let candidate = |w: &str, cost: i64| Candidate {
            warehouses: vec![fixtures::warehouse_id(w)],
            cost: Decimal::new(cost, 2),
            shipments: 1,
        };
        let allocation = order.allocation.as_mut().unwrap();
        allocation.explanation = "one shipment from wh-hz at 7.50: cheapest".into();
        allocation.costing = Some(Costing {
            chosen: candidate("wh-hz", 750),
            candidates: vec![candidate("wh-hz", 750), candidate("wh-bj", 1230)],
            considered: 2,
            method: Method::Exact,
            steps: 3,
        });
        let answer = serde_json::to_value(OrderAnswer::from(order)).unwrap();
        assert_eq!(
            answer["allocation"]["explanation"],
            json!({"chosen": {"warehouses": ["wh-hz"], "cost": "7.50", "shipments": 1},
                   "candidates": [{"warehouses": ["wh-hz"], "cost": "7.50", "shipments": 1},
                                  {"warehouses": ["wh-bj"], "cost": "12.30", "shipments": 1}],
                   "considered": 2, "method": "exact", "reason": "one shipment from wh-hz at 7.50: cheapest"})
        );
    }

    #[test]
    fn an_unallocated_order_answers_allocation_null() {
        let mut order = sample_order();
        order.allocation = None;
        assert_eq!(serde_json::to_value(OrderAnswer::from(order)).unwrap()["allocation"], serde_json::Value::Null);
    }

    #[test]
    fn every_status_and_channel_is_spelled_as_the_contract_says() {
        for status in OrderStatus::ALL {
            assert_eq!(serde_json::to_value(StatusAnswer::from(status)).unwrap(), status.as_str());
        }
        for channel in Channel::ALL {
            assert_eq!(serde_json::to_value(ChannelAnswer::from(channel)).unwrap(), channel.as_str());
        }
    }

    #[test]
    fn a_receipt_lists_updated_parts_only_when_there_are_some() {
        let first = Receipt {
            order_id: OrderId::parse("ord_01").unwrap(),
            status: OrderStatus::Received,
            duplicate: false,
            updated: vec![],
            not_updated: vec![],
            not_applied: None,
        };
        assert_eq!(
            serde_json::to_value(ReceiptAnswer::from(first.clone())).unwrap(),
            json!({"order_id": "ord_01", "status": "received", "duplicate": false})
        );
        let again = Receipt {
            duplicate: true,
            updated: vec![OrderPart::ShippingAddress],
            not_updated: vec![OrderPart::Lines],
            ..first.clone()
        };
        assert_eq!(
            serde_json::to_value(ReceiptAnswer::from(again)).unwrap(),
            json!({"order_id": "ord_01", "status": "received", "duplicate": true,
                   "updated": ["shipping_address"], "not_updated": ["lines"]})
        );
        for (reason, spelled) in [(NotApplied::Stale, "stale"), (NotApplied::CancelRefused, "cancel_refused")] {
            let stale = Receipt { duplicate: true, not_applied: Some(reason), ..first.clone() };
            assert_eq!(
                serde_json::to_value(ReceiptAnswer::from(stale)).unwrap(),
                json!({"order_id": "ord_01", "status": "received", "duplicate": true, "not_applied_reason": spelled})
            );
            assert_eq!(reason.as_str(), spelled);
        }
    }

    #[test]
    fn stock_answers_are_the_contracts_json() {
        let sku = Sku::parse("SKU-1").unwrap();
        let counts = oms_domain::stock::StockCounts::new(7, 2).unwrap();
        let level = StockLevel::new(WarehouseId::parse("wh-2").unwrap(), fixtures::merchant("m-2"), sku.clone(), counts);
        assert_eq!(
            serde_json::to_value(StockLevelAnswer::from(level.clone())).unwrap(),
            json!({"warehouse": "wh-2", "merchant_id": "m-2", "sku": "SKU-1", "on_hand": 7, "reserved": 2, "available": 5})
        );
        assert_eq!(
            serde_json::to_value(StockAnswer::new(sku.clone(), vec![level.clone()])).unwrap(),
            json!({"sku": "SKU-1",
                   "warehouses": [{"warehouse": "wh-2", "merchant_id": "m-2", "on_hand": 7, "reserved": 2, "available": 5,
                                   "incoming": 0, "expected_at": null}]})
        );
        let incoming = |warehouse: &str, units: u32, at: &str| oms_domain::supply::Incoming {
            purchase_order_id: oms_domain::PurchaseOrderId::parse(format!("po_{units}")).unwrap(),
            merchant_id: fixtures::merchant("m-2"),
            warehouse: WarehouseId::parse(warehouse).unwrap(),
            sku: sku.clone(),
            units,
            expected_at: at.parse().unwrap(),
        };
        let coming = [
            incoming("wh-2", 4, "2026-12-09T00:00:00Z"),
            incoming("wh-2", 6, "2026-12-03T00:00:00Z"),
            incoming("wh-1", 1, "2026-12-05T00:00:00Z"),
        ];
        assert_eq!(
            serde_json::to_value(StockAnswer::with_incoming(sku.clone(), vec![level], &coming)).unwrap(),
            json!({"sku": "SKU-1",
                   "warehouses": [{"warehouse": "wh-1", "merchant_id": "m-2", "on_hand": 0, "reserved": 0, "available": 0,
                                   "incoming": 1, "expected_at": "2026-12-05T00:00:00Z"},
                                  {"warehouse": "wh-2", "merchant_id": "m-2", "on_hand": 7, "reserved": 2, "available": 5,
                                   "incoming": 10, "expected_at": "2026-12-03T00:00:00Z"}]})
        );
    }

    #[test]
    fn a_warehouse_answer_is_the_contracts_json() {
        let wh = fixtures::warehouse("wh-1", "Hangzhou West");
        assert_eq!(
            serde_json::to_value(WarehouseAnswer::from(wh)).unwrap(),
            json!({"warehouse_id": "wh-1", "name": "Hangzhou West", "merchant_id": "m-1", "province": "Zhejiang",
                   "city": "Hangzhou", "lat": 30.2741, "lon": 120.1551, "serves": []})
        );
    }

    /// The answers were the domain's own JSON until they were split off: they must still be
    /// byte for byte what that gave (delete this once the domain's storage form moves on),
    /// except the allocation's explanation, which became an object with the plan's costs.
    #[test]
    fn an_order_answer_matches_the_domain_json_it_replaced() {
        let order = sample_order();
        let mut before = serde_json::to_value(&order).unwrap();
        let mut answer = serde_json::to_value(OrderAnswer::from(order)).unwrap();
        assert_eq!(answer["allocation"]["explanation"]["reason"], before["allocation"]["explanation"]);
        before["allocation"].as_object_mut().unwrap().retain(|k, _| k != "explanation" && k != "costing");
        answer["allocation"].as_object_mut().unwrap().remove("explanation");
        // The payment status was added after the split: the domain's `paid` is the answer's
        // `payment_status`.
        assert_eq!(before.as_object_mut().unwrap().remove("paid"), Some(json!(true)));
        assert_eq!(answer.as_object_mut().unwrap().remove("payment_status"), Some(json!("paid")));
        assert_eq!(answer, before);
    }
}

/// The answer to `POST /quotes`.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteAnswer {
    /// A decimal string in `currency`, to the cent ("19.9").
    #[schema(examples("19.9"))]
    pub price: String,
    pub currency: String,
    pub model_version: String,
    /// `ols`, `ridge`, `lasso`, `elastic_net`, `stagewise` or `tree`.
    pub algorithm: String,
    /// The segment whose model priced it: `customer:<id>`, `sku:<sku>`, `province:<name>` or `all`.
    pub segment: String,
    /// `floor` or `ceiling` when a guard rail of the SKU moved the model's price; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clamped: Option<String>,
}

impl From<oms_pricing::Quote> for QuoteAnswer {
    fn from(quote: oms_pricing::Quote) -> Self {
        Self {
            price: quote.price.normalize().to_string(),
            currency: quote.currency,
            model_version: quote.model_version,
            algorithm: quote.algorithm.name().to_owned(),
            segment: quote.segment,
            clamped: quote.clamped.map(|clamp| match clamp {
                oms_pricing::Clamp::Floor => "floor".to_owned(),
                oms_pricing::Clamp::Ceiling => "ceiling".to_owned(),
            }),
        }
    }
}
