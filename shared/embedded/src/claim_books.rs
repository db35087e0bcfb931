//! Claims decided in memory before they are written: a sale's book.
//!
//! A busy sale's claims all go to one file through one database thread, and reading the
//! key, the customer's total and the shard on that thread for every claim, each claim its
//! own operation, is most of its work. A book keeps those three facts of one sale in
//! memory, loaded once from the file on the database thread, and decides a claim there. The
//! claims it takes wait in the book for one operation that writes them all
//! (`write_queued`), queued by the first of them while the book is locked, so the file
//! sees the book's claims before any operation queued after them; the claims taken while
//! it runs wait for the next. Each claim is answered once that operation is committed.
//!
//! The file stays the truth. The write has no read but is conditional, as the slow path's
//! is: each shard's units, each customer's room and each new key are conditions of its
//! statements, and one that fails rolls the whole write back as [`StaleBook`]: the book
//! is dropped and each of its claims decided again from the file (`claim_rows`). So a book
//! that missed a write (another process on the file, a sale closed, a claim written by the
//! slow path) costs a reload, never an oversell. A book only answers from facts that never
//! go back: a key written (keys are never deleted) and a customer's written units (never
//! lowered). Whatever it cannot decide (a shard short in the book: units can come back to a
//! shard, from a cancelled claim's order; a key or the customer's room still on the way)
//! goes to the file.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use rusqlite::Connection;

use crate::db::to_u32;
use crate::flash_sales::{count_customer, take_from_shard, write_claim, Claiming};

/// Most books kept at once; past it they are all dropped (each reloads on its next claim).
const MOST_BOOKS: usize = 64;

/// A conditional write of the claims the book took found the file otherwise: none of them
/// is written, and the book is out of date.
/// (A statement that fails outright is answered the same way: the file decides each claim
/// again, and answers its error there.)
#[derive(Debug, Clone, Default, thiserror::Error)]
#[error("the sale's book is out of date: {0}")]
pub(crate) struct StaleBook(String);

impl StaleBook {
    fn because(reason: &str) -> Self {
        Self(reason.to_owned())
    }

    fn failed(error: &anyhow::Error) -> Self {
        Self(format!("{error:#}"))
    }
}

/// The books of the sales claimed in this process, by sale id.
#[derive(Debug, Default)]
pub(crate) struct ClaimBooks {
    books: Mutex<HashMap<String, Arc<BookSlot>>>,
}

/// A sale's book, loaded by the first claim that needs it (the others wait for it).
#[derive(Debug, Default)]
pub(crate) struct BookSlot {
    book: tokio::sync::OnceCell<Mutex<SaleBook>>,
}

impl BookSlot {
    /// The book, loaded from the file by `load` if it is not yet.
    pub(crate) async fn book<F, Fut>(&self, load: F) -> anyhow::Result<&Mutex<SaleBook>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<SaleBook>>,
    {
        self.book.get_or_try_init(|| async { Ok(Mutex::new(load().await?)) }).await
    }
}

impl ClaimBooks {
    /// The slot of `sale_id`'s book, new and empty if there is none.
    pub(crate) fn slot(&self, sale_id: &str) -> Arc<BookSlot> {
        let mut books = self.books.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = books.get(sale_id) {
            return slot.clone();
        }
        if books.len() >= MOST_BOOKS {
            books.clear();
        }
        books.entry(sale_id.to_owned()).or_default().clone()
    }

    /// Drops `slot` as `sale_id`'s book (if it still is): the next claim loads a new one.
    pub(crate) fn forget(&self, sale_id: &str, slot: &Arc<BookSlot>) {
        let mut books = self.books.lock().unwrap_or_else(PoisonError::into_inner);
        if books.get(sale_id).is_some_and(|kept| Arc::ptr_eq(kept, slot)) {
            books.remove(sale_id);
        }
    }

    /// Drops `sale_id`'s book, whichever it is.
    pub(crate) fn forget_sale(&self, sale_id: &str) {
        self.books.lock().unwrap_or_else(PoisonError::into_inner).remove(sale_id);
    }
}

/// A customer's units claimed: written to the file, and taken by the book on their way.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    written: u32,
    on_the_way: u32,
}

/// What the book knows of one sale.
#[derive(Debug, Default)]
pub(crate) struct SaleBook {
    /// Units left per shard (by index), less the claims on their way.
    shards: Vec<u32>,
    customers: HashMap<String, Tally>,
    /// The idempotency keys of the claims written (`true`) or on their way (`false`).
    keys: HashMap<String, bool>,
    /// The claims taken and not yet picked up by a write, each with where its answer goes.
    queued: Vec<(Arc<Claiming>, Answer)>,
}

/// Where a claim taken by the book hears whether it was written.
pub(crate) type Answer = tokio::sync::oneshot::Sender<Result<(), StaleBook>>;

/// What the book made of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Taken in the book: the shard's units, the customer's room and the key are the
    /// claim's now; queue it for the next write (`write_queued`), which says when it is
    /// written (`deliver`).
    Take,
    /// A claim under this key is written.
    Duplicate,
    /// The customer's written units leave no room: these many are claimed.
    Limit(u32),
    /// The book cannot say: the file decides.
    AskTheFile,
}

impl SaleBook {
    /// Decides `c`, taking what it takes. A claim taken must be [`queue`](Self::queue)d.
    pub(crate) fn decide(&mut self, c: &Claiming) -> Decision {
        match self.keys.get(&c.key) {
            Some(true) => return Decision::Duplicate,
            Some(false) => return Decision::AskTheFile,
            None => {}
        }
        let tally = self.customers.get(&c.customer).copied().unwrap_or_default();
        if tally.written.saturating_add(c.quantity) > c.limit {
            return Decision::Limit(tally.written);
        }
        if tally.written.saturating_add(tally.on_the_way).saturating_add(c.quantity) > c.limit {
            return Decision::AskTheFile;
        }
        let Some(left) = self.shards.get_mut(c.shard as usize) else { return Decision::AskTheFile };
        if *left < c.quantity {
            return Decision::AskTheFile;
        }
        *left -= c.quantity;
        self.customers.entry(c.customer.clone()).or_default().on_the_way += c.quantity;
        self.keys.insert(c.key.clone(), false);
        Decision::Take
    }

    /// Queues a claim the book took for the next write; true when it is the first queued
    /// (its caller queues that write).
    pub(crate) fn queue(&mut self, c: Arc<Claiming>, answer: Answer) -> bool {
        self.queued.push((c, answer));
        self.queued.len() == 1
    }

    /// The claim `c`, taken by the book, is written.
    fn written(&mut self, c: &Claiming) {
        self.keys.insert(c.key.clone(), true);
        let tally = self.customers.entry(c.customer.clone()).or_default();
        tally.on_the_way = tally.on_the_way.saturating_sub(c.quantity);
        tally.written = tally.written.saturating_add(c.quantity);
    }
}

/// Reads a sale's book from the file: its shards' units, its customers' totals, its keys.
pub(crate) fn load(conn: &mut Connection, sale_id: &str) -> anyhow::Result<SaleBook> {
    let mut book = SaleBook::default();
    {
        let mut stmt = conn.prepare_cached("SELECT shard, units_left FROM flash_sale_shards WHERE sale_id = ?1")?;
        let mut rows = stmt.query([sale_id]).context("Failed to read the shards")?;
        while let Some(row) = rows.next()? {
            let shard = usize::try_from(row.get::<_, i64>(0)?).context("A stored shard index is negative")?;
            if book.shards.len() <= shard {
                book.shards.resize(shard + 1, 0);
            }
            book.shards[shard] = to_u32(row.get(1)?, "units_left")?;
        }
    }
    {
        let mut stmt = conn.prepare_cached("SELECT customer_id, claimed FROM flash_sale_customers WHERE sale_id = ?1")?;
        let mut rows = stmt.query([sale_id]).context("Failed to read the customers' claims")?;
        while let Some(row) = rows.next()? {
            let written = to_u32(row.get(1)?, "claimed")?;
            book.customers.insert(row.get(0)?, Tally { written, on_the_way: 0 });
        }
    }
    {
        let mut stmt = conn.prepare_cached("SELECT idempotency_key FROM flash_sale_claims WHERE sale_id = ?1")?;
        let mut rows = stmt.query([sale_id]).context("Failed to read the claims' keys")?;
        while let Some(row) = rows.next()? {
            book.keys.insert(row.get(0)?, true);
        }
    }
    Ok(book)
}

/// The operation that writes every claim queued in `slot`'s book when it runs: their rows
/// in a savepoint of their own, rolled back whole when a condition fails ([`StaleBook`]).
/// Answers the claims it picked up and what became of them, for [`deliver`].
pub(crate) fn write_queued(conn: &mut Connection, slot: &BookSlot) -> anyhow::Result<Written> {
    let Some(book) = slot.book.get() else { return Ok(Written::default()) };
    let claims = std::mem::take(&mut book.lock().unwrap_or_else(PoisonError::into_inner).queued);
    if claims.is_empty() {
        return Ok(Written::default());
    }
    conn.execute_batch("SAVEPOINT book")?;
    let outcome = write_all(conn, &claims);
    if outcome.is_err() {
        conn.execute_batch("ROLLBACK TO book")?;
    }
    conn.execute_batch("RELEASE book")?;
    Ok(Written { claims, outcome })
}

/// The claims one [`write_queued`] picked up, and what became of them.
#[derive(Debug)]
pub(crate) struct Written {
    claims: Vec<(Arc<Claiming>, Answer)>,
    outcome: Result<(), StaleBook>,
}

impl Default for Written {
    fn default() -> Self {
        Self { claims: Vec::new(), outcome: Ok(()) }
    }
}

/// Answers the claims of a write once its commit is known (on the database thread): each
/// written one is marked so in the book. Answers nothing when the commit failed: each
/// claim hears its answer channel close, an error.
pub(crate) fn deliver(slot: &BookSlot, written: anyhow::Result<Written>) -> bool {
    let Ok(Written { claims, outcome }) = written else { return false };
    if outcome.is_ok() {
        if let Some(book) = slot.book.get() {
            let mut book = book.lock().unwrap_or_else(PoisonError::into_inner);
            for (claim, _) in &claims {
                book.written(claim);
            }
        }
    }
    let any = !claims.is_empty() && outcome.is_ok();
    for (_, answer) in claims {
        let _ = answer.send(outcome.clone());
    }
    any
}

/// The queued claims' rows, through the statements the one-claim path writes with: per
/// shard one conditional update of all its claims, then per claim the customer's total (on
/// the room the book saw), the claim (on a new key) and its messages.
fn write_all(conn: &Connection, claims: &[(Arc<Claiming>, Answer)]) -> Result<(), StaleBook> {
    let mut shards: BTreeMap<u32, (u32, u32)> = BTreeMap::new();
    for (c, _) in claims {
        let (units, count) = shards.entry(c.shard).or_default();
        *units = units.saturating_add(c.quantity);
        *count += 1;
    }
    let failed = |e: anyhow::Error| StaleBook::failed(&e);
    let Some((first, _)) = claims.first() else { return Ok(()) };
    for (shard, (units, count)) in shards {
        if !take_from_shard(conn, &first.sale_id, shard, units, count).map_err(failed)? {
            return Err(StaleBook::because("a shard has fewer units"));
        }
    }
    for (c, _) in claims {
        if !count_customer(conn, c).map_err(failed)? {
            return Err(StaleBook::because("a customer claimed more"));
        }
        if !write_claim(conn, c).map_err(failed)? {
            return Err(StaleBook::because("a key has a claim"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use oms_domain::flash_sale::{Claim, ClaimId, FlashSale, IdempotencyKey, SaleId, SaleTerms};
    use oms_domain::ports::{ClaimOutcome, FlashSaleStore, InventoryStore, WarehouseStore};
    use oms_domain::stock::Warehouse;
    use oms_domain::{Currency, CustomerId, MerchantId, OrderId, Sku, WarehouseId};

    use crate::Embedded;

    /// A sale of `units` of SKU-1 in one shard, one per customer, open now.
    async fn sale(store: &Embedded, units: u32) -> FlashSale {
        let (merchant, sku) = (MerchantId::parse("m-1").expect("an id"), Sku::parse("SKU-1").expect("a SKU"));
        let warehouse = WarehouseId::parse("WH-1").expect("an id");
        let registered = Warehouse::new(warehouse.clone(), "WH-1", merchant.clone(), "Zhejiang", "Hangzhou", 30.0, 120.0);
        store.put_warehouse(&registered.expect("a warehouse")).await.expect("put_warehouse");
        let _ = store.set_on_hand(&warehouse, &merchant, &sku, units).await.expect("set_on_hand");
        let now = Utc::now();
        let terms = SaleTerms {
            sku: sku.clone(),
            units,
            per_customer_limit: 1,
            starts_at: now - Duration::minutes(1),
            ends_at: now + Duration::hours(1),
            shards: 1,
            price: rust_decimal::Decimal::ONE,
            currency: Currency::parse("CNY").expect("a currency"),
        };
        let stock = store.stock_of(&sku).await.expect("stock_of");
        let sale = FlashSale::plan(SaleId::generate(), merchant, terms, &stock, now).expect("a plan");
        let _ = store.create_sale(&sale).await.expect("create_sale");
        sale
    }

    fn claim(sale: &FlashSale, key: &str, customer: &str) -> Claim {
        Claim {
            claim_id: ClaimId::generate(),
            sale_id: sale.sale_id.clone(),
            idempotency_key: IdempotencyKey::parse(key).expect("a key"),
            customer_id: CustomerId::parse(customer).expect("a customer"),
            quantity: 1,
            order_id: OrderId::generate(),
            shard: 0,
            claimed_at: Utc::now(),
        }
    }

    /// Two processes' stores on one file: each decides from its own book, which misses the
    /// other's claims. The file's conditions catch every such decision: nothing oversold,
    /// no key claimed twice, nobody past the limit.
    #[tokio::test]
    async fn a_book_that_missed_another_writers_claims_is_dropped_and_the_file_decides() {
        let dir = tempfile::tempdir().expect("a directory");
        let (a, b) = (Embedded::open(dir.path()).expect("a store"), Embedded::open(dir.path()).expect("a second store"));
        let sale = sale(&a, 2).await;
        let first = claim(&sale, "k-1", "c-1");
        assert_eq!(a.claim(&first, 1, &[]).await.expect("claim"), ClaimOutcome::Claimed, "a's book loads and takes it");
        assert_eq!(b.claim(&claim(&sale, "k-2", "c-2"), 1, &[]).await.expect("claim"), ClaimOutcome::Claimed);
        // a's book still holds a unit; the file has none.
        assert_eq!(
            a.claim(&claim(&sale, "k-3", "c-3"), 1, &[]).await.expect("claim"),
            ClaimOutcome::ShardShort { units_left: 0 }
        );
        let retried = a.claim(&claim(&sale, "k-2", "c-2"), 1, &[]).await.expect("claim");
        assert!(matches!(retried, ClaimOutcome::Duplicate(_)), "b's key is b's claim: {retried:?}");
        let over = a.claim(&claim(&sale, "k-4", "c-1"), 1, &[]).await.expect("claim");
        assert_eq!(over, ClaimOutcome::LimitExceeded { claimed: 1 });
        let levels = b.shard_levels(&sale).await.expect("levels");
        assert_eq!((levels[0].units_left, levels[0].claims), (0, 2));
        // b's book, loaded after a's first claim, knows its key: answered with the claim as written.
        assert_eq!(b.claim(&claim(&sale, "k-1", "c-1"), 1, &[]).await.expect("claim"), ClaimOutcome::Duplicate(Box::new(first)));
    }
}
