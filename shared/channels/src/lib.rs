//! Sales channels, as adapters onto the domain: each channel's own payload normalised
//! into the domain's [`NewOrder`], bulk CSV import, the signature each channel puts on its
//! webhooks, and the secrets those are checked with ([`secrets`]).
//!
//! A normaliser only reads the channel's wire format and maps it; the rules of a valid
//! order are the domain's (`Customer::parse`, `Address::parse`, `OrderLine::new`). It never
//! touches a store. Every refusal is a [`ValidationError`] naming the field at fault, in
//! the channel's own field names.

pub mod amazon;
pub mod csv_import;
pub mod generic;
pub mod secrets;
pub mod shopify;
pub mod signature;
pub mod tracking;
pub mod woocommerce;

use rust_decimal::Decimal;

use oms_domain::money::{self, Currency};
use oms_domain::order::{check_quantity, normalise_phone, Channel, NewOrder, OrderLine};
use oms_domain::{ExternalId, OrderNumber, Sku, ValidationError};

pub use oms_domain::order::{order_lines, Charges};

/// Largest webhook body any channel may send (bytes).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Parses a webhook body from `channel` into a canonical new order, with no [`Meta`]
/// from the request: channels that name the merchant only in a header (Shopify,
/// WooCommerce) are refused naming `merchant_id`; use [`normalise_with_meta`] for them.
pub fn normalise(channel: Channel, body: &[u8]) -> Result<NewOrder, ValidationError> {
    normalise_with_meta(channel, body, &Meta::default())
}

/// Parses a webhook body from `channel` into a canonical new order, with the order-level
/// charges the channel reported. `meta` carries what the request says outside the body.
pub fn normalise_with_meta(channel: Channel, body: &[u8], meta: &Meta) -> Result<NewOrder, ValidationError> {
    match channel {
        Channel::Generic => generic::normalise(body),
        Channel::Shopify => shopify::normalise(body, meta),
        Channel::WooCommerce => woocommerce::normalise(body, meta),
        Channel::Amazon => amazon::normalise(body, meta),
        Channel::Import => {
            Err(ValidationError::new("channel", "import orders come in bulk as CSV: use channels::csv_import::parse_csv"))
        }
        Channel::FlashSale => Err(ValidationError::new("channel", "flash-sale orders are made by the platform from claims")),
        Channel::Auction => Err(ValidationError::new("channel", "auction orders are made by the platform for the winners")),
        Channel::GroupBuy => Err(ValidationError::new("channel", "group-buy orders are made by the platform from joins")),
        Channel::Rental => Err(ValidationError::new("channel", "rental orders are made by the platform from bookings")),
        Channel::Repair => Err(ValidationError::new("channel", "repair orders are made by the platform from accepted quotes")),
        Channel::Exchange => Err(ValidationError::new("channel", "exchange orders are made by the platform from returns")),
        Channel::Checkout => Err(ValidationError::new("channel", "checkout orders come through the platform's checkout")),
        Channel::Rfq => {
            Err(ValidationError::new("channel", "rfq orders are made by the platform from accepted requests for quotes"))
        }
        Channel::Marketplace => {
            Err(ValidationError::new("channel", "marketplace orders are made by the platform from accepted buyer requests"))
        }
    }
}

/// What a webhook request says about its order outside the body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// The merchant the request is for: the `X-Shopify-Shop-Domain` header for Shopify,
    /// `X-WC-Webhook-Source` for WooCommerce (reduced to its host), or a merchant the
    /// caller looked up for the request. For Amazon it wins over the envelope's `seller_id`.
    pub merchant_id: Option<String>,
    /// What the delivery says it is, for channels that say it in a header: Shopify's
    /// `X-Shopify-Topic` (`orders/create`, `orders/updated`, `orders/cancelled`).
    pub topic: Option<String>,
}

impl Meta {
    /// The (lower-case) header that names the merchant for `channel`, if the channel has one.
    pub fn merchant_header(channel: Channel) -> Option<&'static str> {
        match channel {
            Channel::Shopify => Some("x-shopify-shop-domain"),
            Channel::WooCommerce => Some("x-wc-webhook-source"),
            Channel::Amazon
            | Channel::Generic
            | Channel::Import
            | Channel::FlashSale
            | Channel::Auction
            | Channel::GroupBuy
            | Channel::Rental
            | Channel::Repair
            | Channel::Exchange
            | Channel::Checkout
            | Channel::Rfq
            | Channel::Marketplace => None,
        }
    }

    /// The (lower-case) header that names the delivery's topic for `channel`, if any.
    pub fn topic_header(channel: Channel) -> Option<&'static str> {
        match channel {
            Channel::Shopify => Some("x-shopify-topic"),
            Channel::WooCommerce
            | Channel::Amazon
            | Channel::Generic
            | Channel::Import
            | Channel::FlashSale
            | Channel::Auction
            | Channel::GroupBuy
            | Channel::Rental
            | Channel::Repair
            | Channel::Exchange
            | Channel::Checkout
            | Channel::Rfq
            | Channel::Marketplace => None,
        }
    }

    /// A `Meta` naming `merchant_id`.
    pub fn merchant(merchant_id: impl Into<String>) -> Self {
        Self { merchant_id: Some(merchant_id.into()), topic: None }
    }
}

/// The checks every channel's line goes through: a SKU, a quantity from 1 to
/// `MAX_LINE_QUANTITY`, and a non-negative price, given as text, in the order's currency
/// (no finer than the currency allows). Errors name `sku`, `quantity` or `unit_price`.
pub fn order_line(sku: Option<&str>, quantity: i64, unit_price: &str, currency: Currency) -> Result<OrderLine, ValidationError> {
    let sku = match sku.map(str::trim) {
        Some(s) if !s.is_empty() => Sku::parse(s).map_err(|e| e.within("sku"))?,
        _ => return Err(ValidationError::new("sku", "the line has no SKU; every line must name one")),
    };
    // A bad quantity is named before a bad price, whatever the price text says.
    check_quantity(quantity)?;
    let unit_price = money::parse_price(unit_price, currency).map_err(|e| e.within("unit_price"))?;
    OrderLine::new(sku, quantity, unit_price)
}

fn non_empty(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// Zero as a decimal, for channels that omit an amount.
pub const ZERO: Decimal = Decimal::ZERO;

/// The customer id for an order: the channel's own id for the buyer, or for a guest
/// checkout `guest:` + the email (lower-cased), else `guest:` + the phone (reduced to
/// `+` and digits). `None` when the buyer left none of the three.
pub fn customer_id_or_guest(id: Option<&str>, email: Option<&str>, phone: Option<&str>) -> Option<String> {
    if let Some(id) = non_empty(id) {
        return Some(id);
    }
    if let Some(email) = non_empty(email) {
        return Some(format!("guest:{}", email.to_lowercase()));
    }
    non_empty(phone).map(|phone| format!("guest:{}", normalise_phone(&phone).unwrap_or(phone)))
}

/// Renames the field of an error raised by a shared helper (`line1`, `unit_price`, ...)
/// to the name the channel's payload uses for it.
/// The channel's display number, or its id when it sends none (or a blank one): what the
/// buyer saw the order as.
pub(crate) fn order_number(display: Option<&str>, external_id: &ExternalId) -> Result<OrderNumber, ValidationError> {
    OrderNumber::parse(non_empty(display).unwrap_or_else(|| external_id.to_string()))
}

pub(crate) fn renamed(err: ValidationError, names: &[(&str, &str)]) -> ValidationError {
    match names.iter().find(|(ours, _)| *ours == err.field) {
        Some((_, theirs)) => ValidationError { field: (*theirs).to_owned(), ..err },
        None => err,
    }
}

/// Sums amounts that are each already bounded, refusing (never panicking) on overflow.
pub(crate) fn sum(field: &str, amounts: impl IntoIterator<Item = Decimal>) -> Result<Decimal, ValidationError> {
    amounts
        .into_iter()
        .try_fold(ZERO, |total, amount| total.checked_add(amount))
        .ok_or_else(|| ValidationError::new(field, "the amounts add up to more than we can hold"))
}

/// "First Last" from the parts a channel gives, or `None` when both are blank.
pub(crate) fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = [first, last].into_iter().flatten().map(str::trim).filter(|p| !p.is_empty()).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}
