//! Merchant onboarding: register, write the application, upload its documents, submit it;
//! an administrator approves it or rejects it with a reason, and reads the review queue.
//! The handlers parse and answer; the use cases (`oms_domain::usecases::onboarding`)
//! decide.
//!
//! Who: a merchant's own credential registers, writes, uploads and submits
//! (`oms/orders.write`) and reads its record (`oms/orders.read`); another merchant's record
//! is not found. Decisions and the review queue are platform administration: `oms/admin`
//! on a platform credential (one naming a merchant never decides, even its own), which
//! also reads every record. The legal representative's identity number is shown masked in
//! every read.

use axum::body::Body;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::{Caller, Scope};
use oms_domain::document::{check_upload, MAX_DOCUMENT_BYTES};
use oms_domain::onboarding::{Application, DocumentKind, MerchantRecord, OnboardingStatus, Phone, Region};
use oms_domain::ports::DocumentStore;
use oms_domain::usecases::onboarding as cases;
use oms_domain::validation::parse_json;
use oms_domain::{MerchantId, ValidationError};

use super::{AppState, PathParams, RawBody};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_merchant))
        .routes(routes!(get_merchant))
        .routes(routes!(put_application))
        .routes(routes!(put_document, get_document))
        .routes(routes!(submit_application))
        .routes(routes!(approve_application))
        .routes(routes!(reject_application))
        .routes(routes!(list_applications))
}

/// The body of `POST /merchants/register`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    /// The merchant registering: the caller's own (platform staff name it).
    #[serde(default)]
    pub merchant_id: Option<String>,
    /// E.164, e.g. `+8613800000000`.
    pub phone: String,
    /// A province of China, in English or Chinese (`Zhejiang`, `浙江`).
    pub region: String,
}

/// The legal representative in `PUT /merchants/{id}/application`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepresentativeBody {
    pub name: String,
    /// 15 to 18 digits (the last may be X); shown masked in every read.
    pub id_number: String,
}

/// The body of `PUT /merchants/{id}/application`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationBody {
    /// flagship, specialty, franchise, enterprise or individual.
    pub shop_type: String,
    /// What the shop sells, 1 to 500 characters.
    pub business_scope: String,
    /// The business licence's registration number: 15 to 18 letters and digits.
    pub licence_number: String,
    pub legal_representative: RepresentativeBody,
}

/// The body of `POST /merchants/{id}/application/reject`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Why, for the merchant to fix: 1 to 500 characters.
    pub reason: String,
}

/// The application as read (the identity number masked).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationAnswer {
    pub shop_type: &'static str,
    pub business_scope: String,
    pub licence_number: String,
    pub legal_representative_name: String,
    /// Masked: the first 3 and last 4 characters shown.
    pub legal_representative_id_number: String,
}

impl From<&Application> for ApplicationAnswer {
    fn from(a: &Application) -> Self {
        Self {
            shop_type: a.shop_type.as_str(),
            business_scope: a.business_scope.clone(),
            licence_number: a.licence_number.clone(),
            legal_representative_name: a.representative_name.clone(),
            legal_representative_id_number: a.masked_id_number(),
        }
    }
}

/// A document the application carries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentAnswer {
    /// `business_licence` or `representative_id`.
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: u64,
    pub sha256: String,
    #[schema(value_type = String, format = DateTime)]
    pub uploaded_at: DateTime<Utc>,
}

/// One step of the timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OnboardingEventAnswer {
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    pub by: String,
    pub status: &'static str,
    pub what: String,
}

/// A merchant's onboarding record: every route's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MerchantAnswer {
    pub merchant_id: String,
    pub phone: String,
    pub region: String,
    /// draft, submitted, approved or rejected.
    pub status: &'static str,
    /// Whether it may list products and have its orders planned (approved).
    pub may_sell: bool,
    pub application: Option<ApplicationAnswer>,
    pub documents: Vec<DocumentAnswer>,
    /// The last rejection's reason, until the next approval.
    pub rejection_reason: Option<String>,
    pub timeline: Vec<OnboardingEventAnswer>,
    pub version: u64,
    /// Orders released from hold by this approval (`approve` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub released_orders: Option<Vec<String>>,
}

impl From<&MerchantRecord> for MerchantAnswer {
    fn from(r: &MerchantRecord) -> Self {
        Self {
            merchant_id: r.merchant_id.to_string(),
            phone: r.phone.as_str().to_owned(),
            region: r.region.as_str().to_owned(),
            status: r.status.as_str(),
            may_sell: oms_domain::onboarding::may_sell(Some(r)),
            application: r.application.as_ref().map(Into::into),
            documents: r
                .documents
                .iter()
                .map(|(kind, d)| DocumentAnswer {
                    name: kind.as_str(),
                    content_type: d.content_type.media_type(),
                    bytes: d.bytes,
                    sha256: d.sha256.clone(),
                    uploaded_at: d.uploaded_at,
                })
                .collect(),
            rejection_reason: r.rejection.clone(),
            timeline: r
                .timeline
                .iter()
                .map(|e| OnboardingEventAnswer { at: e.at, by: e.by.clone(), status: e.status.as_str(), what: e.what.clone() })
                .collect(),
            version: r.version,
            released_orders: None,
        }
    }
}

/// A page of the review queue: `GET /merchant-applications`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationsAnswer {
    pub merchants: Vec<MerchantAnswer>,
    /// The cursor of the next page; `null` on the last.
    pub next: Option<String>,
}

/// The query of `GET /merchant-applications`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ApplicationsQuery {
    /// draft, submitted (the default: waiting for review), approved or rejected.
    status: Option<String>,
    /// Records per page, 1 to 100 (default 50).
    limit: Option<String>,
    /// The `next` of the page before.
    cursor: Option<String>,
}

fn not_found(raw: &str) -> ApiError {
    ApiError::new(ErrorCode::MerchantNotFound, format!("no onboarding record of merchant {raw}"))
}

/// Who took a step, for the timeline: the merchant's own credential, or platform staff.
pub(super) fn actor(caller: &Caller) -> String {
    caller.merchant_id().map_or_else(|| "platform staff".to_owned(), |m| format!("merchant {m}"))
}

/// The merchant a path names, when the caller may act on it (another merchant's is not
/// found, so its existence does not leak).
fn own_merchant(caller: &Caller, raw: &str) -> Result<MerchantId, ApiError> {
    let id = MerchantId::parse(raw).map_err(|_| not_found(raw))?;
    if caller.sees(&id) {
        Ok(id)
    } else {
        Err(not_found(raw))
    }
}

/// A platform administrator: `oms/admin` on a credential that names no merchant.
pub(super) fn administrator(caller: Authed) -> Result<Caller, ApiError> {
    let caller = caller.with(Scope::Admin)?;
    if caller.merchant_id().is_some() {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only platform administrators decide applications and product reviews, not a merchant's credential",
        ));
    }
    Ok(caller)
}

/// A reader of records: a platform administrator reads every merchant's; a merchant's
/// credential with `oms/orders.read` its own.
fn record_reader(caller: Authed) -> Result<Caller, ApiError> {
    if caller.0.has(Scope::Admin) && caller.0.merchant_id().is_none() {
        return Ok(caller.0);
    }
    caller.with(Scope::OrdersRead)
}

fn documents(state: &AppState) -> Result<&dyn DocumentStore, ApiError> {
    state.documents.as_deref().ok_or_else(|| ApiError::not_implemented("document storage"))
}

fn parse_application(body: &[u8]) -> Result<Application, ValidationError> {
    let raw: ApplicationBody = parse_json(body)?;
    Application::parse(
        &raw.shop_type,
        &raw.business_scope,
        &raw.licence_number,
        &raw.legal_representative.name,
        &raw.legal_representative.id_number,
    )
}

fn document_kind(raw: &str) -> Result<DocumentKind, ApiError> {
    DocumentKind::parse(raw).ok_or_else(|| {
        let names: Vec<&str> = DocumentKind::ALL.iter().map(|k| k.as_str()).collect();
        ValidationError::new("name", format!("{raw:?} is not a document of the application: one of {}", names.join(", "))).into()
    })
}

/// Register a merchant (a phone and a region): it starts as a draft application. Once per
/// merchant: registering again answers the record stored (200).
#[utoipa::path(
    post,
    path = "/merchants/register",
    tag = "merchants",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "Registered: the record, a draft", body = MerchantAnswer),
        (status = 200, description = "Registered before: the record as it is", body = MerchantAnswer),
        (status = 400, description = "`invalid_request`, naming the field: a phone not E.164, an unknown province", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`, or names another merchant", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn register_merchant(
    State(state): State<AppState>,
    caller: Authed,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<MerchantAnswer>), ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let raw: RegisterBody = parse_json(&body)?;
    let merchant = super::acting_merchant(&caller, raw.merchant_id.as_deref())?;
    let phone = Phone::parse(raw.phone).map_err(|e| e.within("phone"))?;
    let region = Region::parse(raw.region).map_err(|e| e.within("region"))?;
    let now = state.ports.clock.now();
    let registered = cases::register(&*state.ports.merchants, merchant, phone, region, &actor(&caller), now).await?;
    let status = if registered.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(MerchantAnswer::from(&registered.record))))
}

/// A merchant's onboarding record: its status, application, documents and timeline.
#[utoipa::path(
    get,
    path = "/merchants/{id}",
    tag = "merchants",
    params(("id" = String, Path, description = "The merchant")),
    responses(
        (status = 200, description = "The record", body = MerchantAnswer),
        (status = 404, description = "`merchant_not_found` (also another merchant's)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential has neither `oms/orders.read` nor platform `oms/admin`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]), ("bearer" = ["oms/admin"]))
)]
async fn get_merchant(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<MerchantAnswer>, ApiError> {
    let caller = record_reader(caller)?;
    let merchant = own_merchant(&caller, &id)?;
    Ok(Json(MerchantAnswer::from(&cases::record_of(&*state.ports.merchants, &merchant).await?)))
}

/// Write (or rewrite) the application. A rejected application edited becomes a draft
/// again, to be submitted anew; the same application again changes nothing.
#[utoipa::path(
    put,
    path = "/merchants/{id}/application",
    tag = "merchants",
    params(("id" = String, Path, description = "The merchant")),
    request_body = ApplicationBody,
    responses(
        (status = 200, description = "The record with the application", body = MerchantAnswer),
        (status = 400, description = "`invalid_request`, naming the field; nothing stored", body = ErrorBody),
        (status = 404, description = "`merchant_not_found`: not registered (or another merchant)", body = ErrorBody),
        (status = 409, description = "`onboarding_state_conflict`: under review or approved", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn put_application(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<MerchantAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let merchant = own_merchant(&caller, &id)?;
    let application = parse_application(&body)?;
    let now = state.ports.clock.now();
    let record = cases::save_application(&*state.ports.merchants, &merchant, application, &actor(&caller), now).await?;
    Ok(Json(MerchantAnswer::from(&record)))
}

/// A document's bytes: at most `MAX_DOCUMENT_BYTES`, larger answered 413.
#[derive(Debug)]
struct DocumentBody(axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for DocumentBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        super::read_body(req, MAX_DOCUMENT_BYTES).await.map(DocumentBody)
    }
}

/// Upload a document of the application (the raw file as the body, its `Content-Type`
/// application/pdf, image/jpeg or image/png, at most 4 MiB), replacing the one before. The
/// bytes must be the type declared. The same bytes again change nothing.
#[utoipa::path(
    put,
    path = "/merchants/{id}/application/documents/{name}",
    tag = "merchants",
    params(
        ("id" = String, Path, description = "The merchant"),
        ("name" = String, Path, description = "business_licence or representative_id"),
    ),
    request_body(content = Vec<u8>, content_type = "application/pdf", description = "The file: application/pdf, image/jpeg or image/png"),
    responses(
        (status = 200, description = "The record with the document", body = MerchantAnswer),
        (status = 400, description = "`invalid_request`: an unknown document name, an empty file", body = ErrorBody),
        (status = 404, description = "`merchant_not_found`: not registered (or another merchant)", body = ErrorBody),
        (status = 409, description = "`onboarding_state_conflict`: under review or approved", body = ErrorBody),
        (status = 413, description = "`body_too_large`: over 4 MiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not pdf, jpeg or png, or the bytes are not the type declared", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 501, description = "`not_implemented`: no document storage in this deployment", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn put_document(
    State(state): State<AppState>,
    caller: Authed,
    PathParams((id, name)): PathParams<(String, String)>,
    headers: axum::http::HeaderMap,
    DocumentBody(body): DocumentBody,
) -> Result<Json<MerchantAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let merchant = own_merchant(&caller, &id)?;
    let kind = document_kind(&name)?;
    let declared = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let content_type = check_upload(declared, &body)?;
    let store = documents(&state)?;
    let sha256 = Sha256::digest(&body).iter().map(|b| format!("{b:02x}")).collect();
    let upload = cases::Upload { kind, content_type, bytes: body.to_vec(), sha256 };
    let now = state.ports.clock.now();
    let record = cases::attach_document(&*state.ports.merchants, store, &merchant, upload, &actor(&caller), now).await?;
    Ok(Json(MerchantAnswer::from(&record)))
}

/// A document of the application, as uploaded (for the merchant and the reviewers).
#[utoipa::path(
    get,
    path = "/merchants/{id}/application/documents/{name}",
    tag = "merchants",
    params(
        ("id" = String, Path, description = "The merchant"),
        ("name" = String, Path, description = "business_licence or representative_id"),
    ),
    responses(
        (status = 200, description = "The file, with its content type", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, description = "`invalid_request`: an unknown document name", body = ErrorBody),
        (status = 404, description = "`merchant_not_found` (also another merchant's); `document_not_found`: none uploaded", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential has neither `oms/orders.read` nor platform `oms/admin`", body = ErrorBody),
        (status = 501, description = "`not_implemented`: no document storage in this deployment", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]), ("bearer" = ["oms/admin"]))
)]
async fn get_document(
    State(state): State<AppState>,
    caller: Authed,
    PathParams((id, name)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    let caller = record_reader(caller)?;
    let merchant = own_merchant(&caller, &id)?;
    let kind = document_kind(&name)?;
    let record = cases::record_of(&*state.ports.merchants, &merchant).await?;
    let missing = || ApiError::new(ErrorCode::DocumentNotFound, format!("merchant {merchant} has uploaded no {name}"));
    let reference = record.document(kind).ok_or_else(missing)?;
    let stored = documents(&state)?.get_document(&reference.key).await?.ok_or_else(missing)?;
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(stored.content_type.media_type())),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment")),
    ];
    Ok((headers, Body::from(stored.bytes)).into_response())
}

/// Submit the application for review: it needs the application and every document.
/// Submitting one under review again answers it as it is.
#[utoipa::path(
    post,
    path = "/merchants/{id}/application/submit",
    tag = "merchants",
    params(("id" = String, Path, description = "The merchant")),
    responses(
        (status = 200, description = "The record, submitted", body = MerchantAnswer),
        (status = 400, description = "`invalid_request`: the application or a document is missing (`field` names it)", body = ErrorBody),
        (status = 404, description = "`merchant_not_found`: not registered (or another merchant)", body = ErrorBody),
        (status = 409, description = "`onboarding_state_conflict`: approved, or rejected and not edited since", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn submit_application(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    // Read only to hold it to the body limit (413): the step takes no body.
    _body: RawBody,
) -> Result<Json<MerchantAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let merchant = own_merchant(&caller, &id)?;
    let record = cases::submit(&*state.ports.merchants, &merchant, &actor(&caller), state.ports.clock.now()).await?;
    Ok(Json(MerchantAnswer::from(&record)))
}

/// Approve a submitted application: the merchant may sell, and its orders held for the
/// approval are released to allocation (`released_orders`).
#[utoipa::path(
    post,
    path = "/merchants/{id}/application/approve",
    tag = "merchants",
    params(("id" = String, Path, description = "The merchant")),
    responses(
        (status = 200, description = "The record, approved", body = MerchantAnswer),
        (status = 404, description = "`merchant_not_found`", body = ErrorBody),
        (status = 409, description = "`onboarding_state_conflict`: not submitted (decided already, perhaps by another administrator)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a platform credential with `oms/admin`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/admin"]))
)]
async fn approve_application(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    _body: RawBody,
) -> Result<Json<MerchantAnswer>, ApiError> {
    let caller = administrator(caller)?;
    let merchant = own_merchant(&caller, &id)?;
    let approved = cases::approve(&state.ports, &merchant, &actor(&caller)).await?;
    let mut answer = MerchantAnswer::from(&approved.record);
    answer.released_orders = Some(approved.released.iter().map(ToString::to_string).collect());
    Ok(Json(answer))
}

/// Reject a submitted application with a reason: the merchant edits it and submits again.
#[utoipa::path(
    post,
    path = "/merchants/{id}/application/reject",
    tag = "merchants",
    params(("id" = String, Path, description = "The merchant")),
    request_body = RejectBody,
    responses(
        (status = 200, description = "The record, rejected", body = MerchantAnswer),
        (status = 400, description = "`invalid_request`: no reason, or one over 500 characters", body = ErrorBody),
        (status = 404, description = "`merchant_not_found`", body = ErrorBody),
        (status = 409, description = "`onboarding_state_conflict`: not submitted (decided already, perhaps by another administrator)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a platform credential with `oms/admin`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/admin"]))
)]
async fn reject_application(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<MerchantAnswer>, ApiError> {
    let caller = administrator(caller)?;
    let merchant = own_merchant(&caller, &id)?;
    let raw: RejectBody = parse_json(&body)?;
    let now = state.ports.clock.now();
    let record = cases::reject(&*state.ports.merchants, &merchant, &raw.reason, &actor(&caller), now).await?;
    Ok(Json(MerchantAnswer::from(&record)))
}

/// Merchants' records in one status (by default those waiting for review), oldest in it
/// first, a page at a time.
#[utoipa::path(
    get,
    path = "/merchant-applications",
    tag = "merchants",
    params(ApplicationsQuery),
    responses(
        (status = 200, description = "One page and the cursor of the next (`null` on the last)", body = ApplicationsAnswer),
        (status = 400, description = "`invalid_request`: an unknown status, a bad limit or cursor", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a platform credential with `oms/admin`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/admin"]))
)]
async fn list_applications(
    State(state): State<AppState>,
    caller: Authed,
    query: Result<Query<ApplicationsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ApplicationsAnswer>, ApiError> {
    administrator(caller)?;
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let status = match given(&query.status) {
        None => OnboardingStatus::Submitted,
        Some(raw) => OnboardingStatus::parse(&raw).ok_or_else(|| {
            ValidationError::new("status", format!("{raw:?} is not one of draft, submitted, approved, rejected"))
        })?,
    };
    let limit = match given(&query.limit) {
        None => 50,
        Some(raw) => raw.parse::<usize>().map_err(|_| ValidationError::new("limit", format!("{raw:?} is not a number")))?,
    };
    let after = given(&query.cursor).map(|raw| decode_cursor(&raw)).transpose()?;
    let page = cases::in_status(&*state.ports.merchants, status, after.as_deref(), limit).await?;
    Ok(Json(ApplicationsAnswer {
        merchants: page.merchants.iter().map(MerchantAnswer::from).collect(),
        next: page.next.map(|key| URL_SAFE_NO_PAD.encode(key)),
    }))
}

/// A cursor back to the list's key (URL-safe base64 of it).
pub(super) fn decode_cursor(raw: &str) -> Result<String, ValidationError> {
    URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ValidationError::new("cursor", "is not a cursor this list gave"))
}
