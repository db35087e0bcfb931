//! The stored layout of an auction: the SQLite `auctions.body` JSON and the fields of the
//! DynamoDB auction item beside its keys (its terms and its state: best bid, end, bid
//! count, version, outcome); and of one accepted bid.

use chrono::{DateTime, Utc};
use oms_domain::auction::{AntiSniping, Auction, AuctionId, AuctionOutcome, AuctionTerms, BestBid, Bid, BidId, Closed};
use oms_domain::flash_sale::IdempotencyKey;
use oms_domain::order::Address;
use oms_domain::{Currency, CustomerId, MerchantId, OrderId, Sku};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{parse, AddressRecord, CorruptRecord};

/// An auction's terms and its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuctionRecord {
    pub auction_id: String,
    pub merchant_id: String,
    pub sku: String,
    pub currency: String,
    pub start_price: Decimal,
    pub increment: Decimal,
    #[serde(default)]
    pub reserve_price: Option<Decimal>,
    pub starts_at: DateTime<Utc>,
    /// The end as listed.
    pub listed_end: DateTime<Utc>,
    #[serde(default)]
    pub anti_sniping: Option<AntiSnipingRecord>,
    pub created_at: DateTime<Utc>,
    /// The end now (moved by anti-sniping).
    pub ends_at: DateTime<Utc>,
    #[serde(default)]
    pub best: Option<BestBidRecord>,
    pub bids: u32,
    pub version: u64,
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    /// `won`, `reserve_not_met` or `no_bids`, once closed.
    #[serde(default)]
    pub outcome: Option<String>,
    /// The winner's order, once won.
    #[serde(default)]
    pub order_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AntiSnipingRecord {
    pub window_minutes: u32,
    pub extension_minutes: u32,
    pub max_extension_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestBidRecord {
    pub bid_id: String,
    pub customer_id: String,
    pub amount: Decimal,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub shipping_address: Option<AddressRecord>,
}

/// One accepted bid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BidRecord {
    pub bid_id: String,
    pub seq: u32,
    pub auction_id: String,
    pub idempotency_key: String,
    pub customer_id: String,
    pub amount: Decimal,
    pub placed_at: DateTime<Utc>,
    #[serde(default)]
    pub shipping_address: Option<AddressRecord>,
}

impl From<&Auction> for AuctionRecord {
    fn from(a: &Auction) -> Self {
        let t = &a.terms;
        let (outcome, order_id) = match a.closed.as_ref().map(|c| &c.outcome) {
            Some(o @ AuctionOutcome::Won { order_id, .. }) => (Some(o.as_str().to_owned()), Some(order_id.to_string())),
            Some(o) => (Some(o.as_str().to_owned()), None),
            None => (None, None),
        };
        Self {
            auction_id: a.auction_id.to_string(),
            merchant_id: a.merchant_id.to_string(),
            sku: t.sku.to_string(),
            currency: t.currency.code().to_owned(),
            start_price: t.start_price,
            increment: t.increment,
            reserve_price: t.reserve_price,
            starts_at: t.starts_at,
            listed_end: t.ends_at,
            anti_sniping: t.anti_sniping.map(|r| AntiSnipingRecord {
                window_minutes: r.window_minutes,
                extension_minutes: r.extension_minutes,
                max_extension_minutes: r.max_extension_minutes,
            }),
            created_at: a.created_at,
            ends_at: a.ends_at,
            best: a.best.as_ref().map(|b| BestBidRecord {
                bid_id: b.bid_id.to_string(),
                customer_id: b.customer_id.to_string(),
                amount: b.amount,
                at: b.at,
                shipping_address: b.shipping_address.as_ref().map(AddressRecord::from),
            }),
            bids: a.bids,
            version: a.version,
            closed_at: a.closed.as_ref().map(|c| c.at),
            outcome,
            order_id,
        }
    }
}

impl TryFrom<AuctionRecord> for Auction {
    type Error = CorruptRecord;
    fn try_from(r: AuctionRecord) -> Result<Self, CorruptRecord> {
        let best = r
            .best
            .map(|b| {
                Ok::<_, CorruptRecord>(BestBid {
                    bid_id: parse("best.bid_id", BidId::parse(b.bid_id))?,
                    customer_id: parse("best.customer_id", CustomerId::parse(b.customer_id))?,
                    amount: b.amount,
                    at: b.at,
                    shipping_address: b.shipping_address.map(Address::from),
                })
            })
            .transpose()?;
        let closed = match (r.closed_at, r.outcome.as_deref()) {
            (None, None) => None,
            (Some(at), Some(kind)) => {
                let outcome = match kind {
                    "no_bids" => AuctionOutcome::NoBids,
                    "reserve_not_met" => AuctionOutcome::ReserveNotMet {
                        best: best.as_ref().map(|b| b.amount).ok_or_else(|| CorruptRecord::new("best", "missing"))?,
                    },
                    "won" => {
                        let best = best.as_ref().ok_or_else(|| CorruptRecord::new("best", "missing for a won auction"))?;
                        let order_id = r.order_id.clone().ok_or_else(|| CorruptRecord::new("order_id", "missing"))?;
                        AuctionOutcome::Won {
                            bid_id: best.bid_id.clone(),
                            customer_id: best.customer_id.clone(),
                            amount: best.amount,
                            order_id: parse("order_id", OrderId::parse(order_id))?,
                        }
                    }
                    other => return Err(CorruptRecord::new("outcome", format!("unknown outcome {other:?}"))),
                };
                Some(Closed { at, outcome })
            }
            _ => return Err(CorruptRecord::new("outcome", "closed_at and outcome go together")),
        };
        Ok(Auction {
            auction_id: parse("auction_id", AuctionId::parse(r.auction_id))?,
            merchant_id: parse("merchant_id", MerchantId::parse(r.merchant_id))?,
            terms: AuctionTerms {
                sku: parse("sku", Sku::parse(r.sku))?,
                currency: parse("currency", Currency::parse(&r.currency))?,
                start_price: r.start_price,
                increment: r.increment,
                reserve_price: r.reserve_price,
                starts_at: r.starts_at,
                ends_at: r.listed_end,
                anti_sniping: r.anti_sniping.map(|a| AntiSniping {
                    window_minutes: a.window_minutes,
                    extension_minutes: a.extension_minutes,
                    max_extension_minutes: a.max_extension_minutes,
                }),
            },
            created_at: r.created_at,
            ends_at: r.ends_at,
            best,
            bids: r.bids,
            version: r.version,
            closed,
        })
    }
}

impl From<&Bid> for BidRecord {
    fn from(b: &Bid) -> Self {
        Self {
            bid_id: b.bid_id.to_string(),
            seq: b.seq,
            auction_id: b.auction_id.to_string(),
            idempotency_key: b.idempotency_key.to_string(),
            customer_id: b.customer_id.to_string(),
            amount: b.amount,
            placed_at: b.placed_at,
            shipping_address: b.shipping_address.as_ref().map(AddressRecord::from),
        }
    }
}

impl TryFrom<BidRecord> for Bid {
    type Error = CorruptRecord;
    fn try_from(r: BidRecord) -> Result<Self, CorruptRecord> {
        Ok(Bid {
            bid_id: parse("bid_id", BidId::parse(r.bid_id))?,
            seq: r.seq,
            auction_id: parse("auction_id", AuctionId::parse(r.auction_id))?,
            idempotency_key: parse("idempotency_key", IdempotencyKey::parse(r.idempotency_key))?,
            customer_id: parse("customer_id", CustomerId::parse(r.customer_id))?,
            amount: r.amount,
            placed_at: r.placed_at,
            shipping_address: r.shipping_address.map(Address::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn an_auction_reads_back_as_it_was_written_in_every_state() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc);
        let terms = AuctionTerms {
            sku: Sku::parse("SKU-1").unwrap(),
            currency: Currency::parse("CNY").unwrap(),
            start_price: Decimal::new(100, 0),
            increment: Decimal::new(5, 1),
            reserve_price: Some(Decimal::new(120, 0)),
            starts_at: at,
            ends_at: at + Duration::hours(1),
            anti_sniping: Some(AntiSniping { window_minutes: 2, extension_minutes: 3, max_extension_minutes: 10 }),
        };
        let open = Auction::new(AuctionId::generate(), MerchantId::parse("m-1").unwrap(), terms, at);
        let bid = Bid {
            bid_id: BidId::generate(),
            seq: 1,
            auction_id: open.auction_id.clone(),
            idempotency_key: IdempotencyKey::parse("k-1").unwrap(),
            customer_id: CustomerId::parse("c-1").unwrap(),
            amount: Decimal::new(130, 0),
            placed_at: at + Duration::minutes(59),
            shipping_address: None,
        };
        let bid_on = open.accept(&bid).unwrap();
        let won = AuctionOutcome::Won {
            bid_id: bid.bid_id.clone(),
            customer_id: bid.customer_id.clone(),
            amount: bid.amount,
            order_id: OrderId::generate(),
        };
        let closed = bid_on.close(won, bid_on.ends_at);
        let no_bids = open.close(AuctionOutcome::NoBids, open.ends_at);
        for auction in [open, bid_on, closed, no_bids] {
            let json = serde_json::to_string(&AuctionRecord::from(&auction)).unwrap();
            let back: AuctionRecord = serde_json::from_str(&json).unwrap();
            assert_eq!(Auction::try_from(back).unwrap(), auction);
        }
        let json = serde_json::to_string(&BidRecord::from(&bid)).unwrap();
        assert_eq!(Bid::try_from(serde_json::from_str::<BidRecord>(&json).unwrap()).unwrap(), bid);
    }
}
