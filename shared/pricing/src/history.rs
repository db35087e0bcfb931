//! The pricing history: one row per purchased line, read from CSV or from the stores'
//! sales history (every reserved order, `oms_domain::sales`).
//!
//! The CSV columns are the contract's: `customer_id,sku,quantity,unit_price,purchased_at,
//! province,city,address`, and optionally `merchant_id` (whose model a row trains).
//! `purchased_at` is RFC 3339; `unit_price` is a decimal.

use std::io::Read;

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive as _;
use rust_decimal::Decimal;
use serde::Deserialize;

/// One purchased line: who paid what for how many of which SKU, when and where.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Purchase {
    pub customer_id: String,
    pub sku: String,
    pub quantity: u32,
    pub unit_price: Decimal,
    pub purchased_at: DateTime<Utc>,
    pub province: String,
    pub city: String,
    /// Carried for the record; the city is the finest place the features use.
    #[serde(default)]
    pub address: String,
    /// The merchant that sold it, when the source says (the optional CSV column, the
    /// sales history always): each merchant's rows train that merchant's model only.
    #[serde(default)]
    pub merchant_id: Option<String>,
    /// The ISO 4217 currency of `unit_price`, when the source says (the optional CSV
    /// column, the sales history always): a model quotes in its history's currency.
    #[serde(default)]
    pub currency: Option<String>,
}

impl Purchase {
    /// The unit price as the models see it (they regress on its logarithm).
    pub fn price(&self) -> f64 {
        self.unit_price.to_f64().unwrap_or(f64::NAN)
    }
}

/// The purchased lines of the stores' sales: one row per line of each sale.
pub fn from_sales(sales: &[oms_domain::sales::Sale]) -> Vec<Purchase> {
    sales
        .iter()
        .flat_map(|sale| {
            sale.lines.iter().filter(|line| line.quantity > 0 && line.unit_price > Decimal::ZERO).map(move |line| Purchase {
                customer_id: sale.customer_id.to_string(),
                sku: line.sku.to_string(),
                quantity: line.quantity,
                unit_price: line.unit_price,
                purchased_at: sale.placed_at,
                province: sale.province.clone(),
                city: sale.city.clone(),
                address: sale.address.clone(),
                merchant_id: Some(sale.merchant_id.to_string()),
                currency: Some(sale.currency.code().to_owned()),
            })
        })
        .collect()
}

/// The rows of each merchant, by merchant: `merchant` when given (every row is its),
/// else each row's own `merchant_id`, else [`DEFAULT_MERCHANT`](crate::DEFAULT_MERCHANT).
pub fn by_merchant(rows: Vec<Purchase>, merchant: Option<&str>) -> std::collections::BTreeMap<String, Vec<Purchase>> {
    let mut grouped: std::collections::BTreeMap<String, Vec<Purchase>> = std::collections::BTreeMap::new();
    for row in rows {
        let key = merchant
            .map(str::to_owned)
            .or_else(|| row.merchant_id.clone().filter(|m| !m.trim().is_empty()))
            .unwrap_or_else(|| crate::DEFAULT_MERCHANT.to_owned());
        grouped.entry(key).or_default().push(row);
    }
    grouped
}

/// A row the history refuses, with its line in the file.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("line {line}: {source}")]
    Malformed { line: u64, source: csv::Error },
    #[error("line {line}: {reason}")]
    Invalid { line: u64, reason: &'static str },
}

/// Reads every row of a CSV history; the first malformed or invalid row refuses the
/// whole file (a model trained on half a file would be quietly wrong).
///
/// A row is invalid when its quantity is zero or its unit price is not positive.
pub fn read_csv(reader: impl Read) -> Result<Vec<Purchase>, HistoryError> {
    let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader);
    let mut rows = Vec::new();
    for (index, record) in csv.deserialize::<Purchase>().enumerate() {
        // Line 1 is the header.
        let line = index as u64 + 2;
        let row = record.map_err(|source| HistoryError::Malformed { line, source })?;
        if row.quantity == 0 {
            return Err(HistoryError::Invalid { line, reason: "quantity must be at least 1" });
        }
        if row.unit_price <= Decimal::ZERO {
            return Err(HistoryError::Invalid { line, reason: "unit_price must be positive" });
        }
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "customer_id,sku,quantity,unit_price,purchased_at,province,city,address\n";

    #[test]
    fn reads_the_contract_columns() {
        let csv = format!("{HEADER}c-1,SKU-1,2,19.90,2026-11-20T10:00:00Z,Zhejiang,Hangzhou,1 West Lake Rd\n");
        let rows = read_csv(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].unit_price, Decimal::new(1990, 2));
        assert_eq!(rows[0].city, "Hangzhou");
        assert_eq!(rows[0].merchant_id, None);
    }

    #[test]
    fn the_merchant_column_splits_the_rows_and_a_named_merchant_takes_them_all() {
        let csv = "merchant_id,customer_id,sku,quantity,unit_price,purchased_at,province,city,address\n\
                   m-1,c-1,SKU-1,2,19.90,2026-11-20T10:00:00Z,Zhejiang,Hangzhou,\n\
                   m-2,c-1,SKU-1,2,29.90,2026-11-20T10:00:00Z,Zhejiang,Hangzhou,\n\
                   ,c-2,SKU-1,1,9.90,2026-11-20T10:00:00Z,Zhejiang,Hangzhou,\n";
        let rows = read_csv(csv.as_bytes()).unwrap();
        let grouped = by_merchant(rows.clone(), None);
        let sizes: Vec<(&str, usize)> = grouped.iter().map(|(m, rows)| (m.as_str(), rows.len())).collect();
        assert_eq!(sizes, vec![("default", 1), ("m-1", 1), ("m-2", 1)]);
        assert_eq!(by_merchant(rows, Some("m-9"))["m-9"].len(), 3);
    }

    #[test]
    fn a_zero_price_refuses_the_file_naming_its_line() {
        let csv = format!("{HEADER}c-1,SKU-1,2,19.90,2026-11-20T10:00:00Z,Zhejiang,Hangzhou,\nc-1,SKU-1,2,0,2026-11-20T10:00:00Z,Zhejiang,Hangzhou,\n");
        let err = read_csv(csv.as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("line 3:"), "{err}");
    }
}
