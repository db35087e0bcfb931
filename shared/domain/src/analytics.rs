//! Sales and fulfilment analytics over the orders placed in a period: orders, units and
//! revenue by a dimension (channel, province, city, SKU, merchant, day, the order's
//! current status), always per currency (money in two currencies is never summed); how
//! long orders take from one stage to the next (median and p90); fill, backorder, split
//! and cancel rates; and the planned shipping cost per order and per province.
//!
//! [`Analytics`] takes the orders one at a time, so a store can stream a year of them
//! through it without holding them all.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::order::{Order, OrderStatus};
use crate::Currency;

/// What the orders are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Channel,
    Province,
    City,
    Sku,
    Merchant,
    Day,
    /// The order's current status (the staff dashboard's counts).
    Status,
}

impl Dimension {
    pub const ALL: [Dimension; 7] = [
        Dimension::Channel,
        Dimension::Province,
        Dimension::City,
        Dimension::Sku,
        Dimension::Merchant,
        Dimension::Day,
        Dimension::Status,
    ];

    pub fn parse(name: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Channel => "channel",
            Dimension::Province => "province",
            Dimension::City => "city",
            Dimension::Sku => "sku",
            Dimension::Merchant => "merchant",
            Dimension::Day => "day",
            Dimension::Status => "status",
        }
    }
}

/// The stages an order's time is measured between, by its timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    ReceivedToReserved,
    ReservedToShipped,
    ShippedToDelivered,
    ReceivedToDelivered,
}

impl Stage {
    pub const ALL: [Stage; 4] =
        [Stage::ReceivedToReserved, Stage::ReservedToShipped, Stage::ShippedToDelivered, Stage::ReceivedToDelivered];

    fn ends(self) -> (OrderStatus, OrderStatus) {
        match self {
            Stage::ReceivedToReserved => (OrderStatus::Received, OrderStatus::Reserved),
            Stage::ReservedToShipped => (OrderStatus::Reserved, OrderStatus::Shipped),
            Stage::ShippedToDelivered => (OrderStatus::Shipped, OrderStatus::Delivered),
            Stage::ReceivedToDelivered => (OrderStatus::Received, OrderStatus::Delivered),
        }
    }
}

/// One group's totals in one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub orders: u64,
    pub units: u64,
    /// Lines' quantity times unit price (charges such as shipping are not in it).
    #[serde(with = "rust_decimal::serde::str")]
    pub revenue: Decimal,
}

/// One row of the grouped totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub key: String,
    pub currency: Currency,
    #[serde(flatten)]
    pub totals: Totals,
}

/// How long one stage took over the orders that went through it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageTimes {
    pub stage: Stage,
    pub orders: u64,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
}

/// The share of orders that went each way, over the orders that were allocated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rates {
    /// Orders in the period.
    pub orders: u64,
    /// Of them, allocated at least once (the base of the rates below).
    pub allocated: u64,
    /// Reserved without ever being backordered.
    pub fill_rate: Option<f64>,
    pub backorder_rate: Option<f64>,
    /// Planned from more than one warehouse.
    pub split_rate: Option<f64>,
    /// Cancelled, over every order in the period.
    pub cancel_rate: Option<f64>,
}

/// Planned shipping cost (the allocation's costed plan, in the rate tables' money).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShippingCost {
    pub key: String,
    pub orders: u64,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub per_order: Decimal,
}

/// Everything one pass over the period's orders tells.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by: Dimension,
    pub rows: Vec<Row>,
    pub stages: Vec<StageTimes>,
    pub rates: Rates,
    /// All orders first (key `all`), then per province.
    pub shipping_cost: Vec<ShippingCost>,
}

/// The running totals of one report; feed it every order placed in `[from, to)`.
#[derive(Debug, Clone)]
pub struct Analytics {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    by: Dimension,
    groups: HashMap<(String, Currency), Totals>,
    stages: [Vec<i64>; 4],
    orders: u64,
    allocated: u64,
    filled: u64,
    backordered: u64,
    split: u64,
    cancelled: u64,
    shipping: BTreeMap<String, (u64, Decimal)>,
}

impl Analytics {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, by: Dimension) -> Analytics {
        Analytics {
            from,
            to,
            by,
            groups: HashMap::new(),
            stages: Default::default(),
            orders: 0,
            allocated: 0,
            filled: 0,
            backordered: 0,
            split: 0,
            cancelled: 0,
            shipping: BTreeMap::new(),
        }
    }

    /// Whether `placed_at` falls in the report's period.
    pub fn covers(&self, placed_at: DateTime<Utc>) -> bool {
        self.from <= placed_at && placed_at < self.to
    }

    /// Counts `order` (ignored when placed outside the period).
    pub fn add(&mut self, order: &Order) {
        if !self.covers(order.placed_at) {
            return;
        }
        self.orders += 1;
        self.add_to_groups(order);
        let first = |status: OrderStatus| order.timeline.iter().find(|e| e.status == status).map(|e| e.at);
        for (times, stage) in self.stages.iter_mut().zip(Stage::ALL) {
            let (start, end) = stage.ends();
            let start = if start == OrderStatus::Received { Some(order.placed_at).max(first(start)) } else { first(start) };
            if let (Some(start), Some(end)) = (start, first(end)) {
                times.push((end - start).num_seconds().max(0));
            }
        }
        let ever = |status: OrderStatus| order.status == status || order.timeline.iter().any(|e| e.status == status);
        if order.allocation.is_some() || ever(OrderStatus::Allocated) || ever(OrderStatus::Backordered) {
            self.allocated += 1;
            let backordered = ever(OrderStatus::Backordered);
            self.backordered += u64::from(backordered);
            self.filled += u64::from(!backordered && ever(OrderStatus::Reserved));
        }
        if order.status == OrderStatus::Cancelled {
            self.cancelled += 1;
        }
        if let Some(allocation) = &order.allocation {
            let mut warehouses: Vec<_> = allocation.lines.iter().map(|l| &l.warehouse).collect();
            warehouses.sort();
            warehouses.dedup();
            self.split += u64::from(warehouses.len() > 1);
            if let Some(costing) = &allocation.costing {
                let province = order.shipping_address.province.clone().unwrap_or_default();
                for key in ["all".to_owned(), province] {
                    let entry = self.shipping.entry(key).or_default();
                    entry.0 += 1;
                    entry.1 += costing.chosen.cost;
                }
            }
        }
    }

    fn add_to_groups(&mut self, order: &Order) {
        let key = |dimension: Dimension| match dimension {
            Dimension::Channel => order.channel.to_string(),
            Dimension::Province => order.shipping_address.province.clone().unwrap_or_default(),
            Dimension::City => order.shipping_address.city.clone(),
            Dimension::Merchant => order.merchant_id.to_string(),
            Dimension::Day => order.placed_at.date_naive().to_string(),
            Dimension::Status => order.status.as_str().to_owned(),
            Dimension::Sku => String::new(),
        };
        if self.by == Dimension::Sku {
            let mut seen: Vec<&str> = Vec::new();
            for line in &order.lines {
                let totals = self.groups.entry((line.sku.to_string(), order.currency)).or_default();
                if !seen.contains(&line.sku.as_str()) {
                    totals.orders += 1;
                    seen.push(line.sku.as_str());
                }
                totals.units += u64::from(line.quantity);
                totals.revenue += line.unit_price * Decimal::from(line.quantity);
            }
        } else {
            let totals = self.groups.entry((key(self.by), order.currency)).or_default();
            totals.orders += 1;
            for line in &order.lines {
                totals.units += u64::from(line.quantity);
                totals.revenue += line.unit_price * Decimal::from(line.quantity);
            }
        }
    }

    /// The report: rows by revenue (highest first) within each currency.
    pub fn report(self) -> Report {
        let mut rows: Vec<Row> = self.groups.into_iter().map(|((key, currency), totals)| Row { key, currency, totals }).collect();
        rows.sort_by(|a, b| {
            a.currency.code().cmp(b.currency.code()).then(b.totals.revenue.cmp(&a.totals.revenue)).then(a.key.cmp(&b.key))
        });
        let stages = self
            .stages
            .into_iter()
            .zip(Stage::ALL)
            .map(|(mut times, stage)| {
                times.sort_unstable();
                StageTimes {
                    stage,
                    orders: times.len() as u64,
                    median_seconds: percentile(&times, 50),
                    p90_seconds: percentile(&times, 90),
                }
            })
            .collect();
        let share = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
        let rates = Rates {
            orders: self.orders,
            allocated: self.allocated,
            fill_rate: share(self.filled, self.allocated),
            backorder_rate: share(self.backordered, self.allocated),
            split_rate: share(self.split, self.allocated),
            cancel_rate: share(self.cancelled, self.orders),
        };
        let mut shipping_cost: Vec<ShippingCost> = self
            .shipping
            .into_iter()
            .map(|(key, (orders, total))| ShippingCost {
                key,
                orders,
                total,
                per_order: (total / Decimal::from(orders.max(1))).round_dp(2),
            })
            .collect();
        shipping_cost.sort_by_key(|c| (c.key != "all", c.key.clone()));
        Report { from: self.from, to: self.to, by: self.by, rows, stages, rates, shipping_cost }
    }
}

/// The nearest-rank percentile of sorted `values`.
fn percentile(sorted: &[i64], percent: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::tests::sample_new_order;
    use crate::OrderId;
    use chrono::{Duration, TimeZone as _};

    fn sample_order(at: DateTime<Utc>) -> Order {
        let mut new = sample_new_order("SKU-1", 2);
        new.placed_at = at;
        Order::receive(new, OrderId::generate(), at)
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&values, 50), Some(5));
        assert_eq!(percentile(&values, 90), Some(9));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn money_in_two_currencies_is_never_summed_and_orders_outside_the_period_are_left_out() {
        let from = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let mut analytics = Analytics::new(from, to, Dimension::Province);
        let cny = sample_order(from);
        let mut usd = cny.clone();
        usd.currency = Currency::parse("USD").unwrap();
        let mut late = cny.clone();
        late.placed_at = to;
        for order in [&cny, &usd, &late] {
            analytics.add(order);
        }
        let report = analytics.report();
        assert_eq!(report.rates.orders, 2);
        assert_eq!(report.rows.len(), 2, "{:?}", report.rows);
        assert!(report.rows.iter().all(|row| row.totals.orders == 1));
        assert_ne!(report.rows[0].currency, report.rows[1].currency);
    }

    #[test]
    fn stage_times_and_rates_follow_the_timelines() {
        let from = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let mut analytics = Analytics::new(from, from + Duration::days(30), Dimension::Sku);
        for minutes in [1, 2, 10] {
            let mut order = sample_order(from);
            order.transition(OrderStatus::Allocated, from + Duration::seconds(30), "planned").unwrap();
            order.transition(OrderStatus::Reserved, from + Duration::minutes(minutes), "held").unwrap();
            analytics.add(&order);
        }
        let mut short = sample_order(from);
        short.transition(OrderStatus::Backordered, from + Duration::seconds(5), "short").unwrap();
        analytics.add(&short);
        let report = analytics.report();
        let reserving = &report.stages[0];
        assert_eq!((reserving.orders, reserving.median_seconds, reserving.p90_seconds), (3, Some(120), Some(600)));
        assert_eq!(report.rates.allocated, 4);
        assert_eq!(report.rates.fill_rate, Some(0.75));
        assert_eq!(report.rates.backorder_rate, Some(0.25));
        assert_eq!(report.rows.len(), 1);
        assert_eq!((report.rows[0].totals.orders, report.rows[0].totals.units), (4, 8));
        assert_eq!(report.rows[0].totals.revenue, Decimal::new(15920, 2));
    }

    #[test]
    fn by_status_each_order_counts_once_under_its_current_status_per_currency() {
        let from = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let mut analytics = Analytics::new(from, from + Duration::days(30), Dimension::Status);
        let mut reserved = sample_order(from);
        reserved.transition(OrderStatus::Allocated, from + Duration::seconds(30), "planned").unwrap();
        reserved.transition(OrderStatus::Reserved, from + Duration::minutes(1), "held").unwrap();
        let received = sample_order(from);
        let mut received_usd = sample_order(from);
        received_usd.currency = Currency::parse("USD").unwrap();
        for order in [&reserved, &received, &received_usd] {
            analytics.add(order);
        }
        let report = analytics.report();
        let rows: Vec<(&str, &str, u64)> =
            report.rows.iter().map(|row| (row.key.as_str(), row.currency.code(), row.totals.orders)).collect();
        assert_eq!(rows, [("received", "CNY", 1), ("reserved", "CNY", 1), ("received", "USD", 1)]);
        assert_eq!(Dimension::parse("status"), Some(Dimension::Status));
    }
}
