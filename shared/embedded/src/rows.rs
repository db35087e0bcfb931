//! The JSON bodies of the `orders` and `warehouses` tables: each is an `oms_records`
//! record as JSON (the layout both adapter sets share, pinned there), so renaming a field
//! of a domain struct does not change them. A body that does not parse is an error naming
//! the field.
//!
//! The columns beside a body (`order_id`, `channel`, `status`, `version`, ...) are written
//! by `orders.rs`; `version` is the column's truth, the body's copy is only informative.

use anyhow::Context;
use oms_domain::stock::Warehouse;
use oms_domain::Order;
use oms_records::{EventRecord, OrderRecord, WarehouseRecord};

/// `orders.body` of `order` at `version`.
pub(crate) fn order_body(order: &Order, version: u64) -> anyhow::Result<String> {
    serde_json::to_string(&OrderRecord::new(order, version)).context("Failed to serialise the order")
}

/// The order from `orders.body`, at `version` (the row's column, which is the truth), for
/// an order none of whose timeline entries were moved out (schema before 6).
pub(crate) fn order_from_body(body: &str, version: u64) -> anyhow::Result<Order> {
    order_from_rows(body, version, &[])
}

/// The order from `orders.body` and the bodies of its `timeline` rows (by `seq`), at
/// `version`: the whole history.
pub(crate) fn order_from_rows(body: &str, version: u64, moved: &[String]) -> anyhow::Result<Order> {
    let record: OrderRecord = serde_json::from_str(body).context("The stored order is not valid JSON of an order")?;
    let moved = moved
        .iter()
        .map(|e| serde_json::from_str::<EventRecord>(e).context("A timeline row is not valid JSON of a timeline entry"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Order { version, ..Order::try_from(record.with_moved(moved)?)? })
}

/// `timeline.body` of one moved entry.
pub(crate) fn event_body(event: &EventRecord) -> serde_json::Result<String> {
    serde_json::to_string(event)
}

/// `warehouses.body` of `warehouse`.
pub(crate) fn warehouse_body(warehouse: &Warehouse) -> serde_json::Result<String> {
    serde_json::to_string(&WarehouseRecord::from(warehouse))
}

/// The warehouse from `warehouses.body`.
pub(crate) fn warehouse_from_body(body: &str) -> anyhow::Result<Warehouse> {
    let record: WarehouseRecord = serde_json::from_str(body).context("The stored warehouse is not valid JSON of a warehouse")?;
    Ok(Warehouse::try_from(record)?)
}
