//! Report templates: what each report staff read holds, as tables and chart series. No
//! rendering here (`oms report` writes them as CSV, XLSX, SVG charts and HTML).
//!
//! - `sales`: orders, units and revenue per currency (money in two currencies is never
//!   summed), by channel, province, SKU and day.
//! - `inventory`: every stock (SKU, warehouse, owner): on hand, reserved, available; zero
//!   and low stock first. A snapshot of now: the period does not apply.
//! - `logistics`: planned shipping cost per order, overall and per province; shipments of
//!   the period's orders by carrier and status; the split rate.
//! - `performance`: stage times (received -> reserved -> shipped -> delivered), median
//!   and p90; fill, backorder, split and cancel rates.
//!
//! A [`Collector`] takes the period's orders one at a time (a year of them streams
//! through it) and their shipments, then [`Collector::finish`] builds the documents.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::analytics::{Analytics, Dimension, Report, Stage};
use crate::ledger::StockFigures;
use crate::order::{Order, OrderStatus};
use crate::shipment::Shipment;
use crate::MerchantId;

/// A stock with at most this many units available (and more than none) is `low`.
pub const LOW_STOCK_UNITS: i64 = 10;
/// Bars in the inventory chart (the lowest stocks).
pub const CHART_BARS: usize = 20;

/// The reports there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Template {
    Sales,
    Inventory,
    Logistics,
    Performance,
}

impl Template {
    pub const ALL: [Template; 4] = [Template::Sales, Template::Inventory, Template::Logistics, Template::Performance];

    pub fn as_str(self) -> &'static str {
        match self {
            Template::Sales => "sales",
            Template::Inventory => "inventory",
            Template::Logistics => "logistics",
            Template::Performance => "performance",
        }
    }

    /// The template called `name`, or `all` for every one.
    pub fn parse_many(name: &str) -> Option<Vec<Template>> {
        if name == "all" {
            return Some(Template::ALL.to_vec());
        }
        Template::ALL.into_iter().find(|t| t.as_str() == name).map(|t| vec![t])
    }

    fn title(self) -> &'static str {
        match self {
            Template::Sales => "Sales",
            Template::Inventory => "Inventory",
            Template::Logistics => "Logistics",
            Template::Performance => "Performance",
        }
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// Money or another exact decimal.
    Decimal(Decimal),
    /// A share (0 to 1) or another measured ratio.
    Ratio(f64),
    /// Nothing to show (a rate with no base, a stage no order went through).
    Empty,
}

impl Cell {
    pub fn text(value: impl Into<String>) -> Cell {
        Cell::Text(value.into())
    }

    fn count(value: u64) -> Cell {
        Cell::Int(i64::try_from(value).unwrap_or(i64::MAX))
    }

    fn ratio(value: Option<f64>) -> Cell {
        value.map_or(Cell::Empty, Cell::Ratio)
    }

    fn seconds(value: Option<i64>) -> Cell {
        value.map_or(Cell::Empty, Cell::Int)
    }
}

impl fmt::Display for Cell {
    /// As a CSV file or a page shows it: ratios to four places.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Text(text) => f.write_str(text),
            Cell::Int(n) => write!(f, "{n}"),
            Cell::Decimal(d) => write!(f, "{d}"),
            Cell::Ratio(r) => write!(f, "{r:.4}"),
            Cell::Empty => Ok(()),
        }
    }
}

/// One table: a file of its own in CSV, a sheet in XLSX.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// A file and sheet name: lowercase letters, digits and `_`.
    pub name: &'static str,
    pub title: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// How a chart draws its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// Grouped bars, one group per category.
    Bar,
    /// One line per series over the categories in order (days).
    Line,
}

/// One series of a chart: a value per category of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub values: Vec<f64>,
}

/// One chart (for display only: the tables carry the exact figures).
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub name: &'static str,
    pub title: String,
    pub kind: ChartKind,
    pub y_label: &'static str,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
}

/// One report, ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub template: Template,
    pub title: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub merchant: Option<MerchantId>,
    pub tables: Vec<Table>,
    pub charts: Vec<Chart>,
}

/// What the reports cover: orders placed in `[from, to)`, of one merchant or all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub merchant: Option<MerchantId>,
}

/// Takes the period's orders and their shipments, then builds the documents.
#[derive(Debug)]
pub struct Collector {
    query: ReportQuery,
    templates: Vec<Template>,
    /// By channel: the rows, and the stage times, rates and shipping cost of every order.
    overall: Analytics,
    /// By province, SKU and day (only for the sales report).
    sales: Option<[Analytics; 3]>,
    /// Shipments by (carrier, status).
    shipments: BTreeMap<(String, &'static str), u64>,
}

impl Collector {
    pub fn new(query: ReportQuery, templates: &[Template]) -> Collector {
        let (from, to) = (query.from, query.to);
        let sales = templates
            .contains(&Template::Sales)
            .then(|| [Dimension::Province, Dimension::Sku, Dimension::Day].map(|dimension| Analytics::new(from, to, dimension)));
        let mut templates = templates.to_vec();
        templates.sort();
        templates.dedup();
        Collector { overall: Analytics::new(from, to, Dimension::Channel), sales, shipments: BTreeMap::new(), query, templates }
    }

    /// Whether the logistics report wants `order`'s shipments (it is in the period and
    /// reached a shipping stage).
    pub fn wants_shipments_of(&self, order: &Order) -> bool {
        let shipping = [OrderStatus::Shipped, OrderStatus::PartiallyShipped, OrderStatus::InTransit, OrderStatus::Delivered];
        self.templates.contains(&Template::Logistics)
            && self.overall.covers(order.placed_at)
            && self.query.merchant.as_ref().is_none_or(|m| m == &order.merchant_id)
            && (shipping.contains(&order.status) || order.timeline.iter().any(|e| shipping.contains(&e.status)))
    }

    /// Counts `order` (ignored outside the period or of another merchant).
    pub fn add_order(&mut self, order: &Order) {
        if self.query.merchant.as_ref().is_some_and(|m| m != &order.merchant_id) {
            return;
        }
        self.overall.add(order);
        for analytics in self.sales.iter_mut().flatten() {
            analytics.add(order);
        }
    }

    /// Counts the shipments of an order `wants_shipments_of` named.
    pub fn add_shipments(&mut self, shipments: &[Shipment]) {
        for shipment in shipments {
            *self.shipments.entry((shipment.carrier.to_string(), shipment.status.as_str())).or_default() += 1;
        }
    }

    /// The documents of the templates asked for, in [`Template::ALL`]'s order; `stock` is
    /// every stock's figures (only the inventory report reads them).
    pub fn finish(self, stock: &[StockFigures]) -> Vec<Document> {
        let Collector { query, templates, overall, sales, shipments } = self;
        let overall = overall.report();
        let sales = sales.map(|reports| reports.map(Analytics::report));
        templates
            .iter()
            .map(|&template| {
                let (tables, charts) = match template {
                    Template::Sales => {
                        let empty = || Analytics::new(query.from, query.to, Dimension::Day).report();
                        let [province, sku, day] = sales.clone().unwrap_or_else(|| [empty(), empty(), empty()]);
                        sales_report(&overall, &province, &sku, &day)
                    }
                    Template::Inventory => inventory_report(stock, query.merchant.as_ref()),
                    Template::Logistics => logistics_report(&overall, &shipments),
                    Template::Performance => performance_report(&overall),
                };
                let scope = query.merchant.as_ref().map_or_else(|| "every merchant".to_owned(), |m| format!("merchant {m}"));
                let period = match template {
                    Template::Inventory => "stock as of now".to_owned(),
                    _ => format!("orders placed {} to {}", query.from.to_rfc3339(), query.to.to_rfc3339()),
                };
                Document {
                    template,
                    title: format!("{} report: {period}, {scope}", template.title()),
                    from: query.from,
                    to: query.to,
                    merchant: query.merchant.clone(),
                    tables,
                    charts,
                }
            })
            .collect()
    }
}

const TOTALS_COLUMNS: [&str; 5] = ["currency", "key", "orders", "units", "revenue"];

fn totals_rows(report: &Report) -> Vec<Vec<Cell>> {
    report
        .rows
        .iter()
        .map(|row| {
            vec![
                Cell::text(row.currency.code()),
                Cell::text(row.key.clone()),
                Cell::count(row.totals.orders),
                Cell::count(row.totals.units),
                Cell::Decimal(row.totals.revenue),
            ]
        })
        .collect()
}

fn grouped(name: &'static str, title: &str, dimension: &'static str, report: &Report) -> Table {
    let mut columns = TOTALS_COLUMNS.to_vec();
    columns[1] = dimension;
    Table { name, title: title.to_owned(), columns, rows: totals_rows(report) }
}

/// One series per currency of `report`'s revenue over `categories` (0 where a category
/// has none).
fn revenue_series(report: &Report, categories: &[String]) -> Vec<Series> {
    let mut by_currency: BTreeMap<&str, BTreeMap<&str, Decimal>> = BTreeMap::new();
    for row in &report.rows {
        by_currency.entry(row.currency.code()).or_default().insert(row.key.as_str(), row.totals.revenue);
    }
    by_currency
        .into_iter()
        .map(|(currency, revenue)| Series {
            label: currency.to_owned(),
            values: categories.iter().map(|c| revenue.get(c.as_str()).and_then(ToPrimitive::to_f64).unwrap_or(0.0)).collect(),
        })
        .collect()
}

fn sales_report(channel: &Report, province: &Report, sku: &Report, day: &Report) -> (Vec<Table>, Vec<Chart>) {
    // Per currency, over every channel: each order is in exactly one channel.
    let mut totals: BTreeMap<&str, (u64, u64, Decimal)> = BTreeMap::new();
    for row in &channel.rows {
        let entry = totals.entry(row.currency.code()).or_default();
        entry.0 += row.totals.orders;
        entry.1 += row.totals.units;
        entry.2 += row.totals.revenue;
    }
    let totals = Table {
        name: "totals",
        title: "Totals per currency".to_owned(),
        columns: vec!["currency", "orders", "units", "revenue"],
        rows: totals
            .into_iter()
            .map(|(currency, (orders, units, revenue))| {
                vec![Cell::text(currency), Cell::count(orders), Cell::count(units), Cell::Decimal(revenue)]
            })
            .collect(),
    };
    let mut by_day = day.clone();
    by_day.rows.sort_by(|a, b| a.key.cmp(&b.key).then(a.currency.code().cmp(b.currency.code())));
    let mut days: Vec<String> = by_day.rows.iter().map(|r| r.key.clone()).collect();
    days.dedup();
    let mut channels: Vec<String> = channel.rows.iter().map(|r| r.key.clone()).collect();
    channels.sort();
    channels.dedup();
    let tables = vec![
        totals,
        grouped("by_channel", "By channel", "channel", channel),
        grouped("by_province", "By province", "province", province),
        grouped("by_sku", "By SKU", "sku", sku),
        grouped("by_day", "By day", "day", &by_day),
    ];
    let charts = vec![
        Chart {
            name: "revenue_by_day",
            title: "Revenue by day, per currency".to_owned(),
            kind: ChartKind::Line,
            y_label: "revenue",
            series: revenue_series(day, &days),
            categories: days,
        },
        Chart {
            name: "revenue_by_channel",
            title: "Revenue by channel, per currency".to_owned(),
            kind: ChartKind::Bar,
            y_label: "revenue",
            series: revenue_series(channel, &channels),
            categories: channels,
        },
    ];
    (tables, charts)
}

fn inventory_report(stock: &[StockFigures], merchant: Option<&MerchantId>) -> (Vec<Table>, Vec<Chart>) {
    let mut stock: Vec<&StockFigures> = stock.iter().filter(|s| merchant.is_none_or(|m| m == &s.owner)).collect();
    stock.sort_by(|a, b| {
        a.available.cmp(&b.available).then_with(|| (&a.sku, &a.warehouse, &a.owner).cmp(&(&b.sku, &b.warehouse, &b.owner)))
    });
    let state = |available: i64| match available {
        ..=0 => "zero",
        1..=LOW_STOCK_UNITS => "low",
        _ => "ok",
    };
    let rows = stock
        .iter()
        .map(|s| {
            vec![
                Cell::text(s.sku.to_string()),
                Cell::text(s.warehouse.to_string()),
                Cell::text(s.owner.to_string()),
                Cell::Int(s.on_hand),
                Cell::Int(s.held),
                Cell::Int(s.available),
                Cell::text(state(s.available)),
            ]
        })
        .collect();
    let table = Table {
        name: "stock",
        title: format!("Stock, lowest available first (low: {LOW_STOCK_UNITS} units or fewer)"),
        columns: vec!["sku", "warehouse", "owner", "on_hand", "reserved", "available", "state"],
        rows,
    };
    let lowest = &stock[..stock.len().min(CHART_BARS)];
    let chart = Chart {
        name: "lowest_available",
        title: format!("The {} lowest stocks: units available and reserved", lowest.len()),
        kind: ChartKind::Bar,
        y_label: "units",
        categories: lowest.iter().map(|s| format!("{} @ {}", s.sku, s.warehouse)).collect(),
        series: vec![
            Series { label: "available".to_owned(), values: lowest.iter().map(|s| s.available as f64).collect() },
            Series { label: "reserved".to_owned(), values: lowest.iter().map(|s| s.held as f64).collect() },
        ],
    };
    (vec![table], vec![chart])
}

fn logistics_report(overall: &Report, shipments: &BTreeMap<(String, &'static str), u64>) -> (Vec<Table>, Vec<Chart>) {
    let cost = Table {
        name: "shipping_cost",
        title: "Planned shipping cost per order, overall (all) and per province".to_owned(),
        columns: vec!["province", "orders", "total", "per_order"],
        rows: overall
            .shipping_cost
            .iter()
            .map(|c| vec![Cell::text(c.key.clone()), Cell::count(c.orders), Cell::Decimal(c.total), Cell::Decimal(c.per_order)])
            .collect(),
    };
    let by_carrier = Table {
        name: "shipments",
        title: "Shipments of the period's orders by carrier and status".to_owned(),
        columns: vec!["carrier", "status", "shipments"],
        rows: shipments
            .iter()
            .map(|((carrier, status), n)| vec![Cell::text(carrier.clone()), Cell::text(*status), Cell::count(*n)])
            .collect(),
    };
    let split = Table {
        name: "split",
        title: "Orders planned from more than one warehouse".to_owned(),
        columns: vec!["allocated_orders", "split_rate"],
        rows: vec![vec![Cell::count(overall.rates.allocated), Cell::ratio(overall.rates.split_rate)]],
    };
    let provinces: Vec<_> = overall.shipping_cost.iter().filter(|c| c.key != "all").collect();
    let carriers: Vec<String> = {
        let mut carriers: Vec<String> = shipments.keys().map(|(c, _)| c.clone()).collect();
        carriers.dedup();
        carriers
    };
    let statuses: Vec<&str> = crate::shipment::ShipmentStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .filter(|s| shipments.keys().any(|(_, status)| status == s))
        .collect();
    let charts = vec![
        Chart {
            name: "shipping_cost_by_province",
            title: "Planned shipping cost per order by province".to_owned(),
            kind: ChartKind::Bar,
            y_label: "cost per order",
            categories: provinces.iter().map(|c| c.key.clone()).collect(),
            series: vec![Series {
                label: "per order".to_owned(),
                values: provinces.iter().map(|c| c.per_order.to_f64().unwrap_or(0.0)).collect(),
            }],
        },
        Chart {
            name: "shipments_by_carrier",
            title: "Shipments by carrier and status".to_owned(),
            kind: ChartKind::Bar,
            y_label: "shipments",
            series: statuses
                .iter()
                .map(|status| Series {
                    label: (*status).to_owned(),
                    values: carriers.iter().map(|c| shipments.get(&(c.clone(), *status)).copied().unwrap_or(0) as f64).collect(),
                })
                .collect(),
            categories: carriers,
        },
    ];
    (vec![cost, by_carrier, split], charts)
}

fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::ReceivedToReserved => "received_to_reserved",
        Stage::ReservedToShipped => "reserved_to_shipped",
        Stage::ShippedToDelivered => "shipped_to_delivered",
        Stage::ReceivedToDelivered => "received_to_delivered",
    }
}

fn hours(seconds: Option<i64>) -> f64 {
    seconds.map_or(0.0, |s| s as f64 / 3600.0)
}

fn performance_report(overall: &Report) -> (Vec<Table>, Vec<Chart>) {
    let stages = Table {
        name: "stage_times",
        title: "Time from one stage to the next (seconds)".to_owned(),
        columns: vec!["stage", "orders", "median_seconds", "p90_seconds"],
        rows: overall
            .stages
            .iter()
            .map(|s| {
                vec![
                    Cell::text(stage_name(s.stage)),
                    Cell::count(s.orders),
                    Cell::seconds(s.median_seconds),
                    Cell::seconds(s.p90_seconds),
                ]
            })
            .collect(),
    };
    let r = &overall.rates;
    let rates = Table {
        name: "rates",
        title: "Fill, backorder, split and cancel rates".to_owned(),
        columns: vec!["orders", "allocated", "fill_rate", "backorder_rate", "split_rate", "cancel_rate"],
        rows: vec![vec![
            Cell::count(r.orders),
            Cell::count(r.allocated),
            Cell::ratio(r.fill_rate),
            Cell::ratio(r.backorder_rate),
            Cell::ratio(r.split_rate),
            Cell::ratio(r.cancel_rate),
        ]],
    };
    let chart = Chart {
        name: "stage_times",
        title: "Stage times, median and p90 (hours)".to_owned(),
        kind: ChartKind::Bar,
        y_label: "hours",
        categories: overall.stages.iter().map(|s| stage_name(s.stage).to_owned()).collect(),
        series: vec![
            Series { label: "median".to_owned(), values: overall.stages.iter().map(|s| hours(s.median_seconds)).collect() },
            Series { label: "p90".to_owned(), values: overall.stages.iter().map(|s| hours(s.p90_seconds)).collect() },
        ],
    };
    (vec![stages, rates], vec![chart])
}

#[cfg(test)]
mod tests;
