//! `ConsignmentStore`: grants by id, by seller and by owner, written on their version.

use chrono::{DateTime, Utc};
use oms_domain::consignment::{Consignment, ConsignmentTerms};
use oms_domain::ports::PutConsignment;
use oms_domain::{ConsignmentId, Currency, Money};
use rust_decimal::Decimal;

use crate::fixtures::{merchant, sku, warehouse_id};
use crate::Subject;

fn at() -> DateTime<Utc> {
    "2026-11-20T10:00:00Z".parse().expect("a time")
}

/// Version 1 of a grant of `owner`'s stock in WH-A (and WH-B) to `seller`.
fn grant(id: &str, owner: &str, seller: &str) -> Consignment {
    let terms = ConsignmentTerms::new(
        merchant(owner),
        merchant(seller),
        vec![warehouse_id("WH-B"), warehouse_id("WH-A")],
        Some(vec![sku("SKU-1")]),
        Money { amount: Decimal::new(1250, 2), currency: Currency::parse("CNY").expect("CNY") },
    )
    .expect("valid terms");
    Consignment { consignment_id: ConsignmentId::parse(id).expect("an id"), terms, revoked: false, version: 1, updated_at: at() }
}

async fn put(s: &Subject, c: &Consignment) -> PutConsignment {
    s.consignments.put_consignment(c).await.expect("put_consignment failed")
}

fn ids(list: &[Consignment]) -> Vec<&str> {
    list.iter().map(|c| c.consignment_id.as_str()).collect()
}

pub async fn a_grant_reads_back_whole_and_is_listed_for_its_seller_and_its_owner_only(s: Subject) {
    let id = ConsignmentId::parse("g-1").expect("an id");
    assert_eq!(s.consignments.get_consignment(&id).await.expect("get failed"), None);
    let g = grant("g-1", "m-1", "m-2");
    assert_eq!(put(&s, &g).await, PutConsignment::Stored);
    assert_eq!(s.consignments.get_consignment(&id).await.expect("get failed"), Some(g.clone()));
    assert_eq!(put(&s, &grant("g-2", "m-3", "m-2")).await, PutConsignment::Stored);
    assert_eq!(put(&s, &grant("g-0", "m-1", "m-4")).await, PutConsignment::Stored);
    let received = s.consignments.consignments_received(&merchant("m-2")).await.expect("received failed");
    assert_eq!(ids(&received), ["g-1", "g-2"]);
    assert_eq!(received[0], g);
    let granted = s.consignments.consignments_granted(&merchant("m-1")).await.expect("granted failed");
    assert_eq!(ids(&granted), ["g-0", "g-1"]);
    assert!(s.consignments.consignments_received(&merchant("m-1")).await.expect("received failed").is_empty());
    assert!(s.consignments.consignments_granted(&merchant("m-2")).await.expect("granted failed").is_empty());
}

pub async fn a_grant_is_written_only_on_the_version_before_and_never_changes_its_merchants(s: Subject) {
    let g = grant("g-1", "m-1", "m-2");
    assert_eq!(put(&s, &g).await, PutConsignment::Stored);
    assert_eq!(put(&s, &g).await, PutConsignment::VersionConflict, "version 1 again: one is stored");
    let revoked = Consignment { revoked: true, version: 2, ..g.clone() };
    assert_eq!(put(&s, &revoked).await, PutConsignment::Stored);
    assert_eq!(put(&s, &Consignment { version: 2, ..g.clone() }).await, PutConsignment::VersionConflict, "a stale writer");
    assert_eq!(put(&s, &Consignment { version: 4, ..g.clone() }).await, PutConsignment::VersionConflict, "a skipped version");
    let taken = Consignment { version: 3, ..grant("g-1", "m-9", "m-2") };
    assert_eq!(put(&s, &taken).await, PutConsignment::VersionConflict, "another owner under the id");
    let unknown = Consignment { version: 2, ..grant("g-7", "m-1", "m-2") };
    assert_eq!(put(&s, &unknown).await, PutConsignment::VersionConflict, "no version 1 stored");
    let id = ConsignmentId::parse("g-1").expect("an id");
    assert_eq!(s.consignments.get_consignment(&id).await.expect("get failed"), Some(revoked.clone()));
    let received = s.consignments.consignments_received(&merchant("m-2")).await.expect("received failed");
    assert_eq!(received, [revoked], "the list reads the grant as it is now");
    assert!(s.consignments.consignments_granted(&merchant("m-9")).await.expect("granted failed").is_empty());
    assert!(s.consignments.get_consignment(&ConsignmentId::parse("g-7").expect("an id")).await.expect("get failed").is_none());
}
