//! Suppliers, purchase orders and their receipts (see `crate::supply`).

use chrono::{DateTime, Utc};

use crate::access::Caller;
use crate::allocation::Shortage;
use crate::ports::{CreatePoOutcome, Ports, PutSupplier, ReceiveOutcome, StoreError};
use crate::supply::{
    self, ExpectedStock, Incoming, PoPage, PoQuery, PurchaseOrder, Receipt, ReceiptRefusal, Supplier, SupplyLine,
};
use crate::{MerchantId, Order, PurchaseOrderId, Sku, SupplierId, ValidationError, WarehouseId};

/// Why a supplier or purchase order request was refused.
#[derive(Debug, thiserror::Error)]
pub enum SupplyError {
    #[error("no supplier {0}")]
    UnknownSupplier(SupplierId),
    #[error("no warehouse {0} of the supplier's merchant; register it with PUT /warehouses/{0} first")]
    UnknownWarehouse(WarehouseId),
    #[error("no purchase order {0}")]
    UnknownPurchaseOrder(PurchaseOrderId),
    #[error("supplier {supplier} does not supply {sku}")]
    NotSupplied { supplier: SupplierId, sku: Sku },
    #[error(transparent)]
    Refused(#[from] ReceiptRefusal),
    /// A receipt line's lot is past its last day already: nothing was received.
    #[error("lot {lot} of {sku} expired on {expires_on}; expired goods are not received")]
    ExpiredOnReceipt { sku: Sku, lot: String, expires_on: chrono::NaiveDate },
    /// A merchant's caller named another merchant.
    #[error("this credential acts for merchant {0} only")]
    OthersMerchant(MerchantId),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
    /// Bad input only the clock can judge (a purchase order's `expected_at`): nothing stored.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

/// Registers or replaces a supplier. A merchant's caller registers its own merchant's
/// only; another merchant's supplier of that id is left as it is (`UnknownSupplier`, so
/// that its existence does not leak). Answers whether it was created.
pub async fn put_supplier(ports: &Ports, caller: &Caller, supplier: &Supplier) -> Result<bool, SupplyError> {
    if !caller.sees(&supplier.merchant_id) {
        return Err(SupplyError::OthersMerchant(caller.merchant_id().cloned().unwrap_or_else(|| supplier.merchant_id.clone())));
    }
    match ports.supply.put_supplier(supplier).await? {
        PutSupplier::Created => {
            tracing::info!(supplier_id = %supplier.supplier_id, merchant_id = %supplier.merchant_id, "supplier registered");
            Ok(true)
        }
        PutSupplier::Updated => Ok(false),
        PutSupplier::OwnedByAnother => Err(SupplyError::UnknownSupplier(supplier.supplier_id.clone())),
    }
}

/// The supplier, if the caller may see it.
pub async fn get_supplier(ports: &Ports, caller: &Caller, id: &SupplierId) -> Result<Supplier, SupplyError> {
    match ports.supply.get_supplier(id).await? {
        Some(supplier) if caller.sees(&supplier.merchant_id) => Ok(supplier),
        _ => Err(SupplyError::UnknownSupplier(id.clone())),
    }
}

/// A purchase order as asked for, before it is checked against the stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPurchaseOrder {
    pub supplier_id: SupplierId,
    pub warehouse: WarehouseId,
    pub lines: Vec<SupplyLine>,
    pub expected_at: DateTime<Utc>,
    pub reference: Option<String>,
}

/// Places a purchase order with a supplier the caller sees, into a warehouse of the
/// supplier's merchant, for SKUs the supplier supplies. Idempotent by reference: a
/// reference the merchant used already answers that order (`true`: a duplicate). Its
/// `expected_at` is checked against the clock ([`supply::check_expected_at`]) first.
pub async fn place_purchase_order(
    ports: &Ports,
    caller: &Caller,
    new: NewPurchaseOrder,
) -> Result<(PurchaseOrder, bool), SupplyError> {
    supply::check_expected_at(new.expected_at, ports.clock.now())?;
    let supplier = get_supplier(ports, caller, &new.supplier_id).await?;
    match ports.warehouses.get_warehouse(&new.warehouse).await? {
        Some(warehouse) if warehouse.merchant_id == supplier.merchant_id => {}
        _ => return Err(SupplyError::UnknownWarehouse(new.warehouse)),
    }
    if let Some(line) = new.lines.iter().find(|l| !supplier.supplies(&l.sku)) {
        return Err(SupplyError::NotSupplied { supplier: supplier.supplier_id, sku: line.sku.clone() });
    }
    let po = PurchaseOrder::place(
        PurchaseOrderId::generate(),
        supplier.merchant_id,
        supplier.supplier_id,
        new.warehouse,
        &new.lines,
        new.expected_at,
        new.reference,
        ports.clock.now(),
    );
    match ports.supply.create_purchase_order(&po).await? {
        CreatePoOutcome::Created => {
            tracing::info!(purchase_order_id = %po.purchase_order_id, merchant_id = %po.merchant_id, "purchase order placed");
            Ok((po, false))
        }
        CreatePoOutcome::Duplicate(first) => Ok((*first, true)),
    }
}

/// The purchase order, if the caller may see it.
pub async fn get_purchase_order(ports: &Ports, caller: &Caller, id: &PurchaseOrderId) -> Result<PurchaseOrder, SupplyError> {
    match ports.supply.get_purchase_order(id).await? {
        Some(po) if caller.sees(&po.merchant_id) => Ok(po),
        _ => Err(SupplyError::UnknownPurchaseOrder(id.clone())),
    }
}

/// One page of a merchant's purchase orders; a merchant's caller lists its own only.
pub async fn list_purchase_orders(
    ports: &Ports,
    caller: &Caller,
    query: &PoQuery,
    after: Option<&PurchaseOrderId>,
    limit: usize,
) -> Result<PoPage, SupplyError> {
    if !caller.sees(&query.merchant) {
        return Err(SupplyError::OthersMerchant(caller.merchant_id().cloned().unwrap_or_else(|| query.merchant.clone())));
    }
    Ok(ports.supply.purchase_orders(query, after, limit).await?)
}

/// Records a receipt against a purchase order the caller sees: its counts, the stock and
/// the ledger in one write (see `SupplyStore::receive`), once per receipt id. Then the
/// backorders waiting for the received SKUs are queued for planning again, as a stock
/// count does (`requeue_backorders`); a receipt sent again queues them again, so a crash
/// between the write and the messages loses nothing. Answers the order as it is now and
/// whether the receipt was a duplicate.
pub async fn receive(
    ports: &Ports,
    caller: &Caller,
    id: &PurchaseOrderId,
    receipt: &Receipt,
) -> Result<(PurchaseOrder, bool), SupplyError> {
    get_purchase_order(ports, caller, id).await?;
    if let Some((sku, tag)) = receipt.expired_lot(ports.clock.now().date_naive()) {
        return Err(SupplyError::ExpiredOnReceipt {
            sku: sku.clone(),
            lot: tag.lot.clone(),
            expires_on: tag.expires_on.unwrap_or_default(),
        });
    }
    let (po, duplicate) = match ports.supply.receive(id, receipt).await? {
        ReceiveOutcome::Received(po, entries) => {
            tracing::info!(purchase_order_id = %id, receipt_id = %receipt.receipt_id, entries = entries.len(), status = %po.status, "purchase order received");
            (*po, false)
        }
        ReceiveOutcome::Duplicate(po) => (*po, true),
        ReceiveOutcome::Refused(refusal) => return Err(refusal.into()),
        ReceiveOutcome::NotFound => return Err(SupplyError::UnknownPurchaseOrder(id.clone())),
    };
    let skus: Vec<Sku> = receipt.lines.iter().map(|l| l.sku.clone()).collect();
    crate::usecases::fulfilment::requeue_backorders(ports, skus).await?;
    Ok((po, duplicate))
}

/// Open purchase orders' units of `sku` the caller sees.
pub async fn incoming(ports: &Ports, caller: &Caller, sku: &Sku) -> Result<Vec<Incoming>, StoreError> {
    let mut incoming = ports.supply.incoming(sku).await?;
    incoming.retain(|i| caller.sees(&i.merchant_id));
    Ok(incoming)
}

/// When the stock an order is short of is expected: the earliest open purchase order of
/// the order's merchant for the SKU, else its quickest supplier's lead time from now.
pub async fn expected_for(ports: &Ports, order: &Order, shortage: &Shortage) -> Result<Option<ExpectedStock>, StoreError> {
    let Shortage::Stock { sku, .. } = shortage;
    let incoming = ports.supply.incoming(sku).await?;
    let suppliers = ports.supply.suppliers_of(&order.merchant_id).await?;
    Ok(supply::expected_stock(&order.merchant_id, sku, &incoming, &suppliers, ports.clock.now()))
}

/// What a backordered order's timeline says: the shortage, and when stock is expected
/// when the merchant has a purchase order or a supplier for it.
pub async fn backorder_note(ports: &Ports, order: &Order, shortage: &Shortage, prefix: &str) -> Result<String, StoreError> {
    Ok(match expected_for(ports, order, shortage).await? {
        Some(expected) => format!("{prefix}: {shortage}; {expected}"),
        None => format!("{prefix}: {shortage}"),
    })
}
