//! The stock ledger: every change of a stock's figures appends its entry in the same write,
//! adjustments and as-of counts keep what moved since, and the reconciliation finds the
//! figures, the holds and the ledger agreeing.

use chrono::Utc;
use oms_domain::ledger::{AdjustOutcome, Adjustment, HoldRef, LedgerEntry, LedgerKind};
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::{Effects, HoldEffect, InsertOutcome, UpdateOutcome};
use oms_domain::usecases::reconcile::{self, Report};

use crate::fixtures::{hold, line, merchant, noon, order, owned_line, reserved, sku, stored, warehouse_id};
use crate::inventory::{level, set, set_owned, stock};
use crate::Subject;

/// Every entry of the SKU's ledger, oldest first.
pub(crate) async fn entries(s: &Subject, sku_id: &str) -> Vec<LedgerEntry> {
    reconcile::whole_ledger(&crate::flash_sales::ports(s), &sku(sku_id)).await.expect("ledger failed")
}

/// The reconciliation of the whole store.
pub(crate) async fn reconciled(s: &Subject) -> Report {
    reconcile::reconcile(&crate::flash_sales::ports(s)).await.expect("reconcile failed")
}

/// Insists the reconciliation finds no drift.
pub(crate) async fn assert_no_drift(s: &Subject) -> Report {
    let report = reconciled(s).await;
    assert!(report.is_clean(), "{report}");
    report
}

fn kinds(entries: &[LedgerEntry]) -> Vec<(LedgerKind, i64, i64)> {
    entries.iter().map(|e| (e.kind, e.delta_on_hand, e.delta_held)).collect()
}

async fn adjust(s: &Subject, warehouse: &str, sku_id: &str, adjustment: Adjustment) -> AdjustOutcome {
    s.inventory.adjust(&warehouse_id(warehouse), &merchant("m-1"), &sku(sku_id), &adjustment).await.expect("adjust failed")
}

fn delta(delta: i64, reason: &str) -> Adjustment {
    Adjustment::Delta { delta, reason: reason.into() }
}

pub async fn every_stock_change_appends_its_ledger_entry_in_the_same_write(s: Subject) {
    set(&s, "WH-A", "SKU-1", 10).await;
    let placed = order(Channel::Generic, "L-1");
    assert_eq!(s.orders.insert_order(&placed).await.expect("insert_order failed"), InsertOutcome::Inserted);
    let hold_id =
        reserved(s.inventory.reserve(&placed.order_id, &hold([line("WH-A", "SKU-1", 3)])).await.expect("reserve failed"));
    let other = order(Channel::Generic, "L-2");
    assert_eq!(s.orders.insert_order(&other).await.expect("insert_order failed"), InsertOutcome::Inserted);
    let other_hold =
        reserved(s.inventory.reserve(&other.order_id, &hold([line("WH-A", "SKU-1", 2)])).await.expect("reserve failed"));
    assert!(s.inventory.release(&other.order_id, &other_hold).await.is_ok());
    // A cancel for an unpaid hold past its time gives the stock back as an expiry.
    let mut expired = stored(&placed);
    expired.transition(OrderStatus::Cancelled, noon(), "payment_expired").expect("a valid move");
    let effects = Effects { send: vec![], hold: HoldEffect::Release(hold_id), sale: None };
    assert_eq!(
        s.orders.update_order_with(&expired, &effects).await.expect("update failed"),
        UpdateOutcome::Updated { version: 2 }
    );
    let AdjustOutcome::Adjusted { level: after, entry } = adjust(&s, "WH-A", "SKU-1", delta(-1, "damaged")).await else {
        panic!("the adjustment was refused")
    };
    assert_eq!(after, level("WH-A", "SKU-1", 9, 0));
    assert_eq!((entry.kind, entry.delta_on_hand, entry.reason.as_str()), (LedgerKind::Adjust, -1, "damaged"));
    set(&s, "WH-A", "SKU-1", 12).await;

    let found = entries(&s, "SKU-1").await;
    assert_eq!(
        kinds(&found),
        [
            (LedgerKind::Recount, 10, 0),
            (LedgerKind::Reserve, 0, 3),
            (LedgerKind::Reserve, 0, 2),
            (LedgerKind::Release, 0, -2),
            (LedgerKind::Expire, 0, -3),
            (LedgerKind::Adjust, -1, 0),
            (LedgerKind::Recount, 3, 0),
        ]
    );
    assert_eq!(found[1].hold, Some(HoldRef::order(&placed.order_id)));
    assert_eq!(found[3].hold, Some(HoldRef::order(&other.order_id)));
    assert!(found[4].reason.contains("payment_expired"), "{}", found[4].reason);
    assert!(found.windows(2).all(|w| w[0].entry_id < w[1].entry_id), "oldest first");
    let report = assert_no_drift(&s).await;
    assert_eq!((report.stocks, report.entries), (1, 7));
}

pub async fn an_adjustment_below_the_units_held_is_refused_and_writes_nothing(s: Subject) {
    set(&s, "WH-A", "SKU-1", 5).await;
    let placed = order(Channel::Generic, "L-3");
    let _ = reserved(s.inventory.reserve(&placed.order_id, &hold([line("WH-A", "SKU-1", 4)])).await.expect("reserve failed"));
    assert_eq!(adjust(&s, "WH-A", "SKU-1", delta(-2, "damaged")).await, AdjustOutcome::BelowHeld { held: 4, on_hand_after: 3 });
    let below_zero = adjust(&s, "WH-A", "SKU-1", delta(-6, "lost")).await;
    assert_eq!(below_zero, AdjustOutcome::BelowHeld { held: 4, on_hand_after: -1 });
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-A", "SKU-1", 5, 4)]);
    assert_eq!(entries(&s, "SKU-1").await.len(), 2, "the count and the reservation only");
    // A stock never counted starts at zero: a positive delta creates it.
    assert!(matches!(adjust(&s, "WH-B", "SKU-1", delta(2, "found")).await, AdjustOutcome::Adjusted { .. }));
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-A", "SKU-1", 5, 4), level("WH-B", "SKU-1", 2, 0)]);
    assert_no_drift(&s).await;
}

pub async fn a_count_as_of_a_moment_keeps_the_movements_made_since(s: Subject) {
    set(&s, "WH-A", "SKU-1", 10).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let counted_at = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    // After the count was taken: 2 damaged, 3 reserved (held, still on hand).
    assert!(matches!(adjust(&s, "WH-A", "SKU-1", delta(-2, "damaged")).await, AdjustOutcome::Adjusted { .. }));
    let placed = order(Channel::Generic, "L-4");
    let _ = reserved(s.inventory.reserve(&placed.order_id, &hold([line("WH-A", "SKU-1", 3)])).await.expect("reserve failed"));

    let count = Adjustment::CountAsOf { count: 7, as_of: counted_at, reason: "cycle count".into() };
    let AdjustOutcome::Adjusted { level: after, entry } = adjust(&s, "WH-A", "SKU-1", count).await else {
        panic!("the count was refused")
    };
    assert_eq!(after, level("WH-A", "SKU-1", 5, 3), "7 counted, less the 2 damaged since; the hold stays");
    assert_eq!((entry.kind, entry.delta_on_hand), (LedgerKind::Recount, -3));

    // An older count than one recorded since cannot replace it.
    let stale = Adjustment::CountAsOf { count: 50, as_of: counted_at, reason: "late sheet".into() };
    assert!(matches!(adjust(&s, "WH-A", "SKU-1", stale).await, AdjustOutcome::NewerCount { .. }));
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-A", "SKU-1", 5, 3)]);
    assert_no_drift(&s).await;
}

pub async fn the_ledger_is_paged_oldest_first_and_filtered_by_owner(s: Subject) {
    for n in 1..=5 {
        set(&s, "WH-A", "SKU-1", n).await;
    }
    set_owned(&s, "WH-A", "m-2", "SKU-1", 7).await;
    let first = s.inventory.ledger(&sku("SKU-1"), None, None, 4).await.expect("ledger failed");
    assert_eq!(first.entries.len(), 4);
    let next = first.next.clone().expect("a next page");
    assert_eq!(Some(&next), first.entries.last().map(|e| &e.entry_id));
    let second = s.inventory.ledger(&sku("SKU-1"), None, Some(&next), 4).await.expect("ledger failed");
    assert_eq!((second.entries.len(), second.next.as_ref()), (2, None));
    assert_eq!(second.entries[1].owner, merchant("m-2"));
    let own = s.inventory.ledger(&sku("SKU-1"), Some(&merchant("m-2")), None, 10).await.expect("ledger failed");
    assert_eq!(kinds(&own.entries), [(LedgerKind::Recount, 7, 0)]);
    let none = s.inventory.ledger(&sku("SKU-2"), None, None, 10).await.expect("ledger failed");
    assert_eq!((none.entries.len(), none.next), (0, None));
}

pub async fn a_flash_sale_set_aside_and_its_claims_holds_reconcile(s: Subject) {
    set(&s, "WH-1", "SKU-1", 30).await;
    let sale = crate::flash_sales::created(&s, crate::flash_sales::terms(10, 2, 2)).await;
    let claim_order = order(Channel::FlashSale, "claim-1");
    let lines = hold([owned_line(sale.shards[0].warehouse.as_str(), "m-1", "SKU-1", 2)]);
    let _ = reserved(s.inventory.hold_set_aside(&claim_order.order_id, &lines).await.expect("hold_set_aside failed"));
    let found = entries(&s, "SKU-1").await;
    assert_eq!(
        kinds(&found),
        [(LedgerKind::Recount, 30, 0), (LedgerKind::SetAside, 0, 10), (LedgerKind::SetAside, 0, -2), (LedgerKind::Reserve, 0, 2)]
    );
    assert_eq!(found[1].hold, Some(HoldRef::flash_sale(&sale.sale_id)));
    let figures = s.inventory.stock_figures().await.expect("stock_figures failed");
    assert_eq!((figures[0].held, figures[0].set_aside), (10, 8));
    assert_no_drift(&s).await;
    // Released like any hold: back to available, out of held.
    let hold_id = crate::inventory::hold_id_of(&s, &claim_order.order_id).await;
    assert!(s.inventory.release(&claim_order.order_id, &hold_id).await.is_ok());
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-1", "SKU-1", 30, 8)]);
    assert_no_drift(&s).await;
}

pub async fn concurrent_orders_for_units_over_three_warehouses_reserve_exactly_them_and_reconcile(s: Subject) {
    crate::races::ledger_race(&s, 60, 20).await;
}
