//! A shipment written back to WooCommerce through its REST API (v3).
//!
//! 1. `GET /wp-json/wc/v3/orders/<id>/notes`: a note naming our tracking number means an
//!    earlier attempt landed (`AlreadyThere`).
//! 2. When nothing of the order is left to ship: `PUT /wp-json/wc/v3/orders/<id>` with
//!    `{"status": "completed"}` (idempotent).
//! 3. `POST /wp-json/wc/v3/orders/<id>/notes` with a customer note (`customer_note: true`,
//!    so WooCommerce emails it to the buyer) naming the carrier, the tracking number and
//!    what the parcel holds.
//!
//! Every call authenticates with the REST API key (HTTP Basic: consumer key and secret,
//! over HTTPS).

use serde::Deserialize;
use serde_json::json;

use oms_domain::outbound::{ChannelShipment, Delivered, DeliveryError};

/// A WooCommerce store and a REST API key with write access.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shop {
    /// The store's address, `https://shop.example`.
    pub url: String,
    pub consumer_key: String,
    pub consumer_secret: String,
}

impl std::fmt::Debug for Shop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shop").field("url", &self.url).finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Note {
    note: String,
}

/// The customer note a shipment writes: it names the tracking number
/// ([`tracking_phrase`]), which is how a later attempt knows it landed.
pub fn note_of(shipment: &ChannelShipment) -> String {
    let units: Vec<String> = shipment.lines.iter().map(|(sku, q)| format!("{q} x {sku}")).collect();
    format!("Shipped by {} with {}{}).", shipment.carrier, tracking_phrase(shipment), units.join(", "))
}

/// The part of the note that names the parcel exactly (`1Z10` is not found in a note of
/// `1Z100`).
fn tracking_phrase(shipment: &ChannelShipment) -> String {
    format!("tracking number {} (", shipment.tracking_number)
}

/// Writes the shipment back to the store (see the module's docs).
pub async fn send(client: &reqwest::Client, shop: &Shop, shipment: &ChannelShipment) -> Result<Delivered, DeliveryError> {
    let order = format!("{}/wp-json/wc/v3/orders/{}", shop.url.trim_end_matches('/'), shipment.external_id);
    let auth = |request: reqwest::RequestBuilder| request.basic_auth(&shop.consumer_key, Some(&shop.consumer_secret));

    let notes: Vec<Note> = super::fetch_json(auth(client.get(format!("{order}/notes"))), "woocommerce's order notes").await?;
    if notes.iter().any(|n| n.note.contains(&tracking_phrase(shipment))) {
        return Ok(Delivered::AlreadyThere);
    }
    if shipment.order_complete {
        let request = auth(client.put(&order)).json(&json!({"status": "completed"}));
        let (status, answer) = super::exchange(request, "woocommerce's order update").await?;
        super::judge(status, "woocommerce's order update", &answer)?;
    }
    let request = auth(client.post(format!("{order}/notes"))).json(&json!({"note": note_of(shipment), "customer_note": true}));
    let (status, answer) = super::exchange(request, "woocommerce's order note").await?;
    super::judge(status, "woocommerce's order note", &answer)?;
    Ok(Delivered::Sent)
}
