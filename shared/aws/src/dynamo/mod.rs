//! Orders, warehouses, stock and reservations in one DynamoDB table.
//!
//! The item layouts and access patterns are documented in `docs/dynamodb.md`; the key
//! builders below are the single place that spells them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use oms_domain::alert::AlertKind;
use oms_domain::auction::AuctionId;
use oms_domain::flash_sale::{IdempotencyKey, SaleId};
use oms_domain::group_buy::{GroupBuyId, JoinId};
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::StoreError;
use oms_domain::reservation::HoldId;
use oms_domain::{AlertId, CarrierId, CustomerId, ExternalId, MerchantId, OrderId, Sku, WarehouseId};

use crate::budget::{backoff, TRANSACT_ATTEMPTS};
use crate::error::{item_error, sdk_error};

mod alerts;
mod auctions;
mod browsing;
mod buyer_requests;
mod catalogue;
mod consignments;
mod flash_sales;
mod group_buys;
mod inventory;
mod items;
mod ledger;
mod lots;
mod merchants;
mod orders;
mod outbox;
mod products;
mod rentals;
mod repairs;
mod returns;
mod reviews;
mod rfqs;
mod sales;
mod shipments;
pub use outbox::relayed_message;
mod sku_mappings;
mod storefronts;
mod supply;
mod warehouses;

// Every lookup index is keyed by the merchant and one value (`<merchant>#<value>`, see
// `index_key`): lookups are per merchant, and no partition holds a whole channel.

/// A merchant's orders by customer id (`customer_key`), newest first by `order_id`.
pub const INDEX_BY_CUSTOMER: &str = "by_customer";
/// A merchant's orders by normalised phone (`phone_key`), newest first by `order_id`.
pub const INDEX_BY_PHONE: &str = "by_phone";
/// A merchant's orders by shipping address fingerprint (`address_key`), newest first by
/// `order_id`: what the fraud rules count orders by.
pub const INDEX_BY_ADDRESS: &str = "by_address";
/// A merchant's orders by card fingerprint (`card_key`), newest first by `order_id`.
pub const INDEX_BY_CARD: &str = "by_card";
/// A merchant's orders by the channel's own id on any channel (`external_key`), newest first.
pub const INDEX_BY_EXTERNAL_ID: &str = "by_external_id";
/// A merchant's orders on one channel (`channel_key`), newest first by `order_id`.
pub const INDEX_BY_CHANNEL: &str = "by_channel";
/// A merchant's orders by the channel's order number (`order_number_key`), newest first.
pub const INDEX_BY_ORDER_NUMBER: &str = "by_order_number";

/// Alerts by status (`alert_status_key`), oldest first by `alert_id`.
pub const INDEX_BY_ALERT_STATUS: &str = "by_alert_status";
/// A merchant's alerts (`alert_merchant_key`) by status, oldest first
/// (`merchant_alert_sort` = `<status>#<alert id>`).
pub const INDEX_BY_MERCHANT_ALERTS: &str = "by_merchant_alerts";

/// Orders that are not final by status and age (`status_key` = `<status>#<shard>`,
/// `status_since_key` = `<since>#<order id>`), oldest first: what the sweeper reads.
pub const INDEX_BY_STATUS: &str = "by_status";

/// Partitions of the index by status per status: an order's shard comes from its id, so
/// a burst of orders in one status spreads over this many partitions.
pub(crate) const STATUS_SHARDS: u32 = 8;

/// Every secondary index with its partition key attribute and its sort key attribute.
#[cfg(feature = "provision")]
pub(crate) const INDEXES: [(&str, &str, &str); 10] = [
    (INDEX_BY_CUSTOMER, "customer_key", "order_id"),
    (INDEX_BY_PHONE, "phone_key", "order_id"),
    (INDEX_BY_ADDRESS, "address_key", "order_id"),
    (INDEX_BY_CARD, "card_key", "order_id"),
    (INDEX_BY_EXTERNAL_ID, "external_key", "order_id"),
    (INDEX_BY_CHANNEL, "channel_key", "order_id"),
    (INDEX_BY_ALERT_STATUS, "alert_status_key", "alert_id"),
    (INDEX_BY_MERCHANT_ALERTS, "alert_merchant_key", "merchant_alert_sort"),
    (INDEX_BY_ORDER_NUMBER, "order_number_key", "order_id"),
    (INDEX_BY_STATUS, "status_key", "status_since_key"),
];

/// Most items DynamoDB accepts in one `TransactWriteItems`.
pub(crate) const MAX_TRANSACT_ITEMS: usize = 100;

/// The DynamoDB adapter of `OrderStore`, `WarehouseStore`, `InventoryStore` and `AlertStore`.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// The merchants this process has put among those with sales (`sales.rs`).
    merchants_marked: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<MerchantId>>>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), merchants_marked: Default::default() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A strongly consistent read of one item.
    /// A transaction item that puts `item` only where nothing is stored under its key yet
    /// (`attribute_not_exists(pk)`): how every new item (an order, a marker, an alert, a
    /// reservation and its parts) is written. `what` names it in an error.
    fn put_new(&self, item: Item, what: &str) -> Result<TransactWriteItem, StoreError> {
        let put = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| crate::error::build_error(format!("Failed to build the write of {what}"), e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    async fn get(&self, key: Key, what: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.into_map()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(format!("Failed to read {what}"), e))?;
        Ok(output.item)
    }

    /// Every item of one partition, in sort key order, strongly consistent.
    async fn query_partition(&self, pk: String, what: &str) -> Result<Vec<Item>, StoreError> {
        self.query_partition_from(pk, None, what).await
    }

    /// Every item of one partition whose sort key starts with `sk_prefix` (all of them when
    /// `None`), in sort key order, strongly consistent, following `LastEvaluatedKey`.
    async fn query_partition_from(&self, pk: String, sk_prefix: Option<&str>, what: &str) -> Result<Vec<Item>, StoreError> {
        match sk_prefix {
            Some(prefix) => self.query_partition_where(pk, "begins_with(sk, :sk)", prefix, what).await,
            None => self.query_partition_where(pk, "", "", what).await,
        }
    }

    /// Every item of one partition whose sort key is `sk_from` or after, in sort key order,
    /// strongly consistent, following `LastEvaluatedKey`.
    async fn query_partition_after(&self, pk: String, sk_from: &str, what: &str) -> Result<Vec<Item>, StoreError> {
        self.query_partition_where(pk, "sk >= :sk", sk_from, what).await
    }

    /// The items of one partition whose sort key meets `sk_condition` on `:sk` (every item
    /// when the condition is empty), following `LastEvaluatedKey`.
    async fn query_partition_where(&self, pk: String, sk_condition: &str, sk: &str, what: &str) -> Result<Vec<Item>, StoreError> {
        let condition = if sk_condition.is_empty() { "pk = :pk".to_owned() } else { format!("pk = :pk AND {sk_condition}") };
        let mut values = HashMap::from([(":pk".to_owned(), s(&pk))]);
        if !sk_condition.is_empty() {
            values.insert(":sk".to_owned(), s(sk));
        }
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(&condition)
                .set_expression_attribute_values(Some(values.clone()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error(format!("Failed to query {what}"), e))?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// The items of a partition kept in time order (sort keys `<index_time>#<id>`, as
    /// `OPEN_FLASH_SALES`, `OPEN_AUCTIONS` and `DUE_GROUP_BUYS` are) whose time is at or
    /// before `now`, earliest first, at most `limit`: one strongly consistent `Query`.
    async fn due_items(&self, pk: &str, now: DateTime<Utc>, limit: usize, what: &str) -> Result<Vec<Item>, StoreError> {
        // `~` sorts after every character of an id: an item due at `now` is in.
        let until = format!("{}#~", index_time(now));
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk <= :until")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":until", s(until))
            .consistent_read(true)
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| sdk_error(format!("Failed to query {what}"), e))?;
        Ok(output.items.unwrap_or_default())
    }

    /// An unconditional `PutItem` of `item`: how items that simply replace what was there
    /// (a warehouse, a SKU mapping) are written. `what` names it in an error.
    async fn put(&self, item: Item, what: &str) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk_error(format!("Failed to write {what}"), e))?;
        Ok(())
    }

    /// Sends one transaction, again while it is cancelled only by `TransactionConflict`
    /// (another transaction touching the same items, which DynamoDB raises under
    /// contention), at most `TRANSACT_ATTEMPTS` times with a short jittered back-off. A
    /// transaction cancelled by a failed condition is answered at once with each item's
    /// cancellation code; an SDK error (after the SDK's own retries) is answered at once.
    async fn transact(&self, items: Vec<TransactWriteItem>, what: &str) -> Result<Transact, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
            let err = match result {
                Ok(_) => return Ok(Transact::Written),
                Err(err) => err,
            };
            let reasons = match &err {
                SdkError::ServiceError(service) => match service.err() {
                    TransactWriteItemsError::TransactionCanceledException(cancelled) => Some(
                        cancelled
                            .cancellation_reasons()
                            .iter()
                            .map(|r| CancelReason { code: r.code().unwrap_or("None").to_owned() })
                            .collect::<Vec<_>>(),
                    ),
                    _ => None,
                },
                _ => None,
            };
            let Some(reasons) = reasons else {
                return Err(sdk_error(format!("Failed to {what}"), err));
            };
            let conflict = reasons.iter().any(|r| r.code == "TransactionConflict");
            let condition = reasons.iter().any(CancelReason::condition_failed);
            if condition || !conflict {
                return Ok(Transact::Cancelled(reasons));
            }
            if attempt >= TRANSACT_ATTEMPTS {
                return Err(sdk_error(format!("Failed to {what} after {attempt} transaction conflicts"), err));
            }
            tracing::debug!(attempt, what, "transaction conflict; trying again");
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
}

/// An item as the SDK holds it.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// What a transaction did.
#[derive(Debug)]
enum Transact {
    Written,
    /// Nothing was written; one reason per item, in the order the items were sent.
    Cancelled(Vec<CancelReason>),
}

#[derive(Debug, Clone)]
struct CancelReason {
    /// `None`, `ConditionalCheckFailed`, `TransactionConflict`, `ValidationError`, ...
    code: String,
}

impl CancelReason {
    fn condition_failed(&self) -> bool {
        self.code == "ConditionalCheckFailed"
    }
}

/// Describes the codes of a cancelled transaction that no outcome explains.
fn unexplained(reasons: &[CancelReason]) -> String {
    let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
    format!("cancellation reasons [{}]", codes.join(", "))
}

/// A table key: `pk` and `sk`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn into_map(self) -> Item {
        HashMap::from([("pk".to_owned(), AttributeValue::S(self.pk)), ("sk".to_owned(), AttributeValue::S(self.sk))])
    }

    /// The order: `ORDER#<order id>` / `ORDER`.
    pub fn order(id: &OrderId) -> Self {
        Self { pk: format!("ORDER#{id}"), sk: "ORDER".to_owned() }
    }

    /// The (channel, merchant, external id) uniqueness marker:
    /// `CHANNEL#<channel>#MERCHANT#<merchant>#<external id>` / `DEDUPE`.
    /// The merchant is escaped (`merchant_segment`), so no two keys collide.
    pub fn dedupe(channel: Channel, merchant: &MerchantId, external_id: &ExternalId) -> Self {
        let merchant = merchant_segment(merchant);
        Self { pk: format!("CHANNEL#{channel}#MERCHANT#{merchant}#{external_id}"), sk: "DEDUPE".to_owned() }
    }

    /// The marker as it was keyed before the merchant was part of it:
    /// `CHANNEL#<channel>#<external id>` / `DEDUPE`. Read, never written (see
    /// `docs/dynamodb.md`, "Migrating the dedupe markers").
    pub fn legacy_dedupe(channel: Channel, external_id: &ExternalId) -> Self {
        Self { pk: format!("CHANNEL#{channel}#{external_id}"), sk: "DEDUPE".to_owned() }
    }

    /// The partition holding every warehouse.
    pub const WAREHOUSES: &'static str = "WAREHOUSES";

    /// A warehouse: `WAREHOUSES` / `<warehouse id>`.
    pub fn warehouse(id: &WarehouseId) -> Self {
        Self { pk: Self::WAREHOUSES.to_owned(), sk: id.to_string() }
    }

    /// The partition holding one SKU's stock, every owner's in every warehouse.
    pub fn stock_partition(sku: &Sku) -> String {
        format!("STOCK#{sku}")
    }

    /// The stock of a SKU that one merchant owns in one warehouse:
    /// `STOCK#<sku>` / `WAREHOUSE#<warehouse id>#MERCHANT#<merchant>`, the merchant escaped
    /// (`merchant_segment`) so no two owners share a key.
    pub fn stock(warehouse: &WarehouseId, owner: &MerchantId, sku: &Sku) -> Self {
        Self { pk: Self::stock_partition(sku), sk: format!("WAREHOUSE#{warehouse}#MERCHANT#{}", merchant_segment(owner)) }
    }

    /// The partition holding an order's hold, every part of it.
    pub fn reservation_partition(order_id: &OrderId) -> String {
        format!("RESERVATION#{order_id}")
    }

    /// The hold an order has (its first part): `RESERVATION#<order id>` / `RESERVATION`.
    pub fn reservation(order_id: &OrderId) -> Self {
        Self { pk: Self::reservation_partition(order_id), sk: Self::RESERVATION.to_owned() }
    }

    /// The sort key of the first part of a hold.
    pub const RESERVATION: &'static str = "RESERVATION";

    /// A later part of a hold: `RESERVATION#<order id>` / `PART#<hold id>#<part, 3 digits>`.
    pub fn reservation_part(order_id: &OrderId, hold_id: &HoldId, part: u32) -> Self {
        Self { pk: Self::reservation_partition(order_id), sk: format!("PART#{hold_id}#{part:03}") }
    }

    /// The partition of the backorders waiting for a SKU.
    pub fn backorder_partition(sku: &Sku) -> String {
        format!("BACKORDER#{sku}")
    }

    /// A timeline entry moved out of its order's item: `ORDER#<order id>` / `EVENT#<seq>`,
    /// seq zero-padded to ten digits so the sort key sorts the entries as they happened.
    pub fn event(order_id: &str, seq: u64) -> Self {
        Self { pk: format!("ORDER#{order_id}"), sk: format!("{EVENT_PREFIX}{seq:010}") }
    }

    /// An order waiting for a SKU: `BACKORDER#<sku>` / `<since>#<order id>`.
    pub fn backorder(sku: &Sku, since: &str, order_id: &OrderId) -> Self {
        Self { pk: Self::backorder_partition(sku), sk: format!("{since}#{order_id}") }
    }

    /// An alert: `ALERT#<alert id>` / `ALERT`.
    pub fn alert(id: &AlertId) -> Self {
        Self { pk: format!("ALERT#{id}"), sk: "ALERT".to_owned() }
    }

    /// A SKU's catalogue facts: `SKU#<sku>` / `FACTS`.
    pub fn sku_facts(sku: &Sku) -> Self {
        Self { pk: format!("SKU#{sku}"), sk: "FACTS".to_owned() }
    }

    /// The partition holding every carrier's rate table.
    pub const CARRIERS: &'static str = "CARRIERS";

    /// A carrier's rate table: `CARRIERS` / `<carrier id>`.
    pub fn rate_table(carrier: &CarrierId) -> Self {
        Self { pk: Self::CARRIERS.to_owned(), sk: carrier.to_string() }
    }

    /// A channel's SKU mapped to ours: `SKUMAP#<channel>#<merchant>` / `<channel sku>`.
    pub fn sku_mapping(channel: Channel, merchant: &MerchantId, channel_sku: &Sku) -> Self {
        Self { pk: format!("SKUMAP#{channel}#{merchant}"), sk: channel_sku.to_string() }
    }

    /// A message queued with an order write, until the table's stream relays it:
    /// `OUTBOX#<message id>` / `OUTBOX` (one partition per message, so no partition is hot).
    pub fn outbox(message_id: &str) -> Self {
        Self { pk: format!("{OUTBOX_PREFIX}{message_id}"), sk: "OUTBOX".to_owned() }
    }

    /// A flash sale's terms and shards: `FLASHSALE#<sale id>` / `SALE`.
    pub fn flash_sale(sale: &SaleId) -> Self {
        Self { pk: format!("FLASHSALE#{sale}"), sk: "SALE".to_owned() }
    }

    /// One shard of a sale, its units left and claims made: `FLASHSALE#<sale id>#SHARD#<shard,
    /// 3 digits>` / `SHARD`. A partition per shard, so claims spread over as many partitions.
    pub fn flash_sale_shard(sale: &SaleId, shard: u32) -> Self {
        Self { pk: format!("FLASHSALE#{sale}#SHARD#{shard:03}"), sk: "SHARD".to_owned() }
    }

    /// How a sale closed: `FLASHSALE#<sale id>` / `CLOSED`, `units_returned` growing with
    /// each part of the close and `closed_at` set by its last part.
    pub fn flash_sale_closing(sale: &SaleId) -> Self {
        Self { pk: format!("FLASHSALE#{sale}"), sk: "CLOSED".to_owned() }
    }

    /// The partition of the sales not closed yet, sorted by end time.
    pub const OPEN_FLASH_SALES: &'static str = "OPEN_FLASH_SALES";

    /// A sale not closed yet: `OPEN_FLASH_SALES` / `<ends at, as the index times>#<sale id>`,
    /// put with the sale and deleted by the last part of its close.
    pub fn open_flash_sale(ends_at: DateTime<Utc>, sale: &SaleId) -> Self {
        Self { pk: Self::OPEN_FLASH_SALES.to_owned(), sk: format!("{}#{sale}", index_time(ends_at)) }
    }

    /// The units a customer claimed in a sale: `FLASHSALE#<sale id>#CUSTOMER#<customer>` /
    /// `CLAIMED` (the customer id is the key's last segment, so no escaping is needed).
    pub fn flash_sale_customer(sale: &SaleId, customer: &CustomerId) -> Self {
        Self { pk: format!("FLASHSALE#{sale}#CUSTOMER#{customer}"), sk: "CLAIMED".to_owned() }
    }

    /// A claim under its idempotency key: `FLASHSALE#<sale id>#KEY#<idempotency key>` / `CLAIM`.
    pub fn flash_sale_claim(sale: &SaleId, key: &IdempotencyKey) -> Self {
        Self { pk: format!("FLASHSALE#{sale}#KEY#{key}"), sk: "CLAIM".to_owned() }
    }

    /// An auction (terms, best bid, end, version, outcome): `AUCTION#<auction id>` / `AUCTION`.
    pub fn auction(id: &AuctionId) -> Self {
        Self { pk: format!("AUCTION#{id}"), sk: "AUCTION".to_owned() }
    }

    /// An accepted bid in its auction's list: `AUCTION#<auction id>` / `BID#<seq, 10 digits>`.
    pub fn auction_bid(id: &AuctionId, seq: u32) -> Self {
        Self { pk: format!("AUCTION#{id}"), sk: format!("BID#{seq:010}") }
    }

    /// An accepted bid under its idempotency key: `AUCTION#<auction id>#KEY#<key>` / `BID`.
    pub fn auction_bid_key(id: &AuctionId, key: &IdempotencyKey) -> Self {
        Self { pk: format!("AUCTION#{id}#KEY#{key}"), sk: "BID".to_owned() }
    }

    /// The partition of the auctions not closed yet, sorted by end time.
    pub const OPEN_AUCTIONS: &'static str = "OPEN_AUCTIONS";

    /// An auction not closed yet: `OPEN_AUCTIONS` / `<ends at, as the index times>#<auction
    /// id>`, put with the auction, moved by a bid that moves its end, deleted by its close.
    pub fn open_auction(ends_at: DateTime<Utc>, id: &AuctionId) -> Self {
        Self { pk: Self::OPEN_AUCTIONS.to_owned(), sk: format!("{}#{id}", index_time(ends_at)) }
    }

    /// A group-buy offer: `GROUP_BUY#<id>` / `GROUP_BUY`.
    pub fn group_buy(id: &GroupBuyId) -> Self {
        Self { pk: format!("GROUP_BUY#{id}"), sk: "GROUP_BUY".to_owned() }
    }

    /// A join waiting for its order, in its offer's partition: `GROUP_BUY#<id>` /
    /// `PENDING#<join id>`; deleted by the join's conversion.
    pub fn group_buy_pending(id: &GroupBuyId, join: &JoinId) -> Self {
        Self { pk: format!("GROUP_BUY#{id}"), sk: format!("PENDING#{join}") }
    }

    /// A customer's join: `GROUP_BUY#<id>#CUSTOMER#<customer id>` / `JOIN`.
    pub fn group_buy_join(id: &GroupBuyId, customer: &CustomerId) -> Self {
        Self { pk: format!("GROUP_BUY#{id}#CUSTOMER#{customer}"), sk: "JOIN".to_owned() }
    }

    /// A join under its idempotency key: `GROUP_BUY#<id>#KEY#<key>` / `JOIN`.
    pub fn group_buy_join_key(id: &GroupBuyId, key: &IdempotencyKey) -> Self {
        Self { pk: format!("GROUP_BUY#{id}#KEY#{key}"), sk: "JOIN".to_owned() }
    }

    /// The partition of the group buys not settled yet, sorted by deadline.
    pub const DUE_GROUP_BUYS: &'static str = "DUE_GROUP_BUYS";

    /// A group buy not settled yet: `DUE_GROUP_BUYS` / `<deadline, as the index times>#<id>`,
    /// put with the offer, deleted by its settlement.
    pub fn due_group_buy(deadline: DateTime<Utc>, id: &GroupBuyId) -> Self {
        Self { pk: Self::DUE_GROUP_BUYS.to_owned(), sk: format!("{}#{id}", index_time(deadline)) }
    }

    /// The (kind, subject) uniqueness marker of alerts: `ALERT_SUBJECT#<kind>#<subject>` / `DEDUPE`.
    pub fn alert_subject(kind: AlertKind, subject: &str) -> Self {
        Self { pk: format!("ALERT_SUBJECT#{kind}#{subject}"), sk: "DEDUPE".to_owned() }
    }
}

/// A merchant id as one segment of a key: `%` and `#` escaped (`%25`, `%23`), so the
/// segment holds no `#` and ends at the next one. Merchant ids are free text: unescaped,
/// merchant `a#b` with external id `c` and merchant `a` with `b#c` would share a key.
pub(crate) fn merchant_segment(merchant: &MerchantId) -> String {
    merchant.as_str().replace('%', "%25").replace('#', "%23")
}

/// How every outbox item's `pk` starts: the stream's filter for the relay.
pub const OUTBOX_PREFIX: &str = "OUTBOX#";

/// The partition of the index by status an order is in: `<status>#<shard>`, the shard
/// from an FNV-1a hash of the order id (stable across builds).
pub(crate) fn status_key(status: OrderStatus, order_id: &OrderId) -> String {
    status_partition(status, status_shard(order_id))
}

/// One partition of the index by status: `<status>#<shard>`.
pub(crate) fn status_partition(status: OrderStatus, shard: u32) -> String {
    format!("{status}#{shard}")
}

/// The sort key of the index by status: `<since>#<order id>`.
pub(crate) fn status_sort_key(since: DateTime<Utc>, order_id: &OrderId) -> String {
    format!("{}#{order_id}", index_time(since))
}

/// A time as the keys hold it: RFC 3339 with microseconds and `Z`, fixed width, so text
/// order is time order (the backorder and status index keys).
pub(crate) fn index_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn status_shard(order_id: &OrderId) -> u32 {
    let hash =
        order_id.as_str().bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    u32::try_from(hash % u64::from(STATUS_SHARDS)).unwrap_or(0)
}

/// The value of an order lookup index's partition key: `<merchant segment>#<value>`.
pub(crate) fn index_key(merchant: &MerchantId, value: &str) -> String {
    format!("{}#{value}", merchant_segment(merchant))
}

/// A string attribute.
pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute.
pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Serialises one of the stored layouts of `items` (key included) into an item.
fn to_item<T: serde::Serialize>(value: &T, what: &str) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| item_error(format!("Failed to write {what} as an item"), e))
}

/// Reads one of the stored layouts of `items` from an item.
fn from_item<T: serde::de::DeserializeOwned>(item: Item, what: &str) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| item_error(format!("Failed to read {what} from its item"), e))
}

/// Reads the stored layout `I` from an item and converts it into the domain's `T`.
/// The sort key prefix of an order's moved timeline entries (`Key::event`).
pub(crate) const EVENT_PREFIX: &str = "EVENT#";

fn read_item<I, T>(item: Item, what: &str) -> Result<T, StoreError>
where
    I: serde::de::DeserializeOwned,
    T: TryFrom<I, Error = items::CorruptItem>,
{
    T::try_from(from_item::<I>(item, what)?).map_err(|e| StoreError::new(format!("Failed to read {what} from its item"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_spelled_as_the_table_design_says() {
        let order = OrderId::parse("ord_1").unwrap();
        let sku = Sku::parse("SKU-1").unwrap();
        let wh = WarehouseId::parse("wh-1").unwrap();
        assert_eq!(Key::order(&order), Key { pk: "ORDER#ord_1".into(), sk: "ORDER".into() });
        let shop = MerchantId::parse("shop.myshopify.com").unwrap();
        assert_eq!(
            Key::dedupe(Channel::Shopify, &shop, &ExternalId::parse("A-1").unwrap()),
            Key { pk: "CHANNEL#shopify#MERCHANT#shop.myshopify.com#A-1".into(), sk: "DEDUPE".into() }
        );
        assert_eq!(
            Key::legacy_dedupe(Channel::Shopify, &ExternalId::parse("A-1").unwrap()),
            Key { pk: "CHANNEL#shopify#A-1".into(), sk: "DEDUPE".into() }
        );
        let odd =
            |m: &str, e: &str| Key::dedupe(Channel::Generic, &MerchantId::parse(m).unwrap(), &ExternalId::parse(e).unwrap());
        assert_ne!(odd("a#b", "c"), odd("a", "b#c"), "a merchant's # cannot move the boundary");
        assert_eq!(odd("a#b%", "c").pk, "CHANNEL#generic#MERCHANT#a%23b%25#c");
        assert_eq!(Key::warehouse(&wh), Key { pk: "WAREHOUSES".into(), sk: "wh-1".into() });
        assert_eq!(
            Key::stock(&wh, &shop, &sku),
            Key { pk: "STOCK#SKU-1".into(), sk: "WAREHOUSE#wh-1#MERCHANT#shop.myshopify.com".into() }
        );
        let owned = |m: &str| Key::stock(&wh, &MerchantId::parse(m).unwrap(), &sku).sk;
        assert_eq!(owned("m#1%"), "WAREHOUSE#wh-1#MERCHANT#m%231%25", "the owner is escaped as in the dedupe marker");
        assert_eq!(Key::reservation(&order), Key { pk: "RESERVATION#ord_1".into(), sk: "RESERVATION".into() });
        assert_eq!(Key::alert(&AlertId::parse("alt_1").unwrap()), Key { pk: "ALERT#alt_1".into(), sk: "ALERT".into() });
        assert_eq!(
            Key::alert_subject(AlertKind::ChannelCancelRefused, "ord_1"),
            Key { pk: "ALERT_SUBJECT#channel_cancel_refused#ord_1".into(), sk: "DEDUPE".into() }
        );
        let hold = HoldId::parse("hold_1").unwrap();
        assert_eq!(Key::reservation_part(&order, &hold, 2), Key { pk: "RESERVATION#ord_1".into(), sk: "PART#hold_1#002".into() });
        let sale = SaleId::parse("fs_01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap();
        assert_eq!(Key::flash_sale(&sale), Key { pk: "FLASHSALE#fs_01ARZ3NDEKTSV4RRFFQ69G5FAV".into(), sk: "SALE".into() });
        assert_eq!(Key::flash_sale_shard(&sale, 7).pk, "FLASHSALE#fs_01ARZ3NDEKTSV4RRFFQ69G5FAV#SHARD#007");
        assert_eq!(
            Key::flash_sale_closing(&sale),
            Key { pk: "FLASHSALE#fs_01ARZ3NDEKTSV4RRFFQ69G5FAV".into(), sk: "CLOSED".into() }
        );
        let ends = chrono::DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(
            Key::open_flash_sale(ends, &sale),
            Key { pk: "OPEN_FLASH_SALES".into(), sk: "2026-11-20T10:00:00.000000Z#fs_01ARZ3NDEKTSV4RRFFQ69G5FAV".into() }
        );
        let customer = CustomerId::parse("c#1").unwrap();
        assert_eq!(
            Key::flash_sale_customer(&sale, &customer),
            Key { pk: "FLASHSALE#fs_01ARZ3NDEKTSV4RRFFQ69G5FAV#CUSTOMER#c#1".into(), sk: "CLAIMED".into() }
        );
        let key = IdempotencyKey::parse("k-1").unwrap();
        assert_eq!(
            Key::flash_sale_claim(&sale, &key),
            Key { pk: "FLASHSALE#fs_01ARZ3NDEKTSV4RRFFQ69G5FAV#KEY#k-1".into(), sk: "CLAIM".into() }
        );
        let sale = oms_domain::sales::SaleKey { placed_at: "2026-11-20T10:00:00Z".parse().unwrap(), order_id: order.clone() };
        assert_eq!(
            Key::sale(&MerchantId::parse("a#b").unwrap(), &sale),
            Key { pk: "SALES#a%23b".into(), sk: "2026-11-20T10:00:00.000000Z#ord_1".into() }
        );
        assert_eq!(Key::SALES_MERCHANTS, "SALES_MERCHANTS");
    }
}
