//! The pricing functions' models in S3, one set per merchant, laid out as `oms retrain`
//! lays them in a data directory: `models/<merchant>/<version>.json` (the artifact, its
//! report inside) and `models/<merchant>/current` naming the version that merchant's
//! quotes use, written last, so a reader finds either the old pointer or the new one and
//! the artifact it names always exists. The report also goes to
//! `reports/<merchant>/<version>.json`. `models/merchants.json` lists the merchants with a
//! model (so quote-price needs no `s3:ListBucket`). `<merchant>` is
//! `oms_pricing::merchant_segment` of the merchant id.
//!
//! retrain-model trains every merchant on its sales history in DynamoDB (every reserved
//! order, `SalesHistory`: one `Query` per page of a merchant's partition) together with
//! the purchase history CSV at [`HISTORY_KEY`] when there is one (its rows split by their
//! `merchant_id` column, else the default merchant's). quote-price loads every merchant's
//! current model once per container and follows the pointers ([`follow_current`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use anyhow::Context as _;
use oms_api::PricingModel;
use oms_aws::Artifacts;
use oms_domain::ports::Ports;
use oms_pricing::{merchant_segment, Artifact, Purchase};

/// The list of merchants with a model: a JSON array of merchant ids.
pub const MERCHANTS_KEY: &str = "models/merchants.json";
/// The purchase history retrain-model trains on besides the stores' sales, when present.
pub const HISTORY_KEY: &str = "history/purchases.csv";
/// How often a quote-price container looks whether a pointer moved.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(60);

fn current_key(merchant: &str) -> String {
    format!("models/{}/current", merchant_segment(merchant))
}

fn model_key(merchant: &str, version: &str) -> String {
    format!("models/{}/{version}.json", merchant_segment(merchant))
}

/// The merchants with a published model.
pub async fn merchants(artifacts: &Artifacts) -> anyhow::Result<Vec<String>> {
    match artifacts.get_object(MERCHANTS_KEY).await? {
        Some(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("{MERCHANTS_KEY} is not a list of merchants")),
        None => Ok(Vec::new()),
    }
}

/// The version `merchant`'s pointer names, if a model of it was ever published.
pub async fn current_version(artifacts: &Artifacts, merchant: &str) -> anyhow::Result<Option<String>> {
    let pointer = artifacts.get_object(&current_key(merchant)).await?;
    pointer
        .map(|bytes| String::from_utf8(bytes).map(|v| v.trim().to_owned()).context("The model pointer is not text"))
        .transpose()
}

/// The artifact of `merchant`'s `version`.
pub async fn load(artifacts: &Artifacts, merchant: &str, version: &str) -> anyhow::Result<Artifact> {
    let key = model_key(merchant, version);
    let bytes = artifacts.get_object(&key).await?.with_context(|| format!("The pointer names {key}, which is missing"))?;
    let json = String::from_utf8(bytes).with_context(|| format!("{key} is not text"))?;
    Artifact::from_json(&json).with_context(|| format!("Failed to parse the pricing model {key}"))
}

/// Every merchant's current model.
pub async fn load_current(artifacts: &Artifacts) -> anyhow::Result<Vec<Artifact>> {
    let mut models = Vec::new();
    for merchant in merchants(artifacts).await? {
        if let Some(version) = current_version(artifacts, &merchant).await? {
            models.push(load(artifacts, &merchant, &version).await?);
        }
    }
    Ok(models)
}

/// Writes the artifact and its report, then moves its merchant's pointer to it.
pub async fn publish(artifacts: &Artifacts, artifact: &Artifact) -> anyhow::Result<()> {
    let merchant = &artifact.merchant_id;
    let json = artifact.to_json().context("Failed to serialise the pricing model")?;
    artifacts.put_object(&model_key(merchant, &artifact.version), json.into_bytes()).await?;
    let report = serde_json::to_vec_pretty(&artifact.report).context("Failed to serialise the report")?;
    artifacts.put_object(&format!("reports/{}/{}.json", merchant_segment(merchant), artifact.version), report).await?;
    artifacts.put_object(&current_key(merchant), artifact.version.clone().into_bytes()).await?;
    Ok(())
}

/// Trains every merchant with history (its sales in the stores, and its rows of the CSV
/// at [`HISTORY_KEY`] when there is one) and publishes each result as that merchant's
/// current model, then the list of merchants with a model. A merchant whose history is
/// too short is logged and skipped. Answers the artifacts published.
pub async fn retrain(
    artifacts: &Artifacts,
    ports: &Ports,
    version: String,
    min_margin: rust_decimal::Decimal,
) -> anyhow::Result<Vec<Artifact>> {
    let mut histories: BTreeMap<String, Vec<Purchase>> =
        oms_pricing::stored::stored_histories(ports, None).await.context("Failed to read the sales history")?;
    if let Some(bytes) = artifacts.get_object(HISTORY_KEY).await? {
        let rows = oms_pricing::read_csv(bytes.as_slice()).context("Failed to read the purchase history CSV")?;
        for (merchant, rows) in oms_pricing::by_merchant(rows, None) {
            histories.entry(merchant).or_default().extend(rows);
        }
    }
    let mut published = Vec::new();
    for (merchant, history) in histories {
        let rows = history.len();
        let options = oms_pricing::stored::train_options(ports, &merchant, &history, &version, min_margin)
            .await
            .with_context(|| format!("Failed to read the catalogue of merchant {merchant}"))?;
        // Training is CPU-bound: off the runtime's threads.
        let trained = tokio::task::spawn_blocking(move || oms_pricing::train(history, &options, &|_| ()))
            .await
            .context("The training task failed")?;
        let artifact = match trained {
            Ok(artifact) => artifact,
            Err(err) => {
                tracing::warn!(merchant = %merchant, rows, error = %err, "not trained");
                continue;
            }
        };
        publish(artifacts, &artifact).await?;
        tracing::info!(merchant = %merchant, version = %artifact.version, rows, test_rmse = artifact.report.test_rmse, "pricing models retrained and published");
        published.push(artifact);
    }
    let mut listed: BTreeSet<String> = merchants(artifacts).await?.into_iter().collect();
    listed.extend(published.iter().map(|artifact| artifact.merchant_id.clone()));
    let list = serde_json::to_vec(&listed).context("Failed to serialise the merchants with a model")?;
    artifacts.put_object(MERCHANTS_KEY, list).await?;
    Ok(published)
}

/// Loads each merchant's model whenever its pointer names another version than the one
/// loaded (`loaded`, by merchant), every `every`, for the container's life.
pub fn follow_current(artifacts: Artifacts, model: PricingModel, mut loaded: HashMap<String, String>, every: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let merchants = match merchants(&artifacts).await {
                Ok(merchants) => merchants,
                Err(err) => {
                    tracing::warn!(error = ?err, "the list of merchants with a model could not be read");
                    continue;
                }
            };
            for merchant in merchants {
                match current_version(&artifacts, &merchant).await {
                    Ok(Some(version)) if loaded.get(&merchant) != Some(&version) => {
                        match load(&artifacts, &merchant, &version).await {
                            Ok(artifact) => {
                                tracing::info!(merchant = %merchant, version = %version, "pricing model replaced");
                                model.replace(artifact);
                                loaded.insert(merchant, version);
                            }
                            Err(err) => {
                                tracing::error!(error = ?err, "the new pricing model could not be loaded; the old one answers")
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = ?err, "a pricing model pointer could not be read"),
                }
            }
        }
    });
}
