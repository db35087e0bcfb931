//! The stored layout of a flash sale: the SQLite `flash_sales.body` JSON, and the fields of
//! the DynamoDB sale item beside its keys. Its shards' counters and the claims are stored
//! apart (each store keys them its own way); this is the part that never changes.

use chrono::{DateTime, Utc};
use oms_domain::flash_sale::{Claim, ClaimId, FlashSale, IdempotencyKey, SaleId, SaleTerms, Shard};
use oms_domain::{Currency, CustomerId, MerchantId, OrderId, Sku, WarehouseId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{parse, CorruptRecord};

/// A flash sale's terms and shards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleRecord {
    pub sale_id: String,
    pub merchant_id: String,
    pub sku: String,
    pub units: u32,
    pub per_customer_limit: u32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub price: Decimal,
    pub currency: String,
    pub created_at: DateTime<Utc>,
    pub shards: Vec<ShardRecord>,
}

/// One shard: where its units are and how many it started with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRecord {
    pub warehouse: String,
    pub merchant_id: String,
    pub units: u32,
}

impl From<&FlashSale> for SaleRecord {
    fn from(sale: &FlashSale) -> Self {
        let terms = &sale.terms;
        Self {
            sale_id: sale.sale_id.to_string(),
            merchant_id: sale.merchant_id.to_string(),
            sku: terms.sku.to_string(),
            units: terms.units,
            per_customer_limit: terms.per_customer_limit,
            starts_at: terms.starts_at,
            ends_at: terms.ends_at,
            price: terms.price,
            currency: terms.currency.code().to_owned(),
            created_at: sale.created_at,
            shards: sale
                .shards
                .iter()
                .map(|s| ShardRecord { warehouse: s.warehouse.to_string(), merchant_id: s.owner.to_string(), units: s.units })
                .collect(),
        }
    }
}

impl TryFrom<SaleRecord> for FlashSale {
    type Error = CorruptRecord;
    fn try_from(r: SaleRecord) -> Result<Self, CorruptRecord> {
        let shard_count = u32::try_from(r.shards.len()).unwrap_or(u32::MAX);
        let shards = r
            .shards
            .into_iter()
            .map(|s| {
                Ok(Shard {
                    warehouse: parse("shards.warehouse", WarehouseId::parse(s.warehouse))?,
                    owner: parse("shards.merchant_id", MerchantId::parse(s.merchant_id))?,
                    units: s.units,
                })
            })
            .collect::<Result<_, CorruptRecord>>()?;
        Ok(FlashSale {
            sale_id: parse("sale_id", SaleId::parse(r.sale_id))?,
            merchant_id: parse("merchant_id", MerchantId::parse(r.merchant_id))?,
            terms: SaleTerms {
                sku: parse("sku", Sku::parse(r.sku))?,
                units: r.units,
                per_customer_limit: r.per_customer_limit,
                starts_at: r.starts_at,
                ends_at: r.ends_at,
                shards: shard_count,
                price: r.price,
                currency: parse("currency", Currency::parse(&r.currency))?,
            },
            shards,
            created_at: r.created_at,
        })
    }
}

/// One claim, as stored under its (sale, idempotency key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRecord {
    pub claim_id: String,
    pub sale_id: String,
    pub idempotency_key: String,
    pub customer_id: String,
    pub quantity: u32,
    pub order_id: String,
    pub shard: u32,
    pub claimed_at: DateTime<Utc>,
}

impl From<&Claim> for ClaimRecord {
    fn from(c: &Claim) -> Self {
        Self {
            claim_id: c.claim_id.to_string(),
            sale_id: c.sale_id.to_string(),
            idempotency_key: c.idempotency_key.to_string(),
            customer_id: c.customer_id.to_string(),
            quantity: c.quantity,
            order_id: c.order_id.to_string(),
            shard: c.shard,
            claimed_at: c.claimed_at,
        }
    }
}

impl TryFrom<ClaimRecord> for Claim {
    type Error = CorruptRecord;
    fn try_from(r: ClaimRecord) -> Result<Self, CorruptRecord> {
        Ok(Claim {
            claim_id: parse("claim_id", ClaimId::parse(r.claim_id))?,
            sale_id: parse("sale_id", SaleId::parse(r.sale_id))?,
            idempotency_key: parse("idempotency_key", IdempotencyKey::parse(r.idempotency_key))?,
            customer_id: parse("customer_id", CustomerId::parse(r.customer_id))?,
            quantity: r.quantity,
            order_id: parse("order_id", OrderId::parse(r.order_id))?,
            shard: r.shard,
            claimed_at: r.claimed_at,
        })
    }
}
