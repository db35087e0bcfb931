//! The durable queue: messages in a table of the same database, consumed SQS-style.
//!
//! A received message is hidden for a visibility timeout; the consumer acks it (deleted)
//! or asks for a retry later. A message that fails `MAX_ATTEMPTS` deliveries, or whose
//! body cannot be read, moves to the dead letters. A message received but never acked
//! (the process died) comes back when its visibility timeout ends, or at once when the
//! store is opened again.

use anyhow::Context;
use async_trait::async_trait;
use oms_domain::messages::{Outgoing, QueueName};
use oms_domain::ports::{Queue, StoreError};
use rusqlite::{params, Connection, OptionalExtension, ToSql};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use crate::db::CachedStatements;
use crate::db::{now_millis, rows_statement, to_u32, ROWS_PER_STATEMENT};
use crate::Embedded;

/// Deliveries a message gets before it is moved to the dead letters.
pub const MAX_ATTEMPTS: u32 = 5;

/// A message handed to a consumer, as it was sent: the consumer reads the body as its
/// queue's kind (`oms_domain::messages::consume`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The message's id in the queue; what `ack`, `retry_later` and `dead_letter` take.
    pub id: i64,
    pub queue: QueueName,
    pub body: String,
    /// How many times the message has been delivered, this delivery included.
    pub attempts: u32,
}

#[async_trait]
impl Queue for Embedded {
    async fn send(&self, message: &Outgoing) -> Result<(), StoreError> {
        let queue = message.queue;
        let outgoing = [message.clone()];
        self.db
            .call(move |conn| enqueue(conn, &outgoing))
            .await
            .map_err(|e| StoreError::new(format!("Failed to send a {} message to {queue}", message.kind), e))?;
        self.wake_consumers();
        Ok(())
    }
}

/// Writes `messages` to their queues, in the caller's savepoint: the outbox of an order
/// write is these rows, committed with the order or not at all. The caller wakes the
/// consumers once the savepoint is committed ([`Embedded::wake_consumers`]). Many at once
/// (a batch of flash-sale claims) go [`ROWS_PER_STATEMENT`] to a statement.
pub(crate) fn enqueue<'a>(conn: &Connection, messages: impl IntoIterator<Item = &'a Outgoing>) -> anyhow::Result<()> {
    static MANY: LazyLock<String> = LazyLock::new(|| {
        rows_statement(
            "INSERT INTO messages (queue, body, attempts, in_flight, visible_at, sent_at) VALUES",
            "({1}, {2}, 0, 0, ?1, ?1)",
            1,
            2,
            "",
        )
    });
    let now = now_millis();
    let messages: Vec<&Outgoing> = messages.into_iter().collect();
    let mut chunks = messages.chunks_exact(ROWS_PER_STATEMENT);
    for chunk in &mut chunks {
        let queues: Vec<&str> = chunk.iter().map(|m| m.queue.as_str()).collect();
        let mut values: Vec<&dyn ToSql> = Vec::with_capacity(1 + 2 * chunk.len());
        values.push(&now);
        for (queue, message) in queues.iter().zip(chunk) {
            values.push(queue);
            values.push(&message.body);
        }
        conn.prepare_cached(&MANY)?.execute(&*values).context("Failed to write the message rows")?;
    }
    for message in chunks.remainder() {
        conn.execute_cached(
            "INSERT INTO messages (queue, body, attempts, in_flight, visible_at, sent_at) VALUES (?1, ?2, 0, 0, ?3, ?3)",
            params![message.queue.as_str(), message.body, now],
        )
        .context("Failed to write the message row")?;
    }
    Ok(())
}

impl Embedded {
    /// Wakes every waiting consumer, and leaves a permit for one that is about to wait:
    /// called after messages were committed.
    pub(crate) fn wake_consumers(&self) {
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// Takes up to `max` visible messages of `queue`, oldest first, hiding each for
    /// `visibility` and counting the delivery. Messages already delivered `MAX_ATTEMPTS`
    /// times go to the dead letters instead.
    pub async fn receive(&self, queue: QueueName, max: usize, visibility: Duration) -> anyhow::Result<Vec<Delivery>> {
        self.db
            .call(move |conn| receive(conn, queue, max, visibility))
            .await
            .with_context(|| format!("Failed to receive messages from {queue}"))
    }

    /// Deletes a delivered message: its work is done. Acking a message that is already
    /// gone does nothing.
    pub async fn ack(&self, delivery_id: i64) -> anyhow::Result<()> {
        self.db
            .call(move |conn| {
                conn.execute_cached("DELETE FROM messages WHERE id = ?1", [delivery_id])
                    .context("Failed to delete the message row")?;
                Ok(())
            })
            .await
            .with_context(|| format!("Failed to ack message {delivery_id}"))
    }

    /// Makes a delivered message visible again after `delay`, or moves it to the dead
    /// letters if it has had `MAX_ATTEMPTS` deliveries. A message already gone is left so.
    pub async fn retry_later(&self, delivery_id: i64, delay: Duration) -> anyhow::Result<()> {
        self.db
            .call(move |conn| {
                let attempts: Option<i64> = conn
                    .query_row_cached("SELECT attempts FROM messages WHERE id = ?1", [delivery_id], |row| row.get(0))
                    .optional()
                    .context("Failed to read the message row")?;
                match attempts {
                    None => return Ok(()),
                    Some(n) if n >= i64::from(MAX_ATTEMPTS) => {
                        bury(conn, delivery_id, &format!("failed {n} attempts"), now_millis())?;
                    }
                    Some(_) => {
                        conn.execute_cached(
                            "UPDATE messages SET in_flight = 0, visible_at = ?2 WHERE id = ?1",
                            params![delivery_id, now_millis().saturating_add(millis(delay))],
                        )
                        .context("Failed to reschedule the message")?;
                    }
                }
                Ok(())
            })
            .await
            .with_context(|| format!("Failed to schedule a retry of message {delivery_id}"))
    }

    /// Moves a delivered message to the dead letters at once: its consumer can never
    /// handle it (a poison message). A message already gone is left so.
    pub async fn dead_letter(&self, delivery_id: i64, reason: &str) -> anyhow::Result<()> {
        let reason = reason.to_owned();
        self.db
            .call(move |conn| bury(conn, delivery_id, &reason, now_millis()))
            .await
            .with_context(|| format!("Failed to dead-letter message {delivery_id}"))
    }

    /// The messages waiting on `queue` (visible or in flight), oldest first, as stored:
    /// for tests and inspection; consumers `receive`.
    pub async fn pending(&self, queue: QueueName) -> anyhow::Result<Vec<Delivery>> {
        self.db
            .call(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT id, body, attempts FROM messages WHERE queue = ?1 ORDER BY id")
                    .context("Failed to prepare the query")?;
                let rows = stmt
                    .query_map([queue.as_str()], |row| {
                        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?))
                    })
                    .context("Failed to query the messages")?
                    .collect::<Result<Vec<_>, _>>()
                    .context("Failed to read the messages")?;
                rows.into_iter()
                    .map(|(id, body, attempts)| Ok(Delivery { id, queue, body, attempts: to_u32(attempts, "attempts")? }))
                    .collect()
            })
            .await
            .with_context(|| format!("Failed to list the messages of {queue}"))
    }

    /// The messages of `queue` that were given up on, oldest first.
    pub async fn dead_letters(&self, queue: QueueName) -> anyhow::Result<Vec<Delivery>> {
        self.db
            .call(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT id, body, attempts FROM dead_letters WHERE queue = ?1 ORDER BY id")
                    .context("Failed to prepare the query")?;
                let rows = stmt
                    .query_map([queue.as_str()], |row| {
                        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?))
                    })
                    .context("Failed to query the dead letters")?
                    .collect::<Result<Vec<_>, _>>()
                    .context("Failed to read the dead letters")?;
                rows.into_iter()
                    .map(|(id, body, attempts)| Ok(Delivery { id, queue, body, attempts: to_u32(attempts, "attempts")? }))
                    .collect()
            })
            .await
            .with_context(|| format!("Failed to list the dead letters of {queue}"))
    }

    /// How many messages of `queue` were given up on.
    pub async fn dead_letter_count(&self, queue: QueueName) -> anyhow::Result<usize> {
        self.count("SELECT COUNT(*) FROM dead_letters WHERE queue = ?1", queue)
            .await
            .with_context(|| format!("Failed to count the dead letters of {queue}"))
    }

    /// Messages of `queue` not yet acked: visible, delayed or in flight.
    pub async fn queue_depth(&self, queue: QueueName) -> anyhow::Result<usize> {
        self.count("SELECT COUNT(*) FROM messages WHERE queue = ?1", queue)
            .await
            .with_context(|| format!("Failed to measure the depth of {queue}"))
    }

    /// Notified on every send, so consumers wake without waiting out a poll interval.
    /// A consumer should still poll now and then (with `tokio::time::timeout` around
    /// `notified()`), since delayed retries become visible without any send.
    pub fn notifier(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.notify)
    }

    async fn count(&self, sql: &'static str, queue: QueueName) -> anyhow::Result<usize> {
        self.db
            .call(move |conn| {
                let n: i64 = conn.query_row_cached(sql, [queue.as_str()], |row| row.get(0)).context("Failed to count")?;
                usize::try_from(n).context("A negative count")
            })
            .await
    }
}

/// Makes every message that was in flight visible now: whoever held it is gone.
pub(crate) fn recover_in_flight(conn: &mut Connection) -> anyhow::Result<usize> {
    conn.execute_cached("UPDATE messages SET in_flight = 0, visible_at = ?1 WHERE in_flight = 1", [now_millis()])
        .context("Failed to make in-flight messages visible again")
}

/// Runs inside the database thread's savepoint for this operation, as every operation does.
fn receive(conn: &mut Connection, queue: QueueName, max: usize, visibility: Duration) -> anyhow::Result<Vec<Delivery>> {
    let now = now_millis();
    let hidden_until = now.saturating_add(millis(visibility));
    let mut deliveries = Vec::new();
    // Each pass either delivers a message (now hidden) or buries it, so the loop ends.
    while deliveries.len() < max {
        let wanted = i64::try_from(max - deliveries.len()).unwrap_or(i64::MAX);
        let batch = {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, body, attempts FROM messages WHERE queue = ?1 AND visible_at <= ?2 ORDER BY id LIMIT ?3",
                )
                .context("Failed to prepare the query")?;
            let rows = stmt
                .query_map(params![queue.as_str(), now, wanted], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?))
                })
                .context("Failed to query visible messages")?
                .collect::<Result<Vec<_>, _>>()
                .context("Failed to read visible messages")?;
            rows
        };
        if batch.is_empty() {
            break;
        }
        for (id, body, attempts) in batch {
            let attempts = to_u32(attempts, "attempts")?;
            if attempts >= MAX_ATTEMPTS {
                bury(conn, id, &format!("delivered {attempts} times without success"), now)?;
                continue;
            }
            conn.execute_cached(
                "UPDATE messages SET attempts = attempts + 1, in_flight = 1, visible_at = ?2 WHERE id = ?1",
                params![id, hidden_until],
            )
            .context("Failed to hide the message")?;
            deliveries.push(Delivery { id, queue, body, attempts: attempts + 1 });
        }
    }
    Ok(deliveries)
}

/// Moves one message to the dead letters, keeping its id.
fn bury(conn: &Connection, id: i64, reason: &str, now: i64) -> anyhow::Result<()> {
    conn.execute_cached(
        "INSERT INTO dead_letters (id, queue, body, attempts, reason, failed_at)
         SELECT id, queue, body, attempts, ?2, ?3 FROM messages WHERE id = ?1",
        params![id, reason, now],
    )
    .context("Failed to write the dead letter")?;
    conn.execute_cached("DELETE FROM messages WHERE id = ?1", [id]).context("Failed to delete the message row")?;
    tracing::warn!(message_id = id, reason, "message moved to the dead letters");
    Ok(())
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
