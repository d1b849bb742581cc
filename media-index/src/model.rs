//! The index documents as the client reads them: a picture's entry, an index object (head,
//! volume or page) and the entry listing a page or a volume. Their JSON Schema is generated
//! from these types (`client/src/content-index.schema.json`).

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use media_core::item::{ItemKey, MediaItem};
use media_core::text::TextField;

/// Version 3: a head, pages, and volumes listing older pages (and older volumes). Version 2 (a
/// head listing every page) is read as a head of pages, whose next regeneration seals them
/// into volumes; version 1 (every item in one object) as a head whose single page owns all of
/// time, paged by its first regeneration.
pub const INDEX_VERSION: u32 = 3;
/// The content hash of a page with no items.
pub(crate) const EMPTY_PAGE_HASH: &str = "0";

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
    /// When the picture was taken, from its Exif: ISO 8601, the camera's local time first
    /// (`2024-07-14T18:03:22`), then its UTC offset when the file gives one (`+02:00`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<String>,
    /// The camera's make and model, from its Exif.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Set when the upload was not kept (only the owner's index lists such an item): why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<media_core::item::Refusal>,
}

impl IndexEntry {
    /// The entry for an item, or `None` for an item content-updated has not written yet (or
    /// a tombstone). Titles and descriptions are cut to the contract's bounds here too: owners
    /// may write any size into the table (IAM cannot bound a value), and every visitor reads
    /// the public index. update-content-index writes such a value back cut as soon as the
    /// stream shows it, so this cut only matters until then.
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
            title: TextField::Title.bound(item.title).into_text(),
            description: TextField::Description.bound(item.description).into_text(),
            taken_at: item.taken_at,
            camera: item.camera,
            content_type: item.content_type,
            size: item.size,
            width: item.width,
            height: item.height,
            refused: item.refused,
        })
    }

    pub fn key(&self) -> ItemKey {
        ItemKey {
            identity_id: self.identity_id.clone(),
            object_key: self.object_key.clone(),
        }
    }
}

/// An index object: a head (with `pages`), a volume (no `items`, with `pages`) or a page
/// (`items`, no `pages`). A reader treats all three alike: the items, then the pages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContentIndex {
    pub version: u32,
    pub generated_at: String,
    /// Newest first.
    pub items: Vec<IndexEntry>,
    /// On a head, the pages and volumes of the older items, newest first; a head always lists
    /// at least one (the oldest, owning all of time before the others). On a volume, the
    /// pages (or lower volumes) it holds, newest first. Absent on a page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<PageEntry>,
}

/// A page or a volume as its head (or volume) lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PageEntry {
    pub key: String,
    /// Items on the page, or beneath the volume; 0: there is nothing to fetch.
    pub count: usize,
    /// The page's (volume's) own `generatedAt`.
    pub generated_at: String,
    /// A hash of the page's items (the volume's entries): a reader holding a copy with this
    /// hash has it as it is (`generatedAt` alone has millisecond resolution).
    pub content_hash: String,
    /// Absent (0) on a page. On a volume, its level: a volume of level n lists pages and
    /// volumes of lower levels (sealed from the head's entries of level n - 1). A reader
    /// fetches a volume to reach the pages it lists.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub level: u32,
    /// The page owns the upload dates after this one (exclusive) up to the next newer page's
    /// `after` (inclusive); absent on the oldest page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

fn is_zero(level: &u32) -> bool {
    *level == 0
}

impl PageEntry {
    pub(crate) fn is_volume(&self) -> bool {
        self.level > 0
    }
}

/// A hash of a page's items (a volume's entries), for readers to tell whether their copy is
/// current. SipHash with fixed keys: the same items give the same hash in every run (a Rust
/// release that changed it would make readers fetch each page once more).
pub(crate) fn content_hash<T: Serialize>(items: &[T]) -> Result<String, serde_json::Error> {
    use std::hash::{Hash, Hasher};
    if items.is_empty() {
        return Ok(EMPTY_PAGE_HASH.to_owned());
    }
    let mut hasher = std::hash::DefaultHasher::new();
    serde_json::to_vec(items)?.hash(&mut hasher);
    Ok(format!("{:016x}", hasher.finish()))
}

pub(crate) fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Sorts newest first, ties broken by key, so the order is stable.
fn newest_first(entries: &mut [IndexEntry]) {
    entries.sort_by(|a, b| {
        b.upload_date
            .cmp(&a.upload_date)
            .then_with(|| a.object_key.cmp(&b.object_key))
    });
}

/// The entries of `items` that can be shown, newest first.
pub(crate) fn entries(items: impl IntoIterator<Item = MediaItem>) -> Vec<IndexEntry> {
    let mut entries: Vec<IndexEntry> = items
        .into_iter()
        .filter_map(IndexEntry::from_item)
        .collect();
    newest_first(&mut entries);
    entries
}

impl ContentIndex {
    /// An index object of `items`, newest first, at most `limit`, without pages.
    pub fn new(items: impl IntoIterator<Item = MediaItem>, limit: Option<usize>) -> ContentIndex {
        let mut items = entries(items);
        if let Some(limit) = limit {
            items.truncate(limit);
        }
        ContentIndex {
            version: INDEX_VERSION,
            generated_at: now(),
            items,
            pages: Vec::new(),
        }
    }
}
