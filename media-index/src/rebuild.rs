//! Rebuilding the pages and volumes of one attempt, bottom-up: each page from the table, each
//! volume after the entries it lists (read before them, written after them), then the
//! head's list sealed into new volumes. The head itself is written by `publish`.

use std::collections::BTreeSet;

use futures_util::future::BoxFuture;
use media_core::item::ItemKey;
use media_core::ports::{DateRange, IndexItems, ObjectStore};

use crate::layout::{layout, page_of, range_of, sealable, split, Container, Pages};
use crate::model::{entries, IndexEntry, PageEntry};
use crate::publish::{IndexPublisher, PublishError};
use crate::target::IndexTarget;

/// What one regeneration wrote besides the head.
#[derive(Default)]
pub(crate) struct Writes {
    pub pages: usize,
    pub volumes: usize,
}

/// One attempt's rebuild: what every list and page in it is rebuilt against (the same at
/// every level), and what it wrote.
pub(crate) struct Rebuild<'r, O, I> {
    pub publisher: &'r IndexPublisher<'r, O, I>,
    pub target: &'r IndexTarget,
    /// The dates whose pages the change touches: its own, and those of the items crossing
    /// the head's boundary.
    pub dates: &'r [String],
    /// Keys with the dates they had or have: which pages may hold them.
    pub known: &'r [(ItemKey, String)],
    /// The keys on the new head, which no page holds.
    pub head: &'r BTreeSet<ItemKey>,
    pub writes: Writes,
}

impl<O: ObjectStore, I: IndexItems> Rebuild<'_, O, I> {
    /// Rebuilds the entries of `list` (the head's or a volume's) that `dates` fall in, or all
    /// of them: a page from the table, a volume by reading it, rebuilding its entries the same
    /// way, and writing it (after what it lists, before what lists it).
    ///
    /// Boxed because it recurses, once per level of volumes (an `async fn` cannot).
    pub(crate) fn list<'s>(
        &'s mut self,
        list: &'s mut Vec<PageEntry>,
        container: Container,
        scope: Pages,
    ) -> BoxFuture<'s, Result<(), PublishError>> {
        Box::pin(async move {
            let whole = DateRange {
                after: list.last().and_then(|p| p.after.clone()),
                upto: container.upto.clone(),
            };
            let touched: BTreeSet<usize> = match scope {
                Pages::All => (0..list.len()).collect(),
                Pages::Touched => self
                    .dates
                    .iter()
                    .filter(|d| whole.contains(d))
                    .map(|d| page_of(list, d))
                    .collect(),
            };
            // Oldest first: a split inserts pages before (newer than) the one rebuilt, which
            // leaves the positions of the entries still to rebuild as they were.
            for at in touched.into_iter().rev() {
                if !list[at].is_volume() {
                    self.page(list, at, &container).await?;
                    continue;
                }
                let range = range_of(list, at, container.upto.as_deref());
                // The volume before anything under it: its ETag guards its write.
                let current = self.publisher.read(&list[at].key).await?;
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
                // A missing or damaged volume's range is rebuilt whole.
                let (mut entries, scope) =
                    layout(self.target, listed, list[at].after.as_deref(), scope);
                let inner = Container {
                    upto: range.upto.clone(),
                    is_head: false,
                };
                self.list(&mut entries, inner, scope).await?;
                let (entry, wrote) = self
                    .publisher
                    .write_volume(&list[at], entries, current)
                    .await?;
                self.writes.volumes += usize::from(wrote);
                list[at] = entry;
            }
            Ok(())
        })
    }

    /// Keeps the head's list short: while it lists `2V` entries of one level (V the volume
    /// size), the oldest `V` of them are sealed into a new volume of the next level, which
    /// takes their place. The head then lists fewer than `2V` entries per level, newest level
    /// first, so its size grows with the logarithm of the collection, base V. A seal writes
    /// the new volume only (the entries it lists are as they were).
    pub(crate) async fn seal(&mut self, list: &mut Vec<PageEntry>) -> Result<(), PublishError> {
        let size = self.publisher.limits.volume_size;
        while let Some((level, sealed)) = sealable(list, size) {
            let pages: Vec<PageEntry> = list[sealed.clone()].to_vec();
            let after = pages.last().and_then(|p| p.after.clone());
            let key = self.target.volume_key(level + 1, after.as_deref());
            let current = self.publisher.read(&key).await?;
            let volume = PageEntry {
                key,
                count: 0,
                generated_at: String::new(),
                content_hash: String::new(),
                after,
                level: level + 1,
            };
            let (entry, wrote) = self.publisher.write_volume(&volume, pages, current).await?;
            tracing::info!(
                volume = entry.key,
                level = entry.level,
                items = entry.count,
                "older entries sealed into a volume"
            );
            self.writes.volumes += usize::from(wrote);
            list.splice(sealed, [entry]);
        }
        Ok(())
    }

    /// Rebuilds page `at` of `pages` from one listing of its range: what the secondary index
    /// lists, what the page and `known` say is in the range, read again consistently, less
    /// what the head shows. Splits it if it has grown past twice the page size; lists a new,
    /// empty open page after it if it is the open page and full.
    async fn page(
        &mut self,
        pages: &mut Vec<PageEntry>,
        at: usize,
        container: &Container,
    ) -> Result<(), PublishError> {
        let (publisher, target) = (self.publisher, self.target);
        let range = range_of(pages, at, container.upto.as_deref());
        let key = pages[at].key.clone();
        // The page before the table, as for the head.
        let current = publisher.read(&key).await?;
        let mut keys: BTreeSet<ItemKey> = publisher
            .candidates(target, &range, usize::MAX)
            .await?
            .into_iter()
            .collect();
        keys.extend(
            self.known
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
        let keys: Vec<ItemKey> = keys
            .into_iter()
            .filter(|k| !self.head.contains(k))
            .collect();
        let items = publisher
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
        let mut chunks = split(entries(items), publisher.limits.page_size);
        let newest_date = chunks
            .last()
            .and_then(|c| c.first())
            .map(|e| e.upload_date.clone());
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
            let items = std::mem::take(&mut chunks[part]);
            let (entry, wrote) = publisher.write_page(&part_key, items, after, None).await?;
            self.writes.pages += usize::from(wrote);
            newer.push(entry);
        }
        let oldest = std::mem::take(&mut chunks[0]);
        let after = pages[at].after.clone();
        let (entry, wrote) = publisher
            .write_page(&key, oldest, after, Some(current))
            .await?;
        self.writes.pages += usize::from(wrote);
        pages[at] = entry;
        newer.reverse();
        let split_into = newer.len();
        pages.splice(at..at, newer);
        if split_into > 0 {
            tracing::info!(page = key, parts = split_into + 1, "page split");
        }
        // The open page is full: the head's next leavers go to a new page after its newest
        // item, and it is sealed (it changes only when one of its own items does). The new
        // page holds nothing yet (every item after that date is on the head), and is written
        // before the head lists it.
        if container.is_head && at == 0 && pages[0].count >= publisher.limits.page_size {
            if let Some(after) = newest_date {
                tracing::info!(
                    page = pages[0].key,
                    items = pages[0].count,
                    "open page full; a new one follows it"
                );
                let key = target.page_key(Some(&after));
                let (entry, wrote) = publisher
                    .write_page(&key, Vec::new(), Some(after), None)
                    .await?;
                self.writes.pages += usize::from(wrote);
                pages.insert(0, entry);
            }
        }
        Ok(())
    }
}
