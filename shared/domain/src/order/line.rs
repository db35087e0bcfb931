//! What an order asks for: its lines, the order-level charges, and their limits.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::MAX_AMOUNT;
use crate::{Sku, ValidationError};

/// Most units of one SKU a single order line may ask for.
pub const MAX_LINE_QUANTITY: u32 = 10_000;
/// Most lines one order may have.
pub const MAX_LINES: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub sku: Sku,
    pub quantity: u32,
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
}

impl OrderLine {
    /// A line of `quantity` units (1 to [`MAX_LINE_QUANTITY`]) of `sku` at `unit_price`
    /// (from zero to [`MAX_AMOUNT`]). Errors name `quantity` or `unit_price`.
    pub fn new(sku: Sku, quantity: i64, unit_price: Decimal) -> Result<OrderLine, ValidationError> {
        let quantity = check_quantity(quantity)?;
        if unit_price.is_sign_negative() && !unit_price.is_zero() {
            return Err(ValidationError::new("unit_price", "must not be negative"));
        }
        if unit_price > MAX_AMOUNT {
            return Err(ValidationError::new("unit_price", format!("must be at most {MAX_AMOUNT}")));
        }
        Ok(OrderLine { sku, quantity, unit_price: unit_price.max(Decimal::ZERO) })
    }
}

/// A line's quantity, from 1 to [`MAX_LINE_QUANTITY`]; an error names `quantity`.
///
/// [`OrderLine::new`] checks it too; a parser calls it first to refuse a bad quantity
/// before it reads the price.
pub fn check_quantity(quantity: i64) -> Result<u32, ValidationError> {
    if quantity < 1 {
        return Err(ValidationError::new("quantity", format!("must be at least 1, got {quantity}")));
    }
    match u32::try_from(quantity) {
        Ok(q) if q <= MAX_LINE_QUANTITY => Ok(q),
        _ => Err(ValidationError::new("quantity", format!("must be at most {MAX_LINE_QUANTITY}, got {quantity}"))),
    }
}

/// An order's lines, one per item of `raw` through `each`: at least one and at most
/// [`MAX_LINES`] (an error names `field`), each error prefixed with `field[i]`.
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

/// Order-level amounts beyond the lines' unit prices, in the order's currency, each
/// non-negative and as the channel reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charges {
    /// Everything taken off: line and order discounts, coupons, promotions.
    pub discount: Decimal,
    /// What the buyer pays for shipping, before shipping discounts.
    pub shipping: Decimal,
    /// Tax on the items and on shipping.
    pub tax: Decimal,
    /// True when the unit prices already include `tax` (Shopify's `taxes_included`).
    #[serde(default)]
    pub taxes_included: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku() -> Sku {
        Sku::parse("SKU-1").unwrap()
    }

    #[test]
    fn a_line_holds_one_to_max_units_at_a_bounded_price() {
        let line = OrderLine::new(sku(), 2, Decimal::new(1990, 2)).unwrap();
        assert_eq!((line.quantity, line.unit_price.to_string()), (2, "19.90".into()));
        assert!(OrderLine::new(sku(), 1, Decimal::ZERO).is_ok());
        assert!(OrderLine::new(sku(), i64::from(MAX_LINE_QUANTITY), MAX_AMOUNT).is_ok());
        for quantity in [0, -1, i64::from(MAX_LINE_QUANTITY) + 1, i64::MAX] {
            assert_eq!(OrderLine::new(sku(), quantity, Decimal::ONE).unwrap_err().field, "quantity", "{quantity}");
        }
        for price in [Decimal::NEGATIVE_ONE, MAX_AMOUNT + Decimal::ONE] {
            assert_eq!(OrderLine::new(sku(), 1, price).unwrap_err().field, "unit_price", "{price}");
        }
    }

    #[test]
    fn an_order_has_one_to_max_lines() {
        let ok = |_: &u8| OrderLine::new(sku(), 1, Decimal::ONE);
        assert_eq!(order_lines(&[1, 2], "lines", ok).unwrap().len(), 2);
        assert_eq!(order_lines(&[], "lines", ok).unwrap_err().field, "lines");
        assert_eq!(order_lines(&[0; MAX_LINES + 1], "lines", ok).unwrap_err().field, "lines");
        let err = order_lines(&[1, 0], "items", |n| OrderLine::new(sku(), i64::from(*n), Decimal::ONE)).unwrap_err();
        assert_eq!(err.field, "items[1].quantity");
    }
}
