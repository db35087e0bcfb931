//! Payments and holds that expire: an order's payment status and its payments read back
//! whole, a payment is recorded once per reference, and the sweeper cancels an unpaid
//! order whose hold ran past its time, its stock returning as a ledger `expire`.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use oms_domain::ledger::{HoldRef, LedgerKind};
use oms_domain::messages::Outgoing;
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::{Clock, InsertOutcome, Ports, Queue, StoreError, UpdateOutcome};
use oms_domain::usecases::orders::{record_payment, NewPayment};
use oms_domain::usecases::sweep::{sweep, SweepLimits};
use oms_domain::{Order, OrderId};

use crate::fixtures::{hold, line, order, reserved};
use crate::inventory::{level, set, stock};
use crate::Subject;

/// A clock held at one instant.
struct At(DateTime<Utc>);

impl Clock for At {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A queue that keeps what it is sent.
#[derive(Default)]
pub(crate) struct Kept(Mutex<Vec<Outgoing>>);

#[async_trait::async_trait]
impl Queue for Kept {
    async fn send(&self, message: &Outgoing) -> Result<(), StoreError> {
        self.0.lock().expect("the queue's lock").push(message.clone());
        Ok(())
    }
}

pub(crate) fn ports_at(s: &Subject, now: DateTime<Utc>, queue: Arc<Kept>) -> Ports {
    Ports { clock: Arc::new(At(now)), queue, ..crate::flash_sales::ports(s) }
}

/// An order of two SKU-1 from WH-A, stored, reserved and moved to `reserved` now.
async fn reserved_order(s: &Subject, external_id: &str, paid: bool) -> Order {
    let mut placed = order(Channel::Generic, external_id);
    placed.paid = paid;
    assert_eq!(s.orders.insert_order(&placed).await.expect("insert_order failed"), InsertOutcome::Inserted);
    let _ = reserved(s.inventory.reserve(&placed.order_id, &hold([line("WH-A", "SKU-1", 2)])).await.expect("reserve failed"));
    let mut order = crate::fixtures::stored(&placed);
    let now = Utc::now();
    order.transition(OrderStatus::Allocated, now, "planned").expect("a valid move");
    order.transition(OrderStatus::Reserved, now, "2 units held").expect("a valid move");
    assert!(matches!(s.orders.update_order(&order).await.expect("update failed"), UpdateOutcome::Updated { .. }));
    s.orders.get_order(&order.order_id).await.expect("get_order failed").expect("the order")
}

async fn read(s: &Subject, id: &OrderId) -> Order {
    s.orders.get_order(id).await.expect("get_order failed").expect("the order")
}

pub async fn a_payment_is_recorded_once_per_reference_and_marks_the_order_paid(s: Subject) {
    set(&s, "WH-A", "SKU-1", 5).await;
    let unpaid = reserved_order(&s, "P-1", false).await;
    assert!(!unpaid.paid, "an unpaid order reads back unpaid");
    let ports = ports_at(&s, Utc::now(), Arc::default());
    let payment = NewPayment::parse("39.80", "CNY", "pay-123").expect("a payment");
    let (paid, recorded) = record_payment(&ports, &unpaid.order_id, &payment).await.expect("record_payment failed");
    assert!(recorded && paid.paid);
    let again = NewPayment::parse("39.80", "CNY", "pay-123").expect("a payment");
    let (same, recorded) = record_payment(&ports, &unpaid.order_id, &again).await.expect("record_payment failed");
    assert!(!recorded, "the same reference is the same payment");
    let stored = read(&s, &unpaid.order_id).await;
    assert_eq!((stored.paid, stored.payments.len(), stored.version), (true, 1, same.version));
    assert_eq!(
        (stored.payments[0].reference.as_str(), stored.payments[0].amount),
        ("pay-123", rust_decimal::Decimal::new(3980, 2))
    );
}

pub async fn an_unpaid_orders_hold_expires_in_the_sweep_and_its_stock_returns_as_an_expiry(s: Subject) {
    set(&s, "WH-A", "SKU-1", 4).await;
    let unpaid = reserved_order(&s, "P-2", false).await;
    let paid = reserved_order(&s, "P-3", true).await;
    // A backorder waiting for SKU-1.
    let mut waiting = order(Channel::Generic, "P-4");
    waiting.transition(OrderStatus::Backordered, Utc::now(), "stock ran out").expect("a valid move");
    assert_eq!(s.orders.insert_order(&waiting).await.expect("insert_order failed"), InsertOutcome::Inserted);
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-A", "SKU-1", 4, 4)]);

    // Before its time nothing expires.
    let queue = Arc::new(Kept::default());
    let early = sweep(&ports_at(&s, Utc::now() + Duration::minutes(20), queue.clone()), &SweepLimits::default()).await;
    assert!(early.expect("sweep failed").expired.is_empty());

    let report = sweep(&ports_at(&s, Utc::now() + Duration::minutes(31), queue.clone()), &SweepLimits::default()).await;
    assert_eq!(report.expect("sweep failed").expired, std::slice::from_ref(&unpaid.order_id));
    let expired = read(&s, &unpaid.order_id).await;
    assert_eq!(expired.status, OrderStatus::Cancelled);
    assert!(expired.timeline.last().is_some_and(|e| e.detail.contains("payment_expired")), "{:?}", expired.timeline);
    assert_eq!(read(&s, &paid.order_id).await.status, OrderStatus::Reserved, "a paid order keeps its hold");
    assert_eq!(stock(&s, "SKU-1").await, [level("WH-A", "SKU-1", 4, 2)], "the unpaid order's units are back");
    let entries = crate::ledger::entries(&s, "SKU-1").await;
    let last = entries.last().expect("entries");
    assert_eq!((last.kind, last.delta_held, last.hold.clone()), (LedgerKind::Expire, -2, Some(HoldRef::order(&unpaid.order_id))));
    let sent = queue.0.lock().expect("the queue's lock").clone();
    assert!(
        sent.iter().any(|m| m.body.contains(waiting.order_id.as_str())),
        "the backorder waiting for SKU-1 is planned again: {sent:?}"
    );
    crate::ledger::assert_no_drift(&s).await;

    // A second sweep finds nothing more to expire.
    let again = sweep(&ports_at(&s, Utc::now() + Duration::minutes(31), queue), &SweepLimits::default()).await;
    assert!(again.expect("sweep failed").expired.is_empty());
}
