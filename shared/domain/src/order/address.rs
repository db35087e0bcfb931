//! Where an order ships to.

use serde::{Deserialize, Serialize};

use super::non_empty;
use crate::ValidationError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    /// Province or state; some countries have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

impl Address {
    /// A shipping address from its parts: street, city and a two-letter country are
    /// required; the country is upper-cased and blank optional parts are left out.
    pub fn parse(parts: AddressParts<'_>) -> Result<Address, ValidationError> {
        let required =
            |field: &str, value: Option<&str>| non_empty(value).ok_or_else(|| ValidationError::new(field, "is required"));
        let country = required("country", parts.country)?.to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(ValidationError::new("country", format!("{country:?} is not an ISO 3166 two-letter country code")));
        }
        Ok(Address {
            name: non_empty(parts.name),
            line1: required("line1", parts.line1)?,
            line2: non_empty(parts.line2),
            city: required("city", parts.city)?,
            province: non_empty(parts.province),
            postal_code: non_empty(parts.postal_code),
            country,
        })
    }
}

impl Address {
    /// What names one door however the address is typed: the SHA-256 (hex) of its street
    /// (both lines, whichever holds the flat), postal code (or city when there is none) and country, lower-cased, letters and digits
    /// only ("Flat 2, 1 West Lake Rd." and "flat 2 1 west lake rd" are one), so it is short
    /// whatever the address's length. What the fraud rules count orders by across customer
    /// ids; the recipient's name is left out.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let place = self.postal_code.as_deref().unwrap_or(&self.city);
        let mut hasher = Sha256::new();
        let street = format!("{}{}", self.line1, self.line2.as_deref().unwrap_or(""));
        for part in [self.country.as_str(), place, street.as_str()] {
            let kept: String = part.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
            hasher.update(kept.as_bytes());
            hasher.update(b"|");
        }
        hex::encode(hasher.finalize())
    }
}

/// The pieces of an address as a channel names them, for [`Address::parse`].
#[derive(Debug, Default, Clone, Copy)]
pub struct AddressParts<'a> {
    pub name: Option<&'a str>,
    pub line1: Option<&'a str>,
    pub line2: Option<&'a str>,
    pub city: Option<&'a str>,
    pub province: Option<&'a str>,
    pub postal_code: Option<&'a str>,
    pub country: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_needs_street_city_and_a_two_letter_country() {
        let parts =
            AddressParts { line1: Some("1 West Lake Rd"), city: Some("Hangzhou"), country: Some("cn"), ..Default::default() };
        let address = Address::parse(parts).unwrap();
        assert_eq!((address.country.as_str(), address.province.as_deref()), ("CN", None));
        assert_eq!(Address::parse(AddressParts { country: Some("CHN"), ..parts }).unwrap_err().field, "country");
        assert_eq!(Address::parse(AddressParts { line1: Some(" "), ..parts }).unwrap_err().field, "line1");
        assert_eq!(Address::parse(AddressParts { city: None, ..parts }).unwrap_err().field, "city");
    }

    #[test]
    fn one_door_typed_two_ways_has_one_fingerprint() {
        let parts = AddressParts {
            name: Some("Ann"),
            line1: Some("Flat 2, 1 West Lake Rd."),
            city: Some("Hangzhou"),
            postal_code: Some("310000"),
            country: Some("CN"),
            ..Default::default()
        };
        let one = Address::parse(parts).unwrap();
        let other = Address::parse(AddressParts { name: Some("Bob"), line1: Some(" flat 2 1 WEST lake rd"), ..parts }).unwrap();
        assert_eq!(one.fingerprint().len(), 64);
        assert_eq!(one.fingerprint(), other.fingerprint());
        let next_door = Address::parse(AddressParts { line1: Some("Flat 3, 1 West Lake Rd."), ..parts }).unwrap();
        assert_ne!(one.fingerprint(), next_door.fingerprint());
        let no_postcode = Address::parse(AddressParts { postal_code: None, ..parts }).unwrap();
        assert_ne!(one.fingerprint(), no_postcode.fingerprint(), "the city stands in for the postal code");
        let parts_moved = Address::parse(AddressParts { line1: Some("Flat 2"), line2: Some("1 West Lake Rd"), ..parts }).unwrap();
        assert_eq!(one.fingerprint(), parts_moved.fingerprint(), "the flat on either line");
    }
}
