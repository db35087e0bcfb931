//! `ConsignmentStore` on DynamoDB: each grant is three items written in one transaction,
//! the grant at `CONSIGNMENT#<id>` / `CONSIGNMENT` (the one the conditions are on) and a
//! copy in its seller's partition `CONSIGNMENTS_TO#<seller>` / `<id>` (what allocation
//! queries: one partition per seller) and in its owner's `CONSIGNMENTS_FROM#<owner>` /
//! `<id>` (the owner's list). The copies are written only with the grant, so they never
//! disagree with it; a grant's owner and seller never change, so its copies never move.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use oms_domain::consignment::Consignment;
use oms_domain::ports::{ConsignmentStore, PutConsignment, StoreError};
use oms_domain::{ConsignmentId, MerchantId};
use oms_records::ConsignmentRecord;
use serde::{Deserialize, Serialize};

use super::items::CorruptItem;
use super::{merchant_segment, n, read_item, s, to_item, unexplained, DynamoStore, Key, Transact};

/// A grant or one of its copies: its key beside the grant's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ConsignmentItem {
    pub pk: String,
    pub sk: String,
    #[serde(flatten)]
    pub record: ConsignmentRecord,
}

impl TryFrom<ConsignmentItem> for Consignment {
    type Error = CorruptItem;
    fn try_from(item: ConsignmentItem) -> Result<Self, CorruptItem> {
        Ok(Consignment::try_from(item.record)?)
    }
}

impl Key {
    /// A grant: `CONSIGNMENT#<id>` / `CONSIGNMENT`.
    pub fn consignment(id: &ConsignmentId) -> Self {
        Self { pk: format!("CONSIGNMENT#{id}"), sk: "CONSIGNMENT".to_owned() }
    }

    /// The partition of the grants a seller received: `CONSIGNMENTS_TO#<seller>` (escaped).
    pub fn consignments_to(seller: &MerchantId) -> String {
        format!("CONSIGNMENTS_TO#{}", merchant_segment(seller))
    }

    /// The partition of the grants an owner gave: `CONSIGNMENTS_FROM#<owner>` (escaped).
    pub fn consignments_from(owner: &MerchantId) -> String {
        format!("CONSIGNMENTS_FROM#{}", merchant_segment(owner))
    }
}

impl DynamoStore {
    /// The builder of a `Put` of the grant `c` at `key`.
    fn consignment_put(
        &self,
        key: Key,
        c: &Consignment,
        what: &str,
    ) -> Result<aws_sdk_dynamodb::types::builders::PutBuilder, StoreError> {
        let item = ConsignmentItem { pk: key.pk, sk: key.sk, record: ConsignmentRecord::from(c) };
        Ok(Put::builder().table_name(&self.table).set_item(Some(to_item(&item, what)?)))
    }

    async fn list_consignments(&self, pk: String, what: &str) -> Result<Vec<Consignment>, StoreError> {
        let items = self.query_partition(pk, what).await?;
        items.into_iter().map(|item| read_item::<ConsignmentItem, _>(item, what)).collect()
    }
}

#[async_trait]
impl ConsignmentStore for DynamoStore {
    /// One `TransactWriteItems`: the grant, conditional on `attribute_not_exists(pk)` (version
    /// 1) or on `version = :previous AND owner = :owner AND seller = :seller`, and its two
    /// copies, unconditional. A failed condition is `VersionConflict`.
    async fn put_consignment(&self, c: &Consignment) -> Result<PutConsignment, StoreError> {
        let id = &c.consignment_id;
        let what = format!("consignment {id}");
        let grant = self.consignment_put(Key::consignment(id), c, &what)?;
        let grant = if c.version <= 1 {
            grant.condition_expression("attribute_not_exists(pk)")
        } else {
            grant
                .condition_expression("#version = :previous AND #owner = :owner AND seller = :seller")
                .expression_attribute_names("#version", "version")
                .expression_attribute_names("#owner", "owner")
                .expression_attribute_values(":previous", n(c.version - 1))
                .expression_attribute_values(":owner", s(c.terms.owner.as_str()))
                .expression_attribute_values(":seller", s(c.terms.seller.as_str()))
        }
        .build()
        .map_err(|e| crate::error::build_error(format!("Failed to build the write of {what}"), e))?;
        let to = Key { pk: Key::consignments_to(&c.terms.seller), sk: id.to_string() };
        let from = Key { pk: Key::consignments_from(&c.terms.owner), sk: id.to_string() };
        let build = |put: aws_sdk_dynamodb::types::builders::PutBuilder| {
            put.build().map_err(|e| crate::error::build_error(format!("Failed to build the write of {what}"), e))
        };
        let items = vec![
            TransactWriteItem::builder().put(grant).build(),
            TransactWriteItem::builder().put(build(self.consignment_put(to, c, &what)?)?).build(),
            TransactWriteItem::builder().put(build(self.consignment_put(from, c, &what)?)?).build(),
        ];
        match self.transact(items, &format!("write {what}")).await? {
            Transact::Written => Ok(PutConsignment::Stored),
            Transact::Cancelled(reasons) if reasons.first().is_some_and(|r| r.condition_failed()) => {
                Ok(PutConsignment::VersionConflict)
            }
            Transact::Cancelled(reasons) => {
                Err(StoreError::msg(format!("the write of {what} was cancelled: {}", unexplained(&reasons))))
            }
        }
    }

    /// A strongly consistent `GetItem` of `CONSIGNMENT#<id>` / `CONSIGNMENT`.
    async fn get_consignment(&self, id: &ConsignmentId) -> Result<Option<Consignment>, StoreError> {
        let what = format!("consignment {id}");
        match self.get(Key::consignment(id), &what).await? {
            Some(item) => Ok(Some(read_item::<ConsignmentItem, _>(item, &what)?)),
            None => Ok(None),
        }
    }

    /// A strongly consistent `Query` of the partition `CONSIGNMENTS_TO#<seller>`, by id.
    async fn consignments_received(&self, seller: &MerchantId) -> Result<Vec<Consignment>, StoreError> {
        self.list_consignments(Key::consignments_to(seller), &format!("the consignments {seller} received")).await
    }

    /// A strongly consistent `Query` of the partition `CONSIGNMENTS_FROM#<owner>`, by id.
    async fn consignments_granted(&self, owner: &MerchantId) -> Result<Vec<Consignment>, StoreError> {
        self.list_consignments(Key::consignments_from(owner), &format!("the consignments {owner} gave")).await
    }
}
