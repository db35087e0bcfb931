//! The allocation rule: which warehouses ship an order.
//!
//! The rule is deliberately simple (a cost model over distance, shipping cost, lead
//! time and split penalty is planned to replace it): one warehouse that can ship
//! everything is preferred, one in the buyer's province first; failing that, each SKU
//! is taken from the warehouses holding the most, buyer's province first.
//!
//! An order is planned only from stock its merchant may sell ([`may_sell`]): stock is owned
//! per (warehouse, merchant, SKU), and a shared warehouse holds several merchants' units of
//! one SKU side by side. The planner applies that rule itself, to whatever levels it is
//! given, so no caller can forget it; each line of a plan names the owner whose units it
//! takes, and the reservation holds exactly those.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::order::Order;
use crate::stock::{StockLevel, Warehouse};
use crate::{MerchantId, Sku, WarehouseId};

/// So many units of a SKU from one warehouse, taken from the stock `owner` keeps there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AllocatedLine {
    pub warehouse: WarehouseId,
    /// The merchant whose units these are.
    #[serde(rename = "merchant_id")]
    pub owner: MerchantId,
    pub sku: Sku,
    pub quantity: u32,
}

/// Which warehouses ship which lines, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub lines: Vec<AllocatedLine>,
    pub explanation: String,
    pub planned_at: DateTime<Utc>,
}

/// Which warehouse ships what, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub lines: Vec<AllocatedLine>,
    pub explanation: String,
}

/// Why no plan can be made for the order now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Shortage {
    /// No combination of warehouses holds enough of a SKU that the order may sell.
    #[error("{sku}: {wanted} wanted, {available} of the merchant's own available in all warehouses")]
    Stock { sku: Sku, wanted: u32, available: u64 },
}

/// Whether the order may be planned from `level`: only its merchant's own stock (selling
/// another merchant's stock on consignment comes later, and belongs here).
pub fn may_sell(order: &Order, level: &StockLevel) -> bool {
    level.owner == order.merchant_id
}

/// Plans the order against current stock. `stock` holds, per SKU of the order, its levels
/// (every owner's, in every warehouse; only those the order [`may_sell`] are used);
/// `warehouses` gives their locations.
pub fn plan(order: &Order, stock: &BTreeMap<Sku, Vec<StockLevel>>, warehouses: &[Warehouse]) -> Result<Plan, Shortage> {
    plan_with(order, stock, warehouses, Ties::ById)
}

/// Plans the order again after its reservation lost a race for stock: as [`plan`], but
/// ties between equally good warehouses are broken per order rather than by id, so the
/// orders that lost together spread over the warehouses left instead of all racing for
/// the same next one.
pub fn replan(order: &Order, stock: &BTreeMap<Sku, Vec<StockLevel>>, warehouses: &[Warehouse]) -> Result<Plan, Shortage> {
    plan_with(order, stock, warehouses, Ties::PerOrder)
}

/// How a plan chooses between warehouses that are equally good for the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ties {
    /// The lowest warehouse id: the same choice for every order.
    ById,
    /// A rank drawn from the order's id and the warehouse's (FNV-1a finished with fmix64,
    /// stable across builds):
    /// a different but repeatable choice for each order.
    PerOrder,
}

impl Ties {
    fn rank(self, order: &Order, warehouse: &WarehouseId) -> u64 {
        match self {
            Ties::ById => 0,
            Ties::PerOrder => {
                let bytes = order.order_id.as_str().bytes().chain([0]).chain(warehouse.as_str().bytes());
                let fnv =
                    bytes.fold(0xcbf2_9ce4_8422_2325, |hash: u64, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
                // FNV barely mixes its last bytes (the warehouse's): finish with MurmurHash3's
                // fmix64 so that every order ranks the warehouses independently.
                let mut h = fnv ^ (fnv >> 33);
                h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
                h ^= h >> 33;
                h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
                h ^ (h >> 33)
            }
        }
    }
}

fn plan_with(
    order: &Order,
    stock: &BTreeMap<Sku, Vec<StockLevel>>,
    warehouses: &[Warehouse],
    ties: Ties,
) -> Result<Plan, Shortage> {
    let wanted = order.units_by_sku();
    // The one place the owner rule applies: from here on, only stock the order may sell.
    let stock: BTreeMap<&Sku, Vec<&StockLevel>> =
        stock.iter().map(|(sku, levels)| (sku, levels.iter().filter(|l| may_sell(order, l)).collect())).collect();
    let province = order.shipping_address.province.as_deref().map(str::to_lowercase);
    let in_buyers_province: HashMap<&WarehouseId, bool> =
        warehouses.iter().map(|w| (&w.warehouse_id, province.as_deref() == Some(w.province.to_lowercase().as_str()))).collect();
    let local = |w: &WarehouseId| in_buyers_province.get(w).copied().unwrap_or(false);
    let available = |sku: &Sku, w: &WarehouseId| -> u32 {
        stock.get(sku).and_then(|levels| levels.iter().find(|l| &l.warehouse == w)).map_or(0, |l| l.available)
    };

    // Every warehouse that can ship the whole order alone.
    let mut whole: Vec<&WarehouseId> = stock
        .values()
        .flatten()
        .map(|l| &l.warehouse)
        .filter(|w| wanted.iter().all(|(sku, units)| available(sku, w) >= *units))
        .collect();
    whole.sort();
    whole.dedup();
    if let Some(best) = whole.into_iter().min_by_key(|w| (!local(w), ties.rank(order, w), *w)) {
        let lines = wanted
            .iter()
            .map(|(sku, units)| AllocatedLine {
                warehouse: best.clone(),
                owner: order.merchant_id.clone(),
                sku: sku.clone(),
                quantity: *units,
            })
            .collect();
        let why = if local(best) { "in the buyer's province and holds every line" } else { "holds every line" };
        return Ok(Plan { lines, explanation: format!("one shipment from {best}: {why}") });
    }

    // Split: each SKU from the warehouses with the most of it, buyer's province first.
    let mut lines = Vec::new();
    for (sku, units) in &wanted {
        let mut sources: Vec<&StockLevel> = stock.get(sku).into_iter().flatten().copied().filter(|l| l.available > 0).collect();
        sources.sort_by_key(|l| {
            (!local(&l.warehouse), std::cmp::Reverse(l.available), ties.rank(order, &l.warehouse), l.warehouse.clone())
        });
        let total: u64 = sources.iter().map(|l| u64::from(l.available)).sum();
        if total < u64::from(*units) {
            return Err(Shortage::Stock { sku: sku.clone(), wanted: *units, available: total });
        }
        let mut remaining = *units;
        for level in sources {
            let take = remaining.min(level.available);
            lines.push(AllocatedLine {
                warehouse: level.warehouse.clone(),
                owner: level.owner.clone(),
                sku: sku.clone(),
                quantity: take,
            });
            remaining -= take;
            if remaining == 0 {
                break;
            }
        }
    }
    let mut from: Vec<&str> = lines.iter().map(|l| l.warehouse.as_str()).collect();
    from.sort_unstable();
    from.dedup();
    Ok(Plan { explanation: format!("split across {}: no single warehouse holds every line", from.join(", ")), lines })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::tests::sample_new_order;
    use crate::order::OrderLine;
    use crate::{MerchantId, OrderId};
    use rust_decimal::Decimal;

    fn warehouse(id: &str, province: &str) -> Warehouse {
        Warehouse {
            warehouse_id: WarehouseId::parse(id).unwrap(),
            name: id.into(),
            merchant_id: MerchantId::parse("m-1").unwrap(),
            province: province.into(),
            city: "x".into(),
            lat: 0.0,
            lon: 0.0,
        }
    }

    /// `available` units of merchant `m-1` (the test orders' merchant).
    fn level(w: &str, sku: &str, available: u32) -> StockLevel {
        owned_level(w, "m-1", sku, available)
    }

    fn owned_level(w: &str, owner: &str, sku: &str, available: u32) -> StockLevel {
        StockLevel {
            warehouse: WarehouseId::parse(w).unwrap(),
            owner: MerchantId::parse(owner).unwrap(),
            sku: Sku::parse(sku).unwrap(),
            on_hand: available,
            reserved: 0,
            available,
        }
    }

    fn stock(levels: Vec<StockLevel>) -> BTreeMap<Sku, Vec<StockLevel>> {
        let mut map: BTreeMap<Sku, Vec<StockLevel>> = BTreeMap::new();
        for l in levels {
            map.entry(l.sku.clone()).or_default().push(l);
        }
        map
    }

    fn order(lines: &[(&str, u32)]) -> Order {
        let mut new = sample_new_order("X", 1);
        new.lines = lines
            .iter()
            .map(|(sku, q)| OrderLine { sku: Sku::parse(*sku).unwrap(), quantity: *q, unit_price: Decimal::ONE })
            .collect();
        Order::receive(new, OrderId::generate(), Utc::now())
    }

    #[test]
    fn a_warehouse_in_the_buyers_province_that_holds_everything_wins() {
        let whs = [warehouse("wh-bj", "Beijing"), warehouse("wh-hz", "Zhejiang")];
        let s = stock(vec![level("wh-bj", "A", 50), level("wh-hz", "A", 5), level("wh-bj", "B", 50), level("wh-hz", "B", 5)]);
        let plan = plan(&order(&[("A", 2), ("B", 1)]), &s, &whs).unwrap();
        assert!(plan.lines.iter().all(|l| l.warehouse.as_str() == "wh-hz"), "{plan:?}");
        assert!(plan.explanation.contains("province"));
    }

    #[test]
    fn the_order_is_split_only_when_no_warehouse_holds_everything() {
        let whs = [warehouse("wh-1", "Beijing"), warehouse("wh-2", "Beijing")];
        let s = stock(vec![level("wh-1", "A", 3), level("wh-2", "A", 2), level("wh-2", "B", 1)]);
        let plan = plan(&order(&[("A", 4), ("B", 1)]), &s, &whs).unwrap();
        let mut got: Vec<(String, String, u32)> =
            plan.lines.iter().map(|l| (l.warehouse.to_string(), l.sku.to_string(), l.quantity)).collect();
        got.sort();
        assert_eq!(got, [("wh-1".into(), "A".into(), 3), ("wh-2".into(), "A".into(), 1), ("wh-2".into(), "B".into(), 1)]);
        assert!(plan.explanation.starts_with("split"));
    }

    #[test]
    fn a_shortage_names_the_sku() {
        let s = stock(vec![level("wh-1", "A", 1)]);
        let err = plan(&order(&[("A", 2)]), &s, &[warehouse("wh-1", "x")]).unwrap_err();
        assert_eq!(err, Shortage::Stock { sku: Sku::parse("A").unwrap(), wanted: 2, available: 1 });
        let err = plan(&order(&[("NOPE", 1)]), &s, &[]).unwrap_err();
        assert!(matches!(err, Shortage::Stock { available: 0, .. }));
    }

    #[test]
    fn only_the_orders_merchants_own_stock_is_planned_and_each_line_names_its_owner() {
        let whs = [warehouse("wh-1", "Zhejiang"), warehouse("wh-2", "Beijing")];
        // wh-1 is shared: m-2 keeps plenty there, the order's merchant m-1 only 1.
        let s = stock(vec![owned_level("wh-1", "m-2", "A", 50), level("wh-1", "A", 1), level("wh-2", "A", 2)]);
        let plan = plan(&order(&[("A", 3)]), &s, &whs).unwrap();
        let got: Vec<(&str, &str, u32)> =
            plan.lines.iter().map(|l| (l.warehouse.as_str(), l.owner.as_str(), l.quantity)).collect();
        assert_eq!(got, [("wh-1", "m-1", 1), ("wh-2", "m-1", 2)], "{plan:?}");

        let others_only = stock(vec![owned_level("wh-1", "m-2", "A", 50)]);
        let err = super::plan(&order(&[("A", 1)]), &others_only, &whs).unwrap_err();
        assert_eq!(err, Shortage::Stock { sku: Sku::parse("A").unwrap(), wanted: 1, available: 0 });
    }

    #[test]
    fn a_plan_of_more_lines_than_one_write_holds_is_made_on_either_path() {
        // Split: 120 lines. The stores write a reservation that large in parts
        // (`reservation::MAX_LINES_PER_WRITE`), so no paid order is refused for its size.
        let levels = (0..60).flat_map(|w| ["A", "B"].map(|sku| level(&format!("wh-{w:02}"), sku, 1))).collect();
        assert_eq!(plan(&order(&[("A", 60), ("B", 60)]), &stock(levels), &[]).unwrap().lines.len(), 120);
        // One warehouse: 150 lines.
        let skus: Vec<String> = (0..150).map(|i| format!("SKU-{i:03}")).collect();
        let levels = skus.iter().map(|sku| level("wh-1", sku, 1)).collect();
        let wanted: Vec<(&str, u32)> = skus.iter().map(|sku| (sku.as_str(), 1)).collect();
        let plan = plan(&order(&wanted), &stock(levels), &[]).unwrap();
        assert!(plan.lines.len() == 150 && plan.explanation.starts_with("one shipment"), "{plan:?}");
    }

    #[test]
    fn repeated_skus_are_summed_before_planning() {
        let s = stock(vec![level("wh-1", "A", 3)]);
        assert!(plan(&order(&[("A", 2), ("A", 2)]), &s, &[]).is_err());
        assert_eq!(plan(&order(&[("A", 2), ("A", 1)]), &s, &[]).unwrap().lines[0].quantity, 3);
    }

    #[test]
    fn a_first_plan_breaks_ties_by_id_and_a_replan_spreads_them_per_order() {
        let whs: Vec<Warehouse> = (0..20).map(|w| warehouse(&format!("wh-{w:02}"), "Zhejiang")).collect();
        let s = stock((0..20).map(|w| level(&format!("wh-{w:02}"), "A", 3)).collect());
        let orders: Vec<Order> = (0..20)
            .map(|i| Order { order_id: OrderId::parse(format!("ord_01JDX{i:03}")).unwrap(), ..order(&[("A", 1)]) })
            .collect();
        let first: std::collections::BTreeSet<String> =
            orders.iter().map(|o| plan(o, &s, &whs).unwrap().lines[0].warehouse.to_string()).collect();
        assert_eq!(first.into_iter().collect::<Vec<_>>(), ["wh-00"]);
        let again: std::collections::BTreeSet<String> =
            orders.iter().map(|o| replan(o, &s, &whs).unwrap().lines[0].warehouse.to_string()).collect();
        assert!(again.len() > 5, "twenty racing losers should spread, got {again:?}");
        assert_eq!(replan(&orders[0], &s, &whs), replan(&orders[0], &s, &whs), "one order always ranks them the same");
    }
}
