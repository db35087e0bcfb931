//! A sale of the sales history as stored (`oms_domain::sales::Sale`): amounts as decimal
//! strings, the time as RFC 3339.

use chrono::{DateTime, Utc};
use oms_domain::sales::{Sale, SaleLine};
use oms_domain::{Currency, CustomerId, MerchantId, OrderId, Sku};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{parse, CorruptRecord};

/// One reserved order in its merchant's sales history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseRecord {
    pub merchant_id: String,
    pub order_id: String,
    pub customer_id: String,
    pub placed_at: DateTime<Utc>,
    pub currency: String,
    pub province: String,
    pub city: String,
    pub address: String,
    pub lines: Vec<PurchaseLineRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseLineRecord {
    pub sku: String,
    pub quantity: u32,
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
}

impl From<&Sale> for PurchaseRecord {
    fn from(sale: &Sale) -> Self {
        Self {
            merchant_id: sale.merchant_id.to_string(),
            order_id: sale.order_id.to_string(),
            customer_id: sale.customer_id.to_string(),
            placed_at: sale.placed_at,
            currency: sale.currency.code().to_owned(),
            province: sale.province.clone(),
            city: sale.city.clone(),
            address: sale.address.clone(),
            lines: sale
                .lines
                .iter()
                .map(|line| PurchaseLineRecord {
                    sku: line.sku.to_string(),
                    quantity: line.quantity,
                    unit_price: line.unit_price,
                })
                .collect(),
        }
    }
}

impl TryFrom<PurchaseRecord> for Sale {
    type Error = CorruptRecord;
    fn try_from(r: PurchaseRecord) -> Result<Self, CorruptRecord> {
        let lines = r
            .lines
            .into_iter()
            .map(|line| {
                Ok(SaleLine {
                    sku: parse("lines.sku", Sku::parse(line.sku))?,
                    quantity: line.quantity,
                    unit_price: line.unit_price,
                })
            })
            .collect::<Result<_, CorruptRecord>>()?;
        Ok(Sale {
            merchant_id: parse("merchant_id", MerchantId::parse(r.merchant_id))?,
            order_id: parse("order_id", OrderId::parse(r.order_id))?,
            customer_id: parse("customer_id", CustomerId::parse(r.customer_id))?,
            placed_at: r.placed_at,
            currency: parse("currency", Currency::parse(&r.currency))?,
            province: r.province,
            city: r.city,
            address: r.address,
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purchase_record_is_pinned_and_reads_back_as_the_sale() {
        let json = r#"{"merchant_id":"m-1","order_id":"ord_1","customer_id":"c-1","placed_at":"2026-11-20T10:00:00Z","currency":"CNY","province":"Zhejiang","city":"Hangzhou","address":"1 West Lake Rd","lines":[{"sku":"SKU-1","quantity":2,"unit_price":"19.90"}]}"#;
        let record: PurchaseRecord = serde_json::from_str(json).unwrap();
        let sale = Sale::try_from(record.clone()).unwrap();
        assert_eq!(sale.lines[0].unit_price, Decimal::new(1990, 2));
        assert_eq!(serde_json::to_string(&PurchaseRecord::from(&sale)).unwrap(), json);
        let bad = PurchaseRecord { currency: "XXQ".into(), ..record };
        assert_eq!(Sale::try_from(bad).unwrap_err().field, "currency");
    }
}
