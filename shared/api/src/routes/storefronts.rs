//! Storefronts: platform staff publish templates (`PUT /storefront-templates/{id}`), any
//! authenticated caller lists the published ones; a merchant saves its draft over the
//! version it read (`If-Match` or `version` in the body), reads and previews it (HTML),
//! publishes and unpublishes it; storefront backends read the published store as JSON or
//! as a page (`GET /stores/{merchant}`). The handlers parse and answer; the use cases
//! (`oms_domain::usecases::storefronts`) decide.
//!
//! Who: template writes are platform administration (`oms/admin` on a platform
//! credential, as for merchant approvals). The draft routes are the merchant's own
//! (`oms/orders.write` to save, publish and unpublish, `oms/orders.read` to read and
//! preview); another merchant's draft is not found. A published store is shop content
//! meant for buyers: any credential with `oms/storefront` (any merchant's storefront
//! backend) reads any merchant's; never the draft.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::{Caller, Scope};
use oms_domain::storefront::{Colour, Profile, ProfileInput, Template, TemplateId, TemplateStatus, Theme};
use oms_domain::usecases::storefronts::{self as cases, DraftEdit, ProductCard, Showcase};
use oms_domain::validation::parse_json;
use oms_domain::{MerchantId, ValidationError};

use super::reviews::RatingAnswer;
use super::{AppState, PathParams, RawBody};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_template))
        .routes(routes!(list_templates))
        .routes(routes!(put_draft, get_draft))
        .routes(routes!(preview))
        .routes(routes!(publish))
        .routes(routes!(unpublish))
        .routes(routes!(get_store))
}

/// A template's colour theme.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThemeBody {
    /// `#rrggbb`: headings, prices, buttons.
    pub primary: String,
    /// `#rrggbb`: the page's background.
    pub background: String,
}

/// The body of `PUT /storefront-templates/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    /// 1 to 80 characters.
    pub name: String,
    /// The sections in page order, each once: hero_banner, featured_grid, promoted, about.
    pub sections: Vec<String>,
    pub theme: ThemeBody,
    /// The design's version, 1 and up; a change is a higher version.
    pub version: u32,
    /// `published` (the default) or `withdrawn` (no new draft or publication picks it).
    #[serde(default)]
    pub status: Option<String>,
}

/// A template as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateAnswer {
    pub id: String,
    pub name: String,
    pub sections: Vec<&'static str>,
    pub theme: ThemeBody,
    pub version: u32,
    /// published or withdrawn.
    pub status: &'static str,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<&Template> for TemplateAnswer {
    fn from(t: &Template) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name.clone(),
            sections: t.sections.iter().map(|s| s.as_str()).collect(),
            theme: ThemeBody { primary: t.theme.primary.as_str().to_owned(), background: t.theme.background.as_str().to_owned() },
            version: t.version,
            status: t.status.as_str(),
            updated_at: t.updated_at,
        }
    }
}

/// `GET /storefront-templates`: the published templates, by id.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplatesAnswer {
    pub templates: Vec<TemplateAnswer>,
}

/// The body of `PUT /stores/{merchant}/draft`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftBody {
    /// A published template's id.
    pub template: String,
    /// The store's name, 1 to 80 characters.
    pub name: String,
    /// Up to 2000 characters; control characters become spaces.
    #[serde(default)]
    pub introduction: String,
    /// An https URL of at most 2048 bytes.
    #[serde(default)]
    pub logo: Option<String>,
    /// At most 5 https URLs (the template needs a hero_banner section).
    #[serde(default)]
    pub banners: Vec<String>,
    /// At most 12 of the merchant's own SKUs (the template needs a featured_grid section).
    #[serde(default)]
    pub featured: Vec<String>,
    /// At most 6 of the merchant's own SKUs (the template needs a promoted section).
    #[serde(default)]
    pub promoted: Vec<String>,
    /// The draft version this edit was taken from (or `If-Match`); absent for the first draft.
    #[serde(default)]
    pub version: Option<u64>,
}

/// A profile as stored and shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileAnswer {
    pub template: String,
    pub name: String,
    pub introduction: String,
    pub logo: Option<String>,
    pub banners: Vec<String>,
    pub featured: Vec<String>,
    pub promoted: Vec<String>,
}

impl From<&Profile> for ProfileAnswer {
    fn from(p: &Profile) -> Self {
        Self {
            template: p.template.to_string(),
            name: p.name.clone(),
            introduction: p.introduction.clone(),
            logo: p.logo.as_ref().map(|u| u.as_str().to_owned()),
            banners: p.banners.iter().map(|u| u.as_str().to_owned()).collect(),
            featured: p.featured.iter().map(ToString::to_string).collect(),
            promoted: p.promoted.iter().map(ToString::to_string).collect(),
        }
    }
}

/// The merchant's draft (also its `ETag`).
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftAnswer {
    pub merchant_id: String,
    pub profile: ProfileAnswer,
    pub version: u64,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// A product on a storefront.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductAnswer {
    pub sku: String,
    pub name: String,
    /// Decimal string, two places.
    pub list_price: String,
    pub rating: RatingAnswer,
    /// Whether any of the merchant's stock of it is available now.
    pub in_stock: bool,
}

impl From<&ProductCard> for ProductAnswer {
    fn from(c: &ProductCard) -> Self {
        Self {
            sku: c.sku.to_string(),
            name: c.name.clone(),
            list_price: format!("{:.2}", c.list_price),
            rating: c.rating.into(),
            in_stock: c.in_stock,
        }
    }
}

/// A storefront: published (`GET /stores/{merchant}`, publish) or a draft's preview.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreAnswer {
    pub merchant_id: String,
    pub name: String,
    pub introduction: String,
    pub logo: Option<String>,
    pub banners: Vec<String>,
    /// The template as it was published on (a snapshot).
    pub template: TemplateAnswer,
    pub featured: Vec<ProductAnswer>,
    pub promoted: Vec<ProductAnswer>,
    /// The draft version shown.
    pub draft_version: u64,
    /// When it was published; `null` for a preview.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub published_at: Option<DateTime<Utc>>,
}

impl From<&Showcase> for StoreAnswer {
    fn from(s: &Showcase) -> Self {
        Self {
            merchant_id: s.merchant.to_string(),
            name: s.profile.name.clone(),
            introduction: s.profile.introduction.clone(),
            logo: s.profile.logo.as_ref().map(|u| u.as_str().to_owned()),
            banners: s.profile.banners.iter().map(|u| u.as_str().to_owned()).collect(),
            template: (&s.template).into(),
            featured: s.featured.iter().map(Into::into).collect(),
            promoted: s.promoted.iter().map(Into::into).collect(),
            draft_version: s.draft_version,
            published_at: s.published_at,
        }
    }
}

/// `POST /stores/{merchant}/unpublish`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnpublishedAnswer {
    pub merchant_id: String,
    /// Whether a published store was taken down by this call (false: none was published).
    pub was_published: bool,
}

/// The query of `GET /stores/{merchant}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct StoreQuery {
    /// `json` or `html`; without it, `Accept: text/html` asks for the page.
    format: Option<String>,
}

/// The merchant a draft route names, when it is the caller's own (another merchant's
/// draft is not found, so its existence does not leak).
fn own_store(caller: &Caller, raw: &str) -> Result<MerchantId, ApiError> {
    let not_found = || ApiError::new(ErrorCode::DraftNotFound, format!("merchant {raw} has no storefront draft"));
    let id = MerchantId::parse(raw).map_err(|_| not_found())?;
    if caller.sees(&id) {
        Ok(id)
    } else {
        Err(not_found())
    }
}

fn actor(caller: &Caller) -> String {
    caller.merchant_id().map_or_else(|| "platform staff".to_owned(), |m| format!("merchant {m}"))
}

/// The version an edit was taken from: `If-Match` (`"3"`, `3` or `W/"3"`) or the body's
/// `version`; both given must agree.
fn read_version(headers: &HeaderMap, body: Option<u64>) -> Result<Option<u64>, ValidationError> {
    let header = headers
        .get(header::IF_MATCH)
        .map(|value| {
            let text = value.to_str().unwrap_or_default().trim();
            let bare = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
            bare.parse::<u64>()
                .map_err(|_| ValidationError::new("if_match", format!("{text:?} is not a draft version like \"3\"")))
        })
        .transpose()?;
    match (header, body) {
        (Some(h), Some(b)) if h != b => Err(ValidationError::new("version", format!("differs from If-Match ({h})"))),
        (Some(v), _) | (None, Some(v)) => Ok(Some(v)),
        (None, None) => Ok(None),
    }
}

fn etag(version: u64) -> [(header::HeaderName, HeaderValue); 1] {
    // Digits and quotes: always a valid header value.
    [(header::ETAG, HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\"")))]
}

fn parse_template(id: TemplateId, body: &[u8], now: DateTime<Utc>) -> Result<Template, ValidationError> {
    let raw: TemplateBody = parse_json(body)?;
    let theme = Theme {
        primary: Colour::parse(&raw.theme.primary).map_err(|e| e.within("theme.primary"))?,
        background: Colour::parse(&raw.theme.background).map_err(|e| e.within("theme.background"))?,
    };
    let status = match raw.status.as_deref() {
        None | Some("published") => TemplateStatus::Published,
        Some("withdrawn") => TemplateStatus::Withdrawn,
        Some(other) => return Err(ValidationError::new("status", format!("must be published or withdrawn, not {other:?}"))),
    };
    Template::parse(id, &raw.name, &raw.sections, theme, raw.version, status, now)
}

/// Publish (or withdraw) a storefront template: each change a higher version. The same
/// design sent again at the stored version (a retry) answers it as stored.
#[utoipa::path(
    put,
    path = "/storefront-templates/{id}",
    tag = "storefronts",
    params(("id" = String, Path, description = "The template: lower-case letters, digits and hyphens")),
    request_body = TemplateBody,
    responses(
        (status = 200, description = "Stored (or the same design stored already)", body = TemplateAnswer),
        (status = 400, description = "`invalid_request`, naming the field: an unknown or repeated section, a colour not `#rrggbb`, version 0, a name too long", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a platform credential with `oms/admin`", body = ErrorBody),
        (status = 409, description = "`template_version_conflict`: stored at this version or a later one, differently", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/admin"]))
)]
async fn put_template(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<Json<TemplateAnswer>, ApiError> {
    super::merchants::administrator(caller)?;
    let id = TemplateId::parse(id).map_err(|e| e.within("id"))?;
    let template = parse_template(id, &body, state.ports.clock.now())?;
    let stored = cases::put_template(&*state.ports.storefronts, template).await?;
    Ok(Json(TemplateAnswer::from(&stored)))
}

/// The storefront templates merchants may pick: the published ones, by id.
#[utoipa::path(
    get,
    path = "/storefront-templates",
    tag = "storefronts",
    responses(
        (status = 200, description = "The published templates", body = TemplatesAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn list_templates(State(state): State<AppState>, _caller: Authed) -> Result<Json<TemplatesAnswer>, ApiError> {
    let templates = cases::published_templates(&*state.ports.storefronts).await?;
    Ok(Json(TemplatesAnswer { templates: templates.iter().map(Into::into).collect() }))
}

fn parse_draft(body: &[u8]) -> Result<(Profile, Option<u64>), ValidationError> {
    let raw: DraftBody = parse_json(body)?;
    let profile = Profile::parse(ProfileInput {
        template: raw.template,
        name: raw.name,
        introduction: raw.introduction,
        logo: raw.logo,
        banners: raw.banners,
        featured: raw.featured,
        promoted: raw.promoted,
    })?;
    Ok((profile, raw.version))
}

fn draft_answer(draft: &oms_domain::storefront::StorefrontDraft) -> Response {
    let answer = DraftAnswer {
        merchant_id: draft.merchant_id.to_string(),
        profile: (&draft.profile).into(),
        version: draft.version,
        updated_at: draft.updated_at,
        updated_by: draft.updated_by.clone(),
    };
    (etag(draft.version), Json(answer)).into_response()
}

/// Save the merchant's storefront draft over the version read (`If-Match: "<version>"` or
/// `version` in the body; neither for the first draft). A retry of a save that landed
/// answers the draft it saved.
#[utoipa::path(
    put,
    path = "/stores/{merchant}/draft",
    tag = "storefronts",
    params(
        ("merchant" = String, Path, description = "The merchant: the caller's own"),
        ("If-Match" = Option<String>, Header, description = "The draft version the edit was taken from, e.g. `\"3\"`"),
    ),
    request_body = DraftBody,
    responses(
        (status = 200, description = "Saved, with its version (also the `ETag`)", body = DraftAnswer),
        (status = 400, description = "`invalid_request`, naming the field: text too long, more than 5 banners, a URL not https or over 2048 bytes, too many products, a section the template lacks", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 404, description = "`merchant_not_found` (no onboarding record), `draft_not_found` (another merchant's)", body = ErrorBody),
        (status = 409, description = "`draft_version_conflict`: another edit landed first; read and save again", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`unknown_template`, `template_withdrawn`, `unknown_sku` (not in the catalogue or not the merchant's own)", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn put_draft(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(merchant): PathParams<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let merchant = own_store(&caller, &merchant)?;
    let (profile, body_version) = parse_draft(&body)?;
    let read_version = read_version(&headers, body_version)?;
    let edit = DraftEdit { merchant, profile, read_version, by: actor(&caller) };
    let draft = cases::save_draft(&state.ports, edit, state.ports.clock.now()).await?;
    Ok(draft_answer(&draft))
}

/// The merchant's storefront draft, with its version (also the `ETag`).
#[utoipa::path(
    get,
    path = "/stores/{merchant}/draft",
    tag = "storefronts",
    params(("merchant" = String, Path, description = "The merchant: the caller's own")),
    responses(
        (status = 200, description = "The draft", body = DraftAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.read`", body = ErrorBody),
        (status = 404, description = "`draft_not_found` (also another merchant's)", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]))
)]
async fn get_draft(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(merchant): PathParams<String>,
) -> Result<Response, ApiError> {
    let caller = caller.with(Scope::OrdersRead)?;
    let merchant = own_store(&caller, &merchant)?;
    Ok(draft_answer(&cases::draft_of(&*state.ports.storefronts, &merchant).await?))
}

/// The merchant's draft as its page would look published now (HTML), for the merchant only.
#[utoipa::path(
    get,
    path = "/stores/{merchant}/preview",
    tag = "storefronts",
    params(("merchant" = String, Path, description = "The merchant: the caller's own")),
    responses(
        (status = 200, description = "The draft's page (text/html)", content_type = "text/html"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.read`", body = ErrorBody),
        (status = 404, description = "`draft_not_found` (also another merchant's)", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]))
)]
async fn preview(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(merchant): PathParams<String>,
) -> Result<Response, ApiError> {
    let caller = caller.with(Scope::OrdersRead)?;
    let merchant = own_store(&caller, &merchant)?;
    Ok(page(&cases::preview(&state.ports, &merchant).await?))
}

/// Publish the merchant's draft as it is now (only an approved merchant), replacing what
/// was published before. Publishing the same draft again is the same store.
#[utoipa::path(
    post,
    path = "/stores/{merchant}/publish",
    tag = "storefronts",
    params(("merchant" = String, Path, description = "The merchant: the caller's own")),
    responses(
        (status = 200, description = "Published: the store as buyers see it", body = StoreAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`; `merchant_not_approved`", body = ErrorBody),
        (status = 404, description = "`draft_not_found` (also another merchant's), `merchant_not_found`", body = ErrorBody),
        (status = 409, description = "`draft_version_conflict`: an edit landed meanwhile; publish again", body = ErrorBody),
        (status = 422, description = "`template_withdrawn`, `draft_not_publishable` (the template lost a section the draft fills), `unknown_sku` (a product left the merchant's catalogue)", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn publish(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(merchant): PathParams<String>,
) -> Result<Json<StoreAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let merchant = own_store(&caller, &merchant)?;
    cases::publish(&state.ports, &merchant, state.ports.clock.now()).await?;
    Ok(Json(StoreAnswer::from(&cases::published_showcase(&state.ports, &merchant).await?)))
}

/// Take the merchant's store down (its draft stays). Unpublishing an unpublished store
/// answers `was_published: false`.
#[utoipa::path(
    post,
    path = "/stores/{merchant}/unpublish",
    tag = "storefronts",
    params(("merchant" = String, Path, description = "The merchant: the caller's own")),
    responses(
        (status = 200, description = "Not published now", body = UnpublishedAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.write`", body = ErrorBody),
        (status = 404, description = "`draft_not_found`: another merchant's", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.write"]))
)]
async fn unpublish(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(merchant): PathParams<String>,
) -> Result<Json<UnpublishedAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersWrite)?;
    let merchant = own_store(&caller, &merchant)?;
    let was_published = cases::unpublish(&*state.ports.storefronts, &merchant).await?;
    Ok(Json(UnpublishedAnswer { merchant_id: merchant.to_string(), was_published }))
}

/// Whether the caller asked for the page: `?format=html`, or `Accept: text/html` without
/// a format; anything but `html` or `json` is refused.
fn wants_html(
    params: Result<Query<StoreQuery>, axum::extract::rejection::QueryRejection>,
    headers: &HeaderMap,
) -> Result<bool, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    match params.format.as_deref() {
        Some("html") => Ok(true),
        Some("json") => Ok(false),
        Some(other) => Err(ValidationError::new("format", format!("must be html or json, not {other:?}")).into()),
        None => Ok(headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.split(',').any(|part| part.trim().starts_with("text/html")))),
    }
}

/// A merchant's published storefront, as buyers see it: JSON, or a page with
/// `Accept: text/html` or `?format=html`. Never the draft.
#[utoipa::path(
    get,
    path = "/stores/{merchant}",
    tag = "storefronts",
    params(("merchant" = String, Path, description = "The merchant"), StoreQuery),
    responses(
        (status = 200, description = "The published store: JSON, or its page (text/html)", body = StoreAnswer),
        (status = 400, description = "`invalid_request`: a format other than html or json", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`", body = ErrorBody),
        (status = 404, description = "`store_not_published`: never published, or unpublished", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn get_store(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(merchant): PathParams<String>,
    headers: HeaderMap,
    params: Result<Query<StoreQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.with(Scope::Storefront)?;
    let html = wants_html(params, &headers)?;
    let not_published =
        || ApiError::new(ErrorCode::StoreNotPublished, format!("merchant {merchant} has no published storefront"));
    let id = MerchantId::parse(merchant.as_str()).map_err(|_| not_published())?;
    let showcase = cases::published_showcase(&state.ports, &id).await?;
    Ok(if html { page(&showcase) } else { Json(StoreAnswer::from(&showcase)).into_response() })
}

/// The page's style sheet before the theme's colours.
const STYLE: &str = "body{font-family:sans-serif;margin:0;color:#222}main{max-width:60em;margin:auto;padding:1em}\
header{display:flex;align-items:center;gap:1em}header img{height:64px}h1{margin:.2em 0}\
.banners img{width:100%;max-height:320px;object-fit:cover;margin-bottom:.5em}\
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(12em,1fr));gap:1em}\
.card{border:1px solid #ddd;border-radius:6px;padding:.8em}.muted{color:#666}.draft{background:#fe0;padding:.4em;text-align:center}";

fn section_markup(showcase: &Showcase, section: oms_domain::storefront::Section) -> Markup {
    use oms_domain::storefront::Section;
    let cards = |cards: &[ProductCard]| {
        html! {
            div class="grid" {
                @for c in cards {
                    div class="card" {
                        strong { (c.name) }
                        div class="price" { "¥" (format!("{:.2}", c.list_price)) }
                        div class="muted" {
                            @match c.rating.average() {
                                Some(avg) => { (format!("{avg:.1}")) " ★ (" (c.rating.count) ")" }
                                None => { "No reviews yet" }
                            }
                        }
                        div { @if c.in_stock { "In stock" } @else { "Out of stock" } }
                    }
                }
            }
        }
    };
    match section {
        Section::HeroBanner => html! {
            div class="banners" { @for b in &showcase.profile.banners { img src=(b.as_str()) alt=(showcase.profile.name); } }
        },
        Section::FeaturedGrid if !showcase.featured.is_empty() => html! { h2 { "Featured" } (cards(&showcase.featured)) },
        Section::Promoted if !showcase.promoted.is_empty() => html! { h2 { "Promoted" } (cards(&showcase.promoted)) },
        Section::About if !showcase.profile.introduction.is_empty() => {
            html! { h2 { "About us" } p { (showcase.profile.introduction) } }
        }
        _ => html! {},
    }
}

/// The storefront's page: its sections in the template's order and the template's colours;
/// every text escaped (maud), images only from https, nothing else loaded.
fn page(showcase: &Showcase) -> Response {
    let theme = &showcase.template.theme;
    // Colours are `#rrggbb` by construction: safe inside the style sheet.
    let style =
        format!("{STYLE}body{{background:{}}}h1,h2,.price{{color:{}}}", theme.background.as_str(), theme.primary.as_str());
    let profile = &showcase.profile;
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (profile.name) } style { (maud::PreEscaped(&style)) } }
            body {
                @if showcase.published_at.is_none() { div class="draft" { "Preview of draft version " (showcase.draft_version) ": not published" } }
                main {
                    header {
                        @if let Some(logo) = &profile.logo { img src=(logo.as_str()) alt="logo"; }
                        h1 { (profile.name) }
                    }
                    @for section in &showcase.template.sections { (section_markup(showcase, *section)) }
                }
            }
        }
    };
    let policy = format!(
        "default-src 'none'; img-src https:; style-src 'sha256-{}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        STANDARD.encode(Sha256::digest(style.as_bytes()))
    );
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            // Base64 and ASCII words only: always a valid header value.
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'none'")),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        markup.into_string(),
    )
        .into_response()
}
