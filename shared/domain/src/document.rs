//! Uploaded files (a merchant's licence scan today; product photos later): what may be
//! stored and under which key. The bytes live behind the `DocumentStore` port (S3 in AWS,
//! files under the data directory locally); records keep a [`DocumentRef`] to them.
//!
//! An upload is judged by its bytes, not only by the `Content-Type` a client sends: the
//! declared type must be one of [`DocumentType`] and the file must start with that type's
//! magic bytes, so a renamed executable or an HTML page sent as `image/png` is refused.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ValidationError;

/// Largest document accepted: 4 MiB. Behind API Gateway a binary body arrives base64
/// encoded (a third larger) and a Lambda request is at most 6 MB, so this is what fits.
pub const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;
/// Longest document key.
pub const MAX_KEY_LEN: usize = 512;

/// The kinds of file a document may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentType {
    Pdf,
    Jpeg,
    Png,
}

impl DocumentType {
    pub const ALL: [DocumentType; 3] = [DocumentType::Pdf, DocumentType::Jpeg, DocumentType::Png];

    /// The media type it is stored and served with.
    pub fn media_type(self) -> &'static str {
        match self {
            DocumentType::Pdf => "application/pdf",
            DocumentType::Jpeg => "image/jpeg",
            DocumentType::Png => "image/png",
        }
    }

    /// The type a `Content-Type` header names (parameters such as `; charset=` ignored,
    /// case-insensitive); `None` for any other.
    pub fn from_media_type(header: &str) -> Option<Self> {
        let essence = header.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let essence = if essence == "image/jpg" { "image/jpeg".to_owned() } else { essence };
        Self::ALL.into_iter().find(|t| t.media_type() == essence)
    }

    /// The type the bytes are, by their magic bytes; `None` when they are none of these.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"%PDF-") {
            Some(DocumentType::Pdf)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(DocumentType::Jpeg)
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(DocumentType::Png)
        } else {
            None
        }
    }
}

impl fmt::Display for DocumentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.media_type())
    }
}

/// Why an upload is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadRefusal {
    #[error("the document is empty")]
    Empty,
    #[error("the document is {size} bytes, over the {MAX_DOCUMENT_BYTES} bytes allowed")]
    TooLarge { size: usize },
    /// The declared type is missing or not one accepted.
    #[error("Content-Type {declared:?} is not accepted: send application/pdf, image/jpeg or image/png")]
    UnsupportedType { declared: String },
    /// The bytes are not the type declared.
    #[error("the file is not a {declared} (its first bytes say otherwise)")]
    NotItsType { declared: DocumentType },
}

/// Checks an upload: not empty, at most [`MAX_DOCUMENT_BYTES`], declared as an accepted
/// type, and its bytes that type. Answers the type.
pub fn check_upload(content_type: Option<&str>, bytes: &[u8]) -> Result<DocumentType, UploadRefusal> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(UploadRefusal::TooLarge { size: bytes.len() });
    }
    let declared = content_type
        .and_then(DocumentType::from_media_type)
        .ok_or_else(|| UploadRefusal::UnsupportedType { declared: content_type.unwrap_or_default().to_owned() })?;
    if bytes.is_empty() {
        return Err(UploadRefusal::Empty);
    }
    if DocumentType::sniff(bytes) != Some(declared) {
        return Err(UploadRefusal::NotItsType { declared });
    }
    Ok(declared)
}

/// Where a document is stored: `/`-separated segments of ASCII letters, digits, `-`, `_`
/// and `.` (no empty segment, none of `.` or `..`), so it is a safe S3 key and a safe
/// relative path under a directory alike.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentKey(String);

impl DocumentKey {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        let raw: String = raw.into();
        if raw.is_empty() || raw.len() > MAX_KEY_LEN {
            return Err(ValidationError::new("", format!("a document key is 1 to {MAX_KEY_LEN} characters")));
        }
        let safe = raw.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        });
        if !safe {
            return Err(ValidationError::new(
                "",
                format!("{raw:?} is not a document key (segments of letters, digits, '-', '_', '.')"),
            ));
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its segments, in order.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl TryFrom<String> for DocumentKey {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

impl From<DocumentKey> for String {
    fn from(key: DocumentKey) -> String {
        key.0
    }
}

impl fmt::Display for DocumentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored document as a record keeps it: where, what, how large, its SHA-256 (hex) and
/// when it was uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRef {
    pub key: DocumentKey,
    pub content_type: DocumentType,
    pub bytes: u64,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

/// A document's bytes and type, as a store gives them back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    pub content_type: DocumentType,
    pub bytes: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];

    #[test]
    fn an_upload_is_judged_by_its_bytes_as_well_as_its_declared_type() {
        assert_eq!(check_upload(Some("image/png"), PNG), Ok(DocumentType::Png));
        assert_eq!(check_upload(Some("application/pdf; charset=binary"), b"%PDF-1.7\n"), Ok(DocumentType::Pdf));
        assert_eq!(check_upload(Some("IMAGE/JPG"), &[0xFF, 0xD8, 0xFF, 0xE0]), Ok(DocumentType::Jpeg));
        assert_eq!(
            check_upload(Some("image/png"), b"<html>not a picture</html>"),
            Err(UploadRefusal::NotItsType { declared: DocumentType::Png })
        );
        assert_eq!(check_upload(Some("image/png"), b"%PDF-1.7"), Err(UploadRefusal::NotItsType { declared: DocumentType::Png }));
        assert!(matches!(check_upload(Some("text/html"), b"%PDF-1.7"), Err(UploadRefusal::UnsupportedType { .. })));
        assert!(matches!(check_upload(None, PNG), Err(UploadRefusal::UnsupportedType { .. })));
        assert_eq!(check_upload(Some("image/png"), b""), Err(UploadRefusal::Empty));
        let huge = vec![0u8; MAX_DOCUMENT_BYTES + 1];
        assert_eq!(check_upload(Some("image/png"), &huge), Err(UploadRefusal::TooLarge { size: MAX_DOCUMENT_BYTES + 1 }));
    }

    #[test]
    fn a_document_key_is_a_safe_relative_path() {
        for good in ["merchants/m-1/business_licence", "a", "photos/SKU-1/front.v2"] {
            assert!(DocumentKey::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "/abs", "a//b", "../etc/passwd", "a/../b", "a/./b", "a b", "a\\b", "trailing/", "é"] {
            assert!(DocumentKey::parse(bad).is_err(), "{bad}");
        }
        assert!(DocumentKey::parse("x".repeat(MAX_KEY_LEN + 1)).is_err());
    }
}
