//! `GroupBuyStore`: one row per offer (its record as JSON beside the columns the
//! conditions and the index read: state, joined, converted, capacity, minimum, deadline,
//! settlement) and one row per join, keyed by (offer, customer) and unique per (offer,
//! idempotency key) (tables of schema step 22). Every write is one operation on the
//! database thread, in its own savepoint, so a join (the join row and the offer's count
//! and state) and a conversion (the join marked, the offer's converted count, the order
//! and its messages) land whole or not at all. The partial index `group_buys_due` holds
//! the offers not settled by deadline, what the sweeper reads.

use anyhow::{bail, Context};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use oms_domain::flash_sale::IdempotencyKey;
use oms_domain::group_buy::{GroupBuy, GroupBuyEvent, GroupBuyId, GroupBuyState, GroupBuyStatus, Join, Settlement};
use oms_domain::ledger::LedgerLine;
use oms_domain::messages::Outgoing;
use oms_domain::order::Order;
use oms_domain::ports::{ConvertOutcome, CreateGroupBuyOutcome, GroupBuyStore, JoinOutcome, SettleOutcome, StoreError};
use oms_domain::CustomerId;
use rusqlite::{params, Connection, OptionalExtension};

use crate::db::{index_time, to_u32, CachedStatements};
use crate::inventory::{append_ledger, available, raise_reserved};
use crate::orders::{insert, EncodedOrder};
use crate::Embedded;

/// Version 22: group-buy offers and their joins.
pub(crate) const GROUP_BUYS: &str = "
CREATE TABLE IF NOT EXISTS group_buys (
    group_buy_id   TEXT PRIMARY KEY NOT NULL,
    state          TEXT NOT NULL,
    joined         INTEGER NOT NULL,
    converted      INTEGER NOT NULL,
    capacity       INTEGER NOT NULL,
    min_group      INTEGER NOT NULL,
    deadline       TEXT NOT NULL,
    settled_at     TEXT,
    units_returned INTEGER,
    body           TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS group_buys_due ON group_buys (deadline, group_buy_id) WHERE settled_at IS NULL;
CREATE TABLE IF NOT EXISTS group_buy_joins (
    group_buy_id    TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    converted       INTEGER NOT NULL,
    body            TEXT NOT NULL,
    PRIMARY KEY (group_buy_id, customer_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS group_buy_joins_by_key ON group_buy_joins (group_buy_id, idempotency_key);
CREATE INDEX IF NOT EXISTS group_buy_joins_pending ON group_buy_joins (group_buy_id, seq) WHERE converted = 0;
";

fn parse_time(raw: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(raw).context("A stored time is corrupt")?.with_timezone(&Utc))
}

fn decode_offer(body: &str) -> anyhow::Result<GroupBuy> {
    serde_json::from_str(body).context("A stored group buy is not its layout")
}

fn decode_join(body: &str) -> anyhow::Result<Join> {
    serde_json::from_str(body).context("A stored group-buy join is not its layout")
}

/// The offer row's changing part.
struct Row {
    state: GroupBuyState,
    joined: u32,
    converted: u32,
    capacity: u32,
    min_group: u32,
    deadline: DateTime<Utc>,
    settled: Option<Settlement>,
}

fn row(conn: &Connection, id: &str) -> anyhow::Result<Option<Row>> {
    type Raw = (String, i64, i64, i64, i64, String, Option<String>, Option<i64>);
    let raw: Option<Raw> = conn
        .query_row_cached(
            "SELECT state, joined, converted, capacity, min_group, deadline, settled_at, units_returned
             FROM group_buys WHERE group_buy_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
        )
        .optional()
        .context("Failed to query the group buys")?;
    let Some((state, joined, converted, capacity, min_group, deadline, settled_at, returned)) = raw else {
        return Ok(None);
    };
    let settled = match settled_at {
        Some(at) => Some(Settlement { at: parse_time(&at)?, units_returned: to_u32(returned.unwrap_or(0), "units_returned")? }),
        None => None,
    };
    Ok(Some(Row {
        state: GroupBuyState::parse(&state).context("A stored group-buy state is corrupt")?,
        joined: to_u32(joined, "joined")?,
        converted: to_u32(converted, "converted")?,
        capacity: to_u32(capacity, "capacity")?,
        min_group: to_u32(min_group, "min_group")?,
        deadline: parse_time(&deadline)?,
        settled,
    }))
}

/// The join under (offer, key), else by (offer, customer).
fn join_body(conn: &Connection, id: &str, customer: &str, key: &str) -> anyhow::Result<Option<String>> {
    let by_key = conn
        .query_row_cached(
            "SELECT body FROM group_buy_joins WHERE group_buy_id = ?1 AND idempotency_key = ?2",
            params![id, key],
            |r| r.get(0),
        )
        .optional()
        .context("Failed to query the joins by key")?;
    if by_key.is_some() {
        return Ok(by_key);
    }
    conn.query_row_cached(
        "SELECT body FROM group_buy_joins WHERE group_buy_id = ?1 AND customer_id = ?2",
        params![id, customer],
        |r| r.get(0),
    )
    .optional()
    .context("Failed to query the joins by customer")
}

enum Joining {
    Written(GroupBuyState, u32),
    Duplicate(String),
    NotOpen(GroupBuyState),
    Full,
}

enum Converting {
    Written,
    Already,
    NotFilled,
}

#[async_trait]
impl GroupBuyStore for Embedded {
    /// The stock row's `reserved` and `set_aside`, its ledger entry and the offer row in one
    /// savepoint.
    async fn create_group_buy(&self, offer: &GroupBuy) -> Result<CreateGroupBuyOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to create group buy {}", offer.group_buy_id), e);
        let body = serde_json::to_string(offer).context("Failed to encode the group buy").map_err(failed)?;
        let line = offer.set_aside();
        let id = offer.group_buy_id.to_string();
        let (capacity, min_group, deadline) = (offer.terms.capacity, offer.terms.min_group, index_time(offer.terms.deadline));
        self.db
            .call(move |conn| {
                let available = available(conn, &line)?;
                if available < line.quantity {
                    return Ok(CreateGroupBuyOutcome::Insufficient { available });
                }
                raise_reserved(conn, &line)?;
                conn.execute_cached(
                    "UPDATE stock SET set_aside = set_aside + ?4 WHERE warehouse = ?1 AND merchant_id = ?2 AND sku = ?3",
                    params![line.warehouse.as_str(), line.owner.as_str(), line.sku.as_str(), line.quantity],
                )
                .context("Failed to count the set-aside units")?;
                append_ledger(conn, &LedgerLine::group_buy_set_aside(&id, &line))?;
                conn.execute_cached(
                    "INSERT INTO group_buys (group_buy_id, state, joined, converted, capacity, min_group, deadline, body)
                     VALUES (?1, 'open', 0, 0, ?2, ?3, ?4, ?5)",
                    params![id, capacity, min_group, deadline, body],
                )
                .context("Failed to write the group buy row")?;
                Ok(CreateGroupBuyOutcome::Created)
            })
            .await
            .map_err(failed)
    }

    async fn get_group_buy(&self, id: &GroupBuyId) -> Result<Option<(GroupBuy, GroupBuyStatus)>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read group buy {id}"), e);
        let key = id.to_string();
        self.db
            .call(move |conn| {
                let Some(r) = row(conn, &key)? else { return Ok(None) };
                let body: String = conn
                    .query_row_cached("SELECT body FROM group_buys WHERE group_buy_id = ?1", [key.as_str()], |r| r.get(0))
                    .context("Failed to read the group buy's body")?;
                let status = GroupBuyStatus { state: r.state, joined: r.joined, converted: r.converted, settled: r.settled };
                Ok(Some((decode_offer(&body)?, status)))
            })
            .await
            .map_err(failed)
    }

    async fn find_join(&self, id: &GroupBuyId, customer: &CustomerId, key: &IdempotencyKey) -> Result<Option<Join>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the join of group buy {id}"), e);
        let (g, c, k) = (id.to_string(), customer.to_string(), key.to_string());
        let body = self.db.call(move |conn| join_body(conn, &g, &c, &k)).await.map_err(failed)?;
        body.map(|b| decode_join(&b)).transpose().map_err(failed)
    }

    /// One savepoint: the join looked up by key and customer, the offer row checked and
    /// moved, the join row inserted.
    async fn join(&self, join: &Join, now: DateTime<Utc>) -> Result<JoinOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to join group buy {}", join.group_buy_id), e);
        let body = serde_json::to_string(join).context("Failed to encode the join").map_err(failed)?;
        let (id, customer, key) = (join.group_buy_id.to_string(), join.customer_id.to_string(), join.idempotency_key.to_string());
        let outcome = self
            .db
            .call(move |conn| {
                if let Some(first) = join_body(conn, &id, &customer, &key)? {
                    return Ok(Joining::Duplicate(first));
                }
                let r = row(conn, &id)?.with_context(|| format!("No group buy {id} to join"))?;
                if !r.state.takes_joins() || now >= r.deadline {
                    return Ok(Joining::NotOpen(r.state));
                }
                if r.joined >= r.capacity {
                    return Ok(Joining::Full);
                }
                let joined = r.joined + 1;
                let state = if joined >= r.min_group { GroupBuyState::Filled } else { r.state };
                conn.execute_cached(
                    "UPDATE group_buys SET joined = ?2, state = ?3 WHERE group_buy_id = ?1 AND joined = ?4",
                    params![id, joined, state.as_str(), r.joined],
                )
                .context("Failed to count the join")?;
                conn.execute_cached(
                    "INSERT INTO group_buy_joins (group_buy_id, customer_id, idempotency_key, seq, converted, body)
                     VALUES (?1, ?2, ?3, ?4, 0, ?5)",
                    params![id, customer, key, joined, body],
                )
                .context("Failed to write the join row")?;
                Ok(Joining::Written(state, joined))
            })
            .await
            .map_err(failed)?;
        Ok(match outcome {
            Joining::Written(state, joined) => JoinOutcome::Joined { state, joined },
            Joining::Duplicate(body) => JoinOutcome::Duplicate(Box::new(decode_join(&body).map_err(failed)?)),
            Joining::NotOpen(state) => JoinOutcome::NotOpen(state),
            Joining::Full => JoinOutcome::Full,
        })
    }

    async fn unconverted_joins(&self, id: &GroupBuyId, limit: usize) -> Result<Vec<Join>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to list the unconverted joins of group buy {id}"), e);
        let (key, limit) = (id.to_string(), i64::try_from(limit).unwrap_or(i64::MAX));
        let bodies: Vec<String> = self
            .db
            .call(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT body FROM group_buy_joins WHERE group_buy_id = ?1 AND converted = 0 ORDER BY seq LIMIT ?2",
                    )
                    .context("Failed to prepare the joins query")?;
                let rows = stmt
                    .query_map(params![key, limit], |r| r.get(0))
                    .context("Failed to query the joins")?
                    .collect::<Result<Vec<String>, _>>()
                    .context("Failed to read the joins")?;
                Ok(rows)
            })
            .await
            .map_err(failed)?;
        bodies.iter().map(|b| decode_join(b)).collect::<anyhow::Result<_>>().map_err(failed)
    }

    /// One savepoint: the offer's state checked, the join row marked on its flag, the
    /// offer's count grown, the order and its messages inserted, and the order's plan held
    /// from the offer's set-aside (as `hold_set_aside` holds it).
    async fn convert_join(&self, join: &Join, order: &Order, send: &[Outgoing]) -> Result<ConvertOutcome, StoreError> {
        let failed =
            |e| StoreError::new(format!("Failed to convert join {} of group buy {}", join.join_id, join.group_buy_id), e);
        let encoded = EncodedOrder::new(order, 1).map_err(failed)?;
        let (id, customer, join_id, sent) =
            (join.group_buy_id.to_string(), join.customer_id.to_string(), join.join_id.to_string(), send.to_vec());
        let (order_id, held) = (order.order_id.clone(), order.allocation.as_ref().map(|a| a.lines.clone()).unwrap_or_default());
        let outcome = self
            .db
            .call(move |conn| {
                let r = row(conn, &id)?.with_context(|| format!("No group buy {id}"))?;
                if !matches!(r.state, GroupBuyState::Filled | GroupBuyState::Closed) {
                    return Ok(Converting::NotFilled);
                }
                let marked = conn
                    .execute_cached(
                        "UPDATE group_buy_joins SET converted = 1 WHERE group_buy_id = ?1 AND customer_id = ?2 AND converted = 0",
                        params![id, customer],
                    )
                    .context("Failed to mark the join converted")?;
                if marked != 1 {
                    return Ok(Converting::Already);
                }
                conn.execute_cached("UPDATE group_buys SET converted = converted + 1 WHERE group_buy_id = ?1", [id.as_str()])
                    .context("Failed to count the conversion")?;
                if insert(conn, &encoded, &sent)?.is_some() {
                    // The order's external id is the join's id: taken already means a corrupt store.
                    bail!("The order of join {join_id} exists already");
                }
                // The order holds its units from the start: out of the offer's set-aside.
                if !held.is_empty() {
                    let placed = crate::inventory::hold_set_aside(conn, &order_id, &held)?;
                    if placed == oms_domain::ports::ReserveOutcome::AlreadyReserved {
                        // A new order holding stock already means a corrupt store.
                        bail!("Order {order_id} of join {join_id} holds stock already");
                    }
                }
                Ok(Converting::Written)
            })
            .await
            .map_err(failed)?;
        Ok(match outcome {
            Converting::Written => {
                if !send.is_empty() {
                    self.wake_consumers();
                }
                ConvertOutcome::Converted
            }
            Converting::Already => ConvertOutcome::AlreadyConverted,
            Converting::NotFilled => ConvertOutcome::NotFilled,
        })
    }

    /// One savepoint: the offer row read, the units it gives back taken out of the stock's
    /// `reserved` and `set_aside` with their ledger entry, the row marked settled.
    async fn settle(&self, offer: &GroupBuy, now: DateTime<Utc>) -> Result<SettleOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to settle group buy {}", offer.group_buy_id), e);
        if now < offer.terms.deadline {
            return Ok(SettleOutcome::NotDue);
        }
        let offer = offer.clone();
        self.db
            .call(move |conn| {
                let id = offer.group_buy_id.to_string();
                let r = row(conn, &id)?.with_context(|| format!("No group buy {id}"))?;
                if r.settled.is_some() || r.state.is_final() {
                    return Ok(SettleOutcome::AlreadySettled);
                }
                if r.state == GroupBuyState::Filled && r.converted < r.joined {
                    return Ok(SettleOutcome::Unconverted { joined: r.joined, converted: r.converted });
                }
                let (state, units) = offer.settle(r.state, r.joined)?;
                debug_assert_eq!(r.state.on(GroupBuyEvent::DeadlinePassed, &offer.terms).ok(), Some(state));
                if units > 0 {
                    let line = offer.line(units);
                    let changed = conn
                        .execute_cached(
                            "UPDATE stock SET reserved = reserved - ?4, set_aside = set_aside - ?4
                             WHERE warehouse = ?1 AND merchant_id = ?2 AND sku = ?3 AND set_aside >= ?4 AND reserved >= ?4",
                            params![line.warehouse.as_str(), line.owner.as_str(), line.sku.as_str(), units],
                        )
                        .context("Failed to give the group buy's units back to stock")?;
                    if changed != 1 {
                        // An error, so nothing of the settlement stays (the savepoint is rolled back).
                        bail!("The stock of group buy {id} has fewer than {units} units set aside");
                    }
                    append_ledger(conn, &LedgerLine::group_buy_release(&id, &line))?;
                }
                conn.execute_cached(
                    "UPDATE group_buys SET state = ?2, settled_at = ?3, units_returned = ?4 WHERE group_buy_id = ?1",
                    params![id, state.as_str(), index_time(now), units],
                )
                .context("Failed to mark the group buy settled")?;
                Ok(SettleOutcome::Settled { state, units_returned: units })
            })
            .await
            .map_err(failed)
    }

    /// The partial index `group_buys_due`, from its start to `now`.
    async fn due_group_buys(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<GroupBuyId>, StoreError> {
        let failed = |e| StoreError::new("Failed to list the group buys past their deadline", e);
        let ids = self.db.due_ids("SELECT group_buy_id FROM group_buys WHERE settled_at IS NULL AND deadline <= ?1 ORDER BY deadline, group_buy_id LIMIT ?2", now, limit).await.map_err(failed)?;
        ids.into_iter().map(|id| GroupBuyId::parse(id).context("A stored id is corrupt").map_err(failed)).collect()
    }
}
