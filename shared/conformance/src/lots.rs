//! Lots: a receipt records its lots in its own write, once per receipt id; what remains of
//! each lot is taken first-expiry-first-out; the sweep writes an expired lot off once,
//! never below the units held.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use oms_domain::alert::{AlertKind, AlertStatus};
use oms_domain::ledger::{AdjustOutcome, Adjustment, LedgerKind};
use oms_domain::lot::{LotBalance, LotTag};
use oms_domain::ports::{Clock, GoodsReceiptOutcome, Ports, ReceiveOutcome};
use oms_domain::supply::{GoodsReceipt, Receipt, SupplyLine};
use oms_domain::usecases::lots::write_off_expired;
use oms_domain::ReceiptId;

use crate::fixtures::{hold, line, merchant, order_id, reserved, sku, warehouse_id};
use crate::inventory::{level, set, stock};
use crate::ledger::{assert_no_drift, entries};
use crate::supply::{placed, po};
use crate::Subject;

struct At(DateTime<Utc>);

impl Clock for At {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn ports_at(s: &Subject, now: DateTime<Utc>) -> Ports {
    Ports { clock: Arc::new(At(now)), ..crate::flash_sales::ports(s) }
}

fn day(d: &str) -> NaiveDate {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("a valid day")
}

fn hour(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).single().expect("a valid instant")
}

/// A receipt at `at` whose lines are (SKU, units, lot, expiry).
fn receipt(id: &str, at: DateTime<Utc>, lines: &[(&str, u32, Option<&str>, Option<&str>)]) -> Receipt {
    let mut lots = BTreeMap::new();
    for (s, _, lot, expires) in lines {
        if let Some(lot) = lot {
            lots.insert(sku(s), LotTag { lot: (*lot).to_owned(), expires_on: expires.map(day) });
        }
    }
    Receipt {
        receipt_id: ReceiptId::parse(id).expect("a valid id"),
        lines: lines.iter().map(|(s, q, _, _)| SupplyLine { sku: sku(s), quantity: *q }).collect(),
        lots,
        received_at: at,
    }
}

fn goods(warehouse: &str, owner: &str, receipt: Receipt) -> GoodsReceipt {
    GoodsReceipt { warehouse: warehouse_id(warehouse), owner: merchant(owner), receipt }
}

async fn receive_goods(s: &Subject, receipt: GoodsReceipt) -> GoodsReceiptOutcome {
    s.supply.receive_goods(&receipt).await.expect("receive_goods failed")
}

/// Receives goods, insisting that they are applied.
async fn received(s: &Subject, receipt: GoodsReceipt) {
    let outcome = receive_goods(s, receipt).await;
    assert!(matches!(outcome, GoodsReceiptOutcome::Received(_)), "{outcome:?}");
}

async fn lots(s: &Subject, sku_id: &str) -> Vec<LotBalance> {
    s.inventory.lots_of(&sku(sku_id)).await.expect("lots_of failed")
}

/// (warehouse, owner, lot, received, remaining) of each lot, as listed.
fn remaining(lots: &[LotBalance]) -> Vec<(String, String, String, u32, u32)> {
    lots.iter().map(|l| (l.warehouse.to_string(), l.owner.to_string(), l.lot.clone(), l.received, l.remaining)).collect()
}

fn row(warehouse: &str, owner: &str, lot: &str, received: u32, remaining: u32) -> (String, String, String, u32, u32) {
    (warehouse.into(), owner.into(), lot.into(), received, remaining)
}

pub async fn receipts_record_their_lots_once_under_a_duplicate_receipt_id(s: Subject) {
    // A purchase order's receipt, sent twice.
    let order = po("m-1", "WH-A", &[("SKU-1", 10), ("SKU-2", 4)], None);
    placed(&s, &order).await;
    let first = receipt("r-1", hour(9), &[("SKU-1", 6, Some("L-1"), Some("2027-01-31")), ("SKU-2", 4, None, None)]);
    let outcome = s.supply.receive(&order.purchase_order_id, &first).await.expect("receive failed");
    assert!(matches!(outcome, ReceiveOutcome::Received(..)), "{outcome:?}");
    let again = receipt("r-1", hour(10), &[("SKU-1", 6, Some("L-1"), Some("2027-01-31")), ("SKU-2", 4, None, None)]);
    let outcome = s.supply.receive(&order.purchase_order_id, &again).await.expect("receive failed");
    assert!(matches!(outcome, ReceiveOutcome::Duplicate(_)), "{outcome:?}");
    // A goods receipt with no purchase order adds to the same lot, sent twice too.
    let direct = || goods("WH-A", "m-1", receipt("gr-1", hour(11), &[("SKU-1", 3, Some("L-1"), Some("2027-02-28"))]));
    assert!(matches!(receive_goods(&s, direct()).await, GoodsReceiptOutcome::Received(ref e) if e.len() == 1));
    assert_eq!(receive_goods(&s, direct()).await, GoodsReceiptOutcome::Duplicate);
    // The same receipt id of another owner in that warehouse is its own receipt.
    let theirs = goods("WH-A", "m-2", receipt("gr-1", hour(12), &[("SKU-1", 2, Some("T-1"), None)]));
    assert!(matches!(receive_goods(&s, theirs).await, GoodsReceiptOutcome::Received(_)));

    let listed = lots(&s, "SKU-1").await;
    assert_eq!(remaining(&listed), vec![row("WH-A", "m-1", "L-1", 9, 9), row("WH-A", "m-2", "T-1", 2, 2)]);
    assert_eq!((listed[0].received_at, listed[0].expires_on), (hour(9), Some(day("2027-01-31"))), "the first receipt's");
    assert!(lots(&s, "SKU-2").await.is_empty(), "a line with no lot records none");
    assert_eq!(stock(&s, "SKU-1").await[0], level("WH-A", "SKU-1", 9, 0));
    let kinds: Vec<_> = entries(&s, "SKU-1").await.iter().map(|e| (e.kind, e.delta_on_hand)).collect();
    assert_eq!(kinds, vec![(LedgerKind::Receive, 6), (LedgerKind::Receive, 3), (LedgerKind::Receive, 2)]);
    assert_no_drift(&s).await;
}

pub async fn a_goods_receipt_past_the_stock_bound_writes_nothing(s: Subject) {
    set(&s, "WH-A", "SKU-2", oms_domain::stock::MAX_ON_HAND - 1).await;
    let full = goods("WH-A", "m-1", receipt("gr-1", hour(9), &[("SKU-1", 5, Some("L-1"), None), ("SKU-2", 2, None, None)]));
    assert_eq!(receive_goods(&s, full).await, GoodsReceiptOutcome::StockFull(sku("SKU-2")));
    assert!(stock(&s, "SKU-1").await.is_empty());
    assert!(lots(&s, "SKU-1").await.is_empty());
    // Nothing was marked applied: the receipt within the bound goes through.
    let fits = goods("WH-A", "m-1", receipt("gr-1", hour(9), &[("SKU-1", 5, Some("L-1"), None), ("SKU-2", 1, None, None)]));
    assert!(matches!(receive_goods(&s, fits).await, GoodsReceiptOutcome::Received(_)));
    assert_no_drift(&s).await;
}

pub async fn units_leaving_a_stock_are_taken_from_the_lot_expiring_first(s: Subject) {
    let lines = [("SKU-1", 10, Some("LATE"), Some("2027-03-01")), ("SKU-2", 1, None, None)];
    received(&s, goods("WH-A", "m-1", receipt("gr-1", hour(8), &lines))).await;
    received(&s, goods("WH-A", "m-1", receipt("gr-2", hour(9), &[("SKU-1", 10, Some("EARLY"), Some("2027-01-01"))]))).await;
    received(&s, goods("WH-A", "m-1", receipt("gr-3", hour(10), &[("SKU-1", 5, Some("KEEPS"), None)]))).await;
    // An adjustment down (a shipment's units leave the same way).
    let down = Adjustment::Delta { delta: -12, reason: "damaged".into() };
    let outcome = s.inventory.adjust(&warehouse_id("WH-A"), &merchant("m-1"), &sku("SKU-1"), &down).await.expect("adjust failed");
    assert!(matches!(outcome, AdjustOutcome::Adjusted { .. }), "{outcome:?}");
    assert_eq!(
        remaining(&lots(&s, "SKU-1").await),
        vec![row("WH-A", "m-1", "EARLY", 10, 0), row("WH-A", "m-1", "LATE", 10, 8), row("WH-A", "m-1", "KEEPS", 5, 5)]
    );
    // Units counted in with no lot belong to none: the lots stay whole beneath them.
    let up = Adjustment::Delta { delta: 20, reason: "found".into() };
    let _ = s.inventory.adjust(&warehouse_id("WH-A"), &merchant("m-1"), &sku("SKU-1"), &up).await.expect("adjust failed");
    assert_eq!(
        remaining(&lots(&s, "SKU-1").await),
        vec![row("WH-A", "m-1", "EARLY", 10, 10), row("WH-A", "m-1", "LATE", 10, 10), row("WH-A", "m-1", "KEEPS", 5, 5)]
    );
    assert_no_drift(&s).await;
}

pub async fn lots_of_are_listed_by_warehouse_owner_then_expiry_with_none_last(s: Subject) {
    let receive =
        |warehouse: &'static str, owner: &'static str, id: &'static str, h: u32, lot: &'static str, exp: Option<&'static str>| {
            goods(warehouse, owner, receipt(id, hour(h), &[("SKU-1", 2, Some(lot), exp)]))
        };
    for g in [
        receive("WH-B", "m-1", "g1", 1, "B1", None),
        receive("WH-A", "m-2", "g2", 2, "A2", Some("2027-01-01")),
        receive("WH-A", "m-1", "g3", 3, "NONE", None),
        receive("WH-A", "m-1", "g4", 4, "LATER", Some("2027-06-01")),
        receive("WH-A", "m-1", "g5", 6, "SOON-NEW", Some("2027-01-01")),
        receive("WH-A", "m-1", "g6", 5, "SOON-OLD", Some("2027-01-01")),
    ] {
        assert!(matches!(receive_goods(&s, g).await, GoodsReceiptOutcome::Received(_)));
    }
    let order: Vec<_> =
        lots(&s, "SKU-1").await.into_iter().map(|l| (l.warehouse.to_string(), l.owner.to_string(), l.lot)).collect();
    let expected = [
        ("WH-A", "m-1", "SOON-OLD"),
        ("WH-A", "m-1", "SOON-NEW"),
        ("WH-A", "m-1", "LATER"),
        ("WH-A", "m-1", "NONE"),
        ("WH-A", "m-2", "A2"),
        ("WH-B", "m-1", "B1"),
    ];
    assert_eq!(order, expected.map(|(w, o, l)| (w.to_owned(), o.to_owned(), l.to_owned())));
    assert!(lots(&s, "SKU-9").await.is_empty());
}

pub async fn the_sweep_writes_an_expired_lot_off_once_never_below_the_units_held(s: Subject) {
    let lines = [("SKU-1", 10, Some("OLD"), Some("2026-12-01"))];
    received(&s, goods("WH-A", "m-1", receipt("gr-1", hour(8), &lines))).await;
    received(&s, goods("WH-A", "m-1", receipt("gr-2", hour(9), &[("SKU-1", 4, Some("NEW"), Some("2027-12-01"))]))).await;
    received(&s, goods("WH-A", "m-1", receipt("gr-3", hour(9), &[("SKU-2", 6, Some("GONE"), Some("2026-12-01"))]))).await;
    // An order holds 12 of SKU-1: 2 of them can only be the expired lot's.
    let order = order_id();
    let _ = reserved(s.inventory.reserve(&order, &hold([line("WH-A", "SKU-1", 12)])).await.expect("reserve failed"));

    // Its last day: nothing expired yet.
    assert!(write_off_expired(&ports_at(&s, hour(23))).await.expect("sweep failed").is_empty());
    let next_day = hour(1) + Duration::days(1);
    let done = write_off_expired(&ports_at(&s, next_day)).await.expect("sweep failed");
    let summary: Vec<_> = done.iter().map(|d| (d.sku.to_string(), d.lot.clone(), d.written_off, d.held)).collect();
    assert_eq!(summary, vec![("SKU-1".into(), "OLD".into(), 2, 8), ("SKU-2".into(), "GONE".into(), 6, 0)]);
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-A", "SKU-1", 12, 12)]);
    assert_eq!(stock(&s, "SKU-2").await, vec![level("WH-A", "SKU-2", 0, 0)]);
    let written: Vec<_> = entries(&s, "SKU-1")
        .await
        .into_iter()
        .filter(|e| e.kind == LedgerKind::Adjust)
        .map(|e| (e.delta_on_hand, e.reason))
        .collect();
    assert_eq!(written, vec![(-2, "expired lot OLD".to_owned())]);
    let alerts = s.alerts.list_alerts(AlertStatus::Open, None, None, 10).await.expect("list_alerts failed").alerts;
    let held: Vec<_> = alerts.iter().filter(|a| a.kind == AlertKind::ExpiredStockHeld).map(|a| a.subject.clone()).collect();
    assert_eq!(held, vec!["WH-A#m-1#SKU-1#OLD".to_owned()]);

    // Once: again that day, or any later day, changes nothing.
    assert!(write_off_expired(&ports_at(&s, next_day + Duration::hours(5))).await.expect("sweep failed").is_empty());
    let later = write_off_expired(&ports_at(&s, next_day + Duration::days(1))).await.expect("sweep failed");
    assert!(later.iter().all(|d| d.written_off == 0), "{later:?}");
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-A", "SKU-1", 12, 12)]);
    assert_eq!(entries(&s, "SKU-2").await.iter().filter(|e| e.kind == LedgerKind::Adjust).count(), 1);
    assert_no_drift(&s).await;
}

pub async fn the_same_goods_receipt_sent_at_once_is_applied_once(s: Subject) {
    let supply = Arc::clone(&s.supply);
    let outcomes = crate::concurrency::race(6, |_| {
        let supply = Arc::clone(&supply);
        async move {
            let sent = goods("WH-A", "m-1", receipt("gr-1", hour(9), &[("SKU-1", 5, Some("L-1"), None)]));
            supply.receive_goods(&sent).await.expect("receive_goods failed")
        }
    })
    .await;
    let applied = outcomes.iter().filter(|o| matches!(o, GoodsReceiptOutcome::Received(_))).count();
    assert_eq!(applied, 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|o| matches!(o, GoodsReceiptOutcome::Received(_) | GoodsReceiptOutcome::Duplicate)));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-A", "SKU-1", 5, 0)]);
    assert_eq!(remaining(&lots(&s, "SKU-1").await), vec![row("WH-A", "m-1", "L-1", 5, 5)]);
    assert_no_drift(&s).await;
}
