//! Consignment ("joint selling"): a merchant (the owner) lets another merchant (the
//! seller) sell its stock in named warehouses, at a transfer price.
//!
//! A grant names the owner, the seller, the warehouses (at least one), optionally the SKUs
//! (none named: every SKU the owner keeps there) and one transfer price per unit, in one
//! currency, whatever the SKU. A merchant that wants different prices for different SKUs
//! gives one grant per price (each naming its SKUs): one price per grant is what a
//! consignment contract states, and it keeps a grant one line of a price list.
//!
//! A grant is active until it is revoked (`DELETE /consignments/{id}`); a revoked grant is
//! kept (its id, terms and version) so the seller and the owner still see what was agreed,
//! and a later PUT of the same id grants again. Allocation plans an order of the seller
//! from the owner's units only under a grant active at planning time
//! ([`crate::allocation::may_sell`]); holds already placed stay when a grant is revoked.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::money::{check_price, Money};
use crate::{ConsignmentId, MerchantId, Sku, ValidationError, WarehouseId};

/// Most warehouses one grant names.
pub const MAX_WAREHOUSES: usize = 100;
/// Most SKUs one grant names.
pub const MAX_SKUS: usize = 500;

/// What a grant says: who lets whom sell what, where, at what price. Valid by
/// construction ([`ConsignmentTerms::new`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsignmentTerms {
    /// The merchant whose units are sold.
    pub owner: MerchantId,
    /// The merchant whose orders may take them.
    pub seller: MerchantId,
    /// Sorted, each once, at least one.
    pub warehouses: Vec<WarehouseId>,
    /// Sorted, each once, at least one; `None`: every SKU.
    pub skus: Option<Vec<Sku>>,
    /// What the seller owes the owner per unit sold.
    pub transfer_price: Money,
}

impl ConsignmentTerms {
    /// Checks the terms: owner and seller differ (`seller` is at fault), 1 to
    /// [`MAX_WAREHOUSES`] warehouses, 1 to [`MAX_SKUS`] SKUs when SKUs are named, a price
    /// as `money::check_price` allows. A warehouse or SKU named twice is refused (the
    /// caller's list has a mistake), naming `warehouses` or `skus`.
    pub fn new(
        owner: MerchantId,
        seller: MerchantId,
        warehouses: Vec<WarehouseId>,
        skus: Option<Vec<Sku>>,
        transfer_price: Money,
    ) -> Result<Self, ValidationError> {
        if owner == seller {
            return Err(ValidationError::new("seller", "must be another merchant than the owner"));
        }
        let mut warehouses = warehouses;
        warehouses.sort();
        if let Some(twice) = warehouses.windows(2).find(|w| w[0] == w[1]) {
            return Err(ValidationError::new("warehouses", format!("names {} more than once", twice[0])));
        }
        if warehouses.is_empty() || warehouses.len() > MAX_WAREHOUSES {
            return Err(ValidationError::new("warehouses", format!("must name 1 to {MAX_WAREHOUSES} warehouses")));
        }
        let skus = match skus {
            None => None,
            Some(mut skus) => {
                skus.sort();
                if let Some(twice) = skus.windows(2).find(|w| w[0] == w[1]) {
                    return Err(ValidationError::new("skus", format!("names {} more than once", twice[0])));
                }
                if skus.is_empty() || skus.len() > MAX_SKUS {
                    return Err(ValidationError::new(
                        "skus",
                        format!("must name 1 to {MAX_SKUS} SKUs, or be left out for every SKU"),
                    ));
                }
                Some(skus)
            }
        };
        let amount =
            check_price(transfer_price.amount, transfer_price.currency).map_err(|e| e.within("transfer_price.amount"))?;
        Ok(Self { owner, seller, warehouses, skus, transfer_price: Money { amount, currency: transfer_price.currency } })
    }
}

/// A stored grant: its terms, whether it was revoked, and its version (1 when first
/// stored, one more with every change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consignment {
    pub consignment_id: ConsignmentId,
    #[serde(flatten)]
    pub terms: ConsignmentTerms,
    pub revoked: bool,
    pub version: u64,
    pub updated_at: DateTime<Utc>,
}

impl Consignment {
    /// Whether allocation may use it now.
    pub fn is_active(&self) -> bool {
        !self.revoked
    }

    /// Whether it lets its seller sell its owner's units of `sku` in `warehouse` (active
    /// or not).
    pub fn covers(&self, warehouse: &WarehouseId, sku: &Sku) -> bool {
        self.terms.warehouses.binary_search(warehouse).is_ok()
            && self.terms.skus.as_ref().is_none_or(|skus| skus.binary_search(sku).is_ok())
    }

    /// The grant that lets `seller` sell `owner`'s units of `sku` in `warehouse` now, of
    /// `grants`: active, covering them; of several, the lowest transfer price, then the
    /// lowest id.
    pub fn best<'a>(
        grants: &'a [Consignment],
        owner: &MerchantId,
        seller: &MerchantId,
        warehouse: &WarehouseId,
        sku: &Sku,
    ) -> Option<&'a Consignment> {
        grants
            .iter()
            .filter(|g| g.is_active() && &g.terms.owner == owner && &g.terms.seller == seller && g.covers(warehouse, sku))
            .min_by(|a, b| {
                (a.terms.transfer_price.amount, &a.consignment_id).cmp(&(b.terms.transfer_price.amount, &b.consignment_id))
            })
    }
}

/// Which of the grants a merchant takes part in a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Those it gave (it is the owner).
    Granted,
    /// Those it received (it is the seller).
    Received,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Currency;
    use rust_decimal::Decimal;

    pub(crate) fn m(id: &str) -> MerchantId {
        MerchantId::parse(id).unwrap()
    }

    fn w(id: &str) -> WarehouseId {
        WarehouseId::parse(id).unwrap()
    }

    fn s(id: &str) -> Sku {
        Sku::parse(id).unwrap()
    }

    pub(crate) fn price(amount: &str) -> Money {
        Money { amount: amount.parse().unwrap(), currency: Currency::parse("CNY").unwrap() }
    }

    /// An active grant of `owner`'s stock to `seller`.
    pub(crate) fn grant(
        id: &str,
        owner: &str,
        seller: &str,
        warehouses: &[&str],
        skus: Option<&[&str]>,
        at: &str,
    ) -> Consignment {
        let terms = ConsignmentTerms::new(
            m(owner),
            m(seller),
            warehouses.iter().map(|x| w(x)).collect(),
            skus.map(|skus| skus.iter().map(|x| s(x)).collect()),
            price(at),
        )
        .unwrap();
        Consignment {
            consignment_id: ConsignmentId::parse(id).unwrap(),
            terms,
            revoked: false,
            version: 1,
            updated_at: "2026-11-20T10:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn terms_are_checked_naming_the_field_and_repeats_are_refused() {
        let err = ConsignmentTerms::new(m("m-1"), m("m-1"), vec![w("WH-A")], None, price("1")).unwrap_err();
        assert_eq!(err.field, "seller");
        let err = ConsignmentTerms::new(m("m-1"), m("m-2"), vec![], None, price("1")).unwrap_err();
        assert_eq!(err.field, "warehouses");
        let err = ConsignmentTerms::new(m("m-1"), m("m-2"), vec![w("WH-A")], Some(vec![]), price("1")).unwrap_err();
        assert_eq!(err.field, "skus");
        let negative = Money { amount: Decimal::new(-1, 0), ..price("1") };
        let err = ConsignmentTerms::new(m("m-1"), m("m-2"), vec![w("WH-A")], None, negative).unwrap_err();
        assert_eq!(err.field, "transfer_price.amount");
        let err = ConsignmentTerms::new(m("m-1"), m("m-2"), vec![w("WH-B"), w("WH-A"), w("WH-B")], None, price("1")).unwrap_err();
        assert_eq!(err.field, "warehouses");
        let err = ConsignmentTerms::new(m("m-1"), m("m-2"), vec![w("WH-A")], Some(vec![s("B"), s("A"), s("A")]), price("1"))
            .unwrap_err();
        assert_eq!(err.field, "skus");
        let terms =
            ConsignmentTerms::new(m("m-1"), m("m-2"), vec![w("WH-B"), w("WH-A")], Some(vec![s("B"), s("A")]), price("12.50"))
                .unwrap();
        assert_eq!(terms.warehouses, [w("WH-A"), w("WH-B")]);
        assert_eq!(terms.skus, Some(vec![s("A"), s("B")]));
    }

    #[test]
    fn a_grant_covers_its_warehouses_and_skus_and_the_cheapest_active_one_is_used() {
        let every_sku = grant("g-1", "m-1", "m-2", &["WH-A"], None, "12.50");
        assert!(every_sku.covers(&w("WH-A"), &s("ANY")));
        assert!(!every_sku.covers(&w("WH-B"), &s("ANY")));
        let only_a = grant("g-2", "m-1", "m-2", &["WH-A", "WH-B"], Some(&["A"]), "10");
        assert!(only_a.covers(&w("WH-B"), &s("A")) && !only_a.covers(&w("WH-B"), &s("B")));

        let grants = [every_sku.clone(), only_a.clone()];
        let best =
            |sku: &str| Consignment::best(&grants, &m("m-1"), &m("m-2"), &w("WH-A"), &s(sku)).map(|g| g.consignment_id.as_str());
        assert_eq!(best("A"), Some("g-2"), "the lower transfer price");
        assert_eq!(best("B"), Some("g-1"));
        assert_eq!(Consignment::best(&grants, &m("m-1"), &m("m-3"), &w("WH-A"), &s("A")), None, "another seller");
        let revoked = [Consignment { revoked: true, ..only_a }, every_sku];
        assert_eq!(
            Consignment::best(&revoked, &m("m-1"), &m("m-2"), &w("WH-A"), &s("A")).map(|g| g.consignment_id.as_str()),
            Some("g-1"),
            "a revoked grant is never used"
        );
    }
}
