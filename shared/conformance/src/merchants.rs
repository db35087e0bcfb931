//! Merchant onboarding: a record is created once per merchant (a second registration
//! answers the first); a step is written only over the version it was taken from, with
//! its place in the list by status; the lists page oldest first; two administrators
//! deciding one application at once leave exactly one decision; and an approval releases
//! the merchant's orders held for it, each queued for allocation with its write.

use chrono::{Duration, Utc};
use oms_domain::document::{DocumentKey, DocumentRef, DocumentType};
use oms_domain::messages::{AllocateOrder, Outgoing};
use oms_domain::onboarding::{Application, DocumentKind, MerchantRecord, OnboardingStatus, Phone, Region};
use oms_domain::order::{Channel, HoldReason};
use oms_domain::ports::{CreateMerchantOutcome, InsertOutcome, UpdateMerchantOutcome};
use oms_domain::usecases::onboarding::{self as cases, OnboardingActionError};
use oms_domain::OrderStatus;

use crate::fixtures::{merchant, noon, order};
use crate::Subject;

fn record(id: &str, minutes: i64) -> MerchantRecord {
    MerchantRecord::register(
        merchant(id),
        Phone::parse("+8613800000000").expect("a phone"),
        Region::parse("Zhejiang").expect("a region"),
        id,
        noon() + Duration::minutes(minutes),
    )
}

/// `id` registered, its application written with every document, and submitted.
async fn submitted(s: &Subject, id: &str) -> MerchantRecord {
    let new = record(id, 0);
    assert_eq!(s.merchants.create_merchant(&new).await.expect("create failed"), CreateMerchantOutcome::Created);
    let mut next = new.clone();
    let application =
        Application::parse("specialty", "tea", "91330100MA27XK1234", "Wang Fang", "330106199001011234").expect("an application");
    next.save_application(application, id, Utc::now()).expect("a draft takes its application");
    for kind in DocumentKind::ALL {
        let document = DocumentRef {
            key: DocumentKey::parse(format!("merchants/{id}/{}", kind.as_str())).expect("a key"),
            content_type: DocumentType::Pdf,
            bytes: 10,
            sha256: "ab".repeat(32),
            uploaded_at: Utc::now(),
        };
        next.attach_document(kind, document, id, Utc::now()).expect("a draft takes documents");
    }
    next.submit(id, Utc::now()).expect("a complete draft is submitted");
    assert_eq!(s.merchants.update_merchant(&new, &next).await.expect("update failed"), UpdateMerchantOutcome::Updated);
    next
}

pub async fn a_merchant_registers_once_and_a_second_registration_answers_the_first(s: Subject) {
    assert_eq!(s.merchants.get_merchant(&merchant("m-7")).await.expect("get failed"), None);
    let first = record("m-7", 0);
    assert_eq!(s.merchants.create_merchant(&first).await.expect("create failed"), CreateMerchantOutcome::Created);
    let mut again = record("m-7", 5);
    again.phone = Phone::parse("+8613900000000").expect("a phone");
    match s.merchants.create_merchant(&again).await.expect("create failed") {
        CreateMerchantOutcome::Exists(stored) => assert_eq!(*stored, first),
        other => panic!("a second registration is the first: {other:?}"),
    }
    assert_eq!(s.merchants.get_merchant(&merchant("m-7")).await.expect("get failed"), Some(first));
    let listed = s.merchants.merchants_in_status(OnboardingStatus::Draft, None, 10).await.expect("list failed");
    assert_eq!(listed.merchants.len(), 1, "listed once, as a draft");
}

pub async fn a_step_is_written_only_over_the_version_it_was_taken_from(s: Subject) {
    let read = submitted(&s, "m-8").await;
    let mut approved = read.clone();
    approved.approve("admin", Utc::now()).expect("a submitted application is decided");
    let mut stale = read.clone();
    stale.version -= 1;
    match s.merchants.update_merchant(&stale, &approved).await.expect("update failed") {
        UpdateMerchantOutcome::Conflict(stored) => assert_eq!(*stored, read),
        other => panic!("a stale version is a conflict: {other:?}"),
    }
    assert_eq!(s.merchants.update_merchant(&read, &approved).await.expect("update failed"), UpdateMerchantOutcome::Updated);
    assert_eq!(s.merchants.get_merchant(&merchant("m-8")).await.expect("get failed"), Some(approved.clone()));
    // Its place in the lists moved with it.
    let waiting = s.merchants.merchants_in_status(OnboardingStatus::Submitted, None, 10).await.expect("list failed");
    assert!(waiting.merchants.is_empty(), "no longer waiting: {waiting:?}");
    let done = s.merchants.merchants_in_status(OnboardingStatus::Approved, None, 10).await.expect("list failed");
    assert_eq!(done.merchants, vec![approved]);
    let unknown = record("m-unknown", 0);
    assert_eq!(s.merchants.update_merchant(&unknown, &unknown).await.expect("update failed"), UpdateMerchantOutcome::NotFound);
}

pub async fn merchants_are_listed_by_status_oldest_first_a_page_at_a_time(s: Subject) {
    for (i, id) in ["m-c", "m-a", "m-b", "m-d", "m-e"].into_iter().enumerate() {
        let minutes = i64::try_from(i).expect("few");
        let created = s.merchants.create_merchant(&record(id, minutes)).await.expect("create failed");
        assert_eq!(created, CreateMerchantOutcome::Created);
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = s.merchants.merchants_in_status(OnboardingStatus::Draft, after.as_deref(), 2).await.expect("list failed");
        assert!(page.merchants.len() <= 2);
        seen.extend(page.merchants.iter().map(|m| m.merchant_id.to_string()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["m-c", "m-a", "m-b", "m-d", "m-e"], "by the time they entered the status");
    let none = s.merchants.merchants_in_status(OnboardingStatus::Submitted, None, 2).await.expect("list failed");
    assert_eq!((none.merchants.len(), none.next), (0, None));
}

pub async fn two_admins_deciding_at_once_leave_exactly_one_decision(s: Subject) {
    // The store: decisions all taken from the one version read, written at once.
    let read = submitted(&s, "m-10").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (store, read) = (s.merchants.clone(), read.clone());
        tasks.push(tokio::spawn(async move {
            let mut decided = read.clone();
            if i % 2 == 0 {
                decided.approve(&format!("admin-{i}"), Utc::now()).expect("a submitted application is decided");
            } else {
                decided.reject("the licence has expired", &format!("admin-{i}"), Utc::now()).expect("decided");
            }
            (store.update_merchant(&read, &decided).await.expect("update failed"), decided)
        }));
    }
    let mut written = Vec::new();
    for task in tasks {
        match task.await.expect("a task") {
            (UpdateMerchantOutcome::Updated, decided) => written.push(decided),
            (UpdateMerchantOutcome::Conflict(_), _) => {}
            (other, _) => panic!("a decision either lands or conflicts: {other:?}"),
        }
    }
    assert_eq!(written.len(), 1, "exactly one decision from one version is written");
    assert_eq!(s.merchants.get_merchant(&merchant("m-10")).await.expect("get failed").as_ref(), written.first());

    // The use cases: each reads and decides; the losers find the application decided.
    submitted(&s, "m-9").await;
    let ports = crate::flash_sales::ports(&s);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (ports, store) = (ports.clone(), s.merchants.clone());
        tasks.push(tokio::spawn(async move {
            let admin = format!("admin-{i}");
            if i % 2 == 0 {
                cases::approve(&ports, &merchant("m-9"), &admin).await.map(|a| a.record)
            } else {
                cases::reject(&*store, &merchant("m-9"), "the licence has expired", &admin, Utc::now()).await
            }
        }));
    }
    let mut decided = Vec::new();
    for task in tasks {
        match task.await.expect("a task") {
            Ok(record) => decided.push(record),
            Err(OnboardingActionError::Step(refused)) => assert_ne!(refused.from, OnboardingStatus::Submitted),
            Err(other) => panic!("a decision either lands or finds the application decided: {other}"),
        }
    }
    assert_eq!(decided.len(), 1, "exactly one decision is stored");
    let stored = s.merchants.get_merchant(&merchant("m-9")).await.expect("get failed").expect("the record");
    assert_eq!(stored, decided[0]);
    let decisions = stored.timeline.iter().filter(|e| e.by.starts_with("admin-")).count();
    assert_eq!(decisions, 1, "one decision on the timeline: {:?}", stored.timeline);
}

pub async fn an_order_held_for_its_merchant_is_released_by_the_approval(s: Subject) {
    let read = submitted(&s, "m-1").await;
    let mut held = order(Channel::Generic, "HELD-1");
    held.transition(OrderStatus::OnHold, noon(), HoldReason::MerchantNotApproved.to_string()).expect("held");
    assert!(matches!(s.orders.insert_order(&held).await.expect("insert failed"), InsertOutcome::Inserted));
    let ports = crate::flash_sales::ports(&s);
    // Nothing is released while the merchant is not approved.
    assert_eq!(cases::release_held_orders(&ports, &merchant("m-1")).await.expect("release failed"), vec![]);

    let approved = cases::approve(&ports, &merchant("m-1"), "admin").await.expect("approve failed");
    assert_eq!(approved.record.version, read.version + 1);
    assert_eq!(approved.released, vec![held.order_id.clone()]);
    let order = s.orders.get_order(&held.order_id).await.expect("get failed").expect("the order");
    assert_eq!((order.status, order.hold()), (OrderStatus::Received, None));
    let queued = Outgoing::of(&AllocateOrder::new(held.order_id.clone()));
    assert!(s.outbox.sent().await.contains(&queued), "queued for allocation with its release");
    // Again: nothing more to release.
    assert_eq!(cases::release_held_orders(&ports, &merchant("m-1")).await.expect("release failed"), vec![]);
}
