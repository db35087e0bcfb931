//! Merchant onboarding: a person registers a merchant (a phone and a region), fills in an
//! application to open a shop (the shop type, business scope, licence number and the legal
//! representative, with documents uploaded), submits it, and a platform administrator
//! approves it or rejects it with a reason; a rejected application is edited and submitted
//! again until it is approved.
//!
//! The record's life ([`OnboardingStatus`]):
//! `draft` → `submitted` → `approved`, or `submitted` → `rejected` → (edited: `draft`) →
//! `submitted` → ... Every step is on the record's timeline (who, when, what), and every
//! write of the record is conditional on the version read ([`MerchantRecord::version`]),
//! so of two administrators deciding at once exactly one decision is stored.
//!
//! Who may sell ([`may_sell`]): a merchant with an onboarding record sells (lists products
//! in the catalogue, has its channel orders planned) only once approved. A merchant with
//! NO record at all predates onboarding (provisioned by the operator through its channel
//! secrets, as every merchant before this feature was) and stays allowed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::document::DocumentRef;
use crate::{MerchantId, ValidationError};

/// Longest business scope.
pub const MAX_SCOPE_LEN: usize = 500;
/// Longest legal representative name.
pub const MAX_NAME_LEN: usize = 64;
/// Longest rejection reason.
pub const MAX_REASON_LEN: usize = 500;

/// A phone number in E.164: `+`, a country code not starting with 0, 8 to 15 digits in all.
/// Spaces, dashes, dots and brackets people type are dropped first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        let raw: String = raw.into();
        let kept: String = raw.trim().chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
        let digits = kept.strip_prefix('+').unwrap_or_default();
        let e164 = kept.starts_with('+')
            && (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !e164 {
            return Err(ValidationError::new("", format!("{raw:?} is not an E.164 phone number like +8613800000000")));
        }
        Ok(Self(kept))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

impl From<Phone> for String {
    fn from(phone: Phone) -> String {
        phone.0
    }
}

/// Where the merchant is: a province (or province-level city or region) the allocation's
/// gazetteer knows, in its English name whatever way it was written (`浙江`, `Zhejiang
/// Province`, `zhejiang` are all `Zhejiang`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Region(String);

impl Region {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        let raw: String = raw.into();
        crate::allocation::geo::canonical_province(raw.trim())
            .map(|name| Self(name.to_owned()))
            .ok_or_else(|| ValidationError::new("", format!("{raw:?} is not a province of China (e.g. Zhejiang, 浙江)")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Region {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

impl From<Region> for String {
    fn from(region: Region) -> String {
        region.0
    }
}

/// The kind of shop applied for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShopType {
    /// The brand owner's own shop.
    Flagship,
    /// An authorised seller of one or more brands.
    Specialty,
    /// A franchisee.
    Franchise,
    /// A company's general shop.
    Enterprise,
    /// A sole trader.
    Individual,
}

impl ShopType {
    pub const ALL: [ShopType; 5] =
        [ShopType::Flagship, ShopType::Specialty, ShopType::Franchise, ShopType::Enterprise, ShopType::Individual];

    pub fn as_str(self) -> &'static str {
        match self {
            ShopType::Flagship => "flagship",
            ShopType::Specialty => "specialty",
            ShopType::Franchise => "franchise",
            ShopType::Enterprise => "enterprise",
            ShopType::Individual => "individual",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw.trim()).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
            ValidationError::new("", format!("{raw:?} is not a shop type: one of {}", names.join(", ")))
        })
    }
}

/// A document an application carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// The business licence (营业执照).
    BusinessLicence,
    /// The legal representative's identity card.
    RepresentativeId,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 2] = [DocumentKind::BusinessLicence, DocumentKind::RepresentativeId];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::BusinessLicence => "business_licence",
            DocumentKind::RepresentativeId => "representative_id",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// What the merchant applies with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub shop_type: ShopType,
    /// What it sells, in its own words (1 to [`MAX_SCOPE_LEN`] characters).
    pub business_scope: String,
    /// The licence's registration number: 15 to 18 letters and digits (China's unified
    /// social credit code is 18), upper-cased.
    pub licence_number: String,
    pub representative_name: String,
    /// The representative's identity number: 15 to 18 characters, digits (the last may be
    /// `X`). Stored as given; every read shows it masked ([`Application::masked_id_number`]).
    pub representative_id_number: String,
}

fn text(field: &str, raw: &str, max: usize) -> Result<String, ValidationError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    if trimmed.chars().count() > max {
        return Err(ValidationError::new(field, format!("must be at most {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

impl Application {
    /// Checks and normalises every field, naming the first at fault.
    pub fn parse(
        shop_type: &str,
        business_scope: &str,
        licence_number: &str,
        representative_name: &str,
        representative_id_number: &str,
    ) -> Result<Self, ValidationError> {
        let shop_type = ShopType::parse(shop_type).map_err(|e| e.within("shop_type"))?;
        let business_scope = text("business_scope", business_scope, MAX_SCOPE_LEN)?;
        let licence = licence_number.trim().to_ascii_uppercase();
        if !(15..=18).contains(&licence.len()) || !licence.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ValidationError::new("licence_number", "must be 15 to 18 letters and digits"));
        }
        let representative_name = text("legal_representative.name", representative_name, MAX_NAME_LEN)?;
        let id = representative_id_number.trim().to_ascii_uppercase();
        let (body, last) = id.split_at(id.len().saturating_sub(1));
        let id_ok = (15..=18).contains(&id.len())
            && body.bytes().all(|b| b.is_ascii_digit())
            && last.bytes().all(|b| b.is_ascii_digit() || b == b'X');
        if !id_ok {
            return Err(ValidationError::new("legal_representative.id_number", "must be 15 to 18 digits (the last may be X)"));
        }
        Ok(Self { shop_type, business_scope, licence_number: licence, representative_name, representative_id_number: id })
    }

    /// The identity number as every read shows it: the first 3 and last 4 characters, the
    /// rest `*` (`330***********1234`).
    pub fn masked_id_number(&self) -> String {
        let id = &self.representative_id_number;
        let shown_tail = id.len().saturating_sub(4);
        id.char_indices().map(|(i, c)| if i < 3 || i >= shown_tail { c } else { '*' }).collect()
    }
}

/// Where the onboarding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnboardingStatus {
    /// Registered; the application is being written (or edited after a rejection).
    Draft,
    /// Waiting for an administrator's decision.
    Submitted,
    /// May sell.
    Approved,
    /// Refused with a reason; edit the application and submit it again.
    Rejected,
}

impl OnboardingStatus {
    pub const ALL: [OnboardingStatus; 4] =
        [OnboardingStatus::Draft, OnboardingStatus::Submitted, OnboardingStatus::Approved, OnboardingStatus::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            OnboardingStatus::Draft => "draft",
            OnboardingStatus::Submitted => "submitted",
            OnboardingStatus::Approved => "approved",
            OnboardingStatus::Rejected => "rejected",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether the application may be edited (documents too): while a draft, and after a
    /// rejection (the edit makes it a draft again).
    pub fn is_editable(self) -> bool {
        matches!(self, OnboardingStatus::Draft | OnboardingStatus::Rejected)
    }
}

impl fmt::Display for OnboardingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step on a merchant's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnboardingEvent {
    pub at: DateTime<Utc>,
    /// Who took the step: the merchant's credential, or `admin` (platform staff).
    pub by: String,
    /// The status after the step.
    pub status: OnboardingStatus,
    pub what: String,
}

/// A step the record's status does not take; nothing changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("merchant {merchant} is {from}: it cannot {step}")]
pub struct InvalidOnboardingStep {
    pub merchant: MerchantId,
    pub from: OnboardingStatus,
    pub step: &'static str,
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OnboardingError {
    #[error(transparent)]
    Step(#[from] InvalidOnboardingStep),
    /// The application is not complete enough to submit (`field` names what is missing).
    #[error(transparent)]
    Incomplete(#[from] ValidationError),
}

/// A merchant's onboarding record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantRecord {
    pub merchant_id: MerchantId,
    pub phone: Phone,
    pub region: Region,
    pub status: OnboardingStatus,
    /// Since when it is in its status: the order of the review queue.
    pub status_since: DateTime<Utc>,
    pub application: Option<Application>,
    /// The documents uploaded, at most one per kind (a new upload replaces the old).
    pub documents: Vec<(DocumentKind, DocumentRef)>,
    /// The last rejection's reason, while rejected or edited after it.
    pub rejection: Option<String>,
    pub timeline: Vec<OnboardingEvent>,
    /// Bumped by every step; a store writes a step only over the version it was taken from.
    pub version: u64,
}

impl MerchantRecord {
    /// A newly registered merchant: a draft with no application yet.
    pub fn register(merchant_id: MerchantId, phone: Phone, region: Region, by: &str, now: DateTime<Utc>) -> Self {
        let what = format!("registered (phone {}, region {})", phone.as_str(), region.as_str());
        Self {
            merchant_id,
            phone,
            region,
            status: OnboardingStatus::Draft,
            status_since: now,
            application: None,
            documents: Vec::new(),
            rejection: None,
            timeline: vec![OnboardingEvent { at: now, by: by.to_owned(), status: OnboardingStatus::Draft, what }],
            version: 1,
        }
    }

    /// The key of its place in the list of records in its status: since when, then the
    /// merchant (both stores list by it, so cursors mean the same on both).
    pub fn queue_key(&self) -> String {
        format!("{}#{}", self.status_since.format("%Y-%m-%dT%H:%M:%S%.6fZ"), self.merchant_id)
    }

    pub fn document(&self, kind: DocumentKind) -> Option<&DocumentRef> {
        self.documents.iter().find(|(k, _)| *k == kind).map(|(_, d)| d)
    }

    fn refuse(&self, step: &'static str) -> InvalidOnboardingStep {
        InvalidOnboardingStep { merchant: self.merchant_id.clone(), from: self.status, step }
    }

    fn step(&mut self, to: OnboardingStatus, by: &str, now: DateTime<Utc>, what: String) {
        if to != self.status {
            self.status_since = now;
        }
        self.status = to;
        self.version += 1;
        self.timeline.push(OnboardingEvent { at: now, by: by.to_owned(), status: to, what });
    }

    /// Writes (or rewrites) the application: a draft stays a draft; a rejected one becomes
    /// a draft again, to be submitted anew. The same application again on a draft (a
    /// retry) changes nothing: `Ok(false)`.
    pub fn save_application(
        &mut self,
        application: Application,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, InvalidOnboardingStep> {
        if !self.status.is_editable() {
            return Err(self.refuse("edit its application"));
        }
        if self.status == OnboardingStatus::Draft && self.application.as_ref() == Some(&application) {
            return Ok(false);
        }
        let what = if self.application.is_some() { "application edited" } else { "application written" };
        let what = format!("{what} ({} shop)", application.shop_type.as_str());
        self.application = Some(application);
        self.step(OnboardingStatus::Draft, by, now, what);
        Ok(true)
    }

    /// Whether the application holds a document of `kind` with these bytes already.
    pub fn has_document(&self, kind: DocumentKind, sha256: &str) -> bool {
        self.document(kind).is_some_and(|d| d.sha256 == sha256)
    }

    /// Attaches a document of `kind` (replacing the one before), as an edit. The same
    /// bytes again on a draft (a retry) change nothing: `Ok(false)`.
    pub fn attach_document(
        &mut self,
        kind: DocumentKind,
        document: DocumentRef,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, InvalidOnboardingStep> {
        if !self.status.is_editable() {
            return Err(self.refuse("change its documents"));
        }
        if self.status == OnboardingStatus::Draft && self.has_document(kind, &document.sha256) {
            return Ok(false);
        }
        let what = format!("document {} uploaded ({}, {} bytes)", kind.as_str(), document.content_type, document.bytes);
        self.documents.retain(|(k, _)| *k != kind);
        self.documents.push((kind, document));
        self.documents.sort_by_key(|(k, _)| *k);
        self.step(OnboardingStatus::Draft, by, now, what);
        Ok(true)
    }

    /// Submits the application for review: a draft with an application and every
    /// document ([`DocumentKind::ALL`]). Submitting one under review again (a retry)
    /// changes nothing: `Ok(false)`.
    pub fn submit(&mut self, by: &str, now: DateTime<Utc>) -> Result<bool, OnboardingError> {
        if self.status == OnboardingStatus::Submitted {
            return Ok(false);
        }
        if self.status != OnboardingStatus::Draft {
            return Err(self.refuse("submit (only a draft is submitted)").into());
        }
        if self.application.is_none() {
            return Err(
                ValidationError::new("application", "write the application (PUT .../application) before submitting").into()
            );
        }
        if let Some(missing) = DocumentKind::ALL.into_iter().find(|k| self.document(*k).is_none()) {
            let message = format!("upload the document {} before submitting", missing.as_str());
            return Err(ValidationError::new(format!("documents.{}", missing.as_str()), message).into());
        }
        let what =
            if self.rejection.is_some() { "application submitted again for review" } else { "application submitted for review" };
        self.step(OnboardingStatus::Submitted, by, now, what.to_owned());
        Ok(true)
    }

    /// An administrator approves the submitted application: the merchant may sell.
    pub fn approve(&mut self, by: &str, now: DateTime<Utc>) -> Result<(), InvalidOnboardingStep> {
        if self.status != OnboardingStatus::Submitted {
            return Err(self.refuse("be approved (only a submitted application is decided)"));
        }
        self.rejection = None;
        self.step(OnboardingStatus::Approved, by, now, "approved: the merchant may sell".to_owned());
        Ok(())
    }

    /// An administrator rejects the submitted application with `reason` (checked).
    pub fn reject(&mut self, reason: &str, by: &str, now: DateTime<Utc>) -> Result<(), OnboardingError> {
        let reason = text("reason", reason, MAX_REASON_LEN)?;
        if self.status != OnboardingStatus::Submitted {
            return Err(self.refuse("be rejected (only a submitted application is decided)").into());
        }
        self.rejection = Some(reason.clone());
        self.step(OnboardingStatus::Rejected, by, now, format!("rejected: {reason}"));
        Ok(())
    }
}

/// Whether a merchant may sell: with no onboarding record (a merchant that predates
/// onboarding, provisioned by the operator), yes; with one, only once approved.
pub fn may_sell(record: Option<&MerchantRecord>) -> bool {
    record.is_none_or(|r| r.status == OnboardingStatus::Approved)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::document::{DocumentKey, DocumentType};

    pub(crate) fn application() -> Application {
        Application::parse("flagship", "tea and tea sets", "91330100MA27XK1234", "Wang Fang", "33010619900101123X").unwrap()
    }

    pub(crate) fn document(kind: DocumentKind) -> DocumentRef {
        DocumentRef {
            key: DocumentKey::parse(format!("merchants/m-9/{}", kind.as_str())).unwrap(),
            content_type: DocumentType::Pdf,
            bytes: 9,
            sha256: "00".repeat(32),
            uploaded_at: Utc::now(),
        }
    }

    fn registered() -> MerchantRecord {
        MerchantRecord::register(
            MerchantId::parse("m-9").unwrap(),
            Phone::parse("+86 138-0000-0000").unwrap(),
            Region::parse("浙江").unwrap(),
            "m-9",
            Utc::now(),
        )
    }

    fn complete() -> MerchantRecord {
        let mut record = registered();
        record.save_application(application(), "m-9", Utc::now()).unwrap();
        for kind in DocumentKind::ALL {
            record.attach_document(kind, document(kind), "m-9", Utc::now()).unwrap();
        }
        record
    }

    #[test]
    fn phones_are_e164_and_regions_are_known_provinces() {
        assert_eq!(Phone::parse("+86 138-0000-0000").unwrap().as_str(), "+8613800000000");
        for bad in ["13800000000", "+0123456789", "+86", "+1234567890123456", "+86 138 abc", ""] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Region::parse("zhejiang province").unwrap().as_str(), "Zhejiang");
        assert_eq!(Region::parse("浙江").unwrap().as_str(), "Zhejiang");
        assert!(Region::parse("Atlantis").is_err());
    }

    #[test]
    fn an_application_checks_every_field_and_reads_its_id_number_masked() {
        let app = application();
        assert_eq!(app.masked_id_number(), "330***********123X");
        let cases = [
            (("shop", "x", "91330100MA27XK1234", "W", "330106199001011234"), "shop_type"),
            (("flagship", " ", "91330100MA27XK1234", "W", "330106199001011234"), "business_scope"),
            (("flagship", "x", "123", "W", "330106199001011234"), "licence_number"),
            (("flagship", "x", "91330100MA27XK12-4", "W", "330106199001011234"), "licence_number"),
            (("flagship", "x", "91330100MA27XK1234", "", "330106199001011234"), "legal_representative.name"),
            (("flagship", "x", "91330100MA27XK1234", "W", "33010619900101X234"), "legal_representative.id_number"),
        ];
        for ((t, s, l, n, i), field) in cases {
            assert_eq!(Application::parse(t, s, l, n, i).unwrap_err().field, field);
        }
        let long = "x".repeat(MAX_SCOPE_LEN + 1);
        assert_eq!(
            Application::parse("flagship", &long, "91330100MA27XK1234", "W", "330106199001011234").unwrap_err().field,
            "business_scope"
        );
    }

    #[test]
    fn an_application_is_submitted_only_when_complete() {
        let mut record = registered();
        let Err(OnboardingError::Incomplete(e)) = record.submit("m-9", Utc::now()) else { panic!("no application") };
        assert_eq!(e.field, "application");
        record.save_application(application(), "m-9", Utc::now()).unwrap();
        record
            .attach_document(DocumentKind::BusinessLicence, document(DocumentKind::BusinessLicence), "m-9", Utc::now())
            .unwrap();
        let Err(OnboardingError::Incomplete(e)) = record.submit("m-9", Utc::now()) else { panic!("a document missing") };
        assert_eq!(e.field, "documents.representative_id");
        assert_eq!(record.status, OnboardingStatus::Draft);
    }

    #[test]
    fn rejected_then_edited_then_resubmitted_then_approved_with_every_step_on_the_timeline() {
        let mut record = complete();
        let v = record.version;
        assert_eq!(record.submit("m-9", Utc::now()), Ok(true));
        assert_eq!((record.status, record.version), (OnboardingStatus::Submitted, v + 1));
        assert_eq!(record.submit("m-9", Utc::now()), Ok(false), "a retried submit changes nothing");
        assert_eq!(record.version, v + 1);
        record.reject("the licence scan is unreadable", "admin", Utc::now()).unwrap();
        assert_eq!(record.status, OnboardingStatus::Rejected);
        assert_eq!(record.rejection.as_deref(), Some("the licence scan is unreadable"));
        assert!(!may_sell(Some(&record)));
        // A rejected application is not decided again, nor submitted as it is.
        assert!(record.approve("admin", Utc::now()).is_err());
        assert!(record.submit("m-9", Utc::now()).is_err());
        // The same document again is an edit after a rejection (it becomes a draft)...
        record
            .attach_document(DocumentKind::BusinessLicence, document(DocumentKind::BusinessLicence), "m-9", Utc::now())
            .unwrap();
        assert_eq!(record.status, OnboardingStatus::Draft);
        // ...and again on the draft, a retry that changes nothing.
        let again = document(DocumentKind::BusinessLicence);
        assert_eq!(record.attach_document(DocumentKind::BusinessLicence, again, "m-9", Utc::now()), Ok(false));
        assert_eq!(record.save_application(application(), "m-9", Utc::now()), Ok(false));
        record.submit("m-9", Utc::now()).unwrap();
        record.approve("admin", Utc::now()).unwrap();
        assert!(may_sell(Some(&record)));
        assert_eq!(record.rejection, None);
        let steps: Vec<(OnboardingStatus, &str)> = record.timeline.iter().map(|e| (e.status, e.by.as_str())).collect();
        use OnboardingStatus::*;
        assert_eq!(
            steps,
            [
                (Draft, "m-9"),
                (Draft, "m-9"),
                (Draft, "m-9"),
                (Draft, "m-9"),
                (Submitted, "m-9"),
                (Rejected, "admin"),
                (Draft, "m-9"),
                (Submitted, "m-9"),
                (Approved, "admin")
            ]
        );
        assert!(record.timeline[7].what.contains("again"));
    }

    #[test]
    fn only_a_submitted_application_is_decided_and_an_approved_one_is_not_edited() {
        use OnboardingStatus::*;
        let mut record = complete();
        assert!(record.approve("admin", Utc::now()).is_err());
        assert!(record.reject("no", "admin", Utc::now()).is_err());
        record.submit("m-9", Utc::now()).unwrap();
        assert!(record.save_application(application(), "m-9", Utc::now()).is_err(), "under review");
        let Err(OnboardingError::Incomplete(e)) = record.reject("  ", "admin", Utc::now()) else {
            panic!("a reason is required")
        };
        assert_eq!(e.field, "reason");
        record.approve("admin", Utc::now()).unwrap();
        let refused = record.save_application(application(), "m-9", Utc::now()).unwrap_err();
        assert_eq!(refused.from, Approved);
        assert!(record.reject("late", "admin", Utc::now()).is_err());
        assert_eq!(record.status, Approved);
    }

    #[test]
    fn a_merchant_without_a_record_predates_onboarding_and_may_sell() {
        assert!(may_sell(None));
        assert!(!may_sell(Some(&registered())));
    }

    #[test]
    fn the_queue_key_orders_by_time_then_merchant() {
        let a = registered();
        let mut b = a.clone();
        b.status_since += chrono::Duration::seconds(1);
        assert!(a.queue_key() < b.queue_key());
        assert!(a.queue_key().ends_with("#m-9"));
    }
}
