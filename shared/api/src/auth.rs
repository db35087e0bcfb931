//! Who calls an operator route, checked before the handler runs: every route but the
//! signed webhooks, `/health` and `/openapi.json` takes an [`Authed`] caller.
//!
//! Three ways to know the caller, one per deployment:
//! - [`Authenticator::Gateway`]: in AWS the HTTP API's JWT authorizer has verified the
//!   token (issuer, audience, expiry, the route's scopes); the Lambda wiring puts its
//!   claims on the request ([`GatewayClaims`]) and the merchant is read from a claim.
//!   A request that reached an operator route without them is refused (fail closed).
//! - [`Authenticator::Tokens`]: `oms serve` with bearer tokens from a file or
//!   `OMS_API_TOKENS`, each granting a merchant (or the platform) and scopes.
//! - [`Authenticator::Open`]: `oms serve` with no tokens configured, which listens on
//!   loopback only and warns at start: every request is platform staff with every scope.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use oms_domain::access::{Caller, CallerError, MissingScope, Scope};

use crate::error::{ApiError, ErrorCode};
use crate::routes::AppState;

/// How operator routes learn who calls.
#[derive(Debug, Clone)]
pub enum Authenticator {
    /// Nobody is checked: every caller is platform staff with every scope (`oms serve`
    /// without tokens, on loopback only).
    Open,
    /// Bearer tokens, each granting a caller.
    Tokens(Arc<TokenTable>),
    /// The API gateway verified a JWT; the merchant is the claim named here.
    Gateway { merchant_claim: String },
}

/// The claims of a JWT the API gateway verified, put on the request by the Lambda wiring.
#[derive(Debug, Clone, Default)]
pub struct GatewayClaims {
    pub claims: HashMap<String, String>,
    /// The token's scopes, as the authorizer lists them (else read from the `scope` claim).
    pub scopes: Option<Vec<String>>,
}

impl GatewayClaims {
    fn scopes(&self) -> Vec<&str> {
        match &self.scopes {
            Some(scopes) => scopes.iter().map(String::as_str).collect(),
            None => self.claims.get("scope").or_else(|| self.claims.get("scp")).map_or(vec![], |s| s.split(' ').collect()),
        }
    }
}

/// One bearer token as `oms serve` is configured with it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenGrant {
    /// The bearer token itself (at least 16 characters).
    pub token: String,
    /// The merchant it acts for; none for platform staff (who need `oms/platform`).
    #[serde(default)]
    pub merchant_id: Option<String>,
    /// Scopes, as tokens carry them (`oms/orders.read`, ...).
    pub scopes: Vec<String>,
}

/// The configured tokens, kept by the SHA-256 of each token: a lookup compares digests,
/// not the secret itself.
#[derive(Clone, Default)]
pub struct TokenTable {
    by_digest: HashMap<[u8; 32], Caller>,
}

impl std::fmt::Debug for TokenTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenTable").field("tokens", &self.by_digest.len()).finish()
    }
}

/// Shortest token `oms serve` takes: shorter ones are guessable.
pub const MIN_TOKEN_CHARS: usize = 16;

impl TokenTable {
    /// Reads a JSON list of [`TokenGrant`]s (a file's contents or `OMS_API_TOKENS`).
    pub fn from_json(json: &str) -> anyhow::Result<TokenTable> {
        let grants: Vec<TokenGrant> = serde_json::from_str(json)
            .map_err(|e| anyhow::anyhow!("the token list is not a JSON list of {{token, merchant_id?, scopes}}: {e}"))?;
        TokenTable::new(grants)
    }

    pub fn new(grants: Vec<TokenGrant>) -> anyhow::Result<TokenTable> {
        let mut by_digest = HashMap::new();
        for (i, grant) in grants.into_iter().enumerate() {
            if grant.token.chars().count() < MIN_TOKEN_CHARS {
                anyhow::bail!("token {i} is shorter than {MIN_TOKEN_CHARS} characters");
            }
            if let Some(unknown) = grant.scopes.iter().find(|s| Scope::parse(s).is_none()) {
                let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                anyhow::bail!("token {i} has an unknown scope {unknown:?}; known: {}", known.join(", "));
            }
            let caller = Caller::from_credential(grant.merchant_id.as_deref(), grant.scopes.iter().map(String::as_str))
                .map_err(|e| anyhow::anyhow!("token {i}: {e}"))?;
            if by_digest.insert(digest(&grant.token), caller).is_some() {
                anyhow::bail!("token {i} is listed twice");
            }
        }
        Ok(TokenTable { by_digest })
    }

    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }

    fn caller(&self, token: &str) -> Option<&Caller> {
        self.by_digest.get(&digest(token))
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The verified caller of an operator route (its extractor answers 401 when there is none).
#[derive(Debug, Clone)]
pub struct Authed(pub Caller);

impl Authed {
    /// The caller, when it was granted `scope` (else 403 `forbidden`).
    pub fn with(self, scope: Scope) -> Result<Caller, ApiError> {
        self.0.require(scope)?;
        Ok(self.0)
    }
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(&state.auth, parts).map(Authed)
    }
}

fn authenticate(auth: &Authenticator, parts: &Parts) -> Result<Caller, ApiError> {
    match auth {
        Authenticator::Open => Ok(Caller::platform_with_every_scope()),
        Authenticator::Tokens(table) => {
            let token = bearer(parts)?;
            table.caller(token).cloned().ok_or_else(|| unauthenticated("the bearer token is not recognised"))
        }
        Authenticator::Gateway { merchant_claim } => {
            let claims = parts
                .extensions
                .get::<GatewayClaims>()
                .ok_or_else(|| unauthenticated("this route needs a bearer token verified by the API's authorizer"))?;
            Ok(Caller::from_credential(claims.claims.get(merchant_claim).map(String::as_str), claims.scopes())?)
        }
    }
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    // Two credentials are ambiguous: a proxy reading the other would see another caller.
    if parts.headers.get_all(header::AUTHORIZATION).iter().nth(1).is_some() {
        return Err(unauthenticated("send one Authorization header, not several"));
    }
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthenticated("this route needs `Authorization: Bearer <token>`"))?;
    let value = value.to_str().map_err(|_| unauthenticated("the Authorization header is not text"))?;
    let (scheme, token) =
        value.trim().split_once(' ').ok_or_else(|| unauthenticated("the Authorization header is not `Bearer <token>`"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(unauthenticated("the Authorization header is not `Bearer <token>`"));
    }
    Ok(token.trim())
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, message)
}

impl From<MissingScope> for ApiError {
    fn from(err: MissingScope) -> Self {
        ApiError::new(ErrorCode::Forbidden, err.to_string())
    }
}

impl From<CallerError> for ApiError {
    fn from(err: CallerError) -> Self {
        ApiError::new(ErrorCode::Forbidden, err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    fn parts(authorization: Option<&str>) -> Parts {
        let mut request = Request::builder().uri("/orders/x");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        request.body(()).unwrap().into_parts().0
    }

    fn table() -> Authenticator {
        let json = r#"[{"token":"merchant-one-token-0001","merchant_id":"m-1","scopes":["oms/orders.read"]},
                       {"token":"platform-staff-token-01","scopes":["oms/platform","oms/orders.read"]}]"#;
        Authenticator::Tokens(Arc::new(TokenTable::from_json(json).unwrap()))
    }

    #[test]
    fn a_known_bearer_token_is_its_caller_and_anything_else_is_unauthenticated() {
        let auth = table();
        let caller = authenticate(&auth, &parts(Some("Bearer merchant-one-token-0001"))).unwrap();
        assert_eq!(caller.merchant_id().map(|m| m.as_str()), Some("m-1"));
        let staff = authenticate(&auth, &parts(Some("bearer  platform-staff-token-01 "))).unwrap();
        assert_eq!(staff.merchant_id(), None);
        for header in
            [None, Some("Bearer"), Some("Basic abc"), Some("Bearer wrong-token-000000000"), Some("merchant-one-token-0001")]
        {
            let err = authenticate(&auth, &parts(header)).unwrap_err();
            assert_eq!(err.code, ErrorCode::Unauthenticated, "{header:?}");
        }
        let mut twice = parts(Some("Bearer merchant-one-token-0001"));
        twice.headers.append(header::AUTHORIZATION, "Bearer platform-staff-token-01".parse().unwrap());
        assert_eq!(authenticate(&auth, &twice).unwrap_err().code, ErrorCode::Unauthenticated, "two credentials are ambiguous");
    }

    #[test]
    fn a_token_list_with_a_short_token_an_unknown_scope_or_no_merchant_is_refused() {
        for json in [
            r#"[{"token":"short","merchant_id":"m-1","scopes":[]}]"#,
            r#"[{"token":"long-enough-token-0001","merchant_id":"m-1","scopes":["orders.read"]}]"#,
            r#"[{"token":"long-enough-token-0001","scopes":["oms/orders.read"]}]"#,
            r#"[{"token":"long-enough-token-0001","merchant_id":"m-1","scopes":[]},{"token":"long-enough-token-0001","merchant_id":"m-2","scopes":[]}]"#,
            r#"{"token":"long-enough-token-0001"}"#,
        ] {
            assert!(TokenTable::from_json(json).is_err(), "{json}");
        }
    }

    #[test]
    fn gateway_claims_give_the_merchant_and_scopes_and_their_absence_is_refused() {
        let auth = Authenticator::Gateway { merchant_claim: "custom:merchant_id".into() };
        assert_eq!(authenticate(&auth, &parts(None)).unwrap_err().code, ErrorCode::Unauthenticated);
        let mut with_claims = parts(None);
        let claims = HashMap::from([
            ("custom:merchant_id".to_owned(), "m-7".to_owned()),
            ("scope".to_owned(), "oms/orders.read oms/orders.write".to_owned()),
        ]);
        with_claims.extensions.insert(GatewayClaims { claims, scopes: None });
        let caller = authenticate(&auth, &with_claims).unwrap();
        assert_eq!(caller.merchant_id().map(|m| m.as_str()), Some("m-7"));
        assert!(caller.has(Scope::OrdersWrite) && !caller.has(Scope::InventoryWrite));
        let mut no_merchant = parts(None);
        no_merchant.extensions.insert(GatewayClaims { claims: HashMap::new(), scopes: Some(vec!["oms/orders.read".into()]) });
        assert_eq!(authenticate(&auth, &no_merchant).unwrap_err().code, ErrorCode::Forbidden);
    }
}
