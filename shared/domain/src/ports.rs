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

use crate::messages::Outgoing;
use crate::order::{Channel, Order};
use crate::reservation::Reservation;
use crate::stock::{StockLevel, Warehouse};
use crate::{CustomerId, ExternalId, MerchantId, OrderId, Sku, WarehouseId};

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
    /// Someone else wrote the order since it was read (or it does not exist): read it again.
    VersionConflict,
}

/// One way to find orders; each maps to an index in every adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderLookup {
    Customer(CustomerId),
    /// A normalised phone number (see `order::normalise_phone`).
    Phone(String),
    /// The channel's own id, from one merchant on one channel (at most one order: the
    /// key `insert_order` keeps unique; two shops' counters collide all the time).
    External(Channel, MerchantId, ExternalId),
    /// The channel's own id, on any channel.
    ExternalId(ExternalId),
    Channel(Channel),
}

/// Orders, keyed by our id and, uniquely, by (channel, merchant, external id).
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Stores a new order at version 1.
    /// Condition: no order with the same (channel, merchant, external id) exists;
    /// otherwise nothing is written and the existing order is returned as `Duplicate`.
    /// The same external id from another merchant on the same channel is another order.
    async fn insert_order(&self, order: &Order) -> Result<InsertOutcome, StoreError>;

    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError>;

    /// Replaces the order with `order`, at version `order.version + 1`.
    /// Condition: the stored version is still `order.version`.
    async fn update_order(&self, order: &Order) -> Result<UpdateOutcome, StoreError>;

    /// Orders matching `lookup`, newest first, at most `limit`.
    async fn find_orders(&self, lookup: &OrderLookup, limit: usize) -> Result<Vec<Order>, StoreError>;
}

/// Warehouses, keyed by id.
#[async_trait]
pub trait WarehouseStore: Send + Sync {
    /// Creates or replaces the warehouse. Unconditional.
    async fn put_warehouse(&self, warehouse: &Warehouse) -> Result<(), StoreError>;

    async fn get_warehouse(&self, id: &WarehouseId) -> Result<Option<Warehouse>, StoreError>;

    /// Every warehouse, by id.
    async fn list_warehouses(&self) -> Result<Vec<Warehouse>, StoreError>;
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
    Reserved,
    /// This order already holds a reservation; nothing changed.
    AlreadyReserved,
    /// One line found too few units available; nothing changed.
    Insufficient {
        warehouse: WarehouseId,
        sku: Sku,
        available: u32,
    },
}

/// What `InventoryStore::release` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum ReleaseOutcome {
    /// The order's held lines went back to available stock.
    Released(Reservation),
    /// The order held nothing (never reserved, or already released).
    NothingHeld,
}

/// Stock per (warehouse, SKU) and the reservations held against it.
#[async_trait]
pub trait InventoryStore: Send + Sync {
    /// Sets the physical count of a SKU in a warehouse (a WMS sync).
    /// Condition: `on_hand` is at least the units reserved there.
    async fn set_on_hand(&self, warehouse: &WarehouseId, sku: &Sku, on_hand: u32) -> Result<SetOnHandOutcome, StoreError>;

    /// The SKU's stock in every warehouse that ever recorded it, by warehouse id.
    async fn stock_of(&self, sku: &Sku) -> Result<Vec<StockLevel>, StoreError>;

    /// Holds every line of `reservation` for the order, all or nothing, in one atomic write.
    /// Conditions: the order holds no reservation yet; each line's (warehouse, SKU)
    /// has at least `quantity` available.
    async fn reserve(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError>;

    /// Gives the order's held units back, atomically. Idempotent.
    async fn release(&self, order_id: &OrderId) -> Result<ReleaseOutcome, StoreError>;

    /// The lines the order holds, if any.
    async fn reservation(&self, order_id: &OrderId) -> Result<Option<Reservation>, StoreError>;
}

/// Work handed from one function to the next. Delivery is at least once, so every
/// consumer must be idempotent.
#[async_trait]
pub trait Queue: Send + Sync {
    /// Enqueues the encoded message on its queue (`Outgoing::of(&message)`). Unconditional.
    async fn send(&self, message: &Outgoing) -> Result<(), StoreError>;
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

/// One set of adapters for every port, as a runtime wires them.
#[derive(Clone)]
pub struct Ports {
    pub orders: Arc<dyn OrderStore>,
    pub warehouses: Arc<dyn WarehouseStore>,
    pub inventory: Arc<dyn InventoryStore>,
    pub queue: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}
