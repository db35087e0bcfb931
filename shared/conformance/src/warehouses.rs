//! `WarehouseStore`: put (never over another merchant's), get by id, list by id.

use oms_domain::ports::PutWarehouse;
use oms_domain::MerchantId;

use crate::fixtures::{warehouse, warehouse_id};
use crate::Subject;

pub async fn a_stored_warehouse_reads_back_whole(s: Subject) {
    let w = warehouse("WH-HZ", "Hangzhou North");
    s.warehouses.put_warehouse(&w).await.expect("put_warehouse failed");
    assert_eq!(s.warehouses.get_warehouse(&w.warehouse_id).await.expect("get_warehouse failed"), Some(w));
}

pub async fn an_unknown_warehouse_reads_as_none(s: Subject) {
    s.warehouses.put_warehouse(&warehouse("WH-1", "One")).await.expect("put_warehouse failed");
    assert_eq!(s.warehouses.get_warehouse(&warehouse_id("WH-9")).await.expect("get_warehouse failed"), None);
}

pub async fn putting_a_warehouse_again_replaces_it(s: Subject) {
    s.warehouses.put_warehouse(&warehouse("WH-1", "Old name")).await.expect("put_warehouse failed");
    let mut moved = warehouse("WH-1", "New name");
    moved.city = "Ningbo".into();
    moved.lat = 29.8683;
    moved.lon = 121.544;
    s.warehouses.put_warehouse(&moved).await.expect("put_warehouse failed");
    assert_eq!(s.warehouses.get_warehouse(&moved.warehouse_id).await.expect("get_warehouse failed"), Some(moved.clone()));
    assert_eq!(s.warehouses.list_warehouses().await.expect("list_warehouses failed"), vec![moved]);
}

pub async fn a_warehouse_is_never_taken_over_by_another_merchant_even_registering_it_at_once(s: Subject) {
    let mine = warehouse("WH-1", "Mine");
    let mut theirs = warehouse("WH-1", "Theirs");
    theirs.merchant_id = MerchantId::parse("m-other").expect("a merchant id");
    assert_eq!(s.warehouses.put_warehouse(&mine).await.expect("put_warehouse failed"), PutWarehouse::Stored);
    assert_eq!(s.warehouses.put_warehouse(&theirs).await.expect("put_warehouse failed"), PutWarehouse::OwnedByAnother);
    assert_eq!(s.warehouses.get_warehouse(&mine.warehouse_id).await.expect("get_warehouse failed"), Some(mine.clone()));

    // Both register a new id at the same moment: exactly one owns it, the other is told so.
    let mut tasks = Vec::new();
    for (i, merchant) in ["m-1", "m-other"].into_iter().cycle().take(8).enumerate() {
        let store = s.warehouses.clone();
        let mut w = warehouse("WH-RACE", &format!("Racer {i}"));
        w.merchant_id = MerchantId::parse(merchant).expect("a merchant id");
        tasks.push(tokio::spawn(
            async move { (w.merchant_id.clone(), store.put_warehouse(&w).await.expect("put_warehouse failed")) },
        ));
    }
    let mut stored_by = Vec::new();
    for task in tasks {
        let (merchant, outcome) = task.await.expect("a racer panicked");
        if outcome == PutWarehouse::Stored {
            stored_by.push(merchant);
        }
    }
    let owner = s
        .warehouses
        .get_warehouse(&warehouse_id("WH-RACE"))
        .await
        .expect("get_warehouse failed")
        .expect("registered")
        .merchant_id;
    assert!(stored_by.iter().all(|m| *m == owner), "only the owner's registrations were stored: {stored_by:?}, owner {owner}");
}

pub async fn warehouses_are_listed_by_id(s: Subject) {
    assert!(s.warehouses.list_warehouses().await.expect("list_warehouses failed").is_empty());
    let all = [warehouse("WH-3", "Three"), warehouse("WH-1", "One"), warehouse("WH-2", "Two")];
    for w in &all {
        s.warehouses.put_warehouse(w).await.expect("put_warehouse failed");
    }
    let listed = s.warehouses.list_warehouses().await.expect("list_warehouses failed");
    assert_eq!(listed, vec![all[1].clone(), all[2].clone(), all[0].clone()]);
}
