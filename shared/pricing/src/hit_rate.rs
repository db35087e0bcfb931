//! How well the offers foresee what a customer buys next, measured offline: each
//! customer's last purchase of a SKU it never bought before is held out, the index is
//! built on everything else, and a hit is the held-out SKU among the customer's first `k`
//! offers at the moment it bought it. The baseline offers everyone the same best sellers
//! (by units, over the same training rows), less what the customer bought already.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::history::Purchase;
use crate::offers::OfferIndex;
use crate::signals::Signals;

/// One customer's held-out purchase.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldOut {
    pub customer: String,
    pub sku: String,
    pub at: DateTime<Utc>,
}

/// Hits at `k` of the offers and of the best-seller baseline over the same customers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evaluation {
    pub k: usize,
    /// Customers with a held-out purchase (one that was not their first).
    pub customers: usize,
    pub offer_hits: usize,
    pub popular_hits: usize,
}

impl Evaluation {
    pub fn offer_rate(&self) -> f64 {
        self.offer_hits as f64 / self.customers.max(1) as f64
    }

    pub fn popular_rate(&self) -> f64 {
        self.popular_hits as f64 / self.customers.max(1) as f64
    }
}

/// Splits `history` into the rows to train on and, per customer, its last purchase of a
/// SKU it had not bought before (every row of that SKU at that moment leaves the
/// training rows). A customer whose every purchase falls at its first moment has nothing
/// to foresee and is not held out.
pub fn hold_out_last(history: &[Purchase]) -> (Vec<Purchase>, Vec<HeldOut>) {
    let mut by_customer: HashMap<&str, Vec<&Purchase>> = HashMap::new();
    for row in history {
        by_customer.entry(&row.customer_id).or_default().push(row);
    }
    let mut held: HashMap<&str, (&str, DateTime<Utc>)> = HashMap::new();
    for (customer, rows) in &mut by_customer {
        rows.sort_by(|a, b| a.purchased_at.cmp(&b.purchased_at).then_with(|| a.sku.cmp(&b.sku)));
        let first = rows[0].purchased_at;
        // The latest row after the first moment whose SKU no earlier row has.
        let newest_new = rows
            .iter()
            .enumerate()
            .rev()
            .find(|(index, row)| row.purchased_at > first && !rows[..*index].iter().any(|earlier| earlier.sku == row.sku));
        if let Some((_, row)) = newest_new {
            held.insert(customer, (&row.sku, row.purchased_at));
        }
    }
    let train = history
        .iter()
        .filter(|row| held.get(row.customer_id.as_str()) != Some(&(row.sku.as_str(), row.purchased_at)))
        .cloned()
        .collect();
    let mut held_out: Vec<HeldOut> = held
        .into_iter()
        .map(|(customer, (sku, at))| HeldOut { customer: customer.to_owned(), sku: sku.to_owned(), at })
        .collect();
    held_out.sort_by(|a, b| a.customer.cmp(&b.customer));
    (train, held_out)
}

/// Hit rate at `k` of the offers of an index built with `half_life` (see
/// [`OfferIndex::build_with`]) against the best sellers, on `history`'s held-out last
/// purchases ([`hold_out_last`]).
pub fn evaluate(history: &[Purchase], categories: &HashMap<String, String>, k: usize, half_life: Option<f64>) -> Evaluation {
    evaluate_with(history, &Signals::default(), categories, k, half_life)
}

/// [`evaluate`] with the index learning from `signals` too (each held-out customer's from
/// before its held-out purchase only), its offers kept, as recommendations are, to SKUs
/// not often returned.
pub fn evaluate_with(
    history: &[Purchase],
    signals: &Signals,
    categories: &HashMap<String, String>,
    k: usize,
    half_life: Option<f64>,
) -> Evaluation {
    let (train, held_out) = hold_out_last(history);
    let until: HashMap<&str, DateTime<Utc>> = held_out.iter().map(|h| (h.customer.as_str(), h.at)).collect();
    let index = OfferIndex::build_from(&train, &signals.before(&until), categories, half_life);
    let mut units: HashMap<&str, u64> = HashMap::new();
    let mut owned: HashMap<&str, HashSet<&str>> = HashMap::new();
    for row in &train {
        *units.entry(&row.sku).or_default() += u64::from(row.quantity);
        owned.entry(&row.customer_id).or_default().insert(&row.sku);
    }
    let mut popular: Vec<(&str, u64)> = units.into_iter().collect();
    popular.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut evaluation = Evaluation { k, customers: held_out.len(), offer_hits: 0, popular_hits: 0 };
    let nothing = HashSet::new();
    for held in &held_out {
        let offers = index.offers(&held.customer, None, held.at, k * 3);
        let kept = offers.iter().filter(|offer| !index.is_often_returned(&offer.sku)).take(k);
        evaluation.offer_hits += usize::from(kept.into_iter().any(|offer| offer.sku == held.sku));
        let bought = owned.get(held.customer.as_str()).unwrap_or(&nothing);
        let best = popular.iter().filter(|(sku, _)| !bought.contains(sku)).take(k);
        evaluation.popular_hits += usize::from(best.into_iter().any(|(sku, _)| *sku == held.sku));
    }
    evaluation
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn row(customer: &str, sku: &str, day: i64) -> Purchase {
        let start: DateTime<Utc> = "2026-06-01T10:00:00Z".parse().unwrap();
        Purchase {
            customer_id: customer.into(),
            sku: sku.into(),
            quantity: 1,
            unit_price: Decimal::TEN,
            purchased_at: start + chrono::Duration::days(day),
            province: "P".into(),
            city: "C".into(),
            address: String::new(),
            merchant_id: None,
            currency: None,
        }
    }

    #[test]
    fn the_last_new_sku_of_each_customer_is_held_out_and_leaves_the_training_rows() {
        let history = vec![row("a", "X", 1), row("a", "Y", 2), row("a", "X", 3), row("b", "X", 1), row("b", "Z", 1)];
        let (train, held) = hold_out_last(&history);
        assert_eq!(held, [HeldOut { customer: "a".into(), sku: "Y".into(), at: row("a", "Y", 2).purchased_at }]);
        assert_eq!(train.len(), 4, "b bought everything at its first moment: nothing held out");
        assert!(!train.iter().any(|r| r.customer_id == "a" && r.sku == "Y"));
    }

    /// Two tastes: tea buyers go on to cups, kite buyers to string; every other customer
    /// then buys a one-off nobody could foresee. A staple everybody buys (SALT) and a
    /// gadget of one-off buyers lead the units. The offers find the companion; the best
    /// sellers never do.
    #[test]
    fn offers_foresee_the_next_purchase_better_than_the_best_sellers() {
        let mut history = Vec::new();
        for i in 0..40 {
            let c = format!("c{i}");
            history.push(row(&c, "SALT", 0));
            history.push(row(&c, "SALT", 1));
            let (first, next) = if i % 4 < 2 { ("TEA", "CUP") } else { ("KITE", "STRING") };
            history.push(row(&c, first, 2));
            history.push(row(&c, next, 5));
            if i % 2 == 1 {
                history.push(row(&c, &format!("ONE-OFF-{i}"), 9));
            }
        }
        for i in 0..12 {
            // Many one-off buyers of a popular gadget keep it near the top of the units.
            history.push(row(&format!("g{i}"), "GADGET", 0));
            history.push(row(&format!("g{i}"), "GADGET", 0));
        }
        let evaluation = evaluate(&history, &HashMap::new(), 2, Some(60.0));
        assert_eq!(evaluation.customers, 40);
        assert_eq!(evaluation.offer_hits, 20, "every companion, no one-off: {evaluation:?}");
        assert_eq!(evaluation.popular_hits, 0, "{evaluation:?}");
    }
}
