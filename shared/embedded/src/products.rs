//! `ProductStore`: one row per SKU's listing in the reviewed catalogue (table of schema
//! step 30), with its version, its status and its place in the list by status
//! (`queue_key`, indexed with the status), and its promotion rank (indexed per merchant,
//! promoted rows only). A step is one `UPDATE ... WHERE version = ?`: of two steps taken
//! from one version, the second changes no row and reads the listing back as the conflict.

use anyhow::Context;
use async_trait::async_trait;
use oms_domain::ports::{CreateProductOutcome, ProductStore, ProductsPage, StoreError, UpdateProductOutcome};
use oms_domain::product::{Product, ProductStatus};
use oms_domain::{MerchantId, Sku};
use rusqlite::{params, OptionalExtension};

use crate::db::CachedStatements;
use crate::Embedded;

/// Version 30: the reviewed catalogue's listings.
pub(crate) const PRODUCTS: &str = "
CREATE TABLE IF NOT EXISTS products (
    sku         TEXT PRIMARY KEY NOT NULL,
    merchant_id TEXT NOT NULL,
    version     INTEGER NOT NULL,
    status      TEXT NOT NULL,
    queue_key   TEXT NOT NULL,
    promotion   INTEGER,
    body        TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS products_by_status ON products (status, queue_key);
CREATE INDEX IF NOT EXISTS products_promoted ON products (merchant_id, promotion, sku) WHERE promotion IS NOT NULL;
";

fn decode(body: &str) -> anyhow::Result<Product> {
    serde_json::from_str(body).context("A stored product listing is not its layout")
}

/// The columns a listing is written with: sku, merchant, version, status, queue key,
/// promotion and body.
type Row = (String, String, i64, &'static str, String, Option<u32>, String);

fn row_of(product: &Product) -> anyhow::Result<Row> {
    let body = serde_json::to_string(product).context("Failed to encode the product listing")?;
    let version = i64::try_from(product.version).context("A product listing's version is past what SQLite holds")?;
    Ok((
        product.sku.to_string(),
        product.merchant_id.to_string(),
        version,
        product.status.as_str(),
        product.queue_key(),
        product.promotion,
        body,
    ))
}

fn read_body(conn: &rusqlite::Connection, sku: &str) -> anyhow::Result<Option<String>> {
    conn.query_row_cached("SELECT body FROM products WHERE sku = ?1", [sku], |r| r.get(0))
        .optional()
        .context("Failed to query the products")
}

enum Written {
    Done,
    Stored(String),
    Missing,
}

#[async_trait]
impl ProductStore for Embedded {
    /// `INSERT ... ON CONFLICT DO NOTHING`; no row inserted reads the stored one.
    async fn create_product(&self, product: &Product) -> Result<CreateProductOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to write product {}", product.sku), e);
        let (sku, merchant, version, status, queue_key, promotion, body) = row_of(product).map_err(failed)?;
        let written = self
            .db
            .call(move |conn| {
                let inserted = conn
                    .execute_cached(
                        "INSERT INTO products (sku, merchant_id, version, status, queue_key, promotion, body)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (sku) DO NOTHING",
                        params![sku, merchant, version, status, queue_key, promotion, body],
                    )
                    .context("Failed to write the product row")?;
                if inserted == 1 {
                    return Ok(Written::Done);
                }
                Ok(read_body(conn, &sku)?.map_or(Written::Missing, Written::Stored))
            })
            .await
            .map_err(failed)?;
        match written {
            Written::Done => Ok(CreateProductOutcome::Created),
            Written::Stored(body) => Ok(CreateProductOutcome::Exists(Box::new(decode(&body).map_err(failed)?))),
            Written::Missing => Err(StoreError::msg(format!("product {} was neither inserted nor found", product.sku))),
        }
    }

    async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read product {sku}"), e);
        let key = sku.to_string();
        let body = self.db.read(move |conn| read_body(conn, &key)).await.map_err(failed)?;
        body.map(|b| decode(&b)).transpose().map_err(failed)
    }

    /// One `UPDATE` where the stored version is `previous.version`; no row changed reads
    /// the listing back (`Conflict`) or finds none (`NotFound`).
    async fn update_product(&self, previous: &Product, next: &Product) -> Result<UpdateProductOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to write product {}", next.sku), e);
        let (sku, _, to, status, queue_key, promotion, body) = row_of(next).map_err(failed)?;
        let from =
            i64::try_from(previous.version).context("A product listing's version is past what SQLite holds").map_err(failed)?;
        let written = self
            .db
            .call(move |conn| {
                let changed = conn
                    .execute_cached(
                        "UPDATE products SET version = ?2, status = ?3, queue_key = ?4, promotion = ?5, body = ?6
                         WHERE sku = ?1 AND version = ?7",
                        params![sku, to, status, queue_key, promotion, body, from],
                    )
                    .context("Failed to write the product row")?;
                if changed == 1 {
                    return Ok(Written::Done);
                }
                Ok(read_body(conn, &sku)?.map_or(Written::Missing, Written::Stored))
            })
            .await
            .map_err(failed)?;
        match written {
            Written::Done => Ok(UpdateProductOutcome::Updated),
            Written::Stored(body) => Ok(UpdateProductOutcome::Conflict(Box::new(decode(&body).map_err(failed)?))),
            Written::Missing => Ok(UpdateProductOutcome::NotFound),
        }
    }

    /// The index `products_by_status`, from after `after`, one more row than `limit` to
    /// tell whether a next page exists.
    async fn products_in_status(
        &self,
        status: ProductStatus,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ProductsPage, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to list the {status} products"), e);
        let after = after.unwrap_or_default().to_owned();
        let wanted = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
        let rows: Vec<String> = self
            .db
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT body FROM products WHERE status = ?1 AND queue_key > ?2 ORDER BY queue_key LIMIT ?3")
                    .context("Failed to prepare the products query")?;
                let rows = stmt
                    .query_map(params![status.as_str(), after, wanted], |r| r.get(0))
                    .context("Failed to query the products by status")?
                    .collect::<Result<Vec<String>, _>>()
                    .context("Failed to read the products by status")?;
                Ok(rows)
            })
            .await
            .map_err(failed)?;
        let mut products = rows.iter().map(|b| decode(b)).collect::<anyhow::Result<Vec<_>>>().map_err(failed)?;
        let next = if products.len() > limit {
            products.truncate(limit);
            products.last().map(Product::queue_key)
        } else {
            None
        };
        Ok(ProductsPage { products, next })
    }

    /// The partial index `products_promoted` of the merchant, by rank then SKU.
    async fn promoted_products(&self, merchant: &MerchantId) -> Result<Vec<Product>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to list merchant {merchant}'s promoted products"), e);
        let key = merchant.to_string();
        let rows: Vec<String> = self
            .db
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT body FROM products WHERE merchant_id = ?1 AND promotion IS NOT NULL ORDER BY promotion, sku",
                    )
                    .context("Failed to prepare the promoted products query")?;
                let rows = stmt
                    .query_map([key], |r| r.get(0))
                    .context("Failed to query the promoted products")?
                    .collect::<Result<Vec<String>, _>>()
                    .context("Failed to read the promoted products")?;
                Ok(rows)
            })
            .await
            .map_err(failed)?;
        rows.iter().map(|b| decode(b)).collect::<anyhow::Result<Vec<_>>>().map_err(failed)
    }
}
