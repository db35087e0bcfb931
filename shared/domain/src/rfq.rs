//! Bulk trade (a request for quotes): a buyer's requirement list, the merchants' quotes per
//! line, and the cheapest set of merchants that covers the whole list; and the status of a
//! parent order derived from the sub-orders it was split into, one per merchant.
//!
//! The combination is exact: each merchant chosen ships one parcel (its shipping to the
//! buyer's region, paid once) and each line goes to the cheapest chosen merchant that
//! quoted it, so the cost of a set of merchants is known, and the cheapest set is found by a
//! branch and bound over the candidates (include or leave out each, most lines quoted
//! first), cutting a branch whose bound (the shipping of those chosen plus, per line, the
//! cheapest quote among those chosen or still undecided) cannot beat the best set found.
//! The bound never overestimates, so the answer is the optimum; at most
//! [`MAX_CANDIDATES`] merchants are weighed (`2^24` sets at worst, far fewer in practice),
//! the rest left out and said so.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::order::OrderStatus;
use crate::{MerchantId, Sku};

/// The most merchants the combination weighs; beyond them, those quoting the most lines
/// (then the cheapest) are kept.
pub const MAX_CANDIDATES: usize = 24;

pub mod request;

/// One line of a requirement list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequiredLine {
    pub sku: Sku,
    pub quantity: u32,
}

/// A merchant's price for one whole line (by its index in the list) of a requirement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineQuote {
    pub merchant: MerchantId,
    pub line: usize,
    pub unit_price: Decimal,
}

/// The cheapest combination of quotes covering every line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    /// Each merchant chosen and the lines it supplies, `(line, unit price)`.
    pub by_merchant: BTreeMap<MerchantId, Vec<(usize, Decimal)>>,
    /// The goods: each line's quantity at its chosen unit price.
    pub goods: Decimal,
    /// One shipment per merchant chosen.
    pub shipping: Decimal,
    pub total: Decimal,
    /// Sets of merchants whose cost was worked out (the search's effort).
    pub sets_costed: u64,
    /// Why this combination, in a sentence or two.
    pub explanation: String,
}

/// Why no combination covers the list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no merchant quoted line {line} ({sku})")]
pub struct Uncovered {
    pub line: usize,
    pub sku: Sku,
}

/// The cheapest set of merchants covering every line of `lines` with `quotes`, each
/// merchant's one shipment to the buyer costing `shipping[merchant]` (none named: free).
/// Among sets of equal cost, the one with fewer merchants, then the first by merchant ids.
pub fn cheapest_cover(
    lines: &[RequiredLine],
    quotes: &[LineQuote],
    shipping: &BTreeMap<MerchantId, Decimal>,
) -> Result<Cover, Uncovered> {
    // Each merchant's best price per line (a merchant quoting a line twice: its cheaper).
    let mut prices: BTreeMap<MerchantId, Vec<Option<Decimal>>> = BTreeMap::new();
    for q in quotes.iter().filter(|q| q.line < lines.len()) {
        let row = prices.entry(q.merchant.clone()).or_insert_with(|| vec![None; lines.len()]);
        row[q.line] = Some(row[q.line].map_or(q.unit_price, |p: Decimal| p.min(q.unit_price)));
    }
    if let Some(line) = (0..lines.len()).find(|&l| prices.values().all(|row| row[l].is_none())) {
        return Err(Uncovered { line, sku: lines[line].sku.clone() });
    }
    let ship = |m: &MerchantId| shipping.get(m).copied().unwrap_or(Decimal::ZERO);
    let line_cost = |row: &[Option<Decimal>], l: usize| row[l].map(|p| p * Decimal::from(lines[l].quantity));
    // Most lines quoted first, then the cheaper goods, then the id: good sets come early.
    let mut candidates: Vec<(MerchantId, Vec<Option<Decimal>>)> = prices.into_iter().collect();
    let rank = |(m, row): &(MerchantId, Vec<Option<Decimal>>)| {
        let quoted = row.iter().filter(|p| p.is_some()).count();
        let goods: Decimal = (0..row.len()).filter_map(|l| line_cost(row, l)).sum();
        (std::cmp::Reverse(quoted), goods + ship(m), m.clone())
    };
    candidates.sort_by_key(rank);
    let weighed = candidates.len();
    let left_out = weighed.saturating_sub(MAX_CANDIDATES);
    candidates.truncate(MAX_CANDIDATES);
    if let Some(line) = (0..lines.len()).find(|&l| candidates.iter().all(|(_, row)| row[l].is_none())) {
        return Err(Uncovered { line, sku: lines[line].sku.clone() });
    }

    let mut search = Search {
        costs: candidates.iter().map(|(_, row)| (0..lines.len()).map(|l| line_cost(row, l)).collect()).collect(),
        shipping: candidates.iter().map(|(m, _)| ship(m)).collect(),
        best: None,
        sets_costed: 0,
    };
    let mut chosen = Vec::new();
    search.branch(0, &mut chosen);
    let (total, picked) = search.best.clone().ok_or_else(|| Uncovered { line: 0, sku: lines[0].sku.clone() })?;

    let mut by_merchant: BTreeMap<MerchantId, Vec<(usize, Decimal)>> = BTreeMap::new();
    let mut goods = Decimal::ZERO;
    for l in 0..lines.len() {
        let (i, cost) = picked
            .iter()
            .filter_map(|&i| search.costs[i][l].map(|c| (i, c)))
            .min_by_key(|&(i, c)| (c, i))
            .expect("the chosen set covers every line");
        goods += cost;
        let (merchant, row) = &candidates[i];
        by_merchant.entry(merchant.clone()).or_default().push((l, row[l].expect("quoted")));
    }
    let shipping_total: Decimal = picked.iter().map(|&i| search.shipping[i]).sum();
    let mut explanation = format!(
        "{} merchant(s) cover the {} lines for {total} ({goods} of goods, {shipping_total} of shipping, one shipment each): \
         the cheapest of the sets of the {} merchants weighed (exact: {} sets costed, the rest bounded out)",
        by_merchant.len(),
        lines.len(),
        candidates.len(),
        search.sets_costed,
    );
    if left_out > 0 {
        explanation.push_str(&format!("; {left_out} merchant(s) quoting fewer lines were not weighed"));
    }
    Ok(Cover { by_merchant, goods, shipping: shipping_total, total, sets_costed: search.sets_costed, explanation })
}

/// The branch and bound's state: per candidate, each line's cost (quantity x price) and its
/// shipment's cost; the best set so far (its total and its candidates, ascending).
struct Search {
    costs: Vec<Vec<Option<Decimal>>>,
    shipping: Vec<Decimal>,
    best: Option<(Decimal, Vec<usize>)>,
    sets_costed: u64,
}

impl Search {
    /// Decides candidate `next` and those after it, `chosen` holding those taken before.
    fn branch(&mut self, next: usize, chosen: &mut Vec<usize>) {
        let shipping: Decimal = chosen.iter().map(|&i| self.shipping[i]).sum();
        let lines = self.costs.first().map_or(0, Vec::len);
        // The bound: per line, the cheapest among those chosen or undecided.
        let mut bound = shipping;
        for l in 0..lines {
            let reachable = chosen.iter().copied().chain(next..self.costs.len()).filter_map(|i| self.costs[i][l]).min();
            match reachable {
                Some(cost) => bound += cost,
                None => return, // some line can no longer be covered
            }
        }
        if let Some((best, best_set)) = &self.best {
            if bound > *best || (bound == *best && chosen.len() >= best_set.len()) {
                return;
            }
        }
        if next == self.costs.len() {
            // A leaf: every undecided candidate is left out, so the bound is the cost.
            self.sets_costed += 1;
            self.best = Some((bound, chosen.clone()));
            return;
        }
        chosen.push(next);
        self.branch(next + 1, chosen);
        chosen.pop();
        self.branch(next + 1, chosen);
    }
}

/// A parent order's status from its sub-orders': cancelled only when all are; of those not
/// cancelled, delivered when all are, shipped when all have shipped, partially shipped when
/// some have; otherwise the least advanced (an exception or a hold first, as staff must act).
pub fn parent_status(children: &[OrderStatus]) -> OrderStatus {
    use OrderStatus::*;
    let active: Vec<OrderStatus> = children.iter().copied().filter(|s| *s != Cancelled).collect();
    if active.is_empty() {
        return Cancelled;
    }
    let shipped = |s: &OrderStatus| matches!(s, Shipped | InTransit | Delivered);
    if active.iter().all(|s| *s == Delivered) {
        return Delivered;
    }
    if active.iter().all(shipped) {
        return if active.iter().all(|s| matches!(s, InTransit | Delivered)) { InTransit } else { Shipped };
    }
    if active.iter().any(|s| shipped(s) || *s == PartiallyShipped) {
        return PartiallyShipped;
    }
    for attention in [Exception, OnHold, Backordered, Received, Allocated, Reserved] {
        if active.contains(&attention) {
            return attention;
        }
    }
    Received
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str) -> MerchantId {
        MerchantId::parse(id).unwrap()
    }

    fn lines(quantities: &[u32]) -> Vec<RequiredLine> {
        quantities
            .iter()
            .enumerate()
            .map(|(i, q)| RequiredLine { sku: Sku::parse(format!("L-{i}")).unwrap(), quantity: *q })
            .collect()
    }

    fn quote(merchant: &str, line: usize, price: i64) -> LineQuote {
        LineQuote { merchant: m(merchant), line, unit_price: Decimal::from(price) }
    }

    /// Every set of merchants tried, for the tests' own check of the optimum.
    fn brute_force(lines: &[RequiredLine], quotes: &[LineQuote], shipping: &BTreeMap<MerchantId, Decimal>) -> Option<Decimal> {
        let merchants: Vec<MerchantId> = {
            let mut all: Vec<MerchantId> = quotes.iter().map(|q| q.merchant.clone()).collect();
            all.sort();
            all.dedup();
            all
        };
        let mut best: Option<Decimal> = None;
        for mask in 1u32..(1 << merchants.len()) {
            let set: Vec<&MerchantId> = (0..merchants.len()).filter(|i| mask & (1 << i) != 0).map(|i| &merchants[i]).collect();
            let mut total: Decimal = set.iter().map(|m| shipping.get(*m).copied().unwrap_or_default()).sum();
            let mut covered = true;
            for (l, line) in lines.iter().enumerate() {
                let cheapest = quotes.iter().filter(|q| q.line == l && set.contains(&&q.merchant)).map(|q| q.unit_price).min();
                match cheapest {
                    Some(p) => total += p * Decimal::from(line.quantity),
                    None => covered = false,
                }
            }
            if covered && best.is_none_or(|b| total < b) {
                best = Some(total);
            }
        }
        best
    }

    #[test]
    fn one_merchant_quoting_everything_beats_three_cheaper_lines_when_shipping_outweighs_them() {
        let list = lines(&[10, 10, 10]);
        let quotes = vec![
            quote("all", 0, 11),
            quote("all", 1, 11),
            quote("all", 2, 11),
            quote("a", 0, 10),
            quote("b", 1, 10),
            quote("c", 2, 10),
        ];
        let shipping: BTreeMap<MerchantId, Decimal> =
            ["all", "a", "b", "c"].iter().map(|id| (m(id), Decimal::from(20))).collect();
        let cover = cheapest_cover(&list, &quotes, &shipping).unwrap();
        assert_eq!(cover.by_merchant.keys().collect::<Vec<_>>(), [&m("all")]);
        assert_eq!((cover.goods, cover.shipping, cover.total), (Decimal::from(330), Decimal::from(20), Decimal::from(350)));
        // Free shipping: the three cheaper merchants win.
        let cover = cheapest_cover(&list, &quotes, &BTreeMap::new()).unwrap();
        assert_eq!(cover.by_merchant.len(), 3);
        assert_eq!(cover.total, Decimal::from(300));
        assert!(cover.explanation.contains("3 merchant(s) cover the 3 lines for 300"), "{}", cover.explanation);
    }

    #[test]
    fn a_line_nobody_quoted_is_named() {
        let err = cheapest_cover(&lines(&[1, 1]), &[quote("a", 0, 5)], &BTreeMap::new()).unwrap_err();
        assert_eq!(err.line, 1);
    }

    #[test]
    fn equal_totals_go_to_fewer_merchants() {
        let list = lines(&[1, 1]);
        let quotes = vec![quote("a", 0, 5), quote("b", 1, 5), quote("c", 0, 5), quote("c", 1, 5)];
        let cover = cheapest_cover(&list, &quotes, &BTreeMap::new()).unwrap();
        assert_eq!(cover.by_merchant.keys().collect::<Vec<_>>(), [&m("c")]);
    }

    #[test]
    fn the_search_finds_the_optimum_every_set_tried_finds() {
        // A small deterministic generator: 9 merchants, 7 lines, sparse quotes.
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for _ in 0..200 {
            let list = lines(&(0..7).map(|_| 1 + next(20) as u32).collect::<Vec<_>>());
            let mut quotes = Vec::new();
            let mut shipping = BTreeMap::new();
            for merchant in 0..9 {
                let id = format!("m{merchant}");
                shipping.insert(m(&id), Decimal::from(next(60)));
                for line in 0..7 {
                    if next(3) == 0 {
                        quotes.push(quote(&id, line, 5 + next(30) as i64));
                    }
                }
            }
            match (cheapest_cover(&list, &quotes, &shipping), brute_force(&list, &quotes, &shipping)) {
                (Ok(cover), Some(best)) => {
                    assert_eq!(cover.total, best);
                    assert_eq!(cover.total, cover.goods + cover.shipping);
                    let supplied: usize = cover.by_merchant.values().map(Vec::len).sum();
                    assert_eq!(supplied, 7, "every line supplied once");
                }
                (Err(_), None) => {}
                (found, best) => panic!("search {found:?} against every set {best:?}"),
            }
        }
    }

    #[test]
    fn a_parent_is_cancelled_only_when_all_are_and_delivered_when_all_are() {
        use OrderStatus::*;
        assert_eq!(parent_status(&[Cancelled, Cancelled]), Cancelled);
        assert_eq!(parent_status(&[Delivered, Cancelled, Delivered]), Delivered);
        assert_eq!(parent_status(&[Delivered, Reserved]), PartiallyShipped);
        assert_eq!(parent_status(&[Shipped, Delivered]), Shipped);
        assert_eq!(parent_status(&[InTransit, Delivered]), InTransit);
        assert_eq!(parent_status(&[Reserved, Received, Cancelled]), Received);
        assert_eq!(parent_status(&[Reserved, OnHold]), OnHold);
        assert_eq!(parent_status(&[Reserved, Reserved]), Reserved);
    }
}
