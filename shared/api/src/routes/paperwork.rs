//! An order's paperwork: `GET /orders/{id}/invoice` and `GET /orders/{id}/packing-list`,
//! each a page that prints well on A4 (HTML, the default) or the same as JSON
//! (`?format=json`), read off the order as stored (`oms_domain::paperwork`).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use maud::{html, Markup, DOCTYPE};
use rust_decimal::Decimal;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;
use oms_domain::catalogue::SkuFacts;
use oms_domain::order::Address;
use oms_domain::paperwork::{Invoice, PackingList};
use oms_domain::{Order, Sku, ValidationError};

use super::orders::order_of;
use super::{AppState, PathParams};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::Authed;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(invoice)).routes(routes!(packing_list))
}

/// The query string of the paperwork routes.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct FormatParams {
    /// `html` (the default: a page to print) or `json`.
    format: Option<String>,
}

/// Whether the caller asked for JSON; anything but `html` or `json` is refused.
fn wants_json(params: Result<Query<FormatParams>, axum::extract::rejection::QueryRejection>) -> Result<bool, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
    match params.format.as_deref() {
        None | Some("html") => Ok(false),
        Some("json") => Ok(true),
        Some(other) => Err(ValidationError::new("format", format!("must be html or json, not {other:?}")).into()),
    }
}

/// The catalogue's facts of the order's SKUs (those of its own merchant).
async fn facts_of(state: &AppState, order: &Order) -> Result<HashMap<Sku, SkuFacts>, ApiError> {
    let mut facts = HashMap::new();
    for sku in order.units_by_sku().into_keys() {
        if let Some(known) = state.ports.catalogue.get_sku(&sku).await?.filter(|f| f.merchant_id == order.merchant_id) {
            facts.insert(sku, known);
        }
    }
    Ok(facts)
}

/// The order's invoice: its lines (described by the catalogue's names), subtotal,
/// discount, shipping, tax (shown, not added, when the prices include it), total, the
/// payments recorded and the balance due; billed to the order's customer, shipped to its
/// address. Numbered `INV-<order number>`, the same on every print.
#[utoipa::path(
    get,
    path = "/orders/{id}/invoice",
    tag = "orders",
    params(("id" = String, Path, description = "Our order id"), FormatParams),
    responses(
        (status = 200, description = "The invoice: a page that prints on A4 (text/html), or JSON with `?format=json`", content_type = "text/html"),
        (status = 400, description = "`invalid_request`: a format other than html or json", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.read`", body = ErrorBody),
        (status = 404, description = "`order_not_found` (also another merchant's order)", body = ErrorBody),
        (status = 422, description = "`not_invoiceable`: the order is cancelled", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]))
)]
async fn invoice(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    params: Result<Query<FormatParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = caller.with(Scope::OrdersRead)?;
    let json = wants_json(params)?;
    let order = order_of(&state, &caller, &id).await?;
    let names = facts_of(&state, &order).await?.into_iter().map(|(sku, facts)| (sku, facts.name)).collect();
    let invoice = Invoice::of(&order, &names).map_err(|e| ApiError::new(ErrorCode::NotInvoiceable, e.to_string()))?;
    Ok(if json { Json(invoice).into_response() } else { page(&invoice.number, invoice_body(&invoice)) })
}

/// The order's packing list: a parcel per warehouse of its plan, each with its lines
/// (described by the catalogue's names), units and packed weight, and the address it ships
/// to. An order not planned yet (received, on hold, backordered) or cancelled has none.
#[utoipa::path(
    get,
    path = "/orders/{id}/packing-list",
    tag = "orders",
    params(("id" = String, Path, description = "Our order id"), FormatParams),
    responses(
        (status = 200, description = "The packing list: a page that prints on A4, a parcel a page (text/html), or JSON with `?format=json`", content_type = "text/html"),
        (status = 400, description = "`invalid_request`: a format other than html or json", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.read`", body = ErrorBody),
        (status = 404, description = "`order_not_found` (also another merchant's order)", body = ErrorBody),
        (status = 422, description = "`not_planned`: the order has no plan of warehouses yet, or is cancelled", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]))
)]
async fn packing_list(
    State(state): State<AppState>,
    caller: Authed,
    PathParams(id): PathParams<String>,
    params: Result<Query<FormatParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = caller.with(Scope::OrdersRead)?;
    let json = wants_json(params)?;
    let order = order_of(&state, &caller, &id).await?;
    let facts = facts_of(&state, &order).await?;
    let list = PackingList::of(&order, &facts).map_err(|e| ApiError::new(ErrorCode::NotPlanned, e.to_string()))?;
    let title = format!("Packing list {}", list.order_number);
    Ok(if json { Json(list).into_response() } else { page(&title, packing_body(&list)) })
}

/// The pages' one style sheet: plain on screen, A4 with no browser chrome in print, a
/// parcel to a page.
const STYLE: &str = "body{font-family:sans-serif;color:#111;margin:2em;max-width:50em}\
h1{font-size:1.4em;margin:0 0 .2em}table{border-collapse:collapse;width:100%;margin:1em 0}\
th,td{border-bottom:1px solid #bbb;padding:4px 6px;text-align:left;vertical-align:top}\
td.n,th.n{text-align:right}.parties{display:flex;gap:3em}.muted{color:#555}\
tfoot td{border:none}tfoot tr.total td{font-weight:bold;border-top:2px solid #111}\
section.parcel{break-after:page}section.parcel:last-child{break-after:auto}\
@page{size:A4;margin:15mm}@media print{body{margin:0}}";

/// A whole page: its title, the style (allowed by its hash, nothing else) and `body`.
fn page(title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (title) } style { (maud::PreEscaped(STYLE)) } }
            body { (body) }
        }
    };
    let policy = format!(
        "default-src 'none'; style-src 'sha256-{}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        STANDARD.encode(Sha256::digest(STYLE.as_bytes()))
    );
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            // Base64 and ASCII words only: always a valid header value.
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'none'")),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        markup.into_string(),
    )
        .into_response()
}

fn address(a: &Address) -> Markup {
    html! {
        @if let Some(name) = &a.name { (name) br; }
        (a.line1) br;
        @if let Some(line2) = &a.line2 { (line2) br; }
        (a.city)
        @if let Some(province) = &a.province { ", " (province) }
        @if let Some(postal) = &a.postal_code { " " (postal) }
        br; (a.country)
    }
}

fn money(amount: Decimal, currency: &str) -> String {
    format!("{amount} {currency}")
}

fn invoice_body(inv: &Invoice) -> Markup {
    let c = inv.currency.as_str();
    html! {
        h1 { "Invoice " (inv.number) }
        p.muted { "Order " (inv.order_number) " (" (inv.order_id) "), dated " (inv.dated.format("%Y-%m-%d")) "; sold by " (inv.seller) }
        div.parties {
            div {
                h2 { "Bill to" }
                @if let Some(company) = &inv.bill_to.company { strong { (company) } br; }
                @if let Some(name) = &inv.bill_to.name { (name) br; }
                @if let Some(tax_id) = &inv.bill_to.tax_id { "Tax number " (tax_id) br; }
                "Customer " (inv.bill_to.customer_id) br;
                @if let Some(email) = &inv.bill_to.email { (email) br; }
                @if let Some(phone) = &inv.bill_to.phone { (phone) br; }
                // The name is the bill-to's own, above.
                (address(&Address { name: None, ..inv.bill_to.address.clone() }))
            }
            div { h2 { "Ship to" } (address(&inv.ship_to)) }
        }
        table {
            thead { tr { th { "SKU" } th { "Description" } th.n { "Qty" } th.n { "Unit price" } th.n { "Amount" } } }
            tbody {
                @for line in &inv.lines {
                    tr {
                        td { (line.sku) } td { (line.description) } td.n { (line.quantity) }
                        td.n { (money(line.unit_price, c)) } td.n { (money(line.amount, c)) }
                    }
                }
            }
            tfoot {
                tr { td colspan="4" { "Subtotal" } td.n { (money(inv.subtotal, c)) } }
                @if !inv.discount.is_zero() { tr { td colspan="4" { "Discount" } td.n { "-" (money(inv.discount, c)) } } }
                @if !inv.shipping.is_zero() { tr { td colspan="4" { "Shipping" } td.n { (money(inv.shipping, c)) } } }
                @if !inv.tax.is_zero() {
                    tr {
                        td colspan="4" { @if inv.taxes_included { "Tax included in the prices" } @else { "Tax" } }
                        td.n { (money(inv.tax, c)) }
                    }
                }
                tr.total { td colspan="4" { "Total" } td.n { (money(inv.total, c)) } }
                tr { td colspan="4" { "Paid" } td.n { (money(inv.paid, c)) } }
                tr.total { td colspan="4" { "Balance due" } td.n { (money(inv.balance_due, c)) } }
            }
        }
    }
}

fn packing_body(list: &PackingList) -> Markup {
    let count = list.parcels.len();
    html! {
        @for (index, parcel) in list.parcels.iter().enumerate() {
            section.parcel {
                h1 { "Packing list: order " (list.order_number) }
                p.muted {
                    "Parcel " (index + 1) " of " (count) " from warehouse " (parcel.warehouse)
                    "; order " (list.order_id) ", planned " (list.planned_at.format("%Y-%m-%d %H:%M UTC"))
                }
                h2 { "Ship to" }
                p { (address(&list.ship_to)) }
                table {
                    thead { tr { th { "Packed" } th { "SKU" } th { "Description" } th.n { "Qty" } th.n { "Weight (g)" } } }
                    tbody {
                        @for line in &parcel.lines {
                            tr {
                                td { "\u{2610}" } td { (line.sku) } td { (line.description) } td.n { (line.quantity) }
                                td.n { @if let Some(w) = line.weight_g { (w) } @else { "?" } }
                            }
                        }
                    }
                    tfoot {
                        tr.total {
                            td colspan="3" { "Units, weight" } td.n { (parcel.units) }
                            td.n { @if let Some(w) = parcel.weight_g { (w) } @else { "unknown" } }
                        }
                    }
                }
            }
        }
    }
}
