//! `MerchantStore`: one row per merchant's onboarding record (table of schema step 26),
//! with its version, its status and its place in the list by status (`queue_key`, indexed
//! with the status). A step is one `UPDATE ... WHERE version = ?`: of two steps taken from
//! one version, the second changes no row and reads the record back as the conflict.

use anyhow::Context;
use async_trait::async_trait;
use oms_domain::onboarding::{MerchantRecord, OnboardingStatus};
use oms_domain::ports::{CreateMerchantOutcome, MerchantStore, MerchantsPage, StoreError, UpdateMerchantOutcome};
use oms_domain::MerchantId;
use rusqlite::{params, OptionalExtension};

use crate::db::CachedStatements;
use crate::Embedded;

/// Version 26: merchants' onboarding records.
pub(crate) const MERCHANTS: &str = "
CREATE TABLE IF NOT EXISTS merchants (
    merchant_id TEXT PRIMARY KEY NOT NULL,
    version     INTEGER NOT NULL,
    status      TEXT NOT NULL,
    queue_key   TEXT NOT NULL,
    body        TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS merchants_by_status ON merchants (status, queue_key);
";

fn decode(body: &str) -> anyhow::Result<MerchantRecord> {
    serde_json::from_str(body).context("A stored merchant record is not its layout")
}

fn version_of(record: &MerchantRecord) -> anyhow::Result<i64> {
    i64::try_from(record.version).context("A merchant record's version is past what SQLite holds")
}

fn read_body(conn: &rusqlite::Connection, merchant: &str) -> anyhow::Result<Option<String>> {
    conn.query_row_cached("SELECT body FROM merchants WHERE merchant_id = ?1", [merchant], |r| r.get(0))
        .optional()
        .context("Failed to query the merchants")
}

enum Written {
    Done,
    Stored(String),
    Missing,
}

#[async_trait]
impl MerchantStore for Embedded {
    /// `INSERT ... ON CONFLICT DO NOTHING`; no row inserted reads the stored one.
    async fn create_merchant(&self, record: &MerchantRecord) -> Result<CreateMerchantOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to register merchant {}", record.merchant_id), e);
        let body = serde_json::to_string(record).context("Failed to encode the merchant record").map_err(failed)?;
        let (id, version) = (record.merchant_id.to_string(), version_of(record).map_err(failed)?);
        let (status, queue_key) = (record.status.as_str(), record.queue_key());
        let written = self
            .db
            .call(move |conn| {
                let inserted = conn
                    .execute_cached(
                        "INSERT INTO merchants (merchant_id, version, status, queue_key, body) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (merchant_id) DO NOTHING",
                        params![id, version, status, queue_key, body],
                    )
                    .context("Failed to write the merchant row")?;
                if inserted == 1 {
                    return Ok(Written::Done);
                }
                Ok(read_body(conn, &id)?.map_or(Written::Missing, Written::Stored))
            })
            .await
            .map_err(failed)?;
        match written {
            Written::Done => Ok(CreateMerchantOutcome::Created),
            Written::Stored(body) => Ok(CreateMerchantOutcome::Exists(Box::new(decode(&body).map_err(failed)?))),
            Written::Missing => Err(StoreError::msg(format!("merchant {} was neither inserted nor found", record.merchant_id))),
        }
    }

    async fn get_merchant(&self, id: &MerchantId) -> Result<Option<MerchantRecord>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read merchant {id}"), e);
        let key = id.to_string();
        let body = self.db.read(move |conn| read_body(conn, &key)).await.map_err(failed)?;
        body.map(|b| decode(&b)).transpose().map_err(failed)
    }

    /// One `UPDATE` where the stored version is `previous.version`; no row changed reads
    /// the record back (`Conflict`) or finds none (`NotFound`).
    async fn update_merchant(
        &self,
        previous: &MerchantRecord,
        next: &MerchantRecord,
    ) -> Result<UpdateMerchantOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to write merchant {}", next.merchant_id), e);
        let body = serde_json::to_string(next).context("Failed to encode the merchant record").map_err(failed)?;
        let id = next.merchant_id.to_string();
        let (from, to) = (version_of(previous).map_err(failed)?, version_of(next).map_err(failed)?);
        let (status, queue_key) = (next.status.as_str(), next.queue_key());
        let written = self
            .db
            .call(move |conn| {
                let changed = conn
                    .execute_cached(
                        "UPDATE merchants SET version = ?2, status = ?3, queue_key = ?4, body = ?5
                         WHERE merchant_id = ?1 AND version = ?6",
                        params![id, to, status, queue_key, body, from],
                    )
                    .context("Failed to write the merchant row")?;
                if changed == 1 {
                    return Ok(Written::Done);
                }
                Ok(read_body(conn, &id)?.map_or(Written::Missing, Written::Stored))
            })
            .await
            .map_err(failed)?;
        match written {
            Written::Done => Ok(UpdateMerchantOutcome::Updated),
            Written::Stored(body) => Ok(UpdateMerchantOutcome::Conflict(Box::new(decode(&body).map_err(failed)?))),
            Written::Missing => Ok(UpdateMerchantOutcome::NotFound),
        }
    }

    /// The index `merchants_by_status`, from after `after`, one more row than `limit` to
    /// tell whether a next page exists.
    async fn merchants_in_status(
        &self,
        status: OnboardingStatus,
        after: Option<&str>,
        limit: usize,
    ) -> Result<MerchantsPage, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to list the {status} merchants"), e);
        let after = after.unwrap_or_default().to_owned();
        let wanted = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
        let rows: Vec<String> = self
            .db
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT body FROM merchants WHERE status = ?1 AND queue_key > ?2 ORDER BY queue_key LIMIT ?3")
                    .context("Failed to prepare the merchants query")?;
                let rows = stmt
                    .query_map(params![status.as_str(), after, wanted], |r| r.get(0))
                    .context("Failed to query the merchants by status")?
                    .collect::<Result<Vec<String>, _>>()
                    .context("Failed to read the merchants by status")?;
                Ok(rows)
            })
            .await
            .map_err(failed)?;
        let mut merchants = rows.iter().map(|b| decode(b)).collect::<anyhow::Result<Vec<_>>>().map_err(failed)?;
        let next = if merchants.len() > limit {
            merchants.truncate(limit);
            merchants.last().map(MerchantRecord::queue_key)
        } else {
            None
        };
        Ok(MerchantsPage { merchants, next })
    }
}
