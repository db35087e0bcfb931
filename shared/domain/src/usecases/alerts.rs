//! Alerts for staff: raising one (once per kind and subject), listing them by status a
//! page at a time, acknowledging and resolving them.

use crate::alert::{Alert, AlertPage, AlertStatus};
use crate::ports::{MoveOutcome, Ports, RaiseOutcome, StoreError};
use crate::{AlertId, MerchantId, ValidationError};

/// The page size when none is asked for.
pub const DEFAULT_LIMIT: usize = 50;
/// The largest page one request may ask for.
pub const MAX_LIMIT: usize = 100;

/// Raises `alert` unless one of the same kind and subject exists; answers the alert as
/// stored (the earlier one, unchanged, if there was one).
pub async fn raise_alert(ports: &Ports, alert: Alert) -> Result<Alert, StoreError> {
    match ports.alerts.raise(&alert).await? {
        RaiseOutcome::Raised => {
            tracing::warn!(alert_id = %alert.alert_id, kind = %alert.kind, subject = %alert.subject, message = %alert.message, "alert raised");
            Ok(alert)
        }
        RaiseOutcome::AlreadyRaised(existing) => Ok(*existing),
    }
}

/// What `GET /alerts` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertQuery {
    pub status: AlertStatus,
    /// One merchant's alerts only (merchant staff); `None`: every merchant's.
    pub merchant: Option<MerchantId>,
    /// The `next` of the page before.
    pub after: Option<AlertId>,
    pub limit: usize,
}

impl AlertQuery {
    /// Reads the query's raw values: `status` defaults to open, `limit` to
    /// [`DEFAULT_LIMIT`] and must be 1 to [`MAX_LIMIT`].
    pub fn parse(status: Option<&str>, cursor: Option<&str>, limit: Option<&str>) -> Result<Self, ValidationError> {
        let status = status.map_or(Ok(AlertStatus::Open), AlertStatus::parse)?;
        let after = cursor.map(parse_cursor).transpose()?;
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| ValidationError::new("limit", format!("{raw:?} is not a page size from 1 to {MAX_LIMIT}")))?,
        };
        Ok(Self { status, merchant: None, after, limit })
    }
}

/// One page of alerts in the status asked for, oldest first.
pub async fn list_alerts(ports: &Ports, query: &AlertQuery) -> Result<AlertPage, StoreError> {
    ports.alerts.list_alerts(query.status, query.merchant.as_ref(), query.after.as_ref(), query.limit.clamp(1, MAX_LIMIT)).await
}

/// Why an alert could not be moved.
#[derive(Debug, thiserror::Error)]
pub enum AlertActionError {
    #[error("no alert {0}")]
    NotFound(AlertId),
    #[error("alert {id} is {status} and cannot become {to}")]
    Refused { id: AlertId, status: AlertStatus, to: AlertStatus },
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Staff have seen the alert. Acknowledging it again answers it as it is.
pub async fn acknowledge_alert(ports: &Ports, id: &AlertId) -> Result<Alert, AlertActionError> {
    move_alert(ports, id, AlertStatus::Acknowledged).await
}

/// Staff have settled the alert. Resolving it again answers it as it is.
pub async fn resolve_alert(ports: &Ports, id: &AlertId) -> Result<Alert, AlertActionError> {
    move_alert(ports, id, AlertStatus::Resolved).await
}

async fn move_alert(ports: &Ports, id: &AlertId, to: AlertStatus) -> Result<Alert, AlertActionError> {
    match ports.alerts.move_alert(id, to, ports.clock.now()).await? {
        MoveOutcome::Moved(alert) => {
            tracing::info!(alert_id = %id, status = %to, "alert moved");
            Ok(alert)
        }
        MoveOutcome::Unchanged(alert) => Ok(alert),
        MoveOutcome::Refused(alert) => Err(AlertActionError::Refused { id: id.clone(), status: alert.status, to }),
        MoveOutcome::NotFound => Err(AlertActionError::NotFound(id.clone())),
    }
}

/// A page cursor is the id of an alert the store answered (`alt_` and a ULID), nothing else.
fn parse_cursor(raw: &str) -> Result<AlertId, ValidationError> {
    let not_ours = || ValidationError::new("cursor", "not a cursor this API answered");
    let ulid = raw.strip_prefix("alt_").ok_or_else(not_ours)?;
    ulid::Ulid::from_string(ulid).map_err(|_| not_ours())?;
    AlertId::parse(raw).map_err(|e| e.within("cursor"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_query_defaults_to_open_and_checks_its_limit() {
        let q = AlertQuery::parse(None, None, None).unwrap();
        assert_eq!((q.status, q.after, q.limit), (AlertStatus::Open, None, DEFAULT_LIMIT));
        assert_eq!(AlertQuery::parse(Some("shut"), None, None).unwrap_err().field, "status");
        assert_eq!(AlertQuery::parse(None, None, Some("0")).unwrap_err().field, "limit");
        assert_eq!(AlertQuery::parse(None, None, Some("101")).unwrap_err().field, "limit");
        let cursor = AlertId::generate();
        assert_eq!(AlertQuery::parse(Some("resolved"), Some(cursor.as_str()), Some("2")).unwrap().limit, 2);
        assert_eq!(AlertQuery::parse(None, Some("alt_1"), None).unwrap_err().field, "cursor", "not an id the store answered");
        assert_eq!(AlertQuery::parse(None, Some("bogus"), None).unwrap_err().field, "cursor");
    }
}
