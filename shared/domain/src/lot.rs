//! Lots: the batches a goods receipt brings into a warehouse, each with the day it was
//! received and, for goods that spoil, the day it expires. A stock's on hand is the sum of
//! what remains of its lots (plus any units counted in with no lot); which lot a unit
//! leaving the stock came from is decided first-expiry-first-out, so what remains of each
//! lot is derived from the receipts and the stock's on hand, never counted separately.
//! Matchmaking ranks offers by them (older stock first when prices are equal) and expired
//! stock is not sold.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::validation::{is_hidden_in_names, ValidationError};
use crate::{MerchantId, Sku, WarehouseId};

/// The longest lot code a receipt may give, in characters.
pub const MAX_LOT_CHARS: usize = 64;

/// What remains of one lot of one stock (a warehouse, an owner, a SKU).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotBalance {
    pub warehouse: WarehouseId,
    /// The merchant whose units these are.
    #[serde(rename = "merchant_id")]
    pub owner: MerchantId,
    pub sku: Sku,
    /// The lot's code as the receipt gave it.
    pub lot: String,
    /// When the first receipt of the lot into this stock was recorded.
    pub received_at: DateTime<Utc>,
    /// The last day the lot may be sold, when it spoils.
    pub expires_on: Option<NaiveDate>,
    /// Units of the lot received into this stock.
    pub received: u32,
    /// Units of the lot still in this stock.
    pub remaining: u32,
}

impl LotBalance {
    /// Whether the lot may no longer be sold on `today` (past its expiry day).
    pub fn is_expired(&self, today: NaiveDate) -> bool {
        self.expires_on.is_some_and(|day| day < today)
    }
}

/// The lot a receipt line names: its code and, for goods that spoil, its last day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotTag {
    pub lot: String,
    pub expires_on: Option<NaiveDate>,
}

impl LotTag {
    /// Checks a receipt line's optional `lot` (trimmed, 1 to [`MAX_LOT_CHARS`] printable
    /// characters) and `expires_on` (`YYYY-MM-DD`, only with a lot). Errors name the field.
    pub fn parse(lot: Option<String>, expires_on: Option<String>) -> Result<Option<Self>, ValidationError> {
        let Some(raw) = lot else {
            return match expires_on {
                Some(_) => Err(ValidationError::new("expires_on", "is only taken with a lot")),
                None => Ok(None),
            };
        };
        let lot = raw.trim().to_owned();
        let chars = lot.chars().count();
        if chars == 0 || chars > MAX_LOT_CHARS {
            return Err(ValidationError::new("lot", format!("must be 1 to {MAX_LOT_CHARS} characters")));
        }
        if lot.chars().any(is_hidden_in_names) {
            return Err(ValidationError::new("lot", "must hold printable characters only"));
        }
        let expires_on = expires_on
            .map(|raw| {
                NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
                    .ok()
                    .filter(|day| (2000..=2100).contains(&chrono::Datelike::year(day)))
                    .ok_or_else(|| {
                        ValidationError::new(
                            "expires_on",
                            format!("must be a date from 2000-01-01 to 2100-12-31 as YYYY-MM-DD, got {raw:?}"),
                        )
                    })
            })
            .transpose()?;
        Ok(Some(Self { lot, expires_on }))
    }

    /// Whether goods of this lot may no longer be sold on `today`.
    pub fn is_expired(&self, today: NaiveDate) -> bool {
        self.expires_on.is_some_and(|day| day < today)
    }
}

/// Units of one lot a receipt brings into one stock: what a store records beside the
/// stock's on hand, in the receipt's own atomic write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotReceipt {
    pub warehouse: WarehouseId,
    pub owner: MerchantId,
    pub sku: Sku,
    pub tag: LotTag,
    pub quantity: u32,
    pub received_at: DateTime<Utc>,
}

/// A lot as a stock records it: every receipt of its code summed, the first receipt's
/// moment and expiry kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedLot {
    pub lot: String,
    pub expires_on: Option<NaiveDate>,
    pub received: u32,
    pub received_at: DateTime<Utc>,
}

/// Folds lot receipts of one stock into its recorded lots: one per code, units summed,
/// the earliest receipt's moment and expiry kept.
pub fn recorded_lots(receipts: impl IntoIterator<Item = (LotTag, u32, DateTime<Utc>)>) -> Vec<RecordedLot> {
    let mut receipts: Vec<_> = receipts.into_iter().collect();
    receipts.sort_by_key(|(_, _, at)| *at);
    let mut lots: Vec<RecordedLot> = Vec::new();
    for (tag, quantity, at) in receipts {
        match lots.iter_mut().find(|l| l.lot == tag.lot) {
            Some(lot) => lot.received = lot.received.saturating_add(quantity),
            None => lots.push(RecordedLot { lot: tag.lot, expires_on: tag.expires_on, received: quantity, received_at: at }),
        }
    }
    lots
}

/// The order units leave a stock's lots in: the lot expiring first, lots with no expiry
/// last, then the oldest receipt (then the code, so the order is total).
fn leaving_order(lot: &RecordedLot) -> (bool, Option<NaiveDate>, DateTime<Utc>, &str) {
    (lot.expires_on.is_none(), lot.expires_on, lot.received_at, lot.lot.as_str())
}

/// What remains of each lot of one stock whose on hand is `on_hand`, first-expiry-first-
/// out: the units that left the stock (the lots' total less what is on hand) are taken
/// from the lot expiring first, lots with no expiry last, then the oldest receipt. Units
/// on hand beyond the lots' total were counted in with no lot and belong to none.
/// Answers every lot, emptied ones too, in that leaving order.
pub fn balances(
    warehouse: &WarehouseId,
    owner: &MerchantId,
    sku: &Sku,
    on_hand: u32,
    mut lots: Vec<RecordedLot>,
) -> Vec<LotBalance> {
    lots.sort_by(|a, b| leaving_order(a).cmp(&leaving_order(b)));
    let total: u64 = lots.iter().map(|l| u64::from(l.received)).sum();
    let mut gone = total.saturating_sub(u64::from(on_hand));
    lots.into_iter()
        .map(|lot| {
            let taken = gone.min(u64::from(lot.received));
            gone -= taken;
            let remaining = u32::try_from(u64::from(lot.received) - taken).unwrap_or(lot.received);
            LotBalance {
                warehouse: warehouse.clone(),
                owner: owner.clone(),
                sku: sku.clone(),
                lot: lot.lot,
                received_at: lot.received_at,
                expires_on: lot.expires_on,
                received: lot.received,
                remaining,
            }
        })
        .collect()
}

/// The units of one stock's expired lots still on hand on `today`: what the sweep writes
/// off, with the codes of the lots they belong to.
pub fn expired_units(lots: &[LotBalance], today: NaiveDate) -> (u32, Vec<&str>) {
    let expired: Vec<&LotBalance> = lots.iter().filter(|l| l.is_expired(today) && l.remaining > 0).collect();
    let units = expired.iter().fold(0u32, |sum, l| sum.saturating_add(l.remaining));
    (units, expired.iter().map(|l| l.lot.as_str()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(d: &str) -> NaiveDate {
        NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
    }

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0).unwrap()
    }

    fn lot(code: &str, expires: Option<&str>, received: u32, hour: u32) -> RecordedLot {
        RecordedLot { lot: code.into(), expires_on: expires.map(day), received, received_at: at(hour) }
    }

    fn remaining_of(on_hand: u32, lots: Vec<RecordedLot>) -> Vec<(String, u32)> {
        let (w, m, s) = (WarehouseId::parse("wh-1").unwrap(), MerchantId::parse("m-1").unwrap(), Sku::parse("SKU-1").unwrap());
        balances(&w, &m, &s, on_hand, lots).into_iter().map(|b| (b.lot, b.remaining)).collect()
    }

    fn pairs(expected: &[(&str, u32)]) -> Vec<(String, u32)> {
        expected.iter().map(|(l, r)| ((*l).to_owned(), *r)).collect()
    }

    #[test]
    fn units_that_left_come_from_the_lot_expiring_first() {
        let lots = vec![lot("LATE", Some("2027-03-01"), 10, 1), lot("EARLY", Some("2027-01-01"), 10, 2)];
        assert_eq!(remaining_of(14, lots), pairs(&[("EARLY", 4), ("LATE", 10)]));
    }

    #[test]
    fn a_lot_with_no_expiry_is_taken_last_and_ties_go_to_the_oldest_receipt() {
        let lots = vec![lot("NONE", None, 5, 1), lot("B", Some("2027-01-01"), 5, 3), lot("A", Some("2027-01-01"), 5, 2)];
        assert_eq!(remaining_of(8, lots), pairs(&[("A", 0), ("B", 3), ("NONE", 5)]));
    }

    #[test]
    fn units_beyond_the_lots_belong_to_no_lot() {
        let lots = vec![lot("A", Some("2027-01-01"), 5, 1)];
        assert_eq!(remaining_of(12, lots), pairs(&[("A", 5)]));
    }

    #[test]
    fn an_empty_stock_leaves_every_lot_empty() {
        let lots = vec![lot("A", Some("2027-01-01"), 5, 1), lot("B", None, 7, 2)];
        assert_eq!(remaining_of(0, lots), pairs(&[("A", 0), ("B", 0)]));
    }

    #[test]
    fn receipts_of_one_code_are_summed_keeping_the_first_moment_and_expiry() {
        let tag = |e: &str| LotTag { lot: "L1".into(), expires_on: Some(day(e)) };
        let lots = recorded_lots(vec![(tag("2027-02-01"), 3, at(5)), (tag("2027-01-01"), 4, at(2))]);
        assert_eq!(lots, vec![lot("L1", Some("2027-01-01"), 7, 2)]);
    }

    #[test]
    fn expired_units_count_only_what_remains_of_lots_past_their_day() {
        let (w, m, s) = (WarehouseId::parse("wh-1").unwrap(), MerchantId::parse("m-1").unwrap(), Sku::parse("SKU-1").unwrap());
        let lots = vec![
            lot("OLD", Some("2026-11-30"), 5, 1),
            lot("GONE", Some("2026-11-01"), 5, 0),
            lot("FRESH", Some("2026-12-01"), 5, 2),
        ];
        let balances = balances(&w, &m, &s, 7, lots);
        assert_eq!(expired_units(&balances, day("2026-12-01")), (2, vec!["OLD"]));
    }

    #[test]
    fn a_lot_is_trimmed_and_checked_and_an_expiry_needs_a_lot() {
        let tag = LotTag::parse(Some("  L-7 ".into()), Some("2027-01-31".into())).unwrap().unwrap();
        assert_eq!(tag, LotTag { lot: "L-7".into(), expires_on: Some(day("2027-01-31")) });
        assert_eq!(LotTag::parse(None, None).unwrap(), None);
        let field =
            |lot: Option<&str>, exp: Option<&str>| LotTag::parse(lot.map(Into::into), exp.map(Into::into)).unwrap_err().field;
        assert_eq!(field(None, Some("2027-01-31")), "expires_on");
        assert_eq!(field(Some("   "), None), "lot");
        assert_eq!(field(Some(&"x".repeat(65)), None), "lot");
        assert_eq!(field(Some("a\u{7}b"), None), "lot");
        assert_eq!(field(Some("L"), Some("31/01/2027")), "expires_on");
        assert_eq!(field(Some("L"), Some("2027-02-30")), "expires_on");
        assert!(LotTag::parse(Some("x".repeat(64)), None).is_ok());
    }

    #[test]
    fn a_lot_expires_the_day_after_its_last_day() {
        let tag = LotTag { lot: "L".into(), expires_on: Some(day("2026-12-01")) };
        assert!(!tag.is_expired(day("2026-12-01")));
        assert!(tag.is_expired(day("2026-12-02")));
        assert!(!LotTag { lot: "L".into(), expires_on: None }.is_expired(day("2100-01-01")));
    }
}
