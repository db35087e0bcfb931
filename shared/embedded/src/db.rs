//! The one SQLite connection, its settings and its schema, and the database thread that
//! runs every operation on it, committing them in batches.

use anyhow::{anyhow, bail, Context};
use rusqlite::{Connection, OptionalExtension};
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// A time as the index columns hold it: RFC 3339 with microseconds and `Z`, fixed width,
/// so text order is time order.
pub(crate) fn index_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The schema version this build writes and understands (`PRAGMA user_version`).
/// `migrate` brings an older file up step by step.
pub(crate) const SCHEMA_VERSION: i64 = 35;

/// How long a write waits for another process holding the database lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Version 1: every table and index as first released, idempotent. Later versions change
/// it only through their own migration steps, so an old file and a new one end up alike.
const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS orders (
    order_id    TEXT PRIMARY KEY NOT NULL,
    channel     TEXT NOT NULL,
    external_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    phone       TEXT,
    status      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL,
    UNIQUE (channel, external_id)
);
CREATE INDEX IF NOT EXISTS orders_by_customer ON orders (customer_id, order_id);
CREATE INDEX IF NOT EXISTS orders_by_phone ON orders (phone, order_id);
CREATE INDEX IF NOT EXISTS orders_by_external_id ON orders (external_id, order_id);
CREATE INDEX IF NOT EXISTS orders_by_channel ON orders (channel, order_id);

CREATE TABLE IF NOT EXISTS warehouses (
    warehouse_id TEXT PRIMARY KEY NOT NULL,
    body         TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS stock (
    warehouse TEXT NOT NULL,
    sku       TEXT NOT NULL,
    on_hand   INTEGER NOT NULL CHECK (on_hand >= 0),
    reserved  INTEGER NOT NULL CHECK (reserved >= 0 AND reserved <= on_hand),
    PRIMARY KEY (warehouse, sku)
);
CREATE INDEX IF NOT EXISTS stock_by_sku ON stock (sku, warehouse);

CREATE TABLE IF NOT EXISTS reservations (
    order_id  TEXT NOT NULL,
    warehouse TEXT NOT NULL,
    sku       TEXT NOT NULL,
    quantity  INTEGER NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (order_id, warehouse, sku)
);

CREATE TABLE IF NOT EXISTS messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    queue      TEXT NOT NULL,
    body       TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    in_flight  INTEGER NOT NULL DEFAULT 0,
    visible_at INTEGER NOT NULL,
    sent_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages (queue, visible_at, id);

CREATE TABLE IF NOT EXISTS dead_letters (
    id        INTEGER PRIMARY KEY NOT NULL,
    queue     TEXT NOT NULL,
    body      TEXT NOT NULL,
    attempts  INTEGER NOT NULL,
    reason    TEXT NOT NULL,
    failed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_by_queue ON dead_letters (queue, id);
";

/// Step 4: alerts for staff, one per (kind, subject), listed by status in id order.
/// Idempotent.
const ALERTS: &str = "
CREATE TABLE IF NOT EXISTS alerts (
    alert_id    TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    order_id    TEXT,
    merchant_id TEXT NOT NULL,
    message     TEXT NOT NULL,
    status      TEXT NOT NULL,
    raised_at   TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (kind, subject)
);
CREATE INDEX IF NOT EXISTS alerts_by_status ON alerts (status, alert_id);
";

/// Version 10: a merchant's alerts by status, in id order (what merchant staff list).
const ALERTS_BY_MERCHANT: &str = "
CREATE INDEX IF NOT EXISTS alerts_by_merchant_status ON alerts (merchant_id, status, alert_id);
";

/// Step 5: the backorders by SKU, one row per (SKU, order) while the order is backordered,
/// `since` the time it became so (fixed-width RFC 3339, so text order is time order);
/// kept by `orders.rs` in the same statement batch as the order row. Idempotent.
const BACKORDERS: &str = "
CREATE TABLE IF NOT EXISTS backorders (
    sku      TEXT NOT NULL,
    order_id TEXT NOT NULL,
    since    TEXT NOT NULL,
    PRIMARY KEY (sku, order_id)
);
CREATE INDEX IF NOT EXISTS backorders_oldest_first ON backorders (sku, since, order_id);
CREATE INDEX IF NOT EXISTS backorders_by_order ON backorders (order_id);
";

/// Step 6: the channels' SKUs mapped to ours, one row per (channel, merchant, channel
/// SKU). Idempotent.
const SKU_MAPPINGS: &str = "
CREATE TABLE IF NOT EXISTS sku_mappings (
    channel     TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    channel_sku TEXT NOT NULL,
    sku         TEXT NOT NULL,
    PRIMARY KEY (channel, merchant_id, channel_sku)
);
";

/// Version 11: the SKU catalogue and the carriers' rate tables, each a JSON body (an
/// `oms_records` record) keyed by SKU or carrier. Idempotent.
const CATALOGUE_AND_RATES: &str = "
CREATE TABLE IF NOT EXISTS skus (
    sku  TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS carrier_rates (
    carrier_id TEXT PRIMARY KEY,
    body       TEXT NOT NULL
);
";

/// Version 15: the sales history pricing learns from. One row per reserved order, written
/// in the order's savepoint when its reservation is recorded, keyed by merchant and
/// `sale_key` (`<placed_at>#<order id>`, text order = time order) so a merchant's history
/// reads in pages from the primary key; `body` is the `oms_records::PurchaseRecord`.
/// Idempotent.
const SALES_HISTORY: &str = "
CREATE TABLE IF NOT EXISTS sales (
    merchant_id TEXT NOT NULL,
    sale_key    TEXT NOT NULL,
    order_id    TEXT NOT NULL UNIQUE,
    body        TEXT NOT NULL,
    PRIMARY KEY (merchant_id, sale_key)
) WITHOUT ROWID;
";

/// Version 16: consignment grants, one row each: the owner and seller (indexed: allocation
/// reads a seller's grants, the owner's list reads its own) and `version` beside the grant
/// as JSON (`oms_records::ConsignmentRecord`). Idempotent.
const CONSIGNMENTS: &str = "
CREATE TABLE IF NOT EXISTS consignments (
    consignment_id TEXT PRIMARY KEY NOT NULL,
    owner          TEXT NOT NULL,
    seller         TEXT NOT NULL,
    version        INTEGER NOT NULL,
    body           TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS consignments_by_seller ON consignments (seller, consignment_id);
CREATE INDEX IF NOT EXISTS consignments_by_owner ON consignments (owner, consignment_id);
";

/// Version 12: flash sales. The sale's terms and shards as a JSON body (`oms_records::SaleRecord`);
/// one row per shard with its units left (never below zero) and claims made; the units each
/// customer claimed per sale; and each claim under its (sale, idempotency key). A claim
/// writes its rows and its order's message in one savepoint. Idempotent.
const FLASH_SALES: &str = "
CREATE TABLE IF NOT EXISTS flash_sales (
    sale_id TEXT PRIMARY KEY NOT NULL,
    body    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS flash_sale_shards (
    sale_id    TEXT NOT NULL,
    shard      INTEGER NOT NULL,
    units_left INTEGER NOT NULL CHECK (units_left >= 0),
    claims     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sale_id, shard)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS flash_sale_customers (
    sale_id     TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    claimed     INTEGER NOT NULL CHECK (claimed >= 0),
    PRIMARY KEY (sale_id, customer_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS flash_sale_claims (
    sale_id         TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    body            TEXT NOT NULL,
    PRIMARY KEY (sale_id, idempotency_key)
) WITHOUT ROWID;
";

/// Version 13: shipments (keyed by tracking number, found by order), the carriers' events
/// (kept per tracking number whether or not a shipment has it yet) and the transit times
/// of delivered shipments per carrier and lane.
const SHIPMENTS: &str = "
CREATE TABLE IF NOT EXISTS shipments (
    tracking_number TEXT PRIMARY KEY NOT NULL,
    shipment_id     TEXT NOT NULL UNIQUE,
    order_id        TEXT NOT NULL,
    version         INTEGER NOT NULL,
    body            TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS shipments_by_order ON shipments (order_id, shipment_id);
CREATE TABLE IF NOT EXISTS tracking_events (
    tracking_number TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    body            TEXT NOT NULL,
    PRIMARY KEY (tracking_number, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS transit_samples (
    carrier      TEXT NOT NULL,
    origin       TEXT NOT NULL,
    destination  TEXT NOT NULL,
    shipment_id  TEXT NOT NULL,
    delivered_at TEXT NOT NULL,
    hours        INTEGER NOT NULL CHECK (hours >= 0),
    PRIMARY KEY (carrier, origin, destination, shipment_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS transit_samples_by_time ON transit_samples (carrier, origin, destination, delivered_at);
";

/// Version 18: a tracking number may be shared by the shipments of one merge group's orders
/// (`oms_domain::allocation::merge`), one row per (tracking number, order), each with its
/// group (its own order id when it ships alone; so for every row shipped before).
const SHARED_PARCELS: &str = "
CREATE TABLE shipments_by_parcel (
    tracking_number TEXT NOT NULL,
    order_id        TEXT NOT NULL,
    merge_group     TEXT NOT NULL,
    shipment_id     TEXT NOT NULL UNIQUE,
    version         INTEGER NOT NULL,
    body            TEXT NOT NULL,
    PRIMARY KEY (tracking_number, order_id)
) WITHOUT ROWID;
INSERT INTO shipments_by_parcel (tracking_number, order_id, merge_group, shipment_id, version, body)
    SELECT tracking_number, order_id, order_id, shipment_id, version, body FROM shipments;
DROP TABLE shipments;
ALTER TABLE shipments_by_parcel RENAME TO shipments;
CREATE INDEX shipments_by_order ON shipments (order_id, shipment_id);
";

/// Version 27: a merchant's orders by shipping address fingerprint and by card
/// fingerprint, what the fraud rules count orders by. Orders written before it have
/// neither key: the rules look back one hour, so they age out of the count at once.
/// Idempotent, as every step is: a column already there is left alone.
fn step_27_address_and_card_keys(tx: &Connection) -> anyhow::Result<()> {
    for column in ["address_key", "card_key"] {
        let present: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM pragma_table_info('orders') WHERE name = ?1)", [column], |row| {
                row.get(0)
            })?;
        if !present {
            tx.execute_batch(&format!("ALTER TABLE orders ADD COLUMN {column} TEXT"))?;
        }
    }
    tx.execute_batch(
        "CREATE INDEX IF NOT EXISTS orders_by_address ON orders (merchant_id, address_key, order_id)
             WHERE address_key IS NOT NULL;
         CREATE INDEX IF NOT EXISTS orders_by_card ON orders (merchant_id, card_key, order_id) WHERE card_key IS NOT NULL;",
    )?;
    Ok(())
}

/// Version 20: the order index by phone holds only orders with a phone (a lookup by phone,
/// `phone = ?`, never wants the others): a flash-sale claim's order, which has none, writes
/// one index entry fewer. Idempotent.
const PHONE_INDEX_PARTIAL: &str = "
DROP INDEX IF EXISTS orders_by_phone;
CREATE INDEX orders_by_phone ON orders (merchant_id, phone, order_id) WHERE phone IS NOT NULL;
";

/// Most operations committed together in one transaction.
const MAX_BATCH: usize = 512;

/// How long at most the database thread waits for a batch to grow to the size of the one
/// before (callers working concurrently send their next operations as their answers
/// arrive): each commit writes every page it touched, and a batch of many operations
/// shares the pages they touch (the same index leaves, the same table tails), so fewer,
/// larger commits write less per operation. After a batch of one (a lone caller) nothing
/// waits.
const LINGER: Duration = Duration::from_micros(200);

/// What the database thread hands back once a batch is committed (or not).
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
/// One operation for the database thread: it runs, says whether it succeeded, and leaves
/// the reply to be sent once the outcome of the whole batch is known.
type Job = Box<dyn FnOnce(&mut Connection) -> (bool, Reply) + Send>;

/// The connection, owned by one database thread that runs operations in order.
///
/// SQLite allows one writer at a time, so one connection serving operations one after
/// another is both the simplest and a correct choice: every operation runs alone. What the
/// thread adds is group commit: it takes every operation waiting (up to `MAX_BATCH`, and
/// waits up to `LINGER` for as many as the batch before had) and
/// runs them in one `BEGIN IMMEDIATE` transaction, each inside a savepoint of its own
/// (rolled back if the operation fails), and answers them only after the `COMMIT`. The
/// outcome is the same as committing each one by itself, in that order, with one commit's
/// cost per batch instead of per operation, and no thread hand-offs or lock contention
/// between callers. `BEGIN IMMEDIATE` also keeps a second process on the same file from
/// interleaving with a batch.
///
/// An operation must not open a savepoint or transaction of its own: the one it runs in is
/// rolled back whenever it answers `Err`, so an operation that has to undo what it wrote
/// answers an error, and one that answers an outcome other than success writes nothing.
///
/// A panic is a crash, in every build (the release profile aborts on panic, and the binaries
/// install a hook that logs and aborts). Nothing here catches it: the panic ends the
/// database thread, SQLite rolls back the open transaction (the batch is never committed),
/// callers waiting on the batch and every later caller get the error "the database thread
/// has stopped", and the process is meant to abort; the queues deliver again whatever was in
/// flight.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    jobs: mpsc::Sender<Job>,
    /// A second connection to the file for reads that run on the caller's thread (no hand-off
    /// to the database thread): in WAL mode it reads the last committed state beside the
    /// writer. None for an in-memory database (a second connection cannot see it).
    reader: Option<Arc<Mutex<Connection>>>,
}

/// WAL pages past which the checkpointer copies the WAL into the database file (SQLite's
/// own automatic checkpoint starts at 1,000 pages; it is off on the writer). More pages a
/// copy means fewer copies of a page rewritten by many commits (an index leaf of random
/// keys: customers, idempotency keys).
const CHECKPOINT_PAGES: i64 = 4_000;
/// WAL pages past which the checkpointer restarts the WAL, waiting for the writer to pause
/// between batches, so that a steady stream of commits cannot grow it without bound.
const RESTART_PAGES: i64 = 64_000;

std::thread_local! {
    /// The pages in the WAL after the last commit on this thread's connection (its WAL
    /// hook's count): each database thread owns one connection.
    static WAL_PAGES: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// The WAL hook of the writer: notes the pages in the WAL for the database thread (which
/// tells the checkpointer); it replaces SQLite's automatic checkpoint.
fn note_wal_pages(_wal: &rusqlite::hooks::Wal, pages: std::os::raw::c_int) -> rusqlite::Result<()> {
    WAL_PAGES.with(|cell| cell.set(i64::from(pages)));
    Ok(())
}

impl Db {
    /// Opens (creating if needed) the database file, applies the settings and the schema.
    pub(crate) fn open_file(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path).with_context(|| format!("Failed to open the database {}", path.display()))?;
        conn.busy_timeout(BUSY_TIMEOUT).context("Failed to set the busy timeout")?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .context("Failed to switch the database to WAL mode")?;
        if !mode.eq_ignore_ascii_case("wal") {
            bail!("The database {} refused WAL mode (journal mode is {mode})", path.display());
        }
        conn.pragma_update(None, "synchronous", "NORMAL").context("Failed to set synchronous = NORMAL")?;
        let open_second = || -> anyhow::Result<Connection> {
            let conn = Connection::open(path).with_context(|| format!("Failed to open the database {} again", path.display()))?;
            conn.busy_timeout(BUSY_TIMEOUT).context("Failed to set the busy timeout")?;
            conn.set_prepared_statement_cache_capacity(16);
            Ok(conn)
        };
        // Checkpoints run on a thread of their own (`checkpoint`), not in the commit that
        // crosses the threshold: the writer never waits for the copy and its fsyncs. The
        // writer's WAL hook (which replaces SQLite's automatic checkpoint) counts the pages.
        let checkpointer = open_second()?;
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("oms-checkpoint".into())
            .spawn(move || checkpoint(&checkpointer, &woken))
            .context("Failed to start the checkpoint thread")?;
        conn.wal_hook(Some(note_wal_pages));
        let mut db = Self::prepared(conn, Some(wake))?;
        db.reader = Some(Arc::new(Mutex::new(open_second()?)));
        Ok(db)
    }

    /// A private in-memory database, gone when the last clone is dropped.
    pub(crate) fn open_in_memory() -> anyhow::Result<Self> {
        let conn = Connection::open_in_memory().context("Failed to open an in-memory database")?;
        Self::prepared(conn, None)
    }

    /// The schema brought up to date and the database thread started (telling `checkpoint`,
    /// when given, as the WAL grows).
    fn prepared(mut conn: Connection, checkpoint: Option<mpsc::SyncSender<()>>) -> anyhow::Result<Self> {
        // Each operation runs in a savepoint, whose journal (the pages it changed, as they
        // were) outgrows SQLite's in-memory threshold for a large write and would spill to a
        // temporary file, created and removed per operation: keep it in memory. It is for
        // rolling an operation back inside its transaction, never for durability.
        conn.pragma_update(None, "temp_store", "MEMORY").context("Failed to keep temporary storage in memory")?;
        // A bigger page cache than the default 2 MB: the hot index and table pages of a busy
        // store stay in memory rather than being read again.
        conn.pragma_update(None, "cache_size", -32_768).context("Failed to set the page cache size")?;
        migrate(&mut conn)?;
        conn.set_prepared_statement_cache_capacity(64);
        let (jobs, waiting) = mpsc::channel();
        std::thread::Builder::new()
            .name("oms-sqlite".into())
            .spawn(move || serve(conn, &waiting, checkpoint.as_ref()))
            .context("Failed to start the database thread")?;
        Ok(Self { jobs, reader: None })
    }

    /// Runs the read `work` on the reader connection on this thread when there is one (a
    /// file), else on the database thread. `work` must only read: it sees the last committed
    /// state, which every answer of `call` has reached.
    pub(crate) async fn read<T, F>(&self, work: F) -> anyhow::Result<T>
    where
        F: FnOnce(&mut Connection) -> anyhow::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        match &self.reader {
            Some(reader) => {
                let mut conn = reader.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                work(&mut conn)
            }
            None => self.call(work).await,
        }
    }

    /// The ids `sql` selects of the records due by `now`: `?1` is `now` as [`index_time`]
    /// writes it, `?2` the most rows. How the sweep finds the flash sales and auctions that
    /// ended and the group buys past their deadline, each through its partial index.
    pub(crate) async fn due_ids(
        &self,
        sql: &'static str,
        now: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> anyhow::Result<Vec<String>> {
        let (until, limit) = (index_time(now), i64::try_from(limit).unwrap_or(i64::MAX));
        self.call(move |conn| {
            let mut stmt = conn.prepare_cached(sql).with_context(|| format!("Failed to prepare {sql}"))?;
            let rows = stmt
                .query_map(rusqlite::params![until, limit], |row| row.get(0))
                .with_context(|| format!("Failed to query {sql}"))?
                .collect::<Result<Vec<String>, _>>()
                .with_context(|| format!("Failed to read the rows of {sql}"))?;
            Ok(rows)
        })
        .await
    }

    /// Runs `work` on the database thread and answers once it is committed.
    pub(crate) async fn call<T, F>(&self, work: F) -> anyhow::Result<T>
    where
        F: FnOnce(&mut Connection) -> anyhow::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.submit(work, move |result| {
            let _ = reply.send(result);
        })?;
        answer.await.map_err(|_| stopped())?
    }

    /// As `call`, blocking the calling thread: for start-up steps and tests outside the runtime.
    pub(crate) fn call_now<T, F>(&self, work: F) -> anyhow::Result<T>
    where
        F: FnOnce(&mut Connection) -> anyhow::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = mpsc::channel();
        self.submit(work, move |result| {
            let _ = reply.send(result);
        })?;
        answer.recv().map_err(|_| stopped())?
    }

    /// Queues `work` for the database thread, which runs it in its savepoint and, once the
    /// batch's commit is known, calls `deliver` (on the database thread: it must be short)
    /// with the work's answer, or the error that kept it from being committed.
    pub(crate) fn submit<T, F>(&self, work: F, deliver: impl FnOnce(anyhow::Result<T>) + Send + 'static) -> anyhow::Result<()>
    where
        F: FnOnce(&mut Connection) -> anyhow::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let job: Job = Box::new(move |conn| {
            let result = work(conn);
            let succeeded = result.is_ok();
            let reply: Reply = Box::new(move |committed| {
                deliver(committed.map_err(anyhow::Error::msg).and(result));
            });
            (succeeded, reply)
        });
        self.jobs.send(job).map_err(|_| stopped())
    }
}

/// What every caller gets once the database thread is gone (it panicked, and the process
/// is about to abort): its operation was not committed.
fn stopped() -> anyhow::Error {
    anyhow!("the database thread has stopped")
}

/// The database thread: batches of waiting operations, each batch one transaction. Ends
/// when every `Db` handle is gone.
fn serve(mut conn: Connection, waiting: &mpsc::Receiver<Job>, checkpoint: Option<&mpsc::SyncSender<()>>) {
    // The WAL's pages when the checkpointer was last woken.
    let mut woken_at: i64 = 0;
    // The size of the batch before.
    let mut expected: usize = 1;
    while let Ok(first) = waiting.recv() {
        let mut batch = vec![first];
        let take_waiting = |batch: &mut Vec<Job>| {
            while batch.len() < MAX_BATCH {
                match waiting.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        };
        take_waiting(&mut batch);
        let until = std::time::Instant::now() + LINGER;
        while batch.len() < expected.min(MAX_BATCH) {
            let left = until.saturating_duration_since(std::time::Instant::now());
            match waiting.recv_timeout(left) {
                Ok(job) => {
                    batch.push(job);
                    take_waiting(&mut batch);
                }
                Err(_) => break,
            }
        }
        expected = batch.len();
        // Without the outer transaction (another process held the lock past the busy
        // timeout) each operation's savepoint commits on its own: slower, still correct.
        let in_transaction = run_cached(&conn, "BEGIN IMMEDIATE").is_ok();
        let mut replies = Vec::with_capacity(batch.len());
        for job in batch {
            if let Some(reply) = run_in_savepoint(&mut conn, job) {
                replies.push(reply);
            }
        }
        let committed = if in_transaction {
            run_cached(&conn, "COMMIT").map_err(|e| {
                let _ = conn.execute_batch("ROLLBACK");
                format!("Failed to commit: {e}")
            })
        } else {
            Ok(())
        };
        for reply in replies {
            reply(committed.clone());
        }
        if let Some(checkpoint) = checkpoint {
            let pages = WAL_PAGES.with(std::cell::Cell::get);
            if pages < woken_at {
                // The WAL was restarted from its start.
                woken_at = 0;
            }
            if pages >= woken_at + CHECKPOINT_PAGES {
                // Full: a copy is under way already, which takes these pages too.
                let _ = checkpoint.try_send(());
                woken_at = pages;
            }
        }
    }
}

/// Runs one operation in a savepoint, rolled back if it answers an error. A panic is not
/// caught: it unwinds out of the database thread (or aborts the process), and SQLite
/// rolls back the open transaction.
fn run_in_savepoint(conn: &mut Connection, job: Job) -> Option<Reply> {
    if let Err(e) = run_cached(conn, "SAVEPOINT job") {
        tracing::error!(error = %e, "could not open a savepoint; the operation is dropped");
        return None;
    }
    let (succeeded, reply) = job(conn);
    let ended = if succeeded {
        run_cached(conn, "RELEASE job")
    } else {
        run_cached(conn, "ROLLBACK TO job").and_then(|()| run_cached(conn, "RELEASE job"))
    };
    if let Err(e) = ended {
        tracing::error!(error = %e, "could not close a savepoint");
    }
    Some(reply)
}

/// A statement without parameters or rows (a transaction's or savepoint's), parsed once.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.raw_execute().map(|_| ())
}

/// The checkpointer: each time the database thread says the WAL grew by
/// `CHECKPOINT_PAGES`, copies it into the database file beside the writer (a passive
/// checkpoint never blocks it), and restarts it once it holds `RESTART_PAGES` (waiting for
/// the writer to finish its batch, through the busy timeout), so that a steady stream of
/// commits cannot grow it without bound. What it copies is committed already: this changes
/// when pages reach the database file, never what a commit guarantees (the WAL, synchronous
/// NORMAL, as before). Ends, with a last copy, once the database thread is gone.
fn checkpoint(conn: &Connection, woken: &mpsc::Receiver<()>) {
    let run = |mode: &str| -> rusqlite::Result<i64> {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| row.get::<_, i64>(1))
    };
    while woken.recv().is_ok() {
        match run("PASSIVE") {
            Ok(log) if log >= RESTART_PAGES => {
                if let Err(e) = run("RESTART") {
                    tracing::warn!(error = %e, "a WAL restart failed; the next checkpoint tries again");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "a checkpoint failed; the next one copies what it left"),
        }
    }
    let _ = run("PASSIVE");
}

/// Brings the schema to `SCHEMA_VERSION` in ordered steps, one transaction for all of them,
/// refusing a database written by a newer build. Each step runs only on a file older than
/// its version, so a file of any earlier version (or a new, empty one) ends up the same.
fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .context("Failed to start the schema migration")?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0)).context("Failed to read the schema version")?;
    if found > SCHEMA_VERSION {
        bail!("The database has schema version {found}, newer than this build understands ({SCHEMA_VERSION}); upgrade oms");
    }
    if found < 1 {
        tx.execute_batch(SCHEMA_V1).context("Failed to create the tables")?;
    }
    if found < 2 {
        step_2_merchant_in_the_order_key(&tx).context("Failed to migrate the schema to version 2")?;
    }
    if found < 3 {
        step_3_reservation_holds(&tx).context("Failed to migrate to schema version 3 (reservation holds)")?;
    }
    if found < 4 {
        tx.execute_batch(ALERTS).context("Failed to migrate to schema version 4 (alerts)")?;
    }
    if found < 5 {
        step_5_backorders(&tx).context("Failed to migrate to schema version 5 (backorders by SKU)")?;
    }
    if found < 6 {
        tx.execute_batch(SKU_MAPPINGS).context("Failed to migrate to schema version 6 (SKU mappings)")?;
    }
    if found < 7 {
        tx.execute_batch(TIMELINE).context("Failed to migrate to schema version 7 (timeline rows)")?;
    }
    if found < 8 {
        step_8_stock_owned_per_merchant(&tx).context("Failed to migrate to schema version 8 (stock owned per merchant)")?;
    }
    if found < 9 {
        step_9_orders_by_status(&tx).context("Failed to migrate to schema version 9 (orders by status and age)")?;
    }
    if found < 10 {
        tx.execute_batch(ALERTS_BY_MERCHANT).context("Failed to migrate to schema version 10 (alerts by merchant)")?;
    }
    if found < 11 {
        tx.execute_batch(CATALOGUE_AND_RATES).context("Failed to migrate to schema version 11 (SKU catalogue, rate tables)")?;
    }
    if found < 12 {
        tx.execute_batch(FLASH_SALES).context("Failed to migrate to schema version 12 (flash sales)")?;
    }
    if found < 13 {
        tx.execute_batch(SHIPMENTS).context("Failed to migrate to schema version 13 (shipments and tracking)")?;
    }
    if found < 14 {
        step_14_stock_ledger(&tx).context("Failed to migrate to schema version 14 (stock ledger)")?;
    }
    if found < 15 {
        tx.execute_batch(SALES_HISTORY).context("Failed to migrate to schema version 15 (sales history)")?;
    }
    if found < 16 {
        tx.execute_batch(CONSIGNMENTS).context("Failed to migrate to schema version 16 (consignments)")?;
    }
    if found < 17 {
        tx.execute_batch(crate::supply::SUPPLY)
            .context("Failed to migrate to schema version 17 (suppliers and purchase orders)")?;
    }
    if found < 18 {
        tx.execute_batch(SHARED_PARCELS).context("Failed to migrate to schema version 18 (parcels shared by merged orders)")?;
    }
    if found < 19 {
        crate::flash_sales::step_19_open_sales(&tx)
            .context("Failed to migrate to schema version 19 (flash sales closed after their end)")?;
    }
    if found < 20 {
        tx.execute_batch(PHONE_INDEX_PARTIAL)
            .context("Failed to migrate to schema version 20 (the phone index of orders with one)")?;
    }
    if found < 21 {
        tx.execute_batch(crate::auctions::AUCTIONS).context("Failed to migrate to schema version 21 (auctions and bids)")?;
    }
    if found < 22 {
        tx.execute_batch(crate::group_buys::GROUP_BUYS)
            .context("Failed to migrate to schema version 22 (group-buy offers and joins)")?;
    }
    if found < 23 {
        tx.execute_batch(crate::rentals::RENTALS)
            .context("Failed to migrate to schema version 23 (rental units, bookings and their days)")?;
    }
    if found < 24 {
        tx.execute_batch(crate::returns::RETURNS)
            .context("Failed to migrate to schema version 24 (returns, their claimed units and damaged stock)")?;
    }
    if found < 25 {
        tx.execute_batch(crate::repairs::REPAIRS).context("Failed to migrate to schema version 25 (repairs)")?;
    }
    if found < 26 {
        tx.execute_batch(crate::merchants::MERCHANTS)
            .context("Failed to migrate to schema version 26 (merchants' onboarding records)")?;
    }
    if found < 27 {
        step_27_address_and_card_keys(&tx)
            .context("Failed to migrate to schema version 27 (orders by shipping address and by card)")?;
    }
    if found < 28 {
        tx.execute_batch(crate::reviews::REVIEWS).context("Failed to migrate to schema version 28 (reviews)")?;
    }
    if found < 29 {
        tx.execute_batch(crate::storefronts::STOREFRONTS)
            .context("Failed to migrate to schema version 29 (storefront templates, drafts and published storefronts)")?;
    }
    if found < 30 {
        tx.execute_batch(crate::browsing::BROWSING)
            .and_then(|()| tx.execute_batch(crate::returns::RETURNS_BY_MERCHANT))
            .context("Failed to migrate to schema version 30 (browsing events, returns by merchant)")?;
    }
    if found < 31 {
        tx.execute_batch(crate::products::PRODUCTS)
            .context("Failed to migrate to schema version 31 (the reviewed catalogue's product listings)")?;
    }
    if found < 32 {
        tx.execute_batch(crate::lots::LOTS).context("Failed to migrate to schema version 32 (the lots of each stock)")?;
    }
    if found < 33 {
        tx.execute_batch(crate::buyer_requests::BUYER_REQUESTS)
            .context("Failed to migrate to schema version 33 (buyer requests and their proposals)")?;
    }
    if found < 34 {
        tx.execute_batch(crate::rfqs::RFQS).context("Failed to migrate to schema version 34 (requests for quotes)")?;
    }
    if found < 35 {
        tx.execute_batch(crate::claim_books::BOOKS)
            .context("Failed to migrate to schema version 35 (how far each flash sale's journal is written)")?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION).context("Failed to record the schema version")?;
    tx.commit().context("Failed to commit the schema migration")
}

/// Version 14: the stock ledger (`oms_domain::ledger`), one row per change of a stock's
/// figures, written in the savepoint of the change; and each stock's `set_aside`, the units
/// of its `reserved` that flash sales set aside and no claim's order holds yet. A file of an
/// earlier version gets opening entries that explain its figures as they are: one `reserve`
/// per reservation row, one `recount` per stock row for its on hand, and one `set_aside` for
/// the units reserved beyond its reservation rows (what sales set aside).
fn step_14_stock_ledger(tx: &Connection) -> anyhow::Result<()> {
    let exists = |sql: &str| -> anyhow::Result<bool> { Ok(tx.query_row(sql, [], |r| r.get::<_, i64>(0))? > 0) };
    // Idempotent: a file that has the ledger already keeps it as it is.
    if exists("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'stock_ledger'")? {
        return Ok(());
    }
    if !exists("SELECT COUNT(*) FROM pragma_table_info('stock') WHERE name = 'set_aside'")? {
        tx.execute_batch("ALTER TABLE stock ADD COLUMN set_aside INTEGER NOT NULL DEFAULT 0 CHECK (set_aside >= 0);")?;
    }
    tx.execute_batch(
        "
        CREATE TABLE IF NOT EXISTS stock_ledger (
            seq           INTEGER PRIMARY KEY AUTOINCREMENT,
            entry_id      TEXT NOT NULL UNIQUE,
            sku           TEXT NOT NULL,
            warehouse     TEXT NOT NULL,
            merchant_id   TEXT NOT NULL,
            kind          TEXT NOT NULL,
            delta_on_hand INTEGER NOT NULL,
            delta_held    INTEGER NOT NULL,
            hold_kind     TEXT,
            hold_id       TEXT,
            reason        TEXT NOT NULL,
            at            TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS stock_ledger_by_sku ON stock_ledger (sku, seq);
        UPDATE stock SET set_aside = reserved - COALESCE((
            SELECT SUM(r.quantity) FROM reservations r
            WHERE r.warehouse = stock.warehouse AND r.merchant_id = stock.merchant_id AND r.sku = stock.sku), 0)
        WHERE reserved > COALESCE((
            SELECT SUM(r.quantity) FROM reservations r
            WHERE r.warehouse = stock.warehouse AND r.merchant_id = stock.merchant_id AND r.sku = stock.sku), 0);
        ",
    )?;
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    // (warehouse, owner, SKU, kind, on hand, held, order, reason) of each opening entry.
    type Opening = (String, String, String, &'static str, i64, i64, Option<String>, String);
    let mut opening: Vec<Opening> = Vec::new();
    {
        let mut stmt =
            tx.prepare("SELECT warehouse, merchant_id, sku, on_hand, set_aside FROM stock ORDER BY sku, warehouse, merchant_id")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?, r.get::<_, i64>(4)?))
        })?;
        for row in rows {
            let (warehouse, owner, sku, on_hand, set_aside) = row?;
            opening.push((warehouse.clone(), owner.clone(), sku.clone(), "recount", on_hand, 0, None, "opening balance".into()));
            if set_aside > 0 {
                opening.push((
                    warehouse,
                    owner,
                    sku,
                    "set_aside",
                    0,
                    set_aside,
                    None,
                    "opening balance: set aside by flash sales".into(),
                ));
            }
        }
        let mut stmt = tx.prepare("SELECT warehouse, merchant_id, sku, quantity, order_id FROM reservations ORDER BY order_id, warehouse, merchant_id, sku")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        for row in rows {
            let (warehouse, owner, sku, quantity, order) = row?;
            opening.push((
                warehouse,
                owner,
                sku,
                "reserve",
                0,
                quantity,
                Some(order),
                "opening balance: held before the ledger".into(),
            ));
        }
    }
    for (warehouse, owner, sku, kind, on_hand, held, order, reason) in opening {
        let hold_kind = order.as_ref().map(|_| "order");
        tx.execute(
            "INSERT INTO stock_ledger (entry_id, sku, warehouse, merchant_id, kind, delta_on_hand, delta_held, hold_kind, hold_id, reason, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            rusqlite::params![oms_domain::ledger::new_entry_id(), sku, warehouse, owner, kind, on_hand, held, hold_kind, order, reason, at],
        )?;
    }
    Ok(())
}

/// Version 2: an order is unique per (channel, merchant, external id), not per (channel,
/// external id): two shops on one channel number their orders independently, and the
/// second shop's order 727 was taken for a redelivery of the first's. SQLite cannot
/// change a table's UNIQUE constraint, so the table is rebuilt with a `merchant_id`
/// column filled from each order's body, and every lookup index starts with the merchant
/// (lookups are per merchant). The `order_number` column (the channel's own number; the
/// external id for orders stored before it was recorded, as the record reads them) serves
/// `?order_number=`.
fn step_2_merchant_in_the_order_key(tx: &Connection) -> anyhow::Result<()> {
    tx.execute_batch(
        "
        CREATE TABLE orders_v2 (
            order_id    TEXT PRIMARY KEY NOT NULL,
            channel     TEXT NOT NULL,
            merchant_id TEXT NOT NULL,
            external_id TEXT NOT NULL,
            order_number TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            phone       TEXT,
            status      TEXT NOT NULL,
            version     INTEGER NOT NULL,
            body        TEXT NOT NULL,
            UNIQUE (channel, merchant_id, external_id)
        );
        INSERT INTO orders_v2
            (order_id, channel, merchant_id, external_id, order_number, customer_id, phone, status, version, body)
            SELECT order_id, channel, json_extract(body, '$.merchant_id'), external_id,
                   COALESCE(json_extract(body, '$.order_number'), external_id), customer_id, phone, status, version, body
            FROM orders;
        DROP TABLE orders;
        ALTER TABLE orders_v2 RENAME TO orders;
        CREATE INDEX orders_by_customer ON orders (merchant_id, customer_id, order_id);
        CREATE INDEX orders_by_phone ON orders (merchant_id, phone, order_id);
        CREATE INDEX orders_by_external_id ON orders (merchant_id, external_id, order_id);
        CREATE INDEX orders_by_channel ON orders (merchant_id, channel, order_id);
        CREATE INDEX orders_by_order_number ON orders (merchant_id, order_number, order_id);
        ",
    )
    .context("Failed to rebuild the orders table with the merchant in its key")
}

/// Version 3: every reservation row names its hold (`hold_id`), so a release gives back only
/// the hold it read. Touches `reservations` only. Rows already stored get one hold per
/// order (`migrated_<order id>`): each order held one reservation.
fn step_3_reservation_holds(tx: &Connection) -> anyhow::Result<()> {
    tx.execute_batch(
        "ALTER TABLE reservations ADD COLUMN hold_id TEXT NOT NULL DEFAULT '';
         UPDATE reservations SET hold_id = 'migrated_' || order_id WHERE hold_id = '';",
    )?;
    Ok(())
}

/// Version 5: the index of backorders by SKU, filled from the orders backordered now.
/// Version 7: the timeline entries an order's body no longer keeps (all but the newest
/// `oms_records::TIMELINE_KEPT`), one row each, numbered from 0 in the order they happened;
/// written in the savepoint of the order's own write. Bodies stored before keep their
/// whole timeline until their next write moves the older entries here.
const TIMELINE: &str = "
    CREATE TABLE timeline (
        order_id TEXT NOT NULL,
        seq      INTEGER NOT NULL,
        body     TEXT NOT NULL,
        PRIMARY KEY (order_id, seq)
    ) WITHOUT ROWID;
";

/// Version 9: the index of orders by status and age, for the sweeper. `status_since` is
/// when the order came to its status (`Order::status_since`), NULL for a final status, so
/// the partial index holds only the orders something still has to move on. Filled from
/// the body of every order that is not final; a body that does not read as an order is
/// left out of the index and logged (every read of that order fails anyway).
fn step_9_orders_by_status(tx: &Connection) -> anyhow::Result<()> {
    tx.execute_batch(
        "ALTER TABLE orders ADD COLUMN status_since TEXT;
         CREATE INDEX orders_by_status ON orders (status, status_since, order_id) WHERE status_since IS NOT NULL;",
    )
    .context("Failed to add the status_since column")?;
    let rows = {
        let mut stmt = tx.prepare("SELECT order_id FROM orders WHERE status NOT IN ('delivered', 'cancelled')")?;
        let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
        rows.collect::<Result<Vec<_>, _>>().context("Failed to read the orders that are not final")?
    };
    for order_id in rows {
        // The whole order, with the timeline entries moved to their own rows.
        match crate::orders::stored_order(tx, &order_id) {
            Ok(order) => crate::orders::index_status(tx, &order)?,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "an order row that does not read is left out of the index by status")
            }
        }
    }
    Ok(())
}

fn step_5_backorders(tx: &Connection) -> anyhow::Result<()> {
    tx.execute_batch(BACKORDERS).context("Failed to create the backorders table")?;
    let rows = {
        let mut stmt = tx.prepare("SELECT version, body FROM orders WHERE status = 'backordered'")?;
        let rows = stmt.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))?;
        rows.collect::<Result<Vec<_>, _>>().context("Failed to read the backordered orders")?
    };
    for (version, body) in rows {
        let order = crate::rows::order_from_body(&body, u64::try_from(version).context("A negative version")?)?;
        crate::orders::index_backorders(tx, &order)?;
    }
    Ok(())
}

/// Version 8: stock is owned per (warehouse, merchant, SKU), so several merchants keep one
/// SKU side by side in a shared warehouse, and each reservation row names the owner whose
/// units it holds. SQLite cannot change a primary key, so both tables are rebuilt with a
/// `merchant_id` column in their keys. Every row stored before belongs to its warehouse's
/// merchant (the only stock there was); a row of a warehouse that was never registered
/// (the API refuses such counts, so only a hand-edited file has one) has no owner to give,
/// and the migration stops naming it rather than guess.
fn step_8_stock_owned_per_merchant(tx: &Connection) -> anyhow::Result<()> {
    let orphan: Option<String> = tx
        .query_row(
            "SELECT warehouse FROM stock WHERE warehouse NOT IN (SELECT warehouse_id FROM warehouses)
             UNION SELECT warehouse FROM reservations WHERE warehouse NOT IN (SELECT warehouse_id FROM warehouses)
             LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()
        .context("Failed to look for stock of unregistered warehouses")?;
    if let Some(warehouse) = orphan {
        bail!(
            "Stock or reservations of warehouse {warehouse}, which is not registered, have no owner: register it and start again"
        );
    }
    tx.execute_batch(
        "
        CREATE TABLE stock_v8 (
            warehouse   TEXT NOT NULL,
            merchant_id TEXT NOT NULL,
            sku         TEXT NOT NULL,
            on_hand     INTEGER NOT NULL CHECK (on_hand >= 0),
            reserved    INTEGER NOT NULL CHECK (reserved >= 0 AND reserved <= on_hand),
            PRIMARY KEY (warehouse, merchant_id, sku)
        );
        INSERT INTO stock_v8 (warehouse, merchant_id, sku, on_hand, reserved)
            SELECT s.warehouse, json_extract(w.body, '$.merchant_id'), s.sku, s.on_hand, s.reserved
            FROM stock s JOIN warehouses w ON w.warehouse_id = s.warehouse;
        DROP TABLE stock;
        ALTER TABLE stock_v8 RENAME TO stock;
        CREATE INDEX stock_by_sku ON stock (sku, warehouse, merchant_id);

        CREATE TABLE reservations_v8 (
            order_id    TEXT NOT NULL,
            hold_id     TEXT NOT NULL,
            warehouse   TEXT NOT NULL,
            merchant_id TEXT NOT NULL,
            sku         TEXT NOT NULL,
            quantity    INTEGER NOT NULL CHECK (quantity >= 0),
            PRIMARY KEY (order_id, warehouse, merchant_id, sku)
        );
        INSERT INTO reservations_v8 (order_id, hold_id, warehouse, merchant_id, sku, quantity)
            SELECT r.order_id, r.hold_id, r.warehouse, json_extract(w.body, '$.merchant_id'), r.sku, r.quantity
            FROM reservations r JOIN warehouses w ON w.warehouse_id = r.warehouse;
        DROP TABLE reservations;
        ALTER TABLE reservations_v8 RENAME TO reservations;
        ",
    )
    .context("Failed to rebuild the stock and reservations tables with the owner in their keys")
}

/// Rows one multi-row statement writes ([`rows_statement`]): rows in bulk are written this
/// many to a statement, which costs one statement's overhead instead of one per row.
pub(crate) const ROWS_PER_STATEMENT: usize = 32;

/// `head` followed by [`ROWS_PER_STATEMENT`] copies of `row`, comma separated, then `tail`:
/// the text of a multi-row statement. The statement's first `shared` parameters (`?1`,
/// ...) are the same for every row; in `row`, `{1}` to `{per_row}` stand for the row's own,
/// numbered after them row by row.
pub(crate) fn rows_statement(head: &str, row: &str, shared: usize, per_row: usize, tail: &str) -> String {
    let rows: Vec<String> = (0..ROWS_PER_STATEMENT)
        .map(|r| {
            (1..=per_row)
                .fold(row.to_owned(), |row, n| row.replace(&format!("{{{n}}}"), &format!("?{}", shared + r * per_row + n)))
        })
        .collect();
    format!("{head} {} {tail}", rows.join(", "))
}

/// `execute` and `query_row` through the connection's prepared-statement cache, so the
/// hot statements are parsed once rather than on every call.
pub(crate) trait CachedStatements {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>;
}

impl CachedStatements for Connection {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// Milliseconds since the Unix epoch, the queue's notion of time.
pub(crate) fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A count or quantity stored as INTEGER, read back as the `u32` the domain uses.
pub(crate) fn to_u32(value: i64, what: &str) -> anyhow::Result<u32> {
    u32::try_from(value).with_context(|| format!("The stored {what} {value} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_is_in_wal_mode_at_the_current_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_file(&dir.path().join("t.db")).unwrap();
        let (mode, version, sync): (String, i64, i64) = db
            .call_now(|c| {
                Ok((
                    c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                    c.query_row("PRAGMA user_version", [], |r| r.get(0))?,
                    c.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
                ))
            })
            .unwrap();
        assert_eq!((mode.as_str(), version, sync), ("wal", SCHEMA_VERSION, 1), "1 is NORMAL");
    }

    #[test]
    fn reopening_a_database_keeps_its_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(Db::open_file(&path).unwrap());
        let db = Db::open_file(&path).unwrap();
        let version: i64 = db.call_now(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn the_checkpointer_copies_a_growing_wal_into_the_database_file_without_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = Db::open_file(&path).unwrap();
        db.call_now(|c| Ok(c.execute_batch("CREATE TABLE t (x BLOB)")?)).unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        // About 6,000 pages (past CHECKPOINT_PAGES), written in commits of 100 pages each.
        for _ in 0..60 {
            db.call_now(|c| {
                for _ in 0..100 {
                    c.execute("INSERT INTO t VALUES (zeroblob(4000))", [])?;
                }
                Ok(())
            })
            .unwrap();
        }
        // The writer never checkpoints (its automatic checkpoint is off): the pages reach the
        // database file through the checkpointer, soon after.
        let mut grown = 0;
        for _ in 0..200 {
            grown = std::fs::metadata(&path).unwrap().len() - before;
            if grown > 4_000_000 {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(grown > 4_000_000, "the database file grew by {grown} bytes only");
        let rows: i64 = db.call_now(|c| Ok(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?)).unwrap();
        assert_eq!(rows, 6_000);
    }

    #[test]
    fn a_panicking_operation_stops_the_database_thread_and_commits_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = Db::open_file(&path).unwrap();
        db.call_now(|c| Ok(c.execute_batch("CREATE TABLE t (x INTEGER)")?)).unwrap();
        let err = db
            .call_now(|c| -> anyhow::Result<()> {
                c.execute_batch("INSERT INTO t VALUES (1)")?;
                panic!("a bug in an operation");
            })
            .unwrap_err();
        assert_eq!(err.to_string(), "the database thread has stopped");
        let later = db.call_now(|c| Ok(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))?)).unwrap_err();
        assert_eq!(later.to_string(), "the database thread has stopped");

        let reopened = Db::open_file(&path).unwrap();
        let rows: i64 = reopened.call_now(|c| Ok(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?)).unwrap();
        assert_eq!(rows, 0, "the open transaction was rolled back");
    }

    #[test]
    fn a_version_1_database_migrates_its_orders_to_the_merchant_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA_V1).unwrap();
            conn.execute(
                "INSERT INTO orders (order_id, channel, external_id, customer_id, phone, status, version, body)
                 VALUES ('ord_1', 'woocommerce', '727', 'c-1', NULL, 'received', 3, '{\"merchant_id\":\"shop-a.example\"}')",
                [],
            )
            .unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
        }
        let db = Db::open_file(&path).unwrap();
        let (version, merchant, number, row_version): (i64, String, String, i64) = db
            .call_now(|c| {
                Ok((
                    c.query_row("PRAGMA user_version", [], |r| r.get(0))?,
                    c.query_row("SELECT merchant_id FROM orders WHERE order_id = 'ord_1'", [], |r| r.get(0))?,
                    c.query_row("SELECT order_number FROM orders WHERE order_id = 'ord_1'", [], |r| r.get(0))?,
                    c.query_row("SELECT version FROM orders WHERE order_id = 'ord_1'", [], |r| r.get(0))?,
                ))
            })
            .unwrap();
        assert_eq!((version, merchant.as_str(), number.as_str(), row_version), (SCHEMA_VERSION, "shop-a.example", "727", 3));
        let other_shop = db.call_now(|c| {
            Ok(c.execute(
                "INSERT INTO orders (order_id, channel, merchant_id, external_id, order_number, customer_id, status, version, body)
                 VALUES ('ord_2', 'woocommerce', 'shop-b.example', '727', '727', 'c-2', 'received', 1, '{}')",
                [],
            )?)
        });
        assert_eq!(other_shop.unwrap(), 1, "another shop's order 727 is another order");
        let same_shop = db.call_now(|c| {
            Ok(c.execute(
                "INSERT INTO orders (order_id, channel, merchant_id, external_id, order_number, customer_id, status, version, body)
                 VALUES ('ord_3', 'woocommerce', 'shop-a.example', '727', '727', 'c-2', 'received', 1, '{}')",
                [],
            )?)
        });
        assert!(same_shop.is_err(), "the same shop's order 727 is still unique");
    }

    #[test]
    fn a_version_1_file_gains_reservation_holds_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA_V1).unwrap();
            conn.execute_batch(
                "INSERT INTO warehouses (warehouse_id, body) VALUES ('wh-1', '{\"merchant_id\":\"m-1\"}');
                 INSERT INTO reservations (order_id, warehouse, sku, quantity) VALUES ('ord_1', 'wh-1', 'SKU-1', 2);
                 INSERT INTO reservations (order_id, warehouse, sku, quantity) VALUES ('ord_1', 'wh-1', 'SKU-2', 1);
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let db = Db::open_file(&path).unwrap();
        let (version, holds): (i64, Vec<String>) = db
            .call_now(|c| {
                let version = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                let mut stmt = c.prepare("SELECT hold_id FROM reservations ORDER BY sku")?;
                let holds = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
                Ok((version, holds))
            })
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(holds, ["migrated_ord_1", "migrated_ord_1"]);
    }

    #[test]
    fn a_version_12_file_gains_the_sales_history_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(Db::open_file(&path).unwrap());
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("DROP TABLE sales").unwrap();
            conn.execute("INSERT INTO warehouses (warehouse_id, body) VALUES ('WH-1', '{}')", []).unwrap();
            conn.pragma_update(None, "user_version", 12).unwrap();
        }
        let db = Db::open_file(&path).unwrap();
        let (version, warehouses, sales): (i64, i64, i64) = db
            .call_now(|c| {
                Ok((
                    c.query_row("PRAGMA user_version", [], |r| r.get(0))?,
                    c.query_row("SELECT COUNT(*) FROM warehouses", [], |r| r.get(0))?,
                    c.query_row("SELECT COUNT(*) FROM sales", [], |r| r.get(0))?,
                ))
            })
            .unwrap();
        assert_eq!((version, warehouses, sales), (SCHEMA_VERSION, 1, 0));
    }

    #[test]
    fn a_version_1_file_gains_the_alerts_table_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA_V1).unwrap();
            conn.execute("INSERT INTO warehouses (warehouse_id, body) VALUES ('WH-1', '{}')", []).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
        }
        let db = Db::open_file(&path).unwrap();
        let (version, warehouses, alerts): (i64, i64, i64) = db
            .call_now(|c| {
                Ok((
                    c.query_row("PRAGMA user_version", [], |r| r.get(0))?,
                    c.query_row("SELECT COUNT(*) FROM warehouses", [], |r| r.get(0))?,
                    c.query_row("SELECT COUNT(*) FROM alerts", [], |r| r.get(0))?,
                ))
            })
            .unwrap();
        assert_eq!((version, warehouses, alerts), (SCHEMA_VERSION, 1, 0));
    }

    #[test]
    fn a_version_7_file_gives_its_stock_and_reservations_to_each_warehouses_merchant() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(Db::open_file(&path).unwrap());
        {
            // The version 7 stock and reservations tables, as a file written before owners had them.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "DROP TABLE stock;
                 DROP TABLE reservations;
                 CREATE TABLE stock (
                     warehouse TEXT NOT NULL, sku TEXT NOT NULL,
                     on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
                     reserved INTEGER NOT NULL CHECK (reserved >= 0 AND reserved <= on_hand),
                     PRIMARY KEY (warehouse, sku));
                 CREATE INDEX stock_by_sku ON stock (sku, warehouse);
                 CREATE TABLE reservations (
                     order_id TEXT NOT NULL, warehouse TEXT NOT NULL, sku TEXT NOT NULL,
                     quantity INTEGER NOT NULL CHECK (quantity >= 0), hold_id TEXT NOT NULL DEFAULT '',
                     PRIMARY KEY (order_id, warehouse, sku));
                 INSERT INTO warehouses (warehouse_id, body) VALUES ('wh-1', '{\"merchant_id\":\"m-1\"}');
                 INSERT INTO warehouses (warehouse_id, body) VALUES ('wh-2', '{\"merchant_id\":\"m-2\"}');
                 INSERT INTO stock (warehouse, sku, on_hand, reserved) VALUES ('wh-1', 'SKU-1', 10, 2);
                 INSERT INTO stock (warehouse, sku, on_hand, reserved) VALUES ('wh-2', 'SKU-1', 4, 0);
                 INSERT INTO reservations (order_id, warehouse, sku, quantity, hold_id) VALUES ('ord_1', 'wh-1', 'SKU-1', 2, 'h-1');
                 DROP INDEX orders_by_status;
                 ALTER TABLE orders DROP COLUMN status_since;
                 PRAGMA user_version = 7;",
            )
            .unwrap();
        }
        let db = Db::open_file(&path).unwrap();
        let rows = |sql: &'static str| -> Vec<String> {
            db.call_now(move |c| {
                let mut stmt = c.prepare(sql)?;
                let rows = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
                Ok(rows)
            })
            .unwrap()
        };
        let version: i64 = db.call_now(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let stock =
            rows("SELECT warehouse || ' ' || merchant_id || ' ' || on_hand || ' ' || reserved FROM stock ORDER BY warehouse");
        assert_eq!(stock, ["wh-1 m-1 10 2", "wh-2 m-2 4 0"]);
        let held = rows("SELECT hold_id || ' ' || warehouse || ' ' || merchant_id || ' ' || quantity FROM reservations");
        assert_eq!(held, ["h-1 wh-1 m-1 2"]);
        // Another merchant's units of the same SKU now sit beside m-1's in wh-1.
        let beside = db.call_now(|c| {
            Ok(c.execute(
                "INSERT INTO stock (warehouse, merchant_id, sku, on_hand, reserved) VALUES ('wh-1', 'm-3', 'SKU-1', 5, 0)",
                [],
            )?)
        });
        assert_eq!(beside.unwrap(), 1);
    }

    #[test]
    fn a_version_7_file_with_stock_of_an_unregistered_warehouse_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA_V1).unwrap();
            conn.execute_batch(
                "INSERT INTO stock (warehouse, sku, on_hand, reserved) VALUES ('wh-gone', 'SKU-1', 1, 0);
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let err = Db::open_file(&path).unwrap_err();
        assert!(format!("{err:#}").contains("warehouse wh-gone, which is not registered"), "{err:#}");
    }

    #[tokio::test]
    async fn a_version_12_file_gains_a_ledger_whose_opening_entries_explain_its_stock() {
        use oms_domain::ports::InventoryStore;
        let dir = tempfile::tempdir().unwrap();
        {
            let store = crate::Embedded::open(dir.path()).unwrap();
            let (wh, owner) = (oms_domain::WarehouseId::parse("wh-1").unwrap(), oms_domain::MerchantId::parse("m-1").unwrap());
            let sku = oms_domain::Sku::parse("SKU-1").unwrap();
            let _ = store.set_on_hand(&wh, &owner, &sku, 10).await.unwrap();
            let line = oms_domain::order::AllocatedLine { warehouse: wh, owner, sku, quantity: 3, transfer_price: None };
            let order = oms_domain::OrderId::parse("ord_1").unwrap();
            let _ = store.reserve(&order, &oms_domain::reservation::Reservation::new([line])).await.unwrap();
        }
        {
            // As a version 12 file held it: no ledger, no set_aside, and 2 units a sale set aside.
            let conn = Connection::open(dir.path().join("oms.db")).unwrap();
            conn.execute_batch(
                "DROP TABLE stock_ledger; ALTER TABLE stock DROP COLUMN set_aside;
                 UPDATE stock SET reserved = reserved + 2; PRAGMA user_version = 12;",
            )
            .unwrap();
        }
        let store = crate::Embedded::open(dir.path()).unwrap();
        let figures = store.stock_figures().await.unwrap();
        assert_eq!((figures[0].on_hand, figures[0].held, figures[0].set_aside), (10, 5, 2));
        let page = store.ledger(&oms_domain::Sku::parse("SKU-1").unwrap(), None, None, 10).await.unwrap();
        let kinds: Vec<(&str, i64, i64)> =
            page.entries.iter().map(|e| (e.kind.as_str(), e.delta_on_hand, e.delta_held)).collect();
        assert_eq!(kinds, [("recount", 10, 0), ("set_aside", 0, 2), ("reserve", 0, 3)]);
    }

    #[tokio::test]
    async fn a_version_17_file_lists_its_sales_by_their_end_and_closes_them() {
        use oms_domain::flash_sale::{FlashSale, SaleId, SaleTerms};
        use oms_domain::ports::{CloseSaleOutcome, FlashSaleStore, InventoryStore};
        let dir = tempfile::tempdir().unwrap();
        let now = chrono::Utc::now();
        let sale = {
            let store = crate::Embedded::open(dir.path()).unwrap();
            let (wh, owner) = (oms_domain::WarehouseId::parse("wh-1").unwrap(), oms_domain::MerchantId::parse("m-1").unwrap());
            let sku = oms_domain::Sku::parse("SKU-1").unwrap();
            let _ = store.set_on_hand(&wh, &owner, &sku, 10).await.unwrap();
            let terms = SaleTerms {
                sku: sku.clone(),
                units: 4,
                per_customer_limit: 1,
                starts_at: now - chrono::Duration::hours(2),
                ends_at: now - chrono::Duration::hours(1),
                shards: 2,
                price: rust_decimal::Decimal::ONE,
                currency: oms_domain::Currency::parse("CNY").unwrap(),
            };
            let stock = store.stock_of(&sku).await.unwrap();
            let sale = FlashSale::plan(SaleId::generate(), owner, terms, &stock, now).unwrap();
            let _ = store.create_sale(&sale).await.unwrap();
            sale
        };
        {
            // As a version 17 file held it: no end, no closing, no index of open sales.
            let conn = Connection::open(dir.path().join("oms.db")).unwrap();
            conn.execute_batch(
                "DROP INDEX flash_sales_open; ALTER TABLE flash_sales DROP COLUMN ends_at;
                 ALTER TABLE flash_sales DROP COLUMN closed_at; ALTER TABLE flash_sales DROP COLUMN units_returned;
                 PRAGMA user_version = 17;",
            )
            .unwrap();
        }
        let store = crate::Embedded::open(dir.path()).unwrap();
        assert_eq!(store.ended_open_sales(now, 10).await.unwrap(), std::slice::from_ref(&sale.sale_id));
        assert!(store.ended_open_sales(now - chrono::Duration::hours(2), 10).await.unwrap().is_empty());
        let closed = store.close_sale(&sale, now).await.unwrap();
        assert!(matches!(closed, CloseSaleOutcome::Closed(c) if c.units_returned == 4), "{closed:?}");
        assert!(store.ended_open_sales(now, 10).await.unwrap().is_empty());
        let stock = store.stock_of(&sale.terms.sku).await.unwrap();
        assert_eq!((stock[0].on_hand, stock[0].reserved, stock[0].available), (10, 0, 10));
    }

    #[test]
    fn a_version_11_file_gains_the_flash_sale_tables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oms.db");
        drop(Db::open_file(&path).unwrap());
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "DROP TABLE flash_sales; DROP TABLE flash_sale_shards; DROP TABLE flash_sale_customers;
                 DROP TABLE flash_sale_claims; DROP TABLE flash_sale_books; PRAGMA user_version = 11;",
            )
            .unwrap();
        }
        let db = Db::open_file(&path).unwrap();
        let tables: i64 = db
            .call_now(|c| {
                Ok(c.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'flash_sale%'", [], |r| {
                    r.get(0)
                })?)
            })
            .unwrap();
        let version: i64 = db.call_now(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?)).unwrap();
        assert_eq!((tables, version), (5, SCHEMA_VERSION), "and how far their journals are written");
    }

    #[test]
    fn the_address_and_card_lookups_use_their_indexes() {
        let db = Db::open_in_memory().unwrap();
        for (column, index) in [("address_key", "orders_by_address"), ("card_key", "orders_by_card")] {
            let plan: String = db
                .call_now(move |c| {
                    let sql = format!(
                        "EXPLAIN QUERY PLAN SELECT order_id FROM orders WHERE merchant_id = ?1 AND {column} = ?2 ORDER BY order_id DESC"
                    );
                    Ok(c.query_row(&sql, ["m-1", "6c1e48ec2e956895f7297ff7411c4d1767895987814acd15fd2fd3acfbfd0cfd"], |r| r.get(3))?)
                })
                .unwrap();
            assert!(plan.contains(index), "{column}: {plan}");
        }
    }

    #[test]
    fn a_version_23_file_gains_the_repairs_table_and_keeps_its_rentals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oms.db");
        drop(Db::open_file(&path).unwrap());
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "DROP TABLE repairs; INSERT INTO rental_units (unit_id, merchant_id, body) VALUES ('u-1', 'm-1', '{}');
                 PRAGMA user_version = 23;",
            )
            .unwrap();
        }
        let db = Db::open_file(&path).unwrap();
        let counted = |sql: &'static str| db.call_now(move |c| Ok(c.query_row(sql, [], |r| r.get::<_, i64>(0))?)).unwrap();
        let repairs = counted("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('repairs', 'repairs_by_key')");
        let units = counted("SELECT COUNT(*) FROM rental_units");
        assert_eq!((repairs, units, counted("PRAGMA user_version")), (2, 1, SCHEMA_VERSION));
    }

    #[test]
    fn the_phone_lookup_uses_the_index_of_orders_with_a_phone() {
        let db = Db::open_in_memory().unwrap();
        let plan: String = db
            .call_now(|c| {
                Ok(c.query_row(
                    "EXPLAIN QUERY PLAN SELECT order_id FROM orders WHERE merchant_id = ?1 AND phone = ?2 ORDER BY order_id DESC",
                    ["m-1", "+8613800000000"],
                    |r| r.get(3),
                )?)
            })
            .unwrap();
        assert!(plan.contains("orders_by_phone"), "{plan}");
        let sql: String = db
            .call_now(|c| Ok(c.query_row("SELECT sql FROM sqlite_master WHERE name = 'orders_by_phone'", [], |r| r.get(0))?))
            .unwrap();
        assert!(sql.contains("WHERE phone IS NOT NULL"), "{sql}");
    }

    #[test]
    fn a_version_28_file_gains_the_product_listings_and_the_review_queue_uses_its_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oms.db");
        drop(Db::open_file(&path).unwrap());
        Connection::open(&path).unwrap().execute_batch("DROP TABLE products; PRAGMA user_version = 28;").unwrap();
        let db = Db::open_file(&path).unwrap();
        let counted = |sql: &'static str| db.call_now(move |c| Ok(c.query_row(sql, [], |r| r.get::<_, i64>(0))?)).unwrap();
        let objects = counted("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'products%'");
        assert_eq!((objects, counted("PRAGMA user_version")), (3, SCHEMA_VERSION));
        let plan: String = db
            .call_now(|c| {
                Ok(c.query_row(
                    "EXPLAIN QUERY PLAN SELECT body FROM products WHERE status = ?1 AND queue_key > ?2 ORDER BY queue_key LIMIT 5",
                    ["in_review", ""],
                    |r| r.get(3),
                )?)
            })
            .unwrap();
        assert!(plan.contains("products_by_status"), "{plan}");
    }

    #[test]
    fn a_database_from_a_newer_build_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        let err = Db::open_file(&path).unwrap_err();
        assert!(err.to_string().contains("newer than this build"), "{err:#}");
    }
}
