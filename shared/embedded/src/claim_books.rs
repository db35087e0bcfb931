//! Claims decided in memory and answered once journaled: a sale's book.
//!
//! A store that claims from a sale first *holds* it: it takes the sale's lock (an
//! exclusive `flock` on the sale's journal, `flash-sales/<sale id>.journal` in the data
//! directory) and loads the sale's book from the file: each shard's units, each customer's
//! units claimed, every idempotency key. While it holds the sale, the book is the truth of
//! who claimed what: a claim is decided there, appended to the journal (one `write`, the
//! claim's rows and messages as one line) and answered, and the claims answered wait in the
//! book for the write that puts them all in the file in one operation of the database thread
//! (`write_queued`), with how far the journal is written (`flash_sale_books`), so the file
//! has them a moment later. A claim never waits for a commit, and the file is written in as
//! few operations as the claims come in.
//!
//! Why this keeps every promise of the port:
//! - *Durable when answered*: the journal line is in the operating system before the
//!   answer, as a commit in WAL mode with `synchronous = NORMAL` is (a process crash loses
//!   neither; a power cut may lose the last of either). The next store to hold the sale (or
//!   the next to open the directory) writes the lines the file lacks (`take_up`), in order,
//!   each a claim's rows and messages at once.
//! - *Atomic*: a claim's rows and messages are written in one savepoint, whether by the
//!   write or by a replay.
//! - *Never oversold, nobody past the limit, no key twice*: one store holds a sale at a
//!   time (the lock is the operating system's: another connection or process waits for it),
//!   and it takes it up from the file plus the journal's lines, so its book has every claim
//!   ever answered. The writes stay conditional on the file, as a check that never fails.
//! - *Its own reads see the claim*: the write of a claim is queued on the database thread
//!   before the claim is answered, so every operation queued after reads it: the shards'
//!   levels and a close are such operations. Another connection sees it once written (a
//!   moment), or at once by holding the sale, which waits for the writes.
//!
//! Units can come back to a shard in the file (a cancelled claim's order, in its own
//! operation): the book's shards are refreshed whenever the levels are read
//! (`levels_held`), which is what a claim does before it answers sold out. A store that
//! holds a sale lets it go when no claim came for [`IDLE`] and everything is written, so
//! another connection can take it; it keeps the book, and takes it up again unchanged when
//! nothing was written since (the row's `version`).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use oms_domain::flash_sale::FlashSale;
use oms_domain::messages::{Outgoing, QueueName};
use oms_domain::ports::ClaimOutcome;
use oms_records::ClaimRecord;
use rusqlite::{params, Connection, OptionalExtension, ToSql};
use serde::Deserialize;

use crate::db::{rows_statement, to_u32, CachedStatements, ROWS_PER_STATEMENT};
use crate::flash_sales::{claim_body, count_customer, decode_claim, insert_claim, take_from_shard, write_claim, Claiming};
use crate::Embedded;

/// Schema step 35: per sale, how far its journal is written into the file and a version
/// that every write of its claims (and its close) raises.
pub(crate) const BOOKS: &str = "CREATE TABLE IF NOT EXISTS flash_sale_books (
    sale_id TEXT PRIMARY KEY,
    journal_written INTEGER NOT NULL,
    version INTEGER NOT NULL
) WITHOUT ROWID;";

/// The journals' directory inside the data directory.
pub(crate) const JOURNALS: &str = "flash-sales";

/// How long a held sale waits with no claim, everything written, before letting go.
const IDLE: Duration = Duration::from_millis(20);

/// How long a store waits for another connection to let a sale go.
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// How often a waiting store tries the lock again.
const LOCK_POLL: Duration = Duration::from_millis(2);

/// Most books kept at once; past it the books of sales not held are dropped.
const MOST_BOOKS: usize = 64;

/// The books of the sales claimed through this store, by sale id.
#[derive(Debug, Default)]
pub(crate) struct ClaimBooks {
    books: Mutex<HashMap<String, Arc<BookSlot>>>,
    /// The journals' directory; none for a store in memory, which no other connection can
    /// share and no restart can find again.
    journals: Option<PathBuf>,
}

impl ClaimBooks {
    /// The books of a store whose journals are kept in `journals`.
    pub(crate) fn in_directory(journals: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&journals)
            .with_context(|| format!("Failed to create the journals' directory {}", journals.display()))?;
        Ok(Self { books: Mutex::default(), journals: Some(journals) })
    }

    /// The slot of `sale_id`'s book, new and empty if there is none.
    pub(crate) fn slot(&self, sale_id: &str) -> Arc<BookSlot> {
        let mut books = self.books.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = books.get(sale_id) {
            return slot.clone();
        }
        if books.len() >= MOST_BOOKS {
            // A book held (or busy) stays: a second book of one sale must wait for the first
            // to let go, and a store in memory never lets go.
            books.retain(|_, slot| slot.book.try_lock().map_or(true, |book| book.held));
        }
        let slot = Arc::new(BookSlot { sale_id: sale_id.to_owned(), book: Mutex::default(), taking: Default::default() });
        books.insert(sale_id.to_owned(), slot.clone());
        slot
    }

    /// The slot of `sale_id`'s book, if it has one.
    fn existing(&self, sale_id: &str) -> Option<Arc<BookSlot>> {
        self.books.lock().unwrap_or_else(PoisonError::into_inner).get(sale_id).cloned()
    }

    fn journal_of(&self, sale_id: &str) -> Option<PathBuf> {
        self.journals.as_ref().map(|dir| dir.join(format!("{sale_id}.journal")))
    }
}

/// A sale's book and the lock that makes it the truth.
#[derive(Debug)]
pub(crate) struct BookSlot {
    sale_id: String,
    book: Mutex<SaleBook>,
    /// One task at a time takes the sale up (waits for its lock, reads the file).
    taking: tokio::sync::Mutex<()>,
}

impl BookSlot {
    fn lock(&self) -> MutexGuard<'_, SaleBook> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A sale's journal, open for appending and locked by this store.
#[derive(Debug)]
struct Journal {
    file: File,
    /// Its length: where the next line starts.
    len: u64,
}

/// A claim answered and not yet picked up by a write, with where its journal line ends.
#[derive(Debug)]
struct Queued {
    claim: Arc<Claiming>,
    journal_end: u64,
}

/// What the book knows of one sale.
#[derive(Debug, Default)]
pub(crate) struct SaleBook {
    /// This store holds the sale: it has its lock (a store in memory needs none) and the
    /// book has every claim answered.
    held: bool,
    /// Raised each time the sale is taken up; the idle watcher of an earlier hold stops.
    holds: u64,
    journal: Option<Journal>,
    /// The row's `version` this book matches: kept when the sale is let go, so it can be
    /// taken up again without a reload when nothing was written since.
    version: Option<i64>,
    closed: bool,
    /// Units left per shard (by index), less the claims answered.
    shards: Vec<u32>,
    /// Units each customer claimed.
    customers: foldhash::HashMap<String, u32>,
    /// Every key claimed: written (`None`), or answered and on its way (its claim).
    keys: foldhash::HashMap<String, Option<Arc<Claiming>>>,
    queued: Vec<Queued>,
    /// Writes, ends and closes running in this hold: the sale is not let go meanwhile.
    in_flight: usize,
    /// The sale as read from its row during this hold: while a store holds a sale, only it
    /// changes the row (an end or a close holds the sale), so a claim need not read it.
    sale: Option<FlashSale>,
    /// Raised by each end of the sale through this store, before and after its write: a
    /// read of the row that saw it change is not kept.
    sale_changes: u64,
    last_claim: Option<Instant>,
}

/// Where a hold stood when a sale's row was read.
#[derive(Debug)]
pub(crate) struct SaleRead {
    slot: Arc<BookSlot>,
    holds: u64,
    changes: u64,
}

/// What the book made of a claim.
#[derive(Debug)]
enum Decision {
    /// Taken, journaled and queued; `first` when it is the first queued (its caller queues
    /// the write).
    Taken { first: bool },
    /// The key's claim: written (`None`: the file has it) or on its way.
    Duplicate(Option<Arc<Claiming>>),
    /// The customer's units claimed leave no room.
    Limit(u32),
    /// The shard has these units left, fewer than the claim wants.
    Short(u32),
}

impl SaleBook {
    /// Decides `c`; a claim taken is appended to the journal as `line` first.
    fn decide(&mut self, c: &Arc<Claiming>, line: &[u8]) -> anyhow::Result<Decision> {
        if let Some(claimed) = self.keys.get(&c.key) {
            return Ok(Decision::Duplicate(claimed.clone()));
        }
        let claimed = self.customers.get(&c.customer).copied().unwrap_or(0);
        if claimed.saturating_add(c.quantity) > c.limit {
            return Ok(Decision::Limit(claimed));
        }
        if self.closed {
            return Ok(Decision::Short(0));
        }
        let Some(&left) = self.shards.get(c.shard as usize) else { bail!("Flash sale {} has no shard {}", c.sale_id, c.shard) };
        if left < c.quantity {
            return Ok(Decision::Short(left));
        }
        let journal_end = match &mut self.journal {
            Some(journal) => {
                if let Err(e) = journal.file.write_all(line) {
                    // Maybe half a line: the next hold cuts it off.
                    self.let_go();
                    return Err(anyhow::Error::from(e).context("Failed to journal the claim"));
                }
                journal.len += line.len() as u64;
                journal.len
            }
            None => 0,
        };
        self.shards[c.shard as usize] = left - c.quantity;
        self.customers.insert(c.customer.clone(), claimed + c.quantity);
        self.keys.insert(c.key.clone(), Some(c.clone()));
        self.queued.push(Queued { claim: c.clone(), journal_end });
        self.last_claim = Some(Instant::now());
        Ok(Decision::Taken { first: self.queued.len() == 1 })
    }

    /// Lets the sale go: the lock is released, and the book is read again from the file
    /// (and the journal) when the sale is next taken up.
    fn let_go(&mut self) {
        self.held = false;
        self.journal = None;
        self.version = None;
        self.queued.clear();
        self.in_flight = 0;
        self.sale = None;
    }

    /// Takes `loaded` as the book's content.
    fn reload(&mut self, loaded: Loaded) {
        self.closed = loaded.closed;
        self.shards = loaded.shards;
        self.customers = loaded.customers;
        self.keys = loaded.keys.into_iter().map(|key| (key, None)).collect();
    }
}

/// A journal line read back: `{"limit":..,"claim":<the claim's row body>,"send":[{"queue":..,"body":<a message body>},..]}`.
#[derive(Debug, Deserialize)]
struct Line {
    limit: u32,
    claim: ClaimRecord,
    send: Vec<LineMessage>,
}

#[derive(Debug, Deserialize)]
struct LineMessage {
    queue: String,
    body: serde_json::Value,
}

/// `c` as its journal line, newline included: the JSON bodies (compact, so on one line)
/// written as they are, not as strings, so nothing is escaped on the claim's path.
fn journal_line(c: &Claiming) -> Vec<u8> {
    let bodies: usize = c.send.iter().map(|m| m.body.len() + 32).sum();
    let mut line = Vec::with_capacity(c.body.len() + bodies + 48);
    line.extend_from_slice(b"{\"limit\":");
    line.extend_from_slice(c.limit.to_string().as_bytes());
    line.extend_from_slice(b",\"claim\":");
    line.extend_from_slice(c.body.as_bytes());
    line.extend_from_slice(b",\"send\":[");
    for (at, message) in c.send.iter().enumerate() {
        if at > 0 {
            line.push(b',');
        }
        line.extend_from_slice(b"{\"queue\":\"");
        line.extend_from_slice(message.queue.as_str().as_bytes());
        line.extend_from_slice(b"\",\"body\":");
        line.extend_from_slice(message.body.as_bytes());
        line.push(b'}');
    }
    line.extend_from_slice(b"]}\n");
    line
}

/// The claim a journal line holds.
fn claiming_of(sale_id: &str, line: &[u8]) -> anyhow::Result<Claiming> {
    let read: Line = serde_json::from_slice(line).context("A journal line is not a claim")?;
    if read.claim.sale_id != sale_id {
        bail!("A line of flash sale {sale_id}'s journal claims from sale {}", read.claim.sale_id);
    }
    let body = serde_json::to_string(&read.claim).context("Failed to encode the claim")?;
    let send = read
        .send
        .into_iter()
        .map(|m| {
            let queue = QueueName::parse(&m.queue).with_context(|| format!("A journal line names no queue {}", m.queue))?;
            Ok(Outgoing::stored(queue, m.body.to_string()))
        })
        .collect::<anyhow::Result<_>>()?;
    let record = read.claim;
    Ok(Claiming {
        sale_id: record.sale_id,
        key: record.idempotency_key,
        customer: record.customer_id,
        quantity: record.quantity,
        shard: record.shard,
        limit: read.limit,
        body,
        send,
    })
}

impl Embedded {
    /// Decides `c` in its sale's book, holding the sale first if this store does not.
    pub(crate) async fn claim_in_book(&self, c: Arc<Claiming>) -> anyhow::Result<ClaimOutcome> {
        let slot = self.books.slot(&c.sale_id);
        let line = if self.books.journals.is_some() { journal_line(&c) } else { Vec::new() };
        let decided = loop {
            {
                let mut book = slot.lock();
                if book.held {
                    let decided = book.decide(&c, &line)?;
                    if let Decision::Taken { first: true } = decided {
                        // Queued while the book is locked: the write runs before any
                        // operation queued after this claim is answered.
                        if let Err(e) = self.queue_write(&slot) {
                            book.let_go();
                            return Err(e);
                        }
                    }
                    break decided;
                }
            }
            self.hold(&slot).await?;
        };
        Ok(match decided {
            Decision::Taken { .. } => ClaimOutcome::Claimed,
            Decision::Duplicate(claimed) => {
                let body = self.body_of(&c.sale_id, &c.key, claimed).await?;
                let body =
                    body.with_context(|| format!("Flash sale {}'s claim under key {} is not in the file", c.sale_id, c.key))?;
                ClaimOutcome::Duplicate(Box::new(decode_claim(&body)?))
            }
            Decision::Limit(claimed) => ClaimOutcome::LimitExceeded { claimed },
            Decision::Short(units_left) => ClaimOutcome::ShardShort { units_left },
        })
    }

    /// The claim under `key`, from the book of the sale (held first).
    pub(crate) async fn claim_by_key_held(&self, sale_id: &str, key: &str) -> anyhow::Result<Option<String>> {
        let slot = self.held_slot(sale_id).await?;
        let known = slot.lock().keys.get(key).cloned();
        match known {
            None => Ok(None),
            Some(claimed) => self.body_of(sale_id, key, claimed).await,
        }
    }

    /// The row body of the claim the book has under `key`: its own while on its way, else
    /// the file's (`None` if the file lacks it).
    async fn body_of(&self, sale_id: &str, key: &str, claimed: Option<Arc<Claiming>>) -> anyhow::Result<Option<String>> {
        match claimed {
            Some(on_the_way) => Ok(Some(on_the_way.body.clone())),
            None => {
                let (s, k) = (sale_id.to_owned(), key.to_owned());
                self.db.read(move |conn| claim_body(conn, &s, &k)).await
            }
        }
    }

    /// Each shard's units left and claims made, as the book has them: the file's less
    /// the claims not yet picked up by a write (read on the database thread, after every
    /// write queued before). The book's shards are set to them, so units that came back to
    /// a shard in the file are claimed again.
    pub(crate) async fn levels_held(&self, sale_id: &str) -> anyhow::Result<Vec<(u32, u32)>> {
        let slot = self.held_slot(sale_id).await?;
        let reading = slot.clone();
        self.db
            .call(move |conn| {
                let mut levels = crate::flash_sales::file_levels(conn, &reading.sale_id)?;
                let mut book = reading.lock();
                for queued in &book.queued {
                    if let Some((left, claims)) = levels.get_mut(queued.claim.shard as usize) {
                        *left = left.saturating_sub(queued.claim.quantity);
                        *claims += 1;
                    }
                }
                if book.held {
                    book.shards = levels.iter().map(|(left, _)| *left).collect();
                }
                Ok(levels)
            })
            .await
    }

    /// Runs `close` with the sale held and its book closed first, so no claim is taken
    /// after it; the book stays closed when it succeeds.
    pub(crate) async fn close_held<T>(&self, sale_id: &str, close: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
        self.change_held(
            sale_id,
            |book| std::mem::replace(&mut book.closed, true),
            close,
            |book, closed, before| match closed {
                Ok(_) => {
                    book.shards.iter_mut().for_each(|left| *left = 0);
                    book.version = None;
                }
                Err(_) => book.closed = before,
            },
        )
        .await
    }

    /// Runs `end`, a write of the sale's row, with the sale held (so no other connection
    /// changes the row while a store holds it) and its row read again after.
    pub(crate) async fn end_held<T>(&self, sale_id: &str, end: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
        let forget = |book: &mut SaleBook| {
            book.sale = None;
            book.sale_changes += 1;
        };
        self.change_held(sale_id, forget, end, |book, _, ()| forget(book)).await
    }

    /// `change` with the sale held and kept held until it is done, `before` and `after`
    /// applied to the book around it.
    async fn change_held<T, B>(
        &self,
        sale_id: &str,
        before: impl FnOnce(&mut SaleBook) -> B,
        change: impl Future<Output = anyhow::Result<T>>,
        after: impl FnOnce(&mut SaleBook, &anyhow::Result<T>, B),
    ) -> anyhow::Result<T> {
        let slot = self.held_slot(sale_id).await?;
        let earlier = {
            let mut book = slot.lock();
            book.in_flight += 1;
            before(&mut book)
        };
        let changed = change.await;
        let mut book = slot.lock();
        book.in_flight = book.in_flight.saturating_sub(1);
        after(&mut book, &changed, earlier);
        changed
    }

    /// The sale as read during this store's hold of it, if it holds it and read it.
    pub(crate) fn held_sale(&self, sale_id: &str) -> (Option<FlashSale>, Option<SaleRead>) {
        let Some(slot) = self.books.existing(sale_id) else { return (None, None) };
        let book = slot.lock();
        if !book.held {
            return (None, None);
        }
        let read = SaleRead { slot: slot.clone(), holds: book.holds, changes: book.sale_changes };
        (book.sale.clone(), Some(read))
    }

    /// Keeps `sale`, read from its row after `read`, while the hold lasts and nothing
    /// changed the row.
    pub(crate) fn keep_held_sale(read: SaleRead, sale: &FlashSale) {
        let mut book = read.slot.lock();
        if book.held && book.holds == read.holds && book.sale_changes == read.changes {
            book.sale = Some(sale.clone());
        }
    }

    async fn held_slot(&self, sale_id: &str) -> anyhow::Result<Arc<BookSlot>> {
        let slot = self.books.slot(sale_id);
        if !slot.lock().held {
            self.hold(&slot).await?;
        }
        Ok(slot)
    }

    /// Queues the write of the claims queued in `slot`'s book when it runs.
    fn queue_write(&self, slot: &Arc<BookSlot>) -> anyhow::Result<()> {
        let (writing, delivering, store) = (slot.clone(), slot.clone(), self.clone());
        self.db.submit(
            move |conn| write_queued(conn, &writing),
            move |written| {
                if deliver(&delivering, written) {
                    store.wake_consumers();
                }
            },
        )
    }

    /// Holds the sale: its lock (waiting for another connection to let it go), the
    /// journal's lines the file lacks written, and the book read (or kept, when nothing
    /// was written since it was).
    async fn hold(&self, slot: &Arc<BookSlot>) -> anyhow::Result<()> {
        let _taking = slot.taking.lock().await;
        let kept = {
            let book = slot.lock();
            if book.held {
                return Ok(());
            }
            book.version
        };
        let path = self.books.journal_of(&slot.sale_id);
        let journal = match &path {
            Some(path) => Some(lock_journal(path, &slot.sale_id).await?),
            None => None,
        };
        let sale_id = slot.sale_id.clone();
        let taken = self.db.call(move |conn| take_up(conn, &sale_id, path.as_deref(), kept, true)).await?;
        let idle_watch = {
            let mut book = slot.lock();
            if let Some(loaded) = taken.loaded {
                book.reload(loaded);
            }
            book.version = Some(taken.version);
            // Another connection may have ended the sale meanwhile.
            book.sale = None;
            book.journal = journal.map(|file| Journal { file, len: taken.journal_len });
            book.held = true;
            book.holds += 1;
            book.last_claim = Some(Instant::now());
            book.journal.is_some().then_some(book.holds)
        };
        if taken.replayed > 0 {
            self.wake_consumers();
        }
        if let Some(hold) = idle_watch {
            let_go_when_idle(Arc::downgrade(slot), hold);
        }
        Ok(())
    }

    /// At open: writes the journal lines a previous process answered and did not write,
    /// for every sale no other connection holds.
    pub(crate) fn replay_journals(&self) -> anyhow::Result<()> {
        let Some(dir) = &self.books.journals else { return Ok(()) };
        let entries = std::fs::read_dir(dir).with_context(|| format!("Failed to list {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            let Some(sale_id) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".journal")) else {
                continue;
            };
            let file = OpenOptions::new().read(true).append(true).open(&path)?;
            if file.try_lock().is_err() {
                // Held by another connection, which took it up.
                continue;
            }
            let (sale_id, kept_path) = (sale_id.to_owned(), path.clone());
            let taken = self.db.call_now(move |conn| take_up(conn, &sale_id, Some(&kept_path), None, false))?;
            if taken.replayed > 0 {
                tracing::warn!(journal = %path.display(), claims = taken.replayed, "claims answered before a crash were written from the journal");
            }
            drop(file);
        }
        Ok(())
    }
}

/// Opens `path` and waits for its lock.
async fn lock_journal(path: &Path, sale_id: &str) -> anyhow::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
        .with_context(|| format!("Failed to open the journal {}", path.display()))?;
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => tokio::time::sleep(LOCK_POLL).await,
            Err(std::fs::TryLockError::WouldBlock) => {
                bail!("Flash sale {sale_id} is held by another connection to the data directory")
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(anyhow::Error::from(e).context(format!("Failed to lock the journal {}", path.display())))
            }
        }
    }
}

/// Lets the sale go once its hold number `hold` saw no claim for [`IDLE`] with
/// everything written, so another connection can hold it.
fn let_go_when_idle(slot: Weak<BookSlot>, hold: u64) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(IDLE).await;
            let Some(slot) = slot.upgrade() else { return };
            let mut book = slot.lock();
            if !book.held || book.holds != hold {
                return;
            }
            let idle = book.last_claim.is_none_or(|at| at.elapsed() >= IDLE);
            if idle && book.queued.is_empty() && book.in_flight == 0 {
                let version = book.version;
                book.let_go();
                // Everything is written: the book is the file's at this version.
                book.version = version;
                return;
            }
        }
    });
}

/// A sale's book as the file has it.
#[derive(Debug)]
struct Loaded {
    closed: bool,
    shards: Vec<u32>,
    customers: foldhash::HashMap<String, u32>,
    keys: Vec<String>,
}

/// What taking a sale up found.
#[derive(Debug)]
struct TakenUp {
    version: i64,
    /// Where the journal's next line starts.
    journal_len: u64,
    /// The book read from the file; none when the kept one is current.
    loaded: Option<Loaded>,
    /// Journal lines written to the file now.
    replayed: usize,
}

/// On the database thread, with the sale's journal locked: writes the journal's lines past
/// what the file has, each in its own savepoint (one whose conditions fail is logged and
/// left out: it cannot be, as the book that answered it had every claim), and cuts off a
/// torn last line; empties a journal fully written; and reads the book unless `kept` is
/// the version the file is at.
fn take_up(
    conn: &mut Connection,
    sale_id: &str,
    journal: Option<&Path>,
    kept: Option<i64>,
    load_book: bool,
) -> anyhow::Result<TakenUp> {
    let (mut written, mut version): (u64, i64) = conn
        .query_row_cached("SELECT journal_written, version FROM flash_sale_books WHERE sale_id = ?1", [sale_id], |row| {
            Ok((u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0), row.get(1)?))
        })
        .optional()
        .context("Failed to read how far the journal is written")?
        .unwrap_or((0, 0));
    let mut replayed = 0;
    if let Some(path) = journal {
        let mut file =
            OpenOptions::new().read(true).write(true).open(path).with_context(|| format!("Failed to open {}", path.display()))?;
        let len = file.metadata()?.len();
        if len < written {
            // Emptied by the hold before, once written whole.
            written = 0;
        }
        if len > written {
            let mut tail = Vec::new();
            file.seek(SeekFrom::Start(written))?;
            file.read_to_end(&mut tail)?;
            let whole = tail.iter().rposition(|b| *b == b'\n').map_or(0, |at| at + 1);
            for line in tail[..whole].split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                replay(conn, sale_id, line)?;
                replayed += 1;
            }
            written += whole as u64;
            if whole < tail.len() {
                // A line cut short by a crash: never answered.
                file.set_len(written)?;
            }
            if replayed > 0 {
                version += 1;
            }
        }
        if replayed == 0 && written > 0 {
            // Everything in it is in the file.
            file.set_len(0)?;
            written = 0;
        }
        conn.execute_cached(
            "INSERT INTO flash_sale_books (sale_id, journal_written, version) VALUES (?1, ?2, ?3)
             ON CONFLICT (sale_id) DO UPDATE SET journal_written = excluded.journal_written, version = excluded.version",
            params![sale_id, i64::try_from(written)?, version],
        )
        .context("Failed to record how far the journal is written")?;
    }
    let loaded = if load_book && kept != Some(version) { Some(load(conn, sale_id)?) } else { None };
    Ok(TakenUp { version, journal_len: written, loaded, replayed })
}

/// Writes one journal line's claim in a savepoint of its own.
fn replay(conn: &Connection, sale_id: &str, line: &[u8]) -> anyhow::Result<()> {
    let c = match claiming_of(sale_id, line) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(sale_id, error = %format!("{e:#}"), "a journal line cannot be read; it is left out");
            return Ok(());
        }
    };
    conn.execute_batch("SAVEPOINT replay")?;
    let written = take_from_shard(conn, &c.sale_id, c.shard, c.quantity, 1)
        .and_then(|taken| Ok(taken && count_customer(conn, &c)? && write_claim(conn, &c)?));
    if !matches!(written, Ok(true)) {
        conn.execute_batch("ROLLBACK TO replay")?;
        tracing::error!(sale_id, key = %c.key, outcome = ?written, "a journaled claim does not fit the file; it is left out");
    }
    conn.execute_batch("RELEASE replay")?;
    Ok(())
}

/// Reads a sale's book from the file: closed or not, its shards' units, its customers'
/// units claimed, its keys.
fn load(conn: &Connection, sale_id: &str) -> anyhow::Result<Loaded> {
    let closed = conn
        .query_row_cached("SELECT closed_at IS NOT NULL FROM flash_sales WHERE sale_id = ?1", [sale_id], |row| row.get(0))
        .optional()
        .context("Failed to read the sale")?
        .unwrap_or(false);
    let shards = crate::flash_sales::file_levels(conn, sale_id)?.into_iter().map(|(left, _)| left).collect();
    let mut customers = foldhash::HashMap::default();
    {
        let mut stmt = conn.prepare_cached("SELECT customer_id, claimed FROM flash_sale_customers WHERE sale_id = ?1")?;
        let mut rows = stmt.query([sale_id]).context("Failed to read the customers' claims")?;
        while let Some(row) = rows.next()? {
            customers.insert(row.get(0)?, to_u32(row.get(1)?, "claimed")?);
        }
    }
    let mut keys = Vec::new();
    {
        let mut stmt = conn.prepare_cached("SELECT idempotency_key FROM flash_sale_claims WHERE sale_id = ?1")?;
        let mut rows = stmt.query([sale_id]).context("Failed to read the claims' keys")?;
        while let Some(row) = rows.next()? {
            keys.push(row.get(0)?);
        }
    }
    Ok(Loaded { closed, shards, customers, keys })
}

/// The operation that writes every claim queued in `slot`'s book when it runs, in a
/// savepoint of their own, with how far the journal is written and the version raised.
fn write_queued(conn: &mut Connection, slot: &BookSlot) -> anyhow::Result<Written> {
    let claims = {
        let mut book = slot.lock();
        let claims = std::mem::take(&mut book.queued);
        if !claims.is_empty() {
            book.in_flight += 1;
        }
        claims
    };
    if claims.is_empty() {
        return Ok(Written { claims, outcome: Ok(0) });
    }
    conn.execute_batch("SAVEPOINT book")?;
    let outcome = write_all(conn, &slot.sale_id, &claims);
    if outcome.is_err() {
        conn.execute_batch("ROLLBACK TO book")?;
        // At once, before a later write takes claims journaled after these: the next hold
        // writes them all from the journal, in order.
        slot.lock().let_go();
    }
    conn.execute_batch("RELEASE book")?;
    Ok(Written { claims, outcome })
}

/// The claims one [`write_queued`] picked up, and the version it wrote (or why not).
#[derive(Debug)]
struct Written {
    claims: Vec<Queued>,
    outcome: anyhow::Result<i64>,
}

/// Marks the claims of a write written once its commit is known (on the database thread).
/// A write that failed lets the sale go: its claims are in the journal, and the next hold
/// writes them from there. True when claims were written.
fn deliver(slot: &BookSlot, written: anyhow::Result<Written>) -> bool {
    let failure = match written {
        Ok(Written { claims, outcome: Ok(version) }) => {
            if claims.is_empty() {
                return false;
            }
            let mut book = slot.lock();
            book.in_flight = book.in_flight.saturating_sub(1);
            for queued in &claims {
                if let Some(claimed) = book.keys.get_mut(&queued.claim.key) {
                    *claimed = None;
                }
            }
            book.version = Some(version);
            return true;
        }
        Ok(Written { outcome: Err(e), .. }) | Err(e) => e,
    };
    tracing::error!(sale_id = %slot.sale_id, error = %format!("{failure:#}"), "the claims answered could not be written; the journal keeps them");
    slot.lock().let_go();
    false
}

/// [`ROWS_PER_STATEMENT`] claims' customer totals (each within the limit) and claim rows
/// (each on a new key), in one statement each: what one claim's statements write, so many
/// at a time.
fn write_rows(conn: &Connection, sale_id: &str, chunk: &[Queued]) -> anyhow::Result<()> {
    static CUSTOMERS: LazyLock<String> = LazyLock::new(|| {
        rows_statement(
            "INSERT INTO flash_sale_customers (sale_id, customer_id, claimed) VALUES",
            "(?1, {1}, {2})",
            2,
            2,
            "ON CONFLICT (sale_id, customer_id) DO UPDATE SET claimed = claimed + excluded.claimed WHERE claimed + excluded.claimed <= ?2",
        )
    });
    static CLAIMS: LazyLock<String> = LazyLock::new(|| {
        rows_statement(
            "INSERT INTO flash_sale_claims (sale_id, idempotency_key, body) VALUES",
            "(?1, {1}, {2})",
            1,
            2,
            "ON CONFLICT DO NOTHING",
        )
    });
    let limit = chunk.first().map_or(0, |q| q.claim.limit);
    if chunk.iter().any(|q| q.claim.limit != limit) {
        bail!("the claims of flash sale {sale_id} written together have different limits");
    }
    let mut values: Vec<&dyn ToSql> = vec![&sale_id, &limit];
    for queued in chunk {
        values.push(&queued.claim.customer);
        values.push(&queued.claim.quantity);
    }
    if conn.prepare_cached(&CUSTOMERS)?.execute(&*values).context("Failed to count the customers' claims")? != chunk.len() {
        bail!("a customer of flash sale {sale_id} has claimed more than its book says");
    }
    let mut values: Vec<&dyn ToSql> = vec![&sale_id];
    for queued in chunk {
        values.push(&queued.claim.key);
        values.push(&queued.claim.body);
    }
    if conn.prepare_cached(&CLAIMS)?.execute(&*values).context("Failed to write the claim rows")? != chunk.len() {
        bail!("flash sale {sale_id} has a claim under a key its book did not have");
    }
    Ok(())
}

/// The queued claims' rows, each shard's units taken in one conditional statement, then
/// the customers' totals and the claims (many to a statement, [`write_rows`]) and their
/// messages; then the journal's progress.
fn write_all(conn: &Connection, sale_id: &str, claims: &[Queued]) -> anyhow::Result<i64> {
    let mut shards: std::collections::BTreeMap<u32, (u32, u32)> = std::collections::BTreeMap::new();
    for queued in claims {
        let (units, count) = shards.entry(queued.claim.shard).or_default();
        *units = units.saturating_add(queued.claim.quantity);
        *count += 1;
    }
    for (shard, (units, count)) in shards {
        if !take_from_shard(conn, sale_id, shard, units, count)? {
            bail!("shard {shard} of flash sale {sale_id} has fewer than the {units} units its book took");
        }
    }
    let mut chunks = claims.chunks_exact(ROWS_PER_STATEMENT);
    for chunk in &mut chunks {
        write_rows(conn, sale_id, chunk)?;
    }
    for queued in chunks.remainder() {
        let c = &queued.claim;
        if !count_customer(conn, c)? {
            bail!("customer {} of flash sale {sale_id} has claimed more than its book says", c.customer);
        }
        if !insert_claim(conn, c)? {
            bail!("flash sale {sale_id} has a claim under key {} its book did not have", c.key);
        }
    }
    crate::queue::enqueue(conn, claims.iter().flat_map(|q| &q.claim.send))?;
    let written = claims.iter().map(|q| q.journal_end).max().unwrap_or(0);
    conn.query_row_cached(
        "INSERT INTO flash_sale_books (sale_id, journal_written, version) VALUES (?1, ?2, 1)
         ON CONFLICT (sale_id) DO UPDATE SET journal_written = MAX(journal_written, excluded.journal_written), version = version + 1
         RETURNING version",
        params![sale_id, i64::try_from(written)?],
        |row| row.get(0),
    )
    .context("Failed to record the claims written")
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use oms_domain::flash_sale::{Claim, ClaimId, FlashSale, IdempotencyKey, SaleId, SaleTerms};
    use oms_domain::messages::{AllocateOrder, Outgoing, QueueName};
    use oms_domain::ports::{ClaimOutcome, FlashSaleStore, InventoryStore, WarehouseStore};
    use oms_domain::stock::Warehouse;
    use oms_domain::{Currency, CustomerId, MerchantId, OrderId, Sku, WarehouseId};

    use super::{journal_line, write_all, Queued, JOURNALS};
    use crate::flash_sales::Claiming;
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

    fn message(claim: &Claim) -> Vec<Outgoing> {
        vec![Outgoing::of(&AllocateOrder::new(claim.order_id.clone()))]
    }

    /// Two stores on one file (two processes, as far as the sale knows): one holds the
    /// sale while it claims, the other waits for it to let go, then takes it up with every
    /// claim the first answered. Nothing oversold, no key twice, nobody past the limit.
    #[tokio::test]
    async fn two_stores_on_one_file_take_turns_holding_a_sale_and_each_sees_the_others_claims() {
        let dir = tempfile::tempdir().expect("a directory");
        let (a, b) = (Embedded::open(dir.path()).expect("a store"), Embedded::open(dir.path()).expect("a second store"));
        let sale = sale(&a, 2).await;
        let first = claim(&sale, "k-1", "c-1");
        assert_eq!(a.claim(&first, 1, &message(&first)).await.expect("claim"), ClaimOutcome::Claimed, "a holds the sale");
        let second = claim(&sale, "k-2", "c-2");
        assert_eq!(b.claim(&second, 1, &message(&second)).await.expect("claim"), ClaimOutcome::Claimed, "b waited for a");
        let third = claim(&sale, "k-3", "c-3");
        assert_eq!(a.claim(&third, 1, &[]).await.expect("claim"), ClaimOutcome::ShardShort { units_left: 0 });
        let retried = a.claim(&claim(&sale, "k-2", "c-2"), 1, &[]).await.expect("claim");
        assert_eq!(retried, ClaimOutcome::Duplicate(Box::new(second)), "b's key is b's claim");
        let over = a.claim(&claim(&sale, "k-4", "c-1"), 1, &[]).await.expect("claim");
        assert_eq!(over, ClaimOutcome::LimitExceeded { claimed: 1 });
        let levels = b.shard_levels(&sale).await.expect("levels");
        assert_eq!((levels[0].units_left, levels[0].claims), (0, 2));
        assert_eq!(b.claim(&claim(&sale, "k-1", "c-1"), 1, &[]).await.expect("claim"), ClaimOutcome::Duplicate(Box::new(first)));
        assert_eq!(a.pending(QueueName::Allocate).await.expect("the queue").len(), 2, "each claim's message, once");
    }

    /// A claim answered and journaled, whose write never ran (the process died first), is
    /// written from the journal when the directory is next opened: its row, the customer's
    /// total, the shard's units and its message at once. A line cut short is never
    /// answered and is left out.
    #[tokio::test]
    async fn a_claim_journaled_and_not_written_is_written_at_the_next_open() {
        let dir = tempfile::tempdir().expect("a directory");
        let store = Embedded::open(dir.path()).expect("a store");
        let sale = sale(&store, 2).await;
        drop(store);
        let answered = claim(&sale, "k-1", "c-1");
        let line = journal_line(&Claiming::new(&answered, 1, &message(&answered)).expect("its rows"));
        let mut journal = line.clone();
        journal.extend_from_slice(&line[..line.len() / 2]);
        std::fs::write(dir.path().join(JOURNALS).join(format!("{}.journal", sale.sale_id)), journal).expect("the journal");

        let reopened = Embedded::open(dir.path()).expect("the store opens again");
        let found = reopened.claim_by_key(&sale.sale_id, &answered.idempotency_key).await.expect("claim_by_key");
        assert_eq!(found, Some(answered.clone()));
        let levels = reopened.shard_levels(&sale).await.expect("levels");
        assert_eq!((levels[0].units_left, levels[0].claims), (1, 1));
        assert_eq!(reopened.pending(QueueName::Allocate).await.expect("the queue").len(), 1, "its order's message");
        let again = reopened.claim(&claim(&sale, "k-2", "c-1"), 1, &[]).await.expect("claim");
        assert_eq!(again, ClaimOutcome::LimitExceeded { claimed: 1 }, "the customer's total came with it");
        drop(reopened);
        let once_more = Embedded::open(dir.path()).expect("and again");
        assert_eq!(once_more.shard_levels(&sale).await.expect("levels")[0].claims, 1, "written once");
    }

    /// A write of more claims than one statement holds (a busy sale's batch) writes each
    /// claim's rows and message; one claim among them on a key already written writes none.
    #[tokio::test]
    async fn a_batch_of_claims_past_one_statement_lands_whole_or_not_at_all() {
        let store = Embedded::open_in_memory().expect("a store");
        let sale = sale(&store, 100).await;
        let queued = |key: &str, customer: &str| {
            let c = claim(&sale, key, customer);
            Queued { claim: std::sync::Arc::new(Claiming::new(&c, 1, &message(&c)).expect("its rows")), journal_end: 0 }
        };
        let claiming = |i: usize| queued(&format!("k-{i}"), &format!("c-{i}"));
        let batch: Vec<Queued> = (0..super::ROWS_PER_STATEMENT + 9).map(claiming).collect();
        let sale_id = sale.sale_id.to_string();
        let (id, written) = (sale_id.clone(), batch);
        store.db.call(move |conn| write_all(conn, &id, &written)).await.expect("the batch is written");
        let levels = store.shard_levels(&sale).await.expect("levels");
        assert_eq!((levels[0].units_left, levels[0].claims), (59, 41));
        assert_eq!(store.pending(QueueName::Allocate).await.expect("the queue").len(), 41);
        let key = IdempotencyKey::parse("k-40").expect("a key");
        assert!(store.claim_by_key(&sale.sale_id, &key).await.expect("claim_by_key").is_some());

        let mut again: Vec<Queued> = (100..100 + super::ROWS_PER_STATEMENT).map(claiming).collect();
        again.insert(0, queued("k-3", "c-new"));
        let id = sale_id.clone();
        let refused = store.db.call(move |conn| write_all(conn, &id, &again)).await;
        assert!(refused.is_err(), "k-3 is written: the whole batch is refused");
        let levels = store.shard_levels(&sale).await.expect("levels");
        assert_eq!((levels[0].units_left, levels[0].claims), (59, 41), "nothing of it stays");
        assert_eq!(store.pending(QueueName::Allocate).await.expect("the queue").len(), 41);
    }
}
