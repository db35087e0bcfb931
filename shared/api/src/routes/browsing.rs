//! `POST /customers/{id}/events`: the merchant's storefront reports what a customer
//! browsed (views, cart adds, wish-list adds of its products), stored once per
//! idempotency key for the recommendations to learn from (`oms_domain::browsing`).

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;
use oms_domain::browsing::{BrowsingBatch, BrowsingKind};
use oms_domain::ports::RecordBrowsingOutcome;
use oms_domain::validation::parse_json;
use oms_domain::{CustomerId, Sku};

use super::{acting_merchant, header_key, idempotency_key, AppState, PathParams, RawBody};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::Authed;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(record_events))
}

/// One event as the storefront reports it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    /// `view`, `cart_add` or `wishlist`.
    pub kind: String,
    /// A SKU of the merchant's catalogue.
    pub sku: String,
    /// When it happened: at most 90 days ago, at most 5 minutes ahead.
    #[schema(value_type = String, format = DateTime)]
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The body of `POST /customers/{id}/events`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsBody {
    /// 1 to 100 events of the customer.
    pub events: Vec<EventBody>,
    /// The batch's key (or the `Idempotency-Key` header): the same key again stores nothing.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// Whose customer: the caller's own merchant by default; platform staff must name it.
    #[serde(default)]
    pub merchant_id: Option<String>,
}

/// The answer of `POST /customers/{id}/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsAnswer {
    pub customer_id: String,
    /// Events in the batch.
    pub events: usize,
    /// True when a batch under this key was stored before: nothing was stored now.
    pub duplicate: bool,
}

/// Stores a batch of a customer's browsing, for its recommendations: the merchant's
/// storefront backend vouches for the customer. Every event names a SKU of the merchant's
/// catalogue and a time within the last 90 days (5 minutes of clock skew allowed); a batch
/// holds 1 to 100 events. The same idempotency key again (a retry) stores nothing and
/// answers 200 with `"duplicate": true`. A refused batch stores nothing.
#[utoipa::path(
    post,
    path = "/customers/{id}/events",
    tag = "quotes",
    params(
        ("id" = String, Path, description = "The customer's id, as the merchant's orders carry it"),
        ("Idempotency-Key" = Option<String>, Header, description = "The batch's key, when the body does not carry it"),
    ),
    request_body = EventsBody,
    responses(
        (status = 202, description = "The events, stored", body = EventsAnswer),
        (status = 200, description = "A batch under this key was stored before: nothing stored now", body = EventsAnswer),
        (status = 400, description = "`invalid_request`, naming the field: malformed JSON, an unknown kind, no or over 100 events, an event in the future or over 90 days old, no idempotency key, a malformed id", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`, or names another merchant", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`unknown_sku`: an event names a SKU the merchant's catalogue does not list", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn record_events(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<EventsAnswer>), ApiError> {
    let caller = caller.with(Scope::Storefront)?;
    let raw: EventsBody = parse_json(&body)?;
    let customer = CustomerId::parse(id).map_err(|e| e.within("id"))?;
    let key = idempotency_key(raw.idempotency_key.as_deref(), header_key(&headers)?)?;
    let merchant = acting_merchant(&caller, raw.merchant_id.as_deref())?;
    let mut events = Vec::with_capacity(raw.events.len());
    for (index, event) in raw.events.into_iter().enumerate() {
        let field = |name: &str| format!("events[{index}].{name}");
        let kind = BrowsingKind::parse(&event.kind).map_err(|e| e.within(&field("kind")))?;
        let sku = Sku::parse(event.sku).map_err(|e| e.within(&field("sku")))?;
        events.push((kind, sku, event.at));
    }
    let batch = BrowsingBatch::new(merchant.clone(), customer, key, events, state.ports.clock.now())?;
    let skus: BTreeSet<&Sku> = batch.events.iter().map(|event| &event.sku).collect();
    for sku in skus {
        let listed = state.ports.catalogue.get_sku(sku).await?.is_some_and(|facts| facts.merchant_id == merchant);
        if !listed {
            return Err(ApiError::new(
                ErrorCode::UnknownSku,
                format!("SKU {sku} is not in the catalogue of merchant {merchant}"),
            ));
        }
    }
    let answer = |duplicate| EventsAnswer { customer_id: batch.customer_id.to_string(), events: batch.events.len(), duplicate };
    match state.ports.browsing.record_browsing(&batch).await? {
        RecordBrowsingOutcome::Recorded => Ok((StatusCode::ACCEPTED, Json(answer(false)))),
        RecordBrowsingOutcome::Duplicate => Ok((StatusCode::OK, Json(answer(true)))),
    }
}
