//! Shipments and tracking: `POST /orders/{id}/shipments`, `POST /carriers/{carrier}/events`,
//! `GET /orders/{id}/tracking`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_channels::signature::tracking_header_name;
use oms_channels::tracking::{format_of, parse_events};
use oms_domain::access::{Caller, Scope};
use oms_domain::order::MAX_LINE_QUANTITY;
use oms_domain::shipment::TrackingEvent;
use oms_domain::usecases::orders::{self as order_cases, GetError};
use oms_domain::usecases::tracking::{self as tracking_cases, ShipLine, ShipRequest, ShipmentView, TrackingView};
use oms_domain::validation::parse_json;
use oms_domain::{CarrierId, Order, OrderId, Sku, TrackingNumber, ValidationError, WarehouseId};

use super::{AppState, PathParams, RawBody};
use crate::answers::StatusAnswer;
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(record_shipment)).routes(routes!(carrier_events)).routes(routes!(tracking_of))
}

/// The body of `POST /orders/{id}/shipments`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ShipmentBody {
    /// The carrier actually used (`sf`, `zto`, `usps`, ...).
    pub carrier: String,
    pub tracking_number: String,
    /// At least one line.
    pub lines: Vec<ShipmentLineBody>,
}

/// Units of one SKU in the parcel.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ShipmentLineBody {
    pub sku: String,
    /// 1 to 10,000.
    pub quantity: i64,
    /// The warehouse the units left from: needed only when the order holds the SKU in
    /// several warehouses.
    #[serde(default)]
    pub warehouse: Option<String>,
    /// Another order of this order's merge group whose units share the parcel (see the
    /// order's `allocation.merge`); absent for this order's own units.
    #[serde(default)]
    pub order_id: Option<String>,
}

impl ShipmentBody {
    fn parse(self) -> Result<ShipRequest, ValidationError> {
        let carrier = CarrierId::parse(self.carrier).map_err(|e| e.within("carrier"))?;
        let tracking_number = TrackingNumber::parse(self.tracking_number).map_err(|e| e.within("tracking_number"))?;
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, line) in self.lines.into_iter().enumerate() {
            let at = |field: &str| format!("lines[{i}].{field}");
            let quantity =
                u32::try_from(line.quantity).ok().filter(|q| (1..=MAX_LINE_QUANTITY).contains(q)).ok_or_else(|| {
                    ValidationError::new(at("quantity"), format!("must be 1 to {MAX_LINE_QUANTITY}, not {}", line.quantity))
                })?;
            lines.push(ShipLine {
                sku: Sku::parse(line.sku).map_err(|e| e.within(&at("sku")))?,
                quantity,
                warehouse: line.warehouse.map(WarehouseId::parse).transpose().map_err(|e| e.within(&at("warehouse")))?,
                order_id: line.order_id.map(OrderId::parse).transpose().map_err(|e| e.within(&at("order_id")))?,
            });
        }
        let request = ShipRequest { carrier, tracking_number, lines };
        request.check()?;
        Ok(request)
    }
}

/// `POST /orders/{id}/shipments`: the shipment recorded (or, for a tracking number this
/// order reported before, its first shipment).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShipmentReceipt {
    pub shipment_id: String,
    /// True when the tracking number was reported for this order before.
    pub duplicate: bool,
    /// The order's status now: `shipped`, or `partially_shipped` while units remain.
    pub order_status: StatusAnswer,
    /// The other orders of its merge group whose lines the parcel carries, each with its
    /// own shipment under the same tracking number; absent when the parcel is this order's alone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<MergedShipmentAnswer>,
}

/// Another order's part of a shared parcel.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MergedShipmentAnswer {
    pub order_id: String,
    pub shipment_id: String,
    pub duplicate: bool,
    pub order_status: StatusAnswer,
}

/// `POST /carriers/{carrier}/events`: what the webhook did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventsReceiptAnswer {
    /// Events stored now.
    pub accepted: usize,
    /// Events stored before (the same id for the same tracking number): unchanged.
    pub duplicates: usize,
    /// Tracking numbers no shipment has yet: their events are kept and applied when the
    /// shipment is reported.
    pub unmatched: Vec<String>,
}

/// One carrier event on a shipment's timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackingEventAnswer {
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    /// in_transit, out_for_delivery, delivered, failed_attempt, returned or lost.
    pub status: String,
    pub location: Option<String>,
    pub description: Option<String>,
}

/// Units of one SKU a shipment carries, and the warehouse they left from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShippedLineAnswer {
    pub sku: String,
    pub quantity: u32,
    pub warehouse: String,
}

/// One shipment of an order, with its events in the carrier's time order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShipmentAnswer {
    pub shipment_id: String,
    pub carrier: String,
    pub tracking_number: String,
    /// in_transit, out_for_delivery, delivered, failed_attempt, returned or lost.
    pub status: String,
    /// When it is expected (the carrier's promise, else the lane's learned transit time);
    /// for a delivered one, when it was delivered; `null` when unknown.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub eta: Option<DateTime<Utc>>,
    #[schema(value_type = String, format = DateTime)]
    pub shipped_at: DateTime<Utc>,
    pub lines: Vec<ShippedLineAnswer>,
    pub events: Vec<TrackingEventAnswer>,
}

/// `GET /orders/{id}/tracking`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackingAnswer {
    pub order_id: String,
    pub status: StatusAnswer,
    /// The latest ETA of the parcels on their way (the last delivery once all arrived);
    /// `null` when unknown or nothing shipped.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub eta: Option<DateTime<Utc>>,
    pub shipments: Vec<ShipmentAnswer>,
}

fn event_answer(event: TrackingEvent) -> TrackingEventAnswer {
    TrackingEventAnswer {
        at: event.at,
        status: event.status.as_str().to_owned(),
        location: event.location,
        description: event.description,
    }
}

impl From<ShipmentView> for ShipmentAnswer {
    fn from(view: ShipmentView) -> Self {
        let s = view.shipment;
        Self {
            shipment_id: s.shipment_id.into(),
            carrier: s.carrier.into(),
            tracking_number: s.tracking_number.into(),
            status: s.status.as_str().to_owned(),
            eta: s.eta,
            shipped_at: s.shipped_at,
            lines: s
                .lines
                .into_iter()
                .map(|l| ShippedLineAnswer { sku: l.sku.into(), quantity: l.quantity, warehouse: l.warehouse.into() })
                .collect(),
            events: view.events.into_iter().map(event_answer).collect(),
        }
    }
}

impl From<TrackingView> for TrackingAnswer {
    fn from(view: TrackingView) -> Self {
        Self {
            order_id: view.order_id.into(),
            status: view.status.into(),
            eta: view.eta,
            shipments: view.shipments.into_iter().map(ShipmentAnswer::from).collect(),
        }
    }
}

/// The order, when it is the caller's to see: another merchant's answers as not found.
async fn order_of(state: &AppState, caller: &Caller, raw: &str) -> Result<Order, ApiError> {
    let id = OrderId::parse(raw).map_err(|_| ApiError::new(ErrorCode::OrderNotFound, format!("no order {raw:?}")))?;
    let order = order_cases::get_order(&state.ports, &id).await?;
    if !caller.sees(&order.merchant_id) {
        return Err(GetError::NotFound(id).into());
    }
    Ok(order)
}

/// The warehouse reports a shipment: the units it carries are taken from the order's hold
/// (on hand and reserved both drop) and the order becomes `shipped`, or
/// `partially_shipped` while units remain, in one atomic write. The same tracking number
/// again for the same order answers its first shipment (200). Carrier events that arrived
/// for the tracking number before are applied now.
#[utoipa::path(
    post,
    path = "/orders/{id}/shipments",
    tag = "tracking",
    params(("id" = String, Path, description = "Our order id")),
    request_body = ShipmentBody,
    responses(
        (status = 201, description = "Recorded", body = ShipmentReceipt),
        (status = 200, description = "The tracking number was reported for this order before: its shipment", body = ShipmentReceipt),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 404, description = "`order_not_found` (also for another merchant's order)", body = ErrorBody),
        (status = 409, description = "`tracking_number_taken`: another order's shipment has it", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`shipment_refused`: the order (or a merged order a line names) is not reserved, has no line of a SKU, holds fewer units, or holds the SKU in several warehouses and none is named; or a line names an order not merged with this one", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn record_shipment(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<ShipmentReceipt>), ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let order = order_of(&state, &caller, &id).await?;
    let request = parse_json::<ShipmentBody>(&body)?.parse()?;
    let shipped = tracking_cases::record_shipment(&state.ports, &order.order_id, &request).await?;
    let status = if shipped.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    let receipt = ShipmentReceipt {
        shipment_id: shipped.shipment_id.into(),
        duplicate: shipped.duplicate,
        order_status: shipped.order_status.into(),
        merged: shipped
            .merged
            .into_iter()
            .map(|part| MergedShipmentAnswer {
                order_id: part.order_id.into(),
                shipment_id: part.shipment_id.into(),
                duplicate: part.duplicate,
                order_status: part.order_status.into(),
            })
            .collect(),
    };
    Ok((status, Json(receipt)))
}

/// A carrier's tracking webhook. The carrier segment names the format: `aftership`
/// (AfterShip's `tracking_update`, signed `aftership-hmac-sha256`: base64 HMAC-SHA256 of
/// the body), `easypost` (an EasyPost Event whose `result` is a Tracker, signed
/// `X-Hmac-Signature: hmac-sha256-hex=<hex>`), or any other name, a carrier posting the
/// generic event `{"event_id","tracking_number","status","at","location","description"}`
/// (optional `eta`) signed `X-OMS-Signature: sha256=<hex>`. The secret is the carrier's
/// (`OMS_CARRIER_SECRET_<CARRIER>`). Each event is stored once per (tracking number, event
/// id); events are placed by their time; an event for a tracking number with no shipment
/// yet is kept and applied when the shipment is reported.
#[utoipa::path(
    post,
    path = "/carriers/{carrier}/events",
    tag = "tracking",
    params(("carrier" = String, Path, description = "aftership, easypost, generic, or a carrier posting the generic format")),
    request_body(content = Object, description = "The provider's webhook payload", content_type = "application/json"),
    responses(
        (status = 200, description = "Stored (or stored before) and applied", body = EventsReceiptAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`bad_signature` or `carrier_not_configured`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    )
)]
async fn carrier_events(
    State(state): State<AppState>,
    PathParams(carrier): PathParams<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<EventsReceiptAnswer>, ApiError> {
    let carrier = CarrierId::parse(carrier).map_err(|e| e.within("carrier"))?;
    let format = format_of(carrier.as_str());
    let signature = headers.get(tracking_header_name(format)).and_then(|v| v.to_str().ok());
    state.secrets.check_carrier(carrier.as_str(), format, state.unsigned, signature, &body).await?;
    let events = parse_events(format, &carrier, &body, state.ports.clock.now())?;
    let receipt = tracking_cases::receive_events(&state.ports, &events).await?;
    Ok(Json(EventsReceiptAnswer {
        accepted: receipt.accepted,
        duplicates: receipt.duplicates,
        unmatched: receipt.unmatched.into_iter().map(String::from).collect(),
    }))
}

/// An order's shipments, each with its carrier events in time order, status and ETA.
#[utoipa::path(
    get,
    path = "/orders/{id}/tracking",
    tag = "tracking",
    params(("id" = String, Path, description = "Our order id")),
    responses(
        (status = 200, description = "The order's tracking", body = TrackingAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.read`", body = ErrorBody),
        (status = 404, description = "`order_not_found` (also for another merchant's order)", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]))
)]
async fn tracking_of(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<TrackingAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersRead)?;
    let order = order_of(&state, &caller, &id).await?;
    Ok(Json(tracking_cases::tracking_view(&state.ports, &order).await?.into()))
}
