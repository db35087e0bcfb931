//! `ReviewStore`: one row per review, keyed by (order, SKU) (the table of schema step 28).
//! The primary key is the condition: a second review of one order's SKU inserts nothing
//! and answers the stored one. A SKU's rating is counted from its rows, so it cannot
//! drift from them.

use anyhow::Context;
use async_trait::async_trait;
use oms_domain::ports::{AddReviewOutcome, ReviewStore, StoreError};
use oms_domain::review::{Rating, Review};
use oms_domain::{MerchantId, Sku};
use rusqlite::{params, OptionalExtension};

use crate::db::{index_time, CachedStatements};
use crate::Embedded;

/// Version 28: buyers' reviews, one per (order, SKU), listed per merchant's SKU newest first.
pub(crate) const REVIEWS: &str = "
CREATE TABLE IF NOT EXISTS reviews (
    order_id    TEXT NOT NULL,
    sku         TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    at          TEXT NOT NULL,
    rating      INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body        TEXT NOT NULL,
    PRIMARY KEY (order_id, sku)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reviews_by_sku ON reviews (merchant_id, sku, at, order_id);
";

fn decode(body: &str) -> anyhow::Result<Review> {
    serde_json::from_str(body).context("A stored review is not its layout")
}

#[async_trait]
impl ReviewStore for Embedded {
    /// An insert that does nothing on the (order, SKU) taken, then the stored row read back.
    async fn add_review(&self, review: &Review) -> Result<AddReviewOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to store the review of {} on {}", review.sku, review.order_id), e);
        let body = serde_json::to_string(review).context("Failed to encode the review").map_err(failed)?;
        let (order, sku, merchant, at) =
            (review.order_id.to_string(), review.sku.to_string(), review.merchant_id.to_string(), index_time(review.at));
        let rating = review.rating;
        let stored: Option<String> = self
            .db
            .call(move |conn| {
                let written = conn
                    .execute_cached(
                        "INSERT INTO reviews (order_id, sku, merchant_id, at, rating, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT (order_id, sku) DO NOTHING",
                        params![order, sku, merchant, at, rating, body],
                    )
                    .context("Failed to write the review row")?;
                if written == 1 {
                    return Ok(None);
                }
                conn.query_row_cached("SELECT body FROM reviews WHERE order_id = ?1 AND sku = ?2", params![order, sku], |r| {
                    r.get(0)
                })
                .optional()
                .context("Failed to read the review stored before")
            })
            .await
            .map_err(failed)?;
        match stored {
            None => Ok(AddReviewOutcome::Added),
            Some(body) => Ok(AddReviewOutcome::AlreadyReviewed(Box::new(decode(&body).map_err(failed)?))),
        }
    }

    async fn reviews_of(&self, merchant: &MerchantId, sku: &Sku, limit: usize) -> Result<Vec<Review>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the reviews of {sku}"), e);
        let (merchant, sku) = (merchant.to_string(), sku.to_string());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let bodies: Vec<String> = self
            .db
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT body FROM reviews WHERE merchant_id = ?1 AND sku = ?2 ORDER BY at DESC, order_id DESC LIMIT ?3",
                    )
                    .context("Failed to prepare the reviews' lookup")?;
                let rows = stmt.query_map(params![merchant, sku, limit], |r| r.get(0)).context("Failed to query the reviews")?;
                rows.collect::<Result<_, _>>().context("Failed to read the reviews")
            })
            .await
            .map_err(failed)?;
        bodies.iter().map(|body| decode(body)).collect::<anyhow::Result<_>>().map_err(failed)
    }

    async fn rating_of(&self, merchant: &MerchantId, sku: &Sku) -> Result<Rating, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the rating of {sku}"), e);
        let (merchant, sku) = (merchant.to_string(), sku.to_string());
        let (count, stars): (i64, i64) = self
            .db
            .read(move |conn| {
                conn.query_row_cached(
                    "SELECT COUNT(*), COALESCE(SUM(rating), 0) FROM reviews WHERE merchant_id = ?1 AND sku = ?2",
                    params![merchant, sku],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .context("Failed to count the reviews")
            })
            .await
            .map_err(failed)?;
        let figure = |n: i64| u32::try_from(n).context("A review count out of range").map_err(failed);
        Ok(Rating { count: figure(count)?, stars: figure(stars)? })
    }
}
