//! What to publish: which index (`IndexTarget`, with its keys and which items it shows), how
//! large its heads, pages and volumes are (`IndexLimits`), and which indexes a batch of table
//! changes affects (`TableChange`, `IndexChange`, `affected_indexes`).

use std::collections::BTreeMap;

use media_core::config::{number_or, ConfigError};
use media_core::item::{ItemKey, MediaItem};
use media_core::keys::{index_page_key, index_volume_key, private_index_key, PUBLIC_INDEX_KEY};

pub const DEFAULT_PUBLIC_INDEX_LIMIT: usize = 100;
pub const DEFAULT_PRIVATE_HEAD_LIMIT: usize = 100;
pub const DEFAULT_INDEX_PAGE_SIZE: usize = 250;
pub const DEFAULT_INDEX_VOLUME_SIZE: usize = 16;

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

    pub(crate) fn head(&self, target: &IndexTarget) -> usize {
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
    pub(crate) fn shows(&self, item: &MediaItem) -> bool {
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
