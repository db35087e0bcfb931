//! `BrowsingStore`: a batch is stored once per (merchant, customer, idempotency key), also
//! when sent twice at once; a merchant's events read back by time range, oldest first,
//! across days and never another merchant's. And `ReturnStore::returns_since`: a
//! merchant's returns from a time, oldest first, never another merchant's.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use oms_domain::browsing::{BrowsingBatch, BrowsingKind};
use oms_domain::flash_sale::IdempotencyKey;
use oms_domain::order::{Channel, OrderStatus, TimelineEvent};
use oms_domain::ports::{CreateReturnOutcome, RecordBrowsingOutcome};
use oms_domain::returns::{delivered_units, ReasonCode, RequestedLine, Return, ReturnKind, ReturnPolicy, ReturnRequest};
use oms_domain::{CustomerId, MerchantId, Order};

use crate::fixtures::{line, merchant, order, sku};
use crate::Subject;

fn batch(
    merchant_id: &str,
    customer: &str,
    key: &str,
    events: &[(BrowsingKind, &str, DateTime<Utc>)],
    now: DateTime<Utc>,
) -> BrowsingBatch {
    BrowsingBatch::new(
        merchant(merchant_id),
        CustomerId::parse(customer).expect("a customer"),
        IdempotencyKey::parse(key).expect("a key"),
        events.iter().map(|(kind, s, at)| (*kind, sku(s), *at)).collect(),
        now,
    )
    .expect("a valid batch")
}

fn seen(events: &[oms_domain::browsing::BrowsingEvent]) -> Vec<(String, &'static str, String)> {
    events.iter().map(|e| (e.customer_id.to_string(), e.kind.as_str(), e.sku.to_string())).collect()
}

pub async fn a_browsing_batch_is_stored_once_per_customer_and_key(s: Subject) {
    let now = Utc::now().trunc_subsecs(3);
    let first = batch("br-1", "c-1", "k-1", &[(BrowsingKind::View, "SKU-1", now - Duration::minutes(3))], now);
    let (a, b) = tokio::join!(s.browsing.record_browsing(&first), s.browsing.record_browsing(&first));
    let mut outcomes = [a.expect("the store answers"), b.expect("the store answers")];
    outcomes.sort_by_key(|o| *o == RecordBrowsingOutcome::Duplicate);
    assert_eq!(outcomes, [RecordBrowsingOutcome::Recorded, RecordBrowsingOutcome::Duplicate], "sent twice at once: stored once");
    let again = batch("br-1", "c-1", "k-1", &[(BrowsingKind::CartAdd, "SKU-2", now - Duration::minutes(1))], now);
    assert_eq!(s.browsing.record_browsing(&again).await.expect("the store answers"), RecordBrowsingOutcome::Duplicate);
    let other_customer = batch("br-1", "c-2", "k-1", &[(BrowsingKind::Wishlist, "SKU-3", now - Duration::minutes(2))], now);
    assert_eq!(s.browsing.record_browsing(&other_customer).await.expect("the store answers"), RecordBrowsingOutcome::Recorded);
    let read = s.browsing.browsing_between(&merchant("br-1"), now - Duration::hours(1), now).await.expect("the store answers");
    assert_eq!(
        seen(&read),
        [("c-1".to_owned(), "view", "SKU-1".to_owned()), ("c-2".to_owned(), "wishlist", "SKU-3".to_owned())],
        "the repeat stored nothing; the key is the customer's own"
    );
}

pub async fn a_merchants_browsing_reads_back_by_time_range_and_never_another_merchants(s: Subject) {
    let now = Utc::now().trunc_subsecs(3);
    let days_ago = |days: i64| now - Duration::days(days);
    let events = [
        (BrowsingKind::View, "SKU-1", days_ago(40)),
        (BrowsingKind::View, "SKU-2", days_ago(3)),
        (BrowsingKind::CartAdd, "SKU-3", days_ago(2)),
        (BrowsingKind::View, "SKU-4", now - Duration::minutes(5)),
    ];
    let mine = batch("br-2", "c-1", "k-1", &events, now);
    assert_eq!(s.browsing.record_browsing(&mine).await.expect("the store answers"), RecordBrowsingOutcome::Recorded);
    let theirs = batch("br-3", "c-1", "k-1", &[(BrowsingKind::View, "SKU-9", days_ago(2))], now);
    assert_eq!(s.browsing.record_browsing(&theirs).await.expect("the store answers"), RecordBrowsingOutcome::Recorded);
    let skus =
        |events: Vec<oms_domain::browsing::BrowsingEvent>| events.into_iter().map(|e| e.sku.to_string()).collect::<Vec<_>>();
    let br2 = merchant("br-2");
    let all = s.browsing.browsing_between(&br2, days_ago(90), now + Duration::minutes(1)).await.expect("the store answers");
    assert_eq!(skus(all.clone()), ["SKU-1", "SKU-2", "SKU-3", "SKU-4"], "oldest first, across days");
    assert_eq!(all[0].at, events[0].2, "the time as sent");
    let middle = s.browsing.browsing_between(&br2, days_ago(3), days_ago(2)).await.expect("the store answers");
    assert_eq!(skus(middle), ["SKU-2"], "from inclusive, to exclusive");
    let none = s.browsing.browsing_between(&merchant("br-4"), days_ago(90), now).await.expect("the store answers");
    assert!(none.is_empty(), "{none:?}");
}

/// A delivered order of `merchant_id`'s, returned whole by `c-1`.
async fn returned(s: &Subject, merchant_id: &str, external_id: &str) -> Return {
    let mut o: Order = order(Channel::Generic, external_id);
    o.merchant_id = merchant(merchant_id);
    let mut plan = crate::fixtures::complete_order().allocation.expect("a plan");
    plan.lines = vec![line("WH-1", "SKU-1", o.lines[0].quantity)];
    o.allocation = Some(plan);
    o.status = OrderStatus::Delivered;
    o.timeline.push(TimelineEvent {
        at: Utc::now() - Duration::hours(1),
        status: OrderStatus::Delivered,
        detail: "delivered".into(),
    });
    let asked = ReturnRequest {
        customer_id: CustomerId::parse("c-1").expect("a customer"),
        idempotency_key: IdempotencyKey::parse("k-1").expect("a key"),
        kind: ReturnKind::Return,
        reason: ReasonCode::ChangedMind,
        reason_text: String::new(),
        photos: vec![],
        lines: vec![RequestedLine { sku: sku("SKU-1"), quantity: 1, replacement: None }],
    };
    let r = Return::request(&o, asked, &ReturnPolicy::default(), Utc::now()).expect("a valid request");
    let delivered: Vec<_> = delivered_units(&o).into_iter().collect();
    assert_eq!(s.returns.create_return(&r, &delivered).await.expect("the store answers"), CreateReturnOutcome::Created);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    r
}

pub async fn a_merchants_returns_since_a_time_are_its_own_oldest_first(s: Subject) {
    let start = Utc::now() - Duration::seconds(1);
    let first = returned(&s, "rs-1", "RS-1").await;
    let _theirs = returned(&s, "rs-2", "RS-2").await;
    let second = returned(&s, "rs-1", "RS-3").await;
    let ids = |returns: Vec<Return>| returns.into_iter().map(|r| r.return_id).collect::<Vec<_>>();
    let rs1 = MerchantId::parse("rs-1").expect("a merchant");
    let all = s.returns.returns_since(&rs1, start).await.expect("the store answers");
    assert_eq!(ids(all), [first.return_id.clone(), second.return_id.clone()]);
    let later = s.returns.returns_since(&rs1, second.created_at).await.expect("the store answers");
    assert_eq!(ids(later), [second.return_id], "from `since` on");
}
