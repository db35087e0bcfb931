//! The outbox: messages written as items in the same transaction as the order write that
//! queues them (`OrderStore::insert_order_sending`, `update_order_with`), and relayed to
//! their SQS queues from the table's stream (`relay-outbox`). A message therefore exists
//! exactly when its write does; the stream delivers each insert at least once, and every
//! consumer is idempotent.

use oms_domain::messages::Outgoing;
use oms_domain::ports::StoreError;

use super::items::OutboxItem;
use super::{from_item, OUTBOX_PREFIX};

/// The message an item inserted in the table carries, read from its stream image: `None`
/// for an item that is not an outbox item (the relay's stream filter passes only those,
/// but a record is checked again here); an error for an outbox item that does not read.
pub fn relayed_message(image: serde_dynamo::Item) -> Result<Option<Outgoing>, StoreError> {
    let is_outbox = matches!(image.get("pk"), Some(serde_dynamo::AttributeValue::S(pk)) if pk.starts_with(OUTBOX_PREFIX));
    if !is_outbox {
        return Ok(None);
    }
    let item: OutboxItem = from_item(image.into(), "an outbox item")?;
    let what = item.pk.clone();
    Outgoing::try_from(item).map(Some).map_err(|e| StoreError::new(format!("Failed to read the outbox item {what}"), e))
}
