//! The [`Outbound`] port over HTTP: each [`Delivery`] in its destination's own API.
//!
//! | delivery | destination | API |
//! | --- | --- | --- |
//! | fulfilment request, cancellation | the warehouse's endpoint | the OMS's signed webhook ([`warehouse`]) |
//! | shipment of a Shopify order | the shop | Admin REST: fulfillment orders -> `POST fulfillments.json` ([`shopify`]) |
//! | shipment of a WooCommerce order | the shop | REST v3: order status and a customer note ([`woocommerce`]) |
//! | shipment of an Amazon order | the seller's account | SP-API Orders v0 `confirmShipment` ([`amazon`]) |
//! | refund recorded on a return | the payment system's endpoint | the OMS's signed webhook ([`warehouse`]), event `refund.recorded` |
//!
//! Where each lives and its credentials are [`Destinations`], configuration read at start
//! (`oms serve`: `OMS_OUTBOUND` or `--outbound FILE`; AWS: the Secrets Manager secret
//! `OMS_OUTBOUND_SECRET_ARN` names). A delivery with no destination configured is
//! `Delivered::NoDestination`. How an answer is read ([`judge`]): 2xx is done, 409 from
//! a warehouse is "had it already", 408, 429, 5xx and a failed connection are tried again
//! later, any other 4xx is refused for good.

pub mod amazon;
#[cfg(feature = "fakes")]
pub mod fakes;
pub mod shopify;
pub mod warehouse;
pub mod woocommerce;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use oms_domain::order::Channel;
use oms_domain::outbound::{Delivered, Delivery, DeliveryError};
use oms_domain::ports::Outbound;

/// How long one HTTP request may take. A delivery makes at most four in a row (Shopify's),
/// 20 s in all: inside deliver-outbound's 60 s and the local queue's 30 s visibility, so a
/// slow destination is tried again later, never by two workers at once.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Where each kind of notice goes, and the credentials to send it: a JSON document
/// (`docs/outbound.md`). Every part is optional. Shops are keyed by the merchant whose
/// orders they take (for Shopify, the shop's domain, as its webhooks name the merchant):
/// there is no default shop, so no order is ever written back to another merchant's.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destinations {
    /// Each warehouse's fulfilment endpoint, by warehouse id.
    #[serde(default)]
    pub warehouses: BTreeMap<String, warehouse::Endpoint>,
    #[serde(default)]
    pub shopify: BTreeMap<String, shopify::Shop>,
    #[serde(default)]
    pub woocommerce: BTreeMap<String, woocommerce::Shop>,
    #[serde(default)]
    pub amazon: BTreeMap<String, amazon::Seller>,
    /// The payment system's endpoint, told of each refund recorded on a return.
    #[serde(default)]
    pub payments: Option<warehouse::Endpoint>,
}

/// The shop of `merchant` among `shops`, if it has one.
fn shop_of<'a, T>(shops: &'a BTreeMap<String, T>, merchant: &oms_domain::MerchantId) -> Option<(&'a str, &'a T)> {
    shops.get_key_value(merchant.as_str()).map(|(key, shop)| (key.as_str(), shop))
}

impl std::fmt::Debug for Destinations {
    // Names what is configured, never a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Destinations")
            .field("warehouses", &self.warehouses.keys().collect::<Vec<_>>())
            .field("shopify", &self.shopify.keys().collect::<Vec<_>>())
            .field("woocommerce", &self.woocommerce.keys().collect::<Vec<_>>())
            .field("amazon", &self.amazon.keys().collect::<Vec<_>>())
            .field("payments", &self.payments.is_some())
            .finish()
    }
}

/// The destinations document could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the outbound destinations are not readable: {0}")]
pub struct DestinationsError(String);

impl Destinations {
    /// Reads the JSON document; refuses unknown fields and URLs that are not http(s).
    pub fn from_json(json: &str) -> Result<Self, DestinationsError> {
        let destinations: Destinations = serde_json::from_str(json).map_err(|e| DestinationsError(e.to_string()))?;
        let urls = destinations
            .warehouses
            .iter()
            .map(|(id, e)| (format!("warehouses.{id}.url"), &e.url))
            .chain(destinations.shopify.iter().map(|(m, s)| (format!("shopify.{m}.url"), &s.url)))
            .chain(destinations.woocommerce.iter().map(|(m, s)| (format!("woocommerce.{m}.url"), &s.url)))
            .chain(destinations.amazon.iter().map(|(m, s)| (format!("amazon.{m}.url"), &s.url)))
            .chain(destinations.payments.iter().map(|e| ("payments.url".to_owned(), &e.url)));
        for (field, url) in urls {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(DestinationsError(format!("{field} must be an http(s) URL, got {url:?}")));
            }
        }
        Ok(destinations)
    }

    /// Nothing configured: every notice is dropped as having no destination.
    pub fn none() -> Self {
        Self::default()
    }
}

/// The HTTP adapter of [`Outbound`].
#[derive(Debug, Clone)]
pub struct HttpOutbound {
    client: reqwest::Client,
    destinations: std::sync::Arc<Destinations>,
    amazon_token: std::sync::Arc<amazon::TokenCache>,
}

impl HttpOutbound {
    pub fn new(destinations: Destinations) -> Self {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("oms/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client with a timeout and a user agent always builds");
        Self { client, destinations: std::sync::Arc::new(destinations), amazon_token: Default::default() }
    }
}

#[async_trait]
impl Outbound for HttpOutbound {
    async fn deliver(&self, delivery: &Delivery) -> Result<Delivered, DeliveryError> {
        let d = &*self.destinations;
        match delivery {
            Delivery::Fulfilment(_) | Delivery::Cancellation(_) => {
                let warehouse = &delivery.warehouse_order().expect("a delivery to a warehouse").warehouse;
                match d.warehouses.get(warehouse.as_str()) {
                    Some(endpoint) => warehouse::send(&self.client, endpoint, delivery).await,
                    None => Ok(Delivered::NoDestination(format!("warehouse {warehouse} has no fulfilment endpoint"))),
                }
            }
            Delivery::ChannelShipment(shipment) => match shipment.channel {
                Channel::Shopify => match shop_of(&d.shopify, &shipment.merchant_id) {
                    Some((_, shop)) => shopify::send(&self.client, shop, shipment).await,
                    None => Ok(no_shop(shipment)),
                },
                Channel::WooCommerce => match shop_of(&d.woocommerce, &shipment.merchant_id) {
                    Some((_, shop)) => woocommerce::send(&self.client, shop, shipment).await,
                    None => Ok(no_shop(shipment)),
                },
                Channel::Amazon => match shop_of(&d.amazon, &shipment.merchant_id) {
                    Some((key, seller)) => amazon::send(&self.client, key, seller, &self.amazon_token, shipment).await,
                    None => Ok(no_shop(shipment)),
                },
                other => Ok(Delivered::NoDestination(format!("the {other} channel takes no news of shipments"))),
            },
            Delivery::Refund(_) => match &d.payments {
                Some(endpoint) => warehouse::send(&self.client, endpoint, delivery).await,
                None => Ok(Delivered::NoDestination("no payment system endpoint is configured".to_owned())),
            },
        }
    }
}

fn no_shop(shipment: &oms_domain::outbound::ChannelShipment) -> Delivered {
    Delivered::NoDestination(format!(
        "no {} shop of merchant {} is configured to write shipments back to",
        shipment.channel, shipment.merchant_id
    ))
}

/// What an answer's status means for the delivery (see the crate's docs). `what` names
/// the request in the error.
pub fn judge(status: reqwest::StatusCode, what: &str, body: &str) -> Result<(), DeliveryError> {
    let said = body.chars().take(300).collect::<String>();
    if status.is_success() {
        Ok(())
    } else if status == reqwest::StatusCode::REQUEST_TIMEOUT
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
    {
        Err(DeliveryError::Retry(format!("{what} answered {status}: {said}")))
    } else {
        Err(DeliveryError::Refused(format!("{what} answered {status}: {said}")))
    }
}

/// A request that got no answer (unreachable, a timeout): tried again later; one that
/// could not even be built (a header value HTTP does not allow): refused for good.
pub fn unanswered(what: &str, err: &reqwest::Error) -> DeliveryError {
    if err.is_builder() {
        return DeliveryError::Refused(format!("{what} could not be sent: {err}"));
    }
    DeliveryError::Retry(format!("{what} got no answer: {err}"))
}

/// Sends `request` and reads the answer's status and body; `Err` only when no answer came.
async fn exchange(request: reqwest::RequestBuilder, what: &str) -> Result<(reqwest::StatusCode, String), DeliveryError> {
    let response = request.send().await.map_err(|e| unanswered(what, &e))?;
    let status = response.status();
    let body = response.text().await.map_err(|e| unanswered(what, &e))?;
    Ok((status, body))
}

/// Sends `request`, judges its answer and reads a 2xx body as JSON `T`.
async fn fetch_json<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder, what: &str) -> Result<T, DeliveryError> {
    let (status, body) = exchange(request, what).await?;
    judge(status, what, &body)?;
    parse_json(&body, what)
}

/// A 2xx body read as JSON `T`; refused when it is not what the API documents.
fn parse_json<T: serde::de::DeserializeOwned>(body: &str, what: &str) -> Result<T, DeliveryError> {
    serde_json::from_str(body)
        .map_err(|e| DeliveryError::Refused(format!("{what} answered a body that is not what its API documents: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_judged_done_again_later_or_refused() {
        use reqwest::StatusCode as S;
        assert!(judge(S::CREATED, "x", "").is_ok());
        assert!(matches!(judge(S::TOO_MANY_REQUESTS, "x", ""), Err(DeliveryError::Retry(_))));
        assert!(matches!(judge(S::BAD_GATEWAY, "x", ""), Err(DeliveryError::Retry(_))));
        assert!(matches!(judge(S::REQUEST_TIMEOUT, "x", ""), Err(DeliveryError::Retry(_))));
        assert!(
            matches!(judge(S::UNPROCESSABLE_ENTITY, "x", "bad line"), Err(DeliveryError::Refused(m)) if m.contains("bad line"))
        );
        assert!(matches!(judge(S::UNAUTHORIZED, "x", ""), Err(DeliveryError::Refused(_))));
    }

    #[test]
    fn the_destinations_document_is_checked_and_never_shows_a_secret() {
        let json = r#"{"warehouses":{"wh-1":{"url":"https://wms.example/hook","secret":"s3cret"}},
            "shopify":{"teahouse.myshopify.com":{"url":"https://shop.example","access_token":"shpat_x"}}}"#;
        let d = Destinations::from_json(json).unwrap();
        assert!(d.warehouses.contains_key("wh-1") && d.shopify.contains_key("teahouse.myshopify.com") && d.amazon.is_empty());
        let merchant = |m: &str| oms_domain::MerchantId::parse(m).unwrap();
        assert!(shop_of(&d.shopify, &merchant("teahouse.myshopify.com")).is_some());
        assert!(shop_of(&d.shopify, &merchant("m-2")).is_none(), "another merchant's shop is never used");
        let shown = format!("{d:?}");
        assert!(!shown.contains("s3cret") && !shown.contains("shpat_x"), "{shown}");
        assert!(Destinations::from_json(r#"{"warehouses":{"wh-1":{"url":"ftp://x","secret":"s"}}}"#).is_err());
        assert!(Destinations::from_json(r#"{"shopfy":{}}"#).is_err());
        let payments = Destinations::from_json(r#"{"payments":{"url":"https://pay.example/refunds","secret":"p4ss"}}"#).unwrap();
        assert!(payments.payments.is_some() && !format!("{payments:?}").contains("p4ss"));
        assert!(Destinations::from_json(r#"{"payments":{"url":"pay.example","secret":"s"}}"#).is_err(), "not an http(s) URL");
        assert!(Destinations::from_json("not json").is_err());
    }
}
