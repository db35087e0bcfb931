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

    /// The S3 client, to share with other adapters of the bucket.
    pub fn client(&self) -> &Client {
        &self.client
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

    /// Every object under `prefix`, by key: a `ListObjectsV2` a page at a time.
    pub async fn list(&self, prefix: &str) -> Result<Vec<StoredObject>, StoreError> {
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| sdk_error(format!("Failed to list s3://{}/{prefix}", self.bucket), e))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                let modified = object
                    .last_modified()
                    .and_then(|t| chrono::DateTime::<chrono::Utc>::from_timestamp(t.secs(), t.subsec_nanos()));
                let bytes = object.size().and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
                found.push(StoredObject { key: key.to_owned(), bytes, modified });
            }
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => return Ok(found),
            }
        }
    }

    /// Deletes the object at `key` (nothing when there is none).
    pub async fn delete_object(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk_error(format!("Failed to delete s3://{}/{key}", self.bucket), e))?;
        Ok(())
    }
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: String,
    pub bytes: u64,
    pub modified: Option<chrono::DateTime<chrono::Utc>>,
}
