//! Unit tests of the documents, the batch's targets and the layout arithmetic; publishing
//! against stores is tested in `update-content-index/tests/pages.rs` and `handler.rs`.

use std::collections::BTreeSet;

use media_core::item::{ItemKey, MediaItem};
use media_core::text::TextField;

use crate::layout::{layout, page_of, range_of, split, Pages};
use crate::model::entries;
use crate::*;

fn change(identity: &str, key: &str, seq: &str) -> TableChange {
    TableChange {
        sequence_number: seq.into(),
        key: ItemKey {
            identity_id: identity.into(),
            object_key: key.into(),
        },
        public_day: None,
        dates: Vec::new(),
    }
}

#[test]
fn a_batch_affects_each_index_once() {
    let changes = vec![
        change("a", "public/content/a/1.jpg", "1"),
        change("a", "private/content/a/2.jpg", "2"),
        change("b", "private/content/b/3.jpg", "3"),
        change("a", "public/content/a/1.jpg", "4"),
        change("#public-days", "2026-11-23", "5"),
    ];
    let targets = affected_indexes(&changes);
    let keys: Vec<_> = targets.keys().cloned().collect();
    assert_eq!(
        keys,
        [
            IndexTarget::Public,
            IndexTarget::Private("a".into()),
            IndexTarget::Private("b".into())
        ]
    );
    assert_eq!(targets[&IndexTarget::Public].len(), 2);
    assert_eq!(targets[&IndexTarget::Private("a".into())].len(), 3);
}

#[test]
fn private_changes_do_not_touch_the_public_index() {
    let changes = [change("a", "private/content/a/2.jpg", "1")];
    let targets = affected_indexes(&changes);
    assert!(!targets.contains_key(&IndexTarget::Public));
}

fn item(id: &str, n: u32, date: &str) -> MediaItem {
    MediaItem {
        identity_id: id.into(),
        object_key: format!("public/content/{id}/{n}.jpg"),
        thumbnail_key: Some(format!("public/thumbnails/{id}/{n}.jpg")),
        is_public: true,
        title: format!("t{n}"),
        upload_date: Some(date.into()),
        upload_day: Some(date[..10].into()),
        width: Some(10),
        height: Some(20),
        content_type: Some("image/jpeg".into()),
        sequencer: Some(media_core::item::Sequencer::new("A")),
        ..Default::default()
    }
}

#[test]
fn index_is_newest_first_limited_and_has_the_contract_shape() {
    let items = vec![
        item("a", 1, "2026-11-22T10:00:00.000Z"),
        item("a", 2, "2026-11-23T10:00:00.000Z"),
        item("b", 3, "2026-11-21T10:00:00.000Z"),
        MediaItem {
            upload_date: None,
            ..item("c", 4, "2026-11-24T00:00:00.000Z")
        },
    ];
    let index = ContentIndex::new(items, Some(2));
    let titles: Vec<_> = index.items.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles, ["t2", "t1"]);
    let json = serde_json::to_value(&index).unwrap();
    assert_eq!(json["version"], 3);
    assert!(json["generatedAt"].as_str().unwrap().ends_with('Z'));
    let entry = &json["items"][0];
    for field in [
        "identityId",
        "objectKey",
        "thumbnailKey",
        "isPublic",
        "title",
        "description",
        "uploadDate",
        "contentType",
        "width",
        "height",
    ] {
        assert!(entry.get(field).is_some(), "{field} missing from {entry}");
    }
    assert!(
        entry.get("facesKey").is_none(),
        "face attributes appear once known"
    );
    assert!(entry.get("sequencer").is_none() && entry.get("uploadDay").is_none());
}

#[test]
fn titles_and_descriptions_written_into_the_table_are_bounded_in_the_index() {
    let huge = MediaItem {
        title: "t".repeat(100_000),
        description: "é".repeat(300_000),
        ..item("a", 1, "2026-11-23T10:00:00.000Z")
    };
    let index = ContentIndex::new([huge], None);
    assert_eq!(
        index.items[0].title.chars().count(),
        TextField::Title.max_chars()
    );
    assert_eq!(
        index.items[0].description.chars().count(),
        TextField::Description.max_chars()
    );
}

/// The index's JSON Schema, generated from these types, is what the client checks its
/// parser against (`client/src/indexdoc.schema.test.ts`): a field added here and not
/// there fails one of the two tests. `UPDATE_SCHEMA=1` rewrites the committed copy.
#[test]
fn the_committed_index_schema_is_generated_from_the_types() {
    let schema = serde_json::to_string_pretty(&schemars::schema_for!(ContentIndex)).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../client/src/content-index.schema.json");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &schema).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == schema,
        "{} is stale: run the test with UPDATE_SCHEMA=1 and update the client",
        path.display()
    );
}

/// Every attribute of the table's item either reaches the index or is named here as
/// internal: a new attribute added to `MediaItem` alone fails this test until someone
/// decides whether the client sees it (and the schema test then carries it to the client).
#[test]
fn every_item_attribute_is_in_the_index_or_named_internal() {
    const INTERNAL: [&str; 6] = [
        "sequencer",
        "uploadDay",
        "faces",
        "facesSequencer",
        "deleted",
        "expiresAt",
    ];
    let mut full = item("a", 1, "2026-11-23T10:00:00.000Z");
    full.faces_key = Some("k".into());
    full.preview_key = Some("p".into());
    full.animated = true;
    full.face_count = Some(1);
    full.faces = Some(vec![media_core::item::FaceBox {
        x: 1,
        y: 1,
        w: 1,
        h: 1,
    }]);
    full.size = Some(1);
    full.faces_sequencer = Some(media_core::item::Sequencer::new("A"));
    full.deleted = Some(false);
    full.expires_at = Some(1);
    let item_fields: BTreeSet<String> = serde_json::to_value(&full)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let entry = IndexEntry::from_item(full).unwrap();
    let entry_fields: BTreeSet<String> = serde_json::to_value(&entry)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for field in &item_fields {
        assert!(
            entry_fields.contains(field) || INTERNAL.contains(&field.as_str()),
            "{field}: in the index or internal?"
        );
    }
    assert!(
        entry_fields.is_subset(&item_fields),
        "the index invents {:?}",
        entry_fields.difference(&item_fields).collect::<Vec<_>>()
    );
}

#[test]
fn a_large_page_splits_into_pages_of_the_size_oldest_first_never_splitting_a_date() {
    // Pairs of pictures share an upload date.
    let items: Vec<MediaItem> = (0..23)
        .map(|n| item("a", n, &format!("2026-11-23T10:00:{:02}.000Z", n / 2)))
        .collect();
    let chunks = split(entries(items.clone()), 4);
    assert!(chunks.len() >= 4, "{} pages", chunks.len());
    assert_eq!(chunks.iter().map(Vec::len).sum::<usize>(), 23);
    assert!(chunks.iter().all(|c| c.len() >= 4));
    for pair in chunks.windows(2) {
        let (older, newer) = (&pair[0], &pair[1]);
        assert!(
            older.first().unwrap().upload_date < newer.last().unwrap().upload_date,
            "oldest page first, dates not shared"
        );
    }
    assert_eq!(
        split(entries(items.into_iter().take(8)), 4).len(),
        1,
        "up to twice the size stays one page"
    );
}

fn entry(key: &str, after: Option<&str>, level: u32) -> PageEntry {
    PageEntry {
        key: key.into(),
        count: 1,
        generated_at: "g".into(),
        content_hash: "h".into(),
        after: after.map(Into::into),
        level,
    }
}

#[test]
fn a_volume_whose_entries_do_not_cover_its_range_is_read_as_one_page_to_rebuild() {
    let target = IndexTarget::Private("id".into());
    let (a, b) = ("2026-01-02T00:00:00.000Z", "2026-01-01T00:00:00.000Z");
    // A volume owning the dates after b: its oldest entry must start at b.
    let listed = vec![entry("p2", Some(a), 0), entry("p1", Some(b), 0)];
    assert_eq!(
        layout(&target, listed.clone(), Some(b), Pages::Touched),
        (listed, Pages::Touched)
    );
    for damaged in [
        vec![],
        vec![entry("p2", Some(a), 0)],
        vec![entry("p1", Some(b), 0), entry("p2", Some(a), 0)],
    ] {
        let (read, scope) = layout(&target, damaged, Some(b), Pages::Touched);
        assert_eq!(scope, Pages::All, "rebuilt whole");
        assert_eq!(read.len(), 1);
        assert_eq!(
            (
                read[0].key.as_str(),
                read[0].after.as_deref(),
                read[0].level
            ),
            (
                "private/index/id/content-20260101T000000000Z.json",
                Some(b),
                0
            )
        );
    }
    // The entry holding a date, and its range inside a volume owning dates up to `upto`.
    let volume = vec![entry("p2", Some(a), 0), entry("v1", Some(b), 1)];
    assert_eq!(page_of(&volume, "2026-01-01T12:00:00.000Z"), 1);
    assert_eq!(
        range_of(&volume, 0, Some("2026-02-01T00:00:00.000Z"))
            .upto
            .as_deref(),
        Some("2026-02-01T00:00:00.000Z")
    );
    assert_eq!(range_of(&volume, 1, None).upto.as_deref(), Some(a));
}

#[test]
fn a_page_entry_has_no_level_and_a_volume_entry_says_its_level() {
    let page = serde_json::to_value(entry("p", None, 0)).unwrap();
    assert!(page.get("level").is_none(), "{page}");
    let volume = serde_json::to_value(entry("v", None, 2)).unwrap();
    assert_eq!(volume["level"], 2);
    let version_2: PageEntry =
        serde_json::from_str(r#"{"key":"k","count":3,"generatedAt":"g","contentHash":"h"}"#)
            .unwrap();
    assert!(!version_2.is_volume());
}

#[test]
fn tombstones_are_in_no_index() {
    let tombstone = MediaItem {
        deleted: Some(true),
        ..item("a", 1, "2026-11-23T10:00:00.000Z")
    };
    assert!(ContentIndex::new([tombstone], None).items.is_empty());
}
