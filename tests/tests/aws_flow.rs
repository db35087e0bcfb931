//! The AWS path end to end against the emulator (moto's server, or whatever
//! `AWS_ENDPOINT_URL` points at): real API Gateway and SQS event payloads from
//! `infra/events/` drive the real handlers over the real SDK adapters.
//!
//! webhook -> ingest-order -> SQS -> allocate -> SQS -> reserve-stock -> reserved in DynamoDB

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::EventRecord as DynamoEventRecord;
use aws_lambda_events::event::sqs::SqsMessage;
use axum::http::StatusCode;
use serde_json::Value;
use tower::ServiceExt as _;

use oms_api::{AppState, ChannelSecrets, UnsignedPolicy};
use oms_aws::emulator::Emulator;
use oms_aws::Aws;
use oms_domain::messages::{Outgoing, QueueName, ReserveOrder};
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::SystemClock;
use oms_domain::usecases::fulfilment::{Allocate, Reserve};
use oms_domain::usecases::outbound::Deliver;
use oms_domain::OrderId;

/// Time each SQS message may take in these tests (a Lambda invocation's, less the margin).
const BUDGET: std::time::Duration = std::time::Duration::from_secs(8);

/// The secret the sample webhook event in infra/events is signed with.
const SAMPLE_SECRET: &str = "oms-sample-generic-secret";

fn event(name: &str) -> Value {
    let path = format!("{}/../infra/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("the sample event exists")).expect("the sample event is JSON")
}

/// Invokes an HTTP function's router with an API Gateway event, as lambda_http does (with
/// the verified JWT's claims taken from the event's authorizer context, as `run_http` does).
async fn invoke(router: &axum::Router, event: Value) -> (StatusCode, Value) {
    let request: lambda_http::request::LambdaRequest = serde_json::from_value(event).expect("an API Gateway event");
    let request: lambda_http::http::Request<lambda_http::Body> = request.into();
    let response = oms_lambda::with_gateway_claims(router.clone()).oneshot(request).await.expect("the router answers");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Takes what is waiting on a queue, as the SQS event source would hand it to the function.
async fn drain(aws: &Aws, sqs: &aws_sdk_sqs::Client, queue: QueueName) -> Vec<SqsMessage> {
    let received = sqs
        .receive_message()
        .queue_url(aws.queue_url(queue))
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .expect("receive from the emulator");
    received
        .messages()
        .iter()
        .map(|m| {
            let mut record = SqsMessage::default();
            record.message_id = m.message_id().map(str::to_owned);
            record.receipt_handle = m.receipt_handle().map(str::to_owned);
            record.body = m.body().map(str::to_owned);
            record.event_source = Some("aws:sqs".into());
            record
        })
        .collect()
}

async fn delete(aws: &Aws, sqs: &aws_sdk_sqs::Client, queue: QueueName, records: &[SqsMessage]) {
    for record in records {
        sqs.delete_message()
            .queue_url(aws.queue_url(queue))
            .receipt_handle(record.receipt_handle.clone().unwrap_or_default())
            .send()
            .await
            .expect("delete from the emulator");
    }
}

/// What the table's stream would hand relay-outbox now: an `INSERT` record (shaped as the
/// sample stream event in infra/events) for every outbox item not handed over yet. The
/// emulator's table has no event source mapping, so the test reads the items and plays the
/// stream.
struct TableStream {
    seen: std::collections::HashSet<String>,
}

impl TableStream {
    fn new() -> Self {
        Self { seen: std::collections::HashSet::new() }
    }

    async fn new_records(&mut self, aws: &Aws) -> Vec<DynamoEventRecord> {
        let sample: Vec<DynamoEventRecord> =
            serde_json::from_value(event("dynamodb-stream-outbox.json")["Records"].clone()).expect("a stream event");
        let scanned = aws
            .dynamo()
            .client()
            .scan()
            .table_name(aws.dynamo().table())
            .filter_expression("begins_with(pk, :outbox)")
            .expression_attribute_values(":outbox", aws_sdk_dynamodb::types::AttributeValue::S(oms_aws::OUTBOX_PREFIX.into()))
            .send()
            .await
            .expect("the scan of the outbox");
        let mut records = Vec::new();
        for item in scanned.items() {
            let Some(aws_sdk_dynamodb::types::AttributeValue::S(pk)) = item.get("pk") else { continue };
            if !self.seen.insert(pk.clone()) {
                continue;
            }
            let mut record = sample[0].clone();
            record.change.sequence_number = Some(format!("{:028}", self.seen.len()));
            record.change.new_image = item.clone().into();
            records.push(record);
        }
        records
    }
}

/// relay-outbox over what the stream has for it now; answers how many records it took.
async fn relay(aws: &Aws, stream: &mut TableStream, state: &AppState) -> usize {
    let records = stream.new_records(aws).await;
    let count = records.len();
    let response = oms_lambda::stream::relay_records(&*state.ports.queue, records).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    count
}

fn lambda_state(aws: &Aws) -> AppState {
    AppState {
        ports: aws.ports(Arc::new(SystemClock)),
        secrets: ChannelSecrets::default().with(Channel::Generic, SAMPLE_SECRET).into(),
        unsigned: UnsignedPolicy::Refuse,
        auth: oms_lambda::gateway_auth(),
        pricing: Default::default(),
        archive: None,
        reports: None,
        admission: Default::default(),
        documents: None,
    }
}

/// `event` as the HTTP API's JWT authorizer passes it on for a token of `merchant` with
/// `scopes` (the sample operator events carry merchant m-1's staff token).
fn signed_in(mut event: Value, merchant: Option<&str>, scopes: &[&str]) -> Value {
    let mut claims = serde_json::json!({"iss": "https://issuer.example", "sub": "staff-1", "scope": scopes.join(" ")});
    if let Some(merchant) = merchant {
        claims["merchant_id"] = merchant.into();
    }
    event["requestContext"]["authorizer"] = serde_json::json!({"jwt": {"claims": claims, "scopes": scopes}});
    event
}

/// The warehouse wh-hz-1 registers, then the WMS counts m-1's 100 units of SKU-1 in it
/// (the sample PUT /inventory event), through the inventory function.
async fn stock_wh_hz_1(inventory: &axum::Router) {
    let mut put_warehouse = event("apigw-http-put-inventory.json");
    put_warehouse["rawPath"] = "/warehouses/wh-hz-1".into();
    put_warehouse["routeKey"] = "PUT /warehouses/{id}".into();
    put_warehouse["pathParameters"] = serde_json::json!({"id": "wh-hz-1"});
    put_warehouse["body"] =
        r#"{"name":"Hangzhou 1","merchant_id":"m-1","province":"Zhejiang","city":"Hangzhou","lat":30.2,"lon":120.1}"#.into();
    put_warehouse["headers"].as_object_mut().expect("headers").remove("content-length");
    let (status, body) = invoke(inventory, put_warehouse).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = invoke(inventory, event("apigw-http-put-inventory.json")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((&body["on_hand"], &body["merchant_id"]), (&serde_json::json!(100), &serde_json::json!("m-1")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_flows_through_ingest_allocate_and_reserve_to_a_reserved_order_in_dynamodb() {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("flow").await;
    let sqs = aws_sdk_sqs::Client::new(&emulator.sdk_config().await);
    let mut stream = TableStream::new();
    let state = lambda_state(&aws);
    let inventory = oms_api::routes::inventory_api(state.clone());
    let ingest = oms_api::routes::orders_api(state.clone());

    stock_wh_hz_1(&inventory).await;

    // ingest-order takes the signed webhook.
    let (status, receipt) = invoke(&ingest, event("apigw-http-generic-order.json")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{receipt}");
    let order_id = OrderId::parse(receipt["order_id"].as_str().unwrap()).unwrap();
    let (status, again) = invoke(&ingest, event("apigw-http-generic-order.json")).await;
    assert_eq!((status, &again["duplicate"], &again["order_id"]), (StatusCode::OK, &Value::Bool(true), &receipt["order_id"]));

    // The order's allocation message was written with it, as an outbox item: nothing is on
    // the queue until relay-outbox takes it from the table's stream. (The duplicate
    // delivery queued the order once more, directly: harmless.)
    assert_eq!(relay(&aws, &mut stream, &state).await, 1, "one outbox item, written with the order");
    // allocate consumes the allocate queue.
    let records = drain(&aws, &sqs, QueueName::Allocate).await;
    assert!(!records.is_empty(), "ingest-order queued the order for allocation");
    let response = oms_lambda::sqs::handle_records(&Allocate::default(), &state.ports, records.clone(), BUDGET).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    delete(&aws, &sqs, QueueName::Allocate, &records).await;
    let order = state.ports.orders.get_order(&order_id).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::Allocated);

    // The plan's reservation message went with the plan: relayed the same way. The second
    // allocate message may have re-queued the reservation (at-least-once): the spare one
    // must change nothing.
    assert_eq!(relay(&aws, &mut stream, &state).await, 1, "one outbox item, written with the plan");
    let records = drain(&aws, &sqs, QueueName::Reserve).await;
    assert!((1..=2).contains(&records.len()), "{records:?}");
    let response = oms_lambda::sqs::handle_records(&Reserve, &state.ports, records.clone(), BUDGET).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    delete(&aws, &sqs, QueueName::Reserve, &records).await;

    let order = state.ports.orders.get_order(&order_id).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::Reserved);
    let levels = state.ports.inventory.stock_of(&order.lines[0].sku).await.unwrap();
    assert_eq!((levels[0].on_hand, levels[0].reserved, levels[0].available), (100, 2, 98));

    // The reservation's write queued the warehouse's fulfilment request: relayed from the
    // stream to the outbound queue, deliver-outbound's consumer posts it to the warehouse.
    let fakes = oms_outbound::fakes::Fakes::start(&["wh-hz-1"]).await.expect("the fakes start");
    let deliver = Deliver { outbound: Arc::new(oms_outbound::HttpOutbound::new(fakes.destinations(&["m-1"]))) };
    assert_eq!(relay(&aws, &mut stream, &state).await, 1, "one outbox item, written with the reservation");
    let records = drain(&aws, &sqs, QueueName::Outbound).await;
    assert_eq!(records.len(), 1, "{records:?}");
    let response = oms_lambda::sqs::handle_records(&deliver, &state.ports, records.clone(), BUDGET).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    delete(&aws, &sqs, QueueName::Outbound, &records).await;
    let asked = fakes.warehouse_requests();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!((asked[0].event.as_str(), &asked[0].body["order_id"]), ("fulfilment.requested", &Value::from(order_id.as_str())));
    assert_eq!(asked[0].body["lines"], serde_json::json!([{"sku": "SKU-1", "quantity": 2, "owner": "m-1"}]));
    // A destination that is down: the message is reported failed and SQS shows it again.
    fakes.be_unavailable_for(1);
    let mut again = records[0].clone();
    again.body = Some(
        Outgoing::of(&oms_domain::outbound::OutboundNotice {
            request_id: "retry-probe".into(),
            notice: oms_domain::outbound::Notice::FulfilmentRequested { order_id: order_id.clone() },
        })
        .body,
    );
    let response = oms_lambda::sqs::handle_records(&deliver, &state.ports, vec![again], BUDGET).await;
    assert_eq!(response.batch_item_failures.len(), 1, "a 503 is tried again: {response:?}");
    assert!(fakes.problems().is_empty(), "{:?}", fakes.problems());

    // The GET /orders/{id} event, pointed at this order, reads it back through ingest-order.
    let mut get = event("apigw-http-get-order.json");
    get["rawPath"] = format!("/orders/{order_id}").into();
    get["pathParameters"] = serde_json::json!({ "id": order_id.as_str() });
    let (status, body) = invoke(&ingest, get.clone()).await;
    assert_eq!((status, &body["status"]), (StatusCode::OK, &Value::from("reserved")), "{body}");

    // Another merchant's verified token is told the order does not exist; a request that
    // reached the function without the authorizer's claims is refused.
    let (status, body) = invoke(&ingest, signed_in(get.clone(), Some("m-2"), &["oms/orders.read"])).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::NOT_FOUND, &Value::from("order_not_found")), "{body}");
    get["requestContext"].as_object_mut().unwrap().remove("authorizer");
    let (status, body) = invoke(&ingest, get).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::UNAUTHORIZED, &Value::from("unauthenticated")), "{body}");

    // A buyer looks the order up with its number and phone (no authorizer on the route),
    // through ingest-order on DynamoDB's by_order_number index; a wrong phone finds nothing.
    let lookup = event("apigw-http-track-lookup.json");
    assert!(lookup["requestContext"]["authorizer"].is_null());
    let (status, view) = invoke(&ingest, lookup.clone()).await;
    assert_eq!(
        (status, &view["status"], &view["phone"]),
        (StatusCode::OK, &Value::from("reserved"), &Value::from("138****0000")),
        "{view}"
    );
    let mut wrong = lookup;
    wrong["body"] = r#"{"merchant":"m-1","order_number":"A-1001","phone":"139 0000 0000"}"#.into();
    wrong["headers"].as_object_mut().unwrap().remove("content-length");
    let (status, body) = invoke(&ingest, wrong).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::NOT_FOUND, &Value::from("not_found")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_is_reported_as_a_batch_item_failure_and_the_rest_succeed() {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("poison").await;
    let state = lambda_state(&aws);
    let mut records: Vec<SqsMessage> = serde_json::from_value(event("sqs-allocate.json")["Records"].clone()).unwrap();
    records[1].body = Some("{not json".into());
    let unreadable = records[1].message_id.clone().unwrap();
    let mut wrong_kind = records[0].clone();
    wrong_kind.message_id = Some("wrong-kind".into());
    wrong_kind.body = Some(Outgoing::of(&ReserveOrder { order_id: OrderId::generate() }).body);
    records.push(wrong_kind);
    let response = oms_lambda::sqs::handle_records(&Allocate::default(), &state.ports, records, BUDGET).await;
    let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(
        failed,
        [unreadable.as_str(), "wrong-kind"],
        "only the unreadable message and the reserve message on the allocate queue fail; an unknown order is skipped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_lambda_a_channel_without_a_secret_refuses_its_webhooks() {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("nosecret").await;
    let state = AppState { secrets: ChannelSecrets::default().into(), ..lambda_state(&aws) };
    let (status, body) = invoke(&oms_api::routes::orders_api(state), event("apigw-http-generic-order.json")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "channel_not_configured");
}

/// The sample GET event, pointed at `method path?query` of ingest-order.
fn alert_event(method: &str, path: &str, query: &str, id: Option<&str>) -> Value {
    let mut e = event("apigw-http-get-order.json");
    let route = if id.is_some() { path.replace(id.unwrap_or_default(), "{id}") } else { path.to_owned() };
    e["routeKey"] = format!("{method} {route}").into();
    e["requestContext"]["routeKey"] = e["routeKey"].clone();
    e["rawPath"] = path.into();
    e["rawQueryString"] = query.into();
    e["requestContext"]["http"]["method"] = method.into();
    e["requestContext"]["http"]["path"] = path.into();
    e["pathParameters"] = id.map_or(Value::Null, |id| serde_json::json!({ "id": id }));
    if !query.is_empty() {
        let params: serde_json::Map<String, Value> =
            query.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (k.to_owned(), Value::from(v))).collect();
        e["queryStringParameters"] = Value::Object(params);
    }
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_list_and_acknowledge_alerts_through_ingest_order_on_dynamodb() {
    use oms_domain::alert::{Alert, AlertKind};
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("alerts").await;
    let state = lambda_state(&aws);
    let ingest = oms_api::routes::orders_api(state.clone());
    let order_id = OrderId::generate();
    let merchant = oms_domain::MerchantId::parse("m-1").unwrap();
    let alert = Alert::about_order(AlertKind::ChannelCancelRefused, &order_id, &merchant, "shipped", chrono::Utc::now());
    oms_domain::usecases::alerts::raise_alert(&state.ports, alert.clone()).await.unwrap();

    let (status, body) = invoke(&ingest, alert_event("GET", "/alerts", "status=open&limit=10", None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((&body["alerts"][0]["alert_id"], &body["next"]), (&Value::from(alert.alert_id.as_str()), &Value::Null), "{body}");

    let path = format!("/alerts/{}/acknowledge", alert.alert_id);
    let (status, body) = invoke(&ingest, alert_event("POST", &path, "", Some(alert.alert_id.as_str()))).await;
    assert_eq!((status, &body["status"]), (StatusCode::OK, &Value::from("acknowledged")), "{body}");
    let (status, body) = invoke(&ingest, alert_event("GET", "/alerts", "status=bogus", None)).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::BAD_REQUEST, &Value::from("invalid_request")), "{body}");
    let (status, body) = invoke(&ingest, alert_event("POST", "/alerts/alt_nope/resolve", "", Some("alt_nope"))).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::NOT_FOUND, &Value::from("alert_not_found")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_function_queues_again_an_order_stuck_past_its_limit_on_dynamodb() {
    use oms_domain::usecases::sweep::Repair;
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("sweep").await;
    let sqs = aws_sdk_sqs::Client::new(&emulator.sdk_config().await);
    let state = lambda_state(&aws);
    // An order received twenty minutes ago whose allocation message was lost (its outbox
    // item never relayed, as when the stream gave up on it).
    let mut order = oms_conformance::fixtures::order(Channel::Generic, "SWEPT-1");
    let long_ago = chrono::Utc::now() - chrono::Duration::minutes(20);
    order.placed_at = long_ago;
    order.timeline.iter_mut().for_each(|entry| entry.at = long_ago);
    assert!(matches!(state.ports.orders.insert_order(&order).await.unwrap(), oms_domain::ports::InsertOutcome::Inserted));
    assert!(drain(&aws, &sqs, QueueName::Allocate).await.is_empty());

    // sweep-orders' handler, given the schedule's sample event.
    let payload = serde_json::from_value(event("schedule-sweep.json")).expect("an EventBridge event");
    let invocation = lambda_runtime::LambdaEvent::new(payload, lambda_runtime::Context::default());
    let report = oms_lambda::schedule::sweep_orders(&state.ports, invocation).await.unwrap();
    let repaired: Vec<_> = report.repaired.iter().map(|r| (r.order_id.clone(), r.status, r.repair)).collect();
    assert_eq!(repaired, vec![(order.order_id.clone(), OrderStatus::Received, Repair::Allocate)]);
    // The repair is a note on the order with its message, one write: relayed like any other.
    assert_eq!(relay(&aws, &mut TableStream::new(), &state).await, 1);
    let records = drain(&aws, &sqs, QueueName::Allocate).await;
    assert_eq!(records.len(), 1, "{records:?}");
    let response = oms_lambda::sqs::handle_records(&Allocate::default(), &state.ports, records, BUDGET).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let order = state.ports.orders.get_order(&order.order_id).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::Backordered, "planned (no stock here, so backordered): moved on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconcile_function_finds_no_drift_after_stock_moves_and_fails_on_a_stock_changed_behind_the_ledger() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use oms_conformance::fixtures::{hold, line, merchant, order_id, reserved, sku, warehouse_id};
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("reconcile").await;
    let ports = aws.ports(Arc::new(SystemClock));
    let (wh, owner, sku_1) = (warehouse_id("WH-A"), merchant("m-1"), sku("SKU-1"));
    assert!(ports.inventory.set_on_hand(&wh, &owner, &sku_1, 10).await.is_ok());
    let (kept, released) = (order_id(), order_id());
    let _ = reserved(ports.inventory.reserve(&kept, &hold([line("WH-A", "SKU-1", 3)])).await.unwrap());
    let hold_id = reserved(ports.inventory.reserve(&released, &hold([line("WH-A", "SKU-1", 2)])).await.unwrap());
    assert!(ports.inventory.release(&released, &hold_id).await.is_ok());
    let adjustment = oms_domain::ledger::Adjustment::Delta { delta: -1, reason: "damaged".into() };
    assert!(ports.inventory.adjust(&wh, &owner, &sku_1, &adjustment).await.is_ok());

    // reconcile-stock's handler, given the schedule's sample event.
    let run = || {
        let payload = serde_json::from_value(event("schedule-reconcile.json")).expect("an EventBridge event");
        lambda_runtime::LambdaEvent::new(payload, lambda_runtime::Context::default())
    };
    let answer = oms_lambda::schedule::reconcile_stock(&ports, run()).await.unwrap();
    assert_eq!((answer.stocks, answer.open_holds, answer.entries), (1, 1, 5));

    // A unit appears on the stock item with no ledger entry (a hand edit, a bug): a drift.
    aws.dynamo()
        .client()
        .update_item()
        .table_name(aws.dynamo().table())
        .key("pk", AttributeValue::S("STOCK#SKU-1".into()))
        .key("sk", AttributeValue::S("WAREHOUSE#WH-A#MERCHANT#m-1".into()))
        .update_expression("SET on_hand = on_hand + :one, available = available + :one")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    let err = oms_lambda::schedule::reconcile_stock(&ports, run()).await.unwrap_err().to_string();
    assert!(err.contains("DRIFT SKU-1 in WH-A (owner m-1): on hand 10 but the ledger sums to 9"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_sends_the_sample_stream_events_message_and_skips_what_is_not_an_outbox_insert() {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("relay").await;
    let sqs = aws_sdk_sqs::Client::new(&emulator.sdk_config().await);
    let state = lambda_state(&aws);
    let mut records: Vec<DynamoEventRecord> =
        serde_json::from_value(event("dynamodb-stream-outbox.json")["Records"].clone()).expect("a stream event");
    let mut modify = records[0].clone();
    modify.event_name = "MODIFY".into();
    let mut order_item = records[0].clone();
    order_item.change.new_image =
        serde_json::from_value(serde_json::json!({"pk": {"S": "ORDER#ord_1"}, "sk": {"S": "ORDER"}})).unwrap();
    records.extend([modify, order_item]);
    let response = oms_lambda::stream::relay_records(&*state.ports.queue, records).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let sent = drain(&aws, &sqs, QueueName::Allocate).await;
    let bodies: Vec<_> = sent.iter().map(|r| r.body.clone().unwrap_or_default()).collect();
    assert_eq!(bodies, vec![r#"{"order_id":"ord_01HZZZZZZZZZZZZZZZZZZZZZZZ","type":"allocate_order"}"#.to_owned()]);
}

/// A purchase history in the retrain columns: two SKUs, a quantity break, nine customers.
fn purchase_history(rows: u32) -> String {
    let mut csv = String::from("customer_id,sku,quantity,unit_price,purchased_at,province,city,address\n");
    for row in 0..rows {
        let quantity = row % 13 + 1;
        let price = if quantity >= 8 { 18.5 } else { 21.0 } + f64::from(row % 3);
        let (day, hour) = (row / 24 % 28 + 1, row % 24);
        csv.push_str(&format!(
            "c-{},SKU-{},{quantity},{price:.2},2026-10-{day:02}T{hour:02}:00:00Z,Zhejiang,Hangzhou,\n",
            row % 9,
            row % 2
        ));
    }
    csv
}

fn schedule_event(
    name: &str,
    at: &str,
) -> lambda_runtime::LambdaEvent<aws_lambda_events::event::eventbridge::EventBridgeEvent<Value>> {
    let mut event = event(name);
    event["time"] = at.into();
    lambda_runtime::LambdaEvent::new(
        serde_json::from_value(event).expect("an EventBridge event"),
        lambda_runtime::Context::default(),
    )
}

/// Writes `orders` reserved orders of `merchant` (each customer `<prefix>-<n>` buying
/// `basket`, lines at `price` and `price` + 10) into the sales history, as reserve-stock
/// records a reservation: the order's write with its sale.
async fn reserved_sales(
    ports: &oms_domain::ports::Ports,
    merchant: &str,
    prefix: &str,
    basket: [&str; 2],
    price: i64,
    orders: u32,
) {
    use oms_domain::ports::{Effects, InsertOutcome, UpdateOutcome};
    for index in 0..orders {
        let mut order = oms_conformance::fixtures::order(Channel::Generic, &format!("{merchant}-{prefix}-{index}"));
        order.merchant_id = oms_domain::MerchantId::parse(merchant).expect("a merchant");
        order.customer.id = oms_domain::CustomerId::parse(format!("{prefix}-{}", index % 12)).expect("a customer");
        order.placed_at += chrono::Duration::hours(i64::from(index) * 5);
        let mut second = order.lines[0].clone();
        second.sku = oms_domain::Sku::parse(basket[1]).expect("a SKU");
        second.unit_price = rust_decimal::Decimal::from(price + 10 + i64::from(index % 3));
        order.lines[0].sku = oms_domain::Sku::parse(basket[0]).expect("a SKU");
        order.lines[0].unit_price = rust_decimal::Decimal::from(price + i64::from(index % 3));
        order.lines.push(second);
        assert_eq!(ports.orders.insert_order(&order).await.expect("insert"), InsertOutcome::Inserted);
        let mut reserved = oms_conformance::fixtures::stored(&order);
        reserved.status = OrderStatus::Reserved;
        let sale = oms_domain::sales::Sale::of(&reserved);
        let written = ports.orders.update_order_with(&reserved, &Effects::record_sale(sale)).await.expect("the write");
        assert!(matches!(written, UpdateOutcome::Updated { .. }));
    }
}

/// An API Gateway event of `method path` (`route` its route key) by `merchant`'s storefront.
fn storefront_event(method: &str, route: &str, path: &str, query: &str, body: Option<&str>, merchant: &str) -> Value {
    let mut e = event("apigw-http-generic-order.json");
    e["routeKey"] = format!("{method} {route}").into();
    e["requestContext"]["routeKey"] = e["routeKey"].clone();
    e["requestContext"]["http"]["method"] = method.into();
    e["rawPath"] = path.into();
    e["requestContext"]["http"]["path"] = path.into();
    e["rawQueryString"] = query.into();
    e["pathParameters"] = Value::Null;
    e["body"] = body.map_or(Value::Null, Value::from);
    e["isBase64Encoded"] = false.into();
    e["headers"].as_object_mut().expect("headers").remove("content-length");
    signed_in(e, Some(merchant), &["oms/storefront"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrain_model_trains_each_merchant_on_its_dynamodb_sales_and_quote_price_answers_quotes_and_offers() {
    use oms_lambda::pricing;
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("pricing").await;
    let artifacts = aws.artifacts().clone();
    let ports = aws.ports(Arc::new(SystemClock));
    let margin = oms_pricing::DEFAULT_MIN_MARGIN;
    let quote_body = r#"{"customer_id":"tea-1","sku":"TEA","quantity":1,"province":"Zhejiang","city":"Hangzhou"}"#;
    let quote_event = |merchant: &str| storefront_event("POST", "/quotes", "/quotes", "", Some(quote_body), merchant);
    let quotes =
        |model: &oms_api::PricingModel| oms_api::routes::quotes_api(AppState { pricing: model.clone(), ..lambda_state(&aws) });

    // Before any model: quote-price says so; a retrain with no history publishes nothing.
    let (status, body) = invoke(&quotes(&oms_api::PricingModel::default()), quote_event("m-1")).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::SERVICE_UNAVAILABLE, &Value::from("no_pricing_model")), "{body}");
    let report = oms_lambda::schedule::retrain(
        &artifacts,
        &ports,
        margin,
        schedule_event("schedule-retrain.json", "2026-11-21T02:00:00Z"),
    )
    .await
    .expect("a retrain with nothing to learn");
    assert_eq!(report["merchants"], serde_json::json!({}));

    // m-1 sells tea with cups dear; m-2 sells the same SKUs cheap. Both reserve orders.
    reserved_sales(&ports, "m-1", "tea", ["TEA", "CUP"], 200, 60).await;
    reserved_sales(&ports, "m-2", "tea", ["TEA", "CUP"], 20, 60).await;
    // A purchase history CSV (no merchant column: the default merchant's) trains beside them.
    artifacts.put_object(pricing::HISTORY_KEY, purchase_history(600).into_bytes()).await.unwrap();
    let report = oms_lambda::schedule::retrain(
        &artifacts,
        &ports,
        margin,
        schedule_event("schedule-retrain.json", "2026-11-21T02:00:00Z"),
    )
    .await
    .expect("the scheduled retrain");
    let trained: Vec<&String> = report["merchants"].as_object().expect("reports by merchant").keys().collect();
    assert_eq!(trained, ["default", "m-1", "m-2"], "{report}");
    assert!(report["merchants"]["m-1"]["candidates"].as_array().is_some_and(|c| !c.is_empty()), "{report}");
    let first = pricing::current_version(&artifacts, "m-1").await.unwrap().expect("m-1's pointer moved");
    assert!(artifacts.get_object(&format!("reports/m-1/{first}.json")).await.unwrap().is_some(), "the report is beside it");

    // quote-price, as its container starts: each merchant's model answers its own quotes.
    let model = oms_api::PricingModel::new(pricing::load_current(&artifacts).await.unwrap());
    let price = |quote: &Value| quote["price"].as_str().and_then(|p| p.parse::<f64>().ok()).unwrap_or(f64::NAN);
    let (status, dear) = invoke(&quotes(&model), quote_event("m-1")).await;
    assert_eq!(status, StatusCode::OK, "{dear}");
    assert_eq!(dear["model_version"], Value::from(first.as_str()), "{dear}");
    let (_, cheap) = invoke(&quotes(&model), quote_event("m-2")).await;
    assert!(price(&dear) > 150.0 && price(&cheap) < 40.0, "each from its own sales: m-1 {dear}, m-2 {cheap}");

    // Offers: a customer who bought only tea from m-1 is offered the cups tea buyers buy.
    reserved_sales(&ports, "m-1", "lone", ["TEA", "TEA"], 200, 1).await;
    oms_lambda::schedule::retrain(&artifacts, &ports, margin, schedule_event("schedule-retrain.json", "2026-11-22T02:00:00Z"))
        .await
        .expect("the next retrain");
    let second = pricing::current_version(&artifacts, "m-1").await.unwrap().expect("the pointer");
    assert_ne!(second, first);
    // The running container follows the pointer to the new model.
    pricing::follow_current(artifacts.clone(), model.clone(), model.versions(), std::time::Duration::from_millis(50));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while model.current("m-1").map(|artifact| artifact.version.clone()) != Some(second.clone()) {
        assert!(std::time::Instant::now() < deadline, "quote-price did not follow the pointer to {second}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let offers_event = storefront_event("GET", "/customers/{id}/offers", "/customers/lone-0/offers", "limit=2", None, "m-1");
    let (status, offers) = invoke(&quotes(&model), offers_event).await;
    assert_eq!(status, StatusCode::OK, "{offers}");
    assert_eq!(offers["customer_id"], "lone-0");
    let list = offers["offers"].as_array().expect("offers");
    let cup = list.iter().find(|offer| offer["sku"] == "CUP").expect("the cups tea buyers buy");
    assert!(cup["reason"].as_str().is_some_and(|r| r.contains("TEA")), "{offers}");
    // Tea buyers buy tea again (every one of m-1's did): offered again, and said so.
    assert!(list.iter().any(|offer| offer["sku"] == "TEA" && offer["reason"].as_str().is_some_and(|r| r.contains("again"))));
    assert!(list.iter().all(|offer| price(offer) > 150.0), "priced by m-1's model: {offers}");

    // Recommendations: the same ranking kept to what m-1 lists and has in stock (the cups,
    // 4 in WH-REC; none of its tea), read from DynamoDB by quote-price.
    let m1 = oms_domain::MerchantId::parse("m-1").expect("a merchant");
    let wh = oms_domain::WarehouseId::parse("WH-REC").expect("an id");
    let warehouse = oms_domain::stock::Warehouse::new(wh.clone(), "WH-REC", m1.clone(), "Zhejiang", "Hangzhou", 30.0, 120.0)
        .expect("a warehouse");
    ports.warehouses.put_warehouse(&warehouse).await.expect("stored");
    for sku in ["TEA", "CUP"] {
        let facts = oms_domain::catalogue::UncheckedSkuFacts {
            merchant_id: "m-1".into(),
            name: format!("{sku} of m-1"),
            category: "tea".into(),
            cost: rust_decimal::Decimal::from(10),
            list_price: rust_decimal::Decimal::from(400),
            weight_g: 100,
            dims_mm: [1, 1, 1],
            traits: vec![],
        };
        let facts = oms_domain::catalogue::SkuFacts::new(oms_domain::Sku::parse(sku).expect("a SKU"), facts).expect("facts");
        ports.catalogue.put_sku(&facts).await.expect("stored");
    }
    let cup = oms_domain::Sku::parse("CUP").expect("a SKU");
    assert!(ports.inventory.set_on_hand(&wh, &m1, &cup, 4).await.is_ok());
    let path = "/customers/lone-0/recommendations";
    let event = storefront_event("GET", "/customers/{id}/recommendations", path, "limit=2", None, "m-1");
    let (status, answer) = invoke(&quotes(&model), event).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["model_version"], Value::from(second.as_str()), "{answer}");
    let recommended = &answer["recommendations"][0];
    assert_eq!((recommended["sku"].as_str(), recommended["available"].as_u64()), (Some("CUP"), Some(4)), "{answer}");
    assert_eq!(recommended["ships_from"], "WH-REC", "{answer}");
    let left_out = answer["left_out"].as_array().expect("left out");
    assert!(left_out.iter().any(|l| l["sku"] == "TEA" && l["why"] == "out_of_stock"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storefronts_browsing_goes_through_quote_price_into_dynamodb_once_and_the_retrain_learns_from_it() {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("browsing").await;
    let artifacts = aws.artifacts().clone();
    let ports = aws.ports(Arc::new(SystemClock));
    let quotes =
        |model: &oms_api::PricingModel| oms_api::routes::quotes_api(AppState { pricing: model.clone(), ..lambda_state(&aws) });
    for sku in ["TEA", "CUP"] {
        let facts = oms_domain::catalogue::UncheckedSkuFacts {
            merchant_id: "m-1".into(),
            name: format!("{sku} of m-1"),
            category: sku.to_lowercase(),
            cost: rust_decimal::Decimal::from(10),
            list_price: rust_decimal::Decimal::from(400),
            weight_g: 100,
            dims_mm: [1, 1, 1],
            traits: vec![],
        };
        let facts = oms_domain::catalogue::SkuFacts::new(oms_domain::Sku::parse(sku).expect("a SKU"), facts).expect("facts");
        ports.catalogue.put_sku(&facts).await.expect("stored");
    }
    let at = (chrono::Utc::now() - chrono::Duration::minutes(10)).to_rfc3339();
    let body = serde_json::json!({ "idempotency_key": "batch-1", "events": [
        { "kind": "view", "sku": "CUP", "at": at },
        { "kind": "cart_add", "sku": "CUP", "at": at },
    ] })
    .to_string();
    let post = storefront_event("POST", "/customers/{id}/events", "/customers/browser-1/events", "", Some(&body), "m-1");
    let model = oms_api::PricingModel::default();
    let (status, answer) = invoke(&quotes(&model), post.clone()).await;
    assert_eq!((status, &answer["duplicate"]), (StatusCode::ACCEPTED, &Value::from(false)), "{answer}");
    let (status, answer) = invoke(&quotes(&model), post).await;
    assert_eq!((status, &answer["duplicate"]), (StatusCode::OK, &Value::from(true)), "a retry stores nothing: {answer}");
    let m1 = oms_domain::MerchantId::parse("m-1").expect("a merchant");
    let now = chrono::Utc::now();
    let stored = ports.browsing.browsing_between(&m1, now - chrono::Duration::days(1), now).await.expect("the browsing");
    let kinds: Vec<&str> = stored.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["view", "cart_add"], "stored once in the day's partition");
    let other = oms_domain::MerchantId::parse("m-2").expect("a merchant");
    assert!(ports.browsing.browsing_between(&other, now - chrono::Duration::days(1), now).await.expect("read").is_empty());

    // The retrain reads the browsing: a customer who never bought is recommended the cup
    // it looked at, not only the best sellers.
    reserved_sales(&ports, "m-1", "tea", ["TEA", "TEA"], 200, 40).await;
    oms_lambda::schedule::retrain(
        &artifacts,
        &ports,
        oms_pricing::DEFAULT_MIN_MARGIN,
        schedule_event("schedule-retrain.json", "2026-11-21T02:00:00Z"),
    )
    .await
    .expect("the scheduled retrain");
    let current = oms_lambda::pricing::load_current(&artifacts).await.unwrap();
    let artifact = current.iter().find(|artifact| artifact.merchant_id == "m-1").expect("m-1's model");
    let offers = artifact.offers.offers("browser-1", None, chrono::Utc::now(), 2);
    assert_eq!(offers[0].sku, "CUP", "what it browsed leads: {offers:?}");
    assert!(offers[0].reason.contains("put it in its cart"), "{offers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_order_reads_the_webhook_secrets_from_secrets_manager_and_follows_a_rotation() {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("secrets").await;
    let sdk = emulator.sdk_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let name = format!("channel-secrets-{}", OrderId::generate());
    let created = client
        .create_secret()
        .name(&name)
        .secret_string(serde_json::json!({ "generic": SAMPLE_SECRET }).to_string())
        .send()
        .await
        .expect("the secret is created");
    let arn = created.arn().expect("the secret's ARN").to_owned();
    let secrets = oms_lambda::webhook_secrets(&sdk, &arn, std::time::Duration::ZERO).await.expect("the secrets are read");
    let ingest = oms_api::routes::orders_api(AppState { secrets, ..lambda_state(&aws) });

    // The sample webhook is signed with the secret in the store: taken.
    let (status, body) = invoke(&ingest, event("apigw-http-generic-order.json")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    // The secret is rotated in the store; the shop signs with the new one from then on.
    let rotated = "rotated-generic-secret";
    client
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(serde_json::json!({ "generic": rotated }).to_string())
        .send()
        .await
        .expect("the secret is rotated");
    let mut resigned = event("apigw-http-generic-order.json");
    let mut order: Value = serde_json::from_str(resigned["body"].as_str().unwrap()).unwrap();
    order["external_id"] = "ROTATED-1".into();
    let body = order.to_string();
    let signature = oms_channels::signature::sign(Channel::Generic, rotated.as_bytes(), body.as_bytes());
    resigned["body"] = body.into();
    resigned["headers"]["x-oms-signature"] = signature.into();
    resigned["headers"].as_object_mut().unwrap().remove("content-length");
    let (status, answer) = invoke(&ingest, resigned).await;
    assert_eq!(status, StatusCode::ACCEPTED, "the rotation needs no redeploy: {answer}");
    // The old secret no longer signs.
    let (status, answer) = invoke(&ingest, event("apigw-http-generic-order.json")).await;
    assert_eq!((status, &answer["error"]["code"]), (StatusCode::UNAUTHORIZED, &Value::from("bad_signature")), "{answer}");
}

/// The sample claim event, pointed at `sale` with this customer, key and quantity.
fn claim_event(sale: &str, customer: &str, key: &str, quantity: u32) -> Value {
    let mut e = event("apigw-http-post-flash-sale-claim.json");
    let path = format!("/flash-sales/{sale}/claims");
    e["rawPath"] = path.clone().into();
    e["requestContext"]["http"]["path"] = path.into();
    e["pathParameters"] = serde_json::json!({ "id": sale });
    let mut body: Value = serde_json::from_str(e["body"].as_str().expect("a body")).expect("JSON");
    body["customer_id"] = customer.into();
    body["idempotency_key"] = key.into();
    body["quantity"] = quantity.into();
    e["body"] = body.to_string().into();
    e["headers"].as_object_mut().expect("headers").remove("content-length");
    signed_in(e, Some("m-1"), &["oms/storefront"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flash_sale_is_claimed_through_flash_sale_claim_and_its_order_reserved_from_the_set_aside_on_dynamodb() {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("flash").await;
    let sqs = aws_sdk_sqs::Client::new(&emulator.sdk_config().await);
    let mut stream = TableStream::new();
    let state = lambda_state(&aws);
    let flash = oms_api::routes::flash_sales_api(state.clone());
    stock_wh_hz_1(&oms_api::routes::inventory_api(state.clone())).await;

    let mut create = event("apigw-http-post-flash-sale-claim.json");
    for (at, value) in [("rawPath", "/flash-sales"), ("routeKey", "POST /flash-sales")] {
        create[at] = value.into();
    }
    create["requestContext"]["http"]["path"] = "/flash-sales".into();
    create["requestContext"]["routeKey"] = "POST /flash-sales".into();
    create["pathParameters"] = Value::Null;
    let now = chrono::Utc::now();
    create["body"] = serde_json::json!({
        "merchant_id": "m-1", "sku": "SKU-1", "units": 2, "per_customer_limit": 1, "shards": 2,
        "starts_at": now - chrono::Duration::minutes(1), "ends_at": now + chrono::Duration::hours(1)
    })
    .to_string()
    .into();
    create["headers"].as_object_mut().expect("headers").remove("content-length");
    let (status, sale) = invoke(&flash, signed_in(create, Some("m-1"), &["oms/inventory.write"])).await;
    assert_eq!(status, StatusCode::CREATED, "{sale}");
    let sale_id = sale["sale_id"].as_str().expect("a sale id").to_owned();

    let (status, claim) = invoke(&flash, claim_event(&sale_id, "c-1", "k-1", 1)).await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let (status, again) = invoke(&flash, claim_event(&sale_id, "c-1", "k-1", 1)).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &claim));
    let (status, over) = invoke(&flash, claim_event(&sale_id, "c-1", "k-2", 1)).await;
    assert_eq!((status, &over["error"]["code"]), (StatusCode::TOO_MANY_REQUESTS, &Value::from("limit_exceeded")));
    let (status, _) = invoke(&flash, claim_event(&sale_id, "c-2", "k-3", 1)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, gone) = invoke(&flash, claim_event(&sale_id, "c-3", "k-4", 1)).await;
    assert_eq!((status, &gone["error"]["code"]), (StatusCode::CONFLICT, &Value::from("sold_out")));

    // The claim's order went out with it, as an outbox item; allocate and reserve-stock
    // carry it to reserved from the units the sale set aside.
    let order_id = OrderId::parse(claim["order_id"].as_str().expect("an order id")).expect("an order id");
    assert_eq!(relay(&aws, &mut stream, &state).await, 2, "one outbox item per claim");
    let records = drain(&aws, &sqs, QueueName::Allocate).await;
    let response = oms_lambda::sqs::handle_records(&Allocate::default(), &state.ports, records.clone(), BUDGET).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    delete(&aws, &sqs, QueueName::Allocate, &records).await;
    relay(&aws, &mut stream, &state).await;
    let records = drain(&aws, &sqs, QueueName::Reserve).await;
    let response = oms_lambda::sqs::handle_records(&Reserve, &state.ports, records.clone(), BUDGET).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let order = state.ports.orders.get_order(&order_id).await.unwrap().unwrap();
    assert_eq!((order.status, order.channel), (OrderStatus::Reserved, Channel::FlashSale));
    let levels = state.ports.inventory.stock_of(&order.lines[0].sku).await.unwrap();
    assert_eq!((levels[0].on_hand, levels[0].reserved, levels[0].available), (100, 2, 98), "the hold is inside the set-aside");

    // The merchant's operator ends it early through the same function: ended and closed,
    // no claim taken after, and ending it again answers the same sale.
    let end = || {
        let mut e = event("apigw-http-post-flash-sale-claim.json");
        let path = format!("/flash-sales/{sale_id}/end");
        e["rawPath"] = path.clone().into();
        e["routeKey"] = "POST /flash-sales/{id}/end".into();
        e["requestContext"]["http"]["path"] = path.into();
        e["requestContext"]["routeKey"] = "POST /flash-sales/{id}/end".into();
        e["pathParameters"] = serde_json::json!({ "id": sale_id });
        e["body"] = Value::Null;
        e["headers"].as_object_mut().expect("headers").remove("content-length");
        e
    };
    let (status, refused) = invoke(&flash, signed_in(end(), Some("m-1"), &["oms/storefront"])).await;
    assert_eq!((status, &refused["error"]["code"]), (StatusCode::FORBIDDEN, &Value::from("forbidden")));
    let (status, other) = invoke(&flash, signed_in(end(), Some("m-2"), &["oms/inventory.write"])).await;
    assert_eq!((status, &other["error"]["code"]), (StatusCode::NOT_FOUND, &Value::from("flash_sale_not_found")));
    let (status, ended) = invoke(&flash, signed_in(end(), Some("m-1"), &["oms/inventory.write"])).await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(
        (&ended["state"], &ended["units_claimed"], &ended["units_returned"]),
        (&serde_json::json!("ended"), &serde_json::json!(2), &serde_json::json!(0))
    );
    assert!(ended["closed_at"].is_string(), "{ended}");
    let (status, late) = invoke(&flash, claim_event(&sale_id, "c-4", "k-5", 1)).await;
    assert_eq!((status, &late["error"]["code"]), (StatusCode::GONE, &Value::from("not_active")), "{late}");
    let (status, again) = invoke(&flash, signed_in(end(), Some("m-1"), &["oms/inventory.write"])).await;
    assert_eq!((status, &again), (StatusCode::OK, &ended));
}

/// The sample GET event turned into `method path` of track-shipment (route `route`, path
/// parameters `params`), with `body` and extra `headers`.
fn tracking_request(
    method: &str,
    path: &str,
    route: &str,
    params: Value,
    body: Option<&[u8]>,
    headers: &[(&str, String)],
) -> Value {
    let mut e = event("apigw-http-get-order.json");
    e["routeKey"] = format!("{method} {route}").into();
    e["requestContext"]["routeKey"] = e["routeKey"].clone();
    e["rawPath"] = path.into();
    e["requestContext"]["http"]["method"] = method.into();
    e["requestContext"]["http"]["path"] = path.into();
    e["pathParameters"] = params;
    if let Some(body) = body {
        e["body"] = String::from_utf8(body.to_vec()).expect("a JSON body").into();
        e["isBase64Encoded"] = false.into();
        e["headers"]["content-type"] = "application/json".into();
    }
    for (name, value) in headers {
        e["headers"][*name] = value.clone().into();
    }
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn track_shipment_records_a_shipment_takes_aftership_and_easypost_events_and_reads_delivered_on_dynamodb() {
    use oms_channels::signature::{sign_tracking, tracking_header_name, TrackingFormat};
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("tracking").await;
    let secret = "carrier-secret";
    let secrets = ChannelSecrets::default().with_carrier("aftership", secret).with_carrier("easypost", secret);
    let state = AppState { secrets: secrets.into(), ..lambda_state(&aws) };
    stock_wh_hz_1(&oms_api::routes::inventory_api(state.clone())).await;
    let ports = &state.ports;
    let new =
        oms_channels::normalise(Channel::Generic, event("apigw-http-generic-order.json")["body"].as_str().unwrap().as_bytes())
            .expect("the sample order");
    let order_id = oms_domain::usecases::intake::receive_order(ports, new).await.unwrap().order_id;
    oms_domain::usecases::fulfilment::allocate_order(ports, &order_id).await.unwrap();
    oms_domain::usecases::fulfilment::reserve_order(ports, &order_id).await.unwrap();
    let tracking = oms_api::routes::tracking_api(state.clone());
    let staff = |e: Value| signed_in(e, Some("m-1"), &["oms/orders.read", "oms/orders.write"]);

    // The warehouse reports the parcel: both units held leave the stock.
    let path = format!("/orders/{order_id}/shipments");
    let body = br#"{"carrier":"sf","tracking_number":"SF-AWS-1","lines":[{"sku":"SKU-1","quantity":2}]}"#;
    let request =
        tracking_request("POST", &path, "/orders/{id}/shipments", serde_json::json!({"id": order_id.as_str()}), Some(body), &[]);
    let (status, receipt) = invoke(&tracking, staff(request)).await;
    assert_eq!((status, &receipt["order_status"]), (StatusCode::CREATED, &Value::from("shipped")), "{receipt}");
    let levels = ports.inventory.stock_of(&oms_domain::Sku::parse("SKU-1").unwrap()).await.unwrap();
    assert_eq!((levels[0].on_hand, levels[0].reserved, levels[0].available), (98, 0, 98));

    // AfterShip says in transit, EasyPost says delivered: each signed its own way.
    let aftership = serde_json::json!({"event": "tracking_update", "msg": {"tracking_number": "SF-AWS-1", "slug": "sf-express",
        "tag": "InTransit", "checkpoints": [{"checkpoint_time": "2026-11-21T10:00:00Z", "tag": "InTransit", "message": "Departed", "city": "Hangzhou"}]}})
    .to_string();
    let easypost = serde_json::json!({"id": "evt_1", "object": "Event", "description": "tracker.updated", "result": {"object": "Tracker",
        "tracking_code": "SF-AWS-1", "status": "delivered", "tracking_details": [{"object": "TrackingDetail", "status": "delivered",
        "message": "Delivered", "datetime": "2026-11-22T09:00:00Z", "tracking_location": {"city": "Hangzhou"}}]}})
    .to_string();
    for (carrier, format, body) in
        [("aftership", TrackingFormat::AfterShip, aftership), ("easypost", TrackingFormat::EasyPost, easypost)]
    {
        let header = (tracking_header_name(format), sign_tracking(format, secret.as_bytes(), body.as_bytes()));
        let path = format!("/carriers/{carrier}/events");
        let params = serde_json::json!({"carrier": carrier});
        let mut request = tracking_request("POST", &path, "/carriers/{carrier}/events", params, Some(body.as_bytes()), &[header]);
        request["requestContext"].as_object_mut().unwrap().remove("authorizer");
        let (status, answer) = invoke(&tracking, request.clone()).await;
        assert_eq!((status, &answer["accepted"]), (StatusCode::OK, &Value::from(1)), "{answer}");
        request["headers"][tracking_header_name(format)] = "hmac-sha256-hex=00".into();
        let (status, answer) = invoke(&tracking, request).await;
        assert_eq!((status, &answer["error"]["code"]), (StatusCode::UNAUTHORIZED, &Value::from("bad_signature")), "{answer}");
    }

    let path = format!("/orders/{order_id}/tracking");
    let request =
        tracking_request("GET", &path, "/orders/{id}/tracking", serde_json::json!({"id": order_id.as_str()}), None, &[]);
    let (status, view) = invoke(&tracking, staff(request.clone())).await;
    assert_eq!(
        (status, &view["status"], &view["eta"]),
        (StatusCode::OK, &Value::from("delivered"), &Value::from("2026-11-22T09:00:00Z")),
        "{view}"
    );
    let statuses: Vec<&str> =
        view["shipments"][0]["events"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["in_transit", "delivered"]);
    let (status, body) = invoke(&tracking, signed_in(request, Some("m-2"), &["oms/orders.read"])).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::NOT_FOUND, &Value::from("order_not_found")), "{body}");
}

/// The generic sample order, as another order of `merchant` (`external_id` its own).
fn sample_of(merchant: &str, external_id: &str) -> oms_domain::order::NewOrder {
    let body = event("apigw-http-generic-order.json")["body"].as_str().expect("the sample has a body").to_owned();
    let mut body: Value = serde_json::from_str(&body).expect("the sample body is JSON");
    body["merchant_id"] = merchant.into();
    body["external_id"] = external_id.into();
    oms_channels::normalise(Channel::Generic, body.to_string().as_bytes()).expect("the sample order")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_and_reports_in_aws_read_the_scheduled_order_export_and_each_merchant_sees_its_own() {
    use oms_domain::analytics::{Analytics, Dimension};
    use oms_domain::ports::OrderArchive as _;
    use oms_domain::usecases::analytics::{report, AnalyticsQuery};
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("export").await;
    let ports = aws.ports(Arc::new(SystemClock));
    let mut stored = Vec::new();
    for (merchant, external) in [("m-1", "EXP-1"), ("m-1", "EXP-2"), ("m-2", "EXP-3")] {
        let id = oms_domain::usecases::intake::receive_order(&ports, sample_of(merchant, external)).await.unwrap().order_id;
        stored.push(ports.orders.get_order(&id).await.unwrap().unwrap());
    }
    let archive = oms_aws::order_export::ExportedOrders::new(aws.artifacts().clone());
    assert!(archive.orders_after(None, None, 10).await.unwrap().is_empty(), "no export yet: no orders");

    let at = chrono::Utc::now();
    let export = oms_aws::order_export::export_orders(aws.dynamo(), aws.artifacts(), at).await.unwrap();
    let manifest = &export.manifest;
    assert_eq!(manifest.merchants, [("m-1".to_owned(), 2), ("m-2".to_owned(), 1)].into());
    // A fresh reader (a new container) sees the export: every order whole, by id, a page at a time.
    let archive = oms_aws::order_export::ExportedOrders::new(aws.artifacts().clone());
    stored.sort_by(|a, b| a.order_id.cmp(&b.order_id));
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = archive.orders_after(None, after.as_ref(), 2).await.unwrap();
        after = page.last().map(|o| o.order_id.clone());
        let done = page.len() < 2;
        paged.extend(page);
        if done {
            break;
        }
    }
    assert_eq!(paged, stored);
    let m2 = oms_domain::MerchantId::parse("m-2").unwrap();
    let theirs = archive.orders_after(Some(&m2), None, 10).await.unwrap();
    assert_eq!(theirs.iter().map(|o| o.merchant_id.as_str()).collect::<Vec<_>>(), ["m-2"]);

    // The report over the export is the report over the orders themselves.
    let mut query = AnalyticsQuery::parse(Some("2026-11-01"), Some("2026-11-30"), Some("merchant"), at).unwrap();
    let mut expected = Analytics::new(query.from, query.to, Dimension::Merchant);
    stored.iter().for_each(|o| expected.add(o));
    assert_eq!(
        serde_json::to_value(report(&archive, &query).await.unwrap()).unwrap(),
        serde_json::to_value(expected.report()).unwrap()
    );
    // Through ingest-order's router, as a merchant's staff: its own figures, not 501.
    let state = AppState { archive: Some(Arc::new(archive)), ..lambda_state(&aws) };
    let mut get = tracking_request("GET", "/analytics", "/analytics", Value::Null, None, &[]);
    get["rawQueryString"] = "from=2026-11-01&to=2026-11-30&by=merchant".into();
    get["queryStringParameters"] = serde_json::json!({"from": "2026-11-01", "to": "2026-11-30", "by": "merchant"});
    let (status, body) = invoke(&oms_api::routes::orders_api(state), signed_in(get, Some("m-1"), &["oms/orders.read"])).await;
    assert_eq!(
        (status, &body["rates"]["orders"], &body["rows"][0]["key"]),
        (StatusCode::OK, &Value::from(2), &Value::from("m-1")),
        "{body}"
    );

    // The report files of the same pass, in the bucket, listed and served by ingest-order.
    let keys = oms_lambda::reports::write_reports(aws.artifacts(), &ports, &export.orders, at).await.unwrap();
    let run = at.format("%Y%m%dT%H%M%SZ").to_string();
    assert!(
        keys.contains(&format!("reports/{run}/sales.html")) && keys.contains(&format!("reports/{run}/sales.xlsx")),
        "{keys:?}"
    );
    let reports: Arc<dyn oms_api::ReportFiles> = Arc::new(oms_lambda::reports::S3Reports { artifacts: aws.artifacts().clone() });
    let state = AppState { reports: Some(reports), ..lambda_state(&aws) };
    let api = oms_api::routes::orders_api(state);
    let staff = |e: Value| signed_in(e, None, &["oms/platform", "oms/orders.read"]);
    let list = tracking_request("GET", "/reports", "/reports", Value::Null, None, &[]);
    let (status, listed) = invoke(&api, staff(list)).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["reports"].as_array().unwrap().len(), keys.len(), "{listed}");
    let path = format!("/reports/{run}/sales.html");
    let one =
        tracking_request("GET", &path, "/reports/{run}/{file}", serde_json::json!({"run": run, "file": "sales.html"}), None, &[]);
    let request: lambda_http::request::LambdaRequest = serde_json::from_value(staff(one)).unwrap();
    let request: lambda_http::http::Request<lambda_http::Body> = request.into();
    let response = oms_lambda::with_gateway_claims(api.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
    let page = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    assert!(String::from_utf8_lossy(&page).contains("<svg"), "the page carries its charts");

    query.merchant = Some(m2);
    let archive = oms_aws::order_export::ExportedOrders::new(aws.artifacts().clone());
    let mine = serde_json::to_value(report(&archive, &query).await.unwrap()).unwrap();
    assert_eq!((&mine["rates"]["orders"], &mine["rows"][0]["key"]), (&Value::from(1), &Value::from("m-2")), "{mine}");
}

/// The sample bid event turned into `method path` of the auctions function (route `route`),
/// with `body`, signed in for m-1 with `scopes`.
fn auction_request(method: &str, path: &str, route: &str, id: Option<&str>, body: Option<Value>, scopes: &[&str]) -> Value {
    let mut e = event("apigw-http-post-auction-bid.json");
    e["routeKey"] = format!("{method} {route}").into();
    e["requestContext"]["routeKey"] = e["routeKey"].clone();
    e["rawPath"] = path.into();
    e["requestContext"]["http"]["method"] = method.into();
    e["requestContext"]["http"]["path"] = path.into();
    e["pathParameters"] = id.map_or(Value::Null, |id| serde_json::json!({ "id": id }));
    e["body"] = body.map_or(Value::Null, |b| b.to_string().into());
    e["headers"].as_object_mut().expect("headers").remove("content-length");
    signed_in(e, Some("m-1"), scopes)
}

/// A clock two hours ahead: the sweep's run after an auction's end.
struct TwoHoursOn;

impl oms_domain::ports::Clock for TwoHoursOn {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::hours(2)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auction_is_bid_on_through_the_auctions_function_closed_by_the_sweep_and_its_order_reserved_on_dynamodb() {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("auction").await;
    let sqs = aws_sdk_sqs::Client::new(&emulator.sdk_config().await);
    let mut stream = TableStream::new();
    let state = lambda_state(&aws);
    let auctions = oms_api::routes::auctions_api(state.clone());
    stock_wh_hz_1(&oms_api::routes::inventory_api(state.clone())).await;

    let listing = serde_json::json!({
        "merchant_id": "m-1", "sku": "SKU-1", "start_price": "100", "increment": "10", "reserve_price": "110",
        "ends_at": chrono::Utc::now() + chrono::Duration::hours(1),
        "anti_sniping": {"window_minutes": 5, "extension_minutes": 5, "max_extension_minutes": 15}
    });
    let create = auction_request("POST", "/auctions", "/auctions", None, Some(listing), &["oms/inventory.write"]);
    let (status, auction) = invoke(&auctions, create).await;
    assert_eq!(status, StatusCode::CREATED, "{auction}");
    let id = auction["auction_id"].as_str().expect("an auction id").to_owned();
    let bids_path = format!("/auctions/{id}/bids");
    let bid = |customer: &str, key: &str, amount: &str| {
        let body = serde_json::json!({"customer_id": customer, "amount": amount, "idempotency_key": key,
            "shipping_address": {"line1": "1 West Lake Rd", "city": "Hangzhou", "province": "Zhejiang", "country": "CN"}});
        auction_request("POST", &bids_path, "/auctions/{id}/bids", Some(&id), Some(body), &["oms/storefront"])
    };

    let (status, first) = invoke(&auctions, bid("c-1", "k-1", "100")).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = invoke(&auctions, bid("c-1", "k-1", "100")).await;
    assert_eq!((status, &again["bid_id"], &again["repeated"]), (StatusCode::CREATED, &first["bid_id"], &Value::from(true)));
    let (status, equal) = invoke(&auctions, bid("c-2", "k-2", "100")).await;
    assert_eq!((status, &equal["error"]["code"]), (StatusCode::CONFLICT, &Value::from("bid_too_low")), "{equal}");
    let (status, best) = invoke(&auctions, bid("c-2", "k-3", "120")).await;
    assert_eq!(status, StatusCode::CREATED, "{best}");
    let path = format!("/auctions/{id}");
    let (status, shown) =
        invoke(&auctions, auction_request("GET", &path, "/auctions/{id}", Some(&id), None, &["oms/storefront"])).await;
    assert_eq!((status, &shown["best_bid"], &shown["bids"]), (StatusCode::OK, &Value::from("120"), &Value::from(2)), "{shown}");
    assert!(shown.get("reserve_price").is_none(), "bidders never see the reserve: {shown}");

    // sweep-orders' handler, run after the end: the auction closes with c-2's order, which
    // goes out through the outbox and is allocated and reserved as any order.
    let later = oms_domain::ports::Ports { clock: Arc::new(TwoHoursOn), ..state.ports.clone() };
    let payload = serde_json::from_value(event("schedule-sweep.json")).expect("an EventBridge event");
    let invocation = lambda_runtime::LambdaEvent::new(payload, lambda_runtime::Context::default());
    let report = oms_lambda::schedule::sweep_orders(&later, invocation).await.unwrap();
    assert_eq!(report.auctions_closed.len(), 1, "{report:?}");
    let order_id = report.auctions_closed[0].order_id.clone().expect("the winner's order");
    let (status, ended) =
        invoke(&auctions, auction_request("GET", &path, "/auctions/{id}", Some(&id), None, &["oms/orders.read"])).await;
    assert_eq!(
        (status, &ended["outcome"], &ended["order_id"]),
        (StatusCode::OK, &Value::from("won"), &Value::from(order_id.as_str()))
    );
    let listed = format!("/auctions/{id}/bids");
    let (status, bids) =
        invoke(&auctions, auction_request("GET", &listed, "/auctions/{id}/bids", Some(&id), None, &["oms/orders.read"])).await;
    assert_eq!((status, bids["bids"].as_array().map(Vec::len)), (StatusCode::OK, Some(2)), "{bids}");

    assert_eq!(relay(&aws, &mut stream, &state).await, 1, "the winner's order's outbox item");
    let records = drain(&aws, &sqs, QueueName::Allocate).await;
    let response = oms_lambda::sqs::handle_records(&Allocate::default(), &state.ports, records.clone(), BUDGET).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    delete(&aws, &sqs, QueueName::Allocate, &records).await;
    relay(&aws, &mut stream, &state).await;
    let records = drain(&aws, &sqs, QueueName::Reserve).await;
    let response = oms_lambda::sqs::handle_records(&Reserve, &state.ports, records.clone(), BUDGET).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let order = state.ports.orders.get_order(&order_id).await.unwrap().unwrap();
    assert_eq!((order.status, order.channel, order.external_id.as_str()), (OrderStatus::Reserved, Channel::Auction, id.as_str()));
    assert_eq!((order.customer.id.as_str(), order.lines[0].quantity, order.paid), ("c-2", 1, false));
    let again = oms_lambda::schedule::sweep_orders(
        &later,
        lambda_runtime::LambdaEvent::new(
            serde_json::from_value(event("schedule-sweep.json")).expect("an EventBridge event"),
            lambda_runtime::Context::default(),
        ),
    )
    .await
    .unwrap();
    assert!(again.auctions_closed.is_empty(), "closed once");
}

fn group_buy_request(method: &str, path: &str, route: &str, id: Option<&str>, body: Option<Value>, scopes: &[&str]) -> Value {
    auction_request(method, path, route, id, body, scopes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_buy_fills_through_the_group_buys_function_into_reserved_orders_and_the_sweep_settles_it_on_dynamodb() {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("group-buy").await;
    let sqs = aws_sdk_sqs::Client::new(&emulator.sdk_config().await);
    let mut stream = TableStream::new();
    let state = lambda_state(&aws);
    let group_buys = oms_api::routes::group_buys_api(state.clone());
    stock_wh_hz_1(&oms_api::routes::inventory_api(state.clone())).await;

    let offer = serde_json::json!({
        "merchant_id": "m-1", "sku": "SKU-1", "price": "19.90", "min_group": 2, "capacity": 3, "units_per_buyer": 2,
        "deadline": chrono::Utc::now() + chrono::Duration::hours(1)
    });
    let create = group_buy_request("POST", "/group-buys", "/group-buys", None, Some(offer), &["oms/inventory.write"]);
    let (status, created) = invoke(&group_buys, create).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["group_buy_id"].as_str().expect("an offer id").to_owned();
    let joins = format!("/group-buys/{id}/joins");
    let join = |customer: &str, key: &str| {
        let body = serde_json::json!({"customer_id": customer, "idempotency_key": key,
            "shipping_address": {"line1": "1 West Lake Rd", "city": "Hangzhou", "province": "Zhejiang", "country": "CN"}});
        group_buy_request("POST", &joins, "/group-buys/{id}/joins", Some(&id), Some(body), &["oms/storefront"])
    };
    let (status, first) = invoke(&group_buys, join("c-1", "k-1")).await;
    assert_eq!((status, &first["state"]), (StatusCode::CREATED, &Value::from("open")), "{first}");
    let (status, again) = invoke(&group_buys, join("c-1", "k-1")).await;
    assert_eq!((status, &again["join_id"], &again["repeated"]), (StatusCode::CREATED, &first["join_id"], &Value::from(true)));
    let (status, filling) = invoke(&group_buys, join("c-2", "k-2")).await;
    assert_eq!(
        (status, &filling["state"], &filling["ordered"]),
        (StatusCode::CREATED, &Value::from("filled"), &Value::from(true))
    );

    // Both joins' orders go out through the outbox and are allocated and reserved, taking
    // the set-aside units.
    assert_eq!(relay(&aws, &mut stream, &state).await, 2, "the two orders' outbox items");
    let records = drain(&aws, &sqs, QueueName::Allocate).await;
    let response = oms_lambda::sqs::handle_records(&Allocate::default(), &state.ports, records.clone(), BUDGET).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    delete(&aws, &sqs, QueueName::Allocate, &records).await;
    relay(&aws, &mut stream, &state).await;
    let records = drain(&aws, &sqs, QueueName::Reserve).await;
    let response = oms_lambda::sqs::handle_records(&Reserve, &state.ports, records.clone(), BUDGET).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    for joined in [&first, &filling] {
        let order_id = oms_domain::OrderId::parse(joined["order_id"].as_str().expect("an order id")).expect("an order id");
        let order = state.ports.orders.get_order(&order_id).await.unwrap().expect("the join's order");
        assert_eq!((order.status, order.channel, order.paid), (OrderStatus::Reserved, Channel::GroupBuy, false));
        assert_eq!((order.external_id.as_str(), order.lines[0].quantity), (joined["join_id"].as_str().unwrap(), 2));
    }

    let sku = oms_domain::Sku::parse("SKU-1").unwrap();
    let stock = state.ports.inventory.stock_of(&sku).await.unwrap();
    assert_eq!((stock[0].on_hand, stock[0].reserved), (100, 6), "the orders' 4 units held, 2 still set aside");

    // sweep-orders' handler, after the deadline: the offer closes, the place nobody took
    // (2 units) goes back to stock, once. Two hours on, the unpaid orders' holds expire too,
    // as any unpaid order's.
    let later = oms_domain::ports::Ports { clock: Arc::new(TwoHoursOn), ..state.ports.clone() };
    let sweep = || {
        let payload = serde_json::from_value(event("schedule-sweep.json")).expect("an EventBridge event");
        oms_lambda::schedule::sweep_orders(&later, lambda_runtime::LambdaEvent::new(payload, lambda_runtime::Context::default()))
    };
    let report = sweep().await.unwrap();
    assert_eq!(report.group_buys_settled.len(), 1, "{report:?}");
    assert_eq!(report.group_buys_settled[0].units_returned, 2);
    let path = format!("/group-buys/{id}");
    let (status, shown) =
        invoke(&group_buys, group_buy_request("GET", &path, "/group-buys/{id}", Some(&id), None, &["oms/orders.read"])).await;
    assert_eq!((status, &shown["state"], &shown["joined"]), (StatusCode::OK, &Value::from("closed"), &Value::from(2)), "{shown}");
    let stock = state.ports.inventory.stock_of(&sku).await.unwrap();
    assert_eq!(report.expired.len(), 2, "{report:?}");
    assert_eq!((stock[0].on_hand, stock[0].reserved), (100, 0), "every unit back: the unjoined place and the expired holds");
    assert!(sweep().await.unwrap().group_buys_settled.is_empty(), "settled once");
    let report = oms_domain::usecases::reconcile::reconcile(&state.ports).await.unwrap();
    assert!(report.drifts.is_empty(), "{:?}", report.drifts);
}

fn rental_request(method: &str, path: &str, route: &str, id: Option<&str>, body: Option<Value>, scopes: &[&str]) -> Value {
    auction_request(method, path, route, id, body, scopes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rental_is_booked_handed_over_returned_late_inspected_and_settled_through_the_rentals_function_on_dynamodb() {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("rentals").await;
    let state = lambda_state(&aws);
    let rentals = oms_api::routes::rentals_api(state.clone());
    stock_wh_hz_1(&oms_api::routes::inventory_api(state.clone())).await;
    let day = |n: i64| chrono::Utc::now().date_naive() + chrono::Duration::days(n);

    let unit = serde_json::json!({"merchant_id": "m-1", "sku": "SKU-1", "warehouse_id": "wh-hz-1",
        "daily_rate": "30", "deposit": "200", "late_fee_per_day": "25"});
    let put =
        rental_request("PUT", "/rental-units/bike-1", "/rental-units/{id}", Some("bike-1"), Some(unit), &["oms/inventory.write"]);
    let (status, registered) = invoke(&rentals, put).await;
    assert_eq!((status, &registered["deposit"]), (StatusCode::OK, &Value::from("200.00")), "{registered}");

    let book = |customer: &str, key: &str, start: i64, end: i64| {
        let body = serde_json::json!({"unit_id": "bike-1", "customer_id": customer, "idempotency_key": key,
            "start": day(start), "end": day(end)});
        rental_request("POST", "/rentals", "/rentals", None, Some(body), &["oms/storefront"])
    };
    let (status, booked) = invoke(&rentals, book("c-1", "k-1", 0, 3)).await;
    assert_eq!((status, &booked["price"]), (StatusCode::CREATED, &Value::from("90.00")), "{booked}");
    let id = booked["booking_id"].as_str().expect("a booking id").to_owned();
    let (status, refused) = invoke(&rentals, book("c-2", "k-2", 2, 5)).await;
    assert_eq!((status, &refused["error"]["code"]), (StatusCode::CONFLICT, &Value::from("dates_taken")), "{refused}");

    let step = |name: &str, body: Option<Value>| {
        let path = format!("/rentals/{id}/{name}");
        rental_request("POST", &path, &format!("/rentals/{{id}}/{name}"), Some(&id), body, &["oms/orders.write"])
    };
    let (status, handed) = invoke(&rentals, step("hand-over", Some(serde_json::json!({"on": day(0)})))).await;
    assert_eq!((status, &handed["state"]), (StatusCode::OK, &Value::from("handed_over")), "{handed}");
    let (status, returned) = invoke(&rentals, step("return", Some(serde_json::json!({"on": day(5)})))).await;
    assert_eq!((status, &returned["late_days"]), (StatusCode::OK, &Value::from(2)), "{returned}");
    let (status, inspected) = invoke(&rentals, step("inspection", Some(serde_json::json!({"damage": "20"})))).await;
    assert_eq!((status, &inspected["state"]), (StatusCode::OK, &Value::from("inspected")), "{inspected}");
    let (status, settled) = invoke(&rentals, step("settlement", None)).await;
    assert_eq!(status, StatusCode::OK, "{settled}");
    assert_eq!(
        (&settled["state"], &settled["late_fees"], &settled["refund"], &settled["owed"]),
        (&Value::from("settled"), &Value::from("50.00"), &Value::from("130.00"), &Value::from("0.00")),
        "200 less 2 days at 25 and 20 of damage"
    );
    let stored = state.ports.rentals.get_booking(&oms_domain::rental::BookingId::parse(id).unwrap()).await.unwrap();
    assert_eq!(stored.map(|b| b.state), Some(oms_domain::rental::RentalState::Settled));
    let order_id = oms_domain::OrderId::parse(settled["order_id"].as_str().expect("the booking's order")).unwrap();
    let order = state.ports.orders.get_order(&order_id).await.unwrap().expect("stored with the booking");
    assert_eq!((order.channel.as_str(), order.status), ("rental", oms_domain::OrderStatus::Delivered), "it follows the booking");
}

fn repair_request(method: &str, path: &str, route: &str, id: Option<&str>, body: Option<Value>, scopes: &[&str]) -> Value {
    auction_request(method, path, route, id, body, scopes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_is_booked_quoted_accepted_into_its_order_started_on_its_parts_and_closed_through_the_repairs_function_on_dynamodb(
) {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("repairs").await;
    let state = lambda_state(&aws);
    let repairs = oms_api::routes::repairs_api(state.clone());
    stock_wh_hz_1(&oms_api::routes::inventory_api(state.clone())).await;

    let body = serde_json::json!({"customer_id": "c-1", "idempotency_key": "k-1",
        "item": {"description": "espresso machine", "serial": "EM-1"}, "fault": "leaks",
        "handover": {"kind": "drop_off"}, "workshop": "wh-hz-1"});
    let (status, booked) =
        invoke(&repairs, repair_request("POST", "/repairs", "/repairs", None, Some(body.clone()), &["oms/storefront"])).await;
    assert_eq!((status, &booked["state"]), (StatusCode::CREATED, &Value::from("booked")), "{booked}");
    let id = booked["repair_id"].as_str().expect("a repair id").to_owned();
    let (status, again) =
        invoke(&repairs, repair_request("POST", "/repairs", "/repairs", None, Some(body), &["oms/storefront"])).await;
    assert_eq!(
        (status, &again["repair_id"], &again["repeated"]),
        (StatusCode::CREATED, &Value::from(id.clone()), &Value::from(true))
    );

    let step = |name: &str, body: Option<Value>, scope: &str| {
        let path = format!("/repairs/{id}/{name}");
        repair_request("POST", &path, &format!("/repairs/{{id}}/{name}"), Some(&id), body, &[scope])
    };
    let quote = serde_json::json!({"currency": "CNY", "labour_minor": 8000,
        "parts": [{"sku": "SKU-1", "quantity": 2, "unit_price": "12.50"}],
        "valid_until": chrono::Utc::now() + chrono::Duration::days(3)});
    let (status, quoted) = invoke(&repairs, step("quote", Some(quote), "oms/orders.write")).await;
    assert_eq!((status, &quoted["quote"]["total"]), (StatusCode::OK, &Value::from("105.00")), "{quoted}");
    let customer = serde_json::json!({"customer_id": "c-1"});
    let (status, accepted) = invoke(&repairs, step("accept", Some(customer), "oms/storefront")).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let order_id = oms_domain::OrderId::parse(accepted["order_id"].as_str().expect("an order id")).unwrap();
    let order = state.ports.orders.get_order(&order_id).await.unwrap().expect("the repair's order");
    assert_eq!((order.channel.as_str(), order.external_id.as_str(), order.paid), ("repair", id.as_str(), false));

    let (status, started) = invoke(&repairs, step("start", None, "oms/orders.write")).await;
    assert_eq!((status, &started["state"]), (StatusCode::OK, &Value::from("in_repair")), "{started}");
    let sku = oms_domain::Sku::parse("SKU-1").unwrap();
    let stock = state.ports.inventory.stock_of(&sku).await.unwrap();
    assert_eq!((stock[0].on_hand, stock[0].available), (98, 98), "the parts left stock with the start");
    let (status, done) =
        invoke(&repairs, step("complete", Some(serde_json::json!({"note": "seal replaced"})), "oms/orders.write")).await;
    assert_eq!((status, &done["state"]), (StatusCode::OK, &Value::from("repaired")), "{done}");
    let ship = serde_json::json!({"carrier": "sf-express", "tracking_number": "SF-R-1"});
    let (status, shipped) = invoke(&repairs, step("ship", Some(ship), "oms/orders.write")).await;
    assert_eq!((status, &shipped["state"]), (StatusCode::OK, &Value::from("shipped_back")), "{shipped}");
    let (status, closed) = invoke(&repairs, step("close", None, "oms/orders.write")).await;
    assert_eq!((status, &closed["state"]), (StatusCode::OK, &Value::from("completed")), "{closed}");
    let order = state.ports.orders.get_order(&order_id).await.unwrap().expect("the repair's order");
    assert_eq!(order.status, oms_domain::OrderStatus::Delivered, "the order follows the repair");
    let report = oms_domain::usecases::reconcile::reconcile(&state.ports).await.unwrap();
    assert!(report.drifts.is_empty(), "the consume entries explain the stock: {:?}", report.drifts);
}

fn return_request(method: &str, path: &str, route: &str, id: Option<&str>, body: Option<Value>, scopes: &[&str]) -> Value {
    auction_request(method, path, route, id, body, scopes)
}

/// A delivered order of customer c-1: three SKU-1 at 19.90 shipped from wh-hz-1.
async fn delivered_order(state: &AppState) -> OrderId {
    let body = serde_json::json!({
        "external_id": "RET-1", "merchant_id": "m-1", "placed_at": "2026-11-20T10:00:00Z", "currency": "CNY",
        "customer": {"id": "c-1"}, "lines": [{"sku": "SKU-1", "quantity": 3, "unit_price": "19.90"}],
        "shipping_address": {"line1": "1 West Lake Rd", "city": "Hangzhou", "province": "Zhejiang", "country": "CN"}
    });
    let new = oms_channels::normalise(Channel::Generic, body.to_string().as_bytes()).expect("an order");
    let mut order = oms_domain::Order::receive(new, OrderId::generate(), chrono::Utc::now());
    let line = oms_domain::order::AllocatedLine {
        warehouse: oms_domain::WarehouseId::parse("wh-hz-1").expect("a warehouse id"),
        owner: oms_domain::MerchantId::parse("m-1").expect("a merchant id"),
        sku: oms_domain::Sku::parse("SKU-1").expect("a SKU"),
        quantity: 3,
        transfer_price: None,
    };
    order.allocation = Some(oms_domain::order::Allocation {
        lines: vec![line],
        explanation: "wh-hz-1".into(),
        costing: None,
        planned_at: chrono::Utc::now(),
        merge: None,
        shipments: vec![],
        claimed_from: None,
    });
    order.status = OrderStatus::Delivered;
    let at = chrono::Utc::now() - chrono::Duration::days(1);
    order.timeline.push(oms_domain::order::TimelineEvent { at, status: OrderStatus::Delivered, detail: "delivered".into() });
    let _ = state.ports.orders.insert_order(&order).await.expect("the delivered order stored");
    order.order_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_is_requested_approved_shipped_received_inspected_and_refunded_through_the_returns_function_on_dynamodb() {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("returns").await;
    let sqs = aws_sdk_sqs::Client::new(&emulator.sdk_config().await);
    let mut stream = TableStream::new();
    let state = lambda_state(&aws);
    let policy = oms_lambda::return_policy(|_| None).unwrap();
    let returns = oms_api::routes::with_return_policy(oms_api::routes::returns_api(state.clone()), policy);
    stock_wh_hz_1(&oms_api::routes::inventory_api(state.clone())).await;
    let order = delivered_order(&state).await;

    let path = format!("/orders/{order}/returns");
    let ask = |key: &str, quantity: u32| {
        let body = serde_json::json!({"customer_id": "c-1", "kind": "return", "reason": "changed_mind", "idempotency_key": key,
            "lines": [{"sku": "SKU-1", "quantity": quantity}]});
        return_request("POST", &path, "/orders/{id}/returns", Some(order.as_str()), Some(body), &["oms/storefront"])
    };
    let (status, requested) = invoke(&returns, ask("k-1", 2)).await;
    assert_eq!((status, &requested["state"]), (StatusCode::CREATED, &Value::from("requested")), "{requested}");
    let id = requested["return_id"].as_str().expect("a return id").to_owned();
    let (status, refused) = invoke(&returns, ask("k-2", 2)).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &Value::from("return_quantity_exceeded")),
        "2 of 3 claimed: {refused}"
    );

    let step = |name: &str, body: Option<Value>, scope: &str| {
        let path = format!("/returns/{id}/{name}");
        return_request("POST", &path, &format!("/returns/{{id}}/{name}"), Some(&id), body, &[scope])
    };
    let (status, approved) = invoke(&returns, step("approve", None, "oms/orders.write")).await;
    assert_eq!((status, &approved["state"]), (StatusCode::OK, &Value::from("approved")), "{approved}");
    let ship = serde_json::json!({"carrier": "sf", "tracking_number": "SF-RET-1"});
    let (status, shipped) = invoke(&returns, step("ship", Some(ship), "oms/storefront")).await;
    assert_eq!((status, &shipped["state"]), (StatusCode::OK, &Value::from("in_transit")), "{shipped}");
    let tracking = oms_domain::TrackingNumber::parse("SF-RET-1").unwrap();
    let found = state.ports.returns.return_by_tracking(&tracking).await.unwrap().expect("the return by its parcel");
    assert_eq!(found.return_id.as_str(), id);
    let (status, received) = invoke(&returns, step("receive", None, "oms/orders.write")).await;
    assert_eq!((status, &received["state"]), (StatusCode::OK, &Value::from("received")), "{received}");
    let findings = serde_json::json!({"lines": [{"sku": "SKU-1", "restock": 1, "damaged": 1}]});
    let (status, refunded) = invoke(&returns, step("inspect", Some(findings), "oms/orders.write")).await;
    assert_eq!(status, StatusCode::OK, "{refunded}");
    assert_eq!(
        (&refunded["state"], &refunded["refund"]["amount"], &refunded["refund"]["amount_minor"]),
        (&Value::from("refunded"), &Value::from("35.82"), &Value::from(3582)),
        "39.80 less 10%"
    );

    let sku = oms_domain::Sku::parse("SKU-1").unwrap();
    let stock = state.ports.inventory.stock_of(&sku).await.unwrap();
    assert_eq!((stock[0].on_hand, stock[0].available), (101, 101), "one sellable unit back on hand");
    let warehouse = oms_domain::WarehouseId::parse("wh-hz-1").unwrap();
    let damaged = state.ports.returns.damaged_stock(&warehouse).await.unwrap();
    assert_eq!(damaged.iter().map(|d| d.units).collect::<Vec<_>>(), [1], "one damaged unit kept apart");
    assert_eq!(relay(&aws, &mut stream, &state).await, 1, "the refund's outbox item");
    let notices = drain(&aws, &sqs, QueueName::Outbound).await;
    assert_eq!(notices.len(), 1);
    assert!(notices[0].body.as_deref().unwrap_or_default().contains("refund_recorded"), "{:?}", notices[0].body);
    let report = oms_domain::usecases::reconcile::reconcile(&state.ports).await.unwrap();
    assert!(report.drifts.is_empty(), "the ledger sums to the stock: {:?}", report.drifts);
}

/// A request to the merchants function, for `merchant` (`None`: platform staff).
fn merchants_request(
    method: &str,
    path: &str,
    route: &str,
    params: Value,
    body: Option<Value>,
    merchant: Option<&str>,
    scopes: &[&str],
) -> Value {
    let mut e = auction_request(method, path, route, None, body, scopes);
    e["pathParameters"] = params;
    signed_in(e, merchant, scopes)
}

/// A document upload as API Gateway passes a binary body: base64, flagged.
fn upload_request(name: &str, content_type: &str, bytes: &[u8]) -> Value {
    use base64::Engine as _;
    let path = format!("/merchants/m-1/application/documents/{name}");
    let route = "/merchants/{id}/application/documents/{name}";
    let params = serde_json::json!({"id": "m-1", "name": name});
    let mut e = merchants_request("PUT", &path, route, params, None, Some("m-1"), &["oms/orders.write"]);
    e["body"] = base64::engine::general_purpose::STANDARD.encode(bytes).into();
    e["isBase64Encoded"] = true.into();
    e["headers"]["content-type"] = content_type.into();
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_applies_is_rejected_resubmits_and_is_approved_releasing_its_held_order_through_the_merchants_function_on_dynamodb(
) {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("onboarding").await;
    let state = lambda_state(&aws);
    let merchants = oms_api::routes::merchants_api(AppState { documents: Some(Arc::new(aws.documents())), ..state.clone() });
    let ingest = oms_api::routes::orders_api(state.clone());
    stock_wh_hz_1(&oms_api::routes::inventory_api(state.clone())).await;
    let id = serde_json::json!({"id": "m-1"});
    let own = |method: &str, path: &str, route: &str, body: Option<Value>| {
        merchants_request(method, path, route, id.clone(), body, Some("m-1"), &["oms/orders.write", "oms/orders.read"])
    };
    let admin = |method: &str, path: &str, route: &str, body: Option<Value>| {
        merchants_request(method, path, route, id.clone(), body, None, &["oms/platform", "oms/admin"])
    };

    let registration = serde_json::json!({"phone": "+86 138 0000 0001", "region": "Zhejiang"});
    let (status, registered) =
        invoke(&merchants, own("POST", "/merchants/register", "/merchants/register", Some(registration))).await;
    assert_eq!((status, &registered["status"]), (StatusCode::CREATED, &Value::from("draft")), "{registered}");
    let application = serde_json::json!({"shop_type": "specialty", "business_scope": "tea", "licence_number": "91330100MA27XK1234",
        "legal_representative": {"name": "Wang Fang", "id_number": "330106199001011234"}});
    let put = own("PUT", "/merchants/m-1/application", "/merchants/{id}/application", Some(application));
    assert_eq!(invoke(&merchants, put).await.0, StatusCode::OK);
    let pdf = b"%PDF-1.7\n% blurred\n%%EOF\n";
    let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];
    let (status, uploaded) = invoke(&merchants, upload_request("business_licence", "application/pdf", pdf)).await;
    assert_eq!(status, StatusCode::OK, "{uploaded}");
    let (status, refused) = invoke(&merchants, upload_request("representative_id", "image/png", b"<html></html>")).await;
    assert_eq!((status, &refused["error"]["code"]), (StatusCode::UNSUPPORTED_MEDIA_TYPE, &Value::from("unsupported_media_type")));
    assert_eq!(invoke(&merchants, upload_request("representative_id", "image/png", &png)).await.0, StatusCode::OK);
    let submit = || own("POST", "/merchants/m-1/application/submit", "/merchants/{id}/application/submit", None);
    let (status, submitted) = invoke(&merchants, submit()).await;
    assert_eq!((status, &submitted["status"]), (StatusCode::OK, &Value::from("submitted")), "{submitted}");

    // A signed order of the merchant, not approved yet: stored on hold, not bounced.
    let (status, receipt) = invoke(&ingest, event("apigw-http-generic-order.json")).await;
    assert_eq!((status, &receipt["status"]), (StatusCode::ACCEPTED, &Value::from("on_hold")), "{receipt}");
    let order_id = OrderId::parse(receipt["order_id"].as_str().expect("an id")).expect("an id");

    let queue = merchants_request(
        "GET",
        "/merchant-applications",
        "/merchant-applications",
        Value::Null,
        None,
        None,
        &["oms/platform", "oms/admin"],
    );
    let (status, waiting) = invoke(&merchants, queue).await;
    assert_eq!((status, &waiting["merchants"][0]["merchant_id"]), (StatusCode::OK, &Value::from("m-1")), "{waiting}");
    let reason = serde_json::json!({"reason": "the licence scan is unreadable"});
    let reject = admin("POST", "/merchants/m-1/application/reject", "/merchants/{id}/application/reject", Some(reason));
    let (status, rejected) = invoke(&merchants, reject).await;
    assert_eq!((status, &rejected["status"]), (StatusCode::OK, &Value::from("rejected")), "{rejected}");

    let clearer = [pdf.as_slice(), b"% rescanned\n"].concat();
    assert_eq!(invoke(&merchants, upload_request("business_licence", "application/pdf", &clearer)).await.0, StatusCode::OK);
    assert_eq!(invoke(&merchants, submit()).await.0, StatusCode::OK);
    let approve = || admin("POST", "/merchants/m-1/application/approve", "/merchants/{id}/application/approve", None);
    let (status, approved) = invoke(&merchants, approve()).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["released_orders"], serde_json::json!([order_id.as_str()]));
    let (status, again) = invoke(&merchants, approve()).await;
    assert_eq!((status, &again["error"]["code"]), (StatusCode::CONFLICT, &Value::from("onboarding_state_conflict")));
    let order = state.ports.orders.get_order(&order_id).await.expect("read").expect("stored");
    assert_eq!((order.status, order.hold()), (OrderStatus::Received, None));

    // The licence as last uploaded, read back from S3 by a reviewer.
    let params = serde_json::json!({"id": "m-1", "name": "business_licence"});
    let path = "/merchants/m-1/application/documents/business_licence";
    let read = merchants_request(
        "GET",
        path,
        "/merchants/{id}/application/documents/{name}",
        params,
        None,
        None,
        &["oms/platform", "oms/admin"],
    );
    let request: lambda_http::request::LambdaRequest = serde_json::from_value(read).expect("an API Gateway event");
    let request: lambda_http::http::Request<lambda_http::Body> = request.into();
    let response = oms_lambda::with_gateway_claims(merchants.clone()).oneshot(request).await.expect("the router answers");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    assert_eq!(bytes.as_ref(), clearer.as_slice());
}

/// Merchant `id` registered, applied and approved, straight through the onboarding record.
async fn approved_merchant(state: &AppState, id: &str) {
    use oms_domain::document::{DocumentKey, DocumentRef, DocumentType};
    use oms_domain::onboarding::{Application, DocumentKind, MerchantRecord, Phone, Region};
    let (merchant, now) = (oms_domain::MerchantId::parse(id).expect("an id"), chrono::Utc::now());
    let phone = Phone::parse("+8613800000001").expect("a phone");
    let mut record = MerchantRecord::register(merchant, phone, Region::parse("Zhejiang").expect("a region"), id, now);
    let created = state.ports.merchants.create_merchant(&record).await.expect("registered");
    assert_eq!(created, oms_domain::ports::CreateMerchantOutcome::Created);
    let read = record.clone();
    let application =
        Application::parse("specialty", "tea", "91330100MA27XK1234", "Wang Fang", "330106199001011234").expect("an application");
    record.save_application(application, id, now).expect("a draft takes its application");
    for kind in DocumentKind::ALL {
        let key = DocumentKey::parse(format!("merchants/{id}/{}", kind.as_str())).expect("a key");
        let document = DocumentRef { key, content_type: DocumentType::Pdf, bytes: 10, sha256: "ab".repeat(32), uploaded_at: now };
        record.attach_document(kind, document, id, now).expect("a draft takes documents");
    }
    record.submit(id, now).expect("submitted");
    record.approve("admin", now).expect("approved");
    let updated = state.ports.merchants.update_merchant(&read, &record).await.expect("approved");
    assert_eq!(updated, oms_domain::ports::UpdateMerchantOutcome::Updated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storefront_is_drafted_published_and_read_through_the_merchants_function_on_dynamodb() {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("storefronts").await;
    let state = lambda_state(&aws);
    let merchants = oms_api::routes::merchants_api(state.clone());
    approved_merchant(&state, "m-1").await;
    stock_wh_hz_1(&oms_api::routes::inventory_api(state.clone())).await;
    let facts = oms_domain::catalogue::SkuFacts {
        sku: oms_domain::Sku::parse("SKU-1").expect("a sku"),
        merchant_id: oms_domain::MerchantId::parse("m-1").expect("an id"),
        name: "Longjing 250g".into(),
        category: "tea".into(),
        cost: rust_decimal::Decimal::from(40),
        list_price: "88.00".parse().expect("a price"),
        weight_g: 300,
        dims_mm: [100, 80, 60],
        traits: vec![],
        reorder_point: None,
        reorder_quantity: None,
    };
    state.ports.catalogue.put_sku(&facts).await.expect("listed");
    let request = |method: &str, path: &str, route: &str, body: Option<Value>, merchant: Option<&str>, scopes: &[&str]| {
        let params = if route.contains("{merchant}") {
            serde_json::json!({"merchant": "m-1"})
        } else if route.contains("{id}") {
            serde_json::json!({"id": "classic"})
        } else {
            Value::Null
        };
        merchants_request(method, path, route, params, body, merchant, scopes)
    };
    let own = ["oms/orders.write", "oms/orders.read"];

    let template = serde_json::json!({"name": "Classic", "sections": ["hero_banner", "featured_grid", "about"],
        "theme": {"primary": "#8b0000", "background": "#fffaf0"}, "version": 1});
    let put = request(
        "PUT",
        "/storefront-templates/classic",
        "/storefront-templates/{id}",
        Some(template),
        None,
        &["oms/platform", "oms/admin"],
    );
    let (status, stored) = invoke(&merchants, put).await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    let (status, listed) = invoke(
        &merchants,
        request("GET", "/storefront-templates", "/storefront-templates", None, Some("m-1"), &["oms/orders.read"]),
    )
    .await;
    assert_eq!((status, &listed["templates"][0]["id"]), (StatusCode::OK, &Value::from("classic")), "{listed}");

    let draft = |name: &str, version: Option<u64>| {
        let body = serde_json::json!({"template": "classic", "name": name, "introduction": "Tea from West Lake",
            "banners": ["https://img.example.com/b.jpg"], "featured": ["SKU-1"], "version": version});
        request("PUT", "/stores/m-1/draft", "/stores/{merchant}/draft", Some(body), Some("m-1"), &own)
    };
    let (status, saved) = invoke(&merchants, draft("West Lake Tea", None)).await;
    assert_eq!((status, &saved["version"]), (StatusCode::OK, &Value::from(1)), "{saved}");
    let publish = || request("POST", "/stores/m-1/publish", "/stores/{merchant}/publish", None, Some("m-1"), &own);
    let (status, published) = invoke(&merchants, publish()).await;
    assert_eq!(status, StatusCode::OK, "{published}");

    let read = |query: &str| {
        let mut e = request("GET", "/stores/m-1", "/stores/{merchant}", None, Some("m-2"), &["oms/storefront"]);
        e["rawQueryString"] = query.into();
        e
    };
    let (status, store) = invoke(&merchants, read("")).await;
    assert_eq!((status, &store["name"]), (StatusCode::OK, &Value::from("West Lake Tea")), "{store}");
    let card = &store["featured"][0];
    assert_eq!(
        (&card["name"], &card["list_price"], &card["in_stock"]),
        (&Value::from("Longjing 250g"), &Value::from("88.00"), &Value::from(true))
    );

    // An edit stays in the draft until published again; a stale edit is refused.
    assert_eq!(invoke(&merchants, draft("West Lake Tea House", Some(1))).await.0, StatusCode::OK);
    let (status, stale) = invoke(&merchants, draft("Stale", Some(1))).await;
    assert_eq!((status, &stale["error"]["code"]), (StatusCode::CONFLICT, &Value::from("draft_version_conflict")));
    assert_eq!(invoke(&merchants, read("")).await.1["name"], "West Lake Tea");
    assert_eq!(invoke(&merchants, publish()).await.0, StatusCode::OK);
    assert_eq!(invoke(&merchants, read("")).await.1["name"], "West Lake Tea House");

    // The page.
    let page_event: lambda_http::request::LambdaRequest = serde_json::from_value(read("format=html")).expect("an event");
    let page_request: lambda_http::http::Request<lambda_http::Body> = page_event.into();
    let response = oms_lambda::with_gateway_claims(merchants.clone()).oneshot(page_request).await.expect("the router answers");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    let page = String::from_utf8(bytes.to_vec()).expect("text");
    assert!(page.contains("West Lake Tea House") && page.contains("Longjing 250g"), "{page}");

    let unpublish = request("POST", "/stores/m-1/unpublish", "/stores/{merchant}/unpublish", None, Some("m-1"), &own);
    assert_eq!(invoke(&merchants, unpublish).await.1["was_published"], true);
    let (status, gone) = invoke(&merchants, read("")).await;
    assert_eq!((status, &gone["error"]["code"]), (StatusCode::NOT_FOUND, &Value::from("store_not_published")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_is_rejected_by_the_rules_edited_approved_and_listed_releasing_its_held_order_through_the_merchants_function_on_dynamodb(
) {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("reviewed-catalogue").await;
    let state = lambda_state(&aws);
    let merchants = oms_api::routes::merchants_api(state.clone());
    let ingest = oms_api::routes::orders_api(state.clone());
    stock_wh_hz_1(&oms_api::routes::inventory_api(state.clone())).await;
    let facts = oms_domain::catalogue::UncheckedSkuFacts {
        merchant_id: "m-1".into(),
        name: "Duan ink stone".into(),
        category: "stationery".into(),
        cost: rust_decimal::Decimal::new(120, 0),
        list_price: rust_decimal::Decimal::new(380, 0),
        weight_g: 900,
        dims_mm: [200, 130, 30],
        traits: vec![],
    };
    let sku = oms_domain::Sku::parse("SKU-1").expect("a sku");
    let facts = oms_domain::catalogue::SkuFacts::new(sku, facts).expect("valid facts");
    state.ports.catalogue.put_sku(&facts).await.expect("the SKU's facts are recorded");
    let params = serde_json::json!({"sku": "SKU-1"});
    let own = |method: &str, path: &str, route: &str, body: Option<Value>| {
        merchants_request(method, path, route, params.clone(), body, Some("m-1"), &["oms/inventory.write", "oms/inventory.read"])
    };
    let listing = |name: &str| {
        serde_json::json!({"name": name, "specification": "20 x 13 cm", "model": "DS-20",
            "images": [{"url": "https://img.example.com/ds-20.png"}],
            "wholesale_prices": [{"min_quantity": 1, "unit_price": "380"}, {"min_quantity": 10, "unit_price": "342"}]})
    };
    let put = |name: &str| own("PUT", "/products/SKU-1", "/products/{sku}", Some(listing(name)));
    let submit = || own("POST", "/products/SKU-1/submit", "/products/{sku}/submit", None);

    let (status, draft) = invoke(&merchants, put("Counterfeit-proof ink stone")).await;
    assert_eq!((status, &draft["status"]), (StatusCode::CREATED, &Value::from("draft")), "{draft}");
    let (status, rejected) = invoke(&merchants, submit()).await;
    assert_eq!((status, &rejected["status"]), (StatusCode::OK, &Value::from("rejected")), "{rejected}");
    let (status, edited) = invoke(&merchants, put("Duan ink stone")).await;
    assert_eq!((status, &edited["status"]), (StatusCode::OK, &Value::from("draft")), "{edited}");
    let (status, in_review) = invoke(&merchants, submit()).await;
    assert_eq!((status, &in_review["status"]), (StatusCode::OK, &Value::from("in_review")), "{in_review}");
    let queue = merchants_request("GET", "/products", "/products", Value::Null, None, None, &["oms/platform", "oms/admin"]);
    let (status, waiting) = invoke(&merchants, queue).await;
    assert_eq!((status, &waiting["products"][0]["sku"]), (StatusCode::OK, &Value::from("SKU-1")), "{waiting}");
    let approve = || {
        merchants_request(
            "POST",
            "/products/SKU-1/approve",
            "/products/{sku}/approve",
            params.clone(),
            None,
            None,
            &["oms/platform", "oms/admin"],
        )
    };
    let (status, approved) = invoke(&merchants, approve()).await;
    assert_eq!((status, &approved["status"]), (StatusCode::OK, &Value::from("approved")), "{approved}");
    let (status, again) = invoke(&merchants, approve()).await;
    assert_eq!((status, &again["error"]["code"]), (StatusCode::CONFLICT, &Value::from("product_state_conflict")));

    // Approved but not listed: a signed order for it is stored on hold, not bounced.
    let (status, receipt) = invoke(&ingest, event("apigw-http-generic-order.json")).await;
    assert_eq!((status, &receipt["status"]), (StatusCode::ACCEPTED, &Value::from("on_hold")), "{receipt}");
    let order_id = OrderId::parse(receipt["order_id"].as_str().expect("an id")).expect("an id");
    let (status, listed) = invoke(&merchants, own("POST", "/products/SKU-1/list", "/products/{sku}/list", None)).await;
    assert_eq!((status, &listed["released_orders"]), (StatusCode::OK, &serde_json::json!([order_id.as_str()])), "{listed}");
    let order = state.ports.orders.get_order(&order_id).await.expect("read").expect("stored");
    assert_eq!((order.status, order.hold()), (OrderStatus::Received, None));
    let promote = own("POST", "/products/SKU-1/promote", "/products/{sku}/promote", Some(serde_json::json!({"rank": 1})));
    assert_eq!(invoke(&merchants, promote).await.0, StatusCode::OK);
    let placements = merchants_request(
        "GET",
        "/catalogue/promoted",
        "/catalogue/promoted",
        Value::Null,
        None,
        Some("m-1"),
        &["oms/storefront"],
    );
    let (status, promoted) = invoke(&merchants, placements).await;
    assert_eq!((status, &promoted["products"][0]["promotion"]), (StatusCode::OK, &Value::from(1)), "{promoted}");
}

/// `method path` of the bulk-trade function (route `route`), signed in for `merchant`
/// (none: the platform's storefront) with `scopes`.
fn rfq_request(method: &str, path: &str, route: &str, body: Option<Value>, merchant: Option<&str>, scopes: &[&str]) -> Value {
    let id = route.contains("{id}").then_some("rfq-aws");
    signed_in(auction_request(method, path, route, id, body, scopes), merchant, scopes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_list_is_quoted_covered_and_split_into_sub_orders_through_the_bulk_trade_function_on_dynamodb() {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("bulk-trade").await;
    let state = lambda_state(&aws);
    let bulk = oms_api::routes::bulk_trade_api(state.clone());
    approved_merchant(&state, "m-1").await;
    approved_merchant(&state, "m-2").await;
    stock_wh_hz_1(&oms_api::routes::inventory_api(state.clone())).await;
    let m2 = oms_domain::MerchantId::parse("m-2").expect("an id");
    let warehouse = oms_domain::stock::Warehouse::new(
        oms_domain::WarehouseId::parse("wh-hz-2").expect("an id"),
        "Hangzhou 2",
        m2.clone(),
        "Zhejiang",
        "Hangzhou",
        30.3,
        120.2,
    )
    .expect("a warehouse");
    state.ports.warehouses.put_warehouse(&warehouse).await.expect("registered");
    let sku2 = oms_domain::Sku::parse("SKU-2").expect("a sku");
    let _ = state.ports.inventory.set_on_hand(&warehouse.warehouse_id, &m2, &sku2, 50).await.expect("counted");
    listed_product(&state, "m-1", "SKU-1", "Tea brick", "12").await;
    listed_product(&state, "m-2", "SKU-2", "Tea brick", "30").await;

    let buyer = ["oms/storefront", "oms/platform"];
    let until = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let list = serde_json::json!({"rfq_id": "rfq-aws", "customer_id": "c-9", "region": "Zhejiang",
        "shipping_address": {"line1": "1 West Lake Rd", "city": "Hangzhou", "province": "Zhejiang", "country": "CN"},
        "lines": [{"sku": "SKU-1", "quantity": 5}, {"sku": "SKU-2", "quantity": 2}], "quotes_until": until});
    let (status, rfq) = invoke(&bulk, rfq_request("POST", "/rfqs", "/rfqs", Some(list), None, &buyer)).await;
    assert_eq!(status, StatusCode::CREATED, "{rfq}");
    assert_eq!(rfq["proposal"]["goods"], "120.00", "{rfq}");

    let quote = serde_json::json!({"sku": "SKU-2", "unit_price": "28.50"});
    let post_quote =
        rfq_request("POST", "/rfqs/rfq-aws/quotes", "/rfqs/{id}/quotes", Some(quote), Some("m-2"), &["oms/inventory.write"]);
    let (status, quoted) = invoke(&bulk, post_quote).await;
    assert_eq!((status, &quoted["quotes"][0]["source"]), (StatusCode::OK, &Value::from("merchant")), "{quoted}");

    let accept = || rfq_request("POST", "/rfqs/rfq-aws/accept", "/rfqs/{id}/accept", None, None, &buyer);
    let (status, accepted) = invoke(&bulk, accept()).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let children = accepted["parent"]["children"].as_array().expect("children").clone();
    assert_eq!(children.len(), 2, "{accepted}");
    for child in &children {
        let id = OrderId::parse(child["order_id"].as_str().expect("made")).expect("an id");
        let order = state.ports.orders.get_order(&id).await.expect("read").expect("stored");
        assert_eq!((order.channel, order.merchant_id.as_str()), (Channel::Rfq, child["merchant_id"].as_str().unwrap()));
    }
    let (status, again) = invoke(&bulk, accept()).await;
    assert_eq!((status, &again["repeated"]), (StatusCode::OK, &Value::from(true)));
    assert_eq!(again["parent"]["children"], Value::from(children), "the same sub-orders");
    let (status, read) =
        invoke(&bulk, rfq_request("GET", "/rfqs/rfq-aws", "/rfqs/{id}", None, Some("m-1"), &["oms/orders.read"])).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["parent"]["children"].as_array().map(Vec::len), Some(1), "a merchant sees its own sub-order");
}

/// `merchant`'s `sku` listed as `name` at `unit_price` a unit: its listing drafted, passed
/// by the rules, approved and listed, as the merchants function would leave it.
async fn listed_product(state: &AppState, merchant: &str, sku: &str, name: &str, unit_price: &str) {
    use oms_domain::product::{PriceTier, Product, ProductContent, ReviewRules};
    let now = chrono::Utc::now();
    let tiers = vec![PriceTier { min_quantity: 1, unit_price: unit_price.parse().expect("a price") }];
    let content = ProductContent::parse(name, "hand made", "DS-12", vec![], Default::default(), tiers).expect("content");
    let sku = oms_domain::Sku::parse(sku).expect("a sku");
    let draft = Product::draft(sku, oms_domain::MerchantId::parse(merchant).expect("a merchant"), content, merchant, now);
    let _ = state.ports.products.create_product(&draft).await.expect("the listing is created");
    let mut listed = draft.clone();
    assert!(listed.submit(&ReviewRules::default(), merchant, now).expect("submitted"), "passes the rules");
    listed.approve("staff-1", now).expect("approved");
    listed.list(merchant, now).expect("listed");
    let _ = state.ports.products.update_product(&draft, &listed).await.expect("the listing is listed");
}

/// `method path` of the matchmaking function (route `route`), by the platform's storefront
/// (a token naming no merchant, so platform staff's, with the storefront scope).
fn buyer_request_event(method: &str, path: &str, route: &str, id: Option<&str>, body: Option<Value>) -> Value {
    let scopes = ["oms/storefront", "oms/platform"];
    signed_in(auction_request(method, path, route, id, body, &scopes), None, &scopes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_request_is_matched_and_accepted_once_as_a_marketplace_order_through_the_matchmaking_function_on_dynamodb() {
    let emulator = Emulator::shared();
    let aws = emulator.provisioned("matchmaking").await;
    let state = lambda_state(&aws);
    let matchmaking = oms_api::routes::matchmaking_api(state.clone());
    stock_wh_hz_1(&oms_api::routes::inventory_api(state.clone())).await;
    listed_product(&state, "m-1", "SKU-1", "Duan inkstone 12 cm", "120.00").await;

    let deadline = (chrono::Utc::now() + chrono::Duration::days(5)).to_rfc3339();
    let body = serde_json::json!({"request_id": "br-aws-1", "customer_id": "buyer-1", "name": "ink stone",
        "specification": "120mm", "quantity": 4, "region": "Zhejiang", "deadline": deadline});
    let post = || buyer_request_event("POST", "/buyer-requests", "/buyer-requests", None, Some(body.clone()));
    let (status, posted) = invoke(&matchmaking, post()).await;
    assert_eq!((status, &posted["status"]), (StatusCode::CREATED, &Value::from("proposed")), "{posted}");
    assert_eq!((&posted["offers"][0]["sku"], &posted["offers"][0]["goods"]), (&Value::from("SKU-1"), &Value::from("480.00")));
    let (status, again) = invoke(&matchmaking, post()).await;
    assert_eq!((status, &again["repeated"]), (StatusCode::OK, &Value::from(true)), "{again}");

    let accept =
        || buyer_request_event("POST", "/buyer-requests/br-aws-1/accept", "/buyer-requests/{id}/accept", Some("br-aws-1"), None);
    let (status, accepted) = invoke(&matchmaking, accept()).await;
    assert_eq!((status, &accepted["status"]), (StatusCode::OK, &Value::from("accepted")), "{accepted}");
    let order_id = accepted["order_id"].as_str().expect("an order").to_owned();
    let (_, twice) = invoke(&matchmaking, accept()).await;
    assert_eq!(twice["order_id"].as_str(), Some(order_id.as_str()), "accepted once: {twice}");

    let order = state.ports.orders.get_order(&OrderId::parse(order_id).expect("an id")).await.expect("read").expect("stored");
    assert_eq!(
        (order.channel, order.external_id.as_str(), order.merchant_id.as_str()),
        (Channel::Marketplace, "br-aws-1", "m-1")
    );
    let read = buyer_request_event("GET", "/buyer-requests/br-aws-1", "/buyer-requests/{id}", Some("br-aws-1"), None);
    let (status, stored) = invoke(&matchmaking, read).await;
    assert_eq!((status, &stored["status"]), (StatusCode::OK, &Value::from("accepted")));
}
