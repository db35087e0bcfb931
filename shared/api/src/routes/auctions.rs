//! Auctions: list one, see it, bid on it, and list its bids. The handlers parse and
//! answer; the use cases (`oms_domain::usecases::auctions`) decide. Closing at the end is
//! the sweeper's, never a client's.
//!
//! The merchant (`oms/inventory.write`) lists its own auctions and sees their reserve price
//! and bids (`oms/orders.read`); a bid is a customer action through the merchant's
//! storefront backend (`oms/storefront`, as flash-sale claims), which sees the auction
//! without its reserve price.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::{Caller, Scope};
use oms_domain::auction::{AntiSniping, Auction, AuctionId, AuctionTerms, Bid};
use oms_domain::ports::MAX_PAGE_SIZE;
use oms_domain::usecases::auctions::{self as cases, BidPlaced, NewBid};
use oms_domain::validation::parse_json;
use oms_domain::{Currency, CustomerId, MerchantId, Sku, ValidationError};

use super::flash_sales::AddressBody;
use super::{decimal_field, AppState, PathParams, RawBody};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_auction)).routes(routes!(get_auction)).routes(routes!(place_bid, list_bids))
}

/// Anti-sniping: a bid in the last `window_minutes` moves the end to `extension_minutes`
/// after the bid, never more than `max_extension_minutes` past the listed end.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AntiSnipingBody {
    /// 1 to 60.
    pub window_minutes: i64,
    /// 1 to 60.
    pub extension_minutes: i64,
    /// 1 to 1440.
    pub max_extension_minutes: i64,
}

/// The body of `POST /auctions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuctionBody {
    /// The merchant selling: the caller's own (platform staff name any).
    pub merchant_id: String,
    /// One unit of it is sold, allocated from stock as any order when the auction is won.
    pub sku: String,
    /// The least the first bid may be, a decimal string.
    pub start_price: String,
    /// How much each bid must beat the best one by, a decimal string above 0.
    pub increment: String,
    /// The least the best bid must reach for a sale (at least the start price); never shown
    /// to bidders.
    #[serde(default)]
    pub reserve_price: Option<String>,
    /// When bids open (default now).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<DateTime<Utc>>,
    /// After `starts_at`, at most 31 days later.
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<Utc>,
    /// ISO 4217 (default CNY).
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub anti_sniping: Option<AntiSnipingBody>,
}

/// The body of `POST /auctions/{id}/bids`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BidBody {
    pub customer_id: String,
    /// A decimal string: at least the start price for the first bid, the best bid plus the
    /// increment after.
    pub amount: String,
    /// The client's key: the same key again answers the first bid. It may come as the
    /// `Idempotency-Key` header instead (both given: they must be the same).
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// Where the order ships if this bid wins; without it the order waits on hold
    /// (`address_missing`).
    #[serde(default)]
    pub shipping_address: Option<AddressBody>,
}

/// An auction: `POST /auctions` (201) and `GET /auctions/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuctionAnswer {
    pub auction_id: String,
    pub merchant_id: String,
    pub sku: String,
    /// `scheduled`, `open`, `ending` (past its end, closing soon) or `ended`.
    pub state: String,
    pub currency: String,
    pub start_price: String,
    pub increment: String,
    /// The least a bid may be now.
    pub least_bid: String,
    /// The best bid so far (a decimal string); `null` with no bids.
    pub best_bid: Option<String>,
    /// The customer of the best bid; shown to the merchant only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub best_bidder: Option<String>,
    pub bids: u32,
    /// The reserve price: shown to the merchant only, never to bidders.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub reserve_price: Option<String>,
    /// Whether the best bid meets the reserve (false with no bids).
    pub reserve_met: bool,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<Utc>,
    /// The end now, moved by anti-sniping.
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<Utc>,
    /// The end as listed.
    #[schema(value_type = String, format = DateTime)]
    pub listed_ends_at: DateTime<Utc>,
    pub anti_sniping: Option<AntiSnipingBody>,
    /// Once closed: `won`, `reserve_not_met` or `no_bids`; `null` until then.
    pub outcome: Option<String>,
    /// The winner's order (channel `auction`), once won; shown to the merchant only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub order_id: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<DateTime<Utc>>,
}

impl AuctionAnswer {
    /// The auction as `caller` may see it at `now`: the merchant's view has the reserve,
    /// the best bidder and the winner's order; a bidder's has none of them.
    fn of(auction: &Auction, merchant_view: bool, now: DateTime<Utc>) -> Self {
        let t = &auction.terms;
        let outcome = auction.closed.as_ref().map(|c| &c.outcome);
        let order_id = match outcome {
            Some(oms_domain::auction::AuctionOutcome::Won { order_id, .. }) => Some(order_id.to_string()),
            _ => None,
        };
        Self {
            auction_id: auction.auction_id.to_string(),
            merchant_id: auction.merchant_id.to_string(),
            sku: t.sku.to_string(),
            state: auction.state(now).as_str().to_owned(),
            currency: t.currency.code().to_owned(),
            start_price: t.start_price.to_string(),
            increment: t.increment.to_string(),
            least_bid: auction.least_bid().to_string(),
            best_bid: auction.best.as_ref().map(|b| b.amount.to_string()),
            best_bidder: auction.best.as_ref().filter(|_| merchant_view).map(|b| b.customer_id.to_string()),
            bids: auction.bids,
            reserve_price: t.reserve_price.filter(|_| merchant_view).map(|r| r.to_string()),
            reserve_met: auction.reserve_met(),
            starts_at: t.starts_at,
            ends_at: auction.ends_at,
            listed_ends_at: t.ends_at,
            anti_sniping: t.anti_sniping.map(|r| AntiSnipingBody {
                window_minutes: i64::from(r.window_minutes),
                extension_minutes: i64::from(r.extension_minutes),
                max_extension_minutes: i64::from(r.max_extension_minutes),
            }),
            outcome: outcome.map(|o| o.as_str().to_owned()),
            order_id: order_id.filter(|_| merchant_view),
            closed_at: auction.closed.as_ref().map(|c| c.at),
        }
    }
}

/// A bid accepted: `POST /auctions/{id}/bids` (201, the same for a repeated key).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BidAnswer {
    pub bid_id: String,
    pub auction_id: String,
    pub customer_id: String,
    pub amount: String,
    /// Its number among the auction's accepted bids, from 1.
    pub seq: u32,
    #[schema(value_type = String, format = DateTime)]
    pub placed_at: DateTime<Utc>,
    /// The auction's end after this bid (anti-sniping may have moved it).
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<Utc>,
    /// The best bid now (this one unless a higher one landed since).
    pub best_bid: Option<String>,
    /// True when this answer is the first bid's under the same key.
    pub repeated: bool,
}

impl From<BidPlaced> for BidAnswer {
    fn from(placed: BidPlaced) -> Self {
        let b = placed.bid;
        Self {
            bid_id: b.bid_id.to_string(),
            auction_id: b.auction_id.to_string(),
            customer_id: b.customer_id.to_string(),
            amount: b.amount.to_string(),
            seq: b.seq,
            placed_at: b.placed_at,
            ends_at: placed.auction.ends_at,
            best_bid: placed.auction.best.map(|best| best.amount.to_string()),
            repeated: placed.repeated,
        }
    }
}

/// One bid in `GET /auctions/{id}/bids`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListedBid {
    pub bid_id: String,
    pub seq: u32,
    pub customer_id: String,
    pub amount: String,
    #[schema(value_type = String, format = DateTime)]
    pub placed_at: DateTime<Utc>,
}

impl From<Bid> for ListedBid {
    fn from(b: Bid) -> Self {
        Self {
            bid_id: b.bid_id.to_string(),
            seq: b.seq,
            customer_id: b.customer_id.to_string(),
            amount: b.amount.to_string(),
            placed_at: b.placed_at,
        }
    }
}

/// `GET /auctions/{id}/bids`: a page of bids in the order they landed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BidsAnswer {
    pub bids: Vec<ListedBid>,
    /// The `cursor` of the next page; `null` on the last.
    pub next: Option<String>,
}

/// The query string of `GET /auctions/{id}/bids`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct BidsQuery {
    /// Bids per page, 1 to 100 (default 50).
    limit: Option<String>,
    /// The `next` of the page before.
    cursor: Option<String>,
}

/// Bids a page holds when no limit is given.
const DEFAULT_PAGE: usize = 50;

fn minutes(field: &str, value: i64, max: u32) -> Result<u32, ValidationError> {
    u32::try_from(value)
        .ok()
        .filter(|v| (1..=max).contains(v))
        .ok_or_else(|| ValidationError::new(field, format!("must be a whole number from 1 to {max}, not {value}")))
}

fn parse_auction(body: &[u8], now: DateTime<Utc>) -> Result<(MerchantId, AuctionTerms), ValidationError> {
    use oms_domain::auction::{MAX_EXTENSION_MINUTES, MAX_SNIPING_MINUTES};
    let raw: AuctionBody = parse_json(body)?;
    let merchant = MerchantId::parse(raw.merchant_id).map_err(|e| e.within("merchant_id"))?;
    let sku = Sku::parse(raw.sku).map_err(|e| e.within("sku"))?;
    let currency = Currency::parse(raw.currency.as_deref().unwrap_or("CNY")).map_err(|e| e.within("currency"))?;
    let anti_sniping = raw
        .anti_sniping
        .map(|a| {
            Ok::<_, ValidationError>(AntiSniping {
                window_minutes: minutes("anti_sniping.window_minutes", a.window_minutes, MAX_SNIPING_MINUTES)?,
                extension_minutes: minutes("anti_sniping.extension_minutes", a.extension_minutes, MAX_SNIPING_MINUTES)?,
                max_extension_minutes: minutes(
                    "anti_sniping.max_extension_minutes",
                    a.max_extension_minutes,
                    MAX_EXTENSION_MINUTES,
                )?,
            })
        })
        .transpose()?;
    let terms = AuctionTerms {
        sku,
        currency,
        start_price: decimal_field("start_price", &raw.start_price)?,
        increment: decimal_field("increment", &raw.increment)?,
        reserve_price: raw.reserve_price.as_deref().map(|r| decimal_field("reserve_price", r)).transpose()?,
        starts_at: raw.starts_at.unwrap_or(now),
        ends_at: raw.ends_at,
        anti_sniping,
    };
    if terms.ends_at <= now {
        return Err(ValidationError::new("ends_at", "must be in the future"));
    }
    Ok((merchant, terms.check()?))
}

fn parse_bid(body: &[u8], header_key: Option<&str>, currency: Currency) -> Result<NewBid, ValidationError> {
    let raw: BidBody = parse_json(body)?;
    let key = super::idempotency_key(raw.idempotency_key.as_deref(), header_key)?;
    let amount = decimal_field("amount", &raw.amount)?;
    let amount = oms_domain::money::check_price(amount, currency).map_err(|e| e.within("amount"))?;
    Ok(NewBid {
        customer_id: CustomerId::parse(raw.customer_id).map_err(|e| e.within("customer_id"))?,
        amount,
        idempotency_key: key,
        shipping_address: raw.shipping_address.as_ref().map(super::flash_sales::parse_address).transpose()?,
    })
}

fn not_found(raw: &str) -> ApiError {
    ApiError::new(ErrorCode::AuctionNotFound, format!("no auction {raw}"))
}

/// The auction a path names, when it is the caller's merchant's: an id that is not an
/// auction id, or another merchant's auction, answers as not found.
async fn visible_auction(state: &AppState, caller: &Caller, raw: &str) -> Result<Auction, ApiError> {
    let id = AuctionId::parse(raw).map_err(|_| not_found(raw))?;
    match state.ports.auctions.get_auction(&id).await? {
        Some(auction) if caller.sees(&auction.merchant_id) => Ok(auction),
        _ => Err(not_found(raw)),
    }
}

/// List an auction of one unit of a SKU: bids open at `starts_at` and close at `ends_at`
/// (moved by anti-sniping); the sweeper closes it after, making the winner's order.
#[utoipa::path(
    post,
    path = "/auctions",
    tag = "auctions",
    request_body = AuctionBody,
    responses(
        (status = 201, description = "The auction, as its merchant sees it", body = AuctionAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`, or names another merchant than the caller's", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`unknown_sku`: no warehouse has ever stocked the SKU for the merchant; `product_not_sellable`: its listing in the reviewed catalogue is not approved, not listed or not stocked; nothing is stored", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn create_auction(
    State(state): State<AppState>,
    caller: Authed,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<AuctionAnswer>), ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let now = state.ports.clock.now();
    let (merchant, terms) = parse_auction(&body, now)?;
    if !caller.sees(&merchant) {
        return Err(ApiError::new(ErrorCode::Forbidden, "this credential lists its own merchant's auctions only"));
    }
    let auction = cases::create_auction(&state.ports, &merchant, terms).await?;
    Ok((StatusCode::CREATED, Json(AuctionAnswer::of(&auction, true, now))))
}

/// An auction now: its best bid, bid count, end and state. The merchant
/// (`oms/orders.read`) also sees the reserve price, the best bidder and the winner's order;
/// a storefront (`oms/storefront`) sees neither.
#[utoipa::path(
    get,
    path = "/auctions/{id}",
    tag = "auctions",
    params(("id" = String, Path, description = "The auction")),
    responses(
        (status = 200, description = "The auction now", body = AuctionAnswer),
        (status = 404, description = "`auction_not_found` (also another merchant's)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential has neither `oms/orders.read` nor `oms/storefront`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]), ("bearer" = ["oms/storefront"]))
)]
async fn get_auction(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<AuctionAnswer>, ApiError> {
    let (caller, merchant_view) = super::reader(caller)?;
    let auction = visible_auction(&state, &caller, &id).await?;
    Ok(Json(AuctionAnswer::of(&auction, merchant_view, state.ports.clock.now())))
}

/// Bid on an auction: accepted only while it is open and at least the least bid now (the
/// start price first, then the best bid plus the increment). One conditional write: of
/// two equal bids at the same instant, one wins and the other is too low.
#[utoipa::path(
    post,
    path = "/auctions/{id}/bids",
    tag = "auctions",
    params(
        ("id" = String, Path, description = "The auction"),
        ("Idempotency-Key" = Option<String>, Header, description = "The bid's idempotency key, when the body has none"),
    ),
    request_body = BidBody,
    responses(
        (status = 201, description = "The bid, accepted (the same answer for the same idempotency key)", body = BidAnswer),
        (status = 400, description = "`invalid_request`, naming the field (also a key another customer used)", body = ErrorBody),
        (status = 404, description = "`auction_not_found` (also another merchant's)", body = ErrorBody),
        (status = 409, description = "`bid_too_low`: below the least bid now (the message names it); nothing stored", body = ErrorBody),
        (status = 410, description = "`not_active`: before the start or after the end", body = ErrorBody),
        (status = 428, description = "`proof_required`: the deployment asks for a proof of work (`X-Proof-Of-Work`) and it is missing or does not solve the challenge the message names", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/storefront`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/storefront"]))
)]
async fn place_bid(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<BidAnswer>), ApiError> {
    // The merchant's storefront backend vouches for the customer id it passes.
    let caller = caller.with(Scope::Storefront)?;
    let auction = visible_auction(&state, &caller, &id).await?;
    let header_key = super::header_key(&headers)?;
    let new = parse_bid(&body, header_key, auction.terms.currency)?;
    let nonce = crate::admission::nonce_of(&headers);
    state.admission.admit(auction.auction_id.as_str(), new.customer_id.as_str(), nonce, state.ports.clock.now())?;
    let placed = cases::place_bid(&state.ports, &auction.auction_id, new).await?;
    Ok((StatusCode::CREATED, Json(placed.into())))
}

/// The bids an auction accepted, in the order they landed, a page at a time (its merchant).
#[utoipa::path(
    get,
    path = "/auctions/{id}/bids",
    tag = "auctions",
    params(("id" = String, Path, description = "The auction"), BidsQuery),
    responses(
        (status = 200, description = "One page of bids and the cursor of the next (`null` on the last)", body = BidsAnswer),
        (status = 400, description = "`invalid_request`: a bad limit or cursor", body = ErrorBody),
        (status = 404, description = "`auction_not_found` (also another merchant's)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.read`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]))
)]
async fn list_bids(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    query: Result<Query<BidsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<BidsAnswer>, ApiError> {
    let caller = caller.with(Scope::OrdersRead)?;
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let limit = match given(&query.limit) {
        None => DEFAULT_PAGE,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| ValidationError::new("limit", format!("{raw:?} is not a page size from 1 to {MAX_PAGE_SIZE}")))?,
    };
    let cursor = given(&query.cursor)
        .map(|raw| {
            raw.parse::<u32>().map_err(|_| ValidationError::new("cursor", format!("{raw:?} is not a cursor of this list")))
        })
        .transpose()?;
    let auction = visible_auction(&state, &caller, &id).await?;
    let page = cases::bids_page(&state.ports, &auction.auction_id, cursor, limit).await?;
    Ok(Json(BidsAnswer { bids: page.bids.into_iter().map(Into::into).collect(), next: page.next.map(|n| n.to_string()) }))
}
