//! The exact search: the cheapest plan of all, by depth-first branch and bound.
//!
//! The plans searched: each line (SKU) goes whole to one warehouse holding all its units,
//! or, when it is split, each warehouse but the last gives all it holds of it and the last
//! the rest. Lines are placed heaviest first; a branch is cut as soon as its cost so far
//! exceeds the best whole plan found (costs only grow as lines are added: a parcel never
//! gets cheaper by getting heavier, and a new shipment adds handling and the penalty).
//! Among plans of equal cost the one with fewer shipments wins, then the one from the more
//! preferred warehouses.
//!
//! Planning effort is bounded: a search that would try more than its limit of
//! placements, or hold more than [`MAX_DEPTH`] takes in one plan (the recursion's depth),
//! stops and says so, and the caller falls back to the heuristic.

use super::cost::Fen;
use super::problem::{Problem, Take};

/// Most takes one plan of the search may hold: the depth of its recursion, kept far inside
/// a worker thread's stack (an order has at most 500 lines; one shipped whole from one
/// warehouse is 500 takes).
pub const MAX_DEPTH: usize = 600;

/// A plan with its cost, and the key that orders plans of equal cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Solution {
    pub takes: Vec<Take>,
    pub cost: Fen,
    pub shipments: u32,
    /// The sources shipping, most preferred first.
    pub sources: Vec<usize>,
}

impl Solution {
    pub fn of(problem: &Problem<'_>, takes: Vec<Take>) -> Self {
        let (cost, shipments) = problem.cost(&takes);
        let sources = problem.warehouses_of(&takes);
        Self { takes, cost, shipments, sources }
    }

    /// Whether this plan beats `other`: cheaper; as cheap in fewer shipments; or as cheap
    /// in as many from more preferred warehouses.
    pub fn beats(&self, other: &Solution) -> bool {
        (self.cost, self.shipments, &self.sources) < (other.cost, other.shipments, &other.sources)
    }
}

/// What a search found.
#[derive(Debug)]
pub(crate) struct Found {
    pub best: Option<Solution>,
    /// Placements tried.
    pub steps: usize,
    /// False when the search stopped at its limit: `best` is then only the best seen.
    pub complete: bool,
}

/// The cheapest plan, starting from `incumbent` (a plan already known, which the search
/// must beat), trying at most `limit` placements.
pub(crate) fn search(problem: &Problem<'_>, incumbent: Option<Solution>, limit: usize) -> Found {
    run(problem, incumbent, limit, true)
}

/// Every plan of the search space, none cut: for tests that hold the bounds to account.
#[cfg(test)]
pub(crate) fn exhaustive(problem: &Problem<'_>) -> Found {
    run(problem, None, usize::MAX, false)
}

fn run(problem: &Problem<'_>, incumbent: Option<Solution>, limit: usize, cut: bool) -> Found {
    let n = problem.sources.len();
    let mut dfs = Dfs {
        p: problem,
        load: vec![0; n],
        takes_at: vec![0; n],
        shipments: 0,
        cost: 0,
        takes: Vec::with_capacity(problem.lines.len() * 2),
        best: incumbent,
        steps: 0,
        limit,
        cut,
        stopped: false,
    };
    if let Some(first) = problem.lines.first() {
        dfs.place(0, first.units, 0, 0);
    }
    Found { best: dfs.best, steps: dfs.steps, complete: !dfs.stopped }
}

struct Dfs<'p, 'a> {
    p: &'p Problem<'a>,
    /// Grams each source ships so far.
    load: Vec<u64>,
    /// Takes each source has so far.
    takes_at: Vec<u32>,
    shipments: u32,
    cost: Fen,
    takes: Vec<Take>,
    best: Option<Solution>,
    steps: usize,
    limit: usize,
    cut: bool,
    stopped: bool,
}

impl Dfs<'_, '_> {
    /// What shipping `grams` more from `source` adds to the plan's cost.
    fn added_cost(&self, source: usize, grams: u64) -> Fen {
        let p = self.p;
        if self.takes_at[source] == 0 {
            let penalty = if self.shipments > 0 { p.split_penalty } else { 0 };
            p.shipment_cost(source, grams) + penalty
        } else {
            p.shipment_cost(source, self.load[source] + grams) - p.shipment_cost(source, self.load[source])
        }
    }

    /// Places `remaining` units of `line`, whose takes so far start at `line_start`;
    /// sources it drains must come from `drain_from` on (so each split is tried once).
    fn place(&mut self, line: usize, remaining: u32, drain_from: usize, line_start: usize) {
        let p = self.p;
        if line == p.lines.len() {
            self.finish();
            return;
        }
        for source in 0..p.sources.len() {
            if self.stopped {
                return;
            }
            let available = p.available(line, source);
            if available == 0 || self.takes[line_start..].iter().any(|t| t.source == source) {
                continue;
            }
            let last = available >= remaining;
            if !last && source < drain_from {
                continue;
            }
            self.steps += 1;
            if self.steps > self.limit || self.takes.len() >= MAX_DEPTH {
                self.stopped = true;
                return;
            }
            let units = remaining.min(available);
            let grams = u64::from(units) * p.lines[line].unit_weight_g;
            let added = self.added_cost(source, grams);
            if self.cut && self.best.as_ref().is_some_and(|best| self.cost + added > best.cost) {
                continue;
            }
            let opened = self.takes_at[source] == 0;
            self.cost += added;
            self.load[source] += grams;
            self.takes_at[source] += 1;
            self.shipments += u32::from(opened);
            self.takes.push(Take { line, source, units });
            if last {
                let next = p.lines.get(line + 1).map_or(0, |l| l.units);
                let start = self.takes.len();
                self.place(line + 1, next, 0, start);
            } else {
                self.place(line, remaining - units, source + 1, line_start);
            }
            self.takes.pop();
            self.shipments -= u32::from(opened);
            self.takes_at[source] -= 1;
            self.load[source] -= grams;
            self.cost -= added;
        }
    }

    /// Every line is placed: keep the plan if it is the best yet.
    fn finish(&mut self) {
        if self.best.as_ref().is_some_and(|best| self.cost > best.cost) {
            return;
        }
        let sources = (0..self.p.sources.len()).filter(|&s| self.takes_at[s] > 0).collect();
        let found = Solution { takes: self.takes.clone(), cost: self.cost, shipments: self.shipments, sources };
        if self.best.as_ref().is_none_or(|best| found.beats(best)) {
            self.best = Some(found);
        }
    }
}
