//! `ConsignmentStore`: one row per grant (`consignments`, schema version 16), the grant as
//! JSON (`oms_records::ConsignmentRecord`) beside its owner, seller and version.

use anyhow::Context;
use async_trait::async_trait;
use oms_domain::consignment::Consignment;
use oms_domain::ports::{ConsignmentStore, PutConsignment, StoreError};
use oms_domain::{ConsignmentId, MerchantId};
use oms_records::ConsignmentRecord;
use rusqlite::{params, OptionalExtension};

use crate::db::CachedStatements;
use crate::Embedded;

fn read(body: &str) -> anyhow::Result<Consignment> {
    let record: ConsignmentRecord = serde_json::from_str(body).context("The stored consignment is not valid JSON of one")?;
    Consignment::try_from(record).map_err(|e| anyhow::anyhow!("The stored consignment is corrupt: {} {}", e.field, e.reason))
}

#[async_trait]
impl ConsignmentStore for Embedded {
    async fn put_consignment(&self, consignment: &Consignment) -> Result<PutConsignment, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to write consignment {}", consignment.consignment_id), e);
        let body = serde_json::to_string(&ConsignmentRecord::from(consignment))
            .context("Failed to encode the consignment")
            .map_err(failed)?;
        let row = (
            consignment.consignment_id.to_string(),
            consignment.terms.owner.to_string(),
            consignment.terms.seller.to_string(),
            i64::try_from(consignment.version).unwrap_or(i64::MAX),
        );
        self.db
            .call(move |conn| {
                let (id, owner, seller, version) = row;
                // Inserted at version 1 when no row has the id; otherwise updated only from the
                // version before, with the same owner and seller.
                let written = if version == 1 {
                    conn.execute_cached(
                        "INSERT INTO consignments (consignment_id, owner, seller, version, body) VALUES (?1, ?2, ?3, 1, ?4)
                         ON CONFLICT (consignment_id) DO NOTHING",
                        params![id, owner, seller, body],
                    )
                } else {
                    conn.execute_cached(
                        "UPDATE consignments SET version = ?4, body = ?5
                         WHERE consignment_id = ?1 AND owner = ?2 AND seller = ?3 AND version = ?4 - 1",
                        params![id, owner, seller, version, body],
                    )
                }
                .context("Failed to write the consignment row")?;
                Ok(if written == 1 { PutConsignment::Stored } else { PutConsignment::VersionConflict })
            })
            .await
            .map_err(failed)
    }

    async fn get_consignment(&self, id: &ConsignmentId) -> Result<Option<Consignment>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read consignment {id}"), e);
        let key = id.to_string();
        self.db
            .call(move |conn| {
                let body: Option<String> = conn
                    .prepare_cached("SELECT body FROM consignments WHERE consignment_id = ?1")
                    .context("Failed to prepare the consignment read")?
                    .query_row(params![key], |row| row.get(0))
                    .optional()
                    .context("Failed to read the consignment row")?;
                body.as_deref().map(read).transpose()
            })
            .await
            .map_err(failed)
    }

    async fn consignments_received(&self, seller: &MerchantId) -> Result<Vec<Consignment>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to list the consignments {seller} received"), e);
        list(self, "SELECT body FROM consignments WHERE seller = ?1 ORDER BY consignment_id", seller).await.map_err(failed)
    }

    async fn consignments_granted(&self, owner: &MerchantId) -> Result<Vec<Consignment>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to list the consignments {owner} gave"), e);
        list(self, "SELECT body FROM consignments WHERE owner = ?1 ORDER BY consignment_id", owner).await.map_err(failed)
    }
}

async fn list(store: &Embedded, sql: &'static str, merchant: &MerchantId) -> anyhow::Result<Vec<Consignment>> {
    let merchant = merchant.to_string();
    store
        .db
        .call(move |conn| {
            let mut statement = conn.prepare_cached(sql).context("Failed to prepare the consignment list")?;
            let bodies = statement
                .query_map(params![merchant], |row| row.get::<_, String>(0))
                .context("Failed to list the consignment rows")?
                .collect::<Result<Vec<_>, _>>()
                .context("Failed to read a consignment row")?;
            bodies.iter().map(|b| read(b)).collect()
        })
        .await
}
