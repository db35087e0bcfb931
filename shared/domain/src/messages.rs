//! The messages the functions pass each other through queues, and the consumers that
//! handle them.
//!
//! Each queue carries one kind of message ([`QueueMessage`]) and has one consumer
//! ([`Consumer`]): the allocate queue carries [`AllocateOrder`] to
//! [`Allocate`](crate::usecases::fulfilment::Allocate), the reserve queue [`ReserveOrder`]
//! to [`Reserve`](crate::usecases::fulfilment::Reserve). On the wire a message is its
//! fields plus a `type` tag; a body that is not the queue's kind, or not readable at all,
//! is a [`PoisonMessage`]: no retry can fix it, so it belongs in the dead-letter queue.

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ports::{Ports, StoreError};
use crate::OrderId;

/// The queues of the flow. Each has a dead-letter queue for messages that keep failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueName {
    /// Orders waiting for a warehouse plan (consumed by `allocate`).
    Allocate,
    /// Planned orders waiting for their stock to be held (consumed by `reserve-stock`).
    Reserve,
    /// Notices for systems outside the OMS: warehouses' fulfilment requests and
    /// cancellations, and shipments written back to the sales channels (consumed by
    /// `deliver-outbound`; see `crate::outbound`).
    Outbound,
}

impl QueueName {
    pub const ALL: [QueueName; 3] = [QueueName::Allocate, QueueName::Reserve, QueueName::Outbound];

    pub fn as_str(&self) -> &'static str {
        match self {
            QueueName::Allocate => "allocate",
            QueueName::Reserve => "reserve",
            QueueName::Outbound => "outbound",
        }
    }

    /// The queue named `name` (`as_str`), if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|queue| queue.as_str() == name)
    }

    /// The `type` tag of the one kind of message this queue carries.
    pub fn kind(&self) -> &'static str {
        match self {
            QueueName::Allocate => AllocateOrder::KIND,
            QueueName::Reserve => ReserveOrder::KIND,
            QueueName::Outbound => crate::outbound::OutboundNotice::KIND,
        }
    }
}

impl fmt::Display for QueueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The one kind of message a queue carries.
pub trait QueueMessage: Serialize + DeserializeOwned + fmt::Debug + Send + Sync + 'static {
    /// The queue this kind travels on.
    const QUEUE: QueueName;
    /// The `type` tag that names this kind on the wire.
    const KIND: &'static str;
}

/// A received order needs a warehouse plan. A flash-sale claim's message also carries what
/// makes its order (`claim`): the claim is written with this message and no order, and the
/// consumer makes the order before it plans it
/// ([`make_claim_order`](crate::usecases::flash_sales::make_claim_order)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocateOrder {
    pub order_id: OrderId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimOrder>,
}

impl AllocateOrder {
    /// The message of an order stored already.
    pub fn new(order_id: OrderId) -> Self {
        Self { order_id, claim: None }
    }
}

/// What makes a flash-sale claim's order: the claim as written and where the order ships
/// (without an address the order waits on hold for one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimOrder {
    pub claim: crate::flash_sale::Claim,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<crate::order::Address>,
}

impl QueueMessage for AllocateOrder {
    const QUEUE: QueueName = QueueName::Allocate;
    const KIND: &'static str = "allocate_order";
}

/// An allocated order needs its stock held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveOrder {
    pub order_id: OrderId,
}

impl QueueMessage for ReserveOrder {
    const QUEUE: QueueName = QueueName::Reserve;
    const KIND: &'static str = "reserve_order";
}

/// A message encoded for its queue: what the `Queue` port sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub queue: QueueName,
    /// The message kind's `type` tag, for logs.
    pub kind: &'static str,
    /// The JSON body: the message's fields plus `"type"`.
    pub body: String,
}

impl Outgoing {
    /// Encodes `message` for its queue.
    pub fn of<M: QueueMessage>(message: &M) -> Self {
        // The fields' object with `"type"` added last, written once into one buffer sized
        // for a claim's message (no `Value` built, no copy: a flash-sale claim encodes its
        // message on the claim's path).
        let mut body = Vec::with_capacity(1024);
        serde_json::to_writer(&mut body, message).expect("a message always serialises");
        if body.first() == Some(&b'{') && body.last() == Some(&b'}') {
            body.pop();
            if body.len() > 1 {
                body.push(b',');
            }
            body.extend_from_slice(b"\"type\":\"");
            body.extend_from_slice(M::KIND.as_bytes());
            body.extend_from_slice(b"\"}");
        }
        let body = String::from_utf8(body).expect("serde_json writes UTF-8");
        Self { queue: M::QUEUE, kind: M::KIND, body }
    }

    /// A message stored encoded (an outbox item, a queue row), as it was sent. Each queue
    /// carries one kind, so the queue names it; the body is read when it is consumed.
    pub fn stored(queue: QueueName, body: String) -> Self {
        Self { queue, kind: queue.kind(), body }
    }
}

/// A body its queue's consumer can never handle: unreadable, or of another kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("poison message on the {queue} queue: {reason}")]
pub struct PoisonMessage {
    pub queue: QueueName,
    pub reason: String,
}

/// Reads a body as the message kind `M`, refusing any other kind.
pub fn decode<M: QueueMessage>(body: &str) -> Result<M, PoisonMessage> {
    let poison = |reason: String| PoisonMessage { queue: M::QUEUE, reason };
    let value: serde_json::Value = serde_json::from_str(body).map_err(|e| poison(format!("not JSON: {e}")))?;
    match value.get("type").and_then(serde_json::Value::as_str) {
        Some(kind) if kind == M::KIND => {}
        Some(kind) => return Err(poison(format!("a {kind} message, but this queue takes {}", M::KIND))),
        None => return Err(poison(format!("no \"type\"; this queue takes {}", M::KIND))),
    }
    serde_json::from_value(value).map_err(|e| poison(format!("not a readable {}: {e}", M::KIND)))
}

/// What a consumer did with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// The order moved to this status.
    Moved(crate::OrderStatus),
    /// Nothing to do (unknown order, or already past this step); the message is spent.
    Skipped(String),
    /// A notice reached a system outside the OMS (or it had it already), as said.
    Delivered(String),
}

/// The use case behind one queue. Delivery is at least once, so `consume` must be
/// idempotent; an `Err` means "try again later" (the queue redelivers the message, and
/// after repeated failures moves it to the dead-letter queue).
#[async_trait]
pub trait Consumer: Send + Sync + 'static {
    type Message: QueueMessage;
    async fn consume(&self, ports: &Ports, message: Self::Message) -> Result<Handled, StoreError>;
}

/// Why a delivered body was not handled.
#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    /// No retry can fix it: dead-letter it.
    #[error(transparent)]
    Poison(#[from] PoisonMessage),
    /// It may work later: redeliver it.
    #[error(transparent)]
    Failed(#[from] StoreError),
}

/// Decodes a delivered body as `consumer`'s kind and runs it: what every runtime (the
/// Lambda SQS functions, the local workers) does with each message.
pub async fn consume<C: Consumer>(consumer: &C, ports: &Ports, body: &str) -> Result<Handled, ConsumeError> {
    let message = decode::<C::Message>(body)?;
    tracing::debug!(queue = %C::Message::QUEUE, message = ?message, "consuming");
    Ok(consumer.consume(ports, message).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_id() -> OrderId {
        OrderId::parse("ord_1").unwrap()
    }

    #[test]
    fn messages_carry_their_kind_on_the_wire_and_read_back() {
        let sent = Outgoing::of(&ReserveOrder { order_id: order_id() });
        assert_eq!(sent.queue, QueueName::Reserve);
        let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
        assert_eq!(body, serde_json::json!({"type": "reserve_order", "order_id": "ord_1"}));
        assert_eq!(decode::<ReserveOrder>(&sent.body).unwrap(), ReserveOrder { order_id: order_id() });
    }

    #[test]
    fn a_message_of_another_kind_is_poison_for_a_queue() {
        let sent = Outgoing::of(&ReserveOrder { order_id: order_id() });
        let err = decode::<AllocateOrder>(&sent.body).unwrap_err();
        assert_eq!(err.queue, QueueName::Allocate);
        assert!(err.reason.contains("reserve_order"), "{err}");
        assert!(decode::<AllocateOrder>("not json").is_err());
        assert!(decode::<AllocateOrder>(r#"{"order_id":"ord_1"}"#).is_err());
        assert!(decode::<AllocateOrder>(r#"{"type":"allocate_order"}"#).is_err());
    }
}
