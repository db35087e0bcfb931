//! The history in the stores: each merchant's sales (every reserved order) as purchased
//! lines, and the SKU catalogue's categories and prices as training options. Used by
//! `oms retrain` and the retrain-model function alike.

use std::collections::BTreeMap;

use oms_domain::ports::{Ports, StoreError};
use oms_domain::{MerchantId, Sku, ValidationError};

use oms_domain::browsing::{BrowsingKind, MAX_SKEW_MINUTES, RETENTION_DAYS};
use oms_domain::returns::ReturnState;

use crate::signals::{Browse, Interest, Returned, Signals};
use crate::{CataloguePrices, Purchase, TrainOptions};

/// Why the stored history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StoredError {
    #[error("the merchant named is not a merchant id: {0}")]
    Merchant(#[from] ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Each merchant's stored sales as purchased lines (`merchant` alone when given).
pub async fn stored_histories(ports: &Ports, merchant: Option<&str>) -> Result<BTreeMap<String, Vec<Purchase>>, StoredError> {
    let merchants = match merchant {
        Some(merchant) => vec![MerchantId::parse(merchant)?],
        None => ports.sales.merchants_with_sales().await?,
    };
    let mut histories = BTreeMap::new();
    for merchant in merchants {
        let sales = oms_domain::sales::whole_history(&*ports.sales, &merchant).await?;
        let rows = crate::from_sales(&sales);
        if !rows.is_empty() {
            histories.insert(merchant.to_string(), rows);
        }
    }
    Ok(histories)
}

/// The training options of `merchant`'s history: its SKUs' categories and prices from the
/// SKU catalogue (the merchant's own entries only), and the signals its offers learn from
/// besides the history ([`signals`]).
pub async fn train_options(
    ports: &Ports,
    merchant: &str,
    history: &[Purchase],
    version: &str,
    min_margin: rust_decimal::Decimal,
) -> Result<TrainOptions, StoredError> {
    let mut options = TrainOptions::new(version).for_merchant(merchant);
    options.min_margin = min_margin;
    let skus: std::collections::BTreeSet<&str> = history.iter().map(|row| row.sku.as_str()).collect();
    for raw in skus {
        let Ok(sku) = Sku::parse(raw) else { continue };
        let facts = ports.catalogue.get_sku(&sku).await?;
        if let Some(facts) = facts.filter(|facts| facts.merchant_id.as_str() == merchant) {
            options.categories.insert(raw.to_owned(), facts.category);
            options.prices.insert(raw.to_owned(), CataloguePrices { cost: facts.cost, list_price: facts.list_price });
        }
    }
    options.signals = signals(ports, merchant, history).await?;
    Ok(options)
}

/// `merchant`'s customers' browsing of the last `RETENTION_DAYS` and the units they sent
/// back since the history began (the inspected, refunded or exchanged lines of their
/// returns: the units came back), as the offers read them.
pub async fn signals(ports: &Ports, merchant: &str, history: &[Purchase]) -> Result<Signals, StoredError> {
    let merchant = MerchantId::parse(merchant)?;
    let now = ports.clock.now();
    let from = now - chrono::Duration::days(RETENTION_DAYS);
    let browsing = ports
        .browsing
        .browsing_between(&merchant, from, now + chrono::Duration::minutes(MAX_SKEW_MINUTES))
        .await?
        .into_iter()
        .map(|event| Browse {
            customer_id: event.customer_id.to_string(),
            sku: event.sku.to_string(),
            interest: match event.kind {
                BrowsingKind::View => Interest::View,
                BrowsingKind::CartAdd => Interest::CartAdd,
                BrowsingKind::Wishlist => Interest::Wishlist,
            },
            at: event.at,
        })
        .collect();
    let since = history.iter().map(|row| row.purchased_at).min().unwrap_or(from);
    let came_back = [ReturnState::Inspected, ReturnState::Refunded, ReturnState::Exchanged];
    let mut returns = Vec::new();
    for ret in ports.returns.returns_since(&merchant, since).await? {
        if !came_back.contains(&ret.state) {
            continue;
        }
        returns.extend(ret.lines.iter().map(|line| Returned {
            customer_id: ret.customer_id.to_string(),
            sku: line.sku.to_string(),
            units: line.quantity,
            at: ret.updated_at,
        }));
    }
    Ok(Signals { browsing, returns })
}
