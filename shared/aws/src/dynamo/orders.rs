//! `OrderStore` on DynamoDB: the order item, its (channel, merchant, external id) marker, and the
//! four lookup indexes.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem};
use oms_domain::order::{Channel, Order};
use oms_domain::ports::{InsertOutcome, OrderLookup, OrderStore, StoreError, UpdateOutcome};
use oms_domain::{ExternalId, MerchantId, OrderId};

use super::items::{DedupeItem, OrderItem};
use super::{from_item, n, read_item, s, to_item, unexplained, CancelReason, DynamoStore, Item, Key, Transact};
use crate::error::{build_error, sdk_error};

/// Most orders one lookup page asks for.
const QUERY_PAGE: usize = 100;

impl DynamoStore {
    /// The order item at `version` (layout: `items::OrderItem`).
    fn order_item(order: &Order, version: u64) -> Result<Item, StoreError> {
        to_item(&OrderItem::new(order, version), &format!("order {}", order.order_id))
    }

    /// The order's id under a dedupe marker, if that order was ever stored.
    async fn dedupe_target(&self, key: Key, what: &str) -> Result<Option<OrderId>, StoreError> {
        match self.get(key, what).await? {
            Some(item) => Ok(Some(
                from_item::<DedupeItem>(item, what)?
                    .target()
                    .map_err(|e| StoreError::new(format!("Failed to read {what} from its item"), e))?,
            )),
            None => Ok(None),
        }
    }

    /// The order an old-layout (channel, external id) marker names, if there is one and
    /// it is `merchant`'s: orders stored before the merchant was part of the key.
    async fn legacy_order(
        &self,
        channel: Channel,
        merchant: &MerchantId,
        external_id: &ExternalId,
    ) -> Result<Option<Order>, StoreError> {
        let what = format!("the order stored under the old marker of {channel} order {external_id}");
        let Some(order_id) = self.dedupe_target(Key::legacy_dedupe(channel, external_id), &what).await? else {
            return Ok(None);
        };
        let order = self
            .get_order(&order_id)
            .await?
            .ok_or_else(|| StoreError::msg(format!("Failed to read {what}: order {order_id} is missing")))?;
        Ok((&order.merchant_id == merchant).then_some(order))
    }

    /// Queries one lookup index for `value`, newest first, at most `limit` orders.
    async fn query_index(&self, index: &str, key_attr: &str, value: &str, limit: usize) -> Result<Vec<Order>, StoreError> {
        let mut orders = Vec::new();
        let mut start: Option<Item> = None;
        while orders.len() < limit {
            let page = (limit - orders.len()).min(QUERY_PAGE);
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression("#k = :v")
                .expression_attribute_names("#k", key_attr)
                .expression_attribute_values(":v", s(value))
                .scan_index_forward(false)
                .limit(i32::try_from(page).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error(format!("Failed to query orders by {key_attr} on index {index}"), e))?;
            for item in output.items.unwrap_or_default() {
                orders.push(read_item::<OrderItem, _>(item, "an order")?);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        orders.truncate(limit);
        Ok(orders)
    }
}

#[async_trait]
impl OrderStore for DynamoStore {
    /// One transaction: two puts, each conditional on `attribute_not_exists(pk)` (the
    /// (channel, merchant, external id) marker and the order at version 1), and a check
    /// that no marker of the old (channel, external id) layout exists. When the marker's
    /// condition fails, the order it points to is read back and returned as `Duplicate`.
    /// When only the old marker's check fails, its order is this merchant's (a
    /// `Duplicate`) or another merchant's (then the insert is sent again without the check).
    async fn insert_order(&self, order: &Order) -> Result<InsertOutcome, StoreError> {
        let id = &order.order_id;
        let what = format!("the order stored for {} order {} of {}", order.channel, order.external_id, order.merchant_id);
        let dedupe_key = Key::dedupe(order.channel, &order.merchant_id, &order.external_id);
        let dedupe = DedupeItem::new(order);
        let new_put = |item: Item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(|e| build_error(format!("Failed to build the insert of order {id}"), e))
        };
        let no_legacy_marker = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(Key::legacy_dedupe(order.channel, &order.external_id).into_map()))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| build_error(format!("Failed to build the insert of order {id}"), e))?;
        let mut items = vec![
            TransactWriteItem::builder().put(new_put(to_item(&dedupe, "the dedupe marker")?)?).build(),
            TransactWriteItem::builder().put(new_put(Self::order_item(order, 1)?)?).build(),
            TransactWriteItem::builder().condition_check(no_legacy_marker).build(),
        ];
        loop {
            let reasons = match self.transact(items.clone(), &format!("insert order {id}")).await? {
                Transact::Written => return Ok(InsertOutcome::Inserted),
                Transact::Cancelled(reasons) => reasons,
            };
            if reasons.first().is_some_and(CancelReason::condition_failed) {
                let existing_id = self
                    .dedupe_target(dedupe_key.clone(), &what)
                    .await?
                    .ok_or_else(|| StoreError::msg(format!("Failed to read {what}: its marker vanished")))?;
                let existing = self
                    .get_order(&existing_id)
                    .await?
                    .ok_or_else(|| StoreError::msg(format!("Failed to read {what}: order {existing_id} is missing")))?;
                return Ok(InsertOutcome::Duplicate(Box::new(existing)));
            }
            let legacy_only =
                items.len() == 3 && reasons.get(2).is_some_and(CancelReason::condition_failed) && reasons.len() == 3;
            if !legacy_only {
                return Err(StoreError::msg(format!("Failed to insert order {id}: {}", unexplained(&reasons))));
            }
            if let Some(existing) = self.legacy_order(order.channel, &order.merchant_id, &order.external_id).await? {
                return Ok(InsertOutcome::Duplicate(Box::new(existing)));
            }
            // Another merchant's order holds the old marker; no new ones are written, so
            // the check is not needed again.
            items.truncate(2);
        }
    }

    /// A strongly consistent `GetItem` of `ORDER#<id>`.
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let what = format!("order {id}");
        match self.get(Key::order(id), &what).await? {
            Some(item) => Ok(Some(read_item::<OrderItem, _>(item, &what)?)),
            None => Ok(None),
        }
    }

    /// A `PutItem` of the whole order at `version + 1`, conditional on
    /// `version = :expected` (which also fails when the order does not exist).
    async fn update_order(&self, order: &Order) -> Result<UpdateOutcome, StoreError> {
        let id = &order.order_id;
        let version = order.version + 1;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::order_item(order, version)?))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(order.version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(UpdateOutcome::Updated { version }),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => Ok(UpdateOutcome::VersionConflict),
                _ => Err(sdk_error(format!("Failed to update order {id}"), err)),
            },
        }
    }

    /// Queries the index the lookup names, newest first (descending `order_id`); the
    /// indexes are eventually consistent. `External` reads the (channel, merchant,
    /// external id) marker and then the order, both strongly consistent; without that
    /// marker, the old (channel, external id) one if its order is the merchant's.
    async fn find_orders(&self, lookup: &OrderLookup, limit: usize) -> Result<Vec<Order>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (index, attr, value) = match lookup {
            OrderLookup::External(channel, merchant, external_id) => {
                let what = format!("the order stored for {channel} order {external_id} of {merchant}");
                let Some(order_id) = self.dedupe_target(Key::dedupe(*channel, merchant, external_id), &what).await? else {
                    return Ok(self.legacy_order(*channel, merchant, external_id).await?.into_iter().collect());
                };
                return Ok(self.get_order(&order_id).await?.into_iter().collect());
            }
            OrderLookup::Customer(customer) => (super::INDEX_BY_CUSTOMER, "customer_key", customer.to_string()),
            // Normalised already: the port's contract, as a stored customer's phone is.
            OrderLookup::Phone(phone) => (super::INDEX_BY_PHONE, "phone_key", phone.clone()),
            OrderLookup::ExternalId(external_id) => (super::INDEX_BY_EXTERNAL_ID, "external_key", external_id.to_string()),
            OrderLookup::Channel(channel) => (super::INDEX_BY_CHANNEL, "channel_key", channel.as_str().to_owned()),
        };
        if value.is_empty() {
            return Ok(Vec::new());
        }
        self.query_index(index, attr, &value, limit).await
    }
}
