//! Amazon: an order from the Selling Partner API (Orders API v0), as our relay posts it.
//!
//! Amazon sends no order webhook of its own: a relay polls SP-API (or reacts to its
//! `ORDER_CHANGE` notification), calls `getOrder` and `getOrderItems`, and posts one JSON
//! body to `POST /channels/amazon/orders`, signed as the generic channel signs:
//!
//! ```json
//! {"seller_id": "A2EXAMPLESELLER",
//!  "order": <the `payload` of getOrder>,
//!  "items": <the `payload.OrderItems` array of getOrderItems, every page>}
//! ```
//!
//! e.g. `{"order":{"AmazonOrderId":"902-3159896-1390916","PurchaseDate":"2026-11-20T10:00:00Z",
//! "OrderStatus":"Unshipped","OrderTotal":{"CurrencyCode":"USD","Amount":"102.64"},
//! "MarketplaceId":"ATVPDKIKX0DER","BuyerInfo":{"BuyerEmail":"abc@marketplace.amazon.com"},
//! "ShippingAddress":{"Name":"Jane Doe","AddressLine1":"1 Main St","City":"Seattle",
//! "StateOrRegion":"WA","PostalCode":"98101","CountryCode":"US","Phone":"+1 206-555-0100"}},
//! "items":[{"ASIN":"B00X4WHP5E","SellerSKU":"MY-SKU-1","OrderItemId":"52852651034158",
//! "QuantityOrdered":2,"ItemPrice":{"CurrencyCode":"USD","Amount":"89.98"}, ...}]}`
//!
//! - `external_id` is `AmazonOrderId`; `placed_at` is `PurchaseDate`.
//! - The merchant: [`Meta::merchant_id`] if the caller gives one, else the envelope's
//!   `seller_id` (the Order resource does not name the seller; the relay knows whose
//!   credentials it polled with). `MarketplaceId` is *not* used: every seller on amazon.com
//!   shares `ATVPDKIKX0DER`. With neither the order is refused naming `merchant_id`.
//! - The buyer has no id in SP-API, so the customer is `guest:` + `BuyerInfo.BuyerEmail`
//!   (Amazon's stable per-buyer relay address), else `guest:` + `ShippingAddress.Phone`.
//!   Buyer and address fields are restricted data: the relay must fetch them with a
//!   restricted data token, or the order is refused for want of a street address.
//! - `OrderStatus` `Pending` (no prices or address yet) is refused. `Canceled` is the
//!   buyer or Amazon cancelling the order; the relay must still send the order whole (with
//!   its address), as for any other status. `LastUpdateDate` is the version's time (a
//!   redelivery applies only when it is newer; default `PurchaseDate`).
//! - `ItemPrice` is the price of the whole quantity: the unit price is
//!   `ItemPrice.Amount / QuantityOrdered`, rounded half away from zero to the currency's
//!   minor digits + 2. The line's SKU is `SellerSKU` (never the ASIN).
//! - Charges, summed over the items: discount = `PromotionDiscount` + `ShippingDiscount`;
//!   shipping = `ShippingPrice`; tax = `ItemTax` + `ShippingTax` − `PromotionDiscountTax` −
//!   `ShippingDiscountTax`. Every amount must be in the order's currency (`OrderTotal`, else
//!   the first item's `ItemPrice`).

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;

use crate::{customer_id_or_guest, order_line, order_lines, order_number, renamed, sum};
use crate::{Charges, Meta};
use oms_domain::money::{self, Currency};
use oms_domain::order::{parse_deliver_by, Address, AddressParts, Channel, Customer, NewOrder, MAX_LINE_QUANTITY};
use oms_domain::validation::parse_json;
use oms_domain::{ExternalId, MerchantId, ValidationError};

#[derive(Debug, Deserialize)]
struct Envelope {
    seller_id: Option<String>,
    order: AmazonOrder,
    items: Vec<AmazonItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AmazonOrder {
    amazon_order_id: String,
    purchase_date: DateTime<Utc>,
    last_update_date: Option<DateTime<Utc>>,
    order_status: Option<String>,
    order_total: Option<AmazonMoney>,
    buyer_info: Option<BuyerInfo>,
    shipping_address: Option<AmazonAddress>,
    /// The end of the delivery window promised to the buyer: the order's `deliver_by`.
    latest_delivery_date: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AmazonMoney {
    currency_code: Option<String>,
    amount: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BuyerInfo {
    buyer_email: Option<String>,
    buyer_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AmazonAddress {
    name: Option<String>,
    address_line1: Option<String>,
    address_line2: Option<String>,
    address_line3: Option<String>,
    city: Option<String>,
    state_or_region: Option<String>,
    postal_code: Option<String>,
    country_code: Option<String>,
    phone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AmazonItem {
    #[serde(rename = "SellerSKU")]
    seller_sku: Option<String>,
    quantity_ordered: i64,
    item_price: Option<AmazonMoney>,
    item_tax: Option<AmazonMoney>,
    promotion_discount: Option<AmazonMoney>,
    promotion_discount_tax: Option<AmazonMoney>,
    shipping_price: Option<AmazonMoney>,
    shipping_tax: Option<AmazonMoney>,
    shipping_discount: Option<AmazonMoney>,
    shipping_discount_tax: Option<AmazonMoney>,
}

/// Normalises the relay's `{"order", "items"}` envelope.
pub fn normalise(body: &[u8], meta: &Meta) -> Result<NewOrder, ValidationError> {
    let raw: Envelope = parse_json(body)?;
    let o = &raw.order;
    if o.order_status.as_deref() == Some("Pending") {
        return Err(ValidationError::new(
            "order.OrderStatus",
            "a Pending order cannot be taken in: payment is not authorised yet",
        ));
    }
    let channel_updated_at = o.last_update_date.unwrap_or(o.purchase_date);
    let cancelled_at = (o.order_status.as_deref() == Some("Canceled")).then_some(channel_updated_at);
    let currency = currency(&raw)?;
    let external_id = ExternalId::parse(o.amazon_order_id.as_str()).map_err(|e| e.within("order.AmazonOrderId"))?;
    let lines = order_lines(&raw.items, "items", |item| {
        let unit_price = unit_price(item, currency)?;
        order_line(item.seller_sku.as_deref(), item.quantity_ordered, &unit_price, currency)
            .map_err(|e| renamed(e, &[("sku", "SellerSKU"), ("quantity", "QuantityOrdered"), ("unit_price", "ItemPrice.Amount")]))
    })?;
    let merchant_id = merchant(meta, raw.seller_id.as_deref())?;
    let shipping_address = ship_to(o.shipping_address.as_ref())?;
    let customer = buyer(o)?;
    let charges = charges(&raw.items, currency)?;
    let order = NewOrder {
        charges,
        channel: Channel::Amazon,
        order_number: order_number(None, &external_id)?,
        external_id,
        merchant_id,
        placed_at: o.purchase_date,
        currency,
        customer,
        shipping_address,
        lines,
        channel_updated_at,
        cancelled_at,
        // Paid: a `Pending` order (payment not authorised yet) is refused above.
        paid: o.order_status.as_deref() != Some("Pending"),
        deliver_by: o.latest_delivery_date.and_then(|end| promised_day(end, o.purchase_date)),
    };
    Ok(order)
}

/// The day delivery was promised by: the day of the window's end in the marketplace's own
/// time. Amazon gives the end in UTC as the last second of a local day (`07:59:59Z` for the
/// US west coast, `22:59:59Z` for Germany, `14:59:59Z` for Japan); twelve hours earlier is
/// inside that local day for every offset from -12 to +12 hours. A window ending before
/// the order was placed or over a year after is no promise to plan for: none (the paid
/// order is still taken).
fn promised_day(end: DateTime<Utc>, placed: DateTime<Utc>) -> Option<chrono::NaiveDate> {
    let day = (end - chrono::Duration::hours(12)).date_naive();
    parse_deliver_by(&day.to_string(), placed).ok()
}

fn currency(raw: &Envelope) -> Result<Currency, ValidationError> {
    let (field, code) = match &raw.order.order_total {
        Some(AmazonMoney { currency_code: Some(code), .. }) => ("order.OrderTotal.CurrencyCode", code),
        _ => match raw.items.first().and_then(|i| i.item_price.as_ref()).and_then(|p| p.currency_code.as_ref()) {
            Some(code) => ("items[0].ItemPrice.CurrencyCode", code),
            None => return Err(ValidationError::new("order.OrderTotal", "is required: nothing says the order's currency")),
        },
    };
    Currency::parse(code).map_err(|e| e.within(field))
}

/// An amount in the order's currency, checked as a price.
fn amount(money: &AmazonMoney, currency: Currency) -> Result<Decimal, ValidationError> {
    if let Some(code) = money.currency_code.as_deref() {
        if !code.trim().eq_ignore_ascii_case(currency.code()) {
            return Err(ValidationError::new("CurrencyCode", format!("is {code:?} but the order is in {currency}")));
        }
    }
    money::parse_price(&money.amount, currency).map_err(|e| e.within("Amount"))
}

/// `ItemPrice` covers the whole quantity; one unit's price as a decimal string for `order_line`.
fn unit_price(item: &AmazonItem, currency: Currency) -> Result<String, ValidationError> {
    if !(1..=i64::from(MAX_LINE_QUANTITY)).contains(&item.quantity_ordered) {
        // `order_line` refuses the quantity before it looks at the price.
        return Ok("0".to_owned());
    }
    let price = item.item_price.as_ref().ok_or_else(|| ValidationError::new("ItemPrice", "is required"))?;
    let total = amount(price, currency).map_err(|e| e.within("ItemPrice"))?;
    let unit = total / Decimal::from(item.quantity_ordered);
    Ok(unit.round_dp_with_strategy(currency.minor_digits() + 2, RoundingStrategy::MidpointAwayFromZero).to_string())
}

fn merchant(meta: &Meta, seller_id: Option<&str>) -> Result<MerchantId, ValidationError> {
    let given = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    match (given(meta.merchant_id.as_deref()), given(seller_id)) {
        (Some(m), _) => MerchantId::parse(m).map_err(|e| e.within("merchant_id")),
        (None, Some(s)) => MerchantId::parse(s).map_err(|e| e.within("seller_id")),
        (None, None) => Err(ValidationError::new(
            "merchant_id",
            "an Amazon order does not name its seller: the relay must send seller_id (or the caller a merchant)",
        )),
    }
}

fn ship_to(a: Option<&AmazonAddress>) -> Result<Address, ValidationError> {
    let a = a.ok_or_else(|| {
        ValidationError::new("order.ShippingAddress", "is required (fetch the order with a restricted data token)")
    })?;
    let mut street = [&a.address_line1, &a.address_line2, &a.address_line3]
        .into_iter()
        .filter_map(|l| l.as_deref().map(str::trim).filter(|l| !l.is_empty()));
    let line1 = street.next();
    let rest: Vec<&str> = street.collect();
    let line2 = (!rest.is_empty()).then(|| rest.join(", "));
    Address::parse(AddressParts {
        name: a.name.as_deref(),
        line1,
        line2: line2.as_deref(),
        city: a.city.as_deref(),
        province: a.state_or_region.as_deref(),
        postal_code: a.postal_code.as_deref(),
        country: a.country_code.as_deref(),
    })
    .map_err(|e| {
        renamed(
            e,
            &[
                ("name", "Name"),
                ("line1", "AddressLine1"),
                ("line2", "AddressLine2"),
                ("city", "City"),
                ("province", "StateOrRegion"),
                ("postal_code", "PostalCode"),
                ("country", "CountryCode"),
            ],
        )
        .within("order.ShippingAddress")
    })
}

fn buyer(o: &AmazonOrder) -> Result<Customer, ValidationError> {
    let email = o.buyer_info.as_ref().and_then(|b| b.buyer_email.as_deref()).filter(|e| !e.trim().is_empty());
    let phone = o.shipping_address.as_ref().and_then(|a| a.phone.as_deref());
    let id = customer_id_or_guest(None, email, phone).ok_or_else(|| {
        ValidationError::new("order.BuyerInfo.BuyerEmail", "no buyer email and no phone: nothing identifies the buyer")
    })?;
    let id_field = if email.is_some() { "order.BuyerInfo.BuyerEmail" } else { "order.ShippingAddress.Phone" };
    let name = o
        .buyer_info
        .as_ref()
        .and_then(|b| b.buyer_name.as_deref())
        .filter(|n| !n.trim().is_empty())
        .or_else(|| o.shipping_address.as_ref().and_then(|a| a.name.as_deref()));
    Customer::parse(&id, email, phone, name).map_err(|e| {
        renamed(e, &[("id", id_field), ("email", "order.BuyerInfo.BuyerEmail"), ("phone", "order.ShippingAddress.Phone")])
    })
}

fn charges(items: &[AmazonItem], currency: Currency) -> Result<Charges, ValidationError> {
    const DISCOUNT: usize = 0;
    const SHIPPING: usize = 1;
    const TAX: usize = 2;
    const TAX_OFF: usize = 3;
    let mut buckets: [Vec<Decimal>; 4] = Default::default();
    for (i, item) in items.iter().enumerate() {
        let parts = [
            ("PromotionDiscount", &item.promotion_discount, DISCOUNT),
            ("ShippingDiscount", &item.shipping_discount, DISCOUNT),
            ("ShippingPrice", &item.shipping_price, SHIPPING),
            ("ItemTax", &item.item_tax, TAX),
            ("ShippingTax", &item.shipping_tax, TAX),
            ("PromotionDiscountTax", &item.promotion_discount_tax, TAX_OFF),
            ("ShippingDiscountTax", &item.shipping_discount_tax, TAX_OFF),
        ];
        for (field, money, bucket) in parts {
            if let Some(money) = money {
                buckets[bucket].push(amount(money, currency).map_err(|e| e.within(&format!("items[{i}].{field}")))?);
            }
        }
    }
    let [discount, shipping, tax, tax_off] = buckets.map(|amounts| sum("items", amounts));
    let (tax, tax_off) = (tax?, tax_off?);
    if tax_off > tax {
        return Err(ValidationError::new("items", "the discounts' tax is larger than the tax"));
    }
    Ok(Charges { discount: discount?, shipping: shipping?, tax: tax - tax_off, taxes_included: false })
}
