//! Lots: the batches a goods receipt brings into a warehouse, each with the day it was
//! received and, for goods that spoil, the day it expires. A stock's on hand is the sum of
//! what remains of its lots (plus any units counted in with no lot); which lot a unit
//! leaving the stock came from is decided first-expiry-first-out, so what remains of each
//! lot is derived from the receipts and the stock's on hand, never counted separately.
//! Matchmaking ranks offers by them (older stock first when prices are equal) and expired
//! stock is not sold.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{MerchantId, Sku, WarehouseId};

/// What remains of one lot of one stock (a warehouse, an owner, a SKU).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotBalance {
    pub warehouse: WarehouseId,
    /// The merchant whose units these are.
    #[serde(rename = "merchant_id")]
    pub owner: MerchantId,
    pub sku: Sku,
    /// The lot's code as the receipt gave it.
    pub lot: String,
    /// When the first receipt of the lot into this stock was recorded.
    pub received_at: DateTime<Utc>,
    /// The last day the lot may be sold, when it spoils.
    pub expires_on: Option<NaiveDate>,
    /// Units of the lot received into this stock.
    pub received: u32,
    /// Units of the lot still in this stock.
    pub remaining: u32,
}

impl LotBalance {
    /// Whether the lot may no longer be sold on `today` (past its expiry day).
    pub fn is_expired(&self, today: NaiveDate) -> bool {
        self.expires_on.is_some_and(|day| day < today)
    }
}
