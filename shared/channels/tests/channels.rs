//! The channel normalisers, driven by payloads written from each channel's documentation
//! (`tests/fixtures/`): what each one makes of a real order, and how each refuses a bad one.

use std::path::Path;

use oms_channels::csv_import::parse_csv;
use oms_channels::{self as channels, Charges, Meta};
use oms_domain::order::{Channel, NewOrder};
use oms_domain::ValidationError;
use rust_decimal::Decimal;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------
// helpers

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn doc(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).expect("fixtures are JSON")
}

/// The fixture with the value at `pointer` replaced or added (or, for `None`, removed).
fn edited(name: &str, edits: &[(&str, Option<Value>)]) -> Vec<u8> {
    let mut doc = doc(name);
    for (pointer, value) in edits {
        match value {
            Some(value) => match doc.pointer_mut(pointer) {
                Some(slot) => *slot = value.clone(),
                // A field the fixture leaves out: added to its parent object.
                None => {
                    let (parent, key) = pointer.rsplit_once('/').expect("a pointer has a parent");
                    let object = doc.pointer_mut(parent).and_then(Value::as_object_mut);
                    object.unwrap_or_else(|| panic!("{name} has no object {parent}")).insert(key.to_owned(), value.clone());
                }
            },
            None => {
                let (parent, key) = pointer.rsplit_once('/').expect("a pointer has a parent");
                let removed = doc.pointer_mut(parent).and_then(Value::as_object_mut).and_then(|o| o.remove(key));
                assert!(removed.is_some(), "{name} has no {pointer}");
            }
        }
    }
    serde_json::to_vec(&doc).expect("serialises")
}

fn set(pointer: &str, value: Value) -> (&str, Option<Value>) {
    (pointer, Some(value))
}

fn remove(pointer: &str) -> (&str, Option<Value>) {
    (pointer, None)
}

fn shop() -> Meta {
    Meta::merchant("Example-Store.myshopify.com")
}

fn woo_source() -> Meta {
    Meta::merchant("https://shop.example.com/")
}

fn ok(channel: Channel, body: &[u8], meta: &Meta) -> NewOrder {
    match channels::normalise_with_meta(channel, body, meta) {
        Ok(n) => n,
        Err(e) => panic!("{channel} refused the order: {e}"),
    }
}

fn refused(channel: Channel, body: &[u8], meta: &Meta) -> ValidationError {
    match channels::normalise_with_meta(channel, body, meta) {
        Ok(n) => panic!("{channel} accepted what it should refuse: {:?}", n),
        Err(e) => e,
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("a decimal")
}

fn charges(discount: &str, shipping: &str, tax: &str) -> Charges {
    Charges { discount: dec(discount), shipping: dec(shipping), tax: dec(tax), taxes_included: false }
}

fn lines(order: &NewOrder) -> Vec<(String, u32, String)> {
    order.lines.iter().map(|l| (l.sku.to_string(), l.quantity, l.unit_price.to_string())).collect()
}

fn line(sku: &str, quantity: u32, unit_price: &str) -> (String, u32, String) {
    (sku.to_owned(), quantity, unit_price.to_owned())
}

/// Each case: an edit of the fixture and the field the refusal must name.
fn assert_each_refusal_names(channel: Channel, name: &str, meta: &Meta, cases: &[(&str, Value, &str)]) {
    for (pointer, value, field) in cases {
        let err = refused(channel, &edited(name, &[set(pointer, value.clone())]), meta);
        assert_eq!(err.field, *field, "{pointer} = {value}: {err}");
    }
}

// ---------------------------------------------------------------------------------------
// Shopify

#[test]
fn a_shopify_order_becomes_the_canonical_order() {
    let n = ok(Channel::Shopify, &fixture("shopify_order.json"), &shop());
    let o = &n;
    assert_eq!(o.channel, Channel::Shopify);
    assert_eq!(o.external_id.as_str(), "5940139491234");
    assert_eq!(o.placed_at.to_rfc3339(), "2026-11-20T15:00:00+00:00");
    assert_eq!(o.currency.code(), "USD");
    assert_eq!(o.customer.id.as_str(), "207119551");
    assert_eq!(o.customer.email.as_deref(), Some("bob.norman@example.com"));
    assert_eq!(o.customer.phone.as_deref(), Some("+16135550142"));
    assert_eq!(o.customer.name.as_deref(), Some("Bob Norman"));
    let a = &o.shipping_address;
    assert_eq!(a.name.as_deref(), Some("Bob Norman"));
    assert_eq!((a.line1.as_str(), a.line2.as_deref()), ("Chestnut Street 92", Some("Suite 4")));
    assert_eq!((a.city.as_str(), a.province.as_deref()), ("Louisville", Some("Kentucky")));
    assert_eq!((a.postal_code.as_deref(), a.country.as_str()), (Some("40202"), "US"));
    assert_eq!(lines(o), [line("TEE-RED-M", 2, "25"), line("MUG-BLK", 1, "12.5")]);
}

#[test]
fn a_shopify_card_is_known_by_its_brand_bin_and_last_four_digits() {
    let n = ok(Channel::Shopify, &fixture("shopify_order.json"), &shop());
    assert_eq!(n.customer.card.as_deref(), Some("shopify:visa:424242:4242"));
    let masked_only = edited("shopify_order.json", &[remove("/payment_details/credit_card_bin")]);
    assert_eq!(ok(Channel::Shopify, &masked_only, &shop()).customer.card, None, "the last four alone name no card");
    let none = edited("shopify_order.json", &[remove("/payment_details")]);
    assert_eq!(ok(Channel::Shopify, &none, &shop()).customer.card, None);
}

#[test]
fn shopify_charges_carry_the_order_discounts_shipping_and_tax() {
    let n = ok(Channel::Shopify, &fixture("shopify_order.json"), &shop());
    assert_eq!(n.charges, charges("5.00", "7.99", "5.24"));
}

#[test]
fn shopify_charges_are_summed_from_the_lines_when_the_order_totals_are_absent() {
    let body =
        edited("shopify_order.json", &[remove("/total_discounts"), remove("/total_tax"), remove("/total_shipping_price_set")]);
    let n = ok(Channel::Shopify, &body, &shop());
    // Tax: 3.60 + 1.00 on the items and 0.64 on the shipping line.
    assert_eq!(n.charges, charges("5.00", "7.99", "5.24"));
    let err = refused(
        Channel::Shopify,
        &edited("shopify_order.json", &[remove("/total_tax"), set("/shipping_lines/0/tax_lines/0/price", json!("x"))]),
        &shop(),
    );
    assert_eq!(err.field, "shipping_lines[0].tax_lines[0].price");
}

#[test]
fn the_shopify_merchant_is_the_shop_domain_header_in_lower_case() {
    let n = ok(Channel::Shopify, &fixture("shopify_order.json"), &shop());
    assert_eq!(n.merchant_id.as_str(), "example-store.myshopify.com");
}

#[test]
fn a_shopify_order_without_the_shop_domain_is_refused_naming_merchant_id() {
    let err = channels::normalise(Channel::Shopify, &fixture("shopify_order.json")).expect_err("no merchant");
    assert_eq!(err.field, "merchant_id");
    assert!(err.message.contains("X-Shopify-Shop-Domain"), "{err}");
}

#[test]
fn a_shopify_guest_checkout_is_identified_by_email() {
    let n = ok(Channel::Shopify, &fixture("shopify_guest_order.json"), &shop());
    assert_eq!(n.customer.id.as_str(), "guest:erika.muster@example.de");
    assert_eq!(n.customer.name.as_deref(), Some("Erika Mustermann"));
    assert_eq!(n.shipping_address.province, None);
    assert_eq!(n.placed_at.to_rfc3339(), "2026-11-21T17:45:10+00:00");
}

#[test]
fn a_shopify_guest_with_only_a_phone_is_identified_by_the_phone() {
    let body = edited(
        "shopify_guest_order.json",
        &[set("/email", json!(null)), set("/contact_email", json!("")), set("/phone", json!("+49 221 123-4567"))],
    );
    let n = ok(Channel::Shopify, &body, &shop());
    assert_eq!(n.customer.id.as_str(), "guest:+492211234567");
    assert_eq!(n.customer.email, None);
}

#[test]
fn a_shopify_guest_with_no_email_and_no_phone_is_refused() {
    let body = edited("shopify_guest_order.json", &[set("/email", json!(null)), remove("/contact_email")]);
    let err = refused(Channel::Shopify, &body, &shop());
    assert_eq!(err.field, "customer");
}

#[test]
fn shopify_shipping_comes_from_the_shipping_lines_when_there_is_no_price_set() {
    let n = ok(Channel::Shopify, &fixture("shopify_guest_order.json"), &shop());
    assert_eq!(
        n.charges,
        Charges { taxes_included: true, ..charges("0", "4.90", "3.97") },
        "the guest order says taxes_included"
    );
}

#[test]
fn a_shopify_line_without_a_sku_is_refused_with_a_message_that_names_it() {
    for sku in [json!(null), json!(""), json!("   ")] {
        let err = refused(Channel::Shopify, &edited("shopify_order.json", &[set("/line_items/1/sku", sku)]), &shop());
        assert_eq!(err.field, "line_items[1].sku");
        assert!(err.message.contains("no SKU"), "{err}");
    }
}

#[test]
fn shopify_quantities_outside_one_to_ten_thousand_are_refused() {
    for quantity in [0, -1, 10_001] {
        let err =
            refused(Channel::Shopify, &edited("shopify_order.json", &[set("/line_items/0/quantity", json!(quantity))]), &shop());
        assert_eq!(err.field, "line_items[0].quantity", "{quantity}: {err}");
    }
}

#[test]
fn a_shopify_field_of_the_wrong_type_is_named_by_its_path() {
    assert_each_refusal_names(
        Channel::Shopify,
        "shopify_order.json",
        &shop(),
        &[
            ("/line_items/1/quantity", json!("1"), "line_items[1].quantity"),
            ("/line_items/0/price", json!(25.0), "line_items[0].price"),
            ("/customer/id", json!("207119551"), "customer.id"),
            ("/id", json!(null), "id"),
            ("/created_at", json!("last tuesday"), "created_at"),
            ("/line_items", json!({}), "line_items"),
        ],
    );
}

#[test]
fn a_shopify_order_in_an_unknown_currency_is_refused() {
    let err = refused(Channel::Shopify, &edited("shopify_order.json", &[set("/currency", json!("XQZ"))]), &shop());
    assert_eq!(err.field, "currency");
    assert!(err.message.contains("ISO 4217"), "{err}");
}

#[test]
fn shopify_bad_values_are_named_with_shopify_field_names() {
    assert_each_refusal_names(
        Channel::Shopify,
        "shopify_order.json",
        &shop(),
        &[
            ("/line_items/0/price", json!("-1.00"), "line_items[0].price"),
            ("/shipping_address/country_code", json!("USA"), "shipping_address.country_code"),
            ("/shipping_address/address1", json!(""), "shipping_address.address1"),
            ("/shipping_address", json!(null), "shipping_address"),
            ("/phone", json!("call me"), "phone"),
            ("/total_discounts", json!("-5"), "total_discounts"),
            ("/line_items", json!([]), "line_items"),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// WooCommerce

#[test]
fn a_woocommerce_order_becomes_the_canonical_order() {
    let n = ok(Channel::WooCommerce, &fixture("woocommerce_order.json"), &woo_source());
    let o = &n;
    assert_eq!(o.channel, Channel::WooCommerce);
    assert_eq!(o.external_id.as_str(), "727");
    assert_eq!(o.placed_at.to_rfc3339(), "2026-11-20T10:00:00+00:00");
    assert_eq!(o.currency.code(), "USD");
    assert_eq!(o.customer.id.as_str(), "12");
    assert_eq!(o.customer.email.as_deref(), Some("john.doe@example.com"));
    assert_eq!(o.customer.phone.as_deref(), Some("5555555555"));
    assert_eq!(o.customer.name.as_deref(), Some("John Doe"));
    let a = &o.shipping_address;
    assert_eq!((a.line1.as_str(), a.line2.as_deref()), ("969 Market", Some("Floor 3")));
    assert_eq!((a.city.as_str(), a.province.as_deref(), a.postal_code.as_deref()), ("San Francisco", Some("CA"), Some("94103")));
    assert_eq!(a.country, "US");
}

#[test]
fn woocommerce_unit_prices_are_the_subtotal_before_discounts_per_unit() {
    let n = ok(Channel::WooCommerce, &fixture("woocommerce_order.json"), &woo_source());
    // The hoodie's `price` is 18 after the coupon; 10.00 / 3 beanies rounds to 4 places for USD.
    assert_eq!(lines(&n), [line("woo-hoodie-blue", 2, "20"), line("woo-beanie", 3, "3.3333")]);
}

#[test]
fn woocommerce_charges_carry_the_discount_shipping_and_tax_totals() {
    let n = ok(Channel::WooCommerce, &fixture("woocommerce_order.json"), &woo_source());
    assert_eq!(n.charges, charges("4.00", "10.00", "3.68"));
}

#[test]
fn a_woocommerce_price_given_as_a_json_number_is_read_exactly() {
    let body = edited(
        "woocommerce_order.json",
        &[remove("/line_items/0/subtotal"), set("/line_items/0/price", json!(19.9)), remove("/line_items/1/subtotal")],
    );
    let n = ok(Channel::WooCommerce, &body, &woo_source());
    assert_eq!(lines(&n), [line("woo-hoodie-blue", 2, "19.9"), line("woo-beanie", 3, "3.3333")]);
}

#[test]
fn woocommerce_amounts_may_be_strings_or_numbers() {
    let body = edited(
        "woocommerce_order.json",
        &[set("/discount_total", json!(4)), set("/shipping_total", json!(10.5)), set("/line_items/0/subtotal", json!(40))],
    );
    let n = ok(Channel::WooCommerce, &body, &woo_source());
    assert_eq!(n.charges, charges("4", "10.5", "3.68"));
    assert_eq!(n.lines[0].unit_price, dec("20"));
}

#[test]
fn the_woocommerce_merchant_is_the_webhook_source_reduced_to_its_host() {
    let n = ok(Channel::WooCommerce, &fixture("woocommerce_order.json"), &woo_source());
    assert_eq!(n.merchant_id.as_str(), "shop.example.com");
}

#[test]
fn a_woocommerce_order_without_the_webhook_source_is_refused_naming_merchant_id() {
    let err = channels::normalise(Channel::WooCommerce, &fixture("woocommerce_order.json")).expect_err("no merchant");
    assert_eq!(err.field, "merchant_id");
    assert!(err.message.contains("X-WC-Webhook-Source"), "{err}");
}

#[test]
fn a_woocommerce_guest_is_identified_by_the_billing_email() {
    let n = ok(Channel::WooCommerce, &fixture("woocommerce_guest_order.json"), &woo_source());
    assert_eq!(n.customer.id.as_str(), "guest:erika@example.de");
    assert_eq!(n.customer.phone.as_deref(), Some("+492211234567"));
}

#[test]
fn a_woocommerce_guest_without_an_email_is_identified_by_the_phone() {
    let body = edited("woocommerce_guest_order.json", &[set("/billing/email", json!(""))]);
    let n = ok(Channel::WooCommerce, &body, &woo_source());
    assert_eq!(n.customer.id.as_str(), "guest:+492211234567");
}

#[test]
fn a_woocommerce_guest_with_no_email_and_no_phone_is_refused_naming_customer_id() {
    let body = edited("woocommerce_guest_order.json", &[set("/billing/email", json!("")), set("/billing/phone", json!(""))]);
    let err = refused(Channel::WooCommerce, &body, &woo_source());
    assert_eq!(err.field, "customer_id");
}

#[test]
fn a_blank_woocommerce_shipping_address_falls_back_to_the_billing_address() {
    let n = ok(Channel::WooCommerce, &fixture("woocommerce_guest_order.json"), &woo_source());
    let a = &n.shipping_address;
    assert_eq!((a.line1.as_str(), a.city.as_str(), a.country.as_str()), ("Heidestraße 17", "Köln", "DE"));
    assert_eq!(a.name.as_deref(), Some("Erika Mustermann"));
    assert_eq!(n.charges, charges("0", "4.12", "3.97"));
}

#[test]
fn a_woocommerce_line_without_a_sku_is_refused_with_a_message_that_names_it() {
    for sku in [json!(""), json!(null)] {
        let err =
            refused(Channel::WooCommerce, &edited("woocommerce_order.json", &[set("/line_items/1/sku", sku)]), &woo_source());
        assert_eq!(err.field, "line_items[1].sku");
        assert!(err.message.contains("no SKU"), "{err}");
    }
}

#[test]
fn woocommerce_quantities_outside_one_to_ten_thousand_are_refused() {
    for quantity in [0, -2, 10_001] {
        let body = edited("woocommerce_order.json", &[set("/line_items/0/quantity", json!(quantity))]);
        let err = refused(Channel::WooCommerce, &body, &woo_source());
        assert_eq!(err.field, "line_items[0].quantity", "{quantity}: {err}");
    }
}

#[test]
fn a_woocommerce_field_of_the_wrong_type_is_named_by_its_path() {
    assert_each_refusal_names(
        Channel::WooCommerce,
        "woocommerce_order.json",
        &woo_source(),
        &[
            ("/line_items/0/quantity", json!("2"), "line_items[0].quantity"),
            ("/line_items/1/price", json!(true), "line_items[1].price"),
            ("/line_items/1/subtotal", json!({"amount": "10"}), "line_items[1].subtotal"),
            ("/customer_id", json!("12"), "customer_id"),
            ("/billing/email", json!(7), "billing.email"),
            ("/discount_total", json!([]), "discount_total"),
        ],
    );
}

#[test]
fn a_woocommerce_order_in_an_unknown_currency_is_refused() {
    let err = refused(Channel::WooCommerce, &edited("woocommerce_order.json", &[set("/currency", json!("ABC"))]), &woo_source());
    assert_eq!(err.field, "currency");
}

#[test]
fn woocommerce_bad_values_are_named_with_woocommerce_field_names() {
    assert_each_refusal_names(
        Channel::WooCommerce,
        "woocommerce_order.json",
        &woo_source(),
        &[
            ("/date_created_gmt", json!("20/11/2026"), "date_created_gmt"),
            ("/line_items/0/subtotal", json!("-40.00"), "line_items[0].subtotal"),
            ("/line_items/0/subtotal", json!("forty"), "line_items[0].subtotal"),
            ("/shipping/address_1", json!(""), "shipping.address_1"),
            ("/shipping/country", json!("United States"), "shipping.country"),
            ("/billing/phone", json!("ext. 12"), "billing.phone"),
            ("/total_tax", json!("-1"), "total_tax"),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Amazon

#[test]
fn an_amazon_order_and_its_items_become_the_canonical_order() {
    let n = ok(Channel::Amazon, &fixture("amazon_order.json"), &Meta::default());
    let o = &n;
    assert_eq!(o.channel, Channel::Amazon);
    assert_eq!(o.external_id.as_str(), "113-5539421-7261831");
    assert_eq!(o.merchant_id.as_str(), "A2SELLER7EXAMPLE");
    assert_eq!(o.placed_at.to_rfc3339(), "2026-11-20T09:58:14+00:00");
    assert_eq!(o.currency.code(), "USD");
    assert_eq!(o.customer.id.as_str(), "guest:k9x2mplq7v1nz3r@marketplace.amazon.com");
    assert_eq!(o.customer.name.as_deref(), Some("Jane Q. Buyer"));
    assert_eq!(o.customer.phone.as_deref(), Some("+12065550142"));
    let a = &o.shipping_address;
    assert_eq!((a.line1.as_str(), a.line2.as_deref()), ("1234 Pine St", Some("Apt 5")));
    assert_eq!((a.city.as_str(), a.province.as_deref(), a.postal_code.as_deref()), ("Seattle", Some("WA"), Some("98101-1234")));
}

#[test]
fn an_amazon_unit_price_is_the_item_price_divided_by_the_quantity() {
    let n = ok(Channel::Amazon, &fixture("amazon_order.json"), &Meta::default());
    // 89.99 / 3 = 29.99666…, kept to the cent plus two places.
    assert_eq!(lines(&n), [line("AMZ-KETTLE-1L", 3, "29.9967"), line("AMZ-FILTER-3PK", 1, "12.49")]);
}

#[test]
fn amazon_charges_sum_promotions_shipping_and_tax_net_of_discount_tax() {
    let n = ok(Channel::Amazon, &fixture("amazon_order.json"), &Meta::default());
    // discount 6.00 + 4.99; tax 9.22 + 0.51 + 1.28 - 0.62 - 0.51.
    assert_eq!(n.charges, charges("10.99", "4.99", "9.88"));
}

#[test]
fn a_merchant_given_by_the_caller_wins_over_the_amazon_seller_id() {
    let n = ok(Channel::Amazon, &fixture("amazon_order.json"), &Meta::merchant("m-7"));
    assert_eq!(n.merchant_id.as_str(), "m-7");
}

#[test]
fn an_amazon_order_without_a_seller_is_refused_naming_merchant_id() {
    let err = refused(Channel::Amazon, &edited("amazon_order.json", &[remove("/seller_id")]), &Meta::default());
    assert_eq!(err.field, "merchant_id");
}

#[test]
fn an_amazon_buyer_without_an_email_is_identified_by_the_phone() {
    let n = ok(Channel::Amazon, &edited("amazon_order.json", &[remove("/order/BuyerInfo")]), &Meta::default());
    assert_eq!(n.customer.id.as_str(), "guest:+12065550142");
    assert_eq!(n.customer.name.as_deref(), Some("Jane Q. Buyer"));
}

#[test]
fn pending_amazon_orders_are_refused() {
    let body = edited("amazon_order.json", &[set("/order/OrderStatus", json!("Pending"))]);
    let err = refused(Channel::Amazon, &body, &Meta::default());
    assert_eq!(err.field, "order.OrderStatus", "{err}");
}

// ---------------------------------------------------------------------------------------
// versions and cancels

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().expect("a valid time")
}

#[test]
fn each_channel_reports_its_own_modification_time_as_the_version() {
    let cases = [
        (Channel::Shopify, fixture("shopify_order.json"), shop(), "2026-11-20T15:00:02Z"),
        (Channel::WooCommerce, fixture("woocommerce_order.json"), woo_source(), "2026-11-20T10:00:05Z"),
        (Channel::Amazon, fixture("amazon_order.json"), Meta::default(), "2026-11-20T10:29:51Z"),
        (
            Channel::Generic,
            edited("generic_order.json", &[set("/updated_at", json!("2026-11-21T08:00:00+08:00"))]),
            Meta::default(),
            "2026-11-21T00:00:00Z",
        ),
    ];
    for (channel, body, meta, expected) in cases {
        let n = ok(channel, &body, &meta);
        assert_eq!((n.channel_updated_at, n.cancelled_at), (at(expected), None), "{channel}");
    }
}

#[test]
fn without_a_modification_time_the_version_is_the_placed_time() {
    let cases = [
        (Channel::Shopify, edited("shopify_order.json", &[remove("/updated_at")]), shop()),
        (Channel::WooCommerce, edited("woocommerce_order.json", &[remove("/date_modified_gmt")]), woo_source()),
        (Channel::Amazon, edited("amazon_order.json", &[remove("/order/LastUpdateDate")]), Meta::default()),
        (Channel::Generic, fixture("generic_order.json"), Meta::default()),
    ];
    for (channel, body, meta) in cases {
        let n = ok(channel, &body, &meta);
        assert_eq!(n.channel_updated_at, n.placed_at, "{channel}");
    }
}

#[test]
fn each_channel_reports_a_cancel_as_the_intent_to_cancel() {
    let topic = Meta { topic: Some("orders/cancelled".into()), ..shop() };
    let cases = [
        (
            Channel::Shopify,
            edited("shopify_order.json", &[set("/cancelled_at", json!("2026-11-20T11:00:00-05:00"))]),
            shop(),
            "2026-11-20T16:00:00Z",
        ),
        (Channel::Shopify, fixture("shopify_order.json"), topic, "2026-11-20T15:00:02Z"),
        (
            Channel::WooCommerce,
            edited("woocommerce_order.json", &[set("/status", json!("cancelled"))]),
            woo_source(),
            "2026-11-20T10:00:05Z",
        ),
        (
            Channel::Amazon,
            edited("amazon_order.json", &[set("/order/OrderStatus", json!("Canceled"))]),
            Meta::default(),
            "2026-11-20T10:29:51Z",
        ),
        (
            Channel::Generic,
            edited("generic_order.json", &[set("/cancelled_at", json!("2026-11-20T12:00:00Z"))]),
            Meta::default(),
            "2026-11-20T12:00:00Z",
        ),
    ];
    for (channel, body, meta, expected) in cases {
        assert_eq!(ok(channel, &body, &meta).cancelled_at, Some(at(expected)), "{channel}");
    }
}

#[test]
fn a_bad_woocommerce_modification_time_is_refused_by_name() {
    let body = edited("woocommerce_order.json", &[set("/date_modified_gmt", json!("yesterday"))]);
    assert_eq!(refused(Channel::WooCommerce, &body, &woo_source()).field, "date_modified_gmt");
}

#[test]
fn an_amazon_order_without_its_restricted_address_is_refused() {
    let body = edited(
        "amazon_order.json",
        &[remove("/order/ShippingAddress/AddressLine1"), remove("/order/ShippingAddress/AddressLine2")],
    );
    let err = refused(Channel::Amazon, &body, &Meta::default());
    assert_eq!(err.field, "order.ShippingAddress.AddressLine1");
    let err = refused(Channel::Amazon, &edited("amazon_order.json", &[remove("/order/ShippingAddress")]), &Meta::default());
    assert_eq!(err.field, "order.ShippingAddress");
}

#[test]
fn an_amazon_amount_in_another_currency_than_the_order_is_refused() {
    let body = edited("amazon_order.json", &[set("/items/1/ItemTax/CurrencyCode", json!("EUR"))]);
    let err = refused(Channel::Amazon, &body, &Meta::default());
    assert_eq!(err.field, "items[1].ItemTax.CurrencyCode");
}

#[test]
fn the_amazon_currency_comes_from_the_first_item_when_the_order_total_is_absent() {
    let n = ok(Channel::Amazon, &edited("amazon_order.json", &[remove("/order/OrderTotal")]), &Meta::default());
    assert_eq!(n.currency.code(), "USD");
}

#[test]
fn an_amazon_item_without_a_seller_sku_is_refused_with_a_message_that_names_it() {
    for edit in [remove("/items/0/SellerSKU"), set("/items/0/SellerSKU", json!(""))] {
        let err = refused(Channel::Amazon, &edited("amazon_order.json", &[edit]), &Meta::default());
        assert_eq!(err.field, "items[0].SellerSKU");
        assert!(err.message.contains("no SKU"), "{err}");
    }
}

#[test]
fn amazon_quantities_outside_one_to_ten_thousand_are_refused() {
    for quantity in [0, -1, 10_001] {
        let body = edited("amazon_order.json", &[set("/items/1/QuantityOrdered", json!(quantity))]);
        let err = refused(Channel::Amazon, &body, &Meta::default());
        assert_eq!(err.field, "items[1].QuantityOrdered", "{quantity}: {err}");
    }
}

#[test]
fn an_amazon_field_of_the_wrong_type_is_named_by_its_path() {
    assert_each_refusal_names(
        Channel::Amazon,
        "amazon_order.json",
        &Meta::default(),
        &[
            ("/items/0/QuantityOrdered", json!("3"), "items[0].QuantityOrdered"),
            ("/items/0/ItemPrice/Amount", json!(89.99), "items[0].ItemPrice.Amount"),
            ("/order/PurchaseDate", json!(1_700_000_000), "order.PurchaseDate"),
            ("/order/BuyerInfo", json!("someone"), "order.BuyerInfo"),
            ("/items", json!(null), "items"),
        ],
    );
}

#[test]
fn an_amazon_order_in_an_unknown_currency_is_refused() {
    let body = edited("amazon_order.json", &[set("/order/OrderTotal/CurrencyCode", json!("US$"))]);
    let err = refused(Channel::Amazon, &body, &Meta::default());
    assert_eq!(err.field, "order.OrderTotal.CurrencyCode");
}

#[test]
fn amazon_bad_values_are_named_with_amazon_field_names() {
    assert_each_refusal_names(
        Channel::Amazon,
        "amazon_order.json",
        &Meta::default(),
        &[
            ("/items/0/ItemPrice/Amount", json!("-89.99"), "items[0].ItemPrice.Amount"),
            ("/items/0/PromotionDiscount/Amount", json!("six"), "items[0].PromotionDiscount.Amount"),
            ("/order/ShippingAddress/CountryCode", json!("USA"), "order.ShippingAddress.CountryCode"),
            ("/order/ShippingAddress/City", json!(""), "order.ShippingAddress.City"),
            ("/order/BuyerInfo/BuyerEmail", json!("not-an-email"), "order.BuyerInfo.BuyerEmail"),
            ("/order/AmazonOrderId", json!(""), "order.AmazonOrderId"),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// generic and import through the one entry point

#[test]
fn generic_orders_come_with_no_charges() {
    let body = json!({"external_id":"A-1001","merchant_id":"m-1","placed_at":"2026-11-20T10:00:00Z",
      "currency":"CNY","customer":{"id":"c-1","email":"a@example.com","phone":"+8613800000000"},
      "shipping_address":{"name":"Li Lei","line1":"1 West Lake Rd","city":"Hangzhou",
      "province":"Zhejiang","postal_code":"310000","country":"CN"},
      "lines":[{"sku":"SKU-1","quantity":2,"unit_price":"19.90"}]});
    let n = ok(Channel::Generic, &serde_json::to_vec(&body).expect("serialises"), &Meta::default());
    assert_eq!(n.charges, Charges::default());
    assert_eq!(n.merchant_id.as_str(), "m-1");
}

#[test]
fn a_generic_customer_may_name_the_card_paid_with() {
    let with = |card: Value| {
        let mut body = doc("generic_order.json");
        body["customer"]["card_fingerprint"] = card;
        serde_json::to_vec(&body).expect("serialises")
    };
    let n = ok(Channel::Generic, &with(json!("fp_9Xb2")), &Meta::default());
    assert_eq!(n.customer.card.as_deref(), Some("fp_9Xb2"));
    assert_eq!(ok(Channel::Generic, &fixture("generic_order.json"), &Meta::default()).customer.card, None);
    assert_eq!(refused(Channel::Generic, &with(json!("two words")), &Meta::default()).field, "customer.card_fingerprint");
    assert_eq!(refused(Channel::Generic, &with(json!(42)), &Meta::default()).field, "customer.card_fingerprint");
}

#[test]
fn import_orders_are_not_taken_as_a_webhook_body() {
    let err = channels::normalise(Channel::Import, &fixture("import_orders.csv")).expect_err("not a webhook");
    assert_eq!(err.field, "channel");
    assert!(err.message.contains("parse_csv"), "{err}");
}

#[test]
fn each_channel_names_the_header_that_carries_its_merchant() {
    assert_eq!(Meta::merchant_header(Channel::Shopify), Some("x-shopify-shop-domain"));
    assert_eq!(Meta::merchant_header(Channel::WooCommerce), Some("x-wc-webhook-source"));
    assert_eq!(Meta::merchant_header(Channel::Amazon), None);
    assert_eq!(Meta::merchant_header(Channel::Generic), None);
}

#[test]
fn the_guest_customer_id_prefers_the_channel_id_then_the_email_then_the_phone() {
    use channels::customer_id_or_guest as id;
    assert_eq!(id(Some("42"), Some("a@b.c"), Some("+1 555 0100")).as_deref(), Some("42"));
    assert_eq!(id(Some(" "), Some("A@B.c"), Some("+1 555 0100")).as_deref(), Some("guest:a@b.c"));
    assert_eq!(id(None, None, Some("+1 (555) 0100")).as_deref(), Some("guest:+15550100"));
    assert_eq!(id(None, Some(""), None), None);
}

// ---------------------------------------------------------------------------------------
// CSV import

fn import(text: &str) -> Vec<Result<NewOrder, ValidationError>> {
    parse_csv(text.as_bytes())
}

const HEADER: &str = "external_id,merchant_id,placed_at,currency,customer_id,email,phone,name,line1,line2,city,province,postal_code,country,sku,quantity,unit_price";

/// A file of the header and `rows`, each a full 17-column row.
fn csv_of(rows: &[&str]) -> String {
    std::iter::once(HEADER).chain(rows.iter().copied()).collect::<Vec<_>>().join("\n")
}

const ROW_A1: &str =
    "A-1,m-1,2026-11-20T10:00:00Z,CNY,c-1,a@example.com,,Li Lei,1 West Lake Rd,,Hangzhou,Zhejiang,310000,CN,SKU-1,2,19.90";
const ROW_A2: &str =
    "A-1,m-1,2026-11-20T10:00:00Z,CNY,c-1,a@example.com,,Li Lei,1 West Lake Rd,,Hangzhou,Zhejiang,310000,CN,SKU-2,1,5";
const ROW_B1: &str =
    "B-1,m-1,2026-11-20T10:00:00Z,CNY,c-2,b@example.com,,Han Meimei,2 Bund Rd,,Shanghai,Shanghai,200001,CN,SKU-3,1,9.90";

fn the_error(results: &[Result<NewOrder, ValidationError>], index: usize) -> &ValidationError {
    match &results[index] {
        Err(e) => e,
        Ok(o) => panic!("order {index} was accepted: {o:?}"),
    }
}

fn the_order(results: &[Result<NewOrder, ValidationError>], index: usize) -> &NewOrder {
    match &results[index] {
        Ok(o) => o,
        Err(e) => panic!("order {index} was refused: {e}"),
    }
}

#[test]
fn a_csv_file_gives_one_result_per_order_with_consecutive_rows_as_its_lines() {
    let results = parse_csv(&fixture("import_orders.csv")[..]);
    assert_eq!(results.len(), 3);
    let first = the_order(&results, 0);
    assert_eq!(first.channel, Channel::Import);
    assert_eq!(first.external_id.as_str(), "IMP-1001");
    assert_eq!(first.merchant_id.as_str(), "m-1");
    assert_eq!(first.customer.phone.as_deref(), Some("+8613800000000"));
    assert_eq!(first.shipping_address.line2.as_deref(), Some("Building 2"));
    assert_eq!(lines(first), [line("SKU-1", 2, "19.9"), line("SKU-2", 1, "5")]);
    let third = the_order(&results, 2);
    assert_eq!(third.currency.code(), "JPY");
    assert_eq!(lines(third), [line("SKU-JP-1", 3, "1200"), line("SKU-JP-2", 1, "450")]);
}

#[test]
fn a_csv_order_without_a_customer_id_is_a_guest_identified_by_email() {
    let results = parse_csv(&fixture("import_orders.csv")[..]);
    let guest = the_order(&results, 1);
    assert_eq!(guest.customer.id.as_str(), "guest:han.meimei@example.com");
    assert_eq!(guest.shipping_address.line1, "88 Nanjing Rd, Floor 3");
}

#[test]
fn csv_times_are_rfc3339_or_plain_utc() {
    let results = parse_csv(&fixture("import_orders.csv")[..]);
    assert_eq!(the_order(&results, 1).placed_at.to_rfc3339(), "2026-11-20T11:30:00+00:00");
    assert_eq!(the_order(&results, 2).placed_at.to_rfc3339(), "2026-11-21T00:00:00+00:00");
}

#[test]
fn a_csv_error_names_the_row_and_the_column() {
    let results = import(&csv_of(&[ROW_A1, &ROW_A2.replace(",1,5", ",two,5")]));
    assert_eq!(the_error(&results, 0).field, "row 3: quantity");
}

#[test]
fn a_csv_line_without_a_sku_is_refused_with_a_message_that_names_it() {
    let results = import(&csv_of(&[ROW_A1, &ROW_A2.replace("SKU-2", "")]));
    let err = the_error(&results, 0);
    assert_eq!(err.field, "row 3: sku");
    assert!(err.message.contains("no SKU"), "{err}");
}

#[test]
fn csv_quantities_outside_one_to_ten_thousand_are_refused() {
    for quantity in ["0", "-1", "10001"] {
        let results = import(&csv_of(&[&ROW_A1.replace(",2,19.90", &format!(",{quantity},19.90"))]));
        assert_eq!(the_error(&results, 0).field, "row 2: quantity", "{quantity}");
    }
}

#[test]
fn a_csv_order_in_an_unknown_currency_is_refused() {
    let results = import(&csv_of(&[&ROW_A1.replace("CNY", "RMB")]));
    assert_eq!(the_error(&results, 0).field, "row 2: currency");
}

#[test]
fn a_bad_csv_order_does_not_stop_the_orders_around_it() {
    let results = import(&csv_of(&[ROW_A1, ROW_A2, &ROW_B1.replace("9.90", "-9.90"), &ROW_A1.replace("A-1", "C-1")]));
    assert_eq!(results.len(), 3);
    assert_eq!(the_order(&results, 0).lines.len(), 2);
    assert_eq!(the_error(&results, 1).field, "row 4: unit_price");
    assert_eq!(the_order(&results, 2).external_id.as_str(), "C-1");
}

#[test]
fn csv_rows_of_one_order_that_are_not_together_are_refused_everywhere() {
    let results = import(&csv_of(&[ROW_A1, ROW_B1, ROW_A2]));
    assert_eq!(results.len(), 3);
    assert_eq!(the_error(&results, 0).field, "row 2: external_id");
    assert!(the_order(&results, 1).external_id.as_str() == "B-1");
    assert_eq!(the_error(&results, 2).field, "row 4: external_id");
}

#[test]
fn a_later_csv_row_may_not_contradict_its_order() {
    let results = import(&csv_of(&[ROW_A1, &ROW_A2.replace("m-1", "m-2")]));
    let err = the_error(&results, 0);
    assert_eq!(err.field, "row 3: merchant_id");
}

#[test]
fn a_csv_file_missing_a_required_column_is_refused_naming_it() {
    let results = import("external_id,merchant_id,placed_at,currency,line1,city,country,sku,unit_price\n");
    assert_eq!(results.len(), 1);
    let err = the_error(&results, 0);
    assert_eq!(err.field, "header");
    assert!(err.message.contains("quantity"), "{err}");
}

#[test]
fn csv_columns_may_come_in_any_order_with_a_byte_order_mark_and_extra_columns() {
    let text = "\u{feff}sku,quantity,unit_price,note,external_id,merchant_id,placed_at,currency,customer_id,line1,city,country\n\
                SKU-9,1,\"1,000.00\",gift,X-1,m-1,2026-11-20T10:00:00Z,CNY,c-9,\"1 Long Rd, Unit 2\",Beijing,cn\n";
    let results = import(text);
    // "1,000.00" is not a decimal: the quoted cell is read whole and refused.
    assert_eq!(the_error(&results, 0).field, "row 2: unit_price");
    let results = import(&text.replace("\"1,000.00\"", "1000.00"));
    let order = the_order(&results, 0);
    assert_eq!(order.shipping_address.line1, "1 Long Rd, Unit 2");
    assert_eq!(order.shipping_address.country, "CN");
    assert_eq!(lines(order), [line("SKU-9", 1, "1000")]);
}

#[test]
fn a_csv_row_with_the_wrong_number_of_cells_fails_its_order() {
    let results = import(&csv_of(&[ROW_A1, &format!("{ROW_A2},extra"), ROW_B1]));
    assert_eq!(results.len(), 2);
    assert_eq!(the_error(&results, 0).field, "row 3");
    assert!(results[1].is_ok());
}

#[test]
fn a_csv_cell_that_is_not_utf8_fails_only_its_order() {
    let mut bytes = csv_of(&[ROW_A1]).into_bytes();
    bytes.push(b'\n');
    // B-1's SKU and quantity cells are Latin-1 bytes, not UTF-8.
    bytes.extend_from_slice(ROW_B1.replace("SKU-3,1,", "SKU-\u{0}3,\u{0},").as_bytes());
    for b in bytes.iter_mut().filter(|b| **b == 0) {
        *b = 0xE9;
    }
    let results = parse_csv(&bytes[..]);
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    let err = the_error(&results, 1);
    assert_eq!(err.field, "row 3: sku");
    assert!(err.message.contains("UTF-8"), "{err}");
}

#[test]
fn a_csv_row_without_an_external_id_fails_the_order_it_follows() {
    let results = import(&csv_of(&[ROW_A1, &ROW_A2.replacen("A-1", "", 1), ROW_B1]));
    assert_eq!(results.len(), 2);
    assert_eq!(the_error(&results, 0).field, "row 3: external_id");
    assert!(results[1].is_ok());
}

#[test]
fn a_csv_file_of_only_a_header_has_no_orders() {
    assert!(import(HEADER).is_empty());
}

#[test]
fn a_line_row_under_a_mistyped_external_id_fails_the_order_above_it() {
    let results = import(&csv_of(&[ROW_A1, "A-l,,,,,,,,,,,,,,SKU-2,1,5", ROW_B1]));
    assert_eq!(results.len(), 3);
    let err = the_error(&results, 0);
    assert_eq!(err.field, "row 2: external_id");
    assert!(err.message.contains("row 3"), "{err}");
    assert!(results[1].is_err());
    assert!(results[2].is_ok());
}

#[test]
fn a_woocommerce_price_too_small_or_too_large_for_a_decimal_is_refused_not_a_panic() {
    for price in
        [json!(5e-324), json!(1e-300), json!(1e300), json!(1.7976931348623157e308), json!("1e-4294967296"), json!("9e28")]
    {
        let body =
            edited("woocommerce_order.json", &[remove("/line_items/1/subtotal"), set("/line_items/1/price", price.clone())]);
        match channels::normalise_with_meta(Channel::WooCommerce, &body, &woo_source()) {
            Err(err) => assert_eq!(err.field, "line_items[1].price", "{price}: {err}"),
            Ok(n) => assert_eq!(n.lines[1].unit_price, Decimal::ZERO, "{price}: only a tiny price may round to zero"),
        }
    }
}

#[test]
fn each_channel_carries_its_own_order_number_as_the_buyer_saw_it() {
    let number = |channel: Channel, body: &[u8], meta: &Meta| ok(channel, body, meta).order_number.to_string();
    assert_eq!(number(Channel::Shopify, &fixture("shopify_order.json"), &shop()), "#1001");
    assert_eq!(number(Channel::WooCommerce, &fixture("woocommerce_order.json"), &woo_source()), "727");
    assert_eq!(number(Channel::Amazon, &fixture("amazon_order.json"), &Meta::default()), "113-5539421-7261831");

    let mut renumbered: serde_json::Value = serde_json::from_slice(&fixture("woocommerce_order.json")).unwrap();
    renumbered["number"] = serde_json::json!("WC-2026-0727");
    let renumbered = serde_json::to_vec(&renumbered).unwrap();
    let woo = ok(Channel::WooCommerce, &renumbered, &woo_source());
    assert_eq!((woo.order_number.as_str(), woo.external_id.as_str()), ("WC-2026-0727", "727"), "a plugin's number");

    let mut unnamed: serde_json::Value = serde_json::from_slice(&fixture("shopify_order.json")).unwrap();
    unnamed.as_object_mut().unwrap().remove("name");
    let unnamed = ok(Channel::Shopify, &serde_json::to_vec(&unnamed).unwrap(), &shop());
    assert_eq!(unnamed.order_number.as_str(), unnamed.external_id.as_str(), "no name: the id");
}

#[test]
fn each_channel_says_whether_the_order_is_paid() {
    // Shopify: `financial_status`.
    assert!(ok(Channel::Shopify, &fixture("shopify_order.json"), &shop()).paid);
    for (status, paid) in [("pending", false), ("authorized", false), ("partially_refunded", true), ("voided", false)] {
        let body = edited("shopify_order.json", &[set("/financial_status", json!(status))]);
        assert_eq!(ok(Channel::Shopify, &body, &shop()).paid, paid, "{status}");
    }
    // WooCommerce: `set_paid`, a payment date, or a status past payment.
    assert!(ok(Channel::WooCommerce, &fixture("woocommerce_order.json"), &woo_source()).paid);
    let unpaid = edited("woocommerce_order.json", &[set("/status", json!("pending")), set("/date_paid_gmt", Value::Null)]);
    assert!(!ok(Channel::WooCommerce, &unpaid, &woo_source()).paid);
    let set_paid = edited(
        "woocommerce_order.json",
        &[set("/status", json!("pending")), set("/date_paid_gmt", Value::Null), set("/set_paid", json!(true))],
    );
    assert!(ok(Channel::WooCommerce, &set_paid, &woo_source()).paid);
    // Amazon: an order it takes in is paid (a `Pending` one, not authorised yet, is refused).
    assert!(ok(Channel::Amazon, &fixture("amazon_order.json"), &Meta::default()).paid);
    // Generic: `paid`, default true.
    assert!(ok(Channel::Generic, &fixture("generic_order.json"), &Meta::default()).paid);
    let unpaid = edited("generic_order.json", &[set("/paid", json!(false))]);
    assert!(!ok(Channel::Generic, &unpaid, &Meta::default()).paid);
    let wrong = edited("generic_order.json", &[set("/paid", json!("yes"))]);
    assert_eq!(refused(Channel::Generic, &wrong, &Meta::default()).field, "paid");
}

#[test]
fn a_generic_order_may_promise_a_delivery_date_which_must_be_a_date_near_its_placing() {
    // The fixture is placed on 2026-11-20.
    assert_eq!(ok(Channel::Generic, &fixture("generic_order.json"), &Meta::default()).deliver_by, None);
    let promised = edited("generic_order.json", &[set("/deliver_by", json!("2026-11-23"))]);
    assert_eq!(ok(Channel::Generic, &promised, &Meta::default()).deliver_by, chrono::NaiveDate::from_ymd_opt(2026, 11, 23));
    for bad in [json!("23/11/2026"), json!(20261123), json!("2026-11-19"), json!("2028-01-01")] {
        let body = edited("generic_order.json", &[set("/deliver_by", bad.clone())]);
        assert_eq!(refused(Channel::Generic, &body, &Meta::default()).field, "deliver_by", "{bad}");
    }
}

#[test]
fn an_amazon_order_promises_the_end_of_its_delivery_window() {
    let meta = Meta::default();
    // The fixture's window ends 2026-11-28T07:59:59Z: the last second of the 27th on the US
    // west coast.
    let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 11, d);
    assert_eq!(ok(Channel::Amazon, &fixture("amazon_order.json"), &meta).deliver_by, day(27));
    let japan = edited("amazon_order.json", &[set("/order/LatestDeliveryDate", json!("2026-11-28T14:59:59Z"))]);
    assert_eq!(ok(Channel::Amazon, &japan, &meta).deliver_by, day(28));
    let open = edited("amazon_order.json", &[remove("/order/LatestDeliveryDate")]);
    assert_eq!(ok(Channel::Amazon, &open, &meta).deliver_by, None);
    // A window ending before the order was placed promises nothing; the order is taken.
    let before = edited("amazon_order.json", &[set("/order/LatestDeliveryDate", json!("2026-11-01T00:00:00Z"))]);
    assert_eq!(ok(Channel::Amazon, &before, &meta).deliver_by, None);
}

#[test]
fn a_csv_order_may_promise_a_delivery_date_in_an_optional_column() {
    let header = format!("{HEADER},deliver_by");
    let text = [header.as_str(), &format!("{ROW_A1},2026-11-23"), &format!("{ROW_A2},"), &format!("{ROW_B1},")].join("\n");
    let results = import(&text);
    assert_eq!(the_order(&results, 0).deliver_by, chrono::NaiveDate::from_ymd_opt(2026, 11, 23));
    assert_eq!(the_order(&results, 1).deliver_by, None);
    assert_eq!(the_order(&import(&csv_of(&[ROW_A1])), 0).deliver_by, None, "the column may be left out");
    let text = [header.as_str(), &format!("{ROW_A1},next week")].join("\n");
    assert_eq!(the_error(&import(&text), 0).field, "row 2: deliver_by");
    let text = [header.as_str(), &format!("{ROW_A1},2026-11-23"), &format!("{ROW_A2},2026-11-24")].join("\n");
    assert_eq!(the_error(&import(&text), 0).field, "row 3: deliver_by", "a later row contradicts the first");
}

// ---------------------------------------------------------------------------------------
// Invoice details given at checkout

#[test]
fn a_generic_customer_may_give_invoice_details_checked_whole() {
    let with = |billing: Value| {
        let mut body = doc("generic_order.json");
        body["customer"]["billing"] = billing;
        serde_json::to_vec(&body).expect("serialises")
    };
    let address = json!({"line1":"88 Tianmu Rd","city":"Hangzhou","country":"cn"});
    let n = ok(
        Channel::Generic,
        &with(json!({"company":"Acme Trading","tax_id":"91330100ma27xyz","address":address})),
        &Meta::default(),
    );
    let billing = n.customer.billing.expect("invoice details");
    assert_eq!((billing.company.as_deref(), billing.tax_id.as_deref()), (Some("Acme Trading"), Some("91330100MA27XYZ")));
    assert_eq!(billing.address.map(|a| (a.city, a.country)), Some(("Hangzhou".to_owned(), "CN".to_owned())));
    assert_eq!(ok(Channel::Generic, &with(json!({"company":" "})), &Meta::default()).customer.billing, None, "all blank: none");
    assert_eq!(ok(Channel::Generic, &fixture("generic_order.json"), &Meta::default()).customer.billing, None);
    for (billing, field) in [
        (json!({"tax_id":"12;34"}), "customer.billing.tax_id"),
        (json!({"company": "x".repeat(201)}), "customer.billing.company"),
        (json!({"address":{"line1":"88 Tianmu Rd","country":"CN"}}), "customer.billing.address.city"),
        (json!({"company": 7}), "customer.billing.company"),
        (json!("Acme"), "customer.billing"),
    ] {
        assert_eq!(refused(Channel::Generic, &with(billing.clone()), &Meta::default()).field, field, "{billing}");
    }
}

#[test]
fn shopify_and_woocommerce_invoice_details_come_from_the_billing_address() {
    let shopify = ok(Channel::Shopify, &fixture("shopify_order.json"), &shop());
    let billing = shopify.customer.billing.expect("the billing address");
    assert_eq!((billing.company, billing.tax_id), (None, None));
    assert_eq!(billing.address.map(|a| a.line1), Some("Chestnut Street 92".to_owned()));
    let company = edited("shopify_order.json", &[set("/billing_address/company", json!("Norman & Sons"))]);
    let billing = ok(Channel::Shopify, &company, &shop()).customer.billing.expect("details");
    assert_eq!(billing.company.as_deref(), Some("Norman & Sons"));
    let partial =
        edited("shopify_order.json", &[remove("/billing_address/address1"), set("/billing_address/company", json!("N"))]);
    let billing = ok(Channel::Shopify, &partial, &shop()).customer.billing.expect("the company");
    assert_eq!(billing.address, None, "a partial billing address is left out, the order kept");
    assert_eq!(
        ok(Channel::Shopify, &edited("shopify_order.json", &[remove("/billing_address")]), &shop()).customer.billing,
        None
    );

    let woo = ok(Channel::WooCommerce, &fixture("woocommerce_order.json"), &woo_source());
    assert_eq!(woo.customer.billing.and_then(|b| b.address).map(|a| a.city), Some("San Francisco".to_owned()));
    let company = edited("woocommerce_order.json", &[set("/billing/company", json!("Doe Holdings"))]);
    let billing = ok(Channel::WooCommerce, &company, &woo_source()).customer.billing.expect("details");
    assert_eq!(billing.company.as_deref(), Some("Doe Holdings"));
}
