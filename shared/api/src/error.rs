//! The one place errors become HTTP answers: `{"error":{"code","message"}}` (plus `field`
//! when one input field is at fault), with the status that the code fixes. Each code has
//! exactly one status (`ErrorCode::status`). Clients get a clean message; the cause of an
//! unexpected failure rides on the response (`ErrorCause`) to the one logging layer,
//! `log_failures`, which logs it with the method, path and status.

use std::fmt;

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use oms_domain::ports::StoreError;
use oms_domain::usecases::alerts::AlertActionError;
use oms_domain::usecases::flash_sales::{ClaimError, CreateSaleError, EndSaleError};
use oms_domain::usecases::intake::{IntakeError, UnknownSku};
use oms_domain::usecases::inventory::SetStockError;
use oms_domain::usecases::orders::{CancelError, FindError, GetError, ModifyError};
use oms_domain::usecases::tracking::ShipError;
use oms_domain::ValidationError;

use oms_channels::secrets::WebhookRefusal;

/// Every error code the API answers, each with its one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body, a path or query parameter is malformed or breaks a field's rule.
    InvalidRequest,
    /// 401: a webhook's signature is missing or wrong.
    BadSignature,
    /// 401: a webhook for a channel that has no secret, where unsigned channels are refused (Lambda).
    ChannelNotConfigured,
    /// 401: an operator route called without a valid bearer token.
    Unauthenticated,
    /// 403: the credential lacks the scope the route needs, or names no merchant.
    Forbidden,
    /// 404: no such route.
    RouteNotFound,
    /// 404: the path names a channel that takes no webhooks.
    UnknownChannel,
    /// 404: no such order.
    OrderNotFound,
    /// 404: the path names a warehouse that is not registered.
    UnknownWarehouse,
    /// 404: the SKU in the path is unknown: no warehouse has stock records for it
    /// (`GET /inventory/{sku}`), or the catalogue has no facts of it (`GET /skus/{sku}`).
    SkuNotFound,
    /// 404: the carrier in the path has no rate table.
    CarrierNotFound,
    /// 404: no such alert.
    AlertNotFound,
    /// 404: no such flash sale.
    FlashSaleNotFound,
    /// 405: the route does not take this method.
    MethodNotAllowed,
    /// 409: on hand cannot go below what is reserved.
    BelowReserved,
    /// 409: the alert is resolved; it cannot be acknowledged any more.
    AlertResolved,
    /// 409: the merchant has fewer units of the SKU available than a flash sale asks for.
    InsufficientStock,
    /// 409: a flash sale has no units left that could serve the claim.
    SoldOut,
    /// 410: the flash sale is not taking claims (before its start, or after its end).
    NotActive,
    /// 413: the body is over the size limit.
    BodyTooLarge,
    /// 422: an order line names a SKU that no warehouse has ever stocked.
    UnknownSku,
    /// 422: the order has shipped; it can no longer be cancelled.
    NotCancellable,
    /// 422: the order's stage does not allow a part asked for to change.
    NotModifiable,
    /// 422: an operator's text field is over the length limit (`field` names it); nothing changed.
    FieldTooLong,
    /// 429: too many requests from this client for now; `Retry-After` says when to try again.
    RateLimited,
    /// 429: the claim would take the customer past the flash sale's per-customer limit
    /// (a permanent business limit, not throttling: no Retry-After).
    LimitExceeded,
    /// 500: something failed on our side; try again.
    Internal,
    /// 501: the feature is deployed but not built yet.
    NotImplemented,
    /// 503: no pricing model has been trained yet, so no quote can be made.
    NoPricingModel,
    /// 404: no supplier of that id (also another merchant's).
    SupplierNotFound,
    /// 404: no purchase order of that id (also another merchant's).
    PurchaseOrderNotFound,
    /// 422: the supplier does not supply a SKU of the purchase order (`field` names the line).
    SkuNotSupplied,
    /// 422: a receipt names more units than are still to come, a SKU not ordered, more units than
    /// the stock can hold, or the purchase order has its most receipts; nothing changed.
    OverReceipt,
    /// 422: a receipt line's lot is past its last day already; nothing changed.
    ExpiredOnReceipt,
    /// 408: the request's body did not arrive in time (`oms serve`).
    RequestTimeout,
    /// 404: the customers' order lookup (`POST /track/lookup`) found no order with that
    /// number and phone: one answer whichever of the two is wrong, so it reveals nothing.
    NotFound,
    /// 401: a carrier's tracking webhook for a carrier that has no secret, where unsigned
    /// carriers are refused (Lambda).
    CarrierNotConfigured,
    /// 422: a shipment the order cannot make (not reserved, a SKU it has no line of, more
    /// than it holds, a warehouse to name); nothing stored.
    ShipmentRefused,
    /// 409: the tracking number is another order's shipment.
    TrackingNumberTaken,
    /// 422: an adjustment would leave on hand below the units held (or below zero).
    BelowHeld,
    /// 409: a count as of a moment is older than a count recorded since.
    NewerCount,
    /// 422: a payment for a cancelled order, or in another currency than the order's.
    NotPayable,
    /// 404: no such consignment grant (or one between other merchants).
    ConsignmentNotFound,
    /// 409: the consignment id is a grant between other merchants (a grant's owner and seller
    /// never change), or other requests changed the grant meanwhile (read it and try again).
    ConsignmentConflict,
    /// 409: the order is not on hold for fraud review (never held, or released already).
    NotOnHold,
    /// 404: no such auction (also another merchant's).
    AuctionNotFound,
    /// 409: a bid below the least bid now (the start price, or the best bid plus the
    /// increment): an equal bid that lost the race to another answers this too.
    BidTooLow,
    /// 428: a burst route's proof of work is missing or does not solve its challenge
    /// (`crate::admission`; only when the deployment turns it on).
    ProofRequired,
    /// 422: a cancelled order has no invoice.
    NotInvoiceable,
    /// 422: the order has no plan of warehouses to pack from (not allocated yet, or cancelled).
    NotPlanned,
    /// 404: no such group buy (also another merchant's).
    GroupBuyNotFound,
    /// 409: every place of the group buy is taken.
    GroupBuyFull,
    /// 404: no such rental unit (also another merchant's).
    RentalUnitNotFound,
    /// 409: the rental unit id is registered by another merchant.
    RentalUnitTaken,
    /// 404: no such rental booking (also another merchant's or another customer's).
    BookingNotFound,
    /// 409: the rental unit is booked on some of the days asked for; nothing stored.
    DatesTaken,
    /// 409: the booking is not in a state that takes this step (a hand-over of a returned
    /// booking, a cancellation after hand-over, a step another request made first).
    BookingStateConflict,
    /// 409: delivery is confirmed only of an order shipped whole (not yet shipped, part
    /// still to ship, cancelled, or a carrier exception staff are on).
    NotShipped,
    /// 422: the SKU reviewed is not one the order bought.
    NotBought,
    /// 409: the order's SKU is reviewed already, differently: that review stands.
    AlreadyReviewed,
    /// 404: no such repair (also another merchant's or another customer's).
    RepairNotFound,
    /// 409: the repair is not in a state that takes this step (an acceptance of a repair
    /// not quoted, a cancel after the repair started, a step another request made first).
    RepairStateConflict,
    /// 422: the repair's quote expired before it was accepted; staff quote again.
    QuoteExpired,
    /// 409: the workshop has fewer units of a part available than the repair uses; nothing
    /// changed.
    PartsShort,
    /// 422: a quoted part has no price: none given and the catalogue lists no price of the
    /// merchant's for it.
    UnpricedPart,
    /// 404: no such return (also another merchant's, or another customer's).
    ReturnNotFound,
    /// 409: the return is not in a state that takes this step (an approval of a refused
    /// return, a ship-back before approval, a step another request made first).
    ReturnStateConflict,
    /// 422: the return window (days after delivery) has closed: no request or approval.
    ReturnWindowClosed,
    /// 422: the order is not delivered, so none of its units can be returned or reviewed yet.
    NotDelivered,
    /// 422: a line asks to return more units than were delivered less what the order's
    /// other returns claim; nothing stored.
    ReturnQuantityExceeded,
    /// 404: the merchant has no onboarding record (also another merchant's).
    MerchantNotFound,
    /// 409: the onboarding record's status does not take this step (an application edited
    /// under review or after approval, a decision on one not submitted, or decided first by
    /// another administrator).
    OnboardingStateConflict,
    /// 403: the merchant's onboarding is not approved, so it may not list products yet.
    MerchantNotApproved,
    /// 415: an upload's `Content-Type` is not one accepted (pdf, jpeg, png) or its bytes
    /// are not that type.
    UnsupportedMediaType,
    /// 404: the application has no document of that name.
    DocumentNotFound,
    /// 422: the storefront template named is not one the platform has published.
    UnknownTemplate,
    /// 422: the storefront template is withdrawn: a draft cannot pick it, nor be published on it.
    TemplateWithdrawn,
    /// 409: the template is stored at this version or a later one, differently: send a higher version.
    TemplateVersionConflict,
    /// 404: the merchant has no storefront draft (also another merchant's).
    DraftNotFound,
    /// 409: the storefront draft is not at the version the edit or publication was taken
    /// from (another editor saved first): read it and try again.
    DraftVersionConflict,
    /// 404: the merchant has no published storefront (never published, or unpublished).
    StoreNotPublished,
    /// 422: the draft no longer fits its template (the template changed its sections).
    DraftNotPublishable,
    /// 404: the SKU has no product listing (or, writing one, no facts of the caller's
    /// merchant; another merchant's listing is not found either).
    ProductNotFound,
    /// 409: the listing's status does not take this step (an edit under review, a decision
    /// on one not in review or decided first by another reviewer, a listing not approved).
    ProductStateConflict,
    /// 422: the platform's own checkout refuses a SKU that is not sellable (its listing not
    /// approved, unlisted, or no unit on hand).
    ProductNotSellable,
    /// 404: no such request for quotes.
    RfqNotFound,
    /// 409: the request for quotes does not take this step (a quote after the acceptance,
    /// an id taken by a request with other terms, changes racing past every retry).
    RfqStateConflict,
    /// 410: the request's quotes closed at its `quotes_until`.
    QuotesClosed,
    /// 422: no quote covers a line of the request (the message names it), so there is no
    /// cover to accept.
    Uncovered,
    /// 422: the merchant may not quote the SKU: not approved, or no stock of it in a
    /// warehouse that ships to the buyer's region.
    NotStocked,
    /// 404: no buyer request of that id.
    BuyerRequestNotFound,
    /// 409: the buyer request's state does not take the step (accepting one that matched
    /// nothing or expired; an accept lost to another changing it at once).
    BuyerRequestStateConflict,
    /// 410: the buyer request's deadline has passed: its proposal can no longer be accepted.
    BuyerRequestExpired,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 93] = [
        ErrorCode::InvalidRequest,
        ErrorCode::BadSignature,
        ErrorCode::ChannelNotConfigured,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::RouteNotFound,
        ErrorCode::UnknownChannel,
        ErrorCode::OrderNotFound,
        ErrorCode::UnknownWarehouse,
        ErrorCode::SkuNotFound,
        ErrorCode::CarrierNotFound,
        ErrorCode::AlertNotFound,
        ErrorCode::FlashSaleNotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::BelowReserved,
        ErrorCode::AlertResolved,
        ErrorCode::InsufficientStock,
        ErrorCode::SoldOut,
        ErrorCode::NotActive,
        ErrorCode::BodyTooLarge,
        ErrorCode::UnknownSku,
        ErrorCode::NotCancellable,
        ErrorCode::NotModifiable,
        ErrorCode::FieldTooLong,
        ErrorCode::RateLimited,
        ErrorCode::LimitExceeded,
        ErrorCode::Internal,
        ErrorCode::NotImplemented,
        ErrorCode::NoPricingModel,
        ErrorCode::SupplierNotFound,
        ErrorCode::PurchaseOrderNotFound,
        ErrorCode::SkuNotSupplied,
        ErrorCode::OverReceipt,
        ErrorCode::ExpiredOnReceipt,
        ErrorCode::RequestTimeout,
        ErrorCode::NotFound,
        ErrorCode::CarrierNotConfigured,
        ErrorCode::ShipmentRefused,
        ErrorCode::TrackingNumberTaken,
        ErrorCode::BelowHeld,
        ErrorCode::NewerCount,
        ErrorCode::NotPayable,
        ErrorCode::ConsignmentNotFound,
        ErrorCode::ConsignmentConflict,
        ErrorCode::NotOnHold,
        ErrorCode::AuctionNotFound,
        ErrorCode::BidTooLow,
        ErrorCode::ProofRequired,
        ErrorCode::NotInvoiceable,
        ErrorCode::NotPlanned,
        ErrorCode::GroupBuyNotFound,
        ErrorCode::GroupBuyFull,
        ErrorCode::RentalUnitNotFound,
        ErrorCode::RentalUnitTaken,
        ErrorCode::BookingNotFound,
        ErrorCode::DatesTaken,
        ErrorCode::BookingStateConflict,
        ErrorCode::NotShipped,
        ErrorCode::NotBought,
        ErrorCode::AlreadyReviewed,
        ErrorCode::RepairNotFound,
        ErrorCode::RepairStateConflict,
        ErrorCode::QuoteExpired,
        ErrorCode::PartsShort,
        ErrorCode::UnpricedPart,
        ErrorCode::ReturnNotFound,
        ErrorCode::ReturnStateConflict,
        ErrorCode::ReturnWindowClosed,
        ErrorCode::NotDelivered,
        ErrorCode::ReturnQuantityExceeded,
        ErrorCode::MerchantNotFound,
        ErrorCode::OnboardingStateConflict,
        ErrorCode::MerchantNotApproved,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::DocumentNotFound,
        ErrorCode::UnknownTemplate,
        ErrorCode::TemplateWithdrawn,
        ErrorCode::TemplateVersionConflict,
        ErrorCode::DraftNotFound,
        ErrorCode::DraftVersionConflict,
        ErrorCode::StoreNotPublished,
        ErrorCode::DraftNotPublishable,
        ErrorCode::ProductNotFound,
        ErrorCode::ProductStateConflict,
        ErrorCode::ProductNotSellable,
        ErrorCode::RfqNotFound,
        ErrorCode::RfqStateConflict,
        ErrorCode::QuotesClosed,
        ErrorCode::Uncovered,
        ErrorCode::NotStocked,
        ErrorCode::BuyerRequestNotFound,
        ErrorCode::BuyerRequestStateConflict,
        ErrorCode::BuyerRequestExpired,
    ];

    /// The one status this code is answered with.
    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            InvalidRequest => StatusCode::BAD_REQUEST,
            BadSignature | ChannelNotConfigured | Unauthenticated => StatusCode::UNAUTHORIZED,
            Forbidden => StatusCode::FORBIDDEN,
            RouteNotFound | UnknownChannel | OrderNotFound | UnknownWarehouse | SkuNotFound | CarrierNotFound | AlertNotFound
            | FlashSaleNotFound | NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            BelowReserved | AlertResolved | InsufficientStock | SoldOut => StatusCode::CONFLICT,
            NotActive => StatusCode::GONE,
            BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            LimitExceeded => StatusCode::TOO_MANY_REQUESTS,
            UnknownSku | NotCancellable | NotModifiable | FieldTooLong => StatusCode::UNPROCESSABLE_ENTITY,
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            NotImplemented => StatusCode::NOT_IMPLEMENTED,
            NoPricingModel => StatusCode::SERVICE_UNAVAILABLE,
            SupplierNotFound | PurchaseOrderNotFound => StatusCode::NOT_FOUND,
            SkuNotSupplied | OverReceipt | ExpiredOnReceipt => StatusCode::UNPROCESSABLE_ENTITY,
            RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            CarrierNotConfigured => StatusCode::UNAUTHORIZED,
            ShipmentRefused => StatusCode::UNPROCESSABLE_ENTITY,
            TrackingNumberTaken => StatusCode::CONFLICT,
            BelowHeld => StatusCode::UNPROCESSABLE_ENTITY,
            NewerCount => StatusCode::CONFLICT,
            NotPayable => StatusCode::UNPROCESSABLE_ENTITY,
            ConsignmentNotFound => StatusCode::NOT_FOUND,
            ConsignmentConflict => StatusCode::CONFLICT,
            NotOnHold => StatusCode::CONFLICT,
            AuctionNotFound => StatusCode::NOT_FOUND,
            BidTooLow => StatusCode::CONFLICT,
            ProofRequired => StatusCode::PRECONDITION_REQUIRED,
            NotInvoiceable | NotPlanned => StatusCode::UNPROCESSABLE_ENTITY,
            GroupBuyNotFound => StatusCode::NOT_FOUND,
            GroupBuyFull => StatusCode::CONFLICT,
            RentalUnitNotFound | BookingNotFound => StatusCode::NOT_FOUND,
            RentalUnitTaken | DatesTaken | BookingStateConflict => StatusCode::CONFLICT,
            NotShipped | AlreadyReviewed => StatusCode::CONFLICT,
            NotBought => StatusCode::UNPROCESSABLE_ENTITY,
            RepairNotFound => StatusCode::NOT_FOUND,
            RepairStateConflict | PartsShort => StatusCode::CONFLICT,
            QuoteExpired | UnpricedPart => StatusCode::UNPROCESSABLE_ENTITY,
            ReturnNotFound => StatusCode::NOT_FOUND,
            ReturnStateConflict => StatusCode::CONFLICT,
            ReturnWindowClosed | NotDelivered | ReturnQuantityExceeded => StatusCode::UNPROCESSABLE_ENTITY,
            MerchantNotFound | DocumentNotFound => StatusCode::NOT_FOUND,
            OnboardingStateConflict => StatusCode::CONFLICT,
            MerchantNotApproved => StatusCode::FORBIDDEN,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            UnknownTemplate | TemplateWithdrawn | DraftNotPublishable => StatusCode::UNPROCESSABLE_ENTITY,
            TemplateVersionConflict | DraftVersionConflict => StatusCode::CONFLICT,
            DraftNotFound | StoreNotPublished => StatusCode::NOT_FOUND,
            ProductNotFound => StatusCode::NOT_FOUND,
            ProductStateConflict => StatusCode::CONFLICT,
            ProductNotSellable => StatusCode::UNPROCESSABLE_ENTITY,
            RfqNotFound => StatusCode::NOT_FOUND,
            RfqStateConflict => StatusCode::CONFLICT,
            QuotesClosed => StatusCode::GONE,
            Uncovered | NotStocked => StatusCode::UNPROCESSABLE_ENTITY,
            BuyerRequestNotFound => StatusCode::NOT_FOUND,
            BuyerRequestStateConflict => StatusCode::CONFLICT,
            BuyerRequestExpired => StatusCode::GONE,
        }
    }

    /// The code as the JSON spells it.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidRequest => "invalid_request",
            BadSignature => "bad_signature",
            ChannelNotConfigured => "channel_not_configured",
            Unauthenticated => "unauthenticated",
            Forbidden => "forbidden",
            RouteNotFound => "route_not_found",
            UnknownChannel => "unknown_channel",
            OrderNotFound => "order_not_found",
            UnknownWarehouse => "unknown_warehouse",
            SkuNotFound => "sku_not_found",
            CarrierNotFound => "carrier_not_found",
            AlertNotFound => "alert_not_found",
            FlashSaleNotFound => "flash_sale_not_found",
            InsufficientStock => "insufficient_stock",
            SoldOut => "sold_out",
            NotActive => "not_active",
            LimitExceeded => "limit_exceeded",
            MethodNotAllowed => "method_not_allowed",
            BelowReserved => "below_reserved",
            AlertResolved => "alert_resolved",
            BodyTooLarge => "body_too_large",
            UnknownSku => "unknown_sku",
            NotCancellable => "not_cancellable",
            NotModifiable => "not_modifiable",
            FieldTooLong => "field_too_long",
            RateLimited => "rate_limited",
            Internal => "internal",
            NotImplemented => "not_implemented",
            NoPricingModel => "no_pricing_model",
            SupplierNotFound => "supplier_not_found",
            PurchaseOrderNotFound => "purchase_order_not_found",
            SkuNotSupplied => "sku_not_supplied",
            OverReceipt => "over_receipt",
            ExpiredOnReceipt => "expired_on_receipt",
            RequestTimeout => "request_timeout",
            NotFound => "not_found",
            CarrierNotConfigured => "carrier_not_configured",
            ShipmentRefused => "shipment_refused",
            TrackingNumberTaken => "tracking_number_taken",
            BelowHeld => "below_held",
            NewerCount => "newer_count",
            NotPayable => "not_payable",
            ConsignmentNotFound => "consignment_not_found",
            ConsignmentConflict => "consignment_conflict",
            NotOnHold => "not_on_hold",
            AuctionNotFound => "auction_not_found",
            BidTooLow => "bid_too_low",
            ProofRequired => "proof_required",
            NotInvoiceable => "not_invoiceable",
            NotPlanned => "not_planned",
            GroupBuyNotFound => "group_buy_not_found",
            GroupBuyFull => "group_buy_full",
            RentalUnitNotFound => "rental_unit_not_found",
            RentalUnitTaken => "rental_unit_taken",
            BookingNotFound => "booking_not_found",
            DatesTaken => "dates_taken",
            BookingStateConflict => "booking_state_conflict",
            NotShipped => "not_shipped",
            NotBought => "not_bought",
            AlreadyReviewed => "already_reviewed",
            RepairNotFound => "repair_not_found",
            RepairStateConflict => "repair_state_conflict",
            QuoteExpired => "quote_expired",
            PartsShort => "parts_short",
            UnpricedPart => "unpriced_part",
            ReturnNotFound => "return_not_found",
            ReturnStateConflict => "return_state_conflict",
            ReturnWindowClosed => "return_window_closed",
            NotDelivered => "not_delivered",
            ReturnQuantityExceeded => "return_quantity_exceeded",
            MerchantNotFound => "merchant_not_found",
            OnboardingStateConflict => "onboarding_state_conflict",
            MerchantNotApproved => "merchant_not_approved",
            UnsupportedMediaType => "unsupported_media_type",
            DocumentNotFound => "document_not_found",
            UnknownTemplate => "unknown_template",
            TemplateWithdrawn => "template_withdrawn",
            TemplateVersionConflict => "template_version_conflict",
            DraftNotFound => "draft_not_found",
            DraftVersionConflict => "draft_version_conflict",
            StoreNotPublished => "store_not_published",
            DraftNotPublishable => "draft_not_publishable",
            ProductNotFound => "product_not_found",
            ProductStateConflict => "product_state_conflict",
            ProductNotSellable => "product_not_sellable",
            RfqNotFound => "rfq_not_found",
            RfqStateConflict => "rfq_state_conflict",
            QuotesClosed => "quotes_closed",
            Uncovered => "uncovered",
            NotStocked => "not_stocked",
            BuyerRequestNotFound => "buyer_request_not_found",
            BuyerRequestStateConflict => "buyer_request_state_conflict",
            BuyerRequestExpired => "buyer_request_expired",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every error answer: `{"error":{"code","message","field"?}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// For people; not to be parsed.
    pub message: String,
    /// The input field at fault (a JSON path such as `lines[0].quantity`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
}

/// The cause of an unexpected failure, carried in the response's extensions from the
/// handler to `log_failures`, which logs it; it never reaches the client.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub String);

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// The input field at fault, when there is one.
    pub field: Option<String>,
    /// For the log only: what failed, with its sources.
    pub cause: Option<ErrorCause>,
    /// Seconds until a retry may succeed (`Retry-After`), for `rate_limited`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None, cause: None, retry_after: None }
    }

    /// The status this error is answered with (its code's).
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// A feature whose function is deployed but not built yet.
    pub fn not_implemented(what: &str) -> Self {
        Self::new(ErrorCode::NotImplemented, format!("{what} is not available yet"))
    }

    /// Something failed that the caller cannot fix: the client gets a clean message, and the
    /// cause (with its sources) goes with the response to `log_failures`.
    pub fn unexpected(err: &(dyn std::error::Error + 'static)) -> Self {
        let mut cause = err.to_string();
        let mut source = err.source();
        while let Some(s) = source {
            cause.push_str(": ");
            cause.push_str(&s.to_string());
            source = s.source();
        }
        Self { cause: Some(ErrorCause(cause)), ..Self::new(ErrorCode::Internal, "something went wrong on our side; try again") }
    }

    /// The JSON body of this error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody { error: ErrorDetail { code: self.code, message: self.message.clone(), field: self.field.clone() } }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.body())).into_response();
        if self.code == ErrorCode::Unauthenticated {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(cause);
        }
        response
    }
}

/// The one logging layer of every router: logs each 5xx answer once, with the method, path,
/// status and the cause the handler put on the response (`ErrorCause`), which it takes off.
pub async fn log_failures(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let status = response.status();
    let cause = response.extensions_mut().remove::<ErrorCause>();
    match cause {
        Some(ErrorCause(cause)) if status.is_server_error() => {
            tracing::error!(%method, %path, status = status.as_u16(), %cause, "request failed");
        }
        None if status == StatusCode::NOT_IMPLEMENTED => {
            tracing::warn!(%method, %path, status = status.as_u16(), "route not built yet");
        }
        None if status.is_server_error() => {
            tracing::error!(%method, %path, status = status.as_u16(), "request failed with no recorded cause");
        }
        Some(ErrorCause(cause)) => {
            tracing::debug!(%method, %path, status = status.as_u16(), %cause, "request refused");
        }
        None => {}
    }
    response
}

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        let field = (!err.field.is_empty()).then(|| err.field.clone());
        Self { field, ..Self::new(ErrorCode::InvalidRequest, err.to_string()) }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        Self::unexpected(&err)
    }
}

impl From<WebhookRefusal> for ApiError {
    fn from(refusal: WebhookRefusal) -> Self {
        let code = match refusal {
            WebhookRefusal::NoSecret(_) => ErrorCode::ChannelNotConfigured,
            WebhookRefusal::CarrierNoSecret(_) => ErrorCode::CarrierNotConfigured,
            WebhookRefusal::Signature(_) => ErrorCode::BadSignature,
        };
        Self::new(code, refusal.to_string())
    }
}

impl From<oms_domain::usecases::reviews::BuyerStepError> for ApiError {
    fn from(err: oms_domain::usecases::reviews::BuyerStepError) -> Self {
        use oms_domain::review::ReviewRefused;
        use oms_domain::usecases::reviews::BuyerStepError;
        match err {
            BuyerStepError::NotFound(_) => Self::new(ErrorCode::OrderNotFound, err.to_string()),
            BuyerStepError::NotShipped { .. } => Self::new(ErrorCode::NotShipped, err.to_string()),
            BuyerStepError::Refused(ReviewRefused::NotDelivered { .. }) => Self::new(ErrorCode::NotDelivered, err.to_string()),
            BuyerStepError::Refused(ReviewRefused::NotBought { .. }) => Self::new(ErrorCode::NotBought, err.to_string()),
            BuyerStepError::Refused(ReviewRefused::Invalid(e)) => e.into(),
            BuyerStepError::AlreadyReviewed(_) => Self::new(ErrorCode::AlreadyReviewed, err.to_string()),
            BuyerStepError::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::fraud::ReleaseError> for ApiError {
    fn from(err: oms_domain::usecases::fraud::ReleaseError) -> Self {
        use oms_domain::usecases::fraud::ReleaseError;
        match err {
            ReleaseError::NotFound(_) => Self::new(ErrorCode::OrderNotFound, err.to_string()),
            ReleaseError::NotHeldForReview { .. } => Self::new(ErrorCode::NotOnHold, err.to_string()),
            ReleaseError::Unexpected(e) => e.into(),
        }
    }
}

impl From<CancelError> for ApiError {
    fn from(err: CancelError) -> Self {
        match err {
            CancelError::NotFound(_) => Self::new(ErrorCode::OrderNotFound, err.to_string()),
            CancelError::NotCancellable(_) => Self::new(ErrorCode::NotCancellable, err.to_string()),
            CancelError::Unexpected(e) => e.into(),
        }
    }
}

impl From<ModifyError> for ApiError {
    fn from(err: ModifyError) -> Self {
        match err {
            ModifyError::NotFound(_) => Self::new(ErrorCode::OrderNotFound, err.to_string()),
            ModifyError::Invalid(e) => e.into(),
            ModifyError::UnknownSku(e) => e.into(),
            ModifyError::NotModifiable { .. } => Self::new(ErrorCode::NotModifiable, err.to_string()),
            ModifyError::TooLong(ref overlong) => {
                Self { field: Some(overlong.field.clone()), ..Self::new(ErrorCode::FieldTooLong, err.to_string()) }
            }
            ModifyError::Unexpected(e) => e.into(),
        }
    }
}

impl From<AlertActionError> for ApiError {
    fn from(err: AlertActionError) -> Self {
        match err {
            AlertActionError::NotFound(_) => Self::new(ErrorCode::AlertNotFound, err.to_string()),
            AlertActionError::Refused { .. } => Self::new(ErrorCode::AlertResolved, err.to_string()),
            AlertActionError::Unexpected(e) => e.into(),
        }
    }
}

impl From<CreateSaleError> for ApiError {
    fn from(err: CreateSaleError) -> Self {
        match err {
            CreateSaleError::NotEnoughStock(_) => {
                Self { field: Some("units".to_owned()), ..Self::new(ErrorCode::InsufficientStock, err.to_string()) }
            }
            CreateSaleError::NotSellable(e) => e.into(),
            CreateSaleError::Unexpected(e) => e.into(),
        }
    }
}

impl From<ClaimError> for ApiError {
    fn from(err: ClaimError) -> Self {
        match err {
            ClaimError::NotFound(_) => Self::new(ErrorCode::FlashSaleNotFound, err.to_string()),
            ClaimError::NotActive { .. } => Self::new(ErrorCode::NotActive, err.to_string()),
            ClaimError::SoldOut { .. } => Self::new(ErrorCode::SoldOut, err.to_string()),
            ClaimError::LimitExceeded { .. } => Self::new(ErrorCode::LimitExceeded, err.to_string()),
            ClaimError::KeyReused(e) => e.into(),
            ClaimError::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::auctions::BidError> for ApiError {
    fn from(err: oms_domain::usecases::auctions::BidError) -> Self {
        use oms_domain::auction::BidRefusal;
        use oms_domain::usecases::auctions::BidError;
        match err {
            BidError::NotFound(_) => Self::new(ErrorCode::AuctionNotFound, err.to_string()),
            BidError::Refused(BidRefusal::NotOpen { .. }) => Self::new(ErrorCode::NotActive, err.to_string()),
            BidError::Refused(BidRefusal::TooLow { .. }) => Self::new(ErrorCode::BidTooLow, err.to_string()),
            BidError::KeyReused(e) => e.into(),
            BidError::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::auctions::CreateAuctionError> for ApiError {
    fn from(err: oms_domain::usecases::auctions::CreateAuctionError) -> Self {
        use oms_domain::usecases::auctions::CreateAuctionError;
        match err {
            CreateAuctionError::UnknownSku(unknown) => Self {
                field: Some("sku".to_owned()),
                ..Self::new(
                    ErrorCode::UnknownSku,
                    format!("unknown SKU {}: no warehouse has ever stocked it for merchant {}", unknown.sku, unknown.merchant),
                )
            },
            CreateAuctionError::NotSellable(e) => e.into(),
            CreateAuctionError::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::group_buys::JoinError> for ApiError {
    fn from(err: oms_domain::usecases::group_buys::JoinError) -> Self {
        use oms_domain::usecases::group_buys::JoinError;
        match err {
            JoinError::NotFound(_) => Self::new(ErrorCode::GroupBuyNotFound, err.to_string()),
            JoinError::NotOpen { .. } => Self::new(ErrorCode::NotActive, err.to_string()),
            JoinError::Full { .. } => Self::new(ErrorCode::GroupBuyFull, err.to_string()),
            JoinError::KeyReused(e) => e.into(),
            JoinError::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::group_buys::CreateGroupBuyError> for ApiError {
    fn from(err: oms_domain::usecases::group_buys::CreateGroupBuyError) -> Self {
        use oms_domain::usecases::group_buys::CreateGroupBuyError;
        match err {
            CreateGroupBuyError::NotEnoughStock(_) => {
                Self { field: Some("capacity".to_owned()), ..Self::new(ErrorCode::InsufficientStock, err.to_string()) }
            }
            CreateGroupBuyError::NotSellable(e) => e.into(),
            CreateGroupBuyError::Unexpected(e) => e.into(),
        }
    }
}

impl From<EndSaleError> for ApiError {
    fn from(err: EndSaleError) -> Self {
        match err {
            EndSaleError::NotFound(_) => Self::new(ErrorCode::FlashSaleNotFound, err.to_string()),
            EndSaleError::Unexpected(e) => e.into(),
        }
    }
}

impl From<FindError> for ApiError {
    fn from(err: FindError) -> Self {
        match err {
            FindError::NoFilter => ValidationError::new("", err.to_string()).into(),
            FindError::Unexpected(e) => e.into(),
        }
    }
}

impl From<GetError> for ApiError {
    fn from(err: GetError) -> Self {
        match err {
            GetError::NotFound(_) => Self::new(ErrorCode::OrderNotFound, err.to_string()),
            GetError::Unexpected(e) => e.into(),
        }
    }
}

impl From<SetStockError> for ApiError {
    fn from(err: SetStockError) -> Self {
        match err {
            SetStockError::UnknownWarehouse(_) => Self::new(ErrorCode::UnknownWarehouse, err.to_string()),
            SetStockError::BelowReserved { .. } => Self::new(ErrorCode::BelowReserved, err.to_string()),
            SetStockError::OthersUnits(_) => Self::new(ErrorCode::Forbidden, err.to_string()),
            SetStockError::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::supply::SupplyError> for ApiError {
    fn from(err: oms_domain::usecases::supply::SupplyError) -> Self {
        use oms_domain::usecases::supply::SupplyError;
        match err {
            SupplyError::UnknownSupplier(_) => Self::new(ErrorCode::SupplierNotFound, err.to_string()),
            SupplyError::UnknownWarehouse(_) => Self::new(ErrorCode::UnknownWarehouse, err.to_string()),
            SupplyError::UnknownPurchaseOrder(_) => Self::new(ErrorCode::PurchaseOrderNotFound, err.to_string()),
            SupplyError::NotSupplied { .. } => Self::new(ErrorCode::SkuNotSupplied, err.to_string()),
            SupplyError::Refused(_) => Self::new(ErrorCode::OverReceipt, err.to_string()),
            SupplyError::ExpiredOnReceipt { .. } => Self::new(ErrorCode::ExpiredOnReceipt, err.to_string()),
            SupplyError::OthersMerchant(_) => Self::new(ErrorCode::Forbidden, err.to_string()),
            SupplyError::Unexpected(e) => e.into(),
            SupplyError::Invalid(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::inventory::AdjustError> for ApiError {
    fn from(err: oms_domain::usecases::inventory::AdjustError) -> Self {
        use oms_domain::usecases::inventory::AdjustError;
        match err {
            AdjustError::UnknownWarehouse(_) => Self::new(ErrorCode::UnknownWarehouse, err.to_string()),
            AdjustError::BelowHeld { .. } => Self::new(ErrorCode::BelowHeld, err.to_string()),
            AdjustError::NewerCount(_) => Self::new(ErrorCode::NewerCount, err.to_string()),
            AdjustError::OthersUnits(_) => Self::new(ErrorCode::Forbidden, err.to_string()),
            AdjustError::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::lots::GoodsReceiptError> for ApiError {
    fn from(err: oms_domain::usecases::lots::GoodsReceiptError) -> Self {
        use oms_domain::usecases::lots::GoodsReceiptError;
        match err {
            GoodsReceiptError::UnknownWarehouse(_) => Self::new(ErrorCode::UnknownWarehouse, err.to_string()),
            GoodsReceiptError::OthersUnits(_) => Self::new(ErrorCode::Forbidden, err.to_string()),
            GoodsReceiptError::StockFull(_) => Self::new(ErrorCode::OverReceipt, err.to_string()),
            GoodsReceiptError::ExpiredOnReceipt { .. } => Self::new(ErrorCode::ExpiredOnReceipt, err.to_string()),
            GoodsReceiptError::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::lots::LotsError> for ApiError {
    fn from(err: oms_domain::usecases::lots::LotsError) -> Self {
        use oms_domain::usecases::lots::LotsError;
        match err {
            LotsError::UnknownWarehouse(_) => Self::new(ErrorCode::UnknownWarehouse, err.to_string()),
            LotsError::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::orders::PaymentError> for ApiError {
    fn from(err: oms_domain::usecases::orders::PaymentError) -> Self {
        use oms_domain::usecases::orders::PaymentError;
        match err {
            PaymentError::NotFound(_) => Self::new(ErrorCode::OrderNotFound, err.to_string()),
            PaymentError::WrongCurrency { .. } => {
                Self { field: Some("currency".to_owned()), ..Self::new(ErrorCode::NotPayable, err.to_string()) }
            }
            PaymentError::Cancelled => Self::new(ErrorCode::NotPayable, err.to_string()),
            PaymentError::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::consignments::ConsignmentError> for ApiError {
    fn from(err: oms_domain::usecases::consignments::ConsignmentError) -> Self {
        use oms_domain::usecases::consignments::ConsignmentError;
        match err {
            ConsignmentError::UnknownWarehouse(_) => Self::new(ErrorCode::UnknownWarehouse, err.to_string()),
            ConsignmentError::NotFound(_) => Self::new(ErrorCode::ConsignmentNotFound, err.to_string()),
            ConsignmentError::NotOwner(_) => Self::new(ErrorCode::Forbidden, err.to_string()),
            ConsignmentError::IdTaken(_) | ConsignmentError::ChangedMeanwhile(_) => {
                Self::new(ErrorCode::ConsignmentConflict, err.to_string())
            }
            ConsignmentError::Unexpected(e) => e.into(),
            ConsignmentError::Invalid(e) => e.into(),
        }
    }
}

impl From<UnknownSku> for ApiError {
    fn from(err: UnknownSku) -> Self {
        Self { field: Some(format!("lines[{}].sku", err.line)), ..Self::new(ErrorCode::UnknownSku, err.to_string()) }
    }
}

impl From<ShipError> for ApiError {
    fn from(err: ShipError) -> Self {
        let field = |field: String| Some(field);
        match err {
            ShipError::NotFound(_) => Self::new(ErrorCode::OrderNotFound, err.to_string()),
            ShipError::Invalid(e) => e.into(),
            ShipError::NotReserved(_) => Self::new(ErrorCode::ShipmentRefused, err.to_string()),
            ShipError::UnknownSku { line, .. }
            | ShipError::WarehouseNeeded { line, .. }
            | ShipError::MoreThanHeld { line, .. } => {
                let at = if matches!(err, ShipError::WarehouseNeeded { .. }) { "warehouse" } else { "quantity" };
                let at = if matches!(err, ShipError::UnknownSku { .. }) { "sku" } else { at };
                Self { field: field(format!("lines[{line}].{at}")), ..Self::new(ErrorCode::ShipmentRefused, err.to_string()) }
            }
            ShipError::NotMerged { line, .. } => {
                Self { field: field(format!("lines[{line}].order_id")), ..Self::new(ErrorCode::ShipmentRefused, err.to_string()) }
            }
            ShipError::TrackingNumberTaken(_) => {
                Self { field: field("tracking_number".to_owned()), ..Self::new(ErrorCode::TrackingNumberTaken, err.to_string()) }
            }
            ShipError::Unexpected(e) => e.into(),
        }
    }
}

impl From<IntakeError> for ApiError {
    fn from(err: IntakeError) -> Self {
        match err {
            IntakeError::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::rentals::RentalActionError> for ApiError {
    fn from(err: oms_domain::usecases::rentals::RentalActionError) -> Self {
        use oms_domain::usecases::rentals::RentalActionError as E;
        match err {
            E::Invalid(e) => e.into(),
            E::UnknownUnit(_) => Self::new(ErrorCode::RentalUnitNotFound, err.to_string()),
            E::UnitTaken(_) => Self::new(ErrorCode::RentalUnitTaken, err.to_string()),
            E::Retired(_) => Self::new(ErrorCode::NotActive, err.to_string()),
            E::UnknownBooking(_) => Self::new(ErrorCode::BookingNotFound, err.to_string()),
            E::DatesTaken(_) => Self::new(ErrorCode::DatesTaken, err.to_string()),
            E::Transition(_) | E::Busy => Self::new(ErrorCode::BookingStateConflict, err.to_string()),
            E::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::repairs::RepairActionError> for ApiError {
    fn from(err: oms_domain::usecases::repairs::RepairActionError) -> Self {
        use oms_domain::usecases::repairs::RepairActionError as E;
        match err {
            E::Invalid(e) => e.into(),
            E::UnknownRepair(_) => Self::new(ErrorCode::RepairNotFound, err.to_string()),
            E::UnknownWorkshop(_) => Self::new(ErrorCode::UnknownWarehouse, err.to_string()),
            E::UnpricedPart(_) => Self::new(ErrorCode::UnpricedPart, err.to_string()),
            E::Transition(_) | E::Busy => Self::new(ErrorCode::RepairStateConflict, err.to_string()),
            E::QuoteExpired(_) => Self::new(ErrorCode::QuoteExpired, err.to_string()),
            E::PartsShort { .. } => Self::new(ErrorCode::PartsShort, err.to_string()),
            E::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::returns::ReturnActionError> for ApiError {
    fn from(err: oms_domain::usecases::returns::ReturnActionError) -> Self {
        use oms_domain::returns::ReturnRuleError as R;
        use oms_domain::usecases::returns::ReturnActionError as E;
        match err {
            E::Invalid(e) => e.into(),
            E::UnknownOrder(_) => Self::new(ErrorCode::OrderNotFound, err.to_string()),
            E::UnknownReturn(_) => Self::new(ErrorCode::ReturnNotFound, err.to_string()),
            E::Rule(R::NotDelivered(_)) => Self::new(ErrorCode::NotDelivered, err.to_string()),
            E::Rule(R::WindowClosed { .. }) => Self::new(ErrorCode::ReturnWindowClosed, err.to_string()),
            E::TooMany { .. } => Self::new(ErrorCode::ReturnQuantityExceeded, err.to_string()),
            E::Transition(_) => Self::new(ErrorCode::ReturnStateConflict, err.to_string()),
            E::TrackingTaken(_) => Self::new(ErrorCode::TrackingNumberTaken, err.to_string()),
            E::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::onboarding::OnboardingActionError> for ApiError {
    fn from(err: oms_domain::usecases::onboarding::OnboardingActionError) -> Self {
        use oms_domain::usecases::onboarding::OnboardingActionError as E;
        match err {
            E::Invalid(e) => e.into(),
            E::NotRegistered(_) => Self::new(ErrorCode::MerchantNotFound, err.to_string()),
            E::Step(_) => Self::new(ErrorCode::OnboardingStateConflict, err.to_string()),
            E::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::products::ProductActionError> for ApiError {
    fn from(err: oms_domain::usecases::products::ProductActionError) -> Self {
        use oms_domain::usecases::products::ProductActionError as E;
        match err {
            E::Invalid(e) => e.into(),
            E::NotFound(_) => Self::new(ErrorCode::ProductNotFound, err.to_string()),
            E::MerchantNotApproved(_) => Self::new(ErrorCode::MerchantNotApproved, err.to_string()),
            E::Step(_) => Self::new(ErrorCode::ProductStateConflict, err.to_string()),
            E::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::checkout::CheckoutError> for ApiError {
    fn from(err: oms_domain::usecases::checkout::CheckoutError) -> Self {
        use oms_domain::usecases::checkout::CheckoutError as E;
        match err {
            E::MerchantNotApproved(_) => Self::new(ErrorCode::MerchantNotApproved, err.to_string()),
            E::NotSellable(e) => e.into(),
            E::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::products::SellableError> for ApiError {
    fn from(err: oms_domain::usecases::products::SellableError) -> Self {
        use oms_domain::usecases::products::SellableError as E;
        match err {
            E::NotSellable { .. } => Self::new(ErrorCode::ProductNotSellable, err.to_string()),
            E::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::rfqs::RfqActionError> for ApiError {
    fn from(err: oms_domain::usecases::rfqs::RfqActionError) -> Self {
        use oms_domain::rfq::request::QuoteRefused;
        use oms_domain::usecases::rfqs::RfqActionError as E;
        match err {
            E::Invalid(e) => e.into(),
            E::NotFound(_) => Self::new(ErrorCode::RfqNotFound, err.to_string()),
            E::Exists(_) | E::Busy(_) | E::Quote(QuoteRefused::Accepted) => {
                Self::new(ErrorCode::RfqStateConflict, err.to_string())
            }
            E::Quote(QuoteRefused::Closed(_)) => Self::new(ErrorCode::QuotesClosed, err.to_string()),
            E::Quote(QuoteRefused::NotAsked(_)) => ValidationError::new("sku", err.to_string()).into(),
            E::Quote(QuoteRefused::BadPrice { .. }) => ValidationError::new("unit_price", err.to_string()).into(),
            E::NotStocked { .. } => Self::new(ErrorCode::NotStocked, err.to_string()),
            E::Uncovered(_) => Self::new(ErrorCode::Uncovered, err.to_string()),
            E::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::matchmaking::MatchmakingError> for ApiError {
    fn from(err: oms_domain::usecases::matchmaking::MatchmakingError) -> Self {
        use oms_domain::usecases::matchmaking::MatchmakingError as E;
        match err {
            E::UnknownRequest(_) => Self::new(ErrorCode::BuyerRequestNotFound, err.to_string()),
            E::NotAcceptable { .. } | E::Busy(_) => Self::new(ErrorCode::BuyerRequestStateConflict, err.to_string()),
            E::PastDeadline(_) => Self::new(ErrorCode::BuyerRequestExpired, err.to_string()),
            E::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::catalogue::PutSkuError> for ApiError {
    fn from(err: oms_domain::usecases::catalogue::PutSkuError) -> Self {
        use oms_domain::usecases::catalogue::PutSkuError as E;
        match err {
            E::NotApproved(_) => Self::new(ErrorCode::MerchantNotApproved, err.to_string()),
            E::Unexpected(e) => e.into(),
        }
    }
}

impl From<oms_domain::usecases::storefronts::StorefrontError> for ApiError {
    fn from(err: oms_domain::usecases::storefronts::StorefrontError) -> Self {
        use oms_domain::usecases::storefronts::StorefrontError as E;
        let code = match &err {
            E::Invalid(e) => return e.clone().into(),
            E::UnknownSku { field, .. } => {
                return Self { field: Some((*field).to_owned()), ..Self::new(ErrorCode::UnknownSku, err.to_string()) }
            }
            E::TemplateStale { .. } => ErrorCode::TemplateVersionConflict,
            E::UnknownTemplate(_) => ErrorCode::UnknownTemplate,
            E::TemplateWithdrawn(_) => ErrorCode::TemplateWithdrawn,
            E::NotRegistered(_) => ErrorCode::MerchantNotFound,
            E::NotApproved(_) => ErrorCode::MerchantNotApproved,
            E::NoDraft(_) => ErrorCode::DraftNotFound,
            E::VersionConflict { .. } => ErrorCode::DraftVersionConflict,
            E::NotPublishable(_) => ErrorCode::DraftNotPublishable,
            E::NotPublished(_) => ErrorCode::StoreNotPublished,
            E::Unexpected(e) => return Self::unexpected(e),
        };
        Self::new(code, err.to_string())
    }
}

impl From<oms_domain::document::UploadRefusal> for ApiError {
    fn from(refusal: oms_domain::document::UploadRefusal) -> Self {
        use oms_domain::document::UploadRefusal as R;
        let code = match refusal {
            R::Empty => return ValidationError::new("body", refusal.to_string()).into(),
            R::TooLarge { .. } => ErrorCode::BodyTooLarge,
            R::UnsupportedType { .. } | R::NotItsType { .. } => ErrorCode::UnsupportedMediaType,
        };
        Self::new(code, refusal.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole table: a code cannot have two statuses, and a new code must be added here.
    #[test]
    fn every_error_code_has_one_status() {
        let table: Vec<(&str, u16)> = ErrorCode::ALL.iter().map(|c| (c.as_str(), c.status().as_u16())).collect();
        assert_eq!(
            table,
            [
                ("invalid_request", 400),
                ("bad_signature", 401),
                ("channel_not_configured", 401),
                ("unauthenticated", 401),
                ("forbidden", 403),
                ("route_not_found", 404),
                ("unknown_channel", 404),
                ("order_not_found", 404),
                ("unknown_warehouse", 404),
                ("sku_not_found", 404),
                ("carrier_not_found", 404),
                ("alert_not_found", 404),
                ("flash_sale_not_found", 404),
                ("method_not_allowed", 405),
                ("below_reserved", 409),
                ("alert_resolved", 409),
                ("insufficient_stock", 409),
                ("sold_out", 409),
                ("not_active", 410),
                ("body_too_large", 413),
                ("unknown_sku", 422),
                ("not_cancellable", 422),
                ("not_modifiable", 422),
                ("field_too_long", 422),
                ("rate_limited", 429),
                ("limit_exceeded", 429),
                ("internal", 500),
                ("not_implemented", 501),
                ("no_pricing_model", 503),
                ("supplier_not_found", 404),
                ("purchase_order_not_found", 404),
                ("sku_not_supplied", 422),
                ("over_receipt", 422),
                ("expired_on_receipt", 422),
                ("request_timeout", 408),
                ("not_found", 404),
                ("carrier_not_configured", 401),
                ("shipment_refused", 422),
                ("tracking_number_taken", 409),
                ("below_held", 422),
                ("newer_count", 409),
                ("not_payable", 422),
                ("consignment_not_found", 404),
                ("consignment_conflict", 409),
                ("not_on_hold", 409),
                ("auction_not_found", 404),
                ("bid_too_low", 409),
                ("proof_required", 428),
                ("not_invoiceable", 422),
                ("not_planned", 422),
                ("group_buy_not_found", 404),
                ("group_buy_full", 409),
                ("rental_unit_not_found", 404),
                ("rental_unit_taken", 409),
                ("booking_not_found", 404),
                ("dates_taken", 409),
                ("booking_state_conflict", 409),
                ("not_shipped", 409),
                ("not_bought", 422),
                ("already_reviewed", 409),
                ("repair_not_found", 404),
                ("repair_state_conflict", 409),
                ("quote_expired", 422),
                ("parts_short", 409),
                ("unpriced_part", 422),
                ("return_not_found", 404),
                ("return_state_conflict", 409),
                ("return_window_closed", 422),
                ("not_delivered", 422),
                ("return_quantity_exceeded", 422),
                ("merchant_not_found", 404),
                ("onboarding_state_conflict", 409),
                ("merchant_not_approved", 403),
                ("unsupported_media_type", 415),
                ("document_not_found", 404),
                ("unknown_template", 422),
                ("template_withdrawn", 422),
                ("template_version_conflict", 409),
                ("draft_not_found", 404),
                ("draft_version_conflict", 409),
                ("store_not_published", 404),
                ("draft_not_publishable", 422),
                ("product_not_found", 404),
                ("product_state_conflict", 409),
                ("product_not_sellable", 422),
                ("rfq_not_found", 404),
                ("rfq_state_conflict", 409),
                ("quotes_closed", 410),
                ("uncovered", 422),
                ("not_stocked", 422),
                ("buyer_request_not_found", 404),
                ("buyer_request_state_conflict", 409),
                ("buyer_request_expired", 410),
            ]
        );
        let mut codes: Vec<&str> = table.iter().map(|(code, _)| *code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ErrorCode::ALL.len(), "every code is listed once");
    }

    #[test]
    fn codes_serialise_as_they_are_spelled() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn an_error_body_is_code_message_and_field_when_there_is_one() {
        let err: ApiError = ValidationError::new("lines[0].quantity", "must be at least 1").into();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            serde_json::to_value(err.body()).unwrap(),
            serde_json::json!({"error": {"code": "invalid_request", "message": "lines[0].quantity: must be at least 1",
                                         "field": "lines[0].quantity"}})
        );
        let err = ApiError::new(ErrorCode::OrderNotFound, "no order x");
        assert_eq!(
            serde_json::to_value(err.body()).unwrap(),
            serde_json::json!({"error": {"code": "order_not_found", "message": "no order x"}})
        );
    }

    #[test]
    fn webhook_refusals_are_401_with_a_code_per_reason() {
        use oms_domain::order::Channel;
        let refused: ApiError = WebhookRefusal::NoSecret(Channel::Generic).into();
        assert_eq!((refused.status(), refused.code), (StatusCode::UNAUTHORIZED, ErrorCode::ChannelNotConfigured));
        let secrets = crate::ChannelSecrets::default().with(Channel::Generic, "s");
        let forged = secrets.check(Channel::Generic, crate::UnsignedPolicy::Refuse, Some("sha256=00"), b"{}").unwrap_err();
        let forged: ApiError = forged.into();
        assert_eq!((forged.status(), forged.code), (StatusCode::UNAUTHORIZED, ErrorCode::BadSignature));
    }

    #[test]
    fn an_unexpected_error_keeps_its_cause_off_the_body() {
        let err = ApiError::from(StoreError::msg("disk on fire"));
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(err.cause.as_ref().is_some_and(|c| c.0.contains("disk on fire")), "{err:?}");
        assert!(!serde_json::to_string(&err.body()).unwrap().contains("disk on fire"));
    }
}
