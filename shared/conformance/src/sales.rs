//! `SalesHistory`: the sale an order write carries lands with it and only with it, per
//! merchant, in pages oldest first.

use chrono::Duration;
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::{Effects, InsertOutcome, UpdateOutcome};
use oms_domain::sales::{Sale, SaleKey};
use oms_domain::{MerchantId, Order};

use crate::fixtures::{merchant, noon, order, stored};
use crate::Subject;

/// A stored order of `merchant_id`, placed `minutes` after the fixture's time, moved to
/// allocated (as reserve-stock finds it).
async fn placed(s: &Subject, external_id: &str, merchant_id: &str, minutes: i64) -> Order {
    let mut new = order(Channel::Generic, external_id);
    new.merchant_id = merchant(merchant_id);
    new.placed_at += Duration::minutes(minutes);
    assert_eq!(s.orders.insert_order(&new).await.expect("insert_order failed"), InsertOutcome::Inserted);
    let mut allocated = stored(&new);
    allocated.transition(OrderStatus::Allocated, noon(), "planned").expect("a valid move");
    assert!(matches!(s.orders.update_order(&allocated).await.expect("update failed"), UpdateOutcome::Updated { .. }));
    allocated.version += 1;
    allocated
}

/// Records the order's reservation with its sale; answers the sale.
async fn reserve_with_sale(s: &Subject, order: &Order) -> Sale {
    let mut reserved = order.clone();
    reserved.transition(OrderStatus::Reserved, noon(), "held").expect("a valid move");
    let sale = Sale::of(&reserved);
    let outcome = s.orders.update_order_with(&reserved, &Effects::record_sale(sale.clone())).await.expect("update failed");
    assert!(matches!(outcome, UpdateOutcome::Updated { .. }), "{outcome:?}");
    sale
}

async fn all_sales(s: &Subject, merchant_id: &MerchantId, page: usize) -> (Vec<Sale>, usize) {
    let mut sales = Vec::new();
    let mut after: Option<SaleKey> = None;
    let mut pages = 0;
    loop {
        let found = s.sales.sales(merchant_id, after.as_ref(), page).await.expect("sales failed");
        pages += 1;
        assert!(found.sales.len() <= page, "a page holds at most its limit");
        sales.extend(found.sales);
        match found.next {
            Some(next) => after = Some(next),
            None => return (sales, pages),
        }
        assert!(pages < 100, "paging never ends");
    }
}

pub async fn a_reserved_orders_sale_lands_with_its_write_and_reads_back_whole(s: Subject) {
    let order = placed(&s, "S-1", "m-1", 0).await;
    let mut lost = order.clone();
    lost.transition(OrderStatus::Reserved, noon(), "held").expect("a valid move");
    let stale = Order { version: 9, ..lost.clone() };
    let outcome = s.orders.update_order_with(&stale, &Effects::record_sale(Sale::of(&lost))).await.expect("update failed");
    assert_eq!(outcome, UpdateOutcome::VersionConflict);
    assert!(
        s.sales.sales(&merchant("m-1"), None, 10).await.expect("sales failed").sales.is_empty(),
        "a lost race writes no sale"
    );

    let sale = reserve_with_sale(&s, &order).await;
    let page = s.sales.sales(&merchant("m-1"), None, 10).await.expect("sales failed");
    assert_eq!(page.sales, vec![sale.clone()]);
    assert_eq!(page.next, None, "a page short of its limit is the last");
    assert_eq!(sale.lines[0].unit_price, order.lines[0].unit_price);
    assert_eq!((sale.province.as_str(), sale.city.as_str()), ("Zhejiang", "Hangzhou"));
    assert_eq!(s.sales.merchants_with_sales().await.expect("merchants failed"), vec![merchant("m-1")]);
}

pub async fn the_same_orders_sale_written_twice_is_one_sale(s: Subject) {
    let order = placed(&s, "S-2", "m-1", 0).await;
    let sale = reserve_with_sale(&s, &order).await;
    let mut again = stored(&order);
    again.version = order.version + 1;
    again.status = OrderStatus::Reserved;
    let outcome = s.orders.update_order_with(&again, &Effects::record_sale(sale.clone())).await.expect("update failed");
    assert!(matches!(outcome, UpdateOutcome::Updated { .. }), "{outcome:?}");
    assert_eq!(s.sales.sales(&merchant("m-1"), None, 10).await.expect("sales failed").sales, vec![sale]);
}

pub async fn each_merchants_sales_are_paged_oldest_first_and_never_another_merchants(s: Subject) {
    let mut expected = Vec::new();
    // Placed out of order: the history reads by time placed, not by write.
    for (index, minutes) in [30, 10, 50, 20, 40].into_iter().enumerate() {
        let order = placed(&s, &format!("P-{index}"), "m-1", minutes).await;
        expected.push(reserve_with_sale(&s, &order).await);
    }
    let other = placed(&s, "Q-1", "m-2", 0).await;
    let theirs = reserve_with_sale(&s, &other).await;
    expected.sort_by_key(Sale::key);

    let (mine, pages) = all_sales(&s, &merchant("m-1"), 2).await;
    assert_eq!(mine, expected, "every sale once, oldest first, none of m-2's");
    assert!(pages >= 3, "five sales in pages of two: {pages} pages");
    let (exact, _) = all_sales(&s, &merchant("m-1"), 5).await;
    assert_eq!(exact, expected, "a full last page leads to an empty one, not a lost sale");
    assert_eq!(all_sales(&s, &merchant("m-2"), 10).await.0, vec![theirs]);
    assert!(all_sales(&s, &merchant("m-3"), 10).await.0.is_empty());
    assert_eq!(s.sales.merchants_with_sales().await.expect("merchants failed"), vec![merchant("m-1"), merchant("m-2")]);
}
