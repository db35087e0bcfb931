//! `RfqStore`: one row per request for quotes (table of schema step 34), with its version
//! and the record as JSON. A change is one `UPDATE ... WHERE version = ?`: of two changes
//! taken from one version, the second changes no row and reads the record back as the
//! conflict.

use anyhow::Context;
use async_trait::async_trait;
use oms_domain::ports::{CreateRfqOutcome, RfqStore, StoreError, UpdateRfqOutcome};
use oms_domain::rfq::request::Rfq;
use oms_domain::RfqId;
use rusqlite::{params, OptionalExtension};

use crate::db::CachedStatements;
use crate::Embedded;

/// Version 34: requests for quotes.
pub(crate) const RFQS: &str = "
CREATE TABLE IF NOT EXISTS rfqs (
    rfq_id  TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL,
    body    TEXT NOT NULL
) WITHOUT ROWID;
";

fn decode(body: &str) -> anyhow::Result<Rfq> {
    serde_json::from_str(body).context("A stored request for quotes is not its layout")
}

fn encode(rfq: &Rfq) -> anyhow::Result<(String, i64, String)> {
    let version = i64::try_from(rfq.version).context("A request's version is past what SQLite holds")?;
    let body = serde_json::to_string(rfq).context("Failed to encode the request for quotes")?;
    Ok((rfq.rfq_id.to_string(), version, body))
}

fn read_body(conn: &rusqlite::Connection, id: &str) -> anyhow::Result<Option<String>> {
    conn.query_row_cached("SELECT body FROM rfqs WHERE rfq_id = ?1", [id], |r| r.get(0))
        .optional()
        .context("Failed to query the requests for quotes")
}

/// What a conditional write found: done, or the row as stored (none: no row).
enum Written {
    Done,
    Stored(Option<String>),
}

#[async_trait]
impl RfqStore for Embedded {
    /// `INSERT ... ON CONFLICT DO NOTHING`; no row inserted reads the stored one.
    async fn create_rfq(&self, rfq: &Rfq) -> Result<CreateRfqOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to store request for quotes {}", rfq.rfq_id), e);
        let (id, version, body) = encode(rfq).map_err(failed)?;
        let written = self
            .db
            .call(move |conn| {
                let inserted = conn
                    .execute_cached(
                        "INSERT INTO rfqs (rfq_id, version, body) VALUES (?1, ?2, ?3) ON CONFLICT (rfq_id) DO NOTHING",
                        params![id, version, body],
                    )
                    .context("Failed to write the request row")?;
                if inserted == 1 {
                    return Ok(Written::Done);
                }
                Ok(Written::Stored(read_body(conn, &id)?))
            })
            .await
            .map_err(failed)?;
        match written {
            Written::Done => Ok(CreateRfqOutcome::Created),
            Written::Stored(Some(body)) => Ok(CreateRfqOutcome::Exists(Box::new(decode(&body).map_err(failed)?))),
            Written::Stored(None) => Err(StoreError::msg(format!("request {} was neither inserted nor found", rfq.rfq_id))),
        }
    }

    async fn get_rfq(&self, id: &RfqId) -> Result<Option<Rfq>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read request for quotes {id}"), e);
        let key = id.to_string();
        let body = self.db.read(move |conn| read_body(conn, &key)).await.map_err(failed)?;
        body.map(|b| decode(&b)).transpose().map_err(failed)
    }

    /// One `UPDATE` where the stored version is the one before `next`'s; no row changed
    /// reads the record back (`Conflict`) or finds none (`NotFound`).
    async fn update_rfq(&self, next: &Rfq) -> Result<UpdateRfqOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to write request for quotes {}", next.rfq_id), e);
        let (id, to, body) = encode(next).map_err(failed)?;
        let written = self
            .db
            .call(move |conn| {
                let changed = conn
                    .execute_cached(
                        "UPDATE rfqs SET version = ?2, body = ?3 WHERE rfq_id = ?1 AND version = ?2 - 1",
                        params![id, to, body],
                    )
                    .context("Failed to write the request row")?;
                if changed == 1 {
                    return Ok(Written::Done);
                }
                Ok(Written::Stored(read_body(conn, &id)?))
            })
            .await
            .map_err(failed)?;
        match written {
            Written::Done => Ok(UpdateRfqOutcome::Updated),
            Written::Stored(Some(body)) => Ok(UpdateRfqOutcome::Conflict(Box::new(decode(&body).map_err(failed)?))),
            Written::Stored(None) => Ok(UpdateRfqOutcome::NotFound),
        }
    }
}
