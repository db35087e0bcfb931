//! `BrowsingStore`: one row per batch under its (merchant, customer, idempotency key), and
//! one row per event keyed by (merchant, time, customer, key, position) (the tables of
//! schema step 30), so a merchant's events since a time are a range of the primary key.
//! The batch row's primary key is the condition: a batch sent again inserts nothing.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use oms_domain::browsing::{BrowsingBatch, BrowsingEvent, BrowsingKind};
use oms_domain::ports::{BrowsingStore, RecordBrowsingOutcome, StoreError};
use oms_domain::{CustomerId, MerchantId, Sku};
use rusqlite::params;

use crate::db::{index_time, CachedStatements};
use crate::Embedded;

/// Version 29: browsing batches (one per merchant, customer and key) and their events,
/// read per merchant by time.
pub(crate) const BROWSING: &str = "
CREATE TABLE IF NOT EXISTS browsing_batches (
    merchant_id     TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    events          INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, customer_id, idempotency_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS browsing_events (
    merchant_id     TEXT NOT NULL,
    at              TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    position        INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    sku             TEXT NOT NULL,
    PRIMARY KEY (merchant_id, at, customer_id, idempotency_key, position)
) WITHOUT ROWID;
";

#[async_trait]
impl BrowsingStore for Embedded {
    /// The batch row inserted if its key is free, then its events, in one savepoint.
    async fn record_browsing(&self, batch: &BrowsingBatch) -> Result<RecordBrowsingOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to store the browsing of customer {}", batch.customer_id), e);
        let (merchant, customer, key) =
            (batch.merchant_id.to_string(), batch.customer_id.to_string(), batch.idempotency_key.as_str().to_owned());
        let received = index_time(batch.received_at);
        let events: Vec<(String, &'static str, String)> =
            batch.events.iter().map(|e| (index_time(e.at), e.kind.as_str(), e.sku.to_string())).collect();
        let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
        self.db
            .call(move |conn| {
                let written = conn
                    .execute_cached(
                        "INSERT INTO browsing_batches (merchant_id, customer_id, idempotency_key, received_at, events)
                         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                        params![merchant, customer, key, received, count],
                    )
                    .context("Failed to write the browsing batch row")?;
                if written == 0 {
                    return Ok(RecordBrowsingOutcome::Duplicate);
                }
                for (position, (at, kind, sku)) in events.iter().enumerate() {
                    conn.execute_cached(
                        "INSERT INTO browsing_events (merchant_id, at, customer_id, idempotency_key, position, kind, sku)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![merchant, at, customer, key, i64::try_from(position)?, kind, sku],
                    )
                    .context("Failed to write a browsing event")?;
                }
                Ok(RecordBrowsingOutcome::Recorded)
            })
            .await
            .map_err(failed)
    }

    /// A range of `browsing_events`' primary key: the merchant's, from `from` to `to`.
    async fn browsing_between(
        &self,
        merchant: &MerchantId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<BrowsingEvent>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the browsing of merchant {merchant}"), e);
        let (key, from, to) = (merchant.to_string(), index_time(from), index_time(to));
        let rows: Vec<(String, String, String, String)> = self
            .db
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT at, customer_id, kind, sku FROM browsing_events WHERE merchant_id = ?1 AND at >= ?2 AND at < ?3
                         ORDER BY at, customer_id, idempotency_key, position",
                    )
                    .context("Failed to prepare the browsing query")?;
                let rows = stmt
                    .query_map(params![key, from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .context("Failed to query the browsing")?;
                rows.collect::<Result<_, _>>().context("Failed to read the browsing")
            })
            .await
            .map_err(failed)?;
        rows.into_iter().map(|row| decode(row).map_err(failed)).collect()
    }
}

fn decode((at, customer, kind, sku): (String, String, String, String)) -> anyhow::Result<BrowsingEvent> {
    Ok(BrowsingEvent {
        at: DateTime::parse_from_rfc3339(&at).context("A stored event time is invalid")?.with_timezone(&Utc),
        customer_id: CustomerId::parse(customer).context("A stored customer is invalid")?,
        kind: BrowsingKind::parse(&kind).context("A stored event kind is invalid")?,
        sku: Sku::parse(sku).context("A stored SKU is invalid")?,
    })
}

#[cfg(test)]
mod tests {
    use crate::db::Db;

    #[test]
    fn a_merchants_events_since_a_time_and_its_returns_since_a_time_are_index_ranges() {
        let db = Db::open_in_memory().unwrap();
        let plan = |sql: &'static str| -> String {
            db.call_now(move |c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let rows = stmt.query_map(["m-1", "2026-01-01"], |r| r.get::<_, String>(3))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?.join("; "))
            })
            .unwrap()
        };
        let events = plan("SELECT sku FROM browsing_events WHERE merchant_id = ?1 AND at >= ?2 AND at < ?2 ORDER BY at, customer_id, idempotency_key, position");
        assert!(events.contains("SEARCH browsing_events USING PRIMARY KEY (merchant_id=? AND at>? AND at<?)"), "{events}");
        assert!(!events.contains("TEMP B-TREE"), "read in key order: {events}");
        let returns = plan(crate::returns::RETURNS_SINCE);
        assert!(returns.contains("USING INDEX returns_by_merchant"), "{returns}");
    }
}
