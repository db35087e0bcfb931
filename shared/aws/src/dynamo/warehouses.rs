//! `WarehouseStore` on DynamoDB: every warehouse in the one partition `WAREHOUSES`.

use async_trait::async_trait;
use oms_domain::ports::{StoreError, WarehouseStore};
use oms_domain::stock::Warehouse;
use oms_domain::WarehouseId;

use super::items::WarehouseItem;
use super::{read_item, to_item, DynamoStore, Key};

#[async_trait]
impl WarehouseStore for DynamoStore {
    /// An unconditional `PutItem` of `WAREHOUSES` / `<id>`.
    async fn put_warehouse(&self, warehouse: &Warehouse) -> Result<(), StoreError> {
        let id = &warehouse.warehouse_id;
        let what = format!("warehouse {id}");
        self.put(to_item(&WarehouseItem::from(warehouse), &what)?, &what).await
    }

    /// A strongly consistent `GetItem` of `WAREHOUSES` / `<id>`.
    async fn get_warehouse(&self, id: &WarehouseId) -> Result<Option<Warehouse>, StoreError> {
        let what = format!("warehouse {id}");
        match self.get(Key::warehouse(id), &what).await? {
            Some(item) => Ok(Some(read_item::<WarehouseItem, _>(item, &what)?)),
            None => Ok(None),
        }
    }

    /// A strongly consistent `Query` of the partition `WAREHOUSES`, in sort key (= id) order.
    async fn list_warehouses(&self) -> Result<Vec<Warehouse>, StoreError> {
        let items = self.query_partition(Key::WAREHOUSES.to_owned(), "the warehouses").await?;
        items.into_iter().map(|item| read_item::<WarehouseItem, _>(item, "a warehouse")).collect()
    }
}
