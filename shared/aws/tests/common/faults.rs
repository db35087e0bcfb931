//! Faults the emulator cannot make. moto serves one request at a time, so DynamoDB never
//! cancels a transaction for a conflict, never throttles, and never loses an answer there.
//! [`FaultyHttp`] is the SDK's own HTTP client with a plan of faults in front of it: the next
//! request of a given operation (`TransactWriteItems`, `PutItem`, ...) is answered with a
//! fault instead of going through, or goes through and then loses its answer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Sent and answered as it is: to let some requests of an operation through before a fault.
    None,
    /// Not sent; answered `TransactionCanceledException` whose first reason is
    /// `TransactionConflict` (the others `None`), as DynamoDB answers under contention.
    TransactionConflict,
    /// Not sent; answered `ThrottlingException`, which the SDK retries itself.
    Throttled,
    /// Sent, so the write lands; then the answer is lost: the SDK sees a timeout.
    LostAnswer,
}

#[derive(Debug, Default)]
struct Plan {
    /// Faults still to inject: (operation, fault), each for the next request of its operation.
    faults: VecDeque<(String, Fault)>,
    /// Every request seen: (operation, the fault injected, if any).
    seen: Vec<(String, Option<Fault>)>,
}

/// Work a test runs just before a request goes out (another writer landing first).
pub type Hook = Box<dyn FnOnce() -> futures::future::BoxFuture<'static, ()> + Send>;

/// Hooks still to run: (operation, hook), each before the next request of its operation.
#[derive(Default)]
struct Hooks(Vec<(String, Hook)>);

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter().map(|(op, _)| op)).finish()
    }
}

/// The plan of faults, shared by the test and the HTTP client it built.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    plan: Arc<Mutex<Plan>>,
    hooks: Arc<Mutex<Hooks>>,
}

impl Faults {
    /// The next request of `operation` (its `X-Amz-Target` name, e.g. `TransactWriteItems`)
    /// meets `fault`; several faults for one operation meet its next requests in order.
    pub fn inject(&self, operation: &str, fault: Fault) {
        self.plan.lock().expect("the fault plan").faults.push_back((operation.to_owned(), fault));
    }

    /// Runs `hook` just before the next request of `operation` is sent (the request was
    /// built before it: whatever the hook writes lands between the caller's reads and that
    /// request). The request itself then goes through as it is.
    pub fn before(&self, operation: &str, hook: Hook) {
        self.hooks.lock().expect("the hooks").0.push((operation.to_owned(), hook));
    }

    fn take_hook(&self, operation: &str) -> Option<Hook> {
        let mut hooks = self.hooks.lock().expect("the hooks");
        let index = hooks.0.iter().position(|(op, _)| op == operation)?;
        Some(hooks.0.remove(index).1)
    }

    /// Requests of `operation` seen so far, with the fault each met.
    pub fn seen(&self, operation: &str) -> Vec<Option<Fault>> {
        let plan = self.plan.lock().expect("the fault plan");
        plan.seen.iter().filter(|(op, _)| op == operation).map(|(_, fault)| *fault).collect()
    }

    /// Faults planned and not yet met.
    pub fn pending(&self) -> usize {
        self.plan.lock().expect("the fault plan").faults.len()
    }

    /// The fault the next request of `operation` meets, recording the request.
    fn take(&self, operation: &str) -> Option<Fault> {
        let mut plan = self.plan.lock().expect("the fault plan");
        let fault = plan.faults.iter().position(|(op, _)| op == operation).and_then(|i| plan.faults.remove(i)).map(|(_, f)| f);
        plan.seen.push((operation.to_owned(), fault));
        fault
    }
}

/// The SDK's HTTP client (plain HTTP, for the emulator) behind a plan of [`Faults`].
#[derive(Debug, Clone)]
pub struct FaultyHttp {
    real: SharedHttpClient,
    faults: Faults,
}

impl FaultyHttp {
    pub fn new(faults: Faults) -> Self {
        Self { real: aws_smithy_http_client::Builder::new().build_http(), faults }
    }
}

impl HttpClient for FaultyHttp {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let real = self.real.http_connector(settings, components);
        SharedHttpConnector::new(FaultyConnector { real, faults: self.faults.clone() })
    }
}

#[derive(Debug)]
struct FaultyConnector {
    real: SharedHttpConnector,
    faults: Faults,
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation =
            request.headers().get("x-amz-target").and_then(|target| target.rsplit('.').next()).unwrap_or_default().to_owned();
        if let Some(hook) = self.faults.take_hook(&operation) {
            let (real, faults) = (self.real.clone(), self.faults.clone());
            return HttpConnectorFuture::new(async move {
                hook().await;
                match faults.take(&operation) {
                    None | Some(Fault::None) => real.call(request).await,
                    Some(other) => panic!("a hook and a fault ({other:?}) on one {operation} request"),
                }
            });
        }
        match self.faults.take(&operation) {
            None | Some(Fault::None) => self.real.call(request),
            Some(Fault::TransactionConflict) => {
                let items = request
                    .body()
                    .bytes()
                    .and_then(|body| serde_json::from_slice::<serde_json::Value>(body).ok())
                    .and_then(|body| body["TransactItems"].as_array().map(Vec::len))
                    .unwrap_or(1);
                let reasons: Vec<serde_json::Value> = (0..items)
                    .map(|i| {
                        let code = if i == 0 { "TransactionConflict" } else { "None" };
                        serde_json::json!({ "Code": code, "Message": if i == 0 { "Transaction is ongoing for the item" } else { "" } })
                    })
                    .collect();
                let body = serde_json::json!({
                    "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                    "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]",
                    "CancellationReasons": reasons,
                });
                HttpConnectorFuture::ready(Ok(answer(400, &body)))
            }
            Some(Fault::Throttled) => {
                let body = serde_json::json!({
                    "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                    "message": "Rate of requests exceeds the allowed throughput.",
                });
                HttpConnectorFuture::ready(Ok(answer(400, &body)))
            }
            Some(Fault::LostAnswer) => {
                let sent = self.real.call(request);
                HttpConnectorFuture::new(async move {
                    // The request reaches the emulator and its write lands; its answer never arrives.
                    let _landed = sent.await?;
                    Err(ConnectorError::timeout("the answer was lost after the write landed".into()))
                })
            }
        }
    }
}

/// A DynamoDB JSON answer.
fn answer(status: u16, body: &serde_json::Value) -> HttpResponse {
    let mut response = HttpResponse::new(StatusCode::try_from(status).expect("a valid status"), SdkBody::from(body.to_string()));
    response.headers_mut().insert("content-type", "application/x-amz-json-1.0");
    response
}
