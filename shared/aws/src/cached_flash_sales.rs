//! Flash sales, cached per container: at tens of thousands of claims a second, a read of
//! the one sale item per claim, or of every shard once the sale is sold out, would be the
//! hottest reads of the table (a partition serves 3,000 RCU a second; see
//! `docs/dynamodb.md`, "Flash sales"). A sale's terms change only when an operator ends it
//! early (`end_sale`), so they are kept for [`SALE_TTL`]: a container learns of an early
//! end made elsewhere within that time (meanwhile the close has emptied the shards, so a
//! claim there answers sold out rather than not active), and at once from a closing it
//! reads that is earlier than the end it keeps. A shard's units only ever go down, so a
//! shard found empty, or a
//! sale with every shard empty, is known empty for [`KNOWN_EMPTY_TTL`] (a bound kept for
//! the day units can come back, as expired claims would bring). A claim on a shard known
//! empty answers `ShardShort` without a write, which is what the write would answer (before
//! the claim's key is looked at: the claim use case asks for the key's first claim before
//! it answers sold out, so a repeated key still gets its first answer).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use oms_domain::flash_sale::{Claim, FlashSale, IdempotencyKey, SaleClosing, SaleId, ShardLevel};
use oms_domain::messages::Outgoing;
use oms_domain::ports::{ClaimOutcome, CloseSaleOutcome, CreateSaleOutcome, EndSaleOutcome, FlashSaleStore, StoreError};

/// How long a shard found empty is taken as empty without asking again.
pub const KNOWN_EMPTY_TTL: Duration = Duration::from_secs(5);

/// How long a sale's terms are kept without reading them again: one read of the sale item
/// per container per this time.
pub const SALE_TTL: Duration = Duration::from_secs(5);

/// A `FlashSaleStore` that keeps sales' terms and what it learned of empty shards.
#[derive(Debug)]
pub struct CachedFlashSales<F> {
    inner: F,
    /// Each sale's terms, and when they were read.
    sales: Mutex<HashMap<SaleId, (FlashSale, Instant)>>,
    /// (sale, shard) found empty, and when.
    empty: Mutex<HashMap<(SaleId, u32), Instant>>,
}

impl<F: FlashSaleStore> CachedFlashSales<F> {
    pub fn new(inner: F) -> Self {
        Self { inner, sales: Mutex::default(), empty: Mutex::default() }
    }

    fn known_empty(&self, sale: &SaleId, shard: u32) -> bool {
        let empty = self.empty.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        empty.get(&(sale.clone(), shard)).is_some_and(|at| at.elapsed() < KNOWN_EMPTY_TTL)
    }

    fn learn_empty(&self, sale: &SaleId, shard: u32) {
        let mut empty = self.empty.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        empty.retain(|_, at| at.elapsed() < KNOWN_EMPTY_TTL);
        empty.insert((sale.clone(), shard), Instant::now());
    }
}

#[async_trait]
impl<F: FlashSaleStore> FlashSaleStore for CachedFlashSales<F> {
    async fn create_sale(&self, sale: &FlashSale) -> Result<CreateSaleOutcome, StoreError> {
        self.inner.create_sale(sale).await
    }

    /// Kept for [`SALE_TTL`] once read: a sale's terms change only when it is ended early.
    async fn get_sale(&self, id: &SaleId) -> Result<Option<FlashSale>, StoreError> {
        if let Some((sale, at)) = self.sales.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(id) {
            if at.elapsed() < SALE_TTL {
                return Ok(Some(sale.clone()));
            }
        }
        let sale = self.inner.get_sale(id).await?;
        let mut sales = self.sales.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        sales.retain(|_, (_, at)| at.elapsed() < SALE_TTL);
        if let Some(sale) = &sale {
            sales.insert(id.clone(), (sale.clone(), Instant::now()));
        }
        Ok(sale)
    }

    /// Every shard known empty: answered from memory; else read, and the empty ones kept.
    async fn shard_levels(&self, sale: &FlashSale) -> Result<Vec<ShardLevel>, StoreError> {
        let count = u32::try_from(sale.shards.len()).unwrap_or(u32::MAX);
        if (0..count).all(|shard| self.known_empty(&sale.sale_id, shard)) {
            return Ok(vec![ShardLevel::default(); sale.shards.len()]);
        }
        let levels = self.inner.shard_levels(sale).await?;
        for (shard, level) in (0..count).zip(&levels) {
            if level.units_left == 0 {
                self.learn_empty(&sale.sale_id, shard);
            }
        }
        Ok(levels)
    }

    async fn claim_by_key(&self, sale: &SaleId, key: &IdempotencyKey) -> Result<Option<Claim>, StoreError> {
        self.inner.claim_by_key(sale, key).await
    }

    /// On a shard known empty: `ShardShort` with nothing written, as the write would answer.
    async fn claim(&self, claim: &Claim, limit: u32, send: &[Outgoing]) -> Result<ClaimOutcome, StoreError> {
        if self.known_empty(&claim.sale_id, claim.shard) {
            return Ok(ClaimOutcome::ShardShort { units_left: 0 });
        }
        let outcome = self.inner.claim(claim, limit, send).await?;
        if outcome == (ClaimOutcome::ShardShort { units_left: 0 }) {
            self.learn_empty(&claim.sale_id, claim.shard);
        }
        Ok(outcome)
    }

    /// Not cached: a close changes the shards (to empty, which a cached level only ever
    /// shows sooner) and the sale's closing, which is read fresh.
    async fn close_sale(&self, sale: &FlashSale, now: DateTime<Utc>) -> Result<CloseSaleOutcome, StoreError> {
        self.inner.close_sale(sale, now).await
    }

    /// Read fresh; a sale closed before the end kept for it was ended early elsewhere: its
    /// terms are read again on the next `get_sale`.
    async fn sale_closing(&self, id: &SaleId) -> Result<Option<SaleClosing>, StoreError> {
        let closing = self.inner.sale_closing(id).await?;
        if let Some(closing) = &closing {
            let mut sales = self.sales.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if sales.get(id).is_some_and(|(sale, _)| closing.closed_at < sale.terms.ends_at) {
                sales.remove(id);
            }
        }
        Ok(closing)
    }

    async fn ended_open_sales(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<SaleId>, StoreError> {
        self.inner.ended_open_sales(now, limit).await
    }

    /// The sale with its new end is kept; when another end landed first, the terms kept
    /// are dropped, so the next `get_sale` reads them.
    async fn end_sale(&self, sale: &FlashSale, now: DateTime<Utc>) -> Result<EndSaleOutcome, StoreError> {
        let outcome = self.inner.end_sale(sale, now).await?;
        let mut sales = self.sales.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match &outcome {
            EndSaleOutcome::Ended(ended) => {
                sales.insert(sale.sale_id.clone(), ((**ended).clone(), Instant::now()));
            }
            EndSaleOutcome::AlreadyEnded => {
                sales.remove(&sale.sale_id);
            }
        }
        Ok(outcome)
    }
}
