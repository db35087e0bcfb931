//! WooCommerce: the `order.created` webhook, whose body is the REST API v3 order.
//!
//! ```json
//! {"id":727,"number":"727","currency":"USD","date_created_gmt":"2026-11-20T10:00:00",
//!  "prices_include_tax":false,"customer_id":12,"discount_total":"5.00","shipping_total":"10.00",
//!  "total_tax":"1.35",
//!  "billing":{"first_name":"John","last_name":"Doe","email":"john.doe@example.com","phone":"(555) 555-5555", ...},
//!  "shipping":{"first_name":"John","last_name":"Doe","address_1":"969 Market","address_2":"",
//!              "city":"San Francisco","state":"CA","postcode":"94103","country":"US"},
//!  "line_items":[{"id":315,"sku":"WOO-HOODIE","quantity":2,"price":10,"subtotal":"20.00",
//!                 "total":"20.00","total_tax":"1.35"}]}
//! ```
//!
//! - `external_id` is the numeric `id` (`number` is for display and plugins may rewrite it).
//! - The merchant is not in the body: WooCommerce names the store in the `X-WC-Webhook-Source`
//!   header (its URL), which the caller passes as [`Meta::merchant_id`]; a URL is reduced to its
//!   host and path (`https://shop.example.com/` becomes `shop.example.com`). Without it the
//!   order is refused naming `merchant_id`.
//! - `date_created_gmt` is UTC written without an offset (`2026-11-20T10:00:00`), and so is
//!   `date_modified_gmt`, the version's time (a redelivery applies only when it is newer;
//!   default the creation time). `order.updated` carries the same order; its `status`
//!   `cancelled` is the store cancelling the order (at `date_modified_gmt`).
//! - The customer is `customer_id`; `0` is a guest, who becomes `guest:` + the billing email,
//!   else `guest:` + the billing phone (see [`customer_id_or_guest`]).
//! - The ship-to is `shipping`; when it is blank (WooCommerce leaves it empty when the buyer
//!   ships to the billing address on some checkouts) the `billing` address is used.
//! - Money: WooCommerce writes most amounts as decimal strings but a line's `price` as a JSON
//!   number, so every amount here takes either; numbers are read through their exact JSON text.
//!   A line's `price` is *after* discounts and unrounded (`total / quantity`), so the unit price
//!   is the line `subtotal` (before discounts) divided by the quantity, rounded to the
//!   currency's minor digits + 2 (`price` only when `subtotal` is absent); the discounts are in
//!   `discount_total`. REST amounts exclude tax whatever `prices_include_tax` says; the tax is
//!   `total_tax`.

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;

use crate::{customer_id_or_guest, full_name, order_line, order_lines, order_number, renamed};
use crate::{Charges, Meta, ZERO};
use oms_domain::money::{self, Currency};
use oms_domain::order::{Address, AddressParts, Billing, Channel, Customer, NewOrder, MAX_LINE_QUANTITY};
use oms_domain::validation::parse_json;
use oms_domain::{ExternalId, MerchantId, ValidationError};

#[derive(Debug, Deserialize)]
struct WooOrder {
    id: u64,
    /// The shop's display number (plugins may rewrite it), what the buyer sees.
    number: Option<String>,
    currency: String,
    date_created_gmt: String,
    date_modified_gmt: Option<String>,
    status: Option<String>,
    /// The REST API's create flag: the order is paid.
    #[serde(default)]
    set_paid: Option<bool>,
    /// When the order was paid; null until it is.
    #[serde(default)]
    date_paid_gmt: Option<String>,
    customer_id: Option<u64>,
    billing: Option<WooAddress>,
    shipping: Option<WooAddress>,
    line_items: Vec<WooLine>,
    discount_total: Option<Amount>,
    shipping_total: Option<Amount>,
    total_tax: Option<Amount>,
}

/// Billing and shipping share one shape; `email` is billing only, `phone` shipping only since 5.6.
#[derive(Debug, Default, Deserialize)]
struct WooAddress {
    first_name: Option<String>,
    last_name: Option<String>,
    company: Option<String>,
    address_1: Option<String>,
    address_2: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postcode: Option<String>,
    country: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WooLine {
    sku: Option<String>,
    quantity: i64,
    price: Option<Amount>,
    subtotal: Option<Amount>,
}

/// A money amount WooCommerce may write as a string (`"19.90"`) or a number (`19.9`), kept as
/// its text so no binary floating point ever touches it.
#[derive(Debug)]
struct Amount(String);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Amount;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a decimal amount as a string or a number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Amount, E> {
                Ok(Amount(v.to_owned()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Amount, E> {
                Ok(Amount(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Amount, E> {
                // serde_json parses with `float_roundtrip`, so the shortest text that reads back
                // as this f64 is the text the sender wrote (for any amount with < 16 digits).
                serde_json::Number::from_f64(v)
                    .map(|n| Amount(n.to_string()))
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Float(v), &self))
            }
        }
        de.deserialize_any(Visitor)
    }
}

impl Amount {
    /// The amount as a decimal, whether written plainly or in scientific notation.
    fn decimal(&self) -> Result<Decimal, ValidationError> {
        let text = self.0.trim();
        Decimal::from_str_exact(text)
            .or_else(|_| Decimal::from_scientific(text))
            .map_err(|_| ValidationError::new("", format!("{:?} is not a decimal amount", self.0)))
    }
}

/// Normalises an `order.created` body; `meta.merchant_id` is the webhook source.
pub fn normalise(body: &[u8], meta: &Meta) -> Result<NewOrder, ValidationError> {
    let raw: WooOrder = parse_json(body)?;
    let currency = Currency::parse(&raw.currency).map_err(|e| e.within("currency"))?;
    let external_id = ExternalId::parse(raw.id.to_string()).map_err(|e| e.within("id"))?;
    let order_number = order_number(raw.number.as_deref(), &external_id).map_err(|e| e.within("number"))?;
    let placed_at = gmt_time(&raw.date_created_gmt).map_err(|e| e.within("date_created_gmt"))?;
    let modified_at = match raw.date_modified_gmt.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(raw) => gmt_time(raw).map_err(|e| e.within("date_modified_gmt"))?,
        None => placed_at,
    };
    let cancelled = raw.status.as_deref().is_some_and(|s| s.trim().eq_ignore_ascii_case("cancelled"));
    let lines = order_lines(&raw.line_items, "line_items", |l| {
        let unit_price = unit_price(l, currency)?;
        order_line(l.sku.as_deref(), l.quantity, &unit_price, currency).map_err(|e| {
            let price_field = if l.subtotal.is_some() { "subtotal" } else { "price" };
            renamed(e, &[("unit_price", price_field)])
        })
    })?;
    let merchant_id = merchant(meta)?;
    let blank = WooAddress::default();
    let billing = raw.billing.as_ref().unwrap_or(&blank);
    let shipping = raw.shipping.as_ref().unwrap_or(&blank);
    let shipping_address = ship_to(shipping, billing)?;
    let customer = buyer(raw.customer_id, billing, shipping)?;
    let amount = |field: &str, value: &Option<Amount>| match value {
        Some(v) => v.decimal().and_then(|d| money::check_price(d, currency)).map_err(|e| e.within(field)),
        None => Ok(ZERO),
    };
    let charges = Charges {
        discount: amount("discount_total", &raw.discount_total)?,
        shipping: amount("shipping_total", &raw.shipping_total)?,
        tax: amount("total_tax", &raw.total_tax)?,
        // REST amounts exclude tax whatever `prices_include_tax` says (see the module doc).
        taxes_included: false,
    };
    let order = NewOrder {
        charges,
        channel: Channel::WooCommerce,
        external_id,
        order_number,
        merchant_id,
        placed_at,
        currency,
        customer,
        shipping_address,
        lines,
        channel_updated_at: modified_at,
        cancelled_at: cancelled.then_some(modified_at),
        // `set_paid`, a payment date, or a status past payment (`pending` and `on-hold`
        // wait for it); a payload with none of them: paid.
        paid: raw.set_paid.unwrap_or(false)
            || raw.date_paid_gmt.as_deref().is_some_and(|d| !d.is_empty())
            || raw.status.as_deref().is_none_or(|s| !matches!(s, "pending" | "on-hold")),
        deliver_by: None,
    };
    Ok(order)
}

/// `2026-11-20T10:00:00` (UTC without an offset, as WooCommerce writes it) or full RFC 3339.
fn gmt_time(raw: &str) -> Result<DateTime<Utc>, ValidationError> {
    let raw = raw.trim();
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|naive| naive.and_utc())
        .or_else(|_| DateTime::parse_from_rfc3339(raw).map(|t| t.with_timezone(&Utc)))
        .map_err(|_| ValidationError::new("", format!("{raw:?} is not a date and time such as 2026-11-20T10:00:00")))
}

/// The price of one unit before discounts, as a decimal string for `order_line`.
fn unit_price(l: &WooLine, currency: Currency) -> Result<String, ValidationError> {
    if !(1..=i64::from(MAX_LINE_QUANTITY)).contains(&l.quantity) {
        // `order_line` refuses the quantity before it looks at the price.
        return Ok("0".to_owned());
    }
    let places = currency.minor_digits() + 2;
    let (field, unit) = match (&l.subtotal, &l.price) {
        (Some(subtotal), _) => {
            let total = subtotal.decimal().map_err(|e| e.within("subtotal"))?;
            ("subtotal", total.checked_div(Decimal::from(l.quantity)))
        }
        (None, Some(price)) => ("price", Some(price.decimal().map_err(|e| e.within("price"))?)),
        (None, None) => return Err(ValidationError::new("subtotal", "the line has neither a subtotal nor a price")),
    };
    let unit = unit.ok_or_else(|| ValidationError::new(field, "is out of range"))?;
    Ok(unit.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero).to_string())
}

fn merchant(meta: &Meta) -> Result<MerchantId, ValidationError> {
    let source = meta.merchant_id.as_deref().map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| {
        ValidationError::new(
            "merchant_id",
            "WooCommerce names the store only in the X-WC-Webhook-Source header, and the request had none",
        )
    })?;
    let lower = source.to_ascii_lowercase();
    let host = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")).unwrap_or(&lower).trim_end_matches('/');
    MerchantId::parse(host).map_err(|e| e.within("merchant_id"))
}

fn is_blank(a: &WooAddress) -> bool {
    [&a.address_1, &a.city, &a.country].iter().all(|v| v.as_deref().is_none_or(|v| v.trim().is_empty()))
}

fn ship_to(shipping: &WooAddress, billing: &WooAddress) -> Result<Address, ValidationError> {
    let (a, field) = if is_blank(shipping) && !is_blank(billing) { (billing, "billing") } else { (shipping, "shipping") };
    address(a, field)
}

/// The invoice details of the checkout's billing part: its company and, when it is a whole
/// address, the billing address (a partial one is left out: the invoice goes to the
/// shipping address). WooCommerce has no tax number field of its own.
fn invoice_details(billing: &WooAddress) -> Result<Option<Billing>, ValidationError> {
    let address = (!is_blank(billing)).then(|| address(billing, "billing").ok()).flatten();
    Billing::parse(billing.company.as_deref(), None, address).map_err(|e| e.within("billing"))
}

fn address(a: &WooAddress, field: &str) -> Result<Address, ValidationError> {
    Address::parse(AddressParts {
        name: full_name(a.first_name.as_deref(), a.last_name.as_deref()).as_deref(),
        line1: a.address_1.as_deref(),
        line2: a.address_2.as_deref(),
        city: a.city.as_deref(),
        province: a.state.as_deref(),
        postal_code: a.postcode.as_deref(),
        country: a.country.as_deref(),
    })
    .map_err(|e| {
        renamed(e, &[("line1", "address_1"), ("line2", "address_2"), ("province", "state"), ("postal_code", "postcode")])
            .within(field)
    })
}

fn buyer(customer_id: Option<u64>, billing: &WooAddress, shipping: &WooAddress) -> Result<Customer, ValidationError> {
    let own_id = customer_id.filter(|id| *id != 0).map(|id| id.to_string());
    let email = billing.email.as_deref().filter(|e| !e.trim().is_empty());
    let (phone_field, phone) = match billing.phone.as_deref().filter(|p| !p.trim().is_empty()) {
        Some(p) => ("billing.phone", Some(p)),
        None => ("shipping.phone", shipping.phone.as_deref()),
    };
    let id = customer_id_or_guest(own_id.as_deref(), email, phone).ok_or_else(|| {
        ValidationError::new(
            "customer_id",
            "a guest order (customer_id 0) with no billing email or phone: nothing identifies the buyer",
        )
    })?;
    let id_field = match (&own_id, email) {
        (Some(_), _) => "customer_id",
        (None, Some(_)) => "billing.email",
        (None, None) => phone_field,
    };
    let name = full_name(billing.first_name.as_deref(), billing.last_name.as_deref())
        .or_else(|| full_name(shipping.first_name.as_deref(), shipping.last_name.as_deref()));
    let customer = Customer::parse(&id, email, phone, name.as_deref())
        .map_err(|e| renamed(e, &[("id", id_field), ("email", "billing.email"), ("phone", phone_field)]))?;
    Ok(customer.with_billing(invoice_details(billing)?))
}
