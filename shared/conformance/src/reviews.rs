//! `ReviewStore`: one review per (order, SKU), a SKU's reviews newest first, and its
//! rating counted with every review stored, under concurrent reviews too.

use chrono::Duration;
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::AddReviewOutcome;
use oms_domain::review::{Rating, Review};
use oms_domain::Order;

use crate::fixtures::{merchant, noon, order, sku};
use crate::Subject;

/// A delivered order of `lines` SKUs.
fn delivered(external_id: &str, skus: &[&str]) -> Order {
    let mut order = order(Channel::Generic, external_id);
    order.lines = skus.iter().map(|s| oms_domain::order::OrderLine { sku: sku(s), ..order.lines[0].clone() }).collect();
    order.status = OrderStatus::Delivered;
    order
}

fn review(order: &Order, of: &str, rating: u8, minutes: i64) -> Review {
    Review::of(order, sku(of), rating, &format!("{rating} stars"), noon() + Duration::minutes(minutes)).expect("a valid review")
}

pub async fn a_review_is_stored_once_per_order_and_sku_and_counted_in_its_rating(s: Subject) {
    let order = delivered("R-1", &["SKU-1", "SKU-2"]);
    let first = review(&order, "SKU-1", 4, 0);
    assert_eq!(s.reviews.add_review(&first).await.expect("the store answers"), AddReviewOutcome::Added);
    let again = review(&order, "SKU-1", 1, 5);
    assert_eq!(
        s.reviews.add_review(&again).await.expect("the store answers"),
        AddReviewOutcome::AlreadyReviewed(Box::new(first.clone())),
        "the first review stands"
    );
    assert_eq!(s.reviews.add_review(&review(&order, "SKU-2", 2, 1)).await.expect("the store answers"), AddReviewOutcome::Added);
    let m1 = merchant("m-1");
    assert_eq!(s.reviews.reviews_of(&m1, &sku("SKU-1"), 10).await.expect("the store answers"), vec![first]);
    assert_eq!(s.reviews.rating_of(&m1, &sku("SKU-1")).await.expect("the store answers"), Rating { count: 1, stars: 4 });
    assert_eq!(s.reviews.rating_of(&m1, &sku("SKU-2")).await.expect("the store answers"), Rating { count: 1, stars: 2 });
    assert_eq!(s.reviews.rating_of(&m1, &sku("SKU-3")).await.expect("the store answers"), Rating::default());
    assert!(s.reviews.reviews_of(&m1, &sku("SKU-3"), 10).await.expect("the store answers").is_empty());
}

pub async fn a_skus_reviews_read_newest_first_per_merchant(s: Subject) {
    let mut written = Vec::new();
    for (i, minutes) in [(1, 30), (2, 10), (3, 20)] {
        let order = delivered(&format!("R-{i}"), &["SKU-1"]);
        let r = review(&order, "SKU-1", 5, minutes);
        assert_eq!(s.reviews.add_review(&r).await.expect("the store answers"), AddReviewOutcome::Added);
        written.push(r);
    }
    let mut theirs = delivered("R-9", &["SKU-1"]);
    theirs.merchant_id = merchant("m-2");
    assert_eq!(s.reviews.add_review(&review(&theirs, "SKU-1", 1, 40)).await.expect("the store answers"), AddReviewOutcome::Added);
    let m1 = merchant("m-1");
    let newest: Vec<Review> = s.reviews.reviews_of(&m1, &sku("SKU-1"), 10).await.expect("the store answers");
    assert_eq!(newest, vec![written[0].clone(), written[2].clone(), written[1].clone()]);
    assert_eq!(s.reviews.reviews_of(&m1, &sku("SKU-1"), 2).await.expect("the store answers"), newest[..2].to_vec());
    assert_eq!(s.reviews.rating_of(&m1, &sku("SKU-1")).await.expect("the store answers"), Rating { count: 3, stars: 15 });
    assert_eq!(
        s.reviews.rating_of(&merchant("m-2"), &sku("SKU-1")).await.expect("the store answers"),
        Rating { count: 1, stars: 1 }
    );
}

pub async fn concurrent_reviews_of_one_orders_sku_store_and_count_one(s: Subject) {
    let order = delivered("R-1", &["SKU-1"]);
    let tasks: Vec<_> = (1..=5u8)
        .map(|stars| {
            let (store, r) = (s.reviews.clone(), review(&order, "SKU-1", stars, i64::from(stars)));
            tokio::spawn(async move { store.add_review(&r).await.expect("add_review failed") })
        })
        .collect();
    let mut added = 0;
    for task in tasks {
        if task.await.expect("a review task panicked") == AddReviewOutcome::Added {
            added += 1;
        }
    }
    assert_eq!(added, 1, "one review of one order's SKU");
    let m1 = merchant("m-1");
    let stored = s.reviews.reviews_of(&m1, &sku("SKU-1"), 10).await.expect("the store answers");
    assert_eq!(stored.len(), 1);
    let rating = s.reviews.rating_of(&m1, &sku("SKU-1")).await.expect("the store answers");
    assert_eq!(rating, Rating { count: 1, stars: u32::from(stored[0].rating) }, "the rating counts the one stored");
}
