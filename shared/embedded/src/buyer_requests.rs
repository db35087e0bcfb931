//! `BuyerRequestStore`: one row per buyer request, its version beside the body (the table
//! of schema step 33). Each conditional write is one statement, so its check and its write
//! are never apart.

use anyhow::Context;
use async_trait::async_trait;
use oms_domain::matchmaking::BuyerRequest;
use oms_domain::ports::{BuyerRequestStore, CreateBuyerRequestOutcome, StoreError, UpdateBuyerRequestOutcome};
use oms_domain::BuyerRequestId;
use rusqlite::{params, OptionalExtension};

use crate::db::CachedStatements;
use crate::Embedded;

/// Version 33: buyer requests and their proposals.
pub(crate) const BUYER_REQUESTS: &str = "
CREATE TABLE IF NOT EXISTS buyer_requests (
    request_id TEXT PRIMARY KEY NOT NULL,
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL
) WITHOUT ROWID;
";

fn decode(body: &str) -> anyhow::Result<BuyerRequest> {
    serde_json::from_str(body).context("A stored buyer request is not its layout")
}

fn encode(request: &BuyerRequest) -> anyhow::Result<String> {
    serde_json::to_string(request).context("Failed to encode the buyer request")
}

fn sql_version(version: u64) -> anyhow::Result<i64> {
    i64::try_from(version).context("A buyer request's version is past what SQLite holds")
}

fn stored_body(conn: &rusqlite::Connection, id: &str) -> anyhow::Result<Option<String>> {
    conn.query_row_cached("SELECT body FROM buyer_requests WHERE request_id = ?1", [id], |r| r.get(0))
        .optional()
        .context("Failed to query the buyer requests")
}

#[async_trait]
impl BuyerRequestStore for Embedded {
    /// `INSERT ... ON CONFLICT DO NOTHING`; no row written reads the stored one.
    async fn create_buyer_request(&self, request: &BuyerRequest) -> Result<CreateBuyerRequestOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to create buyer request {}", request.request_id), e);
        let body = encode(request).map_err(failed)?;
        let (id, version) = (request.request_id.to_string(), sql_version(request.version).map_err(failed)?);
        let stored = self
            .db
            .call(move |conn| {
                let written = conn
                    .execute_cached(
                        "INSERT INTO buyer_requests (request_id, version, body) VALUES (?1, ?2, ?3)
                         ON CONFLICT (request_id) DO NOTHING",
                        params![id, version, body],
                    )
                    .context("Failed to write the buyer request row")?;
                if written == 1 {
                    return Ok(None);
                }
                stored_body(conn, &id)?.context("a buyer request neither written nor found").map(Some)
            })
            .await
            .map_err(failed)?;
        match stored {
            None => Ok(CreateBuyerRequestOutcome::Created),
            Some(body) => Ok(CreateBuyerRequestOutcome::Existing(Box::new(decode(&body).map_err(failed)?))),
        }
    }

    async fn get_buyer_request(&self, id: &BuyerRequestId) -> Result<Option<BuyerRequest>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read buyer request {id}"), e);
        let key = id.to_string();
        let body = self.db.read(move |conn| stored_body(conn, &key)).await.map_err(failed)?;
        body.map(|b| decode(&b)).transpose().map_err(failed)
    }

    /// `UPDATE ... WHERE version = ?`; no row written reads the stored one (if any).
    async fn update_buyer_request(&self, next: &BuyerRequest) -> Result<UpdateBuyerRequestOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to update buyer request {}", next.request_id), e);
        let mut written = next.clone();
        written.version += 1;
        let body = encode(&written).map_err(failed)?;
        let id = next.request_id.to_string();
        let (read, version) = (sql_version(next.version).map_err(failed)?, sql_version(written.version).map_err(failed)?);
        let stored = self
            .db
            .call(move |conn| {
                let updated = conn
                    .execute_cached(
                        "UPDATE buyer_requests SET version = ?3, body = ?4 WHERE request_id = ?1 AND version = ?2",
                        params![id, read, version, body],
                    )
                    .context("Failed to update the buyer request row")?;
                if updated == 1 {
                    return Ok(None);
                }
                Ok(Some(stored_body(conn, &id)?))
            })
            .await
            .map_err(failed)?;
        match stored {
            None => Ok(UpdateBuyerRequestOutcome::Updated),
            Some(None) => Ok(UpdateBuyerRequestOutcome::Conflict(None)),
            Some(Some(body)) => Ok(UpdateBuyerRequestOutcome::Conflict(Some(Box::new(decode(&body).map_err(failed)?)))),
        }
    }
}
