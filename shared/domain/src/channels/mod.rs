//! Sales channels: each channel's own payload normalised into a [`NewOrder`], and the
//! signature each channel puts on its webhooks.
//!
//! A normaliser only parses and checks; it never touches a store. Every refusal is a
//! [`ValidationError`] naming the field at fault.

pub mod generic;
pub mod signature;

use rust_decimal::Decimal;

use crate::money::{self, Currency};
use crate::order::{normalise_phone, Address, Channel, Customer, NewOrder, OrderLine, MAX_LINES, MAX_LINE_QUANTITY};
use crate::{CustomerId, Sku, ValidationError};

/// Largest webhook body any channel may send (bytes).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Parses a webhook body from `channel` into a canonical new order.
pub fn normalise(channel: Channel, body: &[u8]) -> Result<NewOrder, ValidationError> {
    match channel {
        Channel::Generic => generic::normalise(body),
        other => Err(ValidationError::new("channel", format!("orders from {other} are not accepted yet"))),
    }
}

/// The checks every channel's line goes through: a SKU, a quantity from 1 to
/// `MAX_LINE_QUANTITY`, and a non-negative price in the order's currency.
pub fn order_line(sku: Option<&str>, quantity: i64, unit_price: &str, currency: Currency) -> Result<OrderLine, ValidationError> {
    let sku = match sku.map(str::trim) {
        Some(s) if !s.is_empty() => Sku::parse(s).map_err(|e| e.within("sku"))?,
        _ => return Err(ValidationError::new("sku", "the line has no SKU; every line must name one")),
    };
    if quantity < 1 {
        return Err(ValidationError::new("quantity", format!("must be at least 1, got {quantity}")));
    }
    if quantity > i64::from(MAX_LINE_QUANTITY) {
        return Err(ValidationError::new("quantity", format!("must be at most {MAX_LINE_QUANTITY}, got {quantity}")));
    }
    let unit_price = money::parse_price(unit_price, currency).map_err(|e| e.within("unit_price"))?;
    Ok(OrderLine { sku, quantity: quantity as u32, unit_price })
}

/// Checks the number of lines and returns them, each error prefixed with `lines[i]`.
pub fn order_lines<T>(
    raw: &[T],
    field: &str,
    mut each: impl FnMut(&T) -> Result<OrderLine, ValidationError>,
) -> Result<Vec<OrderLine>, ValidationError> {
    if raw.is_empty() {
        return Err(ValidationError::new(field, "an order needs at least one line"));
    }
    if raw.len() > MAX_LINES {
        return Err(ValidationError::new(field, format!("at most {MAX_LINES} lines per order")));
    }
    raw.iter().enumerate().map(|(i, line)| each(line).map_err(|e| e.within(&format!("{field}[{i}]")))).collect()
}

/// A customer from its parts; an unparseable phone is refused rather than silently dropped.
pub fn customer(id: &str, email: Option<&str>, phone: Option<&str>, name: Option<&str>) -> Result<Customer, ValidationError> {
    let id = CustomerId::parse(id).map_err(|e| e.within("id"))?;
    let email = non_empty(email);
    if let Some(email) = &email {
        if !email.contains('@') || email.len() > 254 {
            return Err(ValidationError::new("email", format!("{email:?} is not an email address")));
        }
    }
    let phone = match non_empty(phone) {
        Some(raw) => {
            Some(normalise_phone(&raw).ok_or_else(|| ValidationError::new("phone", format!("{raw:?} is not a phone number")))?)
        }
        None => None,
    };
    Ok(Customer { id, email, phone, name: non_empty(name) })
}

/// A shipping address: street, city and a two-letter country are required.
pub fn address(parts: AddressParts<'_>) -> Result<Address, ValidationError> {
    let required = |field: &str, value: Option<&str>| non_empty(value).ok_or_else(|| ValidationError::new(field, "is required"));
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

/// The pieces of an address as a channel names them.
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

fn non_empty(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// Zero as a decimal, for channels that omit an amount.
pub const ZERO: Decimal = Decimal::ZERO;
