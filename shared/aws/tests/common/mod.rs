//! Shared by the test binaries: adapters over fresh resources on the emulator. Sample
//! data comes from the conformance suite's fixtures, so every adapter test builds the
//! same orders and warehouses.
#![allow(dead_code)]

pub mod faults;

use oms_aws::emulator::Emulator;
use oms_aws::Aws;
use oms_domain::stock::Warehouse;

#[allow(unused_imports)] // each test binary uses a different subset
pub use oms_conformance::fixtures::{order_for as order, sku, warehouse_id as wh};

/// The adapters over a table, queues and bucket of this test's own.
pub async fn aws(label: &str) -> Aws {
    Emulator::shared().provisioned(label).await
}

/// A warehouse of merchant `m-1` in Hangzhou, named after its id.
pub fn warehouse(id: &str) -> Warehouse {
    oms_conformance::fixtures::warehouse(id, &format!("Warehouse {id}"))
}

/// An SDK configuration for the emulator, to look at resources behind the adapters' backs.
pub async fn emulator_config() -> aws_config::SdkConfig {
    Emulator::shared().sdk_config().await
}

/// The adapters over resources of this test's own, reached through an HTTP client that
/// injects the faults planned in the answered [`faults::Faults`].
pub async fn aws_with_faults(label: &str) -> (Aws, faults::Faults) {
    let emulator = Emulator::shared();
    let plain = emulator.sdk_config().await;
    let prefix = oms_aws::provision::unique_prefix(label);
    let settings = oms_aws::provision::create_resources(&plain, &prefix).await.expect("cannot provision the resources");
    let faults = faults::Faults::default();
    let faulty = plain.into_builder().http_client(faults::FaultyHttp::new(faults.clone())).build();
    (Aws::new(&faulty, settings), faults)
}
