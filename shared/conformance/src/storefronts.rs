//! Storefronts: a template is replaced only by a higher version (a retry of the same
//! design is no change); a draft is written only over the version read, so two editors
//! saving from one version leave exactly one edit; publishing copies the draft at one
//! version, and draft edits never show in the published storefront until it is published
//! again; a publication taken from a version since edited writes nothing; one merchant's
//! draft and storefront are never another's.

use chrono::{Duration, Utc};
use oms_domain::ports::{PublishOutcome, PutTemplateOutcome, SaveDraftOutcome};
use oms_domain::storefront::{
    Colour, Profile, ProfileInput, PublishedStorefront, StorefrontDraft, Template, TemplateId, TemplateStatus, Theme,
};

use crate::fixtures::{merchant, noon};
use crate::Subject;

fn template(id: &str, version: u32, name: &str) -> Template {
    let theme =
        Theme { primary: Colour::parse("#8b0000").expect("a colour"), background: Colour::parse("#fffaf0").expect("a colour") };
    let sections = ["hero_banner", "featured_grid", "about"].map(str::to_owned);
    let id = TemplateId::parse(id).expect("an id");
    Template::parse(id, name, &sections, theme, version, TemplateStatus::Published, noon()).expect("a template")
}

fn profile(name: &str) -> Profile {
    Profile::parse(ProfileInput {
        template: "classic".into(),
        name: name.into(),
        introduction: "Tea from West Lake".into(),
        logo: Some("https://img.example.com/logo.png".into()),
        banners: vec!["https://img.example.com/banner.jpg".into()],
        featured: vec!["TEA-1".into()],
        promoted: vec![],
    })
    .expect("a profile")
}

fn first_draft(id: &str, name: &str) -> StorefrontDraft {
    StorefrontDraft::first(merchant(id), profile(name), id, noon())
}

fn published_copy(draft: &StorefrontDraft) -> PublishedStorefront {
    PublishedStorefront::of(draft, &template("classic", 1, "Classic"), noon() + Duration::minutes(1)).expect("publishable")
}

pub async fn a_template_is_replaced_only_by_a_higher_version_and_a_retry_is_unchanged(s: Subject) {
    let first = template("classic", 1, "Classic");
    assert_eq!(s.storefronts.put_template(&first).await.expect("put failed"), PutTemplateOutcome::Written);
    let retry = Template { updated_at: noon() + Duration::minutes(3), ..first.clone() };
    assert_eq!(s.storefronts.put_template(&retry).await.expect("put failed"), PutTemplateOutcome::Unchanged);
    let same_version_other_design = template("classic", 1, "Classic red");
    match s.storefronts.put_template(&same_version_other_design).await.expect("put failed") {
        PutTemplateOutcome::Stale(stored) => assert_eq!(*stored, first),
        other => panic!("another design at the stored version is stale: {other:?}"),
    }
    let second = Template { status: TemplateStatus::Withdrawn, ..template("classic", 2, "Classic") };
    assert_eq!(s.storefronts.put_template(&second).await.expect("put failed"), PutTemplateOutcome::Written);
    match s.storefronts.put_template(&first).await.expect("put failed") {
        PutTemplateOutcome::Stale(stored) => assert_eq!(*stored, second),
        other => panic!("a lower version is stale: {other:?}"),
    }
    assert_eq!(s.storefronts.put_template(&template("bold", 1, "Bold")).await.expect("put failed"), PutTemplateOutcome::Written);
    let listed = s.storefronts.list_templates().await.expect("list failed");
    let ids: Vec<(&str, u32)> = listed.iter().map(|t| (t.id.as_str(), t.version)).collect();
    assert_eq!(ids, [("bold", 1), ("classic", 2)], "every template, withdrawn too, by id");
    let unknown = TemplateId::parse("nope").expect("an id");
    assert_eq!(s.storefronts.get_template(&unknown).await.expect("get failed"), None);
}

pub async fn a_first_draft_is_saved_once_and_an_edit_only_over_the_version_read(s: Subject) {
    let m = merchant("m-1");
    assert_eq!(s.storefronts.get_draft(&m).await.expect("get failed"), None);
    let first = first_draft("m-1", "West Lake Tea");
    assert_eq!(s.storefronts.save_draft(&first).await.expect("save failed"), SaveDraftOutcome::Saved);
    let another_first = first_draft("m-1", "Another");
    assert_eq!(
        s.storefronts.save_draft(&another_first).await.expect("save failed"),
        SaveDraftOutcome::Conflict(Some(Box::new(first.clone()))),
        "a first draft exists already"
    );
    let edited = first.edited(profile("West Lake Tea House"), "m-1", Utc::now());
    assert_eq!(s.storefronts.save_draft(&edited).await.expect("save failed"), SaveDraftOutcome::Saved);
    let stale = first.edited(profile("Stale"), "m-1", Utc::now());
    assert_eq!(
        s.storefronts.save_draft(&stale).await.expect("save failed"),
        SaveDraftOutcome::Conflict(Some(Box::new(edited.clone()))),
        "an edit of version 1 after version 2 is stored"
    );
    assert_eq!(s.storefronts.get_draft(&m).await.expect("get failed"), Some(edited));
    let no_draft = first_draft("m-2", "Nothing").edited(profile("Nothing"), "m-2", Utc::now());
    assert_eq!(s.storefronts.save_draft(&no_draft).await.expect("save failed"), SaveDraftOutcome::Conflict(None));
    assert_eq!(s.storefronts.get_draft(&merchant("m-2")).await.expect("get failed"), None, "nothing written");
}

pub async fn two_editors_saving_from_one_version_leave_exactly_one_draft(s: Subject) {
    let read = first_draft("m-3", "Start");
    assert_eq!(s.storefronts.save_draft(&read).await.expect("save failed"), SaveDraftOutcome::Saved);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (store, read) = (s.storefronts.clone(), read.clone());
        tasks.push(tokio::spawn(async move {
            let edit = read.edited(profile(&format!("Editor {i}")), &format!("editor-{i}"), Utc::now());
            (store.save_draft(&edit).await.expect("save failed"), edit)
        }));
    }
    let mut saved = Vec::new();
    for task in tasks {
        match task.await.expect("a task") {
            (SaveDraftOutcome::Saved, edit) => saved.push(edit),
            (SaveDraftOutcome::Conflict(Some(stored)), _) => assert_eq!(stored.version, 2, "the winner's version"),
            (other, _) => panic!("an edit either lands or finds the winner's: {other:?}"),
        }
    }
    assert_eq!(saved.len(), 1, "exactly one edit of one version is written");
    assert_eq!(s.storefronts.get_draft(&merchant("m-3")).await.expect("get failed").as_ref(), saved.first());
}

pub async fn publishing_copies_the_draft_and_later_edits_stay_unpublished_until_published_again(s: Subject) {
    let m = merchant("m-4");
    let draft = first_draft("m-4", "Published name");
    assert_eq!(s.storefronts.save_draft(&draft).await.expect("save failed"), SaveDraftOutcome::Saved);
    assert_eq!(s.storefronts.get_published(&m).await.expect("get failed"), None, "a draft alone is not published");
    let copy = published_copy(&draft);
    assert_eq!(s.storefronts.publish(&copy).await.expect("publish failed"), PublishOutcome::Published);
    assert_eq!(s.storefronts.get_published(&m).await.expect("get failed"), Some(copy.clone()));

    let edited = draft.edited(profile("Edited name"), "m-4", Utc::now());
    assert_eq!(s.storefronts.save_draft(&edited).await.expect("save failed"), SaveDraftOutcome::Saved);
    let shown = s.storefronts.get_published(&m).await.expect("get failed").expect("published");
    assert_eq!((shown.profile.name.as_str(), shown.draft_version), ("Published name", 1), "the edit is not shown");

    let again = published_copy(&edited);
    assert_eq!(s.storefronts.publish(&again).await.expect("publish failed"), PublishOutcome::Published);
    let shown = s.storefronts.get_published(&m).await.expect("get failed").expect("published");
    assert_eq!((shown.profile.name.as_str(), shown.draft_version), ("Edited name", 2), "publishing again replaces it");

    assert!(s.storefronts.unpublish(&m).await.expect("unpublish failed"));
    assert_eq!(s.storefronts.get_published(&m).await.expect("get failed"), None);
    assert!(!s.storefronts.unpublish(&m).await.expect("unpublish failed"), "nothing left to unpublish");
    assert_eq!(s.storefronts.get_draft(&m).await.expect("get failed"), Some(edited), "the draft stays");
}

pub async fn a_publication_of_a_draft_version_since_edited_writes_nothing(s: Subject) {
    let m = merchant("m-5");
    let draft = first_draft("m-5", "First");
    assert_eq!(s.storefronts.save_draft(&draft).await.expect("save failed"), SaveDraftOutcome::Saved);
    let first_copy = published_copy(&draft);
    assert_eq!(s.storefronts.publish(&first_copy).await.expect("publish failed"), PublishOutcome::Published);
    let read_copy = published_copy(&draft);
    let edited = draft.edited(profile("Second"), "m-5", Utc::now());
    assert_eq!(s.storefronts.save_draft(&edited).await.expect("save failed"), SaveDraftOutcome::Saved);
    let late = PublishedStorefront { published_at: noon() + Duration::minutes(9), ..read_copy };
    assert_eq!(s.storefronts.publish(&late).await.expect("publish failed"), PublishOutcome::DraftChanged);
    assert_eq!(s.storefronts.get_published(&m).await.expect("get failed"), Some(first_copy), "the old copy stays");
    let never_drafted = published_copy(&first_draft("m-6", "Ghost"));
    assert_eq!(s.storefronts.publish(&never_drafted).await.expect("publish failed"), PublishOutcome::DraftChanged);
    assert_eq!(s.storefronts.get_published(&merchant("m-6")).await.expect("get failed"), None);
}

pub async fn one_merchants_storefront_is_never_another_merchants(s: Subject) {
    let (a, b) = (first_draft("shop-a", "Shop A"), first_draft("shop-b", "Shop B"));
    for draft in [&a, &b] {
        assert_eq!(s.storefronts.save_draft(draft).await.expect("save failed"), SaveDraftOutcome::Saved);
    }
    assert_eq!(s.storefronts.publish(&published_copy(&a)).await.expect("publish failed"), PublishOutcome::Published);
    assert_eq!(s.storefronts.get_published(&merchant("shop-b")).await.expect("get failed"), None, "b never published");
    // b's edit at version 1 is b's own, whatever a's version.
    let b_edit = b.edited(profile("Shop B again"), "shop-b", Utc::now());
    assert_eq!(s.storefronts.save_draft(&b_edit).await.expect("save failed"), SaveDraftOutcome::Saved);
    assert_eq!(s.storefronts.get_draft(&merchant("shop-a")).await.expect("get failed"), Some(a.clone()));
    assert!(!s.storefronts.unpublish(&merchant("shop-b")).await.expect("unpublish failed"));
    let shown = s.storefronts.get_published(&merchant("shop-a")).await.expect("get failed").expect("a's store");
    assert_eq!(shown.profile.name, "Shop A", "b's unpublish leaves a's store");
    // Merchant ids that differ only by key separators stay apart.
    let odd = first_draft("shop#a", "Odd");
    assert_eq!(s.storefronts.save_draft(&odd).await.expect("save failed"), SaveDraftOutcome::Saved);
    assert_eq!(s.storefronts.get_draft(&merchant("shop-a")).await.expect("get failed"), Some(a));
}
