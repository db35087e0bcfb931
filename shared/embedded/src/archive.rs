//! `OrderArchive`: every order in order id order, a page per call, for analytics.

use anyhow::Context as _;
use async_trait::async_trait;
use oms_domain::ports::{OrderArchive, StoreError};
use oms_domain::{MerchantId, Order, OrderId};

use crate::Embedded;

#[async_trait]
impl OrderArchive for Embedded {
    async fn orders_after(
        &self,
        merchant: Option<&MerchantId>,
        after: Option<&OrderId>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let merchant = merchant.map(ToString::to_string);
        let after = after.map(ToString::to_string).unwrap_or_default();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .call(move |conn| {
                let ids: Vec<String> = {
                    let mut stmt = conn
                        .prepare_cached(
                            "SELECT order_id FROM orders WHERE order_id > ?1 AND (?2 IS NULL OR merchant_id = ?2)
                             ORDER BY order_id LIMIT ?3",
                        )
                        .context("Failed to prepare the archive page")?;
                    let rows = stmt
                        .query_map(rusqlite::params![after, merchant, limit], |row| row.get(0))
                        .context("Failed to read the archive page")?;
                    rows.collect::<Result<_, _>>().context("Failed to read an order id")?
                };
                ids.iter().map(|id| crate::orders::stored_order(conn, id)).collect()
            })
            .await
            .map_err(|e| StoreError::new("Failed to read a page of orders for analytics", e))
    }
}
