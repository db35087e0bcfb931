//! Offers: the SKUs best suited to a customer, from its merchant's history alone.
//!
//! Built at training time into the artifact ([`OfferIndex::build`]), so answering needs no
//! read of the history:
//! - **Bought together**: item-to-item co-occurrence over the merchant's customers (two
//!   SKUs are similar when the same customers buy both: cosine of their buyer sets), the
//!   `NEIGHBOURS` most similar kept per SKU. A customer's own purchases lead its offers by
//!   how recently it made them (their weight halves every `HALF_LIFE_DAYS` before `now`),
//!   so what it bought lately counts more than what it bought long ago. The buyer sets are
//!   not decayed: on `oms bench recommend`'s history that made the offers worse, as a
//!   pairing seen last year is as good a pairing today.
//! - **Category affinity**: the share of the customer's purchases in each category (the
//!   SKU catalogue's), which lifts the SKUs of the categories it buys.
//! - **Repeat purchase**: a SKU a customer bought within `RECENT_DAYS` is left out unless
//!   buying it again is typical (at least `REPEAT_TYPICAL` of its buyers bought it on two
//!   or more days): then it is offered again, said so.
//! - **Best sellers**: units sold per province and overall, for a customer the history
//!   does not know (by its province when known) and to fill a short list.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::history::Purchase;

/// Most similar SKUs kept per SKU.
const NEIGHBOURS: usize = 20;
/// The most recent distinct SKUs of a customer that count towards co-occurrence.
const BASKET: usize = 50;
/// Best sellers kept per province and overall.
const BEST_SELLERS: usize = 50;
/// A purchase this recent (days) is "bought recently".
pub const RECENT_DAYS: i64 = 30;
/// The share of a SKU's buyers who bought it on two days or more, from which buying it
/// again is typical.
pub const REPEAT_TYPICAL: f64 = 0.3;
/// The weight of category affinity beside co-occurrence.
const CATEGORY_WEIGHT: f64 = 0.5;
/// Days after which a customer's purchase counts half as much towards its offers.
pub const HALF_LIFE_DAYS: f64 = 60.0;

/// How much a purchase made at `at` counts at `now`: 1 then, halving every `half_life`
/// days; no decay without a half-life (every purchase counts alike).
pub fn recency(at: DateTime<Utc>, now: DateTime<Utc>, half_life: Option<f64>) -> f64 {
    let Some(half_life) = half_life else { return 1.0 };
    let days = (now - at).num_seconds().max(0) as f64 / 86_400.0;
    0.5_f64.powf(days / half_life)
}

/// One SKU a customer bought: how often (distinct days) and when last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bought {
    pub sku: String,
    pub days: u32,
    pub last: DateTime<Utc>,
}

/// What the offers are answered from, kept in the artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OfferIndex {
    /// Per customer, the SKUs it bought.
    pub bought: HashMap<String, Vec<Bought>>,
    /// Per customer, the province of its latest purchase.
    pub province: HashMap<String, String>,
    /// Per SKU, the most similar SKUs (cosine of their buyer sets), most similar first.
    pub similar: HashMap<String, Vec<(String, f64)>>,
    /// Per SKU, the share of its buyers who bought it on two days or more.
    pub repeat_rate: HashMap<String, f64>,
    /// Per province, the SKUs by units sold, most first.
    pub best_by_province: HashMap<String, Vec<(String, u64)>>,
    /// Every province's together.
    pub best_overall: Vec<(String, u64)>,
    /// Each SKU's category (the catalogue's, at training).
    pub categories: HashMap<String, String>,
    /// The half-life of a purchase's weight, in days (`None`: no decay; an index built
    /// before recency weighting reads as that).
    #[serde(default)]
    pub half_life_days: Option<f64>,
}

/// One offer: a SKU, its score (0 to 1, higher suits better) and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    pub sku: String,
    pub score: f64,
    pub reason: String,
}

impl OfferIndex {
    /// The index of `history` (one merchant's), with each SKU's category, a customer's
    /// purchases weighted by recency ([`HALF_LIFE_DAYS`]).
    pub fn build(history: &[Purchase], categories: &HashMap<String, String>) -> OfferIndex {
        Self::build_with(history, categories, Some(HALF_LIFE_DAYS))
    }

    /// The index with a customer's purchases halving in weight every `half_life` days
    /// (`None`: every purchase counts alike).
    pub fn build_with(history: &[Purchase], categories: &HashMap<String, String>, half_life: Option<f64>) -> OfferIndex {
        let mut days: HashMap<(&str, &str), HashSet<chrono::NaiveDate>> = HashMap::new();
        let mut last: HashMap<(&str, &str), DateTime<Utc>> = HashMap::new();
        let mut latest_place: HashMap<&str, (DateTime<Utc>, &str)> = HashMap::new();
        let mut units: HashMap<&str, HashMap<&str, u64>> = HashMap::new();
        for row in history {
            let key = (row.customer_id.as_str(), row.sku.as_str());
            days.entry(key).or_default().insert(row.purchased_at.date_naive());
            let at = last.entry(key).or_insert(row.purchased_at);
            *at = (*at).max(row.purchased_at);
            let place = latest_place.entry(&row.customer_id).or_insert((row.purchased_at, &row.province));
            if row.purchased_at >= place.0 {
                *place = (row.purchased_at, &row.province);
            }
            *units.entry(&row.province).or_default().entry(&row.sku).or_default() += u64::from(row.quantity);
        }
        let mut bought: HashMap<String, Vec<Bought>> = HashMap::new();
        let mut buyers: BTreeMap<&str, HashSet<&str>> = BTreeMap::new();
        let mut repeaters: HashMap<&str, (u32, u32)> = HashMap::new();
        for (&(customer, sku), on) in &days {
            let count = u32::try_from(on.len()).unwrap_or(u32::MAX);
            bought.entry(customer.to_owned()).or_default().push(Bought {
                sku: sku.to_owned(),
                days: count,
                last: last[&(customer, sku)],
            });
            buyers.entry(sku).or_default().insert(customer);
            let entry = repeaters.entry(sku).or_default();
            entry.0 += 1;
            entry.1 += u32::from(count >= 2);
        }
        for list in bought.values_mut() {
            list.sort_by(|a, b| b.last.cmp(&a.last).then_with(|| a.sku.cmp(&b.sku)));
        }
        // Co-occurrence from each customer's basket (its most recent `BASKET` SKUs), so the
        // cost grows with the baskets, not with the square of the catalogue.
        let mut together: HashMap<(&str, &str), u32> = HashMap::new();
        for list in bought.values() {
            let basket: Vec<&str> = list.iter().take(BASKET).map(|b| b.sku.as_str()).collect();
            for (index, a) in basket.iter().enumerate() {
                for b in &basket[index + 1..] {
                    let pair = if a < b { (*a, *b) } else { (*b, *a) };
                    *together.entry(pair).or_default() += 1;
                }
            }
        }
        let mut similar: HashMap<String, Vec<(String, f64)>> = HashMap::new();
        for ((a, b), shared) in together {
            let cosine = f64::from(shared) / ((buyers[a].len() * buyers[b].len()) as f64).sqrt();
            similar.entry(a.to_owned()).or_default().push((b.to_owned(), cosine));
            similar.entry(b.to_owned()).or_default().push((a.to_owned(), cosine));
        }
        for list in similar.values_mut() {
            list.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            list.truncate(NEIGHBOURS);
        }
        let ranked = |counts: HashMap<&str, u64>| {
            let mut list: Vec<(String, u64)> = counts.into_iter().map(|(sku, n)| (sku.to_owned(), n)).collect();
            list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            list.truncate(BEST_SELLERS);
            list
        };
        let mut overall: HashMap<&str, u64> = HashMap::new();
        for counts in units.values() {
            for (sku, n) in counts {
                *overall.entry(sku).or_default() += n;
            }
        }
        OfferIndex {
            bought,
            province: latest_place
                .into_iter()
                .map(|(customer, (_, province))| (customer.to_owned(), province.to_owned()))
                .collect(),
            similar,
            repeat_rate: repeaters
                .into_iter()
                .map(|(sku, (all, again))| (sku.to_owned(), f64::from(again) / f64::from(all.max(1))))
                .collect(),
            best_by_province: units.into_iter().map(|(province, counts)| (province.to_owned(), ranked(counts))).collect(),
            best_overall: ranked(overall),
            categories: categories.clone(),
            half_life_days: half_life,
        }
    }

    /// The province the history last saw `customer` buy in.
    pub fn province_of(&self, customer: &str) -> Option<&str> {
        self.province.get(customer).map(String::as_str)
    }

    /// At most `limit` offers for `customer` at `now`, best first. A customer the history
    /// does not know gets the best sellers of `province` (else of every province).
    pub fn offers(&self, customer: &str, province: Option<&str>, now: DateTime<Utc>, limit: usize) -> Vec<Offer> {
        let bought = self.bought.get(customer).map(Vec::as_slice).unwrap_or_default();
        let recent: HashMap<&str, &Bought> =
            bought.iter().filter(|b| (now - b.last).num_days() < RECENT_DAYS).map(|b| (b.sku.as_str(), b)).collect();
        let owned: HashSet<&str> = bought.iter().map(|b| b.sku.as_str()).collect();
        // (score, reason) per candidate.
        let mut scores: HashMap<&str, (f64, String)> = HashMap::new();
        for b in bought {
            let lately = recency(b.last, now, self.half_life_days);
            for (sku, similarity) in self.similar.get(&b.sku).map(Vec::as_slice).unwrap_or_default() {
                if owned.contains(sku.as_str()) {
                    continue;
                }
                let entry = scores.entry(sku).or_insert((0.0, String::new()));
                if lately * similarity > entry.0 || entry.1.is_empty() {
                    entry.1 = format!("often bought by customers who bought {}", b.sku);
                }
                entry.0 += lately * similarity;
            }
        }
        let total: u32 = bought.iter().map(|b| b.days).sum();
        if total > 0 {
            let mut share: HashMap<&str, f64> = HashMap::new();
            for b in bought {
                if let Some(category) = self.categories.get(&b.sku) {
                    *share.entry(category).or_default() += f64::from(b.days) / f64::from(total);
                }
            }
            for (sku, category) in &self.categories {
                let Some(affinity) = share.get(category.as_str()) else { continue };
                if owned.contains(sku.as_str()) || !self.repeat_rate.contains_key(sku) {
                    continue;
                }
                let entry = scores.entry(sku).or_insert((0.0, String::new()));
                if entry.1.is_empty() {
                    entry.1 = format!("{:.0} % of this customer's purchases are {category}", affinity * 100.0);
                }
                entry.0 += CATEGORY_WEIGHT * affinity;
            }
        }
        // Bought before: offered again when due (not recent) or when repeating is typical.
        for b in bought {
            let rate = self.repeat_rate.get(&b.sku).copied().unwrap_or(0.0);
            let days_ago = (now - b.last).num_days().max(0);
            if recent.contains_key(b.sku.as_str()) && rate < REPEAT_TYPICAL {
                continue;
            }
            let reason = if rate >= REPEAT_TYPICAL {
                format!("{:.0} % of its buyers buy it again; last bought {days_ago} days ago", rate * 100.0)
            } else {
                format!("bought {} times, last {days_ago} days ago", b.days)
            };
            scores.insert(&b.sku, (rate + 0.1 * f64::from(b.days.min(5)), reason));
        }
        let mut offers: Vec<Offer> =
            scores.into_iter().map(|(sku, (score, reason))| Offer { sku: sku.to_owned(), score, reason }).collect();
        let best = offers.iter().map(|offer| offer.score).fold(0.0_f64, f64::max);
        for offer in &mut offers {
            offer.score = if best > 0.0 { (offer.score / best * 1000.0).round() / 1000.0 } else { 0.0 };
        }
        offers.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.sku.cmp(&b.sku)));
        offers.truncate(limit);
        if offers.len() < limit {
            self.fill_with_best_sellers(&mut offers, &recent, province.or(self.province_of(customer)), limit);
        }
        offers
    }

    /// Appends the best sellers of `province` (else of every province), skipping what is
    /// offered already and what the customer bought recently, until `limit`.
    fn fill_with_best_sellers(
        &self,
        offers: &mut Vec<Offer>,
        recent: &HashMap<&str, &Bought>,
        province: Option<&str>,
        limit: usize,
    ) {
        let (list, place) = match province.and_then(|p| self.best_by_province.get(p).map(|list| (list, p))) {
            Some((list, place)) => (list, Some(place)),
            None => (&self.best_overall, None),
        };
        let top = list.first().map_or(1, |(_, units)| (*units).max(1));
        for (rank, (sku, units)) in list.iter().enumerate() {
            if offers.len() >= limit {
                break;
            }
            if recent.contains_key(sku.as_str()) || offers.iter().any(|offer| &offer.sku == sku) {
                continue;
            }
            let reason = match place {
                Some(place) => format!("best seller no. {} in {place} ({units} sold)", rank + 1),
                None => format!("best seller no. {} ({units} sold)", rank + 1),
            };
            // Below any personal offer: a best seller fills the list, it does not lead it.
            let score = (*units as f64 / top as f64 * 0.5 * 1000.0).round() / 1000.0;
            offers.push(Offer { sku: sku.clone(), score, reason });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn row(customer: &str, sku: &str, day: u32, province: &str) -> Purchase {
        Purchase {
            customer_id: customer.into(),
            sku: sku.into(),
            quantity: 1,
            unit_price: Decimal::TEN,
            purchased_at: format!("2026-11-{day:02}T10:00:00Z").parse().unwrap(),
            province: province.into(),
            city: "X".into(),
            address: String::new(),
            merchant_id: None,
            currency: None,
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-30T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_customer_is_offered_what_customers_like_it_bought_and_not_what_it_just_bought() {
        let mut history = Vec::new();
        // Tea buyers buy cups; fan buyers buy kites.
        for customer in ["a", "b", "c"] {
            history.push(row(customer, "TEA", 2, "Zhejiang"));
            history.push(row(customer, "CUP", 3, "Zhejiang"));
        }
        for customer in ["d", "e"] {
            history.push(row(customer, "FAN", 2, "Beijing"));
            history.push(row(customer, "KITE", 3, "Beijing"));
        }
        history.push(row("new", "TEA", 28, "Zhejiang"));
        let index = OfferIndex::build(&history, &HashMap::new());
        let offers = index.offers("new", None, now(), 3);
        assert_eq!(offers[0].sku, "CUP", "{offers:?}");
        assert!(offers[0].reason.contains("TEA"), "{offers:?}");
        assert_eq!(offers[0].score, 1.0);
        assert!(offers.iter().all(|offer| offer.sku != "TEA"), "bought two days ago, not typically again: {offers:?}");
    }

    #[test]
    fn a_sku_bought_again_by_most_of_its_buyers_is_offered_again() {
        let mut history = Vec::new();
        for customer in ["a", "b", "c"] {
            history.push(row(customer, "TEA", 1, "Zhejiang"));
            history.push(row(customer, "TEA", 15, "Zhejiang"));
        }
        history.push(row("d", "TEA", 28, "Zhejiang"));
        let index = OfferIndex::build(&history, &HashMap::new());
        let offers = index.offers("d", None, now(), 2);
        assert_eq!(offers[0].sku, "TEA", "{offers:?}");
        assert!(offers[0].reason.contains("buy it again"), "{offers:?}");
    }

    #[test]
    fn an_unknown_customer_gets_the_best_sellers_of_its_province() {
        let mut history = vec![row("a", "FAN", 1, "Beijing"), row("b", "FAN", 2, "Beijing"), row("c", "TEA", 3, "Beijing")];
        history.extend([row("d", "CUP", 1, "Zhejiang"), row("e", "CUP", 2, "Zhejiang"), row("f", "CUP", 3, "Zhejiang")]);
        let index = OfferIndex::build(&history, &HashMap::new());
        let in_beijing = index.offers("nobody", Some("Beijing"), now(), 2);
        let skus: Vec<&str> = in_beijing.iter().map(|offer| offer.sku.as_str()).collect();
        assert_eq!(skus, ["FAN", "TEA"]);
        assert!(in_beijing[0].reason.contains("Beijing"), "{in_beijing:?}");
        assert_eq!(index.offers("nobody", None, now(), 1)[0].sku, "CUP", "every province's best seller");
    }

    #[test]
    fn category_affinity_lifts_the_categories_a_customer_buys() {
        let history =
            vec![row("a", "TEA-1", 1, "P"), row("b", "TEA-2", 1, "P"), row("c", "FAN-1", 1, "P"), row("d", "FAN-1", 2, "P")];
        let categories: HashMap<String, String> =
            [("TEA-1", "tea"), ("TEA-2", "tea"), ("FAN-1", "crafts")].map(|(k, v)| (k.to_owned(), v.to_owned())).into();
        let index = OfferIndex::build(&history, &categories);
        let offers = index.offers("a", None, now(), 1);
        assert_eq!(offers[0].sku, "TEA-2", "{offers:?}");
        assert!(offers[0].reason.contains("tea"), "{offers:?}");
    }
}
