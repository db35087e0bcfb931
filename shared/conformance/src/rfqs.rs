//! Requests for quotes: one per id (a second answers the first), every change written
//! only over the version it was taken from, so of two quotes (or a quote and the
//! acceptance) taken from one version exactly one lands.

use chrono::Duration;
use oms_domain::onboarding::Region;
use oms_domain::order::Channel;
use oms_domain::ports::{CreateRfqOutcome, UpdateRfqOutcome};
use oms_domain::rfq::request::{Candidate, Rfq, RfqRequest};
use oms_domain::rfq::RequiredLine;
use oms_domain::{CustomerId, RfqId};
use rust_decimal::Decimal;

use crate::fixtures::{merchant, noon, order, sku};
use crate::Subject;

fn request(id: &str) -> Rfq {
    let request = RfqRequest {
        rfq_id: RfqId::parse(id).expect("a valid rfq id"),
        customer_id: CustomerId::parse("c-1").expect("a valid customer"),
        region: Region::parse("Zhejiang").expect("a province"),
        shipping_address: order(Channel::Generic, "A-1").shipping_address,
        lines: vec![RequiredLine { sku: sku("SKU-1"), quantity: 10 }, RequiredLine { sku: sku("SKU-2"), quantity: 5 }],
        quotes_until: noon() + Duration::days(3),
    };
    Rfq::open(request, vec![], vec![], vec![], noon())
}

/// `rfq` with merchant `who`'s quote of the first line: the next version.
fn quoted(rfq: &Rfq, who: &str, price: i64) -> Rfq {
    let mut next = rfq.next_version();
    let candidate = Candidate { merchant: merchant(who), warehouses: vec![], shipping: Decimal::from(8) };
    next.quote(candidate, &sku("SKU-1"), Decimal::from(price), noon()).expect("an open request takes quotes");
    next
}

pub async fn a_request_for_quotes_is_created_once_per_id_and_a_second_answers_the_first(s: Subject) {
    let first = request("rfq-1");
    assert_eq!(s.rfqs.get_rfq(&first.rfq_id).await.expect("get failed"), None);
    assert_eq!(s.rfqs.create_rfq(&first).await.expect("create failed"), CreateRfqOutcome::Created);
    let mut again = request("rfq-1");
    again.lines.truncate(1);
    match s.rfqs.create_rfq(&again).await.expect("create failed") {
        CreateRfqOutcome::Exists(stored) => assert_eq!(*stored, first),
        other => panic!("a second request with the id is the first: {other:?}"),
    }
    assert_eq!(s.rfqs.get_rfq(&first.rfq_id).await.expect("get failed"), Some(first));
}

pub async fn a_request_change_is_written_only_over_the_version_it_was_taken_from(s: Subject) {
    let read = request("rfq-2");
    assert_eq!(s.rfqs.create_rfq(&read).await.expect("create failed"), CreateRfqOutcome::Created);
    let next = quoted(&read, "m-1", 7);
    assert_eq!(s.rfqs.update_rfq(&next).await.expect("update failed"), UpdateRfqOutcome::Updated);
    assert_eq!(s.rfqs.get_rfq(&read.rfq_id).await.expect("get failed"), Some(next.clone()));
    // A change taken from the version before: refused, the stored one answered.
    match s.rfqs.update_rfq(&quoted(&read, "m-2", 6)).await.expect("update failed") {
        UpdateRfqOutcome::Conflict(stored) => assert_eq!(*stored, next),
        other => panic!("a stale change is a conflict: {other:?}"),
    }
    let unknown = quoted(&request("rfq-unknown"), "m-1", 7);
    assert_eq!(s.rfqs.update_rfq(&unknown).await.expect("update failed"), UpdateRfqOutcome::NotFound);
    assert_eq!(s.rfqs.get_rfq(&unknown.rfq_id).await.expect("get failed"), None, "nothing created");
}

pub async fn two_quotes_taken_from_one_version_at_once_leave_exactly_one(s: Subject) {
    let read = request("rfq-3");
    assert_eq!(s.rfqs.create_rfq(&read).await.expect("create failed"), CreateRfqOutcome::Created);
    let racers: Vec<_> = [("m-1", 7), ("m-2", 6)]
        .into_iter()
        .map(|(who, price)| {
            let (store, next) = (s.rfqs.clone(), quoted(&read, who, price));
            tokio::spawn(async move { (store.update_rfq(&next).await.expect("update failed"), next) })
        })
        .collect();
    let mut landed = Vec::new();
    for racer in racers {
        let (outcome, next) = racer.await.expect("the task ran");
        if outcome == UpdateRfqOutcome::Updated {
            landed.push(next);
        }
    }
    assert_eq!(landed.len(), 1, "exactly one change from one version lands");
    let stored = s.rfqs.get_rfq(&read.rfq_id).await.expect("get failed").expect("stored");
    assert_eq!(stored, landed[0]);
    assert_eq!(stored.quotes.len(), 1, "the other quote was not merged in");
}
