//! What one order holds in stock: so many units of a SKU in each warehouse, each from the
//! stock of the merchant the line names.
//!
//! A [`Reservation`] is valid by construction: each (warehouse, owner, SKU) appears once, every
//! quantity is above zero, and the lines are sorted. The planner builds it; the stores take
//! it as it is, so no adapter repeats these checks.
//!
//! A reservation held in the store is a [`Hold`]: the lines under a [`HoldId`] that is new
//! for every `reserve`, so a release names the very hold it means and can never free one
//! placed after it looked.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::order::AllocatedLine;

/// Most lines one atomic write of a reservation holds, in every adapter. A DynamoDB
/// transaction takes at most 100 items: one is the hold's own record, one the check that
/// the hold is still in place (for every part after the first), and the rest are two per
/// line: its stock item and its stock ledger entry (`ledger`). A larger reservation is
/// written in parts of at most this many lines ([`Reservation::parts`]).
pub const MAX_LINES_PER_WRITE: usize = 49;

/// One hold of stock, new for every reservation an order makes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HoldId(String);

impl HoldId {
    /// A fresh, unique hold id: `hold_` and a ULID.
    pub fn generate() -> Self {
        Self(format!("hold_{}", ulid::Ulid::new()))
    }

    /// A hold id as a store kept it; any non-empty text (older stores wrote other forms).
    pub fn parse(raw: impl Into<String>) -> Result<Self, crate::ValidationError> {
        let raw = raw.into();
        if raw.is_empty() {
            return Err(crate::ValidationError::new("hold_id", "must not be empty"));
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HoldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an order holds in the store: the hold's id and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub hold_id: HoldId,
    pub reservation: Reservation,
}

/// The lines one order holds (or is about to hold), each (warehouse, owner, SKU) once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Vec<AllocatedLine>", into = "Vec<AllocatedLine>")]
pub struct Reservation {
    lines: Vec<AllocatedLine>,
}

impl Reservation {
    /// Merges lines naming the same stock (warehouse, owner, SKU), drops empty ones and
    /// sorts them.
    pub fn new(lines: impl IntoIterator<Item = AllocatedLine>) -> Self {
        type Stock = (crate::WarehouseId, crate::MerchantId, crate::Sku);
        let mut merged: std::collections::BTreeMap<Stock, u32> = Default::default();
        for line in lines {
            let units = merged.entry((line.warehouse, line.owner, line.sku)).or_insert(0);
            *units = units.saturating_add(line.quantity);
        }
        let lines = merged
            .into_iter()
            .filter(|(_, quantity)| *quantity > 0)
            .map(|((warehouse, owner, sku), quantity)| AllocatedLine { warehouse, owner, sku, quantity, transfer_price: None })
            .collect();
        Self { lines }
    }

    /// The lines, sorted by warehouse, owner, then SKU.
    pub fn lines(&self) -> &[AllocatedLine] {
        &self.lines
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The lines in parts of at most [`MAX_LINES_PER_WRITE`], in order: what one atomic
    /// write each holds. A reservation that fits one write is one part.
    pub fn parts(&self) -> impl Iterator<Item = &[AllocatedLine]> {
        self.lines.chunks(MAX_LINES_PER_WRITE)
    }

    /// Units over every line.
    pub fn units(&self) -> u64 {
        self.lines.iter().map(|l| u64::from(l.quantity)).sum()
    }
}

impl From<Vec<AllocatedLine>> for Reservation {
    fn from(lines: Vec<AllocatedLine>) -> Self {
        Self::new(lines)
    }
}

impl From<Reservation> for Vec<AllocatedLine> {
    fn from(reservation: Reservation) -> Self {
        reservation.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MerchantId, Sku, WarehouseId};

    fn line(w: &str, sku: &str, quantity: u32) -> AllocatedLine {
        owned_line(w, "m-1", sku, quantity)
    }

    fn owned_line(w: &str, owner: &str, sku: &str, quantity: u32) -> AllocatedLine {
        AllocatedLine {
            warehouse: WarehouseId::parse(w).unwrap(),
            owner: MerchantId::parse(owner).unwrap(),
            sku: Sku::parse(sku).unwrap(),
            quantity,
            transfer_price: None,
        }
    }

    #[test]
    fn a_reservation_names_each_warehouse_owner_and_sku_once() {
        let r = Reservation::new([line("w2", "A", 1), line("w1", "B", 2), line("w2", "A", 3), line("w1", "C", 0)]);
        assert_eq!(r.lines(), [line("w1", "B", 2), line("w2", "A", 4)]);
        assert_eq!(r.units(), 6);
        let two_owners = Reservation::new([owned_line("w1", "m-2", "A", 1), line("w1", "A", 2), owned_line("w1", "m-2", "A", 1)]);
        assert_eq!(two_owners.lines(), [line("w1", "A", 2), owned_line("w1", "m-2", "A", 2)], "one line per owner's stock");
    }

    #[test]
    fn a_reservation_is_written_in_parts_of_at_most_one_write() {
        let skus: Vec<String> = (0..150).map(|i| format!("SKU-{i:03}")).collect();
        let r = Reservation::new(skus.iter().map(|sku| line("w1", sku, 1)));
        let sizes: Vec<usize> = r.parts().map(<[AllocatedLine]>::len).collect();
        assert!(sizes.iter().all(|&n| n <= MAX_LINES_PER_WRITE) && sizes.len() == 150usize.div_ceil(MAX_LINES_PER_WRITE));
        assert_eq!(sizes.iter().sum::<usize>(), 150);
        assert!(sizes[..sizes.len() - 1].iter().all(|&n| n == MAX_LINES_PER_WRITE), "full parts first: {sizes:?}");
        assert_eq!(r.parts().flatten().cloned().collect::<Vec<_>>(), r.lines());
        assert_eq!(Reservation::new([line("w1", "A", 1)]).parts().count(), 1);
        assert_eq!(Reservation::default().parts().count(), 0);
    }

    #[test]
    fn hold_ids_are_fresh_and_never_empty() {
        assert_ne!(HoldId::generate(), HoldId::generate());
        assert!(HoldId::parse("").is_err());
        assert_eq!(HoldId::parse("h-1").unwrap().as_str(), "h-1");
    }

    #[test]
    fn a_reservation_serialises_as_its_lines() {
        let r = Reservation::new([line("w1", "A", 2)]);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"[{"warehouse":"w1","merchant_id":"m-1","sku":"A","quantity":2}]"#);
        let back: Reservation = serde_json::from_str(
            r#"[{"warehouse":"w1","merchant_id":"m-1","sku":"A","quantity":1},{"warehouse":"w1","merchant_id":"m-1","sku":"A","quantity":1}]"#,
        )
        .unwrap();
        assert_eq!(back, r);
    }
}
