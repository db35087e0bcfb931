//! `WarehouseStore`: unconditional put, get by id, list by id.

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

pub async fn warehouses_are_listed_by_id(s: Subject) {
    assert!(s.warehouses.list_warehouses().await.expect("list_warehouses failed").is_empty());
    let all = [warehouse("WH-3", "Three"), warehouse("WH-1", "One"), warehouse("WH-2", "Two")];
    for w in &all {
        s.warehouses.put_warehouse(w).await.expect("put_warehouse failed");
    }
    let listed = s.warehouses.list_warehouses().await.expect("list_warehouses failed");
    assert_eq!(listed, vec![all[1].clone(), all[2].clone(), all[0].clone()]);
}
