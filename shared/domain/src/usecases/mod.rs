//! The use cases: what each function does, written once over the ports.
//! The HTTP handlers and queue consumers of every runtime are thin calls into these.
//!
//! Every use case takes the adapters as one [`Ports`](crate::ports::Ports) value and
//! parsed domain values, never a raw body. Every change of a stored order goes through
//! [`update_with_retry`]: read, decide, write conditionally on the version read, and on a
//! lost race read again and decide again.

pub mod alerts;
pub mod analytics;
pub mod auctions;
pub mod catalogue;
pub mod checkout;
pub mod consignments;
pub mod flash_sales;
pub mod fraud;
pub mod fulfilment;
pub mod group_buys;
pub mod intake;
pub mod inventory;
pub mod lots;
pub mod matchmaking;
pub mod onboarding;
pub mod orders;
pub mod outbound;
pub mod products;
pub mod reconcile;
pub mod rentals;
pub mod repairs;
pub mod replenishment;
pub mod reports;
pub mod returns;
pub mod reviews;
pub mod rfq_candidates;
pub mod rfqs;
pub mod storefronts;
pub mod supply;
pub mod sweep;
pub mod tracking;

use std::future::Future;
use std::pin::Pin;

use crate::order::Order;
use crate::ports::{Effects, OrderStore, StoreError, UpdateOutcome};
use crate::OrderId;

/// How often a use case re-reads and retries after losing an optimistic-concurrency race.
/// Part of the one retry budget (`docs/retries.md`): with the SDK's and the adapters'
/// attempts, the longest consumer stays well inside the Lambda timeout; a race lost for
/// good here is tried again when the queue redelivers the message.
pub const CONFLICT_RETRIES: usize = 3;

/// What a change decided about the order it was given (and gives back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<T> {
    /// The order was changed: write it, conditional on the version read, and answer `T`.
    Write(Order, T),
    /// As `Write`, with effects that land in the same atomic write as the order (a message
    /// queued, a hold given back): see [`Effects`].
    WriteWith(Order, Effects, T),
    /// Nothing to write: answer `T` with the order as it was read.
    Keep(Order, T),
}

/// What a change given to [`update_with_retry`] returns: a boxed future that owns the order
/// it was given, so the loop's own future stays `Send` whatever the change borrows (async
/// closures borrowing their argument cannot promise that yet).
pub type Decision<'env, T, E> = Pin<Box<dyn Future<Output = Result<Change<T>, E>> + Send + 'env>>;

/// The order after [`update_with_retry`], and what the change answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed<T> {
    /// The order as stored now (its `version` is the stored one).
    pub order: Order,
    /// True when this call wrote the order.
    pub written: bool,
    pub value: T,
}

/// The one read-modify-write loop over an order: reads it, lets `change` edit it and
/// decide, and writes it conditional on the version read. When another writer got there
/// first the order is read again and `change` runs again on the fresh copy, at most
/// [`CONFLICT_RETRIES`] times. `Ok(None)` when there is no such order.
///
/// `change` is `|mut order| Box::pin(async move { ... })`. It must be a decision over the
/// order plus reads: it may run several times, so an effect beyond the order either goes
/// with the write (`Change::WriteWith`: atomic with it) or after this returns.
pub async fn update_with_retry<'env, T, E>(
    orders: &dyn OrderStore,
    id: &OrderId,
    mut change: impl FnMut(Order) -> Decision<'env, T, E>,
) -> Result<Option<Changed<T>>, E>
where
    E: From<StoreError>,
{
    for _ in 0..CONFLICT_RETRIES {
        let Some(order) = orders.get_order(id).await? else {
            return Ok(None);
        };
        match change(order).await? {
            Change::Keep(order, value) => return Ok(Some(Changed { order, written: false, value })),
            Change::Write(order, value) => {
                if let Some(changed) = write(orders, order, &Effects::none(), value).await? {
                    return Ok(Some(changed));
                }
            }
            Change::WriteWith(order, effects, value) => {
                if let Some(changed) = write(orders, order, &effects, value).await? {
                    return Ok(Some(changed));
                }
            }
        }
    }
    Err(StoreError::msg(format!("order {id} kept changing: gave up after {CONFLICT_RETRIES} lost races")).into())
}

/// One conditional write of `update_with_retry`: `None` when the race was lost.
async fn write<T>(
    orders: &dyn OrderStore,
    mut order: Order,
    effects: &Effects,
    value: T,
) -> Result<Option<Changed<T>>, StoreError> {
    Ok(match orders.update_order_with(&order, effects).await? {
        UpdateOutcome::Updated { version } => {
            order.version = version;
            Some(Changed { order, written: true, value })
        }
        UpdateOutcome::VersionConflict => None,
    })
}
