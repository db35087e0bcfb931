//! The one place errors become HTTP answers: `{"error":{"code","message"}}` with the
//! right status. Clients get a clean message; the log gets the cause.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use oms_domain::ports::StoreError;
use oms_domain::usecases::intake::{IntakeError, UnknownSku};
use oms_domain::usecases::inventory::SetStockError;
use oms_domain::usecases::orders::{CancelError, FindError, GetError, ModifyError};
use oms_domain::ValidationError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The input field at fault, when there is one.
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None }
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// A feature whose function is deployed but not built yet.
    pub fn not_implemented(what: &str) -> Self {
        Self::new(StatusCode::NOT_IMPLEMENTED, "not_implemented", format!("{what} is not available yet"))
    }

    /// Something failed that the caller cannot fix; the cause goes to the log only.
    pub fn unexpected(err: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %err, cause = ?err.source(), "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side; try again")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(field) = self.field {
            error["field"] = json!(field);
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        let field = (!err.field.is_empty()).then(|| err.field.clone());
        Self { status: StatusCode::BAD_REQUEST, code: "invalid_request", message: err.to_string(), field }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        Self::unexpected(&err)
    }
}

impl From<CancelError> for ApiError {
    fn from(err: CancelError) -> Self {
        match err {
            CancelError::NotFound(_) => Self::not_found("order_not_found", err.to_string()),
            CancelError::NotCancellable(_) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "not_cancellable", err.to_string()),
            CancelError::Unexpected(e) => e.into(),
        }
    }
}

impl From<ModifyError> for ApiError {
    fn from(err: ModifyError) -> Self {
        match err {
            ModifyError::NotFound(_) => Self::not_found("order_not_found", err.to_string()),
            ModifyError::Invalid(e) => e.into(),
            ModifyError::UnknownSku(e) => e.into(),
            ModifyError::NotModifiable { .. } => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "not_modifiable", err.to_string()),
            ModifyError::Unexpected(e) => e.into(),
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
            GetError::NotFound(_) => Self::not_found("order_not_found", err.to_string()),
            GetError::Unexpected(e) => e.into(),
        }
    }
}

impl From<SetStockError> for ApiError {
    fn from(err: SetStockError) -> Self {
        match err {
            SetStockError::UnknownWarehouse(_) => Self::not_found("unknown_warehouse", err.to_string()),
            SetStockError::BelowReserved { .. } => Self::new(StatusCode::CONFLICT, "below_reserved", err.to_string()),
            SetStockError::Unexpected(e) => e.into(),
        }
    }
}

impl From<UnknownSku> for ApiError {
    fn from(err: UnknownSku) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "unknown_sku",
            message: err.to_string(),
            field: Some(format!("lines[{}].sku", err.line)),
        }
    }
}

impl From<IntakeError> for ApiError {
    fn from(err: IntakeError) -> Self {
        match err {
            IntakeError::UnknownSku(e) => e.into(),
            IntakeError::Unexpected(e) => e.into(),
        }
    }
}
