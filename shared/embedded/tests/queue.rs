//! The durable queue: SQS-like receive, ack, visibility timeout, retries, dead letters,
//! and what survives a restart.

use oms_domain::messages::{AllocateOrder, Outgoing, QueueName, ReserveOrder};
use oms_domain::ports::{Queue, SystemClock};
use oms_domain::OrderId;
use oms_embedded::{Embedded, MAX_ATTEMPTS};
use std::sync::Arc;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(3600);

fn allocate(n: u32) -> Outgoing {
    Outgoing::of(&AllocateOrder::new(OrderId::parse(format!("ord_{n}")).expect("a valid order id")))
}

fn reserve(n: u32) -> Outgoing {
    Outgoing::of(&ReserveOrder { order_id: OrderId::parse(format!("ord_{n}")).expect("a valid order id") })
}

fn store() -> Embedded {
    Embedded::open_in_memory().expect("the store opens")
}

#[tokio::test]
async fn a_sent_message_is_received_once_and_gone_once_acked() {
    let q = store();
    q.send(&allocate(1)).await.unwrap();
    assert_eq!(q.queue_depth(QueueName::Allocate).await.unwrap(), 1);

    let got = q.receive(QueueName::Allocate, 10, LONG).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].queue, &got[0].body, got[0].attempts), (QueueName::Allocate, &allocate(1).body, 1));
    assert!(q.receive(QueueName::Allocate, 10, LONG).await.unwrap().is_empty(), "an in-flight message was delivered twice");
    assert_eq!(q.queue_depth(QueueName::Allocate).await.unwrap(), 1, "in flight still counts");

    q.ack(got[0].id).await.unwrap();
    assert_eq!(q.queue_depth(QueueName::Allocate).await.unwrap(), 0);
    assert!(q.receive(QueueName::Allocate, 10, Duration::ZERO).await.unwrap().is_empty());
}

#[tokio::test]
async fn messages_land_on_the_queue_of_their_kind() {
    let q = store();
    q.send(&allocate(1)).await.unwrap();
    q.send(&reserve(2)).await.unwrap();
    let got = q.receive(QueueName::Reserve, 10, LONG).await.unwrap();
    assert_eq!(got.iter().map(|d| &d.body).collect::<Vec<_>>(), [&reserve(2).body]);
    assert_eq!(got[0].queue, QueueName::Reserve);
    assert_eq!(q.queue_depth(QueueName::Allocate).await.unwrap(), 1);
}

#[tokio::test]
async fn receive_takes_at_most_max_messages_oldest_first() {
    let q = store();
    for n in 1..=5 {
        q.send(&allocate(n)).await.unwrap();
    }
    let first = q.receive(QueueName::Allocate, 2, LONG).await.unwrap();
    assert_eq!(first.iter().map(|d| d.body.clone()).collect::<Vec<_>>(), [allocate(1).body, allocate(2).body]);
    let rest = q.receive(QueueName::Allocate, 10, LONG).await.unwrap();
    assert_eq!(rest.iter().map(|d| d.body.clone()).collect::<Vec<_>>(), [allocate(3).body, allocate(4).body, allocate(5).body]);
    assert!(q.receive(QueueName::Allocate, 0, LONG).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_message_not_acked_comes_back_after_its_visibility_timeout() {
    let q = store();
    q.send(&allocate(1)).await.unwrap();
    let first = q.receive(QueueName::Allocate, 1, Duration::from_millis(150)).await.unwrap();
    assert!(q.receive(QueueName::Allocate, 1, LONG).await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(250)).await;
    let again = q.receive(QueueName::Allocate, 1, LONG).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempts), (first[0].id, 2));
}

#[tokio::test]
async fn retry_later_makes_the_message_visible_again_after_the_delay() {
    let q = store();
    q.send(&allocate(1)).await.unwrap();
    let got = q.receive(QueueName::Allocate, 1, LONG).await.unwrap();
    q.retry_later(got[0].id, Duration::from_millis(150)).await.unwrap();
    assert!(q.receive(QueueName::Allocate, 1, LONG).await.unwrap().is_empty(), "visible before its delay");
    tokio::time::sleep(Duration::from_millis(250)).await;
    let again = q.receive(QueueName::Allocate, 1, LONG).await.unwrap();
    assert_eq!((again[0].id, again[0].attempts), (got[0].id, 2));
    q.retry_later(again[0].id, Duration::ZERO).await.unwrap();
    assert_eq!(q.receive(QueueName::Allocate, 1, LONG).await.unwrap()[0].attempts, 3);
}

#[tokio::test]
async fn a_message_that_fails_five_attempts_goes_to_the_dead_letters() {
    let q = store();
    q.send(&allocate(1)).await.unwrap();
    for attempt in 1..=MAX_ATTEMPTS {
        let got = q.receive(QueueName::Allocate, 1, LONG).await.unwrap();
        assert_eq!(got.len(), 1, "attempt {attempt}");
        assert_eq!(got[0].attempts, attempt);
        assert!(q.dead_letters(QueueName::Allocate).await.unwrap().is_empty());
        q.retry_later(got[0].id, Duration::ZERO).await.unwrap();
    }
    assert!(q.receive(QueueName::Allocate, 1, LONG).await.unwrap().is_empty());
    assert_eq!(q.queue_depth(QueueName::Allocate).await.unwrap(), 0, "dead letters are not queued work");
    let dead = q.dead_letters(QueueName::Allocate).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((&dead[0].body, dead[0].attempts), (&allocate(1).body, MAX_ATTEMPTS));
    assert!(q.dead_letters(QueueName::Reserve).await.unwrap().is_empty());
    assert_eq!(q.dead_letter_count(QueueName::Allocate).await.unwrap(), 1);
}

#[tokio::test]
async fn a_message_whose_consumer_keeps_vanishing_goes_to_the_dead_letters() {
    let q = store();
    q.send(&allocate(1)).await.unwrap();
    for _ in 0..MAX_ATTEMPTS {
        assert_eq!(q.receive(QueueName::Allocate, 1, Duration::from_millis(1)).await.unwrap().len(), 1);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(q.receive(QueueName::Allocate, 1, LONG).await.unwrap().is_empty());
    assert_eq!(q.dead_letters(QueueName::Allocate).await.unwrap()[0].attempts, MAX_ATTEMPTS);
}

#[tokio::test]
async fn acking_or_retrying_a_message_that_is_gone_does_nothing() {
    let q = store();
    q.send(&allocate(1)).await.unwrap();
    let got = q.receive(QueueName::Allocate, 1, LONG).await.unwrap();
    q.ack(got[0].id).await.unwrap();
    q.ack(got[0].id).await.unwrap();
    q.retry_later(got[0].id, Duration::ZERO).await.unwrap();
    assert_eq!(q.queue_depth(QueueName::Allocate).await.unwrap(), 0);
    assert!(q.dead_letters(QueueName::Allocate).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_consumer_wakes_on_send_without_polling() {
    let q = store();
    let consumer = {
        let q = q.clone();
        tokio::spawn(async move {
            let notify = q.notifier();
            loop {
                let woken = notify.notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                let got = q.receive(QueueName::Reserve, 10, LONG).await.unwrap();
                if !got.is_empty() {
                    return got;
                }
                woken.await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    q.send(&reserve(7)).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(2), consumer).await.expect("the consumer was not woken").unwrap();
    assert_eq!(got[0].body, reserve(7).body);
}

#[tokio::test]
async fn the_queue_port_of_ports_feeds_the_same_queue() {
    let q = store();
    let ports = q.ports(Arc::new(SystemClock));
    ports.queue.send(&allocate(3)).await.unwrap();
    assert_eq!(q.receive(QueueName::Allocate, 1, LONG).await.unwrap()[0].body, allocate(3).body);
}

#[tokio::test]
async fn sent_messages_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let q = Embedded::open(dir.path()).unwrap();
        q.send(&allocate(1)).await.unwrap();
        q.send(&reserve(2)).await.unwrap();
        q.send(&allocate(3)).await.unwrap();
        let got = q.receive(QueueName::Allocate, 1, LONG).await.unwrap();
        q.ack(got[0].id).await.unwrap();
    }
    let q = Embedded::open(dir.path()).unwrap();
    assert_eq!(q.queue_depth(QueueName::Allocate).await.unwrap(), 1);
    assert_eq!(q.receive(QueueName::Allocate, 10, LONG).await.unwrap()[0].body, allocate(3).body);
    assert_eq!(q.receive(QueueName::Reserve, 10, LONG).await.unwrap()[0].body, reserve(2).body);
}

#[tokio::test]
async fn messages_in_flight_when_the_process_died_are_visible_at_once_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let q = Embedded::open(dir.path()).unwrap();
        q.send(&allocate(1)).await.unwrap();
        q.receive(QueueName::Allocate, 1, LONG).await.unwrap()[0].id
        // dropped without an ack: the process "died" mid-work
    };
    let q = Embedded::open(dir.path()).unwrap();
    let again = q.receive(QueueName::Allocate, 1, LONG).await.unwrap();
    assert_eq!(again.len(), 1, "the in-flight message did not come back");
    assert_eq!((again[0].id, again[0].attempts), (id, 2));
}

#[tokio::test]
async fn a_delayed_retry_stays_delayed_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let q = Embedded::open(dir.path()).unwrap();
        q.send(&allocate(1)).await.unwrap();
        let got = q.receive(QueueName::Allocate, 1, LONG).await.unwrap();
        q.retry_later(got[0].id, LONG).await.unwrap();
    }
    let q = Embedded::open(dir.path()).unwrap();
    assert!(q.receive(QueueName::Allocate, 1, LONG).await.unwrap().is_empty());
    assert_eq!(q.queue_depth(QueueName::Allocate).await.unwrap(), 1);
}

#[tokio::test]
async fn dead_letters_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let q = Embedded::open(dir.path()).unwrap();
        q.send(&reserve(1)).await.unwrap();
        for _ in 0..MAX_ATTEMPTS {
            let got = q.receive(QueueName::Reserve, 1, LONG).await.unwrap();
            q.retry_later(got[0].id, Duration::ZERO).await.unwrap();
        }
    }
    let q = Embedded::open(dir.path()).unwrap();
    let dead = q.dead_letters(QueueName::Reserve).await.unwrap();
    assert_eq!(dead.iter().map(|d| d.body.clone()).collect::<Vec<_>>(), [reserve(1).body]);
}

#[tokio::test]
async fn a_message_dead_lettered_by_its_consumer_leaves_the_queue_at_once_with_the_reason() {
    let q = store();
    q.send(&reserve(1)).await.unwrap();
    let got = q.receive(QueueName::Reserve, 10, LONG).await.unwrap();
    q.dead_letter(got[0].id, "poison: a reserve_order message on the allocate queue").await.unwrap();
    assert_eq!(q.queue_depth(QueueName::Reserve).await.unwrap(), 0);
    let dead = q.dead_letters(QueueName::Reserve).await.unwrap();
    assert_eq!((dead.len(), &dead[0].body), (1, &reserve(1).body));
    q.dead_letter(got[0].id, "again").await.unwrap();
    assert_eq!(q.dead_letter_count(QueueName::Reserve).await.unwrap(), 1, "a message already gone is left so");
}
