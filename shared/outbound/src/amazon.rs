//! A shipment confirmed to Amazon through the Selling Partner API (Orders v0).
//!
//! 1. `GET /orders/v0/orders/<id>/orderItems`: which order item is which seller SKU.
//! 2. `POST /orders/v0/orders/<id>/shipmentConfirmation` with `marketplaceId` and a
//!    `packageDetail` (`packageReferenceId`: the parcel's number within the order, so a
//!    repeat edits the same package rather than adding one; `carrierCode`, `carrierName`
//!    for a carrier Amazon has no code for, `trackingNumber`, `shipDate`, `orderItems`).
//!    Amazon answers 204.
//!
//! Every call carries `x-amz-access-token`: a Login with Amazon access token, exchanged
//! from the seller's refresh token at `lwa.token_url` and kept until a minute before it
//! expires (or a fixed `access_token`, for a sandbox).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use oms_domain::outbound::{ChannelShipment, Delivered, DeliveryError};

/// Carrier codes Amazon knows, by our carrier id; any other is sent as `Other` with its name.
const CARRIER_CODES: [(&str, &str); 6] =
    [("ups", "UPS"), ("usps", "USPS"), ("fedex", "FedEx"), ("dhl", "DHL"), ("sf", "SF Express"), ("yto", "YTO")];

/// A seller's SP-API access for one marketplace.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seller {
    /// The SP-API endpoint of the region, `https://sellingpartnerapi-na.amazon.com`.
    pub url: String,
    pub marketplace_id: String,
    /// The seller's Login with Amazon credentials (production).
    pub lwa: Option<Lwa>,
    /// A fixed access token instead (a sandbox).
    pub access_token: Option<String>,
}

impl std::fmt::Debug for Seller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seller").field("url", &self.url).field("marketplace_id", &self.marketplace_id).finish_non_exhaustive()
    }
}

/// Login with Amazon: what exchanges a refresh token for an access token.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lwa {
    /// `https://api.amazon.com/auth/o2/token`.
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
}

impl std::fmt::Debug for Lwa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lwa").field("token_url", &self.token_url).finish_non_exhaustive()
    }
}

/// The access token last exchanged for each seller (by its key in the destinations), and
/// when it stops being used.
#[derive(Default)]
pub struct TokenCache(Mutex<BTreeMap<String, (String, Instant)>>);

impl std::fmt::Debug for TokenCache {
    // Never the tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").finish_non_exhaustive()
    }
}

impl TokenCache {
    /// Forgets `key`'s token (Amazon refused it): the next call exchanges a new one.
    fn forget(&self, key: &str) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct ItemsEnvelope {
    payload: ItemsPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ItemsPayload {
    order_items: Vec<OrderItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OrderItem {
    order_item_id: String,
    #[serde(rename = "SellerSKU")]
    seller_sku: Option<String>,
    quantity_ordered: u32,
}

async fn access_token(client: &reqwest::Client, key: &str, seller: &Seller, cache: &TokenCache) -> Result<String, DeliveryError> {
    if let Some(token) = &seller.access_token {
        return Ok(token.clone());
    }
    let Some(lwa) = &seller.lwa else {
        return Err(DeliveryError::Refused("amazon has neither lwa credentials nor an access_token configured".into()));
    };
    if let Some((token, until)) = cache.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(key) {
        if Instant::now() < *until {
            return Ok(token.clone());
        }
    }
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", lwa.refresh_token.as_str()),
        ("client_id", lwa.client_id.as_str()),
        ("client_secret", lwa.client_secret.as_str()),
    ];
    let body = form.iter().map(|(k, v)| format!("{k}={}", form_escape(v))).collect::<Vec<_>>().join("&");
    let request = client.post(&lwa.token_url).header("content-type", "application/x-www-form-urlencoded").body(body);
    let answer: TokenAnswer = super::fetch_json(request, "login with amazon").await?;
    let until = Instant::now() + Duration::from_secs(answer.expires_in.saturating_sub(60));
    cache
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(key.to_owned(), (answer.access_token.clone(), until));
    Ok(answer.access_token)
}

/// `application/x-www-form-urlencoded` escaping of one value.
fn form_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Confirms the shipment to Amazon (see the module's docs).
pub async fn send(
    client: &reqwest::Client,
    key: &str,
    seller: &Seller,
    cache: &TokenCache,
    shipment: &ChannelShipment,
) -> Result<Delivered, DeliveryError> {
    let token = access_token(client, key, seller, cache).await?;
    let with_token = |request: reqwest::RequestBuilder| request.header("x-amz-access-token", &token);
    let order = format!("{}/orders/v0/orders/{}", seller.url.trim_end_matches('/'), shipment.external_id);
    let what = "amazon's order items";
    let answer = call(with_token(client.get(format!("{order}/orderItems"))), what, cache, key).await?;
    let items: ItemsEnvelope = super::parse_json(&answer, what)?;
    let order_items = spread(shipment, &items.payload.order_items)?;
    let carrier = shipment.carrier.as_str();
    let mut package = json!({
        "packageReferenceId": shipment.package_number.to_string(),
        "trackingNumber": shipment.tracking_number.as_str(),
        "shipDate": shipment.shipped_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "orderItems": order_items,
    });
    match CARRIER_CODES.iter().find(|(ours, _)| *ours == carrier) {
        Some((_, code)) => package["carrierCode"] = json!(code),
        None => {
            package["carrierCode"] = json!("Other");
            package["carrierName"] = json!(carrier);
        }
    }
    let body = json!({"marketplaceId": seller.marketplace_id, "packageDetail": package});
    let request = with_token(client.post(format!("{order}/shipmentConfirmation"))).json(&body);
    call(request, "amazon's shipment confirmation", cache, key).await?;
    Ok(Delivered::Sent)
}

/// Sends a call carrying `key`'s access token and judges the answer: a token Amazon
/// refuses (401, 403: revoked or expired early) is forgotten and the call tried again
/// later with a new one. The body of a 2xx answer.
async fn call(request: reqwest::RequestBuilder, what: &str, cache: &TokenCache, key: &str) -> Result<String, DeliveryError> {
    let (status, body) = super::exchange(request, what).await?;
    if matches!(status, reqwest::StatusCode::UNAUTHORIZED | reqwest::StatusCode::FORBIDDEN) {
        cache.forget(key);
        return Err(DeliveryError::Retry(format!("{what} refused the access token ({status}): a new one is asked for")));
    }
    super::judge(status, what, &body)?;
    Ok(body)
}

/// The parcel's units as `[{"orderItemId", "quantity"}]` over the order items of their SKUs.
fn spread(shipment: &ChannelShipment, items: &[OrderItem]) -> Result<Vec<serde_json::Value>, DeliveryError> {
    let mut out: BTreeMap<&str, u32> = BTreeMap::new();
    for (sku, units) in &shipment.lines {
        let mut left = *units;
        for item in items.iter().filter(|i| i.seller_sku.as_deref() == Some(sku.as_str())) {
            let quantity = left.min(item.quantity_ordered);
            if quantity > 0 {
                *out.entry(item.order_item_id.as_str()).or_default() += quantity;
                left -= quantity;
            }
        }
        if left > 0 {
            return Err(DeliveryError::Refused(format!(
                "amazon order {} has no order item left for {left} of {sku}",
                shipment.external_id
            )));
        }
    }
    Ok(out.into_iter().map(|(id, quantity)| json!({"orderItemId": id, "quantity": quantity})).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_escaped() {
        assert_eq!(form_escape("Atzr|IwEB a+b/c"), "Atzr%7CIwEB%20a%2Bb%2Fc");
    }
}
