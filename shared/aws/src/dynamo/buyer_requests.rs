//! `BuyerRequestStore` on DynamoDB: one item per request, `BUYER_REQUEST#<request id>` /
//! `BUYER_REQUEST`, with its `version` beside it. See `docs/dynamodb.md`, "Buyer requests".
//!
//! A request is created by one `PutItem` on `attribute_not_exists(pk)` and updated by one
//! on `version = :read`; refused, the stored item is read as the outcome.

use async_trait::async_trait;
use oms_domain::matchmaking::BuyerRequest;
use oms_domain::ports::{BuyerRequestStore, CreateBuyerRequestOutcome, StoreError, UpdateBuyerRequestOutcome};
use oms_domain::BuyerRequestId;
use serde::{Deserialize, Serialize};

use super::{from_item, n, to_item, DynamoStore, Key};
use crate::error::sdk_error;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BuyerRequestItem {
    pk: String,
    sk: String,
    version: u64,
    request: BuyerRequest,
}

impl Key {
    /// A buyer request: `BUYER_REQUEST#<request id>` / `BUYER_REQUEST`.
    pub fn buyer_request(id: &BuyerRequestId) -> Self {
        Self { pk: format!("BUYER_REQUEST#{id}"), sk: "BUYER_REQUEST".to_owned() }
    }
}

fn item_of(request: &BuyerRequest, what: &str) -> Result<super::Item, StoreError> {
    let key = Key::buyer_request(&request.request_id);
    to_item(&BuyerRequestItem { pk: key.pk, sk: key.sk, version: request.version, request: request.clone() }, what)
}

/// Whether a write was refused by its condition.
fn refused<R>(err: &aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::put_item::PutItemError, R>) -> bool {
    err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception())
}

#[async_trait]
impl BuyerRequestStore for DynamoStore {
    /// `PutItem` on `attribute_not_exists(pk)`.
    async fn create_buyer_request(&self, request: &BuyerRequest) -> Result<CreateBuyerRequestOutcome, StoreError> {
        let what = format!("buyer request {}", request.request_id);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of(request, &what)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(CreateBuyerRequestOutcome::Created),
            Err(err) if refused(&err) => {
                let stored = self
                    .get_buyer_request(&request.request_id)
                    .await?
                    .ok_or_else(|| StoreError::msg(format!("Failed to create {what}: the request in the way vanished")))?;
                Ok(CreateBuyerRequestOutcome::Existing(Box::new(stored)))
            }
            Err(err) => Err(sdk_error(format!("Failed to create {what}"), err)),
        }
    }

    /// A strongly consistent `GetItem`.
    async fn get_buyer_request(&self, id: &BuyerRequestId) -> Result<Option<BuyerRequest>, StoreError> {
        let what = format!("buyer request {id}");
        self.get(Key::buyer_request(id), &what)
            .await?
            .map(|item| from_item::<BuyerRequestItem>(item, &what).map(|i| i.request))
            .transpose()
    }

    /// `PutItem` on `version = :read`.
    async fn update_buyer_request(&self, next: &BuyerRequest) -> Result<UpdateBuyerRequestOutcome, StoreError> {
        let what = format!("buyer request {}", next.request_id);
        let mut written = next.clone();
        written.version += 1;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of(&written, &what)?))
            .condition_expression("#version = :read")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":read", n(next.version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(UpdateBuyerRequestOutcome::Updated),
            Err(err) if refused(&err) => {
                let stored = self.get_buyer_request(&next.request_id).await?;
                Ok(UpdateBuyerRequestOutcome::Conflict(stored.map(Box::new)))
            }
            Err(err) => Err(sdk_error(format!("Failed to update {what}"), err)),
        }
    }
}
