//! The use cases: what each function does, written once over the ports.
//! The HTTP handlers and queue consumers of every runtime are thin calls into these.

pub mod fulfilment;
pub mod intake;
pub mod inventory;
pub mod orders;

/// How often a use case re-reads and retries after losing an optimistic-concurrency race.
pub const CONFLICT_RETRIES: usize = 8;
