//! Money: decimal amounts (never floating point) in an ISO 4217 currency.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ValidationError;

/// Largest unit price or amount we accept (a guard against typos and overflow, not a business rule).
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// An ISO 4217 currency code, checked against the standard's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(iso_currency::Currency);

impl Currency {
    pub fn parse(code: &str) -> Result<Self, ValidationError> {
        iso_currency::Currency::from_code(&code.trim().to_ascii_uppercase())
            .map(Self)
            .ok_or_else(|| ValidationError::new("", format!("unknown currency {code:?} (expected an ISO 4217 code such as CNY)")))
    }

    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point in this currency's minor unit (2 for CNY, 0 for JPY).
    pub fn minor_digits(&self) -> u32 {
        self.0.exponent().map_or(2, u32::from)
    }
}

impl TryFrom<String> for Currency {
    type Error = ValidationError;
    fn try_from(code: String) -> Result<Self, Self::Error> {
        Self::parse(&code)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount with its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Money {
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub currency: Currency,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount.round_dp(self.currency.minor_digits()), self.currency)
    }
}

/// Parses a price given as a decimal string ("19.90"): non-negative, at most `MAX_AMOUNT`,
/// and no finer than a thousandth of the currency's minor unit.
pub fn parse_price(raw: &str, currency: Currency) -> Result<Decimal, ValidationError> {
    let amount: Decimal = raw.trim().parse().map_err(|_| ValidationError::new("", format!("{raw:?} is not a decimal amount")))?;
    check_price(amount, currency)
}

/// The checks of `parse_price` on an amount that is already a decimal.
pub fn check_price(amount: Decimal, currency: Currency) -> Result<Decimal, ValidationError> {
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(ValidationError::new("", "must not be negative"));
    }
    if amount > MAX_AMOUNT {
        return Err(ValidationError::new("", format!("must be at most {MAX_AMOUNT}")));
    }
    if amount.scale() > currency.minor_digits() + 3 {
        return Err(ValidationError::new("", format!("has more decimal places than {currency} allows")));
    }
    Ok(amount.normalize().max(Decimal::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes_are_checked_against_iso_4217() {
        assert_eq!(Currency::parse("cny").unwrap().code(), "CNY");
        assert_eq!(Currency::parse("JPY").unwrap().minor_digits(), 0);
        assert!(Currency::parse("XYZ").is_err());
        assert!(Currency::parse("").is_err());
    }

    #[test]
    fn prices_are_decimal_non_negative_and_bounded() {
        let cny = Currency::parse("CNY").unwrap();
        assert_eq!(parse_price("19.90", cny).unwrap().to_string(), "19.9");
        assert!(parse_price("-1", cny).is_err());
        assert!(parse_price("abc", cny).is_err());
        assert!(parse_price("1000000001", cny).is_err());
        assert!(parse_price("0.1234567", cny).is_err());
        assert!(parse_price("0", cny).is_ok());
    }

    #[test]
    fn money_displays_in_minor_units() {
        let m = Money { amount: Decimal::new(1990, 2), currency: Currency::parse("CNY").unwrap() };
        assert_eq!(m.to_string(), "19.90 CNY");
    }
}
