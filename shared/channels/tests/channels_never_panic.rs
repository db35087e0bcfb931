//! Whatever a channel sends, normalising it answers `Ok` or a `ValidationError`, never a
//! panic; and whatever is accepted holds the canonical order's invariants.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock, PoisonError};

use oms_channels::csv_import::parse_csv;
use oms_channels::{self as channels, Meta};
use oms_domain::order::{Channel, NewOrder, MAX_LINES, MAX_LINE_QUANTITY};
use proptest::prelude::*;
use serde_json::Value;

/// The webhook channels, each with the fixture that a mutation starts from.
const CHANNELS: [(Channel, &str); 5] = [
    (Channel::Shopify, "shopify_order.json"),
    (Channel::Shopify, "shopify_guest_order.json"),
    (Channel::WooCommerce, "woocommerce_order.json"),
    (Channel::WooCommerce, "woocommerce_guest_order.json"),
    (Channel::Amazon, "amazon_order.json"),
];

/// The fixture, read and parsed once per test binary.
fn fixture(name: &str) -> Value {
    static CACHE: OnceLock<Mutex<HashMap<String, Value>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(PoisonError::into_inner);
    cache
        .entry(name.to_owned())
        .or_insert_with(|| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
            serde_json::from_slice(&std::fs::read(path).expect("fixture exists")).expect("fixture is JSON")
        })
        .clone()
}

fn meta() -> Meta {
    Meta::merchant("example-store.myshopify.com")
}

/// Field names the normalisers read, so generated objects often look like real ones.
const KEYS: &[&str] = &[
    "id",
    "email",
    "phone",
    "currency",
    "created_at",
    "customer",
    "shipping_address",
    "line_items",
    "sku",
    "quantity",
    "price",
    "total_discount",
    "tax_lines",
    "total_discounts",
    "total_tax",
    "total_shipping_price_set",
    "shop_money",
    "amount",
    "shipping_lines",
    "address1",
    "city",
    "country_code",
    "zip",
    "date_created_gmt",
    "customer_id",
    "billing",
    "shipping",
    "address_1",
    "country",
    "subtotal",
    "discount_total",
    "shipping_total",
    "order",
    "items",
    "seller_id",
    "AmazonOrderId",
    "PurchaseDate",
    "OrderTotal",
    "CurrencyCode",
    "Amount",
    "ShippingAddress",
    "AddressLine1",
    "City",
    "CountryCode",
    "SellerSKU",
    "QuantityOrdered",
    "ItemPrice",
    "external_id",
    "merchant_id",
    "placed_at",
    "lines",
    "unit_price",
    "line1",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            " ",
            "19.90",
            "0",
            "-1",
            "1e30",
            "1E-7",
            "0.0000001",
            "79228162514264337593543950335",
            "99999999999999999999999999999999",
            "2026-11-20T10:00:00Z",
            "2026-11-20T10:00:00",
            "USD",
            "JPY",
            "XXX",
            "+86 138 0000 0000",
            "a@b.c",
            "1e-4294967296",
            "1e4294967296",
            "9e28",
            "1e-28",
            "-0",
            "0e0",
            "1e+5",
            "5e-324",
            "1.7976931348623157e308",
            "0.00000000000000000000000000001",
            "http://",
            "https://x/",
            "Pending",
            "Canceled",
            "\u{0}",
            "\u{feff}",
        ])
        .prop_map(str::to_owned),
        ".{0,24}",
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![0_i64, 1, 2, 3, 10_000, 10_001, -1]).prop_map(Value::from),
        prop::sample::select(vec![5e-324_f64, 1e-300, 1e300, 1.7976931348623157e308, 3.3333333333333335, 1e28, 7.9e28])
            .prop_map(Value::from),
        any::<f64>().prop_filter_map("JSON has no NaN or infinity", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop_oneof![prop::sample::select(KEYS).prop_map(str::to_owned), ".{0,8}"], inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer inside `value`, the root included.
fn pointers(value: &Value, here: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(v, format!("{here}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(here);
}

/// The fixture with up to three of its values replaced by arbitrary JSON.
fn mutated(name: &str, edits: &[(prop::sample::Index, Value)]) -> Vec<u8> {
    let mut doc = fixture(name);
    for (index, value) in edits {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let pointer = index.get(&all).clone();
        if let Some(slot) = doc.pointer_mut(&pointer) {
            *slot = value.clone();
        }
    }
    serde_json::to_vec(&doc).expect("serialises")
}

fn holds_invariants(order: &NewOrder) {
    assert!(!order.lines.is_empty() && order.lines.len() <= MAX_LINES);
    for line in &order.lines {
        assert!((1..=MAX_LINE_QUANTITY).contains(&line.quantity), "{line:?}");
        assert!(!line.unit_price.is_sign_negative() || line.unit_price.is_zero(), "{line:?}");
        assert!(!line.sku.as_str().trim().is_empty());
    }
    assert_eq!(order.shipping_address.country.len(), 2);
}

fn check(channel: Channel, body: &[u8]) {
    if let Ok(order) = channels::normalise_with_meta(channel, body, &meta()) {
        let charges = order.charges;
        assert_eq!(order.channel, channel);
        holds_invariants(&order);
        for amount in [charges.discount, charges.shipping, charges.tax] {
            assert!(!amount.is_sign_negative() || amount.is_zero(), "{charges:?}");
        }
    }
    let _ = channels::normalise(channel, body);
}

proptest! {
    // proptest's 256 cases by default; `PROPTEST_CASES=20000 cargo test --release` digs deeper.

    #[test]
    fn arbitrary_json_never_panics_any_channel(value in json()) {
        let body = serde_json::to_vec(&value).expect("serialises");
        for channel in Channel::ALL {
            check(channel, &body);
        }
        for result in parse_csv(&body[..]).iter().flatten() {
            holds_invariants(result);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_any_channel(body in prop::collection::vec(any::<u8>(), 0..600)) {
        for channel in Channel::ALL {
            check(channel, &body);
        }
        for result in parse_csv(&body[..]).iter().flatten() {
            holds_invariants(result);
        }
    }

    #[test]
    fn a_documented_payload_with_arbitrary_values_never_panics(
        which in 0..CHANNELS.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), json()), 1..4),
    ) {
        let (channel, name) = CHANNELS[which];
        check(channel, &mutated(name, &edits));
    }

    #[test]
    fn arbitrary_csv_rows_never_panic_and_give_at_most_one_result_per_row(
        rows in prop::collection::vec(prop::collection::vec(text(), 0..20), 0..12),
    ) {
        let mut file = String::from("external_id,merchant_id,placed_at,currency,customer_id,email,phone,name,line1,line2,city,province,postal_code,country,sku,quantity,unit_price\n");
        for row in &rows {
            let cells: Vec<String> = row.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
            file.push_str(&cells.join(","));
            file.push('\n');
        }
        let results = parse_csv(file.as_bytes());
        prop_assert!(results.len() <= rows.len().max(1));
        for result in results.iter().flatten() {
            holds_invariants(result);
        }
    }
}

/// The fixture with any one cell replaced: never a panic, and never an order accepted
/// short of one of its rows.
#[test]
fn a_csv_with_one_cell_changed_keeps_or_refuses_each_order_whole() {
    let good =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import_orders.csv")).expect("fixture");
    let lines: Vec<&str> = good.lines().collect();
    let replacements = ["", "x", "-1", "0", "1e3", "10001", "\"a,b\"", "IMP-1001", "IMP-1003", "2026-13-45", "ZZZ"];
    for row in 1..lines.len() {
        let cells: Vec<&str> = lines[row].split(',').collect();
        for column in 0..cells.len() {
            for replacement in replacements {
                let mut edited_cells = cells.clone();
                edited_cells[column] = replacement;
                let mut edited_lines = lines.clone();
                let edited_row = edited_cells.join(",");
                edited_lines[row] = &edited_row;
                let file = edited_lines.join("\n");
                let results = parse_csv(file.as_bytes());
                for order in results.iter().flatten() {
                    holds_invariants(order);
                    // An accepted order has a line for every row that names it.
                    let rows = first_cells(&file).iter().filter(|id| id.as_str() == order.external_id.as_str()).count();
                    assert_eq!(order.lines.len(), rows, "{edited_row} -> {order:?}");
                }
            }
        }
    }
}

/// The first cell of every data row, read as a CSV reader reads it.
fn first_cells(file: &str) -> Vec<String> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(file.as_bytes())
        .records()
        .filter_map(Result::ok)
        .map(|r| r.get(0).unwrap_or_default().to_owned())
        .collect()
}
