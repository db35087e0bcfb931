//! `DocumentStore` in S3: each document is an object under `documents/` in the settings'
//! bucket, at `documents/<key>`, stored with its content type and server-side encryption.
//! The functions that store documents get `s3:PutObject` and `s3:GetObject` on that prefix
//! only (`infra/template.yaml`).

use async_trait::async_trait;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use aws_sdk_s3::Client;
use oms_domain::document::{DocumentKey, DocumentType, StoredDocument};
use oms_domain::ports::{DocumentStore, StoreError};

use crate::error::sdk_error;

/// The prefix of every document's object.
pub const DOCUMENTS_PREFIX: &str = "documents/";

/// Documents in one bucket, under [`DOCUMENTS_PREFIX`].
#[derive(Debug, Clone)]
pub struct S3Documents {
    client: Client,
    bucket: String,
}

impl S3Documents {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }

    fn object_key(key: &DocumentKey) -> String {
        format!("{DOCUMENTS_PREFIX}{key}")
    }
}

#[async_trait]
impl DocumentStore for S3Documents {
    /// One `PutObject` with the content type (S3 replaces an object whole).
    async fn put_document(&self, key: &DocumentKey, content_type: DocumentType, bytes: &[u8]) -> Result<(), StoreError> {
        let object = Self::object_key(key);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&object)
            .content_type(content_type.media_type())
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await
            .map_err(|e| sdk_error(format!("Failed to write s3://{}/{object}", self.bucket), e))?;
        Ok(())
    }

    /// One `GetObject`; `NoSuchKey` is `None`.
    async fn get_document(&self, key: &DocumentKey) -> Result<Option<StoredDocument>, StoreError> {
        let object = Self::object_key(key);
        let output = match self.client.get_object().bucket(&self.bucket).key(&object).send().await {
            Ok(output) => output,
            Err(SdkError::ServiceError(e)) if matches!(e.err(), GetObjectError::NoSuchKey(_)) => return Ok(None),
            Err(e) => return Err(sdk_error(format!("Failed to read s3://{}/{object}", self.bucket), e)),
        };
        let content_type = output
            .content_type()
            .and_then(DocumentType::from_media_type)
            .ok_or_else(|| StoreError::msg(format!("s3://{}/{object} has no content type we store", self.bucket)))?;
        let body = output
            .body
            .collect()
            .await
            .map_err(|e| StoreError::new(format!("Failed to read the body of s3://{}/{object}", self.bucket), e))?;
        Ok(Some(StoredDocument { content_type, bytes: body.into_bytes().to_vec() }))
    }
}
