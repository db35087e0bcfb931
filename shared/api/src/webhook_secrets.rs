//! The webhook secrets a function checks signatures with, and how they follow a rotation.
//!
//! `oms serve` has fixed secrets (`OMS_CHANNEL_SECRET_<CHANNEL>`). A deployed function
//! reads them from a secret store once at start and reads them again after a signature
//! fails, at most once per interval: a rotated secret is picked up by the first webhook
//! signed with it, with no redeploy, and a flood of forged webhooks costs at most one
//! read of the store per interval.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use oms_channels::secrets::{ChannelSecrets, UnsignedPolicy, WebhookRefusal};
use oms_domain::order::Channel;

/// Reads the current secrets from their store.
pub type LoadSecrets = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = anyhow::Result<ChannelSecrets>> + Send>> + Send + Sync>;

/// The secrets webhooks are checked with: fixed, or re-read after a refusal.
#[derive(Clone)]
pub struct WebhookSecrets {
    current: Arc<RwLock<ChannelSecrets>>,
    reload: Option<Arc<Reload>>,
}

struct Reload {
    load: LoadSecrets,
    at_most_every: Duration,
    last: Mutex<Instant>,
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSecrets").field("current", &self.snapshot()).field("reloads", &self.reload.is_some()).finish()
    }
}

impl From<ChannelSecrets> for WebhookSecrets {
    fn from(secrets: ChannelSecrets) -> Self {
        WebhookSecrets { current: Arc::new(RwLock::new(secrets)), reload: None }
    }
}

impl WebhookSecrets {
    /// `initial` (as just read from the store), read again by `load` after a refused
    /// signature when the last read is at least `at_most_every` old.
    pub fn reloading(initial: ChannelSecrets, load: LoadSecrets, at_most_every: Duration) -> Self {
        let reload = Reload { load, at_most_every, last: Mutex::new(Instant::now()) };
        WebhookSecrets { current: Arc::new(RwLock::new(initial)), reload: Some(Arc::new(reload)) }
    }

    fn snapshot(&self) -> ChannelSecrets {
        self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Webhook channels with no secret now.
    pub fn unsigned_channels(&self) -> Vec<Channel> {
        self.snapshot().unsigned_channels()
    }

    /// Checks a webhook's signature with the current secrets; when they refuse it, reads
    /// the store again (if the last read is old enough) and checks once more.
    pub async fn check(
        &self,
        channel: Channel,
        policy: UnsignedPolicy,
        header_value: Option<&str>,
        body: &[u8],
    ) -> Result<(), WebhookRefusal> {
        let first = self.with_current(|secrets| secrets.check(channel, policy, header_value, body));
        if first.is_ok() || !self.reload_if_due().await {
            return first;
        }
        self.with_current(|secrets| secrets.check(channel, policy, header_value, body))
    }

    /// Checks a carrier's tracking webhook in `format` with the current secrets; when they
    /// refuse it, reads the store again (if the last read is old enough) and checks once
    /// more, as [`check`](Self::check) does for a channel.
    pub async fn check_carrier(
        &self,
        carrier: &str,
        format: oms_channels::signature::TrackingFormat,
        policy: UnsignedPolicy,
        header_value: Option<&str>,
        body: &[u8],
    ) -> Result<(), WebhookRefusal> {
        let check = |secrets: &ChannelSecrets| secrets.check_carrier(carrier, format, policy, header_value, body);
        let first = self.with_current(check);
        if first.is_ok() || !self.reload_if_due().await {
            return first;
        }
        self.with_current(check)
    }

    /// Carriers with a secret now.
    pub fn signed_carriers(&self) -> Vec<String> {
        self.snapshot().signed_carriers()
    }

    fn with_current<T>(&self, f: impl FnOnce(&ChannelSecrets) -> T) -> T {
        f(&self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Reads the store again when reloading and the last read is at least the interval
    /// old; answers whether the secrets were read. A failed read keeps the secrets held
    /// (and is logged): webhooks signed with them still pass.
    async fn reload_if_due(&self) -> bool {
        let Some(reload) = &self.reload else { return false };
        {
            let mut last = reload.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.elapsed() < reload.at_most_every {
                return false;
            }
            *last = Instant::now();
        }
        match (reload.load)().await {
            Ok(fresh) => {
                *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
                tracing::info!("webhook secrets read again after a refused signature");
                true
            }
            Err(err) => {
                tracing::error!(error = format!("{err:#}"), "the webhook secrets cannot be read again; keeping the ones held");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use oms_channels::signature;

    use super::*;

    /// A store whose generic secret is whatever `value` holds now, counting its reads.
    fn store(value: Arc<Mutex<String>>, reads: Arc<AtomicUsize>) -> LoadSecrets {
        Arc::new(move || {
            let secret = value.lock().unwrap().clone();
            reads.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move { Ok(ChannelSecrets::default().with(Channel::Generic, secret)) })
        })
    }

    #[tokio::test]
    async fn a_rotated_secret_is_read_again_after_a_refusal_at_most_once_per_interval() {
        let value = Arc::new(Mutex::new("old".to_owned()));
        let reads = Arc::new(AtomicUsize::new(0));
        let initial = ChannelSecrets::default().with(Channel::Generic, "old");
        let secrets = WebhookSecrets::reloading(initial, store(value.clone(), reads.clone()), Duration::ZERO);
        let body = b"{}";
        let signed = |secret: &str| signature::sign(Channel::Generic, secret.as_bytes(), body);
        let check = |sig: String| {
            let secrets = secrets.clone();
            async move { secrets.check(Channel::Generic, UnsignedPolicy::Refuse, Some(&sig), body).await }
        };

        assert_eq!(check(signed("old")).await, Ok(()));
        assert_eq!(reads.load(Ordering::SeqCst), 0, "a good signature reads nothing");
        *value.lock().unwrap() = "new".to_owned();
        assert_eq!(check(signed("new")).await, Ok(()), "the rotation is picked up by the first webhook signed with it");
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert!(check(signed("forged")).await.is_err());
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn forged_webhooks_read_the_store_once_per_interval() {
        let reads = Arc::new(AtomicUsize::new(0));
        let initial = ChannelSecrets::default().with(Channel::Generic, "s");
        let load = store(Arc::new(Mutex::new("s".to_owned())), reads.clone());
        let secrets = WebhookSecrets::reloading(initial, load, Duration::from_secs(3600));
        for _ in 0..10 {
            let refused = secrets.check(Channel::Generic, UnsignedPolicy::Refuse, Some("sha256=00"), b"{}").await;
            assert!(refused.is_err());
        }
        assert_eq!(reads.load(Ordering::SeqCst), 0, "the last read (at start) is recent");
    }

    #[tokio::test]
    async fn fixed_secrets_never_reload() {
        let secrets = WebhookSecrets::from(ChannelSecrets::default());
        assert!(secrets.check(Channel::Generic, UnsignedPolicy::Refuse, None, b"{}").await.is_err());
        assert_eq!(secrets.check(Channel::Generic, UnsignedPolicy::Accept, None, b"{}").await, Ok(()));
    }
}
