//! The embedded adapters: every port of `oms-domain` backed by one SQLite database
//! (`oms.db`) in a data directory, so the local mode survives a restart and loses nothing.
//!
//! - `OrderStore`, `WarehouseStore`, `InventoryStore`, `AlertStore` with the exact conditional
//!   semantics of `oms_domain::ports` (held to them by `oms-conformance`);
//! - `Queue`, a durable queue in the same database, which the local runtime consumes
//!   SQS-style through [`Embedded::receive`], [`Embedded::ack`] and [`Embedded::retry_later`].
//!
//! SQLite runs in WAL mode with `synchronous = NORMAL`: a committed write survives a
//! process crash; a power cut may lose the last few transactions but never corrupts. Flash
//! sale claims are answered once appended to their sale's journal (`flash-sales/` in the
//! data directory), as durable as a commit, and written to `oms.db` a moment later.
//! Beside the writer (the database thread, which group-commits) a checkpoint thread copies
//! the WAL into the database file, and a read-only connection serves some reads on the
//! caller's thread (`db.rs`).

mod alerts;
mod archive;
mod auctions;
mod browsing;
mod buyer_requests;
mod catalogue;
mod claim_books;
mod consignments;
mod db;
mod documents;
mod flash_sales;
mod group_buys;
mod inventory;
mod lots;
mod merchants;
mod orders;
mod products;
mod queue;
mod rentals;
mod repairs;
mod returns;
mod reviews;
mod rfqs;
mod rows;
mod sales;
mod shipments;
mod sku_mappings;
mod storefronts;
mod supply;
mod warehouses;

use anyhow::Context;
use oms_domain::ports::{Clock, Ports};
use oms_domain::stock::StockLevel;
use oms_domain::OrderStatus;
use std::path::Path;
use std::sync::Arc;

pub use documents::DocumentDirectory;
pub use queue::{Delivery, MAX_ATTEMPTS};

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "oms.db";

/// Flash sales decoded before, each with the row body it was decoded from.
type KnownSales = std::collections::HashMap<oms_domain::flash_sale::SaleId, (Arc<str>, oms_domain::flash_sale::FlashSale)>;

/// The embedded store and queue. Cloning is cheap and every clone shares one database.
#[derive(Debug, Clone)]
pub struct Embedded {
    db: db::Db,
    notify: Arc<tokio::sync::Notify>,
    /// Flash sales decoded before, with the row body they were decoded from: a claim reads
    /// the row (it may have changed: an early end) but decodes it only when it differs.
    sales: Arc<std::sync::Mutex<KnownSales>>,
    /// The books of the sales claimed through this store: claims decided in memory and
    /// answered once journaled (`claim_books.rs`).
    books: Arc<claim_books::ClaimBooks>,
}

impl Embedded {
    /// Opens the store in `data_dir` (creating the directory and `oms.db` if needed) and
    /// brings its schema up to date. Messages a previous process had in flight become
    /// visible at once, since that process is gone (so one data directory is meant for
    /// one process at a time; a second one would only cause redeliveries, never loss).
    pub fn open(data_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("Failed to create the data directory {}", data_dir.display()))?;
        let db = db::Db::open_file(&data_dir.join(DB_FILE))?;
        let books = claim_books::ClaimBooks::in_directory(data_dir.join(claim_books::JOURNALS))?;
        let store = Self { db, notify: Arc::default(), sales: Arc::default(), books: Arc::new(books) };
        store.replay_journals()?;
        let recovered = store.db.call_now(queue::recover_in_flight)?;
        if recovered > 0 {
            tracing::info!(messages = recovered, "messages left in flight by a previous run are visible again");
        }
        Ok(store)
    }

    /// A store that lives in memory only, for tests: one private database per call,
    /// shared by the clones of the value returned.
    pub fn open_in_memory() -> anyhow::Result<Self> {
        Ok(Self { db: db::Db::open_in_memory()?, notify: Arc::default(), sales: Arc::default(), books: Arc::default() })
    }

    /// Every port backed by this store, with `clock` as the time.
    pub fn ports(&self, clock: Arc<dyn Clock>) -> Ports {
        Ports {
            orders: Arc::new(self.clone()),
            warehouses: Arc::new(self.clone()),
            inventory: Arc::new(self.clone()),
            alerts: Arc::new(self.clone()),
            sku_mappings: Arc::new(self.clone()),
            catalogue: Arc::new(self.clone()),
            rates: Arc::new(self.clone()),
            flash_sales: Arc::new(self.clone()),
            supply: Arc::new(self.clone()),
            shipments: Arc::new(self.clone()),
            sales: Arc::new(self.clone()),
            queue: Arc::new(self.clone()),
            clock,
            consignments: Arc::new(self.clone()),
            auctions: Arc::new(self.clone()),
            group_buys: Arc::new(self.clone()),
            rentals: Arc::new(self.clone()),
            reviews: Arc::new(self.clone()),
            repairs: Arc::new(self.clone()),
            returns: Arc::new(self.clone()),
            merchants: Arc::new(self.clone()),
            storefronts: Arc::new(self.clone()),
            browsing: Arc::new(self.clone()),
            products: Arc::new(self.clone()),
            rfqs: Arc::new(self.clone()),
            buyer_requests: Arc::new(self.clone()),
        }
    }

    /// How many orders are in each status, in the status machine's order; statuses with
    /// no order are left out.
    pub async fn order_counts_by_status(&self) -> anyhow::Result<Vec<(OrderStatus, usize)>> {
        self.db.call(orders::counts_by_status).await.context("Failed to count orders by status")
    }

    /// Waits until every flash-sale claim this store answered is written to `oms.db`: what
    /// another connection to the file reads without holding the sale. (This store's own
    /// operations read them at once.)
    pub async fn claims_written(&self) -> anyhow::Result<()> {
        self.db.call(|_| Ok(())).await.context("Failed to wait for the claims answered to be written")
    }

    /// Every stock level, sorted by warehouse then SKU.
    pub async fn all_stock(&self) -> anyhow::Result<Vec<StockLevel>> {
        self.db.call(inventory::all_stock).await.context("Failed to list the stock")
    }
}
