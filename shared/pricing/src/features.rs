//! From purchases to the numbers the models read.
//!
//! Every model regresses the logarithm of the unit price (prices are multiplicative: a
//! province's or a customer's effect is a percentage, not an amount) on these features:
//!
//! | feature | from |
//! | --- | --- |
//! | hour, weekday, month, day of month | the purchase time (UTC) |
//! | trend | days since the first purchase of the training history |
//! | province effect, city effect | target encoding (below) |
//! | purchases, ln(1 + spend), days since the last purchase, price level | the customer's history *before* this purchase |
//! | SKU level | target encoding: the SKU's smoothed mean log price (a SKU never sold: its category's level) |
//! | category level | target encoding: the smoothed mean log price of the SKU's category (the SKU catalogue's) |
//! | quantity, ln(quantity) | the line |
//!
//! Places and SKUs are target-encoded rather than one-hot: a few hundred cities and SKUs
//! as one-hot columns would outnumber the rows of most segments and leave trees splitting
//! one city off at a time. The SKU level is the SKU's mean log price; a place's effect is
//! its mean log price *above its SKUs' levels* (so a province that buys dear SKUs is not
//! taken for a dear province); the customer's price level is its mean log price above
//! its SKUs' levels and its city's effect, over its earlier purchases. Each is shrunk towards zero (or the global mean) by a prior of
//! `SMOOTHING` rows, so a place seen once moves a third of the way. The levels and effects are
//! estimated on the rows the models are fitted on only, never on held-out rows.
//!
//! The customer's purchases, spend and recency for a training row count only the
//! purchases before it, and its price level is over its *other* fitted purchases (leave
//! one out), so a row never sees its own price; a quote uses the whole history. (A running
//! price level would be noisy on the training rows and precise at quote time, and the
//! models would learn to trust it less than they should.) The features are then
//! standardised (mean 0, scale 1, measured on the fitted rows), and the means and scales
//! travel inside the [`Featurizer`] in the model artifact.

use std::collections::HashMap;

use chrono::{DateTime, Datelike as _, Timelike as _, Utc};
use ndarray::{Array2, Axis, Slice};
use serde::{Deserialize, Serialize};

use crate::history::Purchase;

/// How many features a row has.
pub const FEATURES: usize = 15;

/// The features' names, in column order.
pub const FEATURE_NAMES: [&str; FEATURES] = [
    "hour",
    "weekday",
    "month",
    "day_of_month",
    "trend_days",
    "province_effect",
    "city_effect",
    "customer_purchases",
    "customer_ln_spend",
    "customer_recency_days",
    "customer_price_level",
    "sku_level",
    "quantity",
    "ln_quantity",
    "category_level",
];

/// The column of the customer's price level.
const CUSTOMER_PRICE_LEVEL: usize = 10;
/// The weight of the prior in every target encoding, in rows.
const SMOOTHING: f64 = 2.0;
/// The recency of a customer never seen before, in days.
const NO_HISTORY_RECENCY_DAYS: f64 = 365.0;

/// What a quote is asked about: the line, without its price.
#[derive(Debug, Clone, PartialEq)]
pub struct Query<'a> {
    pub customer_id: &'a str,
    pub sku: &'a str,
    pub quantity: u32,
    pub province: &'a str,
    pub city: &'a str,
    pub at: DateTime<Utc>,
    /// The SKU's category when the caller knows it (the SKU catalogue); else the one the
    /// training saw for the SKU, if any.
    pub category: Option<&'a str>,
}

impl<'a> From<&'a Purchase> for Query<'a> {
    fn from(row: &'a Purchase) -> Self {
        Query {
            customer_id: &row.customer_id,
            sku: &row.sku,
            quantity: row.quantity,
            province: &row.province,
            city: &row.city,
            at: row.purchased_at,
            category: None,
        }
    }
}

/// A customer's history up to some point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CustomerHistory {
    pub purchases: u32,
    pub spend: f64,
    pub last_purchase: DateTime<Utc>,
    /// The sum of (log price - SKU level - city effect) over its fitted purchases.
    pub relative_log_price_sum: f64,
    /// How many purchases that sum is over.
    pub priced_purchases: u32,
}

impl CustomerHistory {
    /// The customer's smoothed mean log price above its SKUs' levels and its city's effect.
    pub fn price_level(&self) -> f64 {
        self.relative_log_price_sum / (f64::from(self.priced_purchases) + SMOOTHING)
    }
}

/// Mean and scale per feature, measured on the fitted rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardisation {
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
}

impl Standardisation {
    fn measure(raw: &Array2<f64>) -> Self {
        let rows = raw.nrows().max(1) as f64;
        let mean: Vec<f64> = raw.columns().into_iter().map(|column| column.sum() / rows).collect();
        let scale = raw
            .columns()
            .into_iter()
            .zip(&mean)
            .map(|(column, mean)| {
                let deviation = (column.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / rows).sqrt();
                if deviation > 1e-12 {
                    deviation
                } else {
                    1.0
                }
            })
            .collect();
        Standardisation { mean, scale }
    }

    fn apply(&self, row: &mut [f64]) {
        for ((value, mean), scale) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
            *value = (*value - mean) / scale;
        }
    }
}

/// Everything needed to turn a purchase or a query into standardised features: the
/// encodings, every customer's history and the standardisation. Serialised in the artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Featurizer {
    pub origin: DateTime<Utc>,
    pub global_log_price: f64,
    pub sku_level: HashMap<String, f64>,
    pub province_effect: HashMap<String, f64>,
    /// Keyed by `province/city`: two provinces may have a city of the same name.
    pub city_effect: HashMap<String, f64>,
    pub customers: HashMap<String, CustomerHistory>,
    pub standardisation: Standardisation,
    /// Each SKU's category, as the catalogue gave it at training.
    #[serde(default)]
    pub categories: HashMap<String, String>,
    /// Each category's smoothed mean log price.
    #[serde(default)]
    pub category_level: HashMap<String, f64>,
}

/// The training matrix: standardised features and log-price targets, one row per
/// purchase in the order given.
#[derive(Debug, Clone)]
pub struct TrainingData {
    pub features: Array2<f64>,
    pub log_prices: Vec<f64>,
    pub prices: Vec<f64>,
}

impl Featurizer {
    /// Estimates the encodings on `history[..fitted]` and builds the features of every row
    /// of `history`, which must be in time order. Each row's customer features come from
    /// the rows before it; the featurizer keeps every customer's history after the last row.
    pub fn fit(history: &[Purchase], fitted: usize) -> (Featurizer, TrainingData) {
        Self::fit_with(history, fitted, &HashMap::new())
    }

    /// [`fit`](Self::fit) with each SKU's category (`categories`, SKU to category), which
    /// the category level is estimated by.
    pub fn fit_with(history: &[Purchase], fitted: usize, categories: &HashMap<String, String>) -> (Featurizer, TrainingData) {
        let fitted_rows = &history[..fitted.min(history.len())];
        let origin = fitted_rows.first().or(history.first()).map_or(DateTime::<Utc>::UNIX_EPOCH, |row| row.purchased_at);
        let log_prices: Vec<f64> = history.iter().map(|row| row.price().ln()).collect();
        let fitted_logs = &log_prices[..fitted_rows.len()];
        let global_log_price = mean(fitted_logs.iter().copied()).unwrap_or(0.0);

        let sku_level: HashMap<String, f64> =
            smoothed_means(fitted_rows.iter().zip(fitted_logs).map(|(row, log)| (row.sku.as_str(), log - global_log_price)))
                .into_iter()
                .map(|(sku, relative)| (sku, global_log_price + relative))
                .collect();
        let category_level: HashMap<String, f64> = smoothed_means(
            fitted_rows
                .iter()
                .zip(fitted_logs)
                .filter_map(|(row, log)| categories.get(&row.sku).map(|category| (category.as_str(), log - global_log_price))),
        )
        .into_iter()
        .map(|(category, relative)| (category, global_log_price + relative))
        .collect();
        let relative_to_sku = |row: &Purchase, log: f64| log - sku_level.get(&row.sku).copied().unwrap_or(global_log_price);
        let province_effect = smoothed_means(
            fitted_rows.iter().zip(fitted_logs).map(|(row, log)| (row.province.as_str(), relative_to_sku(row, *log))),
        );
        let city_effect = smoothed_means(
            fitted_rows
                .iter()
                .zip(fitted_logs)
                .map(|(row, log)| (place_key(&row.province, &row.city), relative_to_sku(row, *log))),
        );

        let mut featurizer = Featurizer {
            origin,
            global_log_price,
            sku_level,
            province_effect,
            city_effect,
            customers: HashMap::new(),
            standardisation: Standardisation { mean: vec![0.0; FEATURES], scale: vec![1.0; FEATURES] },
            categories: categories.clone(),
            category_level,
        };
        let relative: Vec<f64> =
            history.iter().zip(&log_prices).map(|(row, log)| featurizer.relative_log_price(row, *log)).collect();
        let mut price_levels: HashMap<&str, (f64, u32)> = HashMap::new();
        for (row, relative) in fitted_rows.iter().zip(&relative) {
            let level = price_levels.entry(row.customer_id.as_str()).or_default();
            level.0 += relative;
            level.1 += 1;
        }
        let mut raw = Array2::zeros((history.len(), FEATURES));
        for (index, (row, mut out)) in history.iter().zip(raw.rows_mut()).enumerate() {
            let query = Query::from(row);
            if let Some(slice) = out.as_slice_mut() {
                featurizer.raw_features(&query, slice);
                // Leave one out: a fitted row's level is over the customer's other fitted rows.
                let (sum, count) = price_levels.get(row.customer_id.as_str()).copied().unwrap_or_default();
                slice[CUSTOMER_PRICE_LEVEL] = if index < fitted_rows.len() {
                    (sum - relative[index]) / (f64::from(count) - 1.0 + SMOOTHING)
                } else {
                    sum / (f64::from(count) + SMOOTHING)
                };
            }
            featurizer.record(row);
        }
        for (customer, history) in &mut featurizer.customers {
            let (sum, count) = price_levels.get(customer.as_str()).copied().unwrap_or_default();
            history.relative_log_price_sum = sum;
            history.priced_purchases = count;
        }
        featurizer.standardisation =
            Standardisation::measure(&raw.slice_axis(Axis(0), Slice::from(..fitted_rows.len())).to_owned());
        for mut out in raw.rows_mut() {
            if let Some(slice) = out.as_slice_mut() {
                featurizer.standardisation.apply(slice);
            }
        }
        let prices = history.iter().map(Purchase::price).collect();
        (featurizer, TrainingData { features: raw, log_prices, prices })
    }

    /// The standardised features of one query, written into `out` (length [`FEATURES`]).
    /// Unknown customers, SKUs and places get the neutral value (no history, the global
    /// level, no effect).
    pub fn features_into(&self, query: &Query<'_>, out: &mut [f64]) {
        self.raw_features(query, out);
        self.standardisation.apply(out);
    }

    /// The features of many queries, one row each.
    pub fn matrix<'a>(&self, queries: impl ExactSizeIterator<Item = Query<'a>>) -> Array2<f64> {
        let mut matrix = Array2::zeros((queries.len(), FEATURES));
        for (query, mut out) in queries.zip(matrix.rows_mut()) {
            if let Some(slice) = out.as_slice_mut() {
                self.features_into(&query, slice);
            }
        }
        matrix
    }

    fn raw_features(&self, query: &Query<'_>, out: &mut [f64]) {
        let at = query.at;
        let history = self.customers.get(query.customer_id);
        let quantity = f64::from(query.quantity.max(1));
        let category = query.category.or_else(|| self.categories.get(query.sku).map(String::as_str));
        let category_level = category.and_then(|category| self.category_level.get(category).copied());
        let values: [f64; FEATURES] = [
            f64::from(at.hour()),
            f64::from(at.weekday().num_days_from_monday()),
            f64::from(at.month()),
            f64::from(at.day()),
            (at - self.origin).num_seconds() as f64 / 86_400.0,
            self.province_effect.get(query.province).copied().unwrap_or(0.0),
            self.city_effect.get(&place_key(query.province, query.city)).copied().unwrap_or(0.0),
            history.map_or(0.0, |history| f64::from(history.purchases)),
            history.map_or(0.0, |history| history.spend.ln_1p()),
            history.map_or(NO_HISTORY_RECENCY_DAYS, |history| {
                ((at - history.last_purchase).num_seconds() as f64 / 86_400.0).max(0.0)
            }),
            history.map_or(0.0, CustomerHistory::price_level),
            self.sku_level.get(query.sku).copied().or(category_level).unwrap_or(self.global_log_price),
            quantity,
            quantity.ln(),
            category_level.unwrap_or(self.global_log_price),
        ];
        out.copy_from_slice(&values);
    }

    /// The log price above what the SKU's level and the city's effect explain: the
    /// customer's own part.
    fn relative_log_price(&self, row: &Purchase, log_price: f64) -> f64 {
        let sku_level = self.sku_level.get(&row.sku).copied().unwrap_or(self.global_log_price);
        let city_effect = self.city_effect.get(&place_key(&row.province, &row.city)).copied().unwrap_or(0.0);
        log_price - sku_level - city_effect
    }

    fn record(&mut self, row: &Purchase) {
        let spend = row.price() * f64::from(row.quantity);
        self.customers
            .entry(row.customer_id.clone())
            .and_modify(|history| {
                history.purchases += 1;
                history.spend += spend;
                history.last_purchase = history.last_purchase.max(row.purchased_at);
            })
            .or_insert(CustomerHistory {
                purchases: 1,
                spend,
                last_purchase: row.purchased_at,
                relative_log_price_sum: 0.0,
                priced_purchases: 0,
            });
    }
}

fn place_key(province: &str, city: &str) -> String {
    format!("{province}/{city}")
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(sum, count), value| (sum + value, count + 1));
    (count > 0).then(|| sum / count as f64)
}

/// Per key, the mean of its values shrunk towards zero by a prior of `SMOOTHING` rows.
fn smoothed_means<K: Into<String> + AsRef<str>>(values: impl Iterator<Item = (K, f64)>) -> HashMap<String, f64> {
    let mut sums: HashMap<String, (f64, f64)> = HashMap::new();
    for (key, value) in values {
        let entry = match sums.get_mut(key.as_ref()) {
            Some(entry) => entry,
            None => sums.entry(key.into()).or_default(),
        };
        entry.0 += value;
        entry.1 += 1.0;
    }
    sums.into_iter().map(|(key, (sum, count))| (key, sum / (count + SMOOTHING))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn purchase(customer: &str, sku: &str, price: i64, province: &str, day: u32) -> Purchase {
        Purchase {
            customer_id: customer.into(),
            sku: sku.into(),
            quantity: 1,
            unit_price: Decimal::new(price, 0),
            purchased_at: format!("2026-11-{day:02}T10:00:00Z").parse().unwrap(),
            province: province.into(),
            city: "X".into(),
            address: String::new(),
            merchant_id: None,
            currency: None,
        }
    }

    #[test]
    fn a_training_row_never_sees_its_own_price_in_the_customer_features() {
        let history = vec![purchase("c-1", "A", 10, "P", 1), purchase("c-1", "A", 1000, "P", 2)];
        let (featurizer, _) = Featurizer::fit(&history, 2);
        let mut first = [0.0; FEATURES];
        featurizer.raw_features(&Query::from(&history[0]), &mut first);
        // At quote time the customer has both purchases.
        assert_eq!(first[7], 2.0);
        let (_, data) = Featurizer::fit(&history, 2);
        let purchases = data.features.column(7);
        assert!(purchases[0] < purchases[1], "the first row saw no purchase, the second one");
    }

    #[test]
    fn a_dear_province_gets_a_positive_effect_after_its_skus_levels() {
        let mut history = Vec::new();
        for day in 1..=20 {
            history.push(purchase("c-1", "A", 100, "Dear", day));
            history.push(purchase("c-2", "A", 50, "Cheap", day));
        }
        let (featurizer, _) = Featurizer::fit(&history, history.len());
        assert!(featurizer.province_effect["Dear"] > 0.2);
        assert!(featurizer.province_effect["Cheap"] < -0.2);
    }

    #[test]
    fn a_sku_never_sold_takes_its_categorys_level() {
        let mut history = Vec::new();
        for day in 1..=20 {
            history.push(purchase("c-1", "TEA-A", 200, "P", day));
            history.push(purchase("c-2", "MUG-A", 20, "P", day));
        }
        let categories: HashMap<String, String> =
            [("TEA-A", "tea"), ("TEA-B", "tea"), ("MUG-A", "mugs")].map(|(k, v)| (k.to_owned(), v.to_owned())).into();
        let (featurizer, _) = Featurizer::fit_with(&history, history.len(), &categories);
        let features = |sku: &'static str, category: Option<&'static str>| {
            let mut row = [0.0; FEATURES];
            let mut query = Query::from(&history[0]);
            query.sku = sku;
            query.category = category;
            featurizer.raw_features(&query, &mut row);
            row
        };
        let new_tea = features("TEA-B", None);
        assert!((new_tea[11] - featurizer.category_level["tea"]).abs() < 1e-12, "the SKU level falls back to the category's");
        assert!(new_tea[14] > features("MUG-B", Some("mugs"))[14] + 1.0, "tea is dearer than mugs");
        assert_eq!(features("NEW", None)[11], featurizer.global_log_price, "no category: the global level");
    }
}
