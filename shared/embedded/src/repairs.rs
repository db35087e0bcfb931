//! `RepairStore`: one row per repair, unique per (merchant, customer, idempotency key)
//! (the table of schema step 25). A move is one operation on the database thread, in its
//! own savepoint: every condition is checked first (the repair's state, each part's
//! available units, the order's key or version), then the order, the repair row and the
//! parts' stock rows and `consume` ledger entries are written. The database thread is the
//! one writer, so nothing changes between the checks and the writes; two repairs racing
//! for the last units of a part run one after the other, and the second finds them gone.

use anyhow::{bail, Context};
use async_trait::async_trait;
use oms_domain::order::AllocatedLine;
use oms_domain::ports::{CreateRepairOutcome, MoveRepairOutcome, RepairStore, ServiceOrderWrite, StoreError};
use oms_domain::repair::{Repair, RepairId, RepairState};
use rusqlite::{params, Connection, OptionalExtension};

use crate::db::CachedStatements;
use crate::orders::{write_service_orders, ServiceRow};
use crate::Embedded;

/// Version 25: repairs.
pub(crate) const REPAIRS: &str = "
CREATE TABLE IF NOT EXISTS repairs (
    repair_id       TEXT PRIMARY KEY NOT NULL,
    merchant_id     TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    state           TEXT NOT NULL,
    body            TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS repairs_by_key ON repairs (merchant_id, customer_id, idempotency_key);
";

fn decode(body: &str) -> anyhow::Result<Repair> {
    serde_json::from_str(body).context("A stored repair is not its layout")
}

fn state_of(conn: &Connection, id: &str) -> anyhow::Result<Option<RepairState>> {
    let state: Option<String> = conn
        .query_row_cached("SELECT state FROM repairs WHERE repair_id = ?1", [id], |r| r.get(0))
        .optional()
        .context("Failed to read the repair's state")?;
    state.map(|s| RepairState::parse(&s).context("A stored repair state is corrupt")).transpose()
}

/// Checks then writes one move (see the module's doc).
fn move_in(
    conn: &mut Connection,
    id: &str,
    from: RepairState,
    to: RepairState,
    body: &str,
    orders: &[ServiceRow],
    parts: &[AllocatedLine],
) -> anyhow::Result<MoveRepairOutcome> {
    match state_of(conn, id)? {
        None => return Ok(MoveRepairOutcome::NotFound),
        Some(state) if state != from => return Ok(MoveRepairOutcome::Conflict(state)),
        Some(_) => {}
    }
    for part in parts {
        let available = crate::inventory::available(conn, part)?;
        if available < part.quantity {
            return Ok(MoveRepairOutcome::PartsShort { sku: part.sku.clone(), available });
        }
    }
    // The order's write is the last condition, and the first write: nothing is written
    // before it, so its failure leaves everything as it was.
    if !write_service_orders(conn, orders)? {
        return Ok(MoveRepairOutcome::OrderChanged);
    }
    conn.execute_cached(
        "UPDATE repairs SET state = ?2, body = ?3 WHERE repair_id = ?1 AND state = ?4",
        params![id, to.as_str(), body, from.as_str()],
    )
    .context("Failed to write the repair row")?;
    let source = format!("repair {id}");
    for part in parts {
        if let Some(available) = crate::inventory::consume(conn, part, &source)? {
            // Checked above in this savepoint: another answer means a corrupt store.
            bail!("Part {} of repair {id} was checked available but has {available}", part.sku);
        }
    }
    Ok(MoveRepairOutcome::Moved)
}

#[async_trait]
impl RepairStore for Embedded {
    /// An insert unless the key's row exists; then that row is answered.
    async fn create_repair(&self, repair: &Repair) -> Result<CreateRepairOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to store repair {}", repair.repair_id), e);
        let body = serde_json::to_string(repair).context("Failed to encode the repair").map_err(failed)?;
        let (id, merchant, customer, key, state) = (
            repair.repair_id.to_string(),
            repair.merchant_id.to_string(),
            repair.customer_id.to_string(),
            repair.idempotency_key.to_string(),
            repair.state.as_str(),
        );
        let first: Option<String> = self
            .db
            .call(move |conn| {
                let first: Option<String> = conn
                    .query_row_cached(
                        "SELECT body FROM repairs WHERE merchant_id = ?1 AND customer_id = ?2 AND idempotency_key = ?3",
                        params![merchant, customer, key],
                        |r| r.get(0),
                    )
                    .optional()
                    .context("Failed to query the repairs by key")?;
                if first.is_none() {
                    conn.execute_cached(
                        "INSERT INTO repairs (repair_id, merchant_id, customer_id, idempotency_key, state, body)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![id, merchant, customer, key, state, body],
                    )
                    .context("Failed to write the repair row")?;
                }
                Ok(first)
            })
            .await
            .map_err(failed)?;
        match first {
            None => Ok(CreateRepairOutcome::Created),
            Some(body) => Ok(CreateRepairOutcome::Duplicate(Box::new(decode(&body).map_err(failed)?))),
        }
    }

    async fn get_repair(&self, id: &RepairId) -> Result<Option<Repair>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read repair {id}"), e);
        let key = id.to_string();
        let body: Option<String> = self
            .db
            .read(move |conn| {
                conn.query_row_cached("SELECT body FROM repairs WHERE repair_id = ?1", [key.as_str()], |r| r.get(0))
                    .optional()
                    .context("Failed to query the repairs")
            })
            .await
            .map_err(failed)?;
        body.map(|b| decode(&b)).transpose().map_err(failed)
    }

    async fn move_repair(
        &self,
        repair: &Repair,
        from: RepairState,
        order: &ServiceOrderWrite,
        parts: &[AllocatedLine],
    ) -> Result<MoveRepairOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to move repair {}", repair.repair_id), e);
        let body = serde_json::to_string(repair).context("Failed to encode the repair").map_err(failed)?;
        let orders = ServiceRow::encode(std::slice::from_ref(order)).map_err(failed)?;
        let (id, to, parts) = (repair.repair_id.to_string(), repair.state, parts.to_vec());
        self.db.call(move |conn| move_in(conn, &id, from, to, &body, &orders, &parts)).await.map_err(failed)
    }
}
