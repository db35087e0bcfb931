//! `oms report` and the scheduled reports: one pass over the period's orders (a page at a
//! time, through the [`OrderArchive`]), their shipments for the logistics report, and every
//! stock's figures for the inventory report, into [`Document`]s.

use chrono::{DateTime, Utc};

use crate::ports::{InventoryStore, OrderArchive, ShipmentStore, StoreError};
use crate::reports::{Collector, Document, ReportQuery, Template};
use crate::usecases::analytics::{AnalyticsQuery, PAGE};
use crate::{MerchantId, ValidationError};

impl ReportQuery {
    /// Reads `from` and `to` as `GET /analytics` does (RFC 3339 times or `YYYY-MM-DD`
    /// dates, `to` as a date through that day; default the 30 days up to `now`; at most
    /// 366 days) and the merchant, when given.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        merchant: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ReportQuery, ValidationError> {
        let period = AnalyticsQuery::parse(from, to, None, now)?;
        let merchant = merchant.map(|m| MerchantId::parse(m.trim())).transpose()?;
        Ok(ReportQuery { from: period.from, to: period.to, merchant })
    }
}

/// The ports the reports read.
#[derive(Clone, Copy)]
pub struct ReportSources<'a> {
    pub archive: &'a dyn OrderArchive,
    pub inventory: &'a dyn InventoryStore,
    pub shipments: &'a dyn ShipmentStore,
}

impl std::fmt::Debug for ReportSources<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportSources").finish_non_exhaustive()
    }
}

/// The documents of `templates` over `query`; `progress` is told the orders read after
/// each page.
pub async fn generate(
    sources: ReportSources<'_>,
    query: &ReportQuery,
    templates: &[Template],
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Vec<Document>, StoreError> {
    let mut collector = Collector::new(query.clone(), templates);
    let reads_orders = templates.iter().any(|t| *t != Template::Inventory);
    let (mut after, mut more) = (None, reads_orders);
    while more {
        let page = sources.archive.orders_after(query.merchant.as_ref(), after.as_ref(), PAGE).await?;
        for order in &page {
            if collector.wants_shipments_of(order) {
                collector.add_shipments(&sources.shipments.shipments_of(&order.order_id).await?);
            }
            collector.add_order(order);
        }
        progress(page.len() as u64);
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some(last.order_id.clone()),
            _ => more = false,
        }
    }
    let stock = if templates.contains(&Template::Inventory) { sources.inventory.stock_figures().await? } else { Vec::new() };
    Ok(collector.finish(&stock))
}
