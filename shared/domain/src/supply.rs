//! Suppliers and purchase orders: where stock comes from when the shelf is short.
//!
//! A merchant's supplier has a lead time and the SKUs it supplies. A purchase order asks
//! one supplier for units of its SKUs into one of the merchant's warehouses by an expected
//! date; while it is open its units are *incoming*. A receipt records what arrived: the
//! order's received counts, the warehouse stock's on hand and a `receive` ledger entry per
//! line grow in one atomic write ([`SupplyStore::receive`](crate::ports::SupplyStore::receive)),
//! once per receipt id, never past what was ordered.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::ids::{PurchaseOrderId, ReceiptId, SupplierId};
use crate::ledger::LedgerLine;
use crate::lot::{LotReceipt, LotTag};
use crate::validation::{clean_text, refuse_hidden_text};
use crate::{MerchantId, Sku, ValidationError, WarehouseId};

/// Longest lead time a supplier may state, in days.
pub const MAX_LEAD_TIME_DAYS: u32 = 365;
/// Most SKUs one supplier lists.
pub const MAX_SUPPLIED_SKUS: usize = 500;
/// Most lines of a purchase order or of a receipt: a receipt of every line is one atomic
/// write (a DynamoDB transaction holds 100 items; a line takes three).
pub const MAX_PO_LINES: usize = 30;
/// Most units one line of a purchase order (or of a receipt) may name.
pub const MAX_PO_LINE_UNITS: u32 = 1_000_000;
/// Most receipts one purchase order records.
pub const MAX_RECEIPTS: usize = 100;
/// Longest supplier name or purchase order reference, in characters.
pub const MAX_SUPPLY_TEXT: usize = 200;
/// Furthest after it is placed that a purchase order may expect its units, in days (about
/// two years).
pub const MAX_EXPECTED_DAYS: i64 = 731;
/// How far before it is placed a purchase order may expect its units: a day, for the
/// caller's clock running behind ours.
pub const EXPECTED_SKEW_DAYS: i64 = 1;

/// Checks when a purchase order placed at `placed_at` expects its units: no earlier than
/// [`EXPECTED_SKEW_DAYS`] before, no later than [`MAX_EXPECTED_DAYS`] after. Errors name
/// `expected_at`.
pub fn check_expected_at(expected_at: DateTime<Utc>, placed_at: DateTime<Utc>) -> Result<(), ValidationError> {
    let earliest = placed_at - chrono::Duration::days(EXPECTED_SKEW_DAYS);
    let latest = placed_at + chrono::Duration::days(MAX_EXPECTED_DAYS);
    if expected_at < earliest || expected_at > latest {
        return Err(ValidationError::new(
            "expected_at",
            format!("must be from {earliest} (a day before now) to {latest} ({MAX_EXPECTED_DAYS} days after)"),
        ));
    }
    Ok(())
}

/// One SKU a supplier supplies, with its terms when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppliedSku {
    pub sku: Sku,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rust_decimal::serde::str_option")]
    pub unit_cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_order: Option<u32>,
}

/// A merchant's supplier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supplier {
    pub supplier_id: SupplierId,
    pub merchant_id: MerchantId,
    pub name: String,
    pub lead_time_days: u32,
    pub skus: Vec<SuppliedSku>,
}

impl Supplier {
    /// Checks the supplier: a name of 1 to 200 characters (none of them a control or
    /// text-direction character, [`refuse_hidden_text`]), a lead time of 0 to 365 days, at
    /// most 500 SKUs, each once, pack sizes and minimum orders of 1 to
    /// [`MAX_PO_LINE_UNITS`], costs not negative.
    pub fn new(
        supplier_id: SupplierId,
        merchant_id: MerchantId,
        name: &str,
        lead_time_days: i64,
        skus: Vec<SuppliedSku>,
    ) -> Result<Self, ValidationError> {
        refuse_hidden_text("name", name)?;
        let name = clean_text(name);
        if name.is_empty() || name.chars().count() > MAX_SUPPLY_TEXT {
            return Err(ValidationError::new("name", format!("must be 1 to {MAX_SUPPLY_TEXT} characters")));
        }
        let lead_time_days = u32::try_from(lead_time_days).ok().filter(|days| *days <= MAX_LEAD_TIME_DAYS).ok_or_else(|| {
            ValidationError::new("lead_time_days", format!("must be from 0 to {MAX_LEAD_TIME_DAYS}, got {lead_time_days}"))
        })?;
        if skus.len() > MAX_SUPPLIED_SKUS {
            return Err(ValidationError::new("skus", format!("at most {MAX_SUPPLIED_SKUS} SKUs")));
        }
        let mut seen = BTreeSet::new();
        for (i, supplied) in skus.iter().enumerate() {
            if !seen.insert(&supplied.sku) {
                return Err(ValidationError::new(format!("skus[{i}].sku"), format!("{} is listed twice", supplied.sku)));
            }
            if supplied.unit_cost.is_some_and(|c| c.is_sign_negative() && !c.is_zero()) {
                return Err(ValidationError::new(format!("skus[{i}].unit_cost"), "must not be negative"));
            }
            for (field, value) in [("pack_size", supplied.pack_size), ("min_order", supplied.min_order)] {
                if value.is_some_and(|v| v == 0 || v > MAX_PO_LINE_UNITS) {
                    return Err(ValidationError::new(format!("skus[{i}].{field}"), format!("must be 1 to {MAX_PO_LINE_UNITS}")));
                }
            }
        }
        Ok(Self { supplier_id, merchant_id, name, lead_time_days, skus })
    }

    pub fn supplies(&self, sku: &Sku) -> bool {
        self.skus.iter().any(|s| &s.sku == sku)
    }
}

/// Where a purchase order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoStatus {
    /// Nothing received yet.
    Open,
    /// Some units received, some still to come.
    PartiallyReceived,
    /// Every unit ordered was received.
    Received,
}

impl PoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PoStatus::Open => "open",
            PoStatus::PartiallyReceived => "partially_received",
            PoStatus::Received => "received",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "open" => Ok(PoStatus::Open),
            "partially_received" => Ok(PoStatus::PartiallyReceived),
            "received" => Ok(PoStatus::Received),
            other => Err(ValidationError::new("status", format!("{other:?} is not open, partially_received or received"))),
        }
    }

    /// Whether units are still to come (open or partially received).
    pub fn is_incoming(self) -> bool {
        self != PoStatus::Received
    }
}

impl fmt::Display for PoStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One SKU of a purchase order: units ordered and received so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoLine {
    pub sku: Sku,
    pub ordered: u32,
    pub received: u32,
}

impl PoLine {
    /// Units ordered and not received yet.
    pub fn outstanding(&self) -> u32 {
        self.ordered.saturating_sub(self.received)
    }
}

/// One SKU and a number of units: a line of a new purchase order or of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplyLine {
    pub sku: Sku,
    pub quantity: u32,
}

/// Checks lines of a purchase order or a receipt: 1 to [`MAX_PO_LINES`], each SKU once,
/// each quantity 1 to [`MAX_PO_LINE_UNITS`]. Errors name `lines[i].field`.
pub fn supply_lines(raw: Vec<(Sku, i64)>) -> Result<Vec<SupplyLine>, ValidationError> {
    lines_of_at_most(raw, MAX_PO_LINE_UNITS)
}

/// Checks lines as [`supply_lines`] does, each quantity 1 to `most`.
pub fn lines_of_at_most(raw: Vec<(Sku, i64)>, most: u32) -> Result<Vec<SupplyLine>, ValidationError> {
    if raw.is_empty() || raw.len() > MAX_PO_LINES {
        return Err(ValidationError::new("lines", format!("must hold 1 to {MAX_PO_LINES} lines")));
    }
    let mut seen = BTreeSet::new();
    let mut lines = Vec::with_capacity(raw.len());
    for (i, (sku, quantity)) in raw.into_iter().enumerate() {
        if !seen.insert(sku.clone()) {
            return Err(ValidationError::new(format!("lines[{i}].sku"), format!("{sku} is listed twice")));
        }
        let quantity = u32::try_from(quantity).ok().filter(|q| (1..=most).contains(q)).ok_or_else(|| {
            ValidationError::new(format!("lines[{i}].quantity"), format!("must be from 1 to {most}, got {quantity}"))
        })?;
        lines.push(SupplyLine { sku, quantity });
    }
    Ok(lines)
}

/// A purchase order: units of one supplier's SKUs coming into one warehouse, owned there
/// by the order's merchant once received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrder {
    pub purchase_order_id: PurchaseOrderId,
    pub merchant_id: MerchantId,
    pub supplier_id: SupplierId,
    pub warehouse: WarehouseId,
    pub lines: Vec<PoLine>,
    pub expected_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub status: PoStatus,
    pub created_at: DateTime<Utc>,
    /// The receipts applied, oldest first: a receipt id seen here is applied already.
    #[serde(default)]
    pub receipts: Vec<ReceiptId>,
    /// Bumped by every write; a receipt is written conditional on the version it read.
    #[serde(default)]
    pub version: u64,
}

/// Why a receipt was refused: nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptRefusal {
    #[error("{0} is not on this purchase order")]
    NotOrdered(Sku),
    #[error("{quantity} units of {sku} received, but only {outstanding} are still to come")]
    OverReceipt { sku: Sku, quantity: u32, outstanding: u32 },
    #[error("the warehouse stock of {0} cannot hold that many units")]
    StockFull(Sku),
    #[error("this purchase order has {MAX_RECEIPTS} receipts already")]
    TooManyReceipts,
}

/// A delivery received against a purchase order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub receipt_id: ReceiptId,
    pub lines: Vec<SupplyLine>,
    /// The lot of each line that named one, by the line's SKU.
    pub lots: BTreeMap<Sku, LotTag>,
    /// When the delivery was recorded: a lot's first receipt keeps it.
    pub received_at: DateTime<Utc>,
}

/// Goods a merchant brings into a warehouse without a purchase order (stocking its own
/// goods into a shared warehouse): applied once per (warehouse, owner, receipt id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoodsReceipt {
    pub warehouse: WarehouseId,
    /// The merchant whose stock the units join.
    pub owner: MerchantId,
    pub receipt: Receipt,
}

impl GoodsReceipt {
    /// The stock changes it makes: one `receive` per line, into the owner's stock.
    pub fn ledger_lines(&self) -> Vec<LedgerLine> {
        self.receipt
            .lines
            .iter()
            .map(|line| {
                LedgerLine::receive(
                    &self.warehouse,
                    &self.owner,
                    &line.sku,
                    line.quantity,
                    format!("goods receipt {}", self.receipt.receipt_id),
                )
            })
            .collect()
    }

    /// The lot units it brings into the owner's stocks.
    pub fn lot_receipts(&self) -> Vec<LotReceipt> {
        self.receipt.lot_receipts(&self.warehouse, &self.owner)
    }
}

impl Receipt {
    /// The first line whose lot is past its last day on `today`, if any.
    pub fn expired_lot(&self, today: chrono::NaiveDate) -> Option<(&Sku, &LotTag)> {
        self.lots.iter().find(|(_, tag)| tag.is_expired(today))
    }

    /// The lot units this receipt brings into `owner`'s stocks in `warehouse`.
    pub fn lot_receipts(&self, warehouse: &WarehouseId, owner: &MerchantId) -> Vec<LotReceipt> {
        self.lines
            .iter()
            .filter_map(|line| {
                self.lots.get(&line.sku).map(|tag| LotReceipt {
                    warehouse: warehouse.clone(),
                    owner: owner.clone(),
                    sku: line.sku.clone(),
                    tag: tag.clone(),
                    quantity: line.quantity,
                    received_at: self.received_at,
                })
            })
            .collect()
    }
}

impl PurchaseOrder {
    /// A new, open purchase order of `lines` at version 1.
    #[allow(clippy::too_many_arguments)]
    pub fn place(
        purchase_order_id: PurchaseOrderId,
        merchant_id: MerchantId,
        supplier_id: SupplierId,
        warehouse: WarehouseId,
        lines: &[SupplyLine],
        expected_at: DateTime<Utc>,
        reference: Option<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            purchase_order_id,
            merchant_id,
            supplier_id,
            warehouse,
            lines: lines.iter().map(|l| PoLine { sku: l.sku.clone(), ordered: l.quantity, received: 0 }).collect(),
            expected_at,
            reference,
            status: PoStatus::Open,
            created_at: now,
            receipts: Vec::new(),
            version: 1,
        }
    }

    /// Whether the receipt `id` was applied already.
    pub fn has_receipt(&self, id: &ReceiptId) -> bool {
        self.receipts.contains(id)
    }

    /// Units of `sku` still to come.
    pub fn outstanding(&self, sku: &Sku) -> u32 {
        self.lines.iter().filter(|l| &l.sku == sku).map(PoLine::outstanding).sum()
    }

    /// Applies `receipt` to a copy of this order: each line's received count grows, the
    /// status follows, the receipt is recorded and the version bumped. Answers the new
    /// order and the ledger lines of the stock it adds (one `receive` per line, owned by
    /// the order's merchant). Refused, with nothing changed, when a line names a SKU not
    /// ordered or more than is still to come, or the order has its most receipts.
    /// The caller checks for a duplicate receipt first ([`has_receipt`](Self::has_receipt)).
    pub fn receive(&self, receipt: &Receipt) -> Result<(PurchaseOrder, Vec<LedgerLine>), ReceiptRefusal> {
        if self.receipts.len() >= MAX_RECEIPTS {
            return Err(ReceiptRefusal::TooManyReceipts);
        }
        let mut next = self.clone();
        let mut ledger = Vec::with_capacity(receipt.lines.len());
        for line in &receipt.lines {
            let Some(po_line) = next.lines.iter_mut().find(|l| l.sku == line.sku) else {
                return Err(ReceiptRefusal::NotOrdered(line.sku.clone()));
            };
            if line.quantity > po_line.outstanding() {
                return Err(ReceiptRefusal::OverReceipt {
                    sku: line.sku.clone(),
                    quantity: line.quantity,
                    outstanding: po_line.outstanding(),
                });
            }
            po_line.received += line.quantity;
            ledger.push(LedgerLine::receive(
                &self.warehouse,
                &self.merchant_id,
                &line.sku,
                line.quantity,
                format!("received on purchase order {} (receipt {})", self.purchase_order_id, receipt.receipt_id),
            ));
        }
        next.status = if next.lines.iter().all(|l| l.outstanding() == 0) {
            PoStatus::Received
        } else if next.lines.iter().any(|l| l.received > 0) {
            PoStatus::PartiallyReceived
        } else {
            PoStatus::Open
        };
        next.receipts.push(receipt.receipt_id.clone());
        next.version += 1;
        Ok((next, ledger))
    }

    /// The incoming units of each line still to come.
    pub fn incoming(&self) -> Vec<Incoming> {
        self.lines
            .iter()
            .filter(|l| l.outstanding() > 0)
            .map(|l| Incoming {
                purchase_order_id: self.purchase_order_id.clone(),
                merchant_id: self.merchant_id.clone(),
                warehouse: self.warehouse.clone(),
                sku: l.sku.clone(),
                units: l.outstanding(),
                expected_at: self.expected_at,
            })
            .collect()
    }
}

/// Units of a SKU an open purchase order still brings into a warehouse, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incoming {
    pub purchase_order_id: PurchaseOrderId,
    pub merchant_id: MerchantId,
    pub warehouse: WarehouseId,
    pub sku: Sku,
    pub units: u32,
    pub expected_at: DateTime<Utc>,
}

/// What a listing of purchase orders asks for: one merchant's, matching every filter given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoQuery {
    pub merchant: MerchantId,
    pub sku: Option<Sku>,
    pub status: Option<PoStatus>,
}

impl PoQuery {
    pub fn matches(&self, po: &PurchaseOrder) -> bool {
        po.merchant_id == self.merchant
            && self.sku.as_ref().is_none_or(|sku| po.lines.iter().any(|l| &l.sku == sku))
            && self.status.is_none_or(|status| po.status == status)
    }
}

/// One page of purchase orders, oldest first, and the last one's id when more follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoPage {
    pub purchase_orders: Vec<PurchaseOrder>,
    pub next: Option<PurchaseOrderId>,
}

impl PoPage {
    /// The page from up to `limit + 1` matches, oldest first.
    pub fn from_matches(mut matches: Vec<PurchaseOrder>, limit: usize) -> Self {
        let more = matches.len() > limit;
        matches.truncate(limit);
        let next = if more { matches.last().map(|po| po.purchase_order_id.clone()) } else { None };
        Self { purchase_orders: matches, next }
    }
}

/// When stock of a SKU is expected: the earliest open purchase order's date, or else now
/// plus the shortest lead time of the merchant's suppliers of the SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedStock {
    pub at: DateTime<Utc>,
    pub source: ExpectedFrom,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedFrom {
    PurchaseOrder(PurchaseOrderId),
    LeadTime { supplier: SupplierId, days: u32 },
}

impl fmt::Display for ExpectedStock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        match &self.source {
            ExpectedFrom::PurchaseOrder(po) => write!(f, "stock expected by {at} (purchase order {po})"),
            ExpectedFrom::LeadTime { supplier, days } => {
                write!(f, "stock could arrive by {at} if ordered now (supplier {supplier}, lead time {days} days)")
            }
        }
    }
}

/// The earliest of `incoming` (of `merchant`'s units of `sku`), else the shortest lead
/// time of `suppliers` that supply `sku`, from `now`.
pub fn expected_stock(
    merchant: &MerchantId,
    sku: &Sku,
    incoming: &[Incoming],
    suppliers: &[Supplier],
    now: DateTime<Utc>,
) -> Option<ExpectedStock> {
    let earliest = incoming
        .iter()
        .filter(|i| &i.merchant_id == merchant && &i.sku == sku && i.units > 0)
        .min_by(|a, b| (a.expected_at, &a.purchase_order_id).cmp(&(b.expected_at, &b.purchase_order_id)));
    if let Some(po) = earliest {
        return Some(ExpectedStock { at: po.expected_at, source: ExpectedFrom::PurchaseOrder(po.purchase_order_id.clone()) });
    }
    suppliers
        .iter()
        .filter(|s| &s.merchant_id == merchant && s.supplies(sku))
        .min_by(|a, b| (a.lead_time_days, &a.supplier_id).cmp(&(b.lead_time_days, &b.supplier_id)))
        .map(|s| ExpectedStock {
            at: now + chrono::Duration::days(i64::from(s.lead_time_days)),
            source: ExpectedFrom::LeadTime { supplier: s.supplier_id.clone(), days: s.lead_time_days },
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::LedgerKind;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn po(lines: &[(&str, u32)]) -> PurchaseOrder {
        let lines: Vec<SupplyLine> = lines.iter().map(|(s, q)| SupplyLine { sku: sku(s), quantity: *q }).collect();
        PurchaseOrder::place(
            PurchaseOrderId::parse("po_1").unwrap(),
            MerchantId::parse("m-1").unwrap(),
            SupplierId::parse("sup-1").unwrap(),
            WarehouseId::parse("WH-A").unwrap(),
            &lines,
            "2026-12-05T00:00:00Z".parse().unwrap(),
            None,
            "2026-12-01T00:00:00Z".parse().unwrap(),
        )
    }

    fn receipt(id: &str, lines: &[(&str, u32)]) -> Receipt {
        Receipt {
            receipt_id: ReceiptId::parse(id).unwrap(),
            lines: lines.iter().map(|(s, q)| SupplyLine { sku: sku(s), quantity: *q }).collect(),
            lots: BTreeMap::new(),
            received_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn receipts_move_a_purchase_order_from_open_to_partially_received_to_received() {
        let open = po(&[("SKU-1", 10), ("SKU-2", 5)]);
        assert_eq!(open.status, PoStatus::Open);
        let (part, ledger) = open.receive(&receipt("r-1", &[("SKU-1", 4)])).unwrap();
        assert_eq!((part.status, part.outstanding(&sku("SKU-1")), part.version), (PoStatus::PartiallyReceived, 6, 2));
        assert_eq!(ledger.len(), 1);
        assert_eq!((ledger[0].kind, ledger[0].delta_on_hand, ledger[0].delta_held), (LedgerKind::Receive, 4, 0));
        assert!(part.has_receipt(&ReceiptId::parse("r-1").unwrap()));
        let (done, _) = part.receive(&receipt("r-2", &[("SKU-1", 6), ("SKU-2", 5)])).unwrap();
        assert_eq!(done.status, PoStatus::Received);
        assert!(done.incoming().is_empty());
    }

    #[test]
    fn a_receipt_past_what_is_still_to_come_or_of_another_sku_is_refused() {
        let (part, _) = po(&[("SKU-1", 10)]).receive(&receipt("r-1", &[("SKU-1", 8)])).unwrap();
        assert_eq!(
            part.receive(&receipt("r-2", &[("SKU-1", 3)])).unwrap_err(),
            ReceiptRefusal::OverReceipt { sku: sku("SKU-1"), quantity: 3, outstanding: 2 }
        );
        assert_eq!(part.receive(&receipt("r-2", &[("SKU-9", 1)])).unwrap_err(), ReceiptRefusal::NotOrdered(sku("SKU-9")));
    }

    #[test]
    fn lines_are_checked_naming_the_line() {
        assert!(supply_lines(vec![]).is_err());
        assert_eq!(supply_lines(vec![(sku("A"), 0)]).unwrap_err().field, "lines[0].quantity");
        assert_eq!(supply_lines(vec![(sku("A"), 1), (sku("A"), 2)]).unwrap_err().field, "lines[1].sku");
        assert_eq!(supply_lines(vec![(sku("A"), i64::from(MAX_PO_LINE_UNITS) + 1)]).unwrap_err().field, "lines[0].quantity");
        assert_eq!(supply_lines(vec![(sku("A"), 3)]).unwrap(), vec![SupplyLine { sku: sku("A"), quantity: 3 }]);
    }

    #[test]
    fn stock_is_expected_from_the_earliest_open_po_else_the_quickest_supplier() {
        let m = MerchantId::parse("m-1").unwrap();
        let now: DateTime<Utc> = "2026-12-01T00:00:00Z".parse().unwrap();
        let supplier = |id: &str, days: i64| {
            let supplied = vec![SuppliedSku { sku: sku("SKU-1"), unit_cost: None, pack_size: None, min_order: None }];
            Supplier::new(SupplierId::parse(id).unwrap(), m.clone(), "S", days, supplied).unwrap()
        };
        let suppliers = [supplier("slow", 9), supplier("quick", 3)];
        let by_lead = expected_stock(&m, &sku("SKU-1"), &[], &suppliers, now).unwrap();
        assert_eq!(by_lead.at, now + chrono::Duration::days(3));
        assert!(by_lead.to_string().contains("supplier quick"));
        let incoming = po(&[("SKU-1", 5)]).incoming();
        let by_po = expected_stock(&m, &sku("SKU-1"), &incoming, &suppliers, now).unwrap();
        assert_eq!(by_po.source, ExpectedFrom::PurchaseOrder(PurchaseOrderId::parse("po_1").unwrap()));
        assert_eq!(expected_stock(&m, &sku("SKU-2"), &incoming, &suppliers, now), None);
        let other = MerchantId::parse("m-2").unwrap();
        assert_eq!(expected_stock(&other, &sku("SKU-1"), &incoming, &suppliers, now), None);
    }

    #[test]
    fn a_supplier_is_checked_naming_the_field() {
        let id = || SupplierId::parse("sup-1").unwrap();
        let m = || MerchantId::parse("m-1").unwrap();
        assert_eq!(Supplier::new(id(), m(), " ", 3, vec![]).unwrap_err().field, "name");
        assert_eq!(Supplier::new(id(), m(), "Acme\u{202E}gnp", 3, vec![]).unwrap_err().field, "name");
        assert_eq!(Supplier::new(id(), m(), "Acme\nSupply", 3, vec![]).unwrap_err().field, "name");
        assert_eq!(Supplier::new(id(), m(), "S", -1, vec![]).unwrap_err().field, "lead_time_days");
        assert_eq!(Supplier::new(id(), m(), "S", 366, vec![]).unwrap_err().field, "lead_time_days");
        let twice = vec![
            SuppliedSku { sku: sku("A"), unit_cost: None, pack_size: None, min_order: None },
            SuppliedSku { sku: sku("A"), unit_cost: None, pack_size: Some(0), min_order: None },
        ];
        assert_eq!(Supplier::new(id(), m(), "S", 3, twice).unwrap_err().field, "skus[1].sku");
    }

    #[test]
    fn a_purchase_order_expects_its_units_from_a_day_before_it_is_placed_to_two_years_after() {
        let now: DateTime<Utc> = "2026-12-01T12:00:00Z".parse().unwrap();
        let at = |raw: &str| raw.parse::<DateTime<Utc>>().unwrap();
        assert!(check_expected_at(at("2026-11-30T12:00:00Z"), now).is_ok());
        assert!(check_expected_at(at("2028-12-01T12:00:00Z"), now).is_ok());
        for bad in ["1900-01-01T00:00:00Z", "2026-11-30T11:59:59Z", "2028-12-01T12:00:01Z", "9999-12-31T00:00:00Z"] {
            assert_eq!(check_expected_at(at(bad), now).unwrap_err().field, "expected_at", "{bad}");
        }
    }
}
