//! `oms serve`: the contract's HTTP routes and the queue workers over one data directory.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use oms_api::throttle::{Limits, Throttle};
use oms_api::{AppState, Authenticator, ChannelSecrets, PricingModel, UnsignedPolicy};
use oms_domain::ports::{Ports, SystemClock};
use oms_embedded::Embedded;

use crate::connections::ConnectionLimits;

/// How to run the local server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub secrets: ChannelSecrets,
    /// How operator routes know their caller: bearer tokens, or open (loopback only).
    pub auth: Authenticator,
    /// Requests per client address before `429 rate_limited`.
    pub limits: Limits,
    /// Open connections at most, and how long a client may take to send a request.
    pub connections: ConnectionLimits,
    /// Drive the queues in this process (off only in tests that stop work mid-flow).
    pub run_workers: bool,
    /// How long an unpaid order holds its stock before the sweeper cancels it
    /// (`payment_expired`).
    pub unpaid_hold: chrono::Duration,
    /// When allocation merges a customer's orders into one parcel.
    pub merge: oms_domain::allocation::merge::MergePolicy,
    /// How often every report template is written into `<data dir>/reports/<time>/`
    /// (`None`: never).
    pub report_every: Option<Duration>,
    /// Where the warehouses' fulfilment requests and the shops' shipment news go.
    pub outbound: oms_outbound::Destinations,
    /// Who flash-sale claims and auction bids admit (a proof of work, when asked for).
    pub admission: oms_api::admission::Admission,
    /// The return window and restocking fee.
    pub returns: oms_domain::returns::ReturnPolicy,
    /// The product review's automated rules (the deployment's banned words).
    pub review_rules: oms_domain::product::ReviewRules,
}

impl ServeOptions {
    /// Serving `data_dir` on `addr` with no channel secrets, open operator routes (so
    /// loopback only), no throttling, and the workers running: what tests and benchmarks
    /// start from.
    pub fn local(addr: SocketAddr, data_dir: PathBuf) -> ServeOptions {
        ServeOptions {
            addr,
            data_dir,
            secrets: ChannelSecrets::default(),
            auth: Authenticator::Open,
            limits: Limits::UNLIMITED,
            connections: ConnectionLimits::DEFAULT,
            run_workers: true,
            unpaid_hold: chrono::Duration::minutes(oms_domain::usecases::sweep::DEFAULT_UNPAID_HOLD_MINUTES),
            merge: oms_domain::allocation::merge::MergePolicy::default(),
            report_every: None,
            outbound: oms_outbound::Destinations::none(),
            admission: oms_api::admission::Admission::default(),
            returns: oms_domain::returns::ReturnPolicy::default(),
            review_rules: oms_domain::product::ReviewRules::default(),
        }
    }
}

/// A running server; dropping it without `shutdown` leaves the tasks running.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub embedded: Embedded,
    pub ports: Ports,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// The state every route sees, over the embedded adapters.
pub fn app_state(embedded: &Embedded, secrets: ChannelSecrets, auth: Authenticator) -> AppState {
    AppState {
        ports: embedded.ports(Arc::new(SystemClock)),
        secrets: secrets.into(),
        unsigned: UnsignedPolicy::Accept,
        auth,
        pricing: Default::default(),
        archive: Some(Arc::new(embedded.clone())),
        reports: None,
        admission: Default::default(),
        documents: None,
    }
}

/// Opens the data directory, binds the address and starts serving and working.
pub async fn start(options: ServeOptions) -> anyhow::Result<Running> {
    if matches!(options.auth, Authenticator::Open) && !options.addr.ip().is_loopback() {
        anyhow::bail!(
            "Refusing to serve {} with no API tokens: operator routes would be open to the network. \
             Configure tokens (--tokens FILE or OMS_API_TOKENS), or listen on loopback (127.0.0.1)",
            options.addr
        );
    }
    let embedded = Embedded::open(&options.data_dir)
        .with_context(|| format!("Failed to open the data directory {}", options.data_dir.display()))?;
    let mut state = app_state(&embedded, options.secrets, options.auth);
    state.pricing = PricingModel::default();
    state.admission = options.admission;
    state.reports = Some(Arc::new(oms_api::ReportDirectory(crate::reports::root(&options.data_dir))));
    state.documents = Some(Arc::new(oms_embedded::DocumentDirectory::new(options.data_dir.join("documents"))));
    load_new_pricing_models(&options.data_dir, &state.pricing, &mut HashMap::new()).await;
    let ports = state.ports.clone();
    let listener =
        tokio::net::TcpListener::bind(options.addr).await.with_context(|| format!("Failed to listen on {}", options.addr))?;
    let addr = listener.local_addr().context("Failed to read the bound address")?;
    let (stop, stopped) = watch::channel(false);

    let mut tasks = Vec::new();
    if options.run_workers {
        let limits = oms_domain::usecases::sweep::SweepLimits { unpaid_hold: options.unpaid_hold, ..Default::default() };
        let outbound = Some(options.outbound.clone());
        tasks.extend(crate::workers::spawn_with(&embedded, &ports, &stopped, limits, options.merge, outbound));
    }
    tasks.push(tokio::spawn(follow_pricing_model(options.data_dir.clone(), state.pricing.clone(), stopped.clone())));
    if let Some(every) = options.report_every {
        tasks.push(tokio::spawn(crate::reports::scheduled(embedded.clone(), options.data_dir.clone(), every, stopped.clone())));
    }
    let throttle = Throttle::new(options.limits);
    tasks.push(tokio::spawn(forget_quiet_clients(throttle.clone(), stopped.clone())));
    let router = oms_api::routes::with_return_policy(oms_api::routes::all(state), options.returns);
    let router = oms_api::routes::with_review_rules(router, options.review_rules)
        .layer(axum::middleware::from_fn_with_state(throttle, oms_api::throttle::throttle));
    tasks.push(tokio::spawn(crate::connections::serve(listener, router, options.connections, stopped.clone())));
    Ok(Running { addr, embedded, ports, stop, tasks })
}

impl Running {
    /// Waits until every queue is empty (all queued work done), up to `limit`.
    pub async fn wait_until_idle(&self, limit: Duration) -> anyhow::Result<bool> {
        crate::workers::wait_until_idle(&self.embedded, limit).await
    }

    /// Stops taking requests and work, and waits for in-flight work to finish.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Drops the throttle's memory of clients quiet for a while, every minute, until stopped.
async fn forget_quiet_clients(throttle: Arc<Throttle>, mut stopped: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => throttle.forget_quiet_clients(),
            _ = stopped.wait_for(|stop| *stop) => return,
        }
    }
}

/// How often `oms serve` looks whether `oms retrain` has moved the current model.
const PRICING_POLL: Duration = Duration::from_secs(2);

/// Swaps in each merchant's current pricing model in the data directory whenever its
/// pointer names another version than the one served, until stopped. A model that cannot
/// be loaded is logged and the served one kept.
async fn follow_pricing_model(data_dir: PathBuf, pricing: PricingModel, mut stopped: watch::Receiver<bool>) {
    // What start-up loaded, by merchant directory.
    let mut loaded: HashMap<String, String> =
        pricing.versions().into_iter().map(|(merchant, version)| (oms_pricing::merchant_segment(&merchant), version)).collect();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(PRICING_POLL) => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
        load_new_pricing_models(&data_dir, &pricing, &mut loaded).await;
    }
}

/// Loads every merchant's current model whose version differs from the one `loaded`
/// records (by merchant directory). None before the first `oms retrain`: quotes answer 503.
async fn load_new_pricing_models(data_dir: &std::path::Path, pricing: &PricingModel, loaded: &mut HashMap<String, String>) {
    let current = match crate::retrain::current_versions(data_dir) {
        Ok(current) => current,
        Err(err) => {
            tracing::warn!(error = format!("{err:#}"), "the pricing model pointers cannot be read");
            return;
        }
    };
    for (segment, version) in current {
        if loaded.get(&segment) == Some(&version) {
            continue;
        }
        let dir = data_dir.to_path_buf();
        let (at, wanted) = (segment.clone(), version.clone());
        match tokio::task::spawn_blocking(move || crate::retrain::load(&dir, &at, &wanted)).await {
            Ok(Ok(artifact)) => {
                tracing::info!(merchant = %artifact.merchant_id, model_version = %artifact.version, "pricing model loaded");
                pricing.replace(artifact);
                loaded.insert(segment, version);
            }
            Ok(Err(err)) => {
                tracing::warn!(error = format!("{err:#}"), "a pricing model cannot be loaded; the served one is kept")
            }
            Err(err) => tracing::warn!(error = %err, "loading a pricing model failed"),
        }
    }
}
