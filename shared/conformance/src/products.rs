//! The reviewed catalogue: a listing is created once per SKU (a second answers the
//! first); a step is written only over the version it was taken from, with its place in
//! the list by status and among its merchant's promoted placements; two reviewers deciding
//! one listing at once leave exactly one decision; and a listing going on sale releases
//! the merchant's orders held for it.

use chrono::{Duration, Utc};
use oms_domain::messages::{AllocateOrder, Outgoing};
use oms_domain::order::{Channel, HoldReason};
use oms_domain::ports::{CreateProductOutcome, InsertOutcome, UpdateProductOutcome};
use oms_domain::product::{NotSellable, Product, ProductContent, ProductStatus, ReviewRules};
use oms_domain::usecases::products::{self as cases, ProductActionError};
use oms_domain::OrderStatus;
use std::collections::BTreeMap;

use crate::fixtures::{merchant, noon, order, sku};
use crate::Subject;

fn listing(id: &str, minutes: i64) -> Product {
    let content =
        ProductContent::parse("Duan ink stone", "12 cm", "DS-12", vec![], BTreeMap::new(), vec![]).expect("valid content");
    Product::draft(sku(id), merchant("m-1"), content, "m-1", noon() + Duration::minutes(minutes))
}

/// `id`'s listing stored and submitted: in review.
async fn in_review(s: &Subject, id: &str) -> Product {
    let draft = listing(id, 0);
    assert_eq!(s.products.create_product(&draft).await.expect("create failed"), CreateProductOutcome::Created);
    let mut next = draft.clone();
    assert_eq!(next.submit(&ReviewRules::default(), "m-1", Utc::now()), Ok(true));
    assert_eq!(s.products.update_product(&draft, &next).await.expect("update failed"), UpdateProductOutcome::Updated);
    next
}

pub async fn a_listing_is_created_once_per_sku_and_a_second_answers_the_first(s: Subject) {
    assert_eq!(s.products.get_product(&sku("INK-1")).await.expect("get failed"), None);
    let first = listing("INK-1", 0);
    assert_eq!(s.products.create_product(&first).await.expect("create failed"), CreateProductOutcome::Created);
    let mut again = listing("INK-1", 5);
    again.content.name = "Another name".into();
    match s.products.create_product(&again).await.expect("create failed") {
        CreateProductOutcome::Exists(stored) => assert_eq!(*stored, first),
        other => panic!("a second listing of the SKU is the first: {other:?}"),
    }
    assert_eq!(s.products.get_product(&sku("INK-1")).await.expect("get failed"), Some(first));
    let drafts = s.products.products_in_status(ProductStatus::Draft, None, 10).await.expect("list failed");
    assert_eq!(drafts.products.len(), 1, "listed once, as a draft");
}

pub async fn a_listing_step_is_written_only_over_its_version_and_moves_its_place_in_the_lists(s: Subject) {
    let read = in_review(&s, "INK-2").await;
    let mut approved = read.clone();
    approved.approve("staff", Utc::now()).expect("a listing in review is decided");
    let mut stale = read.clone();
    stale.version -= 1;
    match s.products.update_product(&stale, &approved).await.expect("update failed") {
        UpdateProductOutcome::Conflict(stored) => assert_eq!(*stored, read),
        other => panic!("a stale version is a conflict: {other:?}"),
    }
    assert_eq!(s.products.update_product(&read, &approved).await.expect("update failed"), UpdateProductOutcome::Updated);
    assert_eq!(s.products.get_product(&sku("INK-2")).await.expect("get failed"), Some(approved.clone()));
    let waiting = s.products.products_in_status(ProductStatus::InReview, None, 10).await.expect("list failed");
    assert!(waiting.products.is_empty(), "no longer in review: {waiting:?}");
    let done = s.products.products_in_status(ProductStatus::Approved, None, 10).await.expect("list failed");
    assert_eq!(done.products, vec![approved]);
    let unknown = listing("INK-UNKNOWN", 0);
    assert_eq!(s.products.update_product(&unknown, &unknown).await.expect("update failed"), UpdateProductOutcome::NotFound);
}

pub async fn listings_are_listed_by_status_oldest_first_a_page_at_a_time(s: Subject) {
    for (i, id) in ["INK-C", "INK-A", "INK-B", "INK-D", "INK-E"].into_iter().enumerate() {
        let created = s.products.create_product(&listing(id, i64::try_from(i).expect("few"))).await.expect("create failed");
        assert_eq!(created, CreateProductOutcome::Created);
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = s.products.products_in_status(ProductStatus::Draft, after.as_deref(), 2).await.expect("list failed");
        assert!(page.products.len() <= 2);
        seen.extend(page.products.iter().map(|p| p.sku.to_string()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["INK-C", "INK-A", "INK-B", "INK-D", "INK-E"], "by the time they entered the status");
}

pub async fn promoted_listings_read_by_rank_per_merchant_and_leave_when_unlisted(s: Subject) {
    let mut listed = Vec::new();
    for id in ["INK-P1", "INK-P2", "INK-P3"] {
        let read = in_review(&s, id).await;
        let mut next = read.clone();
        next.approve("staff", Utc::now()).expect("approved");
        next.list("m-1", Utc::now()).expect("listed");
        assert_eq!(s.products.update_product(&read, &next).await.expect("update failed"), UpdateProductOutcome::Updated);
        listed.push(next);
    }
    for (product, rank) in listed.iter().zip([2, 1, 2]) {
        let mut next = product.clone();
        next.promote(Some(rank), "m-1", Utc::now()).expect("a listed product is promoted");
        assert_eq!(s.products.update_product(product, &next).await.expect("update failed"), UpdateProductOutcome::Updated);
    }
    let promoted = s.products.promoted_products(&merchant("m-1")).await.expect("list failed");
    let order: Vec<(String, Option<u32>)> = promoted.iter().map(|p| (p.sku.to_string(), p.promotion)).collect();
    assert_eq!(order, [("INK-P2".into(), Some(1)), ("INK-P1".into(), Some(2)), ("INK-P3".into(), Some(2))]);
    assert!(s.products.promoted_products(&merchant("m-2")).await.expect("list failed").is_empty(), "per merchant");
    let read = s.products.get_product(&sku("INK-P2")).await.expect("get failed").expect("stored");
    let mut unlisted = read.clone();
    unlisted.unlist("m-1", Utc::now()).expect("unlisted");
    assert_eq!(s.products.update_product(&read, &unlisted).await.expect("update failed"), UpdateProductOutcome::Updated);
    let promoted = s.products.promoted_products(&merchant("m-1")).await.expect("list failed");
    assert_eq!(promoted.iter().map(|p| p.sku.to_string()).collect::<Vec<_>>(), ["INK-P1", "INK-P3"]);
}

pub async fn two_reviewers_deciding_one_listing_at_once_leave_exactly_one_decision(s: Subject) {
    // The store: decisions all taken from the one version read, written at once.
    let read = in_review(&s, "INK-R1").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (store, read) = (s.products.clone(), read.clone());
        tasks.push(tokio::spawn(async move {
            let mut decided = read.clone();
            if i % 2 == 0 {
                decided.approve(&format!("reviewer-{i}"), Utc::now()).expect("decided");
            } else {
                decided.reject("the photos are blurry", &format!("reviewer-{i}"), Utc::now()).expect("decided");
            }
            (store.update_product(&read, &decided).await.expect("update failed"), decided)
        }));
    }
    let mut written = Vec::new();
    for task in tasks {
        match task.await.expect("a task") {
            (UpdateProductOutcome::Updated, decided) => written.push(decided),
            (UpdateProductOutcome::Conflict(_), _) => {}
            (other, _) => panic!("a decision either lands or conflicts: {other:?}"),
        }
    }
    assert_eq!(written.len(), 1, "exactly one decision from one version is written");
    assert_eq!(s.products.get_product(&sku("INK-R1")).await.expect("get failed").as_ref(), written.first());

    // The use cases: each reads and decides; the losers find the listing decided.
    in_review(&s, "INK-R2").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = s.products.clone();
        tasks.push(tokio::spawn(async move {
            let reviewer = format!("reviewer-{i}");
            if i % 2 == 0 {
                cases::approve(&*store, &sku("INK-R2"), &reviewer, Utc::now()).await
            } else {
                cases::reject(&*store, &sku("INK-R2"), "the photos are blurry", &reviewer, Utc::now()).await
            }
        }));
    }
    let mut decided = Vec::new();
    for task in tasks {
        match task.await.expect("a task") {
            Ok(product) => decided.push(product),
            Err(ProductActionError::Step(refused)) => assert_ne!(refused.from, ProductStatus::InReview),
            Err(other) => panic!("a decision either lands or finds the listing decided: {other}"),
        }
    }
    assert_eq!(decided.len(), 1, "exactly one decision is stored");
    let stored = s.products.get_product(&sku("INK-R2")).await.expect("get failed").expect("the listing");
    assert_eq!(stored, decided[0]);
    let decisions = stored.timeline.iter().filter(|e| e.by.starts_with("reviewer-")).count();
    assert_eq!(decisions, 1, "one decision on the timeline: {:?}", stored.timeline);
}

pub async fn an_order_held_for_an_unlisted_product_is_released_by_its_listing(s: Subject) {
    let read = in_review(&s, "SKU-1").await;
    let mut approved = read.clone();
    approved.approve("staff", Utc::now()).expect("approved");
    assert_eq!(s.products.update_product(&read, &approved).await.expect("update failed"), UpdateProductOutcome::Updated);
    let mut held = order(Channel::Generic, "HELD-P1");
    let hold = HoldReason::ProductNotSellable { sku: sku("SKU-1"), why: NotSellable::Unlisted };
    held.transition(OrderStatus::OnHold, noon(), hold.to_string()).expect("held");
    assert!(matches!(s.orders.insert_order(&held).await.expect("insert failed"), InsertOutcome::Inserted));
    let ports = crate::flash_sales::ports(&s);
    let merchant_of_order = held.merchant_id.clone();
    // Nothing is released while the product is not on sale.
    let released = oms_domain::usecases::onboarding::release_held_orders(&ports, &merchant_of_order).await;
    assert_eq!(released.expect("release failed"), vec![]);

    let listed = cases::list(&ports, &sku("SKU-1"), "m-1").await.expect("list failed");
    assert_eq!(listed.product.status, ProductStatus::Listed);
    assert_eq!(listed.released, vec![held.order_id.clone()]);
    let order = s.orders.get_order(&held.order_id).await.expect("get failed").expect("the order");
    assert_eq!((order.status, order.hold()), (OrderStatus::Received, None));
    let queued = Outgoing::of(&AllocateOrder::new(held.order_id.clone()));
    assert!(s.outbox.sent().await.contains(&queued), "queued for allocation with its release");
}
