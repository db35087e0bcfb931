//! Who is weighed for a request for quotes, and at what: every merchant holding stock of
//! the list's SKUs is looked at; those without an approved onboarding record, and those
//! none of whose warehouses holding the stock ships to the buyer's region, are left out
//! with the reason. Each merchant weighed ships one parcel of the lines it stocks from its
//! nearest warehouse that ships there, priced by the allocation's cost model
//! ([`crate::allocation::cost`]): the carriers' tariff for the distance and weight plus
//! the handling of one shipment. A weighed merchant's approved, listed listing of a SKU
//! quotes that line automatically at its wholesale price for the quantity, when the
//! merchant has the units available where it ships from.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;

use crate::allocation::cost::{self, CostModel};
use crate::allocation::geo;
use crate::onboarding::{OnboardingStatus, Region};
use crate::order::Address;
use crate::ports::{Ports, StoreError};
use crate::product::ProductStatus;
use crate::rfq::request::{Candidate, LeftOut, Quote, QuoteSource};
use crate::rfq::RequiredLine;
use crate::stock::Warehouse;
use crate::{MerchantId, Sku};

/// What weighing the merchants found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Weighing {
    pub candidates: Vec<Candidate>,
    pub left_out: Vec<LeftOut>,
    /// The units each candidate has available per SKU in the warehouses it ships from.
    pub available: BTreeMap<MerchantId, BTreeMap<Sku, u32>>,
}

/// A merchant's stock of the list, split by whether its warehouse ships to the region.
#[derive(Debug, Default)]
struct Holding {
    serving: BTreeMap<crate::WarehouseId, Warehouse>,
    available: BTreeMap<Sku, u32>,
}

/// Whether `warehouse` ships to `region`: it names the region, or names none (everywhere).
pub fn ships_to(warehouse: &Warehouse, region: &Region) -> bool {
    warehouse.serves.is_empty() || warehouse.serves.iter().any(|p| geo::canonical_province(p) == Some(region.as_str()))
}

/// Weighs every merchant holding stock of `lines` (only `only` when given) for a buyer at
/// `address` in `region`.
pub async fn weigh(
    ports: &Ports,
    lines: &[RequiredLine],
    region: &Region,
    address: &Address,
    only: Option<&MerchantId>,
) -> Result<Weighing, StoreError> {
    let mut warehouses: HashMap<crate::WarehouseId, Option<Warehouse>> = HashMap::new();
    let mut holdings: BTreeMap<MerchantId, Holding> = BTreeMap::new();
    for line in lines {
        for level in ports.inventory.stock_of(&line.sku).await? {
            if only.is_some_and(|m| m != &level.owner) {
                continue;
            }
            if !warehouses.contains_key(&level.warehouse) {
                let record = ports.warehouses.get_warehouse(&level.warehouse).await?;
                warehouses.insert(level.warehouse.clone(), record);
            }
            let holding = holdings.entry(level.owner.clone()).or_default();
            if let Some(w) = warehouses[&level.warehouse].as_ref().filter(|w| ships_to(w, region)) {
                holding.serving.insert(w.warehouse_id.clone(), w.clone());
                *holding.available.entry(line.sku.clone()).or_default() += level.available;
            }
        }
    }
    let model = cost_model(ports, lines).await?;
    let place = geo::locate(address);
    let mut weighing = Weighing::default();
    for (merchant, holding) in holdings {
        if let Some(reason) = why_left_out(ports, &merchant, &holding, region).await? {
            weighing.left_out.push(LeftOut { merchant, reason });
            continue;
        }
        let weight_g = lines
            .iter()
            .filter(|l| holding.available.contains_key(&l.sku))
            .fold(0u32, |sum, l| sum.saturating_add(model.unit_weight_g(&l.sku).saturating_mul(l.quantity)));
        let distance =
            holding.serving.values().map(|w| cost::distance_km(place, Some(w))).min().unwrap_or(cost::UNKNOWN_DISTANCE_KM);
        let shipping = cost::from_fen(model.tariff(distance).price(weight_g) + model.handling);
        weighing.candidates.push(Candidate {
            merchant: merchant.clone(),
            warehouses: holding.serving.into_keys().collect(),
            shipping,
        });
        weighing.available.insert(merchant, holding.available);
    }
    Ok(weighing)
}

/// Why `merchant` is not weighed, if it is not.
async fn why_left_out(
    ports: &Ports,
    merchant: &MerchantId,
    holding: &Holding,
    region: &Region,
) -> Result<Option<String>, StoreError> {
    let reason = match ports.merchants.get_merchant(merchant).await? {
        None => Some("it has no onboarding record on file".to_owned()),
        Some(record) if record.status != OnboardingStatus::Approved => {
            Some(format!("its onboarding is {}, not approved", record.status.as_str()))
        }
        Some(_) if holding.serving.is_empty() => {
            Some(format!("none of its warehouses holding these SKUs ships to {}", region.as_str()))
        }
        Some(_) => None,
    };
    Ok(reason)
}

/// The cost model over the carriers' rate tables and the list's unit weights.
async fn cost_model(ports: &Ports, lines: &[RequiredLine]) -> Result<CostModel, StoreError> {
    let mut weights = HashMap::new();
    for line in lines {
        if let Some(facts) = ports.catalogue.get_sku(&line.sku).await? {
            weights.insert(line.sku.clone(), facts.weight_g);
        }
    }
    Ok(CostModel::new(ports.rates.list_rates().await?, weights))
}

/// The automatic quotes: per line, the wholesale price for its quantity of the SKU's
/// listing, when the listing is on sale (listed) and its merchant is weighed with the
/// units available.
pub async fn listing_quotes(
    ports: &Ports,
    lines: &[RequiredLine],
    weighing: &Weighing,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Quote>, StoreError> {
    let mut quotes = Vec::new();
    for (line, required) in lines.iter().enumerate() {
        let Some(product) = ports.products.get_product(&required.sku).await? else { continue };
        let available = weighing.available.get(&product.merchant_id).and_then(|a| a.get(&required.sku)).copied().unwrap_or(0);
        if product.status != ProductStatus::Listed || available < required.quantity {
            continue;
        }
        if let Some(unit_price) = product.content.wholesale_price(required.quantity).filter(|p| *p > Decimal::ZERO) {
            quotes.push(Quote { merchant: product.merchant_id, line, unit_price, source: QuoteSource::Listing, quoted_at: now });
        }
    }
    Ok(quotes)
}
