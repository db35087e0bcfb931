//! The sales history: every reserved order, as pricing learns from it.
//!
//! An order enters the history when its reservation is recorded (the write that moves it
//! to `reserved`), in the same atomic write as the order ([`crate::ports::Effects::sale`]),
//! so the history holds exactly the orders that were reserved. It is kept per merchant:
//! one merchant's sales never price another's customers. A later cancel leaves the sale
//! in the history (the price was agreed; the history is of prices, not of revenue).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Currency, CustomerId, MerchantId, Order, OrderId, Sku, ValidationError};

/// Most sales one page of the history holds.
pub const MAX_SALES_PAGE: usize = 1_000;

/// One reserved order: who paid what for which SKUs, when and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sale {
    pub merchant_id: MerchantId,
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    /// When the buyer placed the order: the time the price was agreed.
    pub placed_at: DateTime<Utc>,
    pub currency: Currency,
    /// Empty where the address names none.
    pub province: String,
    pub city: String,
    /// The street lines, joined by `, `.
    pub address: String,
    pub lines: Vec<SaleLine>,
}

/// One line of a sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLine {
    pub sku: Sku,
    pub quantity: u32,
    pub unit_price: Decimal,
}

impl Sale {
    /// The sale an order makes when its reservation is recorded.
    pub fn of(order: &Order) -> Sale {
        let address = &order.shipping_address;
        let street = match &address.line2 {
            Some(line2) => format!("{}, {line2}", address.line1),
            None => address.line1.clone(),
        };
        Sale {
            merchant_id: order.merchant_id.clone(),
            order_id: order.order_id.clone(),
            customer_id: order.customer.id.clone(),
            placed_at: order.placed_at,
            currency: order.currency,
            province: address.province.clone().unwrap_or_default(),
            city: address.city.clone(),
            address: street,
            lines: order
                .lines
                .iter()
                .map(|line| SaleLine { sku: line.sku.clone(), quantity: line.quantity, unit_price: line.unit_price })
                .collect(),
        }
    }

    /// Where the sale sorts in its merchant's history.
    pub fn key(&self) -> SaleKey {
        SaleKey { placed_at: self.placed_at, order_id: self.order_id.clone() }
    }
}

/// The position of a sale in its merchant's history: by time placed, then order id. A
/// page of the history names the last one it holds as the cursor of the next.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SaleKey {
    pub placed_at: DateTime<Utc>,
    pub order_id: OrderId,
}

impl SaleKey {
    /// The key as one fixed-width string (`<placed_at, RFC 3339 in microseconds>#<order
    /// id>`), so that text order is history order: how both stores sort it and how a
    /// cursor travels.
    pub fn encode(&self) -> String {
        format!("{}#{}", self.placed_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true), self.order_id)
    }

    /// Reads a key [`encode`](Self::encode) wrote.
    pub fn decode(raw: &str) -> Result<SaleKey, ValidationError> {
        let bad = || ValidationError::new("cursor", "is not a cursor of the sales history");
        let (at, order) = raw.split_once('#').ok_or_else(bad)?;
        let placed_at = DateTime::parse_from_rfc3339(at).map_err(|_| bad())?.with_timezone(&Utc);
        let order_id = OrderId::parse(order).map_err(|_| bad())?;
        Ok(SaleKey { placed_at, order_id })
    }
}

/// One page of a merchant's sales, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesPage {
    pub sales: Vec<Sale>,
    /// The key of the last sale when more may follow: the next page starts after it.
    pub next: Option<SaleKey>,
}

/// Every sale of `merchant`, oldest first, read a page of [`MAX_SALES_PAGE`] at a time.
pub async fn whole_history(
    history: &dyn crate::ports::SalesHistory,
    merchant: &MerchantId,
) -> Result<Vec<Sale>, crate::ports::StoreError> {
    let mut sales = Vec::new();
    let mut after: Option<SaleKey> = None;
    loop {
        let page = history.sales(merchant, after.as_ref(), MAX_SALES_PAGE).await?;
        sales.extend(page.sales);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(sales),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sale_key_reads_back_and_sorts_as_text_in_time_order() {
        let early = SaleKey { placed_at: "2026-11-20T09:00:00Z".parse().unwrap(), order_id: OrderId::parse("ord_b").unwrap() };
        let late = SaleKey { placed_at: "2026-11-20T10:00:00.5Z".parse().unwrap(), order_id: OrderId::parse("ord_a").unwrap() };
        assert_eq!(SaleKey::decode(&early.encode()).unwrap(), early);
        assert!(early.encode() < late.encode());
        assert!(SaleKey::decode("yesterday#ord_a").is_err());
    }
}
