//! After the sale: the buyer confirms it has the goods, then reviews what it bought.
//!
//! A buyer confirms delivery of a shipped order ([`confirm_delivery`]): the order becomes
//! `delivered` (or, delivered already by the carrier's word, notes the buyer's), once.
//! Once the order is delivered the buyer may review each SKU it bought, once per (order,
//! SKU): a rating of 1 to 5 stars and a text. A SKU's rating ([`Rating`]) counts its
//! reviews and their stars; storefronts show it, and recommendations leave out what buyers
//! rate poorly ([`Rating::is_poor`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::order::{InvalidTransition, Order, OrderStatus};
use crate::validation::{clean_text, refuse_hidden_text};
use crate::{CustomerId, MerchantId, OrderId, Sku, ValidationError};

/// The longest review text kept, in characters.
pub const MAX_REVIEW_CHARS: usize = 2_000;
/// Reviews a SKU needs before its average says anything of its quality.
pub const RATINGS_TO_JUDGE: u32 = 3;
/// An average below this, over at least [`RATINGS_TO_JUDGE`] reviews, is poor.
pub const POOR_AVERAGE: f64 = 3.0;

/// What the timeline says when the buyer confirms delivery.
const CONFIRMED_BY_BUYER: &str = "delivery confirmed by the buyer";

/// One buyer's review of one SKU of one of its orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub order_id: OrderId,
    pub merchant_id: MerchantId,
    pub customer_id: CustomerId,
    pub sku: Sku,
    /// 1 to 5 stars.
    pub rating: u8,
    /// May be empty: a rating alone is a review.
    pub text: String,
    pub at: DateTime<Utc>,
}

/// Why a review was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefused {
    /// The buyer does not have the goods yet: reviews come after delivery.
    #[error("order {order_id} is {status}: it can be reviewed once delivered")]
    NotDelivered { order_id: OrderId, status: OrderStatus },
    /// The SKU is not one the order bought.
    #[error("order {order_id} has no line of {sku}")]
    NotBought { order_id: OrderId, sku: Sku },
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

impl Review {
    /// The buyer's review of `sku` on `order`: the order delivered, the SKU one of its
    /// lines, 1 to 5 stars, a text of at most [`MAX_REVIEW_CHARS`] characters (trimmed;
    /// no hidden characters).
    pub fn of(order: &Order, sku: Sku, rating: u8, text: &str, at: DateTime<Utc>) -> Result<Review, ReviewRefused> {
        if !(1..=5).contains(&rating) {
            return Err(ValidationError::new("rating", format!("{rating} is not 1 to 5 stars")).into());
        }
        refuse_hidden_text("text", text)?;
        let text = clean_text(text);
        if text.chars().count() > MAX_REVIEW_CHARS {
            return Err(ValidationError::new("text", format!("is longer than {MAX_REVIEW_CHARS} characters")).into());
        }
        if order.status != OrderStatus::Delivered {
            return Err(ReviewRefused::NotDelivered { order_id: order.order_id.clone(), status: order.status });
        }
        if !order.lines.iter().any(|line| line.sku == sku) {
            return Err(ReviewRefused::NotBought { order_id: order.order_id.clone(), sku });
        }
        Ok(Review {
            order_id: order.order_id.clone(),
            merchant_id: order.merchant_id.clone(),
            customer_id: order.customer.id.clone(),
            sku,
            rating,
            text,
            at,
        })
    }
}

/// A SKU's reviews in sum: how many, and their stars in all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub count: u32,
    pub stars: u32,
}

impl Rating {
    /// The mean stars, `None` with no review.
    pub fn average(&self) -> Option<f64> {
        (self.count > 0).then(|| f64::from(self.stars) / f64::from(self.count))
    }

    /// Enough reviews to judge, and their mean below [`POOR_AVERAGE`].
    pub fn is_poor(&self) -> bool {
        self.count >= RATINGS_TO_JUDGE && self.average().is_some_and(|mean| mean < POOR_AVERAGE)
    }

    /// The rating with `review` counted.
    #[must_use]
    pub fn with(self, review: &Review) -> Rating {
        Rating { count: self.count + 1, stars: self.stars + u32::from(review.rating) }
    }
}

/// What the buyer's confirmation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// Shipped or in transit: now delivered.
    Delivered,
    /// Delivered already by the carrier's word: the buyer's confirmation is noted.
    Noted,
    /// Confirmed before: nothing changes.
    Already,
}

/// The buyer confirms it has the goods of `order`: a shipped or in-transit order becomes
/// `delivered`; one delivered already gets the confirmation on its timeline; confirming
/// again changes nothing. Any other status (nothing shipped yet, part still to ship,
/// cancelled, a carrier exception staff are on) is refused.
pub fn confirm_delivery(order: &mut Order, at: DateTime<Utc>) -> Result<Confirmation, InvalidTransition> {
    if order.timeline.iter().any(|event| event.detail == CONFIRMED_BY_BUYER) {
        return Ok(Confirmation::Already);
    }
    match order.status {
        OrderStatus::Shipped | OrderStatus::InTransit => {
            order.transition(OrderStatus::Delivered, at, CONFIRMED_BY_BUYER)?;
            Ok(Confirmation::Delivered)
        }
        OrderStatus::Delivered => {
            order.note(at, CONFIRMED_BY_BUYER);
            Ok(Confirmation::Noted)
        }
        from => Err(InvalidTransition { from, to: OrderStatus::Delivered }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::tests::sample_new_order;

    fn order_in(status: OrderStatus) -> Order {
        let mut order = Order::receive(sample_new_order("SKU-1", 2), OrderId::generate(), Utc::now());
        order.status = status;
        order
    }

    #[test]
    fn the_buyer_confirms_a_shipped_order_delivered_once() {
        for status in [OrderStatus::Shipped, OrderStatus::InTransit] {
            let mut order = order_in(status);
            assert_eq!(confirm_delivery(&mut order, Utc::now()), Ok(Confirmation::Delivered));
            assert_eq!(order.status, OrderStatus::Delivered);
            let entries = order.timeline.len();
            assert_eq!(confirm_delivery(&mut order, Utc::now()), Ok(Confirmation::Already));
            assert_eq!(order.timeline.len(), entries, "again changes nothing");
        }
        let mut delivered = order_in(OrderStatus::Delivered);
        assert_eq!(confirm_delivery(&mut delivered, Utc::now()), Ok(Confirmation::Noted));
        assert_eq!(delivered.timeline.last().map(|e| e.detail.as_str()), Some(CONFIRMED_BY_BUYER));
        assert_eq!(confirm_delivery(&mut delivered, Utc::now()), Ok(Confirmation::Already));
    }

    #[test]
    fn an_order_not_shipped_whole_cannot_be_confirmed() {
        for status in [
            OrderStatus::Received,
            OrderStatus::OnHold,
            OrderStatus::Allocated,
            OrderStatus::Reserved,
            OrderStatus::Backordered,
            OrderStatus::PartiallyShipped,
            OrderStatus::Exception,
            OrderStatus::Cancelled,
        ] {
            let mut order = order_in(status);
            let before = order.clone();
            assert_eq!(
                confirm_delivery(&mut order, Utc::now()),
                Err(InvalidTransition { from: status, to: OrderStatus::Delivered })
            );
            assert_eq!(order, before);
        }
    }

    #[test]
    fn a_review_needs_the_goods_delivered_a_sku_bought_and_one_to_five_stars() {
        let delivered = order_in(OrderStatus::Delivered);
        let sku = |s: &str| Sku::parse(s).unwrap();
        let review = Review::of(&delivered, sku("SKU-1"), 4, "  Fresh and fragrant. ", Utc::now()).unwrap();
        assert_eq!((review.rating, review.text.as_str()), (4, "Fresh and fragrant."));
        assert_eq!(review.customer_id, delivered.customer.id);
        assert!(matches!(
            Review::of(&order_in(OrderStatus::Shipped), sku("SKU-1"), 4, "", Utc::now()),
            Err(ReviewRefused::NotDelivered { status: OrderStatus::Shipped, .. })
        ));
        assert!(matches!(Review::of(&delivered, sku("SKU-9"), 4, "", Utc::now()), Err(ReviewRefused::NotBought { .. })));
        for stars in [0, 6] {
            let Err(ReviewRefused::Invalid(e)) = Review::of(&delivered, sku("SKU-1"), stars, "", Utc::now()) else {
                panic!("{stars} stars taken")
            };
            assert_eq!(e.field, "rating");
        }
        let long = "x".repeat(MAX_REVIEW_CHARS + 1);
        let Err(ReviewRefused::Invalid(e)) = Review::of(&delivered, sku("SKU-1"), 3, &long, Utc::now()) else { panic!() };
        assert_eq!(e.field, "text");
    }

    #[test]
    fn a_rating_is_poor_only_with_enough_reviews_below_three_stars() {
        let delivered = order_in(OrderStatus::Delivered);
        let review = |stars| Review::of(&delivered, Sku::parse("SKU-1").unwrap(), stars, "", Utc::now()).unwrap();
        let two_ones = Rating::default().with(&review(1)).with(&review(1));
        assert_eq!((two_ones.count, two_ones.stars, two_ones.average()), (2, 2, Some(1.0)));
        assert!(!two_ones.is_poor(), "two reviews judge nothing");
        assert!(two_ones.with(&review(2)).is_poor());
        assert!(!two_ones.with(&review(5)).with(&review(5)).is_poor(), "12 stars over 4 is 3.0");
        assert_eq!(Rating::default().average(), None);
    }
}
