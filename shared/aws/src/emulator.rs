//! A local AWS for tests: moto's server, started once per test binary.
//!
//! When `AWS_ENDPOINT_URL` is set, that endpoint is used as it is (LocalStack, or a moto
//! started by hand), so the same tests run against either. Otherwise moto's server
//! (`moto_server -H 127.0.0.1 -p <free port>`) is spawned on first use, with one change:
//! it serves one request at a time. moto's backends are not thread-safe (concurrent
//! transactions fail with "dictionary changed size during iteration", and a cancelled
//! transaction restores a snapshot of the whole table, undoing writes made meanwhile), so
//! the threaded server moto_server starts would oversell under the concurrency tests;
//! one request at a time gives DynamoDB's atomicity. The server is
//! stopped when the [`Emulator`] is dropped, and also when the test process ends without
//! dropping it (a shared one lives in a `static`): moto runs under a small shell guard
//! that kills it as soon as its standard input, a pipe from this process, closes.
//!
//! Each test builds its own [`SdkConfig`] with [`Emulator::sdk_config`] (SDK clients
//! must not outlive the tokio runtime of the test that made them) and provisions its own
//! prefixed resources, so tests never see each other's data.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, Region};

use crate::{provision, Aws};

/// How long moto may take to answer after it is spawned.
const START_TIMEOUT: Duration = Duration::from_secs(60);

const INSTALL_HINT: &str = "moto's server runs the AWS adapter tests: install it with `pip install 'moto[server]'` \
     (or set AWS_ENDPOINT_URL to a running LocalStack or moto)";

/// A running emulator endpoint, and the moto process behind it when we started one.
#[derive(Debug)]
pub struct Emulator {
    endpoint: String,
    process: Mutex<Option<MotoProcess>>,
}

#[derive(Debug)]
struct MotoProcess {
    /// The shell guard (`sh -c ...`), which exits when moto does.
    guard: Child,
    /// Closing it tells the guard to stop moto.
    stdin: Option<ChildStdin>,
    log: PathBuf,
}

impl Emulator {
    /// The emulator of this test binary, started on first use.
    ///
    /// # Panics
    /// When moto is not installed or does not start; the message says how to fix it.
    pub fn shared() -> &'static Emulator {
        static SHARED: OnceLock<Emulator> = OnceLock::new();
        SHARED.get_or_init(Emulator::start)
    }

    /// `AWS_ENDPOINT_URL` when it is set, else a moto server of its own on a free port.
    ///
    /// # Panics
    /// When moto is not installed or does not start; the message says how to fix it.
    pub fn start() -> Emulator {
        if let Some(endpoint) = std::env::var("AWS_ENDPOINT_URL").ok().filter(|e| !e.trim().is_empty()) {
            return Emulator { endpoint, process: Mutex::new(None) };
        }
        let Some(moto) = find_on_path("moto_server") else {
            panic!("moto_server is not on PATH. {INSTALL_HINT}");
        };
        let port = free_port();
        let log = std::env::temp_dir().join(format!("oms-moto-{}-{port}.log", std::process::id()));
        let log_file =
            std::fs::File::create(&log).unwrap_or_else(|e| panic!("cannot create the moto log {}: {e}", log.display()));
        // The guard runs moto and exits with it. A watcher stops moto as soon as the
        // guard's stdin (a pipe from this process) closes, whether the emulator is
        // dropped or this process ends; a log of a server stopped that way is removed.
        let script = r#"exec 3<&0
"$0" -c "$1" -H 127.0.0.1 -p "$2" </dev/null 3<&- & m=$!
( cat <&3 >/dev/null; kill "$m" 2>/dev/null; rm -f "$3" ) &
exec 3<&-
wait "$m""#;
        let mut guard = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(python_of(&moto))
            .arg(SINGLE_THREADED_MOTO)
            .arg(port.to_string())
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {}: {e}. {INSTALL_HINT}", moto.display()));
        let stdin = guard.stdin.take();
        let mut process = MotoProcess { guard, stdin, log };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = process.guard.try_wait() {
                panic!("moto_server exited ({status}) before answering:\n{}\n{INSTALL_HINT}", process.log_tail());
            }
            if started.elapsed() > START_TIMEOUT {
                let log = process.log_tail();
                process.stop();
                panic!("moto_server did not answer on {addr} within {START_TIMEOUT:?}:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Emulator { endpoint: format!("http://{addr}"), process: Mutex::new(Some(process)) }
    }

    /// The endpoint URL, such as `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// An SDK configuration for this endpoint: region us-east-1 and the dummy credentials
    /// `testing`/`testing`, with the retries of the retry budget. The process environment
    /// is left alone. The budget's timeouts are left out: moto serves one request at a
    /// time, so the concurrency tests queue far longer than DynamoDB ever answers.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .http_client(crate::https_client())
            .retry_config(crate::budget::retry_config())
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "oms-emulator"))
            .load()
            .await
    }

    /// Fresh resources under a unique prefix starting with `label`, and the adapters over them.
    ///
    /// # Panics
    /// When the emulator refuses to create them.
    pub async fn provisioned(&self, label: &str) -> Aws {
        let sdk_config = self.sdk_config().await;
        let prefix = provision::unique_prefix(label);
        let settings = provision::create_resources(&sdk_config, &prefix)
            .await
            .unwrap_or_else(|e| panic!("cannot provision {prefix} on {}: {e:#}", self.endpoint));
        Aws::new(&sdk_config, settings)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let process = match self.process.get_mut() {
            Ok(process) => process.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(mut process) = process {
            process.stop();
        }
    }
}

impl MotoProcess {
    /// Closes the guard's stdin so it stops moto, and waits a little for it.
    fn stop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.guard.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.guard.kill();
        let _ = self.guard.wait();
    }

    /// The end of moto's log, for a panic message.
    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        let start = text.len().saturating_sub(2000);
        let start = (start..text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
        format!("--- {} ---\n{}", self.log.display(), &text[start..])
    }
}

/// moto_server's own `main`, with werkzeug serving one request at a time.
const SINGLE_THREADED_MOTO: &str = r#"import sys
import moto.server as server
from werkzeug.serving import run_simple
server.run_simple = lambda *args, **kwargs: run_simple(*args, **dict(kwargs, threaded=False))
server.main(sys.argv[1:])"#;

/// The Python that runs `moto_server`: the interpreter of its `#!` line, or `python3`
/// when the script is a wrapper (a pyenv shim).
fn python_of(moto_server: &Path) -> PathBuf {
    let first_line = std::fs::read(moto_server)
        .ok()
        .and_then(|bytes| bytes.split(|&b| b == b'\n').next().map(|line| String::from_utf8_lossy(line).into_owned()))
        .unwrap_or_default();
    match first_line.strip_prefix("#!").map(str::trim) {
        Some(interpreter) if interpreter.contains("python") && !interpreter.contains(' ') => PathBuf::from(interpreter),
        _ => PathBuf::from("python3"),
    }
}

/// A port nothing listens on now: the one the OS picks for 127.0.0.1:0.
fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0: {e}"));
    listener.local_addr().map(|a| a.port()).unwrap_or_else(|e| panic!("cannot read the bound port: {e}"))
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| candidate.is_file())
}
