//! What one regeneration reads and writes, for its log line: the bytes of index objects read
//! and written in the bucket, the objects written, the items read consistently from the table,
//! the keys listed from its secondary indexes and the read units those table reads cost. These
//! are the per-change costs the load test (`make -C bench load`) and the cost model
//! (`docs/cost.md`) take from the log.
//!
//! Read units are counted from the sizes of the items returned, by DynamoDB's rules ("DynamoDB
//! read and write operations", developer guide): a strongly consistent read costs one unit per
//! 4 KB of each item, rounded up per item in a BatchGetItem (a key not found still costs one);
//! a Query costs one unit (one half, eventually consistent, as every secondary-index query is)
//! per 4 KB of all the items it returns together. Item sizes are
//! [`media_core::aws::item_size_bytes`]. The local emulator's own `ConsumedCapacity` is one unit
//! per read whatever the size, so it cannot show what a large item costs.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use media_core::aws::item_size_bytes;
use media_core::item::{ItemKey, MediaItem};
use media_core::ports::{
    DateRange, FetchedObject, IndexItems, ObjectHead, ObjectPage, ObjectStore, PutObject,
    StoreError, WriteOutcome,
};

/// Counters of one regeneration.
#[derive(Debug, Default)]
pub struct Meter {
    index_bytes_read: AtomicU64,
    index_bytes_written: AtomicU64,
    objects_read: AtomicU64,
    objects_written: AtomicU64,
    items_read: AtomicU64,
    keys_listed: AtomicU64,
    /// In half units: an eventually consistent read of up to 4 KB is one.
    read_half_units: AtomicU64,
}

/// Bytes one read unit covers.
const READ_UNIT_BYTES: usize = 4096;

/// Half read units of a read of `bytes`: strongly consistent (two halves per 4 KB) or not.
fn half_units(bytes: usize, consistency: Consistency) -> usize {
    let units = bytes.div_ceil(READ_UNIT_BYTES).max(1);
    match consistency {
        Consistency::Strong => 2 * units,
        Consistency::Eventual => units,
    }
}

#[derive(Clone, Copy)]
enum Consistency {
    Strong,
    Eventual,
}

/// Half units of a Query returning `items` (sizes summed, then rounded up).
fn query_half_units(items: &[MediaItem], consistency: Consistency) -> usize {
    half_units(items.iter().map(item_size_bytes).sum(), consistency)
}

/// The counters' values.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Metered {
    pub index_bytes_read: u64,
    pub index_bytes_written: u64,
    /// GET requests (a missing object too).
    pub objects_read: u64,
    pub objects_written: u64,
    pub items_read: u64,
    pub keys_listed: u64,
    /// Read request units the table reads cost (see the module's documentation).
    pub read_units: f64,
}

impl Meter {
    pub fn read(&self) -> Metered {
        Metered {
            index_bytes_read: self.index_bytes_read.load(Ordering::Relaxed),
            index_bytes_written: self.index_bytes_written.load(Ordering::Relaxed),
            objects_read: self.objects_read.load(Ordering::Relaxed),
            objects_written: self.objects_written.load(Ordering::Relaxed),
            items_read: self.items_read.load(Ordering::Relaxed),
            keys_listed: self.keys_listed.load(Ordering::Relaxed),
            read_units: self.read_half_units.load(Ordering::Relaxed) as f64 / 2.0,
        }
    }

    fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// An object store that counts into a [`Meter`].
pub struct MeteredObjects<'a, O> {
    pub inner: &'a O,
    pub meter: &'a Meter,
}

#[async_trait]
impl<O: ObjectStore> ObjectStore for MeteredObjects<'_, O> {
    async fn get_matching(
        &self,
        key: &str,
        if_match: Option<&str>,
        max_bytes: u64,
    ) -> Result<Option<FetchedObject>, StoreError> {
        let fetched = self.inner.get_matching(key, if_match, max_bytes).await?;
        Meter::add(&self.meter.objects_read, 1);
        Meter::add(
            &self.meter.index_bytes_read,
            fetched
                .as_ref()
                .and_then(|f| f.body.as_ref())
                .map_or(0, Vec::len),
        );
        Ok(fetched)
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectHead>, StoreError> {
        self.inner.head(key).await
    }
    async fn put(&self, object: PutObject) -> Result<WriteOutcome, StoreError> {
        let bytes = object.body.len();
        let outcome = self.inner.put(object).await?;
        if outcome == WriteOutcome::Applied {
            Meter::add(&self.meter.index_bytes_written, bytes);
            Meter::add(&self.meter.objects_written, 1);
        }
        Ok(outcome)
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn delete_if_match(&self, key: &str, etag: &str) -> Result<WriteOutcome, StoreError> {
        self.inner.delete_if_match(key, etag).await
    }
    async fn list_page(
        &self,
        prefix: &str,
        continuation: Option<String>,
    ) -> Result<ObjectPage, StoreError> {
        self.inner.list_page(prefix, continuation).await
    }
    async fn delete_many(&self, keys: &[String]) -> Result<Vec<(String, String)>, StoreError> {
        self.inner.delete_many(keys).await
    }
}

/// Table reads that count into a [`Meter`].
pub struct MeteredItems<'a, I> {
    pub inner: &'a I,
    pub meter: &'a Meter,
}

#[async_trait]
impl<I: IndexItems> IndexItems for MeteredItems<'_, I> {
    async fn owner_items_between(
        &self,
        identity_id: &str,
        range: &DateRange,
        limit: usize,
    ) -> Result<Vec<MediaItem>, StoreError> {
        let items = self
            .inner
            .owner_items_between(identity_id, range, limit)
            .await?;
        Meter::add(&self.meter.keys_listed, items.len());
        Meter::add(
            &self.meter.read_half_units,
            query_half_units(&items, Consistency::Eventual),
        );
        Ok(items)
    }
    async fn public_items_of_day(
        &self,
        day: &str,
        range: &DateRange,
        limit: usize,
    ) -> Result<Vec<MediaItem>, StoreError> {
        let items = self.inner.public_items_of_day(day, range, limit).await?;
        Meter::add(&self.meter.keys_listed, items.len());
        Meter::add(
            &self.meter.read_half_units,
            query_half_units(&items, Consistency::Eventual),
        );
        Ok(items)
    }
    async fn public_day_before(&self, day: &str) -> Result<Option<String>, StoreError> {
        // One consistent Query of one small marker item.
        Meter::add(
            &self.meter.read_half_units,
            half_units(0, Consistency::Strong),
        );
        self.inner.public_day_before(day).await
    }
    async fn mark_public_day(&self, day: &str) -> Result<(), StoreError> {
        self.inner.mark_public_day(day).await
    }
    async fn forget_public_day(&self, day: &str) -> Result<bool, StoreError> {
        self.inner.forget_public_day(day).await
    }
    async fn items_now(&self, keys: &[ItemKey]) -> Result<Vec<MediaItem>, StoreError> {
        let items = self.inner.items_now(keys).await?;
        Meter::add(&self.meter.items_read, keys.len());
        // Each item on its own, rounded up; a key not found costs one unit too.
        let found: usize = items
            .iter()
            .map(|item| half_units(item_size_bytes(item), Consistency::Strong))
            .sum();
        let missing = keys.len().saturating_sub(items.len()) * half_units(0, Consistency::Strong);
        Meter::add(&self.meter.read_half_units, found + missing);
        Ok(items)
    }
}
