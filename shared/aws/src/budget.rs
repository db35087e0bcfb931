//! The one retry budget of the AWS adapters: how often and how long each layer tries, so
//! that the layers together stay inside the functions' 10 s timeout. The arithmetic is
//! in `docs/retries.md`; change a number here and there together.
//!
//! - The SDK (every DynamoDB and SQS call): [`retry_config`] and [`timeout_config`].
//! - The DynamoDB adapter's own loops, which repeat only on an *answer* (a transaction
//!   cancelled by `TransactionConflict`, a failed condition that a fresh read contradicts),
//!   never on an SDK error: [`TRANSACT_ATTEMPTS`], [`RACE_ATTEMPTS`], [`backoff`].

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

/// Attempts the SDK makes of one call (the first and two retries), in standard mode:
/// throttling, 5xx answers, I/O errors and attempt timeouts are retried.
pub const SDK_MAX_ATTEMPTS: u32 = 3;
/// The SDK's back-off before its first retry; it doubles, with full jitter (a random
/// fraction of it), up to [`SDK_MAX_BACKOFF`]. The default (1 s doubling to 20 s) alone
/// could outlast the function.
pub const SDK_INITIAL_BACKOFF: Duration = Duration::from_millis(25);
/// The longest back-off the SDK sleeps, also the cap on a server's `retry-after`.
pub const SDK_MAX_BACKOFF: Duration = Duration::from_millis(200);
/// Longest wait for a TCP/TLS connection (the default is 3.1 s).
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Longest one attempt of a call may take, connecting included; then it is retried.
/// DynamoDB answers in milliseconds, a 100-item transaction in tens of them.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(800);
/// Longest one call may take, every attempt and back-off included: the most a single
/// call adds to a message's handling, whether it then succeeds or fails.
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(2_000);

/// How many times the adapter sends a transaction cancelled only by `TransactionConflict`.
pub const TRANSACT_ATTEMPTS: u32 = 3;
/// How many times the adapter tries an operation whose failed condition a fresh read
/// contradicts (another writer moved the stock in between), and re-reads a reservation
/// that changed under a release.
pub const RACE_ATTEMPTS: u32 = 2;
/// The adapter's back-off before its first retry; it doubles up to [`ADAPTER_MAX_BACKOFF`].
pub const ADAPTER_INITIAL_BACKOFF: Duration = Duration::from_millis(25);
/// The adapter's longest back-off.
pub const ADAPTER_MAX_BACKOFF: Duration = Duration::from_millis(100);

/// The SDK's retries: standard mode, [`SDK_MAX_ATTEMPTS`], a short jittered back-off.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(SDK_MAX_ATTEMPTS)
        .with_initial_backoff(SDK_INITIAL_BACKOFF)
        .with_max_backoff(SDK_MAX_BACKOFF)
}

/// The SDK's timeouts for the order flow (DynamoDB and SQS).
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// The S3 client's timeouts: model artifacts are large and off the order flow (the
/// retraining function has 15 minutes), so only connecting is bounded here and the
/// function's own timeout bounds the rest.
#[cfg(feature = "artifacts")]
pub fn artifact_timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .disable_operation_attempt_timeout()
        .disable_operation_timeout()
        .build()
}

/// The back-off before attempt `attempt + 1` of an adapter loop (`attempt` counts from 1):
/// [`ADAPTER_INITIAL_BACKOFF`] doubling per attempt up to [`ADAPTER_MAX_BACKOFF`], then a
/// random point between half of that and all of it, so colliding writers spread out.
pub fn backoff(attempt: u32) -> Duration {
    let ceiling = ADAPTER_INITIAL_BACKOFF.saturating_mul(1 << attempt.saturating_sub(1).min(16)).min(ADAPTER_MAX_BACKOFF);
    let half = ceiling / 2;
    let micros = u64::try_from(half.as_micros()).unwrap_or(u64::MAX);
    half + Duration::from_micros(random() % (micros + 1))
}

/// A random number from the standard library's per-instance random hash keys.
fn random() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    hasher.finish()
}

/// The most the adapter sleeps in the back-offs of one loop of `attempts` attempts.
pub fn worst_backoffs(attempts: u32) -> Duration {
    (1..attempts).map(|a| ADAPTER_INITIAL_BACKOFF.saturating_mul(1 << (a - 1).min(16)).min(ADAPTER_MAX_BACKOFF)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::retry::RetryMode;

    #[test]
    fn the_sdk_retries_in_standard_mode_with_a_short_back_off() {
        let retry = retry_config();
        assert_eq!(retry.mode(), RetryMode::Standard);
        assert_eq!(retry.max_attempts(), 3);
        assert_eq!((retry.initial_backoff(), retry.max_backoff()), (SDK_INITIAL_BACKOFF, SDK_MAX_BACKOFF));
    }

    #[test]
    fn one_sdk_call_is_bounded_by_its_operation_timeout() {
        let timeouts = timeout_config();
        assert_eq!(timeouts.operation_timeout(), Some(OPERATION_TIMEOUT));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
        // Two full attempts and the back-offs between them fit in one operation.
        assert!(ATTEMPT_TIMEOUT * 2 + SDK_INITIAL_BACKOFF + SDK_INITIAL_BACKOFF * 2 <= OPERATION_TIMEOUT);
    }

    #[test]
    fn adapter_back_offs_are_jittered_and_bounded() {
        for attempt in 1..10 {
            let ceiling = ADAPTER_INITIAL_BACKOFF.saturating_mul(1 << (attempt - 1).min(16)).min(ADAPTER_MAX_BACKOFF);
            let slept = backoff(attempt);
            assert!(slept >= ceiling / 2 && slept <= ceiling, "attempt {attempt}: {slept:?} outside {ceiling:?}");
        }
        assert_eq!(worst_backoffs(TRANSACT_ATTEMPTS), Duration::from_millis(75));
        assert_eq!(worst_backoffs(RACE_ATTEMPTS), Duration::from_millis(25));
    }
}
