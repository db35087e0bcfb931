//! The allocation rule: which warehouses ship an order, by one cost model.
//!
//! Every warehouse that holds stock the order may sell ([`may_sell`]) and serves the
//! buyer's region is a candidate. A plan costs, per shipment, handling plus the parcel
//! price at the warehouse's distance from the buyer and the parcel's weight (the carriers'
//! rate tables, or the documented defaults: [`cost`]), plus a split penalty per shipment
//! beyond the first. The cheapest plan wins, so an order is split only when that is
//! cheaper than every single-warehouse plan, or when no single warehouse can ship it.
//! Among equally cheap plans the one with fewer shipments wins, then the one from
//! warehouses in the buyer's province, then the tie rule ([`plan`] by id, [`replan`] per
//! order).
//!
//! The cheapest plan is found exactly ([`exact`]) while that takes at most
//! [`MAX_EXACT_STEPS`] placements; past that bound the [`heuristic`] plans it. Every plan
//! records why it won ([`explain`]).
//!
//! Stock is owned per (warehouse, merchant, SKU), and a shared warehouse holds several
//! merchants' units of one SKU side by side. The planner applies the owner rule itself, to
//! whatever levels it is given, so no caller can forget it; each line of a plan names the
//! owner whose units it takes, and the reservation holds exactly those.
//!
//! Consignment: an order may also take another merchant's units under a grant that merchant
//! gave the order's merchant, active now, for that warehouse and SKU ([`may_sell`], the
//! grants given to the planner). The transfer price is what the seller owes the owner, not
//! a cost of shipping, so the cost model adds nothing for consigned units: the merchant's
//! own stock is preferred only where plans cost the same. Then, with as many shipments,
//! the plan from warehouses holding the merchant's own units wins (before the buyer's
//! province and the tie rule), and within one warehouse a line takes the merchant's own
//! units first, then consigned ones, the lowest transfer price first. A consigned line
//! records its owner and its transfer price, and the explanation says so.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::carrier_choice::ShipmentCarrier;
use crate::consignment::Consignment;
use crate::order::Order;
use crate::stock::{StockLevel, Warehouse};
use crate::{MerchantId, Money, Sku, WarehouseId};

pub mod baselines;
pub mod cost;
mod exact;
pub mod explain;
pub mod geo;
mod heuristic;
pub mod merge;
mod problem;

pub use baselines::Strategy;
pub use cost::CostModel;
pub use explain::{Candidate, Costing, Method};

use exact::Solution;
use problem::Problem;

/// Most placements the exact search tries for one order before the heuristic plans it
/// instead. Orders of a few lines over a few dozen warehouses finish far below it.
pub const MAX_EXACT_STEPS: usize = 20_000;

/// So many units of a SKU from one warehouse, taken from the stock `owner` keeps there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AllocatedLine {
    pub warehouse: WarehouseId,
    /// The merchant whose units these are.
    #[serde(rename = "merchant_id")]
    pub owner: MerchantId,
    pub sku: Sku,
    pub quantity: u32,
    /// What the order's merchant owes the owner per unit, when the units are another
    /// merchant's on consignment; `None` for the merchant's own units (and on plans made
    /// before consignment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_price: Option<Money>,
}

/// Which warehouses ship which lines, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub lines: Vec<AllocatedLine>,
    /// Why the plan won, in a sentence.
    pub explanation: String,
    /// The candidates weighed and their costs; absent on plans made before plans were
    /// costed.
    pub costing: Option<Costing>,
    pub planned_at: DateTime<Utc>,
    /// The parcels it shares with the same customer's orders ([`merge`]); absent when it
    /// ships alone, and on plans made before orders merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge: Option<merge::Merge>,
    /// The carrier and service chosen for each shipment (one per warehouse), and why
    /// ([`crate::carrier_choice`]). Empty on plans made before carriers were chosen and on
    /// flash-sale claims' plans.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shipments: Vec<ShipmentCarrier>,
    /// The flash sale and shard whose set-aside units a claim's order takes (a plan made
    /// with the claim); absent on every other plan, and on claims' plans made before it
    /// was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_from: Option<crate::flash_sale::ClaimedFrom>,
}

/// Which warehouse ships what, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub lines: Vec<AllocatedLine>,
    pub explanation: String,
    pub costing: Costing,
    /// The carriers chosen for its shipments: empty from the planner, filled in by the
    /// caller that has the rate tables and the catalogue
    /// (`usecases::fulfilment::plan_against_current_stock`).
    pub shipments: Vec<ShipmentCarrier>,
}

impl Plan {
    /// The plan as the order records it.
    pub fn into_allocation(self, planned_at: DateTime<Utc>) -> Allocation {
        Allocation {
            lines: self.lines,
            explanation: self.explanation,
            costing: Some(self.costing),
            planned_at,
            merge: None,
            shipments: self.shipments,
            claimed_from: None,
        }
    }
}

/// Why no plan can be made for the order now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Shortage {
    /// No combination of warehouses holds enough of a SKU that the order may sell.
    #[error("{sku}: {wanted} wanted, {available} of the merchant's own available in all warehouses")]
    Stock { sku: Sku, wanted: u32, available: u64 },
}

/// Under what right the order may be planned from `level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Right<'a> {
    /// The units are the order's merchant's own.
    Own,
    /// Another merchant's units, under this grant to the order's merchant.
    Consigned(&'a Consignment),
}

/// Whether the order may be planned from `level`, and under what right: its merchant's own
/// stock, or another merchant's under a grant of `grants` that is active and covers the
/// level's warehouse and SKU (of several, the lowest transfer price: [`Consignment::best`]).
/// `grants` are the grants the order's merchant received (any others are ignored).
pub fn may_sell<'a>(order: &Order, level: &StockLevel, grants: &'a [Consignment]) -> Option<Right<'a>> {
    if level.owner == order.merchant_id {
        return Some(Right::Own);
    }
    Consignment::best(grants, &level.owner, &order.merchant_id, &level.warehouse, &level.sku).map(Right::Consigned)
}

/// Plans the order against current stock. `stock` holds, per SKU of the order, its levels
/// (every owner's, in every warehouse; only those the order [`may_sell`] are used);
/// `warehouses` gives their locations and served regions; `model` the prices and weights;
/// `grants` the consignment grants the order's merchant received.
pub fn plan(
    order: &Order,
    stock: &BTreeMap<Sku, Vec<StockLevel>>,
    warehouses: &[Warehouse],
    model: &CostModel,
    grants: &[Consignment],
) -> Result<Plan, Shortage> {
    plan_with(order, stock, warehouses, model, grants, Ties::ById)
}

/// Plans the order again after its reservation lost a race for stock: as [`plan`], but
/// ties between equally good warehouses are broken per order rather than by id, so the
/// orders that lost together spread over the warehouses left instead of all racing for
/// the same next one.
pub fn replan(
    order: &Order,
    stock: &BTreeMap<Sku, Vec<StockLevel>>,
    warehouses: &[Warehouse],
    model: &CostModel,
    grants: &[Consignment],
) -> Result<Plan, Shortage> {
    plan_with(order, stock, warehouses, model, grants, Ties::PerOrder)
}

/// A plan's lines with its cost, for comparing planners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Costed {
    pub lines: Vec<AllocatedLine>,
    pub cost: Decimal,
    pub shipments: u32,
}

/// The cheapest plan of all, if the exact search finds it within `max_steps` placements:
/// the yardstick the benchmark measures [`plan`] against. Not for production, where
/// [`MAX_EXACT_STEPS`] bounds the effort.
pub fn optimum_within(
    order: &Order,
    stock: &BTreeMap<Sku, Vec<StockLevel>>,
    warehouses: &[Warehouse],
    model: &CostModel,
    max_steps: usize,
) -> Result<Option<Costed>, Shortage> {
    let problem = Problem::new(order, stock, warehouses, model, &[], Ties::ById)?;
    let found = exact::search(&problem, best_single(&singles(&problem)), max_steps);
    Ok(found.complete.then(|| costed(&problem, found.best.map(|s| s.takes).unwrap_or_default())))
}

/// The plan the heuristic alone makes (as past the exact bound: the better of it and the
/// best single-warehouse plan), for measuring what the heuristic gives up.
pub fn heuristic_only(
    order: &Order,
    stock: &BTreeMap<Sku, Vec<StockLevel>>,
    warehouses: &[Warehouse],
    model: &CostModel,
) -> Result<Costed, Shortage> {
    let problem = Problem::new(order, stock, warehouses, model, &[], Ties::ById)?;
    let single = best_single(&singles(&problem));
    let best = match (single, heuristic::plan(&problem)) {
        (Some(s), Some(h)) => Some(if h.beats(&s) { h } else { s }),
        (s, h) => s.or(h),
    };
    Ok(costed(&problem, best.map(|s| s.takes).unwrap_or_default()))
}

/// The plan a baseline strategy makes, costed by our model.
pub fn baseline(
    order: &Order,
    stock: &BTreeMap<Sku, Vec<StockLevel>>,
    warehouses: &[Warehouse],
    model: &CostModel,
    strategy: Strategy,
) -> Result<Costed, Shortage> {
    let problem = Problem::new(order, stock, warehouses, model, &[], Ties::ById)?;
    let takes = baselines::plan(&problem, strategy);
    Ok(costed(&problem, takes))
}

fn costed(problem: &Problem<'_>, takes: Vec<problem::Take>) -> Costed {
    let (cost, shipments) = problem.cost(&takes);
    Costed { lines: problem.allocated_lines(&takes), cost: cost::from_fen(cost), shipments }
}

/// How a plan chooses between warehouses that are equally good for the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ties {
    /// The lowest warehouse id: the same choice for every order.
    ById,
    /// A rank drawn from the order's id and the warehouse's (FNV-1a finished with fmix64,
    /// stable across builds):
    /// a different but repeatable choice for each order.
    PerOrder,
}

impl Ties {
    pub(crate) fn rank(self, order: &Order, warehouse: &WarehouseId) -> u64 {
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

/// Every single-warehouse plan.
fn singles(problem: &Problem<'_>) -> Vec<Solution> {
    problem.whole_order_sources().into_iter().map(|s| Solution::of(problem, problem.single(s))).collect()
}

fn best_single(singles: &[Solution]) -> Option<Solution> {
    singles
        .iter()
        .fold(None, |best: Option<&Solution>, s| match best {
            Some(b) if !s.beats(b) => Some(b),
            _ => Some(s),
        })
        .cloned()
}

fn plan_with(
    order: &Order,
    stock: &BTreeMap<Sku, Vec<StockLevel>>,
    warehouses: &[Warehouse],
    model: &CostModel,
    grants: &[Consignment],
    ties: Ties,
) -> Result<Plan, Shortage> {
    let problem = Problem::new(order, stock, warehouses, model, grants, ties)?;
    let singles = singles(&problem);
    let found = exact::search(&problem, best_single(&singles), MAX_EXACT_STEPS);
    let steps = found.steps;
    let (chosen, method) = if found.complete {
        (found.best, Method::Exact)
    } else {
        let heuristic = heuristic::plan(&problem);
        let best = match (found.best, heuristic) {
            (Some(seen), Some(h)) => Some(if h.beats(&seen) { h } else { seen }),
            (seen, h) => seen.or(h),
        };
        (best, Method::Heuristic)
    };
    // An order with no lines has an empty plan.
    let chosen = chosen.unwrap_or_else(|| Solution::of(&problem, Vec::new()));
    let (explanation, costing) = explain::explain(&problem, &singles, &chosen, method, steps);
    let lines = problem.allocated_lines(&chosen.takes);
    let explanation = explain_consigned(explanation, &lines);
    Ok(Plan { lines, explanation, costing, shipments: Vec::new() })
}

/// The explanation, with a sentence on the consigned units a plan takes, if any.
fn explain_consigned(explanation: String, lines: &[AllocatedLine]) -> String {
    let consigned: Vec<String> = lines
        .iter()
        .filter_map(|l| {
            l.transfer_price.map(|price| {
                let digits = price.currency.minor_digits() as usize;
                format!(
                    "{} x {} from {} in {} at {:.digits$} {}",
                    l.quantity, l.sku, l.owner, l.warehouse, price.amount, price.currency
                )
            })
        })
        .collect();
    if consigned.is_empty() {
        return explanation;
    }
    format!(
        "{explanation}; on consignment: {} (the transfer price is owed to the owner, not a shipping cost: own stock is preferred only where costs tie)",
        consigned.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocation::cost::to_fen;
    use crate::order::tests::sample_new_order;
    use crate::order::OrderLine;
    use crate::{MerchantId, OrderId};

    fn plan(order: &Order, stock: &BTreeMap<Sku, Vec<StockLevel>>, warehouses: &[Warehouse]) -> Result<Plan, Shortage> {
        super::plan(order, stock, warehouses, &CostModel::default(), &[])
    }

    fn replan(order: &Order, stock: &BTreeMap<Sku, Vec<StockLevel>>, warehouses: &[Warehouse]) -> Result<Plan, Shortage> {
        super::replan(order, stock, warehouses, &CostModel::default(), &[])
    }

    fn warehouse(id: &str, province: &str) -> Warehouse {
        Warehouse {
            warehouse_id: WarehouseId::parse(id).unwrap(),
            name: id.into(),
            merchant_id: MerchantId::parse("m-1").unwrap(),
            province: province.into(),
            city: "x".into(),
            lat: 0.0,
            lon: 0.0,
            serves: Vec::new(),
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
        let err = self::plan(&order(&[("A", 1)]), &others_only, &whs).unwrap_err();
        assert_eq!(err, Shortage::Stock { sku: Sku::parse("A").unwrap(), wanted: 1, available: 0 });
    }

    fn with_grants(
        order: &Order,
        stock: &BTreeMap<Sku, Vec<StockLevel>>,
        whs: &[Warehouse],
        grants: &[Consignment],
    ) -> Result<Plan, Shortage> {
        super::plan(order, stock, whs, &CostModel::default(), grants)
    }

    /// The test orders' merchant is m-1: here m-2 grants its stock to m-1.
    fn grant_to_m1(id: &str, warehouses: &[&str], skus: Option<&[&str]>, price: &str) -> Consignment {
        crate::consignment::tests::grant(id, "m-2", "m-1", warehouses, skus, price)
    }

    #[test]
    fn an_order_is_planned_from_another_merchants_stock_under_its_grant_with_owner_and_transfer_price() {
        let whs = [warehouse("wh-1", "Zhejiang")];
        let s = stock(vec![owned_level("wh-1", "m-2", "A", 50)]);
        assert!(with_grants(&order(&[("A", 3)]), &s, &whs, &[]).is_err(), "no grant: none of it");
        let plan = with_grants(&order(&[("A", 3)]), &s, &whs, &[grant_to_m1("g-1", &["wh-1"], None, "12.50")]).unwrap();
        let got: Vec<(&str, &str, u32, Option<Money>)> =
            plan.lines.iter().map(|l| (l.warehouse.as_str(), l.owner.as_str(), l.quantity, l.transfer_price)).collect();
        assert_eq!(got, [("wh-1", "m-2", 3, Some(crate::consignment::tests::price("12.50")))]);
        assert!(plan.explanation.contains("on consignment: 3 x A from m-2 in wh-1 at 12.50 CNY"), "{}", plan.explanation);
    }

    #[test]
    fn a_revoked_grant_or_one_for_another_warehouse_or_sku_is_not_used() {
        let whs = [warehouse("wh-1", "Zhejiang"), warehouse("wh-2", "Zhejiang")];
        let s = stock(vec![owned_level("wh-1", "m-2", "A", 50), owned_level("wh-1", "m-2", "B", 50)]);
        let revoked = Consignment { revoked: true, ..grant_to_m1("g-1", &["wh-1"], None, "1") };
        assert!(with_grants(&order(&[("A", 1)]), &s, &whs, &[revoked]).is_err());
        assert!(with_grants(&order(&[("A", 1)]), &s, &whs, &[grant_to_m1("g-1", &["wh-2"], None, "1")]).is_err());
        let only_b = [grant_to_m1("g-1", &["wh-1"], Some(&["B"]), "1")];
        assert!(with_grants(&order(&[("A", 1)]), &s, &whs, &only_b).is_err(), "the grant names other SKUs");
        assert_eq!(with_grants(&order(&[("B", 1)]), &s, &whs, &only_b).unwrap().lines[0].owner.as_str(), "m-2");
        // A grant between other merchants gives the order nothing.
        let others = [crate::consignment::tests::grant("g-9", "m-2", "m-3", &["wh-1"], None, "1")];
        assert!(with_grants(&order(&[("A", 1)]), &s, &whs, &others).is_err());
    }

    #[test]
    fn own_stock_is_preferred_where_costs_tie_and_consigned_units_fill_the_rest() {
        // Two warehouses at the same place: the consigned one sorts first by id, but the
        // merchant's own units win the tie.
        let whs = [warehouse("wh-a", "Zhejiang"), warehouse("wh-b", "Zhejiang")];
        let grants = [grant_to_m1("g-1", &["wh-a", "wh-b"], None, "5")];
        let s = stock(vec![owned_level("wh-a", "m-2", "A", 50), level("wh-b", "A", 5)]);
        let plan = with_grants(&order(&[("A", 2)]), &s, &whs, &grants).unwrap();
        let got: Vec<(&str, &str, Option<Money>)> =
            plan.lines.iter().map(|l| (l.warehouse.as_str(), l.owner.as_str(), l.transfer_price)).collect();
        assert_eq!(got, [("wh-b", "m-1", None)], "{plan:?}");
        // In one warehouse, the own units go first and the grant's cover the rest.
        let s = stock(vec![owned_level("wh-a", "m-2", "A", 50), level("wh-a", "A", 2)]);
        let plan = with_grants(&order(&[("A", 5)]), &s, &whs, &grants).unwrap();
        let got: Vec<(&str, u32)> = plan.lines.iter().map(|l| (l.owner.as_str(), l.quantity)).collect();
        assert_eq!(got, [("m-1", 2), ("m-2", 3)], "{plan:?}");
        assert!(plan.lines[0].transfer_price.is_none() && plan.lines[1].transfer_price.is_some());
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

    fn located(id: &str, province: &str, lat: f64, lon: f64) -> Warehouse {
        Warehouse { lat, lon, ..warehouse(id, province) }
    }

    /// Hangzhou (the test orders' buyer), Shanghai (about 165 km away) and Urumqi (about 3,300 km).
    fn hangzhou_shanghai_urumqi() -> [Warehouse; 3] {
        [
            located("wh-hz", "Zhejiang", 30.27, 120.15),
            located("wh-sh", "Shanghai", 31.23, 121.47),
            located("wh-ur", "Xinjiang", 43.83, 87.62),
        ]
    }

    fn flat_rate(price_fen: i64) -> CostModel {
        let band = crate::carrier::UncheckedBand {
            service: "standard".into(),
            max_distance_km: 5000,
            max_weight_g: 30_000,
            price: Decimal::new(price_fen, 2),
            transit_days: 2,
            handles: Vec::new(),
            max_side_mm: None,
        };
        let table = crate::carrier::RateTable::new(
            crate::CarrierId::parse("flat").unwrap(),
            crate::Currency::parse("CNY").unwrap(),
            vec![band],
        )
        .unwrap();
        CostModel::new(vec![table], std::collections::HashMap::new())
    }

    #[test]
    fn an_order_is_split_when_two_near_shipments_cost_less_than_one_far_one() {
        let whs = hangzhou_shanghai_urumqi();
        let s = stock(vec![level("wh-hz", "A", 5), level("wh-sh", "B", 5), level("wh-ur", "A", 5), level("wh-ur", "B", 5)]);
        let plan = plan(&order(&[("A", 1), ("B", 1)]), &s, &whs).unwrap();
        let from: Vec<&str> = plan.lines.iter().map(|l| l.warehouse.as_str()).collect();
        assert_eq!(from, ["wh-hz", "wh-sh"], "{plan:?}");
        assert!(plan.explanation.starts_with("split across wh-hz + wh-sh"), "{}", plan.explanation);
        assert!(plan.explanation.contains("cheaper than the best single warehouse, wh-ur"), "{}", plan.explanation);
        assert_eq!(plan.costing.chosen.shipments, 2);
        assert!(plan.costing.candidates.iter().any(|c| c.warehouses.len() == 1 && c.warehouses[0].as_str() == "wh-ur"));
    }

    #[test]
    fn an_order_is_not_split_when_one_shipment_is_as_cheap() {
        // A flat rate: distance is free, so the split's second handling and penalty decide.
        let whs = hangzhou_shanghai_urumqi();
        let s = stock(vec![level("wh-hz", "A", 5), level("wh-sh", "B", 5), level("wh-ur", "A", 5), level("wh-ur", "B", 5)]);
        let plan = super::plan(&order(&[("A", 1), ("B", 1)]), &s, &whs, &flat_rate(800), &[]).unwrap();
        assert!(plan.lines.iter().all(|l| l.warehouse.as_str() == "wh-ur"), "{plan:?}");
        assert_eq!(plan.costing.chosen.cost, Decimal::new(950, 2), "8.00 parcel + 1.50 handling");
        assert!(plan.explanation.starts_with("one shipment from wh-ur at 9.50"), "{}", plan.explanation);
    }

    #[test]
    fn a_warehouse_that_does_not_serve_the_buyers_province_is_never_a_candidate() {
        let [hz, _, ur] = hangzhou_shanghai_urumqi();
        let whs = [hz.serving(&["Beijing".into()]).unwrap(), ur];
        let s = stock(vec![level("wh-hz", "A", 5), level("wh-ur", "A", 5)]);
        let plan = plan(&order(&[("A", 1)]), &s, &whs).unwrap();
        assert_eq!(plan.lines[0].warehouse.as_str(), "wh-ur");
        assert!(plan.costing.candidates.iter().all(|c| c.warehouses.iter().all(|w| w.as_str() != "wh-hz")));
        // Only the warehouse that does not serve the buyer holds it: a shortage.
        let only_hz = stock(vec![level("wh-hz", "A", 5)]);
        assert!(matches!(
            super::plan(&order(&[("A", 1)]), &only_hz, &whs, &CostModel::default(), &[]),
            Err(Shortage::Stock { .. })
        ));
    }

    #[test]
    fn the_explanation_lists_every_single_warehouse_candidate_cheapest_first_with_its_cost() {
        let whs = hangzhou_shanghai_urumqi();
        let s = stock(vec![level("wh-hz", "A", 5), level("wh-sh", "A", 5), level("wh-ur", "A", 5)]);
        let plan = plan(&order(&[("A", 2)]), &s, &whs).unwrap();
        let listed: Vec<(&str, u32)> = plan.costing.candidates.iter().map(|c| (c.warehouses[0].as_str(), c.shipments)).collect();
        assert_eq!(listed, [("wh-hz", 1), ("wh-sh", 1), ("wh-ur", 1)]);
        assert!(plan.costing.candidates.windows(2).all(|w| w[0].cost <= w[1].cost));
        assert_eq!(plan.costing.chosen, plan.costing.candidates[0]);
        assert_eq!((plan.costing.method, plan.costing.considered), (Method::Exact, 3));
        assert!(plan.explanation.contains("cheapest of 3 single-warehouse plans (next wh-sh at"), "{}", plan.explanation);
    }

    #[test]
    fn heavier_parcels_follow_the_catalogue_weights() {
        // A 20 kg SKU costs more from far away: the near warehouse wins though both hold it.
        let whs = hangzhou_shanghai_urumqi();
        let s = stock(vec![level("wh-sh", "A", 5), level("wh-ur", "A", 5)]);
        let weights = [(Sku::parse("A").unwrap(), 20_000)].into_iter().collect();
        let model = CostModel::new(Vec::new(), weights);
        let plan = super::plan(&order(&[("A", 1)]), &s, &whs, &model, &[]).unwrap();
        // Shanghai: 6.00 + ~0.83 for the distance + 19 started kg beyond the first at 2.00 + 1.50 handling.
        assert_eq!(plan.lines[0].warehouse.as_str(), "wh-sh");
        assert!(plan.costing.chosen.cost > Decimal::new(4500, 2), "{:?}", plan.costing.chosen);
    }

    #[test]
    fn an_order_past_the_exact_bound_is_planned_by_the_heuristic_no_worse_than_any_single_warehouse() {
        let whs: Vec<Warehouse> =
            (0..40).map(|w| located(&format!("wh-{w:02}"), "Zhejiang", 30.0 + f64::from(w) * 0.2, 120.0)).collect();
        // Every SKU is spread one unit per warehouse: the exact search cannot finish.
        let levels = (0..40).flat_map(|w| ["A", "B", "C"].map(|sku| level(&format!("wh-{w:02}"), sku, 1))).collect();
        let plan = plan(&order(&[("A", 30), ("B", 30), ("C", 30)]), &stock(levels), &whs).unwrap();
        assert_eq!(plan.costing.method, Method::Heuristic);
        assert!(plan.explanation.contains("heuristic"));
        assert_eq!(plan.lines.iter().map(|l| l.quantity).sum::<u32>(), 90);
    }

    /// Every assignment of each line, whole, to one warehouse holding it: the cheapest cost,
    /// by brute force, written apart from the search.
    fn brute_force_cost(problem: &Problem<'_>) -> Option<cost::Fen> {
        let (lines, sources) = (problem.lines.len(), problem.sources.len());
        let mut best = None;
        let mut choice = vec![0; lines];
        loop {
            let takes: Option<Vec<problem::Take>> = (0..lines)
                .map(|line| {
                    let source = choice[line];
                    (problem.available(line, source) >= problem.lines[line].units).then_some(problem::Take {
                        line,
                        source,
                        units: problem.lines[line].units,
                    })
                })
                .collect();
            if let Some(takes) = takes {
                let (cost, _) = problem.cost(&takes);
                best = Some(best.map_or(cost, |b: cost::Fen| b.min(cost)));
            }
            let mut i = 0;
            loop {
                if i == lines {
                    return best;
                }
                choice[i] += 1;
                if choice[i] < sources {
                    break;
                }
                choice[i] = 0;
                i += 1;
            }
        }
    }

    /// A small instance: warehouses (each at one of five provinces' capitals), lines (SKU
    /// index, quantity), each warehouse's stock of each line, and each SKU's unit weight.
    #[derive(Debug, Clone)]
    struct Instance {
        warehouses: Vec<usize>,
        lines: Vec<u32>,
        stock: Vec<Vec<u32>>,
        weights: Vec<u32>,
    }

    fn instances() -> impl proptest::strategy::Strategy<Value = Instance> {
        use proptest::prelude::*;
        (prop::collection::vec(0..5_usize, 2..=5), prop::collection::vec(1..=3_u32, 1..=4)).prop_flat_map(
            |(warehouses, lines)| {
                let stock = prop::collection::vec(prop::collection::vec(0..4_u32, lines.len()), warehouses.len());
                let weights = prop::collection::vec(100..3100_u32, lines.len());
                (Just(warehouses), Just(lines), stock, weights).prop_map(|(warehouses, lines, stock, weights)| Instance {
                    warehouses,
                    lines,
                    stock,
                    weights,
                })
            },
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        #[test]
        fn the_exact_search_finds_the_brute_force_optimum_on_small_instances(instance in instances()) {
            const PROVINCES: [(&str, f64, f64); 5] = [
                ("Zhejiang", 30.27, 120.15),
                ("Beijing", 39.90, 116.41),
                ("Guangdong", 23.13, 113.26),
                ("Sichuan", 30.66, 104.07),
                ("Xinjiang", 43.83, 87.62),
            ];
            const SKUS: [&str; 4] = ["A", "B", "C", "D"];
            let whs: Vec<Warehouse> = instance
                .warehouses
                .iter()
                .enumerate()
                .map(|(w, &p)| located(&format!("wh-{w}"), PROVINCES[p].0, PROVINCES[p].1, PROVINCES[p].2))
                .collect();
            let lines: Vec<(&str, u32)> = instance.lines.iter().enumerate().map(|(i, q)| (SKUS[i], *q)).collect();
            let mut levels = Vec::new();
            for (w, held) in whs.iter().zip(&instance.stock) {
                for ((sku, _), units) in lines.iter().zip(held) {
                    levels.push(level(w.warehouse_id.as_str(), sku, *units));
                }
            }
            let weights = lines.iter().zip(&instance.weights).map(|((sku, _), g)| (Sku::parse(*sku).unwrap(), *g)).collect();
            let model = CostModel::new(Vec::new(), weights);
            let (order, stock) = (order(&lines), stock(levels));
            let Ok(problem) = Problem::new(&order, &stock, &whs, &model, &[], Ties::ById) else { return Ok(()) };
            let searched = exact::search(&problem, best_single(&singles(&problem)), usize::MAX);
            let exhaustive = exact::exhaustive(&problem);
            assert!(searched.complete);
            let (cut, all) = (searched.best.unwrap(), exhaustive.best.unwrap());
            assert_eq!(cut.cost, all.cost, "the bound never cuts the optimum");
            assert_eq!(cut.cost, problem.cost(&cut.takes).0, "the running cost is the plan's cost");
            if let Some(whole_lines) = brute_force_cost(&problem) {
                assert!(cut.cost <= whole_lines, "no assignment of whole lines is cheaper");
                let no_partial_stock = problem.lines.iter().enumerate().all(|(l, line)| {
                    (0..problem.sources.len()).all(|s| {
                        let a = problem.available(l, s);
                        a == 0 || a >= line.units
                    })
                });
                if no_partial_stock {
                    assert_eq!(cut.cost, whole_lines, "with no partial stock the spaces are the same");
                }
            }
            let planned = super::plan(&order, &stock, &whs, &model, &[]).unwrap();
            assert_eq!(to_fen(planned.costing.chosen.cost), cut.cost);
            let heuristic = heuristic_only(&order, &stock, &whs, &model).unwrap();
            assert!(to_fen(heuristic.cost) >= cut.cost, "nothing beats the optimum");
        }
    }
}
