//! Why a plan won: the candidates weighed with their costs, the winner, and a sentence
//! saying why, recorded with the plan and shown with the order.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::cost::from_fen;
use super::exact::Solution;
use super::problem::Problem;
use crate::WarehouseId;

/// Most candidates an explanation lists (cheapest first); `considered` counts them all.
pub const MAX_CANDIDATES_LISTED: usize = 8;

/// One plan weighed: the warehouses shipping, what it costs, in how many shipments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub warehouses: Vec<WarehouseId>,
    pub cost: Decimal,
    pub shipments: u32,
}

/// How the winner was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The exact search finished: no plan is cheaper.
    Exact,
    /// The order was past the exact search's bound: greedy with local improvement.
    Heuristic,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Exact => "exact",
            Method::Heuristic => "heuristic",
        }
    }
}

/// The costs behind a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Costing {
    pub chosen: Candidate,
    /// Every single-warehouse plan and the winner, cheapest first, at most
    /// [`MAX_CANDIDATES_LISTED`].
    pub candidates: Vec<Candidate>,
    /// How many candidates were weighed in all.
    pub considered: u32,
    pub method: Method,
    /// Placements the exact search tried (bounded by `MAX_EXACT_STEPS`).
    pub steps: u32,
}

/// The costing of `chosen` against the single-warehouse plans `singles`, and the sentence
/// saying why it won.
pub(crate) fn explain(
    problem: &Problem<'_>,
    singles: &[Solution],
    chosen: &Solution,
    method: Method,
    steps: usize,
) -> (String, Costing) {
    let candidate = |s: &Solution| Candidate {
        warehouses: s.sources.iter().map(|&i| problem.sources[i].warehouse.clone()).collect(),
        cost: from_fen(s.cost),
        shipments: s.shipments,
    };
    let names = |s: &Solution| s.sources.iter().map(|&i| problem.sources[i].warehouse.as_str()).collect::<Vec<_>>().join(" + ");
    let mut ranked: Vec<&Solution> = singles.iter().collect();
    if chosen.shipments > 1 {
        ranked.push(chosen);
    }
    ranked.sort_by(|a, b| (a.cost, a.shipments, &a.sources).cmp(&(b.cost, b.shipments, &b.sources)));
    let runner_up = ranked.iter().find(|s| s.sources != chosen.sources);
    let cost = from_fen(chosen.cost);

    let mut reason = if chosen.shipments == 1 {
        let from = names(chosen);
        match runner_up {
            None => format!("one shipment from {from} at {cost}: the only warehouse holding every line; no split is cheaper"),
            Some(next) if next.cost == chosen.cost => {
                let why = if problem.sources[chosen.sources[0]].local { "in the buyer's province" } else { "preferred on a tie" };
                format!("one shipment from {from} at {cost}: tied with {} and {why}; no split is cheaper", names(next))
            }
            Some(next) => format!(
                "one shipment from {from} at {cost}: cheapest of {} single-warehouse plans (next {} at {}); no split is cheaper",
                singles.len(),
                names(next),
                from_fen(next.cost)
            ),
        }
    } else {
        let shipments = chosen.shipments;
        match singles.iter().min_by_key(|s| s.cost) {
            Some(single) => format!(
                "split across {} at {cost} in {shipments} shipments: {} cheaper than the best single warehouse, {} at {}",
                names(chosen),
                from_fen(single.cost - chosen.cost),
                names(single),
                from_fen(single.cost)
            ),
            None => {
                format!("split across {} at {cost} in {shipments} shipments: no single warehouse holds every line", names(chosen))
            }
        }
    };
    if method == Method::Heuristic {
        reason.push_str(" (planned by the heuristic: the order is past the exact search's bound)");
    }
    let costing = Costing {
        chosen: candidate(chosen),
        candidates: ranked.iter().take(MAX_CANDIDATES_LISTED).map(|s| candidate(s)).collect(),
        considered: ranked.len() as u32,
        method,
        steps: u32::try_from(steps).unwrap_or(u32::MAX),
    };
    (reason, costing)
}
