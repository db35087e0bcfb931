//! Bulk import: orders from a CSV file, one line of an order per row.
//!
//! ```csv
//! external_id,merchant_id,placed_at,currency,customer_id,email,phone,name,line1,line2,city,province,postal_code,country,sku,quantity,unit_price
//! IMP-1,m-1,2026-11-20T10:00:00Z,CNY,c-1,a@example.com,+8613800000000,Li Lei,1 West Lake Rd,,Hangzhou,Zhejiang,310000,CN,SKU-1,2,19.90
//! IMP-1,m-1,2026-11-20T10:00:00Z,CNY,c-1,a@example.com,+8613800000000,Li Lei,1 West Lake Rd,,Hangzhou,Zhejiang,310000,CN,SKU-2,1,5.00
//! ```
//!
//! - Consecutive rows with the same `external_id` are the lines of one order. The order's own
//!   columns are read from its first row; later rows may repeat them or leave them empty, but
//!   may not contradict them. An `external_id` whose rows are not consecutive is refused in
//!   every place it appears (importing either part would drop lines); so is an order followed by
//!   a row that fills only line columns under another `external_id` (a mistyped id).
//! - Columns may come in any order and unknown columns are ignored. `line2`, `email`, `phone`,
//!   `name`, `province`, `postal_code` and `customer_id` may be left out of the header; an empty
//!   `customer_id` makes a guest, as every channel does ([`customer_id_or_guest`]).
//! - `placed_at` is RFC 3339 (`2026-11-20T10:00:00Z`), or `2026-11-20 10:00:00` taken as UTC.
//! - An optional `deliver_by` column (left out, or empty) is the delivery date promised to
//!   the buyer, `YYYY-MM-DD`, from the day the order was placed to a year after
//!   ([`parse_deliver_by`]); choosing each shipment's carrier honours it.
//! - Every line goes through the same checks as every channel's ([`order_line`],
//!   [`Customer::parse`], [`Address::parse`]).
//! - The result has one entry per order, in file order. An error's field is `row N: column`,
//!   where row 1 is the header, as a spreadsheet numbers rows.

use std::collections::HashMap;
use std::io::Read;

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::{customer_id_or_guest, order_line, order_lines, order_number, renamed};
use oms_domain::money::Currency;
use oms_domain::order::{parse_deliver_by, Address, AddressParts, Channel, Customer, NewOrder};
use oms_domain::{ExternalId, MerchantId, ValidationError};

/// Every column the importer reads, in the documented order.
pub const COLUMNS: [&str; 18] = [
    "external_id",
    "merchant_id",
    "placed_at",
    "currency",
    "customer_id",
    "email",
    "phone",
    "name",
    "line1",
    "line2",
    "city",
    "province",
    "postal_code",
    "country",
    "deliver_by",
    "sku",
    "quantity",
    "unit_price",
];

/// The columns a file must have (the others may be left out).
pub const REQUIRED_COLUMNS: [&str; 10] =
    ["external_id", "merchant_id", "placed_at", "currency", "line1", "city", "country", "sku", "quantity", "unit_price"];

/// The columns that belong to the order rather than to one of its lines: all but the
/// last three (sku, quantity, unit_price).
const ORDER_COLUMNS: &[&str] = COLUMNS.split_at(COLUMNS.len() - 3).0;

/// One data row: its spreadsheet row number and its non-empty cells by column.
#[derive(Debug)]
struct Row {
    number: usize,
    cells: HashMap<&'static str, String>,
    /// Why the row itself could not be read, if it could not.
    broken: Option<ValidationError>,
}

impl Row {
    fn get(&self, column: &str) -> Option<&str> {
        self.cells.get(column).map(String::as_str)
    }

    fn error(&self, field: &str, message: impl Into<String>) -> ValidationError {
        ValidationError::new(at_row(self.number, field), message)
    }

    /// The same error, its field now `row N: field`.
    fn locate(&self, err: ValidationError) -> ValidationError {
        ValidationError { field: at_row(self.number, &err.field), ..err }
    }
}

fn at_row(number: usize, field: &str) -> String {
    if field.is_empty() {
        format!("row {number}")
    } else {
        format!("row {number}: {field}")
    }
}

/// Parses a CSV file of orders: one result per order, in file order.
pub fn parse_csv(reader: impl Read) -> Vec<Result<NewOrder, ValidationError>> {
    let mut csv = csv::ReaderBuilder::new().has_headers(true).flexible(true).trim(csv::Trim::All).from_reader(reader);
    let columns = match header(&mut csv) {
        Ok(columns) => columns,
        Err(err) => return vec![Err(err)],
    };
    let rows = read_rows(&mut csv, &columns);
    let groups = group(rows);

    // An external id in two places would import as one order missing the other's lines.
    let mut places: HashMap<&str, Vec<usize>> = HashMap::new();
    for g in &groups {
        if let Some(key) = g.first().and_then(|r| r.get("external_id")) {
            places.entry(key).or_default().push(g[0].number);
        }
    }
    groups
        .iter()
        .enumerate()
        .map(|(i, rows)| {
            let first = &rows[0];
            // A row with only line columns cannot be an order of its own: it is a line of the
            // order above it under a mistyped external id, so that order is short of it.
            if let Some(next) = groups.get(i + 1).map(|g| &g[0]).filter(|next| is_only_a_line(next)) {
                return Err(first.error(
                    "external_id",
                    format!(
                        "row {} below looks like a line of this order (no order columns) but names another external_id",
                        next.number
                    ),
                ));
            }
            if let Some(starts) = first.get("external_id").and_then(|key| places.get(key)).filter(|s| s.len() > 1) {
                let list: Vec<String> = starts.iter().map(usize::to_string).collect();
                return Err(first.error(
                    "external_id",
                    format!(
                        "the rows of this order are not together (it starts again at rows {}); keep them consecutive",
                        list.join(", ")
                    ),
                ));
            }
            order(rows)
        })
        .collect()
}

/// True when a row fills none of the order's columns but its external id.
fn is_only_a_line(row: &Row) -> bool {
    ORDER_COLUMNS.iter().filter(|c| **c != "external_id").all(|c| row.get(c).is_none())
}

/// Maps our column names to their positions in the file's header.
fn header<R: Read>(csv: &mut csv::Reader<R>) -> Result<HashMap<&'static str, usize>, ValidationError> {
    let header = csv.byte_headers().map_err(|e| ValidationError::new("header", format!("cannot be read: {e}")))?;
    let mut columns = HashMap::new();
    for (i, raw) in header.iter().enumerate() {
        let name = String::from_utf8_lossy(raw);
        let name = name.trim_start_matches('\u{feff}').trim().to_ascii_lowercase();
        if let Some(column) = COLUMNS.iter().find(|c| **c == name) {
            columns.entry(*column).or_insert(i);
        }
    }
    let missing: Vec<&str> = REQUIRED_COLUMNS.iter().copied().filter(|c| !columns.contains_key(c)).collect();
    if !missing.is_empty() {
        return Err(ValidationError::new("header", format!("missing column(s): {}", missing.join(", "))));
    }
    Ok(columns)
}

fn read_rows<R: Read>(csv: &mut csv::Reader<R>, columns: &HashMap<&'static str, usize>) -> Vec<Row> {
    let width = csv.byte_headers().map(|h| h.len()).unwrap_or_default();
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut number = 1;
    loop {
        number += 1;
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(err) => {
                // The file cannot be read past here, so the order being read may be short of lines.
                let broken =
                    Some(ValidationError::new(at_row(number, ""), format!("the file cannot be read from here on: {err}")));
                rows.push(Row { number, cells: HashMap::new(), broken });
                break;
            }
        }
        let mut row = Row { number, cells: HashMap::new(), broken: None };
        // In the documented column order, so a row with several bad cells names the same one every time.
        for column in COLUMNS {
            let Some(raw) = columns.get(column).and_then(|&i| record.get(i)) else { continue };
            match std::str::from_utf8(raw) {
                Ok(text) if !text.is_empty() => {
                    row.cells.insert(column, text.to_owned());
                }
                Ok(_) => {}
                Err(_) => {
                    row.broken.get_or_insert_with(|| row_error(number, column, "is not UTF-8 text"));
                    // Still group the row by what its external id looks like.
                    row.cells.insert(column, String::from_utf8_lossy(raw).into_owned());
                }
            }
        }
        if record.len() != width {
            row.broken.get_or_insert_with(|| {
                ValidationError::new(at_row(number, ""), format!("has {} cells but the header has {width}", record.len()))
            });
        }
        rows.push(row);
    }
    rows
}

fn row_error(number: usize, field: &str, message: &str) -> ValidationError {
    ValidationError::new(at_row(number, field), message)
}

/// Consecutive rows with one external id; a row without one joins the order being read
/// (and fails it), since it may be one of that order's lines.
fn group(rows: Vec<Row>) -> Vec<Vec<Row>> {
    let mut groups: Vec<Vec<Row>> = Vec::new();
    for row in rows {
        let key = row.get("external_id").map(str::to_owned);
        match groups.last_mut() {
            Some(current) if key.is_none() || current[0].get("external_id") == key.as_deref() => current.push(row),
            _ => groups.push(vec![row]),
        }
    }
    groups
}

fn order(rows: &[Row]) -> Result<NewOrder, ValidationError> {
    if let Some(broken) = rows.iter().find_map(|r| r.broken.clone()) {
        return Err(broken);
    }
    let first = &rows[0];
    if let Some(stray) = rows.iter().find(|r| r.get("external_id").is_none()) {
        return Err(stray.error("external_id", "is required"));
    }
    for row in &rows[1..] {
        for column in ORDER_COLUMNS {
            if let (Some(here), Some(there)) = (row.get(column), first.get(column)) {
                if here != there {
                    return Err(
                        row.error(column, format!("{here:?} differs from {there:?} in row {} of the same order", first.number))
                    );
                }
            }
        }
    }
    let required = |column: &str| first.get(column).ok_or_else(|| first.error(column, "is required"));
    let currency = Currency::parse(required("currency")?).map_err(|e| first.locate(e.within("currency")))?;
    let external_id = ExternalId::parse(required("external_id")?).map_err(|e| first.locate(e.within("external_id")))?;
    let merchant_id = MerchantId::parse(required("merchant_id")?).map_err(|e| first.locate(e.within("merchant_id")))?;
    let placed_at = placed_at(required("placed_at")?).map_err(|e| first.locate(e.within("placed_at")))?;
    let lines = order_lines(rows, "lines", |row| {
        let quantity = match row.get("quantity") {
            Some(q) => q.parse::<i64>().map_err(|_| ValidationError::new("quantity", format!("{q:?} is not a whole number")))?,
            None => return Err(ValidationError::new("quantity", "is required")),
        };
        let unit_price = row.get("unit_price").ok_or_else(|| ValidationError::new("unit_price", "is required"))?;
        order_line(row.get("sku"), quantity, unit_price, currency)
    })
    .map_err(|e| locate_line(rows, e))?;
    let id = customer_id_or_guest(first.get("customer_id"), first.get("email"), first.get("phone"))
        .ok_or_else(|| first.error("customer_id", "is empty and there is no email or phone to identify the buyer"))?;
    let customer = Customer::parse(&id, first.get("email"), first.get("phone"), first.get("name"))
        .map_err(|e| first.locate(renamed(e, &[("id", "customer_id")])))?;
    let shipping_address = Address::parse(AddressParts {
        name: first.get("name"),
        line1: first.get("line1"),
        line2: first.get("line2"),
        city: first.get("city"),
        province: first.get("province"),
        postal_code: first.get("postal_code"),
        country: first.get("country"),
    })
    .map_err(|e| first.locate(e))?;
    let deliver_by = first.get("deliver_by").map(|d| parse_deliver_by(d, placed_at)).transpose().map_err(|e| first.locate(e))?;
    Ok(NewOrder {
        channel: Channel::Import,
        order_number: order_number(None, &external_id)?,
        external_id,
        merchant_id,
        placed_at,
        currency,
        customer,
        shipping_address,
        lines,
        charges: Default::default(),
        channel_updated_at: placed_at,
        cancelled_at: None,
        paid: true,
        deliver_by,
    })
}

/// `lines[3].quantity` from the shared helper becomes `row N: quantity`.
fn locate_line(rows: &[Row], err: ValidationError) -> ValidationError {
    let Some(rest) = err.field.strip_prefix("lines[") else {
        // The order as a whole (too many lines): name its first row.
        return rows[0].locate(ValidationError { field: "external_id".to_owned(), ..err });
    };
    let (index, field) = rest.split_once(']').unwrap_or((rest, ""));
    let field = field.trim_start_matches('.').to_owned();
    match index.parse::<usize>().ok().and_then(|i| rows.get(i)) {
        Some(row) => row.locate(ValidationError { field, ..err }),
        None => err,
    }
}

fn placed_at(raw: &str) -> Result<DateTime<Utc>, ValidationError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S").map(|t| t.and_utc()))
        .map_err(|_| ValidationError::new("", format!("{raw:?} is not a date and time such as 2026-11-20T10:00:00Z")))
}
