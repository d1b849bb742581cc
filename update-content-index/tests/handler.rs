//! The handler against in-memory stores, driven by stream records in Lambda's JSON shape.

use std::sync::Arc;

use async_trait::async_trait;
use media_core::aws_lambda_events::event::dynamodb::Event;
use media_core::item::{ItemKey, MediaItem};
use media_core::ports::*;
use media_core::testing::interleaving::{block_on_elsewhere, Shared, StepHook};
use media_core::testing::memory::{MemoryItemStore, MemoryObjectStore};
use media_core::text::{TextCut, TextField};
use media_index::{ContentIndex, IndexChange, IndexLimits, IndexPublisher, IndexTarget, Published};
use update_content_index::UpdateContentIndex;

fn item(identity: &str, visibility: &str, n: usize, date: &str) -> MediaItem {
    media_core::testing::indexed_item(identity, visibility, &n.to_string(), date)
}

fn date(day: u32, n: usize) -> String {
    format!("2026-11-{day:02}T10:{:02}:{:02}.000Z", n / 60, n % 60)
}

/// A stream record as Lambda delivers it, for an item written (or removed) in the table.
fn record(event_name: &str, item: &MediaItem, sequence_number: u64) -> serde_json::Value {
    let keys = serde_json::json!({"identityId": {"S": item.identity_id}, "objectKey": {"S": item.object_key}});
    let image: serde_dynamo::Item = serde_dynamo::to_item(item).unwrap();
    let image = serde_json::to_value(image).unwrap();
    let mut dynamodb = serde_json::json!({
        "ApproximateCreationDateTime": 1_795_000_000.0, "Keys": keys,
        "SequenceNumber": sequence_number.to_string(), "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES"});
    if event_name == "REMOVE" {
        dynamodb["OldImage"] = image;
    } else {
        dynamodb["NewImage"] = image;
    }
    serde_json::json!({"eventID": format!("e{sequence_number}"), "eventName": event_name, "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "dynamodb": dynamodb,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/media-items/stream/x"})
}

fn event(records: Vec<serde_json::Value>) -> Event {
    serde_json::from_value(serde_json::json!({"Records": records})).unwrap()
}

fn read_index(objects: &MemoryObjectStore, key: &str) -> Option<ContentIndex> {
    objects.object(key).map(|o| {
        assert_eq!(o.content_type, "application/json");
        assert_eq!(o.cache_control.as_deref(), Some("no-cache"));
        serde_json::from_slice(&o.body).unwrap()
    })
}

fn titles(index: &ContentIndex) -> Vec<String> {
    index.items.iter().map(|e| e.title.clone()).collect()
}

fn limits(public_head: usize) -> IndexLimits {
    IndexLimits {
        public_head,
        ..IndexLimits::default()
    }
}

fn function(limit: usize) -> UpdateContentIndex<MemoryObjectStore, MemoryItemStore> {
    UpdateContentIndex::new(
        MemoryObjectStore::default(),
        MemoryItemStore::default(),
        limits(limit),
    )
}

#[tokio::test]
async fn public_and_private_uploads_reach_the_right_indexes() {
    let f = function(100);
    let public = item("us-east-1:a", "public", 1, &date(23, 1));
    let private = item("us-east-1:a", "private", 2, &date(23, 2));
    f.items().put(public.clone());
    f.items().put(private.clone());
    let response = f
        .handle_stream(event(vec![
            record("INSERT", &public, 1),
            record("INSERT", &private, 2),
        ]))
        .await;
    assert!(response.batch_item_failures.is_empty());

    let public_index = read_index(f.objects(), "public/index/content.json").unwrap();
    assert_eq!(titles(&public_index), ["picture 1"]);
    let private_index = read_index(f.objects(), "private/index/us-east-1:a/content.json").unwrap();
    assert_eq!(titles(&private_index), ["picture 2", "picture 1"]);
    assert!(!private_index.items[0].is_public && private_index.items[1].is_public);
    // Each index written once for the batch: its head and its oldest page (empty: both
    // pictures are on the heads).
    assert_eq!(f.objects().request_count("PutObject"), 4);
}

#[tokio::test]
async fn a_private_change_leaves_the_public_index_alone() {
    let f = function(100);
    let private = item("us-east-1:b", "private", 1, &date(23, 1));
    f.items().put(private.clone());
    f.handle_stream(event(vec![record("INSERT", &private, 1)]))
        .await;
    assert!(f.objects().object("public/index/content.json").is_none());
    assert!(f
        .objects()
        .object("private/index/us-east-1:b/content.json")
        .is_some());
}

#[tokio::test]
async fn the_public_index_keeps_the_newest_reaching_back_over_days() {
    let f = function(100);
    let mut records = Vec::new();
    // 60 pictures two days ago, none yesterday, 45 today: 105 in all.
    for n in 0..105 {
        let day = if n < 60 { 21 } else { 23 };
        let it = item(&format!("us-east-1:u{}", n % 7), "public", n, &date(day, n));
        f.items().put(it.clone());
        records.push(record("INSERT", &it, n as u64 + 1));
    }
    f.handle_stream(event(records)).await;
    let index = read_index(f.objects(), "public/index/content.json").unwrap();
    assert_eq!(index.items.len(), 100);
    let expected: Vec<String> = (5..105).rev().map(|n| format!("picture {n}")).collect();
    assert_eq!(titles(&index), expected);
}

#[tokio::test]
async fn deletes_and_edits_show_and_unchanged_indexes_are_not_rewritten() {
    let f = function(100);
    let first = item("us-east-1:c", "public", 1, &date(23, 1));
    let second = item("us-east-1:c", "public", 2, &date(23, 2));
    f.items().put(first.clone());
    f.items().put(second.clone());
    f.handle_stream(event(vec![
        record("INSERT", &first, 1),
        record("INSERT", &second, 2),
    ]))
    .await;

    let mut edited = first.clone();
    edited.title = "new title".into();
    f.items().put(edited.clone());
    f.handle_stream(event(vec![record("MODIFY", &edited, 3)]))
        .await;
    let index = read_index(f.objects(), "public/index/content.json").unwrap();
    assert_eq!(titles(&index), ["picture 2", "new title"]);

    f.items().items.lock().unwrap().remove(&second.key());
    f.handle_stream(event(vec![record("REMOVE", &second, 4)]))
        .await;
    assert_eq!(
        titles(&read_index(f.objects(), "public/index/content.json").unwrap()),
        ["new title"]
    );

    // Delivered again: nothing changes, nothing is written.
    let puts = f.objects().request_count("PutObject");
    f.handle_stream(event(vec![record("REMOVE", &second, 4)]))
        .await;
    assert_eq!(f.objects().request_count("PutObject"), puts);
}

/// Fails every read of one identity's items, as a broken partition would, and every cut of
/// another's texts, as a throttled or refused write would.
struct Failing(MemoryItemStore);
const POISON: &str = "us-east-1:poison";
const UNCUTTABLE: &str = "us-east-1:uncuttable";
#[async_trait]
impl IndexItems for Failing {
    async fn owner_items_between(
        &self,
        id: &str,
        r: &DateRange,
        l: usize,
    ) -> Result<Vec<MediaItem>, StoreError> {
        if id == POISON {
            return Err(StoreError::new("Query", id, "injected"));
        }
        self.0.owner_items_between(id, r, l).await
    }
    async fn public_items_of_day(
        &self,
        d: &str,
        r: &DateRange,
        l: usize,
    ) -> Result<Vec<MediaItem>, StoreError> {
        self.0.public_items_of_day(d, r, l).await
    }
    async fn public_day_before(&self, d: &str) -> Result<Option<String>, StoreError> {
        self.0.public_day_before(d).await
    }
    async fn mark_public_day(&self, d: &str) -> Result<(), StoreError> {
        self.0.mark_public_day(d).await
    }
    async fn forget_public_day(&self, d: &str) -> Result<bool, StoreError> {
        self.0.forget_public_day(d).await
    }
    async fn items_now(&self, k: &[ItemKey]) -> Result<Vec<MediaItem>, StoreError> {
        self.0.items_now(k).await
    }
}
#[async_trait]
impl TextBounds for Failing {
    async fn cut_text(&self, key: &ItemKey, cuts: &[TextCut]) -> Result<WriteOutcome, StoreError> {
        if key.identity_id == UNCUTTABLE {
            return Err(StoreError::new("UpdateItem", &key.object_key, "injected"));
        }
        self.0.cut_text(key, cuts).await
    }
}

#[tokio::test]
async fn a_poison_record_fails_alone_and_malformed_records_are_skipped() {
    let f = UpdateContentIndex::new(
        MemoryObjectStore::default(),
        Failing(MemoryItemStore::default()),
        limits(100),
    );
    let good = item("us-east-1:good", "private", 1, &date(23, 1));
    let poison = item(POISON, "private", 2, &date(23, 2));
    f.items().0.put(good.clone());
    f.items().0.put(poison.clone());
    let mut malformed = record("INSERT", &good, 3);
    malformed["dynamodb"]["Keys"] = serde_json::json!({"Id": {"N": "101"}});
    let fixture: serde_json::Value = serde_json::from_str(include_str!(
        "../../media-core/tests/fixtures/example-dynamodb-event.json"
    ))
    .unwrap();
    let mut records = vec![
        record("INSERT", &good, 10),
        record("INSERT", &poison, 11),
        malformed,
    ];
    records.extend(fixture["Records"].as_array().unwrap().iter().cloned());
    let response = f.handle_stream(event(records)).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap())
        .collect();
    assert_eq!(failed, ["11"]);
    assert!(f
        .objects()
        .object("private/index/us-east-1:good/content.json")
        .is_some());
}

#[tokio::test]
async fn a_slow_writer_never_overwrites_a_newer_index() {
    let items = Arc::new(MemoryItemStore::default());
    let old = item("us-east-1:r", "public", 1, &date(23, 1));
    items.put(old.clone());
    items.mark_public_day("2026-11-23").await.unwrap();

    // The slow writer has read the table ({old}); before it writes, the table gains a newer
    // picture and a fast writer publishes the index with both.
    let newer = item("us-east-1:r", "public", 2, &date(23, 2));
    let table = items.clone();
    let objects = Arc::new(MemoryObjectStore::default());
    let fast_objects = objects.clone();
    let racing = Shared::hooked(
        objects,
        StepHook::before_put(0, move || {
            table.put(newer);
            let fast = IndexPublisher {
                objects: fast_objects.as_ref(),
                items: table.as_ref(),
                limits: limits(100),
            };
            let published = block_on_elsewhere(fast.regenerate(&IndexTarget::Public, &[]));
            assert!(matches!(published, Ok(Published::Written { .. })));
        }),
    );
    let slow = IndexPublisher {
        objects: &racing,
        items: items.as_ref(),
        limits: limits(100),
    };
    let published = slow.regenerate(&IndexTarget::Public, &[]).await.unwrap();
    // The slow writer's first write was refused; it read the table again and found the
    // published index already current.
    assert_eq!(published, Published::Unchanged { items: 2 });
    let index = read_index(&racing.inner, "public/index/content.json").unwrap();
    assert_eq!(titles(&index), ["picture 2", "picture 1"]);
}

fn public_keys(index: &ContentIndex) -> Vec<String> {
    index.items.iter().map(|e| e.object_key.clone()).collect()
}

#[tokio::test]
async fn the_public_index_stays_full_when_the_secondary_index_lags_behind_deletes() {
    let items = MemoryItemStore::default();
    let objects = MemoryObjectStore::default();
    let all: Vec<MediaItem> = (0..150)
        .map(|n| {
            item(
                "us-east-1:lag",
                "public",
                n,
                &date(20 + (n / 50) as u32, n % 50),
            )
        })
        .collect();
    for i in &all {
        items.put(i.clone());
        items
            .mark_public_day(i.upload_day.as_deref().unwrap())
            .await
            .unwrap();
    }
    let publisher = IndexPublisher {
        objects: &objects,
        items: &items,
        limits: limits(100),
    };
    publisher
        .regenerate(&IndexTarget::Public, &[])
        .await
        .unwrap();

    // The ten newest are deleted; the by-day index (eventually consistent on AWS) still
    // lists them when the stream's batch arrives.
    items.freeze_secondary_index();
    let mut newest: Vec<&MediaItem> = all.iter().collect();
    newest.sort_by(|a, b| b.upload_date.cmp(&a.upload_date));
    let deleted: Vec<ItemKey> = newest[..10].iter().map(|i| i.key()).collect();
    for key in &deleted {
        items.items.lock().unwrap().remove(key);
    }
    let changes: Vec<IndexChange> = newest[..10].iter().map(|i| IndexChange::of(i)).collect();
    publisher
        .regenerate(&IndexTarget::Public, &changes)
        .await
        .unwrap();
    let index = read_index(&objects, "public/index/content.json").unwrap();
    let want: Vec<String> = newest[10..110]
        .iter()
        .map(|i| i.object_key.clone())
        .collect();
    assert_eq!(
        public_keys(&index),
        want,
        "the next ten older pictures fill the index"
    );
}

#[tokio::test]
async fn a_new_upload_stays_in_the_public_index_while_the_secondary_index_lags() {
    let items = MemoryItemStore::default();
    let objects = MemoryObjectStore::default();
    let publisher = IndexPublisher {
        objects: &objects,
        items: &items,
        limits: limits(100),
    };
    items.freeze_secondary_index();
    let first = item("us-east-1:lag", "public", 1, &date(23, 1));
    items.put(first.clone());
    items.mark_public_day("2026-11-23").await.unwrap();
    publisher
        .regenerate(&IndexTarget::Public, &[IndexChange::of(&first)])
        .await
        .unwrap();
    // A second upload's batch: the by-day index has caught up with neither.
    let second = item("us-east-1:lag", "public", 2, &date(23, 2));
    items.put(second.clone());
    publisher
        .regenerate(&IndexTarget::Public, &[IndexChange::of(&second)])
        .await
        .unwrap();
    let index = read_index(&objects, "public/index/content.json").unwrap();
    assert_eq!(public_keys(&index), [second.object_key, first.object_key]);
    // An edit the by-day index has not seen shows too: the table is what the index says.
    items.catch_up_secondary_index();
    items.freeze_secondary_index();
    let mut edited = item("us-east-1:lag", "public", 1, &date(23, 1));
    edited.title = "edited".into();
    items.put(edited.clone());
    publisher
        .regenerate(&IndexTarget::Public, &[])
        .await
        .unwrap();
    let index = read_index(&objects, "public/index/content.json").unwrap();
    assert_eq!(titles(&index), ["picture 2", "edited"]);
}

#[tokio::test]
async fn markers_of_days_left_without_public_items_are_forgotten_after_the_grace_period() {
    let items = MemoryItemStore::default();
    let objects = MemoryObjectStore::default();
    let publisher = IndexPublisher {
        objects: &objects,
        items: &items,
        limits: limits(100),
    };
    let kept = item("us-east-1:days", "public", 1, &date(20, 1));
    items.put(kept.clone());
    items.mark_public_day("2026-11-20").await.unwrap();
    items.mark_public_day_at(
        "2026-11-21",
        chrono::Utc::now() - chrono::Duration::hours(2),
    );
    // Marked just now: its upload may not be in the by-day index yet.
    items.mark_public_day("2026-11-22").await.unwrap();
    publisher
        .regenerate(&IndexTarget::Public, &[])
        .await
        .unwrap();
    let days: Vec<String> = items.public_days.lock().unwrap().keys().cloned().collect();
    assert_eq!(days, ["2026-11-20", "2026-11-22"]);
    assert_eq!(
        titles(&read_index(&objects, "public/index/content.json").unwrap()),
        ["picture 1"]
    );
}

/// The counters of the "index written" log line are what the stores saw: the load test and the
/// cost model (`bench/cost.py`) read them from the log.
#[tokio::test]
async fn a_metered_regeneration_counts_what_the_stores_saw() {
    use std::sync::atomic::Ordering;
    use update_content_index::{Meter, MeteredItems, MeteredObjects};
    let (objects, items) = (MemoryObjectStore::default(), MemoryItemStore::default());
    for n in 0..3 {
        items.put(item("owner", "private", n, &date(20, n)));
    }
    let changed = item("owner", "private", 2, &date(20, 2));
    for round in 0..2 {
        let (bytes_read, bytes_written, listed, found) = (
            objects.bytes_read.load(Ordering::SeqCst),
            objects.bytes_written.load(Ordering::SeqCst),
            items.index_keys_read.load(Ordering::SeqCst),
            items.items_read.load(Ordering::SeqCst),
        );
        let (puts, gets) = (
            objects.request_count("PutObject"),
            objects.request_count("GetObject"),
        );
        let meter = Meter::default();
        let publisher = IndexPublisher {
            objects: &MeteredObjects {
                inner: &objects,
                meter: &meter,
            },
            items: &MeteredItems {
                inner: &items,
                meter: &meter,
            },
            limits: limits(100),
        };
        publisher
            .regenerate(
                &IndexTarget::Private("owner".into()),
                &[IndexChange::of(&changed)],
            )
            .await
            .unwrap();
        let counted = meter.read();
        assert_eq!(
            counted.index_bytes_read as usize,
            objects.bytes_read.load(Ordering::SeqCst) - bytes_read,
            "round {round}"
        );
        assert_eq!(
            counted.index_bytes_written as usize,
            objects.bytes_written.load(Ordering::SeqCst) - bytes_written,
            "round {round}"
        );
        assert_eq!(
            counted.objects_written as usize,
            objects.request_count("PutObject") - puts,
            "round {round}"
        );
        assert_eq!(
            counted.objects_read as usize,
            objects.request_count("GetObject") - gets,
            "round {round}"
        );
        assert_eq!(
            counted.keys_listed as usize,
            items.index_keys_read.load(Ordering::SeqCst) - listed,
            "round {round}"
        );
        // Keys asked for consistently; the store counts the ones it found.
        assert!(
            counted.items_read as usize >= items.items_read.load(Ordering::SeqCst) - found
                && counted.items_read >= 3,
            "round {round}"
        );
        if round == 0 {
            assert!(
                counted.index_bytes_written > 0 && counted.objects_written >= 1,
                "the first regeneration writes the index"
            );
        } else {
            assert_eq!(
                (counted.index_bytes_written, counted.objects_written),
                (0, 0),
                "an unchanged index is not written again"
            );
            assert!(counted.index_bytes_read > 0, "but it is read");
        }
    }
}

/// A MODIFY record as the stream (NEW_AND_OLD_IMAGES) delivers it: both images.
fn modify(old: &MediaItem, new: &MediaItem, sequence_number: u64) -> serde_json::Value {
    let mut modified = record("MODIFY", new, sequence_number);
    let old_image: serde_dynamo::Item = serde_dynamo::to_item(old).unwrap();
    modified["dynamodb"]["OldImage"] = serde_json::to_value(old_image).unwrap();
    modified
}

/// A 400 KB title and a 3,000-character description, as an owner can write them with
/// UpdateItem (IAM cannot bound a value's size).
fn oversized(it: &MediaItem) -> MediaItem {
    MediaItem {
        title: "T".repeat(400_000),
        description: "é".repeat(3_000),
        ..it.clone()
    }
}

/// Item reads that remember the longest title any of them returned: what a regeneration read.
struct Watching {
    inner: Arc<MemoryItemStore>,
    longest_title_read: std::sync::atomic::AtomicUsize,
}

impl Watching {
    fn new(inner: Arc<MemoryItemStore>) -> Self {
        Watching {
            inner,
            longest_title_read: Default::default(),
        }
    }

    fn saw(&self, items: &[MediaItem]) {
        let longest = items
            .iter()
            .map(|i| i.title.chars().count())
            .max()
            .unwrap_or(0);
        self.longest_title_read
            .fetch_max(longest, std::sync::atomic::Ordering::SeqCst);
    }

    fn longest_title_read(&self) -> usize {
        self.longest_title_read
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait]
impl IndexItems for Watching {
    async fn owner_items_between(
        &self,
        id: &str,
        r: &DateRange,
        l: usize,
    ) -> Result<Vec<MediaItem>, StoreError> {
        self.inner.owner_items_between(id, r, l).await
    }
    async fn public_items_of_day(
        &self,
        d: &str,
        r: &DateRange,
        l: usize,
    ) -> Result<Vec<MediaItem>, StoreError> {
        let items = self.inner.public_items_of_day(d, r, l).await?;
        self.saw(&items);
        Ok(items)
    }
    async fn public_day_before(&self, d: &str) -> Result<Option<String>, StoreError> {
        self.inner.public_day_before(d).await
    }
    async fn mark_public_day(&self, d: &str) -> Result<(), StoreError> {
        self.inner.mark_public_day(d).await
    }
    async fn forget_public_day(&self, d: &str) -> Result<bool, StoreError> {
        self.inner.forget_public_day(d).await
    }
    async fn items_now(&self, k: &[ItemKey]) -> Result<Vec<MediaItem>, StoreError> {
        let items = self.inner.items_now(k).await?;
        self.saw(&items);
        Ok(items)
    }
}

#[async_trait]
impl TextBounds for Watching {
    async fn cut_text(&self, key: &ItemKey, cuts: &[TextCut]) -> Result<WriteOutcome, StoreError> {
        self.inner.cut_text(key, cuts).await
    }
}

fn cuts_asked(items: &MemoryItemStore) -> usize {
    items
        .text_cuts_asked
        .load(std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test]
async fn an_owners_oversized_edit_is_cut_in_the_table_before_any_index_reads_it() {
    let table = Arc::new(MemoryItemStore::default());
    let f = UpdateContentIndex::new(
        MemoryObjectStore::default(),
        Watching::new(table.clone()),
        limits(100),
    );
    let picture = item("us-east-1:owner", "public", 1, &date(23, 1));
    table.put(picture.clone());
    f.handle_stream(event(vec![record("INSERT", &picture, 1)]))
        .await;

    let edited = oversized(&picture);
    table.put(edited.clone());
    let response = f
        .handle_stream(event(vec![modify(&picture, &edited, 2)]))
        .await;
    assert!(response.batch_item_failures.is_empty());

    let stored = table.item(&picture.key()).unwrap();
    assert_eq!(
        stored.title,
        "T".repeat(200),
        "the title is cut where it is stored"
    );
    assert_eq!(stored.description, "é".repeat(2_000), "the description too");
    assert_eq!(
        f.items().longest_title_read(),
        200,
        "no regeneration read the oversized title"
    );
    for key in [
        "public/index/content.json",
        "private/index/us-east-1:owner/content.json",
    ] {
        let index = read_index(f.objects(), key).unwrap();
        let shown = (
            index.items[0].title.as_str(),
            index.items[0].description.chars().count(),
        );
        assert_eq!(shown, ("T".repeat(200).as_str(), 2_000), "{key}");
    }

    // The cut's own record shows the values within bounds: nothing is cut and, the indexes
    // being current, nothing is written. The chain ends here.
    let (asked, puts) = (cuts_asked(&table), f.objects().request_count("PutObject"));
    let response = f
        .handle_stream(event(vec![modify(&edited, &stored, 3)]))
        .await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        cuts_asked(&table),
        asked,
        "the cut's record asks for no cut"
    );
    assert_eq!(
        f.objects().request_count("PutObject"),
        puts,
        "and writes no index"
    );

    // The owner's record delivered again: its condition no longer holds; nothing changes.
    let response = f
        .handle_stream(event(vec![modify(&picture, &edited, 2)]))
        .await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(cuts_asked(&table), asked + 1);
    assert_eq!(table.item(&picture.key()).unwrap(), stored);
    assert_eq!(f.objects().request_count("PutObject"), puts);
}

#[tokio::test]
async fn a_newer_edit_racing_the_cut_is_never_overwritten_and_is_cut_in_its_turn() {
    let table = Arc::new(MemoryItemStore::default());
    let picture = item("us-east-1:racer", "private", 1, &date(23, 1));
    let first = oversized(&picture);
    table.put(first.clone());
    // Between the stream's record of the first edit and its cut, the owner edits again.
    let newer = MediaItem {
        title: "N".repeat(300),
        description: "short".into(),
        ..picture.clone()
    };
    let (racing_table, racing_edit) = (table.clone(), newer.clone());
    let hook = StepHook::before_step(0, move || racing_table.put(racing_edit));
    let f = UpdateContentIndex::new(
        MemoryObjectStore::default(),
        Shared::hooked(table.clone(), hook.clone()),
        limits(100),
    );

    let response = f
        .handle_stream(event(vec![modify(&picture, &first, 1)]))
        .await;
    assert!(response.batch_item_failures.is_empty());
    assert!(hook.fired(), "the newer edit landed just before the cut");
    assert_eq!(
        table.item(&picture.key()).unwrap(),
        newer,
        "the cut of the older edit did not overwrite the newer one"
    );
    let private_index = "private/index/us-east-1:racer/content.json";
    assert_eq!(
        titles(&read_index(f.objects(), private_index).unwrap()),
        ["N".repeat(200)]
    );

    // The newer edit's own record cuts it.
    f.handle_stream(event(vec![modify(&first, &newer, 2)]))
        .await;
    let stored = table.item(&picture.key()).unwrap();
    assert_eq!(
        (stored.title, stored.description),
        ("N".repeat(200), "short".to_owned())
    );
}

#[tokio::test]
async fn a_cut_that_cannot_be_written_is_retried_before_its_index_is_regenerated() {
    let f = UpdateContentIndex::new(
        MemoryObjectStore::default(),
        Failing(MemoryItemStore::default()),
        limits(100),
    );
    let stuck = oversized(&item(UNCUTTABLE, "private", 1, &date(23, 1)));
    let good = item("us-east-1:good", "private", 2, &date(23, 2));
    f.items().0.put(stuck.clone());
    f.items().0.put(good.clone());
    let response = f
        .handle_stream(event(vec![
            record("MODIFY", &stuck, 10),
            record("INSERT", &good, 11),
        ]))
        .await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap())
        .collect();
    assert_eq!(failed, ["10"]);
    assert!(
        f.objects()
            .object(&format!("private/index/{UNCUTTABLE}/content.json"))
            .is_none(),
        "not regenerated before its cut"
    );
    assert!(f
        .objects()
        .object("private/index/us-east-1:good/content.json")
        .is_some());
}

#[test]
fn only_live_items_over_the_bounds_are_cut() {
    use update_content_index::oversized_text;
    let parse =
        |value: serde_json::Value| -> media_core::aws_lambda_events::event::dynamodb::EventRecord {
            serde_json::from_value(value).unwrap()
        };
    let picture = item("us-east-1:o", "private", 1, &date(23, 1));
    assert_eq!(
        oversized_text(&parse(record("MODIFY", &picture, 1))),
        None,
        "within bounds"
    );

    let long_description = MediaItem {
        description: "d".repeat(2_001),
        ..picture.clone()
    };
    let found = oversized_text(&parse(record("MODIFY", &long_description, 2))).unwrap();
    assert_eq!(
        (found.sequence_number.as_str(), &found.key),
        ("2", &picture.key())
    );
    assert_eq!(
        found.cuts,
        [TextField::Description
            .cut(&long_description.description)
            .unwrap()]
    );

    let edited = oversized(&picture);
    assert_eq!(
        oversized_text(&parse(record("MODIFY", &edited, 3)))
            .unwrap()
            .cuts
            .len(),
        2
    );
    assert_eq!(
        oversized_text(&parse(record("REMOVE", &edited, 4))),
        None,
        "a removal has no new image"
    );
    let tombstone = MediaItem {
        deleted: Some(true),
        ..edited.clone()
    };
    assert_eq!(
        oversized_text(&parse(record("MODIFY", &tombstone, 5))),
        None,
        "a tombstone is no picture"
    );
    let bookkeeping = MediaItem {
        identity_id: "#public-days".into(),
        ..edited
    };
    assert_eq!(
        oversized_text(&parse(record("MODIFY", &bookkeeping, 6))),
        None
    );
}

/// What one regeneration reads from the table with one 400 KB title in the head, before and
/// after the cut (read units by DynamoDB's rules, `update-content-index/src/metered.rs`): the
/// figures docs/decisions/owner-texts.md quotes. Run with `--nocapture` to print them.
#[tokio::test]
async fn one_oversized_title_in_the_head_costs_its_size_in_read_units_until_it_is_cut() {
    use update_content_index::{Meter, MeteredItems};
    let owner = "us-east-1:measured";
    let f = function(100);
    let all: Vec<MediaItem> = (0..100)
        .map(|n| item(owner, "public", n, &date(23, n)))
        .collect();
    for it in &all {
        f.items().put(it.clone());
    }
    f.items().mark_public_day("2026-11-23").await.unwrap();
    async fn regenerate_metered(
        f: &UpdateContentIndex<MemoryObjectStore, MemoryItemStore>,
        target: &IndexTarget,
    ) -> f64 {
        let meter = Meter::default();
        let items = MeteredItems {
            inner: f.items(),
            meter: &meter,
        };
        let publisher = IndexPublisher {
            objects: f.objects(),
            items: &items,
            limits: limits(100),
        };
        publisher.regenerate(target, &[]).await.unwrap();
        meter.read().read_units
    }
    let targets = [IndexTarget::Public, IndexTarget::Private(owner.into())];
    let mut within = Vec::new();
    for target in &targets {
        within.push(regenerate_metered(&f, target).await);
    }

    let edited = oversized(&all[50]);
    f.items().put(edited.clone());
    let mut before = Vec::new();
    for target in &targets {
        before.push(regenerate_metered(&f, target).await);
    }
    f.handle_stream(event(vec![modify(&all[50], &edited, 1)]))
        .await;
    let mut after = Vec::new();
    for target in &targets {
        after.push(regenerate_metered(&f, target).await);
    }
    for (n, target) in targets.iter().enumerate() {
        println!(
            "{target:?}: read units per regeneration, 100 items in the head: {} with a 400 KB title, {} after its cut, \
             {} before the edit",
            before[n], after[n], within[n]
        );
        // A strongly consistent read of a 400 KB item is 98 units (400,000 bytes / 4 KB).
        assert!(
            before[n] >= within[n] + 97.0,
            "{target:?}: {} vs {}",
            before[n],
            within[n]
        );
        assert!(
            after[n] <= within[n] + 1.0,
            "{target:?}: after the cut, as before the edit: {} vs {}",
            after[n],
            within[n]
        );
    }
}

#[tokio::test]
async fn an_item_without_a_thumbnail_is_listed_to_its_owner_but_never_to_visitors() {
    let f = function(100);
    let owner = "us-east-1:undecodable";
    let picture = item(owner, "public", 1, &date(23, 1));
    // An upload content-updated could not decode: an item, no thumbnail
    // (docs/decisions/undecodable-uploads.md).
    let undecodable = item(owner, "public", 2, &date(23, 2));
    let broken = MediaItem {
        thumbnail_key: None,
        preview_key: None,
        width: None,
        height: None,
        ..undecodable
    };
    f.items().put(picture.clone());
    f.items().put(broken.clone());
    let response = f
        .handle_stream(event(vec![
            record("INSERT", &picture, 1),
            record("INSERT", &broken, 2),
        ]))
        .await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        titles(&read_index(f.objects(), "public/index/content.json").unwrap()),
        ["picture 1"]
    );
    assert_eq!(
        titles(&read_index(f.objects(), &format!("private/index/{owner}/content.json")).unwrap()),
        ["picture 2", "picture 1"]
    );

    // A good picture replaced by an undecodable one leaves the public index.
    let replaced = MediaItem {
        thumbnail_key: None,
        preview_key: None,
        ..picture.clone()
    };
    f.items().put(replaced.clone());
    f.handle_stream(event(vec![modify(&picture, &replaced, 3)]))
        .await;
    assert!(read_index(f.objects(), "public/index/content.json")
        .unwrap()
        .items
        .is_empty());
    assert_eq!(
        read_index(f.objects(), &format!("private/index/{owner}/content.json"))
            .unwrap()
            .items
            .len(),
        2
    );
}

#[test]
fn a_payload_that_is_not_a_stream_batch_is_refused_with_a_pointer_to_repair() {
    use update_content_index::{stream_batch, NotAStreamBatch};
    for payload in [
        serde_json::json!({}),
        serde_json::json!(null),
        serde_json::json!({"records": []}),
        serde_json::json!({"Records": {}}),
    ] {
        let refused = stream_batch(payload.clone()).unwrap_err();
        assert!(
            matches!(refused, NotAStreamBatch::NoRecords),
            "{payload}: {refused:?}"
        );
        assert!(refused.to_string().contains("invoke repair"), "{refused}");
    }
    let malformed = stream_batch(serde_json::json!({"Records": [{"eventName": 7}]})).unwrap_err();
    assert!(
        matches!(malformed, NotAStreamBatch::Malformed(_)),
        "{malformed:?}"
    );
    let batch = stream_batch(serde_json::json!({"Records": []})).unwrap();
    assert!(batch.records.is_empty());
}
