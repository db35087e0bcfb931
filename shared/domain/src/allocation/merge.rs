//! Merging: a customer's orders placed close together, to the same address, that ship from
//! the same warehouse travel in one parcel when that costs less than a parcel each.
//!
//! When an order is planned, the same customer's other orders of its merchant that are
//! planned or reserved and not yet shipped, placed within the merge window of it and going
//! to the same address, are candidates. For each, the parcels both would send from one
//! warehouse are costed as one (handling once, the price of the combined weight) against
//! two; the candidate that saves the most joins the order to its group. A group is named by
//! its first order ([`Order::merge_group`]); every order of it records the group, so a
//! shipment may carry lines of all of them under one tracking number
//! (`usecases::tracking`). A plan made again later (a lost race, a backorder) ships alone.

use chrono::Duration;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::cost::{distance_km, from_fen, CostModel, Fen};
use super::geo;
use crate::order::{AllocatedLine, Order, OrderStatus};
use crate::stock::Warehouse;
use crate::{OrderId, WarehouseId};

/// How long after (or before) an order the same customer's orders may join its parcel, by
/// default (`OMS_MERGE_WINDOW_HOURS`).
pub const DEFAULT_MERGE_WINDOW_HOURS: i64 = 24;

/// Longest merge window accepted, in hours (a week).
pub const MAX_MERGE_WINDOW_HOURS: i64 = 24 * 7;

/// Most of a customer's recent orders looked at when one of theirs is planned.
pub const MERGE_CANDIDATES: usize = 20;

/// Most orders in one merge group: a parcel packed from more is split by the warehouse
/// anyway, and a group's orders are each noted when another joins.
pub const MAX_GROUP_ORDERS: usize = 8;

/// When orders merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergePolicy {
    /// Orders placed at most this far apart may merge; zero turns merging off.
    pub window: Duration,
}

impl Default for MergePolicy {
    fn default() -> Self {
        Self { window: Duration::hours(DEFAULT_MERGE_WINDOW_HOURS) }
    }
}

impl MergePolicy {
    /// A window of `hours` (0 turns merging off), refused past [`MAX_MERGE_WINDOW_HOURS`].
    pub fn hours(hours: i64) -> Result<Self, String> {
        if !(0..=MAX_MERGE_WINDOW_HOURS).contains(&hours) {
            return Err(format!("the merge window must be 0 to {MAX_MERGE_WINDOW_HOURS} hours, not {hours}"));
        }
        Ok(Self { window: Duration::hours(hours) })
    }

    /// Whether `other` may share parcels with `order`: another order of the same merchant
    /// and customer, to the same address, placed within the window, planned or reserved
    /// (not shipped in part, not final) and with a plan.
    pub fn may_merge(&self, order: &Order, other: &Order) -> bool {
        !self.window.is_zero()
            && other.order_id != order.order_id
            && other.merchant_id == order.merchant_id
            && other.customer.id == order.customer.id
            && other.shipping_address == order.shipping_address
            && matches!(other.status, OrderStatus::Allocated | OrderStatus::Reserved)
            && other.allocation.is_some()
            && (other.placed_at - order.placed_at).abs() <= self.window
    }
}

/// The parcels an order shares with orders of its group, as its plan records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merge {
    /// The group: its first order, whose id each order of the group records here.
    pub group: OrderId,
    /// The orders of the group it was merged with when planned.
    pub with: Vec<OrderId>,
    /// The warehouses whose parcels it shares.
    pub warehouses: Vec<WarehouseId>,
    /// What one parcel per warehouse saves against separate ones, in the planning currency.
    pub saving: Decimal,
}

/// What merging the parcels of two planned orders to one address saves: per warehouse
/// both ship from, handling once instead of twice and the price of the combined weight
/// instead of two prices. `None` when they share no warehouse or merging saves nothing.
pub fn saving(
    model: &CostModel,
    warehouses: &[Warehouse],
    order: &Order,
    mine: &[AllocatedLine],
    theirs: &[AllocatedLine],
) -> Option<(Vec<WarehouseId>, Fen)> {
    let place = geo::locate(&order.shipping_address);
    let weight_from = |lines: &[AllocatedLine], warehouse: &WarehouseId| -> u64 {
        lines
            .iter()
            .filter(|l| &l.warehouse == warehouse)
            .map(|l| u64::from(l.quantity) * u64::from(model.unit_weight_g(&l.sku)))
            .sum()
    };
    let mut shared: Vec<WarehouseId> = mine.iter().map(|l| l.warehouse.clone()).collect();
    shared.sort();
    shared.dedup();
    shared.retain(|w| theirs.iter().any(|l| &l.warehouse == w));
    let mut total: Fen = 0;
    for warehouse in &shared {
        let record = warehouses.iter().find(|w| &w.warehouse_id == warehouse);
        let tariff = model.tariff(distance_km(place, record));
        let grams = |g: u64| u32::try_from(g).unwrap_or(u32::MAX);
        let (a, b) = (weight_from(mine, warehouse), weight_from(theirs, warehouse));
        let apart = tariff.price(grams(a)) + tariff.price(grams(b)) + 2 * model.handling;
        let together = tariff.price(grams(a + b)) + model.handling;
        total += apart - together;
    }
    (!shared.is_empty() && total > 0).then_some((shared, total))
}

/// The merge of `order` (just planned with `lines`) into the group of the candidate that
/// saves most, if any saves anything. `candidates` are the customer's recent orders;
/// those [`MergePolicy::may_merge`] refuses are skipped.
pub fn choose(
    policy: &MergePolicy,
    model: &CostModel,
    warehouses: &[Warehouse],
    order: &Order,
    lines: &[AllocatedLine],
    candidates: &[Order],
) -> Option<Merge> {
    let mut best: Option<(&Order, Vec<WarehouseId>, Fen)> = None;
    let members = |group: &OrderId| candidates.iter().filter(|o| o.merge_group() == group).count();
    for other in candidates.iter().filter(|o| policy.may_merge(order, o) && members(o.merge_group()) < MAX_GROUP_ORDERS) {
        let Some(theirs) = &other.allocation else { continue };
        let Some((shared, saved)) = saving(model, warehouses, order, lines, &theirs.lines) else { continue };
        // The largest saving; between equal ones the earliest order (by its id's time).
        if best.as_ref().is_none_or(|(b, _, s)| saved > *s || (saved == *s && other.order_id < b.order_id)) {
            best = Some((other, shared, saved));
        }
    }
    let (other, warehouses, saved) = best?;
    let group = other.merge_group().clone();
    let mut with: Vec<OrderId> = candidates
        .iter()
        .filter(|o| o.merge_group() == &group && o.order_id != order.order_id)
        .map(|o| o.order_id.clone())
        .collect();
    with.sort();
    Some(Merge { group, with, warehouses, saving: from_fen(saved) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocation::Allocation;
    use crate::{MerchantId, Sku};
    use chrono::{TimeZone, Utc};

    fn order(id: &str, customer: &str, city: &str, hours: i64, status: OrderStatus, from: &[(&str, u32)]) -> Order {
        let mut new = crate::order::tests::sample_new_order("SKU-1", 1);
        new.customer.id = crate::CustomerId::parse(customer).unwrap();
        new.shipping_address.city = city.into();
        new.shipping_address.province = None;
        let mut order = Order::receive(new, OrderId::parse(id).unwrap(), Utc::now());
        order.placed_at = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + Duration::hours(hours);
        order.status = status;
        order.allocation = (!from.is_empty()).then(|| Allocation {
            lines: from.iter().map(|(w, q)| line(w, *q)).collect(),
            explanation: "planned".into(),
            costing: None,
            planned_at: order.placed_at,
            merge: None,
            shipments: Vec::new(),
            claimed_from: None,
        });
        order
    }

    fn line(warehouse: &str, quantity: u32) -> AllocatedLine {
        AllocatedLine {
            warehouse: WarehouseId::parse(warehouse).unwrap(),
            owner: MerchantId::parse("m-1").unwrap(),
            sku: Sku::parse("SKU-1").unwrap(),
            quantity,
            transfer_price: None,
        }
    }

    #[test]
    fn a_later_order_to_the_same_address_from_the_same_warehouse_joins_the_first_ones_group() {
        let first = order("ord_01A", "c-1", "Beijing", 0, OrderStatus::Reserved, &[("WH-1", 1)]);
        let mine = [line("WH-1", 2)];
        let now = order("ord_01B", "c-1", "Beijing", 3, OrderStatus::Received, &[]);
        let merge = choose(&MergePolicy::default(), &CostModel::default(), &[], &now, &mine, std::slice::from_ref(&first))
            .expect("merged");
        assert_eq!(merge.group, first.order_id);
        assert_eq!(merge.with, vec![first.order_id.clone()]);
        assert_eq!(merge.warehouses, vec![WarehouseId::parse("WH-1").unwrap()]);
        // Default weights (0.5 kg a unit), 1,000 km (an address and warehouse not placed):
        // 1.5 kg together is one parcel price plus one started kg more than 0.5 kg and
        // 1.0 kg apart (two prices), and one handling less: 11.00 + 11.00 + 2 x 1.50
        // apart against 13.00 + 1.50 together.
        assert_eq!(merge.saving, Decimal::new(1050, 2));
    }

    #[test]
    fn orders_of_another_customer_address_warehouse_or_past_the_window_do_not_merge() {
        let mine = [line("WH-1", 1)];
        let now = order("ord_01B", "c-1", "Beijing", 30, OrderStatus::Received, &[]);
        let model = CostModel::default();
        let policy = MergePolicy::default();
        let other_customer = order("ord_01A", "c-2", "Beijing", 29, OrderStatus::Reserved, &[("WH-1", 1)]);
        let other_address = order("ord_01C", "c-1", "Shanghai", 29, OrderStatus::Reserved, &[("WH-1", 1)]);
        let other_warehouse = order("ord_01D", "c-1", "Beijing", 29, OrderStatus::Reserved, &[("WH-2", 1)]);
        let too_early = order("ord_01E", "c-1", "Beijing", 5, OrderStatus::Reserved, &[("WH-1", 1)]);
        let shipped = order("ord_01F", "c-1", "Beijing", 29, OrderStatus::PartiallyShipped, &[("WH-1", 1)]);
        let unplanned = order("ord_01G", "c-1", "Beijing", 29, OrderStatus::Backordered, &[]);
        for other in [other_customer, other_address, other_warehouse, too_early, shipped, unplanned] {
            assert_eq!(
                choose(&policy, &model, &[], &now, &mine, std::slice::from_ref(&other)),
                None,
                "{} merged",
                other.order_id
            );
        }
        let close = order("ord_01H", "c-1", "Beijing", 29, OrderStatus::Allocated, &[("WH-1", 1)]);
        assert!(choose(&policy, &model, &[], &now, &mine, std::slice::from_ref(&close)).is_some());
        let off = MergePolicy::hours(0).unwrap();
        assert_eq!(choose(&off, &model, &[], &now, &mine, &[close]), None, "a zero window turns merging off");
    }

    #[test]
    fn joining_a_merged_order_joins_its_group_and_lists_every_order_of_it() {
        let first = order("ord_01A", "c-1", "Beijing", 0, OrderStatus::Reserved, &[("WH-1", 1)]);
        let mut second = order("ord_01B", "c-1", "Beijing", 1, OrderStatus::Reserved, &[("WH-1", 1)]);
        if let Some(a) = second.allocation.as_mut() {
            a.merge = Some(Merge {
                group: first.order_id.clone(),
                with: vec![first.order_id.clone()],
                warehouses: vec![WarehouseId::parse("WH-1").unwrap()],
                saving: Decimal::ONE,
            });
        }
        let now = order("ord_01C", "c-1", "Beijing", 2, OrderStatus::Received, &[]);
        let merge = choose(&MergePolicy::default(), &CostModel::default(), &[], &now, &[line("WH-1", 1)], &[second, first])
            .expect("merged");
        assert_eq!(merge.group.as_str(), "ord_01A");
        assert_eq!(merge.with.iter().map(OrderId::as_str).collect::<Vec<_>>(), vec!["ord_01A", "ord_01B"]);
    }

    #[test]
    fn a_full_group_takes_no_more_orders() {
        let first = order("ord_01A", "c-1", "Beijing", 0, OrderStatus::Reserved, &[("WH-1", 1)]);
        let group = Merge {
            group: first.order_id.clone(),
            with: vec![first.order_id.clone()],
            warehouses: vec![WarehouseId::parse("WH-1").unwrap()],
            saving: Decimal::ONE,
        };
        let mut candidates = vec![first];
        for i in 1..MAX_GROUP_ORDERS {
            let mut member = order(&format!("ord_01M{i}"), "c-1", "Beijing", 1, OrderStatus::Reserved, &[("WH-1", 1)]);
            member.allocation.as_mut().unwrap().merge = Some(group.clone());
            candidates.push(member);
        }
        let now = order("ord_01Z", "c-1", "Beijing", 2, OrderStatus::Received, &[]);
        let policy = MergePolicy::default();
        assert_eq!(choose(&policy, &CostModel::default(), &[], &now, &[line("WH-1", 1)], &candidates), None);
        candidates.pop();
        assert!(choose(&policy, &CostModel::default(), &[], &now, &[line("WH-1", 1)], &candidates).is_some());
    }

    #[test]
    fn a_window_past_a_week_or_negative_is_refused() {
        assert!(MergePolicy::hours(-1).is_err());
        assert!(MergePolicy::hours(MAX_MERGE_WINDOW_HOURS + 1).is_err());
        assert_eq!(MergePolicy::hours(24).unwrap(), MergePolicy::default());
    }
}
