//! A web page embedded in the binary (`/track`, `/dashboard`): its HTML with its one style
//! sheet and one script inline, and the Content-Security-Policy that allows exactly those
//! two (by their SHA-256) and requests to this origin, nothing else.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// A page ready to serve.
pub(super) struct EmbeddedPage {
    html: String,
    policy: HeaderValue,
}

impl EmbeddedPage {
    /// `html` with `css` in place of its `/*STYLE*/` and `js` in place of its `/*SCRIPT*/`.
    pub(super) fn inline(html: &str, css: &str, js: &str) -> EmbeddedPage {
        let html = html.replacen("/*STYLE*/", css, 1).replacen("/*SCRIPT*/", js, 1);
        let hash = |text: &str| STANDARD.encode(Sha256::digest(text.as_bytes()));
        let policy = format!(
            "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; connect-src 'self'; img-src 'self'; \
             base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            hash(js),
            hash(css)
        );
        // Base64 and ASCII words only: always a valid header value.
        EmbeddedPage { html, policy: HeaderValue::from_str(&policy).expect("the policy is a valid header value") }
    }

    /// The page with its policy, no sniffing, no referrer, cached five minutes.
    pub(super) fn response(&self) -> Response {
        (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
                (header::CONTENT_SECURITY_POLICY, self.policy.clone()),
                (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
                (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")),
            ],
            self.html.clone(),
        )
            .into_response()
    }
}
