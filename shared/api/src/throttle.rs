//! Request throttling for `oms serve`: a token bucket per client address and route group,
//! answering `429 rate_limited` with `Retry-After` once a client's bucket is empty. (In AWS
//! the HTTP API's route throttling does this job before a function runs.)
//!
//! Webhooks get their own, tighter bucket: they are open to the internet and signed only,
//! while operator routes need a credential first. The customers' order lookup
//! (`/track/...`) has the tightest: it needs no credential at all, and each try is a guess
//! at a phone number.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{ApiError, ErrorCode};

/// A sustained rate and the burst above it a client may send at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

impl Rate {
    /// `per_second` with a burst of twice that; `None` for 0 (no limit).
    pub fn per_second(per_second: u32) -> Option<Rate> {
        let per_second = NonZeroU32::new(per_second)?;
        Some(Rate { per_second, burst: per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1)) })
    }

    pub(crate) fn quota(self) -> Quota {
        Quota::per_second(self.per_second).allow_burst(self.burst)
    }
}

/// The limits per client address of each route group; `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Operator routes (and anything not named below).
    pub api: Option<Rate>,
    /// Channel webhooks (`/channels/...`) and carrier webhooks (`/carriers/...`).
    pub webhooks: Option<Rate>,
    /// The customers' order lookup (`/track/lookup`; the page itself is an operator-group request).
    pub lookup: Option<Rate>,
}

impl Limits {
    /// `oms serve`'s defaults: 500 requests/s (burst 1,000) per client on operator routes,
    /// 200/s (burst 400) on webhooks, 2/s (burst 4) on the order lookup.
    pub const DEFAULT: Limits = Limits {
        api: Some(Rate { per_second: NonZeroU32::new(500).unwrap(), burst: NonZeroU32::new(1_000).unwrap() }),
        webhooks: Some(Rate { per_second: NonZeroU32::new(200).unwrap(), burst: NonZeroU32::new(400).unwrap() }),
        lookup: Some(Rate { per_second: NonZeroU32::new(2).unwrap(), burst: NonZeroU32::new(4).unwrap() }),
    };

    pub const UNLIMITED: Limits = Limits { api: None, webhooks: None, lookup: None };
}

/// Which bucket a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Api,
    Webhooks,
    Lookup,
}

impl Group {
    fn of(path: &str) -> Group {
        if path.starts_with("/channels/") || path.starts_with("/carriers/") {
            Group::Webhooks
        } else if path.starts_with("/track/") {
            Group::Lookup
        } else {
            Group::Api
        }
    }
}

/// The buckets of every client, by route group.
#[derive(Debug)]
pub struct Throttle {
    api: Option<DefaultKeyedRateLimiter<IpAddr>>,
    webhooks: Option<DefaultKeyedRateLimiter<IpAddr>>,
    lookup: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

impl Throttle {
    pub fn new(limits: Limits) -> Arc<Throttle> {
        let limiter = |rate: Option<Rate>| rate.map(|rate| RateLimiter::keyed(rate.quota()));
        Arc::new(Throttle { api: limiter(limits.api), webhooks: limiter(limits.webhooks), lookup: limiter(limits.lookup) })
    }

    /// `Err(seconds to wait)` when `client` is over the limit of `path`'s group.
    fn check(&self, client: IpAddr, path: &str) -> Result<(), u64> {
        let limiter = match Group::of(path) {
            Group::Api => &self.api,
            Group::Webhooks => &self.webhooks,
            Group::Lookup => &self.lookup,
        };
        let Some(limiter) = limiter else { return Ok(()) };
        limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Forgets clients that have been quiet long enough to have a full bucket again.
    pub fn forget_quiet_clients(&self) {
        for limiter in [&self.api, &self.webhooks, &self.lookup].into_iter().flatten() {
            limiter.retain_recent();
        }
    }
}

/// The middleware: a request over its client's limit is answered `429 rate_limited` with
/// `Retry-After` and goes no further. The client is the connection's peer address (a
/// request without one, as in tests that call the router directly, counts as one client).
pub async fn throttle(State(throttle): State<Arc<Throttle>>, request: Request, next: Next) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| addr.ip());
    match throttle.check(client, request.uri().path()) {
        Ok(()) => next.run(request).await,
        Err(seconds) => {
            let seconds = seconds.max(1);
            let message = format!("too many requests from this client; retry in {seconds} s");
            let mut response =
                ApiError { retry_after: Some(seconds), ..ApiError::new(ErrorCode::RateLimited, message) }.into_response();
            // The request's body is left unread, so the connection cannot carry another
            // request: say so, rather than let the client find a closed connection.
            response.headers_mut().insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{header, StatusCode};
    use axum::routing::{get, post};
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    fn router(limits: Limits) -> Router {
        Router::new()
            .route("/orders", get(|| async { "ok" }))
            .route("/channels/generic/orders", post(|| async { "ok" }))
            .route("/track", get(|| async { "ok" }))
            .route("/track/lookup", post(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(Throttle::new(limits), throttle))
    }

    async fn status(router: &Router, method: &str, uri: &str) -> (StatusCode, Option<String>, String) {
        let request = Request::builder().method(method).uri(uri).body(Body::empty()).unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let retry = response.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, retry, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_client_over_its_burst_is_answered_429_with_retry_after_and_each_group_has_its_own_bucket() {
        let limits = Limits {
            api: Some(Rate { per_second: NonZeroU32::new(1).unwrap(), burst: NonZeroU32::new(3).unwrap() }),
            webhooks: Some(Rate { per_second: NonZeroU32::new(1).unwrap(), burst: NonZeroU32::new(1).unwrap() }),
            lookup: None,
        };
        let router = router(limits);
        for _ in 0..3 {
            assert_eq!(status(&router, "GET", "/orders").await.0, StatusCode::OK);
        }
        let (code, retry, body) = status(&router, "GET", "/orders").await;
        assert_eq!(code, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(retry.as_deref(), Some("1"));
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], "rate_limited");

        assert_eq!(status(&router, "POST", "/channels/generic/orders").await.0, StatusCode::OK, "webhooks have their own bucket");
        assert_eq!(status(&router, "POST", "/channels/generic/orders").await.0, StatusCode::TOO_MANY_REQUESTS);
    }

    #[tokio::test]
    async fn the_order_lookup_has_its_own_bucket_and_the_page_is_not_in_it() {
        let limits = Limits {
            api: None,
            webhooks: None,
            lookup: Some(Rate { per_second: NonZeroU32::new(1).unwrap(), burst: NonZeroU32::new(2).unwrap() }),
        };
        let router = router(limits);
        for _ in 0..2 {
            assert_eq!(status(&router, "POST", "/track/lookup").await.0, StatusCode::OK);
        }
        let (code, retry, body) = status(&router, "POST", "/track/lookup").await;
        assert_eq!(code, StatusCode::TOO_MANY_REQUESTS);
        assert!(retry.is_some());
        assert!(body.contains("rate_limited"), "{body}");
        for _ in 0..5 {
            assert_eq!(status(&router, "GET", "/track").await.0, StatusCode::OK, "the page is an operator-group request");
            assert_eq!(status(&router, "GET", "/orders").await.0, StatusCode::OK);
        }
    }

    #[tokio::test]
    async fn unlimited_groups_are_never_throttled() {
        let router = router(Limits::UNLIMITED);
        for _ in 0..50 {
            assert_eq!(status(&router, "GET", "/orders").await.0, StatusCode::OK);
        }
    }

    #[test]
    fn a_rate_per_second_bursts_to_twice_it_and_zero_is_no_limit() {
        assert_eq!(Rate::per_second(0), None);
        let rate = Rate::per_second(50).unwrap();
        assert_eq!((rate.per_second.get(), rate.burst.get()), (50, 100));
    }
}
