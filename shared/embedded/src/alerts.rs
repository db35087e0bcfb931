//! `AlertStore`: one row per alert, unique per (kind, subject), listed by status in id order.

use crate::db::CachedStatements;
use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use oms_domain::alert::{Alert, AlertKind, AlertPage, AlertStatus};
use oms_domain::ports::{AlertStore, MoveOutcome, RaiseOutcome, StoreError};
use oms_domain::{AlertId, MerchantId, OrderId};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::Embedded;

const COLUMNS: &str = "alert_id, kind, subject, order_id, merchant_id, message, status, raised_at, updated_at";

#[async_trait]
impl AlertStore for Embedded {
    async fn raise(&self, alert: &Alert) -> Result<RaiseOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to raise alert {} about {}", alert.kind, alert.subject), e);
        let row = alert.clone();
        self.db.call(move |conn| raise(conn, &row)).await.map_err(failed)
    }

    async fn get_alert(&self, id: &AlertId) -> Result<Option<Alert>, StoreError> {
        let key = id.clone();
        self.db.call(move |conn| read(conn, &key)).await.map_err(|e| StoreError::new(format!("Failed to read alert {id}"), e))
    }

    async fn list_alerts(
        &self,
        status: AlertStatus,
        merchant: Option<&MerchantId>,
        after: Option<&AlertId>,
        limit: usize,
    ) -> Result<AlertPage, StoreError> {
        let after = after.map(|a| a.as_str().to_owned()).unwrap_or_default();
        let merchant = merchant.map(|m| m.as_str().to_owned());
        let limit = limit.max(1);
        self.db
            .call(move |conn| {
                // Two statements rather than `?4 IS NULL OR ...`, so that each uses its index.
                let sql = match merchant {
                    None => format!(
                        "SELECT {COLUMNS} FROM alerts WHERE status = ?1 AND alert_id > ?2 AND ?4 IS NULL ORDER BY alert_id LIMIT ?3"
                    ),
                    Some(_) => format!(
                        "SELECT {COLUMNS} FROM alerts WHERE merchant_id = ?4 AND status = ?1 AND alert_id > ?2 ORDER BY alert_id LIMIT ?3"
                    ),
                };
                let mut stmt = conn.prepare_cached(&sql).context("Failed to prepare the alert listing")?;
                let fetch = i64::try_from(limit + 1).context("The page size is out of range")?;
                let mut alerts = stmt
                    .query_map(params![status.as_str(), after, fetch, merchant], alert_row)
                    .context("Failed to list the alerts")?
                    .collect::<Result<Vec<_>, _>>()
                    .context("Failed to read the alerts")?
                    .into_iter()
                    .collect::<anyhow::Result<Vec<Alert>>>()?;
                let next = (alerts.len() > limit).then(|| {
                    alerts.truncate(limit);
                    alerts[limit - 1].alert_id.clone()
                });
                Ok(AlertPage { alerts, next })
            })
            .await
            .map_err(|e| StoreError::new(format!("Failed to list {status} alerts"), e))
    }

    async fn move_alert(&self, id: &AlertId, to: AlertStatus, at: DateTime<Utc>) -> Result<MoveOutcome, StoreError> {
        let key = id.clone();
        self.db
            .call(move |conn| {
                let Some(mut alert) = read(conn, &key)? else {
                    return Ok(MoveOutcome::NotFound);
                };
                if alert.status == to {
                    return Ok(MoveOutcome::Unchanged(alert));
                }
                if !alert.status.can_become(to) {
                    return Ok(MoveOutcome::Refused(alert));
                }
                // One operation on the database thread: nothing can change the row between
                // the read and this write.
                conn.execute_cached(
                    "UPDATE alerts SET status = ?2, updated_at = ?3 WHERE alert_id = ?1",
                    params![key.as_str(), to.as_str(), time(at)],
                )
                .context("Failed to update the alert row")?;
                alert.status = to;
                alert.updated_at = at;
                Ok(MoveOutcome::Moved(alert))
            })
            .await
            .map_err(|e| StoreError::new(format!("Failed to move alert {id} to {to}"), e))
    }
}

fn raise(conn: &mut Connection, alert: &Alert) -> anyhow::Result<RaiseOutcome> {
    let inserted = conn
        .execute_cached(
            "INSERT INTO alerts (alert_id, kind, subject, order_id, merchant_id, message, status, raised_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (kind, subject) DO NOTHING",
            params![
                alert.alert_id.as_str(),
                alert.kind.as_str(),
                alert.subject,
                alert.order_id.as_ref().map(OrderId::as_str),
                alert.merchant_id.as_str(),
                alert.message,
                alert.status.as_str(),
                time(alert.raised_at),
                time(alert.updated_at),
            ],
        )
        .context("Failed to write the alert row")?;
    if inserted == 1 {
        return Ok(RaiseOutcome::Raised);
    }
    let sql = format!("SELECT {COLUMNS} FROM alerts WHERE kind = ?1 AND subject = ?2");
    let existing = conn
        .query_row_cached(&sql, params![alert.kind.as_str(), alert.subject], alert_row)
        .context("Failed to read the alert raised before")??;
    Ok(RaiseOutcome::AlreadyRaised(Box::new(existing)))
}

fn read(conn: &Connection, id: &AlertId) -> anyhow::Result<Option<Alert>> {
    let sql = format!("SELECT {COLUMNS} FROM alerts WHERE alert_id = ?1");
    conn.query_row_cached(&sql, [id.as_str()], alert_row).optional().context("Failed to query the alerts table")?.transpose()
}

/// Times as RFC 3339 text in UTC, to the microsecond, so they sort and read back exactly.
fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// One row as an alert; a row that does not parse is an error naming its column.
fn alert_row(row: &Row<'_>) -> rusqlite::Result<anyhow::Result<Alert>> {
    let text = |i: usize| row.get::<_, String>(i);
    let raw = (text(0)?, text(1)?, text(2)?, row.get::<_, Option<String>>(3)?, text(4)?, text(5)?, text(6)?, text(7)?, text(8)?);
    Ok(parse_row(raw))
}

type RawRow = (String, String, String, Option<String>, String, String, String, String, String);

fn parse_row(
    (id, kind, subject, order_id, merchant_id, message, status, raised_at, updated_at): RawRow,
) -> anyhow::Result<Alert> {
    let at = |column: &str, raw: &str| {
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .with_context(|| format!("The stored alert {id} has an invalid {column} {raw:?}"))
    };
    let corrupt = |column: &str| format!("The stored alert {id} has an invalid {column}");
    Ok(Alert {
        kind: AlertKind::parse(&kind).with_context(|| corrupt("kind"))?,
        order_id: order_id.map(OrderId::parse).transpose().with_context(|| corrupt("order_id"))?,
        merchant_id: MerchantId::parse(merchant_id).with_context(|| corrupt("merchant_id"))?,
        status: AlertStatus::parse(&status).with_context(|| corrupt("status"))?,
        raised_at: at("raised_at", &raised_at)?,
        updated_at: at("updated_at", &updated_at)?,
        alert_id: AlertId::parse(id.as_str()).with_context(|| corrupt("alert_id"))?,
        subject,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_row_with_an_unknown_status_is_an_error_naming_it() {
        let store = Embedded::open_in_memory().unwrap();
        store
            .db
            .call_now(|conn| {
                conn.execute(
                    "INSERT INTO alerts VALUES ('alt_1', 'channel_cancel_refused', 'ord_1', 'ord_1', 'm-1', 'x', 'closed',
                     '2026-11-20T12:00:00Z', '2026-11-20T12:00:00Z')",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        let err = store.get_alert(&AlertId::parse("alt_1").unwrap()).await.unwrap_err();
        assert!(format!("{:#}", anyhow::Error::from(err)).contains("invalid status"));
    }
}
