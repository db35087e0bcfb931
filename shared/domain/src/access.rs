//! Who is asking: the caller of an operator route, the merchant it acts for and what it
//! may do. A caller is made by whatever verified its credential (the API gateway's JWT
//! authorizer in AWS, a token table in `oms serve`); the rules here decide what it sees.
//!
//! Two roles: platform staff act across every merchant (approvals, reviews, reports and
//! alerts of all merchants), merchant staff and a merchant's own systems act for exactly
//! one merchant. Scopes say which route groups a caller may use, whatever its role. A
//! record of another merchant is answered as not found, never as forbidden, so that
//! its existence does not leak.

use std::collections::BTreeSet;
use std::fmt;

use crate::MerchantId;

/// A route group a credential may be granted. The strings are the OAuth scopes a token
/// carries (a Cognito resource server named `oms` issues exactly these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read orders, their tracking and alerts.
    OrdersRead,
    /// Cancel and modify orders, act on alerts.
    OrdersWrite,
    /// Read stock levels and warehouses.
    InventoryRead,
    /// Register warehouses, count stock, map channel SKUs.
    InventoryWrite,
    /// A merchant's own systems (its storefront's backend): price quotes and claims,
    /// vouching for the customer id they pass.
    Storefront,
    /// Platform administration (approvals, reviews).
    Admin,
    /// Act across every merchant: platform staff.
    Platform,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::OrdersRead,
        Scope::OrdersWrite,
        Scope::InventoryRead,
        Scope::InventoryWrite,
        Scope::Storefront,
        Scope::Admin,
        Scope::Platform,
    ];

    /// The scope as a token carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OrdersRead => "oms/orders.read",
            Scope::OrdersWrite => "oms/orders.write",
            Scope::InventoryRead => "oms/inventory.read",
            Scope::InventoryWrite => "oms/inventory.write",
            Scope::Storefront => "oms/storefront",
            Scope::Admin => "oms/admin",
            Scope::Platform => "oms/platform",
        }
    }

    /// A scope as a token spells it; `None` for one this API does not know (ignored).
    pub fn parse(raw: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == raw)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose records a caller works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acting {
    /// Platform staff: every merchant's.
    Platform,
    /// Merchant staff or a merchant's own systems: this merchant's only.
    Merchant(MerchantId),
}

/// Why a credential makes no caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallerError {
    #[error("the credential names no merchant and is not platform staff (scope {})", Scope::Platform)]
    NoMerchant,
    #[error("the credential's merchant claim is not a merchant id: {0}")]
    BadMerchant(String),
}

/// The caller has not been granted a scope the route needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this credential lacks the scope {0}")]
pub struct MissingScope(pub Scope);

/// A verified caller of an operator route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    acting: Acting,
    scopes: BTreeSet<Scope>,
}

impl Caller {
    /// The caller a verified credential makes: acting for the merchant it names, or for
    /// the platform when it names none and carries the platform scope. Unknown scopes are
    /// ignored; a credential naming a merchant acts for that merchant only, even with the
    /// platform scope.
    pub fn from_credential<'a>(merchant: Option<&str>, scopes: impl IntoIterator<Item = &'a str>) -> Result<Caller, CallerError> {
        let scopes: BTreeSet<Scope> = scopes.into_iter().filter_map(Scope::parse).collect();
        let merchant = merchant.map(str::trim).filter(|m| !m.is_empty());
        let acting = match merchant {
            Some(raw) => Acting::Merchant(MerchantId::parse(raw).map_err(|_| CallerError::BadMerchant(raw.to_owned()))?),
            None if scopes.contains(&Scope::Platform) => Acting::Platform,
            None => return Err(CallerError::NoMerchant),
        };
        Ok(Caller { acting, scopes })
    }

    /// Platform staff with every scope: what `oms serve` grants when no credentials are
    /// configured (loopback only), and what the platform's own jobs act as.
    pub fn platform_with_every_scope() -> Caller {
        Caller { acting: Acting::Platform, scopes: Scope::ALL.into_iter().collect() }
    }

    /// A merchant's caller with the scopes given (tests, the demo).
    pub fn merchant(merchant: MerchantId, scopes: impl IntoIterator<Item = Scope>) -> Caller {
        Caller { acting: Acting::Merchant(merchant), scopes: scopes.into_iter().collect() }
    }

    pub fn acting(&self) -> &Acting {
        &self.acting
    }

    /// The merchant this caller acts for; `None` for platform staff.
    pub fn merchant_id(&self) -> Option<&MerchantId> {
        match &self.acting {
            Acting::Platform => None,
            Acting::Merchant(merchant) => Some(merchant),
        }
    }

    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// Ok when the caller was granted `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), MissingScope> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(MissingScope(scope))
        }
    }

    /// Whether records of `merchant` are the caller's to see and change.
    pub fn sees(&self, merchant: &MerchantId) -> bool {
        match &self.acting {
            Acting::Platform => true,
            Acting::Merchant(own) => own == merchant,
        }
    }

    /// The merchant a request acts on: the one it names, which must be the caller's own
    /// (`None` when the caller may not act on it), else the caller's own merchant; platform
    /// staff must name one (`NoMerchantNamed`).
    pub fn merchant_named(&self, named: Option<&MerchantId>) -> Result<Option<MerchantId>, NoMerchantNamed> {
        match (&self.acting, named) {
            (Acting::Merchant(own), None) => Ok(Some(own.clone())),
            (_, Some(named)) => Ok(self.sees(named).then(|| named.clone())),
            (Acting::Platform, None) => Err(NoMerchantNamed),
        }
    }
}

/// Platform staff must name the merchant a request acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("name the merchant: platform staff act for every merchant")]
pub struct NoMerchantNamed;

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str) -> MerchantId {
        MerchantId::parse(id).unwrap()
    }

    #[test]
    fn a_credential_naming_a_merchant_acts_for_it_alone_even_with_the_platform_scope() {
        let caller = Caller::from_credential(Some("m-1"), ["oms/orders.read", "oms/platform"]).unwrap();
        assert_eq!(caller.acting(), &Acting::Merchant(m("m-1")));
        assert!(caller.sees(&m("m-1")));
        assert!(!caller.sees(&m("m-2")));
        assert!(caller.has(Scope::OrdersRead));
        assert_eq!(caller.require(Scope::OrdersWrite), Err(MissingScope(Scope::OrdersWrite)));
    }

    #[test]
    fn platform_staff_need_the_platform_scope_and_see_every_merchant() {
        assert_eq!(Caller::from_credential(None, ["oms/orders.read"]), Err(CallerError::NoMerchant));
        assert_eq!(Caller::from_credential(Some("  "), ["oms/orders.read"]), Err(CallerError::NoMerchant));
        let staff = Caller::from_credential(None, ["oms/platform", "oms/orders.read", "something/else"]).unwrap();
        assert_eq!(staff.acting(), &Acting::Platform);
        assert!(staff.sees(&m("m-1")) && staff.sees(&m("m-2")));
        assert!(!staff.has(Scope::OrdersWrite));
    }

    #[test]
    fn a_malformed_merchant_claim_makes_no_caller() {
        assert!(matches!(Caller::from_credential(Some("m 1\u{7}"), ["oms/platform"]), Err(CallerError::BadMerchant(_))));
    }

    #[test]
    fn the_merchant_a_request_acts_on_is_the_callers_own() {
        let caller = Caller::merchant(m("m-1"), [Scope::OrdersRead]);
        assert_eq!(caller.merchant_named(None), Ok(Some(m("m-1"))));
        assert_eq!(caller.merchant_named(Some(&m("m-1"))), Ok(Some(m("m-1"))));
        assert_eq!(caller.merchant_named(Some(&m("m-2"))), Ok(None));
        let staff = Caller::platform_with_every_scope();
        assert_eq!(staff.merchant_named(Some(&m("m-2"))), Ok(Some(m("m-2"))));
        assert_eq!(staff.merchant_named(None), Err(NoMerchantNamed));
    }

    #[test]
    fn every_scope_reads_back_from_its_string() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("orders.read"), None);
    }
}
