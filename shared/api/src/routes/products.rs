//! The reviewed catalogue: a merchant writes a SKU's product listing and submits it; the
//! automated rules run at once, then a platform reviewer approves or rejects it with a
//! reason; the merchant lists, unlists and promotes it. The handlers parse and answer; the
//! use cases (`oms_domain::usecases::products`) decide.
//!
//! Who: the merchant owning the SKU writes, submits, lists, unlists and promotes with
//! `oms/inventory.write` and reads with `oms/inventory.read`; another merchant's listing is
//! not found. Decisions and the review queue are the platform administrators' (`oms/admin`
//! on a credential naming no merchant), as for merchant applications. The promoted
//! placements are read by the merchant's storefront (`oms/storefront`) or its staff
//! (`oms/orders.read`).
//!
//! The automated rules are the deployment's, given to the router with
//! [`with_review_rules`]; without it the built-in ones hold.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::{Caller, Scope};
use oms_domain::product::{ImageRef, PriceTier, Product, ProductContent, ProductStatus, ReviewRules};
use oms_domain::usecases::products as cases;
use oms_domain::validation::parse_json;
use oms_domain::{Sku, ValidationError};

use super::merchants::{actor, administrator, decode_cursor};
use super::{decimal_field, AppState, PathParams, RawBody};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_product, get_product))
        .routes(routes!(submit_product))
        .routes(routes!(approve_product))
        .routes(routes!(reject_product))
        .routes(routes!(list_product))
        .routes(routes!(unlist_product))
        .routes(routes!(promote_product))
        .routes(routes!(products_in_status))
        .routes(routes!(promoted_products))
}

/// `router` checking submitted listings with `rules` (the deployment's banned words).
pub fn with_review_rules(router: super::Router, rules: ReviewRules) -> super::Router {
    router.layer(Extension(rules))
}

/// The rules the router was given, else the built-in ones.
fn rules_of(given: Option<Extension<ReviewRules>>) -> ReviewRules {
    given.map(|Extension(rules)| rules).unwrap_or_default()
}

/// An image in `PUT /products/{sku}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageBody {
    /// An `https://` URL, or an upload's name.
    pub url: String,
    /// `image/jpeg`, `image/png` or `image/webp` (else the URL's extension says).
    #[serde(default)]
    pub content_type: Option<String>,
    /// Its size: at most 5 MiB passes the review's rules.
    #[serde(default)]
    pub bytes: Option<i64>,
}

/// A wholesale price tier in `PUT /products/{sku}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceTierBody {
    /// From this many units on (at least 1; each tier above the one before).
    pub min_quantity: i64,
    /// The unit price: a decimal string above 0, never above the tier before.
    #[schema(examples("99.00"))]
    pub unit_price: String,
}

/// The body of `PUT /products/{sku}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    /// 1 to 200 characters.
    pub name: String,
    /// Up to 2,000 characters.
    #[serde(default)]
    pub specification: String,
    /// Up to 200 characters.
    #[serde(default)]
    pub model: String,
    /// At most 10.
    #[serde(default)]
    pub images: Vec<ImageBody>,
    /// At most 30 keys (1 to 40 characters) with values of 1 to 200.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// At most 10 tiers, quantity breaks ascending, prices never rising.
    #[serde(default)]
    pub wholesale_prices: Vec<PriceTierBody>,
}

/// The body of `POST /products/{sku}/reject`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductRejectBody {
    /// Why, for the merchant to fix: 1 to 500 characters.
    pub reason: String,
}

/// The body of `POST /products/{sku}/promote`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoteBody {
    /// Its placement, 1 (first) to 1,000; `null` ends the promotion.
    pub rank: Option<i64>,
}

/// An image as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImageAnswer {
    pub url: String,
    pub content_type: Option<String>,
    pub bytes: Option<u64>,
}

/// A wholesale tier as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriceTierAnswer {
    pub min_quantity: u32,
    pub unit_price: String,
}

/// One step of the listing's timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductEventAnswer {
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    pub by: String,
    pub status: &'static str,
    pub what: String,
}

/// A SKU's listing: every route's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductAnswer {
    pub sku: String,
    pub merchant_id: String,
    /// draft, in_review, rejected, approved, listed or unlisted.
    pub status: &'static str,
    pub name: String,
    pub specification: String,
    pub model: String,
    pub images: Vec<ImageAnswer>,
    pub attributes: BTreeMap<String, String>,
    pub wholesale_prices: Vec<PriceTierAnswer>,
    /// The last rejection's reason (a rule's or a reviewer's), until the next approval.
    pub rejection_reason: Option<String>,
    /// Its placement among the merchant's promoted listings, while promoted.
    pub promotion: Option<u32>,
    pub timeline: Vec<ProductEventAnswer>,
    pub version: u64,
    /// Orders released from hold by this listing (`list` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub released_orders: Option<Vec<String>>,
}

impl From<&Product> for ProductAnswer {
    fn from(p: &Product) -> Self {
        let c = &p.content;
        Self {
            sku: p.sku.to_string(),
            merchant_id: p.merchant_id.to_string(),
            status: p.status.as_str(),
            name: c.name.clone(),
            specification: c.specification.clone(),
            model: c.model.clone(),
            images: c
                .images
                .iter()
                .map(|i| ImageAnswer { url: i.url.clone(), content_type: i.content_type.clone(), bytes: i.bytes })
                .collect(),
            attributes: c.attributes.clone(),
            wholesale_prices: c
                .wholesale_prices
                .iter()
                .map(|t| PriceTierAnswer { min_quantity: t.min_quantity, unit_price: t.unit_price.to_string() })
                .collect(),
            rejection_reason: p.rejection.clone(),
            promotion: p.promotion,
            timeline: p
                .timeline
                .iter()
                .map(|e| ProductEventAnswer { at: e.at, by: e.by.clone(), status: e.status.as_str(), what: e.what.clone() })
                .collect(),
            version: p.version,
            released_orders: None,
        }
    }
}

/// A page of listings: `GET /products`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductsAnswer {
    pub products: Vec<ProductAnswer>,
    /// The cursor of the next page; `null` on the last.
    pub next: Option<String>,
}

/// The merchant's promoted listings on sale: `GET /catalogue/promoted`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PromotedAnswer {
    pub merchant_id: String,
    /// By placement, then SKU.
    pub products: Vec<ProductAnswer>,
}

/// The query of `GET /products`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ProductsQuery {
    /// draft, in_review (the default: waiting for a reviewer), rejected, approved, listed or unlisted.
    status: Option<String>,
    /// Listings per page, 1 to 100 (default 50).
    limit: Option<String>,
    /// The `next` of the page before.
    cursor: Option<String>,
}

/// The query of `GET /catalogue/promoted`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PromotedQuery {
    /// The merchant: the caller's own (platform staff name it).
    merchant_id: Option<String>,
}

fn not_found(raw: &str) -> ApiError {
    ApiError::new(ErrorCode::ProductNotFound, format!("no product listing of {raw}"))
}

fn parse_sku(raw: &str) -> Result<Sku, ApiError> {
    Sku::parse(raw).map_err(|_| not_found(raw))
}

/// The SKU of a listing the caller may act on (another merchant's is not found, so its
/// existence does not leak).
async fn own_product(state: &AppState, caller: &Caller, raw: &str) -> Result<Sku, ApiError> {
    let sku = parse_sku(raw)?;
    match state.ports.products.get_product(&sku).await? {
        Some(product) if caller.sees(&product.merchant_id) => Ok(sku),
        _ => Err(not_found(raw)),
    }
}

fn count<T: TryFrom<i64>>(field: &str, raw: i64, what: &str) -> Result<T, ValidationError> {
    T::try_from(raw).map_err(|_| ValidationError::new(field, format!("{raw} is not {what}")))
}

fn parse_content(body: &[u8]) -> Result<ProductContent, ValidationError> {
    let raw: ProductBody = parse_json(body)?;
    let images = raw
        .images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let field = format!("images[{i}]");
            let bytes = image.bytes.map(|b| count::<u64>(&format!("{field}.bytes"), b, "a size in bytes")).transpose()?;
            ImageRef::parse(&image.url, image.content_type.as_deref(), bytes).map_err(|e| e.within(&field))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tiers = raw
        .wholesale_prices
        .iter()
        .enumerate()
        .map(|(i, tier)| {
            let field = format!("wholesale_prices[{i}]");
            Ok(PriceTier {
                min_quantity: count(&format!("{field}.min_quantity"), tier.min_quantity, "a quantity (1 to 4294967295)")?,
                unit_price: decimal_field(&format!("{field}.unit_price"), &tier.unit_price)?,
            })
        })
        .collect::<Result<Vec<_>, ValidationError>>()?;
    ProductContent::parse(&raw.name, &raw.specification, &raw.model, images, raw.attributes, tiers)
}

/// Write a SKU's product listing: a new one is a draft; an edit of a rejected one makes it
/// a draft again; an edit of an approved, listed or unlisted one's text, images or
/// attributes sends it back to review at once (prices alone do not).
#[utoipa::path(
    put,
    path = "/products/{sku}",
    tag = "catalogue",
    params(("sku" = String, Path, description = "Our SKU: its facts recorded first (PUT /skus/{sku})")),
    request_body = ProductBody,
    responses(
        (status = 201, description = "Written: the listing, a draft", body = ProductAnswer),
        (status = 200, description = "Edited: the listing as it is now", body = ProductAnswer),
        (status = 400, description = "`invalid_request`, naming the field; nothing is stored", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`; `merchant_not_approved`: the merchant's onboarding is not approved", body = ErrorBody),
        (status = 404, description = "`product_not_found`: no facts of the SKU (or another merchant's)", body = ErrorBody),
        (status = 409, description = "`product_state_conflict`: under review", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn put_product(
    State(state): State<AppState>,
    rules: Option<Extension<ReviewRules>>,
    caller: Authed,
    PathParams(raw): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<ProductAnswer>), ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let sku = parse_sku(&raw)?;
    let content = parse_content(&body)?;
    let merchant = match state.ports.catalogue.get_sku(&sku).await? {
        Some(facts) if caller.sees(&facts.merchant_id) => facts.merchant_id,
        _ => return Err(not_found(&raw)),
    };
    let saved = cases::put_product(&state.ports, &rules_of(rules), &merchant, &sku, content, &actor(&caller)).await?;
    let status = if saved.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(ProductAnswer::from(&saved.product))))
}

/// A SKU's listing, with its timeline.
#[utoipa::path(
    get,
    path = "/products/{sku}",
    tag = "catalogue",
    params(("sku" = String, Path, description = "Our SKU")),
    responses(
        (status = 200, description = "The listing", body = ProductAnswer),
        (status = 404, description = "`product_not_found` (or another merchant's)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: neither `oms/inventory.read` nor a platform `oms/admin`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.read"]), ("bearer" = ["oms/admin"]))
)]
async fn get_product(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(raw): PathParams<String>,
) -> Result<Json<ProductAnswer>, ApiError> {
    let caller = if caller.0.has(Scope::Admin) && caller.0.merchant_id().is_none() {
        caller.0
    } else {
        caller.with(Scope::InventoryRead)?
    };
    let sku = own_product(&state, &caller, &raw).await?;
    Ok(Json(ProductAnswer::from(&cases::product_of(&*state.ports.products, &sku).await?)))
}

/// Submit a draft for review: the automated rules (banned words, image type and size) run
/// at once and reject it with their reason, or queue it for a reviewer (`in_review`).
#[utoipa::path(
    post,
    path = "/products/{sku}/submit",
    tag = "catalogue",
    params(("sku" = String, Path, description = "Our SKU")),
    responses(
        (status = 200, description = "The listing: in_review, or rejected by a rule (`rejection_reason` says which)", body = ProductAnswer),
        (status = 404, description = "`product_not_found`", body = ErrorBody),
        (status = 409, description = "`product_state_conflict`: not a draft (a rejected one is edited first)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn submit_product(
    State(state): State<AppState>,
    rules: Option<Extension<ReviewRules>>,
    caller: Authed,
    PathParams(raw): PathParams<String>,
    // Read only to hold it to the body limit (413): the step takes no body.
    _body: RawBody,
) -> Result<Json<ProductAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let sku = own_product(&state, &caller, &raw).await?;
    let product = cases::submit(&*state.ports.products, &rules_of(rules), &sku, &actor(&caller), state.ports.clock.now()).await?;
    Ok(Json(ProductAnswer::from(&product)))
}

/// Approve a listing in review: the merchant may list it.
#[utoipa::path(
    post,
    path = "/products/{sku}/approve",
    tag = "catalogue",
    params(("sku" = String, Path, description = "Our SKU")),
    responses(
        (status = 200, description = "The listing, approved", body = ProductAnswer),
        (status = 404, description = "`product_not_found`", body = ErrorBody),
        (status = 409, description = "`product_state_conflict`: not in review (decided already, perhaps by another reviewer)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a platform credential with `oms/admin`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/admin"]))
)]
async fn approve_product(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(raw): PathParams<String>,
    _body: RawBody,
) -> Result<Json<ProductAnswer>, ApiError> {
    let caller = administrator(caller)?;
    let sku = own_product(&state, &caller, &raw).await?;
    let product = cases::approve(&*state.ports.products, &sku, &actor(&caller), state.ports.clock.now()).await?;
    Ok(Json(ProductAnswer::from(&product)))
}

/// Reject a listing in review with a reason: the merchant edits it and submits again.
#[utoipa::path(
    post,
    path = "/products/{sku}/reject",
    tag = "catalogue",
    params(("sku" = String, Path, description = "Our SKU")),
    request_body = ProductRejectBody,
    responses(
        (status = 200, description = "The listing, rejected", body = ProductAnswer),
        (status = 400, description = "`invalid_request`: no reason, or one over 500 characters", body = ErrorBody),
        (status = 404, description = "`product_not_found`", body = ErrorBody),
        (status = 409, description = "`product_state_conflict`: not in review (decided already, perhaps by another reviewer)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a platform credential with `oms/admin`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/admin"]))
)]
async fn reject_product(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(raw): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<ProductAnswer>, ApiError> {
    let caller = administrator(caller)?;
    let raw_body: ProductRejectBody = parse_json(&body)?;
    let sku = own_product(&state, &caller, &raw).await?;
    let now = state.ports.clock.now();
    let product = cases::reject(&*state.ports.products, &sku, &raw_body.reason, &actor(&caller), now).await?;
    Ok(Json(ProductAnswer::from(&product)))
}

/// Put an approved (or unlisted) listing on sale; the merchant's channel orders held for
/// its products are released once every listing they name is on sale (`released_orders`).
#[utoipa::path(
    post,
    path = "/products/{sku}/list",
    tag = "catalogue",
    params(("sku" = String, Path, description = "Our SKU")),
    responses(
        (status = 200, description = "The listing, listed", body = ProductAnswer),
        (status = 404, description = "`product_not_found`", body = ErrorBody),
        (status = 409, description = "`product_state_conflict`: not approved", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn list_product(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(raw): PathParams<String>,
    _body: RawBody,
) -> Result<Json<ProductAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let sku = own_product(&state, &caller, &raw).await?;
    let listed = cases::list(&state.ports, &sku, &actor(&caller)).await?;
    let mut answer = ProductAnswer::from(&listed.product);
    answer.released_orders = Some(listed.released.iter().map(ToString::to_string).collect());
    Ok(Json(answer))
}

/// Take a listed listing off sale (and out of the promoted placements).
#[utoipa::path(
    post,
    path = "/products/{sku}/unlist",
    tag = "catalogue",
    params(("sku" = String, Path, description = "Our SKU")),
    responses(
        (status = 200, description = "The listing, unlisted", body = ProductAnswer),
        (status = 404, description = "`product_not_found`", body = ErrorBody),
        (status = 409, description = "`product_state_conflict`: not listed", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn unlist_product(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(raw): PathParams<String>,
    _body: RawBody,
) -> Result<Json<ProductAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let sku = own_product(&state, &caller, &raw).await?;
    let product = cases::unlist(&*state.ports.products, &sku, &actor(&caller), state.ports.clock.now()).await?;
    Ok(Json(ProductAnswer::from(&product)))
}

/// Promote a listed listing to a placement among the merchant's promoted products, or end
/// its promotion (`"rank": null`).
#[utoipa::path(
    post,
    path = "/products/{sku}/promote",
    tag = "catalogue",
    params(("sku" = String, Path, description = "Our SKU")),
    request_body = PromoteBody,
    responses(
        (status = 200, description = "The listing with its placement", body = ProductAnswer),
        (status = 400, description = "`invalid_request`: a rank outside 1 to 1,000", body = ErrorBody),
        (status = 404, description = "`product_not_found`", body = ErrorBody),
        (status = 409, description = "`product_state_conflict`: not listed", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn promote_product(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(raw): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<ProductAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let raw_body: PromoteBody = parse_json(&body)?;
    let rank = raw_body.rank.map(|r| count::<u32>("rank", r, "a placement (1 to 1000)")).transpose()?;
    let sku = own_product(&state, &caller, &raw).await?;
    let product = cases::promote(&*state.ports.products, &sku, rank, &actor(&caller), state.ports.clock.now()).await?;
    Ok(Json(ProductAnswer::from(&product)))
}

/// Listings in one status (by default those waiting for a reviewer), oldest in it first,
/// a page at a time.
#[utoipa::path(
    get,
    path = "/products",
    tag = "catalogue",
    params(ProductsQuery),
    responses(
        (status = 200, description = "One page and the cursor of the next (`null` on the last)", body = ProductsAnswer),
        (status = 400, description = "`invalid_request`: an unknown status, a bad limit or cursor", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a platform credential with `oms/admin`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/admin"]))
)]
async fn products_in_status(
    State(state): State<AppState>,
    caller: Authed,
    query: Result<Query<ProductsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ProductsAnswer>, ApiError> {
    administrator(caller)?;
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let status = match given(&query.status) {
        None => ProductStatus::InReview,
        Some(raw) => ProductStatus::parse(&raw).filter(|s| *s != ProductStatus::Submitted).ok_or_else(|| {
            ValidationError::new(
                "status",
                format!("{raw:?} is not one of draft, in_review, rejected, approved, listed, unlisted"),
            )
        })?,
    };
    let limit = match given(&query.limit) {
        None => 50,
        Some(raw) => raw.parse::<usize>().map_err(|_| ValidationError::new("limit", format!("{raw:?} is not a number")))?,
    };
    let after = given(&query.cursor).map(|raw| decode_cursor(&raw)).transpose()?;
    let page = cases::in_status(&*state.ports.products, status, after.as_deref(), limit).await?;
    Ok(Json(ProductsAnswer {
        products: page.products.iter().map(ProductAnswer::from).collect(),
        next: page.next.map(|key| URL_SAFE_NO_PAD.encode(key)),
    }))
}

/// The merchant's promoted listings on sale, by placement then SKU.
#[utoipa::path(
    get,
    path = "/catalogue/promoted",
    tag = "catalogue",
    params(PromotedQuery),
    responses(
        (status = 200, description = "The promoted listings", body = PromotedAnswer),
        (status = 400, description = "`invalid_request`: platform staff name no merchant", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: neither `oms/orders.read` nor `oms/storefront`, or another merchant named", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]), ("bearer" = ["oms/orders.read"]))
)]
async fn promoted_products(
    State(state): State<AppState>,
    caller: Authed,
    query: Result<Query<PromotedQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PromotedAnswer>, ApiError> {
    let (caller, _) = super::reader(caller)?;
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    let merchant = super::acting_merchant(&caller, query.merchant_id.as_deref())?;
    let products = cases::promoted(&*state.ports.products, &merchant).await?;
    Ok(Json(PromotedAnswer { merchant_id: merchant.to_string(), products: products.iter().map(ProductAnswer::from).collect() }))
}
