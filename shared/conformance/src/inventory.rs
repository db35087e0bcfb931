//! `InventoryStore`: on-hand counts, all-or-nothing reservations, idempotent release.

use oms_domain::ports::{ReleaseOutcome, ReserveOutcome, SetOnHandOutcome};
use oms_domain::reservation::{HoldId, Reservation, MAX_LINES_PER_WRITE};
use oms_domain::stock::{StockCounts, StockLevel};
use oms_domain::OrderId;

use crate::fixtures::{hold, line, many_skus, merchant, order_id, owned_line, reserved, sku, sorted, warehouse_id};
use crate::Subject;

/// The stock level the store should report for merchant `m-1`'s units.
pub(crate) fn level(warehouse: &str, sku_id: &str, on_hand: u32, reserved: u32) -> StockLevel {
    owned_level(warehouse, "m-1", sku_id, on_hand, reserved)
}

/// The stock level the store should report for `owner`'s units.
pub(crate) fn owned_level(warehouse: &str, owner: &str, sku_id: &str, on_hand: u32, reserved: u32) -> StockLevel {
    let counts = StockCounts::new(on_hand, reserved).expect("a fixture's counts are consistent");
    StockLevel::new(warehouse_id(warehouse), merchant(owner), sku(sku_id), counts)
}

/// Sets a count of merchant `m-1`'s units, insisting that it is accepted.
pub(crate) async fn set(s: &Subject, warehouse: &str, sku_id: &str, on_hand: u32) {
    set_owned(s, warehouse, "m-1", sku_id, on_hand).await;
}

/// Sets a count of `owner`'s units, insisting that it is accepted.
pub(crate) async fn set_owned(s: &Subject, warehouse: &str, owner: &str, sku_id: &str, on_hand: u32) {
    let outcome = s.inventory.set_on_hand(&warehouse_id(warehouse), &merchant(owner), &sku(sku_id), on_hand).await;
    let outcome = outcome.expect("set_on_hand failed");
    assert!(
        matches!(outcome, SetOnHandOutcome::Set(_)),
        "set_on_hand({warehouse}, {owner}, {sku_id}, {on_hand}) answered {outcome:?}"
    );
}

/// `owner`'s stock of `sku_id` in `warehouse` found with only `available` units.
pub(crate) fn insufficient(warehouse: &str, owner: &str, sku_id: &str, available: u32) -> ReserveOutcome {
    ReserveOutcome::Insufficient { warehouse: warehouse_id(warehouse), owner: merchant(owner), sku: sku(sku_id), available }
}

pub(crate) async fn stock(s: &Subject, sku_id: &str) -> Vec<StockLevel> {
    s.inventory.stock_of(&sku(sku_id)).await.expect("stock_of failed")
}

/// The lines the order holds, if any.
pub(crate) async fn held(s: &Subject, order: &OrderId) -> Option<Reservation> {
    s.inventory.reservation(order).await.expect("reservation failed").map(|h| h.reservation)
}

/// The id of the hold the order has, insisting that it has one.
pub(crate) async fn hold_id_of(s: &Subject, order: &OrderId) -> HoldId {
    s.inventory.reservation(order).await.expect("reservation failed").expect("the order holds stock").hold_id
}

pub async fn set_on_hand_creates_a_stock_level_then_updates_it(s: Subject) {
    let (w, k) = (warehouse_id("WH-1"), sku("SKU-1"));
    let outcome = s.inventory.set_on_hand(&w, &merchant("m-1"), &k, 10).await.expect("set_on_hand failed");
    assert_eq!(outcome, SetOnHandOutcome::Set(level("WH-1", "SKU-1", 10, 0)));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 0)]);
    for on_hand in [4, 25, 0] {
        let outcome = s.inventory.set_on_hand(&w, &merchant("m-1"), &k, on_hand).await.expect("set_on_hand failed");
        assert_eq!(outcome, SetOnHandOutcome::Set(level("WH-1", "SKU-1", on_hand, 0)));
        assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", on_hand, 0)]);
    }
}

pub async fn set_on_hand_keeps_the_units_reserved(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    reserved(s.inventory.reserve(&order_id(), &hold([line("WH-1", "SKU-1", 3)])).await.expect("reserve failed"));
    let outcome =
        s.inventory.set_on_hand(&warehouse_id("WH-1"), &merchant("m-1"), &sku("SKU-1"), 7).await.expect("set_on_hand failed");
    assert_eq!(outcome, SetOnHandOutcome::Set(level("WH-1", "SKU-1", 7, 3)));
    // Exactly the units reserved is allowed: nothing left available.
    let outcome =
        s.inventory.set_on_hand(&warehouse_id("WH-1"), &merchant("m-1"), &sku("SKU-1"), 3).await.expect("set_on_hand failed");
    assert_eq!(outcome, SetOnHandOutcome::Set(level("WH-1", "SKU-1", 3, 3)));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 3, 3)]);
}

pub async fn set_on_hand_below_the_units_reserved_is_refused_and_changes_nothing(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    reserved(s.inventory.reserve(&order_id(), &hold([line("WH-1", "SKU-1", 6)])).await.expect("reserve failed"));
    let outcome =
        s.inventory.set_on_hand(&warehouse_id("WH-1"), &merchant("m-1"), &sku("SKU-1"), 5).await.expect("set_on_hand failed");
    assert_eq!(outcome, SetOnHandOutcome::BelowReserved { reserved: 6 });
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 6)]);
}

pub async fn stock_of_lists_every_warehouse_holding_the_sku_by_warehouse_id(s: Subject) {
    set(&s, "WH-3", "SKU-1", 3).await;
    set(&s, "WH-1", "SKU-1", 1).await;
    set(&s, "WH-2", "SKU-2", 2).await;
    set(&s, "WH-2", "SKU-1", 0).await;
    assert_eq!(
        stock(&s, "SKU-1").await,
        vec![level("WH-1", "SKU-1", 1, 0), level("WH-2", "SKU-1", 0, 0), level("WH-3", "SKU-1", 3, 0)]
    );
    assert_eq!(stock(&s, "SKU-2").await, vec![level("WH-2", "SKU-2", 2, 0)]);
}

pub async fn stock_of_an_unknown_sku_is_empty(s: Subject) {
    assert!(stock(&s, "SKU-1").await.is_empty());
    set(&s, "WH-1", "SKU-1", 5).await;
    assert!(stock(&s, "SKU-9").await.is_empty());
}

pub async fn a_reservation_holds_every_line_across_two_warehouses(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    set(&s, "WH-2", "SKU-2", 5).await;
    set(&s, "WH-2", "SKU-1", 4).await;
    let order = order_id();
    let lines = vec![line("WH-1", "SKU-1", 3), line("WH-2", "SKU-2", 5)];
    reserved(s.inventory.reserve(&order, &hold(lines.clone())).await.expect("reserve failed"));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 3), level("WH-2", "SKU-1", 4, 0)]);
    assert_eq!(stock(&s, "SKU-2").await, vec![level("WH-2", "SKU-2", 5, 5)]);
    let held = held(&s, &order).await.expect("the order holds stock");
    assert_eq!(sorted(held), sorted(lines));
}

pub async fn a_reservation_with_one_short_line_changes_nothing_and_names_that_line(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    set(&s, "WH-2", "SKU-2", 2).await;
    let order = order_id();
    let outcome =
        s.inventory.reserve(&order, &hold([line("WH-1", "SKU-1", 3), line("WH-2", "SKU-2", 5)])).await.expect("reserve failed");
    assert_eq!(outcome, insufficient("WH-2", "m-1", "SKU-2", 2));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 0)]);
    assert_eq!(stock(&s, "SKU-2").await, vec![level("WH-2", "SKU-2", 2, 0)]);
    assert_eq!(held(&s, &order).await, None);
    // Nothing was recorded for the order: it may still reserve a plan that fits.
    let fits = vec![line("WH-1", "SKU-1", 3), line("WH-2", "SKU-2", 2)];
    reserved(s.inventory.reserve(&order, &hold(fits.clone())).await.expect("reserve failed"));
}

pub async fn reserving_twice_for_the_same_order_is_already_reserved_and_holds_nothing_more(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    let order = order_id();
    let lines = vec![line("WH-1", "SKU-1", 2)];
    reserved(s.inventory.reserve(&order, &hold(lines.clone())).await.expect("reserve failed"));
    assert_eq!(s.inventory.reserve(&order, &hold(lines.clone())).await.expect("reserve failed"), ReserveOutcome::AlreadyReserved);
    let other_plan = [line("WH-1", "SKU-1", 5)];
    assert_eq!(
        s.inventory.reserve(&order, &hold(other_plan.clone())).await.expect("reserve failed"),
        ReserveOutcome::AlreadyReserved
    );
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 2)]);
    assert_eq!(held(&s, &order).await, Some(hold(lines)));
}

pub async fn reserving_a_never_counted_sku_is_insufficient_with_none_available(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    let outcome = s.inventory.reserve(&order_id(), &hold([line("WH-1", "SKU-9", 1)])).await.expect("reserve failed");
    assert_eq!(outcome, insufficient("WH-1", "m-1", "SKU-9", 0));
    let outcome = s.inventory.reserve(&order_id(), &hold([line("WH-9", "SKU-1", 1)])).await.expect("reserve failed");
    assert_eq!(outcome, insufficient("WH-9", "m-1", "SKU-1", 0));
    assert!(stock(&s, "SKU-9").await.is_empty(), "a failed reservation recorded stock");
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 0)]);
}

pub async fn a_reservation_built_from_one_stock_line_twice_holds_their_sum_once(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    let order = order_id();
    let twice = hold([line("WH-1", "SKU-1", 1), line("WH-1", "SKU-1", 2)]);
    reserved(s.inventory.reserve(&order, &twice).await.expect("reserve failed"));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 3)]);
    assert_eq!(held(&s, &order).await, Some(hold([line("WH-1", "SKU-1", 3)])));
}

pub async fn releasing_gives_the_units_back_and_a_second_release_holds_nothing(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    set(&s, "WH-2", "SKU-2", 5).await;
    let order = order_id();
    let lines = vec![line("WH-2", "SKU-2", 4), line("WH-1", "SKU-1", 3)];
    let hold_id = reserved(s.inventory.reserve(&order, &hold(lines.clone())).await.expect("reserve failed"));
    assert_eq!(hold_id_of(&s, &order).await, hold_id);
    match s.inventory.release(&order, &hold_id).await.expect("release failed") {
        ReleaseOutcome::Released(given_back) => assert_eq!(sorted(given_back), sorted(lines)),
        other => panic!("expected Released, got {other:?}"),
    }
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 0)]);
    assert_eq!(stock(&s, "SKU-2").await, vec![level("WH-2", "SKU-2", 5, 0)]);
    assert_eq!(held(&s, &order).await, None);
    assert_eq!(s.inventory.release(&order, &hold_id).await.expect("release failed"), ReleaseOutcome::NothingHeld);
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 0)]);
}

pub async fn releasing_an_order_that_never_reserved_holds_nothing(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    let other = reserved(s.inventory.reserve(&order_id(), &hold([line("WH-1", "SKU-1", 4)])).await.expect("reserve failed"));
    // Not even with the hold id of another order.
    assert_eq!(s.inventory.release(&order_id(), &other).await.expect("release failed"), ReleaseOutcome::NothingHeld);
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 4)]);
}

pub async fn an_order_that_holds_nothing_has_no_reservation(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    assert_eq!(s.inventory.reservation(&order_id()).await.expect("reservation failed"), None);
}

pub async fn releasing_a_hold_that_was_replaced_changes_nothing(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    let order = order_id();
    let first = reserved(s.inventory.reserve(&order, &hold([line("WH-1", "SKU-1", 2)])).await.expect("reserve failed"));
    assert!(matches!(s.inventory.release(&order, &first).await.expect("release failed"), ReleaseOutcome::Released(_)));
    let second = reserved(s.inventory.reserve(&order, &hold([line("WH-1", "SKU-1", 3)])).await.expect("reserve failed"));
    assert_ne!(first, second, "every reservation is a new hold");

    // A worker that judged the first hold stale releases it late: the second stays held.
    assert_eq!(s.inventory.release(&order, &first).await.expect("release failed"), ReleaseOutcome::NotThatHold);
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 3)]);
    let now = s.inventory.reservation(&order).await.expect("reservation failed").expect("the order holds stock");
    assert_eq!((now.hold_id, now.reservation), (second.clone(), hold([line("WH-1", "SKU-1", 3)])));
    assert!(matches!(s.inventory.release(&order, &second).await.expect("release failed"), ReleaseOutcome::Released(_)));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 0)]);
}

pub async fn a_reservation_larger_than_one_write_is_held_and_released_whole(s: Subject) {
    let skus = many_skus(150);
    assert!(skus.len() > MAX_LINES_PER_WRITE, "the case needs more lines than one write takes");
    for sku_id in &skus {
        set(&s, "WH-1", sku_id, 2).await;
    }
    let order = order_id();
    let plan = hold(skus.iter().map(|sku_id| line("WH-1", sku_id, 1)));
    let hold_id = reserved(s.inventory.reserve(&order, &plan).await.expect("reserve failed"));
    let now = s.inventory.reservation(&order).await.expect("reservation failed").expect("the order holds stock");
    assert_eq!((&now.hold_id, &now.reservation), (&hold_id, &plan));
    for sku_id in &skus {
        assert_eq!(stock(&s, sku_id).await, vec![level("WH-1", sku_id, 2, 1)], "{sku_id}");
    }
    assert_eq!(s.inventory.reserve(&order, &plan).await.expect("reserve failed"), ReserveOutcome::AlreadyReserved);

    assert_eq!(s.inventory.release(&order, &hold_id).await.expect("release failed"), ReleaseOutcome::Released(plan));
    for sku_id in &skus {
        assert_eq!(stock(&s, sku_id).await, vec![level("WH-1", sku_id, 2, 0)], "{sku_id}");
    }
    assert_eq!(held(&s, &order).await, None);
    assert_eq!(s.inventory.release(&order, &hold_id).await.expect("release failed"), ReleaseOutcome::NothingHeld);
}

pub async fn a_reservation_short_in_a_later_part_holds_nothing(s: Subject) {
    let skus = many_skus(150);
    let short = &skus[MAX_LINES_PER_WRITE + 20];
    for sku_id in &skus {
        set(&s, "WH-1", sku_id, if sku_id == short { 0 } else { 2 }).await;
    }
    let order = order_id();
    let plan = hold(skus.iter().map(|sku_id| line("WH-1", sku_id, 1)));
    let outcome = s.inventory.reserve(&order, &plan).await.expect("reserve failed");
    assert_eq!(outcome, insufficient("WH-1", "m-1", short, 0));
    assert_eq!(held(&s, &order).await, None);
    for sku_id in &skus {
        let on_hand = if sku_id == short { 0 } else { 2 };
        assert_eq!(stock(&s, sku_id).await, vec![level("WH-1", sku_id, on_hand, 0)], "{sku_id} is still held");
    }
    // Nothing was recorded: the order may reserve once the stock is there.
    set(&s, "WH-1", short, 1).await;
    let _ = reserved(s.inventory.reserve(&order, &plan).await.expect("reserve failed"));
}

pub async fn two_owners_of_one_sku_in_one_warehouse_are_counted_and_reserved_apart(s: Subject) {
    set_owned(&s, "WH-1", "m-2", "SKU-1", 4).await;
    set(&s, "WH-1", "SKU-1", 10).await;
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 0), owned_level("WH-1", "m-2", "SKU-1", 4, 0)]);

    let order = order_id();
    reserved(s.inventory.reserve(&order, &hold([owned_line("WH-1", "m-2", "SKU-1", 3)])).await.expect("reserve failed"));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 0), owned_level("WH-1", "m-2", "SKU-1", 4, 3)]);
    assert_eq!(held(&s, &order).await, Some(hold([owned_line("WH-1", "m-2", "SKU-1", 3)])));

    // m-2 has 1 left: m-1's 10 beside it are not m-2's to hold.
    let outcome = s.inventory.reserve(&order_id(), &hold([owned_line("WH-1", "m-2", "SKU-1", 2)])).await;
    assert_eq!(outcome.expect("reserve failed"), insufficient("WH-1", "m-2", "SKU-1", 1));
    // A count is checked against its own owner's reserved units only.
    let below = s.inventory.set_on_hand(&warehouse_id("WH-1"), &merchant("m-2"), &sku("SKU-1"), 2).await;
    assert_eq!(below.expect("set_on_hand failed"), SetOnHandOutcome::BelowReserved { reserved: 3 });
    set(&s, "WH-1", "SKU-1", 0).await;
    // A merchant who never counted the SKU there has none of it, whoever else does.
    let outcome = s.inventory.reserve(&order_id(), &hold([owned_line("WH-1", "m-3", "SKU-1", 1)])).await;
    assert_eq!(outcome.expect("reserve failed"), insufficient("WH-1", "m-3", "SKU-1", 0));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 0, 0), owned_level("WH-1", "m-2", "SKU-1", 4, 3)]);
}

pub async fn a_release_gives_each_line_back_to_the_owner_it_came_from(s: Subject) {
    set(&s, "WH-1", "SKU-1", 10).await;
    set_owned(&s, "WH-1", "m-2", "SKU-1", 10).await;
    let order = order_id();
    let lines = vec![line("WH-1", "SKU-1", 3), owned_line("WH-1", "m-2", "SKU-1", 2)];
    let hold_id = reserved(s.inventory.reserve(&order, &hold(lines.clone())).await.expect("reserve failed"));
    reserved(s.inventory.reserve(&order_id(), &hold([line("WH-1", "SKU-1", 4)])).await.expect("reserve failed"));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 7), owned_level("WH-1", "m-2", "SKU-1", 10, 2)]);
    assert_eq!(held(&s, &order).await.map(sorted), Some(sorted(lines.clone())));

    match s.inventory.release(&order, &hold_id).await.expect("release failed") {
        ReleaseOutcome::Released(given_back) => assert_eq!(sorted(given_back), sorted(lines)),
        other => panic!("expected Released, got {other:?}"),
    }
    // m-1 keeps the other order's 4; m-2's 2 went back to m-2.
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 4), owned_level("WH-1", "m-2", "SKU-1", 10, 0)]);
}
