//! The pricing functions' models in S3, laid out as `oms retrain` lays them in a data
//! directory: `models/<version>.json` (the artifact, its report inside) and
//! `models/current` naming the version quotes use, written last, so a reader finds either
//! the old pointer or the new one and the artifact it names always exists. The report also
//! goes to `reports/<version>.json`.
//!
//! retrain-model trains on the purchase history CSV at [`HISTORY_KEY`] (the contract's
//! retrain columns; how it gets there, from the stores, is not built yet). quote-price
//! loads the current model once per container and follows the pointer
//! ([`follow_current`]).

use std::time::Duration;

use anyhow::Context as _;
use oms_api::PricingModel;
use oms_aws::Artifacts;
use oms_pricing::{Artifact, TrainOptions};

/// The pointer to the version quotes use.
pub const CURRENT_KEY: &str = "models/current";
/// The purchase history retrain-model trains on.
pub const HISTORY_KEY: &str = "history/purchases.csv";
/// How often a quote-price container looks whether the pointer moved.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(60);

fn model_key(version: &str) -> String {
    format!("models/{version}.json")
}

/// The version the pointer names, if a model was ever published.
pub async fn current_version(artifacts: &Artifacts) -> anyhow::Result<Option<String>> {
    let pointer = artifacts.get_object(CURRENT_KEY).await?;
    pointer
        .map(|bytes| String::from_utf8(bytes).map(|v| v.trim().to_owned()).context("The model pointer is not text"))
        .transpose()
}

/// The artifact of `version`.
pub async fn load(artifacts: &Artifacts, version: &str) -> anyhow::Result<Artifact> {
    let key = model_key(version);
    let bytes = artifacts.get_object(&key).await?.with_context(|| format!("The pointer names {key}, which is missing"))?;
    let json = String::from_utf8(bytes).with_context(|| format!("{key} is not text"))?;
    Artifact::from_json(&json).with_context(|| format!("Failed to parse the pricing model {key}"))
}

/// The current model, if a model was ever published.
pub async fn load_current(artifacts: &Artifacts) -> anyhow::Result<Option<Artifact>> {
    match current_version(artifacts).await? {
        Some(version) => Ok(Some(load(artifacts, &version).await?)),
        None => Ok(None),
    }
}

/// Writes the artifact and its report, then moves the pointer to it.
pub async fn publish(artifacts: &Artifacts, artifact: &Artifact) -> anyhow::Result<()> {
    let json = artifact.to_json().context("Failed to serialise the pricing model")?;
    artifacts.put_object(&model_key(&artifact.version), json.into_bytes()).await?;
    let report = serde_json::to_vec_pretty(&artifact.report).context("Failed to serialise the report")?;
    artifacts.put_object(&format!("reports/{}.json", artifact.version), report).await?;
    artifacts.put_object(CURRENT_KEY, artifact.version.clone().into_bytes()).await?;
    Ok(())
}

/// Trains on the history at [`HISTORY_KEY`] and publishes the result as current.
pub async fn retrain(artifacts: &Artifacts, version: String) -> anyhow::Result<Artifact> {
    let bytes = artifacts
        .get_object(HISTORY_KEY)
        .await?
        .with_context(|| format!("No purchase history at s3://{}/{HISTORY_KEY}", artifacts.bucket()))?;
    let history = oms_pricing::read_csv(bytes.as_slice()).context("Failed to read the purchase history")?;
    let rows = history.len();
    // Training is CPU-bound: off the runtime's threads.
    let artifact = tokio::task::spawn_blocking(move || oms_pricing::train(history, &TrainOptions::new(version), &|_| ()))
        .await
        .context("The training task failed")?
        .context("Failed to train the pricing models")?;
    publish(artifacts, &artifact).await?;
    tracing::info!(version = %artifact.version, rows, test_rmse = artifact.report.test_rmse, "pricing models retrained and published");
    Ok(artifact)
}

/// Loads the version the pointer names into `model` whenever it differs from the one
/// loaded (`loaded`), every `every`, for the container's life.
pub fn follow_current(artifacts: Artifacts, model: PricingModel, mut loaded: Option<String>, every: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match current_version(&artifacts).await {
                Ok(Some(version)) if loaded.as_deref() != Some(version.as_str()) => match load(&artifacts, &version).await {
                    Ok(artifact) => {
                        tracing::info!(version = %version, "pricing model replaced");
                        model.replace(artifact);
                        loaded = Some(version);
                    }
                    Err(err) => tracing::error!(error = ?err, "the new pricing model could not be loaded; the old one answers"),
                },
                Ok(_) => {}
                Err(err) => tracing::warn!(error = ?err, "the pricing model pointer could not be read"),
            }
        }
    });
}
