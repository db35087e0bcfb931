//! Races, run for real: many tokio tasks hitting the store at once, released together
//! by a barrier. Whatever the interleaving, conditions hold: no oversell, one winner.

use oms_domain::order::{AllocatedLine, Channel};
use oms_domain::ports::{InsertOutcome, OrderQuery, Page, ReleaseOutcome, ReserveOutcome, UpdateOutcome};
use oms_domain::{Order, OrderId};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::Barrier;
use tokio::task::JoinHandle;

use crate::fixtures::{hold, line, noon, order, order_id, owned_line, reserved, stored};
use crate::inventory::{held, insufficient, level, owned_level, set, set_owned, stock};
use crate::Subject;

/// Runs `count` tasks made by `make`, all starting at once, and collects their answers.
pub(crate) async fn race<T, F, Fut>(count: usize, make: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(count));
    let tasks: Vec<JoinHandle<T>> = (0..count)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            let work = make(i);
            tokio::spawn(async move {
                barrier.wait().await;
                work.await
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(count);
    for task in tasks {
        answers.push(task.await.expect("a racing task panicked"));
    }
    answers
}

pub async fn two_hundred_concurrent_one_unit_reservations_take_exactly_the_fifty_in_stock(s: Subject) {
    set(&s, "WH-1", "SKU-HOT", 50).await;
    let inventory = Arc::clone(&s.inventory);
    let outcomes = race(200, |_| {
        let inventory = Arc::clone(&inventory);
        async move { inventory.reserve(&order_id(), &hold([line("WH-1", "SKU-HOT", 1)])).await.expect("reserve failed") }
    })
    .await;
    let reserved = outcomes.iter().filter(|o| matches!(o, ReserveOutcome::Reserved { .. })).count();
    let sold_out = insufficient("WH-1", "m-1", "SKU-HOT", 0);
    let insufficient = outcomes.iter().filter(|o| **o == sold_out).count();
    assert_eq!((reserved, insufficient), (50, 150), "outcomes: {outcomes:?}");
    assert_eq!(stock(&s, "SKU-HOT").await, vec![level("WH-1", "SKU-HOT", 50, 50)]);
}

pub async fn concurrent_reservations_of_two_owners_stock_in_one_warehouse_never_take_each_others(s: Subject) {
    set(&s, "WH-1", "SKU-HOT", 20).await;
    set_owned(&s, "WH-1", "m-2", "SKU-HOT", 20).await;
    let inventory = Arc::clone(&s.inventory);
    let owners = ["m-1", "m-2"];
    let outcomes = race(60, |i| {
        let inventory = Arc::clone(&inventory);
        let plan = hold([owned_line("WH-1", owners[i % 2], "SKU-HOT", 1)]);
        async move { (i % 2, inventory.reserve(&order_id(), &plan).await.expect("reserve failed")) }
    })
    .await;
    for (o, owner) in owners.iter().enumerate() {
        let theirs: Vec<&ReserveOutcome> = outcomes.iter().filter(|(i, _)| *i == o).map(|(_, outcome)| outcome).collect();
        let won = theirs.iter().filter(|outcome| matches!(outcome, ReserveOutcome::Reserved { .. })).count();
        let sold_out = theirs.iter().filter(|outcome| ***outcome == insufficient("WH-1", owner, "SKU-HOT", 0)).count();
        assert_eq!((won, sold_out), (20, 10), "{owner}'s outcomes: {theirs:?}");
    }
    assert_eq!(stock(&s, "SKU-HOT").await, vec![level("WH-1", "SKU-HOT", 20, 20), owned_level("WH-1", "m-2", "SKU-HOT", 20, 20)]);
}

pub async fn concurrent_two_line_reservations_never_oversell_and_reserved_is_what_succeeded(s: Subject) {
    set(&s, "WH-1", "SKU-A", 60).await;
    set(&s, "WH-2", "SKU-B", 40).await;
    let plans: Vec<(OrderId, Vec<AllocatedLine>)> =
        (0..100u32).map(|i| (order_id(), vec![line("WH-1", "SKU-A", 1 + i % 3), line("WH-2", "SKU-B", 1 + i % 2)])).collect();
    // A reader keeps looking while the race runs: at no moment is more reserved than on hand.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (inventory, done) = (Arc::clone(&s.inventory), Arc::clone(&done));
        tokio::spawn(async move {
            let mut looks = 0;
            while !done.load(Ordering::SeqCst) || looks == 0 {
                for sku in ["SKU-A", "SKU-B"] {
                    for l in inventory.stock_of(&crate::fixtures::sku(sku)).await.expect("stock_of failed") {
                        assert!(l.reserved <= l.on_hand && l.available == l.on_hand - l.reserved, "inconsistent {l:?}");
                    }
                }
                looks += 1;
                tokio::task::yield_now().await;
            }
        })
    };
    let inventory = Arc::clone(&s.inventory);
    let outcomes = race(plans.len(), |i| {
        let (inventory, (id, lines)) = (Arc::clone(&inventory), plans[i].clone());
        async move { inventory.reserve(&id, &hold(lines.clone())).await.expect("reserve failed") }
    })
    .await;
    done.store(true, Ordering::SeqCst);
    watcher.await.expect("the watcher saw stock go wrong");

    let (mut want_a, mut want_b) = (0, 0);
    for ((id, lines), outcome) in plans.iter().zip(&outcomes) {
        let held = held(&s, id).await;
        match outcome {
            ReserveOutcome::Reserved { .. } => {
                want_a += lines[0].quantity;
                want_b += lines[1].quantity;
                assert_eq!(held.map(crate::fixtures::sorted), Some(crate::fixtures::sorted(lines.clone())));
            }
            ReserveOutcome::Insufficient { warehouse, owner, sku, available } => {
                let short = lines
                    .iter()
                    .find(|l| &l.warehouse == warehouse && &l.owner == owner && &l.sku == sku)
                    .expect("names a line of the order");
                assert!(*available < short.quantity, "{outcome:?} for {short:?}");
                assert_eq!(held, None, "a refused order holds stock");
            }
            ReserveOutcome::AlreadyReserved => panic!("every order is distinct, got {outcome:?}"),
        }
    }
    let succeeded = outcomes.iter().filter(|o| matches!(o, ReserveOutcome::Reserved { .. })).count();
    assert!(succeeded > 0 && succeeded < plans.len(), "the race should have winners and losers, {succeeded} won");
    assert_eq!(stock(&s, "SKU-A").await, vec![level("WH-1", "SKU-A", 60, want_a)]);
    assert_eq!(stock(&s, "SKU-B").await, vec![level("WH-2", "SKU-B", 40, want_b)]);
}

pub async fn concurrent_reservations_for_one_order_hold_its_lines_once(s: Subject) {
    set(&s, "WH-1", "SKU-1", 100).await;
    set(&s, "WH-2", "SKU-2", 100).await;
    let order = order_id();
    let lines = vec![line("WH-1", "SKU-1", 3), line("WH-2", "SKU-2", 2)];
    let inventory = Arc::clone(&s.inventory);
    let outcomes = race(20, |_| {
        let (inventory, order, lines) = (Arc::clone(&inventory), order.clone(), lines.clone());
        async move { inventory.reserve(&order, &hold(lines.clone())).await.expect("reserve failed") }
    })
    .await;
    assert_eq!(outcomes.iter().filter(|o| matches!(o, ReserveOutcome::Reserved { .. })).count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| **o == ReserveOutcome::AlreadyReserved).count(), 19, "{outcomes:?}");
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 100, 3)]);
    assert_eq!(stock(&s, "SKU-2").await, vec![level("WH-2", "SKU-2", 100, 2)]);
}

pub async fn concurrent_releases_of_one_order_give_its_units_back_once(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    let (held, other) = (order_id(), order_id());
    let hold_id = reserved(s.inventory.reserve(&held, &hold([line("WH-1", "SKU-1", 4)])).await.expect("reserve failed"));
    let _ = reserved(s.inventory.reserve(&other, &hold([line("WH-1", "SKU-1", 5)])).await.expect("reserve failed"));
    let inventory = Arc::clone(&s.inventory);
    let outcomes = race(20, |_| {
        let (inventory, held, hold_id) = (Arc::clone(&inventory), held.clone(), hold_id.clone());
        async move { inventory.release(&held, &hold_id).await.expect("release failed") }
    })
    .await;
    let released = outcomes.iter().filter(|o| matches!(o, ReleaseOutcome::Released(_))).count();
    assert_eq!(released, 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| **o == ReleaseOutcome::NothingHeld).count(), 19);
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 5)]);
}

pub async fn concurrent_updates_at_the_same_version_let_exactly_one_win(s: Subject) {
    let first = order(Channel::Generic, "A-1");
    assert_eq!(s.orders.insert_order(&first).await.expect("insert_order failed"), InsertOutcome::Inserted);
    let read = stored(&first);
    let orders = Arc::clone(&s.orders);
    let outcomes = race(20, |i| {
        let orders = Arc::clone(&orders);
        let mut mine = read.clone();
        mine.note(noon(), format!("writer {i}"));
        async move { (mine.clone(), orders.update_order(&mine).await.expect("update_order failed")) }
    })
    .await;
    let winners: Vec<&Order> =
        outcomes.iter().filter(|(_, o)| *o == UpdateOutcome::Updated { version: 2 }).map(|(m, _)| m).collect();
    assert_eq!(winners.len(), 1, "{:?}", outcomes.iter().map(|(_, o)| o).collect::<Vec<_>>());
    assert_eq!(outcomes.iter().filter(|(_, o)| *o == UpdateOutcome::VersionConflict).count(), 19);
    let now = s.orders.get_order(&first.order_id).await.expect("get_order failed");
    assert_eq!(now, Some(Order { version: 2, ..winners[0].clone() }), "the stored order is the winner's");
}

pub async fn concurrent_inserts_of_one_channel_order_store_it_once(s: Subject) {
    let attempts: Vec<Order> = (0..20).map(|_| order(Channel::Shopify, "A-1")).collect();
    let orders = Arc::clone(&s.orders);
    let outcomes = race(attempts.len(), |i| {
        let (orders, attempt) = (Arc::clone(&orders), attempts[i].clone());
        async move { orders.insert_order(&attempt).await.expect("insert_order failed") }
    })
    .await;
    let winner: Vec<&Order> =
        attempts.iter().zip(&outcomes).filter(|(_, o)| **o == InsertOutcome::Inserted).map(|(a, _)| a).collect();
    assert_eq!(winner.len(), 1, "{outcomes:?}");
    let kept = stored(winner[0]);
    for outcome in &outcomes {
        if let InsertOutcome::Duplicate(existing) = outcome {
            assert_eq!(**existing, kept, "a duplicate answered another order");
        }
    }
    assert_eq!(
        s.orders
            .find_orders(
                &OrderQuery::of(kept.merchant_id.clone()).channel(Channel::Shopify),
                &Page::new(100, None).expect("a valid page")
            )
            .await
            .expect("find_orders failed")
            .orders,
        vec![kept]
    );
}

pub async fn a_stale_release_racing_a_new_reservation_never_frees_the_new_hold(s: Subject) {
    set(&s, "WH-1", "SKU-1", 100).await;
    let order = order_id();
    let stale = reserved(s.inventory.reserve(&order, &hold([line("WH-1", "SKU-1", 2)])).await.expect("reserve failed"));
    let replanned = hold([line("WH-1", "SKU-1", 5)]);
    // Half the tasks release the first hold (a worker that judged it stale, many times
    // over), half try to reserve the order's new plan, all at once.
    let inventory = Arc::clone(&s.inventory);
    let outcomes = race(40, |i| {
        let (inventory, order, stale, replanned) = (Arc::clone(&inventory), order.clone(), stale.clone(), replanned.clone());
        async move {
            if i % 2 == 0 {
                Err(inventory.release(&order, &stale).await.expect("release failed"))
            } else {
                Ok(inventory.reserve(&order, &replanned).await.expect("reserve failed"))
            }
        }
    })
    .await;
    let released = outcomes.iter().filter(|o| matches!(o, Err(ReleaseOutcome::Released(_)))).count();
    assert_eq!(released, 1, "the first hold is given back once: {outcomes:?}");
    let new_holds: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            Ok(ReserveOutcome::Reserved { hold_id }) => Some(hold_id.clone()),
            _ => None,
        })
        .collect();
    assert!(new_holds.len() <= 1, "{outcomes:?}");
    // Every release of the stale hold after the new one was placed changed nothing.
    let newest = match new_holds.first() {
        Some(hold_id) => hold_id.clone(),
        None => reserved(s.inventory.reserve(&order, &replanned).await.expect("reserve failed")),
    };
    let late = race(10, |_| {
        let (inventory, order, stale) = (Arc::clone(&s.inventory), order.clone(), stale.clone());
        async move { inventory.release(&order, &stale).await.expect("release failed") }
    })
    .await;
    assert!(late.iter().all(|o| *o == ReleaseOutcome::NotThatHold), "{late:?}");
    let now = s.inventory.reservation(&order).await.expect("reservation failed").expect("the new hold is there");
    assert_eq!((now.hold_id, now.reservation), (newest, replanned));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 100, 5)]);
    assert_eq!(held(&s, &order).await.map(|r| r.units()), Some(5));
}
