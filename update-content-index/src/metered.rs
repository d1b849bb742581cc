//! What one regeneration reads and writes, for its log line: the bytes of index objects read
//! and written in the bucket, the objects written, the items read consistently from the table
//! and the keys listed from its secondary indexes. These are the per-change costs the load
//! test (`make -C bench load`) and the cost model (`docs/cost.md`) take from the log.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use media_core::item::{ItemKey, MediaItem};
use media_core::ports::{DateRange, FetchedObject, IndexItems, ObjectHead, ObjectPage, ObjectStore, PutObject, StoreError, WriteOutcome};

/// Counters of one regeneration.
#[derive(Debug, Default)]
pub struct Meter {
    index_bytes_read: AtomicU64,
    index_bytes_written: AtomicU64,
    objects_read: AtomicU64,
    objects_written: AtomicU64,
    items_read: AtomicU64,
    keys_listed: AtomicU64,
}

/// The counters' values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metered {
    pub index_bytes_read: u64,
    pub index_bytes_written: u64,
    /// GET requests (a missing object too).
    pub objects_read: u64,
    pub objects_written: u64,
    pub items_read: u64,
    pub keys_listed: u64,
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
    async fn get_matching(&self, key: &str, if_match: Option<&str>, max_bytes: u64) -> Result<Option<FetchedObject>, StoreError> {
        let fetched = self.inner.get_matching(key, if_match, max_bytes).await?;
        Meter::add(&self.meter.objects_read, 1);
        Meter::add(&self.meter.index_bytes_read, fetched.as_ref().and_then(|f| f.body.as_ref()).map_or(0, Vec::len));
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
    async fn list_page(&self, prefix: &str, continuation: Option<String>) -> Result<ObjectPage, StoreError> {
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
    async fn items_of(&self, identity_id: &str) -> Result<Vec<MediaItem>, StoreError> {
        let items = self.inner.items_of(identity_id).await?;
        Meter::add(&self.meter.items_read, items.len());
        Ok(items)
    }
    async fn owner_items_between(&self, identity_id: &str, range: &DateRange, limit: usize) -> Result<Vec<MediaItem>, StoreError> {
        let items = self.inner.owner_items_between(identity_id, range, limit).await?;
        Meter::add(&self.meter.keys_listed, items.len());
        Ok(items)
    }
    async fn public_items_of_day(&self, day: &str, range: &DateRange, limit: usize) -> Result<Vec<MediaItem>, StoreError> {
        let items = self.inner.public_items_of_day(day, range, limit).await?;
        Meter::add(&self.meter.keys_listed, items.len());
        Ok(items)
    }
    async fn public_day_before(&self, day: &str) -> Result<Option<String>, StoreError> {
        self.inner.public_day_before(day).await
    }
    async fn mark_public_day(&self, day: &str) -> Result<(), StoreError> {
        self.inner.mark_public_day(day).await
    }
    async fn forget_public_day(&self, day: &str) -> Result<bool, StoreError> {
        self.inner.forget_public_day(day).await
    }
    async fn all_items(&self) -> Result<Vec<MediaItem>, StoreError> {
        let items = self.inner.all_items().await?;
        Meter::add(&self.meter.items_read, items.len());
        Ok(items)
    }
    async fn items_now(&self, keys: &[ItemKey]) -> Result<Vec<MediaItem>, StoreError> {
        let items = self.inner.items_now(keys).await?;
        Meter::add(&self.meter.items_read, keys.len());
        Ok(items)
    }
}
