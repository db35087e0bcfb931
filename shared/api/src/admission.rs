//! Bot defence for bursts: proof-of-work admission on the routes a burst of bots aims at
//! (flash-sale claims, auction bids). When it is on, a request must carry
//! `X-Proof-Of-Work: <nonce>` such that SHA-256 of `<challenge>:<nonce>` starts with at
//! least `bits` zero bits, where the challenge is
//! `oms-pow:v1:<sale or auction id>:<customer id>:<minute>` and `<minute>` is the Unix
//! minute now or the one before (so a proof found near a minute's end still counts).
//!
//! Besides, each (sale or auction, customer) may send at most so many of these requests a
//! second (`429 rate_limited` past it, with `Retry-After`): a customer id hammering one
//! sale is slowed whatever its proofs. The buckets live in the process (`oms serve`, or
//! each Lambda container, so in AWS the limit is per container).
//!
//! A person's browser finds one proof in a fraction of a second; a bot must pay the same
//! work for every customer id and every minute it claims under, which is what makes a
//! burst of thousands of fake buyers expensive. The check is stateless (nothing stored,
//! the same in `oms serve` and in every Lambda container) and costs one hash. A proof
//! counts for its customer and resource for up to two minutes; the per-customer limit
//! and idempotency keys already bound what one customer's repeated proofs can do.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, RateLimiter};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorCode};
use crate::throttle::Rate;

/// The header carrying the nonce.
pub const PROOF_HEADER: &str = "x-proof-of-work";
/// Most leading zero bits a deployment may ask for (2^28 hashes is minutes of a phone's time).
pub const MAX_BITS: u8 = 28;
/// Longest nonce accepted.
pub const MAX_NONCE_CHARS: usize = 64;

/// Buckets kept before the quiet ones are forgotten.
const BUCKETS_KEPT: usize = 100_000;

/// The admission policy of the burst routes.
#[derive(Debug, Clone, Default)]
pub struct Admission {
    /// Leading zero bits a proof must have; `None`: no proof asked.
    pub proof_of_work_bits: Option<u8>,
    /// A bucket per (sale or auction, customer); `None`: no limit.
    per_customer: Option<Arc<DefaultKeyedRateLimiter<String>>>,
}

impl Admission {
    /// Proof of work of `bits` (0: none), at most [`MAX_BITS`].
    pub fn proof_of_work(bits: u8) -> Result<Admission, String> {
        if bits > MAX_BITS {
            return Err(format!("proof-of-work bits must be 0 to {MAX_BITS}, not {bits}"));
        }
        Ok(Admission { proof_of_work_bits: (bits > 0).then_some(bits), per_customer: None })
    }

    /// The same, with each (sale or auction, customer) held to `rate` (`None`: no limit).
    pub fn per_customer(self, rate: Option<Rate>) -> Admission {
        Admission { per_customer: rate.map(|rate| Arc::new(RateLimiter::keyed(rate.quota()))), ..self }
    }

    /// Admits a request for `resource` by `customer` at `now` carrying `nonce` (the header's
    /// value): `429 rate_limited` (with `Retry-After`) when the customer is past its rate on
    /// the resource, `428 proof_required` (saying the challenge to solve) when a proof is
    /// asked and it does not solve it.
    pub fn admit(&self, resource: &str, customer: &str, nonce: Option<&str>, now: DateTime<Utc>) -> Result<(), ApiError> {
        if let Some(limiter) = &self.per_customer {
            if limiter.len() > BUCKETS_KEPT {
                limiter.retain_recent();
            }
            if let Err(not_until) = limiter.check_key(&format!("{resource}:{customer}")) {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
                let message = format!("too many requests for {resource} by customer {customer}; retry in {seconds} s");
                return Err(ApiError { retry_after: Some(seconds), ..ApiError::new(ErrorCode::RateLimited, message) });
            }
        }
        let Some(bits) = self.proof_of_work_bits else { return Ok(()) };
        let minute = now.timestamp().div_euclid(60);
        let refuse = |why: &str| {
            ApiError::new(
                ErrorCode::ProofRequired,
                format!(
                    "{why}: send {PROOF_HEADER}: <nonce> where SHA-256 of \"{}:<nonce>\" starts with {bits} zero bits",
                    challenge(resource, customer, minute)
                ),
            )
        };
        let Some(nonce) = nonce.map(str::trim).filter(|n| !n.is_empty()) else {
            return Err(refuse("a proof of work is required"));
        };
        if nonce.chars().count() > MAX_NONCE_CHARS || nonce.chars().any(|c| !c.is_ascii_graphic()) {
            return Err(refuse(&format!("the nonce must be 1 to {MAX_NONCE_CHARS} printable ASCII characters")));
        }
        let solves = |minute: i64| zero_bits(&challenge(resource, customer, minute), nonce) >= u32::from(bits);
        if solves(minute) || solves(minute - 1) {
            Ok(())
        } else {
            Err(refuse("the proof of work does not solve this minute's challenge"))
        }
    }
}

/// The nonce a request carries in [`PROOF_HEADER`], if any (a value that is not text
/// reads as the empty nonce, which is refused).
pub fn nonce_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(PROOF_HEADER).map(|value| value.to_str().unwrap_or_default())
}

/// The challenge of `resource` for `customer` in Unix minute `minute`.
pub fn challenge(resource: &str, customer: &str, minute: i64) -> String {
    format!("oms-pow:v1:{resource}:{customer}:{minute}")
}

/// Leading zero bits of SHA-256 of `<challenge>:<nonce>`.
pub fn zero_bits(challenge: &str, nonce: &str) -> u32 {
    let digest = Sha256::new().chain_update(challenge.as_bytes()).chain_update(b":").chain_update(nonce.as_bytes()).finalize();
    let mut bits = 0;
    for byte in digest {
        bits += byte.leading_zeros();
        if byte != 0 {
            break;
        }
    }
    bits
}

/// A nonce solving `resource`'s challenge for `customer` at `now` with `bits` zero bits,
/// as a buyer's browser finds one (a counter, tried in turn): for clients, the demo and
/// tests.
pub fn solve(resource: &str, customer: &str, bits: u8, now: DateTime<Utc>) -> String {
    let challenge = challenge(resource, customer, now.timestamp().div_euclid(60));
    (0u64..).map(|n| format!("{n:x}")).find(|nonce| zero_bits(&challenge, nonce) >= u32::from(bits)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64, second: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(minute * 60 + second, 0).expect("a time")
    }

    #[test]
    fn off_admits_everything() {
        assert!(Admission::default().admit("fs_1", "c-1", None, at(100, 0)).is_ok());
        assert_eq!(Admission::proof_of_work(0).map(|a| a.proof_of_work_bits), Ok(None));
        assert!(Admission::proof_of_work(MAX_BITS + 1).is_err());
    }

    #[test]
    fn a_proof_counts_for_its_customer_and_resource_this_minute_and_the_next() {
        let admission = Admission::proof_of_work(12).unwrap();
        let nonce = solve("fs_1", "c-1", 12, at(100, 50));
        assert!(zero_bits(&challenge("fs_1", "c-1", 100), &nonce) >= 12);
        assert!(admission.admit("fs_1", "c-1", Some(&nonce), at(100, 59)).is_ok());
        assert!(admission.admit("fs_1", "c-1", Some(&nonce), at(101, 30)).is_ok(), "found near the minute's end");
        let refused = |customer: &str, resource: &str, when| admission.admit(resource, customer, Some(&nonce), when).is_err();
        assert!(refused("c-1", "fs_1", at(102, 0)), "two minutes on");
        assert!(refused("c-2", "fs_1", at(100, 59)), "another customer's challenge");
        assert!(refused("c-1", "fs_2", at(100, 59)), "another sale's challenge");
    }

    #[test]
    fn a_customer_past_its_rate_on_a_sale_waits_and_others_do_not() {
        let admission = Admission::default().per_customer(Rate::per_second(1));
        let now = at(5, 0);
        assert!(admission.admit("fs_1", "c-1", None, now).is_ok());
        assert!(admission.admit("fs_1", "c-1", None, now).is_ok(), "a burst of two");
        let err = admission.admit("fs_1", "c-1", None, now).unwrap_err();
        assert_eq!((err.code, err.retry_after), (ErrorCode::RateLimited, Some(1)));
        assert!(admission.admit("fs_1", "c-2", None, now).is_ok(), "another customer");
        assert!(admission.admit("fs_2", "c-1", None, now).is_ok(), "another sale");
    }

    #[test]
    fn a_missing_or_malformed_proof_is_refused_naming_the_challenge() {
        let admission = Admission::proof_of_work(8).unwrap();
        for nonce in [None, Some(""), Some("has space"), Some(&*"x".repeat(65))] {
            let err = admission.admit("auc_1", "c-9", nonce, at(7, 0)).unwrap_err();
            assert_eq!(err.code, ErrorCode::ProofRequired);
            assert!(err.message.contains("oms-pow:v1:auc_1:c-9:7"), "{}", err.message);
        }
    }
}
