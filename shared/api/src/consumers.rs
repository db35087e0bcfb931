//! The queue consumers: one dispatcher from a queued message to its use case. The Lambda
//! SQS functions and the local runtime both call it.

use oms_domain::messages::Message;
use oms_domain::ports::{Ports, StoreError};
use oms_domain::usecases::fulfilment::{self, Handled};

/// Runs the use case a message asks for. An `Err` means "try again later": the queue
/// redelivers it, and after repeated failures moves it to the dead-letter queue.
pub async fn handle_message(ports: &Ports, message: &Message) -> Result<Handled, StoreError> {
    let handled = match message {
        Message::AllocateOrder { order_id } => fulfilment::allocate_order(ports, order_id).await?,
        Message::ReserveOrder { order_id } => fulfilment::reserve_order(ports, order_id).await?,
    };
    if let Handled::Skipped(why) = &handled {
        tracing::debug!(order_id = %message.order_id(), reason = %why, "message needed no work");
    }
    Ok(handled)
}
