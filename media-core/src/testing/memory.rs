//! In-memory stores with AWS's semantics, for unit tests of the handlers: conditional writes
//! and deletes, the 403 S3 gives for a missing key to a caller without `s3:ListBucket`, the
//! 1,024-byte key limit, and a by-day secondary index that can lag behind the table.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Timelike, Utc};

use crate::item::*;
use crate::ports::*;

use crate::keys::MAX_KEY_BYTES;
use crate::text::{TextCut, TextField};

#[derive(Clone, Debug)]
pub struct MemoryObject {
    pub body: Vec<u8>,
    pub content_type: String,
    pub metadata: HashMap<String, String>,
    pub cache_control: Option<String>,
    pub etag: String,
    pub last_modified: DateTime<Utc>,
    /// `None` is STANDARD, as S3 reports it.
    pub storage_class: Option<String>,
}

/// Storage classes whose objects GetObject refuses until restored (InvalidObjectState, GetObject
/// API reference, "Errors").
const ARCHIVE_CLASSES: [&str; 2] = ["GLACIER", "DEEP_ARCHIVE"];

impl MemoryObject {
    fn head(&self) -> ObjectHead {
        ObjectHead {
            content_type: Some(self.content_type.clone()),
            size: self.body.len() as u64,
            metadata: self.metadata.clone(),
            etag: Some(self.etag.clone()),
            // GetObject and HeadObject answer `Last-Modified` as an HTTP date, in whole
            // seconds; ListObjectsV2 gives milliseconds ([`ListedObject`]).
            last_modified: self.last_modified.with_nanosecond(0),
            storage_class: self.storage_class.clone(),
        }
    }

    fn is_archived(&self) -> bool {
        self.storage_class
            .as_deref()
            .is_some_and(|class| ARCHIVE_CLASSES.contains(&class))
    }
}

/// A bucket in memory. Counts requests so tests can check batching.
#[derive(Default)]
pub struct MemoryObjectStore {
    pub objects: Mutex<BTreeMap<String, MemoryObject>>,
    pub requests: Mutex<HashMap<&'static str, usize>>,
    next_etag: Mutex<u64>,
    /// Keys whose next deletion through `delete_many` fails once.
    pub fail_delete_once: Mutex<Vec<String>>,
    /// The caller lacks `s3:ListBucket`: a missing key answers 403, as on AWS.
    pub without_list_bucket: AtomicBool,
    /// Bytes of bodies returned by GETs and sent by PUTs: what a change costs in transfer.
    pub bytes_read: AtomicUsize,
    pub bytes_written: AtomicUsize,
}

impl MemoryObjectStore {
    /// A bucket read by a caller without `s3:ListBucket`.
    pub fn without_list_bucket() -> Self {
        let store = Self::default();
        store.without_list_bucket.store(true, Ordering::SeqCst);
        store
    }

    pub fn insert(&self, key: &str, body: Vec<u8>, metadata: &[(&str, &str)]) {
        self.insert_at(key, body, metadata, Utc::now());
    }

    pub fn insert_at(
        &self,
        key: &str,
        body: Vec<u8>,
        metadata: &[(&str, &str)],
        at: DateTime<Utc>,
    ) {
        let etag = self.new_etag();
        self.objects.lock().unwrap().insert(
            key.to_owned(),
            MemoryObject {
                body,
                content_type: "application/octet-stream".into(),
                metadata: metadata
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                cache_control: None,
                etag,
                last_modified: at,
                storage_class: None,
            },
        );
    }

    /// Stores the object at `key` in another storage class, as an upload with
    /// `x-amz-storage-class` would.
    pub fn set_storage_class(&self, key: &str, class: &str) {
        if let Some(object) = self.objects.lock().unwrap().get_mut(key) {
            object.storage_class = Some(class.to_owned());
        }
    }

    pub fn object(&self, key: &str) -> Option<MemoryObject> {
        self.objects.lock().unwrap().get(key).cloned()
    }

    pub fn keys(&self) -> Vec<String> {
        self.objects.lock().unwrap().keys().cloned().collect()
    }

    pub fn request_count(&self, operation: &'static str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    fn count(&self, operation: &'static str) {
        *self.requests.lock().unwrap().entry(operation).or_default() += 1;
    }

    fn new_etag(&self) -> String {
        let mut next = self.next_etag.lock().unwrap();
        *next += 1;
        format!("\"etag-{next}\"")
    }

    fn missing(&self, operation: &'static str, key: &str) -> Result<(), StoreError> {
        if self.without_list_bucket.load(Ordering::SeqCst) {
            return Err(StoreError::new(
                operation,
                key,
                "AccessDenied (403): missing key, caller lacks s3:ListBucket",
            ));
        }
        Ok(())
    }
}

/// Links of the form `memory:///{key}?expires={seconds}`: enough for a test to check what
/// was signed and for how long.
#[async_trait]
impl PresignGet for MemoryObjectStore {
    async fn presign_get(
        &self,
        key: &str,
        expires_in: std::time::Duration,
    ) -> Result<String, StoreError> {
        self.count("PresignGetObject");
        Ok(format!("memory:///{key}?expires={}", expires_in.as_secs()))
    }
}

#[async_trait]
impl ObjectStore for MemoryObjectStore {
    async fn get_matching(
        &self,
        key: &str,
        if_match: Option<&str>,
        max_bytes: u64,
    ) -> Result<Option<FetchedObject>, StoreError> {
        self.count("GetObject");
        let Some(o) = self.object(key) else {
            self.missing("GetObject", key)?;
            return Ok(None);
        };
        if if_match.is_some_and(|etag| etag.trim_matches('"') != o.etag.trim_matches('"')) {
            return Ok(None);
        }
        let readable = o.body.len() as u64 <= max_bytes && !o.is_archived();
        if readable {
            self.bytes_read.fetch_add(o.body.len(), Ordering::SeqCst);
        }
        Ok(Some(FetchedObject {
            head: o.head(),
            body: readable.then_some(o.body),
        }))
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectHead>, StoreError> {
        self.count("HeadObject");
        match self.object(key) {
            Some(o) => Ok(Some(o.head())),
            None => self.missing("HeadObject", key).map(|_| None),
        }
    }

    async fn put(&self, object: PutObject) -> Result<WriteOutcome, StoreError> {
        self.count("PutObject");
        if object.key.len() > MAX_KEY_BYTES {
            return Err(StoreError::new(
                "PutObject",
                &object.key,
                "KeyTooLongError: your key is too long",
            ));
        }
        let etag = self.new_etag();
        let mut objects = self.objects.lock().unwrap();
        let current = objects.get(&object.key).map(|o| o.etag.clone());
        let allowed = match (&object.condition, current) {
            (None, _) => true,
            (Some(WriteCondition::Absent), current) => current.is_none(),
            (Some(WriteCondition::Matches(want)), Some(current)) => *want == current,
            // S3 answers 404 NoSuchKey (403 without s3:ListBucket), which S3ObjectStore
            // reads as superseded: the version the writer read is gone.
            (Some(WriteCondition::Matches(_)), None) => {
                drop(objects);
                self.missing("PutObject", &object.key)?;
                return Ok(WriteOutcome::Superseded);
            }
        };
        if !allowed {
            return Ok(WriteOutcome::Superseded);
        }
        self.bytes_written
            .fetch_add(object.body.len(), Ordering::SeqCst);
        objects.insert(
            object.key,
            MemoryObject {
                body: object.body,
                content_type: object.content_type,
                metadata: object.metadata,
                cache_control: object.cache_control,
                etag,
                last_modified: Utc::now(),
                storage_class: None,
            },
        );
        Ok(WriteOutcome::Applied)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.count("DeleteObject");
        self.objects.lock().unwrap().remove(key);
        Ok(())
    }

    async fn delete_if_match(&self, key: &str, etag: &str) -> Result<WriteOutcome, StoreError> {
        self.count("DeleteObject");
        let mut objects = self.objects.lock().unwrap();
        match objects.get(key) {
            // S3 answers 404 (403 without s3:ListBucket); gone is what was wanted.
            None => {
                drop(objects);
                self.missing("DeleteObject", key)
                    .map(|_| WriteOutcome::Applied)
            }
            Some(o) if o.etag.trim_matches('"') == etag.trim_matches('"') => {
                objects.remove(key);
                Ok(WriteOutcome::Applied)
            }
            Some(_) => Ok(WriteOutcome::Superseded),
        }
    }

    async fn list_page(
        &self,
        prefix: &str,
        continuation: Option<String>,
    ) -> Result<ObjectPage, StoreError> {
        self.count("ListObjectsV2");
        let objects = self.objects.lock().unwrap();
        let mut listed: Vec<ListedObject> = objects
            .range(continuation.clone().unwrap_or_default()..)
            .filter(|(k, _)| k.starts_with(prefix) && Some(*k) != continuation.as_ref())
            .take(1001)
            .map(|(k, o)| ListedObject {
                key: k.clone(),
                last_modified: Some(o.last_modified),
                size: o.body.len() as u64,
            })
            .collect();
        let next = (listed.len() > 1000).then(|| {
            listed.truncate(1000);
            listed.last().map(|o| o.key.clone()).unwrap_or_default()
        });
        Ok(ObjectPage {
            objects: listed,
            next,
        })
    }

    async fn delete_many(&self, keys: &[String]) -> Result<Vec<(String, String)>, StoreError> {
        self.count("DeleteObjects");
        assert!(keys.len() <= 1000, "DeleteObjects takes at most 1000 keys");
        let mut failing = self.fail_delete_once.lock().unwrap();
        let mut objects = self.objects.lock().unwrap();
        let mut errors = Vec::new();
        for key in keys {
            if let Some(pos) = failing.iter().position(|k| k == key) {
                failing.remove(pos);
                errors.push((key.clone(), "InternalError: injected".to_owned()));
            } else {
                objects.remove(key);
            }
        }
        Ok(errors)
    }
}

/// A table in memory, with the same conditions as the DynamoDB adapter.
#[derive(Default)]
pub struct MemoryItemStore {
    pub items: Mutex<BTreeMap<ItemKey, MediaItem>>,
    /// Public days and when each was marked.
    pub public_days: Mutex<BTreeMap<String, DateTime<Utc>>>,
    /// While set, the secondary indexes answer from this copy of the table: GSIs that have
    /// not caught up.
    lagging_index: Mutex<Option<BTreeMap<ItemKey, MediaItem>>>,
    /// Items returned by consistent reads (BatchGetItem, Query of the table).
    pub items_read: AtomicUsize,
    /// Keys returned by queries of the secondary indexes.
    pub index_keys_read: AtomicUsize,
    /// Conditional writes of cut titles and descriptions asked for, applied or not.
    pub text_cuts_asked: AtomicUsize,
}

impl MemoryItemStore {
    pub fn item(&self, key: &ItemKey) -> Option<MediaItem> {
        self.items.lock().unwrap().get(key).cloned()
    }

    pub fn put(&self, item: MediaItem) {
        self.items.lock().unwrap().insert(item.key(), item);
    }

    pub fn len(&self) -> usize {
        self.items.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// From now on the by-day secondary index shows the table as it is now, until
    /// [`MemoryItemStore::catch_up_secondary_index`].
    pub fn freeze_secondary_index(&self) {
        *self.lagging_index.lock().unwrap() = Some(self.items.lock().unwrap().clone());
    }

    pub fn catch_up_secondary_index(&self) {
        *self.lagging_index.lock().unwrap() = None;
    }

    /// Marks `day` as if it had been marked `age` ago.
    pub fn mark_public_day_at(&self, day: &str, at: DateTime<Utc>) {
        self.public_days.lock().unwrap().insert(day.to_owned(), at);
    }

    /// Runs `query` over the secondary indexes' view of the table (lagging or not) without
    /// copying the table, and counts what it returns.
    fn query_secondary(
        &self,
        query: impl FnOnce(&BTreeMap<ItemKey, MediaItem>) -> Vec<MediaItem>,
    ) -> Vec<MediaItem> {
        let lagging = self.lagging_index.lock().unwrap();
        let found = match lagging.as_ref() {
            Some(view) => query(view),
            None => query(&self.items.lock().unwrap()),
        };
        self.index_keys_read
            .fetch_add(found.len(), Ordering::SeqCst);
        found
    }

    fn update(
        &self,
        key: &ItemKey,
        allowed: impl FnOnce(&MediaItem) -> bool,
        apply: impl FnOnce(&mut MediaItem),
    ) -> WriteOutcome {
        let mut items = self.items.lock().unwrap();
        let item = items.entry(key.clone()).or_insert_with(|| MediaItem {
            identity_id: key.identity_id.clone(),
            object_key: key.object_key.clone(),
            ..Default::default()
        });
        if !allowed(item) {
            return WriteOutcome::Superseded;
        }
        apply(item);
        WriteOutcome::Applied
    }
}

fn not_later(stored: &Option<Sequencer>, sequencer: &Sequencer) -> bool {
    stored.as_ref().is_none_or(|s| s <= sequencer)
}

#[async_trait]
impl ContentItems for MemoryItemStore {
    async fn sequencer(&self, key: &ItemKey) -> Result<Option<Sequencer>, StoreError> {
        Ok(self.item(key).and_then(|i| i.sequencer))
    }

    async fn known_upload_date(&self, key: &ItemKey) -> Result<KnownUploadDate, StoreError> {
        Ok(match self.item(key) {
            None => KnownUploadDate::Absent,
            Some(item) if item.is_tombstone() => KnownUploadDate::Deleted(item.deleted_upload_date),
            Some(item) => KnownUploadDate::Live(item.upload_date),
        })
    }

    async fn write_content(
        &self,
        key: &ItemKey,
        a: &ContentAttributes,
    ) -> Result<WriteOutcome, StoreError> {
        Ok(self.update(
            key,
            |item| not_later(&item.sequencer, &a.sequencer),
            |item| {
                // The attributes as DynamoDB would hold them after the update: content-updated's
                // replaced (absent ones removed, the tombstone's too), face-detection's kept.
                let mut value = serde_json::to_value(a).unwrap();
                value["identityId"] = key.identity_id.clone().into();
                value["objectKey"] = key.object_key.clone().into();
                let faces = (
                    item.faces_key.take(),
                    item.face_count.take(),
                    item.faces.take(),
                    item.faces_sequencer.take(),
                );
                *item = serde_json::from_value(value).expect("content attributes are an item");
                (
                    item.faces_key,
                    item.face_count,
                    item.faces,
                    item.faces_sequencer,
                ) = faces;
            },
        ))
    }

    async fn write_tombstone(
        &self,
        key: &ItemKey,
        t: &Tombstone,
    ) -> Result<WriteOutcome, StoreError> {
        Ok(self.update(
            key,
            |item| not_later(&item.sequencer, &t.sequencer) && item.refused.is_none(),
            |item| {
                *item = MediaItem {
                    identity_id: key.identity_id.clone(),
                    object_key: key.object_key.clone(),
                    sequencer: Some(t.sequencer.clone()),
                    deleted: Some(true),
                    expires_at: Some(t.expires_at),
                    // As the adapter's `if_not_exists(uploadDate, if_not_exists(deletedUploadDate,
                    // NULL))`, read from the item before this write.
                    deleted_upload_date: item
                        .upload_date
                        .clone()
                        .or_else(|| item.deleted_upload_date.clone()),
                    ..Default::default()
                };
            },
        ))
    }
}

#[async_trait]
impl FaceItems for MemoryItemStore {
    async fn write_faces(
        &self,
        key: &ItemKey,
        a: &FaceAttributes,
    ) -> Result<WriteOutcome, StoreError> {
        let seq = &a.faces_sequencer;
        Ok(self.update(
            key,
            |item| {
                not_later(&item.sequencer, seq)
                    && not_later(&item.faces_sequencer, seq)
                    && item.refused.is_none()
            },
            |item| {
                item.faces_key = a.faces_key.clone();
                item.face_count = a.face_count;
                item.faces = a.faces.clone();
                item.faces_sequencer = Some(seq.clone());
            },
        ))
    }
}

fn text_mut(item: &mut MediaItem, field: TextField) -> &mut String {
    match field {
        TextField::Title => &mut item.title,
        TextField::Description => &mut item.description,
    }
}

#[async_trait]
impl TextBounds for MemoryItemStore {
    /// As DynamoDB's conditional UpdateItem: applied only while every cut attribute holds
    /// exactly its stored value; a missing item fails the condition and is not created.
    async fn cut_text(&self, key: &ItemKey, cuts: &[TextCut]) -> Result<WriteOutcome, StoreError> {
        self.text_cuts_asked.fetch_add(1, Ordering::SeqCst);
        let mut items = self.items.lock().unwrap();
        let Some(item) = items.get_mut(key) else {
            return Ok(WriteOutcome::Superseded);
        };
        if !cuts
            .iter()
            .all(|cut| *text_mut(item, cut.field) == cut.stored)
        {
            return Ok(WriteOutcome::Superseded);
        }
        for cut in cuts {
            *text_mut(item, cut.field) = cut.bounded.clone();
        }
        Ok(WriteOutcome::Applied)
    }
}

#[async_trait]
impl IndexItems for MemoryItemStore {
    async fn owner_items_between(
        &self,
        identity_id: &str,
        range: &DateRange,
        limit: usize,
    ) -> Result<Vec<MediaItem>, StoreError> {
        // The partition is the identity: the table's key order finds it without a scan.
        let start = ItemKey {
            identity_id: identity_id.to_owned(),
            object_key: String::new(),
        };
        Ok(self.query_secondary(|table| {
            let mut found: Vec<(&String, &ItemKey)> = table
                .range(start..)
                .take_while(|(k, _)| k.identity_id == identity_id)
                .filter_map(|(k, i)| {
                    Some((i.upload_date.as_ref().filter(|d| range.contains(d))?, k))
                })
                .collect();
            found.sort_by(|a, b| b.cmp(a));
            found.truncate(limit);
            // KEYS_ONLY: the table's keys and the index's.
            found
                .into_iter()
                .map(|(date, key)| MediaItem {
                    identity_id: key.identity_id.clone(),
                    object_key: key.object_key.clone(),
                    upload_date: Some(date.clone()),
                    ..Default::default()
                })
                .collect()
        }))
    }

    async fn public_items_of_day(
        &self,
        day: &str,
        range: &DateRange,
        limit: usize,
    ) -> Result<Vec<MediaItem>, StoreError> {
        Ok(self.query_secondary(|table| {
            let mut items: Vec<&MediaItem> = table
                .values()
                .filter(|i| {
                    i.upload_day.as_deref() == Some(day)
                        && i.upload_date.as_deref().is_some_and(|d| range.contains(d))
                })
                .collect();
            items.sort_by(|a, b| b.upload_date.cmp(&a.upload_date));
            items.truncate(limit);
            items.into_iter().cloned().collect()
        }))
    }

    async fn public_day_before(&self, day: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .public_days
            .lock()
            .unwrap()
            .keys()
            .filter(|d| d.as_str() < day)
            .max()
            .cloned())
    }

    async fn mark_public_day(&self, day: &str) -> Result<(), StoreError> {
        self.mark_public_day_at(day, Utc::now());
        Ok(())
    }

    async fn forget_public_day(&self, day: &str) -> Result<bool, StoreError> {
        let mut days = self.public_days.lock().unwrap();
        let grace = chrono::Duration::seconds(PUBLIC_DAY_GRACE_SECONDS);
        match days.get(day) {
            Some(marked) if *marked > Utc::now() - grace => Ok(false),
            _ => Ok(days.remove(day).is_some()),
        }
    }

    async fn items_now(&self, keys: &[ItemKey]) -> Result<Vec<MediaItem>, StoreError> {
        let items = self.items.lock().unwrap();
        let found: Vec<MediaItem> = keys.iter().filter_map(|k| items.get(k).cloned()).collect();
        self.items_read.fetch_add(found.len(), Ordering::SeqCst);
        Ok(found)
    }
}

/// Pages of at most this many items, like DynamoDB's 1 MB pages, small enough for tests
/// to cross page boundaries.
pub const SCAN_PAGE_ITEMS: usize = 50;

#[async_trait]
impl TableScan for MemoryItemStore {
    async fn scan_page(&self, after: Option<ItemKey>) -> Result<ItemPage, StoreError> {
        let items = self.items.lock().unwrap();
        let mut page: Vec<MediaItem> = match &after {
            Some(after) => items
                .range(after.clone()..)
                .filter(|(k, _)| *k != after)
                .map(|(_, v)| v.clone())
                .take(SCAN_PAGE_ITEMS + 1)
                .collect(),
            None => items.values().take(SCAN_PAGE_ITEMS + 1).cloned().collect(),
        };
        let next = (page.len() > SCAN_PAGE_ITEMS).then(|| {
            page.truncate(SCAN_PAGE_ITEMS);
            page.last().map(MediaItem::key).expect("a full page")
        });
        Ok(ItemPage { items: page, next })
    }
}
