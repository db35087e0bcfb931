//! `BrowsingStore` on DynamoDB. Items (`docs/dynamodb.md`, "Browsing"):
//! - per batch, its key, `BROWSING_KEY#<merchant>#<customer>#<key>` / `BATCH`;
//! - per batch and UTC day of its events, the events of that day,
//!   `BROWSING#<merchant>#<yyyy-mm-dd>` / `<customer>#<key>`: a merchant's day is one
//!   partition, so its events since a time are one `Query` per day, never a scan.
//!
//! A batch is ONE `TransactWriteItems` of its key item and its day items, each `put_new`:
//! a batch sent again fails the key's condition and writes nothing. A batch's events fall
//! on at most 92 days (90 days back to a few minutes ahead), so it fits one transaction
//! (100 items); a day item holds at most 100 small events (a few kB). Every item carries
//! `expires_at`, the end of its day plus the retention (90 days), for the table's TTL.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use oms_domain::browsing::{BrowsingBatch, BrowsingEvent, BrowsingKind, RETENTION_DAYS};
use oms_domain::ports::{BrowsingStore, RecordBrowsingOutcome, StoreError};
use oms_domain::{CustomerId, MerchantId, Sku};
use serde::{Deserialize, Serialize};

use super::{from_item, merchant_segment, to_item, unexplained, CancelReason, DynamoStore, Key, Transact};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BatchKeyItem {
    pk: String,
    sk: String,
    received_at: DateTime<Utc>,
    expires_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DayItem {
    pk: String,
    sk: String,
    customer_id: CustomerId,
    events: Vec<DayEvent>,
    expires_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DayEvent {
    kind: BrowsingKind,
    sku: Sku,
    at: DateTime<Utc>,
}

impl Key {
    /// A browsing batch's key: `BROWSING_KEY#<merchant>#<customer>#<key>` / `BATCH`.
    pub fn browsing_batch(batch: &BrowsingBatch) -> Self {
        let merchant = merchant_segment(&batch.merchant_id);
        Self { pk: format!("BROWSING_KEY#{merchant}#{}", batch_segment(batch)), sk: "BATCH".to_owned() }
    }

    /// The partition of a merchant's browsing on one UTC day: `BROWSING#<merchant>#<yyyy-mm-dd>`.
    pub fn browsing_day(merchant: &MerchantId, day: NaiveDate) -> String {
        format!("BROWSING#{}#{}", merchant_segment(merchant), day.format("%Y-%m-%d"))
    }
}

/// A batch's customer and key as key text, `<customer>#<key>`, the customer escaped as a
/// merchant is (`merchant_segment`), so no two batches share it.
fn batch_segment(batch: &BrowsingBatch) -> String {
    let customer = batch.customer_id.as_str().replace('%', "%25").replace('#', "%23");
    format!("{customer}#{}", batch.idempotency_key.as_str())
}

/// When an item of `day` expires: the end of the day plus the retention, in epoch seconds.
fn expires_at(day: NaiveDate) -> i64 {
    let end = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() + Duration::days(1 + RETENTION_DAYS);
    end.timestamp()
}

#[async_trait]
impl BrowsingStore for DynamoStore {
    async fn record_browsing(&self, batch: &BrowsingBatch) -> Result<RecordBrowsingOutcome, StoreError> {
        let what = format!("the browsing of customer {}", batch.customer_id);
        let mut days: BTreeMap<NaiveDate, Vec<DayEvent>> = BTreeMap::new();
        for event in &batch.events {
            days.entry(event.at.date_naive()).or_default().push(DayEvent {
                kind: event.kind,
                sku: event.sku.clone(),
                at: event.at,
            });
        }
        let last_day = days.keys().next_back().copied().unwrap_or_else(|| batch.received_at.date_naive());
        let key = Key::browsing_batch(batch);
        let key_item = BatchKeyItem {
            pk: key.pk.clone(),
            sk: key.sk,
            received_at: batch.received_at,
            expires_at: expires_at(last_day.max(batch.received_at.date_naive())),
        };
        let mut items = vec![self.put_new(to_item(&key_item, &what)?, &what)?];
        let sk = batch_segment(batch);
        for (day, events) in days {
            let item = DayItem {
                pk: Key::browsing_day(&batch.merchant_id, day),
                sk: sk.clone(),
                customer_id: batch.customer_id.clone(),
                events,
                expires_at: expires_at(day),
            };
            items.push(self.put_new(to_item(&item, &what)?, &what)?);
        }
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(RecordBrowsingOutcome::Recorded),
            Transact::Cancelled(reasons) => reasons,
        };
        if reasons.first().is_some_and(CancelReason::condition_failed) {
            return Ok(RecordBrowsingOutcome::Duplicate);
        }
        Err(StoreError::msg(format!("Failed to store {what}: {}", unexplained(&reasons))))
    }

    /// One strongly consistent `Query` per day from `from`'s to `to`'s (at most the
    /// retention's days before `to`: older ones have expired), the events outside
    /// dropped, then sorted by time.
    async fn browsing_between(
        &self,
        merchant: &MerchantId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<BrowsingEvent>, StoreError> {
        let what = format!("the browsing of merchant {merchant}");
        let last = to.date_naive();
        let mut day = from.date_naive().max(last - Duration::days(RETENTION_DAYS + 1));
        let mut events = Vec::new();
        while day <= last {
            for item in self.query_partition(Key::browsing_day(merchant, day), &what).await? {
                let item: DayItem = from_item(item, &what)?;
                let customer = item.customer_id;
                events.extend(item.events.into_iter().filter(|e| e.at >= from && e.at < to).map(|e| BrowsingEvent {
                    customer_id: customer.clone(),
                    kind: e.kind,
                    sku: e.sku,
                    at: e.at,
                }));
            }
            day += Duration::days(1);
        }
        events.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.customer_id.cmp(&b.customer_id)));
        Ok(events)
    }
}
