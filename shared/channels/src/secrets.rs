//! Channel secrets and the signature check on webhook bodies.

use std::collections::HashMap;

use crate::signature::{self, SignatureError};
use oms_domain::order::Channel;

/// What to do with a webhook from a channel that has no secret configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsignedPolicy {
    /// Refuse it (Lambda: a deployed endpoint is never open).
    Refuse,
    /// Accept it unchecked (local runs, where `oms serve` warns at start).
    Accept,
}

/// The webhook secret of each channel, from `OMS_CHANNEL_SECRET_<CHANNEL>`, and of each
/// carrier posting tracking events, from `OMS_CARRIER_SECRET_<CARRIER>`.
#[derive(Clone, Default)]
pub struct ChannelSecrets {
    secrets: HashMap<Channel, Vec<u8>>,
    /// By carrier name as its route spells it (`aftership`, `easypost`, `generic`, `sf`).
    carriers: HashMap<String, Vec<u8>>,
}

/// The prefix of the variables holding carriers' secrets.
pub const CARRIER_SECRET_PREFIX: &str = "OMS_CARRIER_SECRET_";

/// The prefix of a carrier's key in a secret store's JSON object: `"carrier:aftership"`.
pub const CARRIER_KEY_PREFIX: &str = "carrier:";

/// A carrier's name as its secret is kept: lower case, `_` and `.` as `-` (so
/// `OMS_CARRIER_SECRET_SF_EXPRESS` is the secret of the route `/carriers/sf-express/events`).
fn carrier_key(name: &str) -> String {
    name.chars().map(|c| if matches!(c, '_' | '.') { '-' } else { c.to_ascii_lowercase() }).collect()
}

impl std::fmt::Debug for ChannelSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelSecrets")
            .field("channels", &self.secrets.keys().collect::<Vec<_>>())
            .field("carriers", &self.carriers.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The secret store's value is not a JSON object of channel names to secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the channel secrets are not a JSON object of channel to secret: {0}")]
pub struct SecretsFormatError(String);

/// Why a webhook was refused before its body was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookRefusal {
    #[error("webhooks from {0} are refused: no secret is configured for this channel")]
    NoSecret(Channel),
    #[error("tracking events from {0} are refused: no secret is configured for this carrier ({CARRIER_SECRET_PREFIX}...)")]
    CarrierNoSecret(String),
    #[error(transparent)]
    Signature(#[from] SignatureError),
}

impl ChannelSecrets {
    /// The environment variable that holds a channel's secret.
    pub fn variable(channel: Channel) -> String {
        format!("OMS_CHANNEL_SECRET_{}", channel.as_str().to_ascii_uppercase())
    }

    /// The environment variable that holds a carrier's secret: `OMS_CARRIER_SECRET_` and the
    /// carrier's name in capitals, `-` and `.` as `_`.
    pub fn carrier_variable(carrier: &str) -> String {
        let name: String =
            carrier.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
        format!("{CARRIER_SECRET_PREFIX}{name}")
    }

    /// Reads every webhook channel's secret and every carrier's (each
    /// `OMS_CARRIER_SECRET_<CARRIER>` set) from the environment; an empty value counts as unset.
    pub fn from_env() -> Self {
        let mut secrets = Self::from_lookup(|name| std::env::var(name).ok());
        for (name, value) in std::env::vars() {
            if let Some(carrier) = name.strip_prefix(CARRIER_SECRET_PREFIX).filter(|c| !c.is_empty()) {
                if !value.is_empty() {
                    secrets.carriers.insert(carrier_key(carrier), value.into_bytes());
                }
            }
        }
        secrets
    }

    /// Reads secrets through `lookup` (the environment, or a test's map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let secrets = Channel::WEBHOOK
            .into_iter()
            .filter_map(|c| lookup(&Self::variable(c)).filter(|s| !s.is_empty()).map(|s| (c, s.into_bytes())))
            .collect();
        Self { secrets, carriers: HashMap::new() }
    }

    /// Reads the secrets of a secret store's JSON object: `{"shopify": "...", "generic":
    /// "...", ...}`, keyed by channel; an empty value counts as unset. A key that names no
    /// webhook channel is refused, so that a misspelt channel does not leave it unsigned.
    pub fn from_json(json: &str) -> Result<Self, SecretsFormatError> {
        let values: HashMap<String, String> = serde_json::from_str(json).map_err(|e| SecretsFormatError(e.to_string()))?;
        let mut secrets = HashMap::new();
        let mut carriers = HashMap::new();
        for (name, value) in values {
            if let Some(carrier) = name.strip_prefix(CARRIER_KEY_PREFIX).filter(|c| !c.is_empty()) {
                if !value.is_empty() {
                    carriers.insert(carrier_key(carrier), value.into_bytes());
                }
                continue;
            }
            let channel = Channel::parse(&name).filter(|c| Channel::WEBHOOK.contains(c)).ok_or_else(|| {
                SecretsFormatError(format!("{name:?} is not a webhook channel (shopify, woocommerce, amazon, generic)"))
            })?;
            if !value.is_empty() {
                secrets.insert(channel, value.into_bytes());
            }
        }
        Ok(Self { secrets, carriers })
    }

    /// With `secret` for the carrier named `carrier` (as its route spells it).
    pub fn with_carrier(mut self, carrier: &str, secret: impl Into<Vec<u8>>) -> Self {
        self.carriers.insert(carrier_key(carrier), secret.into());
        self
    }

    /// Carriers with a secret.
    pub fn signed_carriers(&self) -> Vec<String> {
        let mut names: Vec<String> = self.carriers.keys().cloned().collect();
        names.sort();
        names
    }

    /// Checks the signature a carrier put on a tracking webhook in `format`, under `policy`
    /// for a carrier with no secret (the same rule as a channel's: refused in Lambda,
    /// accepted locally; a carrier with a secret always needs a valid signature).
    pub fn check_carrier(
        &self,
        carrier: &str,
        format: signature::TrackingFormat,
        policy: UnsignedPolicy,
        header_value: Option<&str>,
        body: &[u8],
    ) -> Result<(), WebhookRefusal> {
        match (self.carriers.get(&carrier_key(carrier)), policy) {
            (Some(secret), _) => Ok(signature::verify_tracking(format, secret, header_value, body)?),
            (None, UnsignedPolicy::Accept) => Ok(()),
            (None, UnsignedPolicy::Refuse) => Err(WebhookRefusal::CarrierNoSecret(carrier.to_owned())),
        }
    }

    pub fn with(mut self, channel: Channel, secret: impl Into<Vec<u8>>) -> Self {
        self.secrets.insert(channel, secret.into());
        self
    }

    pub fn get(&self, channel: Channel) -> Option<&[u8]> {
        self.secrets.get(&channel).map(Vec::as_slice)
    }

    /// Webhook channels with no secret: they accept anything under `UnsignedPolicy::Accept`.
    pub fn unsigned_channels(&self) -> Vec<Channel> {
        Channel::WEBHOOK.into_iter().filter(|c| !self.secrets.contains_key(c)).collect()
    }

    /// Checks the signature a channel put on `body`, under `policy` for unsigned channels.
    pub fn check(
        &self,
        channel: Channel,
        policy: UnsignedPolicy,
        header_value: Option<&str>,
        body: &[u8],
    ) -> Result<(), WebhookRefusal> {
        match (self.get(channel), policy) {
            (Some(secret), _) => Ok(signature::verify(channel, secret, header_value, body)?),
            (None, UnsignedPolicy::Accept) => Ok(()),
            (None, UnsignedPolicy::Refuse) => Err(WebhookRefusal::NoSecret(channel)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_read_per_channel_and_empty_means_unset() {
        let secrets = ChannelSecrets::from_lookup(|name| match name {
            "OMS_CHANNEL_SECRET_GENERIC" => Some("g".into()),
            "OMS_CHANNEL_SECRET_SHOPIFY" => Some(String::new()),
            _ => None,
        });
        assert_eq!(secrets.get(Channel::Generic), Some(&b"g"[..]));
        assert_eq!(secrets.unsigned_channels(), [Channel::Shopify, Channel::WooCommerce, Channel::Amazon]);
    }

    #[test]
    fn a_secret_stores_json_names_channels_and_a_misspelt_one_is_refused() {
        let secrets = ChannelSecrets::from_json(r#"{"generic": "g", "shopify": ""}"#).unwrap();
        assert_eq!(secrets.get(Channel::Generic), Some(&b"g"[..]));
        assert_eq!(secrets.get(Channel::Shopify), None);
        assert!(ChannelSecrets::from_json(r#"{"shopfiy": "x"}"#).is_err());
        assert!(ChannelSecrets::from_json(r#"{"import": "x"}"#).is_err(), "CSV import takes no webhooks");
        assert!(ChannelSecrets::from_json(r#"["generic"]"#).is_err());
        assert!(ChannelSecrets::from_json("{}").unwrap().unsigned_channels().len() == 4);
    }

    #[test]
    fn carrier_secrets_are_read_by_carrier_and_checked_in_the_carriers_format() {
        let secrets = ChannelSecrets::from_json(r#"{"generic": "g", "carrier:aftership": "a"}"#).unwrap();
        let body = b"{}";
        let sig = signature::sign_tracking(signature::TrackingFormat::AfterShip, b"a", body);
        let check = |carrier: &str, sig: Option<&str>, policy| {
            secrets.check_carrier(carrier, signature::TrackingFormat::AfterShip, policy, sig, body)
        };
        assert_eq!(check("aftership", Some(&sig), UnsignedPolicy::Refuse), Ok(()));
        assert!(check("aftership", Some("AAAA"), UnsignedPolicy::Accept).is_err());
        assert_eq!(check("easypost", None, UnsignedPolicy::Refuse), Err(WebhookRefusal::CarrierNoSecret("easypost".into())));
        assert_eq!(check("easypost", None, UnsignedPolicy::Accept), Ok(()));
        assert_eq!(ChannelSecrets::carrier_variable("sf-express"), "OMS_CARRIER_SECRET_SF_EXPRESS");
    }

    #[test]
    fn a_channel_without_secret_is_refused_in_lambda_and_accepted_locally() {
        let secrets = ChannelSecrets::default();
        assert_eq!(
            secrets.check(Channel::Generic, UnsignedPolicy::Refuse, None, b"{}"),
            Err(WebhookRefusal::NoSecret(Channel::Generic))
        );
        assert_eq!(secrets.check(Channel::Generic, UnsignedPolicy::Accept, None, b"{}"), Ok(()));
    }

    #[test]
    fn a_channel_with_a_secret_always_needs_a_valid_signature() {
        let secrets = ChannelSecrets::default().with(Channel::Generic, "s");
        assert!(secrets.check(Channel::Generic, UnsignedPolicy::Accept, None, b"{}").is_err());
        let sig = signature::sign(Channel::Generic, b"s", b"{}");
        assert_eq!(secrets.check(Channel::Generic, UnsignedPolicy::Accept, Some(&sig), b"{}"), Ok(()));
    }
}
