//! `WarehouseStore` on DynamoDB: every warehouse in the one partition `WAREHOUSES`.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use oms_domain::ports::{PutWarehouse, StoreError, WarehouseStore};
use oms_domain::stock::Warehouse;
use oms_domain::WarehouseId;

use super::items::WarehouseItem;
use super::{read_item, s, to_item, DynamoStore, Key};

#[async_trait]
impl WarehouseStore for DynamoStore {
    /// A `PutItem` of `WAREHOUSES` / `<id>` conditional on
    /// `attribute_not_exists(pk) OR merchant_id = :merchant`; a failed condition is
    /// `OwnedByAnother`.
    async fn put_warehouse(&self, warehouse: &Warehouse) -> Result<PutWarehouse, StoreError> {
        let id = &warehouse.warehouse_id;
        let what = format!("warehouse {id}");
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&WarehouseItem::from(warehouse), &what)?))
            .condition_expression("attribute_not_exists(pk) OR #merchant = :merchant")
            .expression_attribute_names("#merchant", "merchant_id")
            .expression_attribute_values(":merchant", s(warehouse.merchant_id.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(PutWarehouse::Stored),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => Ok(PutWarehouse::OwnedByAnother),
                _ => Err(crate::error::sdk_error(format!("Failed to store {what}"), err)),
            },
        }
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
