//! The stored layout of every item: what `docs/dynamodb.md` describes, attribute by
//! attribute. An order or warehouse item is its keys (and index keys) beside the fields of
//! the `oms_records` record both adapter sets store (`#[serde(flatten)]`); the dedupe
//! marker, stock and reservation items are this adapter's own. Renaming a field of a
//! domain struct does not change these.
//!
//! Items are written from the domain (`OrderItem::new` and the like) and read back through
//! the domain's constructors (`TryFrom<OrderItem> for Order`): stored data is trusted, but
//! an item that does not parse is an error naming the attribute, never a silent default.

use oms_domain::carrier::RateTable;
use oms_domain::catalogue::SkuFacts;
use oms_domain::order::AllocatedLine;
use oms_domain::reservation::HoldId;
use oms_domain::stock::{StockCounts, StockLevel, Warehouse};
use oms_domain::{MerchantId, Order, OrderId, Sku, WarehouseId};
use oms_records::{CorruptRecord, EventRecord, OrderRecord, RateTableRecord, SkuRecord, WarehouseRecord};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::{index_key, index_time, status_key, status_sort_key, Key};
use oms_domain::messages::{Outgoing, QueueName};

/// A stored item that does not hold what its layout says.
#[derive(Debug, thiserror::Error)]
#[error("the stored attribute {attribute} is invalid: {reason}")]
pub(crate) struct CorruptItem {
    attribute: &'static str,
    reason: String,
}

impl CorruptItem {
    fn new(attribute: &'static str, reason: impl std::fmt::Display) -> Self {
        Self { attribute, reason: reason.to_string() }
    }
}

/// A record's field is an attribute of its item.
impl From<CorruptRecord> for CorruptItem {
    fn from(e: CorruptRecord) -> Self {
        Self { attribute: e.field, reason: e.reason }
    }
}

/// Parses one stored attribute with a domain constructor, naming it when it fails.
fn parse<T, E: std::fmt::Display>(attribute: &'static str, parsed: Result<T, E>) -> Result<T, CorruptItem> {
    parsed.map_err(|e| CorruptItem::new(attribute, e))
}

/// The order item: `ORDER#<order id>` / `ORDER`: its key, the order's record and the
/// index keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct OrderItem {
    pub pk: String,
    pub sk: String,
    /// The order's attributes (`version` among them), laid out as `oms_records` says.
    #[serde(flatten)]
    pub record: OrderRecord,
    /// Index `by_customer`: `<merchant>#<customer id>`. Every index key starts with the
    /// merchant (escaped, `merchant_segment`): lookups are per merchant.
    pub customer_key: String,
    /// Index `by_phone`: `<merchant>#<phone>`; absent when the order has no phone, so it
    /// is not in the index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_key: Option<String>,
    /// Index `by_address`: `<merchant>#<shipping address fingerprint>`; absent on items
    /// written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_key: Option<String>,
    /// Index `by_card`: `<merchant>#<card fingerprint>`; absent when the order has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_key: Option<String>,
    /// Index `by_external_id`: `<merchant>#<external id>`.
    pub external_key: String,
    /// Index `by_channel`: `<merchant>#<channel>`.
    pub channel_key: String,
    /// Index `by_order_number`: `<merchant>#<order number>`; absent (read as empty) on
    /// items written before order numbers were kept.
    #[serde(default)]
    pub order_number_key: String,
    /// Index `by_status`: `<status>#<shard>` (`status_key`); absent for a final status,
    /// so the index holds only orders something still has to move on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_key: Option<String>,
    /// Index `by_status` sort key: `<status since>#<order id>`, the time fixed width
    /// (RFC 3339, microseconds, `Z`) so it sorts by time; absent with `status_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_since_key: Option<String>,
}

/// A message queued with an order write (the outbox): `OUTBOX#<message id>` / `OUTBOX`.
/// The table's stream hands its insert to the relay, which sends it to its queue; it
/// expires a day later (`expires_at`, the table's TTL attribute), long after the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OutboxItem {
    pub pk: String,
    pub sk: String,
    /// The queue's name (`QueueName::as_str`).
    pub queue: String,
    /// The message as encoded for its queue.
    pub body: String,
    /// Epoch seconds after which DynamoDB's TTL may delete the item.
    pub expires_at: i64,
}

impl OutboxItem {
    /// How long an outbox item outlives its write: the stream keeps records 24 hours.
    const KEPT_SECONDS: i64 = 24 * 60 * 60;

    pub fn new(message: &Outgoing, now: chrono::DateTime<chrono::Utc>) -> Self {
        let key = Key::outbox(&ulid::Ulid::new().to_string());
        Self {
            pk: key.pk,
            sk: key.sk,
            queue: message.queue.as_str().to_owned(),
            body: message.body.clone(),
            expires_at: now.timestamp() + Self::KEPT_SECONDS,
        }
    }
}

impl TryFrom<OutboxItem> for Outgoing {
    type Error = CorruptItem;
    fn try_from(item: OutboxItem) -> Result<Self, CorruptItem> {
        let queue = QueueName::parse(&item.queue)
            .ok_or_else(|| CorruptItem::new("queue", format!("no queue is named {:?}", item.queue)))?;
        Ok(Outgoing::stored(queue, item.body))
    }
}

/// So many units of a SKU from the stock one merchant owns in one warehouse (a
/// reservation's lines).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredLine {
    pub warehouse: String,
    /// The owner of the stock held. Absent on lines written before stock had owners, when
    /// a warehouse's stock was its merchant's: read through [`LegacyOwners`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_id: Option<String>,
    pub sku: String,
    pub quantity: u32,
}

/// The owner of a line stored without one: its warehouse's merchant, by warehouse id (the
/// adapter reads the warehouses such lines name).
pub(crate) type LegacyOwners = HashMap<String, MerchantId>;

impl From<&AllocatedLine> for StoredLine {
    fn from(line: &AllocatedLine) -> Self {
        Self {
            warehouse: line.warehouse.to_string(),
            merchant_id: Some(line.owner.to_string()),
            sku: line.sku.to_string(),
            quantity: line.quantity,
        }
    }
}

impl StoredLine {
    /// The domain's line; a line stored without its owner takes its warehouse's merchant
    /// from `legacy`.
    fn allocated(&self, legacy: &LegacyOwners) -> Result<AllocatedLine, CorruptItem> {
        let owner = match &self.merchant_id {
            Some(owner) => parse("lines.merchant_id", MerchantId::parse(owner.clone()))?,
            None => legacy.get(&self.warehouse).cloned().ok_or_else(|| {
                CorruptItem::new("lines.merchant_id", format!("absent, and warehouse {} is not registered", self.warehouse))
            })?,
        };
        Ok(AllocatedLine {
            warehouse: parse("lines.warehouse", WarehouseId::parse(self.warehouse.clone()))?,
            owner,
            sku: parse("lines.sku", Sku::parse(self.sku.clone()))?,
            quantity: self.quantity,
            transfer_price: None,
        })
    }
}

/// The warehouses of `lines` stored without an owner, each once.
pub(crate) fn unowned_warehouses<'a>(lines: impl IntoIterator<Item = &'a StoredLine>) -> Vec<&'a str> {
    let mut warehouses: Vec<&str> =
        lines.into_iter().filter(|line| line.merchant_id.is_none()).map(|line| line.warehouse.as_str()).collect();
    warehouses.sort_unstable();
    warehouses.dedup();
    warehouses
}

impl OrderItem {
    /// The item of `order` at `version`, with its key and index keys.
    pub fn new(order: &Order, version: u64) -> Self {
        let key = Key::order(&order.order_id);
        let customer = &order.customer;
        let m = &order.merchant_id;
        Self {
            pk: key.pk,
            sk: key.sk,
            record: OrderRecord::new(order, version),
            customer_key: index_key(m, customer.id.as_str()),
            // The domain keeps a customer's phone normalised, as `OrderQuery::phone` is.
            phone_key: customer.phone.as_deref().filter(|phone| !phone.is_empty()).map(|phone| index_key(m, phone)),
            address_key: Some(index_key(m, &order.shipping_address.fingerprint())),
            card_key: customer.card.as_deref().map(|card| index_key(m, card)),
            external_key: index_key(m, order.external_id.as_str()),
            channel_key: index_key(m, order.channel.as_str()),
            order_number_key: index_key(m, order.order_number.as_str()),
            status_key: order.waits_in_status_index().then(|| status_key(order.status, &order.order_id)),
            status_since_key: order.waits_in_status_index().then(|| status_sort_key(order.status_since(), &order.order_id)),
        }
    }
}

impl TryFrom<OrderItem> for Order {
    type Error = CorruptItem;
    fn try_from(item: OrderItem) -> Result<Self, CorruptItem> {
        Ok(Order::try_from(item.record)?)
    }
}

/// A timeline entry moved out of its order's item (the record keeps the newest
/// `oms_records::TIMELINE_KEPT`): `ORDER#<order id>` / `EVENT#<seq>`, written in the
/// transaction of the order's own write and never changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct EventItem {
    pub pk: String,
    pub sk: String,
    pub seq: u64,
    #[serde(flatten)]
    pub event: EventRecord,
}

impl EventItem {
    pub fn new(order_id: &OrderId, seq: u64, event: EventRecord) -> Self {
        let key = Key::event(order_id.as_str(), seq);
        Self { pk: key.pk, sk: key.sk, seq, event }
    }
}

/// The (channel, merchant, external id) marker:
/// `CHANNEL#<channel>#MERCHANT#<merchant>#<external id>` / `DEDUPE`. Its existence is the
/// uniqueness condition. Markers written before the merchant was in the key have the
/// same layout under `CHANNEL#<channel>#<external id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DedupeItem {
    pub pk: String,
    pub sk: String,
    pub order_id: String,
    pub channel: String,
    pub external_id: String,
}

impl DedupeItem {
    pub fn new(order: &Order) -> Self {
        let key = Key::dedupe(order.channel, &order.merchant_id, &order.external_id);
        Self {
            pk: key.pk,
            sk: key.sk,
            order_id: order.order_id.to_string(),
            channel: order.channel.as_str().to_owned(),
            external_id: order.external_id.to_string(),
        }
    }

    /// The order the marker names.
    pub fn target(self) -> Result<OrderId, CorruptItem> {
        parse("order_id", OrderId::parse(self.order_id))
    }
}

/// One entry of the index of backorders by SKU: `BACKORDER#<sku>` / `<since>#<order id>`,
/// `since` fixed-width RFC 3339 (microseconds, `Z`) so the sort key sorts by time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BackorderItem {
    pub pk: String,
    pub sk: String,
    pub order_id: String,
    pub sku: String,
    pub since: String,
}

impl BackorderItem {
    /// The entries `order` has: one per SKU of its lines while it is backordered.
    pub fn of(order: &Order) -> Vec<Self> {
        let Some((since, skus)) = order.backorder_entries() else {
            return Vec::new();
        };
        let since = index_time(since);
        skus.into_iter()
            .map(|sku| {
                let key = Key::backorder(&sku, &since, &order.order_id);
                Self { pk: key.pk, sk: key.sk, order_id: order.order_id.to_string(), sku: sku.to_string(), since: since.clone() }
            })
            .collect()
    }

    pub fn key(&self) -> Key {
        Key { pk: self.pk.clone(), sk: self.sk.clone() }
    }

    /// The order the entry names.
    pub fn target(self) -> Result<OrderId, CorruptItem> {
        parse("order_id", OrderId::parse(self.order_id))
    }
}

/// A warehouse: `WAREHOUSES` / `<warehouse id>`: its key and the warehouse's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WarehouseItem {
    pub pk: String,
    pub sk: String,
    #[serde(flatten)]
    pub record: WarehouseRecord,
}

impl From<&Warehouse> for WarehouseItem {
    fn from(w: &Warehouse) -> Self {
        let key = Key::warehouse(&w.warehouse_id);
        Self { pk: key.pk, sk: key.sk, record: WarehouseRecord::from(w) }
    }
}

impl TryFrom<WarehouseItem> for Warehouse {
    type Error = CorruptItem;
    fn try_from(item: WarehouseItem) -> Result<Self, CorruptItem> {
        Ok(Warehouse::try_from(item.record)?)
    }
}

/// A SKU's catalogue facts: `SKU#<sku>` / `FACTS`: its key and the facts' record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SkuItem {
    pub pk: String,
    pub sk: String,
    #[serde(flatten)]
    pub record: SkuRecord,
}

impl From<&SkuFacts> for SkuItem {
    fn from(f: &SkuFacts) -> Self {
        let key = Key::sku_facts(&f.sku);
        Self { pk: key.pk, sk: key.sk, record: SkuRecord::from(f) }
    }
}

impl TryFrom<SkuItem> for SkuFacts {
    type Error = CorruptItem;
    fn try_from(item: SkuItem) -> Result<Self, CorruptItem> {
        Ok(SkuFacts::try_from(item.record)?)
    }
}

/// A carrier's rate table: `CARRIERS` / `<carrier id>`: its key and the table's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RateTableItem {
    pub pk: String,
    pub sk: String,
    #[serde(flatten)]
    pub record: RateTableRecord,
}

impl From<&RateTable> for RateTableItem {
    fn from(t: &RateTable) -> Self {
        let key = Key::rate_table(&t.carrier);
        Self { pk: key.pk, sk: key.sk, record: RateTableRecord::from(t) }
    }
}

impl TryFrom<RateTableItem> for RateTable {
    type Error = CorruptItem;
    fn try_from(item: RateTableItem) -> Result<Self, CorruptItem> {
        Ok(RateTable::try_from(item.record)?)
    }
}

/// The stock of a SKU one merchant owns in a warehouse:
/// `STOCK#<sku>` / `WAREHOUSE#<warehouse id>#MERCHANT#<merchant>`. Written by update
/// expressions only (`set_on_hand`, `reserve`, `release`), so only read here. `available`
/// is always `on_hand - reserved`, kept because a condition cannot subtract. An item from
/// before stock had owners (`WAREHOUSE#<warehouse id>`, no `merchant_id`) is moved by the
/// backfill in `docs/dynamodb.md`; read unmoved, it is an error naming `merchant_id`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct StockItem {
    pub warehouse: String,
    pub merchant_id: String,
    pub sku: String,
    pub on_hand: u32,
    pub reserved: u32,
    pub available: u32,
}

impl TryFrom<StockItem> for StockLevel {
    type Error = CorruptItem;
    fn try_from(item: StockItem) -> Result<Self, CorruptItem> {
        let counts = parse("reserved", StockCounts::new(item.on_hand, item.reserved))?;
        if counts.available() != item.available {
            return Err(CorruptItem::new(
                "available",
                format!("{} is not on_hand {} - reserved {}", item.available, item.on_hand, item.reserved),
            ));
        }
        Ok(StockLevel::new(
            parse("warehouse", WarehouseId::parse(item.warehouse))?,
            parse("merchant_id", MerchantId::parse(item.merchant_id))?,
            parse("sku", Sku::parse(item.sku))?,
            counts,
        ))
    }
}

/// The hold one order has: `RESERVATION#<order id>` / `RESERVATION`. `hold_id` is new for
/// every reservation, so a release never deletes a hold it did not read. A hold larger than
/// one transaction (`reservation::MAX_LINES_PER_WRITE` lines) keeps its first part here and
/// the rest in [`ReservationPartItem`]s: `parts` counts every part (this one included) and
/// `parts_held` those after the first that are written now. Both are left out of a hold of
/// one part (and read as 1 and 0), which is also what items written before parts existed hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ReservationItem {
    pub pk: String,
    pub sk: String,
    pub order_id: String,
    pub hold_id: String,
    pub lines: Vec<StoredLine>,
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub parts: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub parts_held: u32,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl ReservationItem {
    /// The first part of hold `hold_id`, of `parts` parts in all.
    pub fn new(order_id: &OrderId, hold_id: &HoldId, lines: &[AllocatedLine], parts: u32) -> Self {
        let key = Key::reservation(order_id);
        Self {
            pk: key.pk,
            sk: key.sk,
            order_id: order_id.to_string(),
            hold_id: hold_id.to_string(),
            lines: lines.iter().map(StoredLine::from).collect(),
            parts,
            parts_held: 0,
        }
    }

    /// The lines held, as the domain's lines (`legacy`: the owners of lines stored without one).
    pub fn allocated_lines(&self, legacy: &LegacyOwners) -> Result<Vec<AllocatedLine>, CorruptItem> {
        self.lines.iter().map(|line| line.allocated(legacy)).collect()
    }

    pub fn hold(&self) -> Result<HoldId, CorruptItem> {
        parse("hold_id", HoldId::parse(self.hold_id.clone()))
    }
}

/// A later part of a hold: `RESERVATION#<order id>` / `PART#<hold id>#<part>` (parts
/// numbered from 1, three digits), written after the first part and only while the order
/// still has that hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ReservationPartItem {
    pub pk: String,
    pub sk: String,
    pub order_id: String,
    pub hold_id: String,
    pub part: u32,
    pub lines: Vec<StoredLine>,
}

impl ReservationPartItem {
    pub fn new(order_id: &OrderId, hold_id: &HoldId, part: u32, lines: &[AllocatedLine]) -> Self {
        let key = Key::reservation_part(order_id, hold_id, part);
        Self {
            pk: key.pk,
            sk: key.sk,
            order_id: order_id.to_string(),
            hold_id: hold_id.to_string(),
            part,
            lines: lines.iter().map(StoredLine::from).collect(),
        }
    }

    /// The lines held, as the domain's lines (`legacy`: the owners of lines stored without one).
    pub fn allocated_lines(&self, legacy: &LegacyOwners) -> Result<Vec<AllocatedLine>, CorruptItem> {
        self.lines.iter().map(|line| line.allocated(legacy)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;
    use oms_conformance::fixtures::{self, line as allocated};
    use oms_domain::order::Charges;
    use serde_json::{json, Value};

    use crate::dynamo::Item;

    /// An item in DynamoDB's own JSON form (`{"S": ..}`, `{"N": ..}`, `{"M": ..}`, ...), as
    /// `aws dynamodb get-item` prints it.
    fn wire(item: &Item) -> Value {
        fn value(v: &AttributeValue) -> Value {
            match v {
                AttributeValue::S(s) => json!({ "S": s }),
                AttributeValue::N(n) => json!({ "N": n }),
                AttributeValue::Bool(b) => json!({ "BOOL": b }),
                AttributeValue::Null(_) => json!({ "NULL": true }),
                AttributeValue::M(m) => json!({ "M": wire(m) }),
                AttributeValue::L(l) => json!({ "L": l.iter().map(value).collect::<Vec<_>>() }),
                other => panic!("no stored layout uses {other:?}"),
            }
        }
        Value::Object(item.iter().map(|(k, v)| (k.clone(), value(v))).collect())
    }

    /// The inverse of `wire`.
    fn from_wire(json: &Value) -> Item {
        fn value(v: &Value) -> AttributeValue {
            let (kind, inner) = v.as_object().and_then(|o| o.iter().next()).expect("one typed value");
            match kind.as_str() {
                "S" => AttributeValue::S(inner.as_str().unwrap().to_owned()),
                "N" => AttributeValue::N(inner.as_str().unwrap().to_owned()),
                "BOOL" => AttributeValue::Bool(inner.as_bool().unwrap()),
                "NULL" => AttributeValue::Null(true),
                "M" => AttributeValue::M(from_wire(inner)),
                "L" => AttributeValue::L(inner.as_array().unwrap().iter().map(value).collect()),
                other => panic!("unexpected type {other}"),
            }
        }
        json.as_object().unwrap().iter().map(|(k, v)| (k.clone(), value(v))).collect()
    }

    /// The conformance suite's complete order, at version 3.
    fn sample_order() -> Order {
        Order { version: 3, ..fixtures::complete_order() }
    }

    /// `sample_order` at version 4, as it is stored today (and must stay readable).
    const SAMPLE_ORDER_ITEM: &str = r##"{
        "pk": {"S": "ORDER#ord_01JDXYZ"},
        "sk": {"S": "ORDER"},
        "order_id": {"S": "ord_01JDXYZ"},
        "status": {"S": "allocated"},
        "status_key": {"S": "allocated#7"},
        "status_since_key": {"S": "2026-11-20T12:00:00.000000Z#ord_01JDXYZ"},
        "channel": {"S": "woocommerce"},
        "external_id": {"S": "WC-1001"},
        "order_number": {"S": "#WC-1001"},
        "merchant_id": {"S": "m-1"},
        "placed_at": {"S": "2026-11-20T10:00:00Z"},
        "customer": {"M": {"email": {"S": "a@example.com"}, "id": {"S": "c-1"}, "name": {"S": "Li Lei"},
                           "phone": {"S": "+8613800000000"}, "card": {"S": "fp_4242"}}},
        "shipping_address": {"M": {"city": {"S": "Hangzhou"}, "country": {"S": "CN"}, "line1": {"S": "1 West Lake Rd"},
                                   "name": {"S": "Li Lei"}, "postal_code": {"S": "310000"}, "province": {"S": "Zhejiang"}}},
        "currency": {"S": "CNY"},
        "lines": {"L": [{"M": {"quantity": {"N": "2"}, "sku": {"S": "SKU-1"}, "unit_price": {"S": "19.90"}}}]},
        "charges": {"M": {"discount": {"S": "2.50"}, "shipping": {"S": "8"}, "tax": {"S": "0"}, "taxes_included": {"BOOL": true}}},
        "allocation": {"M": {"explanation": {"S": "WH-1 is nearest"},
                             "lines": {"L": [{"M": {"merchant_id": {"S": "m-1"}, "quantity": {"N": "2"}, "sku": {"S": "SKU-1"},
                                                    "warehouse": {"S": "WH-1"}}}]},
                             "planned_at": {"S": "2026-11-20T12:00:00Z"}}},
        "timeline": {"L": [{"M": {"at": {"S": "2026-11-20T12:00:00Z"}, "detail": {"S": "received from woocommerce"},
                                  "status": {"S": "received"}}},
                           {"M": {"at": {"S": "2026-11-20T12:00:00Z"}, "detail": {"S": "planned"}, "status": {"S": "allocated"}}}]},
        "channel_updated_at": {"S": "2026-11-20T10:00:00Z"},
        "version": {"N": "4"},
        "customer_key": {"S": "m-1#c-1"},
        "phone_key": {"S": "m-1#+8613800000000"},
        "address_key": {"S": "m-1#6c1e48ec2e956895f7297ff7411c4d1767895987814acd15fd2fd3acfbfd0cfd"},
        "card_key": {"S": "m-1#fp_4242"},
        "external_key": {"S": "m-1#WC-1001"},
        "channel_key": {"S": "m-1#woocommerce"},
        "order_number_key": {"S": "m-1##WC-1001"}
    }"##;

    fn literal(json: &str) -> Value {
        serde_json::from_str(json).unwrap()
    }

    fn item_of<T: Serialize>(stored: &T) -> Item {
        serde_dynamo::to_item(stored).unwrap()
    }

    #[test]
    fn an_order_item_has_exactly_the_documented_attributes() {
        let item = item_of(&OrderItem::new(&sample_order(), 4));
        assert_eq!(wire(&item), literal(SAMPLE_ORDER_ITEM));
    }

    #[test]
    fn an_order_item_in_todays_layout_reads_back_as_the_order() {
        let stored: OrderItem = serde_dynamo::from_item(from_wire(&literal(SAMPLE_ORDER_ITEM))).unwrap();
        assert_eq!(Order::try_from(stored).unwrap(), Order { version: 4, ..sample_order() });
    }

    #[test]
    fn an_order_item_from_before_order_numbers_reads_with_its_external_id_as_the_number() {
        let mut old = literal(SAMPLE_ORDER_ITEM);
        let fields = old.as_object_mut().unwrap();
        fields.remove("order_number");
        fields.remove("order_number_key");
        let stored: OrderItem = serde_dynamo::from_item(from_wire(&old)).unwrap();
        assert_eq!(Order::try_from(stored).unwrap().order_number.as_str(), "WC-1001");
    }

    #[test]
    fn a_backordered_order_has_one_backorder_item_per_sku_keyed_by_its_time_and_id() {
        let mut order = sample_order();
        order.lines.push(order.lines[0].clone());
        order.lines[1].sku = fixtures::sku("SKU-2");
        assert!(BackorderItem::of(&order).is_empty(), "an allocated order waits for nothing");
        order.transition(oms_domain::OrderStatus::Backordered, fixtures::noon(), "short").unwrap();
        let items: Vec<Value> = BackorderItem::of(&order).iter().map(|entry| wire(&item_of(entry))).collect();
        let expected = r#"[{
            "pk": {"S": "BACKORDER#SKU-1"}, "sk": {"S": "2026-11-20T12:00:00.000000Z#ord_01JDXYZ"},
            "order_id": {"S": "ord_01JDXYZ"}, "sku": {"S": "SKU-1"}, "since": {"S": "2026-11-20T12:00:00.000000Z"}
        }, {
            "pk": {"S": "BACKORDER#SKU-2"}, "sk": {"S": "2026-11-20T12:00:00.000000Z#ord_01JDXYZ"},
            "order_id": {"S": "ord_01JDXYZ"}, "sku": {"S": "SKU-2"}, "since": {"S": "2026-11-20T12:00:00.000000Z"}
        }]"#;
        assert_eq!(Value::Array(items), literal(expected));
    }

    #[test]
    fn an_order_without_a_phone_has_no_phone_key_and_one_without_charges_reads_as_zero_charges() {
        let mut order = sample_order();
        order.customer.phone = None;
        order.customer.card = None;
        order.allocation = None;
        let mut item = item_of(&OrderItem::new(&order, 4));
        assert!(!item.contains_key("phone_key"), "an order without a phone stays out of by_phone");
        assert!(!item.contains_key("card_key"), "an order without a card stays out of by_card");
        assert_eq!(item["allocation"], AttributeValue::Null(true), "no allocation is NULL");

        item.remove("charges");
        let stored: OrderItem = serde_dynamo::from_item(item).unwrap();
        let read = Order::try_from(stored).unwrap();
        assert_eq!(read.charges, Charges::default());
    }

    #[test]
    fn a_corrupt_order_item_is_an_error_naming_the_attribute() {
        let mut json = literal(SAMPLE_ORDER_ITEM);
        json["timeline"]["L"][1]["M"]["status"] = json!({ "S": "misplaced" });
        let stored: OrderItem = serde_dynamo::from_item(from_wire(&json)).unwrap();
        let err = Order::try_from(stored).unwrap_err();
        assert_eq!(err.to_string(), "the stored attribute timeline.status is invalid: unknown status \"misplaced\"");

        let mut json = literal(SAMPLE_ORDER_ITEM);
        json["lines"]["L"][0]["M"]["unit_price"] = json!({ "S": "lots" });
        assert!(serde_dynamo::from_item::<_, OrderItem>(from_wire(&json)).is_err());
    }

    #[test]
    fn the_dedupe_marker_names_the_order() {
        let item = item_of(&DedupeItem::new(&sample_order()));
        let expected = r#"{
            "pk": {"S": "CHANNEL#woocommerce#MERCHANT#m-1#WC-1001"}, "sk": {"S": "DEDUPE"},
            "order_id": {"S": "ord_01JDXYZ"}, "channel": {"S": "woocommerce"}, "external_id": {"S": "WC-1001"}
        }"#;
        assert_eq!(wire(&item), literal(expected));
        let stored: DedupeItem = serde_dynamo::from_item(item).unwrap();
        assert_eq!(stored.target().unwrap().as_str(), "ord_01JDXYZ");
    }

    #[test]
    fn a_warehouse_item_has_the_documented_attributes_and_reads_back() {
        let warehouse = fixtures::warehouse("WH-1", "Hangzhou North");
        let expected = r#"{
            "pk": {"S": "WAREHOUSES"}, "sk": {"S": "WH-1"},
            "warehouse_id": {"S": "WH-1"}, "name": {"S": "Hangzhou North"}, "merchant_id": {"S": "m-1"},
            "province": {"S": "Zhejiang"}, "city": {"S": "Hangzhou"}, "lat": {"N": "30.2741"}, "lon": {"N": "120.1551"}
        }"#;
        assert_eq!(wire(&item_of(&WarehouseItem::from(&warehouse))), literal(expected));
        let stored: WarehouseItem = serde_dynamo::from_item(from_wire(&literal(expected))).unwrap();
        assert_eq!(Warehouse::try_from(stored).unwrap(), warehouse);
    }

    #[test]
    fn a_reservation_item_has_the_documented_attributes_and_reads_back() {
        let order_id = OrderId::parse("ord_1").unwrap();
        let lines = [allocated("WH-1", "SKU-1", 2), fixtures::owned_line("WH-2", "m-2", "SKU-2", 1)];
        let expected = r#"{
            "pk": {"S": "RESERVATION#ord_1"}, "sk": {"S": "RESERVATION"},
            "order_id": {"S": "ord_1"}, "hold_id": {"S": "h-1"},
            "lines": {"L": [{"M": {"warehouse": {"S": "WH-1"}, "merchant_id": {"S": "m-1"}, "sku": {"S": "SKU-1"}, "quantity": {"N": "2"}}},
                            {"M": {"warehouse": {"S": "WH-2"}, "merchant_id": {"S": "m-2"}, "sku": {"S": "SKU-2"}, "quantity": {"N": "1"}}}]}
        }"#;
        let hold_id = HoldId::parse("h-1").unwrap();
        assert_eq!(wire(&item_of(&ReservationItem::new(&order_id, &hold_id, &lines, 1))), literal(expected));
        let stored: ReservationItem = serde_dynamo::from_item(from_wire(&literal(expected))).unwrap();
        assert_eq!(unowned_warehouses(&stored.lines), Vec::<&str>::new());
        assert_eq!(stored.allocated_lines(&LegacyOwners::new()).unwrap(), lines);
        assert_eq!((stored.parts, stored.parts_held), (1, 0), "a hold of one part, as items before parts were");
    }

    #[test]
    fn a_reservation_line_stored_before_owners_is_its_warehouses_merchants() {
        let before = r#"{
            "pk": {"S": "RESERVATION#ord_1"}, "sk": {"S": "RESERVATION"},
            "order_id": {"S": "ord_1"}, "hold_id": {"S": "h-1"},
            "lines": {"L": [{"M": {"warehouse": {"S": "WH-2"}, "sku": {"S": "SKU-2"}, "quantity": {"N": "1"}}}]}
        }"#;
        let stored: ReservationItem = serde_dynamo::from_item(from_wire(&literal(before))).unwrap();
        assert_eq!(unowned_warehouses(&stored.lines), ["WH-2"]);
        let legacy = LegacyOwners::from([("WH-2".to_owned(), fixtures::merchant("m-2"))]);
        assert_eq!(stored.allocated_lines(&legacy).unwrap(), [fixtures::owned_line("WH-2", "m-2", "SKU-2", 1)]);
        let err = stored.allocated_lines(&LegacyOwners::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the stored attribute lines.merchant_id is invalid: absent, and warehouse WH-2 is not registered"
        );
    }

    #[test]
    fn a_hold_in_parts_has_the_documented_attributes_and_reads_back() {
        let order_id = OrderId::parse("ord_1").unwrap();
        let hold_id = HoldId::parse("h-1").unwrap();
        let lines = [allocated("WH-1", "SKU-1", 2)];
        let mut head = ReservationItem::new(&order_id, &hold_id, &lines, 2);
        head.parts_held = 1;
        let expected = r#"{
            "pk": {"S": "RESERVATION#ord_1"}, "sk": {"S": "RESERVATION"},
            "order_id": {"S": "ord_1"}, "hold_id": {"S": "h-1"}, "parts": {"N": "2"}, "parts_held": {"N": "1"},
            "lines": {"L": [{"M": {"warehouse": {"S": "WH-1"}, "merchant_id": {"S": "m-1"}, "sku": {"S": "SKU-1"}, "quantity": {"N": "2"}}}]}
        }"#;
        assert_eq!(wire(&item_of(&head)), literal(expected));
        let expected = r#"{
            "pk": {"S": "RESERVATION#ord_1"}, "sk": {"S": "PART#h-1#001"},
            "order_id": {"S": "ord_1"}, "hold_id": {"S": "h-1"}, "part": {"N": "1"},
            "lines": {"L": [{"M": {"warehouse": {"S": "WH-1"}, "merchant_id": {"S": "m-1"}, "sku": {"S": "SKU-1"}, "quantity": {"N": "2"}}}]}
        }"#;
        let part = ReservationPartItem::new(&order_id, &hold_id, 1, &lines);
        assert_eq!(wire(&item_of(&part)), literal(expected));
        let stored: ReservationPartItem = serde_dynamo::from_item(from_wire(&literal(expected))).unwrap();
        assert_eq!(stored, part);
    }

    fn stock_item(on_hand: &str, reserved: &str, available: &str) -> Item {
        from_wire(&json!({
            "pk": {"S": "STOCK#SKU-1"}, "sk": {"S": "WAREHOUSE#WH-1#MERCHANT#m-2"},
            "warehouse": {"S": "WH-1"}, "merchant_id": {"S": "m-2"}, "sku": {"S": "SKU-1"},
            "on_hand": {"N": on_hand}, "reserved": {"N": reserved}, "available": {"N": available}
        }))
    }

    #[test]
    fn a_stock_item_reads_as_its_level() {
        let stored: StockItem = serde_dynamo::from_item(stock_item("10", "3", "7")).unwrap();
        let level = StockLevel::try_from(stored).unwrap();
        let expected = StockLevel::new(
            WarehouseId::parse("WH-1").unwrap(),
            fixtures::merchant("m-2"),
            Sku::parse("SKU-1").unwrap(),
            StockCounts::new(10, 3).unwrap(),
        );
        assert_eq!(level, expected);
    }

    #[test]
    fn a_stock_item_from_before_owners_is_an_error_naming_its_owner() {
        let mut before = stock_item("10", "3", "7");
        before.remove("merchant_id");
        let err = serde_dynamo::from_item::<_, StockItem>(before).unwrap_err();
        assert!(err.to_string().contains("merchant_id"), "{err}");
    }

    #[test]
    fn a_stock_item_with_more_reserved_than_on_hand_is_an_error_not_zero_available() {
        let stored: StockItem = serde_dynamo::from_item(stock_item("2", "5", "0")).unwrap();
        let err = StockLevel::try_from(stored).unwrap_err();
        assert_eq!(err.to_string(), "the stored attribute reserved is invalid: 5 units reserved exceed the 2 on hand");

        let stored: StockItem = serde_dynamo::from_item(stock_item("10", "3", "9")).unwrap();
        let err = StockLevel::try_from(stored).unwrap_err();
        assert!(err.to_string().contains("available"), "{err}");
    }
}
