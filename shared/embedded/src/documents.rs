//! `DocumentStore` on files: each document is a file under a directory (`documents/` in
//! the data directory for `oms serve`), at its key as a relative path, with its content
//! type in a sidecar file (`<key>.type`). A document is written to a temporary file, synced
//! and renamed over the old one, so a reader sees the old document or the new one whole.
//! Keys are `DocumentKey`s: no `..`, no absolute path, so nothing lands outside the
//! directory.

use std::path::{Path, PathBuf};

use anyhow::Context;
use async_trait::async_trait;
use oms_domain::document::{DocumentKey, DocumentType, StoredDocument};
use oms_domain::ports::{DocumentStore, StoreError};

/// Documents under one directory.
#[derive(Debug, Clone)]
pub struct DocumentDirectory {
    root: PathBuf,
}

impl DocumentDirectory {
    /// Documents under `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path_of(&self, key: &DocumentKey) -> PathBuf {
        key.segments().fold(self.root.clone(), |path, segment| path.join(segment))
    }
}

/// The sidecar file holding a document's content type.
fn type_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".type");
    PathBuf::from(name)
}

/// Writes `bytes` to `path` through a synced temporary file renamed over it.
fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let parent = path.parent().context("A document path has no directory")?;
    std::fs::create_dir_all(parent).with_context(|| format!("Failed to create {}", parent.display()))?;
    let temporary = path.with_extension(format!("tmp-{}", ulid::Ulid::new()));
    let mut file = std::fs::File::create(&temporary).with_context(|| format!("Failed to create {}", temporary.display()))?;
    file.write_all(bytes).with_context(|| format!("Failed to write {}", temporary.display()))?;
    file.sync_all().with_context(|| format!("Failed to sync {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("Failed to move the document to {}", path.display()))
}

fn read_if_there(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("Failed to read {}", path.display())),
    }
}

#[async_trait]
impl DocumentStore for DocumentDirectory {
    /// The type's sidecar first, then the document: a document whose write was cut short
    /// before its rename is simply not there.
    async fn put_document(&self, key: &DocumentKey, content_type: DocumentType, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.path_of(key);
        let bytes = bytes.to_vec();
        tokio::task::spawn_blocking(move || {
            write_whole(&type_path(&path), content_type.media_type().as_bytes())?;
            write_whole(&path, &bytes)
        })
        .await
        .context("The document writer stopped")
        .and_then(|written| written)
        .map_err(|e| StoreError::new(format!("Failed to store document {key}"), e))
    }

    async fn get_document(&self, key: &DocumentKey) -> Result<Option<StoredDocument>, StoreError> {
        let path = self.path_of(key);
        let found = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<StoredDocument>> {
            let Some(bytes) = read_if_there(&path)? else { return Ok(None) };
            let kind = read_if_there(&type_path(&path))?.context("A stored document has no content type")?;
            let kind = String::from_utf8_lossy(&kind);
            let content_type =
                DocumentType::from_media_type(&kind).context("A stored document's content type is not one we store")?;
            Ok(Some(StoredDocument { content_type, bytes }))
        })
        .await
        .context("The document reader stopped")
        .and_then(|read| read)
        .map_err(|e| StoreError::new(format!("Failed to read document {key}"), e))?;
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_document_is_stored_under_its_key_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = DocumentDirectory::new(dir.path().join("documents"));
        let key = DocumentKey::parse("merchants/m-1/business_licence-1").unwrap();
        assert_eq!(store.get_document(&key).await.unwrap(), None);
        store.put_document(&key, DocumentType::Pdf, b"%PDF-1.7 first").await.unwrap();
        store.put_document(&key, DocumentType::Png, b"\x89PNG second").await.unwrap();
        let read = store.get_document(&key).await.unwrap().unwrap();
        assert_eq!((read.content_type, read.bytes.as_slice()), (DocumentType::Png, &b"\x89PNG second"[..]));
        assert!(dir.path().join("documents/merchants/m-1/business_licence-1").is_file());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("documents/merchants/m-1"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.contains("tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
