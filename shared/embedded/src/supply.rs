//! `SupplyStore`: suppliers and purchase orders as JSON bodies beside their key columns,
//! and `incoming`, one row per (SKU, purchase order) with units still to come. A receipt
//! is one savepoint: the order's row, each line's stock row, its ledger row, its lot
//! (`crate::lots`) and its incoming row change together or not at all.

use anyhow::Context;
use async_trait::async_trait;
use oms_domain::ports::{CreatePoOutcome, GoodsReceiptOutcome, PutSupplier, ReceiveOutcome, StoreError, SupplyStore};
use oms_domain::supply::{GoodsReceipt, Incoming, PoPage, PoQuery, PurchaseOrder, Receipt, ReceiptRefusal, Supplier};
use oms_domain::{MerchantId, PurchaseOrderId, Sku, SupplierId};
use rusqlite::{params, Connection, OptionalExtension};

use crate::db::CachedStatements;
use crate::Embedded;

/// Version 17: suppliers, purchase orders and their incoming units.
pub(crate) const SUPPLY: &str = "
CREATE TABLE IF NOT EXISTS suppliers (
    supplier_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS suppliers_by_merchant ON suppliers (merchant_id, supplier_id);
CREATE TABLE IF NOT EXISTS purchase_orders (
    po_id       TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    reference   TEXT,
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS purchase_orders_by_merchant ON purchase_orders (merchant_id, po_id);
CREATE UNIQUE INDEX IF NOT EXISTS purchase_orders_by_reference ON purchase_orders (merchant_id, reference)
    WHERE reference IS NOT NULL;
CREATE TABLE IF NOT EXISTS incoming (
    sku         TEXT NOT NULL,
    po_id       TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    warehouse   TEXT NOT NULL,
    units       INTEGER NOT NULL CHECK (units > 0),
    expected_at TEXT NOT NULL,
    PRIMARY KEY (sku, po_id)
);
";

/// The body of a supplier or purchase order row.
fn to_json(value: Body<'_>, what: &str) -> anyhow::Result<String> {
    match value {
        Body::Supplier(supplier) => serde_json::to_string(supplier),
        Body::PurchaseOrder(po) => serde_json::to_string(po),
    }
    .with_context(|| format!("Failed to serialise {what}"))
}

enum Body<'a> {
    Supplier(&'a Supplier),
    PurchaseOrder(&'a PurchaseOrder),
}

fn supplier_from(body: &str) -> anyhow::Result<Supplier> {
    serde_json::from_str(body).context("The stored supplier is not valid JSON of a supplier")
}

fn po_from(body: &str, version: i64) -> anyhow::Result<PurchaseOrder> {
    let po: PurchaseOrder = serde_json::from_str(body).context("The stored purchase order is not valid JSON of one")?;
    Ok(PurchaseOrder { version: u64::try_from(version).context("A negative version")?, ..po })
}

fn read_po(conn: &Connection, id: &str) -> anyhow::Result<Option<PurchaseOrder>> {
    conn.query_row_cached("SELECT body, version FROM purchase_orders WHERE po_id = ?1", [id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })
    .optional()
    .context("Failed to query the purchase orders")?
    .map(|(body, version)| po_from(&body, version))
    .transpose()
}

/// Replaces the incoming rows of `po` with what it still brings.
fn write_incoming(conn: &Connection, po: &PurchaseOrder) -> anyhow::Result<()> {
    conn.execute_cached("DELETE FROM incoming WHERE po_id = ?1", [po.purchase_order_id.as_str()])
        .context("Failed to clear the incoming units")?;
    for line in po.incoming() {
        conn.execute_cached(
            "INSERT INTO incoming (sku, po_id, merchant_id, warehouse, units, expected_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                line.sku.as_str(),
                line.purchase_order_id.as_str(),
                line.merchant_id.as_str(),
                line.warehouse.as_str(),
                line.units,
                line.expected_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            ],
        )
        .context("Failed to write an incoming row")?;
    }
    Ok(())
}

fn create(conn: &mut Connection, po: &PurchaseOrder) -> anyhow::Result<CreatePoOutcome> {
    if let Some(reference) = &po.reference {
        let first: Option<(String, i64)> = conn
            .query_row_cached(
                "SELECT body, version FROM purchase_orders WHERE merchant_id = ?1 AND reference = ?2",
                params![po.merchant_id.as_str(), reference],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .context("Failed to look the reference up")?;
        if let Some((body, version)) = first {
            return Ok(CreatePoOutcome::Duplicate(Box::new(po_from(&body, version)?)));
        }
    }
    conn.execute_cached(
        "INSERT INTO purchase_orders (po_id, merchant_id, reference, version, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            po.purchase_order_id.as_str(),
            po.merchant_id.as_str(),
            po.reference,
            i64::try_from(po.version).context("version out of range")?,
            to_json(Body::PurchaseOrder(po), "the purchase order")?
        ],
    )
    .context("Failed to write the purchase order row")?;
    write_incoming(conn, po)?;
    Ok(CreatePoOutcome::Created)
}

fn receive(conn: &mut Connection, id: &PurchaseOrderId, receipt: &Receipt) -> anyhow::Result<ReceiveOutcome> {
    let Some(po) = read_po(conn, id.as_str())? else {
        return Ok(ReceiveOutcome::NotFound);
    };
    if po.has_receipt(&receipt.receipt_id) {
        return Ok(ReceiveOutcome::Duplicate(Box::new(po)));
    }
    let (next, lines) = match po.receive(receipt) {
        Ok(applied) => applied,
        Err(refusal) => return Ok(ReceiveOutcome::Refused(refusal)),
    };
    let lots = receipt.lot_receipts(&po.warehouse, &po.merchant_id);
    let entries = match crate::lots::receive_into_stock(conn, &lines, &lots)? {
        Ok(entries) => entries,
        Err(full) => return Ok(ReceiveOutcome::Refused(ReceiptRefusal::StockFull(full))),
    };
    let changed = conn
        .execute_cached(
            "UPDATE purchase_orders SET version = ?2, body = ?3 WHERE po_id = ?1 AND version = ?4",
            params![
                id.as_str(),
                i64::try_from(next.version).context("version out of range")?,
                to_json(Body::PurchaseOrder(&next), "the purchase order")?,
                i64::try_from(po.version).context("version out of range")?
            ],
        )
        .context("Failed to write the purchase order row")?;
    anyhow::ensure!(changed == 1, "purchase order {id} changed under its own savepoint");
    write_incoming(conn, &next)?;
    Ok(ReceiveOutcome::Received(Box::new(next), entries))
}

fn list(conn: &mut Connection, query: &PoQuery, after: Option<&str>, limit: usize) -> anyhow::Result<PoPage> {
    let mut stmt = conn
        .prepare_cached("SELECT body, version FROM purchase_orders WHERE merchant_id = ?1 AND po_id > ?2 ORDER BY po_id")
        .context("Failed to prepare the listing")?;
    let mut rows = stmt.query(params![query.merchant.as_str(), after.unwrap_or("")]).context("Failed to list")?;
    let mut matches = Vec::new();
    while let Some(row) = rows.next().context("Failed to read a purchase order")? {
        let po = po_from(&row.get::<_, String>(0)?, row.get(1)?)?;
        if query.matches(&po) {
            matches.push(po);
            if matches.len() > limit {
                break;
            }
        }
    }
    Ok(PoPage::from_matches(matches, limit))
}

fn incoming(conn: &mut Connection, sku: &Sku) -> anyhow::Result<Vec<Incoming>> {
    let mut stmt = conn
        .prepare_cached("SELECT po_id, merchant_id, warehouse, units, expected_at FROM incoming WHERE sku = ?1 ORDER BY po_id")
        .context("Failed to prepare the incoming query")?;
    let rows = stmt
        .query_map([sku.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .context("Failed to query the incoming units")?
        .collect::<Result<Vec<_>, _>>()
        .context("Failed to read the incoming units")?;
    rows.into_iter()
        .map(|(po, merchant, warehouse, units, expected_at)| {
            Ok(Incoming {
                purchase_order_id: PurchaseOrderId::parse(po)?,
                merchant_id: MerchantId::parse(merchant)?,
                warehouse: oms_domain::WarehouseId::parse(warehouse)?,
                sku: sku.clone(),
                units: crate::db::to_u32(units, "incoming units")?,
                expected_at: chrono::DateTime::parse_from_rfc3339(&expected_at)
                    .context("A stored expected_at is not RFC 3339")?
                    .with_timezone(&chrono::Utc),
            })
        })
        .collect()
}

#[async_trait]
impl SupplyStore for Embedded {
    /// One upsert whose update is conditional on the stored merchant, as warehouses are.
    async fn put_supplier(&self, supplier: &Supplier) -> Result<PutSupplier, StoreError> {
        let id = supplier.supplier_id.clone();
        let owned = supplier.clone();
        self.db
            .call(move |conn| {
                let existed: Option<String> = conn
                    .query_row_cached(
                        "SELECT merchant_id FROM suppliers WHERE supplier_id = ?1",
                        [owned.supplier_id.as_str()],
                        |r| r.get(0),
                    )
                    .optional()
                    .context("Failed to query the suppliers")?;
                if existed.as_deref().is_some_and(|merchant| merchant != owned.merchant_id.as_str()) {
                    return Ok(PutSupplier::OwnedByAnother);
                }
                conn.execute_cached(
                    "INSERT INTO suppliers (supplier_id, merchant_id, body) VALUES (?1, ?2, ?3)
                     ON CONFLICT (supplier_id) DO UPDATE SET body = excluded.body",
                    params![
                        owned.supplier_id.as_str(),
                        owned.merchant_id.as_str(),
                        to_json(Body::Supplier(&owned), "the supplier")?
                    ],
                )
                .context("Failed to write the supplier row")?;
                Ok(if existed.is_some() { PutSupplier::Updated } else { PutSupplier::Created })
            })
            .await
            .map_err(|e| StoreError::new(format!("Failed to store supplier {id}"), e))
    }

    async fn get_supplier(&self, id: &SupplierId) -> Result<Option<Supplier>, StoreError> {
        let key = id.clone();
        self.db
            .call(move |conn| {
                conn.query_row_cached("SELECT body FROM suppliers WHERE supplier_id = ?1", [key.as_str()], |r| r.get(0))
                    .optional()
                    .context("Failed to query the suppliers")?
                    .map(|body: String| supplier_from(&body))
                    .transpose()
            })
            .await
            .map_err(|e| StoreError::new(format!("Failed to read supplier {id}"), e))
    }

    async fn suppliers_of(&self, merchant: &MerchantId) -> Result<Vec<Supplier>, StoreError> {
        let key = merchant.clone();
        self.db
            .call(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT body FROM suppliers WHERE merchant_id = ?1 ORDER BY supplier_id")
                    .context("Failed to prepare the listing")?;
                let bodies = stmt
                    .query_map([key.as_str()], |r| r.get::<_, String>(0))
                    .context("Failed to list the suppliers")?
                    .collect::<Result<Vec<_>, _>>()
                    .context("Failed to read the suppliers")?;
                bodies.iter().map(|b| supplier_from(b)).collect()
            })
            .await
            .map_err(|e| StoreError::new(format!("Failed to list the suppliers of {merchant}"), e))
    }

    async fn create_purchase_order(&self, po: &PurchaseOrder) -> Result<CreatePoOutcome, StoreError> {
        let owned = po.clone();
        self.db
            .call(move |conn| create(conn, &owned))
            .await
            .map_err(|e| StoreError::new(format!("Failed to store purchase order {}", po.purchase_order_id), e))
    }

    async fn get_purchase_order(&self, id: &PurchaseOrderId) -> Result<Option<PurchaseOrder>, StoreError> {
        let key = id.clone();
        self.db
            .call(move |conn| read_po(conn, key.as_str()))
            .await
            .map_err(|e| StoreError::new(format!("Failed to read purchase order {id}"), e))
    }

    async fn purchase_orders(
        &self,
        query: &PoQuery,
        after: Option<&PurchaseOrderId>,
        limit: usize,
    ) -> Result<PoPage, StoreError> {
        let (q, a) = (query.clone(), after.map(|a| a.as_str().to_owned()));
        let limit = limit.clamp(1, oms_domain::ports::MAX_PAGE_SIZE);
        self.db
            .call(move |conn| list(conn, &q, a.as_deref(), limit))
            .await
            .map_err(|e| StoreError::new(format!("Failed to list the purchase orders of {}", query.merchant), e))
    }

    async fn incoming(&self, sku: &Sku) -> Result<Vec<Incoming>, StoreError> {
        let key = sku.clone();
        self.db
            .call(move |conn| incoming(conn, &key))
            .await
            .map_err(|e| StoreError::new(format!("Failed to read the incoming units of {sku}"), e))
    }

    async fn receive(&self, id: &PurchaseOrderId, receipt: &Receipt) -> Result<ReceiveOutcome, StoreError> {
        let (key, owned) = (id.clone(), receipt.clone());
        self.db
            .call(move |conn| receive(conn, &key, &owned))
            .await
            .map_err(|e| StoreError::new(format!("Failed to receive {} on purchase order {id}", receipt.receipt_id), e))
    }

    async fn receive_goods(&self, receipt: &GoodsReceipt) -> Result<GoodsReceiptOutcome, StoreError> {
        let owned = receipt.clone();
        self.db.call(move |conn| crate::lots::receive_goods(conn, &owned)).await.map_err(|e| {
            StoreError::new(format!("Failed to apply goods receipt {} in {}", receipt.receipt.receipt_id, receipt.warehouse), e)
        })
    }
}
