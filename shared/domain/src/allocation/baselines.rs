//! The strategies our planner is measured against (`oms bench allocate`), as Saleor
//! allocates stock: neither weighs cost, both respect the same stock, ownership and served
//! regions as the planner.
//!
//! - [`Strategy::PriorityOrder`] (Saleor's default, "prioritize by sorting order"): the
//!   first warehouse in the fixed priority order (the order of the warehouse list) that
//!   holds the whole order ships it; failing that, each line is filled from the
//!   warehouses in that order.
//! - [`Strategy::MostStock`] (Saleor's "prioritize high stock"): each line is filled from
//!   the warehouses holding the most of it first.

use super::problem::{Problem, Take};

/// A baseline allocation strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    PriorityOrder,
    MostStock,
}

pub(crate) fn plan(problem: &Problem<'_>, strategy: Strategy) -> Vec<Take> {
    let mut by_priority: Vec<usize> = (0..problem.sources.len()).collect();
    by_priority.sort_by_key(|&s| (problem.sources[s].priority, problem.sources[s].warehouse));
    match strategy {
        Strategy::PriorityOrder => {
            let whole = problem.whole_order_sources();
            if let Some(&first) = by_priority.iter().find(|s| whole.contains(s)) {
                return problem.single(first);
            }
            fill_each_line(problem, |_| by_priority.clone())
        }
        Strategy::MostStock => fill_each_line(problem, |line| {
            let mut order = by_priority.clone();
            order.sort_by_key(|&s| std::cmp::Reverse(problem.available(line, s)));
            order
        }),
    }
}

/// Each line from the sources `order_for(line)` gives, in that order, until it is filled.
fn fill_each_line(problem: &Problem<'_>, order_for: impl Fn(usize) -> Vec<usize>) -> Vec<Take> {
    let mut takes = Vec::new();
    for (line, wanted) in problem.lines.iter().enumerate() {
        let mut remaining = wanted.units;
        for source in order_for(line) {
            if remaining == 0 {
                break;
            }
            let units = remaining.min(problem.available(line, source));
            if units > 0 {
                takes.push(Take { line, source, units });
                remaining -= units;
            }
        }
    }
    takes
}
