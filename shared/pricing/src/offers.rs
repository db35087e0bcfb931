//! Offers: the SKUs best suited to a customer, from its merchant's history alone.
//!
//! Built at training time into the artifact ([`OfferIndex::build`],
//! [`OfferIndex::build_from`]), so answering needs no read of the history:
//! - **Bought together**: item-to-item co-occurrence over the merchant's customers (two
//!   SKUs are similar when the same customers buy both: cosine of their buyer sets), the
//!   `NEIGHBOURS` most similar kept per SKU. A customer's browsing counts too, weaker than a
//!   purchase ([`crate::signals`]: each customer's interest in a SKU is 1 for a purchase it
//!   kept, its strongest browsing's weight else, and the cosine is of those weights). A
//!   customer's own purchases and browsing lead its offers by how recently it made them
//!   (their weight halves every `HALF_LIFE_DAYS` before `now`), so what it did lately counts
//!   more than what it did long ago. The interest vectors are not decayed: on
//!   `oms bench recommend`'s history that made the offers worse, as a pairing seen last
//!   year is as good a pairing today.
//! - **Browsed**: what a customer viewed, carted or wished for and did not buy is offered
//!   by its weight and recency, so a customer who only browsed gets offers of its own.
//! - **Returned**: a SKU a customer sent back is not a purchase it liked: it seeds nothing
//!   and is never offered back to it; a SKU whose buyers send back many of its units is
//!   marked ([`OfferIndex::is_often_returned`]) for recommendations to leave out.
//! - **Category affinity**: the share of the customer's purchases and browsing in each
//!   category (the SKU catalogue's), which lifts the SKUs of the categories it likes.
//! - **Repeat purchase**: a SKU a customer bought within `RECENT_DAYS` is left out unless
//!   buying it again is typical (at least `REPEAT_TYPICAL` of its buyers bought it on two
//!   or more days): then it is offered again, said so.
//! - **Best sellers**: units sold per province and overall, for a customer the history
//!   does not know (by its province when known) and to fill a short list.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::history::Purchase;
use crate::signals::{Interest, Returned, Signals, OFTEN_RETURNED_MIN_SOLD, OFTEN_RETURNED_SHARE};

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
/// How much a SKU a customer browsed counts towards offering it that SKU, beside its
/// interest's weight.
const BROWSED_ITSELF: f64 = 1.0;
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
    /// Per customer, the SKUs it browsed and did not buy, its strongest interest in each.
    #[serde(default)]
    pub browsed: HashMap<String, Vec<Browsed>>,
    /// Per customer, the SKUs it sent back.
    #[serde(default)]
    pub returned: HashMap<String, Vec<String>>,
    /// The SKUs whose buyers send back many of their units.
    #[serde(default)]
    pub often_returned: HashSet<String>,
}

/// One SKU a customer browsed without buying it: its strongest interest and when last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Browsed {
    pub sku: String,
    pub interest: Interest,
    pub last: DateTime<Utc>,
}

/// Per SKU, the `NEIGHBOURS` most similar SKUs, most similar first: the cosine of the
/// SKUs' interest vectors over the customers (each customer's weight for a SKU: 1 for a
/// kept purchase, its browsing's weight else), pairs taken from each customer's most recent
/// `BASKET` SKUs so the cost grows with the baskets, not with the square of the catalogue.
/// With purchases alone it is the cosine of the SKUs' buyer sets.
fn co_occurrence(interests: &HashMap<&str, HashMap<&str, (f64, DateTime<Utc>)>>) -> HashMap<String, Vec<(String, f64)>> {
    let mut norms: HashMap<&str, f64> = HashMap::new();
    let mut together: HashMap<(&str, &str), f64> = HashMap::new();
    for skus in interests.values() {
        let mut basket: Vec<(&str, f64, DateTime<Utc>)> = skus.iter().map(|(sku, (w, at))| (*sku, *w, *at)).collect();
        for (sku, weight, _) in &basket {
            *norms.entry(sku).or_default() += weight * weight;
        }
        basket.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(b.0)));
        basket.truncate(BASKET);
        for (index, (a, wa, _)) in basket.iter().enumerate() {
            for (b, wb, _) in &basket[index + 1..] {
                let pair = if a < b { (*a, *b) } else { (*b, *a) };
                *together.entry(pair).or_default() += wa * wb;
            }
        }
    }
    let mut similar: HashMap<String, Vec<(String, f64)>> = HashMap::new();
    for ((a, b), shared) in together {
        let cosine = shared / (norms[a] * norms[b]).sqrt();
        similar.entry(a.to_owned()).or_default().push((b.to_owned(), cosine));
        similar.entry(b.to_owned()).or_default().push((a.to_owned(), cosine));
    }
    for list in similar.values_mut() {
        list.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        list.truncate(NEIGHBOURS);
    }
    similar
}

/// The SKUs with at least `OFTEN_RETURNED_MIN_SOLD` units sold (`sold`) of which at least
/// `OFTEN_RETURNED_SHARE` came back.
fn often_returned(sold: &HashMap<&str, u64>, returns: &[Returned]) -> HashSet<String> {
    let mut back: HashMap<&str, u64> = HashMap::new();
    for r in returns {
        *back.entry(&r.sku).or_default() += u64::from(r.units);
    }
    back.into_iter()
        .filter(|(sku, units)| {
            let sold = sold.get(sku).copied().unwrap_or(0);
            sold >= OFTEN_RETURNED_MIN_SOLD && *units as f64 >= OFTEN_RETURNED_SHARE * sold as f64
        })
        .map(|(sku, _)| sku.to_owned())
        .collect()
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
        Self::build_from(history, &Signals::default(), categories, half_life)
    }

    /// The index of `history` and the merchant's other `signals`: its customers' browsing
    /// counts towards co-occurrence and their offers by its weight ([`Interest::weight`]),
    /// and a SKU a customer returned counts for nothing of its (see [`crate::signals`]).
    pub fn build_from(
        history: &[Purchase],
        signals: &Signals,
        categories: &HashMap<String, String>,
        half_life: Option<f64>,
    ) -> OfferIndex {
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
        let returned: HashSet<(&str, &str)> = signals.returns.iter().map(|r| (r.customer_id.as_str(), r.sku.as_str())).collect();
        let mut bought: HashMap<String, Vec<Bought>> = HashMap::new();
        let mut repeaters: HashMap<&str, (u32, u32)> = HashMap::new();
        // Per customer, each SKU it showed interest in: weight (1 a kept purchase) and when last.
        let mut interests: HashMap<&str, HashMap<&str, (f64, DateTime<Utc>)>> = HashMap::new();
        for (&(customer, sku), on) in &days {
            let count = u32::try_from(on.len()).unwrap_or(u32::MAX);
            bought.entry(customer.to_owned()).or_default().push(Bought {
                sku: sku.to_owned(),
                days: count,
                last: last[&(customer, sku)],
            });
            let entry = repeaters.entry(sku).or_default();
            entry.0 += 1;
            entry.1 += u32::from(count >= 2);
            if !returned.contains(&(customer, sku)) {
                interests.entry(customer).or_default().insert(sku, (1.0, last[&(customer, sku)]));
            }
        }
        let mut browsed: HashMap<String, Vec<Browsed>> = HashMap::new();
        for event in &signals.browsing {
            let key = (event.customer_id.as_str(), event.sku.as_str());
            if days.contains_key(&key) || returned.contains(&key) {
                continue;
            }
            let list = browsed.entry(event.customer_id.clone()).or_default();
            match list.iter_mut().find(|b| b.sku == event.sku) {
                Some(seen) => {
                    if event.interest.weight() > seen.interest.weight() {
                        seen.interest = event.interest;
                    }
                    seen.last = seen.last.max(event.at);
                }
                None => list.push(Browsed { sku: event.sku.clone(), interest: event.interest, last: event.at }),
            }
        }
        for list in bought.values_mut() {
            list.sort_by(|a, b| b.last.cmp(&a.last).then_with(|| a.sku.cmp(&b.sku)));
        }
        for list in browsed.values_mut() {
            list.sort_by(|a, b| b.last.cmp(&a.last).then_with(|| a.sku.cmp(&b.sku)));
        }
        for (customer, list) in &browsed {
            let customer = interests.entry(customer.as_str()).or_default();
            for b in list {
                customer.insert(b.sku.as_str(), (b.interest.weight(), b.last));
            }
        }
        let similar = co_occurrence(&interests);
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
        let often_returned = often_returned(&overall, &signals.returns);
        let mut returned_by: HashMap<String, Vec<String>> = HashMap::new();
        for (customer, sku) in returned {
            returned_by.entry(customer.to_owned()).or_default().push(sku.to_owned());
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
            browsed,
            returned: returned_by,
            often_returned,
        }
    }

    /// Whether `sku`'s buyers send back so many of its units that it is left out of
    /// recommendations ([`crate::signals::OFTEN_RETURNED_SHARE`]).
    pub fn is_often_returned(&self, sku: &str) -> bool {
        self.often_returned.contains(sku)
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
        let returned: HashSet<&str> =
            self.returned.get(customer).map(Vec::as_slice).unwrap_or_default().iter().map(String::as_str).collect();
        // Never offered by similarity: what it bought, and what it sent back.
        let owned: HashSet<&str> = bought.iter().map(|b| b.sku.as_str()).chain(returned.iter().copied()).collect();
        let browsed = self.browsed.get(customer).map(Vec::as_slice).unwrap_or_default();
        // What the customer showed interest in: (SKU, weight, when last, what it did).
        let kept = bought.iter().filter(|b| !returned.contains(b.sku.as_str()));
        let seeds: Vec<(&str, f64, DateTime<Utc>, Option<Interest>)> = kept
            .map(|b| (b.sku.as_str(), f64::from(b.days), b.last, None))
            .chain(browsed.iter().map(|b| (b.sku.as_str(), b.interest.weight(), b.last, Some(b.interest))))
            .collect();
        // (score, reason) per candidate.
        let mut scores: HashMap<&str, (f64, String)> = HashMap::new();
        for &(seed, weight, at, interest) in &seeds {
            let lately = recency(at, now, self.half_life_days) * if interest.is_some() { weight } else { 1.0 };
            for (sku, similarity) in self.similar.get(seed).map(Vec::as_slice).unwrap_or_default() {
                if owned.contains(sku.as_str()) {
                    continue;
                }
                let entry = scores.entry(sku).or_insert((0.0, String::new()));
                if lately * similarity > entry.0 || entry.1.is_empty() {
                    entry.1 = match interest {
                        None => format!("often bought by customers who bought {seed}"),
                        Some(interest) => {
                            format!("often bought by customers interested in {seed}, which it {}", interest.as_str())
                        }
                    };
                }
                entry.0 += lately * similarity;
            }
        }
        // What it browsed itself, by how strongly and how lately.
        for b in browsed {
            let when = match (now - b.last).num_days().max(0) {
                0 => "today".to_owned(),
                1 => "yesterday".to_owned(),
                days => format!("{days} days ago"),
            };
            let entry = scores.entry(&b.sku).or_insert((0.0, String::new()));
            entry.0 += BROWSED_ITSELF * b.interest.weight() * recency(b.last, now, self.half_life_days);
            entry.1 = format!("this customer {} {when}", b.interest.done_to_it());
        }
        let total: f64 = seeds.iter().map(|(_, weight, _, _)| weight).sum();
        if total > 0.0 {
            let mut share: HashMap<&str, f64> = HashMap::new();
            for (sku, weight, _, _) in &seeds {
                if let Some(category) = self.categories.get(*sku) {
                    *share.entry(category).or_default() += weight / total;
                }
            }
            for (sku, category) in &self.categories {
                let Some(affinity) = share.get(category.as_str()) else { continue };
                if owned.contains(sku.as_str()) || !self.repeat_rate.contains_key(sku) {
                    continue;
                }
                let entry = scores.entry(sku).or_insert((0.0, String::new()));
                if entry.1.is_empty() {
                    entry.1 = format!("{:.0} % of this customer's interest is in {category}", affinity * 100.0);
                }
                entry.0 += CATEGORY_WEIGHT * affinity;
            }
        }
        // Bought before: offered again when due (not recent) or when repeating is typical;
        // never what it sent back.
        for b in bought.iter().filter(|b| !returned.contains(b.sku.as_str())) {
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
            self.fill_with_best_sellers(&mut offers, &recent, &returned, province.or(self.province_of(customer)), limit);
        }
        offers
    }

    /// Appends the best sellers of `province` (else of every province), skipping what is
    /// offered already, what the customer bought recently and what it sent back, until `limit`.
    fn fill_with_best_sellers(
        &self,
        offers: &mut Vec<Offer>,
        recent: &HashMap<&str, &Bought>,
        returned: &HashSet<&str>,
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
            if recent.contains_key(sku.as_str())
                || returned.contains(sku.as_str())
                || offers.iter().any(|offer| &offer.sku == sku)
            {
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

    fn browse(customer: &str, sku: &str, interest: Interest, day: u32) -> crate::signals::Browse {
        crate::signals::Browse {
            customer_id: customer.into(),
            sku: sku.into(),
            interest,
            at: format!("2026-11-{day:02}T09:00:00Z").parse().unwrap(),
        }
    }

    fn returned(customer: &str, sku: &str, units: u32) -> Returned {
        Returned { customer_id: customer.into(), sku: sku.into(), units, at: "2026-11-20T09:00:00Z".parse().unwrap() }
    }

    fn tea_and_fans() -> (Vec<Purchase>, HashMap<String, String>) {
        let mut history = Vec::new();
        for (i, customer) in ["a", "b", "c", "d"].into_iter().enumerate() {
            history.push(row(customer, "FAN-1", 1, "P"));
            history.push(row(customer, "FAN-2", 2, "P"));
            if i < 2 {
                history.push(row(customer, "TEA-1", 3, "P"));
                history.push(row(customer, "TEA-2", 4, "P"));
            }
        }
        let categories: HashMap<String, String> = [("TEA-1", "tea"), ("TEA-2", "tea"), ("FAN-1", "crafts"), ("FAN-2", "crafts")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into();
        (history, categories)
    }

    #[test]
    fn a_customer_who_only_browsed_is_offered_what_goes_with_what_it_browsed_not_the_best_sellers() {
        let (history, categories) = tea_and_fans();
        let signals = Signals { browsing: vec![browse("new", "TEA-1", Interest::View, 28)], returns: Vec::new() };
        let index = OfferIndex::build_from(&history, &signals, &categories, Some(HALF_LIFE_DAYS));
        let offers = index.offers("new", None, now(), 2);
        let mut skus: Vec<&str> = offers.iter().map(|offer| offer.sku.as_str()).collect();
        skus.sort_unstable();
        assert_eq!(skus, ["TEA-1", "TEA-2"], "the fans sell most, but it browsed tea: {offers:?}");
        assert!(offers.iter().all(|offer| offer.reason.contains("TEA-1") || offer.reason.contains("viewed")), "{offers:?}");
        let unseen = OfferIndex::build_from(&history, &Signals::default(), &categories, Some(HALF_LIFE_DAYS));
        assert_eq!(unseen.offers("new", None, now(), 1)[0].sku, "FAN-1", "without browsing: the best seller");
    }

    #[test]
    fn browsing_counts_less_than_buying_in_the_co_occurrence() {
        let (history, categories) = tea_and_fans();
        let viewed = Signals {
            browsing: vec![browse("e", "FAN-1", Interest::View, 5), browse("e", "TEA-1", Interest::View, 5)],
            returns: Vec::new(),
        };
        let mut bought = history.clone();
        bought.extend([row("e", "FAN-1", 5, "P"), row("e", "TEA-1", 5, "P")]);
        let by_views = OfferIndex::build_from(&history, &viewed, &categories, None);
        let by_purchases = OfferIndex::build_from(&bought, &Signals::default(), &categories, None);
        let similarity =
            |index: &OfferIndex| index.similar["FAN-1"].iter().find(|(sku, _)| sku == "TEA-1").map(|(_, s)| *s).unwrap();
        let (viewed, purchased) = (similarity(&by_views), similarity(&by_purchases));
        assert!(viewed < purchased, "a co-view {viewed} against a co-purchase {purchased}");
        assert!(viewed > similarity(&OfferIndex::build_from(&history, &Signals::default(), &categories, None)));
    }

    #[test]
    fn a_returned_product_is_not_offered_back_nor_leads_to_its_companions() {
        let mut history = Vec::new();
        for customer in ["a", "b", "c"] {
            history.push(row(customer, "TEA", 2, "Zhejiang"));
            history.push(row(customer, "CUP", 3, "Zhejiang"));
        }
        // "new" bought and sent back a cup, a year's best seller.
        history.push(row("new", "CUP", 10, "Zhejiang"));
        let signals = Signals { browsing: Vec::new(), returns: vec![returned("new", "CUP", 1)] };
        let index = OfferIndex::build_from(&history, &signals, &HashMap::new(), Some(HALF_LIFE_DAYS));
        let offers = index.offers("new", None, "2027-03-01T00:00:00Z".parse().unwrap(), 5);
        assert!(offers.iter().all(|offer| offer.sku != "CUP"), "sent back, so never offered back: {offers:?}");
        assert!(offers.iter().all(|offer| !offer.reason.contains("CUP")), "a returned purchase seeds nothing: {offers:?}");
        let kept = OfferIndex::build_from(&history, &Signals::default(), &HashMap::new(), Some(HALF_LIFE_DAYS));
        assert!(kept.offers("new", None, now(), 5).iter().any(|offer| offer.reason.contains("CUP")), "kept, it leads to tea");
    }

    #[test]
    fn a_product_is_often_returned_from_three_units_in_ten_over_five_sold() {
        let history: Vec<Purchase> = (0..10).map(|i| row(&format!("c{i}"), "SHOE", 1, "P")).collect();
        let signals =
            |n: usize| Signals { browsing: Vec::new(), returns: (0..n).map(|i| returned(&format!("c{i}"), "SHOE", 1)).collect() };
        assert!(!OfferIndex::build_from(&history, &signals(2), &HashMap::new(), None).is_often_returned("SHOE"));
        assert!(OfferIndex::build_from(&history, &signals(3), &HashMap::new(), None).is_often_returned("SHOE"));
        let few = &history[..4];
        assert!(!OfferIndex::build_from(few, &signals(4), &HashMap::new(), None).is_often_returned("SHOE"), "4 sold are too few");
    }
}
