//! `RfqStore` on DynamoDB: the item `RFQ#<rfq id>` / `RFQ`, its `version` beside the
//! record. Creating is one `PutItem` on `attribute_not_exists(pk)`; a change is one
//! `PutItem` on `version = :read`, so of two changes from one version exactly one lands.
//! Refused, the stored item is read as the outcome. See `docs/dynamodb.md`, "Requests for
//! quotes".

use async_trait::async_trait;
use oms_domain::ports::{CreateRfqOutcome, RfqStore, StoreError, UpdateRfqOutcome};
use oms_domain::rfq::request::Rfq;
use oms_domain::RfqId;
use serde::{Deserialize, Serialize};

use super::{from_item, n, to_item, DynamoStore, Key};
use crate::error::sdk_error;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RfqItem {
    pk: String,
    sk: String,
    version: u64,
    rfq: Rfq,
}

impl Key {
    /// A request for quotes: `RFQ#<rfq id>` / `RFQ`.
    pub fn rfq(id: &RfqId) -> Self {
        Self { pk: format!("RFQ#{id}"), sk: "RFQ".to_owned() }
    }
}

impl DynamoStore {
    /// `PutItem` of `rfq` on `condition` (with `:read` when given); `false` when the
    /// condition refused it.
    async fn put_rfq(&self, rfq: &Rfq, condition: &str, read: Option<u64>) -> Result<bool, StoreError> {
        let what = format!("request for quotes {}", rfq.rfq_id);
        let key = Key::rfq(&rfq.rfq_id);
        let item = to_item(&RfqItem { pk: key.pk, sk: key.sk, version: rfq.version, rfq: rfq.clone() }, &what)?;
        let put = self.client.put_item().table_name(&self.table).set_item(Some(item)).condition_expression(condition);
        let put = match read {
            Some(version) => {
                put.expression_attribute_names("#version", "version").expression_attribute_values(":read", n(version))
            }
            None => put,
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(err) => Err(sdk_error(format!("Failed to write {what}"), err)),
        }
    }
}

#[async_trait]
impl RfqStore for DynamoStore {
    /// `PutItem` on `attribute_not_exists(pk)`; refused, the stored one is read.
    async fn create_rfq(&self, rfq: &Rfq) -> Result<CreateRfqOutcome, StoreError> {
        if self.put_rfq(rfq, "attribute_not_exists(pk)", None).await? {
            return Ok(CreateRfqOutcome::Created);
        }
        let stored = self
            .get_rfq(&rfq.rfq_id)
            .await?
            .ok_or_else(|| StoreError::msg(format!("request {} was neither written nor found", rfq.rfq_id)))?;
        Ok(CreateRfqOutcome::Exists(Box::new(stored)))
    }

    /// A strongly consistent `GetItem`.
    async fn get_rfq(&self, id: &RfqId) -> Result<Option<Rfq>, StoreError> {
        let what = format!("request for quotes {id}");
        self.get(Key::rfq(id), &what).await?.map(|item| from_item::<RfqItem>(item, &what).map(|i| i.rfq)).transpose()
    }

    /// `PutItem` on `#version = :read` (the version before `next`'s); refused, the stored
    /// one is read (`Conflict`), or none is (`NotFound`).
    async fn update_rfq(&self, next: &Rfq) -> Result<UpdateRfqOutcome, StoreError> {
        let read = next.version.saturating_sub(1);
        if self.put_rfq(next, "#version = :read", Some(read)).await? {
            return Ok(UpdateRfqOutcome::Updated);
        }
        Ok(match self.get_rfq(&next.rfq_id).await? {
            Some(stored) => UpdateRfqOutcome::Conflict(Box::new(stored)),
            None => UpdateRfqOutcome::NotFound,
        })
    }
}
