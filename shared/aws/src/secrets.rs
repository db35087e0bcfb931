//! A secret's current value in Secrets Manager: what the webhook functions check channel
//! signatures with (read at start and again after a refused signature, so a rotation
//! needs no redeploy).

use anyhow::Context as _;
use aws_config::SdkConfig;

/// Reads one secret's current string value.
#[derive(Debug, Clone)]
pub struct SecretsReader {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
}

impl SecretsReader {
    /// The secret named by `secret_id` (its ARN or name).
    pub fn new(sdk: &SdkConfig, secret_id: impl Into<String>) -> Self {
        Self { client: aws_sdk_secretsmanager::Client::new(sdk), secret_id: secret_id.into() }
    }

    /// `GetSecretValue` of the current version's `SecretString`.
    pub async fn read(&self) -> anyhow::Result<String> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .with_context(|| format!("Failed to read the secret {}", self.secret_id))?;
        output.secret_string.with_context(|| format!("The secret {} holds no string", self.secret_id))
    }
}
