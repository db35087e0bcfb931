//! Who placed an order.

use serde::{Deserialize, Serialize};

use super::{non_empty, Address};
use crate::{CustomerId, ValidationError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Kept as digits with an optional leading `+`, so lookups match however it was typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The fingerprint of the card the buyer paid with, as the channel or its payment
    /// provider gives it (one card reads the same whoever pays with it): what the fraud
    /// rules count orders by across customer ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
    /// What the buyer gave at checkout for its invoice (a company, a tax number, a billing
    /// address), if anything: the order's invoice bills it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<Billing>,
}

/// The invoice details a buyer gives at checkout. At least one part is present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Billing {
    /// The company billed, for a business invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// The buyer's tax registration number (a VAT number, a unified social credit code),
    /// upper-cased as printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    /// Where the invoice is addressed, when not to the shipping address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// The longest company name kept on an invoice.
pub const MAX_COMPANY_CHARS: usize = 200;
/// The longest tax number: letters, digits and `-`, `.`, `/` or spaces between them.
pub const MAX_TAX_ID_CHARS: usize = 40;

impl Billing {
    /// Invoice details from their parts; `None` when every
    /// part is blank (each is cleaned of control characters). A company past [`MAX_COMPANY_CHARS`] or a tax number that is not one
    /// is refused, naming `company` or `tax_id`.
    pub fn parse(
        company: Option<&str>,
        tax_id: Option<&str>,
        address: Option<Address>,
    ) -> Result<Option<Billing>, ValidationError> {
        let company = non_empty(company);
        if let Some(company) = &company {
            if company.chars().count() > MAX_COMPANY_CHARS {
                return Err(ValidationError::new("company", format!("is longer than {MAX_COMPANY_CHARS} characters")));
            }
        }
        let tax_id = match non_empty(tax_id) {
            Some(raw) => Some(tax_number(&raw).ok_or_else(|| {
                ValidationError::new(
                    "tax_id",
                    format!("is not a tax number (letters and digits, with -, ., / or spaces between, at most {MAX_TAX_ID_CHARS} characters)"),
                )
            })?),
            None => None,
        };
        if company.is_none() && tax_id.is_none() && address.is_none() {
            return Ok(None);
        }
        Ok(Some(Billing { company, tax_id, address }))
    }
}

/// A tax number as printed: upper-cased, at most [`MAX_TAX_ID_CHARS`], letters and digits
/// with separators only between them.
fn tax_number(raw: &str) -> Option<String> {
    let upper = raw.trim().to_uppercase();
    let separators = |c: char| matches!(c, '-' | '.' | '/' | ' ');
    let well_formed = upper.chars().count() <= MAX_TAX_ID_CHARS
        && upper.chars().all(|c| c.is_ascii_alphanumeric() || separators(c))
        && upper.starts_with(|c: char| c.is_ascii_alphanumeric())
        && upper.ends_with(|c: char| c.is_ascii_alphanumeric());
    well_formed.then_some(upper)
}

impl Customer {
    /// A customer from its parts, each blank one left out; an email without `@` or a phone
    /// that is not one is refused (naming `email` or `phone`) rather than silently dropped.
    pub fn parse(id: &str, email: Option<&str>, phone: Option<&str>, name: Option<&str>) -> Result<Customer, ValidationError> {
        let id = CustomerId::parse(id).map_err(|e| e.within("id"))?;
        let email = non_empty(email);
        if let Some(email) = &email {
            if !email.contains('@') || email.len() > 254 {
                return Err(ValidationError::new("email", format!("{email:?} is not an email address")));
            }
        }
        let phone = match non_empty(phone) {
            Some(raw) => Some(
                normalise_phone(&raw).ok_or_else(|| ValidationError::new("phone", format!("{raw:?} is not a phone number")))?,
            ),
            None => None,
        };
        Ok(Customer { id, email, phone, name: non_empty(name), card: None, billing: None })
    }

    /// A customer known by its id alone (the platform's own orders: a claim's, a winner's).
    pub fn known(id: CustomerId) -> Customer {
        Customer { id, email: None, phone: None, name: None, card: None, billing: None }
    }

    /// The customer with the fingerprint of its card, if one is given: printable ASCII
    /// without spaces, at most [`MAX_CARD_FINGERPRINT`] characters, refused (naming
    /// `card_fingerprint`) otherwise.
    pub fn with_card(self, card: Option<&str>) -> Result<Customer, ValidationError> {
        let card = match non_empty(card) {
            Some(card) if card.len() > MAX_CARD_FINGERPRINT || !card.chars().all(|c| c.is_ascii_graphic()) => {
                return Err(ValidationError::new(
                    "card_fingerprint",
                    format!("is not a card fingerprint (printable ASCII, no spaces, at most {MAX_CARD_FINGERPRINT} characters)"),
                ));
            }
            card => card,
        };
        Ok(Customer { card, ..self })
    }

    /// The customer with the invoice details given at checkout, if any.
    pub fn with_billing(self, billing: Option<Billing>) -> Customer {
        Customer { billing, ..self }
    }
}

/// The longest card fingerprint kept.
pub const MAX_CARD_FINGERPRINT: usize = 128;

/// Reduces a phone number to `+` and digits: "+86 138-0000 0000" and "+8613800000000" are one customer.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    for (i, c) in raw.trim().chars().enumerate() {
        match c {
            '+' if i == 0 => out.push(c),
            '0'..='9' => out.push(c),
            ' ' | '-' | '(' | ')' | '.' => {}
            _ => return None,
        }
    }
    (out.chars().filter(char::is_ascii_digit).count() >= 5).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalised() {
        assert_eq!(normalise_phone("+86 138-0000 0000").as_deref(), Some("+8613800000000"));
        assert_eq!(normalise_phone("(555) 010.1234").as_deref(), Some("5550101234"));
        assert_eq!(normalise_phone("call me"), None);
    }

    #[test]
    fn a_customer_is_parsed_from_its_parts() {
        let c = Customer::parse("c-1", Some(" a@example.com "), Some("+86 138-0000 0000"), Some("  ")).unwrap();
        assert_eq!(c.id.as_str(), "c-1");
        assert_eq!(c.email.as_deref(), Some("a@example.com"));
        assert_eq!(c.phone.as_deref(), Some("+8613800000000"));
        assert_eq!(c.name, None);
        assert_eq!(Customer::parse("c-1", Some("nope"), None, None).unwrap_err().field, "email");
        assert_eq!(Customer::parse("c-1", None, Some("call me"), None).unwrap_err().field, "phone");
        assert_eq!(Customer::parse(" ", None, None, None).unwrap_err().field, "id");
    }

    #[test]
    fn a_card_fingerprint_is_kept_as_given_or_refused() {
        let c = Customer::parse("c-1", None, None, None).unwrap();
        assert_eq!(c.clone().with_card(Some(" fp_9Xb2 ")).unwrap().card.as_deref(), Some("fp_9Xb2"));
        assert_eq!(c.clone().with_card(Some("  ")).unwrap().card, None);
        assert_eq!(c.clone().with_card(Some("two words")).unwrap_err().field, "card_fingerprint");
        assert_eq!(c.with_card(Some(&"x".repeat(MAX_CARD_FINGERPRINT + 1))).unwrap_err().field, "card_fingerprint");
    }

    #[test]
    fn invoice_details_are_cleaned_or_refused() {
        let billing = Billing::parse(Some(" Acme\u{0} Trading "), Some("gb 123 4567 89"), None).unwrap().unwrap();
        assert_eq!(billing.company.as_deref(), Some("Acme  Trading"));
        assert_eq!(billing.tax_id.as_deref(), Some("GB 123 4567 89"));
        assert_eq!(Billing::parse(Some(" "), Some(""), None).unwrap(), None);
        assert_eq!(Billing::parse(None, Some("91330100-MA27"), None).unwrap().unwrap().tax_id.as_deref(), Some("91330100-MA27"));
        for bad in ["-123", "12 3-", "12;34", &"9".repeat(MAX_TAX_ID_CHARS + 1)] {
            assert_eq!(Billing::parse(None, Some(bad), None).unwrap_err().field, "tax_id", "{bad}");
        }
        assert_eq!(Billing::parse(Some(&"x".repeat(MAX_COMPANY_CHARS + 1)), None, None).unwrap_err().field, "company");
    }
}
