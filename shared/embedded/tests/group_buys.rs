//! The group-buy conformance cases, run against the SQLite store in memory (as handler
//! tests use it; a file-backed store runs the same database thread).

use async_trait::async_trait;
use oms_conformance::{Outbox, Subject};
use oms_domain::messages::{Outgoing, QueueName};
use oms_domain::ports::{GroupBuyStore, SystemClock};
use oms_embedded::Embedded;
use std::sync::Arc;

/// The outbox of the embedded store: the rows of its queue table.
struct QueueRows(Embedded);

#[async_trait]
impl Outbox for QueueRows {
    async fn sent(&self) -> Vec<Outgoing> {
        let mut sent = Vec::new();
        for queue in QueueName::ALL {
            let rows = self.0.pending(queue).await.expect("the queue's rows");
            sent.extend(rows.into_iter().map(|row| Outgoing::stored(queue, row.body)));
        }
        sent
    }
}

fn subject(store: &Embedded) -> Subject {
    let ports = store.ports(Arc::new(SystemClock));
    Subject {
        orders: ports.orders,
        warehouses: ports.warehouses,
        inventory: ports.inventory,
        alerts: ports.alerts,
        sku_mappings: ports.sku_mappings,
        catalogue: ports.catalogue,
        rates: ports.rates,
        flash_sales: ports.flash_sales,
        supply: ports.supply,
        shipments: ports.shipments,
        sales: ports.sales,
        outbox: Arc::new(QueueRows(store.clone())),
        consignments: ports.consignments,
        auctions: ports.auctions,
    }
}

async fn in_memory() -> (Subject, Arc<dyn GroupBuyStore>) {
    let store = Embedded::open_in_memory().expect("the store opens");
    (subject(&store), Arc::new(store))
}

mod memory {
    oms_conformance::group_buy_conformance_tests!(super::in_memory);
}
