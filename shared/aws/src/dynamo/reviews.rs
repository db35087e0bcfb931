//! `ReviewStore` on DynamoDB: the review under its order, `REVIEW#<order id>` /
//! `SKU#<sku>` (what keeps one review per order's SKU); a copy in its merchant's SKU's
//! partition, `REVIEWS#<merchant>#<sku>` / `AT#<time>#<order id>` (the listing, newest
//! first); and in that partition the SKU's rating, `RATING` (`count`, `stars`). See
//! `docs/dynamodb.md`, "Reviews".
//!
//! Adding a review is ONE `TransactWriteItems`: the review put on `attribute_not_exists(pk)`,
//! its copy, and the rating's `ADD count :one, stars :stars`. A review of an order's SKU
//! reviewed already cancels the whole transaction, so the rating counts exactly the
//! reviews stored, under concurrent reviews too.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use oms_domain::ports::{AddReviewOutcome, ReviewStore, StoreError};
use oms_domain::review::{Rating, Review};
use oms_domain::{MerchantId, OrderId, Sku};
use serde::{Deserialize, Serialize};

use super::{from_item, index_key, index_time, n, unexplained, DynamoStore, Key, Transact};
use crate::error::build_error;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ReviewItem {
    pk: String,
    sk: String,
    review: Review,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RatingItem {
    #[serde(default)]
    count: u32,
    #[serde(default)]
    stars: u32,
}

/// The sort key of a review in its SKU's partition, and the rating's.
const AT_PREFIX: &str = "AT#";
const RATING_SK: &str = "RATING";

impl Key {
    /// A review under its order: `REVIEW#<order id>` / `SKU#<sku>`.
    pub fn review(order: &OrderId, sku: &Sku) -> Self {
        Self { pk: format!("REVIEW#{order}"), sk: format!("SKU#{sku}") }
    }

    /// A review in its merchant's SKU's partition: `REVIEWS#<merchant>#<sku>` /
    /// `AT#<time>#<order id>`.
    pub fn review_listed(review: &Review) -> Self {
        Self {
            pk: reviews_partition(&review.merchant_id, &review.sku),
            sk: format!("{AT_PREFIX}{}#{}", index_time(review.at), review.order_id),
        }
    }

    /// A merchant's SKU's rating: `REVIEWS#<merchant>#<sku>` / `RATING`.
    pub fn rating(merchant: &MerchantId, sku: &Sku) -> Self {
        Self { pk: reviews_partition(merchant, sku), sk: RATING_SK.to_owned() }
    }
}

fn reviews_partition(merchant: &MerchantId, sku: &Sku) -> String {
    format!("REVIEWS#{}", index_key(merchant, sku.as_str()))
}

impl DynamoStore {
    fn review_put(&self, key: Key, review: &Review, what: &str) -> Result<TransactWriteItem, StoreError> {
        let item = super::to_item(&ReviewItem { pk: key.pk, sk: key.sk, review: review.clone() }, what)?;
        self.put_new(item, what)
    }

    fn rating_add(&self, review: &Review, what: &str) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Key::rating(&review.merchant_id, &review.sku).into_map()))
            .update_expression("ADD #count :one, stars :stars")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":stars", n(review.rating))
            .build()
            .map_err(|e| build_error(format!("Failed to build the rating's write of {what}"), e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

#[async_trait]
impl ReviewStore for DynamoStore {
    async fn add_review(&self, review: &Review) -> Result<AddReviewOutcome, StoreError> {
        let what = format!("the review of {} on order {}", review.sku, review.order_id);
        let key = Key::review(&review.order_id, &review.sku);
        let items = vec![
            self.review_put(key.clone(), review, &what)?,
            self.review_put(Key::review_listed(review), review, &what)?,
            self.rating_add(review, &what)?,
        ];
        match self.transact(items, &format!("add {what}")).await? {
            Transact::Written => Ok(AddReviewOutcome::Added),
            Transact::Cancelled(reasons) if reasons.first().is_some_and(|r| r.condition_failed()) => {
                let stored = self.get(key, &what).await?.ok_or_else(|| {
                    StoreError::msg(format!("Failed to add {what}: refused as reviewed, yet no review is stored"))
                })?;
                let stored: ReviewItem = from_item(stored, &what)?;
                Ok(AddReviewOutcome::AlreadyReviewed(Box::new(stored.review)))
            }
            Transact::Cancelled(reasons) => Err(StoreError::msg(format!("Failed to add {what}: {}", unexplained(&reasons)))),
        }
    }

    /// One `Query` of the SKU's partition on `begins_with(sk, "AT#")`, backwards.
    async fn reviews_of(&self, merchant: &MerchantId, sku: &Sku, limit: usize) -> Result<Vec<Review>, StoreError> {
        let what = format!("the reviews of {sku}");
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", super::s(reviews_partition(merchant, sku)))
            .expression_attribute_values(":prefix", super::s(AT_PREFIX))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| crate::error::sdk_error(format!("Failed to query {what}"), e))?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .take(limit)
            .map(|item| from_item::<ReviewItem>(item, &what).map(|stored| stored.review))
            .collect()
    }

    async fn rating_of(&self, merchant: &MerchantId, sku: &Sku) -> Result<Rating, StoreError> {
        let what = format!("the rating of {sku}");
        let stored = match self.get(Key::rating(merchant, sku), &what).await? {
            Some(item) => from_item::<RatingItem>(item, &what)?,
            None => RatingItem::default(),
        };
        Ok(Rating { count: stored.count, stars: stored.stars })
    }
}
