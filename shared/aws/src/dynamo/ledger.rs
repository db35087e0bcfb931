//! The stock ledger on DynamoDB: one item per entry, `LEDGER#<sku>` / `<entry id>` (`led_`
//! and a ULID, so a SKU's entries sort by time), put in the same `TransactWriteItems` as the
//! stock change it records. Also the reconciliation's reads: every stock item and every open
//! hold, by `Scan`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use chrono::{DateTime, Utc};
use oms_domain::ledger::{self, HoldKind, HoldRef, LedgerEntry, LedgerKind, LedgerLine, LedgerPage, OpenHold, StockFigures};
use oms_domain::ports::StoreError;
use oms_domain::{MerchantId, Sku, WarehouseId};
use serde::{Deserialize, Serialize};

use super::items::{ReservationItem, ReservationPartItem};
use super::{from_item, s, to_item, DynamoStore, Item, Key};
use crate::error::sdk_error;

/// The partition of one SKU's ledger.
pub(crate) fn ledger_partition(sku: &Sku) -> String {
    format!("LEDGER#{sku}")
}

/// One ledger entry as an item.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LedgerItem {
    pk: String,
    sk: String,
    sku: String,
    warehouse: String,
    merchant_id: String,
    kind: String,
    delta_on_hand: i64,
    delta_held: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hold_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hold_id: Option<String>,
    reason: String,
    at: String,
}

impl LedgerItem {
    fn of(entry: &LedgerEntry) -> Self {
        Self {
            pk: ledger_partition(&entry.sku),
            sk: entry.entry_id.clone(),
            sku: entry.sku.to_string(),
            warehouse: entry.warehouse.to_string(),
            merchant_id: entry.owner.to_string(),
            kind: entry.kind.as_str().to_owned(),
            delta_on_hand: entry.delta_on_hand,
            delta_held: entry.delta_held,
            hold_kind: entry.hold.as_ref().map(|h| h.kind.as_str().to_owned()),
            hold_id: entry.hold.as_ref().map(|h| h.id.clone()),
            reason: entry.reason.clone(),
            at: entry.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        }
    }

    fn entry(self) -> Result<LedgerEntry, String> {
        let hold = match (self.hold_kind, self.hold_id) {
            (Some(kind), Some(id)) => Some(HoldRef { kind: HoldKind::parse(&kind).map_err(|e| e.to_string())?, id }),
            _ => None,
        };
        Ok(LedgerEntry {
            entry_id: self.sk,
            sku: Sku::parse(self.sku).map_err(|e| format!("sku: {e}"))?,
            warehouse: WarehouseId::parse(self.warehouse).map_err(|e| format!("warehouse: {e}"))?,
            owner: MerchantId::parse(self.merchant_id).map_err(|e| format!("merchant_id: {e}"))?,
            kind: LedgerKind::parse(&self.kind).map_err(|e| e.to_string())?,
            delta_on_hand: self.delta_on_hand,
            delta_held: self.delta_held,
            hold,
            reason: self.reason,
            at: DateTime::parse_from_rfc3339(&self.at).map_err(|e| format!("at: {e}"))?.with_timezone(&Utc),
        })
    }
}

/// A stock item's figures as stored, unchecked (`set_aside` absent: 0).
#[derive(Debug, Clone, Deserialize)]
struct FiguresItem {
    warehouse: String,
    merchant_id: String,
    sku: String,
    on_hand: i64,
    reserved: i64,
    available: i64,
    #[serde(default)]
    set_aside: i64,
}

impl DynamoStore {
    /// The transaction item that appends `line` to its SKU's ledger (`put_new` of a fresh
    /// entry id): what every stock-changing transaction adds per line (a shipment: one per
    /// line of `LedgerLine::ship`). Answers the entry as it will be stored.
    pub(super) fn ledger_put(&self, line: &LedgerLine) -> Result<(TransactWriteItem, LedgerEntry), StoreError> {
        let entry = line.clone().stamp(ledger::new_entry_id(), Utc::now());
        let what = format!("a ledger entry of {}", entry.sku);
        let item = to_item(&LedgerItem::of(&entry), &what)?;
        Ok((self.put_new(item, &what)?, entry))
    }

    /// `ledger_put` without the entry.
    pub(super) fn ledger_item(&self, line: &LedgerLine) -> Result<TransactWriteItem, StoreError> {
        Ok(self.ledger_put(line)?.0)
    }

    /// Up to `limit` entries of the SKU's ledger after the entry `after` (of `owner`'s stock
    /// only when given: a `FilterExpression`, so pages are followed until the page is full),
    /// oldest first, strongly consistent.
    pub(super) async fn ledger_entries(
        &self,
        sku: &Sku,
        owner: Option<&MerchantId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<LedgerPage, StoreError> {
        let what = format!("the ledger of {sku}");
        let mut values =
            HashMap::from([(":pk".to_owned(), s(ledger_partition(sku))), (":after".to_owned(), s(after.unwrap_or("led_")))]);
        if let Some(owner) = owner {
            values.insert(":owner".to_owned(), s(owner.as_str()));
        }
        let want = limit.saturating_add(1);
        let mut entries: Vec<LedgerEntry> = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk > :after")
                .set_expression_attribute_values(Some(values.clone()))
                .consistent_read(true)
                .limit(i32::try_from(want).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            if owner.is_some() {
                query = query.filter_expression("merchant_id = :owner");
            }
            let output = query.send().await.map_err(|e| sdk_error(format!("Failed to query {what}"), e))?;
            for item in output.items.unwrap_or_default() {
                let stored: LedgerItem = from_item(item, &what)?;
                let entry =
                    stored.entry().map_err(|e| StoreError::msg(format!("Failed to read {what}: a corrupt entry ({e})")))?;
                entries.push(entry);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() && entries.len() < want => start = Some(key),
                _ => break,
            }
        }
        let more = entries.len() > limit;
        entries.truncate(limit);
        let next = if more { entries.last().map(|e| e.entry_id.clone()) } else { None };
        Ok(LedgerPage { entries, next })
    }

    /// The entries of one stock made after `since` (the ledger of its SKU from
    /// `entry_id_floor(since)`, filtered), oldest first.
    pub(super) async fn ledger_since(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        since: DateTime<Utc>,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        let floor = ledger::entry_id_floor(since);
        let mut found = Vec::new();
        let mut after = Some(floor);
        loop {
            let page = self.ledger_entries(sku, Some(owner), after.as_deref(), oms_domain::ports::MAX_PAGE_SIZE).await?;
            found.extend(page.entries.into_iter().filter(|e| &e.warehouse == warehouse && e.at > since));
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(found),
            }
        }
    }

    /// Every item whose `pk` starts with `prefix`, by `Scan` (the reconciliation's reads).
    async fn scan_prefix(&self, prefix: &str, what: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(pk, :prefix)")
                .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error(format!("Failed to scan {what}"), e))?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    pub(super) async fn scan_stock_figures(&self) -> Result<Vec<StockFigures>, StoreError> {
        let what = "every stock item";
        let items = self.scan_prefix("STOCK#", what).await?;
        let mut figures = Vec::with_capacity(items.len());
        for item in items {
            let f: FiguresItem = from_item(item, what)?;
            let corrupt =
                |field: &str, e: oms_domain::ValidationError| StoreError::msg(format!("Failed to read {what}: {field}: {e}"));
            figures.push(StockFigures {
                warehouse: WarehouseId::parse(f.warehouse).map_err(|e| corrupt("warehouse", e))?,
                owner: MerchantId::parse(f.merchant_id).map_err(|e| corrupt("merchant_id", e))?,
                sku: Sku::parse(f.sku).map_err(|e| corrupt("sku", e))?,
                on_hand: f.on_hand,
                held: f.reserved,
                available: f.available,
                set_aside: f.set_aside,
            });
        }
        Ok(figures)
    }

    pub(super) async fn scan_open_holds(&self) -> Result<Vec<OpenHold>, StoreError> {
        let what = "every reservation";
        let items = self.scan_prefix("RESERVATION#", what).await?;
        let mut heads: HashMap<String, ReservationItem> = HashMap::new();
        let mut parts: Vec<ReservationPartItem> = Vec::new();
        for item in items {
            let is_head = matches!(item.get("sk"), Some(AttributeValue::S(sk)) if sk == Key::RESERVATION);
            if is_head {
                let head: ReservationItem = from_item(item, what)?;
                heads.insert(head.order_id.clone(), head);
            } else {
                parts.push(from_item(item, what)?);
            }
        }
        let mut holds = Vec::new();
        let corrupt = |e| StoreError::new(format!("Failed to read {what}"), e);
        for head in heads.values() {
            let legacy = self.legacy_owners(&head.lines).await?;
            for line in head.allocated_lines(&legacy).map_err(corrupt)? {
                holds.push(open_hold(&head.order_id, line));
            }
        }
        for part in parts {
            // A part is the hold's only while its head names the same hold.
            let Some(head) = heads.get(&part.order_id).filter(|head| head.hold_id == part.hold_id) else { continue };
            let legacy = self.legacy_owners(&part.lines).await?;
            for line in part.allocated_lines(&legacy).map_err(corrupt)? {
                holds.push(open_hold(&head.order_id, line));
            }
        }
        Ok(holds)
    }
}

fn open_hold(order_id: &str, line: oms_domain::order::AllocatedLine) -> OpenHold {
    OpenHold {
        hold: HoldRef { kind: HoldKind::Order, id: order_id.to_owned() },
        warehouse: line.warehouse,
        owner: line.owner,
        sku: line.sku,
        quantity: line.quantity,
    }
}
