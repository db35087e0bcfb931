//! `AuctionStore`: one row per auction (its record as JSON beside the columns the
//! conditions and the index read: `version`, `ends_at`, `closed_at`) and one row per
//! accepted bid, unique per (auction, idempotency key) (tables of schema step 21). A bid
//! is one operation on the database thread, in its own savepoint: it checks the key, then
//! updates the auction row on its version and inserts the bid row, so both land or neither.
//! The partial index `auctions_open` holds the auctions not closed by end time, what the
//! sweeper reads; a bid that extends the end rewrites the column it is sorted by.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use oms_domain::auction::{Auction, AuctionId, Bid};
use oms_domain::flash_sale::IdempotencyKey;
use oms_domain::messages::Outgoing;
use oms_domain::order::Order;
use oms_domain::ports::{AuctionStore, CloseAuctionOutcome, CreateAuctionOutcome, PlaceBidOutcome, StoreError};
use oms_records::{AuctionRecord, BidRecord};
use rusqlite::{params, Connection, OptionalExtension};

use crate::db::{index_time, CachedStatements};
use crate::orders::{insert, EncodedOrder};
use crate::Embedded;

/// Version 21: auctions and their accepted bids.
pub(crate) const AUCTIONS: &str = "
CREATE TABLE IF NOT EXISTS auctions (
    auction_id TEXT PRIMARY KEY NOT NULL,
    version    INTEGER NOT NULL,
    ends_at    TEXT NOT NULL,
    closed_at  TEXT,
    body       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS auctions_open ON auctions (ends_at, auction_id) WHERE closed_at IS NULL;
CREATE TABLE IF NOT EXISTS auction_bids (
    auction_id      TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    body            TEXT NOT NULL,
    PRIMARY KEY (auction_id, idempotency_key)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS auction_bids_in_order ON auction_bids (auction_id, seq);
";

fn encode_auction(auction: &Auction) -> anyhow::Result<String> {
    serde_json::to_string(&AuctionRecord::from(auction)).context("Failed to encode the auction")
}

fn decode_auction(body: &str) -> anyhow::Result<Auction> {
    let record: AuctionRecord = serde_json::from_str(body).context("A stored auction is not its layout")?;
    Auction::try_from(record).context("A stored auction is corrupt")
}

fn decode_bid(body: &str) -> anyhow::Result<Bid> {
    let record: BidRecord = serde_json::from_str(body).context("A stored bid is not its layout")?;
    Bid::try_from(record).context("A stored bid is corrupt")
}

fn bid_body(conn: &Connection, auction: &str, key: &str) -> anyhow::Result<Option<String>> {
    conn.query_row_cached(
        "SELECT body FROM auction_bids WHERE auction_id = ?1 AND idempotency_key = ?2",
        params![auction, key],
        |row| row.get(0),
    )
    .optional()
    .context("Failed to query the bids")
}

/// The auction row moved from `version` to `after`, if it is still at `version` and open.
fn replace_auction(conn: &Connection, id: &str, version: u64, after: &Auction, body: &str) -> anyhow::Result<bool> {
    let closed_at = after.closed.as_ref().map(|c| index_time(c.at));
    let changed = conn
        .execute_cached(
            "UPDATE auctions SET version = ?3, ends_at = ?4, closed_at = ?5, body = ?6
             WHERE auction_id = ?1 AND version = ?2 AND closed_at IS NULL",
            params![id, i64::try_from(version)?, i64::try_from(after.version)?, index_time(after.ends_at), closed_at, body],
        )
        .context("Failed to write the auction row")?;
    Ok(changed == 1)
}

enum Placed {
    Written,
    Duplicate(String),
    Stale,
}

#[async_trait]
impl AuctionStore for Embedded {
    async fn create_auction(&self, auction: &Auction) -> Result<CreateAuctionOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to create auction {}", auction.auction_id), e);
        let body = encode_auction(auction).map_err(failed)?;
        let (id, version, ends_at) = (auction.auction_id.to_string(), auction.version, index_time(auction.ends_at));
        let inserted = self
            .db
            .call(move |conn| {
                conn.execute_cached(
                    "INSERT INTO auctions (auction_id, version, ends_at, body) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (auction_id) DO NOTHING",
                    params![id, i64::try_from(version)?, ends_at, body],
                )
                .context("Failed to write the auction row")
            })
            .await
            .map_err(failed)?;
        Ok(if inserted == 1 { CreateAuctionOutcome::Created } else { CreateAuctionOutcome::Exists })
    }

    async fn get_auction(&self, id: &AuctionId) -> Result<Option<Auction>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read auction {id}"), e);
        let key = id.to_string();
        let body: Option<String> = self
            .db
            .call(move |conn| {
                conn.query_row_cached("SELECT body FROM auctions WHERE auction_id = ?1", [key.as_str()], |row| row.get(0))
                    .optional()
                    .context("Failed to query the auctions")
            })
            .await
            .map_err(failed)?;
        body.map(|b| decode_auction(&b)).transpose().map_err(failed)
    }

    async fn bid_by_key(&self, auction: &AuctionId, key: &IdempotencyKey) -> Result<Option<Bid>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the bid on auction {auction} under key {key}"), e);
        let (a, k) = (auction.to_string(), key.to_string());
        let body = self.db.call(move |conn| bid_body(conn, &a, &k)).await.map_err(failed)?;
        body.map(|b| decode_bid(&b)).transpose().map_err(failed)
    }

    /// In one savepoint: the key's row looked up, the auction row updated on its version
    /// (and open), the bid row inserted.
    async fn place_bid(&self, before: &Auction, after: &Auction, bid: &Bid) -> Result<PlaceBidOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to place a bid on auction {}", before.auction_id), e);
        let body = encode_auction(after).map_err(failed)?;
        let bid_json = serde_json::to_string(&BidRecord::from(bid)).context("Failed to encode the bid").map_err(failed)?;
        let (id, key, seq, version) = (before.auction_id.to_string(), bid.idempotency_key.to_string(), bid.seq, before.version);
        let after = after.clone();
        let placed = self
            .db
            .call(move |conn| {
                if let Some(first) = bid_body(conn, &id, &key)? {
                    return Ok(Placed::Duplicate(first));
                }
                if !replace_auction(conn, &id, version, &after, &body)? {
                    return Ok(Placed::Stale);
                }
                conn.execute_cached(
                    "INSERT INTO auction_bids (auction_id, idempotency_key, seq, body) VALUES (?1, ?2, ?3, ?4)",
                    params![id, key, seq, bid_json],
                )
                .context("Failed to write the bid row")?;
                Ok(Placed::Written)
            })
            .await
            .map_err(failed)?;
        Ok(match placed {
            Placed::Written => PlaceBidOutcome::Placed,
            Placed::Duplicate(body) => PlaceBidOutcome::Duplicate(Box::new(decode_bid(&body).map_err(failed)?)),
            Placed::Stale => PlaceBidOutcome::Stale,
        })
    }

    async fn bids(&self, auction: &AuctionId, after: Option<u32>, limit: usize) -> Result<Vec<Bid>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to list the bids on auction {auction}"), e);
        let (id, after) = (auction.to_string(), after.unwrap_or(0));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let bodies: Vec<String> = self
            .db
            .call(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT body FROM auction_bids WHERE auction_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3")
                    .context("Failed to prepare the bids query")?;
                let rows = stmt
                    .query_map(params![id, after, limit], |row| row.get(0))
                    .context("Failed to query the bids")?
                    .collect::<Result<Vec<String>, _>>()
                    .context("Failed to read the bids")?;
                Ok(rows)
            })
            .await
            .map_err(failed)?;
        bodies.iter().map(|b| decode_bid(b)).collect::<anyhow::Result<_>>().map_err(failed)
    }

    /// The partial index `auctions_open`, from its start to `now`.
    async fn ended_open_auctions(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<AuctionId>, StoreError> {
        let failed = |e| StoreError::new("Failed to list the auctions that ended", e);
        let ids = self
            .db
            .due_ids(
                "SELECT auction_id FROM auctions WHERE closed_at IS NULL AND ends_at <= ?1 ORDER BY ends_at, auction_id LIMIT ?2",
                now,
                limit,
            )
            .await
            .map_err(failed)?;
        ids.into_iter().map(|id| AuctionId::parse(id).context("A stored id is corrupt").map_err(failed)).collect()
    }

    /// In one savepoint: the auction row updated on its version (and open), then the
    /// winner's order inserted with its messages.
    async fn close_auction(
        &self,
        before: &Auction,
        after: &Auction,
        order: Option<(&Order, &[Outgoing])>,
    ) -> Result<CloseAuctionOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to close auction {}", before.auction_id), e);
        let body = encode_auction(after).map_err(failed)?;
        let order = order
            .map(|(order, send)| Ok::<_, anyhow::Error>((EncodedOrder::new(order, 1)?, send.to_vec())))
            .transpose()
            .map_err(failed)?;
        let sends = order.as_ref().is_some_and(|(_, send)| !send.is_empty());
        let (id, version) = (before.auction_id.to_string(), before.version);
        let after = after.clone();
        let closed = self
            .db
            .call(move |conn| {
                if !replace_auction(conn, &id, version, &after, &body)? {
                    return Ok(false);
                }
                if let Some((row, send)) = &order {
                    if insert(conn, row, send)?.is_some() {
                        // The order's external id is the auction's id: one order per auction.
                        anyhow::bail!("The order of auction {id} exists already");
                    }
                }
                Ok(true)
            })
            .await
            .map_err(failed)?;
        if !closed {
            return Ok(CloseAuctionOutcome::Stale);
        }
        if sends {
            self.wake_consumers();
        }
        Ok(CloseAuctionOutcome::Closed)
    }
}
