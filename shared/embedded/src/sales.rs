//! `SalesHistory`: every reserved order as a row of `sales`, keyed by merchant and
//! `<placed_at>#<order id>`, its body the `oms_records::PurchaseRecord`. Rows are written
//! in the order's savepoint (`orders::update`, through `Effects::sale`).

use anyhow::Context;
use async_trait::async_trait;
use oms_domain::ports::{SalesHistory, StoreError};
use oms_domain::sales::{Sale, SaleKey, SalesPage, MAX_SALES_PAGE};
use oms_domain::MerchantId;
use oms_records::PurchaseRecord;
use rusqlite::{params, Connection};

use crate::db::CachedStatements;
use crate::Embedded;

/// Writes the sale's row, replacing an earlier one of the same order.
pub(crate) fn write_sale(conn: &Connection, sale: &Sale) -> anyhow::Result<()> {
    let body = serde_json::to_string(&PurchaseRecord::from(sale)).context("Failed to serialise the sale")?;
    let order_id = sale.order_id.to_string();
    conn.execute_cached("DELETE FROM sales WHERE order_id = ?1", [&order_id]).context("Failed to replace the sale row")?;
    conn.execute_cached(
        "INSERT INTO sales (merchant_id, sale_key, order_id, body) VALUES (?1, ?2, ?3, ?4)",
        params![sale.merchant_id.as_str(), sale.key().encode(), order_id, body],
    )
    .context("Failed to write the sale row")?;
    Ok(())
}

fn sale_from_body(body: &str) -> anyhow::Result<Sale> {
    let record: PurchaseRecord = serde_json::from_str(body).context("The stored sale is not valid JSON of a sale")?;
    Ok(Sale::try_from(record)?)
}

#[async_trait]
impl SalesHistory for Embedded {
    /// The primary key (merchant_id, sale_key), ascending, after the cursor's key.
    async fn sales(&self, merchant: &MerchantId, after: Option<&SaleKey>, limit: usize) -> Result<SalesPage, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the sales of merchant {merchant}"), e);
        let limit = limit.clamp(1, MAX_SALES_PAGE);
        let key = merchant.to_string();
        let after = after.map(SaleKey::encode).unwrap_or_default();
        let bodies: Vec<String> = self
            .db
            .call(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT body FROM sales WHERE merchant_id = ?1 AND sale_key > ?2 ORDER BY sale_key LIMIT ?3",
                )?;
                let rows = stmt.query_map(params![key, after, limit as i64], |row| row.get(0))?;
                Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
            })
            .await
            .map_err(failed)?;
        let sales = bodies.iter().map(|body| sale_from_body(body)).collect::<anyhow::Result<Vec<_>>>().map_err(failed)?;
        let next = (sales.len() == limit).then(|| sales.last().map(Sale::key)).flatten();
        Ok(SalesPage { sales, next })
    }

    async fn merchants_with_sales(&self) -> Result<Vec<MerchantId>, StoreError> {
        let failed = |e| StoreError::new("Failed to list the merchants with sales", e);
        let ids: Vec<String> = self
            .db
            .call(|conn| {
                let mut stmt = conn.prepare_cached("SELECT DISTINCT merchant_id FROM sales ORDER BY merchant_id")?;
                let rows = stmt.query_map([], |row| row.get(0))?;
                Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
            })
            .await
            .map_err(failed)?;
        ids.into_iter()
            .map(|id| MerchantId::parse(id).map_err(|e| failed(anyhow::anyhow!("A sale row names an invalid merchant: {e}"))))
            .collect()
    }
}
