//! The indexes the client reads: which a batch of table changes affects, what each contains,
//! and publishing them without ever going back to an older state.
//!
//! Publishing is optimistic concurrency on the index object's ETag: read the current index
//! (ETag E), then read the table, then write with `If-Match: E`. A failed precondition means
//! another writer published in between; the table is read again and the write retried. Every
//! published index was therefore read from the table after its predecessor was published.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::item::{ItemKey, MediaItem};
use crate::keys::{private_index_key, PUBLIC_INDEX_KEY};
use crate::metadata::{truncate_chars, MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS};
use crate::ports::{IndexItems, ObjectStore, PutObject, StoreError, WriteCondition, WriteOutcome};

pub const INDEX_VERSION: u32 = 1;
pub const DEFAULT_PUBLIC_INDEX_LIMIT: usize = 100;
/// Largest index read back before a rewrite; far above any real index.
const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;
/// Publish attempts before giving up and letting the stream retry the batch.
const MAX_PUBLISH_ATTEMPTS: usize = 8;

/// One picture as the client sees it. Its JSON Schema is committed for the client
/// (`client/src/content-index.schema.json`, checked by a test on each side).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct IndexEntry {
    pub identity_id: String,
    pub object_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_key: Option<String>,
    /// The preview rendition (fits 1600x1600); absent for items made before previews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_key: Option<String>,
    /// An animated GIF or WebP; absent when not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub animated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faces_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_count: Option<u32>,
    pub is_public: bool,
    pub title: String,
    pub description: String,
    pub upload_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl IndexEntry {
    /// The entry for an item, or `None` for an item content-updated has not written yet (or
    /// a tombstone). Titles and descriptions are cut to the contract's bounds here too: owners
    /// may write any size into the table (IAM cannot bound a value), and every visitor reads
    /// the public index.
    pub fn from_item(item: MediaItem) -> Option<IndexEntry> {
        if item.is_tombstone() {
            return None;
        }
        Some(IndexEntry {
            upload_date: item.upload_date?,
            identity_id: item.identity_id,
            object_key: item.object_key,
            thumbnail_key: item.thumbnail_key,
            preview_key: item.preview_key,
            animated: item.animated,
            faces_key: item.faces_key,
            face_count: item.face_count,
            is_public: item.is_public,
            title: truncate_chars(item.title, MAX_TITLE_CHARS).0,
            description: truncate_chars(item.description, MAX_DESCRIPTION_CHARS).0,
            content_type: item.content_type,
            size: item.size,
            width: item.width,
            height: item.height,
        })
    }
}

/// An index file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContentIndex {
    pub version: u32,
    pub generated_at: String,
    pub items: Vec<IndexEntry>,
}

impl ContentIndex {
    /// An index of `items`, newest first (ties broken by key, so the order is stable).
    pub fn new(items: impl IntoIterator<Item = MediaItem>, limit: Option<usize>) -> ContentIndex {
        let mut entries: Vec<IndexEntry> = items.into_iter().filter_map(IndexEntry::from_item).collect();
        entries.sort_by(|a, b| b.upload_date.cmp(&a.upload_date).then_with(|| a.object_key.cmp(&b.object_key)));
        if let Some(limit) = limit {
            entries.truncate(limit);
        }
        ContentIndex {
            version: INDEX_VERSION,
            generated_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            items: entries,
        }
    }
}

/// An index file to regenerate.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndexTarget {
    Public,
    Private(String),
}

impl IndexTarget {
    pub fn key(&self) -> String {
        match self {
            IndexTarget::Public => PUBLIC_INDEX_KEY.to_owned(),
            IndexTarget::Private(identity_id) => private_index_key(identity_id),
        }
    }
}

/// One change from the table's stream, reduced to what decides which indexes it affects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableChange {
    /// The stream sequence number: what a batch item failure reports.
    pub sequence_number: String,
    pub key: ItemKey,
    /// The upload day of the item's new image, when the new image is a public item.
    pub public_day: Option<String>,
}

impl TableChange {
    /// Whether the change can affect the public index: visibility follows the key's prefix.
    pub fn is_public(&self) -> bool {
        self.key.object_key.starts_with("public/")
    }

    pub fn is_bookkeeping(&self) -> bool {
        crate::item::is_bookkeeping_partition(&self.key.identity_id)
    }
}

/// The indexes a batch affects, each with the changes that affect it.
pub fn affected_indexes(changes: &[TableChange]) -> BTreeMap<IndexTarget, Vec<&TableChange>> {
    let mut targets: BTreeMap<IndexTarget, Vec<&TableChange>> = BTreeMap::new();
    for change in changes.iter().filter(|c| !c.is_bookkeeping()) {
        targets.entry(IndexTarget::Private(change.key.identity_id.clone())).or_default().push(change);
        if change.is_public() {
            targets.entry(IndexTarget::Public).or_default().push(change);
        }
    }
    targets
}

/// What a regeneration did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Published {
    /// A new index was written.
    Written { items: usize, attempts: usize },
    /// The index already had these items; nothing was written (its Last-Modified stays, so
    /// clients polling with If-Modified-Since get 304).
    Unchanged { items: usize },
}

/// Why an index could not be published now.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}: other writers kept publishing; gave up after {MAX_PUBLISH_ATTEMPTS} attempts")]
    Contended(String),
    #[error("cannot serialise the index: {0}")]
    Serialise(#[from] serde_json::Error),
}

/// Regenerates indexes from the table.
pub struct IndexPublisher<'a, O, I> {
    pub objects: &'a O,
    pub items: &'a I,
    pub public_limit: usize,
}

/// The items that belong in the public index as the table says now.
fn public_now(items: Vec<MediaItem>) -> impl Iterator<Item = MediaItem> {
    items.into_iter().filter(|i| i.is_public && !i.is_tombstone() && i.upload_day.is_some() && i.upload_date.is_some())
}

impl<O: ObjectStore, I: IndexItems> IndexPublisher<'_, O, I> {
    /// The public index's items: the newest public items, reaching back day by day through
    /// the sparse by-day index until the limit is met or no older day exists.
    ///
    /// The by-day index is a secondary index, so eventually consistent: it may still list a
    /// deleted item, show an old title, or not yet list a new upload. It only proposes
    /// candidates; what the index says comes from a consistent read of the table. The
    /// candidates are its entries, the keys just changed (`fresh`) and the items of the index
    /// in place (`published`, which the secondary index may not show yet), so the index
    /// neither loses a recent upload nor comes up short after a delete. Days whose markers
    /// lead to no item any more are forgotten, so rebuilds stop walking them.
    pub async fn public_items(&self, fresh: &[ItemKey], published: &[ItemKey]) -> Result<Vec<MediaItem>, StoreError> {
        let mut known: BTreeSet<ItemKey> = fresh.iter().chain(published).cloned().collect();
        let known_keys: Vec<ItemKey> = known.iter().cloned().collect();
        let mut items: Vec<MediaItem> = public_now(self.items.items_now(&known_keys).await?).collect();
        let mut day = self.items.public_day_before("9999-12-31T").await?;
        while let Some(current) = day {
            // Enough to fill the index even if every candidate already known turns up again.
            let listed = self.items.public_items_of_day(&current, self.public_limit + known.len()).await?;
            if listed.is_empty() && self.items.forget_public_day(&current).await? {
                tracing::info!(day = current, "public day has no items any more; forgotten");
            }
            let new_keys: Vec<ItemKey> = listed.iter().map(MediaItem::key).filter(|k| known.insert(k.clone())).collect();
            items.extend(public_now(self.items.items_now(&new_keys).await?));
            let through_current = items.iter().filter(|i| i.upload_day.as_deref() >= Some(current.as_str())).count();
            if through_current >= self.public_limit {
                break;
            }
            day = self.items.public_day_before(&current).await?;
        }
        Ok(items)
    }

    async fn build(&self, target: &IndexTarget, fresh: &[ItemKey], published: &[ItemKey]) -> Result<ContentIndex, StoreError> {
        Ok(match target {
            IndexTarget::Public => ContentIndex::new(self.public_items(fresh, published).await?, Some(self.public_limit)),
            IndexTarget::Private(identity_id) => ContentIndex::new(self.items.items_of(identity_id).await?, None),
        })
    }

    /// Regenerates one index and publishes it unless a newer one is in place.
    pub async fn regenerate(&self, target: &IndexTarget, fresh: &[ItemKey]) -> Result<Published, IndexError> {
        let key = target.key();
        for attempt in 1..=MAX_PUBLISH_ATTEMPTS {
            // Read the index before the table: that order is what makes the ETag check prove
            // that no newer index was published from a later read of the table.
            let current = self.objects.get(&key, MAX_INDEX_BYTES).await?;
            let current_items = current
                .as_ref()
                .and_then(|c| c.body.as_deref())
                .and_then(|body| serde_json::from_slice::<ContentIndex>(body).ok())
                .map(|c| c.items);
            let published: Vec<ItemKey> = current_items
                .iter()
                .flatten()
                .map(|e| ItemKey { identity_id: e.identity_id.clone(), object_key: e.object_key.clone() })
                .collect();
            let index = self.build(target, fresh, &published).await?;
            if current_items.as_ref() == Some(&index.items) {
                return Ok(Published::Unchanged { items: index.items.len() });
            }
            let condition = match current.and_then(|c| c.head.etag) {
                Some(etag) => WriteCondition::Matches(etag),
                None => WriteCondition::Absent,
            };
            let mut put = PutObject::new(&key, serde_json::to_vec(&index)?, "application/json");
            put.cache_control = Some("no-cache".into());
            put.condition = Some(condition);
            match self.objects.put(put).await? {
                WriteOutcome::Applied => return Ok(Published::Written { items: index.items.len(), attempts: attempt }),
                WriteOutcome::Superseded => {
                    tracing::info!(index = key, attempt, "another writer published first; reading the table again");
                }
            }
        }
        Err(IndexError::Contended(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(identity: &str, key: &str, seq: &str) -> TableChange {
        TableChange {
            sequence_number: seq.into(),
            key: ItemKey { identity_id: identity.into(), object_key: key.into() },
            public_day: None,
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
        assert_eq!(keys, [IndexTarget::Public, IndexTarget::Private("a".into()), IndexTarget::Private("b".into())]);
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
            sequencer: Some(crate::item::Sequencer::new("A")),
            ..Default::default()
        }
    }

    #[test]
    fn index_is_newest_first_limited_and_has_the_contract_shape() {
        let items = vec![
            item("a", 1, "2026-11-22T10:00:00.000Z"),
            item("a", 2, "2026-11-23T10:00:00.000Z"),
            item("b", 3, "2026-11-21T10:00:00.000Z"),
            MediaItem { upload_date: None, ..item("c", 4, "2026-11-24T00:00:00.000Z") },
        ];
        let index = ContentIndex::new(items, Some(2));
        let titles: Vec<_> = index.items.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["t2", "t1"]);
        let json = serde_json::to_value(&index).unwrap();
        assert_eq!(json["version"], 1);
        assert!(json["generatedAt"].as_str().unwrap().ends_with('Z'));
        let entry = &json["items"][0];
        for field in ["identityId", "objectKey", "thumbnailKey", "isPublic", "title", "description", "uploadDate", "contentType", "width", "height"] {
            assert!(entry.get(field).is_some(), "{field} missing from {entry}");
        }
        assert!(entry.get("facesKey").is_none(), "face attributes appear once known");
        assert!(entry.get("sequencer").is_none() && entry.get("uploadDay").is_none());
    }

    #[test]
    fn titles_and_descriptions_written_into_the_table_are_bounded_in_the_index() {
        let huge = MediaItem { title: "t".repeat(100_000), description: "é".repeat(300_000), ..item("a", 1, "2026-11-23T10:00:00.000Z") };
        let index = ContentIndex::new([huge], None);
        assert_eq!(index.items[0].title.chars().count(), MAX_TITLE_CHARS);
        assert_eq!(index.items[0].description.chars().count(), MAX_DESCRIPTION_CHARS);
    }

    /// The index's JSON Schema, generated from these types, is what the client checks its
    /// parser against (`client/src/indexdoc.schema.test.ts`): a field added here and not
    /// there fails one of the two tests. `UPDATE_SCHEMA=1` rewrites the committed copy.
    #[test]
    fn the_committed_index_schema_is_generated_from_the_types() {
        let schema = serde_json::to_string_pretty(&schemars::schema_for!(ContentIndex)).unwrap() + "\n";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../client/src/content-index.schema.json");
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &schema).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == schema, "{} is stale: run the test with UPDATE_SCHEMA=1 and update the client", path.display());
    }

    /// Every attribute of the table's item either reaches the index or is named here as
    /// internal: a new attribute added to `MediaItem` alone fails this test until someone
    /// decides whether the client sees it (and the schema test then carries it to the client).
    #[test]
    fn every_item_attribute_is_in_the_index_or_named_internal() {
        const INTERNAL: [&str; 6] = ["sequencer", "uploadDay", "faces", "facesSequencer", "deleted", "expiresAt"];
        let mut full = item("a", 1, "2026-11-23T10:00:00.000Z");
        full.faces_key = Some("k".into());
        full.preview_key = Some("p".into());
        full.animated = true;
        full.face_count = Some(1);
        full.faces = Some(vec![crate::item::FaceBox { x: 1, y: 1, w: 1, h: 1 }]);
        full.size = Some(1);
        full.faces_sequencer = Some(crate::item::Sequencer::new("A"));
        full.deleted = Some(false);
        full.expires_at = Some(1);
        let item_fields: BTreeSet<String> = serde_json::to_value(&full).unwrap().as_object().unwrap().keys().cloned().collect();
        let entry = IndexEntry::from_item(full).unwrap();
        let entry_fields: BTreeSet<String> = serde_json::to_value(&entry).unwrap().as_object().unwrap().keys().cloned().collect();
        for field in &item_fields {
            assert!(entry_fields.contains(field) || INTERNAL.contains(&field.as_str()), "{field}: in the index or internal?");
        }
        assert!(entry_fields.is_subset(&item_fields), "the index invents {:?}", entry_fields.difference(&item_fields).collect::<Vec<_>>());
    }

    #[test]
    fn tombstones_are_in_no_index() {
        let tombstone = MediaItem { deleted: Some(true), ..item("a", 1, "2026-11-23T10:00:00.000Z") };
        assert!(ContentIndex::new([tombstone], None).items.is_empty());
    }
}
