//! `ProductStore` on DynamoDB: the listing `SKU#<sku>` / `LISTING` (beside the SKU's
//! facts, with its `version` as an attribute), its place in the list by status,
//! `PRODUCTS_IN#<status>` / `<queue key>`, and while promoted its placement,
//! `PROMOTED#<merchant>` / `<rank, 4 digits>#<sku>` (copies of the listing, so a page of
//! the review queue or the promoted placements is one `Query`). See `docs/dynamodb.md`,
//! "The reviewed catalogue".
//!
//! Creating is ONE `TransactWriteItems` of the listing (`attribute_not_exists(pk)`) and its
//! list item. A step is ONE `TransactWriteItems` too: the listing put on `version = :read`,
//! its old list and placement items deleted where they move and the new ones put, so two
//! steps from one version leave exactly one, with its items.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use oms_domain::ports::{CreateProductOutcome, ProductStore, ProductsPage, StoreError, UpdateProductOutcome};
use oms_domain::product::{Product, ProductStatus};
use oms_domain::{MerchantId, Sku};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::{from_item, merchant_segment, n, s, to_item, unexplained, CancelReason, DynamoStore, Item, Key, Transact};
use crate::error::{build_error, sdk_error};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ListingItem {
    pk: String,
    sk: String,
    version: u64,
    product: Product,
}

/// A copy of the listing under another key (its place in a list).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CopyItem {
    pk: String,
    sk: String,
    product: Product,
}

impl Key {
    /// A SKU's listing in the reviewed catalogue: `SKU#<sku>` / `LISTING`.
    pub fn product(sku: &Sku) -> Self {
        Self { pk: format!("SKU#{sku}"), sk: "LISTING".to_owned() }
    }

    /// The list of listings in `status`: `PRODUCTS_IN#<status>`.
    pub fn products_in(status: ProductStatus) -> String {
        format!("PRODUCTS_IN#{}", status.as_str())
    }

    /// A listing's place in the list of its status.
    pub fn product_listed(product: &Product) -> Self {
        Self { pk: Self::products_in(product.status), sk: product.queue_key() }
    }

    /// The merchant's promoted placements: `PROMOTED#<merchant>`.
    pub fn promoted(merchant: &MerchantId) -> String {
        format!("PROMOTED#{}", merchant_segment(merchant))
    }

    /// A promoted listing's placement, `None` while not promoted.
    pub fn product_promoted(product: &Product) -> Option<Self> {
        product.promotion.map(|rank| Self { pk: Self::promoted(&product.merchant_id), sk: format!("{rank:04}#{}", product.sku) })
    }
}

impl DynamoStore {
    fn listing_item(product: &Product, what: &str) -> Result<Item, StoreError> {
        let key = Key::product(&product.sku);
        to_item(&ListingItem { pk: key.pk, sk: key.sk, version: product.version, product: product.clone() }, what)
    }

    fn copy_item(key: Key, product: &Product, what: &str) -> Result<Item, StoreError> {
        to_item(&CopyItem { pk: key.pk, sk: key.sk, product: product.clone() }, what)
    }

    fn delete_item(&self, key: Key, what: &str) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key.into_map()))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Every copy of `pk` from after `after`, until `limit` (or all, `None`) are read.
    async fn copies(
        &self,
        pk: String,
        after: Option<&str>,
        limit: Option<usize>,
        what: &str,
    ) -> Result<Vec<Product>, StoreError> {
        // A key condition takes no empty string: the first page has no `sk` condition.
        let mut values = HashMap::from([(":pk".to_owned(), s(pk))]);
        let condition = match after.filter(|a| !a.is_empty()) {
            Some(after) => {
                values.insert(":after".to_owned(), s(after));
                "pk = :pk AND sk > :after"
            }
            None => "pk = :pk",
        };
        let mut products = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(condition)
                .set_expression_attribute_values(Some(values.clone()))
                .consistent_read(true)
                .set_limit(limit.map(|l| i32::try_from(l).unwrap_or(i32::MAX)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error(format!("Failed to query {what}"), e))?;
            for item in output.items.unwrap_or_default() {
                products.push(from_item::<CopyItem>(item, what)?.product);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() && limit.is_none_or(|l| products.len() < l) => start = Some(key),
                _ => break,
            }
        }
        Ok(products)
    }
}

#[async_trait]
impl ProductStore for DynamoStore {
    /// One `TransactWriteItems`: the listing (`put_new`) and its list item. Cancelled by
    /// the listing's condition: `Exists`, the stored listing read.
    async fn create_product(&self, product: &Product) -> Result<CreateProductOutcome, StoreError> {
        let what = format!("write product {}", product.sku);
        let listed = Self::copy_item(Key::product_listed(product), product, &what)?;
        let items = vec![self.put_new(Self::listing_item(product, &what)?, &what)?, self.put_new(listed, &what)?];
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(CreateProductOutcome::Created),
            Transact::Cancelled(reasons) => reasons,
        };
        if reasons.first().is_some_and(CancelReason::condition_failed) {
            let stored = self
                .get_product(&product.sku)
                .await?
                .ok_or_else(|| StoreError::msg(format!("Failed to {what}: the listing in the way vanished")))?;
            return Ok(CreateProductOutcome::Exists(Box::new(stored)));
        }
        Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))))
    }

    /// A strongly consistent `GetItem`.
    async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        let what = format!("product {sku}");
        match self.get(Key::product(sku), &what).await? {
            Some(item) => Ok(Some(from_item::<ListingItem>(item, &what)?.product)),
            None => Ok(None),
        }
    }

    /// One `TransactWriteItems`: the listing put on `version = :read`, then its list item
    /// and placement moved (the old deleted where the key changes, the new put). Cancelled
    /// by the listing's condition: read it (`NotFound` or `Conflict`).
    async fn update_product(&self, previous: &Product, next: &Product) -> Result<UpdateProductOutcome, StoreError> {
        let what = format!("write product {}", next.sku);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::listing_item(next, &what)?))
            .condition_expression("version = :read")
            .expression_attribute_values(":read", n(previous.version))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        let (old, new) = (Key::product_listed(previous), Key::product_listed(next));
        if old != new {
            items.push(self.delete_item(old, &what)?);
        }
        items.push(self.unconditional_put(Self::copy_item(new, next, &what)?, &what)?);
        let (old, new) = (Key::product_promoted(previous), Key::product_promoted(next));
        if let Some(old) = old.filter(|o| Some(o) != new.as_ref()) {
            items.push(self.delete_item(old, &what)?);
        }
        if let Some(new) = new {
            items.push(self.unconditional_put(Self::copy_item(new, next, &what)?, &what)?);
        }
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(UpdateProductOutcome::Updated),
            Transact::Cancelled(reasons) => reasons,
        };
        if reasons.first().is_some_and(CancelReason::condition_failed) {
            return Ok(match self.get_product(&next.sku).await? {
                None => UpdateProductOutcome::NotFound,
                Some(stored) => UpdateProductOutcome::Conflict(Box::new(stored)),
            });
        }
        Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))))
    }

    /// Strongly consistent `Query`s of `PRODUCTS_IN#<status>`, `sk > :after`, until one
    /// more item than `limit` is read (to tell whether a next page exists) or none are left.
    async fn products_in_status(
        &self,
        status: ProductStatus,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ProductsPage, StoreError> {
        let what = format!("the {status} products");
        let mut products = self.copies(Key::products_in(status), after, Some(limit + 1), &what).await?;
        let next = if products.len() > limit {
            products.truncate(limit);
            products.last().map(Product::queue_key)
        } else {
            None
        };
        Ok(ProductsPage { products, next })
    }

    /// Strongly consistent `Query`s of `PROMOTED#<merchant>`: by rank, then SKU.
    async fn promoted_products(&self, merchant: &MerchantId) -> Result<Vec<Product>, StoreError> {
        let what = format!("merchant {merchant}'s promoted products");
        self.copies(Key::promoted(merchant), None, None, &what).await
    }
}
