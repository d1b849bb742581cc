//! Publishing one index: `IndexPublisher` and its attempt loop. An attempt reads the head,
//! reads the table, rebuilds the pages and volumes the change touches (`rebuild`) and writes
//! the head; any conditional write lost to another writer ends the attempt
//! (`PublishError::Superseded`) and the next one starts again from the head.

use std::collections::BTreeSet;

use media_core::item::ItemKey;
use media_core::ports::{IndexItems, ObjectStore, StoreError};

use crate::layout::{layout, Container, Pages};
use crate::model::{entries, now, ContentIndex, IndexEntry, INDEX_VERSION};
use crate::rebuild::{Rebuild, Writes};
use crate::target::{IndexChange, IndexLimits, IndexTarget};

/// Publish attempts before giving up and letting the stream retry the batch.
const MAX_PUBLISH_ATTEMPTS: usize = 8;

/// Regenerates indexes from the table.
pub struct IndexPublisher<'a, O, I> {
    pub objects: &'a O,
    pub items: &'a I,
    pub limits: IndexLimits,
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

/// Why one attempt stopped: every step returns it with `?`, and `publish` alone tells the two
/// apart.
#[derive(Debug)]
pub(crate) enum PublishError {
    /// Another writer published the object at this key after this attempt read it: start
    /// again from the head.
    Superseded(String),
    /// Anything else: the regeneration fails.
    Index(IndexError),
}

impl From<StoreError> for PublishError {
    fn from(error: StoreError) -> Self {
        PublishError::Index(error.into())
    }
}

impl From<serde_json::Error> for PublishError {
    fn from(error: serde_json::Error) -> Self {
        PublishError::Index(error.into())
    }
}

impl<O: ObjectStore, I: IndexItems> IndexPublisher<'_, O, I> {
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
        for attempt in 1..=MAX_PUBLISH_ATTEMPTS {
            match self.attempt(target, changes, scope, attempt).await {
                Ok(published) => return Ok(published),
                Err(PublishError::Superseded(key)) => tracing::info!(
                    index = head_key,
                    object = key,
                    attempt,
                    "another writer published first; reading the head and the table again"
                ),
                Err(PublishError::Index(error)) => return Err(error),
            }
        }
        Err(IndexError::Contended(head_key))
    }

    /// One attempt: the head as published, the table, the pages and volumes, the head.
    async fn attempt(
        &self,
        target: &IndexTarget,
        changes: &[IndexChange],
        scope: Pages,
        attempt: usize,
    ) -> Result<Published, PublishError> {
        let head_key = target.key();
        // Read the head before the table: that order is what makes the ETag check prove
        // that no newer head was published from a later read of the table.
        let current = self.read(&head_key).await?;
        let published = current.index;
        let old_head: Vec<IndexEntry> = published
            .as_ref()
            .map(|h| h.items.clone())
            .unwrap_or_default();
        let listed = published
            .as_ref()
            .map(|h| h.pages.clone())
            .unwrap_or_default();
        let (mut pages, scope) = layout(target, listed, None, scope);

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

        let known: Vec<(ItemKey, String)> = changes
            .iter()
            .flat_map(|c| c.dates.iter().map(|d| (c.key.clone(), d.clone())))
            .chain(old_head.iter().map(|e| (e.key(), e.upload_date.clone())))
            .collect();
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
        let mut rebuild = Rebuild {
            publisher: self,
            target,
            dates: &dates,
            known: &known,
            head: &head_keys,
            writes: Writes::default(),
        };
        let outermost = Container {
            upto: None,
            is_head: true,
        };
        rebuild.list(&mut pages, outermost, scope).await?;
        rebuild.seal(&mut pages).await?;
        let writes = rebuild.writes;

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
        self.write(&head_key, &index, current.condition).await?;
        Ok(Published::Written {
            items,
            pages: writes.pages,
            volumes: writes.volumes,
            attempts: attempt,
        })
    }
}
