//! The fulfilment webhook: what the OMS posts to a warehouse's system.
//!
//! `POST <url>` with a JSON body: `"event"` (`fulfilment.requested` or
//! `fulfilment.cancelled`) and the fields of `FulfilmentRequest` or
//! `FulfilmentCancellation` (`docs/outbound.md`). Headers: `X-OMS-Event` (the event),
//! `X-OMS-Request-Id` (the same on every attempt: the receiver does each id once and may
//! answer a repeat with 409) and `X-OMS-Signature` (`sha256=` + the hex HMAC-SHA256 of the
//! body under the endpoint's secret, as the generic channel's webhooks are signed).

use serde::Deserialize;

use oms_channels::signature;
use oms_domain::order::Channel;
use oms_domain::outbound::{Delivered, Delivery, DeliveryError};

/// The header naming the event.
pub const EVENT_HEADER: &str = "x-oms-event";
/// The header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-oms-request-id";
/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "x-oms-signature";

/// A warehouse's fulfilment endpoint.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub url: String,
    /// The HMAC key the body is signed with (shared with the warehouse's system).
    pub secret: String,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint").field("url", &self.url).finish_non_exhaustive()
    }
}

/// The event name and the signed body of a warehouse's delivery.
pub fn body_of(delivery: &Delivery) -> (&'static str, Vec<u8>) {
    let (event, fields) = match delivery {
        Delivery::Fulfilment(r) => ("fulfilment.requested", serde_json::to_value(r)),
        Delivery::Cancellation(c) => ("fulfilment.cancelled", serde_json::to_value(c)),
        Delivery::ChannelShipment(s) => ("shipment.confirmed", serde_json::to_value(s)),
        Delivery::Refund(r) => ("refund.recorded", serde_json::to_value(r)),
    };
    let mut fields = fields.expect("a delivery always serialises");
    if let serde_json::Value::Object(map) = &mut fields {
        map.insert("event".to_owned(), event.into());
    }
    (event, fields.to_string().into_bytes())
}

/// Posts the delivery to the endpoint, signed.
pub async fn send(client: &reqwest::Client, endpoint: &Endpoint, delivery: &Delivery) -> Result<Delivered, DeliveryError> {
    let (event, body) = body_of(delivery);
    let signed = signature::sign(Channel::Generic, endpoint.secret.as_bytes(), &body);
    let what = format!("{} ({event})", delivery.destination());
    let request = client
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header(EVENT_HEADER, event)
        .header(REQUEST_ID_HEADER, delivery.request_id())
        .header(SIGNATURE_HEADER, signed)
        .body(body);
    let (status, answer) = super::exchange(request, &what).await?;
    if status == reqwest::StatusCode::CONFLICT {
        return Ok(Delivered::AlreadyThere);
    }
    super::judge(status, &what, &answer)?;
    Ok(Delivered::Sent)
}
