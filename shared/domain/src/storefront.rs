//! Storefronts: the platform publishes storefront templates (a layout of sections and a
//! colour theme, each change a new version); a merchant picks one and fills its profile (a
//! name, an introduction, a logo, banner images, featured and promoted products) as a
//! draft, previews it and publishes it. Buyers only ever see the published copy: a draft
//! edit changes nothing they see until it is published again.
//!
//! The draft carries a version: each save is written only over the version the editor
//! read ([`StorefrontDraft::edited`]), so of two editors saving from one version exactly
//! one lands and the other is told the version to read again. Publishing copies the draft
//! as it is at one version, with a snapshot of its template ([`PublishedStorefront::of`]);
//! a template withdrawn meanwhile refuses the publication, and a template changed so that
//! its sections no longer hold the draft's content refuses it too.
//!
//! Images are `https` URLs the merchant hosts ([`ImageUrl`]): bounded, checked for form,
//! never fetched by us. Products are SKUs of the merchant's own catalogue (checked by the
//! use case, which reads the catalogue).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::{MerchantId, Sku, ValidationError};

/// Longest template id.
pub const MAX_TEMPLATE_ID_LEN: usize = 64;
/// Longest template or store name, in characters.
pub const MAX_NAME_CHARS: usize = 80;
/// Longest introduction, in characters.
pub const MAX_INTRODUCTION_CHARS: usize = 2000;
/// Most banner images of a storefront.
pub const MAX_BANNERS: usize = 5;
/// Most featured products of a storefront.
pub const MAX_FEATURED: usize = 12;
/// Most promoted products of a storefront.
pub const MAX_PROMOTED: usize = 6;
/// Longest image URL, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// A template's id: 1 to 64 lower-case letters, digits and hyphens (`classic-2`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TemplateId(String);

impl TemplateId {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        let raw: String = raw.into();
        let fits = !raw.is_empty()
            && raw.len() <= MAX_TEMPLATE_ID_LEN
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if fits {
            Ok(Self(raw))
        } else {
            Err(ValidationError::new(
                "",
                format!("{raw:?} is not a template id: 1 to {MAX_TEMPLATE_ID_LEN} lower-case letters, digits and hyphens"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TemplateId {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

impl From<TemplateId> for String {
    fn from(id: TemplateId) -> String {
        id.0
    }
}

impl fmt::Display for TemplateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A section a template lays out; a storefront fills only the sections its template has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// The banner images across the top.
    HeroBanner,
    /// The featured products, a grid of cards.
    FeaturedGrid,
    /// The promoted products, a strip of cards.
    Promoted,
    /// The introduction.
    About,
}

impl Section {
    pub const ALL: [Section; 4] = [Section::HeroBanner, Section::FeaturedGrid, Section::Promoted, Section::About];

    pub fn as_str(self) -> &'static str {
        match self {
            Section::HeroBanner => "hero_banner",
            Section::FeaturedGrid => "featured_grid",
            Section::Promoted => "promoted",
            Section::About => "about",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
            ValidationError::new("", format!("{raw:?} is not a section: one of {}", names.join(", ")))
        })
    }
}

/// A colour of a theme: `#rrggbb`, kept lower-case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Colour(String);

impl Colour {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let hex = raw.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        hex.map(|h| Self(format!("#{}", h.to_ascii_lowercase())))
            .ok_or_else(|| ValidationError::new("", format!("{raw:?} is not a colour like \"#1a2b3c\"")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Colour {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Colour> for String {
    fn from(c: Colour) -> String {
        c.0
    }
}

/// A template's colour theme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theme {
    /// Headings, prices and buttons.
    pub primary: Colour,
    /// The page's background.
    pub background: Colour,
}

/// Whether merchants may pick a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateStatus {
    Published,
    /// No new draft picks it and no storefront is published on it; stores published on it
    /// before stay as they are.
    Withdrawn,
}

impl TemplateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateStatus::Published => "published",
            TemplateStatus::Withdrawn => "withdrawn",
        }
    }
}

/// A storefront template, as platform staff publish it. Each change is a new version;
/// a store replaces a template only by a higher version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub id: TemplateId,
    pub name: String,
    /// The sections, in the order the page shows them; each at most once.
    pub sections: Vec<Section>,
    pub theme: Theme,
    /// The design's version, 1 and up, given by staff.
    pub version: u32,
    pub status: TemplateStatus,
    pub updated_at: DateTime<Utc>,
}

impl Template {
    /// Checks a template as staff send it, naming the field at fault.
    pub fn parse(
        id: TemplateId,
        name: &str,
        sections: &[String],
        theme: Theme,
        version: u32,
        status: TemplateStatus,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        let name = bounded_text("name", name, MAX_NAME_CHARS, true)?;
        if sections.is_empty() {
            return Err(ValidationError::new("sections", "name at least one section"));
        }
        let mut parsed = Vec::with_capacity(sections.len());
        for (i, raw) in sections.iter().enumerate() {
            let section = Section::parse(raw).map_err(|e| e.within(&format!("sections[{i}]")))?;
            if parsed.contains(&section) {
                return Err(ValidationError::new(format!("sections[{i}]"), format!("{raw} is named twice")));
            }
            parsed.push(section);
        }
        if version == 0 {
            return Err(ValidationError::new("version", "starts at 1"));
        }
        Ok(Self { id, name, sections: parsed, theme, version, status, updated_at: now })
    }

    pub fn has(&self, section: Section) -> bool {
        self.sections.contains(&section)
    }

    /// The same design as `other` (every field but when it was written): a retry of the
    /// write that stored `other`.
    pub fn same_design(&self, other: &Template) -> bool {
        Template { updated_at: other.updated_at, ..self.clone() } == *other
    }

    /// Whether the template lays out every part of `profile` that is filled: banners need
    /// a hero banner, featured products a featured grid, promoted products a promoted
    /// strip, an introduction an about section. Names the first field that does not fit.
    pub fn holds(&self, profile: &Profile) -> Result<(), ValidationError> {
        let needs = [
            ("banners", !profile.banners.is_empty(), Section::HeroBanner),
            ("featured", !profile.featured.is_empty(), Section::FeaturedGrid),
            ("promoted", !profile.promoted.is_empty(), Section::Promoted),
            ("introduction", !profile.introduction.is_empty(), Section::About),
        ];
        match needs.into_iter().find(|(_, filled, section)| *filled && !self.has(*section)) {
            Some((field, _, section)) => Err(ValidationError::new(
                field,
                format!("template {} v{} has no {} section to show it", self.id, self.version, section.as_str()),
            )),
            None => Ok(()),
        }
    }
}

/// An image the merchant hosts: an `https` URL of at most [`MAX_URL_BYTES`] with a host,
/// no credentials, and no spaces, quotes, angle brackets or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageUrl(String);

impl ImageUrl {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let refuse = |why: &str| Err(ValidationError::new("", why.to_owned()));
        if raw.len() > MAX_URL_BYTES {
            return refuse(&format!("is over {MAX_URL_BYTES} bytes"));
        }
        let Some(rest) = raw.strip_prefix("https://") else {
            return refuse("must be an https:// URL");
        };
        if raw.chars().any(|c| c.is_control() || c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '\\' | '`')) {
            return refuse("must not contain spaces, quotes, angle brackets, backslashes or control characters");
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return refuse("must not carry credentials");
        }
        let host = authority.rsplit_once(':').map_or(authority, |(host, _port)| host);
        let host_fits = !host.is_empty()
            && host.contains('.')
            && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            && !host.starts_with(['.', '-'])
            && !host.ends_with(['.', '-']);
        if !host_fits {
            return refuse("must name a host like images.example.com");
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ImageUrl {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<ImageUrl> for String {
    fn from(url: ImageUrl) -> String {
        url.0
    }
}

/// A storefront's content as the merchant fills it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub template: TemplateId,
    pub name: String,
    /// Cleaned text (control characters become spaces); may be empty.
    pub introduction: String,
    pub logo: Option<ImageUrl>,
    pub banners: Vec<ImageUrl>,
    /// The merchant's own SKUs, each at most once.
    pub featured: Vec<Sku>,
    /// The merchant's own SKUs, each at most once (one may be featured too).
    pub promoted: Vec<Sku>,
}

/// A profile as the merchant sends it, before the rules are applied.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub template: String,
    pub name: String,
    pub introduction: String,
    pub logo: Option<String>,
    pub banners: Vec<String>,
    pub featured: Vec<String>,
    pub promoted: Vec<String>,
}

impl Profile {
    /// Checks every field, naming the first at fault: bounded text, at most
    /// [`MAX_BANNERS`] images, [`MAX_FEATURED`] featured and [`MAX_PROMOTED`] promoted SKUs,
    /// none twice in one list.
    pub fn parse(input: ProfileInput) -> Result<Self, ValidationError> {
        let template = TemplateId::parse(input.template).map_err(|e| e.within("template"))?;
        let name = bounded_text("name", &input.name, MAX_NAME_CHARS, true)?;
        let introduction = bounded_text("introduction", &input.introduction, MAX_INTRODUCTION_CHARS, false)?;
        let logo = input.logo.as_deref().map(ImageUrl::parse).transpose().map_err(|e| e.within("logo"))?;
        if input.banners.len() > MAX_BANNERS {
            return Err(ValidationError::new("banners", format!("at most {MAX_BANNERS} images")));
        }
        let banners = input
            .banners
            .iter()
            .enumerate()
            .map(|(i, raw)| ImageUrl::parse(raw).map_err(|e| e.within(&format!("banners[{i}]"))))
            .collect::<Result<Vec<_>, _>>()?;
        let featured = sku_list("featured", input.featured, MAX_FEATURED)?;
        let promoted = sku_list("promoted", input.promoted, MAX_PROMOTED)?;
        Ok(Self { template, name, introduction, logo, banners, featured, promoted })
    }

    /// Every SKU the profile shows, each once, featured first.
    pub fn skus(&self) -> Vec<&Sku> {
        let mut all: Vec<&Sku> = Vec::with_capacity(self.featured.len() + self.promoted.len());
        for sku in self.featured.iter().chain(&self.promoted) {
            if !all.contains(&sku) {
                all.push(sku);
            }
        }
        all
    }
}

fn sku_list(field: &str, raw: Vec<String>, most: usize) -> Result<Vec<Sku>, ValidationError> {
    if raw.len() > most {
        return Err(ValidationError::new(field, format!("at most {most} products")));
    }
    let mut skus: Vec<Sku> = Vec::with_capacity(raw.len());
    for (i, raw) in raw.into_iter().enumerate() {
        let sku = Sku::parse(raw).map_err(|e| e.within(&format!("{field}[{i}]")))?;
        if skus.contains(&sku) {
            return Err(ValidationError::new(format!("{field}[{i}]"), format!("{sku} is listed twice")));
        }
        skus.push(sku);
    }
    Ok(skus)
}

/// Text shown to buyers: cleaned ([`crate::validation::clean_text`]), at most `most`
/// characters, required or not.
fn bounded_text(field: &str, raw: &str, most: usize, required: bool) -> Result<String, ValidationError> {
    let text = crate::validation::clean_text(raw);
    if required && text.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    if text.chars().count() > most {
        return Err(ValidationError::new(field, format!("at most {most} characters")));
    }
    Ok(text)
}

/// A merchant's storefront as it is being edited: never shown to buyers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorefrontDraft {
    pub merchant_id: MerchantId,
    pub profile: Profile,
    /// 1 for the first save, one more for each save after it.
    pub version: u64,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

impl StorefrontDraft {
    /// The merchant's first draft, at version 1.
    pub fn first(merchant_id: MerchantId, profile: Profile, by: &str, now: DateTime<Utc>) -> Self {
        Self { merchant_id, profile, version: 1, updated_at: now, updated_by: by.to_owned() }
    }

    /// This draft with `profile` in its place, at the next version: the store writes it
    /// only over this version.
    pub fn edited(&self, profile: Profile, by: &str, now: DateTime<Utc>) -> Self {
        Self { profile, version: self.version + 1, updated_at: now, updated_by: by.to_owned(), ..self.clone() }
    }

    /// The draft an editor saves having read `read` (`None`: the merchant's first draft):
    /// at the version after it.
    pub fn saved_over(read: Option<u64>, merchant_id: MerchantId, profile: Profile, by: &str, now: DateTime<Utc>) -> Self {
        Self { version: read.map_or(1, |v| v + 1), ..Self::first(merchant_id, profile, by, now) }
    }

    /// The version a store writes this draft over: none for the first.
    pub fn previous_version(&self) -> Option<u64> {
        (self.version > 1).then(|| self.version - 1)
    }
}

/// Why a draft cannot be published on its template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishRefused {
    #[error("template {0} is withdrawn: pick another template and save the draft again")]
    TemplateWithdrawn(TemplateId),
    #[error("the draft no longer fits its template: {0}")]
    NoLongerFits(ValidationError),
}

/// A merchant's storefront as buyers see it: a copy of the draft at one version, with a
/// snapshot of the template it was published on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedStorefront {
    pub merchant_id: MerchantId,
    pub profile: Profile,
    pub template: Template,
    /// The version of the draft this copies.
    pub draft_version: u64,
    pub published_at: DateTime<Utc>,
}

impl PublishedStorefront {
    /// The copy of `draft` on `template` (the draft's, as stored now), refused when the
    /// template is withdrawn or no longer holds the draft's content.
    pub fn of(draft: &StorefrontDraft, template: &Template, now: DateTime<Utc>) -> Result<Self, PublishRefused> {
        debug_assert_eq!(draft.profile.template, template.id, "the draft's own template");
        if template.status == TemplateStatus::Withdrawn {
            return Err(PublishRefused::TemplateWithdrawn(template.id.clone()));
        }
        template.holds(&draft.profile).map_err(PublishRefused::NoLongerFits)?;
        Ok(Self {
            merchant_id: draft.merchant_id.clone(),
            profile: draft.profile.clone(),
            template: template.clone(),
            draft_version: draft.version,
            published_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn theme() -> Theme {
        Theme { primary: Colour::parse("#8B0000").unwrap(), background: Colour::parse("#ffffff").unwrap() }
    }

    fn template(sections: &[&str], status: TemplateStatus) -> Template {
        let sections: Vec<String> = sections.iter().map(|s| (*s).to_owned()).collect();
        Template::parse(TemplateId::parse("classic").unwrap(), "Classic", &sections, theme(), 1, status, Utc::now()).unwrap()
    }

    fn input() -> ProfileInput {
        ProfileInput {
            template: "classic".into(),
            name: "  West Lake Tea  ".into(),
            introduction: "Green tea\nfrom Hangzhou".into(),
            logo: Some("https://img.example.com/logo.png".into()),
            banners: vec!["https://img.example.com/b1.jpg".into()],
            featured: vec!["TEA-1".into(), "TEA-2".into()],
            promoted: vec!["TEA-2".into()],
        }
    }

    #[test]
    fn a_profile_is_cleaned_and_lists_each_sku_once() {
        let profile = Profile::parse(input()).unwrap();
        assert_eq!(profile.name, "West Lake Tea");
        assert_eq!(profile.introduction, "Green tea from Hangzhou", "a line break becomes a space");
        let skus: Vec<&str> = profile.skus().iter().map(|s| s.as_str()).collect();
        assert_eq!(skus, ["TEA-1", "TEA-2"]);
    }

    #[test]
    fn a_profile_out_of_bounds_names_its_field() {
        let cases: Vec<(ProfileInput, &str)> = vec![
            (ProfileInput { name: " ".into(), ..input() }, "name"),
            (ProfileInput { name: "x".repeat(MAX_NAME_CHARS + 1), ..input() }, "name"),
            (ProfileInput { introduction: "x".repeat(MAX_INTRODUCTION_CHARS + 1), ..input() }, "introduction"),
            (ProfileInput { template: "Classic!".into(), ..input() }, "template"),
            (ProfileInput { logo: Some("http://img.example.com/logo.png".into()), ..input() }, "logo"),
            (ProfileInput { banners: vec!["https://img.example.com/b.jpg".into(); MAX_BANNERS + 1], ..input() }, "banners"),
            (ProfileInput { banners: vec!["ftp://x.example.com/a".into()], ..input() }, "banners[0]"),
            (ProfileInput { featured: vec!["TEA-1".into(), "TEA-1".into()], ..input() }, "featured[1]"),
            (ProfileInput { featured: (0..=MAX_FEATURED).map(|i| format!("S-{i}")).collect(), ..input() }, "featured"),
            (ProfileInput { promoted: vec![String::new()], ..input() }, "promoted[0]"),
        ];
        for (input, field) in cases {
            assert_eq!(Profile::parse(input).expect_err(field).field, field);
        }
    }

    #[test]
    fn image_urls_are_https_with_a_host_and_bounded() {
        for good in ["https://img.example.com/a.png", "https://cdn.example.com:8443/x/y.jpg?w=200#top"] {
            assert!(ImageUrl::parse(good).is_ok(), "{good}");
        }
        let long = format!("https://img.example.com/{}", "a".repeat(MAX_URL_BYTES));
        for bad in [
            "http://img.example.com/a.png",
            "javascript:alert(1)",
            "https://",
            "https://localhost/a.png",
            "https://user:pw@img.example.com/a.png",
            "https://img.example.com/a b.png",
            "https://img.example.com/\"onerror=\"x",
            "https://-bad.example.com/",
            long.as_str(),
        ] {
            assert!(ImageUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn templates_name_known_sections_once_and_start_at_version_1() {
        let id = TemplateId::parse("classic").unwrap();
        let parse = |sections: &[&str], version| {
            let sections: Vec<String> = sections.iter().map(|s| (*s).to_owned()).collect();
            Template::parse(id.clone(), "Classic", &sections, theme(), version, TemplateStatus::Published, Utc::now())
        };
        assert!(parse(&["hero_banner", "about"], 1).is_ok());
        assert_eq!(parse(&[], 1).unwrap_err().field, "sections");
        assert_eq!(parse(&["about", "sidebar"], 1).unwrap_err().field, "sections[1]");
        assert_eq!(parse(&["about", "about"], 1).unwrap_err().field, "sections[1]");
        assert_eq!(parse(&["about"], 0).unwrap_err().field, "version");
        assert!(TemplateId::parse("a".repeat(MAX_TEMPLATE_ID_LEN + 1)).is_err());
        assert_eq!(Colour::parse("#ABCDEF").unwrap().as_str(), "#abcdef");
        assert!(Colour::parse("red").is_err());
    }

    #[test]
    fn a_retry_of_the_same_design_is_the_same_design() {
        let t = template(&["about"], TemplateStatus::Published);
        let later = Template { updated_at: t.updated_at + chrono::Duration::minutes(5), ..t.clone() };
        assert!(later.same_design(&t));
        assert!(!Template { name: "Other".into(), ..t.clone() }.same_design(&t));
    }

    #[test]
    fn a_template_holds_only_the_parts_it_has_sections_for() {
        let profile = Profile::parse(input()).unwrap();
        assert!(template(&["hero_banner", "featured_grid", "promoted", "about"], TemplateStatus::Published)
            .holds(&profile)
            .is_ok());
        let no_banner = template(&["featured_grid", "promoted", "about"], TemplateStatus::Published);
        assert_eq!(no_banner.holds(&profile).unwrap_err().field, "banners");
        let bare = Profile { banners: vec![], featured: vec![], promoted: vec![], introduction: String::new(), ..profile };
        assert!(template(&["about"], TemplateStatus::Published).holds(&bare).is_ok(), "an empty part needs no section");
    }

    #[test]
    fn an_edit_is_the_next_version_written_over_the_one_read() {
        let merchant = MerchantId::parse("m-1").unwrap();
        let first = StorefrontDraft::first(merchant, Profile::parse(input()).unwrap(), "m-1", Utc::now());
        assert_eq!((first.version, first.previous_version()), (1, None));
        let edited = first.edited(Profile { name: "Tea".into(), ..first.profile.clone() }, "m-1", Utc::now());
        assert_eq!((edited.version, edited.previous_version()), (2, Some(1)));
        assert_eq!(edited.merchant_id, first.merchant_id);
        let saved = StorefrontDraft::saved_over(Some(2), first.merchant_id.clone(), first.profile.clone(), "m-1", Utc::now());
        assert_eq!(saved.previous_version(), Some(2));
    }

    #[test]
    fn publishing_copies_the_draft_unless_the_template_is_withdrawn_or_no_longer_fits() {
        let merchant = MerchantId::parse("m-1").unwrap();
        let draft = StorefrontDraft::first(merchant, Profile::parse(input()).unwrap(), "m-1", Utc::now());
        let all = ["hero_banner", "featured_grid", "promoted", "about"];
        let published = PublishedStorefront::of(&draft, &template(&all, TemplateStatus::Published), Utc::now()).unwrap();
        assert_eq!((published.profile, published.draft_version), (draft.profile.clone(), 1));
        let withdrawn = template(&all, TemplateStatus::Withdrawn);
        assert!(matches!(PublishedStorefront::of(&draft, &withdrawn, Utc::now()), Err(PublishRefused::TemplateWithdrawn(_))));
        let narrower = template(&["about"], TemplateStatus::Published);
        assert!(matches!(PublishedStorefront::of(&draft, &narrower, Utc::now()), Err(PublishRefused::NoLongerFits(_))));
    }
}
