//! The heuristic, for orders past the exact search's bound: greedy, then local
//! improvement.
//!
//! Greedy places lines heaviest first, each from the warehouse that adds least to the cost
//! per unit it can give (a warehouse already shipping adds only the heavier parcel's
//! difference; a new one adds handling, its parcel and the split penalty). Local
//! improvement then moves one whole line to any warehouse holding it, or every line of one
//! shipment onto another warehouse already shipping, taking the best move that lowers the
//! cost, until none does (at most [`MAX_PASSES`] moves). The caller also weighs every
//! single-warehouse plan, so the heuristic never does worse than the best of those.

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
    // Whether each source ships already (a weightless SKU leaves its load at 0).
    let mut opened = vec![false; n];
    let mut takes: Vec<Take> = Vec::new();
    for (line, wanted) in p.lines.iter().enumerate() {
        let mut remaining = wanted.units;
        let mut used = vec![false; n];
        while remaining > 0 {
            let shipping = opened.iter().filter(|o| **o).count();
            let best = (0..n)
                .filter(|&s| !used[s] && p.available(line, s) > 0)
                .map(|s| {
                    let units = remaining.min(p.available(line, s));
                    let grams = u64::from(units) * wanted.unit_weight_g;
                    let added = if !opened[s] {
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
            opened[source] = true;
            load[source] += grams;
            remaining -= units;
            takes.push(Take { line, source, units });
        }
    }
    takes
}

/// Moves whole lines between warehouses while that lowers the cost: one line at a time, or
/// every line of one shipment onto another warehouse at once (closing a shipment can pay
/// where moving any one of its lines does not).
fn improve(p: &Problem<'_>, takes: &mut [Take]) {
    let whole = |takes: &[Take], line: usize| takes.iter().filter(|t| t.line == line).count() == 1;
    for _ in 0..MAX_PASSES {
        let (now, _) = p.cost(takes);
        // The best move: which takes go to which warehouse, and the cost after.
        let mut best: Option<(Vec<usize>, usize, i64)> = None;
        let mut consider = |moved: Vec<usize>, to: usize, takes: &mut [Take]| {
            let from: Vec<usize> = moved.iter().map(|&i| takes[i].source).collect();
            moved.iter().for_each(|&i| takes[i].source = to);
            let (cost, _) = p.cost(takes);
            moved.iter().zip(&from).for_each(|(&i, &s)| takes[i].source = s);
            if cost < now && best.as_ref().is_none_or(|(_, _, c)| cost < *c) {
                best = Some((moved, to, cost));
            }
        };
        let fits = |takes: &[Take], i: usize, to: usize| p.available(takes[i].line, to) >= p.lines[takes[i].line].units;
        for i in 0..takes.len() {
            if !whole(takes, takes[i].line) {
                continue;
            }
            let from = takes[i].source;
            for to in (0..p.sources.len()).filter(|&s| s != from) {
                if fits(takes, i, to) {
                    consider(vec![i], to, takes);
                }
            }
        }
        for from in p.warehouses_of(takes) {
            let moved: Vec<usize> = (0..takes.len()).filter(|&i| takes[i].source == from).collect();
            if !moved.iter().all(|&i| whole(takes, takes[i].line)) {
                continue;
            }
            for to in p.warehouses_of(takes).into_iter().filter(|&s| s != from) {
                if moved.iter().all(|&i| fits(takes, i, to)) {
                    consider(moved.clone(), to, takes);
                }
            }
        }
        match best {
            Some((moved, to, _)) => moved.into_iter().for_each(|i| takes[i].source = to),
            None => return,
        }
    }
}
