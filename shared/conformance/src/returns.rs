//! Returns: a request claims its units of the order in the write that stores it (a repeat
//! under its order, customer and key is the first return; a claim past what was delivered
//! writes nothing); a move is conditional on the version it was read at, gives the claims
//! back when the return is refused or cancelled, keeps a tracking number to one return, and
//! carries its effects (the inspected units back on hand or to damaged stock with their
//! ledger entries, the refund notice in the outbox) once; staff racing from one version
//! leave one move, and buyers racing for the same delivered units never claim more than
//! were delivered.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use oms_domain::flash_sale::IdempotencyKey;
use oms_domain::ledger::LedgerKind;
use oms_domain::messages::Outgoing;
use oms_domain::order::{OrderStatus, TimelineEvent};
use oms_domain::outbound::OutboundNotice;
use oms_domain::ports::{CreateReturnOutcome, MoveReturnOutcome, ReturnEffects, SetOnHandOutcome};
use oms_domain::returns::{
    delivered_units, Finding, ReasonCode, RequestedLine, Return, ReturnEvent, ReturnKind, ReturnPolicy, ReturnRequest,
    ReturnState, StockBack,
};
use oms_domain::{CarrierId, CustomerId, Order, Sku, TrackingNumber};

use crate::fixtures::{line, merchant, order, sku, warehouse_id};
use crate::Subject;

/// A delivered order of three `SKU-1` (19.90 each) from `WH-1`, delivered an hour ago.
fn delivered(external_id: &str) -> Order {
    let mut o = order(oms_domain::order::Channel::Generic, external_id);
    o.lines[0].quantity = 3;
    let mut plan = crate::fixtures::complete_order().allocation.expect("a plan");
    plan.lines = vec![line("WH-1", "SKU-1", 3)];
    o.allocation = Some(plan);
    o.status = OrderStatus::Delivered;
    o.timeline.push(TimelineEvent {
        at: Utc::now() - Duration::hours(1),
        status: OrderStatus::Delivered,
        detail: "delivered".into(),
    });
    o
}

fn request(o: &Order, key: &str, units: u32) -> Return {
    let asked = ReturnRequest {
        customer_id: CustomerId::parse("c-1").expect("a customer"),
        idempotency_key: IdempotencyKey::parse(key).expect("a key"),
        kind: ReturnKind::Return,
        reason: ReasonCode::ChangedMind,
        reason_text: String::new(),
        photos: vec![],
        lines: vec![RequestedLine { sku: sku("SKU-1"), quantity: units, replacement: None }],
    };
    Return::request(o, asked, &ReturnPolicy::default(), Utc::now()).expect("a valid request")
}

fn delivered_of(o: &Order) -> Vec<(Sku, u32)> {
    delivered_units(o).into_iter().collect()
}

async fn created(s: &Subject, o: &Order, key: &str, units: u32) -> Return {
    let r = request(o, key, units);
    assert_eq!(s.returns.create_return(&r, &delivered_of(o)).await.expect("create failed"), CreateReturnOutcome::Created);
    r
}

/// `r` moved by `event` and written with its effects.
async fn moved(s: &Subject, r: &Return, event: ReturnEvent, effects: ReturnEffects) -> Return {
    let next = r.apply(event, &ReturnPolicy::default(), Utc::now()).expect("an allowed step");
    assert_eq!(s.returns.move_return(r, &next, &effects).await.expect("move failed"), MoveReturnOutcome::Moved);
    next
}

fn ship(tracking: &str) -> ReturnEvent {
    ReturnEvent::Ship {
        carrier: CarrierId::parse("sf").expect("a carrier"),
        tracking_number: TrackingNumber::parse(tracking).expect("a tracking number"),
    }
}

/// `r` approved, shipped back under `tracking` and received.
async fn received(s: &Subject, r: &Return, tracking: &str) -> Return {
    let r = moved(s, r, ReturnEvent::Approve, ReturnEffects::default()).await;
    let r = moved(s, &r, ship(tracking), ReturnEffects::default()).await;
    moved(s, &r, ReturnEvent::Receive, ReturnEffects::default()).await
}

fn inspection(restock: u32, damaged: u32) -> ReturnEvent {
    ReturnEvent::Inspect { findings: BTreeMap::from([(sku("SKU-1"), Finding { restock, damaged })]), note: String::new() }
}

pub async fn a_return_claims_its_units_and_its_key_again_answers_the_first(s: Subject) {
    let o = delivered("R-1");
    let first = created(&s, &o, "k-1", 2).await;
    assert_eq!(s.returns.get_return(&first.return_id).await.expect("read"), Some(first.clone()));
    let approved = moved(&s, &first, ReturnEvent::Approve, ReturnEffects::default()).await;
    let again = request(&o, "k-1", 1);
    match s.returns.create_return(&again, &delivered_of(&o)).await.expect("create failed") {
        CreateReturnOutcome::Duplicate(now) => assert_eq!(*now, approved, "the first return as it is now"),
        other => panic!("expected the first return, got {other:?}"),
    }
    assert_eq!(s.returns.get_return(&again.return_id).await.expect("read"), None, "nothing written");
    let second = created(&s, &o, "k-2", 1).await;
    let ids: Vec<_> = s.returns.returns_of(&o.order_id).await.expect("list").into_iter().map(|r| r.return_id).collect();
    assert_eq!(ids, vec![first.return_id, second.return_id], "oldest first");
    assert!(s.returns.returns_of(&delivered("R-OTHER").order_id).await.expect("list").is_empty());
}

pub async fn returns_never_claim_more_than_delivered_and_a_refusal_gives_units_back(s: Subject) {
    let o = delivered("R-2");
    let first = created(&s, &o, "k-1", 2).await;
    let greedy = request(&o, "k-2", 2);
    assert_eq!(
        s.returns.create_return(&greedy, &delivered_of(&o)).await.expect("create failed"),
        CreateReturnOutcome::TooMany { sku: sku("SKU-1"), returnable: 1 }
    );
    assert_eq!(s.returns.get_return(&greedy.return_id).await.expect("read"), None, "nothing written");
    let refusal = ReturnEvent::Refuse { reason: "worn".into() };
    let refused = moved(&s, &first, refusal, ReturnEffects::default()).await;
    assert_eq!(refused.state, ReturnState::Refused);
    created(&s, &o, "k-3", 3).await;
    let more = request(&o, "k-4", 1);
    assert!(matches!(
        s.returns.create_return(&more, &delivered_of(&o)).await.expect("create failed"),
        CreateReturnOutcome::TooMany { returnable: 0, .. }
    ));
}

pub async fn a_return_move_is_conditional_on_its_version_and_a_tracking_number_names_one_return(s: Subject) {
    let o = delivered("R-3");
    let r = created(&s, &o, "k-1", 1).await;
    let approved = moved(&s, &r, ReturnEvent::Approve, ReturnEffects::default()).await;
    let stale = r.apply(ReturnEvent::Refuse { reason: "late".into() }, &ReturnPolicy::default(), Utc::now()).expect("a step");
    assert_eq!(
        s.returns.move_return(&r, &stale, &ReturnEffects::default()).await.expect("move failed"),
        MoveReturnOutcome::Conflict(ReturnState::Approved)
    );
    let never = request(&o, "k-9", 1);
    let next = never.apply(ReturnEvent::Approve, &ReturnPolicy::default(), Utc::now()).expect("a step");
    assert_eq!(s.returns.move_return(&never, &next, &ReturnEffects::default()).await.expect("move"), MoveReturnOutcome::NotFound);
    let shipped = moved(&s, &approved, ship("RT-1"), ReturnEffects::default()).await;
    let tracking = TrackingNumber::parse("RT-1").expect("a tracking number");
    assert_eq!(s.returns.return_by_tracking(&tracking).await.expect("read"), Some(shipped));
    let other = created(&s, &delivered("R-3B"), "k-1", 1).await;
    let other = moved(&s, &other, ReturnEvent::Approve, ReturnEffects::default()).await;
    let taken = other.apply(ship("RT-1"), &ReturnPolicy::default(), Utc::now()).expect("a step");
    assert_eq!(
        s.returns.move_return(&other, &taken, &ReturnEffects::default()).await.expect("move failed"),
        MoveReturnOutcome::TrackingTaken
    );
    assert_eq!(s.returns.get_return(&other.return_id).await.expect("read"), Some(other), "nothing written");
    let unknown = TrackingNumber::parse("RT-NONE").expect("a tracking number");
    assert_eq!(s.returns.return_by_tracking(&unknown).await.expect("read"), None);
}

pub async fn an_inspection_puts_units_back_on_hand_and_damaged_apart_with_ledger_entries(s: Subject) {
    let (wh, m, tea) = (warehouse_id("WH-1"), merchant("m-1"), sku("SKU-1"));
    assert!(matches!(s.inventory.set_on_hand(&wh, &m, &tea, 5).await.expect("set"), SetOnHandOutcome::Set(_)));
    let o = delivered("R-4");
    let r = received(&s, &created(&s, &o, "k-1", 3).await, "RT-4").await;
    let next = r.apply(inspection(2, 1), &ReturnPolicy::default(), Utc::now()).expect("a step");
    let effects = ReturnEffects { stock: StockBack::of(&next), ..ReturnEffects::default() };
    assert_eq!(s.returns.move_return(&r, &next, &effects).await.expect("move failed"), MoveReturnOutcome::Moved);
    let level = s.inventory.stock_of(&tea).await.expect("stock").into_iter().find(|l| l.warehouse == wh).expect("a level");
    assert_eq!((level.on_hand, level.available), (7, 7), "two sellable units back on hand");
    let damaged = s.returns.damaged_stock(&wh).await.expect("damaged");
    assert_eq!(damaged.iter().map(|d| (d.sku.as_str(), d.owner.as_str(), d.units)).collect::<Vec<_>>(), [("SKU-1", "m-1", 1)]);
    assert!(s.returns.damaged_stock(&warehouse_id("WH-2")).await.expect("damaged").is_empty());
    let entries = s.inventory.ledger(&tea, None, None, 50).await.expect("ledger").entries;
    let kinds: Vec<(LedgerKind, i64)> = entries.iter().map(|e| (e.kind, e.delta_on_hand)).collect();
    assert!(kinds.contains(&(LedgerKind::Return, 2)) && kinds.contains(&(LedgerKind::ReturnDamaged, 0)), "{kinds:?}");
    let refund = next.refund_due(&ReturnPolicy::default());
    let refunded = next.apply(ReturnEvent::Refund(refund), &ReturnPolicy::default(), Utc::now()).expect("a step");
    let notice = Outgoing::of(&OutboundNotice::refund_recorded(&refunded));
    let effects = ReturnEffects { send: vec![notice.clone()], ..ReturnEffects::default() };
    assert_eq!(s.returns.move_return(&next, &refunded, &effects).await.expect("move"), MoveReturnOutcome::Moved);
    assert_eq!(s.outbox.sent().await, [notice], "the refund notice is queued with its write");
    let stored = s.returns.get_return(&r.return_id).await.expect("read").expect("stored");
    assert_eq!((stored.state, stored.refund.map(|f| f.amount_minor)), (ReturnState::Refunded, Some(5373)), "59.70 less 10%");
}

pub async fn two_staff_steps_racing_from_one_version_leave_one_and_its_effects_once(s: Subject) {
    let (wh, m, tea) = (warehouse_id("WH-1"), merchant("m-1"), sku("SKU-1"));
    assert!(matches!(s.inventory.set_on_hand(&wh, &m, &tea, 10).await.expect("set"), SetOnHandOutcome::Set(_)));
    let r = received(&s, &created(&s, &delivered("R-5"), "k-1", 3).await, "RT-5").await;
    let mut tasks = Vec::new();
    for i in 0..8_u32 {
        let (store, r) = (s.returns.clone(), r.clone());
        tasks.push(tokio::spawn(async move {
            let next = r.apply(inspection(3 - i % 2, i % 2), &ReturnPolicy::default(), Utc::now()).expect("a step");
            let effects = ReturnEffects { stock: StockBack::of(&next), ..ReturnEffects::default() };
            (store.move_return(&r, &next, &effects).await.expect("move failed"), next)
        }));
    }
    let mut won = Vec::new();
    for task in tasks {
        match task.await.expect("a task") {
            (MoveReturnOutcome::Moved, next) => won.push(next),
            (MoveReturnOutcome::Conflict(ReturnState::Inspected), _) => {}
            (other, _) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one inspection lands");
    let finding = won[0].lines[0].finding.expect("a finding");
    let level = s.inventory.stock_of(&tea).await.expect("stock").into_iter().find(|l| l.warehouse == wh).expect("a level");
    assert_eq!(level.on_hand, 10 + finding.restock, "the winner's units, once");
    let damaged: u32 = s.returns.damaged_stock(&wh).await.expect("damaged").iter().map(|d| d.units).sum();
    assert_eq!(damaged, finding.damaged);
    assert_eq!(s.returns.get_return(&r.return_id).await.expect("read"), Some(won.remove(0)));
}

pub async fn buyers_racing_for_the_same_delivered_units_never_return_more_than_delivered(s: Subject) {
    let o = delivered("R-6");
    let mut tasks = Vec::new();
    for i in 0..12 {
        let r = request(&o, &format!("k-{i}"), 1 + i % 2);
        let (store, delivered) = (s.returns.clone(), delivered_of(&o));
        tasks.push(tokio::spawn(async move { (store.create_return(&r, &delivered).await.expect("create failed"), r) }));
    }
    let mut claimed = 0;
    for task in tasks {
        match task.await.expect("a task") {
            (CreateReturnOutcome::Created, r) => claimed += r.lines[0].quantity,
            (CreateReturnOutcome::TooMany { .. }, _) => {}
            (other, _) => panic!("unexpected {other:?}"),
        }
    }
    assert!(claimed <= 3, "{claimed} units claimed of 3 delivered");
    let stored: u32 = s.returns.returns_of(&o.order_id).await.expect("list").iter().map(|r| r.lines[0].quantity).sum();
    assert_eq!(stored, claimed, "what is stored is what was claimed");
    assert!(claimed >= 2, "the first request always lands, and one more fits beside any first");
}
