//! The shared conformance suite against the DynamoDB adapters: the same outcomes as the
//! embedded store, case for case. Each case gets a table of its own on the emulator.

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use oms_aws::emulator::Emulator;
use oms_aws::provision;
use oms_aws::DynamoStore;
use oms_aws::{relayed_message, OUTBOX_PREFIX};
use oms_conformance::{Outbox, Subject};
use oms_domain::messages::Outgoing;

/// A fresh, empty table and the DynamoDB adapters over it.
async fn dynamodb() -> Subject {
    let emulator = Emulator::shared();
    let sdk_config = emulator.sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk_config);
    let table = format!("{}-oms", provision::unique_prefix("conformance"));
    provision::create_table(&client, &table).await.expect("cannot create the conformance table");
    let outbox = Arc::new(OutboxItems { client: client.clone(), table: table.clone() });
    let store = Arc::new(DynamoStore::new(client, table));
    Subject {
        orders: store.clone(),
        warehouses: store.clone(),
        inventory: store.clone(),
        alerts: store.clone(),
        sku_mappings: store.clone(),
        catalogue: store.clone(),
        rates: store.clone(),
        flash_sales: store.clone(),
        supply: store.clone(),
        shipments: store.clone(),
        sales: store.clone(),
        outbox,
        consignments: store.clone(),
        auctions: store.clone(),
        group_buys: store.clone(),
        rentals: store.clone(),
        reviews: store.clone(),
        repairs: store.clone(),
        returns: store.clone(),
        browsing: store.clone(),
        merchants: store.clone(),
        storefronts: store.clone(),
        products: store.clone(),
        rfqs: store.clone(),
        buyer_requests: store,
    }
}

/// The outbox items of the table, found by a scan (a test's view: the relay reads them
/// from the table's stream) and read as the relay reads them.
struct OutboxItems {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

#[async_trait::async_trait]
impl Outbox for OutboxItems {
    async fn sent(&self) -> Vec<Outgoing> {
        let scanned = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(pk, :outbox)")
            .expression_attribute_values(":outbox", AttributeValue::S(OUTBOX_PREFIX.to_owned()))
            .send()
            .await
            .expect("the scan of the outbox");
        scanned
            .items()
            .iter()
            .map(|item| relayed_message(item.clone().into()).expect("an outbox item reads").expect("an outbox item"))
            .collect()
    }
}

oms_conformance::conformance_tests!(dynamodb);
