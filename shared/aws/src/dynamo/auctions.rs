//! `AuctionStore` on DynamoDB: the auction item (its record: terms, best bid, end, bid
//! count, `version`, outcome), one item per accepted bid under its idempotency key, a copy
//! of each in the auction's partition by its number (the list), and one item per open
//! auction in the `OPEN_AUCTIONS` partition sorted by its end. A bid is one
//! `TransactWriteItems`: the key's item (`put_new`), the auction put again on
//! `version = :read`, the bid's list item and, when anti-sniping moved the end, the open
//! item moved. See `docs/dynamodb.md`, "Auctions".

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use oms_domain::auction::{Auction, AuctionId, Bid};
use oms_domain::flash_sale::IdempotencyKey;
use oms_domain::messages::Outgoing;
use oms_domain::order::Order;
use oms_domain::ports::{AuctionStore, CloseAuctionOutcome, CreateAuctionOutcome, PlaceBidOutcome, StoreError};
use oms_records::{AuctionRecord, BidRecord};
use serde::{Deserialize, Serialize};

use super::{from_item, n, s, to_item, unexplained, CancelReason, DynamoStore, Key, Transact};
use crate::error::{build_error, sdk_error};

/// The auction: its keys beside the record both stores keep.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AuctionItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    record: AuctionRecord,
}

/// A bid: under its key, and in the auction's list.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BidItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    record: BidRecord,
}

/// An auction not closed yet, in the `OPEN_AUCTIONS` partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OpenAuctionItem {
    pk: String,
    sk: String,
    auction_id: String,
}

impl DynamoStore {
    async fn read_auction_item<T: serde::de::DeserializeOwned>(&self, key: Key, what: &str) -> Result<Option<T>, StoreError> {
        match self.get(key, what).await? {
            Some(item) => Ok(Some(from_item(item, what)?)),
            None => Ok(None),
        }
    }

    fn auction_put(&self, auction: &Auction, condition: Option<u64>, what: &str) -> Result<TransactWriteItem, StoreError> {
        let key = Key::auction(&auction.auction_id);
        let item = to_item(&AuctionItem { pk: key.pk, sk: key.sk, record: AuctionRecord::from(auction) }, what)?;
        let put = Put::builder().table_name(&self.table).set_item(Some(item));
        let put = match condition {
            Some(version) => put
                .condition_expression("#version = :read")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":read", n(version)),
            None => put.condition_expression("attribute_not_exists(pk)"),
        };
        Ok(TransactWriteItem::builder().put(put.build().map_err(|e| build_error(format!("Failed to build {what}"), e))?).build())
    }

    fn open_auction_put(&self, auction: &Auction, what: &str) -> Result<TransactWriteItem, StoreError> {
        let key = Key::open_auction(auction.ends_at, &auction.auction_id);
        let item = to_item(&OpenAuctionItem { pk: key.pk, sk: key.sk, auction_id: auction.auction_id.to_string() }, what)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn open_auction_delete(&self, auction: &Auction, what: &str) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Key::open_auction(auction.ends_at, &auction.auction_id).into_map()))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

#[async_trait]
impl AuctionStore for DynamoStore {
    /// One `TransactWriteItems`: the auction item (`attribute_not_exists(pk)`) and its
    /// `OPEN_AUCTIONS` item.
    async fn create_auction(&self, auction: &Auction) -> Result<CreateAuctionOutcome, StoreError> {
        let what = format!("create auction {}", auction.auction_id);
        let items = vec![self.auction_put(auction, None, &what)?, self.open_auction_put(auction, &what)?];
        match self.transact(items, &what).await? {
            Transact::Written => Ok(CreateAuctionOutcome::Created),
            Transact::Cancelled(reasons) if reasons.first().is_some_and(CancelReason::condition_failed) => {
                Ok(CreateAuctionOutcome::Exists)
            }
            Transact::Cancelled(reasons) => Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons)))),
        }
    }

    /// A strongly consistent `GetItem AUCTION#<id>` / `AUCTION`.
    async fn get_auction(&self, id: &AuctionId) -> Result<Option<Auction>, StoreError> {
        let what = format!("auction {id}");
        let Some(item) = self.read_auction_item::<AuctionItem>(Key::auction(id), &what).await? else {
            return Ok(None);
        };
        Auction::try_from(item.record).map(Some).map_err(|e| StoreError::new(format!("Failed to read {what}"), e))
    }

    /// A strongly consistent `GetItem AUCTION#<id>#KEY#<key>` / `BID`.
    async fn bid_by_key(&self, auction: &AuctionId, key: &IdempotencyKey) -> Result<Option<Bid>, StoreError> {
        let what = format!("the bid on auction {auction} under key {key}");
        let Some(item) = self.read_auction_item::<BidItem>(Key::auction_bid_key(auction, key), &what).await? else {
            return Ok(None);
        };
        Bid::try_from(item.record).map(Some).map_err(|e| StoreError::new(format!("Failed to read {what}"), e))
    }

    /// One `TransactWriteItems`: the key's item (`put_new`), the auction on
    /// `version = :read`, the list item (`put_new`), and when the end moved the open item
    /// deleted under the old end and put under the new one. Cancelled: by the first item,
    /// `Duplicate` (read back); by the second, `Stale`.
    async fn place_bid(&self, before: &Auction, after: &Auction, bid: &Bid) -> Result<PlaceBidOutcome, StoreError> {
        let what = format!("place a bid on auction {}", before.auction_id);
        let record = BidRecord::from(bid);
        let key = Key::auction_bid_key(&before.auction_id, &bid.idempotency_key);
        let marker = to_item(&BidItem { pk: key.pk, sk: key.sk, record: record.clone() }, &what)?;
        let listed = Key::auction_bid(&before.auction_id, bid.seq);
        let listed = to_item(&BidItem { pk: listed.pk, sk: listed.sk, record }, &what)?;
        let mut items = vec![
            self.put_new(marker, &what)?,
            self.auction_put(after, Some(before.version), &what)?,
            self.put_new(listed, &what)?,
        ];
        if after.ends_at != before.ends_at {
            items.push(self.open_auction_delete(before, &what)?);
            items.push(self.open_auction_put(after, &what)?);
        }
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(PlaceBidOutcome::Placed),
            Transact::Cancelled(reasons) => reasons,
        };
        let failed = |i: usize| reasons.get(i).is_some_and(CancelReason::condition_failed);
        if failed(0) {
            let first = self
                .bid_by_key(&before.auction_id, &bid.idempotency_key)
                .await?
                .ok_or_else(|| StoreError::msg(format!("Failed to {what}: the first bid under its key vanished")))?;
            return Ok(PlaceBidOutcome::Duplicate(Box::new(first)));
        }
        if failed(1) {
            return Ok(PlaceBidOutcome::Stale);
        }
        Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))))
    }

    /// A strongly consistent `Query` of `AUCTION#<id>` for sort keys `BID#<after + 1>` to
    /// `BID#9999999999`, ascending, following `LastEvaluatedKey` until `limit`.
    async fn bids(&self, auction: &AuctionId, after: Option<u32>, limit: usize) -> Result<Vec<Bid>, StoreError> {
        let what = format!("the bids on auction {auction}");
        let from = Key::auction_bid(auction, after.map_or(0, |seq| seq.saturating_add(1)));
        let to = Key::auction_bid(auction, u32::MAX);
        let mut bids = Vec::new();
        let mut start = None;
        while bids.len() < limit {
            let page = i32::try_from(limit - bids.len()).unwrap_or(i32::MAX);
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(from.pk.clone()))
                .expression_attribute_values(":from", s(from.sk.clone()))
                .expression_attribute_values(":to", s(to.sk.clone()))
                .consistent_read(true)
                .limit(page)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error(format!("Failed to query {what}"), e))?;
            for item in output.items.unwrap_or_default() {
                let item: BidItem = from_item(item, &what)?;
                bids.push(Bid::try_from(item.record).map_err(|e| StoreError::new(format!("Failed to read {what}"), e))?);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(bids)
    }

    /// A strongly consistent `Query` of `OPEN_AUCTIONS` for sort keys up to `now`.
    async fn ended_open_auctions(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<AuctionId>, StoreError> {
        let what = "the auctions that ended";
        self.due_items(Key::OPEN_AUCTIONS, now, limit, what)
            .await?
            .into_iter()
            .map(|item| {
                let open: OpenAuctionItem = from_item(item, what)?;
                AuctionId::parse(open.auction_id).map_err(|e| StoreError::new(format!("Failed to read {what}"), e))
            })
            .collect()
    }

    /// One `TransactWriteItems`: the auction on `version = :read`, the open item deleted,
    /// and the winner's order's own items with its outbox items (`new_order_items`).
    /// Cancelled by the first item: `Stale`.
    async fn close_auction(
        &self,
        before: &Auction,
        after: &Auction,
        order: Option<(&Order, &[Outgoing])>,
    ) -> Result<CloseAuctionOutcome, StoreError> {
        let what = format!("close auction {}", before.auction_id);
        let mut items = vec![self.auction_put(after, Some(before.version), &what)?, self.open_auction_delete(before, &what)?];
        if let Some((order, send)) = order {
            items.extend(self.new_order_items(order, send)?);
        }
        match self.transact(items, &what).await? {
            Transact::Written => Ok(CloseAuctionOutcome::Closed),
            Transact::Cancelled(reasons) if reasons.first().is_some_and(CancelReason::condition_failed) => {
                Ok(CloseAuctionOutcome::Stale)
            }
            Transact::Cancelled(reasons) => Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons)))),
        }
    }
}
