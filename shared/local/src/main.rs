//! `oms`: the OMS on one machine, with no AWS account.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use oms_api::throttle::{Limits, Rate};
use oms_api::{Authenticator, ChannelSecrets, TokenTable};
use oms_local::connections::ConnectionLimits;
use oms_local::server::{self, ServeOptions};
use oms_pricing::models::TreeParams;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "oms", version, about = "Order management: every function in one process on an embedded store and queue")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP routes and run the queue workers.
    Serve {
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// Where the store and queue live; created if missing.
        #[arg(long, default_value = "oms-data", env = "OMS_DATA_DIR")]
        data_dir: PathBuf,
        /// A JSON file listing the API's bearer tokens: `[{"token", "merchant_id"?, "scopes": [...]}]`
        /// (or the list itself in `OMS_API_TOKENS`). With none, operator routes are open and
        /// only a loopback address is served.
        #[arg(long)]
        tokens: Option<PathBuf>,
        /// Operator requests per second per client address before `429 rate_limited` (burst
        /// twice that); 0 for no limit.
        #[arg(long, default_value_t = 500)]
        rate_limit: u32,
        /// Webhook requests per second per client address (burst twice that); 0 for no limit.
        #[arg(long, default_value_t = 200)]
        webhook_rate_limit: u32,
        /// Open connections at most; further clients wait in the listen backlog.
        #[arg(long, default_value_t = ConnectionLimits::DEFAULT.max_connections)]
        max_connections: usize,
        /// Seconds a client has to send a request's headers, from connecting or from its
        /// last answer (an idle kept-alive connection is closed after it).
        #[arg(long, default_value_t = ConnectionLimits::DEFAULT.header_timeout.as_secs())]
        header_timeout_secs: u64,
        /// Seconds a client has to send a request's body once its headers are in
        /// (`408 request_timeout` after).
        #[arg(long, default_value_t = ConnectionLimits::DEFAULT.body_timeout.as_secs())]
        body_timeout_secs: u64,
        /// Customers' order lookups (`POST /track/lookup`) per second per client address
        /// (burst twice that); 0 for no limit.
        #[arg(long, default_value_t = 2)]
        lookup_rate_limit: u32,
        /// Minutes an unpaid order holds its stock before the sweeper cancels it
        /// (`payment_expired`) and gives the stock back.
        #[arg(long, default_value_t = oms_domain::usecases::sweep::DEFAULT_UNPAID_HOLD_MINUTES, env = "OMS_UNPAID_HOLD_MINUTES")]
        unpaid_hold_minutes: i64,
        /// Hours apart a customer's orders to one address may be placed and still ship in
        /// one parcel from a warehouse they share, when that costs less; 0: never merge.
        #[arg(long, default_value_t = oms_domain::allocation::merge::DEFAULT_MERGE_WINDOW_HOURS, env = "OMS_MERGE_WINDOW_HOURS")]
        merge_window_hours: i64,
        /// Hours between scheduled reports (every template, every format, the last 30 days)
        /// written into `<data dir>/reports/<time>/` and listed by `GET /reports`; 0: none.
        /// Off by default: a run reads every order. The newest 30 runs are kept.
        #[arg(long, default_value_t = 0, env = "OMS_REPORT_EVERY_HOURS")]
        report_every_hours: u64,
        /// A JSON file of where notices go: each warehouse's fulfilment endpoint and the
        /// Shopify, WooCommerce and Amazon credentials shipments are written back with
        /// (docs/outbound.md). None: notices are dropped, logged.
        #[arg(long, env = "OMS_OUTBOUND_FILE")]
        outbound: Option<PathBuf>,
        /// Bot defence for bursts: leading zero bits of the proof of work a flash-sale claim
        /// or an auction bid must carry (`X-Proof-Of-Work`, see the README); 0: none.
        #[arg(long, default_value_t = 0, env = "OMS_PROOF_OF_WORK_BITS")]
        proof_of_work_bits: u8,
        /// Flash-sale claims or auction bids per second one customer may send one sale or
        /// auction (burst twice that) before `429 rate_limited`; 0 for no limit.
        #[arg(long, default_value_t = 5, env = "OMS_CUSTOMER_RATE_LIMIT")]
        customer_rate_limit: u32,
        /// Days after delivery a buyer may ask for a return, and staff approve one.
        #[arg(long, default_value_t = 30, env = "OMS_RETURN_WINDOW_DAYS")]
        return_window_days: u32,
        /// Percent of the returned units' paid price kept as a restocking fee (none when the
        /// reason is the seller's fault: defective, wrong item, damaged in transit, not as described).
        #[arg(long, default_value = "10", env = "OMS_RESTOCKING_FEE_PERCENT")]
        restocking_fee_percent: rust_decimal::Decimal,
        /// The words or phrases a product listing may not carry, separated by commas or new
        /// lines, in place of the built-in list (the review's automated rules).
        #[arg(long, env = "OMS_BANNED_WORDS")]
        banned_words: Option<String>,
    },
    /// Play a scripted day of business on sample data and print a summary.
    Demo {
        /// Keep the demo's data here (default: a fresh directory under the system's temporary
        /// one, kept after the run with the reports it writes).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Take orders in bulk from a CSV file (one row per line; rows with the same
    /// external_id are one order), then allocate and reserve them.
    Import {
        file: PathBuf,
        #[arg(long, default_value = "oms-data", env = "OMS_DATA_DIR")]
        data_dir: PathBuf,
    },
    /// Queue again the step every order stuck past its status's limit waits for, and print
    /// what was done as JSON (`oms serve` does this at start and every five minutes).
    Sweep {
        #[arg(long, default_value = "oms-data", env = "OMS_DATA_DIR")]
        data_dir: PathBuf,
        /// How long an order may stay received or allocated, in minutes.
        #[arg(long, default_value_t = 10)]
        stuck_after_minutes: i64,
        /// Minutes an unpaid order holds its stock before it is cancelled (`payment_expired`).
        #[arg(long, default_value_t = oms_domain::usecases::sweep::DEFAULT_UNPAID_HOLD_MINUTES, env = "OMS_UNPAID_HOLD_MINUTES")]
        unpaid_hold_minutes: i64,
    },
    /// Train each merchant's pricing models on its history (a CSV, or without one the
    /// data directory's sales history), compare them on held-out rows (and the test file),
    /// and make each result its merchant's current model in the data directory.
    Retrain {
        /// Columns: customer_id,sku,quantity,unit_price,purchased_at,province,city,address
        /// (and optionally merchant_id). Without it: every order reserved in the data directory.
        #[arg(long)]
        train: Option<PathBuf>,
        /// Whose history the CSV is (default: its merchant_id column, else "default"); with
        /// the stored history, train this merchant only.
        #[arg(long)]
        merchant: Option<String>,
        /// The least margin over the catalogue's cost a quote keeps (0.05 is 5 %).
        #[arg(long, default_value = "0.05")]
        min_margin: rust_decimal::Decimal,
        /// Rows to measure the selected models on (the report's test_rmse).
        #[arg(long)]
        test: Option<PathBuf>,
        /// Where to write the report (JSON).
        #[arg(long)]
        report: Option<PathBuf>,
        #[arg(long, default_value = "oms-data", env = "OMS_DATA_DIR")]
        data_dir: PathBuf,
    },
    /// Check every stock (SKU, warehouse, owner): on hand = available + held, held = the
    /// open holds, and the ledger's sums = the figures. Prints a summary and every drift
    /// with the ledger entries that explain it; exits 1 on drift.
    Reconcile {
        #[arg(long, default_value = "oms-data", env = "OMS_DATA_DIR")]
        data_dir: PathBuf,
    },
    /// Write a report (sales, inventory, logistics, performance, or all) as CSV, XLSX and
    /// HTML with SVG charts, and print the paths written.
    Report {
        /// sales, inventory, logistics, performance or all.
        name: String,
        /// Orders placed from this date or RFC 3339 time (default: 30 days before --to).
        #[arg(long)]
        from: Option<String>,
        /// Up to this time, or through this date (default: now).
        #[arg(long)]
        to: Option<String>,
        /// One merchant's orders and stock only (default: every merchant's).
        #[arg(long)]
        merchant: Option<String>,
        /// csv, xlsx, html or all (several separated by commas).
        #[arg(long, default_value = "all")]
        format: String,
        /// Where to write (default: a new directory under <data dir>/reports/).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, default_value = "oms-data", env = "OMS_DATA_DIR")]
        data_dir: PathBuf,
    },
    /// Measure throughput and print the figures.
    Bench {
        #[command(subcommand)]
        what: Bench,
    },
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Orders/s of each channel's normaliser alone.
    Normalise {
        #[arg(long, default_value_t = 100_000)]
        orders: usize,
    },
    /// Orders/s through `oms serve` over HTTP, on a durable data directory.
    Serve {
        #[arg(long, default_value_t = 20_000)]
        orders: usize,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Where the store lives during the run (default: a fresh temporary directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Fit time of our regression tree on a numeric CSV (features, then the target).
    Tree {
        #[arg(long)]
        matrix: PathBuf,
        #[arg(long, default_value_t = 14)]
        max_depth: usize,
        #[arg(long, default_value_t = 5)]
        min_leaf: usize,
    },
    /// Our allocation planner against Saleor's two strategies and the exact optimum, on
    /// seeded generated orders: orders/s, total shipping cost, shipments.
    Allocate {
        #[arg(long, default_value_t = 20_000)]
        orders: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Flash-sale claims/s on one SKU in process beside a Redis Lua script, at each number of
    /// clients; or, with `--simulate`, the DynamoDB capacity model at `--rate` claims/s.
    FlashSale {
        #[arg(long, default_value_t = 20_000)]
        claims: usize,
        /// Concurrent clients, one run each.
        #[arg(long, value_delimiter = ',', default_value = "1,16,256")]
        clients: Vec<usize>,
        #[arg(long, default_value_t = 16)]
        shards: u32,
        /// Run the DynamoDB capacity simulator instead.
        #[arg(long)]
        simulate: bool,
        /// Claims/s the simulator offers on one SKU.
        #[arg(long, default_value_t = 50_000)]
        rate: u32,
        /// Where the stores live during the run (default: a fresh temporary directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Quote latency in process: every row of a CSV history quoted by the current model.
    Quote {
        /// Rows to quote (the retrain CSV columns).
        #[arg(long)]
        rows: PathBuf,
        #[arg(long, default_value = "oms-data", env = "OMS_DATA_DIR")]
        data_dir: PathBuf,
    },
    /// Hit rate at 10 of the offers and recommendations against the best sellers, on each
    /// customer's held-out last purchase of a seeded generated history.
    Recommend {
        #[arg(long, default_value_t = 20_000)]
        customers: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Time each report template over a year of generated orders in a fresh SQLite store.
    Report {
        #[arg(long, default_value_t = 1_000_000)]
        orders: usize,
        /// Where the store lives during the run (default: a fresh temporary directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Serve { .. } => "info",
        Command::Demo { .. }
        | Command::Import { .. }
        | Command::Retrain { .. }
        | Command::Bench { .. }
        | Command::Sweep { .. }
        | Command::Reconcile { .. }
        | Command::Report { .. } => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)))
        .with_writer(std::io::stderr)
        .init();
    // One panic behaviour in every build, the release profile's: log, then abort. SQLite
    // rolls back the open transaction and queued work is delivered again at the next start.
    std::panic::set_hook(Box::new(|panic| {
        tracing::error!(panic = %panic, "panicked; aborting");
        std::process::abort();
    }));

    match cli.command {
        Command::Serve {
            addr,
            data_dir,
            tokens,
            rate_limit,
            webhook_rate_limit,
            lookup_rate_limit,
            max_connections,
            header_timeout_secs,
            body_timeout_secs,
            unpaid_hold_minutes,
            merge_window_hours,
            report_every_hours,
            outbound,
            proof_of_work_bits,
            customer_rate_limit,
            return_window_days,
            restocking_fee_percent,
            banned_words,
        } => {
            let limits = Limits {
                api: Rate::per_second(rate_limit),
                webhooks: Rate::per_second(webhook_rate_limit),
                lookup: Rate::per_second(lookup_rate_limit),
            };
            let connections = ConnectionLimits {
                max_connections,
                header_timeout: Duration::from_secs(header_timeout_secs.max(1)),
                body_timeout: Duration::from_secs(body_timeout_secs.max(1)),
            };
            let report_every = (report_every_hours > 0).then(|| Duration::from_secs(report_every_hours.saturating_mul(3600)));
            let merge = oms_domain::allocation::merge::MergePolicy::hours(merge_window_hours)
                .map_err(|e| anyhow::anyhow!("--merge-window-hours (OMS_MERGE_WINDOW_HOURS): {e}"))?;
            let outbound = match outbound {
                Some(file) => {
                    let json = std::fs::read_to_string(&file)
                        .with_context(|| format!("Failed to read the outbound file {}", file.display()))?;
                    oms_outbound::Destinations::from_json(&json)?
                }
                None => oms_outbound::Destinations::none(),
            };
            let admission = oms_api::admission::Admission::proof_of_work(proof_of_work_bits)
                .map_err(|e| anyhow::anyhow!("--proof-of-work-bits (OMS_PROOF_OF_WORK_BITS): {e}"))?
                .per_customer(Rate::per_second(customer_rate_limit));
            let returns = oms_domain::returns::ReturnPolicy { window_days: return_window_days, restocking_fee_percent }
                .check()
                .map_err(|e| {
                anyhow::anyhow!(
                    "--return-window-days / --restocking-fee-percent (OMS_RETURN_WINDOW_DAYS, OMS_RESTOCKING_FEE_PERCENT): {e}"
                )
            })?;
            let review_rules = match banned_words.as_deref() {
                Some(raw) => oms_domain::product::ReviewRules::with_banned_words(raw)
                    .map_err(|e| anyhow::anyhow!("--banned-words (OMS_BANNED_WORDS): {e}"))?,
                None => oms_domain::product::ReviewRules::default(),
            };
            serve(ServeCommand {
                addr,
                data_dir,
                tokens,
                limits,
                connections,
                unpaid_hold_minutes,
                merge,
                report_every,
                outbound,
                admission,
                returns,
                review_rules,
            })
            .await
        }
        Command::Demo { data_dir: Some(dir) } => oms_local::demo::run(&dir).await,
        Command::Demo { data_dir: None } => {
            // Kept after the run, so the reports it writes can be opened.
            let dir =
                tempfile::Builder::new().prefix("oms-demo-").tempdir().context("Failed to make a temporary directory")?.keep();
            oms_local::demo::run(&dir).await
        }
        Command::Import { file, data_dir } => {
            let summary = oms_local::import::run(&data_dir, &file).await?;
            println!("{} orders imported, {} already known", summary.accepted, summary.duplicates);
            for held in &summary.held {
                println!("  held: {held}");
            }
            for refusal in &summary.refused {
                println!("  refused: {refusal}");
            }
            if summary.refused.is_empty() {
                Ok(())
            } else {
                anyhow::bail!("{} orders refused", summary.refused.len())
            }
        }
        Command::Sweep { data_dir, stuck_after_minutes, unpaid_hold_minutes } => {
            let report = oms_local::sweep::run(&data_dir, stuck_after_minutes, unpaid_hold_minutes).await?;
            println!("{}", serde_json::to_string_pretty(&report).context("Failed to encode the report")?);
            Ok(())
        }
        Command::Reconcile { data_dir } => {
            let (report, low) = oms_local::reconcile::run(&data_dir).await?;
            print!("{report}");
            println!(
                "low stock: {} of {} stocks at or below their reorder point; {} alerts raised, {} resolved",
                low.low,
                low.checked,
                low.raised.len(),
                low.resolved.len()
            );
            if !report.is_clean() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Retrain { train, merchant, min_margin, test, report, data_dir } => {
            let request = oms_local::retrain::RetrainRequest { train, merchant, test, report, data_dir, min_margin };
            for artifact in oms_local::retrain::run(&request).await? {
                println!("{}", oms_local::retrain::summary(&artifact));
            }
            Ok(())
        }
        Command::Report { name, from, to, merchant, format, out, data_dir } => {
            let templates = oms_domain::reports::Template::parse_many(name.trim())
                .with_context(|| format!("{name:?} is not a report: sales, inventory, logistics, performance or all"))?;
            let query =
                oms_domain::reports::ReportQuery::parse(from.as_deref(), to.as_deref(), merchant.as_deref(), chrono::Utc::now())?;
            let formats = oms_local::reports::Formats::parse(&format)?;
            let request = oms_local::reports::ReportRequest { templates, query, formats, out, data_dir };
            for path in oms_local::reports::run(&request).await? {
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::Bench { what: Bench::Report { orders, data_dir } } => {
            let temporary = tempfile::tempdir().context("Failed to make a temporary directory")?;
            let dir = data_dir.unwrap_or_else(|| temporary.path().to_owned());
            oms_local::report_bench::run(&dir, orders).await
        }
        Command::Bench { what: Bench::Tree { matrix, max_depth, min_leaf } } => {
            let params = TreeParams { max_depth, min_samples_leaf: min_leaf, min_error_decrease: 0.0, ..TreeParams::default() };
            oms_local::bench::tree(&matrix, params)
        }
        Command::Bench { what: Bench::Quote { rows, data_dir } } => oms_local::bench::quote(&data_dir, &rows),
        Command::Bench { what: Bench::Normalise { orders } } => oms_local::bench::normalise(orders),
        Command::Bench { what: Bench::Allocate { orders, seed } } => oms_local::allocation_bench::run(orders, seed),
        Command::Bench { what: Bench::Recommend { customers, seed } } => oms_local::recommend_bench::run(customers, seed),
        Command::Bench { what: Bench::FlashSale { simulate: true, rate, .. } } => {
            print!("{}", oms_local::flash_model::report(rate));
            Ok(())
        }
        Command::Bench { what: Bench::FlashSale { claims, clients, shards, data_dir, .. } } => {
            let temporary = tempfile::tempdir().context("Failed to make a temporary directory")?;
            let dir = data_dir.unwrap_or_else(|| temporary.path().to_owned());
            oms_local::flash_bench::compare(claims, &clients, shards, &dir).await
        }
        Command::Bench { what: Bench::Serve { orders, concurrency, data_dir } } => {
            let temporary = tempfile::tempdir().context("Failed to make a temporary directory")?;
            let dir = data_dir.unwrap_or_else(|| temporary.path().to_owned());
            oms_local::bench::serve(&dir, orders, concurrency).await
        }
    }
}

/// The environment variable that may hold the API's token list instead of `--tokens`.
const TOKENS_VARIABLE: &str = "OMS_API_TOKENS";

async fn serve(options: ServeCommand) -> anyhow::Result<()> {
    let ServeCommand {
        addr,
        data_dir,
        tokens,
        limits,
        connections,
        unpaid_hold_minutes,
        merge,
        report_every,
        outbound,
        admission,
        returns,
        review_rules,
    } = options;
    anyhow::ensure!(unpaid_hold_minutes > 0, "--unpaid-hold-minutes (OMS_UNPAID_HOLD_MINUTES) must be at least 1");
    let secrets = ChannelSecrets::from_env();
    for channel in secrets.unsigned_channels() {
        tracing::warn!(
            "UNSIGNED: webhooks from {channel} are accepted without a signature; set {} to require one",
            ChannelSecrets::variable(channel)
        );
    }
    let signed = secrets.signed_carriers();
    for carrier in ["generic", "aftership", "easypost"].into_iter().filter(|c| !signed.iter().any(|s| s == c)) {
        tracing::warn!(
            "UNSIGNED: tracking events from carrier {carrier} (and any carrier without a secret) are accepted without a \
             signature; set {} to require one",
            ChannelSecrets::carrier_variable(carrier)
        );
    }
    let auth = api_tokens(tokens.as_deref())?;
    if matches!(auth, Authenticator::Open) {
        tracing::warn!(
            "OPEN: no API tokens are configured (--tokens FILE or {TOKENS_VARIABLE}); every operator route is open, \
             so only a loopback address is served"
        );
    }
    let unpaid_hold = chrono::Duration::minutes(unpaid_hold_minutes);
    let options = ServeOptions {
        secrets,
        auth,
        limits,
        connections,
        unpaid_hold,
        merge,
        report_every,
        outbound,
        admission,
        returns,
        review_rules,
        ..ServeOptions::local(addr, data_dir.clone())
    };
    let running = server::start(options).await?;
    tracing::info!(addr = %running.addr, data_dir = %data_dir.display(), "oms serve is listening");
    stop_signal().await?;
    tracing::info!("shutting down: no new requests; finishing the work in flight");
    running.shutdown().await;
    Ok(())
}

/// What `oms serve` was asked for.
struct ServeCommand {
    addr: SocketAddr,
    data_dir: PathBuf,
    tokens: Option<PathBuf>,
    limits: Limits,
    connections: ConnectionLimits,
    unpaid_hold_minutes: i64,
    merge: oms_domain::allocation::merge::MergePolicy,
    report_every: Option<Duration>,
    outbound: oms_outbound::Destinations,
    admission: oms_api::admission::Admission,
    returns: oms_domain::returns::ReturnPolicy,
    review_rules: oms_domain::product::ReviewRules,
}

/// The API's bearer tokens from `--tokens FILE`, else `OMS_API_TOKENS`; none: open.
fn api_tokens(file: Option<&std::path::Path>) -> anyhow::Result<Authenticator> {
    let json = match file {
        Some(file) => {
            Some(std::fs::read_to_string(file).with_context(|| format!("Failed to read the token file {}", file.display()))?)
        }
        None => std::env::var(TOKENS_VARIABLE).ok().filter(|v| !v.trim().is_empty()),
    };
    let Some(json) = json else { return Ok(Authenticator::Open) };
    let table = TokenTable::from_json(&json).context("Failed to read the API tokens")?;
    Ok(if table.is_empty() { Authenticator::Open } else { Authenticator::Tokens(std::sync::Arc::new(table)) })
}

/// SIGINT (Ctrl-C) or SIGTERM (what service managers send to stop a service).
async fn stop_signal() -> anyhow::Result<()> {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).context("Failed to listen for SIGTERM")?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted.context("Failed to wait for Ctrl-C"),
        _ = terminate.recv() => Ok(()),
    }
}
