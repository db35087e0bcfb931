//! The SKU catalogue: the product facts every feature that needs them shares (allocation
//! weighs shipments with `weight_g`; later features read cost, dimensions and traits).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::validation::clean_text;
use crate::{MerchantId, Sku, ValidationError};

/// Heaviest unit the catalogue accepts, in grams (a tonne).
pub const MAX_WEIGHT_G: u32 = 1_000_000;

/// Longest side the catalogue accepts, in millimetres (20 m).
pub const MAX_SIDE_MM: u32 = 20_000;

/// Longest name or category, in bytes.
pub const MAX_PRODUCT_TEXT: usize = 200;

/// Most traits one SKU may carry, and the longest one.
pub const MAX_TRAITS: usize = 20;
pub const MAX_TRAIT_LEN: usize = 40;

/// Largest cost or list price, in the merchant's currency.
pub const MAX_PRICE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// What the catalogue knows of one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuFacts {
    pub sku: Sku,
    pub merchant_id: MerchantId,
    pub name: String,
    pub category: String,
    /// What a unit costs the merchant.
    pub cost: Decimal,
    /// The price a unit is listed at.
    pub list_price: Decimal,
    /// The weight of one unit, packed.
    pub weight_g: u32,
    /// Length, width and height of one unit, packed.
    pub dims_mm: [u32; 3],
    /// Handling traits (`fragile`, `hazardous`, `cold_chain`, ...): lower-case words.
    pub traits: Vec<String>,
    /// A reorder point set by hand for each warehouse's stock of the SKU: replenishment
    /// uses it instead of the forecast's (see `crate::replenishment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_point: Option<u32>,
    /// Units to order when a stock is at or below `reorder_point`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_quantity: Option<u32>,
}

/// The facts as a caller gives them, before the rules are applied.
#[derive(Debug, Clone, PartialEq)]
pub struct UncheckedSkuFacts {
    pub merchant_id: String,
    pub name: String,
    pub category: String,
    pub cost: Decimal,
    pub list_price: Decimal,
    pub weight_g: i64,
    pub dims_mm: [i64; 3],
    pub traits: Vec<String>,
}

impl SkuFacts {
    /// The facts, by the rules: a merchant id; name and category cleaned and 1 to
    /// [`MAX_PRODUCT_TEXT`] long; cost and list price from 0 to [`MAX_PRICE`]; weight from 0
    /// to [`MAX_WEIGHT_G`]; each side from 0 to [`MAX_SIDE_MM`]; at most [`MAX_TRAITS`]
    /// traits, each a lower-case word of letters, digits and `_` (duplicates dropped).
    /// Errors name the field at fault.
    pub fn new(sku: Sku, raw: UncheckedSkuFacts) -> Result<Self, ValidationError> {
        let merchant_id = MerchantId::parse(raw.merchant_id).map_err(|e| e.within("merchant_id"))?;
        let text = |field: &str, value: &str| -> Result<String, ValidationError> {
            let value = clean_text(value);
            if value.is_empty() || value.len() > MAX_PRODUCT_TEXT {
                return Err(ValidationError::new(field, format!("must be 1 to {MAX_PRODUCT_TEXT} characters")));
            }
            Ok(value)
        };
        let price = |field: &str, value: Decimal| -> Result<Decimal, ValidationError> {
            if value.is_sign_negative() && !value.is_zero() {
                return Err(ValidationError::new(field, "must not be negative"));
            }
            if value > MAX_PRICE {
                return Err(ValidationError::new(field, format!("must be at most {MAX_PRICE}")));
            }
            Ok(value.normalize())
        };
        let bounded = |field: &str, value: i64, max: u32| -> Result<u32, ValidationError> {
            u32::try_from(value)
                .ok()
                .filter(|v| *v <= max)
                .ok_or_else(|| ValidationError::new(field, format!("must be from 0 to {max}, got {value}")))
        };
        let mut dims_mm = [0; 3];
        for (i, side) in raw.dims_mm.iter().enumerate() {
            dims_mm[i] = bounded(&format!("dims_mm[{i}]"), *side, MAX_SIDE_MM)?;
        }
        if raw.traits.len() > MAX_TRAITS {
            return Err(ValidationError::new("traits", format!("at most {MAX_TRAITS} traits")));
        }
        let mut traits = Vec::with_capacity(raw.traits.len());
        for (i, t) in raw.traits.iter().enumerate() {
            let word = t.trim();
            let ok = !word.is_empty()
                && word.len() <= MAX_TRAIT_LEN
                && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(ValidationError::new(
                    format!("traits[{i}]"),
                    format!("must be a lower-case word of letters, digits and _ (1 to {MAX_TRAIT_LEN})"),
                ));
            }
            if !traits.iter().any(|seen: &String| seen == word) {
                traits.push(word.to_owned());
            }
        }
        Ok(SkuFacts {
            sku,
            merchant_id,
            name: text("name", &raw.name)?,
            category: text("category", &raw.category)?,
            cost: price("cost", raw.cost)?,
            list_price: price("list_price", raw.list_price)?,
            weight_g: bounded("weight_g", raw.weight_g, MAX_WEIGHT_G)?,
            dims_mm,
            traits,
            reorder_point: None,
            reorder_quantity: None,
        })
    }

    /// The facts with a reorder point (and quantity) set by hand: each from 0 (1 for the
    /// quantity) to [`MAX_ON_HAND`](crate::stock::MAX_ON_HAND); a quantity needs a point.
    pub fn with_reorder(self, point: Option<i64>, quantity: Option<i64>) -> Result<Self, ValidationError> {
        let max = crate::stock::MAX_ON_HAND;
        let units = |field: &str, value: Option<i64>, least: u32| -> Result<Option<u32>, ValidationError> {
            value
                .map(|v| {
                    u32::try_from(v)
                        .ok()
                        .filter(|v| (least..=max).contains(v))
                        .ok_or_else(|| ValidationError::new(field, format!("must be from {least} to {max}, got {v}")))
                })
                .transpose()
        };
        let reorder_point = units("reorder_point", point, 0)?;
        let reorder_quantity = units("reorder_quantity", quantity, 1)?;
        if reorder_quantity.is_some() && reorder_point.is_none() {
            return Err(ValidationError::new("reorder_quantity", "give reorder_point with it"));
        }
        Ok(Self { reorder_point, reorder_quantity, ..self })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> UncheckedSkuFacts {
        UncheckedSkuFacts {
            merchant_id: "m-1".into(),
            name: " Green tea 250g ".into(),
            category: "tea".into(),
            cost: Decimal::new(1250, 2),
            list_price: Decimal::new(3990, 2),
            weight_g: 300,
            dims_mm: [120, 80, 60],
            traits: vec!["fragile".into(), "fragile".into()],
        }
    }

    fn sku() -> Sku {
        Sku::parse("TEA-1").unwrap()
    }

    #[test]
    fn facts_keep_cleaned_text_and_traits_once() {
        let facts = SkuFacts::new(sku(), raw()).unwrap();
        assert_eq!((facts.name.as_str(), facts.weight_g, facts.traits.clone()), ("Green tea 250g", 300, vec!["fragile".into()]));
    }

    #[test]
    fn negative_or_huge_numbers_and_odd_traits_are_refused_naming_the_field() {
        let field = |f: fn(&mut UncheckedSkuFacts)| {
            let mut r = raw();
            f(&mut r);
            SkuFacts::new(sku(), r).unwrap_err().field
        };
        assert_eq!(field(|r| r.weight_g = -1), "weight_g");
        assert_eq!(field(|r| r.weight_g = i64::from(MAX_WEIGHT_G) + 1), "weight_g");
        assert_eq!(field(|r| r.cost = Decimal::NEGATIVE_ONE), "cost");
        assert_eq!(field(|r| r.list_price = MAX_PRICE + Decimal::ONE), "list_price");
        assert_eq!(field(|r| r.dims_mm = [1, -5, 1]), "dims_mm[1]");
        assert_eq!(field(|r| r.traits = vec!["Fragile!".into()]), "traits[0]");
        assert_eq!(field(|r| r.name = "  ".into()), "name");
        assert_eq!(field(|r| r.merchant_id = String::new()), "merchant_id");
    }
}
