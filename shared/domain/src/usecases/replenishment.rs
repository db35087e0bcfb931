//! `GET /replenishment` and the low-stock check: what each of a merchant's stocks should
//! order (see [`crate::replenishment`] for how), and one `low_stock` alert per crossing of
//! a reorder point.
//!
//! The check runs with the reconciliation (hourly: `functions/reconcile-stock`, `oms
//! reconcile`) and in `oms serve`'s background sweep once an hour, so a crossing by sales
//! or by a recount is noticed within the hour; it raises an alert for a stock found low
//! that has no open (or acknowledged) low-stock alert, and resolves the open one of a stock
//! found above its point again. A stock that stays low keeps its one alert.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use crate::alert::{Alert, AlertKind, AlertStatus};
use crate::ledger::{entry_id_floor, HoldKind, LedgerKind};
use crate::ports::{MoveOutcome, Ports, RaiseOutcome, StoreError};
use crate::replenishment::{
    best_supplier, daily_units, forecast_demand, shares, suggest, ManualThreshold, StockToReview, Suggestion, HISTORY_DAYS,
    SHARE_DAYS,
};
use crate::sales::{Sale, SaleKey, MAX_SALES_PAGE};
use crate::supply::Supplier;
use crate::{AlertId, MerchantId, OrderId, Sku, WarehouseId};

/// Ledger entries read per page for the warehouses' shares.
const LEDGER_PAGE: usize = 500;
/// Alerts read per page when the check looks for open low-stock alerts.
const ALERT_PAGE: usize = 200;

/// What `GET /replenishment` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplenishmentQuery {
    pub merchant: MerchantId,
    /// One warehouse's stocks only.
    pub warehouse: Option<WarehouseId>,
    /// One SKU only (any SKU the merchant holds); without it, every SKU its suppliers supply.
    pub sku: Option<Sku>,
    /// Only the stocks at or below their reorder point.
    pub low_only: bool,
}

/// The suggestions for the query's stocks: low ones first, then by SKU and warehouse.
pub async fn suggestions(ports: &Ports, query: &ReplenishmentQuery) -> Result<Vec<Suggestion>, StoreError> {
    let suppliers = ports.supply.suppliers_of(&query.merchant).await?;
    let skus: BTreeSet<Sku> = match &query.sku {
        Some(sku) => BTreeSet::from([sku.clone()]),
        None => suppliers.iter().flat_map(|s| s.skus.iter().map(|x| x.sku.clone())).collect(),
    };
    let mut found = review(ports, &query.merchant, &suppliers, &skus).await?;
    found.retain(|s| query.warehouse.as_ref().is_none_or(|w| &s.warehouse == w) && (!query.low_only || s.low));
    found.sort_by(|a, b| (!a.low, &a.sku, &a.warehouse).cmp(&(!b.low, &b.sku, &b.warehouse)));
    Ok(found)
}

/// Every stock of `merchant` in `skus`, reviewed against the merchant's `suppliers`.
async fn review(
    ports: &Ports,
    merchant: &MerchantId,
    suppliers: &[Supplier],
    skus: &BTreeSet<Sku>,
) -> Result<Vec<Suggestion>, StoreError> {
    let now = ports.clock.now();
    let sales = sales_since(ports, merchant, now - Duration::days(HISTORY_DAYS)).await?;
    let mut found = Vec::new();
    for sku in skus {
        let levels: Vec<_> = ports.inventory.stock_of(sku).await?.into_iter().filter(|level| &level.owner == merchant).collect();
        if levels.is_empty() {
            continue;
        }
        let warehouses: Vec<WarehouseId> = levels.iter().map(|l| l.warehouse.clone()).collect();
        let reserved = reserved_by_warehouse(ports, sku, merchant, now - Duration::days(SHARE_DAYS)).await?;
        let shares = shares(&warehouses, &reserved);
        let mut incoming: BTreeMap<WarehouseId, u32> = BTreeMap::new();
        for coming in ports.supply.incoming(sku).await? {
            if &coming.merchant_id == merchant {
                let units = incoming.entry(coming.warehouse).or_default();
                *units = units.saturating_add(coming.units);
            }
        }
        let manual = ports.catalogue.get_sku(sku).await?.filter(|facts| &facts.merchant_id == merchant).and_then(|facts| {
            facts.reorder_point.map(|point| ManualThreshold { reorder_point: point, reorder_quantity: facts.reorder_quantity })
        });
        let forecast = forecast_demand(&daily_units(&sales, sku, now, HISTORY_DAYS));
        let supplier = best_supplier(suppliers, sku);
        for level in levels {
            found.push(suggest(StockToReview {
                share: shares.get(&level.warehouse).copied().unwrap_or(0.0),
                incoming: incoming.get(&level.warehouse).copied().unwrap_or(0),
                warehouse: level.warehouse,
                sku: sku.clone(),
                merchant_id: merchant.clone(),
                on_hand: level.on_hand,
                available: level.available,
                forecast: forecast.as_ref(),
                supplier,
                manual,
            }));
        }
    }
    Ok(found)
}

/// The merchant's sales placed since `since`, oldest first, read a page at a time from
/// that moment on (never the older history).
async fn sales_since(ports: &Ports, merchant: &MerchantId, since: DateTime<Utc>) -> Result<Vec<Sale>, StoreError> {
    let start = OrderId::parse("0").map_err(|e| StoreError::msg(e.to_string()))?;
    let mut after = Some(SaleKey { placed_at: since - Duration::microseconds(1), order_id: start });
    let mut sales = Vec::new();
    loop {
        let page = ports.sales.sales(merchant, after.as_ref(), MAX_SALES_PAGE).await?;
        sales.extend(page.sales);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(sales),
        }
    }
}

/// Units of `sku` the merchant's orders reserved per warehouse since `since`, from the
/// stock ledger's `reserve` entries of order holds.
async fn reserved_by_warehouse(
    ports: &Ports,
    sku: &Sku,
    merchant: &MerchantId,
    since: DateTime<Utc>,
) -> Result<BTreeMap<WarehouseId, u64>, StoreError> {
    let mut after = Some(entry_id_floor(since));
    let mut reserved: BTreeMap<WarehouseId, u64> = BTreeMap::new();
    loop {
        let page = ports.inventory.ledger(sku, Some(merchant), after.as_deref(), LEDGER_PAGE).await?;
        for entry in page.entries {
            let by_order = entry.hold.as_ref().is_some_and(|hold| hold.kind == HoldKind::Order);
            if entry.kind == LedgerKind::Reserve && by_order && entry.delta_held > 0 {
                *reserved.entry(entry.warehouse).or_default() += entry.delta_held.unsigned_abs();
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(reserved),
        }
    }
}

/// What one low-stock check did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LowStockReport {
    /// Stocks reviewed, and of them found low.
    pub checked: usize,
    pub low: usize,
    /// Alerts raised for stocks newly low, and resolved for stocks above their point again.
    pub raised: Vec<AlertId>,
    pub resolved: Vec<AlertId>,
}

/// The low-stock alerts' subject of a stock, before the `@` and the time it ran low.
fn stock_subject(suggestion: &Suggestion) -> String {
    format!("{}/{}", suggestion.warehouse, suggestion.sku)
}

/// Checks every stock (every owner's, read from the stores' figures) against its reorder
/// point: raises a `low_stock` alert for each stock found low with none open, resolves the
/// open one of each stock no longer low.
pub async fn check_low_stock(ports: &Ports) -> Result<LowStockReport, StoreError> {
    let mut by_owner: BTreeMap<MerchantId, BTreeSet<Sku>> = BTreeMap::new();
    for figures in ports.inventory.stock_figures().await? {
        by_owner.entry(figures.owner).or_default().insert(figures.sku);
    }
    let mut report = LowStockReport::default();
    for (merchant, skus) in by_owner {
        let suppliers = ports.supply.suppliers_of(&merchant).await?;
        let reviewed = review(ports, &merchant, &suppliers, &skus).await?;
        let mut open = open_low_stock_alerts(ports, &merchant).await?;
        let now = ports.clock.now();
        for suggestion in reviewed {
            report.checked += 1;
            let subject = stock_subject(&suggestion);
            let standing = open.remove(&subject);
            match (suggestion.low, standing) {
                (true, None) => {
                    report.low += 1;
                    let message = format!(
                        "{} in {} is low: {}{}",
                        suggestion.sku,
                        suggestion.warehouse,
                        suggestion.reason,
                        match &suggestion.supplier {
                            Some(s) if suggestion.order_quantity > 0 => {
                                format!("; order {} from {} ({})", suggestion.order_quantity, s.name, s.supplier_id)
                            }
                            _ => String::new(),
                        }
                    );
                    let subject = format!("{subject}@{}", now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
                    let alert = Alert::about(AlertKind::LowStock, subject, &merchant, message, now);
                    if ports.alerts.raise(&alert).await? == RaiseOutcome::Raised {
                        report.raised.push(alert.alert_id);
                    }
                }
                (true, Some(_)) => report.low += 1,
                (false, Some(alert)) => {
                    if let MoveOutcome::Moved(_) = ports.alerts.move_alert(&alert, AlertStatus::Resolved, now).await? {
                        report.resolved.push(alert);
                    }
                }
                (false, None) => {}
            }
        }
    }
    Ok(report)
}

/// The merchant's open and acknowledged low-stock alerts, by stock subject.
async fn open_low_stock_alerts(ports: &Ports, merchant: &MerchantId) -> Result<BTreeMap<String, AlertId>, StoreError> {
    let mut open = BTreeMap::new();
    for status in [AlertStatus::Open, AlertStatus::Acknowledged] {
        let mut after: Option<AlertId> = None;
        loop {
            let page = ports.alerts.list_alerts(status, Some(merchant), after.as_ref(), ALERT_PAGE).await?;
            for alert in page.alerts {
                if alert.kind == AlertKind::LowStock {
                    let stock = alert.subject.split('@').next().unwrap_or_default().to_owned();
                    open.insert(stock, alert.alert_id);
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    Ok(open)
}
