//! The stock ledger: every change of a stock's figures (on hand, held) as one entry,
//! appended in the same atomic write as the change itself, so the sums of a stock's
//! entries are its figures at every moment (`usecases::reconcile` checks that they are).
//!
//! Units are held by *holds*, each of a kind ([`HoldKind`]): an order's reservation
//! (`order`, id the order id), a flash sale's set-aside (`flash_sale`, id the sale id) or
//! a group-buy offer's set-aside (`group_buy`, id the offer id).
//! An entry names the hold it concerns, when it concerns one.
//!
//! | kind | on hand | held | hold | written by |
//! | --- | --- | --- | --- | --- |
//! | `reserve` | 0 | +q | the order | `InventoryStore::reserve`, `hold_set_aside` (the set-aside's units move into the order's hold) |
//! | `release` | 0 | -q | the order; the sale; the group buy | a release of the order's hold (a cancel, a leftover); a closed flash sale's unclaimed units leaving its set-aside (`FlashSaleStore::close_sale`), and a claim's units its order gave back once the close had begun (`HoldEffect::ReturnClaim`); a settled group buy's units nobody took (`GroupBuyStore::settle`) |
//! | `expire` | 0 | -q | the order | the release of an unpaid order's hold past its time |
//! | `ship` | -q | -q | the order | a shipment consuming the order's hold ([`LedgerLine::ship`]) |
//! | `receive` | +q | 0 | none | goods received into the warehouse ([`LedgerLine::receive`]) |
//! | `recount` | new - old | 0 | none | `InventoryStore::set_on_hand`, an as-of count |
//! | `adjust` | delta | 0 | none | `InventoryStore::adjust` with a delta (damaged, found, ...) |
//! | `consume` | -q | 0 | none | parts used by a repair when it starts, never more than available ([`LedgerLine::consume`], `RepairStore::move_repair`) |
//! | `set_aside` | 0 | ±q | the sale or group buy (+q), the order (-q) | a flash sale or group buy setting units aside; its units moving into a claim's or join's order hold |
//! | `return` | +q | 0 | none | a return's units inspected sellable, back on hand ([`LedgerLine::returned`]) |
//! | `return_damaged` | 0 | 0 | none | a return's units inspected damaged: into the stock's damaged units, kept apart from on hand so allocation never sees them ([`LedgerLine::returned_damaged`]); `q` is in the reason |
//!
//! A path that changes stock adds its entries to the same write: in SQLite one
//! `INSERT INTO stock_ledger` per [`LedgerLine`] in the operation's savepoint
//! (`oms_embedded`'s `append_ledger`), in DynamoDB one `Put` of a `LEDGER#<sku>` item per
//! line in the operation's `TransactWriteItems` (`oms_aws`'s `ledger_put`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::order::AllocatedLine;
use crate::{MerchantId, Order, OrderId, OrderStatus, Sku, ValidationError, WarehouseId};

/// What moved a stock's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    Reserve,
    Release,
    Expire,
    Ship,
    Receive,
    Recount,
    Adjust,
    SetAside,
    /// Units used up in the warehouse itself (a repair's parts): out of on hand, no order.
    Consume,
    Return,
    ReturnDamaged,
}

impl LedgerKind {
    pub const ALL: [LedgerKind; 11] = [
        LedgerKind::Reserve,
        LedgerKind::Release,
        LedgerKind::Expire,
        LedgerKind::Ship,
        LedgerKind::Receive,
        LedgerKind::Recount,
        LedgerKind::Adjust,
        LedgerKind::SetAside,
        LedgerKind::Consume,
        LedgerKind::Return,
        LedgerKind::ReturnDamaged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LedgerKind::Reserve => "reserve",
            LedgerKind::Release => "release",
            LedgerKind::Expire => "expire",
            LedgerKind::Ship => "ship",
            LedgerKind::Receive => "receive",
            LedgerKind::Recount => "recount",
            LedgerKind::Adjust => "adjust",
            LedgerKind::SetAside => "set_aside",
            LedgerKind::Consume => "consume",
            LedgerKind::Return => "return",
            LedgerKind::ReturnDamaged => "return_damaged",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw)
            .ok_or_else(|| ValidationError::new("kind", format!("{raw:?} is not a ledger entry kind")))
    }
}

impl fmt::Display for LedgerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of thing holds units of stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldKind {
    /// An order's reservation; the hold's id is the order id.
    Order,
    /// A flash sale's set-aside; the hold's id is the sale id.
    FlashSale,
    /// A group-buy offer's set-aside; the hold's id is the offer id.
    GroupBuy,
}

impl HoldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldKind::Order => "order",
            HoldKind::FlashSale => "flash_sale",
            HoldKind::GroupBuy => "group_buy",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "order" => Ok(HoldKind::Order),
            "flash_sale" => Ok(HoldKind::FlashSale),
            "group_buy" => Ok(HoldKind::GroupBuy),
            other => Err(ValidationError::new("hold.kind", format!("{other:?} is not a kind of hold"))),
        }
    }
}

impl fmt::Display for HoldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The hold an entry concerns: its kind and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HoldRef {
    pub kind: HoldKind,
    pub id: String,
}

impl HoldRef {
    pub fn order(order_id: &OrderId) -> Self {
        Self { kind: HoldKind::Order, id: order_id.to_string() }
    }

    pub fn flash_sale(sale_id: impl fmt::Display) -> Self {
        Self { kind: HoldKind::FlashSale, id: sale_id.to_string() }
    }

    pub fn group_buy(group_buy_id: impl fmt::Display) -> Self {
        Self { kind: HoldKind::GroupBuy, id: group_buy_id.to_string() }
    }
}

impl fmt::Display for HoldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

/// Longest reason kept with an entry, in characters.
pub const MAX_REASON_CHARS: usize = 200;

/// One entry as a stock-changing write adds it: the store gives it its id and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerLine {
    pub warehouse: WarehouseId,
    pub owner: MerchantId,
    pub sku: Sku,
    pub kind: LedgerKind,
    pub delta_on_hand: i64,
    pub delta_held: i64,
    pub hold: Option<HoldRef>,
    pub reason: String,
}

impl LedgerLine {
    fn of(
        line: &AllocatedLine,
        kind: LedgerKind,
        delta_on_hand: i64,
        delta_held: i64,
        hold: Option<HoldRef>,
        reason: String,
    ) -> Self {
        Self {
            warehouse: line.warehouse.clone(),
            owner: line.owner.clone(),
            sku: line.sku.clone(),
            kind,
            delta_on_hand,
            delta_held,
            hold,
            reason: clip(reason),
        }
    }

    fn stock(
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        kind: LedgerKind,
        delta_on_hand: i64,
        reason: String,
    ) -> Self {
        Self {
            warehouse: warehouse.clone(),
            owner: owner.clone(),
            sku: sku.clone(),
            kind,
            delta_on_hand,
            delta_held: 0,
            hold: None,
            reason: clip(reason),
        }
    }

    /// A line of an order's new hold.
    pub fn reserve(order_id: &OrderId, line: &AllocatedLine) -> Self {
        Self::of(line, LedgerKind::Reserve, 0, i64::from(line.quantity), Some(HoldRef::order(order_id)), "reserved".into())
    }

    /// A line of an order's hold given back, as `note` says (a release or an expiry).
    pub fn release(order_id: &OrderId, line: &AllocatedLine, note: &ReleaseNote) -> Self {
        Self::of(line, note.kind, 0, -i64::from(line.quantity), Some(HoldRef::order(order_id)), note.reason.clone())
    }

    /// A line of an order's hold shipped: the units leave the warehouse and the hold.
    pub fn ship(order_id: &OrderId, line: &AllocatedLine, reason: impl Into<String>) -> Self {
        let q = i64::from(line.quantity);
        Self::of(line, LedgerKind::Ship, -q, -q, Some(HoldRef::order(order_id)), reason.into())
    }

    /// Units received into a warehouse.
    pub fn receive(warehouse: &WarehouseId, owner: &MerchantId, sku: &Sku, units: u32, reason: impl Into<String>) -> Self {
        Self::stock(warehouse, owner, sku, LedgerKind::Receive, i64::from(units), reason.into())
    }

    /// A count replacing `before` units on hand with `after`.
    pub fn recount(
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        before: u32,
        after: u32,
        reason: impl Into<String>,
    ) -> Self {
        Self::stock(warehouse, owner, sku, LedgerKind::Recount, i64::from(after) - i64::from(before), reason.into())
    }

    /// Units on hand changed by `delta` for `reason`.
    pub fn adjust(warehouse: &WarehouseId, owner: &MerchantId, sku: &Sku, delta: i64, reason: impl Into<String>) -> Self {
        Self::stock(warehouse, owner, sku, LedgerKind::Adjust, delta, reason.into())
    }

    /// Units of a stock used up by the work of `source` (a repair's parts): out of on hand,
    /// held by nothing. A store writes it only where that many units are available.
    pub fn consume(warehouse: &WarehouseId, owner: &MerchantId, sku: &Sku, units: u32, source: impl fmt::Display) -> Self {
        Self::stock(warehouse, owner, sku, LedgerKind::Consume, -i64::from(units), format!("used by {source}"))
    }

    /// Units of a return inspected sellable: back on hand where they shipped from.
    pub fn returned(back: &crate::returns::StockBack, return_id: impl fmt::Display) -> Self {
        let reason = format!("{} units back from return {return_id}, inspected sellable", back.restock);
        Self::stock(&back.warehouse, &back.owner, &back.sku, LedgerKind::Return, i64::from(back.restock), reason)
    }

    /// Units of a return inspected damaged: into the stock's damaged units, never on hand
    /// (so the entry moves neither figure; the units are in the reason).
    pub fn returned_damaged(back: &crate::returns::StockBack, return_id: impl fmt::Display) -> Self {
        let reason = format!("{} units back from return {return_id}, inspected damaged: kept apart, not on hand", back.damaged);
        Self::stock(&back.warehouse, &back.owner, &back.sku, LedgerKind::ReturnDamaged, 0, reason)
    }

    /// What an inspected line puts in the ledger: a `return` entry for its sellable units
    /// and a `return_damaged` entry for its damaged ones (none for none).
    pub fn of_stock_back(back: &crate::returns::StockBack, return_id: impl fmt::Display + Copy) -> Vec<Self> {
        let mut lines = Vec::new();
        if back.restock > 0 {
            lines.push(Self::returned(back, return_id));
        }
        if back.damaged > 0 {
            lines.push(Self::returned_damaged(back, return_id));
        }
        lines
    }

    /// A line of a flash sale's set-aside: its units held by the sale.
    pub fn set_aside(sale_id: impl fmt::Display, line: &AllocatedLine) -> Self {
        let reason = format!("set aside for flash sale {sale_id}");
        Self::of(line, LedgerKind::SetAside, 0, i64::from(line.quantity), Some(HoldRef::flash_sale(sale_id)), reason)
    }

    /// A line of a closed flash sale's unclaimed units: out of the sale's set-aside, back to
    /// available stock.
    pub fn sale_release(sale_id: impl fmt::Display, line: &AllocatedLine) -> Self {
        let reason = format!("flash sale {sale_id} ended: unclaimed units back to stock");
        Self::of(line, LedgerKind::Release, 0, -i64::from(line.quantity), Some(HoldRef::flash_sale(sale_id)), reason)
    }

    /// A line of a claim's units given back to available stock: the claim's order was
    /// cancelled before it held them and the sale's close had begun, so they leave the
    /// sale's set-aside as the close's own units do.
    pub fn claim_returned(sale_id: impl fmt::Display, order_id: &OrderId, line: &AllocatedLine) -> Self {
        let reason = format!("order {order_id} of flash sale {sale_id} cancelled before its hold: its units back to stock");
        Self::of(line, LedgerKind::Release, 0, -i64::from(line.quantity), Some(HoldRef::flash_sale(sale_id)), reason)
    }

    /// A line of a group-buy offer's set-aside: the units of its whole capacity held by the
    /// offer.
    pub fn group_buy_set_aside(group_buy_id: impl fmt::Display, line: &AllocatedLine) -> Self {
        let reason = format!("set aside for group buy {group_buy_id}");
        Self::of(line, LedgerKind::SetAside, 0, i64::from(line.quantity), Some(HoldRef::group_buy(group_buy_id)), reason)
    }

    /// A line of a settled group-buy offer's units nobody took (all of them when it expired
    /// unfilled): out of the offer's set-aside, back to available stock.
    pub fn group_buy_release(group_buy_id: impl fmt::Display, line: &AllocatedLine) -> Self {
        let reason = format!("group buy {group_buy_id} settled at its deadline: units nobody joined for back to stock");
        Self::of(line, LedgerKind::Release, 0, -i64::from(line.quantity), Some(HoldRef::group_buy(group_buy_id)), reason)
    }

    /// A line of a claim's order taking units the sale set aside: out of the set-aside,
    /// into the order's hold (held overall does not change).
    pub fn from_set_aside(order_id: &OrderId, line: &AllocatedLine) -> [Self; 2] {
        let q = i64::from(line.quantity);
        let hold = Some(HoldRef::order(order_id));
        [
            Self::of(line, LedgerKind::SetAside, 0, -q, hold.clone(), "taken from the flash sale's set-aside".into()),
            Self::of(line, LedgerKind::Reserve, 0, q, hold, "held from the flash sale's set-aside".into()),
        ]
    }

    /// The entry as stored under `entry_id` at `at`.
    pub fn stamp(self, entry_id: String, at: DateTime<Utc>) -> LedgerEntry {
        LedgerEntry {
            entry_id,
            sku: self.sku,
            warehouse: self.warehouse,
            owner: self.owner,
            kind: self.kind,
            delta_on_hand: self.delta_on_hand,
            delta_held: self.delta_held,
            hold: self.hold,
            reason: self.reason,
            at,
        }
    }
}

fn clip(reason: String) -> String {
    if reason.chars().count() <= MAX_REASON_CHARS {
        reason
    } else {
        reason.chars().take(MAX_REASON_CHARS).collect()
    }
}

/// A fresh entry id: `led_` and a ULID, so ids sort by the time they were made; within one
/// process strictly increasing (two made in one millisecond follow each other).
pub fn new_entry_id() -> String {
    static LAST: std::sync::Mutex<Option<ulid::Ulid>> = std::sync::Mutex::new(None);
    let fresh = ulid::Ulid::new();
    let mut last = LAST.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let id = match *last {
        Some(before) if fresh <= before => before.increment().unwrap_or(fresh),
        _ => fresh,
    };
    *last = Some(id);
    format!("led_{id}")
}

/// Checks an entry id given back as a page's cursor: `led_` and a ULID.
pub fn parse_entry_id(raw: &str) -> Result<String, ValidationError> {
    let valid = raw.strip_prefix("led_").is_some_and(|rest| rest.parse::<ulid::Ulid>().is_ok());
    if !valid {
        return Err(ValidationError::new("cursor", format!("{raw:?} is not a ledger cursor")));
    }
    Ok(raw.to_owned())
}

/// The smallest entry id made at `at` or later (`led_` and a ULID of that time, its random
/// part zero): where the entries since a moment start.
pub fn entry_id_floor(at: DateTime<Utc>) -> String {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    format!("led_{}", ulid::Ulid::from_parts(millis, 0))
}

/// One entry of a stock's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub entry_id: String,
    pub sku: Sku,
    pub warehouse: WarehouseId,
    #[serde(rename = "merchant_id")]
    pub owner: MerchantId,
    pub kind: LedgerKind,
    pub delta_on_hand: i64,
    pub delta_held: i64,
    pub hold: Option<HoldRef>,
    pub reason: String,
    pub at: DateTime<Utc>,
}

impl LedgerEntry {
    /// Whether the entry moves units into or out of a flash sale's set-aside: a `set_aside`
    /// entry, or the `release` of a sale's hold when it closes. Their held deltas sum to the
    /// stock's `set_aside`.
    pub fn moves_set_aside(&self) -> bool {
        self.kind == LedgerKind::SetAside
            || (self.kind == LedgerKind::Release
                && self.hold.as_ref().is_some_and(|h| matches!(h.kind, HoldKind::FlashSale | HoldKind::GroupBuy)))
    }
}

/// How a release of an order's hold is written in the ledger: `release`, or `expire` for
/// an unpaid hold past its time, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseNote {
    pub kind: LedgerKind,
    pub reason: String,
}

/// The cancel reason of an unpaid order whose hold ran out of time.
pub const PAYMENT_EXPIRED: &str = "payment_expired";

impl ReleaseNote {
    pub fn release(reason: impl Into<String>) -> Self {
        Self { kind: LedgerKind::Release, reason: reason.into() }
    }

    /// The release of a hold by the write of `order`: `expire` when the write cancels it for
    /// `payment_expired`, else `release` with the order's newest timeline entry as reason.
    pub fn of_order(order: &Order) -> Self {
        let last = order.timeline.last();
        let detail = last.map(|e| e.detail.clone()).unwrap_or_default();
        if order.status == OrderStatus::Cancelled && detail.contains(PAYMENT_EXPIRED) {
            return Self { kind: LedgerKind::Expire, reason: format!("order {}: {detail}", order.order_id) };
        }
        let status = last.map_or(order.status, |e| e.status);
        Self::release(format!("order {} {status}: {detail}", order.order_id))
    }
}

/// One page of a SKU's ledger, oldest first, and the last entry's id when more follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerPage {
    pub entries: Vec<LedgerEntry>,
    pub next: Option<String>,
}

/// A change of a stock's on-hand units asked for by an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adjustment {
    /// On hand moves by `delta` (damaged, found, ...).
    Delta { delta: i64, reason: String },
    /// A physical count of `count` units taken at `as_of`: on hand becomes `count` plus the
    /// ledger's on-hand movements of this stock since `as_of` (shipments, receipts,
    /// adjustments made after the count was taken are kept).
    CountAsOf { count: u32, as_of: DateTime<Utc>, reason: String },
}

/// What `InventoryStore::adjust` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
// Answered once per request and matched at once: boxing the entry would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum AdjustOutcome {
    /// On hand is now `level.on_hand`; `entry` records it.
    Adjusted { level: crate::stock::StockLevel, entry: LedgerEntry },
    /// On hand would fall below the units held (or below zero, or past the bound):
    /// nothing changed.
    BelowHeld { held: u32, on_hand_after: i64 },
    /// A count of this stock was recorded after `as_of`: an older count cannot replace it.
    NewerCount { counted_at: DateTime<Utc> },
}

/// A stock's figures as stored, unchecked, for the reconciliation to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockFigures {
    pub warehouse: WarehouseId,
    pub owner: MerchantId,
    pub sku: Sku,
    pub on_hand: i64,
    pub held: i64,
    pub available: i64,
    /// Of `held`, the units flash sales set aside that no claim's order holds yet.
    pub set_aside: i64,
}

/// Units of one stock held by one open hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenHold {
    pub hold: HoldRef,
    pub warehouse: WarehouseId,
    pub owner: MerchantId,
    pub sku: Sku,
    pub quantity: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(q: u32) -> AllocatedLine {
        AllocatedLine {
            warehouse: WarehouseId::parse("wh-1").unwrap(),
            owner: MerchantId::parse("m-1").unwrap(),
            sku: Sku::parse("SKU-1").unwrap(),
            quantity: q,
            transfer_price: None,
        }
    }

    #[test]
    fn kinds_read_back_from_their_names() {
        for kind in LedgerKind::ALL {
            assert_eq!(LedgerKind::parse(kind.as_str()), Ok(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert!(LedgerKind::parse("steal").is_err());
        assert_eq!(HoldKind::parse("flash_sale"), Ok(HoldKind::FlashSale));
    }

    #[test]
    fn a_shipment_takes_its_units_out_of_on_hand_and_held() {
        let order = OrderId::parse("ord_1").unwrap();
        let shipped = LedgerLine::ship(&order, &line(3), "shipped");
        assert_eq!((shipped.kind, shipped.delta_on_hand, shipped.delta_held), (LedgerKind::Ship, -3, -3));
        assert_eq!(shipped.hold, Some(HoldRef::order(&order)));
    }

    #[test]
    fn taking_set_aside_units_moves_them_between_holds_and_leaves_held_as_it_was() {
        let order = OrderId::parse("ord_1").unwrap();
        let [out, into] = LedgerLine::from_set_aside(&order, &line(2));
        assert_eq!(out.delta_held + into.delta_held, 0);
        assert_eq!((out.kind, into.kind), (LedgerKind::SetAside, LedgerKind::Reserve));
    }

    #[test]
    fn entry_ids_made_after_a_moment_sort_after_its_floor() {
        let before = Utc::now() - chrono::Duration::milliseconds(5);
        assert!(new_entry_id() > entry_id_floor(before));
        assert!(entry_id_floor(before + chrono::Duration::seconds(10)) > new_entry_id());
    }

    #[test]
    fn entry_ids_made_one_after_another_increase() {
        let ids: Vec<String> = (0..1000).map(|_| new_entry_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn parts_used_leave_on_hand_and_hold_nothing() {
        let l = line(2);
        let used = LedgerLine::consume(&l.warehouse, &l.owner, &l.sku, 2, "repair rp_1");
        assert_eq!((used.kind, used.delta_on_hand, used.delta_held, used.hold), (LedgerKind::Consume, -2, 0, None));
        assert_eq!(used.reason, "used by repair rp_1");
    }

    #[test]
    fn a_long_reason_is_clipped() {
        let long = LedgerLine::adjust(&line(1).warehouse, &line(1).owner, &line(1).sku, -1, "x".repeat(500));
        assert_eq!(long.reason.len(), MAX_REASON_CHARS);
    }
}
