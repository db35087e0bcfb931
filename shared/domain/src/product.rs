//! The reviewed catalogue: a product listing per SKU (what a buyer reads and sees: the
//! name, specification, model, images, attributes and tiered wholesale prices), beside the
//! SKU's physical facts (`crate::catalogue::SkuFacts`), and its review before it may sell.
//!
//! The listing's life ([`ProductStatus`]):
//! `draft` → `submitted` → the automated rules ([`ReviewRules`]: banned words in the text,
//! each image's type and size) → `in_review` (a person's turn) → `approved` or `rejected`
//! with a reason; a failing rule rejects it at once with the rule's reason. A rejected
//! listing is edited (a draft again) and submitted anew. An approved listing is `listed`
//! (on sale) and may be `unlisted` and listed again; a listed one may be promoted (a rank
//! in the merchant's promoted placements). `submitted` is the step on the timeline where
//! the rules ran: a listing never rests in it (the same write moves it on).
//!
//! An edit of an approved, listed or unlisted listing's reviewed content (text, images,
//! attributes) sends it back to review: it is submitted again in the same step (the rules
//! run, then a person), and off sale and unpromoted until approved and listed again. An
//! edit of the wholesale prices alone is not reviewed content: the listing keeps its state.
//!
//! Every step is on the listing's timeline and bumps its version; a store writes a step
//! only over the version it was taken from, so of two reviewers deciding at once exactly
//! one decision is stored.
//!
//! Sellable ([`sellable`]): approved, listed and stocked (units on hand in some warehouse).
//! A SKU with no listing at all predates the review and stays sellable as before.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::validation::clean_text;
use crate::{MerchantId, Sku, ValidationError};

/// Longest name or model.
pub const MAX_TITLE_LEN: usize = 200;
/// Longest specification.
pub const MAX_SPECIFICATION_LEN: usize = 2_000;
/// Most images a listing carries.
pub const MAX_IMAGES: usize = 10;
/// Longest image reference.
pub const MAX_IMAGE_REF_LEN: usize = 500;
/// Most attributes, and the longest key and value.
pub const MAX_ATTRIBUTES: usize = 30;
pub const MAX_ATTRIBUTE_KEY_LEN: usize = 40;
pub const MAX_ATTRIBUTE_VALUE_LEN: usize = 200;
/// Most wholesale price tiers.
pub const MAX_PRICE_TIERS: usize = 10;
/// Largest wholesale unit price.
pub const MAX_PRICE: Decimal = crate::catalogue::MAX_PRICE;
/// Longest rejection reason.
pub const MAX_REASON_LEN: usize = 500;
/// Highest promotion rank (1 is the first placement).
pub const MAX_PROMOTION_RANK: u32 = 1_000;

/// Words a listing's text may not carry (counterfeits, and the absolute claims China's
/// advertising law forbids), matched case-insensitively anywhere in the text.
pub const BANNED_WORDS: &[&str] =
    &["counterfeit", "replica", "knockoff", "fake", "best in the world", "最佳", "最好", "第一", "国家级", "顶级"];

/// Largest image the review accepts.
pub const MAX_IMAGE_BYTES: u64 = 5 * 1024 * 1024;

/// An image of the listing: where it is (an `https` URL, or the name of an upload), and
/// what the merchant declares of it (content type, size), which the review's rules check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

impl ImageRef {
    /// A reference by its form: an `https://` URL or an upload's name (letters, digits,
    /// `-`, `_`, `.`), at most [`MAX_IMAGE_REF_LEN`] long, no spaces.
    pub fn parse(url: &str, content_type: Option<&str>, bytes: Option<u64>) -> Result<Self, ValidationError> {
        let url = url.trim();
        let upload_name = !url.is_empty() && url.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        let https = url
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/') && rest.chars().all(|c| c.is_ascii_graphic()));
        if url.len() > MAX_IMAGE_REF_LEN || !(https || upload_name) {
            return Err(ValidationError::new(
                "url",
                format!("must be an https:// URL or an upload's name, at most {MAX_IMAGE_REF_LEN} characters"),
            ));
        }
        let content_type = content_type.map(|t| t.trim().to_ascii_lowercase()).filter(|t| !t.is_empty());
        Ok(Self { url: url.to_owned(), content_type, bytes })
    }

    /// The image's type: the declared content type, else the extension of its path.
    fn kind(&self) -> Option<&'static str> {
        if let Some(declared) = &self.content_type {
            return match declared.split(';').next().unwrap_or_default().trim() {
                "image/jpeg" | "image/jpg" => Some("jpeg"),
                "image/png" => Some("png"),
                "image/webp" => Some("webp"),
                _ => None,
            };
        }
        let path = self.url.split(['?', '#']).next().unwrap_or_default();
        let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        match extension.as_str() {
            "jpg" | "jpeg" => Some("jpeg"),
            "png" => Some("png"),
            "webp" => Some("webp"),
            _ => None,
        }
    }
}

/// One tier of the wholesale prices: from `min_quantity` units on, each costs `unit_price`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceTier {
    pub min_quantity: u32,
    pub unit_price: Decimal,
}

/// What a listing says: the content the review reads, and the wholesale prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductContent {
    pub name: String,
    pub specification: String,
    pub model: String,
    pub images: Vec<ImageRef>,
    pub attributes: BTreeMap<String, String>,
    /// Quantity breaks ascending, prices never rising from one tier to the next.
    pub wholesale_prices: Vec<PriceTier>,
}

fn text(field: &str, raw: &str, max: usize, required: bool) -> Result<String, ValidationError> {
    let cleaned = clean_text(raw);
    if required && cleaned.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    if cleaned.chars().count() > max {
        return Err(ValidationError::new(field, format!("must be at most {max} characters")));
    }
    Ok(cleaned)
}

impl ProductContent {
    /// Checks and normalises every field, naming the first at fault: a name (1 to
    /// [`MAX_TITLE_LEN`]), a specification (up to [`MAX_SPECIFICATION_LEN`]), a model (up to
    /// [`MAX_TITLE_LEN`]); at most [`MAX_IMAGES`] images; at most [`MAX_ATTRIBUTES`]
    /// attributes, keys 1 to [`MAX_ATTRIBUTE_KEY_LEN`], values 1 to
    /// [`MAX_ATTRIBUTE_VALUE_LEN`]; at most [`MAX_PRICE_TIERS`] tiers, quantity breaks from 1
    /// strictly ascending, prices above 0 and at most [`MAX_PRICE`], none above the tier
    /// before.
    pub fn parse(
        name: &str,
        specification: &str,
        model: &str,
        images: Vec<ImageRef>,
        attributes: BTreeMap<String, String>,
        wholesale_prices: Vec<PriceTier>,
    ) -> Result<Self, ValidationError> {
        let name = text("name", name, MAX_TITLE_LEN, true)?;
        let specification = text("specification", specification, MAX_SPECIFICATION_LEN, false)?;
        let model = text("model", model, MAX_TITLE_LEN, false)?;
        if images.len() > MAX_IMAGES {
            return Err(ValidationError::new("images", format!("at most {MAX_IMAGES} images")));
        }
        if attributes.len() > MAX_ATTRIBUTES {
            return Err(ValidationError::new("attributes", format!("at most {MAX_ATTRIBUTES} attributes")));
        }
        let mut cleaned = BTreeMap::new();
        for (key, value) in &attributes {
            let key = text("attributes", key, MAX_ATTRIBUTE_KEY_LEN, true)?;
            let value = text(&format!("attributes.{key}"), value, MAX_ATTRIBUTE_VALUE_LEN, true)?;
            cleaned.insert(key, value);
        }
        check_tiers(&wholesale_prices)?;
        Ok(Self { name, specification, model, images, attributes: cleaned, wholesale_prices })
    }

    /// Everything a reader of the listing reads: the text the banned-word rule scans.
    fn text(&self) -> String {
        let attributes = self.attributes.iter().map(|(k, v)| format!("{k} {v}"));
        [self.name.clone(), self.specification.clone(), self.model.clone()]
            .into_iter()
            .chain(attributes)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Whether `other` differs from this in what the review reads (all but the prices).
    fn reviewed_differs(&self, other: &ProductContent) -> bool {
        (&self.name, &self.specification, &self.model, &self.images, &self.attributes)
            != (&other.name, &other.specification, &other.model, &other.images, &other.attributes)
    }

    /// The unit price of `quantity` units: the tier with the largest break at or below it.
    pub fn wholesale_price(&self, quantity: u32) -> Option<Decimal> {
        self.wholesale_prices.iter().rev().find(|t| t.min_quantity <= quantity).map(|t| t.unit_price)
    }
}

fn check_tiers(tiers: &[PriceTier]) -> Result<(), ValidationError> {
    if tiers.len() > MAX_PRICE_TIERS {
        return Err(ValidationError::new("wholesale_prices", format!("at most {MAX_PRICE_TIERS} tiers")));
    }
    for (i, tier) in tiers.iter().enumerate() {
        let field = format!("wholesale_prices[{i}]");
        if tier.min_quantity == 0 {
            return Err(ValidationError::new(format!("{field}.min_quantity"), "must be at least 1"));
        }
        if tier.unit_price <= Decimal::ZERO || tier.unit_price > MAX_PRICE {
            return Err(ValidationError::new(format!("{field}.unit_price"), format!("must be above 0 and at most {MAX_PRICE}")));
        }
        if let Some(before) = i.checked_sub(1).map(|j| tiers[j]) {
            if tier.min_quantity <= before.min_quantity {
                return Err(ValidationError::new(
                    format!("{field}.min_quantity"),
                    "quantity breaks must ascend: each above the tier before",
                ));
            }
            if tier.unit_price > before.unit_price {
                return Err(ValidationError::new(
                    format!("{field}.unit_price"),
                    "a larger quantity may not cost more per unit than the tier before",
                ));
            }
        }
    }
    Ok(())
}

/// The automated rules a submitted listing meets before a person reviews it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRules {
    /// Lower-case words (or phrases) the text may not carry.
    pub banned_words: Vec<String>,
    pub max_image_bytes: u64,
}

impl Default for ReviewRules {
    fn default() -> Self {
        Self { banned_words: BANNED_WORDS.iter().map(|w| (*w).to_owned()).collect(), max_image_bytes: MAX_IMAGE_BYTES }
    }
}

/// Most banned words a deployment may configure.
pub const MAX_BANNED_WORDS: usize = 1000;
/// Longest banned word or phrase, in characters.
pub const MAX_BANNED_WORD_CHARS: usize = 100;

impl ReviewRules {
    /// The rules with a deployment's own banned words instead of the built-in
    /// [`BANNED_WORDS`]: words or phrases separated by commas or new lines, trimmed and
    /// lower-cased (the text is lower-cased before it is scanned), empty ones skipped. At
    /// least one and at most [`MAX_BANNED_WORDS`], each at most [`MAX_BANNED_WORD_CHARS`]
    /// characters; anything else is refused, naming `banned_words`.
    pub fn with_banned_words(raw: &str) -> Result<Self, ValidationError> {
        let mut words: Vec<String> = raw.split([',', '\n']).map(|w| w.trim().to_lowercase()).filter(|w| !w.is_empty()).collect();
        words.sort();
        words.dedup();
        let invalid = |why: String| Err(ValidationError::new("banned_words", why));
        if words.is_empty() {
            return invalid("names no word: give words or phrases separated by commas or new lines".to_owned());
        }
        if words.len() > MAX_BANNED_WORDS {
            return invalid(format!("{} words, at most {MAX_BANNED_WORDS}", words.len()));
        }
        if let Some(long) = words.iter().find(|w| w.chars().count() > MAX_BANNED_WORD_CHARS) {
            return invalid(format!("{long:?} is longer than {MAX_BANNED_WORD_CHARS} characters"));
        }
        Ok(Self { banned_words: words, ..Self::default() })
    }

    /// The first rule `content` breaks, as the reason a rejection gives; `None` if it
    /// meets them all: no banned word in its text; every image a JPEG, PNG or WebP (by
    /// its declared type, else its extension) of at most `max_image_bytes`.
    pub fn first_broken(&self, content: &ProductContent) -> Option<String> {
        let text = content.text().to_lowercase();
        if let Some(word) = self.banned_words.iter().find(|w| text.contains(w.as_str())) {
            return Some(format!("the text carries the banned word {word:?}"));
        }
        for (i, image) in content.images.iter().enumerate() {
            if image.kind().is_none() {
                return Some(format!("image {} ({}) is not a JPEG, PNG or WebP", i + 1, image.url));
            }
            if image.bytes.is_some_and(|b| b > self.max_image_bytes) {
                return Some(format!("image {} ({}) is larger than {} bytes", i + 1, image.url, self.max_image_bytes));
            }
        }
        None
    }
}

/// Where a listing stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    /// Being written (or edited after a rejection).
    Draft,
    /// The step where the automated rules run; never rested in.
    Submitted,
    /// Waiting for a reviewer's decision.
    InReview,
    /// Refused with a reason; edit and submit again.
    Rejected,
    /// Approved, not yet on sale.
    Approved,
    /// On sale.
    Listed,
    /// Taken off sale by the merchant; may be listed again.
    Unlisted,
}

impl ProductStatus {
    pub const ALL: [ProductStatus; 7] = [
        ProductStatus::Draft,
        ProductStatus::Submitted,
        ProductStatus::InReview,
        ProductStatus::Rejected,
        ProductStatus::Approved,
        ProductStatus::Listed,
        ProductStatus::Unlisted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Draft => "draft",
            ProductStatus::Submitted => "submitted",
            ProductStatus::InReview => "in_review",
            ProductStatus::Rejected => "rejected",
            ProductStatus::Approved => "approved",
            ProductStatus::Listed => "listed",
            ProductStatus::Unlisted => "unlisted",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Approved by a reviewer and not sent back since: approved, listed or unlisted.
    pub fn is_approved(self) -> bool {
        matches!(self, ProductStatus::Approved | ProductStatus::Listed | ProductStatus::Unlisted)
    }
}

impl fmt::Display for ProductStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step on a listing's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductEvent {
    pub at: DateTime<Utc>,
    /// Who took the step: the merchant, platform staff, or `review rules`.
    pub by: String,
    /// The status after the step.
    pub status: ProductStatus,
    pub what: String,
}

/// A step the listing's status does not take; nothing changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("product {sku} is {from}: it cannot {step}")]
pub struct InvalidProductStep {
    pub sku: Sku,
    pub from: ProductStatus,
    pub step: &'static str,
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductStepError {
    #[error(transparent)]
    Step(#[from] InvalidProductStep),
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

/// The actor of the automated rules on the timeline.
pub const RULES_ACTOR: &str = "review rules";

/// A SKU's listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub sku: Sku,
    pub merchant_id: MerchantId,
    pub content: ProductContent,
    pub status: ProductStatus,
    /// Since when it is in its status: the order of the review queue.
    pub status_since: DateTime<Utc>,
    /// The last rejection's reason, while rejected or edited after it.
    pub rejection: Option<String>,
    /// Its rank among the merchant's promoted placements (1 first), while listed.
    pub promotion: Option<u32>,
    pub timeline: Vec<ProductEvent>,
    /// Bumped by every step; a store writes a step only over the version it was taken from.
    pub version: u64,
}

impl Product {
    /// A new listing: a draft.
    pub fn draft(sku: Sku, merchant_id: MerchantId, content: ProductContent, by: &str, now: DateTime<Utc>) -> Self {
        Self {
            sku,
            merchant_id,
            content,
            status: ProductStatus::Draft,
            status_since: now,
            rejection: None,
            promotion: None,
            timeline: vec![ProductEvent { at: now, by: by.to_owned(), status: ProductStatus::Draft, what: "written".into() }],
            version: 1,
        }
    }

    /// The key of its place in the list of listings in its status: since when, then the
    /// SKU (both stores list by it, so cursors mean the same on both).
    pub fn queue_key(&self) -> String {
        format!("{}#{}", self.status_since.format("%Y-%m-%dT%H:%M:%S%.6fZ"), self.sku)
    }

    fn refuse(&self, step: &'static str) -> InvalidProductStep {
        InvalidProductStep { sku: self.sku.clone(), from: self.status, step }
    }

    fn step(&mut self, to: ProductStatus, by: &str, now: DateTime<Utc>, what: String) {
        if to != self.status {
            self.status_since = now;
        }
        self.status = to;
        self.timeline.push(ProductEvent { at: now, by: by.to_owned(), status: to, what });
    }

    /// One version per write: a step writes once, however many timeline events it adds.
    fn written(&mut self) {
        self.version += 1;
    }

    /// Submits: the rules run at once, rejecting it with the first broken rule's reason or
    /// putting it in a reviewer's queue.
    fn run_rules(&mut self, rules: &ReviewRules, by: &str, now: DateTime<Utc>, what: &str) {
        self.promotion = None;
        self.step(ProductStatus::Submitted, by, now, what.to_owned());
        match rules.first_broken(&self.content) {
            Some(reason) => {
                self.step(ProductStatus::Rejected, RULES_ACTOR, now, format!("rejected by the rules: {reason}"));
                self.rejection = Some(reason);
            }
            None => self.step(ProductStatus::InReview, RULES_ACTOR, now, "the rules pass: waiting for a reviewer".into()),
        }
    }

    /// Rewrites the listing's content. On a draft or a rejected listing it is a draft
    /// (again); on an approved, listed or unlisted one a change of the reviewed content
    /// sends it back to review at once (submitted: the rules, then a reviewer), and a change
    /// of the prices alone keeps its status. Under review it is refused. The same content
    /// again (a retry) changes nothing: `Ok(false)`.
    pub fn edit(
        &mut self,
        content: ProductContent,
        rules: &ReviewRules,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, InvalidProductStep> {
        if self.status == ProductStatus::InReview || self.status == ProductStatus::Submitted {
            return Err(self.refuse("be edited while under review"));
        }
        if self.content == content && self.status != ProductStatus::Rejected {
            return Ok(false);
        }
        let reviewed_changed = self.content.reviewed_differs(&content);
        self.content = content;
        if self.status.is_approved() {
            if reviewed_changed {
                self.run_rules(rules, by, now, "edited: submitted again for review (off sale until approved and listed)");
            } else {
                let status = self.status;
                self.step(status, by, now, "wholesale prices changed".into());
            }
        } else {
            self.step(ProductStatus::Draft, by, now, "edited".into());
        }
        self.written();
        Ok(true)
    }

    /// Submits a draft for review: the rules run in the same step. Submitting one in
    /// review (a retry) changes nothing: `Ok(false)`.
    pub fn submit(&mut self, rules: &ReviewRules, by: &str, now: DateTime<Utc>) -> Result<bool, InvalidProductStep> {
        if self.status == ProductStatus::InReview {
            return Ok(false);
        }
        if self.status != ProductStatus::Draft {
            return Err(self.refuse("be submitted (only a draft is submitted: edit a rejected one first)"));
        }
        let what = if self.rejection.is_some() { "submitted again for review" } else { "submitted for review" };
        self.run_rules(rules, by, now, what);
        self.written();
        Ok(true)
    }

    /// A reviewer approves a listing in review.
    pub fn approve(&mut self, by: &str, now: DateTime<Utc>) -> Result<(), InvalidProductStep> {
        if self.status != ProductStatus::InReview {
            return Err(self.refuse("be approved (only a listing in review is decided)"));
        }
        self.rejection = None;
        self.step(ProductStatus::Approved, by, now, "approved: the merchant may list it".into());
        self.written();
        Ok(())
    }

    /// A reviewer rejects a listing in review with `reason` (checked).
    pub fn reject(&mut self, reason: &str, by: &str, now: DateTime<Utc>) -> Result<(), ProductStepError> {
        let reason = text("reason", reason, MAX_REASON_LEN, true)?;
        if self.status != ProductStatus::InReview {
            return Err(self.refuse("be rejected (only a listing in review is decided)").into());
        }
        self.step(ProductStatus::Rejected, by, now, format!("rejected: {reason}"));
        self.rejection = Some(reason);
        self.written();
        Ok(())
    }

    /// Puts an approved (or unlisted) listing on sale. Listing a listed one (a retry)
    /// changes nothing: `Ok(false)`.
    pub fn list(&mut self, by: &str, now: DateTime<Utc>) -> Result<bool, InvalidProductStep> {
        match self.status {
            ProductStatus::Listed => Ok(false),
            ProductStatus::Approved | ProductStatus::Unlisted => {
                self.step(ProductStatus::Listed, by, now, "listed: on sale".into());
                self.written();
                Ok(true)
            }
            _ => Err(self.refuse("be listed (only an approved listing is)")),
        }
    }

    /// Takes a listed listing off sale (and out of the promoted placements). Unlisting an
    /// unlisted one (a retry) changes nothing: `Ok(false)`.
    pub fn unlist(&mut self, by: &str, now: DateTime<Utc>) -> Result<bool, InvalidProductStep> {
        match self.status {
            ProductStatus::Unlisted => Ok(false),
            ProductStatus::Listed => {
                self.promotion = None;
                self.step(ProductStatus::Unlisted, by, now, "unlisted: off sale".into());
                self.written();
                Ok(true)
            }
            _ => Err(self.refuse("be unlisted (only a listed one is)")),
        }
    }

    /// Promotes a listed listing to `rank` (1 to [`MAX_PROMOTION_RANK`]) among the
    /// merchant's placements, or ends its promotion (`None`). The same again changes
    /// nothing: `Ok(false)`.
    pub fn promote(&mut self, rank: Option<u32>, by: &str, now: DateTime<Utc>) -> Result<bool, ProductStepError> {
        if rank.is_some_and(|r| !(1..=MAX_PROMOTION_RANK).contains(&r)) {
            return Err(ValidationError::new("rank", format!("must be 1 to {MAX_PROMOTION_RANK}")).into());
        }
        if self.status != ProductStatus::Listed {
            return Err(self.refuse("be promoted (only a listed one is)").into());
        }
        if self.promotion == rank {
            return Ok(false);
        }
        self.promotion = rank;
        let what = rank.map_or_else(|| "promotion ended".to_owned(), |r| format!("promoted to placement {r}"));
        self.step(ProductStatus::Listed, by, now, what);
        self.written();
        Ok(true)
    }
}

/// Why a SKU may not be sold now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotSellable {
    /// Its listing is not approved (a draft, in review, rejected).
    NotApproved,
    /// Approved, but not on sale (never listed, or unlisted).
    Unlisted,
    /// On sale, but no warehouse has a unit on hand.
    NotStocked,
}

impl NotSellable {
    pub fn as_str(self) -> &'static str {
        match self {
            NotSellable::NotApproved => "not_approved",
            NotSellable::Unlisted => "unlisted",
            NotSellable::NotStocked => "not_stocked",
        }
    }
}

impl fmt::Display for NotSellable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a SKU of this listing (`None`: none, the catalogue before review) with
/// `on_hand` units in all warehouses may be sold, else why not. No listing: sellable, as
/// before the review existed. A listing: approved and listed (the review's part, see
/// [`listed_for_sale`]) and `on_hand` above 0.
pub fn sellable(product: Option<&Product>, on_hand: u64) -> Result<(), NotSellable> {
    listed_for_sale(product)?;
    if product.is_some() && on_hand == 0 {
        return Err(NotSellable::NotStocked);
    }
    Ok(())
}

/// The review's part of [`sellable`]: no listing, or one approved and listed. (A channel
/// order is held on this alone: its stock is allocation's to find or backorder.)
pub fn listed_for_sale(product: Option<&Product>) -> Result<(), NotSellable> {
    match product.map(|p| p.status) {
        None | Some(ProductStatus::Listed) => Ok(()),
        Some(ProductStatus::Approved | ProductStatus::Unlisted) => Err(NotSellable::Unlisted),
        Some(_) => Err(NotSellable::NotApproved),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn d(raw: &str) -> Decimal {
        raw.parse().unwrap()
    }

    pub(crate) fn content(name: &str) -> ProductContent {
        ProductContent::parse(
            name,
            "hand-carved duan ink stone, 12 cm",
            "DS-12",
            vec![ImageRef::parse("https://img.example.com/ds-12.jpg", None, Some(200_000)).unwrap()],
            BTreeMap::from([("material".to_owned(), "duan stone".to_owned())]),
            vec![PriceTier { min_quantity: 1, unit_price: d("120") }, PriceTier { min_quantity: 10, unit_price: d("100") }],
        )
        .unwrap()
    }

    fn draft() -> Product {
        Product::draft(Sku::parse("INK-1").unwrap(), MerchantId::parse("m-9").unwrap(), content("Ink stone"), "m-9", Utc::now())
    }

    fn in_review() -> Product {
        let mut p = draft();
        p.submit(&ReviewRules::default(), "m-9", Utc::now()).unwrap();
        p
    }

    fn listed() -> Product {
        let mut p = in_review();
        p.approve("staff", Utc::now()).unwrap();
        p.list("m-9", Utc::now()).unwrap();
        p
    }

    fn tiers(raw: &[(u32, Decimal)]) -> Vec<PriceTier> {
        raw.iter().map(|&(min_quantity, unit_price)| PriceTier { min_quantity, unit_price }).collect()
    }

    #[test]
    fn wholesale_tiers_ascend_in_quantity_and_never_rise_in_price() {
        assert!(check_tiers(&tiers(&[(1, d("10")), (10, d("9")), (100, d("9"))])).is_ok());
        let cases = [
            (tiers(&[(0, d("10"))]), "wholesale_prices[0].min_quantity"),
            (tiers(&[(1, d("0"))]), "wholesale_prices[0].unit_price"),
            (tiers(&[(1, d("-1"))]), "wholesale_prices[0].unit_price"),
            (tiers(&[(1, MAX_PRICE + d("1"))]), "wholesale_prices[0].unit_price"),
            (tiers(&[(10, d("10")), (10, d("9"))]), "wholesale_prices[1].min_quantity"),
            (tiers(&[(10, d("10")), (5, d("9"))]), "wholesale_prices[1].min_quantity"),
            (tiers(&[(1, d("10")), (5, d("11"))]), "wholesale_prices[1].unit_price"),
        ];
        for (raw, field) in cases {
            assert_eq!(check_tiers(&raw).unwrap_err().field, field);
        }
        let many: Vec<(u32, Decimal)> = (1..=11).map(|q| (q, d("1"))).collect();
        assert_eq!(check_tiers(&tiers(&many)).unwrap_err().field, "wholesale_prices");
        let c = content("x");
        assert_eq!((c.wholesale_price(0), c.wholesale_price(9), c.wholesale_price(50)), (None, Some(d("120")), Some(d("100"))));
    }

    #[test]
    fn content_checks_its_fields_and_image_references() {
        let parse =
            |name: &str, attributes: BTreeMap<String, String>| ProductContent::parse(name, "", "", vec![], attributes, vec![]);
        assert_eq!(parse(" ", BTreeMap::new()).unwrap_err().field, "name");
        assert_eq!(parse(&"x".repeat(MAX_TITLE_LEN + 1), BTreeMap::new()).unwrap_err().field, "name");
        assert_eq!(parse("x", BTreeMap::from([("colour".into(), " ".into())])).unwrap_err().field, "attributes.colour");
        let many = (0..=MAX_ATTRIBUTES).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert_eq!(parse("x", many).unwrap_err().field, "attributes");
        for bad in ["http://img.example.com/a.jpg", "https://", "https:///a.jpg", "https://a b.jpg", "../a.jpg", ""] {
            assert!(ImageRef::parse(bad, None, None).is_err(), "{bad}");
        }
        assert!(ImageRef::parse("ds-12_front.png", None, None).is_ok(), "an upload's name");
    }

    #[test]
    fn a_deployments_banned_words_replace_the_built_in_list_and_are_checked() {
        let rules = ReviewRules::with_banned_words(" Replica,\n最便宜 , ,replica\nBEST EVER").unwrap();
        assert_eq!(rules.banned_words, ["best ever", "replica", "最便宜"]);
        let content = |name: &str| ProductContent::parse(name, "", "", vec![], BTreeMap::new(), vec![]).unwrap();
        assert!(rules.first_broken(&content("A REPLICA watch")).unwrap().contains("replica"));
        assert_eq!(rules.first_broken(&content("顶级 ink stone")), None, "the built-in list no longer applies");
        assert!(ReviewRules::default().first_broken(&content("顶级 ink stone")).is_some());
        let too_many = (0..=MAX_BANNED_WORDS).map(|i| format!("w{i}")).collect::<Vec<_>>().join(",");
        for bad in ["", " , \n", &"x".repeat(MAX_BANNED_WORD_CHARS + 1), &too_many] {
            assert_eq!(ReviewRules::with_banned_words(bad).unwrap_err().field, "banned_words", "{bad:.40}");
        }
    }

    #[test]
    fn the_rules_reject_banned_words_and_images_of_a_wrong_type_or_size() {
        let rules = ReviewRules::default();
        assert_eq!(rules.first_broken(&content("Ink stone")), None);
        assert!(rules.first_broken(&content("REPLICA ink stone")).unwrap().contains("\"replica\""));
        assert!(rules.first_broken(&content("国家级 砚台")).unwrap().contains("国家级"));
        let with_image = |image: ImageRef| {
            let mut c = content("Ink stone");
            c.images = vec![image];
            rules.first_broken(&c)
        };
        assert!(with_image(ImageRef::parse("https://x.example/a.gif", None, None).unwrap()).unwrap().contains("not a JPEG"));
        assert!(with_image(ImageRef::parse("https://x.example/a", None, None).unwrap()).is_some(), "no type known");
        assert_eq!(with_image(ImageRef::parse("https://x.example/a", Some("image/png"), None).unwrap()), None);
        assert!(with_image(ImageRef::parse("https://x.example/a.jpg", Some("text/html"), None).unwrap()).is_some());
        assert_eq!(with_image(ImageRef::parse("https://x.example/a.JPG?w=1", None, Some(MAX_IMAGE_BYTES)).unwrap()), None);
        let big = ImageRef::parse("https://x.example/a.webp", None, Some(MAX_IMAGE_BYTES + 1)).unwrap();
        assert!(with_image(big).unwrap().contains("larger than"));
    }

    #[test]
    fn a_banned_word_rejects_at_submission_then_the_edit_is_resubmitted_reviewed_approved_and_listed() {
        use ProductStatus::*;
        let rules = ReviewRules::default();
        let mut p = Product::draft(
            Sku::parse("INK-1").unwrap(),
            MerchantId::parse("m-9").unwrap(),
            content("Best in the world ink stone"),
            "m-9",
            Utc::now(),
        );
        assert_eq!(p.submit(&rules, "m-9", Utc::now()), Ok(true));
        assert_eq!((p.status, p.version), (Rejected, 2));
        assert!(p.rejection.as_deref().unwrap().contains("banned word"));
        assert!(p.submit(&rules, "m-9", Utc::now()).is_err(), "a rejected listing is edited first");
        assert!(p.approve("staff", Utc::now()).is_err());
        assert_eq!(p.edit(content("Ink stone"), &rules, "m-9", Utc::now()), Ok(true));
        assert_eq!(p.status, Draft);
        assert_eq!(p.edit(content("Ink stone"), &rules, "m-9", Utc::now()), Ok(false), "a retried edit");
        assert_eq!(p.submit(&rules, "m-9", Utc::now()), Ok(true));
        assert_eq!(p.status, InReview);
        assert_eq!(p.submit(&rules, "m-9", Utc::now()), Ok(false), "a retried submit");
        assert!(p.edit(content("Other"), &rules, "m-9", Utc::now()).is_err(), "no edit under review");
        assert_eq!(listed_for_sale(Some(&p)), Err(NotSellable::NotApproved));
        p.approve("staff", Utc::now()).unwrap();
        assert_eq!(listed_for_sale(Some(&p)), Err(NotSellable::Unlisted));
        assert!(p.approve("staff", Utc::now()).is_err(), "decided once");
        assert_eq!(p.list("m-9", Utc::now()), Ok(true));
        assert_eq!(p.list("m-9", Utc::now()), Ok(false));
        assert_eq!(p.rejection, None);
        let steps: Vec<(ProductStatus, &str)> = p.timeline.iter().map(|e| (e.status, e.by.as_str())).collect();
        assert_eq!(
            steps,
            [
                (Draft, "m-9"),
                (Submitted, "m-9"),
                (Rejected, RULES_ACTOR),
                (Draft, "m-9"),
                (Submitted, "m-9"),
                (InReview, RULES_ACTOR),
                (Approved, "staff"),
                (Listed, "m-9"),
            ]
        );
        assert!(p.timeline[4].what.contains("again"));
        assert_eq!(p.version, 6, "one version per write");
    }

    #[test]
    fn a_reviewer_rejects_with_a_reason_and_only_a_listing_in_review_is_decided() {
        let mut p = draft();
        assert!(p.reject("blurry", "staff", Utc::now()).is_err());
        p.submit(&ReviewRules::default(), "m-9", Utc::now()).unwrap();
        let Err(ProductStepError::Invalid(e)) = p.reject("  ", "staff", Utc::now()) else { panic!("a reason is required") };
        assert_eq!(e.field, "reason");
        p.reject("the photos are blurry", "staff", Utc::now()).unwrap();
        assert_eq!((p.status, p.rejection.as_deref()), (ProductStatus::Rejected, Some("the photos are blurry")));
        assert!(p.list("m-9", Utc::now()).is_err());
        assert!(p.reject("again", "staff", Utc::now()).is_err());
    }

    #[test]
    fn listed_and_unlisted_flip_and_only_a_listed_product_is_promoted() {
        let mut p = in_review();
        p.approve("staff", Utc::now()).unwrap();
        assert!(p.promote(Some(1), "m-9", Utc::now()).is_err(), "approved, not listed");
        assert!(p.unlist("m-9", Utc::now()).is_err());
        p.list("m-9", Utc::now()).unwrap();
        assert_eq!(p.promote(Some(2), "m-9", Utc::now()), Ok(true));
        assert_eq!(p.promote(Some(2), "m-9", Utc::now()), Ok(false));
        assert!(matches!(p.promote(Some(0), "m-9", Utc::now()), Err(ProductStepError::Invalid(_))));
        assert_eq!(p.unlist("m-9", Utc::now()), Ok(true));
        assert_eq!((p.status, p.promotion), (ProductStatus::Unlisted, None), "unlisting ends the promotion");
        assert_eq!(p.unlist("m-9", Utc::now()), Ok(false));
        assert_eq!(listed_for_sale(Some(&p)), Err(NotSellable::Unlisted));
        assert_eq!(p.list("m-9", Utc::now()), Ok(true));
        assert_eq!(p.promote(None, "m-9", Utc::now()), Ok(false), "not promoted since the unlisting");
    }

    #[test]
    fn an_edit_of_an_approved_listings_text_sends_it_back_to_review_but_prices_alone_do_not() {
        let rules = ReviewRules::default();
        let mut p = listed();
        p.promote(Some(1), "m-9", Utc::now()).unwrap();
        let mut cheaper = p.content.clone();
        cheaper.wholesale_prices[1].unit_price = d("90");
        assert_eq!(p.edit(cheaper, &rules, "m-9", Utc::now()), Ok(true));
        assert_eq!((p.status, p.promotion), (ProductStatus::Listed, Some(1)));
        assert_eq!(p.edit(content("Ink stone, larger"), &rules, "m-9", Utc::now()), Ok(true));
        assert_eq!((p.status, p.promotion), (ProductStatus::InReview, None));
        assert_eq!(listed_for_sale(Some(&p)), Err(NotSellable::NotApproved));
        let mut q = listed();
        q.edit(content("Replica ink stone"), &rules, "m-9", Utc::now()).unwrap();
        assert_eq!(q.status, ProductStatus::Rejected, "the rules run on the resubmission too");
    }

    #[test]
    fn sellable_needs_approved_listed_and_stocked_and_a_sku_without_a_listing_stays_sellable() {
        assert_eq!(sellable(None, 0), Ok(()));
        assert_eq!(sellable(Some(&draft()), 5), Err(NotSellable::NotApproved));
        assert_eq!(sellable(Some(&in_review()), 5), Err(NotSellable::NotApproved));
        let mut approved = in_review();
        approved.approve("staff", Utc::now()).unwrap();
        assert_eq!(sellable(Some(&approved), 5), Err(NotSellable::Unlisted));
        assert_eq!(sellable(Some(&listed()), 0), Err(NotSellable::NotStocked));
        assert_eq!(sellable(Some(&listed()), 1), Ok(()));
    }

    #[test]
    fn the_queue_key_orders_by_time_then_sku() {
        let a = draft();
        let mut b = a.clone();
        b.status_since += chrono::Duration::seconds(1);
        assert!(a.queue_key() < b.queue_key());
        assert!(a.queue_key().ends_with("#INK-1"));
    }
}
