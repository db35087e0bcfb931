//! The shared conformance suite against the DynamoDB adapters: the same outcomes as the
//! embedded store, case for case. Each case gets a table of its own on the emulator.

use std::sync::Arc;

use oms_aws::emulator::Emulator;
use oms_aws::provision;
use oms_aws::DynamoStore;
use oms_conformance::Subject;

/// A fresh, empty table and the DynamoDB adapters over it.
async fn dynamodb() -> Subject {
    let emulator = Emulator::shared();
    let sdk_config = emulator.sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk_config);
    let table = format!("{}-oms", provision::unique_prefix("conformance"));
    provision::create_table(&client, &table).await.expect("cannot create the conformance table");
    let store = Arc::new(DynamoStore::new(client, table));
    Subject {
        orders: store.clone(),
        warehouses: store.clone(),
        inventory: store.clone(),
        alerts: store.clone(),
        sku_mappings: store,
    }
}

oms_conformance::conformance_tests!(dynamodb);
