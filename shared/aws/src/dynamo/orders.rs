//! `OrderStore` on DynamoDB: the order item, its (channel, merchant, external id) marker, and the
//! four lookup indexes.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use oms_domain::messages::Outgoing;
use oms_domain::order::{Channel, Order, OrderStatus};
use oms_domain::ports::{
    Effects, HoldEffect, InsertOutcome, OrderQuery, OrderStore, OrdersPage, Page, ReleaseOutcome, StatusEntry, StoreError,
    UpdateOutcome,
};
use oms_domain::{CustomerId, ExternalId, MerchantId, OrderId, OrderNumber, Sku};

use super::items::{BackorderItem, DedupeItem, EventItem, OrderItem, OutboxItem};
use super::{
    from_item, index_key, index_time, n, s, status_partition, status_sort_key, to_item, unexplained, CancelReason, DynamoStore,
    Item, Key, Transact,
};
use crate::error::{build_error, sdk_error};

/// Most orders one lookup page asks for.
const QUERY_PAGE: usize = 100;

impl DynamoStore {
    /// The order item at `version` (layout: `items::OrderItem`).
    fn order_item(order: &Order, version: u64) -> Result<Item, StoreError> {
        to_item(&OrderItem::new(order, version), &format!("order {}", order.order_id))
    }

    /// The order an order item holds, with its moved timeline entries read back (a
    /// consistent `Query` of `ORDER#<id>`, `begins_with(sk, "EVENT#")`, paged), and how many
    /// entries its record had moved.
    async fn order_of_item(&self, item: Item, what: &str) -> Result<(Order, u64), StoreError> {
        let item: OrderItem = from_item(item, what)?;
        let moved_count = item.record.timeline_moved;
        let record = if moved_count == 0 {
            item.record
        } else {
            let moved = self.moved_events(&item.record.order_id, what).await?;
            item.record.with_moved(moved).map_err(|e| StoreError::new(format!("Failed to read {what} from its item"), e))?
        };
        let order = Order::try_from(record).map_err(|e| StoreError::new(format!("Failed to read {what} from its item"), e))?;
        Ok((order, moved_count))
    }

    /// Every order in the table, whole (its moved timeline entries read back), by a paged
    /// `Scan` of the order items (`sk = ORDER`). For the scheduled export only: never on a
    /// request's path.
    pub async fn all_orders(&self) -> Result<Vec<Order>, StoreError> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let mut orders = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("sk = :order AND begins_with(pk, :prefix)")
                .expression_attribute_values(":order", AttributeValue::S("ORDER".into()))
                .expression_attribute_values(":prefix", AttributeValue::S("ORDER#".into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("Failed to scan the table's orders", e))?;
            for item in page.items.unwrap_or_default() {
                orders.push(self.order_of_item(item, "an order of the export").await?.0);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(orders),
            }
        }
    }

    /// The moved timeline entries of an order, by seq.
    async fn moved_events(&self, order_id: &str, what: &str) -> Result<Vec<oms_records::EventRecord>, StoreError> {
        let items = self
            .query_partition_from(format!("ORDER#{order_id}"), Some(super::EVENT_PREFIX), &format!("the timeline of {what}"))
            .await?;
        items.into_iter().map(|item| Ok(from_item::<EventItem>(item, what)?.event)).collect()
    }

    /// The stored order and how many timeline entries its record had moved.
    async fn read_order(&self, id: &OrderId) -> Result<Option<(Order, u64)>, StoreError> {
        let what = format!("order {id}");
        match self.get(Key::order(id), &what).await? {
            Some(item) => Ok(Some(self.order_of_item(item, &what).await?)),
            None => Ok(None),
        }
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

    /// The order under the (channel, merchant, external id) marker, or under the old
    /// (channel, external id) one if that order is the merchant's; strongly consistent.
    async fn by_channel_key(
        &self,
        channel: Channel,
        merchant: &MerchantId,
        external_id: &ExternalId,
    ) -> Result<Option<Order>, StoreError> {
        let what = format!("the order stored for {channel} order {external_id} of {merchant}");
        match self.dedupe_target(Key::dedupe(channel, merchant, external_id), &what).await? {
            Some(order_id) => self.get_order(&order_id).await,
            None => self.legacy_order(channel, merchant, external_id).await,
        }
    }

    /// The items that insert a new order, for one transaction: the (channel, merchant,
    /// external id) marker and the order at version 1 (each `put_new`, in that order), its
    /// entries in the index of backorders when it is stored backordered or on hold, and the
    /// outbox items of `send`.
    pub(super) fn new_order_items(&self, order: &Order, send: &[Outgoing]) -> Result<Vec<TransactWriteItem>, StoreError> {
        let id = &order.order_id;
        let dedupe = DedupeItem::new(order);
        let mut items = vec![
            self.put_new(to_item(&dedupe, "the dedupe marker")?, "the dedupe marker")?,
            self.put_new(Self::order_item(order, 1)?, &format!("order {id}"))?,
        ];
        // An order stored already backordered enters the index of backorders in the same write.
        for entry in BackorderItem::of(order) {
            let item = to_item(&entry, &format!("a backorder entry of order {id}"))?;
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .build()
                .map_err(|e| build_error(format!("Failed to build the insert of order {id}"), e))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        items.extend(self.outbox_puts(send, id)?);
        Ok(items)
    }

    /// Up to `want` orders of one lookup index partition (`attr = value`) that pass
    /// `filters` (further index keys that must equal their values), newest first,
    /// starting after order `after`. Follows `LastEvaluatedKey` until `want` are found or
    /// the partition ends: the filters are applied before the page is cut.
    async fn query_index(
        &self,
        (index, attr, value): (&str, &str, String),
        filters: &[(&str, String)],
        after: Option<&OrderId>,
        want: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let mut orders = Vec::new();
        let mut start: Option<Item> = after.map(|after| {
            let key = Key::order(after);
            Item::from([
                (attr.to_owned(), s(value.clone())),
                ("order_id".to_owned(), s(after.as_str())),
                ("pk".to_owned(), s(key.pk)),
                ("sk".to_owned(), s(key.sk)),
            ])
        });
        let filter = (!filters.is_empty())
            .then(|| filters.iter().enumerate().map(|(i, _)| format!("#f{i} = :f{i}")).collect::<Vec<_>>().join(" AND "));
        while orders.len() < want {
            // With filters, an evaluated item may not match: read a whole page at a time.
            let page = if filters.is_empty() { want - orders.len() } else { QUERY_PAGE };
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression("#k = :v")
                .expression_attribute_names("#k", attr)
                .expression_attribute_values(":v", s(value.clone()))
                .set_filter_expression(filter.clone())
                .scan_index_forward(false)
                .limit(i32::try_from(page.min(QUERY_PAGE)).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            for (i, (name, wanted)) in filters.iter().enumerate() {
                request = request
                    .expression_attribute_names(format!("#f{i}"), *name)
                    .expression_attribute_values(format!(":f{i}"), s(wanted.clone()));
            }
            let output =
                request.send().await.map_err(|e| sdk_error(format!("Failed to query orders by {attr} on index {index}"), e))?;
            for item in output.items.unwrap_or_default() {
                orders.push(self.order_of_item(item, "an order").await?.0);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        orders.truncate(want);
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
    /// An order stored already backordered has its entries in the index of backorders
    /// put in the same transaction, and so are the outbox items of `send`.
    async fn insert_order_sending(&self, order: &Order, send: &[Outgoing]) -> Result<InsertOutcome, StoreError> {
        let id = &order.order_id;
        let what = format!("the order stored for {} order {} of {}", order.channel, order.external_id, order.merchant_id);
        let dedupe_key = Key::dedupe(order.channel, &order.merchant_id, &order.external_id);
        let no_legacy_marker = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(Key::legacy_dedupe(order.channel, &order.external_id).into_map()))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| build_error(format!("Failed to build the insert of order {id}"), e))?;
        let mut items = self.new_order_items(order, send)?;
        items.insert(2, TransactWriteItem::builder().condition_check(no_legacy_marker).build());
        let mut legacy_checked = true;
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
            let legacy_only = legacy_checked
                && reasons.get(2).is_some_and(CancelReason::condition_failed)
                && reasons.iter().filter(|r| r.condition_failed()).count() == 1;
            if !legacy_only {
                return Err(StoreError::msg(format!("Failed to insert order {id}: {}", unexplained(&reasons))));
            }
            if let Some(existing) = self.legacy_order(order.channel, &order.merchant_id, &order.external_id).await? {
                return Ok(InsertOutcome::Duplicate(Box::new(existing)));
            }
            // Another merchant's order holds the old marker; no new ones are written, so
            // the check is not needed again.
            items.remove(2);
            legacy_checked = false;
        }
    }

    /// A strongly consistent `GetItem` of `ORDER#<id>`, and, when its record moved older
    /// timeline entries out, a consistent `Query` of its `EVENT#<seq>` items.
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self.read_order(id).await?.map(|(order, _)| order))
    }

    /// A `PutItem` of the whole order at `version + 1`, conditional on
    /// `version = :expected` (which also fails when the order does not exist), when the
    /// order's entries in the index of backorders stay as they are; otherwise one
    /// `TransactWriteItems` of that conditional Put with the Deletes and Puts of the
    /// entries that change, so the index never disagrees with the order. The entries the
    /// stored version has are known from a consistent read of it, made only for an order
    /// that was ever backordered or on hold (its timeline, which only grows, says so); the version
    /// condition in the transaction makes sure the version read is the one replaced.
    ///
    /// The same transaction puts the `EVENT#<seq>` items of the timeline entries this
    /// version moves out of the order item (all but the newest
    /// `oms_records::TIMELINE_KEPT`) that the stored version had not moved yet; the same
    /// consistent read says how many it had, made only for an order with more entries
    /// than the item keeps.
    ///
    /// With effects it is always that transaction, with (first among the extras, so a
    /// failed hold condition reads as a lost race) for a hold to release the release of its
    /// first part: the reservation item's `Delete` on `hold_id = :hold AND parts_held = 0`
    /// and its lines' stock updates; for an order that must hold nothing a
    /// `ConditionCheck` that its reservation item does not exist (for a claim's units given
    /// back, then `claim_return_items`: the sale's `CLOSED` item checked absent and the shard's
    /// `Update`, or, once the close began, the `CLOSED` item's `units_returned`, the stock
    /// `Update` and the ledger `Put`); then the outbox items. The
    /// hold is read first (another hold than the one named, or none: `VersionConflict`) and
    /// its later parts, if any, are given back before the transaction, each atomically (a
    /// hold larger than one transaction cannot go in one; a crash between leaves the order
    /// as it was with part of its hold, which the caller's retry releases).
    async fn update_order_with(&self, order: &Order, effects: &Effects) -> Result<UpdateOutcome, StoreError> {
        let ever_backordered =
            order.timeline.iter().any(|event| matches!(event.status, OrderStatus::Backordered | OrderStatus::OnHold));
        let moves = oms_records::moved_count(order.timeline.len()) > 0;
        let mut changes = IndexChanges::default();
        if ever_backordered || moves {
            let Some((stored, stored_moved)) = self.read_order(&order.order_id).await? else {
                return Ok(UpdateOutcome::VersionConflict);
            };
            if stored.version != order.version {
                return Ok(UpdateOutcome::VersionConflict);
            }
            changes = IndexChanges {
                before: BackorderItem::of(&stored),
                after: BackorderItem::of(order),
                events: oms_records::newly_moved(order, usize::try_from(stored_moved).unwrap_or(usize::MAX)),
            };
        }
        if changes.is_none() && effects.is_none() {
            return self.put_order(order).await;
        }
        // The hold's items go first among the extras: the first one carries the hold's
        // condition, so its failure reads as a lost race.
        let mut extra = Vec::new();
        // Leading extras whose failed condition reads as a lost race (the hold's; and the
        // sale's close not begun, or begun, for a claim's units given back).
        let mut race_conditions = 1;
        match &effects.hold {
            HoldEffect::Untouched => {}
            HoldEffect::ReturnClaim(claim) => {
                extra.push(self.no_hold_check(&order.order_id)?);
                extra.extend(self.claim_return_items(claim).await?);
                race_conditions = 2;
            }
            HoldEffect::Ship(ship) => match self.ship_items(&order.order_id, ship).await? {
                Some(items) => extra.extend(items),
                None => return Ok(UpdateOutcome::VersionConflict),
            },
            HoldEffect::NoneHeld => extra.push(self.no_hold_check(&order.order_id)?),
            HoldEffect::Release(hold_id) => {
                let Some(stored) = self.hold_to_release(&order.order_id, hold_id).await? else {
                    return Ok(UpdateOutcome::VersionConflict);
                };
                let note = oms_domain::ledger::ReleaseNote::of_order(order);
                self.release_later_parts(&order.order_id, &stored, &note).await?;
                let release = self.release_first_part(&order.order_id, &stored, &note)?;
                if 1 + changes.len() + effects.send.len() + release.len() <= MAX_TRANSACT_ITEMS {
                    extra.extend(release);
                } else {
                    // A full first part beside moved timeline entries does not fit one
                    // transaction: give the hold back on its own first (the order stays as
                    // it was if the write then fails; the caller's retry finishes it).
                    match self.release_noted(&order.order_id, hold_id, &note).await? {
                        ReleaseOutcome::Released(_) => {}
                        ReleaseOutcome::NothingHeld | ReleaseOutcome::NotThatHold => return Ok(UpdateOutcome::VersionConflict),
                    }
                }
            }
        }
        extra.extend(self.outbox_puts(&effects.send, &order.order_id)?);
        if let Some(sale) = &effects.sale {
            self.mark_merchant_with_sales(&sale.merchant_id).await?;
            extra.push(self.sale_put(sale)?);
        }
        self.update_in_transaction(order, changes, extra, race_conditions).await
    }

    /// The orders in `status` since before `before`: one `Query` of the index `by_status`
    /// per shard (`status_key = <status>#<shard> AND status_since_key < :before`, or
    /// `BETWEEN :after AND :before` past a cursor, the cursor's own entry dropped),
    /// ascending, `Limit`, merged oldest first and cut at `limit`. A final status has no
    /// entries.
    async fn orders_in_status_since(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        after: Option<&StatusEntry>,
        limit: usize,
    ) -> Result<Vec<StatusEntry>, StoreError> {
        let what = format!("the orders {status} since before {before}");
        let before = index_time(before);
        let after = after.map(|entry| status_sort_key(entry.since, &entry.order_id));
        let condition = match after {
            Some(_) => "status_key = :key AND status_since_key BETWEEN :after AND :before",
            None => "status_key = :key AND status_since_key < :before",
        };
        let mut found: Vec<StatusEntry> = Vec::new();
        for shard in 0..super::STATUS_SHARDS {
            let mut values = std::collections::HashMap::from([
                (":key".to_owned(), s(status_partition(status, shard))),
                (":before".to_owned(), s(&before)),
            ]);
            if let Some(after) = &after {
                values.insert(":after".to_owned(), s(after));
            }
            let mut start: Option<Item> = None;
            let mut taken = 0;
            while taken < limit {
                let output = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(super::INDEX_BY_STATUS)
                    .key_condition_expression(condition)
                    .set_expression_attribute_values(Some(values.clone()))
                    .scan_index_forward(true)
                    .limit(i32::try_from((limit - taken).min(QUERY_PAGE) + 1).unwrap_or(i32::MAX))
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(|e| sdk_error(format!("Failed to query {what}"), e))?;
                for item in output.items.unwrap_or_default() {
                    let entry: IndexedStatus = from_item(item, &what)?;
                    if after.as_deref() == Some(entry.status_since_key.as_str()) {
                        continue;
                    }
                    found.push(entry.entry().map_err(|e| StoreError::msg(format!("Failed to read {what}: {e}")))?);
                    taken += 1;
                }
                match output.last_evaluated_key {
                    Some(key) if !key.is_empty() => start = Some(key),
                    _ => break,
                }
            }
        }
        found.sort();
        found.truncate(limit);
        Ok(found)
    }

    /// The backorders of `sku`: a consistent `Query` of `BACKORDER#<sku>`, ascending
    /// (`<since>#<order id>`), `Limit`, paged until `limit` entries or the partition's end.
    async fn backorders_waiting_for(&self, sku: &Sku, limit: usize) -> Result<Vec<OrderId>, StoreError> {
        let what = format!("the backorders of {sku}");
        let mut ids = Vec::new();
        let mut start: Option<Item> = None;
        while ids.len() < limit {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(Key::backorder_partition(sku)))
                .consistent_read(true)
                .scan_index_forward(true)
                .limit(i32::try_from((limit - ids.len()).min(QUERY_PAGE)).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error(format!("Failed to query {what}"), e))?;
            for item in output.items.unwrap_or_default() {
                let entry: BackorderItem = from_item(item, &what)?;
                ids.push(entry.target().map_err(|e| StoreError::new(format!("Failed to read {what}"), e))?);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        ids.truncate(limit);
        Ok(ids)
    }

    /// Queries the most selective index the query names (external id, order number,
    /// phone, customer, channel: each keyed `<merchant>#<value>`), with a
    /// `FilterExpression` for the other filters, newest first (descending `order_id`),
    /// following `LastEvaluatedKey` until the page and one more order are found; the
    /// indexes are eventually consistent. (channel, external id) reads the dedupe marker
    /// and then the order, both strongly consistent.
    async fn find_orders(&self, query: &OrderQuery, page: &Page) -> Result<OrdersPage, StoreError> {
        let limit = page.limit();
        let merchant = &query.merchant;
        if let (Some(channel), Some(external_id)) = (query.channel, &query.external_id) {
            let found = self.by_channel_key(channel, merchant, external_id).await?;
            let matches =
                found.into_iter().filter(|o| query.matches(o) && page.after().is_none_or(|after| &o.order_id < after)).collect();
            return Ok(OrdersPage::from_matches(matches, limit));
        }
        let mut keys: Vec<(&str, &str, String)> = Vec::new();
        let mut given = |index: &'static str, attr: &'static str, value: Option<&str>| {
            if let Some(value) = value {
                keys.push((index, attr, index_key(merchant, value)));
            }
        };
        // Most selective first: the first one given is queried, the others filter.
        given(super::INDEX_BY_EXTERNAL_ID, "external_key", query.external_id.as_ref().map(ExternalId::as_str));
        given(super::INDEX_BY_ORDER_NUMBER, "order_number_key", query.order_number.as_ref().map(OrderNumber::as_str));
        // Normalised already: the port's contract, as a stored customer's phone is.
        given(super::INDEX_BY_PHONE, "phone_key", query.phone.as_deref());
        given(super::INDEX_BY_CARD, "card_key", query.card.as_deref());
        given(super::INDEX_BY_ADDRESS, "address_key", query.address.as_deref());
        given(super::INDEX_BY_CUSTOMER, "customer_key", query.customer.as_ref().map(CustomerId::as_str));
        given(super::INDEX_BY_CHANNEL, "channel_key", query.channel.as_ref().map(Channel::as_str));
        let status = query.status.map(|status| ("status", status.as_str().to_owned()));
        let mut keys = keys.into_iter();
        let Some(queried) = keys.next() else {
            let Some(status) = status else {
                return Err(StoreError::msg(format!("Failed to find orders by {query:?}: no filter beside the merchant")));
            };
            // By status alone: no index holds a merchant's orders by status, so each of its
            // channels is queried with the status as a filter, and the answers merged.
            let mut matches = Vec::new();
            for channel in Channel::ALL {
                let queried = (super::INDEX_BY_CHANNEL, "channel_key", index_key(merchant, channel.as_str()));
                matches.extend(self.query_index(queried, std::slice::from_ref(&status), page.after(), limit + 1).await?);
            }
            matches.sort_by(|a, b| b.order_id.cmp(&a.order_id));
            matches.truncate(limit + 1);
            return Ok(OrdersPage::from_matches(matches, limit));
        };
        let filters: Vec<(&str, String)> = keys.map(|(_, attr, value)| (attr, value)).chain(status).collect();
        let matches = self.query_index(queried, &filters, page.after(), limit + 1).await?;
        Ok(OrdersPage::from_matches(matches, limit))
    }
}

impl DynamoStore {
    /// The plain `PutItem` of `update_order`, conditional on the version read.
    async fn put_order(&self, order: &Order) -> Result<UpdateOutcome, StoreError> {
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

    /// The write of a service order moved by its record (`oms_domain::service_order`), for
    /// the record's transaction: the order item put at `version + 1` on `version =
    /// :expected`. A service order's timeline is a few entries, never long enough to move
    /// entries out of the record (which this write does not do): a longer one is an error.
    pub(super) fn service_order_put(&self, order: &Order) -> Result<TransactWriteItem, StoreError> {
        let id = &order.order_id;
        if oms_records::moved_count(order.timeline.len()) > 0 || !BackorderItem::of(order).is_empty() {
            return Err(StoreError::msg(format!("Failed to write service order {id}: it has index entries to move")));
        }
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::order_item(order, order.version + 1)?))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(order.version))
            .build()
            .map_err(|e| build_error(format!("Failed to build the write of service order {id}"), e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The items of a service record's order writes, for the record's transaction: a new
    /// order's marker and item (`new_order_items`, nothing queued), or a moved order's
    /// `service_order_put`.
    pub(super) fn service_order_items(
        &self,
        writes: &[oms_domain::ports::ServiceOrderWrite],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        use oms_domain::ports::ServiceOrderWrite as W;
        let mut items = Vec::new();
        for write in writes {
            match write {
                W::Untouched => {}
                W::Insert(order) => items.extend(self.new_order_items(order, &[])?),
                W::Update(order) => items.push(self.service_order_put(order)?),
            }
        }
        Ok(items)
    }

    /// A check that the order holds no stock: its reservation item does not exist.
    fn no_hold_check(&self, id: &OrderId) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(Key::reservation(id).into_map()))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| build_error(format!("Failed to build the hold check of order {id}"), e))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// The outbox items of `send`, written by the order's own transaction.
    pub(super) fn outbox_puts(&self, send: &[Outgoing], id: &OrderId) -> Result<Vec<TransactWriteItem>, StoreError> {
        let now = chrono::Utc::now();
        send.iter()
            .map(|message| {
                let item = to_item(&OutboxItem::new(message, now), &format!("a message of order {id}"))?;
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| build_error(format!("Failed to build the outbox item of order {id}"), e))?;
                Ok(TransactWriteItem::builder().put(put).build())
            })
            .collect()
    }

    /// `update_order` when the order's backorder entries change, it moves timeline entries
    /// out or it has effects: one transaction of the order's conditional Put (first), the
    /// Deletes of the backorder entries it leaves, the Puts of those it gains, the Puts of
    /// the moved timeline entries, then `extra` (outbox items, a release), whose first
    /// condition failing means the hold changed: a lost race like the version's.
    async fn update_in_transaction(
        &self,
        order: &Order,
        changes: IndexChanges,
        extra: Vec<TransactWriteItem>,
        race_conditions: usize,
    ) -> Result<UpdateOutcome, StoreError> {
        let IndexChanges { before, after, events } = changes;
        let id = &order.order_id;
        let failed_build = |e| build_error(format!("Failed to build the update of order {id}"), e);
        let put_order = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::order_item(order, order.version + 1)?))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(order.version))
            .build()
            .map_err(failed_build)?;
        let mut items = vec![TransactWriteItem::builder().put(put_order).build()];
        for gone in before.iter().filter(|entry| !after.contains(entry)) {
            let delete =
                Delete::builder().table_name(&self.table).set_key(Some(gone.key().into_map())).build().map_err(failed_build)?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        for new in after.iter().filter(|entry| !before.contains(entry)) {
            let item = to_item(new, &format!("a backorder entry of order {id}"))?;
            let put = Put::builder().table_name(&self.table).set_item(Some(item)).build().map_err(failed_build)?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        for (seq, event) in events {
            let item = to_item(&EventItem::new(id, seq, event), &format!("a timeline entry of order {id}"))?;
            let put = Put::builder().table_name(&self.table).set_item(Some(item)).build().map_err(failed_build)?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        let first_extra = items.len();
        items.extend(extra);
        if items.len() > MAX_TRANSACT_ITEMS {
            return Err(StoreError::msg(format!(
                "Failed to update order {id}: its index entries, moved timeline entries and effects are {} items, more than one transaction takes",
                items.len() - 1
            )));
        }
        match self.transact(items, &format!("update order {id}")).await? {
            Transact::Written => Ok(UpdateOutcome::Updated { version: order.version + 1 }),
            Transact::Cancelled(reasons)
                if reasons.first().is_some_and(CancelReason::condition_failed)
                    || reasons.iter().skip(first_extra).take(race_conditions).any(CancelReason::condition_failed) =>
            {
                Ok(UpdateOutcome::VersionConflict)
            }
            Transact::Cancelled(reasons) => {
                Err(StoreError::msg(format!("Failed to update order {id}: {}", unexplained(&reasons))))
            }
        }
    }
}

/// Most items one `TransactWriteItems` takes.
const MAX_TRANSACT_ITEMS: usize = 100;

/// What an update changes besides the order item: its entries in the index of backorders
/// (as stored, as written) and the timeline entries it moves out.
#[derive(Default)]
struct IndexChanges {
    before: Vec<BackorderItem>,
    after: Vec<BackorderItem>,
    events: Vec<(u64, oms_records::EventRecord)>,
}

impl IndexChanges {
    fn is_none(&self) -> bool {
        self.before == self.after && self.events.is_empty()
    }

    /// The items these changes write (an entry in both versions is left as it is).
    fn len(&self) -> usize {
        let gone = self.before.iter().filter(|entry| !self.after.contains(entry)).count();
        let new = self.after.iter().filter(|entry| !self.before.contains(entry)).count();
        gone + new + self.events.len()
    }
}

/// An entry of the index `by_status` (keys only): the order's key and its sort key.
#[derive(serde::Deserialize)]
struct IndexedStatus {
    status_since_key: String,
}

impl IndexedStatus {
    /// The entry from its sort key `<since>#<order id>` (a time has no `#`).
    fn entry(&self) -> Result<StatusEntry, String> {
        let (since, order_id) = self
            .status_since_key
            .split_once('#')
            .ok_or_else(|| format!("{:?} is not <since>#<order id>", self.status_since_key))?;
        let since = DateTime::parse_from_rfc3339(since).map_err(|e| format!("{since:?} is not a time: {e}"))?.with_timezone(&Utc);
        let order_id = OrderId::parse(order_id).map_err(|e| e.to_string())?;
        Ok(StatusEntry { since, order_id })
    }
}
