//! The stores the domain needs, as traits: AWS adapters live in [`crate::aws`], fakes in
//! tests.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::item::{ContentAttributes, FaceAttributes, ItemKey, MediaItem, Sequencer};

/// A store call failed for a reason outside the input: worth retrying.
#[derive(Debug, thiserror::Error)]
#[error("{operation} {target}: {message}")]
pub struct StoreError {
    pub operation: &'static str,
    pub target: String,
    pub message: String,
}

impl StoreError {
    pub fn new(operation: &'static str, target: impl Into<String>, message: impl Into<String>) -> Self {
        StoreError { operation, target: target.into(), message: message.into() }
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
}

/// An object as read, its body absent when it is larger than the caller's limit.
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
    pub condition: Option<WriteCondition>,
}

impl PutObject {
    pub fn new(key: impl Into<String>, body: Vec<u8>, content_type: impl Into<String>) -> Self {
        PutObject { key: key.into(), body, content_type: content_type.into(), cache_control: None, condition: None }
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
}

/// One page of a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectPage {
    pub objects: Vec<ListedObject>,
    pub next: Option<String>,
}

/// The bucket.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Reads an object, or `None` if it does not exist. Bodies over `max_bytes` are not read.
    async fn get(&self, key: &str, max_bytes: u64) -> Result<Option<FetchedObject>, StoreError>;
    /// Whether the object exists now.
    async fn exists(&self, key: &str) -> Result<bool, StoreError>;
    async fn put(&self, object: PutObject) -> Result<WriteOutcome, StoreError>;
    /// Deletes an object; deleting a missing object succeeds.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// One page of the keys under `prefix`, continuing from `continuation`.
    async fn list_page(&self, prefix: &str, continuation: Option<String>) -> Result<ObjectPage, StoreError>;
    /// Deletes up to 1000 keys in one request; returns the keys that failed, with the reason.
    async fn delete_many(&self, keys: &[String]) -> Result<Vec<(String, String)>, StoreError>;
}

/// The table.
#[async_trait]
pub trait ItemStore: Send + Sync {
    /// The sequencer of the last event applied to the item, if there is an item.
    async fn sequencer(&self, key: &ItemKey) -> Result<Option<Sequencer>, StoreError>;
    /// Writes content-updated's attributes unless the item already reflects an event at or
    /// after `attributes.sequencer`.
    async fn write_content(&self, key: &ItemKey, attributes: &ContentAttributes) -> Result<WriteOutcome, StoreError>;
    /// Deletes the item unless it reflects an event after `sequencer`.
    async fn delete_item(&self, key: &ItemKey, sequencer: &Sequencer) -> Result<WriteOutcome, StoreError>;
    /// Writes face-detection's attributes, leaving every other attribute alone.
    async fn write_faces(&self, key: &ItemKey, attributes: &FaceAttributes) -> Result<(), StoreError>;
    /// Every item of one identity.
    async fn items_of(&self, identity_id: &str) -> Result<Vec<MediaItem>, StoreError>;
    /// Public items uploaded on `day` (`YYYY-MM-DD`), newest first, at most `limit`.
    async fn public_items_of_day(&self, day: &str, limit: usize) -> Result<Vec<MediaItem>, StoreError>;
    /// The latest recorded public upload day before `day`, if any.
    async fn public_day_before(&self, day: &str) -> Result<Option<String>, StoreError>;
    /// Records that `day` has public uploads, so [`ItemStore::public_day_before`] finds it.
    async fn mark_public_day(&self, day: &str) -> Result<(), StoreError>;
    /// Every item of the table, bookkeeping partitions included (for reconciliation).
    async fn all_items(&self) -> Result<Vec<MediaItem>, StoreError>;
    /// The items at these keys now, read consistently; missing ones are left out.
    async fn items_now(&self, keys: &[ItemKey]) -> Result<Vec<MediaItem>, StoreError>;
}

/// Time-limited read links, so a caller without credentials can fetch one object (the direct
/// face-detection call answers with one). Separate from [`ObjectStore`] because only that
/// function needs it.
#[async_trait]
pub trait PresignGet: Send + Sync {
    /// A URL that GETs `key` until `expires_in` has passed.
    async fn presign_get(&self, key: &str, expires_in: std::time::Duration) -> Result<String, StoreError>;
}
