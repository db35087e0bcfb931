//! The canonical order: what every channel's payload is normalised into, its status
//! machine, and the timeline of what happened to it.

mod address;
mod channel;
mod customer;
mod line;
mod update;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

pub use self::address::{Address, AddressParts};
pub use self::channel::Channel;
pub use self::customer::{normalise_phone, Billing, Customer};
pub use self::line::{check_quantity, order_lines, Charges, OrderLine, MAX_LINES, MAX_LINE_QUANTITY};
pub use self::update::{OrderPart, OrderPatch, OrderUpdate, Overlong, MAX_TEXT_CHARS};
/// The allocation types live beside the planner; re-exported here where they used to be.
pub use crate::allocation::{AllocatedLine, Allocation};
use crate::{Currency, ExternalId, MerchantId, Money, OrderId, OrderNumber, Sku, ValidationError};

/// The value trimmed, or `None` when it is absent or blank.
fn non_empty(value: Option<&str>) -> Option<String> {
    value.map(crate::validation::clean_text).filter(|v| !v.is_empty())
}

/// Furthest after the order was placed that a promised delivery date may lie, in days.
pub const MAX_DELIVER_BY_DAYS: i64 = 366;

/// A promised delivery date as a channel gives it (`YYYY-MM-DD`), for an order placed at
/// `placed_at`: no earlier than the day it was placed and at most
/// [`MAX_DELIVER_BY_DAYS`] after. Errors name `deliver_by`.
pub fn parse_deliver_by(raw: &str, placed_at: DateTime<Utc>) -> Result<NaiveDate, ValidationError> {
    let date = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| ValidationError::new("deliver_by", "must be a date, YYYY-MM-DD"))?;
    let placed = placed_at.date_naive();
    let days = (date - placed).num_days();
    if !(0..=MAX_DELIVER_BY_DAYS).contains(&days) {
        return Err(ValidationError::new(
            "deliver_by",
            format!("must be from the day the order was placed ({placed}) to {MAX_DELIVER_BY_DAYS} days after"),
        ));
    }
    Ok(date)
}

/// An order as a channel delivered it, normalised, before we give it an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub channel: Channel,
    pub external_id: ExternalId,
    /// The channel's own number, as the buyer saw it.
    pub order_number: OrderNumber,
    pub merchant_id: MerchantId,
    pub placed_at: DateTime<Utc>,
    pub currency: Currency,
    pub customer: Customer,
    pub shipping_address: Address,
    pub lines: Vec<OrderLine>,
    pub charges: Charges,
    /// The channel's own time of this version of the order (Shopify `updated_at`,
    /// WooCommerce `date_modified_gmt`, Amazon `LastUpdateDate`, generic `updated_at`),
    /// or `placed_at` when the channel gives none. A later delivery applies only when
    /// this is newer than the version the order holds.
    pub channel_updated_at: DateTime<Utc>,
    /// Set when the channel says the order is cancelled (Shopify `cancelled_at`,
    /// WooCommerce status `cancelled`, Amazon `OrderStatus` `Canceled`): when.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Whether the buyer has paid, as the channel says (Shopify `financial_status`,
    /// WooCommerce `set_paid` or its status, Amazon `OrderStatus` other than `Pending`,
    /// generic `paid`, default true); orders the platform creates itself start unpaid.
    /// An unpaid order's hold of stock expires (`usecases::sweep`).
    pub paid: bool,
    /// The date delivery was promised to the buyer by (generic `deliver_by`, CSV
    /// `deliver_by`), if the channel gives one: choosing a carrier prefers services that
    /// arrive by it (`crate::carrier_choice`).
    pub deliver_by: Option<NaiveDate>,
}

/// Where an order is in its life. See [`OrderStatus::can_become`] for the allowed moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Received,
    /// Paid for and stored, but it cannot go on until staff fix a cause of its own (a SKU
    /// no warehouse has ever counted): see [`Order::hold`]. It proceeds to `received`
    /// when the cause is fixed, or is cancelled.
    OnHold,
    Allocated,
    Reserved,
    Backordered,
    Shipped,
    InTransit,
    Delivered,
    Cancelled,
    Exception,
    /// Some of its units shipped, the rest are still held: a later shipment ships them, and
    /// a cancel gives back only those.
    PartiallyShipped,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 11] = [
        OrderStatus::Received,
        OrderStatus::OnHold,
        OrderStatus::Allocated,
        OrderStatus::Reserved,
        OrderStatus::Backordered,
        OrderStatus::Shipped,
        OrderStatus::InTransit,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::Exception,
        OrderStatus::PartiallyShipped,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::Received => "received",
            OrderStatus::OnHold => "on_hold",
            OrderStatus::Allocated => "allocated",
            OrderStatus::Reserved => "reserved",
            OrderStatus::Backordered => "backordered",
            OrderStatus::Shipped => "shipped",
            OrderStatus::InTransit => "in_transit",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Exception => "exception",
            OrderStatus::PartiallyShipped => "partially_shipped",
        }
    }

    /// The status machine. Stock is held from `Reserved` until shipment; anything before
    /// shipment may be cancelled; after shipment only the carrier moves the order.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Received, OnHold | Allocated | Backordered | Cancelled)
                | (OnHold, Received | Cancelled)
                | (Allocated, Reserved | Backordered | Cancelled)
                | (Backordered, Allocated | Cancelled)
                | (Reserved, Shipped | PartiallyShipped | Cancelled)
                | (PartiallyShipped, Shipped | Exception | Cancelled)
                | (Shipped, InTransit | Delivered | Exception)
                | (InTransit, Delivered | Exception)
                | (Exception, InTransit | Delivered)
        )
    }

    /// Before shipment (or with units still to ship): the order can still be cancelled and
    /// the stock it holds released.
    pub fn is_cancellable(self) -> bool {
        self.can_become(OrderStatus::Cancelled)
    }

    /// Nothing of it has shipped yet.
    pub fn is_before_shipment(self) -> bool {
        self.is_cancellable() && self != OrderStatus::PartiallyShipped
    }

    /// Nothing moves the order on from here: it is not waiting for anything, so the
    /// stores leave it out of their index by status (`OrderStore::orders_in_status_since`).
    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Delivered | OrderStatus::Cancelled)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of an order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub at: DateTime<Utc>,
    pub status: OrderStatus,
    pub detail: String,
}

/// The move asked for is not allowed from where the order is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {from} cannot become {to}")]
pub struct InvalidTransition {
    pub from: OrderStatus,
    pub to: OrderStatus,
}

/// The canonical order. Its JSON form is the `GET /orders/{id}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub channel: Channel,
    pub external_id: ExternalId,
    /// The channel's own number, as the buyer saw it.
    pub order_number: OrderNumber,
    pub merchant_id: MerchantId,
    pub placed_at: DateTime<Utc>,
    pub customer: Customer,
    pub shipping_address: Address,
    pub currency: Currency,
    pub lines: Vec<OrderLine>,
    #[serde(default)]
    pub charges: Charges,
    pub allocation: Option<Allocation>,
    pub timeline: Vec<TimelineEvent>,
    /// The channel's time of the last version of the order we applied
    /// (`NewOrder::channel_updated_at`): a delivery not newer than this changes nothing.
    pub channel_updated_at: DateTime<Utc>,
    /// Bumped by the store on every write; updates are conditional on it.
    pub version: u64,
    /// Whether the order is paid for: as the channel delivered it, or once a payment is
    /// recorded (`POST /orders/{id}/payments`).
    #[serde(default = "paid_by_default")]
    pub paid: bool,
    /// The payments recorded for it, each once by its reference.
    #[serde(default)]
    pub payments: Vec<Payment>,
    /// The promised delivery date, if the channel gave one (`NewOrder::deliver_by`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_by: Option<NaiveDate>,
}

fn paid_by_default() -> bool {
    true
}

/// A payment recorded for an order, unique per order by its reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub amount: rust_decimal::Decimal,
    pub currency: Currency,
    /// The payment provider's reference: a second payment with it is the same payment.
    pub reference: String,
    pub at: DateTime<Utc>,
}

impl Order {
    /// A freshly received order.
    pub fn receive(new: NewOrder, order_id: OrderId, now: DateTime<Utc>) -> Self {
        Order {
            order_id,
            status: OrderStatus::Received,
            channel: new.channel,
            external_id: new.external_id,
            order_number: new.order_number,
            merchant_id: new.merchant_id,
            placed_at: new.placed_at,
            customer: new.customer,
            shipping_address: new.shipping_address,
            currency: new.currency,
            lines: new.lines,
            charges: new.charges,
            allocation: None,
            timeline: vec![TimelineEvent {
                at: now,
                status: OrderStatus::Received,
                detail: format!("received from {}", new.channel),
            }],
            channel_updated_at: new.channel_updated_at,
            version: 0,
            paid: new.paid,
            payments: Vec::new(),
            deliver_by: new.deliver_by,
        }
    }

    /// Moves the order to `next`, recording why on the timeline.
    pub fn transition(
        &mut self,
        next: OrderStatus,
        at: DateTime<Utc>,
        detail: impl Into<String>,
    ) -> Result<(), InvalidTransition> {
        if !self.status.can_become(next) {
            return Err(InvalidTransition { from: self.status, to: next });
        }
        self.status = next;
        self.timeline.push(TimelineEvent { at, status: next, detail: detail.into() });
        Ok(())
    }

    /// Records something on the timeline without changing the status.
    pub fn note(&mut self, at: DateTime<Utc>, detail: impl Into<String>) {
        self.timeline.push(TimelineEvent { at, status: self.status, detail: detail.into() });
    }

    /// Whether the order waits in the index of orders by status (what the sweep reads to
    /// queue stuck orders again): an order whose status is not final, unless it is a
    /// service order, which no stock step moves (`crate::service_order`).
    pub fn waits_in_status_index(&self) -> bool {
        !self.status.is_final() && !self.channel.is_service()
    }

    /// Sum of quantity times unit price over the lines.
    pub fn total(&self) -> Money {
        let amount = self.lines.iter().map(|l| l.unit_price * Decimal::from(l.quantity)).sum();
        Money { amount, currency: self.currency }
    }

    /// The merge group the order belongs to: the first order of the group it was merged
    /// into when planned, else itself. Shipments may share a tracking number only within
    /// one group.
    pub fn merge_group(&self) -> &OrderId {
        self.allocation.as_ref().and_then(|a| a.merge.as_ref()).map_or(&self.order_id, |m| &m.group)
    }

    /// Units asked for per SKU (a SKU may appear on several lines).
    pub fn units_by_sku(&self) -> std::collections::BTreeMap<Sku, u32> {
        let mut units = std::collections::BTreeMap::new();
        for line in &self.lines {
            *units.entry(line.sku.clone()).or_insert(0) += line.quantity;
        }
        units
    }

    /// When the order began waiting for stock, while it does: the time of the move into
    /// `backordered` or `on_hold` (the first of the timeline's last run of entries of its
    /// status, so a note added meanwhile does not move it). `None` for an order in any
    /// other status. The index of backorders by SKU (`OrderStore::backorders_waiting_for`)
    /// is ordered by it.
    pub fn backordered_since(&self) -> Option<DateTime<Utc>> {
        matches!(self.status, OrderStatus::Backordered | OrderStatus::OnHold).then(|| self.status_since())
    }

    /// When the order came to its current status: the first of the timeline's latest run
    /// of entries in that status (a note in the same status does not restart the clock),
    /// or when it was placed if the timeline has none.
    pub fn status_since(&self) -> DateTime<Utc> {
        let run = self.timeline.iter().rev().take_while(|event| event.status == self.status);
        run.last().map_or(self.placed_at, |event| event.at)
    }

    /// What the index of backorders holds for this order: its time of backordering and
    /// each SKU of its lines once; `None` unless it is backordered or on hold. An order on
    /// hold for an unknown SKU waits in the same index as a backorder: stock of that SKU
    /// counted in (or a mapping to it) queues it like a backorder, and allocation releases
    /// it once every SKU is known.
    pub fn backorder_entries(&self) -> Option<(DateTime<Utc>, Vec<Sku>)> {
        self.backordered_since().map(|since| (since, self.units_by_sku().into_keys().collect()))
    }

    /// Whether the order was ever on hold for staff (a SKU no warehouse had counted): such
    /// a hold raised an alert (`order_on_hold`), which its release or cancel resolves. A
    /// hold for a missing address (the buyer's to fix) raises none.
    pub fn was_held_for_staff(&self) -> bool {
        // The entries that moved the order into `on_hold` (notes added while it was held
        // follow them in the same status) say why.
        let mut before = None;
        self.timeline.iter().any(|event| {
            let moved_in = event.status == OrderStatus::OnHold && before != Some(OrderStatus::OnHold);
            before = Some(event.status);
            moved_in && HoldReason::parse(&event.detail) != Some(HoldReason::AddressMissing)
        })
    }

    /// Why the order is on hold, while it is: read from the timeline entry that put it
    /// there (its detail is `HoldReason`'s `Display`).
    pub fn hold(&self) -> Option<HoldReason> {
        if self.status != OrderStatus::OnHold {
            return None;
        }
        let event = self.timeline.iter().rev().find(|event| event.status == OrderStatus::OnHold)?;
        HoldReason::parse(&event.detail)
    }
}

/// Why a paid order is stored on hold instead of refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldReason {
    /// A line names a SKU no warehouse has ever counted (and no mapping of the channel's
    /// SKU names one of ours).
    UnknownSku(Sku),
    /// A flash-sale claim gave no shipping address: the order waits for one (`PATCH`).
    AddressMissing,
    /// The fraud rules scored it at or above their hold mark (`crate::fraud`): it waits
    /// for staff to release it (`POST /orders/{id}/release`) or cancel it.
    FraudReview(crate::fraud::Assessment),
    /// The merchant has an onboarding record that is not approved (`crate::onboarding`):
    /// the order waits until the merchant is approved, which releases it.
    MerchantNotApproved,
    /// A line's SKU has a listing in the reviewed catalogue that is not on sale
    /// (`crate::product::listed_for_sale`: not approved, or unlisted): the order waits
    /// until it is approved and listed, which releases it.
    ProductNotSellable { sku: Sku, why: crate::product::NotSellable },
}

impl HoldReason {
    const UNKNOWN_SKU: &'static str = "unknown_sku";
    const ADDRESS_MISSING: &'static str = "address_missing";
    const FRAUD_REVIEW: &'static str = "fraud_review";
    const MERCHANT_NOT_APPROVED: &'static str = "merchant_not_approved";
    const PRODUCT_NOT_SELLABLE: &'static str = "product_not_sellable";
    /// What follows the SKU (which may hold a colon) in the timeline's text, before why.
    const PRODUCT_NOT_SELLABLE_MID: &'static str = ": its listing is ";
    const PRODUCT_NOT_SELLABLE_TAIL: &'static str = "; held until it is approved and listed";
    const FRAUD_REVIEW_TAIL: &'static str = "; held until staff release or cancel it";
    /// What follows the SKU (which may hold a colon) in the timeline's text.
    const UNKNOWN_SKU_TAIL: &'static str = ": no warehouse has ever counted it";

    /// The reason's code: `unknown_sku`.
    pub fn code(&self) -> &'static str {
        match self {
            HoldReason::UnknownSku(_) => Self::UNKNOWN_SKU,
            HoldReason::AddressMissing => Self::ADDRESS_MISSING,
            HoldReason::FraudReview(_) => Self::FRAUD_REVIEW,
            HoldReason::MerchantNotApproved => Self::MERCHANT_NOT_APPROVED,
            HoldReason::ProductNotSellable { .. } => Self::PRODUCT_NOT_SELLABLE,
        }
    }

    /// A hold of the review (the merchant's onboarding, a product's listing): released
    /// once the review settles (`crate::usecases::intake::review_hold`).
    pub fn is_review(&self) -> bool {
        matches!(self, HoldReason::MerchantNotApproved | HoldReason::ProductNotSellable { .. })
    }

    /// The reason written by `Display`, back; `None` for any other text.
    pub fn parse(detail: &str) -> Option<Self> {
        if detail.starts_with(Self::ADDRESS_MISSING) {
            return Some(HoldReason::AddressMissing);
        }
        if detail.starts_with(Self::MERCHANT_NOT_APPROVED) {
            return Some(HoldReason::MerchantNotApproved);
        }
        if let Some(rest) = detail.strip_prefix(Self::PRODUCT_NOT_SELLABLE).and_then(|r| r.strip_prefix(' ')) {
            let (sku, why) = rest.strip_suffix(Self::PRODUCT_NOT_SELLABLE_TAIL)?.rsplit_once(Self::PRODUCT_NOT_SELLABLE_MID)?;
            let why = [crate::product::NotSellable::NotApproved, crate::product::NotSellable::Unlisted]
                .into_iter()
                .find(|w| w.as_str() == why)?;
            return Sku::parse(sku).ok().map(|sku| HoldReason::ProductNotSellable { sku, why });
        }
        if let Some(rest) = detail.strip_prefix(Self::FRAUD_REVIEW).and_then(|r| r.strip_prefix(": score ")) {
            let (score, reasons) = rest.strip_suffix(Self::FRAUD_REVIEW_TAIL)?.split_once(": ")?;
            let reasons = reasons.split("; ").map(str::to_owned).collect();
            return Some(HoldReason::FraudReview(crate::fraud::Assessment { score: score.parse().ok()?, reasons }));
        }
        let rest = detail.strip_prefix(Self::UNKNOWN_SKU)?.strip_prefix(' ')?;
        let (sku, _) = rest.rsplit_once(Self::UNKNOWN_SKU_TAIL)?;
        Sku::parse(sku).ok().map(HoldReason::UnknownSku)
    }
}

impl fmt::Display for HoldReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HoldReason::UnknownSku(sku) => {
                write!(f, "{} {sku}{}; held until it is stocked or mapped", Self::UNKNOWN_SKU, Self::UNKNOWN_SKU_TAIL)
            }
            HoldReason::AddressMissing => {
                write!(f, "{}: no shipping address was given; held until one is", Self::ADDRESS_MISSING)
            }
            HoldReason::FraudReview(assessment) => {
                let reasons = assessment.reasons.join("; ");
                write!(f, "{}: score {}: {reasons}{}", Self::FRAUD_REVIEW, assessment.score, Self::FRAUD_REVIEW_TAIL)
            }
            HoldReason::MerchantNotApproved => {
                write!(f, "{}: the merchant's onboarding is not approved; held until it is", Self::MERCHANT_NOT_APPROVED)
            }
            HoldReason::ProductNotSellable { sku, why } => write!(
                f,
                "{} {sku}{}{why}{}",
                Self::PRODUCT_NOT_SELLABLE,
                Self::PRODUCT_NOT_SELLABLE_MID,
                Self::PRODUCT_NOT_SELLABLE_TAIL
            ),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::CustomerId;

    pub(crate) fn sample_new_order(sku: &str, quantity: u32) -> NewOrder {
        NewOrder {
            channel: Channel::Generic,
            external_id: ExternalId::parse("A-1").unwrap(),
            order_number: OrderNumber::parse("A-1").unwrap(),
            merchant_id: MerchantId::parse("m-1").unwrap(),
            placed_at: Utc::now(),
            currency: Currency::parse("CNY").unwrap(),
            customer: Customer {
                id: CustomerId::parse("c-1").unwrap(),
                email: Some("a@example.com".into()),
                phone: Some("+8613800000000".into()),
                name: None,
                card: None,
                billing: None,
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
            lines: vec![OrderLine { sku: Sku::parse(sku).unwrap(), quantity, unit_price: Decimal::new(1990, 2) }],
            charges: Charges::default(),
            channel_updated_at: Utc::now(),
            cancelled_at: None,
            paid: true,
            deliver_by: None,
        }
    }

    #[test]
    fn a_received_order_starts_its_timeline() {
        let order = Order::receive(sample_new_order("SKU-1", 2), OrderId::generate(), Utc::now());
        assert_eq!(order.status, OrderStatus::Received);
        assert_eq!(order.timeline.len(), 1);
        assert_eq!(order.total().to_string(), "39.80 CNY");
    }

    #[test]
    fn shipped_orders_cannot_be_cancelled() {
        let mut order = Order::receive(sample_new_order("SKU-1", 1), OrderId::generate(), Utc::now());
        for next in [OrderStatus::Allocated, OrderStatus::Reserved, OrderStatus::Shipped] {
            order.transition(next, Utc::now(), "step").unwrap();
        }
        let err = order.transition(OrderStatus::Cancelled, Utc::now(), "too late").unwrap_err();
        assert_eq!(err.from, OrderStatus::Shipped);
        assert_eq!(order.timeline.len(), 4);
    }

    #[test]
    fn terminal_statuses_go_nowhere() {
        for next in OrderStatus::ALL {
            assert!(!OrderStatus::Delivered.can_become(next));
            assert!(!OrderStatus::Cancelled.can_become(next));
        }
    }

    #[test]
    fn an_order_on_hold_goes_back_to_received_or_is_cancelled_and_waits_in_the_backorder_index() {
        use OrderStatus::*;
        let allowed: Vec<_> = OrderStatus::ALL.into_iter().filter(|next| OnHold.can_become(*next)).collect();
        assert_eq!(allowed, [Received, Cancelled]);
        assert!(Received.can_become(OnHold));
        let mut order = Order::receive(sample_new_order("SKU-1", 2), OrderId::generate(), Utc::now());
        let reason = HoldReason::UnknownSku(Sku::parse("A:B").unwrap());
        let at = Utc::now();
        order.transition(OnHold, at, reason.to_string()).unwrap();
        assert_eq!(order.hold(), Some(reason));
        assert_eq!(order.backorder_entries(), Some((at, vec![Sku::parse("SKU-1").unwrap()])));
        order.transition(Received, Utc::now(), "released").unwrap();
        assert_eq!((order.hold(), order.backorder_entries()), (None, None));
    }

    #[test]
    fn a_fraud_review_reads_back_with_its_score_and_reasons() {
        let assessment = crate::fraud::Assessment {
            score: 70,
            reasons: vec!["velocity: 6 other orders by this customer within 60 minutes".into(), "unusual: 500 units".into()],
        };
        let reason = HoldReason::FraudReview(assessment);
        assert_eq!(HoldReason::parse(&reason.to_string()), Some(reason.clone()));
        assert_eq!(reason.code(), "fraud_review");
    }

    #[test]
    fn a_product_not_sellable_reads_back_as_the_hold_reason_with_its_sku_and_why() {
        for why in [crate::product::NotSellable::NotApproved, crate::product::NotSellable::Unlisted] {
            let reason = HoldReason::ProductNotSellable { sku: Sku::parse("INK:1").unwrap(), why };
            assert_eq!(HoldReason::parse(&reason.to_string()), Some(reason.clone()), "{reason}");
            assert_eq!(reason.code(), "product_not_sellable");
        }
        assert!(HoldReason::ProductNotSellable { sku: Sku::parse("INK-1").unwrap(), why: crate::product::NotSellable::Unlisted }
            .to_string()
            .contains("INK-1: its listing is unlisted"));
    }

    #[test]
    fn a_merchant_not_approved_reads_back_as_the_hold_reason() {
        let reason = HoldReason::MerchantNotApproved;
        assert_eq!(HoldReason::parse(&reason.to_string()), Some(reason));
        assert_eq!(HoldReason::MerchantNotApproved.code(), "merchant_not_approved");
    }

    #[test]
    fn a_missing_address_reads_back_as_the_hold_reason() {
        let reason = HoldReason::AddressMissing;
        assert_eq!(HoldReason::parse(&reason.to_string()), Some(reason));
        assert_eq!(HoldReason::AddressMissing.code(), "address_missing");
    }

    #[test]
    fn statuses_serialise_as_the_contract_spells_them() {
        let names: Vec<String> =
            OrderStatus::ALL.iter().map(|s| serde_json::to_value(s).unwrap().as_str().unwrap().to_owned()).collect();
        assert_eq!(
            names,
            [
                "received",
                "on_hold",
                "allocated",
                "reserved",
                "backordered",
                "shipped",
                "in_transit",
                "delivered",
                "cancelled",
                "exception",
                "partially_shipped"
            ]
        );
        for s in OrderStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
