//! `WarehouseStore`: warehouses as JSON bodies keyed by id.

use crate::db::CachedStatements;
use anyhow::Context;
use async_trait::async_trait;
use oms_domain::ports::{PutWarehouse, StoreError, WarehouseStore};
use oms_domain::stock::Warehouse;
use oms_domain::WarehouseId;
use rusqlite::{params, OptionalExtension};

use crate::rows::{warehouse_body, warehouse_from_body};
use crate::Embedded;

#[async_trait]
impl WarehouseStore for Embedded {
    /// One upsert whose update is conditional on the stored body's `merchant_id`: no row
    /// changed means another merchant's warehouse has the id.
    async fn put_warehouse(&self, warehouse: &Warehouse) -> Result<PutWarehouse, StoreError> {
        let id = warehouse.warehouse_id.clone();
        let body = warehouse_body(warehouse).map_err(|e| StoreError::new(format!("Failed to serialise warehouse {id}"), e))?;
        let key = id.clone();
        self.db
            .call(move |conn| {
                let changed = conn
                    .execute_cached(
                        "INSERT INTO warehouses (warehouse_id, body) VALUES (?1, ?2)
                         ON CONFLICT (warehouse_id) DO UPDATE SET body = excluded.body
                         WHERE json_extract(warehouses.body, '$.merchant_id') = json_extract(excluded.body, '$.merchant_id')",
                        params![key.as_str(), body],
                    )
                    .context("Failed to write the warehouse row")?;
                Ok(if changed == 0 { PutWarehouse::OwnedByAnother } else { PutWarehouse::Stored })
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
                    .map(|body: String| warehouse_from_body(&body))
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
                bodies.iter().map(|body| warehouse_from_body(body)).collect()
            })
            .await
            .map_err(|e| StoreError::new("Failed to list warehouses", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"warehouse_id":"WH-1","name":"Hangzhou North","merchant_id":"m-1","province":"Zhejiang","city":"Hangzhou","lat":30.2741,"lon":120.1551}"#;

    fn warehouse() -> Warehouse {
        oms_conformance::fixtures::warehouse("WH-1", "Hangzhou North")
    }

    #[tokio::test]
    async fn a_warehouse_row_holds_todays_body_and_reads_back() {
        let store = Embedded::open_in_memory().unwrap();
        store.put_warehouse(&warehouse()).await.unwrap();
        let body: String = store
            .db
            .call_now(|conn| Ok(conn.query_row("SELECT body FROM warehouses WHERE warehouse_id = 'WH-1'", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(body, BODY);

        let other = Embedded::open_in_memory().unwrap();
        other
            .db
            .call_now(|conn| {
                conn.execute("INSERT INTO warehouses (warehouse_id, body) VALUES ('WH-1', ?1)", [BODY])?;
                Ok(())
            })
            .unwrap();
        assert_eq!(other.get_warehouse(&WarehouseId::parse("WH-1").unwrap()).await.unwrap(), Some(warehouse()));
    }
}
