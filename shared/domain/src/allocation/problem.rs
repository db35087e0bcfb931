//! One order's planning problem, in the terms every search shares: the order's lines (one
//! per SKU, with its unit weight), the warehouses that may ship them (holding stock the
//! order may sell, and serving the buyer's region) with their parcel prices at their
//! distance from the buyer, and the units each holds of each line.
//!
//! A plan is a list of [`Take`]s; its cost is, per warehouse shipping, handling plus the
//! parcel price of everything it ships, plus the split penalty per shipment beyond the
//! first ([`Problem::cost`]).

use std::collections::BTreeMap;

use super::cost::{CostModel, Fen, Tariff};
use super::geo;
use super::{may_sell, AllocatedLine, Right, Shortage, Ties};
use crate::consignment::Consignment;
use crate::order::Order;
use crate::stock::{StockLevel, Warehouse};
use crate::{MerchantId, Money, Sku, WarehouseId};

/// So many units of line `line` from source `source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Take {
    pub line: usize,
    pub source: usize,
    pub units: u32,
}

#[derive(Debug)]
pub(crate) struct Line {
    pub sku: Sku,
    pub units: u32,
    pub unit_weight_g: u64,
}

/// A warehouse that may ship some of the order.
#[derive(Debug)]
pub(crate) struct Source<'a> {
    pub warehouse: &'a WarehouseId,
    pub tariff: Tariff<'a>,
    /// Whether it is in the buyer's province.
    pub local: bool,
    /// Whether it holds units of the order's merchant's own (not only consigned ones).
    pub own: bool,
    /// Its place in the caller's list of warehouses (a fixed priority order); warehouses
    /// not on record come after every listed one.
    pub priority: usize,
}

/// Units of one line one source holds for the order, and whose they are.
#[derive(Debug, Clone)]
struct Cell<'a> {
    /// The sum of the slices'.
    available: u32,
    /// The merchant's own units first, then consigned ones by transfer price.
    slices: Vec<Slice<'a>>,
}

/// One owner's units in a cell, and the transfer price when they are consigned.
#[derive(Debug, Clone, Copy)]
struct Slice<'a> {
    owner: &'a MerchantId,
    available: u32,
    transfer_price: Option<Money>,
}

#[derive(Debug)]
pub(crate) struct Problem<'a> {
    /// Heaviest first (the searches place them first).
    pub lines: Vec<Line>,
    /// Most preferred first, for equal costs: holding the merchant's own units, then in
    /// the buyer's province, then by the tie rule.
    pub sources: Vec<Source<'a>>,
    cells: Vec<Cell<'a>>,
    pub handling: Fen,
    pub split_penalty: Fen,
}

impl<'a> Problem<'a> {
    /// The problem of planning `order` from `stock` (every owner's levels of its SKUs; only
    /// those it [`may_sell`] under `grants` count), or the first SKU (by id) the warehouses
    /// that serve the buyer cannot cover.
    pub fn new(
        order: &Order,
        stock: &'a BTreeMap<Sku, Vec<StockLevel>>,
        warehouses: &'a [Warehouse],
        model: &'a CostModel,
        grants: &[Consignment],
        ties: Ties,
    ) -> Result<Self, Shortage> {
        let wanted = order.units_by_sku();
        let address = &order.shipping_address;
        let place = geo::locate(address);
        let province = place.map(|p| p.province).or_else(|| address.province.as_deref().and_then(geo::canonical_province));
        let is_local = |w: &Warehouse| {
            province.is_some_and(|p| w.province.eq_ignore_ascii_case(p))
                || address.province.as_deref().is_some_and(|p| w.province.eq_ignore_ascii_case(p))
        };
        let serves = |w: &Warehouse| w.serves.is_empty() || province.is_some_and(|p| w.serves.iter().any(|s| s == p));

        // Every warehouse holding sellable units of a wanted SKU that serves the buyer.
        let mut sources: Vec<Source<'a>> = Vec::new();
        let mut ranks: Vec<u64> = Vec::new();
        for level in wanted.keys().filter_map(|sku| stock.get(sku)).flatten() {
            if level.available == 0
                || may_sell(order, level, grants).is_none()
                || sources.iter().any(|s| s.warehouse == &level.warehouse)
            {
                continue;
            }
            let record = warehouses.iter().position(|w| w.warehouse_id == level.warehouse);
            let known = record.map(|i| &warehouses[i]);
            if known.is_some_and(|w| !serves(w)) {
                continue;
            }
            let distance = super::cost::distance_km(place, known);
            let own = wanted
                .keys()
                .filter_map(|sku| stock.get(sku))
                .flatten()
                .any(|l| l.warehouse == level.warehouse && l.owner == order.merchant_id && l.available > 0);
            sources.push(Source {
                warehouse: &level.warehouse,
                tariff: model.tariff(distance),
                local: known.is_some_and(is_local),
                own,
                priority: record.unwrap_or(warehouses.len()),
            });
            ranks.push(ties.rank(order, &level.warehouse));
        }
        let mut order_of: Vec<usize> = (0..sources.len()).collect();
        order_of.sort_by_key(|&i| (!sources[i].own, !sources[i].local, ranks[i], sources[i].warehouse));
        let mut slots: Vec<Option<Source<'a>>> = sources.into_iter().map(Some).collect();
        let sources: Vec<Source<'a>> = order_of.iter().filter_map(|&i| slots[i].take()).collect();

        let mut lines = Vec::with_capacity(wanted.len());
        let mut cells = Vec::with_capacity(wanted.len() * sources.len());
        for (sku, units) in wanted {
            let levels = stock.get(&sku).map(Vec::as_slice).unwrap_or_default();
            let mut total: u64 = 0;
            for source in &sources {
                let mut slices: Vec<(Option<Money>, Slice<'a>)> = levels
                    .iter()
                    .filter(|l| &l.warehouse == source.warehouse && l.available > 0)
                    .filter_map(|l| {
                        let transfer_price = match may_sell(order, l, grants)? {
                            Right::Own => None,
                            Right::Consigned(grant) => Some(grant.terms.transfer_price),
                        };
                        Some((transfer_price, Slice { owner: &l.owner, available: l.available, transfer_price }))
                    })
                    .collect();
                // Own units (no price) first, then the cheapest consigned, then by owner.
                slices.sort_by(|(a, x), (b, y)| (a.is_some(), a, x.owner).cmp(&(b.is_some(), b, y.owner)));
                let slices: Vec<Slice<'a>> = slices.into_iter().map(|(_, slice)| slice).collect();
                let cell = Cell { available: slices.iter().map(|s| s.available).fold(0_u32, u32::saturating_add), slices };
                total += u64::from(cell.available);
                cells.push(cell);
            }
            if total < u64::from(units) {
                return Err(Shortage::Stock { sku, wanted: units, available: total });
            }
            lines.push(Line { unit_weight_g: u64::from(model.unit_weight_g(&sku)), sku, units });
        }
        // Heaviest lines first; cells follow their lines.
        let n = sources.len();
        let mut by_weight: Vec<usize> = (0..lines.len()).collect();
        by_weight.sort_by_key(|&i| std::cmp::Reverse(u64::from(lines[i].units) * lines[i].unit_weight_g));
        let cells = by_weight.iter().flat_map(|&i| cells[i * n..(i + 1) * n].iter().cloned()).collect();
        let mut slots: Vec<Option<Line>> = lines.into_iter().map(Some).collect();
        let lines = by_weight.iter().filter_map(|&i| slots[i].take()).collect();
        Ok(Problem { lines, sources, cells, handling: model.handling, split_penalty: model.split_penalty })
    }

    /// Units of `line` that `source` holds for the order.
    pub fn available(&self, line: usize, source: usize) -> u32 {
        self.cells[line * self.sources.len() + source].available
    }

    /// What shipping `weight_g` from `source` costs, handling included.
    pub fn shipment_cost(&self, source: usize, weight_g: u64) -> Fen {
        self.handling + self.sources[source].tariff.price(u32::try_from(weight_g).unwrap_or(u32::MAX))
    }

    /// The cost of a plan and its number of shipments.
    pub fn cost(&self, takes: &[Take]) -> (Fen, u32) {
        let mut load = vec![0_u64; self.sources.len()];
        let mut ships = vec![false; self.sources.len()];
        for t in takes {
            load[t.source] += u64::from(t.units) * self.lines[t.line].unit_weight_g;
            ships[t.source] = true;
        }
        let shipments = ships.iter().filter(|s| **s).count() as u32;
        let cost = (0..self.sources.len()).filter(|&s| ships[s]).map(|s| self.shipment_cost(s, load[s])).sum::<Fen>()
            + Fen::from(shipments.saturating_sub(1)) * self.split_penalty;
        (cost, shipments)
    }

    /// Every source that holds every line whole, most preferred first.
    pub fn whole_order_sources(&self) -> Vec<usize> {
        (0..self.sources.len()).filter(|&s| (0..self.lines.len()).all(|l| self.available(l, s) >= self.lines[l].units)).collect()
    }

    /// The plan shipping everything from `source`.
    pub fn single(&self, source: usize) -> Vec<Take> {
        (0..self.lines.len()).map(|line| Take { line, source, units: self.lines[line].units }).collect()
    }

    /// The plan as allocated lines, by SKU then warehouse; a take of units of several
    /// owners is one line per owner, the merchant's own units first.
    pub fn allocated_lines(&self, takes: &[Take]) -> Vec<AllocatedLine> {
        let mut lines: Vec<AllocatedLine> = Vec::with_capacity(takes.len());
        for t in takes.iter().filter(|t| t.units > 0) {
            let mut left = t.units;
            for slice in &self.cells[t.line * self.sources.len() + t.source].slices {
                if left == 0 {
                    break;
                }
                let units = left.min(slice.available);
                left -= units;
                lines.push(AllocatedLine {
                    warehouse: self.sources[t.source].warehouse.clone(),
                    owner: slice.owner.clone(),
                    sku: self.lines[t.line].sku.clone(),
                    quantity: units,
                    transfer_price: slice.transfer_price,
                });
            }
        }
        // Stable: a take's own units stay before its consigned ones.
        lines.sort_by(|a, b| (&a.sku, &a.warehouse).cmp(&(&b.sku, &b.warehouse)));
        lines
    }

    /// The warehouses a plan ships from, most preferred first.
    pub fn warehouses_of(&self, takes: &[Take]) -> Vec<usize> {
        let mut used: Vec<usize> = takes.iter().map(|t| t.source).collect();
        used.sort_unstable();
        used.dedup();
        used
    }
}
