//! What one order holds in stock: so many units of a SKU in each warehouse.
//!
//! A [`Reservation`] is valid by construction: each (warehouse, SKU) appears once, every
//! quantity is above zero, and the lines are sorted. The planner builds it; the stores take
//! it as it is, so no adapter repeats these checks.

use serde::{Deserialize, Serialize};

use crate::order::AllocatedLine;

/// The lines one order holds (or is about to hold), each (warehouse, SKU) once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Vec<AllocatedLine>", into = "Vec<AllocatedLine>")]
pub struct Reservation {
    lines: Vec<AllocatedLine>,
}

impl Reservation {
    /// Merges lines naming the same (warehouse, SKU), drops empty ones and sorts them.
    pub fn new(lines: impl IntoIterator<Item = AllocatedLine>) -> Self {
        let mut merged: std::collections::BTreeMap<(crate::WarehouseId, crate::Sku), u32> = Default::default();
        for line in lines {
            let units = merged.entry((line.warehouse, line.sku)).or_insert(0);
            *units = units.saturating_add(line.quantity);
        }
        let lines = merged
            .into_iter()
            .filter(|(_, quantity)| *quantity > 0)
            .map(|((warehouse, sku), quantity)| AllocatedLine { warehouse, sku, quantity })
            .collect();
        Self { lines }
    }

    /// The lines, sorted by warehouse then SKU.
    pub fn lines(&self) -> &[AllocatedLine] {
        &self.lines
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
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
    use crate::{Sku, WarehouseId};

    fn line(w: &str, sku: &str, quantity: u32) -> AllocatedLine {
        AllocatedLine { warehouse: WarehouseId::parse(w).unwrap(), sku: Sku::parse(sku).unwrap(), quantity }
    }

    #[test]
    fn a_reservation_names_each_warehouse_and_sku_once() {
        let r = Reservation::new([line("w2", "A", 1), line("w1", "B", 2), line("w2", "A", 3), line("w1", "C", 0)]);
        assert_eq!(r.lines(), [line("w1", "B", 2), line("w2", "A", 4)]);
        assert_eq!(r.units(), 6);
    }

    #[test]
    fn a_reservation_serialises_as_its_lines() {
        let r = Reservation::new([line("w1", "A", 2)]);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"[{"warehouse":"w1","sku":"A","quantity":2}]"#);
        let back: Reservation =
            serde_json::from_str(r#"[{"warehouse":"w1","sku":"A","quantity":1},{"warehouse":"w1","sku":"A","quantity":1}]"#)
                .unwrap();
        assert_eq!(back, r);
    }
}
