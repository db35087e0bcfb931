//! Reconciliation: for every stock (SKU, warehouse, owner), its figures agree with each
//! other, with the open holds, and with the sums of its ledger. Run by `oms reconcile`
//! and by the scheduled `reconcile-stock` function, over the ports alone.
//!
//! What must hold, per stock:
//! - on hand = available + held (DynamoDB keeps `available` as an attribute of its own);
//! - held = the units of the open order holds + the units flash sales and group buys set aside
//!   (`set_aside`);
//! - the ledger's on-hand deltas sum to on hand, its held deltas to held, and its
//!   `set_aside` entries (with the `release` entries of closed flash sales and settled group
//!   buys) to `set_aside`;
//! - per hold of an order, the held deltas of its entries (other than `set_aside`) sum to
//!   what the hold holds now (nothing, once given back).
//!
//! The figures are read stock by stock, not at one instant: run against a store under load,
//! a write landing between two reads shows as a drift that the next run no longer finds.

use std::collections::BTreeMap;
use std::fmt;

use crate::ledger::{HoldKind, HoldRef, LedgerEntry, LedgerKind, StockFigures};
use crate::ports::{Ports, StoreError, MAX_PAGE_SIZE};
use crate::{MerchantId, Sku, WarehouseId};

/// Most ledger entries a drift shows to explain itself (the newest).
pub const MAX_EXPLAINING_ENTRIES: usize = 20;

/// One stock: its SKU, warehouse and owner.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StockKey {
    pub sku: Sku,
    pub warehouse: WarehouseId,
    pub owner: MerchantId,
}

impl fmt::Display for StockKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {} (owner {})", self.sku, self.warehouse, self.owner)
    }
}

/// One disagreement found, with the ledger entries that bear on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub stock: StockKey,
    /// What disagrees, with both figures ("held 5 but the ledger sums to 3").
    pub problem: String,
    /// The entries that explain it: the hold's entries for a hold's drift, else the
    /// stock's newest (at most `MAX_EXPLAINING_ENTRIES`), oldest first.
    pub entries: Vec<LedgerEntry>,
}

/// What a reconciliation read and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub skus: usize,
    pub stocks: usize,
    pub open_holds: usize,
    pub entries: usize,
    pub drifts: Vec<Drift>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.drifts.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "reconciled {} stocks of {} SKUs: {} open holds, {} ledger entries, {} drifts",
            self.stocks,
            self.skus,
            self.open_holds,
            self.entries,
            self.drifts.len()
        )?;
        for drift in &self.drifts {
            writeln!(f, "DRIFT {}: {}", drift.stock, drift.problem)?;
            for e in &drift.entries {
                let hold = e.hold.as_ref().map(|h| format!(" {h}")).unwrap_or_default();
                writeln!(
                    f,
                    "    {} {} {:<9} on_hand {:+} held {:+}{} {}",
                    e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    e.entry_id,
                    e.kind.as_str(),
                    e.delta_on_hand,
                    e.delta_held,
                    hold,
                    e.reason
                )?;
            }
        }
        Ok(())
    }
}

/// Every entry of the SKU's ledger, oldest first, page by page.
pub async fn whole_ledger(ports: &Ports, sku: &Sku) -> Result<Vec<LedgerEntry>, StoreError> {
    let mut entries = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = ports.inventory.ledger(sku, None, after.as_deref(), MAX_PAGE_SIZE).await?;
        entries.extend(page.entries);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(entries),
        }
    }
}

/// Checks every stock the store holds (see the module's doc).
pub async fn reconcile(ports: &Ports) -> Result<Report, StoreError> {
    reconcile_with(ports, &|_| ()).await
}

/// How far a reconciliation is, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconcileStep {
    /// The figures and holds are read: this many SKUs' ledgers are to be read and checked.
    Skus(usize),
    /// One more SKU is checked.
    SkuChecked,
}

/// [`reconcile`], telling `progress` how far it is.
pub async fn reconcile_with(ports: &Ports, progress: &(dyn Fn(ReconcileStep) + Sync)) -> Result<Report, StoreError> {
    let figures = ports.inventory.stock_figures().await?;
    let holds = ports.inventory.open_holds().await?;
    let mut report = Report { open_holds: holds.len(), ..Report::default() };

    // Per SKU, its stocks (by warehouse and owner): their figures and open holds.
    type PerStock = BTreeMap<(WarehouseId, MerchantId), (Option<StockFigures>, BTreeMap<HoldRef, i64>)>;
    let mut skus: BTreeMap<Sku, PerStock> = BTreeMap::new();
    for f in figures {
        let slot = skus.entry(f.sku.clone()).or_default().entry((f.warehouse.clone(), f.owner.clone())).or_default();
        slot.0 = Some(f);
    }
    for h in holds {
        let slot = skus.entry(h.sku).or_default().entry((h.warehouse, h.owner)).or_default();
        *slot.1.entry(h.hold).or_insert(0) += i64::from(h.quantity);
    }
    report.skus = skus.len();
    progress(ReconcileStep::Skus(skus.len()));

    for (sku, mut stocks) in skus {
        let ledger = whole_ledger(ports, &sku).await?;
        report.entries += ledger.len();
        let mut by_stock: BTreeMap<(WarehouseId, MerchantId), Vec<LedgerEntry>> = BTreeMap::new();
        for e in ledger {
            let at = (e.warehouse.clone(), e.owner.clone());
            stocks.entry(at.clone()).or_default();
            by_stock.entry(at).or_default().push(e);
        }
        for ((warehouse, owner), (figures, open)) in stocks {
            report.stocks += 1;
            let entries = by_stock.remove(&(warehouse.clone(), owner.clone())).unwrap_or_default();
            let key = StockKey { sku: sku.clone(), warehouse, owner };
            check_stock(&mut report.drifts, &key, figures.as_ref(), &open, &entries);
        }
        progress(ReconcileStep::SkuChecked);
    }
    if !report.drifts.is_empty() {
        tracing::warn!(drifts = report.drifts.len(), stocks = report.stocks, "stock drift found");
    } else {
        tracing::info!(stocks = report.stocks, entries = report.entries, "stock reconciled: no drift");
    }
    Ok(report)
}

fn newest(entries: &[LedgerEntry]) -> Vec<LedgerEntry> {
    entries[entries.len().saturating_sub(MAX_EXPLAINING_ENTRIES)..].to_vec()
}

fn check_stock(
    drifts: &mut Vec<Drift>,
    key: &StockKey,
    figures: Option<&StockFigures>,
    open: &BTreeMap<HoldRef, i64>,
    entries: &[LedgerEntry],
) {
    let mut drift = |problem: String, explaining: Vec<LedgerEntry>| {
        drifts.push(Drift { stock: key.clone(), problem, entries: explaining });
    };
    let ledger_on_hand: i64 = entries.iter().map(|e| e.delta_on_hand).sum();
    let ledger_held: i64 = entries.iter().map(|e| e.delta_held).sum();
    let ledger_set_aside: i64 = entries.iter().filter(|e| e.moves_set_aside()).map(|e| e.delta_held).sum();
    let open_held: i64 = open.values().sum();
    let Some(f) = figures else {
        drift(
            format!("no stock record, but the ledger sums to on hand {ledger_on_hand}, held {ledger_held} and {open_held} units are held"),
            newest(entries),
        );
        return;
    };
    if f.on_hand != f.available + f.held {
        drift(format!("on hand {} is not available {} + held {}", f.on_hand, f.available, f.held), newest(entries));
    }
    if f.held != open_held + f.set_aside {
        drift(format!("held {} is not the open holds' {} + set aside {}", f.held, open_held, f.set_aside), newest(entries));
    }
    if f.on_hand != ledger_on_hand {
        drift(format!("on hand {} but the ledger sums to {}", f.on_hand, ledger_on_hand), newest(entries));
    }
    if f.held != ledger_held {
        drift(format!("held {} but the ledger sums to {}", f.held, ledger_held), newest(entries));
    }
    if f.set_aside != ledger_set_aside {
        drift(
            format!("set aside {} but the ledger's set_aside entries sum to {}", f.set_aside, ledger_set_aside),
            newest(entries),
        );
    }
    // Each order hold's entries against what it holds now.
    let mut balances: BTreeMap<&HoldRef, i64> = BTreeMap::new();
    for e in entries {
        if let Some(hold) = e.hold.as_ref().filter(|h| h.kind == HoldKind::Order && e.kind != LedgerKind::SetAside) {
            *balances.entry(hold).or_insert(0) += e.delta_held;
        }
    }
    for hold in open.keys() {
        balances.entry(hold).or_insert(0);
    }
    for (hold, balance) in balances {
        let now = open.get(hold).copied().unwrap_or(0);
        if balance != now {
            let of_hold: Vec<LedgerEntry> = entries.iter().filter(|e| e.hold.as_ref() == Some(hold)).cloned().collect();
            drift(format!("hold {hold} holds {now} but its ledger entries sum to {balance}"), of_hold);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::LedgerLine;
    use crate::order::AllocatedLine;
    use crate::OrderId;

    fn key() -> StockKey {
        StockKey {
            sku: Sku::parse("SKU-1").unwrap(),
            warehouse: WarehouseId::parse("wh-1").unwrap(),
            owner: MerchantId::parse("m-1").unwrap(),
        }
    }

    fn figures(on_hand: i64, held: i64, set_aside: i64) -> StockFigures {
        let k = key();
        StockFigures { warehouse: k.warehouse, owner: k.owner, sku: k.sku, on_hand, held, available: on_hand - held, set_aside }
    }

    fn entry(line: LedgerLine) -> LedgerEntry {
        line.stamp(crate::ledger::new_entry_id(), chrono::Utc::now())
    }

    fn line(q: u32) -> AllocatedLine {
        let k = key();
        AllocatedLine { warehouse: k.warehouse, owner: k.owner, sku: k.sku, quantity: q, transfer_price: None }
    }

    #[test]
    fn figures_explained_by_their_ledger_and_holds_are_no_drift() {
        let k = key();
        let order = OrderId::parse("ord_1").unwrap();
        let entries = vec![
            entry(LedgerLine::recount(&k.warehouse, &k.owner, &k.sku, 0, 10, "counted")),
            entry(LedgerLine::reserve(&order, &line(3))),
            entry(LedgerLine::adjust(&k.warehouse, &k.owner, &k.sku, -2, "damaged")),
        ];
        let open = BTreeMap::from([(HoldRef::order(&order), 3)]);
        let mut drifts = Vec::new();
        check_stock(&mut drifts, &k, Some(&figures(8, 3, 0)), &open, &entries);
        assert_eq!(drifts, vec![]);
    }

    #[test]
    fn a_hold_released_without_its_entry_is_a_drift_explained_by_the_holds_entries() {
        let k = key();
        let order = OrderId::parse("ord_1").unwrap();
        let entries = vec![
            entry(LedgerLine::recount(&k.warehouse, &k.owner, &k.sku, 0, 10, "counted")),
            entry(LedgerLine::reserve(&order, &line(3))),
        ];
        let mut drifts = Vec::new();
        // The hold is gone and held is 0, but no release entry was written.
        check_stock(&mut drifts, &k, Some(&figures(10, 0, 0)), &BTreeMap::new(), &entries);
        let problems: Vec<&str> = drifts.iter().map(|d| d.problem.as_str()).collect();
        assert_eq!(problems, ["held 0 but the ledger sums to 3", "hold order:ord_1 holds 0 but its ledger entries sum to 3"]);
        assert_eq!(drifts[1].entries.len(), 1);
        assert_eq!(drifts[1].entries[0].kind, LedgerKind::Reserve);
    }

    #[test]
    fn on_hand_apart_from_available_plus_held_is_a_drift() {
        let mut f = figures(10, 2, 0);
        f.available = 9;
        let k = key();
        let entries = vec![entry(LedgerLine::recount(&k.warehouse, &k.owner, &k.sku, 0, 10, "counted"))];
        let mut drifts = Vec::new();
        check_stock(&mut drifts, &k, Some(&f), &BTreeMap::new(), &entries);
        assert!(drifts.iter().any(|d| d.problem == "on hand 10 is not available 9 + held 2"), "{drifts:?}");
    }

    #[test]
    fn set_aside_units_are_held_by_the_sale_until_a_claims_order_takes_them() {
        let k = key();
        let order = OrderId::parse("ord_1").unwrap();
        let mut entries = vec![
            entry(LedgerLine::recount(&k.warehouse, &k.owner, &k.sku, 0, 10, "counted")),
            entry(LedgerLine::set_aside("fs_1", &line(4))),
        ];
        entries.extend(LedgerLine::from_set_aside(&order, &line(1)).map(entry));
        let open = BTreeMap::from([(HoldRef::order(&order), 1)]);
        let mut drifts = Vec::new();
        check_stock(&mut drifts, &k, Some(&figures(10, 4, 3)), &open, &entries);
        assert_eq!(drifts, vec![]);
    }

    #[test]
    fn a_closed_sales_release_takes_its_units_out_of_the_set_aside() {
        let k = key();
        let order = OrderId::parse("ord_1").unwrap();
        let mut entries = vec![
            entry(LedgerLine::recount(&k.warehouse, &k.owner, &k.sku, 0, 10, "counted")),
            entry(LedgerLine::set_aside("fs_1", &line(4))),
        ];
        entries.extend(LedgerLine::from_set_aside(&order, &line(1)).map(entry));
        entries.push(entry(LedgerLine::sale_release("fs_1", &line(3))));
        let open = BTreeMap::from([(HoldRef::order(&order), 1)]);
        let mut drifts = Vec::new();
        check_stock(&mut drifts, &k, Some(&figures(10, 1, 0)), &open, &entries);
        assert_eq!(drifts, vec![]);
        // Still counted as set aside: the figures and the ledger disagree.
        let mut drifts = Vec::new();
        check_stock(&mut drifts, &k, Some(&figures(10, 4, 3)), &open, &entries);
        assert!(!drifts.is_empty());
    }
}
