//! Paged indexes against the in-memory stores: every item in exactly one place, what one
//! change reads and writes bounded whatever the collection's size, and pages that never go
//! back under racing writers or a lagging secondary index.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use media_core::item::MediaItem;
use media_core::ports::*;
use media_core::testing::interleaving::{block_on_elsewhere, Shared, StepHook};
use media_core::testing::memory::{MemoryItemStore, MemoryObjectStore};
use media_index::{
    ContentIndex, IndexChange, IndexLimits, IndexPublisher, IndexTarget, PageEntry, Published,
};

const OWNER: &str = "us-east-1:11111111-1111-4111-8111-111111111111";

fn item(n: usize, visibility: &str, date: &str) -> MediaItem {
    media_core::testing::indexed_item(OWNER, visibility, &format!("{n:06}"), date)
}

/// The n-th upload's date: one a minute from 2020 on, so a collection spans years.
fn date(n: usize) -> String {
    let at = chrono::DateTime::parse_from_rfc3339("2020-01-01T00:00:00Z")
        .unwrap()
        .to_utc()
        + chrono::Duration::minutes(n as i64);
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn small() -> IndexLimits {
    IndexLimits {
        public_head: 5,
        private_head: 5,
        page_size: 4,
        volume_size: 2,
    }
}

fn read(objects: &MemoryObjectStore, key: &str) -> Option<ContentIndex> {
    objects
        .object(key)
        .map(|o| serde_json::from_slice(&o.body).unwrap())
}

/// The pages under `entries` (a head's or a volume's, owning the dates up to `upto`),
/// newest first, each volume checked against its entry and each page against its range.
fn leaves(
    objects: &MemoryObjectStore,
    entries: &[PageEntry],
    upto: Option<&str>,
    out: &mut Vec<(PageEntry, ContentIndex)>,
) {
    for (at, entry) in entries.iter().enumerate() {
        let upto = if at == 0 {
            upto.map(str::to_owned)
        } else {
            entries[at - 1].after.clone()
        };
        if let (Some(after), Some(upto)) = (&entry.after, &upto) {
            assert!(after < upto, "{}: ranges newest first", entry.key);
        }
        if entry.level > 0 {
            let volume = read(objects, &entry.key)
                .unwrap_or_else(|| panic!("{}: a listed volume exists", entry.key));
            assert_eq!(volume.version, 3);
            assert!(
                volume.items.is_empty(),
                "{}: a volume lists pages only",
                entry.key
            );
            assert_eq!(
                volume.generated_at, entry.generated_at,
                "{}: the entry names the volume's version",
                entry.key
            );
            assert_eq!(
                volume.pages.last().unwrap().after,
                entry.after,
                "{}: its oldest entry starts where it starts",
                entry.key
            );
            assert!(
                volume.pages.iter().all(|p| p.level < entry.level),
                "{}: lower levels inside",
                entry.key
            );
            let from = out.len();
            leaves(objects, &volume.pages, upto.as_deref(), out);
            assert_eq!(
                out[from..]
                    .iter()
                    .map(|(_, p)| p.items.len())
                    .sum::<usize>(),
                entry.count,
                "{}: the count is the items beneath",
                entry.key
            );
            continue;
        }
        // Every page a list names is a document, empty ones too: a reader following the list
        // must not get a 404 (a 403 on S3 without ListBucket).
        let page = read(objects, &entry.key)
            .unwrap_or_else(|| panic!("{}: a listed page exists", entry.key));
        assert_eq!(page.version, 3);
        assert_eq!(
            page.items.len(),
            entry.count,
            "{}: the entry's count",
            entry.key
        );
        assert_eq!(
            page.generated_at, entry.generated_at,
            "{}: the entry names the page's version",
            entry.key
        );
        assert!(page.pages.is_empty());
        for e in &page.items {
            assert!(
                entry
                    .after
                    .as_deref()
                    .is_none_or(|after| e.upload_date.as_str() > after),
                "{} in {}",
                e.upload_date,
                entry.key
            );
            assert!(
                upto.as_deref()
                    .is_none_or(|upto| e.upload_date.as_str() <= upto),
                "{} in {}",
                e.upload_date,
                entry.key
            );
        }
        out.push((entry.clone(), page));
    }
}

/// The head and every page under it (through its volumes), newest first.
fn whole(objects: &MemoryObjectStore, target: &IndexTarget) -> (ContentIndex, Vec<ContentIndex>) {
    let (head, pages) = whole_with_entries(objects, target);
    (head, pages.into_iter().map(|(_, p)| p).collect())
}

fn whole_with_entries(
    objects: &MemoryObjectStore,
    target: &IndexTarget,
) -> (ContentIndex, Vec<(PageEntry, ContentIndex)>) {
    let head = read(objects, &target.key()).expect("a head");
    assert_eq!(head.version, 3);
    assert!(
        !head.pages.is_empty(),
        "a head lists its oldest page at least"
    );
    assert!(head.pages.last().unwrap().after.is_none());
    let mut pages = Vec::new();
    leaves(objects, &head.pages, None, &mut pages);
    (head, pages)
}

/// Every item the index shows is on the head or on exactly one page, in order, each page
/// holding only dates of its range, and the head holding the newest `limit`.
fn assert_exactly_once(
    objects: &MemoryObjectStore,
    items: &MemoryItemStore,
    target: &IndexTarget,
    limit: usize,
) {
    let (head, pages) = whole(objects, target);
    let mut expected: Vec<MediaItem> = items
        .items
        .lock()
        .unwrap()
        .values()
        .filter(|i| !i.is_tombstone() && i.upload_date.is_some())
        .filter(|i| match target {
            // Visitors see pictures only: never an upload without a thumbnail.
            IndexTarget::Public => i.is_public && i.thumbnail_key.is_some(),
            IndexTarget::Private(id) => &i.identity_id == id,
        })
        .cloned()
        .collect();
    expected.sort_by(|a, b| {
        b.upload_date
            .cmp(&a.upload_date)
            .then_with(|| a.object_key.cmp(&b.object_key))
    });
    let shown: Vec<(String, String)> = head
        .items
        .iter()
        .chain(pages.iter().flat_map(|p| p.items.iter()))
        .map(|e| (e.object_key.clone(), e.title.clone()))
        .collect();
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|i| (i.object_key.clone(), i.title.clone()))
        .collect();
    assert_eq!(shown.len(), want.len(), "every item exactly once");
    assert_eq!(
        shown, want,
        "head then pages, newest first, as the table says"
    );
    assert_eq!(head.items.len(), limit.min(want.len()));
}

struct World {
    objects: MemoryObjectStore,
    items: MemoryItemStore,
    limits: IndexLimits,
}

impl World {
    fn new(limits: IndexLimits) -> World {
        World {
            objects: MemoryObjectStore::default(),
            items: MemoryItemStore::default(),
            limits,
        }
    }

    fn publisher(&self) -> IndexPublisher<'_, MemoryObjectStore, MemoryItemStore> {
        IndexPublisher {
            objects: &self.objects,
            items: &self.items,
            limits: self.limits,
        }
    }

    async fn upload(&self, it: MediaItem) -> Published {
        self.items.put(it.clone());
        if let Some(day) = &it.upload_day {
            self.items.mark_public_day(day).await.unwrap();
        }
        self.publisher()
            .regenerate(&IndexTarget::Private(OWNER.into()), &[IndexChange::of(&it)])
            .await
            .unwrap()
    }

    async fn delete(&self, it: &MediaItem) -> Published {
        self.items.items.lock().unwrap().remove(&it.key());
        self.publisher()
            .regenerate(&IndexTarget::Private(OWNER.into()), &[IndexChange::of(it)])
            .await
            .unwrap()
    }
}

/// Puts `n` private items in the table, one a minute; returns them oldest first.
fn put_items(items: &MemoryItemStore, n: usize) -> Vec<MediaItem> {
    let all: Vec<MediaItem> = (0..n).map(|n| item(n, "private", &date(n))).collect();
    for it in &all {
        items.put(it.clone());
    }
    all
}

impl World {
    /// `n` private items in the table, paged by a repair pass; returns them oldest first.
    async fn paged(&self, n: usize) -> Vec<MediaItem> {
        let all = put_items(&self.items, n);
        self.publisher().rebuild(&private()).await.unwrap();
        all
    }
}

fn private() -> IndexTarget {
    IndexTarget::Private(OWNER.into())
}

#[tokio::test]
async fn a_new_owners_first_upload_writes_its_head_and_its_empty_oldest_page() {
    let w = World::new(IndexLimits::default());
    let published = w.upload(item(0, "private", &date(0))).await;
    assert!(
        matches!(
            published,
            Published::Written {
                pages: 1,
                volumes: 0,
                ..
            }
        ),
        "{published:?}"
    );
    assert_eq!(
        w.objects.request_count("PutObject"),
        2,
        "the head and the page"
    );
    let (head, pages) = whole(&w.objects, &private());
    assert_eq!((head.items.len(), pages.len()), (1, 1));
    assert!(pages[0].items.is_empty());
}

#[tokio::test]
async fn uploads_fill_the_head_then_pages_and_every_item_is_in_exactly_one_place() {
    let w = World::new(small());
    for n in 0..30 {
        w.upload(item(n, "private", &date(n))).await;
        assert_exactly_once(&w.objects, &w.items, &private(), 5);
    }
    let (head, pages) = whole(&w.objects, &private());
    // 25 items older than the head in pages of the page size, the open one filling up.
    assert!(pages.len() >= 6, "{:?}", head.pages);
    assert!(
        pages.iter().all(|p| p.items.len() <= 5),
        "pages stay near the page size"
    );
    let (_, entries) = whole_with_entries(&w.objects, &private());
    let keys: Vec<&str> = entries.iter().map(|(e, _)| e.key.as_str()).collect();
    assert_eq!(
        *keys.last().unwrap(),
        format!("private/index/{OWNER}/content-0.json")
    );
    assert!(keys
        .iter()
        .all(|k| k.starts_with(&format!("private/index/{OWNER}/content-"))));
}

#[tokio::test]
async fn edits_and_deletes_of_old_pictures_rewrite_their_page_and_the_head_only() {
    // No volumes here (see the volume tests below).
    let w = World::new(IndexLimits {
        volume_size: 100,
        ..small()
    });
    let all = w.paged(40).await;
    assert_exactly_once(&w.objects, &w.items, &private(), 5);

    let puts = w.objects.request_count("PutObject");
    let mut edited = all[3].clone();
    edited.title = "edited".into();
    assert!(matches!(
        w.upload(edited.clone()).await,
        Published::Written { pages: 1, .. }
    ));
    assert_eq!(
        w.objects.request_count("PutObject") - puts,
        2,
        "the page and the head"
    );
    assert_exactly_once(&w.objects, &w.items, &private(), 5);

    let puts = w.objects.request_count("PutObject");
    w.delete(&all[10]).await;
    assert_eq!(w.objects.request_count("PutObject") - puts, 2);
    assert_exactly_once(&w.objects, &w.items, &private(), 5);

    // Deleting from the head pulls the newest older picture up from its page.
    let puts = w.objects.request_count("PutObject");
    w.delete(&all[39]).await;
    assert_eq!(w.objects.request_count("PutObject") - puts, 2);
    assert_exactly_once(&w.objects, &w.items, &private(), 5);

    // The same record again: nothing read changes, nothing is written.
    let puts = w.objects.request_count("PutObject");
    assert!(matches!(
        w.delete(&all[39]).await,
        Published::Unchanged { .. }
    ));
    assert_eq!(w.objects.request_count("PutObject"), puts);

    // An upload with an old date (a repair's late event) joins its page.
    w.upload(item(100, "private", &date(2))).await;
    assert_exactly_once(&w.objects, &w.items, &private(), 5);
}

#[tokio::test]
async fn a_version_1_index_is_paged_by_its_first_regeneration() {
    let w = World::new(small());
    let all = put_items(&w.items, 23);
    let v1 = serde_json::json!({"version": 1, "generatedAt": "2026-11-23T14:05:10.002Z",
        "items": serde_json::to_value(ContentIndex::new(all.clone(), None).items).unwrap()});
    w.objects
        .insert(&private().key(), serde_json::to_vec(&v1).unwrap(), &[]);
    w.upload(item(23, "private", &date(23))).await;
    assert_exactly_once(&w.objects, &w.items, &private(), 5);
    let (head, _) = whole(&w.objects, &private());
    assert!(
        head.pages.len() >= 4,
        "19 older items split into pages of about 4: {:?}",
        head.pages
    );
}

#[tokio::test]
async fn the_public_index_pages_its_history_across_days() {
    let w = World::new(small());
    let target = IndexTarget::Public;
    // Public pictures on many days, and private ones that never show there.
    for n in 0..40 {
        let it = item(
            n,
            if n % 3 == 0 { "private" } else { "public" },
            &date(n * 600),
        );
        w.items.put(it.clone());
        if let Some(day) = &it.upload_day {
            w.items.mark_public_day(day).await.unwrap();
        }
        w.publisher()
            .regenerate(&target, &[IndexChange::of(&it)])
            .await
            .unwrap();
        assert_exactly_once(&w.objects, &w.items, &target, 5);
    }
    let old = item(4, "public", &date(4 * 600));
    w.items.items.lock().unwrap().remove(&old.key());
    w.publisher()
        .regenerate(&target, &[IndexChange::of(&old)])
        .await
        .unwrap();
    assert_exactly_once(&w.objects, &w.items, &target, 5);
    // The repair pass rebuilds every page to the same state.
    assert!(matches!(
        w.publisher().rebuild(&target).await.unwrap(),
        Published::Unchanged { .. }
    ));
}

#[tokio::test]
async fn public_pages_leave_out_uploads_without_a_thumbnail_which_their_owners_pages_keep() {
    let w = World::new(small());
    // Every third public upload could not be decoded: an item without thumbnail.
    let all: Vec<MediaItem> = (0..30)
        .map(|n| {
            let it = item(n, "public", &date(n * 600));
            if n % 3 == 1 {
                MediaItem {
                    thumbnail_key: None,
                    ..it
                }
            } else {
                it
            }
        })
        .collect();
    for it in &all {
        w.items.put(it.clone());
        w.items
            .mark_public_day(it.upload_day.as_deref().unwrap())
            .await
            .unwrap();
        w.publisher()
            .regenerate(&IndexTarget::Public, &[IndexChange::of(it)])
            .await
            .unwrap();
        w.publisher()
            .regenerate(&private(), &[IndexChange::of(it)])
            .await
            .unwrap();
    }
    assert_exactly_once(&w.objects, &w.items, &IndexTarget::Public, 5);
    assert_exactly_once(&w.objects, &w.items, &private(), 5);
    let (head, pages) = whole(&w.objects, &IndexTarget::Public);
    let shown = head.items.len() + pages.iter().map(|p| p.items.len()).sum::<usize>();
    assert_eq!(
        shown, 20,
        "the 10 without a thumbnail are on no public page"
    );
    let (head, pages) = whole(&w.objects, &private());
    assert_eq!(
        head.items.len() + pages.iter().map(|p| p.items.len()).sum::<usize>(),
        30,
        "and on their owner's"
    );
}

#[tokio::test]
async fn pages_stay_right_while_the_secondary_index_lags() {
    let w = World::new(small());
    let all = w.paged(30).await;
    // The by-owner index has seen none of what follows: deletes in the head and in pages,
    // an edit in a page, new uploads.
    w.items.freeze_secondary_index();
    w.delete(&all[29]).await;
    w.delete(&all[7]).await;
    let mut edited = all[12].clone();
    edited.title = "edited while the index lags".into();
    w.upload(edited).await;
    for n in 30..36 {
        w.upload(item(n, "private", &date(n))).await;
        assert_exactly_once(&w.objects, &w.items, &private(), 5);
    }
    w.items.catch_up_secondary_index();
    w.publisher().rebuild(&private()).await.unwrap();
    assert_exactly_once(&w.objects, &w.items, &private(), 5);
}

#[tokio::test]
async fn a_slow_writer_never_leaves_an_older_page_or_head() {
    // Before the slow writer's first PUT (a page inside a volume), its second (the volume)
    // and its third (the head), a fast writer applies a newer change to the same page and
    // publishes.
    for at_put in [1, 2, 3] {
        let objects = Arc::new(MemoryObjectStore::default());
        let items = Arc::new(MemoryItemStore::default());
        let all = put_items(&items, 20);
        IndexPublisher {
            objects: objects.as_ref(),
            items: items.as_ref(),
            limits: small(),
        }
        .rebuild(&private())
        .await
        .unwrap();
        assert!(
            !path_to(&objects, &private(), &all[3].object_key)
                .0
                .is_empty(),
            "the edited page is inside a volume"
        );

        let (fast_objects, fast_items) = (objects.clone(), items.clone());
        let newer = MediaItem {
            title: "the newer title".into(),
            ..all[2].clone()
        };
        let hook = StepHook::before_put(at_put - 1, move || {
            fast_items.put(newer.clone());
            let fast = IndexPublisher {
                objects: fast_objects.as_ref(),
                items: fast_items.as_ref(),
                limits: small(),
            };
            let published =
                block_on_elsewhere(fast.regenerate(&private(), &[IndexChange::of(&newer)]));
            assert!(
                matches!(published, Ok(Published::Written { .. })),
                "{published:?}"
            );
        });
        let racing = Shared::hooked(objects.clone(), hook.clone());
        // The slow writer's change: an edit on the same page.
        let slow_change = MediaItem {
            title: "the slow writer's edit".into(),
            ..all[3].clone()
        };
        items.put(slow_change.clone());
        let slow = IndexPublisher {
            objects: &racing,
            items: items.as_ref(),
            limits: small(),
        };
        let published = slow
            .regenerate(&private(), &[IndexChange::of(&slow_change)])
            .await
            .unwrap();
        assert!(hook.fired(), "the competitor ran");
        assert!(
            matches!(
                published,
                Published::Written { attempts: 2.., .. } | Published::Unchanged { .. }
            ),
            "{published:?}"
        );
        assert_exactly_once(&objects, &items, &private(), 5);
        let (_, pages) = whole(&objects, &private());
        let titles: Vec<&str> = pages
            .iter()
            .flat_map(|p| p.items.iter().map(|e| e.title.as_str()))
            .collect();
        assert!(
            titles.contains(&"the newer title") && titles.contains(&"the slow writer's edit"),
            "{titles:?}"
        );
    }
}

/// What one upload reads from the table and writes to the bucket, once `size` items are in.
async fn cost_of_an_upload(size: usize) -> (usize, usize, usize, usize) {
    let w = World::new(IndexLimits::default());
    for n in 0..size {
        w.items.put(item(n, "private", &date(n)));
    }
    w.publisher().rebuild(&private()).await.unwrap();
    let mut costs = BTreeMap::new();
    // A few uploads, so the open page's fill does not decide the figure.
    for n in size..size + 5 {
        let before = (
            w.items.items_read.load(Ordering::SeqCst),
            w.items.index_keys_read.load(Ordering::SeqCst),
            w.objects.bytes_written.load(Ordering::SeqCst),
            w.objects.request_count("PutObject"),
        );
        w.upload(item(n, "private", &date(n))).await;
        let cost = (
            w.items.items_read.load(Ordering::SeqCst) - before.0,
            w.items.index_keys_read.load(Ordering::SeqCst) - before.1,
            w.objects.bytes_written.load(Ordering::SeqCst) - before.2,
            w.objects.request_count("PutObject") - before.3,
        );
        costs.insert(n, cost);
    }
    assert_exactly_once(&w.objects, &w.items, &private(), 100);
    costs.values().fold((0, 0, 0, 0), |m, c| {
        (m.0.max(c.0), m.1.max(c.1), m.2.max(c.2), m.3.max(c.3))
    })
}

#[tokio::test]
async fn what_an_upload_reads_and_writes_does_not_grow_with_the_collection() {
    let limits = IndexLimits::default();
    let (h, p) = (limits.private_head, limits.page_size);
    let mut written = Vec::new();
    for size in [1_000, 10_000] {
        let (items_read, keys_listed, bytes_written, puts) = cost_of_an_upload(size).await;
        // The head's candidates (its size, the head in place, the change) and one page.
        assert!(
            items_read <= 2 * h + 2 + p + 1,
            "{size} items: {items_read} items read"
        );
        assert!(
            keys_listed <= 2 * h + 2 + h + p + 1,
            "{size} items: {keys_listed} keys listed"
        );
        assert!(puts <= 2, "{size} items: {puts} objects written");
        written.push(bytes_written);
    }
    // The head's list stays under 2V entries per level: ten times the items adds at most a
    // level's worth of entries (about 220 bytes each), not ten times the list.
    let v = limits.volume_size;
    assert!(written[1] <= written[0] + 220 * 2 * v, "{written:?}");
}

/// Which objects changed between two snapshots of the bucket.
fn changed(before: &BTreeMap<String, Vec<u8>>, after: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    after
        .iter()
        .filter(|(k, body)| before.get(*k) != Some(*body))
        .map(|(k, _)| k.clone())
        .collect()
}

fn snapshot(objects: &MemoryObjectStore) -> BTreeMap<String, Vec<u8>> {
    objects
        .objects
        .lock()
        .unwrap()
        .iter()
        .map(|(k, o)| (k.clone(), o.body.clone()))
        .collect()
}

/// The keys of the volumes on the way from the head to the page holding `key`, outermost first,
/// and that page's key.
fn path_to(objects: &MemoryObjectStore, target: &IndexTarget, key: &str) -> (Vec<String>, String) {
    fn walk(
        objects: &MemoryObjectStore,
        entries: &[PageEntry],
        key: &str,
        path: &mut Vec<String>,
    ) -> Option<String> {
        for entry in entries {
            if entry.level > 0 {
                path.push(entry.key.clone());
                if let Some(page) = walk(
                    objects,
                    &read(objects, &entry.key).unwrap().pages,
                    key,
                    path,
                ) {
                    return Some(page);
                }
                path.pop();
            } else if read(objects, &entry.key)
                .is_some_and(|p| p.items.iter().any(|e| e.object_key == key))
            {
                return Some(entry.key.clone());
            }
        }
        None
    }
    let mut path = Vec::new();
    let page = walk(
        objects,
        &read(objects, &target.key()).unwrap().pages,
        key,
        &mut path,
    )
    .expect("the item is on a page");
    (path, page)
}

/// Entries per level on the head.
fn levels(head: &ContentIndex) -> BTreeMap<u32, usize> {
    let mut levels = BTreeMap::new();
    for entry in &head.pages {
        *levels.entry(entry.level).or_default() += 1;
    }
    levels
}

#[tokio::test]
async fn older_pages_are_sealed_into_volumes_and_the_head_lists_few_entries_per_level() {
    let w = World::new(small());
    let mut most = 0;
    for n in 0..150 {
        let before = snapshot(&w.objects);
        w.upload(item(n, "private", &date(n))).await;
        let written = changed(&before, &snapshot(&w.objects));
        // The head, the open page (and the new, empty one listed after it when it fills),
        // and at most one new volume per level.
        let pages: Vec<&String> = written.iter().filter(|k| k.contains("/content-")).collect();
        let new_open_page = |key: &&String| read(&w.objects, key).unwrap().items.is_empty();
        assert!(
            pages.len() <= 1 || (pages.len() == 2 && pages.iter().any(new_open_page)),
            "{n}: {written:?}"
        );
        assert!(written.len() <= 3 + 4, "{n}: {written:?}");
        if n % 7 == 0 || n > 140 {
            assert_exactly_once(&w.objects, &w.items, &private(), 5);
        }
        let head = read(&w.objects, &private().key()).unwrap();
        // Levels newest first, fewer than 2V of each.
        assert!(
            head.pages.windows(2).all(|p| p[0].level <= p[1].level),
            "{n}: {:?}",
            head.pages
        );
        assert!(
            levels(&head).values().all(|&count| count < 2 * 2),
            "{n}: {:?}",
            levels(&head)
        );
        most = most.max(head.pages.len());
    }
    let head = read(&w.objects, &private().key()).unwrap();
    // 145 older items in pages of 4: about 36 pages, listed through volumes of 2 nested 4 deep.
    assert!(head.pages.iter().any(|p| p.level >= 3), "{:?}", head.pages);
    assert!(most <= 3 * 5, "the head listed {most} entries");
    let (_, pages) = whole(&w.objects, &private());
    assert!(pages.len() >= 30, "{} pages", pages.len());
}

#[tokio::test]
async fn an_edit_or_delete_inside_a_volume_rewrites_its_page_its_volumes_and_the_head_only() {
    let w = World::new(small());
    let all = w.paged(60).await;
    assert_exactly_once(&w.objects, &w.items, &private(), 5);

    for (n, delete) in [(1, false), (2, true), (30, false)] {
        let (volumes, page) = path_to(&w.objects, &private(), &all[n].object_key);
        assert!(
            n == 30 || volumes.len() >= 2,
            "item {n} is deep in volumes: {volumes:?}"
        );
        let before = snapshot(&w.objects);
        let published = if delete {
            w.delete(&all[n]).await
        } else {
            w.upload(MediaItem {
                title: format!("edited {n}"),
                ..all[n].clone()
            })
            .await
        };
        let mut expected: Vec<String> = volumes
            .iter()
            .cloned()
            .chain([page, private().key()])
            .collect();
        expected.sort();
        assert_eq!(
            changed(&before, &snapshot(&w.objects)),
            expected,
            "item {n}"
        );
        assert!(
            matches!(published, Published::Written { pages: 1, volumes, .. } if volumes == expected.len() - 2),
            "{published:?}"
        );
        assert_exactly_once(&w.objects, &w.items, &private(), 5);
    }

    // The same records again (late, repeated): nothing is written.
    let puts = w.objects.request_count("PutObject");
    assert!(matches!(
        w.delete(&all[2]).await,
        Published::Unchanged { .. }
    ));
    assert!(matches!(
        w.upload(MediaItem {
            title: "edited 1".into(),
            ..all[1].clone()
        })
        .await,
        Published::Unchanged { .. }
    ));
    assert_eq!(w.objects.request_count("PutObject"), puts);
}

#[tokio::test]
async fn a_version_2_head_without_volumes_is_read_and_sealed_by_the_next_regeneration() {
    // Written by the version-2 layout: every page listed on the head.
    let w = World::new(IndexLimits {
        volume_size: 1000,
        ..small()
    });
    w.paged(80).await;
    let mut v2: serde_json::Value =
        serde_json::from_slice(&w.objects.object(&private().key()).unwrap().body).unwrap();
    v2["version"] = 2.into();
    assert!(v2["pages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p.get("level").is_none()));
    assert!(v2["pages"].as_array().unwrap().len() >= 15);
    w.objects
        .insert(&private().key(), serde_json::to_vec(&v2).unwrap(), &[]);

    let w = World {
        limits: small(),
        ..w
    };
    let before = snapshot(&w.objects);
    let published = w.upload(item(80, "private", &date(80))).await;
    assert!(
        matches!(published, Published::Written { volumes: 2.., .. }),
        "{published:?}"
    );
    assert_exactly_once(&w.objects, &w.items, &private(), 5);
    let head = read(&w.objects, &private().key()).unwrap();
    assert!(
        levels(&head).values().all(|&count| count < 4),
        "{:?}",
        levels(&head)
    );
    // The pages were kept as they were: sealing writes volumes, not pages (the upload itself
    // writes the open page).
    let written = changed(&before, &snapshot(&w.objects));
    assert!(
        written.iter().filter(|k| k.contains("/content-")).count() <= 1,
        "{written:?}"
    );
    assert!(
        written.iter().filter(|k| k.contains("/volume")).count() >= 2,
        "{written:?}"
    );
}

#[tokio::test]
async fn the_repair_pass_rebuilds_lost_volumes_and_pages() {
    let w = World::new(small());
    let all = w.paged(60).await;
    assert!(
        matches!(
            w.publisher().rebuild(&private()).await.unwrap(),
            Published::Unchanged { .. }
        ),
        "a second repair finds nothing to do"
    );

    // A lost volume (with everything it listed), a lost page, and a stream record never
    // delivered (an item edited in the table alone).
    let (volumes, _) = path_to(&w.objects, &private(), &all[1].object_key);
    let (_, page) = path_to(&w.objects, &private(), &all[40].object_key);
    w.objects
        .objects
        .lock()
        .unwrap()
        .remove(volumes.last().unwrap());
    w.objects.objects.lock().unwrap().remove(&page);
    w.items.put(MediaItem {
        title: "edited in the table".into(),
        ..all[20].clone()
    });

    assert!(matches!(
        w.publisher().rebuild(&private()).await.unwrap(),
        Published::Written { .. }
    ));
    assert_exactly_once(&w.objects, &w.items, &private(), 5);
    assert!(matches!(
        w.publisher().rebuild(&private()).await.unwrap(),
        Published::Unchanged { .. }
    ));
}

/// Before every store call of a writer editing a picture on a page inside volumes, a second
/// writer edits another picture of the same page and publishes: whatever the step, the
/// conditional writes leave both edits on that page, its volumes and the head.
#[tokio::test]
async fn a_competing_writer_at_any_step_never_leaves_an_older_page_volume_or_head() {
    let mut step = 0;
    loop {
        let objects = Arc::new(MemoryObjectStore::default());
        let items = Arc::new(MemoryItemStore::default());
        let all = put_items(&items, 60);
        IndexPublisher {
            objects: objects.as_ref(),
            items: items.as_ref(),
            limits: small(),
        }
        .rebuild(&private())
        .await
        .unwrap();
        let (volumes, page) = path_to(&objects, &private(), &all[3].object_key);
        assert!(
            volumes.len() >= 2,
            "the pictures are on a page inside volumes: {volumes:?}"
        );
        assert_eq!(
            path_to(&objects, &private(), &all[2].object_key).1,
            page,
            "both on one page"
        );

        let hook = {
            let (objects, items, newer) = (
                objects.clone(),
                items.clone(),
                MediaItem {
                    title: "the competitor's edit".into(),
                    ..all[2].clone()
                },
            );
            StepHook::before_step(step, move || {
                items.put(newer.clone());
                let fast = IndexPublisher {
                    objects: objects.as_ref(),
                    items: items.as_ref(),
                    limits: small(),
                };
                let published =
                    block_on_elsewhere(fast.regenerate(&private(), &[IndexChange::of(&newer)]));
                assert!(
                    matches!(published, Ok(Published::Written { .. })),
                    "{published:?}"
                );
            })
        };
        let slow_objects = Shared::hooked(objects.clone(), hook.clone());
        let edit = MediaItem {
            title: "the slow writer's edit".into(),
            ..all[3].clone()
        };
        items.put(edit.clone());
        let slow = IndexPublisher {
            objects: &slow_objects,
            items: items.as_ref(),
            limits: small(),
        };
        slow.regenerate(&private(), &[IndexChange::of(&edit)])
            .await
            .unwrap();
        if !hook.fired() {
            // The writer finished in fewer calls: every interleaving has been tried (the head,
            // the volumes and the page read, then written).
            assert!(step >= 2 * (volumes.len() + 2), "only {step} store calls");
            return;
        }
        assert_exactly_once(&objects, &items, &private(), 5);
        let on_page: Vec<String> = read(
            &objects,
            &path_to(&objects, &private(), &all[3].object_key).1,
        )
        .unwrap()
        .items
        .iter()
        .map(|e| e.title.clone())
        .collect();
        assert!(
            on_page.contains(&"the competitor's edit".to_owned())
                && on_page.contains(&"the slow writer's edit".to_owned()),
            "step {step}: {on_page:?}"
        );
        step += 1;
    }
}
