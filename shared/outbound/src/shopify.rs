//! A shipment written back to Shopify through the Admin REST API (fulfillment orders).
//!
//! 1. `GET /admin/api/<version>/orders/<id>/fulfillments.json`: a fulfillment with our
//!    tracking number means an earlier attempt landed (`AlreadyThere`).
//! 2. `GET /admin/api/<version>/orders/<id>.json?fields=line_items`: which line item is
//!    which SKU.
//! 3. `GET /admin/api/<version>/orders/<id>/fulfillment_orders.json`: the open fulfillment
//!    orders and how much of each line item they may still fulfil.
//! 4. `POST /admin/api/<version>/fulfillments.json` with `line_items_by_fulfillment_order`
//!    (the parcel's units, spread over the fulfillment order lines of their SKUs),
//!    `tracking_info` (`number`, `company`) and `notify_customer`.
//!
//! Every call carries `X-Shopify-Access-Token`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use oms_domain::outbound::{ChannelShipment, Delivered, DeliveryError};

/// The Admin API version when none is configured.
pub const DEFAULT_API_VERSION: &str = "2025-01";

/// A Shopify shop and an Admin API access token of an app installed on it.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shop {
    /// `https://<shop>.myshopify.com`.
    pub url: String,
    pub access_token: String,
    #[serde(default = "default_version")]
    pub api_version: String,
}

fn default_version() -> String {
    DEFAULT_API_VERSION.to_owned()
}

impl std::fmt::Debug for Shop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shop").field("url", &self.url).field("api_version", &self.api_version).finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Fulfillments {
    fulfillments: Vec<Fulfillment>,
}

#[derive(Deserialize)]
struct Fulfillment {
    #[serde(default)]
    tracking_number: Option<String>,
    #[serde(default)]
    tracking_numbers: Vec<String>,
}

#[derive(Deserialize)]
struct OrderEnvelope {
    order: OrderLines,
}

#[derive(Deserialize)]
struct OrderLines {
    line_items: Vec<LineItem>,
}

#[derive(Deserialize)]
struct LineItem {
    id: u64,
    sku: Option<String>,
}

#[derive(Deserialize)]
struct FulfillmentOrders {
    fulfillment_orders: Vec<FulfillmentOrder>,
}

#[derive(Deserialize)]
struct FulfillmentOrder {
    id: u64,
    status: String,
    line_items: Vec<FulfillmentOrderLine>,
}

#[derive(Deserialize)]
struct FulfillmentOrderLine {
    id: u64,
    line_item_id: u64,
    fulfillable_quantity: u32,
}

/// Writes the shipment back to the shop (see the module's docs).
pub async fn send(client: &reqwest::Client, shop: &Shop, shipment: &ChannelShipment) -> Result<Delivered, DeliveryError> {
    let base = format!("{}/admin/api/{}", shop.url.trim_end_matches('/'), shop.api_version);
    let order = &shipment.external_id;
    let get = |path: String| client.get(format!("{base}/{path}")).header("x-shopify-access-token", &shop.access_token);

    let done: Fulfillments =
        super::fetch_json(get(format!("orders/{order}/fulfillments.json")), "shopify's fulfillments").await?;
    let number = shipment.tracking_number.as_str();
    if done
        .fulfillments
        .iter()
        .any(|f| f.tracking_number.as_deref() == Some(number) || f.tracking_numbers.iter().any(|n| n == number))
    {
        return Ok(Delivered::AlreadyThere);
    }
    let lines: OrderEnvelope =
        super::fetch_json(get(format!("orders/{order}.json?fields=line_items")), "shopify's order").await?;
    let open: FulfillmentOrders =
        super::fetch_json(get(format!("orders/{order}/fulfillment_orders.json")), "shopify's fulfillment orders").await?;
    let by_order = spread(shipment, &lines.order.line_items, &open.fulfillment_orders)?;
    let body = json!({
        "fulfillment": {
            "line_items_by_fulfillment_order": by_order,
            "tracking_info": {"number": number, "company": shipment.carrier.as_str()},
            "notify_customer": true,
        }
    });
    let request =
        client.post(format!("{base}/fulfillments.json")).header("x-shopify-access-token", &shop.access_token).json(&body);
    let (status, answer) = super::exchange(request, "shopify's fulfillment").await?;
    super::judge(status, "shopify's fulfillment", &answer)?;
    Ok(Delivered::Sent)
}

/// The parcel's units spread over the open fulfillment orders' lines of their SKUs:
/// `[{"fulfillment_order_id", "fulfillment_order_line_items": [{"id", "quantity"}]}]`.
/// Refused when the shop cannot take some unit (no open line of its SKU left).
fn spread(
    shipment: &ChannelShipment,
    items: &[LineItem],
    orders: &[FulfillmentOrder],
) -> Result<Vec<serde_json::Value>, DeliveryError> {
    let sku_of: BTreeMap<u64, &str> = items.iter().filter_map(|i| Some((i.id, i.sku.as_deref()?))).collect();
    let mut taken: BTreeMap<u64, Vec<serde_json::Value>> = BTreeMap::new();
    for (sku, units) in &shipment.lines {
        let mut left = *units;
        let open = orders.iter().filter(|o| matches!(o.status.as_str(), "open" | "in_progress" | "scheduled"));
        for (fo, line) in open.flat_map(|o| o.line_items.iter().map(move |l| (o.id, l))) {
            if left == 0 {
                break;
            }
            if sku_of.get(&line.line_item_id) != Some(&sku.as_str()) || line.fulfillable_quantity == 0 {
                continue;
            }
            let quantity = left.min(line.fulfillable_quantity);
            taken.entry(fo).or_default().push(json!({"id": line.id, "quantity": quantity}));
            left -= quantity;
        }
        if left > 0 {
            return Err(DeliveryError::Refused(format!(
                "shopify order {} has no open fulfillment order line left for {left} of {sku}",
                shipment.external_id
            )));
        }
    }
    Ok(taken.into_iter().map(|(id, lines)| json!({"fulfillment_order_id": id, "fulfillment_order_line_items": lines})).collect())
}
