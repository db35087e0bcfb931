//! Shopify: the `orders/create` webhook, whose body is the REST Admin API `Order` resource.
//!
//! ```json
//! {"id":450789469,"name":"#1001","email":"bob.norman@example.com","phone":null,
//!  "currency":"USD","created_at":"2026-11-20T10:00:00-05:00","taxes_included":false,
//!  "customer":{"id":207119551,"email":"bob.norman@example.com","phone":"+16136120707",
//!              "first_name":"Bob","last_name":"Norman"},
//!  "shipping_address":{"first_name":"Bob","last_name":"Norman","address1":"Chestnut Street 92",
//!              "address2":"","city":"Louisville","province":"Kentucky","province_code":"KY",
//!              "zip":"40202","country_code":"US","phone":"+1(502)-459-2181"},
//!  "line_items":[{"id":466157049,"sku":"IPOD2008GREEN","quantity":1,"price":"199.00",
//!                 "total_discount":"0.00","tax_lines":[{"price":"11.94","rate":0.06,"title":"State Tax"}]}],
//!  "total_discounts":"0.00","total_tax":"11.94",
//!  "total_shipping_price_set":{"shop_money":{"amount":"10.00","currency_code":"USD"}}}
//! ```
//!
//! - `orders/updated` and `orders/cancelled` carry the same resource. `updated_at` is the
//!   version's time (a redelivery applies only when it is newer; default `created_at`); a
//!   non-null `cancelled_at` (or the `X-Shopify-Topic` `orders/cancelled`, passed as
//!   [`Meta::topic`]) is the shop cancelling the order.
//! - `external_id` is the numeric `id` as a string (`name`, "#1001", is the shop's display number).
//! - The merchant is not in the body: Shopify names the shop in the `X-Shopify-Shop-Domain`
//!   header, which the caller passes as [`Meta::merchant_id`]; without it the order is refused
//!   naming `merchant_id`.
//! - The customer is `customer.id`; a guest checkout (no `customer`) is `guest:` + the email,
//!   else `guest:` + the phone (see [`customer_id_or_guest`]).
//! - The card paid with, for the fraud rules, is `payment_details` (brand, BIN and last four
//!   digits, `shopify:<brand>:<bin>:<last4>`) when Shopify gives both BIN and number.
//! - Money is decimal strings in the shop's `currency`. Unit prices are the line `price`
//!   (before discounts). Charges: `total_discounts` (else the lines' `total_discount`),
//!   `total_tax` (else the `tax_lines` of the line items and shipping lines), shipping from `total_shipping_price_set.shop_money`
//!   (else the `shipping_lines` prices). When the order says `taxes_included`, the tax is
//!   already inside the prices.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::{customer_id_or_guest, full_name, order_line, order_lines, order_number, renamed, sum};
use crate::{Charges, Meta};
use oms_domain::money::{self, Currency};
use oms_domain::order::{Address, AddressParts, Billing, Channel, Customer, NewOrder};
use oms_domain::validation::parse_json;
use oms_domain::{ExternalId, MerchantId, ValidationError};

#[derive(Debug, Deserialize)]
struct ShopifyOrder {
    id: u64,
    /// The shop's display number (`#1001`), what the buyer sees.
    name: Option<String>,
    email: Option<String>,
    contact_email: Option<String>,
    phone: Option<String>,
    currency: String,
    created_at: DateTime<Utc>,
    updated_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
    /// `paid`, `partially_refunded`, `refunded`: paid; `pending`, `authorized`,
    /// `partially_paid`, `voided`: not (yet). Absent: paid (older payloads).
    #[serde(default)]
    financial_status: Option<String>,
    customer: Option<ShopifyCustomer>,
    #[serde(default)]
    payment_details: Option<PaymentDetails>,
    shipping_address: Option<ShopifyAddress>,
    /// The checkout's billing address, with the company billed: the invoice details.
    #[serde(default)]
    billing_address: Option<ShopifyAddress>,
    line_items: Vec<ShopifyLine>,
    total_discounts: Option<String>,
    total_tax: Option<String>,
    taxes_included: Option<bool>,
    total_shipping_price_set: Option<PriceSet>,
    shipping_lines: Option<Vec<ShippingLine>>,
}

/// What Shopify tells of the card paid with.
#[derive(Debug, Deserialize)]
struct PaymentDetails {
    credit_card_bin: Option<String>,
    /// Masked: "•••• •••• •••• 4242".
    credit_card_number: Option<String>,
    credit_card_company: Option<String>,
}

impl PaymentDetails {
    /// `shopify:<brand>:<bin>:<last4>`, letters and digits only, when both the BIN and the
    /// last four digits are given.
    fn fingerprint(&self) -> Option<String> {
        let digits = |raw: &str| raw.chars().filter(char::is_ascii_digit).collect::<String>();
        let bin = digits(self.credit_card_bin.as_deref()?);
        let number = digits(self.credit_card_number.as_deref()?);
        let last4 = number.get(number.len().checked_sub(4)?..)?;
        let brand: String = self
            .credit_card_company
            .as_deref()
            .unwrap_or("")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        (!bin.is_empty()).then(|| format!("shopify:{brand}:{bin}:{last4}"))
    }
}

#[derive(Debug, Deserialize)]
struct ShopifyCustomer {
    id: Option<u64>,
    email: Option<String>,
    phone: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ShopifyAddress {
    name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    company: Option<String>,
    address1: Option<String>,
    address2: Option<String>,
    city: Option<String>,
    province: Option<String>,
    province_code: Option<String>,
    zip: Option<String>,
    country_code: Option<String>,
    phone: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ShopifyLine {
    sku: Option<String>,
    quantity: i64,
    price: String,
    total_discount: Option<String>,
    tax_lines: Option<Vec<TaxLine>>,
}

#[derive(Debug, Deserialize)]
struct TaxLine {
    price: String,
}

#[derive(Debug, Deserialize)]
struct PriceSet {
    shop_money: ShopMoney,
}

#[derive(Debug, Deserialize)]
struct ShopMoney {
    amount: String,
}

#[derive(Debug, Deserialize)]
struct ShippingLine {
    price: String,
    tax_lines: Option<Vec<TaxLine>>,
}

/// Normalises an `orders/create` body; `meta.merchant_id` is the shop domain.
pub fn normalise(body: &[u8], meta: &Meta) -> Result<NewOrder, ValidationError> {
    let raw: ShopifyOrder = parse_json(body)?;
    let currency = Currency::parse(&raw.currency).map_err(|e| e.within("currency"))?;
    let external_id = ExternalId::parse(raw.id.to_string()).map_err(|e| e.within("id"))?;
    let order_number = order_number(raw.name.as_deref(), &external_id).map_err(|e| e.within("name"))?;
    let lines = order_lines(&raw.line_items, "line_items", |l| {
        order_line(l.sku.as_deref(), l.quantity, &l.price, currency).map_err(|e| renamed(e, &[("unit_price", "price")]))
    })?;
    let merchant_id = merchant(meta)?;
    let shipping_address = shipping_address(raw.shipping_address.as_ref())?;
    let customer = buyer(&raw)?;
    let charges = charges(&raw, currency)?;
    let order = NewOrder {
        charges,
        channel: Channel::Shopify,
        external_id,
        order_number,
        merchant_id,
        placed_at: raw.created_at,
        currency,
        customer,
        shipping_address,
        lines,
        channel_updated_at: raw.updated_at.unwrap_or(raw.created_at),
        cancelled_at: cancelled_at(&raw, meta),
        paid: raw.financial_status.as_deref().is_none_or(|s| matches!(s, "paid" | "partially_refunded" | "refunded")),
        deliver_by: None,
    };
    Ok(order)
}

/// When the shop cancelled the order: its `cancelled_at`, or for an `orders/cancelled`
/// delivery without one, the order's `updated_at`.
fn cancelled_at(raw: &ShopifyOrder, meta: &Meta) -> Option<DateTime<Utc>> {
    let cancel_topic = meta.topic.as_deref().is_some_and(|t| t.trim().eq_ignore_ascii_case(CANCELLED_TOPIC));
    raw.cancelled_at.or_else(|| cancel_topic.then(|| raw.updated_at.unwrap_or(raw.created_at)))
}

/// The `X-Shopify-Topic` of a cancel.
pub const CANCELLED_TOPIC: &str = "orders/cancelled";

fn merchant(meta: &Meta) -> Result<MerchantId, ValidationError> {
    let domain = meta.merchant_id.as_deref().map(str::trim).filter(|d| !d.is_empty()).ok_or_else(|| {
        ValidationError::new(
            "merchant_id",
            "Shopify names the shop only in the X-Shopify-Shop-Domain header, and the request had none",
        )
    })?;
    MerchantId::parse(domain.to_ascii_lowercase()).map_err(|e| e.within("merchant_id"))
}

fn shipping_address(a: Option<&ShopifyAddress>) -> Result<Address, ValidationError> {
    let a = a.ok_or_else(|| ValidationError::new("shipping_address", "is required: the order has nowhere to ship to"))?;
    address(a, "shipping_address")
}

/// The invoice details of the checkout's billing address: its company and the address
/// itself when it is a whole one (a partial one is left out: the invoice goes to the
/// shipping address). Shopify orders carry no tax number field of their own.
fn invoice_details(a: Option<&ShopifyAddress>) -> Result<Option<Billing>, ValidationError> {
    let Some(a) = a else { return Ok(None) };
    Billing::parse(a.company.as_deref(), None, address(a, "billing_address").ok()).map_err(|e| e.within("billing_address"))
}

fn address(a: &ShopifyAddress, field: &str) -> Result<Address, ValidationError> {
    let name =
        a.name.clone().filter(|n| !n.trim().is_empty()).or_else(|| full_name(a.first_name.as_deref(), a.last_name.as_deref()));
    Address::parse(AddressParts {
        name: name.as_deref(),
        line1: a.address1.as_deref(),
        line2: a.address2.as_deref(),
        city: a.city.as_deref(),
        province: a.province.as_deref().filter(|p| !p.trim().is_empty()).or(a.province_code.as_deref()),
        postal_code: a.zip.as_deref(),
        country: a.country_code.as_deref(),
    })
    .map_err(|e| {
        renamed(e, &[("line1", "address1"), ("line2", "address2"), ("postal_code", "zip"), ("country", "country_code")])
            .within(field)
    })
}

/// The first present, non-blank value among `(field, value)` candidates.
fn first<'a>(candidates: &[(&'static str, Option<&'a str>)]) -> Option<(&'static str, &'a str)> {
    candidates.iter().find_map(|(field, value)| value.filter(|v| !v.trim().is_empty()).map(|v| (*field, v)))
}

fn buyer(raw: &ShopifyOrder) -> Result<Customer, ValidationError> {
    let c = raw.customer.as_ref();
    let shipping_phone = raw.shipping_address.as_ref().and_then(|a| a.phone.as_deref());
    let email = first(&[
        ("email", raw.email.as_deref()),
        ("contact_email", raw.contact_email.as_deref()),
        ("customer.email", c.and_then(|c| c.email.as_deref())),
    ]);
    let phone = first(&[
        ("phone", raw.phone.as_deref()),
        ("customer.phone", c.and_then(|c| c.phone.as_deref())),
        ("shipping_address.phone", shipping_phone),
    ]);
    let own_id = c.and_then(|c| c.id).map(|id| id.to_string());
    let id = customer_id_or_guest(own_id.as_deref(), email.map(|e| e.1), phone.map(|p| p.1)).ok_or_else(|| {
        ValidationError::new("customer", "a guest checkout with no email and no phone: nothing identifies the buyer")
    })?;
    let id_field = if own_id.is_some() { "customer.id" } else { email.or(phone).map_or("customer", |(field, _)| field) };
    let name = c
        .and_then(|c| full_name(c.first_name.as_deref(), c.last_name.as_deref()))
        .or_else(|| raw.shipping_address.as_ref().and_then(|a| full_name(a.first_name.as_deref(), a.last_name.as_deref())));
    let card = raw.payment_details.as_ref().and_then(PaymentDetails::fingerprint);
    let billing = invoice_details(raw.billing_address.as_ref())?;
    Customer::parse(&id, email.map(|e| e.1), phone.map(|p| p.1), name.as_deref())
        .and_then(|customer| customer.with_card(card.as_deref()))
        .map(|customer| customer.with_billing(billing))
        .map_err(|e| {
            let field = match e.field.as_str() {
                "id" => id_field,
                "email" => email.map_or("email", |(field, _)| field),
                "phone" => phone.map_or("phone", |(field, _)| field),
                _ => return e.within("customer"),
            };
            ValidationError { field: field.to_owned(), ..e }
        })
}

fn charges(raw: &ShopifyOrder, currency: Currency) -> Result<Charges, ValidationError> {
    let price = |field: &str, value: &str| money::parse_price(value, currency).map_err(|e| e.within(field));
    let discount = match &raw.total_discounts {
        Some(total) => price("total_discounts", total)?,
        None => {
            let each =
                raw.line_items.iter().enumerate().filter_map(|(i, l)| {
                    l.total_discount.as_deref().map(|d| price(&format!("line_items[{i}].total_discount"), d))
                });
            sum("total_discounts", each.collect::<Result<Vec<_>, _>>()?)?
        }
    };
    let tax = match &raw.total_tax {
        Some(total) => price("total_tax", total)?,
        None => {
            let items = raw.line_items.iter().enumerate().map(|(i, l)| (format!("line_items[{i}]"), &l.tax_lines));
            let shipping =
                raw.shipping_lines.iter().flatten().enumerate().map(|(i, l)| (format!("shipping_lines[{i}]"), &l.tax_lines));
            let mut each = Vec::new();
            for (at, tax_lines) in items.chain(shipping) {
                for (j, t) in tax_lines.iter().flatten().enumerate() {
                    each.push(price(&format!("{at}.tax_lines[{j}].price"), &t.price)?);
                }
            }
            sum("total_tax", each)?
        }
    };
    let shipping = match &raw.total_shipping_price_set {
        Some(set) => price("total_shipping_price_set.shop_money.amount", &set.shop_money.amount)?,
        None => {
            let each = raw
                .shipping_lines
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, s)| price(&format!("shipping_lines[{i}].price"), &s.price));
            sum("shipping_lines", each.collect::<Result<Vec<_>, _>>()?)?
        }
    };
    Ok(Charges { discount, shipping, tax, taxes_included: raw.taxes_included.unwrap_or(false) })
}
