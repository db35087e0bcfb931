//! Buyer requests: a request is created once per request id (the same id again answers
//! the stored one and writes nothing), and updated only over the version read, so of two
//! steps taken from one version (two accepts at once) exactly one is written.

use chrono::Duration;
use oms_domain::matchmaking::{BuyerRequest, Proposal, RequestDetails, RequestStatus};
use oms_domain::ports::{CreateBuyerRequestOutcome, UpdateBuyerRequestOutcome};
use oms_domain::{BuyerRequestId, CustomerId, OrderId};

use crate::fixtures::noon;
use crate::Subject;

fn request_id(raw: &str) -> BuyerRequestId {
    BuyerRequestId::parse(raw).expect("a request id")
}

fn request(id: &str, name: &str) -> BuyerRequest {
    let details =
        RequestDetails::parse(name, "120mm", 10, "Zhejiang", noon() + Duration::days(10), noon()).expect("request details");
    let customer = CustomerId::parse("c-1").expect("a customer id");
    let mut request = BuyerRequest::open(request_id(id), customer, details, None, "storefront", noon());
    request.propose(Proposal { offers: Vec::new(), excluded: Vec::new() }, noon()).expect("proposed");
    request
}

pub async fn a_buyer_request_is_created_once_and_the_same_id_again_answers_the_stored_one(s: Subject) {
    let first = request("br-1", "ink stone");
    assert_eq!(s.buyer_requests.create_buyer_request(&first).await.expect("create failed"), CreateBuyerRequestOutcome::Created);
    let again = request("br-1", "porcelain bowl");
    match s.buyer_requests.create_buyer_request(&again).await.expect("create failed") {
        CreateBuyerRequestOutcome::Existing(stored) => assert_eq!(*stored, first),
        other => panic!("the same id again answers the stored request: {other:?}"),
    }
    assert_eq!(s.buyer_requests.get_buyer_request(&request_id("br-1")).await.expect("get failed"), Some(first));
    assert_eq!(s.buyer_requests.get_buyer_request(&request_id("br-unknown")).await.expect("get failed"), None);
}

pub async fn a_buyer_request_is_updated_only_over_the_version_read(s: Subject) {
    let read = request("br-2", "ink stone");
    let _ = s.buyer_requests.create_buyer_request(&read).await.expect("create failed");
    let mut expired = read.clone();
    expired.status = RequestStatus::Expired;
    assert_eq!(s.buyer_requests.update_buyer_request(&expired).await.expect("update failed"), UpdateBuyerRequestOutcome::Updated);
    let stored = s.buyer_requests.get_buyer_request(&request_id("br-2")).await.expect("get failed").expect("stored");
    assert_eq!((stored.status, stored.version), (RequestStatus::Expired, read.version + 1));

    let mut stale = read.clone();
    stale.order_id = Some(OrderId::parse("ord-1").expect("an order id"));
    match s.buyer_requests.update_buyer_request(&stale).await.expect("update failed") {
        UpdateBuyerRequestOutcome::Conflict(Some(found)) => assert_eq!(*found, stored),
        other => panic!("a step from a version since changed conflicts with the stored one: {other:?}"),
    }
    let unknown = request("br-unknown", "ink stone");
    assert_eq!(
        s.buyer_requests.update_buyer_request(&unknown).await.expect("update failed"),
        UpdateBuyerRequestOutcome::Conflict(None)
    );
}

pub async fn two_steps_from_one_version_of_a_buyer_request_leave_exactly_one_written(s: Subject) {
    let read = request("br-3", "ink stone");
    let _ = s.buyer_requests.create_buyer_request(&read).await.expect("create failed");
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (store, mut next) = (s.buyer_requests.clone(), read.clone());
        tasks.push(tokio::spawn(async move {
            next.order_id = Some(OrderId::parse(format!("ord-{i}")).expect("an order id"));
            (store.update_buyer_request(&next).await.expect("update failed"), next)
        }));
    }
    let mut written = Vec::new();
    for task in tasks {
        match task.await.expect("a task") {
            (UpdateBuyerRequestOutcome::Updated, next) => written.push(next),
            (UpdateBuyerRequestOutcome::Conflict(Some(_)), _) => {}
            (other, _) => panic!("a step either lands or conflicts: {other:?}"),
        }
    }
    assert_eq!(written.len(), 1, "exactly one step from one version is written");
    let stored = s.buyer_requests.get_buyer_request(&request_id("br-3")).await.expect("get failed").expect("stored");
    assert_eq!((stored.order_id.as_ref(), stored.version), (written[0].order_id.as_ref(), read.version + 1));
}
