//! The messages the functions pass each other through queues.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::OrderId;

/// The queues of the flow. Each has a dead-letter queue for messages that keep failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueName {
    /// Orders waiting for a warehouse plan (consumed by `allocate`).
    Allocate,
    /// Planned orders waiting for their stock to be held (consumed by `reserve-stock`).
    Reserve,
}

impl QueueName {
    pub const ALL: [QueueName; 2] = [QueueName::Allocate, QueueName::Reserve];

    pub fn as_str(&self) -> &'static str {
        match self {
            QueueName::Allocate => "allocate",
            QueueName::Reserve => "reserve",
        }
    }
}

impl fmt::Display for QueueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A unit of queued work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// A received order needs a warehouse plan.
    AllocateOrder { order_id: OrderId },
    /// An allocated order needs its stock held.
    ReserveOrder { order_id: OrderId },
}

impl Message {
    pub fn queue(&self) -> QueueName {
        match self {
            Message::AllocateOrder { .. } => QueueName::Allocate,
            Message::ReserveOrder { .. } => QueueName::Reserve,
        }
    }

    pub fn order_id(&self) -> &OrderId {
        match self {
            Message::AllocateOrder { order_id } | Message::ReserveOrder { order_id } => order_id,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a message always serialises")
    }

    pub fn from_json(body: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_through_json() {
        let m = Message::ReserveOrder { order_id: OrderId::parse("ord_1").unwrap() };
        assert_eq!(m.to_json(), r#"{"type":"reserve_order","order_id":"ord_1"}"#);
        assert_eq!(Message::from_json(&m.to_json()).unwrap(), m);
        assert_eq!(m.queue(), QueueName::Reserve);
    }
}
