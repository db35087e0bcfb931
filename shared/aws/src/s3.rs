//! Model artifacts and reports in S3. No port asks for them yet; the pricing functions
//! will, through a port this struct will then implement.

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use oms_domain::ports::StoreError;

use crate::error::sdk_error;

/// Objects in the settings' bucket, by key.
#[derive(Debug, Clone)]
pub struct Artifacts {
    client: Client,
    bucket: String,
}

impl Artifacts {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Writes `bytes` at `key`, replacing what was there. Unconditional.
    pub async fn put_object(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| sdk_error(format!("Failed to write s3://{}/{key}", self.bucket), e))?;
        Ok(())
    }

    /// The bytes at `key`, or `None` when there is no such object.
    pub async fn get_object(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let output = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(output) => output,
            Err(SdkError::ServiceError(e)) if matches!(e.err(), GetObjectError::NoSuchKey(_)) => return Ok(None),
            Err(e) => return Err(sdk_error(format!("Failed to read s3://{}/{key}", self.bucket), e)),
        };
        let body = output
            .body
            .collect()
            .await
            .map_err(|e| StoreError::new(format!("Failed to read the body of s3://{}/{key}", self.bucket), e))?;
        Ok(Some(body.into_bytes().to_vec()))
    }
}
