//! The generic channel: our own JSON order format (the contract's `POST /channels/generic/orders`).
//!
//! ```json
//! {"external_id":"A-1001","merchant_id":"m-1","placed_at":"2026-11-20T10:00:00Z",
//!  "currency":"CNY","customer":{"id":"c-1","email":"a@example.com","phone":"+8613800000000"},
//!  "shipping_address":{"name":"Li Lei","line1":"1 West Lake Rd","city":"Hangzhou",
//!  "province":"Zhejiang","postal_code":"310000","country":"CN"},
//!  "lines":[{"sku":"SKU-1","quantity":2,"unit_price":"19.90"}]}
//! ```
//!
//! The customer may carry `card_fingerprint`, the payment provider's fingerprint of the card
//! paid with (Stripe's `card.fingerprint`), which the fraud rules count orders by, and
//! `billing`, the invoice details given at checkout: `{"company","tax_id","address"}` (each
//! optional; the address in the shipping address's shape), which the order's invoice bills.
//!
//! Optional fields besides: `discount`, `shipping`, `tax` (decimal strings),
//! `taxes_included`, `updated_at`, `cancelled_at`, `paid` (default true) and `deliver_by`,
//! the delivery date promised to the buyer (`YYYY-MM-DD`, from the day the order was placed
//! to a year after), which choosing each shipment's carrier honours.
//!
//! `PATCH /orders/{id}` takes the same customer, address and line shapes; the domain reads
//! it (`order::OrderPatch::parse`), since modifying an order needs the order's currency.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::{order_line, order_lines, order_number};
use oms_domain::money::Currency;
use oms_domain::order::{Address, AddressParts, Billing, Channel, Charges, Customer, NewOrder, OrderPatch};
use oms_domain::validation::parse_json;
use oms_domain::{ExternalId, MerchantId, ValidationError};

#[derive(Debug, Deserialize)]
struct GenericOrder {
    external_id: String,
    merchant_id: String,
    placed_at: DateTime<Utc>,
    currency: String,
    customer: GenericCustomer,
    shipping_address: GenericAddress,
    lines: Vec<GenericLine>,
    /// Optional order-level amounts, decimal strings like the prices.
    discount: Option<String>,
    shipping: Option<String>,
    tax: Option<String>,
    taxes_included: Option<bool>,
    /// This version's time; a redelivery applies only when it is newer. Default: `placed_at`.
    updated_at: Option<DateTime<Utc>>,
    /// When the order was cancelled at the source, if it was.
    cancelled_at: Option<DateTime<Utc>>,
    /// Whether the buyer has paid; default true.
    #[serde(default)]
    paid: Option<bool>,
    /// The promised delivery date, `YYYY-MM-DD`; optional.
    #[serde(default)]
    deliver_by: Option<String>,
}

fn optional_amount(field: &str, raw: Option<&str>, currency: Currency) -> Result<rust_decimal::Decimal, ValidationError> {
    raw.map_or(Ok(rust_decimal::Decimal::ZERO), |v| oms_domain::money::parse_price(v, currency).map_err(|e| e.within(field)))
}

#[derive(Debug, Deserialize)]
struct GenericCustomer {
    id: String,
    email: Option<String>,
    phone: Option<String>,
    name: Option<String>,
    card_fingerprint: Option<String>,
    /// The invoice details given at checkout.
    billing: Option<GenericBilling>,
}

#[derive(Debug, Deserialize)]
struct GenericBilling {
    company: Option<String>,
    tax_id: Option<String>,
    address: Option<GenericAddress>,
}

#[derive(Debug, Deserialize)]
struct GenericAddress {
    name: Option<String>,
    line1: Option<String>,
    line2: Option<String>,
    city: Option<String>,
    province: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GenericLine {
    sku: Option<String>,
    quantity: i64,
    unit_price: String,
}

/// The body of `PATCH /orders/{id}`: the generic format's customer, address and line shapes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericPatch {
    customer: Option<GenericCustomer>,
    shipping_address: Option<GenericAddress>,
    lines: Option<Vec<GenericLine>>,
}

/// Parses a `PATCH /orders/{id}` body, each part checked as in a generic order; prices are
/// in the order's `currency`.
pub fn parse_patch(body: &[u8], currency: Currency) -> Result<OrderPatch, ValidationError> {
    let raw: GenericPatch = parse_json(body)?;
    if raw.customer.is_none() && raw.shipping_address.is_none() && raw.lines.is_none() {
        return Err(ValidationError::new("", "give at least one of customer, shipping_address, lines"));
    }
    Ok(OrderPatch {
        customer: raw.customer.as_ref().map(parse_customer).transpose()?,
        shipping_address: raw.shipping_address.as_ref().map(parse_address).transpose()?,
        lines: raw
            .lines
            .map(|lines| order_lines(&lines, "lines", |l| order_line(l.sku.as_deref(), l.quantity, &l.unit_price, currency)))
            .transpose()?,
    })
}

fn parse_customer(c: &GenericCustomer) -> Result<Customer, ValidationError> {
    let billing = c.billing.as_ref().map(parse_billing).transpose().map_err(|e| e.within("customer"))?.flatten();
    Customer::parse(&c.id, c.email.as_deref(), c.phone.as_deref(), c.name.as_deref())
        .and_then(|customer| customer.with_card(c.card_fingerprint.as_deref()))
        .map(|customer| customer.with_billing(billing))
        .map_err(|e| e.within("customer"))
}

/// Our own format's invoice details are checked whole: a billing address that is not one
/// is refused, naming it.
fn parse_billing(b: &GenericBilling) -> Result<Option<Billing>, ValidationError> {
    let address = b.address.as_ref().map(|a| address(a, "address")).transpose().map_err(|e| e.within("billing"))?;
    Billing::parse(b.company.as_deref(), b.tax_id.as_deref(), address).map_err(|e| e.within("billing"))
}

fn parse_address(a: &GenericAddress) -> Result<Address, ValidationError> {
    address(a, "shipping_address")
}

fn address(a: &GenericAddress, field: &str) -> Result<Address, ValidationError> {
    Address::parse(AddressParts {
        name: a.name.as_deref(),
        line1: a.line1.as_deref(),
        line2: a.line2.as_deref(),
        city: a.city.as_deref(),
        province: a.province.as_deref(),
        postal_code: a.postal_code.as_deref(),
        country: a.country.as_deref(),
    })
    .map_err(|e| e.within(field))
}

pub fn normalise(body: &[u8]) -> Result<NewOrder, ValidationError> {
    let raw: GenericOrder = parse_json(body)?;
    let currency = Currency::parse(&raw.currency).map_err(|e| e.within("currency"))?;
    let external_id = ExternalId::parse(raw.external_id).map_err(|e| e.within("external_id"))?;
    Ok(NewOrder {
        channel: Channel::Generic,
        order_number: order_number(None, &external_id)?,
        external_id,
        merchant_id: MerchantId::parse(raw.merchant_id).map_err(|e| e.within("merchant_id"))?,
        placed_at: raw.placed_at,
        customer: parse_customer(&raw.customer)?,
        shipping_address: parse_address(&raw.shipping_address)?,
        lines: order_lines(&raw.lines, "lines", |l| order_line(l.sku.as_deref(), l.quantity, &l.unit_price, currency))?,
        charges: Charges {
            discount: optional_amount("discount", raw.discount.as_deref(), currency)?,
            shipping: optional_amount("shipping", raw.shipping.as_deref(), currency)?,
            tax: optional_amount("tax", raw.tax.as_deref(), currency)?,
            taxes_included: raw.taxes_included.unwrap_or(false),
        },
        currency,
        channel_updated_at: raw.updated_at.unwrap_or(raw.placed_at),
        cancelled_at: raw.cancelled_at,
        paid: raw.paid.unwrap_or(true),
        deliver_by: raw.deliver_by.as_deref().map(|d| oms_domain::order::parse_deliver_by(d, raw.placed_at)).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const SAMPLE: &str = r#"{"external_id":"A-1001","merchant_id":"m-1","placed_at":"2026-11-20T10:00:00Z",
      "currency":"CNY","customer":{"id":"c-1","email":"a@example.com","phone":"+8613800000000"},
      "shipping_address":{"name":"Li Lei","line1":"1 West Lake Rd","city":"Hangzhou",
      "province":"Zhejiang","postal_code":"310000","country":"CN"},
      "lines":[{"sku":"SKU-1","quantity":2,"unit_price":"19.90"}]}"#;

    fn with(pointer: &str, value: serde_json::Value) -> Vec<u8> {
        let mut doc: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
        *doc.pointer_mut(pointer).unwrap() = value;
        serde_json::to_vec(&doc).unwrap()
    }

    #[test]
    fn the_contract_sample_normalises() {
        let order = normalise(SAMPLE.as_bytes()).unwrap();
        assert_eq!(order.external_id.as_str(), "A-1001");
        assert_eq!(order.currency.code(), "CNY");
        assert_eq!(order.lines[0].quantity, 2);
        assert_eq!(order.lines[0].unit_price.to_string(), "19.9");
        assert_eq!(order.shipping_address.province.as_deref(), Some("Zhejiang"));
        assert_eq!(order.customer.phone.as_deref(), Some("+8613800000000"));
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            ("/lines/0/quantity", serde_json::json!(0), "lines[0].quantity"),
            ("/lines/0/quantity", serde_json::json!(-3), "lines[0].quantity"),
            ("/lines/0/quantity", serde_json::json!(10_001), "lines[0].quantity"),
            ("/lines/0/quantity", serde_json::json!("2"), "lines[0].quantity"),
            ("/lines/0/quantity", serde_json::json!(1e30), "lines[0].quantity"),
            ("/lines/0/unit_price", serde_json::json!("-1"), "lines[0].unit_price"),
            ("/lines/0/sku", serde_json::json!(""), "lines[0].sku"),
            ("/lines", serde_json::json!([]), "lines"),
            ("/currency", serde_json::json!("XXQ"), "currency"),
            ("/placed_at", serde_json::json!("yesterday"), "placed_at"),
            ("/external_id", serde_json::json!(" "), "external_id"),
            ("/customer/phone", serde_json::json!("not a phone"), "customer.phone"),
            ("/shipping_address/city", serde_json::json!(null), "shipping_address.city"),
        ];
        for (pointer, value, field) in cases {
            let err = normalise(&with(pointer, value.clone())).unwrap_err();
            assert_eq!(err.field, field, "{pointer} = {value}: {err}");
        }
    }

    #[test]
    fn optional_charges_are_carried_and_checked() {
        let mut doc: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
        doc["discount"] = serde_json::json!("5.00");
        doc["shipping"] = serde_json::json!("12.00");
        let order = normalise(&serde_json::to_vec(&doc).unwrap()).unwrap();
        assert_eq!((order.charges.discount.to_string(), order.charges.shipping.to_string()), ("5".into(), "12".into()));
        assert!(order.charges.tax.is_zero());
        doc["tax"] = serde_json::json!("-1");
        assert_eq!(normalise(&serde_json::to_vec(&doc).unwrap()).unwrap_err().field, "tax");
    }

    #[test]
    fn a_line_without_sku_is_refused_with_a_message_that_says_so() {
        let err = normalise(&with("/lines/0/sku", serde_json::Value::Null)).unwrap_err();
        assert_eq!(err.field, "lines[0].sku");
        assert!(err.message.contains("no SKU"));
    }

    #[test]
    fn missing_fields_are_named() {
        let mut doc: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
        doc.as_object_mut().unwrap().remove("merchant_id");
        let err = normalise(&serde_json::to_vec(&doc).unwrap()).unwrap_err();
        assert!(err.message.contains("merchant_id"), "{err}");
    }

    #[test]
    fn a_patch_names_each_bad_field() {
        let cny = Currency::parse("CNY").unwrap();
        let patch = parse_patch(br#"{"lines":[{"sku":"SKU-1","quantity":2,"unit_price":"19.90"}]}"#, cny).unwrap();
        assert_eq!((patch.customer, patch.shipping_address), (None, None));
        assert_eq!(patch.lines.unwrap()[0].unit_price.to_string(), "19.9");
        let cases: [(&[u8], &str); 7] = [
            (br#"{}"#, ""),
            (br#"{"note":"x"}"#, "note"),
            (br#"{"lines":[]}"#, "lines"),
            (br#"{"lines":[{"sku":" ","quantity":1,"unit_price":"1"}]}"#, "lines[0].sku"),
            (br#"{"lines":[{"sku":"A","quantity":0,"unit_price":"x"}]}"#, "lines[0].quantity"),
            (br#"{"customer":{"id":"c-1","phone":"call me"}}"#, "customer.phone"),
            (br#"{"shipping_address":{"line1":"1 Rd","city":"X","country":"CHN"}}"#, "shipping_address.country"),
        ];
        for (body, field) in cases {
            let err = parse_patch(body, cny).unwrap_err();
            assert_eq!(err.field, field, "{}: {err}", String::from_utf8_lossy(body));
        }
    }
}
