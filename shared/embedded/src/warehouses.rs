//! `WarehouseStore`: warehouses as JSON bodies keyed by id.

use crate::db::CachedStatements;
use anyhow::Context;
use async_trait::async_trait;
use oms_domain::ports::{StoreError, WarehouseStore};
use oms_domain::stock::Warehouse;
use oms_domain::WarehouseId;
use rusqlite::{params, OptionalExtension};

use crate::Embedded;

#[async_trait]
impl WarehouseStore for Embedded {
    async fn put_warehouse(&self, warehouse: &Warehouse) -> Result<(), StoreError> {
        let id = warehouse.warehouse_id.clone();
        let body =
            serde_json::to_string(warehouse).map_err(|e| StoreError::new(format!("Failed to serialise warehouse {id}"), e))?;
        let key = id.clone();
        self.db
            .call(move |conn| {
                conn.execute_cached(
                    "INSERT INTO warehouses (warehouse_id, body) VALUES (?1, ?2)
                     ON CONFLICT (warehouse_id) DO UPDATE SET body = excluded.body",
                    params![key.as_str(), body],
                )
                .context("Failed to write the warehouse row")?;
                Ok(())
            })
            .await
            .map_err(|e| StoreError::new(format!("Failed to store warehouse {id}"), e))
    }

    async fn get_warehouse(&self, id: &WarehouseId) -> Result<Option<Warehouse>, StoreError> {
        let key = id.clone();
        self.db
            .call(move |conn| {
                conn.query_row_cached("SELECT body FROM warehouses WHERE warehouse_id = ?1", [key.as_str()], |row| row.get(0))
                    .optional()
                    .context("Failed to query the warehouses table")?
                    .map(|body: String| decode(&body))
                    .transpose()
            })
            .await
            .map_err(|e| StoreError::new(format!("Failed to read warehouse {id}"), e))
    }

    async fn list_warehouses(&self) -> Result<Vec<Warehouse>, StoreError> {
        self.db
            .call(|conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT body FROM warehouses ORDER BY warehouse_id")
                    .context("Failed to prepare the listing")?;
                let bodies = stmt
                    .query_map([], |row| row.get::<_, String>(0))
                    .context("Failed to list the warehouses")?
                    .collect::<Result<Vec<_>, _>>()
                    .context("Failed to read the warehouses")?;
                bodies.iter().map(|body| decode(body)).collect()
            })
            .await
            .map_err(|e| StoreError::new("Failed to list warehouses", e))
    }
}

fn decode(body: &str) -> anyhow::Result<Warehouse> {
    serde_json::from_str(body).context("The stored warehouse is not valid JSON of a warehouse")
}
