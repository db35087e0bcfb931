//! Consignment grants: give, revoke, read and list them, and the stock a merchant sees
//! with them (see [`crate::consignment`]).
//!
//! Who may: a grant is its owner's to give and revoke (platform staff may act for any
//! owner); its seller may read it. A grant neither of whose merchants the caller acts for
//! is answered as not found, so that its existence does not leak.

use crate::access::Caller;
use crate::consignment::{Consignment, ConsignmentTerms, Role};
use crate::ports::{Ports, PutConsignment, StoreError};
use crate::stock::StockLevel;
use crate::usecases::CONFLICT_RETRIES;
use crate::{ConsignmentId, MerchantId, Money, Sku, ValidationError, WarehouseId};

/// Why a grant was not given, revoked or shown.
#[derive(Debug, thiserror::Error)]
pub enum ConsignmentError {
    #[error("no warehouse {0}; register it with PUT /warehouses/{0} first")]
    UnknownWarehouse(WarehouseId),
    #[error("no consignment {0}")]
    NotFound(ConsignmentId),
    /// The caller may read the grant (it is its seller) but only the owner may change it.
    #[error("only the owner {0} may change this consignment")]
    NotOwner(MerchantId),
    /// The id names a grant between other merchants: a grant's owner and seller never change.
    #[error("the consignment id {0} is another grant's (its owner and seller never change); choose another id")]
    IdTaken(ConsignmentId),
    /// Other requests changed the grant on every one of our writes: nothing was written.
    #[error("the consignment {0} was changed by other requests meanwhile; read it and try again")]
    ChangedMeanwhile(ConsignmentId),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
    /// Bad input only the stored grants can judge (a listing's cursor): nothing changed.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

/// A grant as a PUT left it, and whether the PUT created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub consignment: Consignment,
    pub created: bool,
}

/// Gives (or changes, or gives again after a revoke) the grant `id` with `terms`. The
/// caller must act for `terms.owner` (checked by the route, as every "acts for its own
/// merchant" check is). Every warehouse must be registered (`UnknownWarehouse`, nothing
/// stored): any registered one, since on a shared-warehouse platform a merchant's units
/// may lie in a warehouse another merchant (or the platform) operates. The same terms again on an active grant change nothing (the grant as it is,
/// same version); other terms, or the same on a revoked grant, are written as the next
/// version, active. The backorders waiting for the SKUs a grant names are queued for
/// planning again (a grant of every SKU leaves them to their next stock event or the
/// sweeper).
pub async fn put_consignment(ports: &Ports, id: &ConsignmentId, terms: ConsignmentTerms) -> Result<Granted, ConsignmentError> {
    let registered = ports.warehouses.list_warehouses().await?;
    if let Some(unknown) = terms.warehouses.iter().find(|w| !registered.iter().any(|r| &r.warehouse_id == *w)) {
        return Err(ConsignmentError::UnknownWarehouse(unknown.clone()));
    }
    for _ in 0..CONFLICT_RETRIES {
        let stored = ports.consignments.get_consignment(id).await?;
        let next = match stored {
            Some(s) if s.terms.owner != terms.owner || s.terms.seller != terms.seller => {
                return Err(ConsignmentError::IdTaken(id.clone()));
            }
            Some(s) if s.terms == terms && s.is_active() => return Ok(Granted { consignment: s, created: false }),
            Some(s) => Consignment { version: s.version + 1, ..grant(id, terms.clone(), ports) },
            None => grant(id, terms.clone(), ports),
        };
        match ports.consignments.put_consignment(&next).await? {
            PutConsignment::Stored => {
                tracing::info!(consignment_id = %id, owner = %next.terms.owner, seller = %next.terms.seller, version = next.version, "consignment granted");
                if let Some(skus) = &next.terms.skus {
                    crate::usecases::fulfilment::requeue_backorders(ports, skus.iter().cloned()).await?;
                }
                let created = next.version == 1;
                return Ok(Granted { consignment: next, created });
            }
            PutConsignment::VersionConflict => continue,
        }
    }
    Err(ConsignmentError::ChangedMeanwhile(id.clone()))
}

fn grant(id: &ConsignmentId, terms: ConsignmentTerms, ports: &Ports) -> Consignment {
    Consignment { consignment_id: id.clone(), terms, revoked: false, version: 1, updated_at: ports.clock.now() }
}

/// The grant `id` as `caller` may see it: its owner's or its seller's (or platform staff).
pub async fn get_consignment(ports: &Ports, caller: &Caller, id: &ConsignmentId) -> Result<Consignment, ConsignmentError> {
    match ports.consignments.get_consignment(id).await? {
        Some(c) if caller.sees(&c.terms.owner) || caller.sees(&c.terms.seller) => Ok(c),
        _ => Err(ConsignmentError::NotFound(id.clone())),
    }
}

/// Revokes the grant `id`: new plans stop using it at once; holds placed under it stay
/// (the orders were sold). Only its owner (or platform staff) may; a seller's attempt is
/// `NotOwner`. Revoking a revoked grant changes nothing and answers it as it is.
pub async fn revoke_consignment(ports: &Ports, caller: &Caller, id: &ConsignmentId) -> Result<Consignment, ConsignmentError> {
    for _ in 0..CONFLICT_RETRIES {
        let stored = get_consignment(ports, caller, id).await?;
        if !caller.sees(&stored.terms.owner) {
            return Err(ConsignmentError::NotOwner(stored.terms.owner));
        }
        if stored.revoked {
            return Ok(stored);
        }
        let next = Consignment { revoked: true, version: stored.version + 1, updated_at: ports.clock.now(), ..stored };
        match ports.consignments.put_consignment(&next).await? {
            PutConsignment::Stored => {
                tracing::info!(consignment_id = %id, owner = %next.terms.owner, seller = %next.terms.seller, "consignment revoked");
                return Ok(next);
            }
            PutConsignment::VersionConflict => continue,
        }
    }
    Err(ConsignmentError::ChangedMeanwhile(id.clone()))
}

/// One page of the grants `merchant` takes part in (those it gave and those it received,
/// or only one `role`), by id, after the id `after`, at most `limit`; the second value is
/// the last id of the page when more follow. A merchant's grants are few (a contract each),
/// so the store answers them all and the page is cut here. A grant's id is its owner's
/// choice, so no form tells a cursor from garbage; a `next` is always the id of a grant in
/// the listing (grants are never deleted, and their merchants never change), so an `after`
/// that is none of them is refused (`Invalid`, naming `cursor`) rather than read as a place.
pub async fn list_consignments(
    ports: &Ports,
    merchant: &MerchantId,
    role: Option<Role>,
    after: Option<&ConsignmentId>,
    limit: usize,
) -> Result<(Vec<Consignment>, Option<ConsignmentId>), ConsignmentError> {
    let mut all = Vec::new();
    if role != Some(Role::Received) {
        all.extend(ports.consignments.consignments_granted(merchant).await?);
    }
    if role != Some(Role::Granted) {
        all.extend(ports.consignments.consignments_received(merchant).await?);
    }
    all.sort_by(|a, b| a.consignment_id.cmp(&b.consignment_id));
    all.dedup_by(|a, b| a.consignment_id == b.consignment_id);
    if let Some(after) = after.filter(|after| !all.iter().any(|c| &c.consignment_id == *after)) {
        return Err(ValidationError::new(
            "cursor",
            format!("{:?} is not a grant of this listing; use a page's `next`", after.as_str()),
        )
        .into());
    }
    all.retain(|c| after.is_none_or(|after| &c.consignment_id > after));
    let limit = limit.max(1);
    let next = (all.len() > limit).then(|| all[limit - 1].consignment_id.clone());
    all.truncate(limit);
    Ok((all, next))
}

/// One stock as a caller sees it with consignment: its own units, with the merchants its
/// active grants let sell them; or another merchant's units it may sell under a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockView {
    pub level: StockLevel,
    /// The sellers an active grant lets sell these units (the owner's view; platform
    /// staff see it on every stock).
    pub consigned_to: Vec<MerchantId>,
    /// For a seller: the grant and the transfer price under which these units, another
    /// merchant's, are its to sell.
    pub consigned: Option<(ConsignmentId, Money)>,
}

/// The SKU's stock as `caller` sees it: every owner's for platform staff; for a merchant,
/// its own units (with who may sell them on consignment) and the units other merchants let
/// it sell (their `available` is what its orders may take).
pub async fn stock_view(ports: &Ports, caller: &Caller, sku: &Sku) -> Result<Vec<StockView>, StoreError> {
    let levels = ports.inventory.stock_of(sku).await?;
    let owners: std::collections::BTreeSet<MerchantId> =
        levels.iter().filter(|l| caller.sees(&l.owner)).map(|l| l.owner.clone()).collect();
    let mut granted = Vec::new();
    for owner in &owners {
        granted.extend(ports.consignments.consignments_granted(owner).await?);
    }
    let received = match caller.merchant_id() {
        Some(own) => ports.consignments.consignments_received(own).await?,
        None => Vec::new(),
    };
    let mut views = Vec::new();
    for level in levels {
        if caller.sees(&level.owner) {
            let mut consigned_to: Vec<MerchantId> = granted
                .iter()
                .filter(|g| g.is_active() && g.terms.owner == level.owner && g.covers(&level.warehouse, &level.sku))
                .map(|g| g.terms.seller.clone())
                .collect();
            consigned_to.sort();
            consigned_to.dedup();
            views.push(StockView { level, consigned_to, consigned: None });
        } else if let Some(seller) = caller.merchant_id() {
            if let Some(g) = Consignment::best(&received, &level.owner, seller, &level.warehouse, &level.sku) {
                let consigned = Some((g.consignment_id.clone(), g.terms.transfer_price));
                views.push(StockView { level, consigned_to: Vec::new(), consigned });
            }
        }
    }
    Ok(views)
}
