//! `oms serve`: the contract's HTTP routes and the queue workers over one data directory.

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
    /// Drive the queues in this process (off only in tests that stop work mid-flow).
    pub run_workers: bool,
    /// How long an unpaid order holds its stock before the sweeper cancels it
    /// (`payment_expired`).
    pub unpaid_hold: chrono::Duration,
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
            run_workers: true,
            unpaid_hold: chrono::Duration::minutes(oms_domain::usecases::sweep::DEFAULT_UNPAID_HOLD_MINUTES),
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
    state.pricing = PricingModel::new(current_pricing_model(&options.data_dir));
    let ports = state.ports.clone();
    let listener =
        tokio::net::TcpListener::bind(options.addr).await.with_context(|| format!("Failed to listen on {}", options.addr))?;
    let addr = listener.local_addr().context("Failed to read the bound address")?;
    let (stop, stopped) = watch::channel(false);

    let mut tasks = Vec::new();
    if options.run_workers {
        let limits = oms_domain::usecases::sweep::SweepLimits { unpaid_hold: options.unpaid_hold, ..Default::default() };
        tasks.extend(crate::workers::spawn_with(&embedded, &ports, &stopped, limits));
    }
    tasks.push(tokio::spawn(follow_pricing_model(options.data_dir.clone(), state.pricing.clone(), stopped.clone())));
    let throttle = Throttle::new(options.limits);
    tasks.push(tokio::spawn(forget_quiet_clients(throttle.clone(), stopped.clone())));
    let router = oms_api::routes::all(state).layer(axum::middleware::from_fn_with_state(throttle, oms_api::throttle::throttle));
    let mut until_stopped = stopped.clone();
    tasks.push(tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let serving = axum::serve(listener, service).with_graceful_shutdown(async move {
            let _ = until_stopped.wait_for(|stop| *stop).await;
        });
        if let Err(err) = serving.await {
            tracing::error!(error = ?err, "the HTTP server stopped");
        }
    }));
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

/// Swaps in the data directory's current pricing model whenever its pointer names another
/// version than the one served, until stopped. A model that cannot be loaded is logged
/// and the served one kept.
async fn follow_pricing_model(data_dir: PathBuf, pricing: PricingModel, mut stopped: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(PRICING_POLL) => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
        let served = pricing.current().map(|artifact| artifact.version.clone());
        let current = match crate::retrain::current_version(&data_dir) {
            Ok(current) => current,
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), "the pricing model pointer cannot be read");
                continue;
            }
        };
        if current.is_none() || current == served {
            continue;
        }
        let dir = data_dir.clone();
        if let Ok(Some(artifact)) = tokio::task::spawn_blocking(move || current_pricing_model(&dir)).await {
            pricing.replace(artifact);
        }
    }
}

/// The data directory's current pricing model; none before the first `oms retrain`. A
/// model that cannot be read is logged and skipped: quotes answer 503, orders go on.
fn current_pricing_model(data_dir: &std::path::Path) -> Option<oms_pricing::Artifact> {
    match crate::retrain::load_current(data_dir) {
        Ok(Some(artifact)) => {
            tracing::info!(model_version = %artifact.version, "pricing model loaded");
            Some(artifact)
        }
        Ok(None) => None,
        Err(err) => {
            tracing::warn!(error = format!("{err:#}"), "the current pricing model cannot be loaded; quotes answer 503");
            None
        }
    }
}
