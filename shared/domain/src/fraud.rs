//! Fraud rules: a webhook order that looks like fraud is stored on hold for review
//! (`HoldReason::FraudReview`) instead of being allocated, with a score and its reasons,
//! until staff release it (`POST /orders/{id}/release`) or cancel it.
//!
//! Each rule that fires adds its points; an order scoring [`FraudRules::hold_at`] or more
//! is held. No rule alone reaches it: a regular customer buying often, a genuine bulk buy
//! or a traveller's phone is not held for that one thing; two together are.
//!
//! - **Velocity**: more than `velocity_orders` other orders by the same customer, or with
//!   the same phone number, shipping address or card (however many customer ids they hide
//!   behind), placed within `window` of this one.
//! - **Unusual quantity**: a line of `unusual_units` units or more.
//! - **Mismatched regions**: the phone's country calling code belongs to other countries
//!   than the one the order ships to.

use chrono::Duration;
use serde::Serialize;

use crate::Order;

/// Points of each rule.
pub const VELOCITY_POINTS: u32 = 40;
pub const UNUSUAL_QUANTITY_POINTS: u32 = 40;
pub const REGION_POINTS: u32 = 30;

/// The thresholds of the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FraudRules {
    /// How far apart (placed) orders count towards velocity.
    pub window: Duration,
    /// Other orders within the window above which velocity fires.
    pub velocity_orders: u32,
    /// Units in one line from which the quantity is unusual.
    pub unusual_units: u32,
    /// The score from which an order is held.
    pub hold_at: u32,
}

impl Default for FraudRules {
    fn default() -> Self {
        Self { window: Duration::hours(1), velocity_orders: 5, unusual_units: 100, hold_at: 60 }
    }
}

/// What the stores know around an order: the other orders placed within the window by
/// its customer, and with its phone, its shipping address (by `Address::fingerprint`) and
/// its card (`Customer::card`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signals {
    pub customer_orders: u32,
    pub phone_orders: u32,
    pub address_orders: u32,
    pub card_orders: u32,
}

impl Signals {
    /// The busiest signal: its count and whose orders they are, for the reason's text
    /// (the customer's first when counts tie).
    fn busiest(&self) -> (u32, &'static str) {
        [
            (self.customer_orders, "this customer"),
            (self.phone_orders, "this phone number"),
            (self.address_orders, "this shipping address"),
            (self.card_orders, "this card"),
        ]
        .into_iter()
        .rev()
        .max_by_key(|(count, _)| *count)
        .unwrap_or((0, "this customer"))
    }
}

/// An order's score and the reasons for it, one per rule that fired.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub score: u32,
    pub reasons: Vec<String>,
}

impl Assessment {
    /// Whether the order is held for review under `rules`.
    pub fn holds(&self, rules: &FraudRules) -> bool {
        self.score >= rules.hold_at
    }

    fn add(&mut self, points: u32, reason: String) {
        self.score = (self.score + points).min(100);
        self.reasons.push(reason);
    }
}

/// Scores `order` by `rules`, given what the stores know around it.
pub fn assess(order: &Order, signals: &Signals, rules: &FraudRules) -> Assessment {
    let mut assessment = Assessment::default();
    let minutes = rules.window.num_minutes();
    let (count, whose) = signals.busiest();
    if count > rules.velocity_orders {
        assessment.add(VELOCITY_POINTS, format!("velocity: {count} other orders by {whose} within {minutes} minutes"));
    }
    if let Some(line) = order.lines.iter().filter(|line| line.quantity >= rules.unusual_units).max_by_key(|l| l.quantity) {
        assessment.add(
            UNUSUAL_QUANTITY_POINTS,
            format!("unusual quantity: {} units of {} in one line ({} or more)", line.quantity, line.sku, rules.unusual_units),
        );
    }
    let ships_to = order.shipping_address.country.to_ascii_uppercase();
    if let Some((code, countries)) = order.customer.phone.as_deref().and_then(phone_countries) {
        if !ships_to.is_empty() && !countries.contains(&ships_to.as_str()) {
            assessment.add(
                REGION_POINTS,
                format!("mismatched regions: the phone's +{code} is {}, the order ships to {ships_to}", countries.join("/")),
            );
        }
    }
    assessment
}

/// Country calling codes and the countries (ISO 3166-1 alpha-2) that use them: the
/// markets orders come from. A code not listed says nothing.
const CALLING_CODES: [(&str, &[&str]); 30] = [
    ("1", &["US", "CA", "PR"]),
    ("7", &["RU", "KZ"]),
    ("31", &["NL"]),
    ("33", &["FR"]),
    ("34", &["ES"]),
    ("39", &["IT"]),
    ("44", &["GB"]),
    ("49", &["DE"]),
    ("52", &["MX"]),
    ("55", &["BR"]),
    ("60", &["MY"]),
    ("61", &["AU"]),
    ("62", &["ID"]),
    ("63", &["PH"]),
    ("64", &["NZ"]),
    ("65", &["SG"]),
    ("66", &["TH"]),
    ("81", &["JP"]),
    ("82", &["KR"]),
    ("84", &["VN"]),
    ("86", &["CN"]),
    ("90", &["TR"]),
    ("91", &["IN"]),
    ("234", &["NG"]),
    ("852", &["HK"]),
    ("853", &["MO"]),
    ("886", &["TW"]),
    ("966", &["SA"]),
    ("971", &["AE"]),
    ("972", &["IL"]),
];

/// The calling code of a phone written with its country (`+86...` or `0086...`) and the
/// countries using it; `None` for a number without one (a local number says nothing) or
/// with a code not listed.
pub fn phone_countries(phone: &str) -> Option<(&'static str, &'static [&'static str])> {
    let digits = phone.strip_prefix('+').or_else(|| phone.strip_prefix("00"))?;
    // Calling codes are prefix-free: at most one listed code starts the number.
    CALLING_CODES.iter().find(|(code, _)| digits.starts_with(code)).map(|(code, countries)| (*code, *countries))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::tests::sample_new_order;

    fn order(phone: Option<&str>, country: &str, quantity: u32) -> Order {
        let mut new = sample_new_order("SKU-1", quantity);
        new.customer.phone = phone.map(str::to_owned);
        new.shipping_address.country = country.to_owned();
        Order::receive(new, crate::OrderId::generate(), chrono::Utc::now())
    }

    #[test]
    fn no_rule_alone_holds_an_order_two_do() {
        let rules = FraudRules::default();
        let busy = Signals { customer_orders: 6, ..Signals::default() };
        let alone = [
            assess(&order(Some("+8613800000000"), "CN", 1), &busy, &rules),
            assess(&order(Some("+8613800000000"), "CN", 500), &Signals::default(), &rules),
            assess(&order(Some("+447700900000"), "CN", 1), &Signals::default(), &rules),
        ];
        for assessment in &alone {
            assert_eq!(assessment.reasons.len(), 1, "{assessment:?}");
            assert!(!assessment.holds(&rules), "{assessment:?}");
        }
        let both = assess(&order(Some("+447700900000"), "CN", 500), &busy, &rules);
        assert_eq!(both.score, 100, "40 + 40 + 30, capped: {both:?}");
        assert!(both.holds(&rules));
        assert!(both.reasons[0].contains("6 other orders by this customer"), "{both:?}");
        assert!(both.reasons[1].contains("500 units"), "{both:?}");
        assert!(both.reasons[2].contains("+44 is GB, the order ships to CN"), "{both:?}");
    }

    #[test]
    fn a_quiet_order_scores_nothing() {
        let rules = FraudRules::default();
        let calm = Signals { customer_orders: 5, phone_orders: 5, address_orders: 5, card_orders: 5 };
        let assessment = assess(&order(Some("+8613800000000"), "CN", 99), &calm, &rules);
        assert_eq!(assessment, Assessment::default());
        let local = assess(&order(Some("13800000000"), "US", 1), &Signals::default(), &rules);
        assert_eq!(local.score, 0, "a number without its country says nothing");
    }

    #[test]
    fn one_phone_behind_many_customers_is_velocity_too() {
        let signals = Signals { phone_orders: 9, ..Signals::default() };
        let assessment = assess(&order(None, "CN", 1), &signals, &FraudRules::default());
        assert!(assessment.reasons[0].contains("9 other orders by this phone number"), "{assessment:?}");
    }

    #[test]
    fn one_address_or_card_behind_many_customers_is_velocity_too() {
        let rules = FraudRules::default();
        let address = Signals { customer_orders: 1, address_orders: 7, ..Signals::default() };
        let assessment = assess(&order(None, "CN", 1), &address, &rules);
        assert_eq!(assessment.score, VELOCITY_POINTS);
        assert!(assessment.reasons[0].contains("7 other orders by this shipping address"), "{assessment:?}");
        let card = Signals { address_orders: 6, card_orders: 8, ..Signals::default() };
        let assessment = assess(&order(None, "CN", 1), &card, &rules);
        assert_eq!(assessment.reasons, vec!["velocity: 8 other orders by this card within 60 minutes".to_owned()]);
        let tie = Signals { customer_orders: 6, card_orders: 6, ..Signals::default() };
        assert!(assess(&order(None, "CN", 1), &tie, &rules).reasons[0].contains("this customer"));
    }

    #[test]
    fn calling_codes_name_their_countries() {
        assert_eq!(phone_countries("+8613800000000").map(|(code, _)| code), Some("86"));
        assert_eq!(phone_countries("0085291234567").map(|(_, c)| c), Some(&["HK"][..]));
        assert_eq!(phone_countries("+12025550100").map(|(_, c)| c.contains(&"CA")), Some(true));
        assert_eq!(phone_countries("13800000000"), None);
        assert_eq!(phone_countries("+999"), None);
    }
}
