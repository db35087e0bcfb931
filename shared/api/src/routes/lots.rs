//! Goods receipts with no purchase order, and the lots of a warehouse's stock.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;
use oms_domain::lot::LotBalance;
use oms_domain::stock::MAX_ON_HAND;
use oms_domain::supply::Receipt;
use oms_domain::usecases::lots as lots_cases;
use oms_domain::validation::parse_json;
use oms_domain::{MerchantId, ReceiptId, Sku, ValidationError, WarehouseId};

use super::supply::{receipt_lines, ReceiptLineBody};
use super::{AppState, PathParams, RawBody};
use crate::answers::LedgerEntryAnswer;
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive_goods)).routes(routes!(lots_in))
}

/// The body of `POST /inventory/{warehouse}/receipts`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GoodsReceiptBody {
    /// The warehouse's id of this delivery: applied once per (warehouse, owner, id).
    pub receipt_id: String,
    /// 1 to 30 lines, each SKU once, each 1 to 100,000,000 units.
    pub lines: Vec<ReceiptLineBody>,
    /// The merchant whose stock the units join: a merchant's staff may leave it out or
    /// name their own; platform staff default to the warehouse's merchant.
    #[serde(default)]
    pub merchant_id: Option<String>,
}

impl GoodsReceiptBody {
    fn parse(body: &[u8], received_at: DateTime<Utc>) -> Result<(Receipt, Option<MerchantId>), ValidationError> {
        let raw: GoodsReceiptBody = parse_json(body)?;
        let receipt_id = ReceiptId::parse(raw.receipt_id).map_err(|e| e.within("receipt_id"))?;
        let (lines, lots) = receipt_lines(raw.lines, MAX_ON_HAND)?;
        let owner = raw.merchant_id.map(MerchantId::parse).transpose().map_err(|e| e.within("merchant_id"))?;
        Ok((Receipt { receipt_id, lines, lots, received_at }, owner))
    }
}

/// What `POST /inventory/{warehouse}/receipts` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GoodsReceiptAnswer {
    pub receipt_id: String,
    pub warehouse: String,
    /// Whether this receipt id was applied already (then nothing was applied again and
    /// `entries` is empty).
    pub duplicate: bool,
    /// The `receive` ledger entries written, one per line.
    pub entries: Vec<LedgerEntryAnswer>,
}

/// Receive goods into the caller's own stock in a warehouse with no purchase order (a
/// merchant stocking a shared warehouse): on hand and available grow, a `receive` ledger
/// entry per line and the lines' lots, in one write; the same receipt id again applies
/// nothing twice.
#[utoipa::path(
    post,
    path = "/inventory/{warehouse}/receipts",
    tag = "inventory",
    params(("warehouse" = String, Path, description = "A registered warehouse")),
    request_body = GoodsReceiptBody,
    responses(
        (status = 201, description = "Received: the ledger entries written", body = GoodsReceiptAnswer),
        (status = 200, description = "The receipt id was applied already: `\"duplicate\":true`, nothing applied again", body = GoodsReceiptAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`, or a merchant's staff name another merchant", body = ErrorBody),
        (status = 404, description = "`unknown_warehouse`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`over_receipt`: a stock would pass 100,000,000 units on hand; `expired_on_receipt`: a lot past its last day; nothing changed", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn receive_goods(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(warehouse): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<GoodsReceiptAnswer>), ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let warehouse = WarehouseId::parse(warehouse).map_err(|e| e.within("warehouse"))?;
    let (receipt, owner) = GoodsReceiptBody::parse(&body, state.ports.clock.now())?;
    let receipt_id = receipt.receipt_id.to_string();
    let (entries, duplicate) = lots_cases::receive_goods(&state.ports, &caller, &warehouse, owner.as_ref(), receipt).await?;
    let status = if duplicate { StatusCode::OK } else { StatusCode::CREATED };
    let answer = GoodsReceiptAnswer {
        receipt_id,
        warehouse: warehouse.into(),
        duplicate,
        entries: entries.into_iter().map(Into::into).collect(),
    };
    Ok((status, Json(answer)))
}

/// The query string of `GET /inventory/{warehouse}/lots?sku=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LotsFilter {
    /// Only this SKU's lots.
    sku: Option<String>,
}

/// One lot of a stock and what remains of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LotAnswer {
    pub sku: String,
    /// The merchant whose units these are.
    pub merchant_id: String,
    pub lot: String,
    /// Units of the lot received into this stock.
    pub received: u32,
    /// Units of it still on hand, first-expiry-first-out.
    pub remaining: u32,
    /// The lot's last day (`YYYY-MM-DD`), or `null` when it does not spoil.
    pub expires_on: Option<String>,
    /// When its first receipt into this stock was recorded.
    pub received_at: String,
    /// Past its last day today: no longer sold.
    pub expired: bool,
}

impl LotAnswer {
    fn of(lot: LotBalance, today: chrono::NaiveDate) -> Self {
        Self {
            expired: lot.is_expired(today),
            sku: lot.sku.into(),
            merchant_id: lot.owner.into(),
            lot: lot.lot,
            received: lot.received,
            remaining: lot.remaining,
            expires_on: lot.expires_on.map(|d| d.to_string()),
            received_at: lot.received_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        }
    }
}

/// What `GET /inventory/{warehouse}/lots` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LotsAnswer {
    pub warehouse: String,
    /// By SKU, owner, then the order units leave them: the lot expiring first, lots with
    /// no expiry last, then the oldest receipt.
    pub lots: Vec<LotAnswer>,
}

/// The lots of the caller's stock in a warehouse (platform staff: every owner's), each
/// with what remains of it: units that left the stock are taken from the lot expiring
/// first; units counted in with no lot belong to none.
#[utoipa::path(
    get,
    path = "/inventory/{warehouse}/lots",
    tag = "inventory",
    params(("warehouse" = String, Path, description = "A registered warehouse"), LotsFilter),
    responses(
        (status = 200, description = "The lots", body = LotsAnswer),
        (status = 400, description = "`invalid_request`: a bad warehouse id or SKU", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.read`", body = ErrorBody),
        (status = 404, description = "`unknown_warehouse`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.read"]))
)]
async fn lots_in(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(warehouse): PathParams<String>,
    filter: Result<Query<LotsFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<LotsAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryRead)?;
    let warehouse = WarehouseId::parse(warehouse).map_err(|e| e.within("warehouse"))?;
    let Query(filter) = filter.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    let sku = filter
        .sku
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Sku::parse)
        .transpose()
        .map_err(|e| e.within("sku"))?;
    let today = state.ports.clock.now().date_naive();
    let lots = lots_cases::lots_in(&state.ports, &caller, &warehouse, sku.as_ref()).await?;
    Ok(Json(LotsAnswer { warehouse: warehouse.into(), lots: lots.into_iter().map(|l| LotAnswer::of(l, today)).collect() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_goods_receipt_body_is_checked_naming_the_field() {
        let now = Utc::now();
        let body = |lines: &str| format!(r#"{{"receipt_id":"gr-1","lines":{lines}}}"#);
        let (ok, owner) =
            GoodsReceiptBody::parse(body(r#"[{"sku":"A","quantity":5,"lot":" L1 ","expires_on":"2030-01-31"}]"#).as_bytes(), now)
                .unwrap();
        assert_eq!((ok.lines.len(), ok.lots.len(), owner), (1, 1, None));
        let field = |b: String| GoodsReceiptBody::parse(b.as_bytes(), now).unwrap_err().field;
        assert_eq!(field(body(r#"[{"sku":"A","quantity":0}]"#)), "lines[0].quantity");
        assert_eq!(field(body(r#"[{"sku":"A","quantity":100000001}]"#)), "lines[0].quantity");
        assert_eq!(field(body(r#"[{"sku":"A","quantity":1,"expires_on":"2030-01-31"}]"#)), "lines[0].expires_on");
        assert_eq!(field(body(r#"[{"sku":"A","quantity":1,"lot":""}]"#)), "lines[0].lot");
        assert_eq!(field(body(r#"[{"sku":"A","quantity":1,"lot":7}]"#)), "lines[0].lot");
        assert_eq!(field(body("[]")), "lines");
        assert!(GoodsReceiptBody::parse(body(r#"[{"sku":"A","quantity":100000000}]"#).as_bytes(), now).is_ok());
    }
}
