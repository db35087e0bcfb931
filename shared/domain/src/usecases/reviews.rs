//! The buyer's side after the sale: confirming delivery, then reviewing what it bought
//! (`crate::review`). Both act for one customer: another customer's order is not found.

use chrono::{DateTime, Utc};

use crate::order::{InvalidTransition, OrderStatus};
use crate::ports::{AddReviewOutcome, Ports, StoreError};
use crate::review::{confirm_delivery as confirm, Confirmation, Review, ReviewRefused};
use crate::usecases::{update_with_retry, Change};
use crate::{CustomerId, Order, OrderId, Sku};

/// Why a step of the buyer's was not taken.
#[derive(Debug, thiserror::Error)]
pub enum BuyerStepError {
    /// No such order of this customer's.
    #[error("no order {0} of this customer's")]
    NotFound(OrderId),
    /// Delivery is confirmed only of an order shipped whole.
    #[error("order {order_id} is {status}: only a shipped order's delivery is confirmed")]
    NotShipped { order_id: OrderId, status: OrderStatus },
    #[error(transparent)]
    Refused(#[from] ReviewRefused),
    /// The order's SKU was reviewed already, differently: that review stands.
    #[error("{} of order {} is reviewed already", .0.sku, .0.order_id)]
    AlreadyReviewed(Box<Review>),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// The buyer `customer` confirms it has the goods of its order: see
/// [`crate::review::confirm_delivery`]. A repeated confirmation answers the order as it is.
pub async fn confirm_delivery(ports: &Ports, order_id: &OrderId, customer: &CustomerId) -> Result<Order, BuyerStepError> {
    let now = ports.clock.now();
    let changed = update_with_retry(&*ports.orders, order_id, |mut order| {
        Box::pin(async move {
            if &order.customer.id != customer {
                return Err(BuyerStepError::NotFound(order.order_id));
            }
            match confirm(&mut order, now) {
                Ok(Confirmation::Already) => Ok(Change::Keep(order, ())),
                Ok(Confirmation::Delivered | Confirmation::Noted) => Ok(Change::Write(order, ())),
                Err(InvalidTransition { from, .. }) => {
                    Err(BuyerStepError::NotShipped { order_id: order.order_id.clone(), status: from })
                }
            }
        })
    })
    .await?
    .ok_or_else(|| BuyerStepError::NotFound(order_id.clone()))?;
    if changed.written {
        tracing::info!(order_id = %order_id, "delivery confirmed by the buyer");
    }
    Ok(changed.order)
}

/// What the buyer says of one SKU it bought.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub customer: CustomerId,
    pub sku: Sku,
    pub rating: u8,
    pub text: String,
}

/// The buyer reviews one SKU of its delivered order: stored and counted in the SKU's
/// rating once. The same review again (a client's retry) answers the stored one, with
/// `false`: not added now; a different one for a SKU reviewed already is refused.
pub async fn review(ports: &Ports, order_id: &OrderId, asked: NewReview) -> Result<(Review, bool), BuyerStepError> {
    let order = ports
        .orders
        .get_order(order_id)
        .await?
        .filter(|order| order.customer.id == asked.customer)
        .ok_or_else(|| BuyerStepError::NotFound(order_id.clone()))?;
    let now: DateTime<Utc> = ports.clock.now();
    let review = Review::of(&order, asked.sku, asked.rating, &asked.text, now)?;
    match ports.reviews.add_review(&review).await? {
        AddReviewOutcome::Added => {
            tracing::info!(order_id = %order_id, sku = %review.sku, rating = review.rating, "review added");
            Ok((review, true))
        }
        AddReviewOutcome::AlreadyReviewed(stored) if stored.rating == review.rating && stored.text == review.text => {
            Ok((*stored, false))
        }
        AddReviewOutcome::AlreadyReviewed(stored) => Err(BuyerStepError::AlreadyReviewed(stored)),
    }
}
