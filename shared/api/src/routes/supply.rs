//! Suppliers, purchase orders and their receipts (served by the `inventory` function).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use std::collections::BTreeMap;

use oms_domain::access::Scope;
use oms_domain::lot::LotTag;
use oms_domain::supply::{self, PoQuery, PoStatus, PurchaseOrder, Receipt, SuppliedSku, Supplier, MAX_SUPPLY_TEXT};
use oms_domain::usecases::supply::{self as supply_cases, NewPurchaseOrder};
use oms_domain::validation::{clean_text, parse_json, refuse_hidden_text};
use oms_domain::{MerchantId, PurchaseOrderId, ReceiptId, Sku, SupplierId, ValidationError, WarehouseId};

use super::{decimal_field, AppState, PathParams, RawBody};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_supplier, get_supplier))
        .routes(routes!(place_purchase_order, list_purchase_orders))
        .routes(routes!(get_purchase_order))
        .routes(routes!(receive))
}

/// One SKU of `PUT /suppliers/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SuppliedSkuBody {
    pub sku: String,
    /// A decimal string, not negative.
    #[serde(default)]
    pub unit_cost: Option<String>,
    /// Units per pack, 1 to 1,000,000.
    #[serde(default)]
    pub pack_size: Option<i64>,
    /// The least units per order, 1 to 1,000,000.
    #[serde(default)]
    pub min_order: Option<i64>,
}

/// The body of `PUT /suppliers/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SupplierBody {
    pub merchant_id: String,
    /// 1 to 200 characters.
    pub name: String,
    /// Days from ordering to arrival, 0 to 365.
    pub lead_time_days: i64,
    /// The SKUs it supplies, each once, at most 500.
    #[serde(default)]
    pub skus: Vec<SuppliedSkuBody>,
}

fn units(field: String, raw: Option<i64>) -> Result<Option<u32>, ValidationError> {
    raw.map(|v| {
        u32::try_from(v)
            .map_err(|_| ValidationError::new(field, format!("must be from 1 to {}, got {v}", supply::MAX_PO_LINE_UNITS)))
    })
    .transpose()
}

impl SupplierBody {
    fn parse(id: &str, body: &[u8]) -> Result<Supplier, ValidationError> {
        let raw: SupplierBody = parse_json(body)?;
        let supplier_id = SupplierId::parse(id).map_err(|e| e.within("supplier_id"))?;
        let merchant_id = MerchantId::parse(raw.merchant_id).map_err(|e| e.within("merchant_id"))?;
        let mut skus = Vec::with_capacity(raw.skus.len());
        for (i, s) in raw.skus.into_iter().enumerate() {
            skus.push(SuppliedSku {
                sku: Sku::parse(s.sku).map_err(|e| e.within(&format!("skus[{i}].sku")))?,
                unit_cost: s.unit_cost.as_deref().map(|c| decimal_field(&format!("skus[{i}].unit_cost"), c)).transpose()?,
                pack_size: units(format!("skus[{i}].pack_size"), s.pack_size)?,
                min_order: units(format!("skus[{i}].min_order"), s.min_order)?,
            });
        }
        Supplier::new(supplier_id, merchant_id, &raw.name, raw.lead_time_days, skus)
    }
}

/// A supplier as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupplierAnswer {
    pub supplier_id: String,
    pub merchant_id: String,
    pub name: String,
    pub lead_time_days: u32,
    pub skus: Vec<SuppliedSkuAnswer>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuppliedSkuAnswer {
    pub sku: String,
    /// A decimal string, when known.
    pub unit_cost: Option<String>,
    pub pack_size: Option<u32>,
    pub min_order: Option<u32>,
}

impl From<Supplier> for SupplierAnswer {
    fn from(s: Supplier) -> Self {
        Self {
            supplier_id: s.supplier_id.into(),
            merchant_id: s.merchant_id.into(),
            name: s.name,
            lead_time_days: s.lead_time_days,
            skus: s
                .skus
                .into_iter()
                .map(|k| SuppliedSkuAnswer {
                    sku: k.sku.into(),
                    unit_cost: k.unit_cost.map(|c| c.to_string()),
                    pack_size: k.pack_size,
                    min_order: k.min_order,
                })
                .collect(),
        }
    }
}

/// Register or update a supplier: its lead time and the SKUs it supplies.
#[utoipa::path(
    put,
    path = "/suppliers/{id}",
    tag = "supply",
    params(("id" = String, Path, description = "The supplier's id")),
    request_body = SupplierBody,
    responses(
        (status = 200, description = "The supplier as updated", body = SupplierAnswer),
        (status = 201, description = "The supplier as registered", body = SupplierAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`, or the body names another merchant than the caller's", body = ErrorBody),
        (status = 404, description = "`supplier_not_found`: the id is another merchant's supplier", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn put_supplier(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<SupplierAnswer>), ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let supplier = SupplierBody::parse(&id, &body)?;
    let created = supply_cases::put_supplier(&state.ports, &caller, &supplier).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(supplier.into())))
}

/// A supplier.
#[utoipa::path(
    get,
    path = "/suppliers/{id}",
    tag = "supply",
    params(("id" = String, Path, description = "The supplier's id")),
    responses(
        (status = 200, description = "The supplier", body = SupplierAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.read`", body = ErrorBody),
        (status = 404, description = "`supplier_not_found` (also another merchant's)", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.read"]))
)]
async fn get_supplier(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<SupplierAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryRead)?;
    let Ok(id) = SupplierId::parse(&id) else {
        return Err(ApiError::new(ErrorCode::SupplierNotFound, format!("no supplier {id:?}")));
    };
    Ok(Json(supply_cases::get_supplier(&state.ports, &caller, &id).await?.into()))
}

/// A line of a purchase order or a receipt.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SupplyLineBody {
    pub sku: String,
    /// 1 to 1,000,000 units.
    pub quantity: i64,
}

fn lines(raw: Vec<SupplyLineBody>) -> Result<Vec<supply::SupplyLine>, ValidationError> {
    lines_of_at_most(raw, supply::MAX_PO_LINE_UNITS)
}

fn lines_of_at_most(raw: Vec<SupplyLineBody>, most: u32) -> Result<Vec<supply::SupplyLine>, ValidationError> {
    let mut parsed = Vec::with_capacity(raw.len());
    for (i, line) in raw.into_iter().enumerate() {
        parsed.push((Sku::parse(line.sku).map_err(|e| e.within(&format!("lines[{i}].sku")))?, line.quantity));
    }
    supply::lines_of_at_most(parsed, most)
}

/// A line of a goods receipt: a SKU, its units and, optionally, their lot.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReceiptLineBody {
    pub sku: String,
    /// 1 to 1,000,000 units.
    pub quantity: i64,
    /// The lot's code: 1 to 64 printable characters, trimmed.
    #[serde(default)]
    pub lot: Option<String>,
    /// The lot's last day, `YYYY-MM-DD`; only with a lot, and not a day already past.
    #[serde(default)]
    pub expires_on: Option<String>,
}

/// Checks a receipt's lines as [`lines`] does (each quantity 1 to `most`), and each line's
/// optional lot (errors name `lines[i].lot` or `lines[i].expires_on`): the lines, and the
/// lot of each line naming one, by its SKU.
pub(crate) fn receipt_lines(
    raw: Vec<ReceiptLineBody>,
    most: u32,
) -> Result<(Vec<supply::SupplyLine>, BTreeMap<Sku, LotTag>), ValidationError> {
    let mut plain = Vec::with_capacity(raw.len());
    let mut tags = Vec::with_capacity(raw.len());
    for (i, line) in raw.into_iter().enumerate() {
        tags.push(LotTag::parse(line.lot, line.expires_on).map_err(|e| e.within(&format!("lines[{i}]")))?);
        plain.push(SupplyLineBody { sku: line.sku, quantity: line.quantity });
    }
    let lines = lines_of_at_most(plain, most)?;
    let lots = lines.iter().zip(tags).filter_map(|(line, tag)| Some((line.sku.clone(), tag?))).collect();
    Ok((lines, lots))
}

/// The body of `POST /purchase-orders`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PurchaseOrderBody {
    pub supplier_id: String,
    /// A warehouse of the supplier's merchant, where the units arrive.
    pub warehouse: String,
    /// 1 to 30 lines, each SKU once.
    pub lines: Vec<SupplyLineBody>,
    /// RFC 3339; from a day before now to 731 days (about two years) after.
    pub expected_at: String,
    /// The merchant's own reference, 1 to 200 characters: placing the same reference again
    /// answers the first purchase order.
    #[serde(default)]
    pub reference: Option<String>,
}

impl PurchaseOrderBody {
    fn parse(body: &[u8]) -> Result<NewPurchaseOrder, ValidationError> {
        let raw: PurchaseOrderBody = parse_json(body)?;
        let supplier_id = SupplierId::parse(raw.supplier_id).map_err(|e| e.within("supplier_id"))?;
        let warehouse = WarehouseId::parse(raw.warehouse).map_err(|e| e.within("warehouse"))?;
        let lines = lines(raw.lines)?;
        let expected_at = DateTime::parse_from_rfc3339(raw.expected_at.trim())
            .map_err(|_| ValidationError::new("expected_at", format!("{:?} is not an RFC 3339 time", raw.expected_at)))?
            .with_timezone(&Utc);
        let reference = raw
            .reference
            .map(|r| {
                refuse_hidden_text("reference", &r)?;
                let clean = clean_text(&r);
                if clean.is_empty() || clean.chars().count() > MAX_SUPPLY_TEXT {
                    Err(ValidationError::new("reference", format!("must be 1 to {MAX_SUPPLY_TEXT} characters")))
                } else {
                    Ok(clean)
                }
            })
            .transpose()?;
        Ok(NewPurchaseOrder { supplier_id, warehouse, lines, expected_at, reference })
    }
}

/// A purchase order as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PurchaseOrderAnswer {
    pub purchase_order_id: String,
    /// open, partially_received or received.
    pub status: String,
    pub merchant_id: String,
    pub supplier_id: String,
    pub warehouse: String,
    pub lines: Vec<PoLineAnswer>,
    #[schema(value_type = String, format = DateTime)]
    pub expected_at: DateTime<Utc>,
    pub reference: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// The receipt ids applied, oldest first.
    pub receipts: Vec<String>,
    /// True when this answer is an earlier request's (same reference or receipt id).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PoLineAnswer {
    pub sku: String,
    pub ordered: u32,
    pub received: u32,
    /// Still to come: ordered - received.
    pub outstanding: u32,
}

impl PurchaseOrderAnswer {
    fn of(po: PurchaseOrder, duplicate: bool) -> Self {
        Self {
            purchase_order_id: po.purchase_order_id.into(),
            status: po.status.as_str().to_owned(),
            merchant_id: po.merchant_id.into(),
            supplier_id: po.supplier_id.into(),
            warehouse: po.warehouse.into(),
            lines: po
                .lines
                .into_iter()
                .map(|l| PoLineAnswer {
                    outstanding: l.outstanding(),
                    sku: l.sku.into(),
                    ordered: l.ordered,
                    received: l.received,
                })
                .collect(),
            expected_at: po.expected_at,
            reference: po.reference,
            created_at: po.created_at,
            receipts: po.receipts.into_iter().map(String::from).collect(),
            duplicate,
        }
    }
}

/// Place a purchase order with a supplier: units coming into a warehouse by a date.
#[utoipa::path(
    post,
    path = "/purchase-orders",
    tag = "supply",
    request_body = PurchaseOrderBody,
    responses(
        (status = 201, description = "Placed: `purchase_order_id` and `\"status\":\"open\"`, with the whole order", body = PurchaseOrderAnswer),
        (status = 200, description = "The reference was used already: the first purchase order, `\"duplicate\":true`", body = PurchaseOrderAnswer),
        (status = 400, description = "`invalid_request`, naming the field (quantities 1 to 1,000,000, 1 to 30 lines, `expected_at` RFC 3339 from a day before now to 731 days after; names without control or text-direction characters)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`", body = ErrorBody),
        (status = 404, description = "`supplier_not_found`, or `unknown_warehouse` (not the supplier's merchant's)", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`sku_not_supplied`: the supplier does not list a SKU", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn place_purchase_order(
    State(state): State<AppState>,
    caller: Authed,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<PurchaseOrderAnswer>), ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let new = PurchaseOrderBody::parse(&body)?;
    let (po, duplicate) = supply_cases::place_purchase_order(&state.ports, &caller, new).await?;
    let status = if duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(PurchaseOrderAnswer::of(po, duplicate))))
}

fn po_not_found(raw: &str) -> ApiError {
    ApiError::new(ErrorCode::PurchaseOrderNotFound, format!("no purchase order {raw:?}"))
}

/// A purchase order, with what was received so far.
#[utoipa::path(
    get,
    path = "/purchase-orders/{id}",
    tag = "supply",
    params(("id" = String, Path, description = "The purchase order's id")),
    responses(
        (status = 200, description = "The purchase order", body = PurchaseOrderAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.read`", body = ErrorBody),
        (status = 404, description = "`purchase_order_not_found` (also another merchant's)", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.read"]))
)]
async fn get_purchase_order(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
) -> Result<Json<PurchaseOrderAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryRead)?;
    let po_id = PurchaseOrderId::parse(&id).map_err(|_| po_not_found(&id))?;
    Ok(Json(PurchaseOrderAnswer::of(supply_cases::get_purchase_order(&state.ports, &caller, &po_id).await?, false)))
}

/// The query string of `GET /purchase-orders`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PoFilter {
    /// Only orders with a line of this SKU.
    sku: Option<String>,
    /// open, partially_received or received.
    status: Option<String>,
    /// Whose orders: required of platform staff; a merchant's staff see their own.
    merchant_id: Option<String>,
    /// Orders per page, 1 to 100 (default 50).
    limit: Option<String>,
    /// The `next` of the page before.
    cursor: Option<String>,
}

/// One page of purchase orders.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PurchaseOrdersAnswer {
    pub purchase_orders: Vec<PurchaseOrderAnswer>,
    /// The cursor of the next page; null on the last.
    pub next: Option<String>,
}

/// A merchant's purchase orders, oldest first, filtered before the page is cut.
#[utoipa::path(
    get,
    path = "/purchase-orders",
    tag = "supply",
    params(PoFilter),
    responses(
        (status = 200, description = "One page and the cursor of the next (`null` on the last)", body = PurchaseOrdersAnswer),
        (status = 400, description = "`invalid_request`: a bad status, SKU, limit or cursor, or no `merchant_id` from platform staff", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.read`, or names another merchant", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.read"]))
)]
async fn list_purchase_orders(
    State(state): State<AppState>,
    caller: Authed,
    filter: Result<Query<PoFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PurchaseOrdersAnswer>, ApiError> {
    let caller = caller.with(Scope::InventoryRead)?;
    let Query(filter) = filter.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let merchant = match (given(&filter.merchant_id), caller.merchant_id()) {
        (Some(raw), _) => MerchantId::parse(raw).map_err(|e| e.within("merchant_id"))?,
        (None, Some(own)) => own.clone(),
        (None, None) => return Err(ValidationError::new("merchant_id", "platform staff name the merchant").into()),
    };
    let sku = given(&filter.sku).map(Sku::parse).transpose().map_err(|e| e.within("sku"))?;
    let status = given(&filter.status).map(|s| PoStatus::parse(&s)).transpose()?;
    let limit = match given(&filter.limit) {
        None => 50,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=oms_domain::ports::MAX_PAGE_SIZE).contains(l))
            .ok_or_else(|| ValidationError::new("limit", format!("must be 1 to {}", oms_domain::ports::MAX_PAGE_SIZE)))?,
    };
    let after =
        given(&filter.cursor).map(|raw| PurchaseOrderId::parse_minted(&raw)).transpose().map_err(|e| e.within("cursor"))?;
    let query = PoQuery { merchant, sku, status };
    let page = supply_cases::list_purchase_orders(&state.ports, &caller, &query, after.as_ref(), limit).await?;
    Ok(Json(PurchaseOrdersAnswer {
        purchase_orders: page.purchase_orders.into_iter().map(|po| PurchaseOrderAnswer::of(po, false)).collect(),
        next: page.next.map(String::from),
    }))
}

/// The body of `POST /purchase-orders/{id}/receipts`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReceiptBody {
    /// The warehouse's id of this delivery: a receipt is applied once per id.
    pub receipt_id: String,
    /// 1 to 30 lines, each SKU once, each at most what is still to come.
    pub lines: Vec<ReceiptLineBody>,
}

impl ReceiptBody {
    fn parse(body: &[u8], received_at: DateTime<Utc>) -> Result<Receipt, ValidationError> {
        let raw: ReceiptBody = parse_json(body)?;
        let receipt_id = ReceiptId::parse(raw.receipt_id).map_err(|e| e.within("receipt_id"))?;
        let (lines, lots) = receipt_lines(raw.lines, supply::MAX_PO_LINE_UNITS)?;
        Ok(Receipt { receipt_id, lines, lots, received_at })
    }
}

/// Record what arrived against a purchase order: its received counts, the warehouse's
/// stock and the ledger grow in one write; backorders of those SKUs are planned again.
#[utoipa::path(
    post,
    path = "/purchase-orders/{id}/receipts",
    tag = "supply",
    params(("id" = String, Path, description = "The purchase order's id")),
    request_body = ReceiptBody,
    responses(
        (status = 201, description = "Received: the purchase order as it is now", body = PurchaseOrderAnswer),
        (status = 200, description = "The receipt id was applied already: the order as it is, `\"duplicate\":true`", body = PurchaseOrderAnswer),
        (status = 400, description = "`invalid_request`, naming the field", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/inventory.write`", body = ErrorBody),
        (status = 404, description = "`purchase_order_not_found` (also another merchant's)", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`over_receipt`: more than is still to come, a SKU not ordered; `expired_on_receipt`: a lot past its last day; nothing changed", body = ErrorBody),
    ),
    security(("bearer" = ["oms/inventory.write"]))
)]
async fn receive(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<PurchaseOrderAnswer>), ApiError> {
    let caller = caller.with(Scope::InventoryWrite)?;
    let po_id = PurchaseOrderId::parse(&id).map_err(|_| po_not_found(&id))?;
    let receipt = ReceiptBody::parse(&body, state.ports.clock.now())?;
    let (po, duplicate) = supply_cases::receive(&state.ports, &caller, &po_id, &receipt).await?;
    let status = if duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(PurchaseOrderAnswer::of(po, duplicate))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purchase_order_body_is_checked_naming_the_field() {
        let body = |lines: &str, expected: &str| {
            format!(r#"{{"supplier_id":"sup-1","warehouse":"WH-A","lines":{lines},"expected_at":"{expected}"}}"#)
        };
        let ok = PurchaseOrderBody::parse(body(r#"[{"sku":"A","quantity":5}]"#, "2026-12-05T00:00:00Z").as_bytes()).unwrap();
        assert_eq!((ok.lines.len(), ok.reference), (1, None));
        let field = |b: String| PurchaseOrderBody::parse(b.as_bytes()).unwrap_err().field;
        assert_eq!(field(body(r#"[{"sku":"A","quantity":5}]"#, "tomorrow")), "expected_at");
        assert_eq!(field(body(r#"[{"sku":"A","quantity":-5}]"#, "2026-12-05T00:00:00Z")), "lines[0].quantity");
        assert_eq!(field(body(r#"[{"sku":"A","quantity":"5"}]"#, "2026-12-05T00:00:00Z")), "lines[0].quantity");
        assert_eq!(field(body(r#"[{"sku":"A","quantity":99999999999}]"#, "2026-12-05T00:00:00Z")), "lines[0].quantity");
        assert_eq!(field(body("[]", "2026-12-05T00:00:00Z")), "lines");
    }

    #[test]
    fn a_supplier_body_is_checked_naming_the_field() {
        let s = SupplierBody::parse(
            "sup-1",
            br#"{"merchant_id":"m-1","name":"Acme","lead_time_days":4,"skus":[{"sku":"A","unit_cost":"2.50","pack_size":12}]}"#,
        )
        .unwrap();
        assert_eq!(
            (s.lead_time_days, s.skus[0].pack_size, s.skus[0].unit_cost.map(|c| c.to_string())),
            (4, Some(12), Some("2.50".into()))
        );
        let field = |b: &[u8]| SupplierBody::parse("sup-1", b).unwrap_err().field;
        assert_eq!(field(br#"{"merchant_id":"m-1","name":"Acme","lead_time_days":-1}"#), "lead_time_days");
        assert_eq!(
            field(br#"{"merchant_id":"m-1","name":"Acme","lead_time_days":1,"skus":[{"sku":"A","unit_cost":"-1"}]}"#),
            "skus[0].unit_cost"
        );
        assert_eq!(
            field(br#"{"merchant_id":"m-1","name":"Acme","lead_time_days":1,"skus":[{"sku":"A","pack_size":-3}]}"#),
            "skus[0].pack_size"
        );
    }
}
