//! Replenishment: per SKU and warehouse of a merchant, the reorder point and what to order,
//! how much and from which supplier, with the forecast and its error.
//!
//! - **Demand** is the merchant's sales history ([`crate::sales`]): units of the SKU per
//!   day placed, over the last [`HISTORY_DAYS`]. It is forecast per SKU
//!   ([`crate::forecast`]: Holt-Winters, Croston and SBA compared on the held-out last
//!   [`HOLDOUT_DAYS`], the better kept) and shared among the merchant's warehouses by the
//!   units each reserved of it in the stock ledger over the last [`SHARE_DAYS`] (evenly
//!   when the ledger has none), so each warehouse's reorder point covers its own part.
//! - **Supplier**: of the merchant's suppliers of the SKU, the one with the shortest lead
//!   time (then the lowest unit cost, then the id); its pack size and minimum order shape
//!   the quantity. Without one, no lead time is known: nothing is suggested to order.
//! - **Position** is the warehouse's available units plus the units open purchase orders
//!   still bring to it. At or below the reorder point the stock is *low*.
//! - **By hand**: a SKU's catalogue facts may set `reorder_point` (and `reorder_quantity`)
//!   for each of its warehouses; they take the forecast's place.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::forecast::{self, Forecast, Method, Reorder, ReorderPolicy};
use crate::sales::Sale;
use crate::supply::Supplier;
use crate::{MerchantId, Sku, SupplierId, WarehouseId};

/// Days of sales history a forecast reads.
pub const HISTORY_DAYS: i64 = 84;
/// The last days held out to compare the forecasting methods.
pub const HOLDOUT_DAYS: usize = 14;
/// Days of ledger reservations that share a SKU's demand among warehouses.
pub const SHARE_DAYS: i64 = 28;
/// How often stock is reviewed: an order covers the lead time and this much more.
pub const REVIEW_DAYS: u32 = 7;
/// The service level's z: 1.65 keeps 95 % of lead times free of a stock-out.
pub const SERVICE_Z: f64 = 1.65;

/// Units of one SKU sold per day over the `days` days up to `until` (oldest first), from
/// `sales` (any order; other SKUs' lines ignored), starting on the day of its first sale
/// in that window: a SKU first sold ten days ago has ten days of history, not `days` days
/// of zeros before them, and a SKU never sold has none.
pub fn daily_units(sales: &[Sale], sku: &Sku, until: DateTime<Utc>, days: i64) -> Vec<f64> {
    let last = until.date_naive();
    let first = last - Duration::days(days - 1);
    let mut series = vec![0.0; usize::try_from(days).unwrap_or(0)];
    for sale in sales {
        let day = sale.placed_at.date_naive();
        if day < first || day > last {
            continue;
        }
        let index = usize::try_from((day - first).num_days()).unwrap_or(0);
        let units: u32 = sale.lines.iter().filter(|line| &line.sku == sku).map(|line| line.quantity).sum();
        series[index] += f64::from(units);
    }
    let first_sale = series.iter().position(|&units| units > 0.0).unwrap_or(series.len());
    series.split_off(first_sale)
}

/// Each warehouse's share of a SKU's demand: its part of `reserved` (units reserved per
/// warehouse), or an even share of `warehouses` when nothing was reserved.
pub fn shares(warehouses: &[WarehouseId], reserved: &BTreeMap<WarehouseId, u64>) -> BTreeMap<WarehouseId, f64> {
    let total: u64 = warehouses.iter().map(|w| reserved.get(w).copied().unwrap_or(0)).sum();
    warehouses
        .iter()
        .map(|w| {
            let share = if total == 0 {
                1.0 / warehouses.len().max(1) as f64
            } else {
                reserved.get(w).copied().unwrap_or(0) as f64 / total as f64
            };
            (w.clone(), share)
        })
        .collect()
}

/// The supplier a SKU is ordered from: the shortest lead time, then the lowest unit cost
/// (an unknown cost last), then the id.
pub fn best_supplier<'a>(suppliers: &'a [Supplier], sku: &Sku) -> Option<&'a Supplier> {
    suppliers.iter().filter(|s| s.supplies(sku)).min_by(|a, b| {
        let cost = |s: &Supplier| s.skus.iter().find(|x| &x.sku == sku).and_then(|x| x.unit_cost);
        (a.lead_time_days, cost(a).is_none(), cost(a), &a.supplier_id).cmp(&(
            b.lead_time_days,
            cost(b).is_none(),
            cost(b),
            &b.supplier_id,
        ))
    })
}

/// A reorder point and quantity set by hand in the SKU's catalogue facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManualThreshold {
    pub reorder_point: u32,
    /// Units to order when low (default: enough to reach twice the reorder point).
    pub reorder_quantity: Option<u32>,
}

/// The supplier a suggestion orders from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupplierChoice {
    pub supplier_id: SupplierId,
    pub name: String,
    pub lead_time_days: u32,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub unit_cost: Option<rust_decimal::Decimal>,
}

/// The forecast behind a suggestion: the SKU's whole daily demand, and this warehouse's
/// share of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemandForecast {
    pub method: Method,
    /// The SKU's expected units per day, every warehouse together.
    pub daily: f64,
    /// The RMSE per day of the chosen method on the held-out days.
    pub error: f64,
    /// Every method tried, with its held-out RMSE.
    pub compared: Vec<MethodError>,
    /// This warehouse's part of the demand (0 to 1).
    pub share: f64,
    /// Days of history read, and of them held out.
    pub history_days: i64,
    pub holdout_days: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodError {
    pub method: Method,
    pub error: f64,
}

/// Where a suggestion's reorder point comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The demand forecast and the supplier's lead time.
    Forecast,
    /// A threshold set by hand in the catalogue.
    Manual,
    /// Too little history to forecast (fewer than two weeks besides the held-out days)
    /// and no threshold by hand: no reorder point.
    TooLittleHistory,
    /// No supplier of the SKU: no lead time, nothing to order from.
    NoSupplier,
}

/// One stock's replenishment: `GET /replenishment`'s item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub warehouse: WarehouseId,
    pub sku: Sku,
    pub merchant_id: MerchantId,
    pub on_hand: u32,
    pub available: u32,
    /// Units open purchase orders still bring to this warehouse.
    pub incoming: u32,
    /// `available + incoming`: what the reorder point is compared with.
    pub position: u32,
    pub basis: Basis,
    pub reorder_point: Option<u32>,
    pub safety_stock: Option<u32>,
    /// At or below the reorder point.
    pub low: bool,
    /// Units to order now (0 when not low), in the supplier's packs, at least its minimum.
    pub order_quantity: u32,
    pub supplier: Option<SupplierChoice>,
    pub forecast: Option<DemandForecast>,
    /// Why, in a sentence.
    pub reason: String,
}

/// What one stock's suggestion is made of.
#[derive(Debug, Clone)]
pub struct StockToReview<'a> {
    pub warehouse: WarehouseId,
    pub sku: Sku,
    pub merchant_id: MerchantId,
    pub on_hand: u32,
    pub available: u32,
    pub incoming: u32,
    /// The SKU's forecast (every warehouse together), if the history allows one.
    pub forecast: Option<&'a Forecast>,
    /// This warehouse's share of the demand.
    pub share: f64,
    pub supplier: Option<&'a Supplier>,
    pub manual: Option<ManualThreshold>,
}

/// The forecast of a SKU's daily demand from its daily units (see [`daily_units`]).
pub fn forecast_demand(daily: &[f64]) -> Option<Forecast> {
    forecast::forecast(daily, HOLDOUT_DAYS)
}

/// The suggestion for one stock.
pub fn suggest(stock: StockToReview<'_>) -> Suggestion {
    let position = stock.available.saturating_add(stock.incoming);
    let supplier = stock.supplier.map(|s| SupplierChoice {
        supplier_id: s.supplier_id.clone(),
        name: s.name.clone(),
        lead_time_days: s.lead_time_days,
        unit_cost: s.skus.iter().find(|x| x.sku == stock.sku).and_then(|x| x.unit_cost),
    });
    let terms = stock.supplier.and_then(|s| s.skus.iter().find(|x| x.sku == stock.sku));
    let pack_size = terms.and_then(|t| t.pack_size).unwrap_or(1);
    let min_order = terms.and_then(|t| t.min_order).unwrap_or(0);
    let forecast = stock.forecast.map(|f| DemandForecast {
        method: f.method,
        daily: f.daily,
        error: f.error,
        compared: f.compared.iter().map(|&(method, error)| MethodError { method, error }).collect(),
        share: stock.share,
        history_days: HISTORY_DAYS,
        holdout_days: HOLDOUT_DAYS,
    });
    let base = Suggestion {
        warehouse: stock.warehouse.clone(),
        sku: stock.sku.clone(),
        merchant_id: stock.merchant_id.clone(),
        on_hand: stock.on_hand,
        available: stock.available,
        incoming: stock.incoming,
        position,
        basis: Basis::NoSupplier,
        reorder_point: None,
        safety_stock: None,
        low: false,
        order_quantity: 0,
        supplier,
        forecast,
        reason: String::new(),
    };
    if let Some(manual) = stock.manual {
        let low = position <= manual.reorder_point;
        let wanted = manual.reorder_quantity.unwrap_or_else(|| manual.reorder_point.saturating_mul(2).saturating_sub(position));
        let order_quantity = if low { in_packs(wanted, pack_size, min_order) } else { 0 };
        let reason = if low {
            format!("{position} available and incoming is at or below the reorder point {} set by hand", manual.reorder_point)
        } else {
            format!("{position} available and incoming is above the reorder point {} set by hand", manual.reorder_point)
        };
        return Suggestion {
            basis: Basis::Manual,
            reorder_point: Some(manual.reorder_point),
            low,
            order_quantity,
            reason,
            ..base
        };
    }
    let Some(supplier) = stock.supplier else {
        return Suggestion { reason: format!("no supplier of {} is known, so no lead time to cover", stock.sku), ..base };
    };
    let Some(whole) = stock.forecast else {
        return Suggestion {
            basis: Basis::TooLittleHistory,
            reason: format!(
                "too little sales history to forecast (at least {} days with sales on either side of the first are needed)",
                HOLDOUT_DAYS + 2 * forecast::SEASON
            ),
            ..base
        };
    };
    let mine = Forecast { daily: whole.daily * stock.share, error: whole.error * stock.share, ..whole.clone() };
    let policy = ReorderPolicy {
        lead_time_days: supplier.lead_time_days,
        review_days: REVIEW_DAYS,
        service_z: SERVICE_Z,
        pack_size,
        min_order,
    };
    let Reorder { reorder_point, safety_stock, quantity } = forecast::reorder(&mine, &policy, position);
    let low = position <= reorder_point;
    let reason = format!(
        "{:.2} units a day here ({:.0} % of {:.2}, {} with held-out error {:.2}) over a {}-day lead time from {} plus \
         {safety_stock} safety stock: reorder at {reorder_point}; {position} available and incoming {}",
        mine.daily,
        stock.share * 100.0,
        whole.daily,
        method_name(whole.method),
        whole.error,
        supplier.lead_time_days,
        supplier.name,
        if low { "is at or below it" } else { "is above it" },
    );
    Suggestion {
        basis: Basis::Forecast,
        reorder_point: Some(reorder_point),
        safety_stock: Some(safety_stock),
        low,
        order_quantity: if low { quantity } else { 0 },
        reason,
        ..base
    }
}

fn method_name(method: Method) -> &'static str {
    match method {
        Method::HoltWinters => "Holt-Winters",
        Method::Croston => "Croston",
        Method::Sba => "SBA",
    }
}

/// `wanted` units in whole packs of `pack`, at least `min_order`.
fn in_packs(wanted: u32, pack: u32, min_order: u32) -> u32 {
    let pack = pack.max(1);
    wanted.max(min_order).div_ceil(pack).saturating_mul(pack)
}

/// The first day of the history a forecast made at `now` reads.
pub fn history_start(now: DateTime<Utc>) -> NaiveDate {
    now.date_naive() - Duration::days(HISTORY_DAYS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supply::SuppliedSku;
    use chrono::TimeZone as _;
    use rust_decimal::Decimal;

    fn sku(raw: &str) -> Sku {
        Sku::parse(raw).unwrap()
    }
    fn wh(raw: &str) -> WarehouseId {
        WarehouseId::parse(raw).unwrap()
    }
    fn m() -> MerchantId {
        MerchantId::parse("m-1").unwrap()
    }

    fn supplier(id: &str, days: i64, cost: Option<&str>, pack: Option<u32>, min: Option<u32>) -> Supplier {
        let supplied = vec![SuppliedSku {
            sku: sku("TEA"),
            unit_cost: cost.map(|c| c.parse::<Decimal>().unwrap()),
            pack_size: pack,
            min_order: min,
        }];
        Supplier::new(SupplierId::parse(id).unwrap(), m(), id, days, supplied).unwrap()
    }

    fn stock<'a>(forecast: Option<&'a Forecast>, supplier: Option<&'a Supplier>, available: u32) -> StockToReview<'a> {
        StockToReview {
            warehouse: wh("WH-A"),
            sku: sku("TEA"),
            merchant_id: m(),
            on_hand: available + 2,
            available,
            incoming: 0,
            forecast,
            share: 0.5,
            supplier,
            manual: None,
        }
    }

    #[test]
    fn daily_units_count_the_skus_units_on_the_day_placed_within_the_window() {
        let until = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap();
        let sale = |day: u32, units: u32| crate::sales::Sale {
            merchant_id: m(),
            order_id: crate::OrderId::generate(),
            customer_id: crate::CustomerId::parse("c-1").unwrap(),
            placed_at: Utc.with_ymd_and_hms(2026, 3, day, 9, 0, 0).unwrap(),
            currency: crate::Currency::parse("CNY").unwrap(),
            province: String::new(),
            city: String::new(),
            address: String::new(),
            lines: vec![
                crate::sales::SaleLine { sku: sku("TEA"), quantity: units, unit_price: Decimal::ONE },
                crate::sales::SaleLine { sku: sku("CUP"), quantity: 100, unit_price: Decimal::ONE },
            ],
        };
        let series = daily_units(&[sale(10, 2), sale(10, 1), sale(8, 5), sale(1, 9)], &sku("TEA"), until, 3);
        assert_eq!(series, vec![5.0, 0.0, 3.0], "the 8th, 9th and 10th; the 1st is before the window");
        let late = daily_units(&[sale(10, 2)], &sku("TEA"), until, 84);
        assert_eq!(late, vec![2.0], "history starts at the first sale, so ten days of it are too little");
        assert!(daily_units(&[], &sku("TEA"), until, 84).is_empty(), "a SKU never sold has no history");
        assert!(forecast_demand(&late).is_none() && forecast_demand(&[]).is_none());
    }

    #[test]
    fn demand_is_shared_by_the_units_each_warehouse_reserved_else_evenly() {
        let both = [wh("WH-A"), wh("WH-B")];
        let reserved = BTreeMap::from([(wh("WH-A"), 30u64), (wh("WH-B"), 10)]);
        assert_eq!(shares(&both, &reserved), BTreeMap::from([(wh("WH-A"), 0.75), (wh("WH-B"), 0.25)]));
        assert_eq!(shares(&both, &BTreeMap::new()), BTreeMap::from([(wh("WH-A"), 0.5), (wh("WH-B"), 0.5)]));
    }

    #[test]
    fn the_supplier_is_the_quickest_then_the_cheapest() {
        let suppliers = vec![
            supplier("slow", 10, Some("1.00"), None, None),
            supplier("dear", 3, Some("9.00"), None, None),
            supplier("cheap", 3, Some("5.00"), None, None),
            supplier("unknown", 3, None, None, None),
        ];
        assert_eq!(best_supplier(&suppliers, &sku("TEA")).unwrap().supplier_id.as_str(), "cheap");
        assert!(best_supplier(&suppliers, &sku("CUP")).is_none());
    }

    #[test]
    fn a_forecast_stock_at_its_reorder_point_orders_cover_for_lead_time_and_review_in_packs() {
        let forecast = Forecast { method: Method::HoltWinters, daily: 10.0, error: 2.0, compared: vec![] };
        let supplier = supplier("s", 4, Some("3.00"), Some(12), Some(24));
        // This warehouse's share: 5 a day, error 1; lead 4 days: 20 + 1.65 * 1 * 2 = 23.3 -> 24.
        let low = suggest(stock(Some(&forecast), Some(&supplier), 20));
        assert_eq!((low.basis, low.reorder_point, low.safety_stock, low.low), (Basis::Forecast, Some(24), Some(4), true));
        // Cover 11 days: 55 + 3.3 - 20 = 38.3 -> 39, in packs of 12: 48.
        assert_eq!(low.order_quantity, 48);
        assert!(low.reason.contains("reorder at 24"), "{}", low.reason);
        let fine = suggest(stock(Some(&forecast), Some(&supplier), 25));
        assert_eq!((fine.low, fine.order_quantity), (false, 0));
    }

    #[test]
    fn without_a_supplier_or_history_nothing_is_ordered_and_a_hand_set_threshold_wins() {
        let forecast = Forecast { method: Method::Sba, daily: 1.0, error: 0.5, compared: vec![] };
        let none = suggest(stock(Some(&forecast), None, 0));
        assert_eq!((none.basis, none.low, none.order_quantity), (Basis::NoSupplier, false, 0));
        let supplier = supplier("s", 4, None, Some(10), None);
        let short = suggest(stock(None, Some(&supplier), 0));
        assert_eq!((short.basis, short.low, short.reorder_point), (Basis::TooLittleHistory, false, None));
        let mut by_hand = stock(None, Some(&supplier), 3);
        by_hand.manual = Some(ManualThreshold { reorder_point: 5, reorder_quantity: None });
        let manual = suggest(by_hand);
        // Up to twice the point: 10 - 3 = 7, in packs of 10.
        assert_eq!((manual.basis, manual.low, manual.order_quantity), (Basis::Manual, true, 10));
    }
}
