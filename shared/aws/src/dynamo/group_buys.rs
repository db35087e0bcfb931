//! `GroupBuyStore` on DynamoDB: the offer item (the offer beside the attributes the
//! conditions read: `state`, `joined`, `converted`, `capacity`, `min_group`, `deadline`,
//! and once settled `settled_at`, `units_returned`); per join an item under (offer,
//! customer) and one under (offer, idempotency key), and a `PENDING#<join id>` item in the
//! offer's partition until its order is made; and one item per unsettled offer in the
//! `DUE_GROUP_BUYS` partition sorted by deadline. See `docs/dynamodb.md`, "Group buys".
//!
//! A join is one `TransactWriteItems`: the customer's and the key's items (`put_new`), the
//! pending item, and the offer updated on `joined = :read` (below its capacity, before its
//! deadline, not settled). A lost race on the offer reads it again: each lost race means
//! another join landed, so at most capacity + 1 tries decide it. A conversion is one
//! transaction too: the pending item deleted (`attribute_exists`: once), the offer's
//! `converted` grown (on its state filled or closed) and the order's items.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use oms_domain::flash_sale::IdempotencyKey;
use oms_domain::group_buy::{GroupBuy, GroupBuyId, GroupBuyState, GroupBuyStatus, Join, Settlement};
use oms_domain::ledger::LedgerLine;
use oms_domain::messages::Outgoing;
use oms_domain::order::Order;
use oms_domain::ports::{
    ConvertOutcome, CreateGroupBuyOutcome, GroupBuyStore, InventoryStore, JoinOutcome, SettleOutcome, StoreError,
};
use oms_domain::CustomerId;
use serde::{Deserialize, Serialize};

use super::inventory::{release_set_aside, set_aside_available};
use super::{from_item, index_time, n, s, to_item, unexplained, CancelReason, DynamoStore, Key, Transact};
use crate::error::{build_error, sdk_error};

/// The offer and its changing part.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OfferItem {
    pk: String,
    sk: String,
    offer: GroupBuy,
    state: GroupBuyState,
    joined: u32,
    converted: u32,
    capacity: u32,
    min_group: u32,
    deadline: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    settled_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    units_returned: Option<u32>,
}

/// A join, under the customer, under its key, or pending conversion.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JoinItem {
    pk: String,
    sk: String,
    join: Join,
}

/// An unsettled offer in the `DUE_GROUP_BUYS` partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DueItem {
    pk: String,
    sk: String,
    group_buy_id: String,
}

fn status(item: &OfferItem) -> GroupBuyStatus {
    let settled = item.settled_at.map(|at| Settlement { at, units_returned: item.units_returned.unwrap_or(0) });
    GroupBuyStatus { state: item.state, joined: item.joined, converted: item.converted, settled }
}

impl DynamoStore {
    async fn read_offer(&self, id: &GroupBuyId) -> Result<Option<OfferItem>, StoreError> {
        let what = format!("group buy {id}");
        match self.get(Key::group_buy(id), &what).await? {
            Some(item) => Ok(Some(from_item(item, &what)?)),
            None => Ok(None),
        }
    }

    fn join_item(&self, key: Key, join: &Join, what: &str) -> Result<TransactWriteItem, StoreError> {
        self.put_new(to_item(&JoinItem { pk: key.pk, sk: key.sk, join: join.clone() }, what)?, what)
    }

    fn due_delete(&self, offer: &GroupBuy, what: &str) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Key::due_group_buy(offer.terms.deadline, &offer.group_buy_id).into_map()))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

#[async_trait]
impl GroupBuyStore for DynamoStore {
    /// One `TransactWriteItems`: the offer item (`put_new`), its `DUE_GROUP_BUYS` item, the
    /// stock update `available - q, reserved + q, set_aside + q` on `available >= q` and
    /// its `set_aside` ledger entry. Cancelled by the stock update: `Insufficient`.
    async fn create_group_buy(&self, offer: &GroupBuy) -> Result<CreateGroupBuyOutcome, StoreError> {
        let what = format!("create group buy {}", offer.group_buy_id);
        let key = Key::group_buy(&offer.group_buy_id);
        let item = OfferItem {
            pk: key.pk,
            sk: key.sk,
            offer: offer.clone(),
            state: GroupBuyState::Open,
            joined: 0,
            converted: 0,
            capacity: offer.terms.capacity,
            min_group: offer.terms.min_group,
            deadline: index_time(offer.terms.deadline),
            settled_at: None,
            units_returned: None,
        };
        let due = Key::due_group_buy(offer.terms.deadline, &offer.group_buy_id);
        let due = to_item(&DueItem { pk: due.pk, sk: due.sk, group_buy_id: offer.group_buy_id.to_string() }, &what)?;
        let due = Put::builder()
            .table_name(&self.table)
            .set_item(Some(due))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        let line = offer.set_aside();
        let items = vec![
            self.put_new(to_item(&item, &what)?, &what)?,
            TransactWriteItem::builder().put(due).build(),
            set_aside_available(&self.table, &line, &format!("group buy {}", offer.group_buy_id))?,
            self.ledger_item(&LedgerLine::group_buy_set_aside(&offer.group_buy_id, &line))?,
        ];
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(CreateGroupBuyOutcome::Created),
            Transact::Cancelled(reasons) => reasons,
        };
        if !reasons.get(2).is_some_and(CancelReason::condition_failed) {
            return Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))));
        }
        let available = self
            .stock_of(&line.sku)
            .await?
            .into_iter()
            .find(|level| level.warehouse == line.warehouse && level.owner == line.owner)
            .map_or(0, |level| level.available);
        Ok(CreateGroupBuyOutcome::Insufficient { available })
    }

    /// A strongly consistent `GetItem GROUP_BUY#<id>` / `GROUP_BUY`.
    async fn get_group_buy(&self, id: &GroupBuyId) -> Result<Option<(GroupBuy, GroupBuyStatus)>, StoreError> {
        Ok(self.read_offer(id).await?.map(|item| {
            let status = status(&item);
            (item.offer, status)
        }))
    }

    /// Strongly consistent `GetItem`s of the key's item, then the customer's.
    async fn find_join(&self, id: &GroupBuyId, customer: &CustomerId, key: &IdempotencyKey) -> Result<Option<Join>, StoreError> {
        let what = format!("the join of group buy {id}");
        for key in [Key::group_buy_join_key(id, key), Key::group_buy_join(id, customer)] {
            if let Some(item) = self.get(key, &what).await? {
                let item: JoinItem = from_item(item, &what)?;
                return Ok(Some(item.join));
            }
        }
        Ok(None)
    }

    /// One `TransactWriteItems` per try: the customer's item and the key's item
    /// (`put_new`), the pending item, the offer on `joined = :read` and not settled.
    /// Cancelled by the first two: `Duplicate` (read back); by the offer: read it again.
    async fn join(&self, join: &Join, now: DateTime<Utc>) -> Result<JoinOutcome, StoreError> {
        let id = &join.group_buy_id;
        let what = format!("join group buy {id}");
        for _ in 0..=oms_domain::group_buy::MAX_CAPACITY + 1 {
            let offer = self.read_offer(id).await?.ok_or_else(|| StoreError::msg(format!("Failed to {what}: no such offer")))?;
            if let Some(first) = self.find_join(id, &join.customer_id, &join.idempotency_key).await? {
                return Ok(JoinOutcome::Duplicate(Box::new(first)));
            }
            if !offer.state.takes_joins() || offer.settled_at.is_some() || now >= offer.offer.terms.deadline {
                return Ok(JoinOutcome::NotOpen(offer.state));
            }
            if offer.joined >= offer.capacity {
                return Ok(JoinOutcome::Full);
            }
            let joined = offer.joined + 1;
            let state = if joined >= offer.min_group { GroupBuyState::Filled } else { offer.state };
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(Key::group_buy(id).into_map()))
                .update_expression("SET joined = :joined, #state = :state")
                .condition_expression("joined = :read AND attribute_not_exists(settled_at)")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":joined", n(joined))
                .expression_attribute_values(":read", n(offer.joined))
                .expression_attribute_values(":state", s(state.as_str()))
                .build()
                .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
            let items = vec![
                self.join_item(Key::group_buy_join(id, &join.customer_id), join, &what)?,
                self.join_item(Key::group_buy_join_key(id, &join.idempotency_key), join, &what)?,
                self.join_item(Key::group_buy_pending(id, &join.join_id), join, &what)?,
                TransactWriteItem::builder().update(update).build(),
            ];
            let reasons = match self.transact(items, &what).await? {
                Transact::Written => return Ok(JoinOutcome::Joined { state, joined }),
                Transact::Cancelled(reasons) => reasons,
            };
            let failed = |i: usize| reasons.get(i).is_some_and(CancelReason::condition_failed);
            if failed(0) || failed(1) {
                // Read back on the next turn.
                continue;
            }
            if !failed(3) {
                return Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))));
            }
        }
        Err(StoreError::msg(format!("Failed to {what}: the offer kept changing")))
    }

    /// A strongly consistent `Query` of `GROUP_BUY#<id>` for sort keys beginning `PENDING#`.
    async fn unconverted_joins(&self, id: &GroupBuyId, limit: usize) -> Result<Vec<Join>, StoreError> {
        let what = format!("the unconverted joins of group buy {id}");
        let key = Key::group_buy(id);
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(key.pk))
            .expression_attribute_values(":prefix", s("PENDING#"))
            .consistent_read(true)
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| sdk_error(format!("Failed to query {what}"), e))?;
        output.items.unwrap_or_default().into_iter().map(|item| Ok(from_item::<JoinItem>(item, &what)?.join)).collect()
    }

    /// One `TransactWriteItems`: the pending item deleted (`attribute_exists(pk)`), the
    /// offer's `converted + 1` on its state filled or closed, the order's items, and its
    /// plan held from the set-aside (`hold_set_aside_items`). Cancelled
    /// by the first: `AlreadyConverted`; by the second: `NotFilled`.
    async fn convert_join(&self, join: &Join, order: &Order, send: &[Outgoing]) -> Result<ConvertOutcome, StoreError> {
        let id = &join.group_buy_id;
        let what = format!("convert join {} of group buy {id}", join.join_id);
        let pending = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Key::group_buy_pending(id, &join.join_id).into_map()))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        let offer = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Key::group_buy(id).into_map()))
            .update_expression("SET converted = converted + :one")
            .condition_expression("#state IN (:filled, :closed)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":filled", s(GroupBuyState::Filled.as_str()))
            .expression_attribute_values(":closed", s(GroupBuyState::Closed.as_str()))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        let mut items =
            vec![TransactWriteItem::builder().delete(pending).build(), TransactWriteItem::builder().update(offer).build()];
        items.extend(self.new_order_items(order, send)?);
        // The order holds its units from the start: out of the offer's set-aside.
        if let Some(plan) = &order.allocation {
            let held = oms_domain::reservation::Reservation::new(plan.lines.iter().cloned());
            items.extend(self.hold_set_aside_items(&order.order_id, &held)?.1);
        }
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(ConvertOutcome::Converted),
            Transact::Cancelled(reasons) => reasons,
        };
        let failed = |i: usize| reasons.get(i).is_some_and(CancelReason::condition_failed);
        if failed(0) {
            return Ok(ConvertOutcome::AlreadyConverted);
        }
        if failed(1) {
            return Ok(ConvertOutcome::NotFilled);
        }
        Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))))
    }

    /// One `TransactWriteItems` per try: the offer on `joined = :joined AND converted =
    /// :converted` and not settled, moved to its final state and marked settled; its
    /// `DUE_GROUP_BUYS` item deleted; and, for units given back, the stock update
    /// `available + q, reserved - q, set_aside - q` on `set_aside >= q` with its `release`
    /// ledger entry. Cancelled by the offer: read again.
    async fn settle(&self, offer: &GroupBuy, now: DateTime<Utc>) -> Result<SettleOutcome, StoreError> {
        let id = &offer.group_buy_id;
        let what = format!("settle group buy {id}");
        if now < offer.terms.deadline {
            return Ok(SettleOutcome::NotDue);
        }
        for _ in 0..3 {
            let item = self.read_offer(id).await?.ok_or_else(|| StoreError::msg(format!("Failed to {what}: no such offer")))?;
            if item.settled_at.is_some() || item.state.is_final() {
                return Ok(SettleOutcome::AlreadySettled);
            }
            if item.state == GroupBuyState::Filled && item.converted < item.joined {
                return Ok(SettleOutcome::Unconverted { joined: item.joined, converted: item.converted });
            }
            let (state, units) =
                offer.settle(item.state, item.joined).map_err(|e| StoreError::new(format!("Failed to {what}"), e))?;
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(Key::group_buy(id).into_map()))
                .update_expression("SET #state = :state, settled_at = :at, units_returned = :units")
                .condition_expression("joined = :joined AND converted = :converted AND attribute_not_exists(settled_at)")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":state", s(state.as_str()))
                .expression_attribute_values(":at", s(now.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)))
                .expression_attribute_values(":units", n(units))
                .expression_attribute_values(":joined", n(item.joined))
                .expression_attribute_values(":converted", n(item.converted))
                .build()
                .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
            let mut items = vec![TransactWriteItem::builder().update(update).build(), self.due_delete(offer, &what)?];
            if units > 0 {
                let line = offer.line(units);
                items.push(release_set_aside(&self.table, &line, &format!("group buy {id}"))?);
                items.push(self.ledger_item(&LedgerLine::group_buy_release(id, &line))?);
            }
            let reasons = match self.transact(items, &what).await? {
                Transact::Written => return Ok(SettleOutcome::Settled { state, units_returned: units }),
                Transact::Cancelled(reasons) => reasons,
            };
            if !reasons.first().is_some_and(CancelReason::condition_failed) {
                return Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))));
            }
        }
        Err(StoreError::msg(format!("Failed to {what}: the offer kept changing")))
    }

    /// A strongly consistent `Query` of `DUE_GROUP_BUYS` for sort keys up to `now`.
    async fn due_group_buys(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<GroupBuyId>, StoreError> {
        let what = "the group buys past their deadline";
        self.due_items(Key::DUE_GROUP_BUYS, now, limit, what)
            .await?
            .into_iter()
            .map(|item| {
                let due: DueItem = from_item(item, what)?;
                GroupBuyId::parse(due.group_buy_id).map_err(|e| StoreError::new(format!("Failed to read {what}"), e))
            })
            .collect()
    }
}
