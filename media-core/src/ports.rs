//! The stores the domain needs, as traits shaped by what each function does with them: AWS
//! adapters live in [`crate::aws`], in-memory fakes (behind the `testing` feature) in
//! `crate::testing`.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::item::{ContentAttributes, FaceAttributes, ItemKey, MediaItem, Sequencer, Tombstone};
use crate::text::TextCut;

/// A store call failed for a reason outside the input: worth retrying.
#[derive(Debug, thiserror::Error)]
#[error("{operation} {target}: {message}")]
pub struct StoreError {
    pub operation: &'static str,
    pub target: String,
    pub message: String,
}

impl StoreError {
    pub fn new(
        operation: &'static str,
        target: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        StoreError {
            operation,
            target: target.into(),
            message: message.into(),
        }
    }
}

/// What S3 says of an object without its body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectHead {
    pub content_type: Option<String>,
    pub size: u64,
    pub metadata: HashMap<String, String>,
    pub etag: Option<String>,
    pub last_modified: Option<DateTime<Utc>>,
    /// `x-amz-storage-class`; S3 leaves it out for STANDARD.
    pub storage_class: Option<String>,
}

impl ObjectHead {
    /// Whether the object is stored in S3 Standard (GetObject and HeadObject API
    /// reference: the header is returned for every class except STANDARD).
    pub fn is_standard_storage(&self) -> bool {
        self.storage_class
            .as_deref()
            .is_none_or(|class| class == "STANDARD")
    }
}

/// An object as read, its body absent when it is larger than the caller's limit or stored in
/// an archive class that must be restored before it can be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedObject {
    pub head: ObjectHead,
    pub body: Option<Vec<u8>>,
}

/// A precondition on a write, for optimistic concurrency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteCondition {
    /// The object must not exist.
    Absent,
    /// The object must still have this ETag.
    Matches(String),
}

/// An object to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutObject {
    pub key: String,
    pub body: Vec<u8>,
    pub content_type: String,
    pub cache_control: Option<String>,
    /// User metadata (`x-amz-meta-*`).
    pub metadata: HashMap<String, String>,
    pub condition: Option<WriteCondition>,
}

impl PutObject {
    pub fn new(key: impl Into<String>, body: Vec<u8>, content_type: impl Into<String>) -> Self {
        PutObject {
            key: key.into(),
            body,
            content_type: content_type.into(),
            cache_control: None,
            metadata: HashMap::new(),
            condition: None,
        }
    }
}

/// What happened to a conditional write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    Applied,
    /// The condition failed: somebody else's newer write is in place.
    Superseded,
}

/// An object listed under a prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedObject {
    pub key: String,
    pub last_modified: Option<DateTime<Utc>>,
    pub size: u64,
}

/// One page of a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectPage {
    pub objects: Vec<ListedObject>,
    pub next: Option<String>,
}

/// The bucket.
///
/// "Absent" means S3 answered 404. S3 answers 404 for a missing key only to a caller allowed
/// `s3:ListBucket` on the bucket, and 403 otherwise (GetObject and HeadObject API
/// reference, "Permissions"); the functions that ask are granted it, and a 403 stays an
/// error, never a reason to believe an object is gone.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Reads an object, or `None` if it does not exist or, with `if_match`, no longer has that
    /// ETag (it was replaced). Bodies over `max_bytes` are not read.
    async fn get_matching(
        &self,
        key: &str,
        if_match: Option<&str>,
        max_bytes: u64,
    ) -> Result<Option<FetchedObject>, StoreError>;
    /// Reads an object, or `None` if it does not exist.
    async fn get(&self, key: &str, max_bytes: u64) -> Result<Option<FetchedObject>, StoreError> {
        self.get_matching(key, None, max_bytes).await
    }
    /// What S3 says of an object without its body, or `None` if it does not exist.
    async fn head(&self, key: &str) -> Result<Option<ObjectHead>, StoreError>;
    /// Whether the object exists now.
    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.head(key).await?.is_some())
    }
    async fn put(&self, object: PutObject) -> Result<WriteOutcome, StoreError>;
    /// Deletes an object; deleting a missing object succeeds.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Deletes the object only while it still has `etag` (S3 user guide, "How to perform
    /// conditional deletes"); a missing object counts as deleted.
    async fn delete_if_match(&self, key: &str, etag: &str) -> Result<WriteOutcome, StoreError>;
    /// One page of the keys under `prefix`, continuing from `continuation`.
    async fn list_page(
        &self,
        prefix: &str,
        continuation: Option<String>,
    ) -> Result<ObjectPage, StoreError>;
    /// Deletes up to 1000 keys in one request; returns the keys that failed, with the reason.
    async fn delete_many(&self, keys: &[String]) -> Result<Vec<(String, String)>, StoreError>;
}

/// What the table holds of one item's upload date, read consistently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KnownUploadDate {
    /// No item at the key: never written, or a tombstone DynamoDB's TTL has removed.
    Absent,
    /// A live item and its `uploadDate` (`None` while only face-detection has written it).
    Live(Option<String>),
    /// A tombstone and the `uploadDate` its item had when it was deleted, if it had one.
    Deleted(Option<String>),
}

/// What content-updated reads and writes in the table.
#[async_trait]
pub trait ContentItems: Send + Sync {
    /// The sequencer of the last upload event applied to the item, if there is an item.
    async fn sequencer(&self, key: &ItemKey) -> Result<Option<Sequencer>, StoreError>;
    /// The item's upload date as the table holds it now (a consistent read): what the new item
    /// of a picture moved to the other prefix takes from the old one.
    async fn known_upload_date(&self, key: &ItemKey) -> Result<KnownUploadDate, StoreError>;
    /// Writes content-updated's attributes (removing the tombstone's) unless the item reflects
    /// a later event; the same event again is applied again, so a retry after a crash
    /// completes what the first attempt began.
    async fn write_content(
        &self,
        key: &ItemKey,
        attributes: &ContentAttributes,
    ) -> Result<WriteOutcome, StoreError>;
    /// Replaces the item with a tombstone unless it reflects a later event. The tombstone keeps
    /// the item's `uploadDate` as `deletedUploadDate` (a tombstone written again keeps the one
    /// it has), taken from the item in the same write, so no write between a read and this one
    /// can be missed.
    async fn write_tombstone(
        &self,
        key: &ItemKey,
        tombstone: &Tombstone,
    ) -> Result<WriteOutcome, StoreError>;
}

/// What face-detection writes in the table.
#[async_trait]
pub trait FaceItems: Send + Sync {
    /// Writes face-detection's attributes, leaving every other attribute alone, unless the
    /// item reflects a later upload (or its deletion) or a later detection.
    async fn write_faces(
        &self,
        key: &ItemKey,
        attributes: &FaceAttributes,
    ) -> Result<WriteOutcome, StoreError>;
}

/// The `uploadDate`s after `after` (exclusive) up to `upto` (inclusive); `None` is unbounded.
/// An index page owns one such range.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DateRange {
    pub after: Option<String>,
    pub upto: Option<String>,
}

impl DateRange {
    /// All of time.
    pub const ALL: DateRange = DateRange {
        after: None,
        upto: None,
    };

    pub fn contains(&self, date: &str) -> bool {
        self.after.as_deref().is_none_or(|after| date > after)
            && self.upto.as_deref().is_none_or(|upto| date <= upto)
    }
}

/// What update-content-index reads (and the bookkeeping it keeps) to build the indexes.
#[async_trait]
pub trait IndexItems: Send + Sync {
    /// The keys and `uploadDate`s of one identity's items uploaded in `range`, newest first,
    /// at most `limit`, from the by-owner secondary index: eventually consistent, so only
    /// candidates (the other attributes are absent).
    async fn owner_items_between(
        &self,
        identity_id: &str,
        range: &DateRange,
        limit: usize,
    ) -> Result<Vec<MediaItem>, StoreError>;
    /// Public items uploaded on `day` (`YYYY-MM-DD`) in `range`, newest first, at most
    /// `limit`, from the by-day secondary index: eventually consistent, so possibly stale.
    async fn public_items_of_day(
        &self,
        day: &str,
        range: &DateRange,
        limit: usize,
    ) -> Result<Vec<MediaItem>, StoreError>;
    /// The latest recorded public upload day before `day`, if any.
    async fn public_day_before(&self, day: &str) -> Result<Option<String>, StoreError>;
    /// Records that `day` has public uploads, so [`IndexItems::public_day_before`] finds it.
    async fn mark_public_day(&self, day: &str) -> Result<(), StoreError>;
    /// Forgets `day` unless it was recorded within the last hour (so a secondary index that
    /// has not caught up with a new upload cannot make a live day vanish). Returns whether it
    /// was forgotten.
    async fn forget_public_day(&self, day: &str) -> Result<bool, StoreError>;
    /// The items at these keys now, read consistently; missing ones are left out.
    async fn items_now(&self, keys: &[ItemKey]) -> Result<Vec<MediaItem>, StoreError>;
}

/// What update-content-index writes into owners' items: their title and description cut to the
/// contract's bounds ([`crate::text`]), nothing else.
#[async_trait]
pub trait TextBounds: Send + Sync {
    /// Sets each cut's attribute to its bounded value, only while every one of them still holds
    /// exactly its stored value: a newer edit, or the item's deletion, is never overwritten (the
    /// write is then `Superseded`, and the newer value's own stream record is handled in turn).
    async fn cut_text(&self, key: &ItemKey, cuts: &[TextCut]) -> Result<WriteOutcome, StoreError>;
}

/// One page of a whole-table scan.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemPage {
    /// Media items (bookkeeping partitions left out).
    pub items: Vec<MediaItem>,
    /// Where the next page starts, if there is one.
    pub next: Option<ItemKey>,
}

/// What the repair pass reads of the table beyond the index's needs: the whole table, a
/// page at a time (its memory stays bounded whatever the table's size).
#[async_trait]
pub trait TableScan: Send + Sync {
    async fn scan_page(&self, after: Option<ItemKey>) -> Result<ItemPage, StoreError>;
}

/// Time-limited read links, so a caller without credentials can fetch one object (the direct
/// face-detection call answers with one). Separate from [`ObjectStore`] because only that
/// function needs it.
#[async_trait]
pub trait PresignGet: Send + Sync {
    /// A URL that GETs `key` until `expires_in` has passed.
    async fn presign_get(
        &self,
        key: &str,
        expires_in: std::time::Duration,
    ) -> Result<String, StoreError>;
}
