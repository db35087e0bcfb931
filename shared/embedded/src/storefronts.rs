//! `StorefrontStore`: storefront templates (one row per template, its version beside the
//! body) and each merchant's storefront, a row per (merchant, kind): its `draft` with the
//! draft's version, and its `published` copy with the draft version it copies (tables of
//! schema step 29). Every conditional write is one statement or one operation on the
//! database thread (inside its savepoint), so its check and its write are never apart.

use anyhow::Context;
use async_trait::async_trait;
use oms_domain::ports::{PublishOutcome, PutTemplateOutcome, SaveDraftOutcome, StoreError, StorefrontStore};
use oms_domain::storefront::{PublishedStorefront, StorefrontDraft, Template, TemplateId};
use oms_domain::MerchantId;
use rusqlite::{params, OptionalExtension};

use crate::db::CachedStatements;
use crate::Embedded;

/// Version 31: storefront templates, and merchants' storefront drafts and published copies.
pub(crate) const STOREFRONTS: &str = "
CREATE TABLE IF NOT EXISTS storefront_templates (
    template_id TEXT PRIMARY KEY NOT NULL,
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS storefronts (
    merchant_id TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('draft', 'published')),
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (merchant_id, kind)
) WITHOUT ROWID;
";

const DRAFT: &str = "draft";
const PUBLISHED: &str = "published";

fn decode<T: serde::de::DeserializeOwned>(body: &str, what: &str) -> anyhow::Result<T> {
    serde_json::from_str(body).with_context(|| format!("A stored {what} is not its layout"))
}

fn encode<T: serde::Serialize>(value: &T, what: &str) -> anyhow::Result<String> {
    serde_json::to_string(value).with_context(|| format!("Failed to encode the {what}"))
}

fn sql_version(version: u64) -> anyhow::Result<i64> {
    i64::try_from(version).context("A storefront version is past what SQLite holds")
}

fn template_body(conn: &rusqlite::Connection, id: &str) -> anyhow::Result<Option<String>> {
    conn.query_row_cached("SELECT body FROM storefront_templates WHERE template_id = ?1", [id], |r| r.get(0))
        .optional()
        .context("Failed to query the storefront templates")
}

fn storefront_row(conn: &rusqlite::Connection, merchant: &str, kind: &str) -> anyhow::Result<Option<(i64, String)>> {
    conn.query_row_cached(
        "SELECT version, body FROM storefronts WHERE merchant_id = ?1 AND kind = ?2",
        params![merchant, kind],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
    .context("Failed to query the storefronts")
}

impl Embedded {
    async fn storefront_body(&self, merchant: &MerchantId, kind: &'static str) -> Result<Option<String>, StoreError> {
        let key = merchant.to_string();
        self.db
            .read(move |conn| Ok(storefront_row(conn, &key, kind)?.map(|(_, body)| body)))
            .await
            .map_err(|e| StoreError::new(format!("Failed to read the {kind} storefront of merchant {merchant}"), e))
    }
}

#[async_trait]
impl StorefrontStore for Embedded {
    /// `INSERT ... ON CONFLICT DO UPDATE ... WHERE version < excluded.version`; no row
    /// written reads the stored one.
    async fn put_template(&self, template: &Template) -> Result<PutTemplateOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to write storefront template {}", template.id), e);
        let body = encode(template, "storefront template").map_err(failed)?;
        let (id, version) = (template.id.to_string(), i64::from(template.version));
        let stored = self
            .db
            .call(move |conn| {
                let written = conn
                    .execute_cached(
                        "INSERT INTO storefront_templates (template_id, version, body) VALUES (?1, ?2, ?3)
                         ON CONFLICT (template_id) DO UPDATE SET version = excluded.version, body = excluded.body
                         WHERE storefront_templates.version < excluded.version",
                        params![id, version, body],
                    )
                    .context("Failed to write the storefront template row")?;
                if written == 1 {
                    return Ok(None);
                }
                template_body(conn, &id)?.context("a template neither written nor found").map(Some)
            })
            .await
            .map_err(failed)?;
        let Some(stored) = stored else { return Ok(PutTemplateOutcome::Written) };
        let stored: Template = decode(&stored, "storefront template").map_err(failed)?;
        Ok(if stored.same_design(template) { PutTemplateOutcome::Unchanged } else { PutTemplateOutcome::Stale(Box::new(stored)) })
    }

    async fn get_template(&self, id: &TemplateId) -> Result<Option<Template>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read storefront template {id}"), e);
        let key = id.to_string();
        let body = self.db.read(move |conn| template_body(conn, &key)).await.map_err(failed)?;
        body.map(|b| decode(&b, "storefront template")).transpose().map_err(failed)
    }

    async fn list_templates(&self) -> Result<Vec<Template>, StoreError> {
        let failed = |e| StoreError::new("Failed to list the storefront templates", e);
        let bodies: Vec<String> = self
            .db
            .read(|conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT body FROM storefront_templates ORDER BY template_id")
                    .context("Failed to prepare the templates query")?;
                let rows = stmt
                    .query_map([], |r| r.get(0))
                    .context("Failed to query the templates")?
                    .collect::<Result<Vec<String>, _>>()
                    .context("Failed to read the templates")?;
                Ok(rows)
            })
            .await
            .map_err(failed)?;
        bodies.iter().map(|b| decode(b, "storefront template")).collect::<anyhow::Result<_>>().map_err(failed)
    }

    async fn get_draft(&self, merchant: &MerchantId) -> Result<Option<StorefrontDraft>, StoreError> {
        let body = self.storefront_body(merchant, DRAFT).await?;
        body.map(|b| decode(&b, "storefront draft"))
            .transpose()
            .map_err(|e| StoreError::new(format!("Failed to read the storefront draft of merchant {merchant}"), e))
    }

    /// A first draft: `INSERT ... ON CONFLICT DO NOTHING`; an edit: `UPDATE ... WHERE
    /// version = <previous>`. No row written reads the stored one as the conflict.
    async fn save_draft(&self, draft: &StorefrontDraft) -> Result<SaveDraftOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to save the storefront draft of merchant {}", draft.merchant_id), e);
        let body = encode(draft, "storefront draft").map_err(failed)?;
        let merchant = draft.merchant_id.to_string();
        let version = sql_version(draft.version).map_err(failed)?;
        let previous = draft.previous_version().map(sql_version).transpose().map_err(failed)?;
        let stored = self
            .db
            .call(move |conn| {
                let written = match previous {
                    None => conn.execute_cached(
                        "INSERT INTO storefronts (merchant_id, kind, version, body) VALUES (?1, 'draft', ?2, ?3)
                         ON CONFLICT (merchant_id, kind) DO NOTHING",
                        params![merchant, version, body],
                    ),
                    Some(previous) => conn.execute_cached(
                        "UPDATE storefronts SET version = ?2, body = ?3 WHERE merchant_id = ?1 AND kind = 'draft' AND version = ?4",
                        params![merchant, version, body, previous],
                    ),
                }
                .context("Failed to write the storefront draft row")?;
                if written == 1 {
                    return Ok(None);
                }
                Ok(Some(storefront_row(conn, &merchant, DRAFT)?.map(|(_, body)| body)))
            })
            .await
            .map_err(failed)?;
        match stored {
            None => Ok(SaveDraftOutcome::Saved),
            Some(body) => {
                let stored = body.map(|b| decode(&b, "storefront draft")).transpose().map_err(failed)?;
                Ok(SaveDraftOutcome::Conflict(stored.map(Box::new)))
            }
        }
    }

    async fn get_published(&self, merchant: &MerchantId) -> Result<Option<PublishedStorefront>, StoreError> {
        let body = self.storefront_body(merchant, PUBLISHED).await?;
        body.map(|b| decode(&b, "published storefront"))
            .transpose()
            .map_err(|e| StoreError::new(format!("Failed to read the published storefront of merchant {merchant}"), e))
    }

    /// One operation: the draft's version read, then the published row replaced only when
    /// it is the version copied.
    async fn publish(&self, published: &PublishedStorefront) -> Result<PublishOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to publish the storefront of merchant {}", published.merchant_id), e);
        let body = encode(published, "published storefront").map_err(failed)?;
        let merchant = published.merchant_id.to_string();
        let copied = sql_version(published.draft_version).map_err(failed)?;
        let outcome = self
            .db
            .call(move |conn| {
                let draft = storefront_row(conn, &merchant, DRAFT)?.map(|(version, _)| version);
                if draft != Some(copied) {
                    return Ok(PublishOutcome::DraftChanged);
                }
                conn.execute_cached(
                    "INSERT INTO storefronts (merchant_id, kind, version, body) VALUES (?1, 'published', ?2, ?3)
                     ON CONFLICT (merchant_id, kind) DO UPDATE SET version = excluded.version, body = excluded.body",
                    params![merchant, copied, body],
                )
                .context("Failed to write the published storefront row")?;
                Ok(PublishOutcome::Published)
            })
            .await
            .map_err(failed)?;
        Ok(outcome)
    }

    async fn unpublish(&self, merchant: &MerchantId) -> Result<bool, StoreError> {
        let key = merchant.to_string();
        let removed = self
            .db
            .call(move |conn| {
                conn.execute_cached("DELETE FROM storefronts WHERE merchant_id = ?1 AND kind = 'published'", [key])
                    .context("Failed to delete the published storefront row")
            })
            .await
            .map_err(|e| StoreError::new(format!("Failed to unpublish the storefront of merchant {merchant}"), e))?;
        Ok(removed == 1)
    }
}
