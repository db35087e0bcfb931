//! The one SQLite connection, its settings and its schema, and the bridge that runs
//! blocking SQLite work off the async runtime.

use anyhow::{bail, Context};
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The schema version this build writes and understands (`PRAGMA user_version`).
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// How long a write waits for another process holding the database lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Every table and index, idempotent.
const SCHEMA: &str = "
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

/// The shared connection. SQLite allows one writer at a time anyway, so one connection
/// behind a mutex is both the simplest and a correct choice: every operation runs alone,
/// and the multi-statement ones also run in a `BEGIN IMMEDIATE` transaction so that a
/// second process on the same file cannot interleave with them either.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    conn: Arc<Mutex<Connection>>,
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
        Self::prepared(conn)
    }

    /// A private in-memory database, gone when the last clone is dropped.
    pub(crate) fn open_in_memory() -> anyhow::Result<Self> {
        let conn = Connection::open_in_memory().context("Failed to open an in-memory database")?;
        Self::prepared(conn)
    }

    fn prepared(mut conn: Connection) -> anyhow::Result<Self> {
        migrate(&mut conn)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Runs blocking SQLite work on the blocking thread pool, alone on the connection.
    pub(crate) async fn call<T, F>(&self, work: F) -> anyhow::Result<T>
    where
        F: FnOnce(&mut Connection) -> anyhow::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while the lock was held left no transaction open (rusqlite rolls
            // back on drop while unwinding), so the connection is still sound.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut conn)
        })
        .await
        .context("Failed to run a database task to completion")?
    }

    /// Runs blocking SQLite work right here, for start-up steps outside the runtime.
    pub(crate) fn call_now<T>(&self, work: impl FnOnce(&mut Connection) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        work(&mut conn)
    }
}

/// Brings the schema to `SCHEMA_VERSION`, refusing a database written by a newer build.
fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .context("Failed to start the schema migration")?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0)).context("Failed to read the schema version")?;
    if found > SCHEMA_VERSION {
        bail!("The database has schema version {found}, newer than this build understands ({SCHEMA_VERSION}); upgrade oms");
    }
    tx.execute_batch(SCHEMA).context("Failed to create the tables")?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION).context("Failed to record the schema version")?;
    tx.commit().context("Failed to commit the schema migration")
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
    fn a_database_from_a_newer_build_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        let err = Db::open_file(&path).unwrap_err();
        assert!(err.to_string().contains("newer than this build"), "{err:#}");
    }
}
