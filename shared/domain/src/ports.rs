//! The ports: narrow async traits for everything the use cases need from the outside
//! world. Each method's doc states its condition; a failed condition is an `Ok`
//! outcome the caller must handle, never an error. `StoreError` is only for the
//! unexpected (I/O, throttling past retries, corrupt data).
//!
//! Two adapter sets implement every port (embedded SQLite and AWS), and one
//! conformance suite holds them to the same semantics.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::fmt;
use std::sync::Arc;

use crate::alert::{Alert, AlertPage, AlertStatus};
use crate::auction::{Auction, AuctionId, Bid};
use crate::carrier::RateTable;
use crate::catalogue::SkuFacts;
use crate::consignment::Consignment;
use crate::flash_sale::{Claim, FlashSale, IdempotencyKey, SaleClosing, SaleId, ShardLevel};
use crate::ledger::{AdjustOutcome, Adjustment, LedgerEntry, LedgerPage, OpenHold, StockFigures};
use crate::messages::Outgoing;
use crate::order::{Channel, Order, OrderStatus};
use crate::reservation::{Hold, HoldId, Reservation};
use crate::sales::{Sale, SaleKey, SalesPage};
use crate::shipment::{Lane, Shipment, TrackingEvent, TransitSample};
use crate::sku_mapping::SkuMapping;
use crate::stock::{StockLevel, Warehouse};
use crate::supply::{GoodsReceipt, Incoming, PoPage, PoQuery, PurchaseOrder, Receipt, ReceiptRefusal, Supplier};
use crate::{
    AlertId, CarrierId, ConsignmentId, CustomerId, ExternalId, MerchantId, OrderId, OrderNumber, PurchaseOrderId, Sku,
    SupplierId, TrackingNumber, ValidationError, WarehouseId,
};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An adapter failed for a reason that is not a business outcome.
#[derive(Debug, thiserror::Error)]
#[error("{context}")]
pub struct StoreError {
    context: String,
    #[source]
    source: Option<BoxError>,
}

impl StoreError {
    /// `context` says what we were doing ("Failed to read order ord_1"); `source` is the cause.
    pub fn new(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self { context: context.into(), source: Some(source.into()) }
    }

    /// An error with no underlying cause, such as corrupt data found by the adapter itself.
    pub fn msg(context: impl Into<String>) -> Self {
        Self { context: context.into(), source: None }
    }
}

/// What `OrderStore::insert_order` did.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum InsertOutcome {
    Inserted,
    /// The channel already delivered this order: here is the one we kept.
    Duplicate(Box<Order>),
}

/// What `OrderStore::update_order` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum UpdateOutcome {
    /// Written; the stored order now has this version.
    Updated { version: u64 },
    /// Someone else wrote the order since it was read (or it does not exist), or the hold
    /// the write was to give back is no longer the order's: read both again.
    VersionConflict,
}

/// What an order write does besides writing the order, in the same atomic step: all of it
/// lands with the order or none of it does, so no crash can leave one without the other.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// Messages queued with the write (the outbox): sent if and only if the write lands.
    /// Embedded: rows of the queue's own table; AWS: outbox items the table's stream
    /// relays to their queues (`docs/dynamodb.md`).
    pub send: Vec<Outgoing>,
    /// What the write does to the order's hold of stock, and its condition on it.
    pub hold: HoldEffect,
    /// The order's sale, entered in its merchant's sales history with the write (when its
    /// reservation is recorded): there if and only if the write lands. The same order's
    /// sale written again replaces the first (one sale per order). Boxed: most writes carry none.
    pub sale: Option<Box<Sale>>,
}

/// What an order write does to the order's hold of stock, in the same atomic step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HoldEffect {
    /// Nothing, and no condition on it.
    #[default]
    Untouched,
    /// Gives the hold back. Condition: it is still the order's current hold.
    Release(HoldId),
    /// Nothing. Condition: the order holds no stock, so a hold placed after the caller
    /// found none makes the write a lost race (a cancel then reads the new hold).
    NoneHeld,
    /// Ships units the order holds: records the shipment and consumes its lines from the
    /// hold (each stock's on hand and reserved both drop by the line's units, the hold
    /// keeps the rest, and goes when nothing is left). See [`ShipEffect`].
    Ship(Box<ShipEffect>),
    /// Gives back the units of a flash-sale claim whose order never held them (cancelled
    /// before its hold was placed). Condition: the order holds no stock (as `NoneHeld`).
    /// See [`ClaimReturn`].
    ReturnClaim(Box<ClaimReturn>),
}

/// The units a flash-sale claim took, given back with its order's write (a cancel before
/// the order held them): while the sale's close has not begun they go back to the claim's
/// shard (`units_left` grows by the quantity; the claims made, the customer's total and the
/// claim under its key stay as they were), so a later claim can take them; once it has
/// begun (SQLite: the sale is closed; DynamoDB: its `CLOSED` item exists) they go to
/// available stock as the close's own units do: the stock's `reserved` and `set_aside`
/// shrink by the quantity, with a `release` ledger entry of the sale's hold
/// ([`LedgerLine::claim_returned`](crate::ledger::LedgerLine::claim_returned)), and the
/// sale's `units_returned` grows by it. Back in the shard the units stay set aside (the
/// stock's figures do not move, so the ledger has nothing to record). Either way once: the
/// order's write is conditional on its version, and a cancelled order is never cancelled
/// again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimReturn {
    pub sale_id: SaleId,
    pub shard: u32,
    /// The claim's units: the stock (warehouse, owner, SKU) the shard holds and the quantity.
    pub line: crate::order::AllocatedLine,
    /// The order given back (named in the ledger entry).
    pub order_id: OrderId,
}

/// What a shipment's write does besides writing the order, in the same atomic step.
/// Conditions: the order's current hold is `hold_id` and holds at least each line of
/// `taken`; each line's stock has at least its units reserved; no shipment of this order
/// has the tracking number, and every shipment that has it is of the same merge group
/// (`Shipment::group`: the orders of one group share parcels, other orders never share a
/// number). Otherwise nothing is written (`VersionConflict`: read again).
/// A hold written in more than one part cannot be shipped from (an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipEffect {
    pub hold_id: HoldId,
    /// The units consumed, per stock (warehouse, owner, SKU), each once.
    pub taken: Vec<crate::order::AllocatedLine>,
    pub shipment: crate::shipment::Shipment,
}

impl Effects {
    /// No effect: the write of the order alone.
    pub fn none() -> Self {
        Self::default()
    }

    /// Queue `message` with the write.
    pub fn send(message: Outgoing) -> Self {
        Self { send: vec![message], hold: HoldEffect::Untouched, sale: None }
    }

    /// Enter `sale` in the sales history with the write.
    pub fn record_sale(sale: Sale) -> Self {
        Self { sale: Some(Box::new(sale)), ..Self::default() }
    }

    pub fn is_none(&self) -> bool {
        self.send.is_empty() && self.hold == HoldEffect::Untouched && self.sale.is_none()
    }
}

/// What an order lookup asks for: one merchant's orders that match every filter given.
/// Lookups are per merchant: every index of both stores starts with the merchant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQuery {
    pub merchant: MerchantId,
    pub customer: Option<CustomerId>,
    /// A normalised phone number (see `order::normalise_phone`).
    pub phone: Option<String>,
    /// A shipping address's fingerprint (`Address::fingerprint`).
    pub address: Option<String>,
    /// A card's fingerprint (`Customer::card`).
    pub card: Option<String>,
    pub channel: Option<Channel>,
    pub external_id: Option<ExternalId>,
    pub order_number: Option<OrderNumber>,
    /// The order's current status.
    pub status: Option<OrderStatus>,
}

impl OrderQuery {
    /// Every order of `merchant`; narrow it with the filters below.
    pub fn of(merchant: MerchantId) -> Self {
        Self {
            merchant,
            customer: None,
            phone: None,
            address: None,
            card: None,
            channel: None,
            external_id: None,
            order_number: None,
            status: None,
        }
    }

    #[must_use]
    pub fn customer(self, customer: CustomerId) -> Self {
        Self { customer: Some(customer), ..self }
    }

    #[must_use]
    pub fn phone(self, phone: impl Into<String>) -> Self {
        Self { phone: Some(phone.into()), ..self }
    }

    /// Orders shipping to the address with this fingerprint.
    #[must_use]
    pub fn address(self, fingerprint: impl Into<String>) -> Self {
        Self { address: Some(fingerprint.into()), ..self }
    }

    /// Orders paid with the card of this fingerprint.
    #[must_use]
    pub fn card(self, fingerprint: impl Into<String>) -> Self {
        Self { card: Some(fingerprint.into()), ..self }
    }

    #[must_use]
    pub fn channel(self, channel: Channel) -> Self {
        Self { channel: Some(channel), ..self }
    }

    #[must_use]
    pub fn external_id(self, external_id: ExternalId) -> Self {
        Self { external_id: Some(external_id), ..self }
    }

    #[must_use]
    pub fn order_number(self, order_number: OrderNumber) -> Self {
        Self { order_number: Some(order_number), ..self }
    }

    #[must_use]
    pub fn status(self, status: OrderStatus) -> Self {
        Self { status: Some(status), ..self }
    }

    /// True if any filter beside the merchant is given.
    pub fn is_narrowed(&self) -> bool {
        self.customer.is_some()
            || self.phone.is_some()
            || self.address.is_some()
            || self.card.is_some()
            || self.channel.is_some()
            || self.external_id.is_some()
            || self.order_number.is_some()
            || self.status.is_some()
    }

    /// True if `order` is the merchant's and matches every filter given.
    pub fn matches(&self, order: &Order) -> bool {
        order.merchant_id == self.merchant
            && self.customer.as_ref().is_none_or(|c| &order.customer.id == c)
            && self.phone.as_ref().is_none_or(|p| order.customer.phone.as_ref() == Some(p))
            && self.address.as_ref().is_none_or(|a| &order.shipping_address.fingerprint() == a)
            && self.card.as_ref().is_none_or(|c| order.customer.card.as_ref() == Some(c))
            && self.channel.is_none_or(|c| order.channel == c)
            && self.external_id.as_ref().is_none_or(|e| &order.external_id == e)
            && self.order_number.as_ref().is_none_or(|n| &order.order_number == n)
            && self.status.is_none_or(|s| order.status == s)
    }
}

/// An order's place in the index by status: since when it is in its status, and its id
/// (the index's order, and a page's cursor).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatusEntry {
    pub since: DateTime<Utc>,
    pub order_id: OrderId,
}

/// Most orders one page holds.
pub const MAX_PAGE_SIZE: usize = 100;

/// One page of a lookup: at most `limit` orders (1 to `MAX_PAGE_SIZE`), newest first,
/// created before the order `after` when it is given (the last of the previous page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    limit: usize,
    after: Option<OrderId>,
}

impl Page {
    /// Checks the limit: 1 to `MAX_PAGE_SIZE`.
    pub fn new(limit: usize, after: Option<OrderId>) -> Result<Self, ValidationError> {
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(ValidationError::new("limit", format!("must be 1 to {MAX_PAGE_SIZE}, not {limit}")));
        }
        Ok(Self { limit, after })
    }

    /// The first page of at most `limit` orders (clamped to 1..=`MAX_PAGE_SIZE`).
    pub fn first(limit: usize) -> Self {
        Self { limit: limit.clamp(1, MAX_PAGE_SIZE), after: None }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn after(&self) -> Option<&OrderId> {
        self.after.as_ref()
    }
}

/// One page of orders, newest first, and where the next page starts (`None`: no more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrdersPage {
    pub orders: Vec<Order>,
    /// The last order of this page, when more orders match after it.
    pub next: Option<OrderId>,
}

impl OrdersPage {
    /// The page from up to `limit + 1` matches, newest first: the extra one only says
    /// that there is a next page.
    pub fn from_matches(mut matches: Vec<Order>, limit: usize) -> Self {
        let more = matches.len() > limit;
        matches.truncate(limit);
        let next = if more { matches.last().map(|o| o.order_id.clone()) } else { None };
        Self { orders: matches, next }
    }
}

/// Orders, keyed by our id and, uniquely, by (channel, merchant, external id).
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Stores a new order at version 1 and, in the same atomic write, queues `send` (the
    /// outbox: the messages exist exactly when the order does).
    /// Condition: no order with the same (channel, merchant, external id) exists;
    /// otherwise nothing is written (no message either) and the existing order is returned
    /// as `Duplicate`. The same external id from another merchant on the same channel is
    /// another order.
    async fn insert_order_sending(&self, order: &Order, send: &[Outgoing]) -> Result<InsertOutcome, StoreError>;

    /// `insert_order_sending` with no message.
    async fn insert_order(&self, order: &Order) -> Result<InsertOutcome, StoreError> {
        self.insert_order_sending(order, &[]).await
    }

    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError>;

    /// Replaces the order with `order`, at version `order.version + 1`, and applies
    /// `effects` in the same atomic write (messages queued, a hold given back).
    /// Conditions: the stored version is still `order.version`; the hold condition of
    /// `effects.hold` holds. Otherwise nothing at all is written:
    /// `VersionConflict`. A hold larger than one atomic write (see
    /// [`InventoryStore::reserve`]) gives back its later parts first, each atomically, and
    /// its first part with the order.
    async fn update_order_with(&self, order: &Order, effects: &Effects) -> Result<UpdateOutcome, StoreError>;

    /// `update_order_with` with no effect.
    async fn update_order(&self, order: &Order) -> Result<UpdateOutcome, StoreError> {
        self.update_order_with(order, &Effects::none()).await
    }

    /// One page of the orders matching `query` (every filter given, the merchant always),
    /// newest first (descending order id). Every filter is applied before the page is cut,
    /// so a page is short only at the end. Index lookups may lag a write a moment. A query
    /// by status alone is served (DynamoDB: the merchant's orders on each channel, the
    /// status as a filter, merged); a status among other filters narrows them.
    async fn find_orders(&self, query: &OrderQuery, page: &Page) -> Result<OrdersPage, StoreError>;

    /// At most `limit` backordered orders with a line of `sku`, oldest backorder first
    /// (by [`Order::backordered_since`](crate::Order::backordered_since), then order id).
    /// Condition: the index is written in the same atomic write as the order, so an order
    /// is listed exactly while its stored status is `backordered`, once per SKU of its
    /// lines (`insert_order` and `update_order` keep it); strongly consistent.
    async fn backorders_waiting_for(&self, sku: &Sku, limit: usize) -> Result<Vec<OrderId>, StoreError>;

    /// At most `limit` orders in `status` since before `before` (by
    /// [`Order::status_since`](crate::Order::status_since)), oldest first (then order id),
    /// after the entry `after` when it is given (the last of the previous page): what the
    /// sweeper looks for. Only statuses that are not final are indexed
    /// ([`OrderStatus::is_final`]); a final status lists nothing.
    /// Condition: the index is written in the same atomic write as the order; it may lag
    /// a write a moment (an index of the AWS table cannot be read consistently).
    async fn orders_in_status_since(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        after: Option<&StatusEntry>,
        limit: usize,
    ) -> Result<Vec<StatusEntry>, StoreError>;
}

/// Warehouses, keyed by id.
/// The channels' SKUs mapped to ours, per (channel, merchant).
#[async_trait]
pub trait SkuMappingStore: Send + Sync {
    /// Stores the mapping, replacing the one of the same (channel, merchant, channel SKU).
    /// Unconditional.
    async fn put_sku_mapping(&self, mapping: &SkuMapping) -> Result<(), StoreError>;

    /// Our SKU for `channel_sku` of that channel and merchant, if it is mapped.
    async fn mapped_sku(&self, channel: Channel, merchant: &MerchantId, channel_sku: &Sku) -> Result<Option<Sku>, StoreError>;
}

/// What `put_warehouse` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutWarehouse {
    Stored,
    /// Another merchant's warehouse has the id: nothing written.
    OwnedByAnother,
}

#[async_trait]
pub trait WarehouseStore: Send + Sync {
    /// Creates the warehouse, or replaces it with new details.
    /// Condition: no warehouse has the id, or the one that has it is the same merchant's;
    /// otherwise nothing is written (`OwnedByAnother`): a merchant's warehouse is never
    /// taken over by another registering its id, even when both register it at once.
    async fn put_warehouse(&self, warehouse: &Warehouse) -> Result<PutWarehouse, StoreError>;

    async fn get_warehouse(&self, id: &WarehouseId) -> Result<Option<Warehouse>, StoreError>;

    /// Every warehouse, by id.
    async fn list_warehouses(&self) -> Result<Vec<Warehouse>, StoreError>;
}

/// The SKU catalogue: the facts of each SKU, keyed by SKU.
#[async_trait]
pub trait SkuCatalogue: Send + Sync {
    /// Creates or replaces the facts of `facts.sku`. Unconditional.
    async fn put_sku(&self, facts: &SkuFacts) -> Result<(), StoreError>;

    /// The facts of `sku`, if the catalogue has them.
    async fn get_sku(&self, sku: &Sku) -> Result<Option<SkuFacts>, StoreError>;
}

/// The carriers' rate tables, one per carrier.
#[async_trait]
pub trait RateTables: Send + Sync {
    /// Creates or replaces the table of `table.carrier`, every band at once. Unconditional.
    async fn put_rates(&self, table: &RateTable) -> Result<(), StoreError>;

    /// The table of `carrier`, if it has one.
    async fn get_rates(&self, carrier: &CarrierId) -> Result<Option<RateTable>, StoreError>;

    /// Every carrier's table, by carrier id.
    async fn list_rates(&self) -> Result<Vec<RateTable>, StoreError>;
}

/// What `InventoryStore::set_on_hand` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum SetOnHandOutcome {
    Set(StockLevel),
    /// More units are reserved than the new count: nothing changed.
    BelowReserved {
        reserved: u32,
    },
}

/// What `InventoryStore::reserve` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum ReserveOutcome {
    /// Every line is held, under this new hold.
    Reserved { hold_id: HoldId },
    /// This order already holds a reservation; nothing changed.
    AlreadyReserved,
    /// One line found too few units available in the stock it names (its warehouse,
    /// owner and SKU); nothing changed.
    Insufficient { warehouse: WarehouseId, owner: MerchantId, sku: Sku, available: u32 },
}

/// What `InventoryStore::release` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum ReleaseOutcome {
    /// The hold's lines went back to available stock.
    Released(Reservation),
    /// The order held nothing (never reserved, or already released).
    NothingHeld,
    /// The order holds another hold than the one named (the one named was released and the
    /// order reserved again): nothing changed.
    NotThatHold,
}

/// Stock per (warehouse, owner, SKU) and the reservations held against it. Each owner's
/// units of a SKU in a warehouse are a stock of their own: counted, reserved and released
/// apart from another merchant's units of the same SKU beside them.
#[async_trait]
pub trait InventoryStore: Send + Sync {
    /// Sets the physical count of `owner`'s units of a SKU in a warehouse (a WMS sync).
    /// Condition: `on_hand` is at least the units reserved in that stock.
    async fn set_on_hand(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        on_hand: u32,
    ) -> Result<SetOnHandOutcome, StoreError>;

    /// The SKU's stock of every (warehouse, owner) that ever recorded it, by warehouse id,
    /// then owner.
    async fn stock_of(&self, sku: &Sku) -> Result<Vec<StockLevel>, StoreError>;

    /// Holds every line of `reservation` for the order under a new hold, all or nothing.
    /// Conditions: the order holds no reservation yet; each line's (warehouse, owner, SKU)
    /// has at least `quantity` available.
    ///
    /// A reservation of any size is accepted. An adapter whose atomic write takes at most
    /// [`MAX_LINES_PER_WRITE`](crate::reservation::MAX_LINES_PER_WRITE) lines writes a
    /// larger one in parts ([`Reservation::parts`]), and when a later part fails it gives
    /// back the parts already written before it answers: once `reserve` answers, the order
    /// holds all of it or none of it.
    async fn reserve(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError>;

    /// Gives the units of the hold `hold_id` back to the stock each line names (its
    /// warehouse, owner and SKU), atomically per part. Idempotent.
    /// Condition: the order's current hold is `hold_id`; otherwise nothing changes and the
    /// answer is `NothingHeld` (the order holds nothing) or `NotThatHold` (it holds another).
    /// To give back whatever the order holds, read [`reservation`](Self::reservation) and
    /// release its hold id (see `usecases::release_current_hold`).
    async fn release(&self, order_id: &OrderId, hold_id: &HoldId) -> Result<ReleaseOutcome, StoreError>;

    /// The hold the order has, if any: its id and the lines it holds.
    async fn reservation(&self, order_id: &OrderId) -> Result<Option<Hold>, StoreError>;

    /// Holds the lines of `reservation` for the order from units already set aside for it
    /// (a flash sale's, see [`FlashSaleStore::create_sale`]): the hold is recorded as
    /// [`reserve`](Self::reserve) records it, but no stock's reserved count grows, since the
    /// set-aside counts these units already. A release gives them back to available stock
    /// like any hold.
    /// Conditions: the order holds no reservation yet (else `AlreadyReserved`, nothing
    /// changed); at most [`MAX_LINES_PER_WRITE`](crate::reservation::MAX_LINES_PER_WRITE)
    /// lines (a larger one is an error).
    async fn hold_set_aside(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError>;

    /// Changes the on-hand units of `owner`'s stock of a SKU in a warehouse as `adjustment`
    /// says (a delta, or a count as of a moment plus the ledger's on-hand movements of this
    /// stock since then), with its `adjust` or `recount` ledger entry in the same atomic
    /// write. A stock never counted starts at 0 on hand.
    /// Conditions: on hand after it is at least the units held (and at most
    /// [`MAX_ON_HAND`](crate::stock::MAX_ON_HAND)), else `BelowHeld`; for a count as of a
    /// moment, no count of this stock was recorded after that moment, else `NewerCount`.
    /// A failed condition changes nothing; a stock that changed between the read and the
    /// write is read again.
    async fn adjust(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        adjustment: &Adjustment,
    ) -> Result<AdjustOutcome, StoreError>;

    /// One page of the SKU's stock ledger (of `owner`'s stock only, when given): at most
    /// `limit` entries, oldest first, after the entry `after`; `next` names the last entry
    /// when more follow. Every stock-changing operation of this port, of
    /// [`FlashSaleStore::create_sale`], [`FlashSaleStore::close_sale`] and of
    /// [`OrderStore::update_order_with`] (a hold
    /// given back) appends its entries in its own atomic write, so a stock's entries sum to
    /// its figures (see `oms_domain::ledger`). Strongly consistent.
    async fn ledger(
        &self,
        sku: &Sku,
        owner: Option<&MerchantId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<LedgerPage, StoreError>;

    /// Every stock's figures as stored, unchecked: what the reconciliation checks. Not one
    /// snapshot: each stock is read as it is when reached (DynamoDB: a `Scan`).
    async fn stock_figures(&self) -> Result<Vec<StockFigures>, StoreError>;

    /// The units every open order hold holds, per stock. Not one snapshot (DynamoDB: a
    /// `Scan`). A flash sale's set-aside is counted in its stock's `set_aside`.
    async fn open_holds(&self) -> Result<Vec<OpenHold>, StoreError>;

    /// What remains of every lot of the SKU's stocks (of every warehouse and owner), by
    /// warehouse, owner, then expiry (none last) and receipt: see [`crate::lot`]. Strongly
    /// consistent. Every lot ever received into a stock is listed, emptied ones too.
    async fn lots_of(&self, sku: &Sku) -> Result<Vec<crate::lot::LotBalance>, StoreError>;

    /// Takes the write-off of lots expired by `day` for one sweep: true the first time
    /// `day` is claimed, false after (whoever claimed it). Strongly consistent, so two
    /// sweeps racing never both write off the same lot.
    async fn claim_lot_sweep(&self, day: chrono::NaiveDate) -> Result<bool, StoreError>;
}

/// What `FlashSaleStore::create_sale` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum CreateSaleOutcome {
    /// The sale is stored and its units are set aside.
    Created,
    /// One line of the set-aside found too few units available; nothing changed.
    Insufficient { warehouse: WarehouseId, owner: MerchantId, sku: Sku, available: u32 },
}

/// What `FlashSaleStore::claim` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum ClaimOutcome {
    /// The claim, the customer's total, the shard and the order are written.
    Claimed,
    /// A claim under the same (sale, idempotency key) exists: here it is; nothing written.
    Duplicate(Box<Claim>),
    /// The customer's claims plus this one would pass the limit; nothing written.
    LimitExceeded { claimed: u32 },
    /// The shard has fewer units left than the claim asks for; nothing written.
    ShardShort { units_left: u32 },
}

/// What `FlashSaleStore::close_sale` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum CloseSaleOutcome {
    /// Closed now: the shards' units went back to stock.
    Closed(SaleClosing),
    /// Closed before: nothing changed.
    AlreadyClosed(SaleClosing),
    /// The sale has not ended at the moment given: nothing changed.
    NotEnded,
}

/// What `FlashSaleStore::end_sale` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum EndSaleOutcome {
    /// The sale ends now: here it is as stored, with its new end.
    Ended(Box<FlashSale>),
    /// The sale had ended already (its end is not after the moment given, or another end
    /// landed first): nothing changed.
    AlreadyEnded,
}

/// Flash sales: the sale, its shards of units, the customers' running totals and the
/// claims under their idempotency keys.
#[async_trait]
pub trait FlashSaleStore: Send + Sync {
    /// Stores the sale and its shards (each with all its units left and no claims) and sets
    /// the sale's units aside from stock ([`FlashSale::set_aside`]): each line's stock
    /// `reserved` and `set_aside` grow by its quantity, so on hand stays available plus held
    /// and no order can take them, with a `set_aside` ledger entry per line. All or nothing,
    /// in one atomic write.
    /// Conditions: each line's (warehouse, owner, SKU) has at least its quantity available
    /// (else `Insufficient` naming the first short line); no sale with this id exists.
    async fn create_sale(&self, sale: &FlashSale) -> Result<CreateSaleOutcome, StoreError>;

    async fn get_sale(&self, id: &SaleId) -> Result<Option<FlashSale>, StoreError>;

    /// Units left and claims made on each of the sale's shards, by shard index. May lag a
    /// claim a moment (DynamoDB reads it eventually consistent): a shard's units only ever
    /// go down, so a lagging level shows units a shard no longer has, never a shard empty
    /// that still has some, and "no shard can serve" read here is true.
    async fn shard_levels(&self, sale: &FlashSale) -> Result<Vec<ShardLevel>, StoreError>;

    /// The claim made under (sale, idempotency key), if any.
    async fn claim_by_key(&self, sale: &SaleId, key: &IdempotencyKey) -> Result<Option<Claim>, StoreError>;

    /// One claim as one atomic write: the claim under (sale, idempotency key); the
    /// customer's units claimed in the sale grown by `claim.quantity`; shard `claim.shard`'s
    /// units left shrunk by it (and its claims counted); and `send` queued (its outbox: the
    /// message that makes the claim's order, `messages::ClaimOrder`), so the claim and what
    /// makes its order exist together or not at all. The order itself is not written here.
    /// Conditions, the first that fails answering: no claim under (sale, key) exists
    /// (`Duplicate`); the customer's units claimed plus `claim.quantity` is at most `limit`
    /// (`LimitExceeded`); the shard has at least `claim.quantity` left (`ShardShort`). A
    /// failed condition writes nothing. Once `Claimed` is answered the claim is durable and
    /// this store's later calls read it; another connection to the same data may read it a
    /// moment later (the embedded store answers once the claim is in the sale's journal and
    /// writes its rows behind it).
    async fn claim(&self, claim: &Claim, limit: u32, send: &[Outgoing]) -> Result<ClaimOutcome, StoreError>;

    /// Closes a sale that has ended: takes every unit left in its shards out (each shard to
    /// zero) and gives them back to available stock, per (warehouse, owner) as the shards
    /// hold them (each stock's `reserved` and `set_aside` shrink by its units, with a
    /// `release` ledger entry of the sale's hold per stock), and marks the sale closed with
    /// `now` and the units returned, so it happens once.
    /// Conditions: `now` is at or after the sale's `ends_at` (else `NotEnded`); the sale is
    /// not closed yet (else `AlreadyClosed` with the first close's figures, nothing changed).
    /// A shard is zeroed only on the units it was read with, in the same atomic write as
    /// their release: a claim landing in between makes the write a lost race that reads the
    /// shards again, so a unit is either claimed or released, never both, never twice.
    /// SQLite: one transaction. DynamoDB: `TransactWriteItems` conditional on each shard's
    /// units as read and on the sale not being closed; a sale whose shards and stocks take
    /// more than one transaction is closed in several, each zeroing the shards whose units
    /// it releases (a crash in between leaves those released and the rest to the next try),
    /// the last one marking the sale closed.
    async fn close_sale(&self, sale: &FlashSale, now: DateTime<Utc>) -> Result<CloseSaleOutcome, StoreError>;

    /// How the sale was closed, if it was. Strongly consistent.
    async fn sale_closing(&self, id: &SaleId) -> Result<Option<SaleClosing>, StoreError>;

    /// The sales not closed yet whose `ends_at` is at or before `now`, earliest end first, at
    /// most `limit`: an index of open sales by end time (SQLite: a partial index of the sales
    /// not closed; DynamoDB: one `OPEN_FLASH_SALES` partition sorted by end time, an item
    /// per sale from its creation until its close), never a scan. SQLite lists the sales
    /// stored before the index too (its migration fills it); on DynamoDB a sale created
    /// before the index has no item there and is not listed.
    async fn ended_open_sales(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<SaleId>, StoreError>;

    /// Ends a sale early, at `now`: its `ends_at` becomes `now` (and its `starts_at` too,
    /// for a sale not started yet), so it takes no claim from `now` on and lists among
    /// [`ended_open_sales`](Self::ended_open_sales) from `now` (SQLite: the sale's row and
    /// its end column; DynamoDB: the sale item put again and its `OPEN_FLASH_SALES` item
    /// moved to the new end, one transaction). Closing it is [`close_sale`](Self::close_sale)'s.
    /// Conditions: the stored sale still ends as `sale` says and after `now` (else
    /// `AlreadyEnded`, nothing changed).
    async fn end_sale(&self, sale: &FlashSale, now: DateTime<Utc>) -> Result<EndSaleOutcome, StoreError>;
}

/// What `AlertStore::raise` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum RaiseOutcome {
    Raised,
    /// An alert of the same kind and subject exists (in any status): here it is, unchanged.
    AlreadyRaised(Box<Alert>),
}

/// What `AlertStore::move_alert` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum MoveOutcome {
    /// The alert is now in the status asked for.
    Moved(Alert),
    /// The alert was in that status already: nothing changed.
    Unchanged(Alert),
    /// The alert is past that status (an alert never goes back): nothing changed.
    Refused(Alert),
    NotFound,
}

/// Alerts for staff, keyed by id and, uniquely, by (kind, subject).
#[async_trait]
pub trait AlertStore: Send + Sync {
    /// Stores a new alert as given.
    /// Condition: no alert of the same (kind, subject) exists, whatever its status;
    /// otherwise nothing is written and the existing alert is answered `AlreadyRaised`
    /// (so a redelivered webhook raises one alert, and a resolved one stays resolved).
    async fn raise(&self, alert: &Alert) -> Result<RaiseOutcome, StoreError>;

    async fn get_alert(&self, id: &AlertId) -> Result<Option<Alert>, StoreError>;

    /// Alerts in `status` (of `merchant` only, when given; else of every merchant), oldest
    /// first (by id), at most `limit` (at least 1), starting after the alert id `after`;
    /// `next` names the last alert of the page when more follow.
    async fn list_alerts(
        &self,
        status: AlertStatus,
        merchant: Option<&MerchantId>,
        after: Option<&AlertId>,
        limit: usize,
    ) -> Result<AlertPage, StoreError>;

    /// Moves the alert to `to`, with `updated_at = at`.
    /// Condition: the alert's status can become `to` (`AlertStatus::can_become`); an
    /// alert already in `to` is `Unchanged`, one past it `Refused`, nothing written.
    async fn move_alert(&self, id: &AlertId, to: AlertStatus, at: DateTime<Utc>) -> Result<MoveOutcome, StoreError>;
}

/// What `ShipmentStore::add_event` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum AddEventOutcome {
    Added,
    /// An event with the same (tracking number, event id) is stored already: unchanged.
    Duplicate,
}

/// Shipments (written with their order: [`HoldEffect::Ship`]) and carrier events, keyed by
/// tracking number; the transit times learned per carrier and lane.
#[async_trait]
pub trait ShipmentStore: Send + Sync {
    /// Every shipment recorded with a tracking number, by order id: one, or one per order
    /// of a merge group sharing the parcel; empty when none was. Strongly consistent.
    async fn shipments_with(&self, tracking: &TrackingNumber) -> Result<Vec<Shipment>, StoreError>;

    /// Every shipment of an order, by shipment id. Strongly consistent.
    async fn shipments_of(&self, order: &OrderId) -> Result<Vec<Shipment>, StoreError>;

    /// Replaces the shipment with `shipment` at version `shipment.version + 1`.
    /// Condition: the stored version is still `shipment.version`; otherwise nothing is
    /// written (`VersionConflict`).
    async fn update_shipment(&self, shipment: &Shipment) -> Result<UpdateOutcome, StoreError>;

    /// Stores a carrier event under its tracking number, whether or not a shipment has it yet.
    /// Condition: no event with the same (tracking number, event id) exists; otherwise
    /// nothing is written (`Duplicate`).
    async fn add_event(&self, event: &TrackingEvent) -> Result<AddEventOutcome, StoreError>;

    /// Every event of a tracking number, by the carrier's time, then event id. Strongly
    /// consistent.
    async fn events_of(&self, tracking: &TrackingNumber) -> Result<Vec<TrackingEvent>, StoreError>;

    /// Records a delivered shipment's transit time on its lane. Idempotent per shipment.
    async fn record_transit(&self, sample: &TransitSample) -> Result<(), StoreError>;

    /// The transit times in hours of the latest `limit` deliveries by `carrier` on `lane`,
    /// newest first.
    async fn transit_hours(&self, carrier: &CarrierId, lane: &Lane, limit: usize) -> Result<Vec<u32>, StoreError>;
}

/// Work handed from one function to the next. Delivery is at least once, so every
/// consumer must be idempotent.
#[async_trait]
pub trait Queue: Send + Sync {
    /// Enqueues the encoded message on its queue (`Outgoing::of(&message)`). Unconditional.
    async fn send(&self, message: &Outgoing) -> Result<(), StoreError>;
}

/// Sends a notice to a system outside the OMS (a warehouse's, a sales channel's), in that
/// system's own API (`crate::outbound`).
///
/// Conditions: a delivery is done at most once per `request_id` as the destination sees
/// it: an adapter either sends the id for the destination to deduplicate on (the
/// warehouse webhook's `X-OMS-Request-Id`) or reads first and answers
/// `Delivered::AlreadyThere` when an earlier attempt landed (a shop's fulfilment with the
/// same tracking number). `DeliveryError::Retry` means nothing may have landed and the same
/// delivery may be tried again; `DeliveryError::Refused` means it never will.
#[async_trait]
pub trait Outbound: Send + Sync {
    async fn deliver(
        &self,
        delivery: &crate::outbound::Delivery,
    ) -> Result<crate::outbound::Delivered, crate::outbound::DeliveryError>;
}

/// What `SupplyStore::put_supplier` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum PutSupplier {
    Created,
    Updated,
    /// Another merchant's supplier has the id: nothing written.
    OwnedByAnother,
}

/// What `SupplyStore::create_purchase_order` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum CreatePoOutcome {
    Created,
    /// The merchant placed a purchase order under this reference already: here it is.
    Duplicate(Box<PurchaseOrder>),
}

/// What `SupplyStore::receive` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum ReceiveOutcome {
    /// The receipt is applied: the order as it is now, and the ledger entries written.
    Received(Box<PurchaseOrder>, Vec<LedgerEntry>),
    /// The receipt id was applied already: the order as it is now; nothing written.
    Duplicate(Box<PurchaseOrder>),
    /// Refused by the order's rules (see [`PurchaseOrder::receive`]); nothing written.
    Refused(ReceiptRefusal),
    /// No purchase order has the id.
    NotFound,
}

/// What `SupplyStore::receive_goods` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum GoodsReceiptOutcome {
    /// Applied: the ledger entries written, one per line.
    Received(Vec<LedgerEntry>),
    /// The (warehouse, owner, receipt id) was applied already; nothing written.
    Duplicate,
    /// The stock of this SKU would pass [`MAX_ON_HAND`](crate::stock::MAX_ON_HAND);
    /// nothing written.
    StockFull(Sku),
}

/// Suppliers and purchase orders, and the receipts that bring units into stock.
#[async_trait]
pub trait SupplyStore: Send + Sync {
    /// Creates the supplier, or replaces it with new details.
    /// Condition: no supplier has the id, or the one that has it is the same merchant's;
    /// otherwise nothing is written (`OwnedByAnother`).
    async fn put_supplier(&self, supplier: &Supplier) -> Result<PutSupplier, StoreError>;

    async fn get_supplier(&self, id: &SupplierId) -> Result<Option<Supplier>, StoreError>;

    /// Every supplier of `merchant`, by id. Strongly consistent.
    async fn suppliers_of(&self, merchant: &MerchantId) -> Result<Vec<Supplier>, StoreError>;

    /// Stores a new purchase order as given (version 1) and makes its lines incoming.
    /// Condition: when it has a reference, no purchase order of the same merchant has that
    /// reference; otherwise nothing is written and that order is answered `Duplicate`.
    async fn create_purchase_order(&self, po: &PurchaseOrder) -> Result<CreatePoOutcome, StoreError>;

    /// The purchase order, strongly consistent.
    async fn get_purchase_order(&self, id: &PurchaseOrderId) -> Result<Option<PurchaseOrder>, StoreError>;

    /// One page of the merchant's purchase orders matching `query`, oldest first (by id),
    /// at most `limit` (1 to `MAX_PAGE_SIZE`), after the order `after`; filters are applied
    /// before the page is cut. Strongly consistent.
    async fn purchase_orders(&self, query: &PoQuery, after: Option<&PurchaseOrderId>, limit: usize)
        -> Result<PoPage, StoreError>;

    /// The units of `sku` every open purchase order (of any merchant) still brings, by
    /// purchase order id. Written in the same atomic write as the order and its receipts.
    async fn incoming(&self, sku: &Sku) -> Result<Vec<Incoming>, StoreError>;

    /// Applies the receipt in ONE atomic write: the order's received counts, status and
    /// receipt list (at its version + 1), each line's warehouse stock (owned by the order's
    /// merchant; created at 0 when never counted) grown by its quantity in on hand and
    /// available, its `receive` ledger entry, and the order's incoming units.
    /// Conditions: the order exists (`NotFound`); the receipt id is not applied yet
    /// (`Duplicate`, nothing written); [`PurchaseOrder::receive`] accepts it and no stock
    /// passes [`MAX_ON_HAND`](crate::stock::MAX_ON_HAND) (`Refused`, nothing written); the
    /// order is still at the version read (otherwise read again and decided again, so two
    /// receipts racing on one order never receive more than was ordered). The receipt's
    /// lots are recorded in the same write (see [`crate::lot`]): each lot's units join
    /// its lot in that stock, whose first receipt's moment and expiry are kept.
    async fn receive(&self, id: &PurchaseOrderId, receipt: &Receipt) -> Result<ReceiveOutcome, StoreError>;

    /// Applies a goods receipt with no purchase order in ONE atomic write: the receipt's
    /// (warehouse, owner, receipt id) marked applied, each line's stock of the owner
    /// (created at 0 when never counted) grown by its quantity in on hand and available,
    /// its `receive` ledger entry ([`GoodsReceipt::ledger_lines`]), and its lots as
    /// [`receive`](Self::receive) records them.
    /// Conditions: that receipt id of that owner in that warehouse is not applied yet
    /// (`Duplicate`, nothing written); no stock passes
    /// [`MAX_ON_HAND`](crate::stock::MAX_ON_HAND) (`StockFull`, nothing written).
    async fn receive_goods(&self, receipt: &GoodsReceipt) -> Result<GoodsReceiptOutcome, StoreError>;
}

/// The time, so tests can hold it still.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Every order, in pages, for analytics: a full pass, off the order flow.
#[async_trait]
pub trait OrderArchive: Send + Sync + fmt::Debug {
    /// At most `limit` orders of `merchant` (of every merchant when `None`), in order id
    /// order, after the order `after` when given; the last one's id is the next page's
    /// `after`. Fewer than `limit` means the end. Not one snapshot: orders written during
    /// the pass may or may not be seen.
    async fn orders_after(
        &self,
        merchant: Option<&MerchantId>,
        after: Option<&OrderId>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError>;
}

/// The sales history pricing learns from: every reserved order, per merchant (see
/// [`crate::sales`]). Written only with the order, through [`Effects::sale`].
#[async_trait]
pub trait SalesHistory: Send + Sync {
    /// One page of `merchant`'s sales, oldest first (by [`SaleKey`]: time placed, then
    /// order id), at most `limit` (1 to [`MAX_SALES_PAGE`](crate::sales::MAX_SALES_PAGE)),
    /// starting after `after` when it is given (the previous page's `next`). `next` is the
    /// last sale's key when the page is full, `None` at the end. Another merchant's sales
    /// are never in it. Strongly consistent: a sale whose order write was answered is in it.
    async fn sales(&self, merchant: &MerchantId, after: Option<&SaleKey>, limit: usize) -> Result<SalesPage, StoreError>;

    /// Every merchant with at least one sale, in id order. It may also name a merchant
    /// whose sales are not written yet (a write in flight, or one that failed): reading its
    /// sales then finds none.
    async fn merchants_with_sales(&self) -> Result<Vec<MerchantId>, StoreError>;
}

/// What `ConsignmentStore::put_consignment` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum PutConsignment {
    Stored,
    /// The stored grant of that id is not at the version before the one written (or one is
    /// stored where none was expected): nothing written; read it again and decide again.
    VersionConflict,
}

/// Consignment grants (`crate::consignment`), by id, and per seller and per owner.
#[async_trait]
pub trait ConsignmentStore: Send + Sync {
    /// Writes the grant whole.
    /// Condition: `consignment.version` is 1 and no grant of its id is stored, or the stored
    /// one is at `consignment.version - 1` and has the same owner and seller; otherwise
    /// nothing is written (`VersionConflict`). So two writers that read one version never
    /// both land, and a grant's owner and seller never change (the lists by seller and by
    /// owner stay true).
    async fn put_consignment(&self, consignment: &Consignment) -> Result<PutConsignment, StoreError>;

    /// The grant of `id`, if one is stored (revoked ones too). Strongly consistent.
    async fn get_consignment(&self, id: &ConsignmentId) -> Result<Option<Consignment>, StoreError>;

    /// Every grant `seller` received, active and revoked, by id: what allocation reads to
    /// plan the seller's orders (one query of the seller's grants, never a scan). Strongly
    /// consistent.
    async fn consignments_received(&self, seller: &MerchantId) -> Result<Vec<Consignment>, StoreError>;

    /// Every grant `owner` gave, active and revoked, by id. Strongly consistent.
    async fn consignments_granted(&self, owner: &MerchantId) -> Result<Vec<Consignment>, StoreError>;
}

/// What `AuctionStore::create_auction` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum CreateAuctionOutcome {
    Created,
    /// An auction of this id is stored already: nothing written.
    Exists,
}

/// What `AuctionStore::place_bid` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum PlaceBidOutcome {
    /// The bid and the auction with it as its best are written.
    Placed,
    /// A bid under the same (auction, idempotency key) exists: here it is; nothing written.
    Duplicate(Box<Bid>),
    /// The stored auction is not at the version the bid was decided on (another bid, or
    /// the close, landed first), or it is closed: nothing written; read it and decide again.
    Stale,
}

/// What `AuctionStore::close_auction` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum CloseAuctionOutcome {
    /// The auction is closed and, when it was won, the winner's order is stored.
    Closed,
    /// The stored auction is not at the version the close was decided on, or it is closed
    /// already: nothing written; read it and decide again.
    Stale,
}

/// Auctions (`crate::auction`): the auction record (terms, best bid, end, version, outcome)
/// and its accepted bids, each under its idempotency key.
#[async_trait]
pub trait AuctionStore: Send + Sync {
    /// Stores a new auction (as [`Auction::new`] makes it) and lists it among the open
    /// auctions by its end.
    /// Condition: no auction of its id is stored (else `Exists`, nothing written): creating
    /// the same auction twice stores it once.
    async fn create_auction(&self, auction: &Auction) -> Result<CreateAuctionOutcome, StoreError>;

    /// The auction as stored now. Strongly consistent.
    async fn get_auction(&self, id: &AuctionId) -> Result<Option<Auction>, StoreError>;

    /// The bid accepted under (auction, idempotency key), if any. Strongly consistent.
    async fn bid_by_key(&self, auction: &AuctionId, key: &IdempotencyKey) -> Result<Option<Bid>, StoreError>;

    /// One bid as one atomic write: the bid under (auction, idempotency key) and in the
    /// auction's list of bids, and the auction replaced by `after` (the auction with the
    /// bid as its best, at `before.version + 1`, its end moved by anti-sniping: the index
    /// of open auctions follows the new end).
    /// Conditions, the first that fails answering: no bid under (auction, key) exists
    /// (`Duplicate` with it); the stored auction is at `before.version` and not closed
    /// (`Stale`). A failed condition writes nothing. So two bids decided on the same
    /// version never both land: two equal bids at the same instant, one wins.
    async fn place_bid(&self, before: &Auction, after: &Auction, bid: &Bid) -> Result<PlaceBidOutcome, StoreError>;

    /// At most `limit` of the auction's accepted bids in the order they landed (by
    /// [`Bid::seq`]), after the bid numbered `after` when it is given. Strongly consistent.
    async fn bids(&self, auction: &AuctionId, after: Option<u32>, limit: usize) -> Result<Vec<Bid>, StoreError>;

    /// The auctions not closed yet whose end (as moved by anti-sniping) is at or before
    /// `now`, earliest end first, at most `limit`: an index of open auctions by end time
    /// (SQLite: a partial index of the auctions not closed; DynamoDB: the `OPEN_AUCTIONS`
    /// partition sorted by end time, moved by a bid that extends the end), never a scan.
    async fn ended_open_auctions(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<AuctionId>, StoreError>;

    /// Closes the auction as one atomic write: the auction replaced by `after` (closed, at
    /// `before.version + 1`), its open-index entry removed and, when it was won, `order`
    /// (the winner's order) inserted at version 1 with its messages queued (its outbox).
    /// Conditions: the stored auction is at `before.version` and not closed (else `Stale`,
    /// nothing written); the order is new (its external id is the auction's id, so an
    /// auction makes at most one order).
    async fn close_auction(
        &self,
        before: &Auction,
        after: &Auction,
        order: Option<(&Order, &[Outgoing])>,
    ) -> Result<CloseAuctionOutcome, StoreError>;
}

/// What `GroupBuyStore::create_group_buy` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum CreateGroupBuyOutcome {
    /// The offer is stored, open, and its units are set aside.
    Created,
    /// Its stock has fewer units available than the offer sets aside; nothing changed.
    Insufficient { available: u32 },
}

/// What `GroupBuyStore::join` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum JoinOutcome {
    /// The join is stored and counted: the offer's state and joined count with it.
    Joined { state: crate::group_buy::GroupBuyState, joined: u32 },
    /// The customer joined before, or the idempotency key was used before: that join,
    /// nothing written.
    Duplicate(Box<crate::group_buy::Join>),
    /// The offer takes no joins (past its deadline, or settled): its state; nothing written.
    NotOpen(crate::group_buy::GroupBuyState),
    /// Every place is taken; nothing written.
    Full,
}

/// What `GroupBuyStore::convert_join` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum ConvertOutcome {
    /// The join's order is stored with its messages, and the join counted converted.
    Converted,
    /// The join was converted before: nothing written.
    AlreadyConverted,
    /// The offer is not filled: nothing written.
    NotFilled,
}

/// What `GroupBuyStore::settle` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum SettleOutcome {
    /// Settled now: the offer's final state and the units given back to stock.
    Settled { state: crate::group_buy::GroupBuyState, units_returned: u32 },
    /// Settled before: nothing changed.
    AlreadySettled,
    /// The deadline has not passed at the moment given: nothing changed.
    NotDue,
    /// The offer filled and some joins have no order yet: convert them first; nothing
    /// changed.
    Unconverted { joined: u32, converted: u32 },
}

/// Group-buy offers, their joins (under (offer, customer) and (offer, idempotency key))
/// and the joins' conversion into orders.
#[async_trait]
pub trait GroupBuyStore: Send + Sync {
    /// Stores the offer, open with nobody joined, and sets its units aside from its stock
    /// ([`GroupBuy::set_aside`](crate::group_buy::GroupBuy::set_aside)): the stock's
    /// `reserved` and `set_aside` grow by them, with a `set_aside` ledger entry of the
    /// offer's hold (kind `group_buy`). All or nothing, in one atomic write.
    /// Conditions: the stock has at least those units available (else `Insufficient`).
    async fn create_group_buy(&self, offer: &crate::group_buy::GroupBuy) -> Result<CreateGroupBuyOutcome, StoreError>;

    /// The offer and its status now. Strongly consistent.
    async fn get_group_buy(
        &self,
        id: &crate::group_buy::GroupBuyId,
    ) -> Result<Option<(crate::group_buy::GroupBuy, crate::group_buy::GroupBuyStatus)>, StoreError>;

    /// The join made under (offer, idempotency key), or else by (offer, customer), if any.
    async fn find_join(
        &self,
        id: &crate::group_buy::GroupBuyId,
        customer: &CustomerId,
        key: &IdempotencyKey,
    ) -> Result<Option<crate::group_buy::Join>, StoreError>;

    /// One join as one atomic write: the join under (offer, customer) and (offer, key),
    /// the offer's joined count grown by one and its state moved by the join
    /// ([`GroupBuyState::on`](crate::group_buy::GroupBuyState::on): filled once the minimum
    /// joined).
    /// Conditions, the first that fails answering: no join of this customer or under this
    /// key exists (`Duplicate`); the offer takes joins and `now` is before its deadline
    /// (`NotOpen`); fewer than its capacity joined (`Full`). A failed condition writes
    /// nothing, so concurrent joins never pass the capacity and exactly one moves it to
    /// filled.
    async fn join(&self, join: &crate::group_buy::Join, now: DateTime<Utc>) -> Result<JoinOutcome, StoreError>;

    /// The offer's joins with no order yet, oldest first, at most `limit`.
    async fn unconverted_joins(
        &self,
        id: &crate::group_buy::GroupBuyId,
        limit: usize,
    ) -> Result<Vec<crate::group_buy::Join>, StoreError>;

    /// Makes the join's order as one atomic write: the join marked converted, the offer's
    /// converted count grown by one, `order` inserted at version 1 with `send` queued, and
    /// the lines of its plan held for it out of the set-aside (as
    /// [`InventoryStore::hold_set_aside`] holds them).
    /// Conditions: the offer is filled (or closed) (else `NotFilled`); the join is not
    /// converted yet (else `AlreadyConverted`), so a join makes one order however many
    /// converters race. Nothing written on a failed condition.
    async fn convert_join(
        &self,
        join: &crate::group_buy::Join,
        order: &Order,
        send: &[Outgoing],
    ) -> Result<ConvertOutcome, StoreError>;

    /// Settles the offer at its deadline, once, as one atomic write: its state moved by the
    /// deadline (open → expired, filled → closed), the units nobody takes
    /// ([`GroupBuy::settle`](crate::group_buy::GroupBuy::settle)) given back to available
    /// stock (`reserved` and `set_aside` shrink, a `release` ledger entry of the offer's
    /// hold), its settlement recorded.
    /// Conditions: `now` is at or after the deadline (else `NotDue`); not settled yet (else
    /// `AlreadySettled`); a filled offer has every join converted (else `Unconverted`).
    async fn settle(&self, offer: &crate::group_buy::GroupBuy, now: DateTime<Utc>) -> Result<SettleOutcome, StoreError>;

    /// The offers not settled whose deadline is at or before `now`, earliest first, at most
    /// `limit`: an index of unsettled offers by deadline, never a scan.
    async fn due_group_buys(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<crate::group_buy::GroupBuyId>, StoreError>;
}

/// What `RentalStore::put_rental_unit` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum PutRentalUnitOutcome {
    /// The unit is stored (new, or its terms replaced).
    Stored,
    /// Another merchant registered a unit under that id: nothing written.
    TakenByAnother,
}

/// What `RentalStore::book` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum BookOutcome {
    /// The booking is stored with one claim per day of its period.
    Booked,
    /// The customer booked this unit under this idempotency key before: that booking,
    /// nothing written.
    Duplicate(Box<crate::rental::Booking>),
    /// Some of its days are claimed by another active booking: nothing written.
    Taken,
}

/// What `RentalStore::move_booking` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum MoveBookingOutcome {
    /// The booking is written in its new state.
    Moved,
    /// The stored booking is not in the state the move started from: its state now;
    /// nothing written.
    Conflict(crate::rental::RentalState),
    /// No such booking: nothing written.
    NotFound,
    /// An order the move writes changed since it was read (or its key is taken): read it
    /// again; nothing written.
    OrderChanged,
}

/// What `ReviewStore::add_review` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum AddReviewOutcome {
    /// The review is stored and counted in its SKU's rating.
    Added,
    /// The order's SKU is reviewed already: that review; nothing written.
    AlreadyReviewed(Box<crate::review::Review>),
}

/// Buyers' reviews, one per (order, SKU), and each merchant's SKU's rating.
#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// Stores `review` and counts it in the rating of its merchant's SKU, in one atomic
    /// write. Condition: the order's SKU has no review yet; otherwise nothing is written
    /// (`AlreadyReviewed`, with the stored review), so of concurrent reviews of one
    /// order's SKU exactly one is stored and counted.
    async fn add_review(&self, review: &crate::review::Review) -> Result<AddReviewOutcome, StoreError>;

    /// The merchant's reviews of `sku`, newest first, at most `limit`. Strongly consistent.
    async fn reviews_of(&self, merchant: &MerchantId, sku: &Sku, limit: usize) -> Result<Vec<crate::review::Review>, StoreError>;

    /// The rating of the merchant's `sku`: its reviews counted and their stars summed;
    /// zero for a SKU never reviewed. Strongly consistent.
    async fn rating_of(&self, merchant: &MerchantId, sku: &Sku) -> Result<crate::review::Rating, StoreError>;
}

/// Rental units, their bookings and the (unit, day) claims that keep a unit from being
/// booked twice for one day.
#[async_trait]
pub trait RentalStore: Send + Sync {
    /// Stores the unit under its id, or replaces the terms of the merchant's own unit
    /// (bookings made before keep the terms they were made on).
    /// Conditions: no other merchant's unit has the id (else `TakenByAnother`).
    async fn put_rental_unit(&self, unit: &crate::rental::RentalUnit) -> Result<PutRentalUnitOutcome, StoreError>;

    /// The unit under `id`, whoever's. Strongly consistent.
    async fn get_rental_unit(&self, id: &crate::rental::RentalUnitId) -> Result<Option<crate::rental::RentalUnit>, StoreError>;

    /// One booking as one atomic write: the booking, its (unit, customer, idempotency key),
    /// one claim of (unit, day) for each day of its period, and its service `order`
    /// inserted at version 1 (nothing queued; its key is the booking's id, never taken).
    /// Conditions, the first that fails answering: no booking of this unit under this
    /// customer and key (`Duplicate`); no day of the period claimed by an active booking
    /// (`Taken`). A failed condition writes nothing, so of concurrent bookings of
    /// overlapping days exactly one wins, and bookings of days apart all do.
    async fn book(&self, booking: &crate::rental::Booking, order: &Order) -> Result<BookOutcome, StoreError>;

    /// The booking under `id`. Strongly consistent.
    async fn get_booking(&self, id: &crate::rental::BookingId) -> Result<Option<crate::rental::Booking>, StoreError>;

    /// Writes `booking` (moved by the domain from the state `from`) as one atomic write,
    /// with `orders` (each a [`ServiceOrderWrite`]: the booking's order following it, a
    /// follow-up order made); when it is cancelled, its day claims are deleted in that
    /// write, freeing the days.
    /// Conditions, the first that fails answering: the booking is stored (else `NotFound`)
    /// in the state `from` (else `Conflict`), so of concurrent moves from one state one
    /// wins; each order's condition (else `OrderChanged`).
    async fn move_booking(
        &self,
        booking: &crate::rental::Booking,
        from: crate::rental::RentalState,
        orders: &[ServiceOrderWrite],
    ) -> Result<MoveBookingOutcome, StoreError>;

    /// The claimed days of the unit in `period` (start included, end not), each with its
    /// booking, in day order: the claims themselves, never a scan of bookings.
    async fn booked_days(
        &self,
        unit: &crate::rental::RentalUnitId,
        period: crate::rental::Period,
    ) -> Result<Vec<(chrono::NaiveDate, crate::rental::BookingId)>, StoreError>;
}

/// What a write of a service record does to its service order, in the same atomic step
/// (`crate::service_order`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ServiceOrderWrite {
    /// Nothing.
    #[default]
    Untouched,
    /// Inserts the record's new order at version 1 (nothing queued: a service order is
    /// never allocated). Condition: no order of its (channel, merchant, external id) yet.
    Insert(Box<Order>),
    /// Writes the order as moved by the record (read at `version`, written at
    /// `version + 1`). Condition: it is still at `version`.
    Update(Box<Order>),
}

/// What `RepairStore::create_repair` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum CreateRepairOutcome {
    Created,
    /// The customer booked a repair under this idempotency key before (with this
    /// merchant): that repair as it is now; nothing written.
    Duplicate(Box<crate::repair::Repair>),
}

/// What `RepairStore::move_repair` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum MoveRepairOutcome {
    /// The repair, its order and its parts are written.
    Moved,
    /// The stored repair is not in the state the move started from: its state now.
    Conflict(crate::repair::RepairState),
    /// No such repair.
    NotFound,
    /// A part's stock has fewer units available than the repair uses.
    PartsShort { sku: Sku, available: u32 },
    /// The order changed since it was read (or its key is taken): read both again.
    OrderChanged,
}

/// Repairs, with their service order and the parts they use, each move in one write.
#[async_trait]
pub trait RepairStore: Send + Sync {
    /// Stores a new repair under its id and under (merchant, customer, idempotency key).
    /// Condition: no repair under that key (else `Duplicate`, nothing written).
    async fn create_repair(&self, repair: &crate::repair::Repair) -> Result<CreateRepairOutcome, StoreError>;

    /// The repair under `id`. Strongly consistent.
    async fn get_repair(&self, id: &crate::repair::RepairId) -> Result<Option<crate::repair::Repair>, StoreError>;

    /// Writes `repair` (moved by the domain from the state `from`) as one atomic write,
    /// with `order` ([`ServiceOrderWrite`]) and one `consume` of each of `parts` (its
    /// stock's `on_hand` drops by the quantity, with a
    /// [`LedgerLine::consume`](crate::ledger::LedgerLine::consume) entry).
    /// Conditions, the first that fails answering: the repair is stored (`NotFound`) in
    /// `from` (`Conflict`); each part's stock has at least its quantity available, on hand
    /// less held (`PartsShort`); the order's condition (`OrderChanged`). A failed condition
    /// writes nothing, so of two moves from one state one wins, and two repairs using the
    /// last units of a part cannot both start.
    async fn move_repair(
        &self,
        repair: &crate::repair::Repair,
        from: crate::repair::RepairState,
        order: &ServiceOrderWrite,
        parts: &[crate::order::AllocatedLine],
    ) -> Result<MoveRepairOutcome, StoreError>;
}

/// What `ReturnStore::create_return` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum CreateReturnOutcome {
    /// The return is stored and its units claimed.
    Created,
    /// The customer asked for a return of this order under this idempotency key before:
    /// that return as it is now; nothing written.
    Duplicate(Box<crate::returns::Return>),
    /// A line asks for more units of `sku` than the order delivered less what its other
    /// returns claim (`returnable` left): nothing written.
    TooMany { sku: Sku, returnable: u32 },
}

/// What `ReturnStore::move_return` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum MoveReturnOutcome {
    /// The return is written in its new state, with its effects.
    Moved,
    /// The stored return is not at the version the move started from: its state now;
    /// nothing written.
    Conflict(crate::returns::ReturnState),
    /// No such return: nothing written.
    NotFound,
    /// Another return has the tracking number the move gives this one: nothing written.
    TrackingTaken,
}

/// What a return's move does besides writing the return, in the same atomic step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnEffects {
    /// Messages queued with the write (the outbox), sent if and only if it lands: the
    /// refund notice to the payment system.
    pub send: Vec<Outgoing>,
    /// Units back from inspection: each line's sellable units onto its stock's on hand (a
    /// `return` ledger entry), its damaged units into the stock's damaged units, never on
    /// hand (a `return_damaged` entry).
    pub stock: Vec<crate::returns::StockBack>,
}

/// Returns (RMAs), the units each order's returns claim, the return parcels' tracking
/// numbers, and the damaged units returns put aside per warehouse.
#[async_trait]
pub trait ReturnStore: Send + Sync {
    /// Stores a new return (version 1) as one atomic write: the return, its (order,
    /// customer, idempotency key), and its claim on each line's units of the order.
    /// `delivered` is what the order delivered of each SKU.
    /// Conditions, the first that fails answering: no return of this order under this
    /// customer and key (`Duplicate`); for each line, the units the order's returns that
    /// claim units (every state but refused and cancelled) hold of its SKU plus the line's
    /// are at most `delivered` (`TooMany`). A failed condition writes nothing, so returns
    /// racing for the same delivered units never claim more than were delivered.
    async fn create_return(
        &self,
        ret: &crate::returns::Return,
        delivered: &[(Sku, u32)],
    ) -> Result<CreateReturnOutcome, StoreError>;

    /// The return under `id`. Strongly consistent.
    async fn get_return(&self, id: &crate::returns::ReturnId) -> Result<Option<crate::returns::Return>, StoreError>;

    /// The order's returns, oldest first.
    async fn returns_of(&self, order: &OrderId) -> Result<Vec<crate::returns::Return>, StoreError>;

    /// The return whose parcel has `tracking` (a buyer's ship-back), if any.
    async fn return_by_tracking(&self, tracking: &TrackingNumber) -> Result<Option<crate::returns::Return>, StoreError>;

    /// Writes `next` (moved by the domain from `before`) as one atomic write with
    /// `effects`; when `next` no longer claims units (refused, cancelled) its claims are
    /// given back in that write; when it gets a tracking number `before` lacked, the number
    /// is kept as its (`return_by_tracking`).
    /// Conditions: the return is stored (else `NotFound`) at `before.version` (else
    /// `Conflict`), so of concurrent moves from one version exactly one lands and its
    /// effects once; a new tracking number is no other return's (else `TrackingTaken`).
    async fn move_return(
        &self,
        before: &crate::returns::Return,
        next: &crate::returns::Return,
        effects: &ReturnEffects,
    ) -> Result<MoveReturnOutcome, StoreError>;

    /// The damaged units returns put aside in `warehouse`, per (SKU, owner), by SKU then
    /// owner. Never on hand: allocation never sees them.
    async fn damaged_stock(&self, warehouse: &WarehouseId) -> Result<Vec<crate::returns::DamagedStock>, StoreError>;

    /// `merchant`'s returns created at or after `since`, in their state now, oldest first
    /// (what the recommendations' retraining counts against a product). Read from an index
    /// of the merchant's returns by creation time, never a scan of every return.
    async fn returns_since(&self, merchant: &MerchantId, since: DateTime<Utc>)
        -> Result<Vec<crate::returns::Return>, StoreError>;
}

/// What `BrowsingStore::record_browsing` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum RecordBrowsingOutcome {
    /// The batch's events are stored.
    Recorded,
    /// A batch of this customer under this key is stored already: nothing written.
    Duplicate,
}

/// The browsing events merchants' storefronts report (`crate::browsing`).
#[async_trait]
pub trait BrowsingStore: Send + Sync {
    /// Stores every event of `batch`. Condition: no batch of its (merchant, customer,
    /// idempotency key) is stored; otherwise nothing is written (`Duplicate`), so a batch
    /// sent again, or twice at once, is stored once.
    async fn record_browsing(&self, batch: &crate::browsing::BrowsingBatch) -> Result<RecordBrowsingOutcome, StoreError>;

    /// `merchant`'s events that happened at or after `from` and before `to`, oldest first
    /// (ties by customer): a range of the merchant's events by time, never a scan of
    /// others'. Events older than `crate::browsing::RETENTION_DAYS` before `to` may have
    /// expired and are not read.
    async fn browsing_between(
        &self,
        merchant: &MerchantId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<crate::browsing::BrowsingEvent>, StoreError>;
}

/// What `MerchantStore::create_merchant` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum CreateMerchantOutcome {
    /// The record is stored.
    Created,
    /// The merchant has a record already: that record, nothing written.
    Exists(Box<crate::onboarding::MerchantRecord>),
}

/// What `MerchantStore::update_merchant` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum UpdateMerchantOutcome {
    /// The record is written at its new version.
    Updated,
    /// The stored record is not at the version the step was taken from (another step
    /// landed first): the record as stored now, nothing written.
    Conflict(Box<crate::onboarding::MerchantRecord>),
    /// No record of the merchant: nothing written.
    NotFound,
}

/// One page of onboarding records in one status, in the order of
/// [`MerchantRecord::queue_key`](crate::onboarding::MerchantRecord::queue_key) (oldest
/// first), and the key the next page starts after (`None`: no more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantsPage {
    pub merchants: Vec<crate::onboarding::MerchantRecord>,
    pub next: Option<String>,
}

/// Merchants' onboarding records: one per merchant, written only over the version read.
#[async_trait]
pub trait MerchantStore: Send + Sync {
    /// Stores a newly registered merchant's record.
    /// Condition: the merchant has no record (else `Exists` with the stored one).
    async fn create_merchant(&self, record: &crate::onboarding::MerchantRecord) -> Result<CreateMerchantOutcome, StoreError>;

    /// The merchant's record. Strongly consistent.
    async fn get_merchant(&self, id: &MerchantId) -> Result<Option<crate::onboarding::MerchantRecord>, StoreError>;

    /// Writes `next`, a step taken from `previous` (as read), in one atomic write with its
    /// place in the list by status.
    /// Conditions: a record of the merchant is stored (else `NotFound`) at
    /// `previous.version` (else `Conflict` with the stored one), so of two steps taken
    /// from one version (two administrators deciding at once) exactly one is written.
    async fn update_merchant(
        &self,
        previous: &crate::onboarding::MerchantRecord,
        next: &crate::onboarding::MerchantRecord,
    ) -> Result<UpdateMerchantOutcome, StoreError>;

    /// At most `limit` records in `status` whose queue key is after `after`, oldest first:
    /// the list itself (an index by status), never a scan of every record.
    async fn merchants_in_status(
        &self,
        status: crate::onboarding::OnboardingStatus,
        after: Option<&str>,
        limit: usize,
    ) -> Result<MerchantsPage, StoreError>;
}

/// What `ProductStore::create_product` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum CreateProductOutcome {
    /// The listing is stored.
    Created,
    /// The SKU has a listing already: that listing, nothing written.
    Exists(Box<crate::product::Product>),
}

/// What `ProductStore::update_product` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum UpdateProductOutcome {
    /// The listing is written at its new version.
    Updated,
    /// The stored listing is not at the version the step was taken from (another step
    /// landed first): the listing as stored now, nothing written.
    Conflict(Box<crate::product::Product>),
    /// No listing of the SKU: nothing written.
    NotFound,
}

/// One page of listings in one status, in the order of
/// [`Product::queue_key`](crate::product::Product::queue_key) (oldest first), and the key
/// the next page starts after (`None`: no more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductsPage {
    pub products: Vec<crate::product::Product>,
    pub next: Option<String>,
}

/// The reviewed catalogue's listings (`crate::product`): one per SKU, written only over
/// the version read.
#[async_trait]
pub trait ProductStore: Send + Sync {
    /// Stores a new listing.
    /// Condition: the SKU has no listing (else `Exists` with the stored one).
    async fn create_product(&self, product: &crate::product::Product) -> Result<CreateProductOutcome, StoreError>;

    /// The SKU's listing. Strongly consistent.
    async fn get_product(&self, sku: &Sku) -> Result<Option<crate::product::Product>, StoreError>;

    /// Writes `next`, a step taken from `previous` (as read), in one atomic write with its
    /// place in the list by status and among its merchant's promoted placements.
    /// Conditions: a listing of the SKU is stored (else `NotFound`) at `previous.version`
    /// (else `Conflict` with the stored one), so of two steps taken from one version (two
    /// reviewers deciding at once) exactly one is written.
    async fn update_product(
        &self,
        previous: &crate::product::Product,
        next: &crate::product::Product,
    ) -> Result<UpdateProductOutcome, StoreError>;

    /// At most `limit` listings in `status` whose queue key is after `after`, oldest
    /// first: the list itself (an index by status), never a scan of every listing.
    async fn products_in_status(
        &self,
        status: crate::product::ProductStatus,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ProductsPage, StoreError>;

    /// The merchant's promoted listings, by rank then SKU: an index of the promoted only.
    async fn promoted_products(&self, merchant: &MerchantId) -> Result<Vec<crate::product::Product>, StoreError>;
}

/// Files by key (licence scans; product photos later): S3 in AWS, files under the data
/// directory locally. Keys are [`DocumentKey`](crate::document::DocumentKey)s, safe as
/// S3 keys and relative paths alike.
#[async_trait]
pub trait DocumentStore: Send + Sync + fmt::Debug {
    /// Stores `bytes` of `content_type` under `key`, replacing what was there. A reader
    /// sees the old document or the new one whole, never a part.
    async fn put_document(
        &self,
        key: &crate::document::DocumentKey,
        content_type: crate::document::DocumentType,
        bytes: &[u8],
    ) -> Result<(), StoreError>;

    /// The document under `key`, if one is stored.
    async fn get_document(
        &self,
        key: &crate::document::DocumentKey,
    ) -> Result<Option<crate::document::StoredDocument>, StoreError>;
}

/// What `StorefrontStore::put_template` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum PutTemplateOutcome {
    /// The template is stored at its version.
    Written,
    /// The same design is stored at this version already (a retry): nothing written.
    Unchanged,
    /// A template of this id is stored at this version or a later one, differently: that
    /// one, nothing written.
    Stale(Box<crate::storefront::Template>),
}

/// What `StorefrontStore::save_draft` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum SaveDraftOutcome {
    /// The draft is stored at its version.
    Saved,
    /// The stored draft is not at the version the edit was taken from (another edit landed
    /// first, or a first draft exists already, or no draft exists to edit): the draft as
    /// stored now, if any; nothing written.
    Conflict(Option<Box<crate::storefront::StorefrontDraft>>),
}

/// What `StorefrontStore::publish` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum PublishOutcome {
    /// The copy is the merchant's published storefront, replacing any before it.
    Published,
    /// The draft is no longer at the version copied (an edit landed meanwhile): nothing
    /// written; the published storefront, if any, is as it was.
    DraftChanged,
}

/// Storefront templates, and each merchant's storefront draft and published copy, keyed
/// by merchant so one merchant's never answers for another's.
#[async_trait]
pub trait StorefrontStore: Send + Sync {
    /// Stores `template`.
    /// Condition: no template of its id is stored, or the stored one has a lower version
    /// (else `Unchanged` when the stored one is the same design at this version, `Stale`
    /// with the stored one otherwise).
    async fn put_template(&self, template: &crate::storefront::Template) -> Result<PutTemplateOutcome, StoreError>;

    /// The template under `id`, whatever its status. Strongly consistent.
    async fn get_template(&self, id: &crate::storefront::TemplateId) -> Result<Option<crate::storefront::Template>, StoreError>;

    /// Every template, whatever its status, by id (the platform keeps a handful).
    async fn list_templates(&self) -> Result<Vec<crate::storefront::Template>, StoreError>;

    /// The merchant's draft. Strongly consistent.
    async fn get_draft(&self, merchant: &MerchantId) -> Result<Option<crate::storefront::StorefrontDraft>, StoreError>;

    /// Stores `draft` as the merchant's draft.
    /// Condition: the stored draft is at `draft.previous_version()` (none stored for a first
    /// draft), else `Conflict` with the stored one; so of two edits taken from one version
    /// exactly one is written.
    async fn save_draft(&self, draft: &crate::storefront::StorefrontDraft) -> Result<SaveDraftOutcome, StoreError>;

    /// The merchant's published storefront. Strongly consistent.
    async fn get_published(&self, merchant: &MerchantId) -> Result<Option<crate::storefront::PublishedStorefront>, StoreError>;

    /// Stores `published` as the merchant's published storefront, replacing any before it,
    /// in one atomic write with the check of its draft.
    /// Condition: the merchant's draft is stored at `published.draft_version` (else
    /// `DraftChanged`), so what is published is always one version of the draft, whole.
    async fn publish(&self, published: &crate::storefront::PublishedStorefront) -> Result<PublishOutcome, StoreError>;

    /// Removes the merchant's published storefront (its draft stays); `false` when none
    /// was published.
    async fn unpublish(&self, merchant: &MerchantId) -> Result<bool, StoreError>;
}

/// What `RfqStore::create_rfq` did.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum CreateRfqOutcome {
    /// The request is stored at version 1.
    Created,
    /// A request with that id is stored already: that one, nothing written.
    Exists(Box<crate::rfq::request::Rfq>),
}

/// What `RfqStore::update_rfq` did.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum UpdateRfqOutcome {
    /// The request is written at its new version.
    Updated,
    /// The stored request is not at the version the change was taken from (another change
    /// landed first): the request as stored now, nothing written.
    Conflict(Box<crate::rfq::request::Rfq>),
    /// No request with that id: nothing written.
    NotFound,
}

/// Requests for quotes (`crate::rfq::request`): one record per id, its quotes and its
/// acceptance in it, written only over the version read.
#[async_trait]
pub trait RfqStore: Send + Sync {
    /// Stores a new request (its version 1).
    /// Condition: no request with its id is stored (else `Exists` with the stored one), so
    /// a buyer posting one id twice gets one request.
    async fn create_rfq(&self, rfq: &crate::rfq::request::Rfq) -> Result<CreateRfqOutcome, StoreError>;

    /// The request. Strongly consistent.
    async fn get_rfq(&self, id: &crate::RfqId) -> Result<Option<crate::rfq::request::Rfq>, StoreError>;

    /// Writes `next` (at `next.version`), a change taken from the version before it.
    /// Conditions: a request with its id is stored (else `NotFound`) at `next.version - 1`
    /// (else `Conflict` with the stored one), so of two changes taken from one version (two
    /// quotes at once, a quote racing the acceptance) exactly one is written.
    async fn update_rfq(&self, next: &crate::rfq::request::Rfq) -> Result<UpdateRfqOutcome, StoreError>;
}

/// What `BuyerRequestStore::create_buyer_request` did.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum CreateBuyerRequestOutcome {
    Created,
    /// A request of that id was stored already: this is it, and nothing was written.
    Existing(Box<crate::matchmaking::BuyerRequest>),
}

/// What `BuyerRequestStore::update_buyer_request` did.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum UpdateBuyerRequestOutcome {
    /// Written, at the version after the one read.
    Updated,
    /// The stored request is not at the version read: this is it, and nothing was written;
    /// `None` when no request of that id is stored.
    Conflict(Option<Box<crate::matchmaking::BuyerRequest>>),
}

/// Buyer requests and their proposals (`crate::matchmaking`), keyed by request id.
#[async_trait]
pub trait BuyerRequestStore: Send + Sync {
    /// Stores `request` at its version.
    /// Condition: no request of its id is stored, else `Existing` with the stored one, so
    /// a request posted twice (a client's retry, two posts at once) is one request.
    async fn create_buyer_request(
        &self,
        request: &crate::matchmaking::BuyerRequest,
    ) -> Result<CreateBuyerRequestOutcome, StoreError>;

    /// The request, if stored. Strongly consistent.
    async fn get_buyer_request(&self, id: &crate::BuyerRequestId)
        -> Result<Option<crate::matchmaking::BuyerRequest>, StoreError>;

    /// Stores `next`, a step taken from the request read at `next.version`, at
    /// `next.version + 1`.
    /// Condition: the stored request is at `next.version`, else `Conflict` with the stored
    /// one; so of two steps taken from one version (two accepts at once) exactly one is
    /// written.
    async fn update_buyer_request(
        &self,
        next: &crate::matchmaking::BuyerRequest,
    ) -> Result<UpdateBuyerRequestOutcome, StoreError>;
}

/// One set of adapters for every port, as a runtime wires them.
#[derive(Clone)]
pub struct Ports {
    pub orders: Arc<dyn OrderStore>,
    pub warehouses: Arc<dyn WarehouseStore>,
    pub inventory: Arc<dyn InventoryStore>,
    pub alerts: Arc<dyn AlertStore>,
    pub sku_mappings: Arc<dyn SkuMappingStore>,
    pub catalogue: Arc<dyn SkuCatalogue>,
    pub rates: Arc<dyn RateTables>,
    pub flash_sales: Arc<dyn FlashSaleStore>,
    pub supply: Arc<dyn SupplyStore>,
    pub shipments: Arc<dyn ShipmentStore>,
    pub sales: Arc<dyn SalesHistory>,
    pub queue: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
    pub consignments: Arc<dyn ConsignmentStore>,
    pub auctions: Arc<dyn AuctionStore>,
    pub group_buys: Arc<dyn GroupBuyStore>,
    pub rentals: Arc<dyn RentalStore>,
    pub reviews: Arc<dyn ReviewStore>,
    pub repairs: Arc<dyn RepairStore>,
    pub returns: Arc<dyn ReturnStore>,
    pub merchants: Arc<dyn MerchantStore>,
    pub storefronts: Arc<dyn StorefrontStore>,
    pub browsing: Arc<dyn BrowsingStore>,
    pub products: Arc<dyn ProductStore>,
    pub rfqs: Arc<dyn RfqStore>,
    pub buyer_requests: Arc<dyn BuyerRequestStore>,
}

impl fmt::Debug for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_holds_one_to_the_most_orders() {
        assert!(Page::new(0, None).is_err());
        assert!(Page::new(MAX_PAGE_SIZE + 1, None).is_err());
        assert_eq!(Page::new(MAX_PAGE_SIZE, None).unwrap().limit(), MAX_PAGE_SIZE);
        assert_eq!(Page::first(0).limit(), 1);
    }

    #[test]
    fn a_page_of_one_more_match_than_the_limit_names_its_last_order_as_next() {
        let order = |id: &str| {
            let new = crate::order::tests::sample_new_order("SKU-1", 1);
            Order::receive(new, OrderId::parse(id).unwrap(), Utc::now())
        };
        let page = OrdersPage::from_matches(vec![order("ord_3"), order("ord_2"), order("ord_1")], 2);
        assert_eq!(page.orders.len(), 2);
        assert_eq!(page.next, Some(OrderId::parse("ord_2").unwrap()));
        let last = OrdersPage::from_matches(vec![order("ord_1")], 2);
        assert_eq!((last.orders.len(), last.next), (1, None));
    }
}
