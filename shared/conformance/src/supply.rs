//! Suppliers and purchase orders: a supplier is never taken over, a reference places one
//! order, and a receipt grows the order, the stock and the ledger together, once per
//! receipt id, never past what was ordered, even when receipts race.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use oms_domain::ledger::LedgerKind;
use oms_domain::ports::{CreatePoOutcome, PutSupplier, ReceiveOutcome};
use oms_domain::supply::{PoQuery, PoStatus, PurchaseOrder, Receipt, ReceiptRefusal, SuppliedSku, Supplier, SupplyLine};
use oms_domain::{PurchaseOrderId, ReceiptId, SupplierId};

use crate::concurrency::race;
use crate::fixtures::{merchant, sku, warehouse_id};
use crate::inventory::{level, set, stock};
use crate::ledger::{assert_no_drift, entries};
use crate::Subject;

fn supplier(id: &str, owner: &str, lead_time_days: i64, skus: &[&str]) -> Supplier {
    let skus = skus.iter().map(|s| SuppliedSku { sku: sku(s), unit_cost: None, pack_size: None, min_order: None }).collect();
    Supplier::new(SupplierId::parse(id).expect("a valid id"), merchant(owner), "Acme Supply", lead_time_days, skus)
        .expect("a valid supplier")
}

fn expected() -> DateTime<Utc> {
    "2026-12-05T09:00:00Z".parse().expect("a valid time")
}

pub(crate) fn po(owner: &str, warehouse: &str, lines: &[(&str, u32)], reference: Option<&str>) -> PurchaseOrder {
    let lines: Vec<SupplyLine> = lines.iter().map(|(s, q)| SupplyLine { sku: sku(s), quantity: *q }).collect();
    PurchaseOrder::place(
        PurchaseOrderId::generate(),
        merchant(owner),
        SupplierId::parse("sup-1").expect("a valid id"),
        warehouse_id(warehouse),
        &lines,
        expected(),
        reference.map(str::to_owned),
        crate::fixtures::noon(),
    )
}

fn receipt(id: &str, lines: &[(&str, u32)]) -> Receipt {
    Receipt {
        receipt_id: ReceiptId::parse(id).expect("a valid id"),
        lines: lines.iter().map(|(s, q)| SupplyLine { sku: sku(s), quantity: *q }).collect(),
        lots: std::collections::BTreeMap::new(),
        received_at: chrono::Utc::now(),
    }
}

pub(crate) async fn placed(s: &Subject, po: &PurchaseOrder) {
    assert_eq!(s.supply.create_purchase_order(po).await.expect("create_purchase_order failed"), CreatePoOutcome::Created);
}

async fn stored_po(s: &Subject, id: &PurchaseOrderId) -> PurchaseOrder {
    s.supply.get_purchase_order(id).await.expect("get_purchase_order failed").expect("the purchase order is stored")
}

pub async fn a_supplier_reads_back_is_listed_per_merchant_and_is_never_taken_over(s: Subject) {
    let mine = supplier("sup-1", "m-1", 4, &["SKU-1", "SKU-2"]);
    assert_eq!(s.supply.put_supplier(&mine).await.expect("put_supplier failed"), PutSupplier::Created);
    let quicker = supplier("sup-1", "m-1", 2, &["SKU-1"]);
    assert_eq!(s.supply.put_supplier(&quicker).await.expect("put_supplier failed"), PutSupplier::Updated);
    let theirs = supplier("sup-1", "m-2", 1, &["SKU-9"]);
    assert_eq!(s.supply.put_supplier(&theirs).await.expect("put_supplier failed"), PutSupplier::OwnedByAnother);
    let id = SupplierId::parse("sup-1").expect("a valid id");
    assert_eq!(s.supply.get_supplier(&id).await.expect("get_supplier failed"), Some(quicker.clone()));
    assert_eq!(s.supply.get_supplier(&SupplierId::parse("nobody").expect("id")).await.expect("get failed"), None);
    let other = supplier("sup-0", "m-1", 9, &["SKU-3"]);
    assert_eq!(s.supply.put_supplier(&other).await.expect("put_supplier failed"), PutSupplier::Created);
    assert_eq!(s.supply.suppliers_of(&merchant("m-1")).await.expect("suppliers_of failed"), vec![other, quicker]);
    assert!(s.supply.suppliers_of(&merchant("m-2")).await.expect("suppliers_of failed").is_empty());
}

pub async fn a_purchase_order_reads_back_its_units_are_incoming_and_lists_filter_before_the_page(s: Subject) {
    let first = po("m-1", "WH-A", &[("SKU-1", 10), ("SKU-2", 4)], None);
    let second = po("m-1", "WH-A", &[("SKU-2", 6)], None);
    let third = po("m-1", "WH-B", &[("SKU-1", 3)], None);
    let theirs = po("m-2", "WH-C", &[("SKU-1", 7)], None);
    for order in [&first, &second, &third, &theirs] {
        placed(&s, order).await;
    }
    assert_eq!(stored_po(&s, &first.purchase_order_id).await, first);
    let incoming = s.supply.incoming(&sku("SKU-1")).await.expect("incoming failed");
    let mut units: Vec<(String, String, u32)> =
        incoming.iter().map(|i| (i.merchant_id.to_string(), i.warehouse.to_string(), i.units)).collect();
    units.sort();
    assert_eq!(units, [("m-1".into(), "WH-A".into(), 10), ("m-1".into(), "WH-B".into(), 3), ("m-2".into(), "WH-C".into(), 7)]);
    assert!(incoming.iter().all(|i| i.expected_at == expected()));

    // m-1's orders with SKU-1: first and third (second has none), a page of one at a time.
    let query = PoQuery { merchant: merchant("m-1"), sku: Some(sku("SKU-1")), status: Some(PoStatus::Open) };
    let page = s.supply.purchase_orders(&query, None, 1).await.expect("purchase_orders failed");
    assert_eq!(page.purchase_orders, vec![first.clone()]);
    let next = page.next.expect("a second page");
    let page = s.supply.purchase_orders(&query, Some(&next), 1).await.expect("purchase_orders failed");
    assert_eq!((page.purchase_orders, page.next), (vec![third.clone()], None));
    let all = PoQuery { merchant: merchant("m-1"), sku: None, status: None };
    assert_eq!(s.supply.purchase_orders(&all, None, 10).await.expect("list failed").purchase_orders.len(), 3);
    let received = PoQuery { status: Some(PoStatus::Received), ..all };
    assert!(s.supply.purchase_orders(&received, None, 10).await.expect("list failed").purchase_orders.is_empty());
}

pub async fn a_reference_used_again_answers_the_first_purchase_order_and_writes_nothing(s: Subject) {
    let first = po("m-1", "WH-A", &[("SKU-1", 10)], Some("REF-7"));
    placed(&s, &first).await;
    let again = po("m-1", "WH-A", &[("SKU-1", 99)], Some("REF-7"));
    assert_eq!(
        s.supply.create_purchase_order(&again).await.expect("create failed"),
        CreatePoOutcome::Duplicate(Box::new(first.clone()))
    );
    assert_eq!(s.supply.get_purchase_order(&again.purchase_order_id).await.expect("get failed"), None);
    let units: u32 = s.supply.incoming(&sku("SKU-1")).await.expect("incoming failed").iter().map(|i| i.units).sum();
    assert_eq!(units, 10);
    // Another merchant's reference of the same text is its own.
    placed(&s, &po("m-2", "WH-B", &[("SKU-1", 1)], Some("REF-7"))).await;
}

pub async fn a_receipt_grows_the_order_the_stock_and_the_ledger_together_and_reconciles(s: Subject) {
    set(&s, "WH-A", "SKU-1", 2).await;
    let order = po("m-1", "WH-A", &[("SKU-1", 10), ("SKU-2", 5)], None);
    placed(&s, &order).await;
    let outcome = s.supply.receive(&order.purchase_order_id, &receipt("r-1", &[("SKU-1", 4), ("SKU-2", 5)])).await;
    let ReceiveOutcome::Received(now, written) = outcome.expect("receive failed") else { panic!("not received") };
    assert_eq!((now.status, now.version, now.outstanding(&sku("SKU-1"))), (PoStatus::PartiallyReceived, 2, 6));
    assert_eq!(written.len(), 2);
    assert_eq!(stored_po(&s, &order.purchase_order_id).await, *now);
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-A", "SKU-1", 6, 0)]);
    assert_eq!(stock(&s, "SKU-2").await, vec![level("WH-A", "SKU-2", 5, 0)], "a never counted stock starts at 0");
    let received: Vec<(LedgerKind, i64)> = entries(&s, "SKU-1").await.iter().map(|e| (e.kind, e.delta_on_hand)).collect();
    assert_eq!(received, [(LedgerKind::Recount, 2), (LedgerKind::Receive, 4)]);
    let incoming = s.supply.incoming(&sku("SKU-1")).await.expect("incoming failed");
    assert_eq!(incoming.iter().map(|i| i.units).collect::<Vec<_>>(), [6]);
    assert!(s.supply.incoming(&sku("SKU-2")).await.expect("incoming failed").is_empty(), "SKU-2 is all in");

    let done = s.supply.receive(&order.purchase_order_id, &receipt("r-2", &[("SKU-1", 6)])).await.expect("receive failed");
    let ReceiveOutcome::Received(done, _) = done else { panic!("not received") };
    assert_eq!(done.status, PoStatus::Received);
    assert!(s.supply.incoming(&sku("SKU-1")).await.expect("incoming failed").is_empty());
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-A", "SKU-1", 12, 0)]);
    assert_no_drift(&s).await;
}

pub async fn the_same_receipt_id_again_is_applied_once(s: Subject) {
    let order = po("m-1", "WH-A", &[("SKU-1", 10)], None);
    placed(&s, &order).await;
    let first = s.supply.receive(&order.purchase_order_id, &receipt("r-1", &[("SKU-1", 3)])).await.expect("receive failed");
    assert!(matches!(first, ReceiveOutcome::Received(..)), "{first:?}");
    let again = s.supply.receive(&order.purchase_order_id, &receipt("r-1", &[("SKU-1", 3)])).await.expect("receive failed");
    let ReceiveOutcome::Duplicate(now) = again else { panic!("not a duplicate: {again:?}") };
    assert_eq!((now.outstanding(&sku("SKU-1")), now.version), (7, 2));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-A", "SKU-1", 3, 0)]);
    assert_eq!(entries(&s, "SKU-1").await.len(), 1);
    let unknown = PurchaseOrderId::parse("po_unknown").expect("a valid id");
    assert_eq!(
        s.supply.receive(&unknown, &receipt("r-1", &[("SKU-1", 1)])).await.expect("receive failed"),
        ReceiveOutcome::NotFound
    );
}

pub async fn an_over_receipt_or_a_sku_not_ordered_changes_nothing(s: Subject) {
    let order = po("m-1", "WH-A", &[("SKU-1", 10), ("SKU-2", 2)], None);
    placed(&s, &order).await;
    // The first line fits; the second is one over: nothing of either is written.
    let over = s.supply.receive(&order.purchase_order_id, &receipt("r-1", &[("SKU-1", 5), ("SKU-2", 3)])).await;
    assert_eq!(
        over.expect("receive failed"),
        ReceiveOutcome::Refused(ReceiptRefusal::OverReceipt { sku: sku("SKU-2"), quantity: 3, outstanding: 2 })
    );
    let stray = s.supply.receive(&order.purchase_order_id, &receipt("r-2", &[("SKU-9", 1)])).await;
    assert_eq!(stray.expect("receive failed"), ReceiveOutcome::Refused(ReceiptRefusal::NotOrdered(sku("SKU-9"))));
    assert_eq!(stored_po(&s, &order.purchase_order_id).await, order);
    assert!(stock(&s, "SKU-1").await.is_empty());
    assert!(entries(&s, "SKU-1").await.is_empty());
    // The refused receipt id is free: the same id with a fitting receipt is applied.
    let fits = s.supply.receive(&order.purchase_order_id, &receipt("r-1", &[("SKU-2", 2)])).await.expect("receive failed");
    assert!(matches!(fits, ReceiveOutcome::Received(..)), "{fits:?}");
}

pub async fn concurrent_receipts_on_one_purchase_order_never_exceed_what_was_ordered(s: Subject) {
    let order = po("m-1", "WH-A", &[("SKU-1", 10)], None);
    placed(&s, &order).await;
    let supply = Arc::clone(&s.supply);
    let outcomes = race(6, |i| {
        let (supply, id) = (Arc::clone(&supply), order.purchase_order_id.clone());
        async move { supply.receive(&id, &receipt(&format!("r-{i}"), &[("SKU-1", 3)])).await.expect("receive failed") }
    })
    .await;
    let received = outcomes.iter().filter(|o| matches!(o, ReceiveOutcome::Received(..))).count();
    assert_eq!(received, 3, "three receipts of 3 fit in 10: {outcomes:?}");
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, ReceiveOutcome::Received(..) | ReceiveOutcome::Refused(ReceiptRefusal::OverReceipt { .. }))));
    let now = stored_po(&s, &order.purchase_order_id).await;
    assert_eq!((now.outstanding(&sku("SKU-1")), now.receipts.len()), (1, 3));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-A", "SKU-1", 9, 0)]);
    assert_no_drift(&s).await;
}
