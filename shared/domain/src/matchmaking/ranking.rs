//! Offers ranked by landed price: each candidate stock that can serve a request is priced
//! as the wholesale unit price at the request's quantity times the quantity, plus one
//! parcel's shipping to the region; ties go to the older stock (the earliest lot received),
//! then the earlier expiry, then the merchant id. A candidate that cannot serve the request
//! (not sellable, no price, short of stock, its lots expiring before the deadline) is left
//! out with the reason.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::RequestDetails;
use crate::product::NotSellable;
use crate::{MerchantId, Sku, WarehouseId};

/// How many offers a proposal holds: the best and the next few.
pub const PROPOSED_OFFERS: usize = 4;

/// Units of a stock received at one time, and when they expire (a lot; or, with no lots
/// recorded, the stock's oldest receipt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockAge {
    pub received_at: DateTime<Utc>,
    pub expires_on: Option<NaiveDate>,
    pub units: u32,
}

/// One stock of a listed product whose text matched the request: what ranking needs of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub sku: Sku,
    pub merchant_id: MerchantId,
    /// The warehouse of the stock; none when the merchant has no stock of the SKU anywhere.
    pub warehouse_id: Option<WarehouseId>,
    /// The listing's name, as the buyer will read it.
    pub name: String,
    pub text_score: f32,
    pub sellable: Result<(), NotSellable>,
    /// The wholesale unit price at the request's quantity, if the listing has one.
    pub unit_price: Option<Decimal>,
    /// Units on hand and not reserved in this stock.
    pub available: u64,
    /// Its lots with units remaining (or its oldest receipt); empty when unknown.
    pub ages: Vec<StockAge>,
    /// One parcel of the whole quantity from the warehouse to the request's region.
    pub shipping: Decimal,
}

/// A stock that can serve the request, priced landed in the region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    pub sku: Sku,
    pub merchant_id: MerchantId,
    pub warehouse_id: WarehouseId,
    pub name: String,
    pub quantity: u32,
    pub unit_price: Decimal,
    /// `unit_price` x `quantity`.
    pub goods: Decimal,
    pub shipping: Decimal,
    /// `goods` + `shipping`: what the offers are ranked by.
    pub landed_price: Decimal,
    pub text_score: f32,
    /// When the oldest units that would be sold were received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_stock: Option<DateTime<Utc>>,
    /// The earliest expiry of the units that would be sold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest_expiry: Option<NaiveDate>,
    /// Why it is offered, in words.
    pub why: String,
}

/// Why a matching stock is not offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExclusionReason {
    NotSellable { detail: NotSellable },
    NoPrice,
    ShortOfStock { available: u64, wanted: u32 },
    ExpiresBeforeDeadline { usable: u64, wanted: u32 },
}

impl ExclusionReason {
    /// The reason's name, as stored and answered.
    pub fn as_str(&self) -> &'static str {
        match self {
            ExclusionReason::NotSellable { .. } => "not_sellable",
            ExclusionReason::NoPrice => "no_price",
            ExclusionReason::ShortOfStock { .. } => "short_of_stock",
            ExclusionReason::ExpiresBeforeDeadline { .. } => "expires_before_deadline",
        }
    }

    /// The reason in words.
    pub fn explain(&self) -> String {
        match self {
            ExclusionReason::NotSellable { detail } => format!("not sellable ({detail})"),
            ExclusionReason::NoPrice => "the listing has no wholesale price".to_owned(),
            ExclusionReason::ShortOfStock { available, wanted } => {
                format!("only {available} available of the {wanted} wanted")
            }
            ExclusionReason::ExpiresBeforeDeadline { usable, wanted } => {
                format!("only {usable} of the {wanted} wanted would not expire before the deadline")
            }
        }
    }
}

/// A matching stock left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exclusion {
    pub sku: Sku,
    pub merchant_id: MerchantId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<WarehouseId>,
    pub reason: ExclusionReason,
    pub explanation: String,
}

/// The offers, best first (at most [`PROPOSED_OFFERS`]), and the matches left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    pub offers: Vec<Offer>,
    pub excluded: Vec<Exclusion>,
}

/// The available units still sellable on `deadline`: all but those of lots expiring before
/// that day (units in no lot do not expire).
fn usable_units(candidate: &Candidate, deadline: NaiveDate) -> u64 {
    let expiring: u64 =
        candidate.ages.iter().filter(|a| a.expires_on.is_some_and(|d| d < deadline)).map(|a| u64::from(a.units)).sum();
    candidate.available.saturating_sub(expiring)
}

fn offer(candidate: Candidate, request: &RequestDetails) -> Result<Offer, Exclusion> {
    let deadline = request.deadline.date_naive();
    let wanted = request.quantity;
    let excluded = |reason: ExclusionReason| Exclusion {
        sku: candidate.sku.clone(),
        merchant_id: candidate.merchant_id.clone(),
        warehouse_id: candidate.warehouse_id.clone(),
        explanation: reason.explain(),
        reason,
    };
    if let Err(detail) = candidate.sellable {
        return Err(excluded(ExclusionReason::NotSellable { detail }));
    }
    let Some(unit_price) = candidate.unit_price else { return Err(excluded(ExclusionReason::NoPrice)) };
    let Some(warehouse_id) = candidate.warehouse_id.clone().filter(|_| candidate.available >= u64::from(wanted)) else {
        return Err(excluded(ExclusionReason::ShortOfStock { available: candidate.available, wanted }));
    };
    let usable = usable_units(&candidate, deadline);
    if usable < u64::from(wanted) {
        return Err(excluded(ExclusionReason::ExpiresBeforeDeadline { usable, wanted }));
    }
    let sold_from = candidate.ages.iter().filter(|a| a.units > 0 && a.expires_on.is_none_or(|d| d >= deadline));
    let oldest_stock = sold_from.clone().map(|a| a.received_at).min();
    let earliest_expiry = sold_from.filter_map(|a| a.expires_on).min();
    let goods = unit_price * Decimal::from(wanted);
    let landed_price = goods + candidate.shipping;
    let age = oldest_stock.map(|at| format!("; stock received {}", at.date_naive())).unwrap_or_default();
    let why = format!(
        "\"{}\" matched (score {:.2}); {wanted} x {unit_price} = {goods} + shipping {} from {} = {landed_price}{age}",
        candidate.name, candidate.text_score, candidate.shipping, warehouse_id
    );
    Ok(Offer {
        sku: candidate.sku,
        merchant_id: candidate.merchant_id,
        warehouse_id,
        name: candidate.name,
        quantity: wanted,
        unit_price,
        goods,
        shipping: candidate.shipping,
        landed_price,
        text_score: candidate.text_score,
        oldest_stock,
        earliest_expiry,
        why,
    })
}

/// `None` after every `Some`: an unknown age or expiry ranks last.
fn known_first<T: Ord>(value: Option<T>) -> (bool, Option<T>) {
    (value.is_none(), value)
}

/// The proposal for `request` from the matching `candidates`.
pub fn rank(request: &RequestDetails, candidates: Vec<Candidate>) -> Proposal {
    let (mut offers, mut excluded): (Vec<Offer>, Vec<Exclusion>) = (Vec::new(), Vec::new());
    for candidate in candidates {
        match offer(candidate, request) {
            Ok(offer) => offers.push(offer),
            Err(exclusion) => excluded.push(exclusion),
        }
    }
    offers.sort_by(|a, b| {
        (a.landed_price, known_first(a.oldest_stock), known_first(a.earliest_expiry), &a.merchant_id, &a.sku, &a.warehouse_id)
            .cmp(&(
                b.landed_price,
                known_first(b.oldest_stock),
                known_first(b.earliest_expiry),
                &b.merchant_id,
                &b.sku,
                &b.warehouse_id,
            ))
    });
    offers.truncate(PROPOSED_OFFERS);
    excluded.sort_by(|a, b| (&a.merchant_id, &a.sku, &a.warehouse_id).cmp(&(&b.merchant_id, &b.sku, &b.warehouse_id)));
    Proposal { offers, excluded }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::matchmaking::tests::{details, now};
    use chrono::Duration;

    fn d(raw: &str) -> Decimal {
        raw.parse().unwrap()
    }

    pub(crate) fn candidate(merchant: &str, unit_price: &str, shipping: &str) -> Candidate {
        Candidate {
            sku: Sku::parse(format!("{merchant}-ink")).unwrap(),
            merchant_id: MerchantId::parse(merchant).unwrap(),
            warehouse_id: Some(WarehouseId::parse(format!("{merchant}-wh")).unwrap()),
            name: "Duan inkstone 12 cm".into(),
            text_score: 1.5,
            sellable: Ok(()),
            unit_price: Some(d(unit_price)),
            available: 100,
            ages: Vec::new(),
            shipping: d(shipping),
        }
    }

    pub(crate) fn offer(merchant: &str, unit_price: &str) -> Offer {
        super::offer(candidate(merchant, unit_price, "0"), &details(1)).unwrap()
    }

    fn age(days_ago: i64, expires_in_days: Option<i64>, units: u32) -> StockAge {
        StockAge {
            received_at: now() - Duration::days(days_ago),
            expires_on: expires_in_days.map(|d| (now() + Duration::days(d)).date_naive()),
            units,
        }
    }

    fn merchants(proposal: &Proposal) -> Vec<&str> {
        proposal.offers.iter().map(|o| o.merchant_id.as_str()).collect()
    }

    #[test]
    fn the_landed_price_is_goods_plus_shipping_and_ranks_the_offers() {
        let proposal = rank(
            &details(10),
            vec![candidate("m-a", "12.00", "30.00"), candidate("m-b", "13.00", "5.00"), candidate("m-c", "11.00", "50.00")],
        );
        assert_eq!(merchants(&proposal), ["m-b", "m-a", "m-c"]);
        let best = &proposal.offers[0];
        assert_eq!((best.goods, best.shipping, best.landed_price), (d("130.00"), d("5.00"), d("135.00")));
        assert!(best.why.contains("10 x 13.00 = 130.00 + shipping 5.00"), "{}", best.why);
    }

    #[test]
    fn equal_prices_go_to_older_stock_then_earlier_expiry_then_merchant() {
        let mut old = candidate("m-z", "10", "0");
        old.ages = vec![age(30, None, 100)];
        let mut young_expiring_soon = candidate("m-y", "10", "0");
        young_expiring_soon.ages = vec![age(5, Some(20), 100)];
        let mut young_expiring_late = candidate("m-x", "10", "0");
        young_expiring_late.ages = vec![age(5, Some(60), 100)];
        let unknown_b = candidate("m-b", "10", "0");
        let unknown_a = candidate("m-a", "10", "0");
        let proposal = rank(&details(10), vec![unknown_b, young_expiring_late, unknown_a, old, young_expiring_soon]);
        assert_eq!(proposal.offers.len(), PROPOSED_OFFERS);
        assert_eq!(merchants(&proposal), ["m-z", "m-y", "m-x", "m-a"]);
    }

    #[test]
    fn stock_that_cannot_serve_is_left_out_with_its_reason() {
        let mut unlisted = candidate("m-a", "10", "0");
        unlisted.sellable = Err(NotSellable::Unlisted);
        let mut short = candidate("m-b", "10", "0");
        short.available = 9;
        let mut expiring = candidate("m-c", "10", "0");
        expiring.ages = vec![age(5, Some(3), 95), age(1, None, 5)];
        let mut unpriced = candidate("m-d", "10", "0");
        unpriced.unit_price = None;
        let proposal = rank(&details(10), vec![unlisted, short, expiring, unpriced, candidate("m-e", "99", "0")]);
        assert_eq!(merchants(&proposal), ["m-e"]);
        let reasons: Vec<_> = proposal.excluded.iter().map(|e| (e.merchant_id.as_str(), e.reason.clone())).collect();
        assert_eq!(
            reasons,
            [
                ("m-a", ExclusionReason::NotSellable { detail: NotSellable::Unlisted }),
                ("m-b", ExclusionReason::ShortOfStock { available: 9, wanted: 10 }),
                ("m-c", ExclusionReason::ExpiresBeforeDeadline { usable: 5, wanted: 10 }),
                ("m-d", ExclusionReason::NoPrice),
            ]
        );
        assert_eq!(proposal.excluded[1].explanation, "only 9 available of the 10 wanted");
    }

    #[test]
    fn lots_expiring_after_the_deadline_and_units_in_no_lot_serve() {
        let mut c = candidate("m-a", "10", "0");
        c.available = 12;
        c.ages = vec![age(9, Some(3), 2), age(5, Some(30), 4)];
        // 12 available: 2 expire before the deadline, 4 after it, 6 are in no lot.
        assert_eq!(usable_units(&c, details(10).deadline.date_naive()), 10);
        let proposal = rank(&details(10), vec![c]);
        let best = &proposal.offers[0];
        assert_eq!(best.earliest_expiry, Some((now() + Duration::days(30)).date_naive()));
        assert_eq!(best.oldest_stock, Some(now() - Duration::days(5)));
    }

    #[test]
    fn a_merchant_with_no_stock_anywhere_is_short_of_stock() {
        let mut nowhere = candidate("m-a", "10", "0");
        (nowhere.warehouse_id, nowhere.available) = (None, 0);
        let proposal = rank(&details(1), vec![nowhere]);
        assert_eq!(proposal.excluded[0].reason, ExclusionReason::ShortOfStock { available: 0, wanted: 1 });
    }

    #[test]
    fn no_candidates_propose_nothing() {
        assert_eq!(rank(&details(1), Vec::new()), Proposal { offers: Vec::new(), excluded: Vec::new() });
    }
}
