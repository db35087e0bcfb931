//! Demand forecasts and reorder points for replenishment.
//!
//! A SKU's daily units sold in a warehouse are forecast by methods fit for e-commerce
//! demand, compared on the held-out last days, and the better one kept per SKU:
//! - Holt-Winters (additive level, trend and weekly season), for steady sellers;
//! - Croston's method and its Syntetos-Boylan correction (SBA), for slow, intermittent
//!   sellers with many zero days, where smoothing the raw series under-forecasts.
//!
//! Each method's smoothing constants are chosen on the training days; the methods are
//! compared by the RMSE of their forecasts of the held-out days, made from the training
//! days alone, and the winner is refitted on every day for the forecast ahead. The
//! reorder point covers the lead time's demand plus safety stock from that error.

use serde::Serialize;

/// The forecasting methods compared per SKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    HoltWinters,
    Croston,
    Sba,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::HoltWinters, Method::Croston, Method::Sba];
}

/// The days of the weekly season.
pub const SEASON: usize = 7;

/// A forecast of daily demand with the evidence for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    pub method: Method,
    /// Expected units per day over the days ahead (the mean of the next `SEASON` days).
    pub daily: f64,
    /// The RMSE per day of this method's forecast of the held-out days.
    pub error: f64,
    /// Every method tried, with its held-out RMSE.
    pub compared: Vec<(Method, f64)>,
}

/// Forecasts the days after `history` (units sold per day, oldest first), holding out
/// the last `holdout` days to choose the method. `None` when there are fewer than two
/// seasons of training days (too little to fit a season or to compare honestly).
pub fn forecast(history: &[f64], holdout: usize) -> Option<Forecast> {
    let holdout = holdout.max(1);
    if history.len() < holdout + 2 * SEASON {
        return None;
    }
    let (train, test) = history.split_at(history.len() - holdout);
    let compared: Vec<(Method, f64)> = Method::ALL
        .iter()
        .map(|&method| {
            let ahead = fit(method, train).ahead(test.len());
            (method, rmse(&ahead, test))
        })
        .collect();
    let &(method, error) = compared.iter().min_by(|a, b| a.1.total_cmp(&b.1))?;
    let ahead = fit(method, history).ahead(SEASON);
    let daily = (ahead.iter().sum::<f64>() / SEASON as f64).max(0.0);
    Some(Forecast { method, daily, error, compared })
}

/// A fitted method, able to forecast the days after its history.
enum Fitted {
    HoltWinters {
        level: f64,
        trend: f64,
        season: [f64; SEASON],
        next: usize,
    },
    /// Croston and SBA forecast one flat rate.
    Flat(f64),
}

impl Fitted {
    fn ahead(&self, days: usize) -> Vec<f64> {
        match self {
            Fitted::HoltWinters { level, trend, season, next } => {
                (1..=days).map(|h| (level + trend * h as f64 + season[(next + h - 1) % SEASON]).max(0.0)).collect()
            }
            Fitted::Flat(rate) => vec![*rate; days],
        }
    }
}

const GRID: [f64; 4] = [0.05, 0.1, 0.2, 0.4];

/// Fits `method` to `days`, its constants chosen by one-step-ahead squared error.
fn fit(method: Method, days: &[f64]) -> Fitted {
    match method {
        Method::HoltWinters => {
            let mut best: Option<(f64, Fitted)> = None;
            for alpha in GRID {
                for beta in [0.01, 0.05, 0.1] {
                    for gamma in [0.05, 0.1, 0.3] {
                        let (sse, fitted) = holt_winters(days, alpha, beta, gamma);
                        if best.as_ref().is_none_or(|(b, _)| sse < *b) {
                            best = Some((sse, fitted));
                        }
                    }
                }
            }
            best.map_or(Fitted::Flat(0.0), |(_, fitted)| fitted)
        }
        Method::Croston | Method::Sba => {
            let correct = method == Method::Sba;
            let best = GRID
                .iter()
                .map(|&alpha| croston(days, alpha, correct))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map_or(0.0, |(_, rate)| rate);
            Fitted::Flat(best)
        }
    }
}

/// Additive Holt-Winters with a weekly season, started from the first two weeks: the
/// one-step-ahead squared error over the rest, and the state after the last day.
fn holt_winters(days: &[f64], alpha: f64, beta: f64, gamma: f64) -> (f64, Fitted) {
    let first = mean(&days[..SEASON]);
    let second = mean(&days[SEASON..2 * SEASON]);
    let mut level = first;
    let mut trend = (second - first) / SEASON as f64;
    let mut season = [0.0; SEASON];
    for (i, slot) in season.iter_mut().enumerate() {
        *slot = (days[i] + days[i + SEASON]) / 2.0 - (first + second) / 2.0;
    }
    let mut sse = 0.0;
    for (t, &actual) in days.iter().enumerate().skip(SEASON) {
        let s = season[t % SEASON];
        let predicted = level + trend + s;
        sse += (actual - predicted).powi(2);
        let previous = level;
        level = alpha * (actual - s) + (1.0 - alpha) * (level + trend);
        trend = beta * (level - previous) + (1.0 - beta) * trend;
        season[t % SEASON] = gamma * (actual - level) + (1.0 - gamma) * s;
    }
    (sse, Fitted::HoltWinters { level, trend, season, next: days.len() % SEASON })
}

/// Croston's method (with the SBA factor `1 - alpha/2` when `correct`): the
/// one-step-ahead squared error and the rate per day after the last day.
fn croston(days: &[f64], alpha: f64, correct: bool) -> (f64, f64) {
    let factor = if correct { 1.0 - alpha / 2.0 } else { 1.0 };
    let Some(first) = days.iter().position(|&d| d > 0.0) else {
        return (0.0, 0.0);
    };
    let mut size = days[first];
    let mut interval = (first + 1) as f64;
    let mut since = 0.0;
    let mut sse = 0.0;
    for &actual in &days[first + 1..] {
        let rate = factor * size / interval;
        sse += (actual - rate).powi(2);
        since += 1.0;
        if actual > 0.0 {
            size = alpha * actual + (1.0 - alpha) * size;
            interval = alpha * since + (1.0 - alpha) * interval;
            since = 0.0;
        }
    }
    (sse, factor * size / interval)
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

fn rmse(predicted: &[f64], actual: &[f64]) -> f64 {
    let n = actual.len().max(1) as f64;
    (predicted.iter().zip(actual).map(|(p, a)| (p - a).powi(2)).sum::<f64>() / n).sqrt()
}

/// How a SKU is replenished: the supplier's lead time, how often stock is reviewed, the
/// service level's z (1.65 for 95 % of lead times without a stock-out), pack and minimum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReorderPolicy {
    pub lead_time_days: u32,
    pub review_days: u32,
    pub service_z: f64,
    pub pack_size: u32,
    pub min_order: u32,
}

/// When to reorder and how much.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reorder {
    /// Units on hand and incoming at or below which to order.
    pub reorder_point: u32,
    /// Safety stock inside the reorder point.
    pub safety_stock: u32,
    /// Units to order now (0 when above the reorder point), in whole packs, at least the minimum.
    pub quantity: u32,
}

/// The reorder point for `forecast` under `policy`, and what to order when `position`
/// (available plus incoming units) is at or below it: enough to cover the lead time and
/// the review period, plus safety stock, less the position.
pub fn reorder(forecast: &Forecast, policy: &ReorderPolicy, position: u32) -> Reorder {
    let lead = f64::from(policy.lead_time_days);
    let cover = lead + f64::from(policy.review_days);
    let safety = policy.service_z * forecast.error * lead.sqrt();
    let reorder_point = (forecast.daily * lead + safety).ceil();
    let quantity = if f64::from(position) <= reorder_point {
        let wanted = (forecast.daily * cover + safety - f64::from(position)).ceil().max(0.0);
        let pack = f64::from(policy.pack_size.max(1));
        let packs = (wanted.max(f64::from(policy.min_order)) / pack).ceil();
        to_units(packs * pack)
    } else {
        0
    };
    Reorder { reorder_point: to_units(reorder_point), safety_stock: to_units(safety.ceil()), quantity }
}

fn to_units(value: f64) -> u32 {
    if value.is_finite() && value > 0.0 {
        // Saturates at u32::MAX by the cast's definition.
        value as u32
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A steady seller with a weekend peak and a slow rise.
    fn seasonal(days: usize) -> Vec<f64> {
        (0..days).map(|d| 20.0 + 0.05 * d as f64 + if d % SEASON >= 5 { 12.0 } else { 0.0 }).collect()
    }

    /// A slow seller: 3 units every fifth day, nothing between.
    fn intermittent(days: usize) -> Vec<f64> {
        (0..days).map(|d| if d % 5 == 4 { 3.0 } else { 0.0 }).collect()
    }

    #[test]
    fn a_seasonal_seller_is_forecast_by_holt_winters() {
        let forecast = forecast(&seasonal(120), 28).expect("enough days");
        assert_eq!(forecast.method, Method::HoltWinters, "{forecast:?}");
        let week_ahead_mean = (120..127).map(|d| seasonal(130)[d]).sum::<f64>() / 7.0;
        assert!((forecast.daily - week_ahead_mean).abs() < 1.0, "{forecast:?} vs {week_ahead_mean}");
        assert_eq!(forecast.compared.len(), 3);
    }

    #[test]
    fn an_intermittent_seller_is_forecast_at_its_rate() {
        let forecast = forecast(&intermittent(120), 28).expect("enough days");
        assert!(matches!(forecast.method, Method::Croston | Method::Sba), "{forecast:?}");
        assert!((forecast.daily - 0.6).abs() < 0.1, "3 units every 5 days is 0.6 a day: {forecast:?}");
    }

    #[test]
    fn too_short_a_history_has_no_forecast() {
        assert!(forecast(&seasonal(30), 28).is_none());
    }

    #[test]
    fn stock_above_the_reorder_point_orders_nothing_and_below_it_orders_whole_packs() {
        let forecast = Forecast { method: Method::Sba, daily: 10.0, error: 2.0, compared: vec![] };
        let policy = ReorderPolicy { lead_time_days: 4, review_days: 7, service_z: 1.65, pack_size: 12, min_order: 24 };
        // Lead-time demand 40, safety 1.65 * 2 * 2 = 6.6: the reorder point is 47.
        let above = reorder(&forecast, &policy, 48);
        assert_eq!((above.reorder_point, above.safety_stock, above.quantity), (47, 7, 0));
        // Cover 11 days: 110 + 6.6 - 30 = 86.6 -> 87 -> 8 packs of 12.
        let below = reorder(&forecast, &policy, 30);
        assert_eq!(below.quantity, 96);
        // The minimum order wins over a small need.
        let small = reorder(&Forecast { daily: 0.5, error: 0.0, ..forecast }, &policy, 0);
        assert_eq!(small.quantity, 24);
    }
}
