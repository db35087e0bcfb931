//! Typed identifiers. Each is a non-empty string of at most 128 printable characters;
//! `parse` is the only way in from the outside world.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ValidationError;

/// Longest identifier we accept from any channel or API caller.
pub const MAX_ID_LEN: usize = 128;

/// A character that prints as nothing (zero-width spaces and joiners, direction marks, the
/// byte order mark, a soft hyphen): an id holding one looks like another id but is not.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks the raw value: trimmed, non-empty, at most 128 characters, no control
            /// characters and no invisible ones (so no two ids look alike but differ).
            pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
                let raw: String = raw.into();
                let trimmed = raw.trim();
                if trimmed.is_empty() {
                    return Err(ValidationError::new("", "must not be empty"));
                }
                if trimmed.chars().count() > MAX_ID_LEN {
                    return Err(ValidationError::new("", format!("must be at most {MAX_ID_LEN} characters")));
                }
                if trimmed.chars().any(char::is_control) {
                    return Err(ValidationError::new("", "must not contain control characters"));
                }
                if trimmed.chars().any(is_invisible) {
                    return Err(ValidationError::new("", "must not contain invisible characters"));
                }
                Ok(Self(trimmed.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// Our id of an order, minted at intake (`ord_` + a ULID, so ids sort by creation time).
    OrderId
);
string_id!(
    /// The id the sales channel gave the order; unique per channel.
    ExternalId
);
string_id!(
    /// The channel's own number of the order, as the buyer saw it (Shopify's `name`,
    /// `#1001`; WooCommerce's `number`; Amazon's order id; the generic and CSV
    /// `external_id`). Not unique: shops renumber, and channels reuse numbers.
    OrderNumber
);
string_id!(
    /// A merchant selling through the platform.
    MerchantId
);
string_id!(
    /// A buyer, as the channel or merchant identifies them.
    CustomerId
);
string_id!(
    /// A stock-keeping unit.
    Sku
);
string_id!(
    /// A warehouse holding stock.
    WarehouseId
);
string_id!(
    /// A carrier whose rates the platform knows (`sf`, `zto`, ...).
    CarrierId
);

string_id!(
    /// A buyer's request for quotes (a requirement list), named by the buyer.
    RfqId
);

string_id!(
    /// An alert for staff, minted when it is raised (`alt_` + a ULID, so ids sort by
    /// when they were raised).
    AlertId
);

string_id!(
    /// A shipment the warehouse reported, minted when it is recorded (`shp_` + a ULID).
    ShipmentId
);
string_id!(
    /// A carrier's tracking number of one parcel; unique across carriers in practice, and
    /// the key both stores find a shipment and its events by.
    TrackingNumber
);
string_id!(
    /// One carrier event's id: the provider's own, or derived from the tracking number,
    /// status and time when the provider gives none (`TrackingEvent::derived_id`).
    TrackingEventId
);

string_id!(
    /// A buyer request, named by its client (`request_id`), so a retried post is one request.
    BuyerRequestId
);

string_id!(
    /// A consignment grant, named by the merchant who gives it (`PUT /consignments/{id}`).
    ConsignmentId
);

impl ShipmentId {
    /// A fresh shipment id.
    pub fn generate() -> Self {
        Self(format!("shp_{}", ulid::Ulid::new()))
    }
}

impl AlertId {
    /// A fresh alert id.
    pub fn generate() -> Self {
        Self(format!("alt_{}", ulid::Ulid::new()))
    }
}

string_id!(
    /// A merchant's supplier, named by the merchant (`PUT /suppliers/{id}`).
    SupplierId
);
string_id!(
    /// A purchase order, minted when it is placed (`po_` + a ULID, so ids sort by when
    /// they were placed).
    PurchaseOrderId
);

impl PurchaseOrderId {
    /// A fresh purchase order id; within one process strictly increasing (two made in
    /// one millisecond follow each other), so a listing by id is in the order placed.
    pub fn generate() -> Self {
        static LAST: std::sync::Mutex<Option<ulid::Ulid>> = std::sync::Mutex::new(None);
        let fresh = ulid::Ulid::new();
        let mut last = LAST.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = match *last {
            Some(before) if fresh <= before => before.increment().unwrap_or(fresh),
            _ => fresh,
        };
        *last = Some(id);
        Self(format!("po_{id}"))
    }

    /// An id as [`generate`](Self::generate) mints them (`po_` and a ULID): what a listing
    /// cursor must be, so a cursor the API never answered is refused, not read as a place.
    pub fn parse_minted(raw: &str) -> Result<Self, ValidationError> {
        raw.strip_prefix("po_")
            .filter(|ulid| ulid::Ulid::from_string(ulid).is_ok())
            .map(|_| Self(raw.to_owned()))
            .ok_or_else(|| ValidationError::new("", format!("{raw:?} is not a purchase order id this API gave")))
    }
}

string_id!(
    /// What the warehouse calls one delivery received against a purchase order: a
    /// receipt is applied once per id.
    ReceiptId
);

impl OrderId {
    /// A fresh order id.
    pub fn generate() -> Self {
        Self(format!("ord_{}", ulid::Ulid::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_with_an_invisible_character_is_refused_so_no_two_ids_look_alike() {
        assert!(MerchantId::parse("m-1\u{200B}").is_err());
        assert!(Sku::parse("SKU\u{FEFF}1").is_err());
        assert_eq!(MerchantId::parse(" m-1 ").unwrap().as_str(), "m-1");
    }

    #[test]
    fn ids_are_trimmed_and_checked() {
        assert_eq!(Sku::parse("  SKU-1 ").unwrap().as_str(), "SKU-1");
        assert!(Sku::parse("   ").is_err());
        assert!(Sku::parse("a\u{0}b").is_err());
        assert!(Sku::parse("x".repeat(129)).is_err());
    }

    #[test]
    fn generated_order_ids_are_unique_and_prefixed() {
        let a = OrderId::generate();
        let b = OrderId::generate();
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("ord_"));
    }

    #[test]
    fn ids_refuse_bad_values_when_deserialised() {
        assert!(serde_json::from_str::<Sku>("\"\"").is_err());
        assert_eq!(serde_json::from_str::<Sku>("\"A\"").unwrap().as_str(), "A");
    }
}
