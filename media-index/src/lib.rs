//! The indexes the client reads: which a batch of table changes affects, what each contains,
//! and publishing them without ever going back to an older state.
//!
//! An index is a head (the newest items and the list of pages) and pages of older items,
//! each page owning a range of upload dates (docs/indexes.md). A
//! change rewrites the head and the page(s) whose range its dates fall in, so what one change
//! reads and writes does not grow with the collection.
//!
//! Publishing is optimistic concurrency on each object's ETag: read the head (ETag E), read
//! the table, write each touched page with `If-Match` on the ETag read just before reading
//! the table for it, then the head with `If-Match: E`. A failed precondition means another
//! writer published in between; everything is read again and the write retried. Every
//! published object was therefore read from the table after its predecessor was published.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use media_core::config::{number_or, ConfigError};
use media_core::item::{upload_day, ItemKey, MediaItem};
use media_core::keys::{index_page_key, index_volume_key, private_index_key, PUBLIC_INDEX_KEY};
use media_core::ports::{
    DateRange, IndexItems, ObjectStore, PutObject, StoreError, WriteCondition, WriteOutcome,
};
use media_core::text::TextField;

/// Version 3: a head, pages, and volumes listing older pages (and older volumes). Version 2 (a
/// head listing every page) is read as a head of pages, whose next regeneration seals them
/// into volumes; version 1 (every item in one object) as a head whose single page owns all of
/// time, paged by its first regeneration.
pub const INDEX_VERSION: u32 = 3;
pub const DEFAULT_PUBLIC_INDEX_LIMIT: usize = 100;
pub const DEFAULT_PRIVATE_HEAD_LIMIT: usize = 100;
pub const DEFAULT_INDEX_PAGE_SIZE: usize = 250;
pub const DEFAULT_INDEX_VOLUME_SIZE: usize = 16;
/// Largest index object read back before a rewrite; far above any real head or page.
const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;
/// The content hash of a page with no items (one that need not exist).
const EMPTY_PAGE_HASH: &str = "0";
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
    fn is_volume(&self) -> bool {
        self.level > 0
    }
}

/// A hash of a page's items (a volume's entries), for readers to tell whether their copy is
/// current. SipHash with fixed keys: the same items give the same hash in every run (a Rust
/// release that changed it would make readers fetch each page once more).
fn content_hash<T: Serialize>(items: &[T]) -> Result<String, serde_json::Error> {
    use std::hash::{Hash, Hasher};
    if items.is_empty() {
        return Ok(EMPTY_PAGE_HASH.to_owned());
    }
    let mut hasher = std::hash::DefaultHasher::new();
    serde_json::to_vec(items)?.hash(&mut hasher);
    Ok(format!("{:016x}", hasher.finish()))
}

fn now() -> String {
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
fn entries(items: impl IntoIterator<Item = MediaItem>) -> Vec<IndexEntry> {
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

/// How large heads and pages are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexLimits {
    /// Items on the public index's head (`PUBLIC_INDEX_LIMIT`).
    pub public_head: usize,
    /// Items on a private index's head (`PRIVATE_INDEX_HEAD_LIMIT`).
    pub private_head: usize,
    /// Items per page (`INDEX_PAGE_SIZE`): the open page is sealed at this size, and a page
    /// rebuilt with more than twice as many is split.
    pub page_size: usize,
    /// Entries per volume (`INDEX_VOLUME_SIZE`): when the head lists twice as many entries of
    /// one level, the oldest this many are sealed into a volume of the next level.
    pub volume_size: usize,
}

impl Default for IndexLimits {
    fn default() -> Self {
        IndexLimits {
            public_head: DEFAULT_PUBLIC_INDEX_LIMIT,
            private_head: DEFAULT_PRIVATE_HEAD_LIMIT,
            page_size: DEFAULT_INDEX_PAGE_SIZE,
            volume_size: DEFAULT_INDEX_VOLUME_SIZE,
        }
    }
}

impl IndexLimits {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(IndexLimits {
            public_head: number_or("PUBLIC_INDEX_LIMIT", DEFAULT_PUBLIC_INDEX_LIMIT)?.max(1),
            private_head: number_or("PRIVATE_INDEX_HEAD_LIMIT", DEFAULT_PRIVATE_HEAD_LIMIT)?.max(1),
            page_size: number_or("INDEX_PAGE_SIZE", DEFAULT_INDEX_PAGE_SIZE)?.max(2),
            volume_size: number_or("INDEX_VOLUME_SIZE", DEFAULT_INDEX_VOLUME_SIZE)?.max(2),
        })
    }

    fn head(&self, target: &IndexTarget) -> usize {
        match target {
            IndexTarget::Public => self.public_head,
            IndexTarget::Private(_) => self.private_head,
        }
    }
}

/// An index to regenerate.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndexTarget {
    Public,
    Private(String),
}

impl IndexTarget {
    /// The head's key.
    pub fn key(&self) -> String {
        match self {
            IndexTarget::Public => PUBLIC_INDEX_KEY.to_owned(),
            IndexTarget::Private(identity_id) => private_index_key(identity_id),
        }
    }

    /// The key of the page owning the dates after `after`.
    pub fn page_key(&self, after: Option<&str>) -> String {
        index_page_key(&self.key(), after)
    }

    /// The key of the volume of `level` owning the dates after `after`.
    pub fn volume_key(&self, level: u32, after: Option<&str>) -> String {
        index_volume_key(&self.key(), level, after)
    }

    /// Whether the index shows this item as the table holds it now. The public index shows
    /// only pictures with a thumbnail: an upload that could not be decoded (or whose keys are
    /// too long for derived objects) is never listed to visitors, while its owner's private
    /// index lists it so the owner can see and delete it (docs/decisions/undecodable-uploads.md).
    fn shows(&self, item: &MediaItem) -> bool {
        !item.is_tombstone()
            && item.upload_date.is_some()
            && match self {
                IndexTarget::Public => {
                    item.is_public && item.upload_day.is_some() && item.thumbnail_key.is_some()
                }
                IndexTarget::Private(identity_id) => item.identity_id == *identity_id,
            }
    }
}

/// One change from the table's stream, reduced to what decides which indexes (and pages) it
/// affects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableChange {
    /// The stream sequence number: what a batch item failure reports.
    pub sequence_number: String,
    pub key: ItemKey,
    /// The upload day of the item's new image, when the new image is a public item.
    pub public_day: Option<String>,
    /// The `uploadDate`s of the item's old and new images: the pages the change may touch.
    pub dates: Vec<String>,
}

impl TableChange {
    /// Whether the change can affect the public index: visibility follows the key's prefix.
    pub fn is_public(&self) -> bool {
        self.key.object_key.starts_with("public/")
    }

    pub fn is_bookkeeping(&self) -> bool {
        media_core::item::is_bookkeeping_partition(&self.key.identity_id)
    }

    pub fn index_change(&self) -> IndexChange {
        IndexChange {
            key: self.key.clone(),
            dates: self.dates.clone(),
        }
    }
}

/// A changed item as an index sees it: its key and the upload dates it had before and after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexChange {
    pub key: ItemKey,
    pub dates: Vec<String>,
}

impl IndexChange {
    /// The change that made `item` what it is (or removed it, if it was `item`).
    pub fn of(item: &MediaItem) -> IndexChange {
        IndexChange {
            key: item.key(),
            dates: item.upload_date.iter().cloned().collect(),
        }
    }
}

/// The indexes a batch affects, each with the changes that affect it.
pub fn affected_indexes(changes: &[TableChange]) -> BTreeMap<IndexTarget, Vec<&TableChange>> {
    let mut targets: BTreeMap<IndexTarget, Vec<&TableChange>> = BTreeMap::new();
    for change in changes.iter().filter(|c| !c.is_bookkeeping()) {
        targets
            .entry(IndexTarget::Private(change.key.identity_id.clone()))
            .or_default()
            .push(change);
        if change.is_public() {
            targets.entry(IndexTarget::Public).or_default().push(change);
        }
    }
    targets
}

/// What a regeneration did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Published {
    /// A new head was written, and `pages` pages and `volumes` volumes with it.
    Written {
        items: usize,
        pages: usize,
        volumes: usize,
        attempts: usize,
    },
    /// The head already had these items and pages; nothing was written (its Last-Modified
    /// stays, so clients polling with If-Modified-Since get 304).
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

/// Which pages a regeneration rebuilds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pages {
    /// The pages whose ranges the changes' dates, and the items crossing the head's
    /// boundary, fall in.
    Touched,
    /// Every page (the repair pass).
    All,
}

/// An index object as read, with the ETag to write it back against.
struct Current {
    index: Option<ContentIndex>,
    condition: WriteCondition,
}

/// A page write lost to another writer: start again from the head.
struct Superseded;

/// The entries of a list (a head's or a volume's) owning the dates after `after`: newest
/// first, the oldest owning all dates after `after`. A list that is not that (a version-1
/// head, a missing or damaged volume) becomes a single empty page owning the whole range,
/// which its rebuild fills (and splits) from the table.
fn layout(target: &IndexTarget, pages: Vec<PageEntry>, after: Option<&str>) -> Vec<PageEntry> {
    let ordered = pages.windows(2).all(|w| match (&w[0].after, &w[1].after) {
        (Some(newer), Some(older)) => newer > older,
        (Some(_), None) => true,
        (None, _) => false,
    });
    if !pages.is_empty() && ordered && pages.last().is_some_and(|p| p.after.as_deref() == after) {
        return pages;
    }
    let after = after.map(str::to_owned);
    vec![PageEntry {
        key: target.page_key(after.as_deref()),
        count: 0,
        generated_at: now(),
        content_hash: EMPTY_PAGE_HASH.to_owned(),
        after,
        level: 0,
    }]
}

/// The entry whose range holds `date`.
fn page_of(pages: &[PageEntry], date: &str) -> usize {
    pages
        .iter()
        .position(|p| p.after.as_deref().is_none_or(|after| date > after))
        .unwrap_or(pages.len() - 1)
}

/// The range of entry `at` of a list whose newest entry owns the dates up to `upto`.
fn range_of(pages: &[PageEntry], at: usize, upto: Option<&str>) -> DateRange {
    let upto = match at.checked_sub(1) {
        Some(newer) => pages[newer].after.clone(),
        None => upto.map(str::to_owned),
    };
    DateRange {
        after: pages[at].after.clone(),
        upto,
    }
}

/// What one regeneration wrote besides the head.
#[derive(Default)]
struct Writes {
    pages: usize,
    volumes: usize,
}

/// Where a list of entries sits: the head's (whose newest page is the open one) or a
/// volume's, owning the dates up to `upto`.
#[derive(Clone)]
struct Container {
    upto: Option<String>,
    is_head: bool,
}

/// `entries` (newest first) in pages of at least `size`, oldest page first, never splitting
/// one upload date between two pages; one page unless there are more than twice `size`.
fn split(mut entries: Vec<IndexEntry>, size: usize) -> Vec<Vec<IndexEntry>> {
    if entries.len() <= 2 * size {
        return vec![entries];
    }
    entries.reverse();
    let mut chunks: Vec<Vec<IndexEntry>> = vec![Vec::new()];
    for entry in entries {
        let chunk = chunks.last_mut().expect("one chunk at least");
        if chunk.len() >= size
            && chunk
                .last()
                .is_some_and(|last| last.upload_date != entry.upload_date)
        {
            chunks.push(Vec::new());
        }
        chunks.last_mut().expect("one chunk at least").push(entry);
    }
    // A short newest remainder joins the page before it.
    if chunks.len() > 1 && chunks.last().is_some_and(|c| c.len() < size) {
        let rest = chunks.pop().expect("checked");
        chunks.last_mut().expect("checked").extend(rest);
    }
    for chunk in &mut chunks {
        chunk.reverse();
    }
    chunks
}

/// Regenerates indexes from the table.
pub struct IndexPublisher<'a, O, I> {
    pub objects: &'a O,
    pub items: &'a I,
    pub limits: IndexLimits,
}

impl<O: ObjectStore, I: IndexItems> IndexPublisher<'_, O, I> {
    /// Keys of the index's items uploaded in `range`, newest first, at least `limit` of them
    /// if there are: from a secondary index, so candidates only (eventually consistent: it
    /// may still list a deleted item or not yet list a new one).
    ///
    /// Public items are listed day by day through the days recorded in `#public-days`. Over
    /// all of time (the head), a day whose markers lead to no item any more is forgotten,
    /// so later walks stop visiting it.
    async fn candidates(
        &self,
        target: &IndexTarget,
        range: &DateRange,
        limit: usize,
    ) -> Result<Vec<ItemKey>, StoreError> {
        if let IndexTarget::Private(identity_id) = target {
            return Ok(self
                .items
                .owner_items_between(identity_id, range, limit)
                .await?
                .iter()
                .map(MediaItem::key)
                .collect());
        }
        let first_day = range.after.as_deref().map(upload_day);
        // Markers are `YYYY-MM-DD`: "~" sorts after every character of a date.
        let mut before = range.upto.as_deref().map_or_else(
            || "9999-12-31~".to_owned(),
            |upto| format!("{}~", upload_day(upto)),
        );
        let mut keys = Vec::new();
        while let Some(day) = self.items.public_day_before(&before).await? {
            if first_day
                .as_deref()
                .is_some_and(|first| day.as_str() < first)
            {
                break;
            }
            let listed = self
                .items
                .public_items_of_day(&day, range, limit.saturating_sub(keys.len()))
                .await?;
            if listed.is_empty()
                && *range == DateRange::ALL
                && self.items.forget_public_day(&day).await?
            {
                tracing::info!(day, "public day has no items any more; forgotten");
            }
            keys.extend(listed.iter().map(MediaItem::key));
            if keys.len() >= limit {
                break;
            }
            before = day;
        }
        Ok(keys)
    }

    /// The items of the head: the newest the index shows, as the table says now. The
    /// candidates are the secondary index's newest and `known` (the keys just changed and the
    /// head in place, which the secondary index may not show yet); all are read again
    /// consistently, and more are listed if deleted ones left the head short.
    pub async fn head_items(
        &self,
        target: &IndexTarget,
        known: &BTreeSet<ItemKey>,
    ) -> Result<Vec<MediaItem>, StoreError> {
        let limit = self.limits.head(target);
        let mut wanted = limit + known.len();
        loop {
            let listed = self.candidates(target, &DateRange::ALL, wanted).await?;
            let exhausted = listed.len() < wanted;
            let keys: BTreeSet<ItemKey> = listed.into_iter().chain(known.iter().cloned()).collect();
            let items: Vec<MediaItem> = self
                .items
                .items_now(&keys.into_iter().collect::<Vec<_>>())
                .await?
                .into_iter()
                .filter(|i| target.shows(i))
                .collect();
            if items.len() >= limit || exhausted {
                return Ok(items);
            }
            wanted *= 2;
        }
    }

    async fn read(&self, key: &str) -> Result<Current, StoreError> {
        let current = self.objects.get(key, MAX_INDEX_BYTES).await?;
        let index = current
            .as_ref()
            .and_then(|c| c.body.as_deref())
            .and_then(|body| serde_json::from_slice(body).ok());
        let condition = match current.and_then(|c| c.head.etag) {
            Some(etag) => WriteCondition::Matches(etag),
            None => WriteCondition::Absent,
        };
        Ok(Current { index, condition })
    }

    async fn write(
        &self,
        key: &str,
        index: &ContentIndex,
        condition: WriteCondition,
    ) -> Result<WriteOutcome, IndexError> {
        let mut put = PutObject::new(key, serde_json::to_vec(index)?, "application/json");
        put.cache_control = Some("no-cache".into());
        put.condition = Some(condition);
        Ok(self.objects.put(put).await?)
    }

    /// Writes a page at `key` with `items` unless it already has them; returns its entry and
    /// whether it was written. A page that does not exist and would be empty is not written;
    /// its entry keeps `unwritten_at`, so an unchanged layout stays unchanged.
    async fn write_page(
        &self,
        key: &str,
        items: Vec<IndexEntry>,
        after: Option<String>,
        read: Option<Current>,
        unwritten_at: &str,
    ) -> Result<Result<(PageEntry, bool), Superseded>, IndexError> {
        let current = match read {
            Some(current) => current,
            None => self.read(key).await?,
        };
        let hash = content_hash(&items)?;
        let entry = |count, generated_at: &str| PageEntry {
            key: key.to_owned(),
            count,
            generated_at: generated_at.to_owned(),
            content_hash: hash.clone(),
            after: after.clone(),
            level: 0,
        };
        match &current.index {
            Some(page) if page.items == items => {
                return Ok(Ok((entry(items.len(), &page.generated_at), false)))
            }
            None if items.is_empty() && current.condition == WriteCondition::Absent => {
                return Ok(Ok((entry(0, unwritten_at), false)))
            }
            _ => {}
        }
        let page = ContentIndex {
            version: INDEX_VERSION,
            generated_at: now(),
            items,
            pages: Vec::new(),
        };
        match self.write(key, &page, current.condition).await? {
            WriteOutcome::Applied => Ok(Ok((entry(page.items.len(), &page.generated_at), true))),
            WriteOutcome::Superseded => Ok(Err(Superseded)),
        }
    }

    /// Writes the volume `entry` names with `pages` unless it already lists them (`current`
    /// is the volume as read before anything under it was rebuilt); returns its new entry and
    /// whether it was written.
    async fn write_volume(
        &self,
        entry: &PageEntry,
        pages: Vec<PageEntry>,
        current: Current,
    ) -> Result<Result<(PageEntry, bool), Superseded>, IndexError> {
        let new_entry = |generated_at: &str| -> Result<PageEntry, IndexError> {
            Ok(PageEntry {
                key: entry.key.clone(),
                count: pages.iter().map(|p| p.count).sum(),
                generated_at: generated_at.to_owned(),
                content_hash: content_hash(&pages)?,
                after: entry.after.clone(),
                level: entry.level,
            })
        };
        if let Some(volume) = &current.index {
            if volume.items.is_empty() && volume.pages == pages {
                return Ok(Ok((new_entry(&volume.generated_at)?, false)));
            }
        }
        let generated_at = now();
        let written = new_entry(&generated_at)?;
        let volume = ContentIndex {
            version: INDEX_VERSION,
            generated_at,
            items: Vec::new(),
            pages,
        };
        match self.write(&entry.key, &volume, current.condition).await? {
            WriteOutcome::Applied => Ok(Ok((written, true))),
            WriteOutcome::Superseded => Ok(Err(Superseded)),
        }
    }

    /// Rebuilds the entries of `list` (the head's or a volume's) that `dates` fall in, or all
    /// of them: a page from the table, a volume by reading it, rebuilding its entries the same
    /// way, and writing it (after what it lists, before what lists it).
    #[allow(clippy::too_many_arguments)]
    fn rebuild_list<'s>(
        &'s self,
        target: &'s IndexTarget,
        list: &'s mut Vec<PageEntry>,
        container: Container,
        scope: Pages,
        dates: &'s [String],
        known: &'s [(ItemKey, String)],
        head: &'s BTreeSet<ItemKey>,
        writes: &'s mut Writes,
    ) -> futures_util::future::BoxFuture<'s, Result<Result<(), Superseded>, IndexError>> {
        Box::pin(async move {
            let whole = DateRange {
                after: list.last().and_then(|p| p.after.clone()),
                upto: container.upto.clone(),
            };
            let touched: BTreeSet<usize> = match scope {
                Pages::All => (0..list.len()).collect(),
                Pages::Touched => dates
                    .iter()
                    .filter(|d| whole.contains(d))
                    .map(|d| page_of(list, d))
                    .collect(),
            };
            // Oldest first: a split inserts pages before (newer than) the one rebuilt, which
            // leaves the positions of the entries still to rebuild as they were.
            for at in touched.into_iter().rev() {
                if !list[at].is_volume() {
                    match self
                        .rebuild_page(target, list, at, &container, known, head)
                        .await?
                    {
                        Ok(written) => writes.pages += written,
                        Err(Superseded) => return Ok(Err(Superseded)),
                    }
                    continue;
                }
                let range = range_of(list, at, container.upto.as_deref());
                // The volume before anything under it: its ETag guards its write.
                let current = self.read(&list[at].key).await?;
                let listed = current
                    .index
                    .as_ref()
                    .map(|v| v.pages.clone())
                    .unwrap_or_default();
                if current.index.is_none() {
                    tracing::warn!(
                        volume = list[at].key,
                        "volume listed but missing; its range is paged again from the table"
                    );
                }
                let mut entries = layout(target, listed, list[at].after.as_deref());
                let inner = Container {
                    upto: range.upto.clone(),
                    is_head: false,
                };
                // A rebuilt layout (a missing volume) is rebuilt whole.
                let scope = if current.index.is_none() {
                    Pages::All
                } else {
                    scope
                };
                if let Err(Superseded) = self
                    .rebuild_list(
                        target,
                        &mut entries,
                        inner,
                        scope,
                        dates,
                        known,
                        head,
                        writes,
                    )
                    .await?
                {
                    return Ok(Err(Superseded));
                }
                match self.write_volume(&list[at], entries, current).await? {
                    Ok((entry, wrote)) => {
                        writes.volumes += usize::from(wrote);
                        list[at] = entry;
                    }
                    Err(Superseded) => return Ok(Err(Superseded)),
                }
            }
            Ok(Ok(()))
        })
    }

    /// Keeps the head's list short: while it lists `2V` entries of one level (V the volume
    /// size), the oldest `V` of them are sealed into a new volume of the next level, which
    /// takes their place. The head then lists fewer than `2V` entries per level, newest level
    /// first, so its size grows with the logarithm of the collection, base V. A seal writes
    /// the new volume only (the entries it lists are as they were).
    async fn seal(
        &self,
        target: &IndexTarget,
        list: &mut Vec<PageEntry>,
        writes: &mut Writes,
    ) -> Result<Result<(), Superseded>, IndexError> {
        let size = self.limits.volume_size;
        let mut level = 0;
        while list.iter().any(|p| p.level >= level) {
            while let Some(start) = list.iter().position(|p| p.level == level) {
                let run = list[start..]
                    .iter()
                    .take_while(|p| p.level == level)
                    .count();
                if run < 2 * size {
                    break;
                }
                let sealed = start + run - size..start + run;
                let pages: Vec<PageEntry> = list[sealed.clone()].to_vec();
                let after = pages.last().and_then(|p| p.after.clone());
                let key = target.volume_key(level + 1, after.as_deref());
                let current = self.read(&key).await?;
                let volume = PageEntry {
                    key,
                    count: 0,
                    generated_at: String::new(),
                    content_hash: String::new(),
                    after,
                    level: level + 1,
                };
                match self.write_volume(&volume, pages, current).await? {
                    Ok((entry, wrote)) => {
                        tracing::info!(
                            volume = entry.key,
                            level = entry.level,
                            items = entry.count,
                            "older entries sealed into a volume"
                        );
                        writes.volumes += usize::from(wrote);
                        list.splice(sealed, [entry]);
                    }
                    Err(Superseded) => return Ok(Err(Superseded)),
                }
            }
            level += 1;
        }
        Ok(Ok(()))
    }

    /// Rebuilds page `at` of `pages` from one listing of its range: what the secondary index
    /// lists, what the page and `known` say is in the range, read again consistently, less
    /// what the head shows. Splits it if it has grown past twice the page size; lists a new,
    /// empty open page after it if it is the open page and full. Returns the pages written.
    async fn rebuild_page(
        &self,
        target: &IndexTarget,
        pages: &mut Vec<PageEntry>,
        at: usize,
        container: &Container,
        known: &[(ItemKey, String)],
        head: &BTreeSet<ItemKey>,
    ) -> Result<Result<usize, Superseded>, IndexError> {
        let range = range_of(pages, at, container.upto.as_deref());
        let key = pages[at].key.clone();
        // The page before the table, as for the head.
        let current = self.read(&key).await?;
        let mut keys: BTreeSet<ItemKey> = self
            .candidates(target, &range, usize::MAX)
            .await?
            .into_iter()
            .collect();
        keys.extend(
            known
                .iter()
                .filter(|(_, date)| range.contains(date))
                .map(|(k, _)| k.clone()),
        );
        keys.extend(
            current
                .index
                .iter()
                .flat_map(|page| page.items.iter().map(IndexEntry::key)),
        );
        let keys: Vec<ItemKey> = keys.into_iter().filter(|k| !head.contains(k)).collect();
        let items = self
            .items
            .items_now(&keys)
            .await?
            .into_iter()
            .filter(|item| {
                target.shows(item)
                    && item
                        .upload_date
                        .as_deref()
                        .is_some_and(|date| range.contains(date))
            });
        let mut chunks = split(entries(items), self.limits.page_size);
        let newest_date = chunks
            .last()
            .and_then(|c| c.first())
            .map(|e| e.upload_date.clone());
        let mut written = 0;
        // Newer parts of a split go to new pages first, so the head never lists a page that
        // was not written.
        let mut newer = Vec::new();
        // Part n owns the dates after the newest of part n - 1.
        let afters: Vec<Option<String>> = chunks
            .iter()
            .map(|c| c.first().map(|e| e.upload_date.clone()))
            .collect();
        for part in 1..chunks.len() {
            let after = afters[part - 1].clone();
            let part_key = target.page_key(after.as_deref());
            match self
                .write_page(
                    &part_key,
                    std::mem::take(&mut chunks[part]),
                    after,
                    None,
                    &now(),
                )
                .await?
            {
                Ok((entry, wrote)) => {
                    written += usize::from(wrote);
                    newer.push(entry);
                }
                Err(Superseded) => return Ok(Err(Superseded)),
            }
        }
        let oldest = std::mem::take(&mut chunks[0]);
        let unwritten_at = pages[at].generated_at.clone();
        match self
            .write_page(
                &key,
                oldest,
                pages[at].after.clone(),
                Some(current),
                &unwritten_at,
            )
            .await?
        {
            Ok((entry, wrote)) => {
                written += usize::from(wrote);
                pages[at] = entry;
            }
            Err(Superseded) => return Ok(Err(Superseded)),
        }
        newer.reverse();
        let split_into = newer.len();
        pages.splice(at..at, newer);
        if split_into > 0 {
            tracing::info!(page = key, parts = split_into + 1, "page split");
        }
        // The open page is full: the head's next leavers go to a new page after its newest
        // item, and it is sealed (it changes only when one of its own items does).
        if container.is_head && at == 0 && pages[0].count >= self.limits.page_size {
            if let Some(after) = newest_date {
                tracing::info!(
                    page = pages[0].key,
                    items = pages[0].count,
                    "open page full; a new one follows it"
                );
                let (key, content_hash) =
                    (target.page_key(Some(&after)), EMPTY_PAGE_HASH.to_owned());
                pages.insert(
                    0,
                    PageEntry {
                        key,
                        count: 0,
                        generated_at: now(),
                        content_hash,
                        after: Some(after),
                        level: 0,
                    },
                );
            }
        }
        Ok(Ok(written))
    }

    /// Regenerates one index after `changes`: its head, and the pages the changes (and the
    /// items crossing the head's boundary) touch. Publishes nothing that is already there.
    pub async fn regenerate(
        &self,
        target: &IndexTarget,
        changes: &[IndexChange],
    ) -> Result<Published, IndexError> {
        self.publish(target, changes, Pages::Touched).await
    }

    /// Rebuilds one index whole: every page and volume, then the head (the repair pass).
    pub async fn rebuild(&self, target: &IndexTarget) -> Result<Published, IndexError> {
        self.publish(target, &[], Pages::All).await
    }

    async fn publish(
        &self,
        target: &IndexTarget,
        changes: &[IndexChange],
        scope: Pages,
    ) -> Result<Published, IndexError> {
        let head_key = target.key();
        'attempt: for attempt in 1..=MAX_PUBLISH_ATTEMPTS {
            // Read the head before the table: that order is what makes the ETag check prove
            // that no newer head was published from a later read of the table.
            let current = self.read(&head_key).await?;
            let published = current.index.clone();
            let old_head: Vec<IndexEntry> = published
                .as_ref()
                .map(|h| h.items.clone())
                .unwrap_or_default();
            let mut pages = layout(
                target,
                published
                    .as_ref()
                    .map(|h| h.pages.clone())
                    .unwrap_or_default(),
                None,
            );

            let old_head_keys: BTreeSet<ItemKey> = old_head.iter().map(IndexEntry::key).collect();
            let known_keys: BTreeSet<ItemKey> = changes
                .iter()
                .map(|c| c.key.clone())
                .chain(old_head_keys.iter().cloned())
                .collect();
            let head = entries(self.head_items(target, &known_keys).await?)
                .into_iter()
                .take(self.limits.head(target))
                .collect::<Vec<_>>();
            let head_keys: BTreeSet<ItemKey> = head.iter().map(IndexEntry::key).collect();

            // Keys with the dates they had or have: which pages may hold them.
            let known: Vec<(ItemKey, String)> = changes
                .iter()
                .flat_map(|c| c.dates.iter().map(|d| (c.key.clone(), d.clone())))
                .chain(old_head.iter().map(|e| (e.key(), e.upload_date.clone())))
                .collect();
            // The dates whose pages the change touches: its own, and those of the items
            // crossing the head's boundary.
            let crossing = old_head
                .iter()
                .filter(|e| !head_keys.contains(&e.key()))
                .chain(head.iter().filter(|e| !old_head_keys.contains(&e.key())))
                .map(|e| e.upload_date.clone());
            let dates: Vec<String> = changes
                .iter()
                .flat_map(|c| c.dates.iter().cloned())
                .chain(crossing)
                .collect();
            // Pages, then the volumes listing them, then new volumes, then the head.
            let mut writes = Writes::default();
            let outermost = Container {
                upto: None,
                is_head: true,
            };
            let mut rebuilt = self
                .rebuild_list(
                    target,
                    &mut pages,
                    outermost,
                    scope,
                    &dates,
                    &known,
                    &head_keys,
                    &mut writes,
                )
                .await?;
            if rebuilt.is_ok() {
                rebuilt = self.seal(target, &mut pages, &mut writes).await?;
            }
            if let Err(Superseded) = rebuilt {
                tracing::info!(
                    index = head_key,
                    attempt,
                    "another writer published a page or volume first; reading again"
                );
                continue 'attempt;
            }

            if let Some(published) = &published {
                if published.version == INDEX_VERSION
                    && published.items == head
                    && published.pages == pages
                {
                    return Ok(Published::Unchanged { items: head.len() });
                }
            }
            let items = head.len();
            let index = ContentIndex {
                version: INDEX_VERSION,
                generated_at: now(),
                items: head,
                pages,
            };
            match self.write(&head_key, &index, current.condition).await? {
                WriteOutcome::Applied => {
                    return Ok(Published::Written {
                        items,
                        pages: writes.pages,
                        volumes: writes.volumes,
                        attempts: attempt,
                    })
                }
                WriteOutcome::Superseded => {
                    tracing::info!(
                        index = head_key,
                        attempt,
                        "another writer published first; reading the table again"
                    );
                }
            }
        }
        Err(IndexError::Contended(head_key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let schema =
            serde_json::to_string_pretty(&schemars::schema_for!(ContentIndex)).unwrap() + "\n";
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
        assert_eq!(layout(&target, listed.clone(), Some(b)), listed);
        for damaged in [
            vec![],
            vec![entry("p2", Some(a), 0)],
            vec![entry("p1", Some(b), 0), entry("p2", Some(a), 0)],
        ] {
            let read = layout(&target, damaged, Some(b));
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
}
