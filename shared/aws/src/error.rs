//! Turning SDK errors into the domain's `StoreError`, with the whole chain of causes.

use oms_domain::ports::StoreError;

/// `context` ("Failed to read order ord_1") with the SDK error's full display as the
/// cause: the bare `Display` of an SDK error is only "service error".
pub(crate) fn sdk_error<E>(context: impl Into<String>, err: E) -> StoreError
where
    E: std::error::Error,
{
    let cause = format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&err));
    StoreError::new(context, cause)
}

/// `context` with a serialisation error (an item that does not match its layout).
pub(crate) fn item_error(context: impl Into<String>, err: serde_dynamo::Error) -> StoreError {
    StoreError::new(context, err)
}

/// `context` with a request the SDK refused to build (a missing required field).
pub(crate) fn build_error(context: impl Into<String>, err: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::new(context, err)
}
