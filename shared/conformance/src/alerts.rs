//! `AlertStore`: raise once per (kind, subject), get, list by status a page at a time,
//! move forward only.

use chrono::Duration;
use oms_domain::alert::{Alert, AlertKind, AlertStatus};
use oms_domain::ports::{MoveOutcome, RaiseOutcome};
use oms_domain::{AlertId, MerchantId, OrderId};

use crate::fixtures::noon;
use crate::Subject;

/// An open alert of merchant `m-1` about the order `order` (its subject), raised at noon.
fn alert(order: &str) -> Alert {
    alert_of("m-1", order)
}

fn alert_of(merchant: &str, order: &str) -> Alert {
    let order_id = OrderId::parse(order).expect("a valid order id");
    let merchant = MerchantId::parse(merchant).expect("a valid merchant id");
    Alert::about_order(
        AlertKind::ChannelCancelRefused,
        &order_id,
        &merchant,
        format!("{order} shipped before the cancel"),
        noon(),
    )
}

pub async fn a_raised_alert_reads_back_whole(s: Subject) {
    let a = alert("ord_1");
    assert_eq!(s.alerts.raise(&a).await.expect("raise failed"), RaiseOutcome::Raised);
    assert_eq!(s.alerts.get_alert(&a.alert_id).await.expect("get_alert failed"), Some(a));
    let unknown = AlertId::parse("alt_unknown").expect("a valid alert id");
    assert_eq!(s.alerts.get_alert(&unknown).await.expect("get_alert failed"), None);
}

pub async fn raising_the_same_kind_and_subject_again_answers_the_first_alert_in_any_status(s: Subject) {
    let first = alert("ord_1");
    assert_eq!(s.alerts.raise(&first).await.expect("raise failed"), RaiseOutcome::Raised);
    let again = alert("ord_1");
    assert_eq!(s.alerts.raise(&again).await.expect("raise failed"), RaiseOutcome::AlreadyRaised(Box::new(first.clone())));
    assert_eq!(s.alerts.get_alert(&again.alert_id).await.expect("get_alert failed"), None, "nothing of the second is stored");

    let later = noon() + Duration::minutes(5);
    let resolved = match s.alerts.move_alert(&first.alert_id, AlertStatus::Resolved, later).await.expect("move failed") {
        MoveOutcome::Moved(a) => a,
        other => panic!("expected Moved, got {other:?}"),
    };
    let third = alert("ord_1");
    assert_eq!(s.alerts.raise(&third).await.expect("raise failed"), RaiseOutcome::AlreadyRaised(Box::new(resolved)));
    let page = s.alerts.list_alerts(AlertStatus::Open, None, None, 10).await.expect("list failed");
    assert!(page.alerts.is_empty(), "a resolved alert is not reopened: {page:?}");
}

pub async fn alerts_are_listed_by_status_oldest_first_a_page_at_a_time(s: Subject) {
    let all: Vec<Alert> = (1..=5).map(|i| alert(&format!("ord_{i}"))).collect();
    for a in &all {
        assert_eq!(s.alerts.raise(a).await.expect("raise failed"), RaiseOutcome::Raised);
    }
    let later = noon() + Duration::minutes(1);
    let acked = &all[2];
    let moved = s.alerts.move_alert(&acked.alert_id, AlertStatus::Acknowledged, later).await.expect("move failed");
    assert!(matches!(moved, MoveOutcome::Moved(_)), "{moved:?}");
    let mut open: Vec<Alert> = all.iter().filter(|a| a.alert_id != acked.alert_id).cloned().collect();
    open.sort_by(|a, b| a.alert_id.cmp(&b.alert_id));

    let first = s.alerts.list_alerts(AlertStatus::Open, None, None, 3).await.expect("list failed");
    assert_eq!(first.alerts, open[..3]);
    assert_eq!(first.next.as_ref(), Some(&open[2].alert_id));
    let second = s.alerts.list_alerts(AlertStatus::Open, None, first.next.as_ref(), 3).await.expect("list failed");
    assert_eq!(second.alerts, open[3..]);
    assert_eq!(second.next, None);
    let exact = s.alerts.list_alerts(AlertStatus::Open, None, None, 4).await.expect("list failed");
    assert_eq!((exact.alerts.len(), exact.next), (4, None), "a page that ends the list names no next");

    let acknowledged = s.alerts.list_alerts(AlertStatus::Acknowledged, None, None, 10).await.expect("list failed");
    let expected = Alert { status: AlertStatus::Acknowledged, updated_at: later, ..acked.clone() };
    assert_eq!((acknowledged.alerts, acknowledged.next), (vec![expected], None));
    let resolved = s.alerts.list_alerts(AlertStatus::Resolved, None, None, 10).await.expect("list failed");
    assert!(resolved.alerts.is_empty() && resolved.next.is_none());
}

pub async fn a_merchants_alerts_are_listed_without_any_other_merchants(s: Subject) {
    let m1 = MerchantId::parse("m-1").expect("a valid merchant id");
    let m2 = MerchantId::parse("m-2").expect("a valid merchant id");
    // Interleaved ids, so a page of one merchant's alerts skips the other's between them.
    let all: Vec<Alert> = (1..=6).map(|i| alert_of(if i % 2 == 0 { "m-2" } else { "m-1" }, &format!("ord_{i}"))).collect();
    for a in &all {
        assert_eq!(s.alerts.raise(a).await.expect("raise failed"), RaiseOutcome::Raised);
    }
    let of = |m: &MerchantId| {
        let mut alerts: Vec<Alert> = all.iter().filter(|a| &a.merchant_id == m).cloned().collect();
        alerts.sort_by(|a, b| a.alert_id.cmp(&b.alert_id));
        alerts
    };
    let first = s.alerts.list_alerts(AlertStatus::Open, Some(&m1), None, 2).await.expect("list failed");
    assert_eq!(first.alerts, of(&m1)[..2]);
    let second = s.alerts.list_alerts(AlertStatus::Open, Some(&m1), first.next.as_ref(), 2).await.expect("list failed");
    assert_eq!((second.alerts, second.next), (of(&m1)[2..].to_vec(), None));

    // A moved alert leaves its merchant's open list for the acknowledged one.
    let moved = of(&m2)[0].clone();
    let later = noon() + Duration::minutes(1);
    let outcome = s.alerts.move_alert(&moved.alert_id, AlertStatus::Acknowledged, later).await.expect("move failed");
    assert!(matches!(outcome, MoveOutcome::Moved(_)), "{outcome:?}");
    let open = s.alerts.list_alerts(AlertStatus::Open, Some(&m2), None, 10).await.expect("list failed");
    assert_eq!(open.alerts, of(&m2)[1..]);
    let acknowledged = s.alerts.list_alerts(AlertStatus::Acknowledged, Some(&m2), None, 10).await.expect("list failed");
    assert_eq!(acknowledged.alerts, vec![Alert { status: AlertStatus::Acknowledged, updated_at: later, ..moved }]);
    let none = s.alerts.list_alerts(AlertStatus::Acknowledged, Some(&m1), None, 10).await.expect("list failed");
    assert!(none.alerts.is_empty());
    let everyone = s.alerts.list_alerts(AlertStatus::Open, None, None, 10).await.expect("list failed");
    assert_eq!(everyone.alerts.len(), 5, "platform staff list every merchant's");
}

pub async fn an_alert_moves_forward_once_and_never_back(s: Subject) {
    let a = alert("ord_1");
    assert_eq!(s.alerts.raise(&a).await.expect("raise failed"), RaiseOutcome::Raised);
    let (t1, t2, t3) = (noon() + Duration::minutes(1), noon() + Duration::minutes(2), noon() + Duration::minutes(3));
    let acked = Alert { status: AlertStatus::Acknowledged, updated_at: t1, ..a.clone() };
    let outcome = s.alerts.move_alert(&a.alert_id, AlertStatus::Acknowledged, t1).await.expect("move failed");
    assert_eq!(outcome, MoveOutcome::Moved(acked.clone()));
    let outcome = s.alerts.move_alert(&a.alert_id, AlertStatus::Acknowledged, t2).await.expect("move failed");
    assert_eq!(outcome, MoveOutcome::Unchanged(acked.clone()), "acknowledging again changes nothing");

    let resolved = Alert { status: AlertStatus::Resolved, updated_at: t2, ..a.clone() };
    let outcome = s.alerts.move_alert(&a.alert_id, AlertStatus::Resolved, t2).await.expect("move failed");
    assert_eq!(outcome, MoveOutcome::Moved(resolved.clone()));
    for back in [AlertStatus::Acknowledged, AlertStatus::Open] {
        let outcome = s.alerts.move_alert(&a.alert_id, back, t3).await.expect("move failed");
        assert_eq!(outcome, MoveOutcome::Refused(resolved.clone()));
    }
    assert_eq!(s.alerts.get_alert(&a.alert_id).await.expect("get_alert failed"), Some(resolved));
}

pub async fn moving_an_unknown_alert_is_not_found_and_creates_nothing(s: Subject) {
    let id = AlertId::parse("alt_unknown").expect("a valid alert id");
    let outcome = s.alerts.move_alert(&id, AlertStatus::Resolved, noon()).await.expect("move failed");
    assert_eq!(outcome, MoveOutcome::NotFound);
    assert_eq!(s.alerts.get_alert(&id).await.expect("get_alert failed"), None);
    let page = s.alerts.list_alerts(AlertStatus::Resolved, None, None, 10).await.expect("list failed");
    assert!(page.alerts.is_empty());
}
