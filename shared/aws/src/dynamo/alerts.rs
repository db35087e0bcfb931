//! `AlertStore` on DynamoDB: the alert item, its (kind, subject) marker, and the
//! `by_alert_status` index that lists alerts by status in id order.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use oms_domain::alert::{Alert, AlertKind, AlertPage, AlertStatus};
use oms_domain::ports::{AlertStore, MoveOutcome, RaiseOutcome, StoreError};
use oms_domain::{AlertId, MerchantId, OrderId};

use super::{
    from_item, s, to_item, unexplained, DynamoStore, Item, Key, Transact, INDEX_BY_ALERT_STATUS, INDEX_BY_MERCHANT_ALERTS,
};
use crate::error::sdk_error;

/// The alert item: `ALERT#<alert id>` / `ALERT`, in `by_alert_status` under its status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AlertItem {
    pub pk: String,
    pub sk: String,
    pub alert_id: String,
    pub kind: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    pub merchant_id: String,
    pub message: String,
    pub status: String,
    pub raised_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The `by_alert_status` partition key: the status again.
    pub alert_status_key: String,
    /// The `by_merchant_alerts` partition key: the merchant again.
    #[serde(default)]
    pub alert_merchant_key: String,
    /// The `by_merchant_alerts` sort key: `<status>#<alert id>`.
    #[serde(default)]
    pub merchant_alert_sort: String,
}

/// The `by_merchant_alerts` sort key of an alert in `status`.
fn merchant_alert_sort(status: AlertStatus, id: &AlertId) -> String {
    format!("{}#{id}", status.as_str())
}

impl From<&Alert> for AlertItem {
    fn from(alert: &Alert) -> Self {
        let key = Key::alert(&alert.alert_id);
        AlertItem {
            pk: key.pk,
            sk: key.sk,
            alert_id: alert.alert_id.to_string(),
            kind: alert.kind.as_str().to_owned(),
            subject: alert.subject.clone(),
            order_id: alert.order_id.as_ref().map(ToString::to_string),
            merchant_id: alert.merchant_id.to_string(),
            message: alert.message.clone(),
            status: alert.status.as_str().to_owned(),
            raised_at: alert.raised_at,
            updated_at: alert.updated_at,
            alert_status_key: alert.status.as_str().to_owned(),
            alert_merchant_key: alert.merchant_id.to_string(),
            merchant_alert_sort: merchant_alert_sort(alert.status, &alert.alert_id),
        }
    }
}

/// A stored attribute that does not parse, named.
#[derive(Debug, thiserror::Error)]
#[error("attribute {attribute}: {reason}")]
pub(crate) struct CorruptAlert {
    attribute: &'static str,
    reason: oms_domain::ValidationError,
}

impl TryFrom<AlertItem> for Alert {
    type Error = CorruptAlert;
    fn try_from(item: AlertItem) -> Result<Self, CorruptAlert> {
        let parse = |attribute: &'static str, reason: oms_domain::ValidationError| CorruptAlert { attribute, reason };
        Ok(Alert {
            alert_id: AlertId::parse(item.alert_id).map_err(|e| parse("alert_id", e))?,
            kind: AlertKind::parse(&item.kind).map_err(|e| parse("kind", e))?,
            subject: item.subject,
            order_id: item.order_id.map(OrderId::parse).transpose().map_err(|e| parse("order_id", e))?,
            merchant_id: MerchantId::parse(item.merchant_id).map_err(|e| parse("merchant_id", e))?,
            message: item.message,
            status: AlertStatus::parse(&item.status).map_err(|e| parse("status", e))?,
            raised_at: item.raised_at,
            updated_at: item.updated_at,
        })
    }
}

/// The (kind, subject) marker: `ALERT_SUBJECT#<kind>#<subject>` / `DEDUPE`. Its existence is
/// the uniqueness condition of `raise`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AlertMarkerItem {
    pub pk: String,
    pub sk: String,
    pub alert_id: String,
}

/// Reads an alert item.
fn read_alert(item: Item, what: &str) -> Result<Alert, StoreError> {
    Alert::try_from(from_item::<AlertItem>(item, what)?)
        .map_err(|e| StoreError::new(format!("Failed to read {what} from its item"), e))
}

/// Most alerts one page of the index query asks for.
const QUERY_PAGE: usize = 100;

#[async_trait]
impl AlertStore for DynamoStore {
    /// One transaction of two puts, each conditional on `attribute_not_exists(pk)`: the
    /// (kind, subject) marker and the alert. When the marker's condition fails, the alert
    /// it names is read back (both reads strongly consistent) as `AlreadyRaised`.
    async fn raise(&self, alert: &Alert) -> Result<RaiseOutcome, StoreError> {
        let what = format!("alert {} about {}", alert.kind, alert.subject);
        let marker_key = Key::alert_subject(alert.kind, &alert.subject);
        let marker =
            AlertMarkerItem { pk: marker_key.pk.clone(), sk: marker_key.sk.clone(), alert_id: alert.alert_id.to_string() };
        let items = vec![
            self.put_new(to_item(&marker, "the alert marker")?, "the alert marker")?,
            self.put_new(to_item(&AlertItem::from(alert), &what)?, &what)?,
        ];
        let reasons = match self.transact(items, &format!("raise {what}")).await? {
            Transact::Written => return Ok(RaiseOutcome::Raised),
            Transact::Cancelled(reasons) => reasons,
        };
        if !reasons.first().is_some_and(|r| r.condition_failed()) {
            return Err(StoreError::msg(format!("Failed to raise {what}: {}", unexplained(&reasons))));
        }
        let marker_what = format!("the marker of {what}");
        let item = self
            .get(marker_key, &marker_what)
            .await?
            .ok_or_else(|| StoreError::msg(format!("Failed to read {marker_what}: it vanished")))?;
        let existing_id = AlertId::parse(from_item::<AlertMarkerItem>(item, &marker_what)?.alert_id)
            .map_err(|e| StoreError::new(format!("Failed to read {marker_what} from its item"), e))?;
        let existing = self
            .get_alert(&existing_id)
            .await?
            .ok_or_else(|| StoreError::msg(format!("Failed to read {what}: alert {existing_id} is missing")))?;
        Ok(RaiseOutcome::AlreadyRaised(Box::new(existing)))
    }

    /// A strongly consistent `GetItem` of `ALERT#<id>`.
    async fn get_alert(&self, id: &AlertId) -> Result<Option<Alert>, StoreError> {
        let what = format!("alert {id}");
        match self.get(Key::alert(id), &what).await? {
            Some(item) => Ok(Some(read_alert(item, &what)?)),
            None => Ok(None),
        }
    }

    /// A `Query` (eventually consistent, as every index), ascending, until `limit + 1`
    /// alerts are read: of `by_alert_status` for the status and `alert_id > :after`; for
    /// one merchant, of `by_merchant_alerts` for the merchant and
    /// `merchant_alert_sort BETWEEN "<status>#<after>#" AND "<status>$"` (`#` sorts before
    /// every id character and `$` after `#`, so the range is exactly that status's alerts
    /// after the cursor).
    async fn list_alerts(
        &self,
        status: AlertStatus,
        merchant: Option<&MerchantId>,
        after: Option<&AlertId>,
        limit: usize,
    ) -> Result<AlertPage, StoreError> {
        let limit = limit.max(1);
        let mut alerts = Vec::new();
        let mut start: Option<Item> = None;
        while alerts.len() <= limit {
            let page = (limit + 1 - alerts.len()).min(QUERY_PAGE);
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .scan_index_forward(true)
                .limit(i32::try_from(page).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            let query = match (merchant, after) {
                (None, Some(after)) => query
                    .index_name(INDEX_BY_ALERT_STATUS)
                    .key_condition_expression("#k = :v AND #id > :after")
                    .expression_attribute_names("#k", "alert_status_key")
                    .expression_attribute_values(":v", s(status.as_str()))
                    .expression_attribute_names("#id", "alert_id")
                    .expression_attribute_values(":after", s(after.as_str())),
                (None, None) => query
                    .index_name(INDEX_BY_ALERT_STATUS)
                    .key_condition_expression("#k = :v")
                    .expression_attribute_names("#k", "alert_status_key")
                    .expression_attribute_values(":v", s(status.as_str())),
                (Some(merchant), after) => {
                    let from = match after {
                        Some(after) => format!("{}#", merchant_alert_sort(status, after)),
                        None => format!("{}#", status.as_str()),
                    };
                    query
                        .index_name(INDEX_BY_MERCHANT_ALERTS)
                        .key_condition_expression("#k = :m AND #sort BETWEEN :from AND :to")
                        .expression_attribute_names("#k", "alert_merchant_key")
                        .expression_attribute_names("#sort", "merchant_alert_sort")
                        .expression_attribute_values(":m", s(merchant.as_str()))
                        .expression_attribute_values(":from", s(from))
                        .expression_attribute_values(":to", s(format!("{}$", status.as_str())))
                }
            };
            let output = query.send().await.map_err(|e| sdk_error(format!("Failed to list {status} alerts"), e))?;
            for item in output.items.unwrap_or_default() {
                alerts.push(read_alert(item, "an alert")?);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        let next = (alerts.len() > limit).then(|| {
            alerts.truncate(limit);
            alerts[limit - 1].alert_id.clone()
        });
        Ok(AlertPage { alerts, next })
    }

    /// An `UpdateItem` of `ALERT#<id>` setting `status`, `alert_status_key`,
    /// `merchant_alert_sort` and `updated_at`, conditional on `status` being one `to` is reached from. When the
    /// condition fails the alert is read afresh: absent, already at `to`, or past it (an
    /// alert never goes back, so the fresh read cannot contradict the failed condition).
    async fn move_alert(&self, id: &AlertId, to: AlertStatus, at: DateTime<Utc>) -> Result<MoveOutcome, StoreError> {
        let from = to.reached_from();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::alert(id).into_map()))
            .update_expression("SET #status = :to, #status_key = :to, #merchant_sort = :sort, #updated_at = :at")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#status_key", "alert_status_key")
            .expression_attribute_names("#merchant_sort", "merchant_alert_sort")
            .expression_attribute_values(":sort", s(merchant_alert_sort(to, id)))
            .expression_attribute_names("#updated_at", "updated_at")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":at", s(to_item_time(at)))
            .return_values(ReturnValue::AllNew);
        let allowed: Vec<String> = (0..from.len()).map(|i| format!(":from{i}")).collect();
        for (name, status) in allowed.iter().zip(from) {
            update = update.expression_attribute_values(name, s(status.as_str()));
        }
        let condition = if allowed.is_empty() {
            "attribute_not_exists(pk) AND attribute_exists(pk)".to_owned()
        } else {
            format!("attribute_exists(pk) AND #status IN ({})", allowed.join(", "))
        };
        match update.condition_expression(condition).send().await {
            Ok(output) => {
                let item = output.attributes.ok_or_else(|| StoreError::msg(format!("Moving alert {id} answered no item")))?;
                Ok(MoveOutcome::Moved(read_alert(item, &format!("alert {id}"))?))
            }
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => Ok(match self.get_alert(id).await? {
                    None => MoveOutcome::NotFound,
                    Some(alert) if alert.status == to => MoveOutcome::Unchanged(alert),
                    Some(alert) => MoveOutcome::Refused(alert),
                }),
                _ => Err(sdk_error(format!("Failed to move alert {id} to {to}"), err)),
            },
        }
    }
}

/// A time as the items hold it (serde's RFC 3339 form of `DateTime<Utc>`).
fn to_item_time(at: DateTime<Utc>) -> String {
    serde_json::to_value(at).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| at.to_rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_alert_item_has_the_documented_attributes_and_reads_back() {
        let at = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
        let alert = Alert {
            alert_id: AlertId::parse("alt_01").unwrap(),
            kind: AlertKind::ChannelCancelRefused,
            subject: "ord_1".into(),
            order_id: Some(OrderId::parse("ord_1").unwrap()),
            merchant_id: MerchantId::parse("m-1").unwrap(),
            message: "too late".into(),
            status: AlertStatus::Open,
            raised_at: at,
            updated_at: at,
        };
        let item: Item = serde_dynamo::to_item(AlertItem::from(&alert)).unwrap();
        let json: serde_json::Value = serde_dynamo::from_item(item.clone()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "pk": "ALERT#alt_01", "sk": "ALERT", "alert_id": "alt_01", "kind": "channel_cancel_refused",
                "subject": "ord_1", "order_id": "ord_1", "merchant_id": "m-1", "message": "too late",
                "status": "open", "raised_at": "2026-11-20T12:00:00Z", "updated_at": "2026-11-20T12:00:00Z",
                "alert_status_key": "open", "alert_merchant_key": "m-1", "merchant_alert_sort": "open#alt_01"
            })
        );
        assert_eq!(to_item_time(at), "2026-11-20T12:00:00Z");
        assert_eq!(Alert::try_from(serde_dynamo::from_item::<_, AlertItem>(item).unwrap()).unwrap(), alert);
    }
}
