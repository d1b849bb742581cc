//! Reading and writing index objects (heads, pages, volumes). Every write is conditional on
//! the ETag read before the table was (`If-None-Match: *` for an object that was absent): a
//! write that loses to another writer's is `PublishError::Superseded`. An object that already
//! holds what would be written is not rewritten, so its entry (and the head) stay unchanged.

use media_core::ports::{
    IndexItems, ObjectStore, PutObject, StoreError, WriteCondition, WriteOutcome,
};

use crate::model::{content_hash, now, ContentIndex, IndexEntry, PageEntry, INDEX_VERSION};
use crate::publish::{IndexPublisher, PublishError};

/// Largest index object read back before a rewrite; far above any real head or page.
const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;

/// An index object as read, with the ETag to write it back against.
pub(crate) struct Current {
    /// `None` when absent or unreadable (then rewritten whole).
    pub index: Option<ContentIndex>,
    pub condition: WriteCondition,
}

impl<O: ObjectStore, I: IndexItems> IndexPublisher<'_, O, I> {
    pub(crate) async fn read(&self, key: &str) -> Result<Current, StoreError> {
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

    /// Writes `index` at `key` if the object there is still the one read (`condition`).
    pub(crate) async fn write(
        &self,
        key: &str,
        index: &ContentIndex,
        condition: WriteCondition,
    ) -> Result<(), PublishError> {
        let mut put = PutObject::new(key, serde_json::to_vec(index)?, "application/json");
        put.cache_control = Some("no-cache".into());
        put.condition = Some(condition);
        match self.objects.put(put).await? {
            WriteOutcome::Applied => Ok(()),
            WriteOutcome::Superseded => Err(PublishError::Superseded(key.to_owned())),
        }
    }

    /// Writes a page at `key` with `items` unless it already has them; returns its entry and
    /// whether it was written. An absent page is written even when empty: every page a list
    /// names is a document a reader can fetch.
    pub(crate) async fn write_page(
        &self,
        key: &str,
        items: Vec<IndexEntry>,
        after: Option<String>,
        read: Option<Current>,
    ) -> Result<(PageEntry, bool), PublishError> {
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
        if let Some(page) = current.index.as_ref().filter(|page| page.items == items) {
            return Ok((entry(items.len(), &page.generated_at), false));
        }
        let page = ContentIndex {
            version: INDEX_VERSION,
            generated_at: now(),
            items,
            pages: Vec::new(),
        };
        self.write(key, &page, current.condition).await?;
        Ok((entry(page.items.len(), &page.generated_at), true))
    }

    /// Writes the volume `entry` names with `pages` unless it already lists them (`current`
    /// is the volume as read before anything under it was rebuilt); returns its new entry and
    /// whether it was written.
    pub(crate) async fn write_volume(
        &self,
        entry: &PageEntry,
        pages: Vec<PageEntry>,
        current: Current,
    ) -> Result<(PageEntry, bool), PublishError> {
        let new_entry = |generated_at: &str| -> Result<PageEntry, serde_json::Error> {
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
                return Ok((new_entry(&volume.generated_at)?, false));
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
        self.write(&entry.key, &volume, current.condition).await?;
        Ok((written, true))
    }
}
