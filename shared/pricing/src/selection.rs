//! Training: candidates per segment, chosen by the shape of the data, compared on
//! held-out data, kept only where they beat the wider layers (the patent's S4-S6).
//!
//! The history is put in time order and split once: the oldest rows are fitted, the
//! newest `held_out_fraction` are held out (a time split: the question a model answers is
//! always about a later purchase). The layers run from the widest (every customer) to the
//! narrowest (one customer); a quote asks the narrowest segment that has a model. So a
//! segment of a narrower layer is fitted only when it has `min_fitted_rows` fitted and
//! `min_held_out_rows` held-out rows, and is kept only when its best candidate's held-out
//! squared error is lower than what the layers above would answer for the same rows.
//!
//! The candidates depend on the segment's shape: with fewer than `rows_per_feature` rows
//! per feature, OLS and trees are not trusted and only ridge, lasso and stagewise compete;
//! otherwise every family does. Scores are in price units (the models fit log prices).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use chrono::Utc;
use ndarray::{Array1, Axis};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::artifact::{Artifact, CandidateScore, Report, Segment, SegmentModels, SelectedModel, Selection};
use crate::features::{Featurizer, TrainingData, FEATURES};
use crate::history::Purchase;
use crate::models::{self, Algorithm, Hyperparameters, Model};
use crate::quote::{CataloguePrices, GuardRails};

/// How a training is run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub version: String,
    /// Whose history this is: the artifact says so.
    pub merchant_id: String,
    /// Each SKU's category (the SKU catalogue's), for the category level.
    pub categories: HashMap<String, String>,
    /// The SKU catalogue's cost and list price per SKU, for the guard rails.
    pub prices: HashMap<String, CataloguePrices>,
    /// The least margin over cost a quote keeps (0.05 is 5 %).
    pub min_margin: Decimal,
    pub currency: String,
    pub held_out_fraction: f64,
    /// A segment narrower than `all` needs this many fitted rows to be tried.
    pub min_fitted_rows: usize,
    pub min_held_out_rows: usize,
    /// Fewer fitted rows than this many per feature is wide data.
    pub rows_per_feature: usize,
    pub hyperparameters: Hyperparameters,
    /// Candidates fitted at once.
    pub threads: usize,
    /// The customers' browsing and returns the offers learn from besides the history
    /// (read from the stores at training, not part of the options written down).
    #[serde(skip)]
    pub signals: crate::signals::Signals,
}

impl TrainOptions {
    /// These options for `merchant`'s history.
    pub fn for_merchant(self, merchant: impl Into<String>) -> Self {
        TrainOptions { merchant_id: merchant.into(), ..self }
    }

    pub fn new(version: impl Into<String>) -> Self {
        TrainOptions {
            version: version.into(),
            merchant_id: crate::DEFAULT_MERCHANT.to_owned(),
            categories: HashMap::new(),
            prices: HashMap::new(),
            min_margin: crate::quote::DEFAULT_MIN_MARGIN,
            currency: "CNY".into(),
            held_out_fraction: 0.2,
            min_fitted_rows: 100,
            min_held_out_rows: 30,
            rows_per_feature: 5,
            hyperparameters: Hyperparameters::default(),
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            signals: crate::signals::Signals::default(),
        }
    }
}

/// Why no artifact could be trained.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("the history has {0} rows; training needs at least {MIN_ROWS}")]
    TooFewRows(usize),
    #[error("no candidate could be fitted on the whole history: {0}")]
    NothingFitted(String),
}

/// Which segment of a layer a purchase falls in.
type SegmentOf = fn(&Purchase) -> Segment;

/// The layers, widest first; a quote asks the narrowest first.
const LAYERS: [(&str, SegmentOf); 4] = [
    ("all", |_| Segment::All),
    ("province", |row| Segment::Province(row.province.clone())),
    ("sku", |row| Segment::Sku(row.sku.clone())),
    ("customer", |row| Segment::Customer(row.customer_id.clone())),
];

/// The fewest rows a training accepts: a few fitted and a few held out.
pub const MIN_ROWS: usize = 10;

/// Where a training is: `done` of `total` candidates of the current layer fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub layer: &'static str,
    pub done: usize,
    pub total: usize,
}

/// Trains an artifact on `history` (any order). `progress` hears after every candidate.
pub fn train(
    mut history: Vec<Purchase>,
    options: &TrainOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Artifact, TrainError> {
    let started = Instant::now();
    if history.len() < MIN_ROWS {
        return Err(TrainError::TooFewRows(history.len()));
    }
    history.sort_by_key(|row| row.purchased_at);
    let held_out = ((history.len() as f64 * options.held_out_fraction).round() as usize).clamp(1, history.len() - 1);
    let fitted = history.len() - held_out;
    // The encodings of the selection see only the fitted rows, never the held-out ones.
    let (_, data) = Featurizer::fit_with(&history, fitted, &options.categories);
    let mut trainer =
        Trainer { options, data: &data, fitted, routed: vec![f64::NAN; held_out], models: SegmentModels::default() };
    let mut candidates = Vec::new();
    let mut selected = Vec::new();
    for (layer, segment_of) in LAYERS {
        let segments = trainer.segments(&history, segment_of, layer == "all");
        let outcome = trainer.run_layer(layer, segments, progress);
        candidates.extend(outcome.candidates);
        selected.extend(outcome.selected);
        if layer == "all" && trainer.models.all.is_none() {
            return Err(TrainError::NothingFitted(outcome.errors.join("; ")));
        }
    }
    let held_out_prices = &data.prices[fitted..];
    let held_out_rmse = rmse(trainer.routed.iter().zip(held_out_prices).map(|(predicted, paid)| (predicted - paid).powi(2)));
    // Selected on the older rows, the models are refitted on every row, the newest
    // included: a quote is always about a time after all of them.
    let (featurizer, all_rows) = Featurizer::fit_with(&history, history.len(), &options.categories);
    let models = refit(&history, &all_rows, trainer.models, options)?;
    let mut artifact = Artifact {
        version: options.version.clone(),
        merchant_id: options.merchant_id.clone(),
        currency: history_currency(&history).unwrap_or_else(|| options.currency.clone()),
        trained_at: Utc::now(),
        featurizer,
        models,
        guard_rails: guard_rails(&history, options),
        min_margin: options.min_margin,
        offers: crate::offers::OfferIndex::build_from(
            &history,
            &options.signals,
            &options.categories,
            Some(crate::offers::HALF_LIFE_DAYS),
        ),
        report: Report {
            model_version: options.version.clone(),
            test_rmse: held_out_rmse,
            test_rows: held_out,
            test_on: "held_out".into(),
            train_rows: history.len(),
            fitted_rows: fitted,
            held_out_rows: held_out,
            held_out_rmse,
            seconds: 0.0,
            candidates,
            selected,
        },
    };
    artifact.report.seconds = started.elapsed().as_secs_f64();
    Ok(artifact)
}

impl Artifact {
    /// Measures the quotes on a test file and records it as the report's `test_rmse`.
    pub fn record_test(&mut self, test: &[Purchase]) {
        if let Some(rmse) = self.rmse(test.iter().map(|row| (row.into(), row.price()))) {
            self.report.test_rmse = rmse;
            self.report.test_rows = test.len();
            self.report.test_on = "test_file".into();
        }
    }
}

/// The rows of one segment: fitted ones, and held-out ones (as offsets after the fitted rows).
struct SegmentRows {
    segment: Segment,
    fitted: Vec<usize>,
    held_out: Vec<usize>,
}

struct Trainer<'a> {
    options: &'a TrainOptions,
    data: &'a TrainingData,
    fitted: usize,
    /// Per held-out row, the price the layers kept so far answer.
    routed: Vec<f64>,
    models: SegmentModels,
}

struct Job {
    segment: usize,
    algorithm: Algorithm,
}

struct Fitted {
    model: Model,
    /// Per held-out row of the segment, the predicted price.
    predictions: Vec<f64>,
    sse: f64,
}

#[derive(Default)]
struct LayerOutcome {
    candidates: Vec<CandidateScore>,
    selected: Vec<Selection>,
    errors: Vec<String>,
}

impl Trainer<'_> {
    fn segments(&self, history: &[Purchase], segment_of: SegmentOf, widest: bool) -> Vec<SegmentRows> {
        let mut by_segment: HashMap<Segment, SegmentRows> = HashMap::new();
        for (index, row) in history.iter().enumerate() {
            let segment = segment_of(row);
            let rows = by_segment.entry(segment.clone()).or_insert_with(|| SegmentRows {
                segment,
                fitted: Vec::new(),
                held_out: Vec::new(),
            });
            if index < self.fitted {
                rows.fitted.push(index);
            } else {
                rows.held_out.push(index - self.fitted);
            }
        }
        let mut segments: Vec<SegmentRows> = by_segment
            .into_values()
            .filter(|rows| {
                widest
                    || (rows.fitted.len() >= self.options.min_fitted_rows
                        && rows.held_out.len() >= self.options.min_held_out_rows)
            })
            .collect();
        // The biggest first, so the threads finish together.
        segments.sort_by_key(|rows| std::cmp::Reverse(rows.fitted.len()));
        segments
    }

    fn candidates_for(&self, fitted_rows: usize) -> &'static [Algorithm] {
        if fitted_rows < self.options.rows_per_feature * FEATURES {
            &Algorithm::FOR_WIDE_DATA
        } else {
            &Algorithm::FOR_TALL_DATA
        }
    }

    fn run_layer(
        &mut self,
        layer: &'static str,
        segments: Vec<SegmentRows>,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> LayerOutcome {
        let jobs: Vec<Job> = segments
            .iter()
            .enumerate()
            .flat_map(|(segment, rows)| {
                self.candidates_for(rows.fitted.len()).iter().map(move |&algorithm| Job { segment, algorithm })
            })
            .collect();
        let done = AtomicUsize::new(0);
        let results = parallel_map(&jobs, self.options.threads, |job| {
            let fitted = self.fit_candidate(&segments[job.segment], job.algorithm);
            progress(Progress { layer, done: done.fetch_add(1, Ordering::Relaxed) + 1, total: jobs.len() });
            fitted
        });
        let mut outcome = LayerOutcome::default();
        let mut best: HashMap<usize, (Algorithm, Fitted)> = HashMap::new();
        for (job, result) in jobs.iter().zip(results) {
            let rows = &segments[job.segment];
            match result {
                Ok(fitted) => {
                    outcome.candidates.push(CandidateScore {
                        segment: rows.segment.to_string(),
                        algorithm: job.algorithm,
                        rows: rows.fitted.len(),
                        held_out_rows: rows.held_out.len(),
                        rmse: (fitted.sse / rows.held_out.len().max(1) as f64).sqrt(),
                        sse: fitted.sse,
                    });
                    if best.get(&job.segment).is_none_or(|(_, best)| fitted.sse < best.sse) {
                        best.insert(job.segment, (job.algorithm, fitted));
                    }
                }
                Err(err) => outcome.errors.push(format!("{} {}: {err}", rows.segment, job.algorithm)),
            }
        }
        let mut winners: Vec<(usize, (Algorithm, Fitted))> = best.into_iter().collect();
        winners.sort_by_key(|(segment, _)| *segment);
        for (segment, (algorithm, fitted)) in winners {
            let rows = &segments[segment];
            let wider_sse: f64 =
                rows.held_out.iter().map(|&row| (self.routed[row] - self.data.prices[self.fitted + row]).powi(2)).sum();
            let held_out = rows.held_out.len().max(1) as f64;
            let wider = (rows.segment != Segment::All).then_some(wider_sse);
            if wider.is_some_and(|wider| fitted.sse >= wider) {
                continue;
            }
            for (&row, predicted) in rows.held_out.iter().zip(&fitted.predictions) {
                self.routed[row] = *predicted;
            }
            let rmse = (fitted.sse / held_out).sqrt();
            outcome.selected.push(Selection {
                segment: rows.segment.to_string(),
                algorithm,
                rmse,
                wider_rmse: wider.map(|sse| (sse / held_out).sqrt()),
            });
            self.models.insert(rows.segment.clone(), SelectedModel { algorithm, model: fitted.model, held_out_rmse: rmse });
        }
        outcome
    }

    fn fit_candidate(&self, rows: &SegmentRows, algorithm: Algorithm) -> Result<Fitted, models::ModelError> {
        let features = self.data.features.select(Axis(0), &rows.fitted);
        let targets: Array1<f64> = rows.fitted.iter().map(|&row| self.data.log_prices[row]).collect();
        let model = models::fit(algorithm, features.view(), targets.view(), &self.options.hyperparameters)?;
        let predictions: Vec<f64> =
            rows.held_out.iter().map(|&row| model.predict_row(self.data.features.row(self.fitted + row)).exp()).collect();
        let sse: f64 = rows
            .held_out
            .iter()
            .zip(&predictions)
            .map(|(&row, predicted)| (predicted - self.data.prices[self.fitted + row]).powi(2))
            .sum();
        if !sse.is_finite() {
            return Err(models::ModelError::NotFinite);
        }
        Ok(Fitted { model, predictions, sse })
    }
}

/// Each kept segment's algorithm fitted again on all of the segment's rows (features
/// from `featurizer` fitted on every row). A segment whose refit fails keeps nothing, and
/// its rows fall back to the wider layers, as for a segment that never had a model.
fn refit(
    history: &[Purchase],
    data: &TrainingData,
    selected: SegmentModels,
    options: &TrainOptions,
) -> Result<SegmentModels, TrainError> {
    let mut rows_of: HashMap<Segment, Vec<usize>> = selected.iter().map(|(segment, _)| (segment, Vec::new())).collect();
    for (index, row) in history.iter().enumerate() {
        for (_, segment_of) in LAYERS {
            if let Some(rows) = rows_of.get_mut(&segment_of(row)) {
                rows.push(index);
            }
        }
    }
    let kept: Vec<(Segment, SelectedModel)> = selected.iter().map(|(segment, model)| (segment, model.clone())).collect();
    let refitted = parallel_map(&kept, options.threads, |(segment, model)| {
        let rows = rows_of.get(segment).map_or(&[][..], Vec::as_slice);
        let features = data.features.select(Axis(0), rows);
        let targets: Array1<f64> = rows.iter().map(|&row| data.log_prices[row]).collect();
        models::fit(model.algorithm, features.view(), targets.view(), &options.hyperparameters)
    });
    let mut models = SegmentModels::default();
    for ((segment, model), refitted) in kept.into_iter().zip(refitted) {
        match refitted {
            Ok(fitted) => models.insert(segment, SelectedModel { model: fitted, ..model }),
            Err(err) if segment == Segment::All => return Err(TrainError::NothingFitted(err.to_string())),
            Err(_) => {}
        }
    }
    Ok(models)
}

fn rmse(squared_errors: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = squared_errors.fold((0.0, 0usize), |(sum, count), error| (sum + error, count + 1));
    (sum / count.max(1) as f64).sqrt()
}

/// Per SKU, the lowest and highest unit price paid.
/// The currency most of the history's rows name, if any row names one.
fn history_currency(history: &[Purchase]) -> Option<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for currency in history.iter().filter_map(|row| row.currency.as_deref()) {
        *counts.entry(currency).or_default() += 1;
    }
    counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0))).map(|(currency, _)| currency.to_owned())
}

/// Per SKU, the catalogue's rails where it gives them (cost plus the least margin, the
/// list price), else the lowest and highest price the history paid.
fn guard_rails(history: &[Purchase], options: &TrainOptions) -> HashMap<String, GuardRails> {
    let mut rails = history_rails(history);
    for (sku, prices) in &options.prices {
        let paid = rails.get(sku).copied();
        if let Some(from_catalogue) = prices.rails(options.min_margin, paid) {
            rails.insert(sku.clone(), from_catalogue);
        }
    }
    rails
}

fn history_rails(history: &[Purchase]) -> HashMap<String, GuardRails> {
    let mut rails: HashMap<String, GuardRails> = HashMap::new();
    for row in history {
        let price: Decimal = row.unit_price;
        rails
            .entry(row.sku.clone())
            .and_modify(|rails| {
                rails.floor = rails.floor.min(price);
                rails.ceiling = rails.ceiling.max(price);
            })
            .or_insert(GuardRails { floor: price, ceiling: price });
    }
    rails
}

/// `work` on every item on up to `threads` threads; the answers in the items' order.
fn parallel_map<T: Sync, R: Send>(items: &[T], threads: usize, work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let answers: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, items.len().max(1)) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(index) else { break };
                let answer = work(item);
                if let Ok(mut answers) = answers.lock() {
                    answers[index] = Some(answer);
                }
            });
        }
    });
    answers.into_inner().unwrap_or_default().into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::Query;
    use crate::quote::Clamp;

    /// A deterministic history: `rows` purchases by 20 customers of 3 SKUs in 4 provinces
    /// over 60 days, priced by `price(quantity, hour, province index)`.
    fn history(rows: usize, price: impl Fn(u32, u32, usize) -> f64) -> Vec<Purchase> {
        let mut state: u64 = 42;
        let mut next = move |below: u64| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % below
        };
        (0..rows)
            .map(|index| {
                let quantity = next(20) as u32 + 1;
                let hour = next(24) as u32;
                let province = next(4) as usize;
                let at = chrono::DateTime::<Utc>::UNIX_EPOCH
                    + chrono::Duration::days(20_000 + (index * 60 / rows) as i64)
                    + chrono::Duration::hours(i64::from(hour));
                Purchase {
                    customer_id: format!("c-{}", next(20)),
                    sku: format!("SKU-{}", next(3)),
                    quantity,
                    unit_price: Decimal::from_f64_retain(price(quantity, hour, province)).unwrap_or_default().round_dp(4),
                    purchased_at: at,
                    province: format!("P{province}"),
                    city: format!("City{province}"),
                    address: String::new(),
                    merchant_id: None,
                    currency: None,
                }
            })
            .collect()
    }

    fn trained(history: Vec<Purchase>) -> Artifact {
        train(history, &TrainOptions::new("test"), &|_| ()).unwrap()
    }

    fn selected_for_all(artifact: &Artifact) -> Algorithm {
        artifact.models.all.as_ref().map(|model| model.algorithm).unwrap()
    }

    fn query<'a>(customer: &'a str, sku: &'a str, quantity: u32) -> Query<'a> {
        Query {
            customer_id: customer,
            sku,
            quantity,
            province: "P1",
            city: "City1",
            at: "2026-11-30T12:00:00Z".parse().unwrap(),
            category: None,
        }
    }

    #[test]
    fn selection_prefers_a_tree_when_price_is_a_step_function_of_quantity() {
        let artifact = trained(history(3000, |quantity, _, _| match quantity {
            1..=4 => 100.0,
            5..=12 => 60.0,
            _ => 85.0,
        }));
        let selected = selected_for_all(&artifact);
        assert!(matches!(selected, Algorithm::Tree | Algorithm::ModelTree), "{selected}: {:#?}", artifact.report.candidates);
    }

    #[test]
    fn selection_prefers_a_linear_model_when_log_price_is_linear() {
        let artifact = trained(history(3000, |quantity, hour, _| {
            (3.0 + 0.03 * f64::from(quantity) + 0.01 * f64::from(hour) + 0.002 * f64::from((quantity * 7 + hour) % 5)).exp()
        }));
        let selected = selected_for_all(&artifact);
        assert!(!matches!(selected, Algorithm::Tree | Algorithm::ModelTree), "{selected}: {:#?}", artifact.report.candidates);
    }

    #[test]
    fn a_narrow_segment_is_kept_only_when_it_beats_the_wider_layers_on_held_out_rows() {
        let artifact = trained(history(4000, |quantity, hour, province| {
            50.0 * (1.0 + 0.1 * province as f64) - f64::from(quantity.min(10)) + f64::from(hour % 3)
        }));
        let report = &artifact.report;
        for selection in report.selected.iter().filter(|selection| selection.segment != "all") {
            let wider = selection.wider_rmse.unwrap();
            assert!(selection.rmse < wider, "{selection:?}");
        }
        let tried: std::collections::HashSet<&str> = report.candidates.iter().map(|score| score.segment.as_str()).collect();
        assert!(tried.len() > report.selected.len(), "every segment tried was kept: {:#?}", report.selected);
    }

    #[test]
    fn a_customer_with_too_little_history_is_quoted_by_a_wider_segment() {
        let mut rows = history(2000, |quantity, _, _| 40.0 + f64::from(quantity));
        rows.truncate(1990);
        let mut newcomer = rows[0].clone();
        newcomer.customer_id = "c-new".into();
        rows.push(newcomer);
        let artifact = trained(rows);
        let quote = artifact.quote(&query("c-new", "SKU-1", 3)).unwrap();
        assert!(!quote.segment.starts_with("customer:"), "{quote:?}");
        let stranger = artifact.quote(&query("never-seen", "SKU-unknown", 3)).unwrap();
        assert!(stranger.segment == "all" || stranger.segment.starts_with("province:"), "{stranger:?}");
    }

    #[test]
    fn guard_rails_clamp_the_price_and_the_quote_says_which() {
        let mut artifact = trained(history(1000, |quantity, _, _| 40.0 + f64::from(quantity)));
        let free = artifact.quote(&query("c-1", "SKU-1", 3)).unwrap();
        assert_eq!(free.clamped, None, "{free:?}");
        artifact.guard_rails.insert("SKU-1".into(), GuardRails { floor: Decimal::new(500, 0), ceiling: Decimal::new(900, 0) });
        let floored = artifact.quote(&query("c-1", "SKU-1", 3)).unwrap();
        assert_eq!((floored.price, floored.clamped), (Decimal::new(500, 0), Some(Clamp::Floor)));
        artifact.guard_rails.insert("SKU-1".into(), GuardRails { floor: Decimal::ONE, ceiling: Decimal::TEN });
        let capped = artifact.quote(&query("c-1", "SKU-1", 3)).unwrap();
        assert_eq!((capped.price, capped.clamped), (Decimal::TEN, Some(Clamp::Ceiling)));
    }

    #[test]
    fn an_artifact_survives_a_json_round_trip_with_the_same_quotes() {
        let artifact = trained(history(2000, |quantity, hour, province| {
            30.0 + f64::from(quantity % 7) * (1.0 + province as f64) + f64::from(hour) / 10.0
        }));
        let back = Artifact::from_json(&artifact.to_json().unwrap()).unwrap();
        assert_eq!(back, artifact);
        for customer in ["c-1", "c-7", "nobody"] {
            assert_eq!(back.quote(&query(customer, "SKU-2", 9)).unwrap(), artifact.quote(&query(customer, "SKU-2", 9)).unwrap());
        }
    }

    #[test]
    fn a_model_quotes_in_the_currency_its_history_was_paid_in() {
        let mut rows = history(300, |quantity, _, _| 40.0 + f64::from(quantity));
        assert_eq!(trained(rows.clone()).currency, "CNY", "none named: the options' currency");
        for row in &mut rows {
            row.currency = Some("USD".into());
        }
        assert_eq!(trained(rows).currency, "USD");
    }

    #[test]
    fn too_short_a_history_is_refused() {
        let err = train(history(5, |_, _, _| 10.0), &TrainOptions::new("test"), &|_| ()).unwrap_err();
        assert!(matches!(err, TrainError::TooFewRows(5)), "{err}");
    }
}
