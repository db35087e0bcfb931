//! A consignment grant as stored (`oms_domain::consignment::Consignment`): the SQLite
//! store's JSON body and the attributes of the DynamoDB items, one layout for both.

use chrono::{DateTime, Utc};
use oms_domain::consignment::{Consignment, ConsignmentTerms};
use oms_domain::{ConsignmentId, Currency, MerchantId, Money, Sku, WarehouseId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{parse, CorruptRecord};

/// An amount per unit: `amount` a decimal string, `currency` its ISO 4217 code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceRecord {
    pub amount: Decimal,
    pub currency: String,
}

impl From<Money> for PriceRecord {
    fn from(m: Money) -> Self {
        Self { amount: m.amount, currency: m.currency.code().to_owned() }
    }
}

impl PriceRecord {
    /// The amount back, its currency checked; `field` names the currency when it is not one.
    pub fn into_money(self, field: &'static str) -> Result<Money, CorruptRecord> {
        Ok(Money { amount: self.amount, currency: parse(field, Currency::parse(&self.currency))? })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsignmentRecord {
    pub consignment_id: String,
    pub owner: String,
    pub seller: String,
    pub warehouses: Vec<String>,
    /// Absent: every SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skus: Option<Vec<String>>,
    pub transfer_price: PriceRecord,
    pub revoked: bool,
    pub version: u64,
    pub updated_at: DateTime<Utc>,
}

impl From<&Consignment> for ConsignmentRecord {
    fn from(c: &Consignment) -> Self {
        Self {
            consignment_id: c.consignment_id.to_string(),
            owner: c.terms.owner.to_string(),
            seller: c.terms.seller.to_string(),
            warehouses: c.terms.warehouses.iter().map(ToString::to_string).collect(),
            skus: c.terms.skus.as_ref().map(|skus| skus.iter().map(ToString::to_string).collect()),
            transfer_price: c.terms.transfer_price.into(),
            revoked: c.revoked,
            version: c.version,
            updated_at: c.updated_at,
        }
    }
}

impl TryFrom<ConsignmentRecord> for Consignment {
    type Error = CorruptRecord;

    fn try_from(r: ConsignmentRecord) -> Result<Self, CorruptRecord> {
        let warehouses =
            r.warehouses.into_iter().map(|w| parse("warehouses", WarehouseId::parse(w))).collect::<Result<Vec<_>, _>>()?;
        let skus = r
            .skus
            .map(|skus| skus.into_iter().map(|s| parse("skus", Sku::parse(s))).collect::<Result<Vec<_>, _>>())
            .transpose()?;
        let terms = ConsignmentTerms::new(
            parse("owner", MerchantId::parse(r.owner))?,
            parse("seller", MerchantId::parse(r.seller))?,
            warehouses,
            skus,
            r.transfer_price.into_money("transfer_price.currency")?,
        )
        .map_err(|e| CorruptRecord::new("terms", e))?;
        Ok(Consignment {
            consignment_id: parse("consignment_id", ConsignmentId::parse(r.consignment_id))?,
            terms,
            revoked: r.revoked,
            version: r.version,
            updated_at: r.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_reads_back_whole_and_its_layout_is_pinned() {
        let c = Consignment {
            consignment_id: ConsignmentId::parse("g-1").unwrap(),
            terms: ConsignmentTerms::new(
                MerchantId::parse("m-1").unwrap(),
                MerchantId::parse("m-2").unwrap(),
                vec![WarehouseId::parse("WH-A").unwrap()],
                None,
                Money { amount: Decimal::new(1250, 2), currency: Currency::parse("CNY").unwrap() },
            )
            .unwrap(),
            revoked: false,
            version: 2,
            updated_at: "2026-11-20T10:00:00Z".parse().unwrap(),
        };
        let json = serde_json::to_value(ConsignmentRecord::from(&c)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"consignment_id": "g-1", "owner": "m-1", "seller": "m-2", "warehouses": ["WH-A"],
                "transfer_price": {"amount": "12.5", "currency": "CNY"}, "revoked": false, "version": 2,
                "updated_at": "2026-11-20T10:00:00Z"})
        );
        let back: ConsignmentRecord = serde_json::from_value(json).unwrap();
        assert_eq!(Consignment::try_from(back).unwrap(), c);
    }

    #[test]
    fn an_allocated_line_reads_without_a_transfer_price_as_old_records_have_none_and_with_one_back() {
        let old: crate::AllocatedLineRecord =
            serde_json::from_value(serde_json::json!({"warehouse": "WH-A", "merchant_id": "m-1", "sku": "S", "quantity": 2}))
                .unwrap();
        assert_eq!(old.transfer_price, None);
        let written = serde_json::to_value(&old).unwrap();
        assert!(written.get("transfer_price").is_none(), "an own line writes no transfer price: {written}");
        let consigned = crate::AllocatedLineRecord {
            transfer_price: Some(PriceRecord { amount: Decimal::new(1250, 2), currency: "CNY".into() }),
            ..old
        };
        let json = serde_json::to_value(&consigned).unwrap();
        assert_eq!(json["transfer_price"], serde_json::json!({"amount": "12.50", "currency": "CNY"}));
        assert_eq!(serde_json::from_value::<crate::AllocatedLineRecord>(json).unwrap(), consigned);
    }
}
