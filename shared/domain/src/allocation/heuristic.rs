//! The heuristic, for orders past the exact search's bound: greedy, then local
//! improvement.
//!
//! Greedy places lines heaviest first, each from the warehouse that adds least to the cost
//! per unit it can give (a warehouse already shipping adds only the heavier parcel's
//! difference; a new one adds handling, its parcel and the split penalty). Local
//! improvement then moves one whole line at a time to any warehouse holding it, taking the
//! best move that lowers the cost, until none does (at most [`MAX_PASSES`] moves). The
//! caller also weighs every single-warehouse plan, so the heuristic never does worse than
//! the best of those.

use super::exact::Solution;
use super::problem::{Problem, Take};

/// Most improving moves local improvement makes.
pub const MAX_PASSES: usize = 50;

/// A good plan, not always the cheapest: `None` only when the problem has no lines.
pub(crate) fn plan(problem: &Problem<'_>) -> Option<Solution> {
    if problem.lines.is_empty() {
        return None;
    }
    let mut takes = greedy(problem);
    improve(problem, &mut takes);
    Some(Solution::of(problem, takes))
}

fn greedy(p: &Problem<'_>) -> Vec<Take> {
    let n = p.sources.len();
    let mut load = vec![0_u64; n];
    let mut takes: Vec<Take> = Vec::new();
    for (line, wanted) in p.lines.iter().enumerate() {
        let mut remaining = wanted.units;
        let mut used = vec![false; n];
        while remaining > 0 {
            let shipping = load.iter().filter(|g| **g > 0).count();
            let best = (0..n)
                .filter(|&s| !used[s] && p.available(line, s) > 0)
                .map(|s| {
                    let units = remaining.min(p.available(line, s));
                    let grams = u64::from(units) * wanted.unit_weight_g;
                    let added = if load[s] == 0 {
                        p.shipment_cost(s, grams) + if shipping > 0 { p.split_penalty } else { 0 }
                    } else {
                        p.shipment_cost(s, load[s] + grams) - p.shipment_cost(s, load[s])
                    };
                    // Cost per unit given, compared exactly: added / units as a fraction.
                    (s, units, grams, added)
                })
                .min_by(|a, b| (i128::from(a.3) * i128::from(b.1)).cmp(&(i128::from(b.3) * i128::from(a.1))));
            let Some((source, units, grams, _)) = best else {
                // The problem was built only when stock covers every line.
                break;
            };
            used[source] = true;
            load[source] += grams;
            remaining -= units;
            takes.push(Take { line, source, units });
        }
    }
    takes
}

/// Moves whole lines between warehouses while that lowers the cost.
fn improve(p: &Problem<'_>, takes: &mut [Take]) {
    for _ in 0..MAX_PASSES {
        let (now, _) = p.cost(takes);
        let mut best: Option<(usize, usize, i64)> = None;
        for i in 0..takes.len() {
            let line = takes[i].line;
            // Only lines shipped whole from one warehouse move.
            if takes.iter().filter(|t| t.line == line).count() != 1 {
                continue;
            }
            let from = takes[i].source;
            for to in (0..p.sources.len()).filter(|&s| s != from && p.available(line, s) >= p.lines[line].units) {
                takes[i].source = to;
                let (cost, _) = p.cost(takes);
                takes[i].source = from;
                if cost < now && best.is_none_or(|(_, _, c)| cost < c) {
                    best = Some((i, to, cost));
                }
            }
        }
        match best {
            Some((i, to, _)) => takes[i].source = to,
            None => return,
        }
    }
}
