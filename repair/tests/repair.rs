//! The repair pass against in-memory stores with AWS's semantics; the events it sends are
//! handed to content-updated's real handler, as its queue would.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use content_updated::ContentUpdated;
use media_core::aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use media_core::item::{ItemKey, MediaItem, Sequencer};
use media_core::ports::StoreError;
use media_core::testing::interleaving::Shared;
use media_core::testing::memory::{MemoryItemStore, MemoryObjectStore};
use media_imaging::testing::jpeg;
use media_imaging::ImageLimits;
use repair::{ChangeQueue, Problem, Repair, RepairRequest, Step, Target};

const ID: &str = "us-east-1:0b5c0000-0000-4000-8000-00000000000a";

/// The two queues: what was sent to each.
#[derive(Clone, Default)]
struct Queues(Arc<Mutex<Vec<(Target, String)>>>);

#[async_trait]
impl ChangeQueue for Queues {
    async fn send(&self, target: Target, bodies: &[String]) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap()
            .extend(bodies.iter().map(|b| (target, b.clone())));
        Ok(())
    }
}

struct World {
    objects: Arc<MemoryObjectStore>,
    items: Arc<MemoryItemStore>,
    queues: Queues,
    repair: Repair<Shared<MemoryObjectStore>, Shared<MemoryItemStore>, Queues>,
}

impl World {
    fn new() -> World {
        let (objects, items, queues) = (
            Arc::new(MemoryObjectStore::default()),
            Arc::new(MemoryItemStore::default()),
            Queues::default(),
        );
        let repair = Repair::new(
            Shared::new(objects.clone()),
            Shared::new(items.clone()),
            queues.clone(),
            media_index::IndexLimits::default(),
        );
        World {
            objects,
            items,
            queues,
            repair,
        }
    }

    async fn run(&self, dry_run: bool) -> repair::Summary {
        let request = RepairRequest {
            dry_run,
            continuation: None,
        };
        self.repair
            .run(&request, Instant::now() + Duration::from_secs(60))
            .await
            .unwrap()
    }

    /// Delivers what the pass sent to content-updated, through its real handler.
    async fn deliver_to_content_updated(&self) -> usize {
        let sent: Vec<String> = self
            .queues
            .0
            .lock()
            .unwrap()
            .drain(..)
            .filter(|(t, _)| *t == Target::ContentUpdated)
            .map(|(_, b)| b)
            .collect();
        let handler = ContentUpdated::new(
            Shared::new(self.objects.clone()),
            Shared::new(self.items.clone()),
            ImageLimits::default(),
        );
        let mut event = SqsEvent::default();
        for (n, body) in sent.iter().enumerate() {
            let mut message = SqsMessage::default();
            message.message_id = Some(format!("m{n}"));
            message.body = Some(body.clone());
            event.records.push(message);
        }
        let response = handler.handle_sqs(event).await;
        assert!(
            response.batch_item_failures.is_empty(),
            "{:?}",
            response.batch_item_failures
        );
        sent.len()
    }
}

fn item_key(key: &str) -> ItemKey {
    ItemKey {
        identity_id: ID.into(),
        object_key: key.into(),
    }
}

#[tokio::test]
async fn uploads_whose_events_were_lost_are_sent_again_and_repaired_by_the_handler() {
    let w = World::new();
    let keys: Vec<String> = (0..3)
        .map(|n| format!("public/content/{ID}/lost {n}.jpg"))
        .collect();
    for key in &keys {
        w.objects.insert(key, jpeg(120, 90), &[]);
    }
    let summary = w.run(false).await;
    assert!(summary.done);
    assert_eq!(summary.objects_checked, 3);
    // content-updated and face-detection each get the lost create.
    assert_eq!(summary.events_sent, 6, "{summary:?}");
    assert_eq!(w.deliver_to_content_updated().await, 3);
    for key in &keys {
        let item = w.items.item(&item_key(key)).expect("an item");
        assert!(
            item.thumbnail_key.is_some() && item.upload_date.is_some(),
            "{item:?}"
        );
        assert!(w
            .objects
            .object(&key.replace("/content/", "/thumbnails/"))
            .is_some());
        assert!(w
            .objects
            .object(&key.replace("/content/", "/previews/"))
            .is_some());
    }
    // What the events would have produced is there now: the next pass finds nothing for
    // content-updated (face detection still has to run for these three).
    w.queues.0.lock().unwrap().clear();
    let again = w.run(false).await;
    assert!(
        again.actions.iter().all(|a| a.to == Target::FaceDetection),
        "{:?}",
        again.actions
    );
    assert_eq!(again.actions_total, 3);
    // The private index was rebuilt from the table.
    assert!(w
        .objects
        .object(&format!("private/index/{ID}/content.json"))
        .is_some());
}

#[tokio::test]
async fn a_lost_delete_leaves_nothing_behind() {
    let w = World::new();
    let key = format!("private/content/{ID}/gone.jpg");
    w.objects.insert(&key, jpeg(64, 64), &[]);
    let handler = ContentUpdated::new(
        Shared::new(w.objects.clone()),
        Shared::new(w.items.clone()),
        ImageLimits::default(),
    );
    handler
        .handle(&media_core::testing::s3_change(
            "ObjectCreated:Put",
            &key,
            "0A",
        ))
        .await
        .unwrap();
    w.objects.insert(
        &format!("private/faces/{ID}/gone.jpg"),
        vec![1, 2, 3],
        &[("sequencer", Sequencer::new("0A").as_str())],
    );
    // Deleted; the delete event never arrived.
    w.objects.objects.lock().unwrap().remove(&key);

    let summary = w.run(false).await;
    assert!(
        summary
            .actions
            .iter()
            .any(|a| a.problem == Problem::ItemOfDeletedUpload),
        "{:?}",
        summary.actions
    );
    w.deliver_to_content_updated().await;
    assert!(w.items.item(&item_key(&key)).unwrap().is_tombstone());
    assert!(
        w.objects.keys().iter().all(|k| k.contains("/index/")),
        "left: {:?}",
        w.objects.keys()
    );
    w.queues.0.lock().unwrap().clear();
    assert_eq!(w.run(false).await.actions_total, 0);
}

/// Repair makes items from objects only through content-updated's handler, so its dating
/// rule holds: the object's time (the repair event's), or a moved picture's old item's date;
/// never the metadata's.
#[tokio::test]
async fn lost_creates_are_dated_by_the_handlers_rule_never_by_their_metadata() {
    let w = World::new();
    let claimed = format!("public/content/{ID}/claimed.jpg");
    let claim = r#"{"title":"t","uploadDate":"2001-01-01T00:00:00.000Z"}"#;
    w.objects.insert(&claimed, jpeg(64, 48), &[("data", claim)]);
    // Made public while the events were lost: the private item is live, its original gone.
    let (old, moved) = (
        format!("private/content/{ID}/moved.jpg"),
        format!("public/content/{ID}/moved.jpg"),
    );
    let first = "2026-01-02T03:04:05.678Z";
    let mut old_item = media_core::testing::indexed_item(ID, "private", "moved", first);
    old_item.sequencer = Some(Sequencer::new("01"));
    w.items.put(old_item);
    let metadata =
        serde_json::json!({"isPublic": true, "title": "Moved", "movedFrom": old}).to_string();
    w.objects
        .insert(&moved, jpeg(64, 48), &[("data", &metadata)]);

    let summary = w.run(false).await;
    let lost_delete =
        |a: &repair::Action| a.key == old && a.problem == Problem::ItemOfDeletedUpload;
    assert!(
        summary.actions.iter().any(lost_delete),
        "{:?}",
        summary.actions
    );
    w.deliver_to_content_updated().await;
    let written =
        media_core::item::format_upload_date(w.objects.object(&claimed).unwrap().last_modified);
    assert_eq!(
        w.items.item(&item_key(&claimed)).unwrap().upload_date,
        Some(written)
    );
    assert_eq!(
        w.items
            .item(&item_key(&moved))
            .unwrap()
            .upload_date
            .as_deref(),
        Some(first)
    );
    let tombstone = w.items.item(&item_key(&old)).unwrap();
    assert!(tombstone.is_tombstone());
    assert_eq!(tombstone.deleted_upload_date.as_deref(), Some(first));
}

#[tokio::test]
async fn the_item_of_a_refused_upload_is_left_to_tell_its_owner_why() {
    let w = World::new();
    let key = format!("private/content/{ID}/too big.jpg");
    w.objects.insert(&key, jpeg(300, 300), &[]);
    let limits = ImageLimits {
        max_bytes: 100,
        ..ImageLimits::default()
    };
    let handler = ContentUpdated::new(
        Shared::new(w.objects.clone()),
        Shared::new(w.items.clone()),
        limits,
    );
    let mut created = media_core::testing::s3_change("ObjectCreated:Put", &key, "0A");
    created.etag = w.objects.object(&key).map(|o| o.etag);
    let outcome = handler.handle(&created).await.unwrap();
    assert_eq!(
        outcome,
        content_updated::Outcome::Refused(media_core::item::Refusal::TooLarge)
    );

    let summary = w.run(false).await;
    assert!(summary.actions.is_empty(), "{:?}", summary.actions);
    assert_eq!(
        w.items.item(&item_key(&key)).unwrap().refused,
        Some(media_core::item::Refusal::TooLarge)
    );
}

#[tokio::test]
async fn orphan_derived_objects_are_removed() {
    let w = World::new();
    let thumbnail = format!("public/thumbnails/{ID}/orphan.jpg");
    let preview = format!("private/previews/{ID}/orphan too.jpg");
    w.objects.insert(
        &thumbnail,
        vec![9],
        &[("sequencer", Sequencer::new("0F").as_str())],
    );
    w.objects.insert(
        &preview,
        vec![8],
        &[("sequencer", Sequencer::new("0E").as_str())],
    );
    let summary = w.run(false).await;
    assert_eq!(summary.derived_checked, 2);
    assert!(
        summary
            .actions
            .iter()
            .all(|a| a.problem == Problem::DerivedObjectOfDeletedUpload),
        "{:?}",
        summary.actions
    );
    assert_eq!(summary.actions.len(), 2);
    w.deliver_to_content_updated().await;
    assert!(w.objects.object(&thumbnail).is_none());
    assert!(w.objects.object(&preview).is_none());
}

#[tokio::test]
async fn a_missing_preview_is_made_again_as_for_items_from_before_previews() {
    let w = World::new();
    let key = format!("public/content/{ID}/older.jpg");
    w.objects.insert(&key, jpeg(2000, 1000), &[]);
    let handler = ContentUpdated::new(
        Shared::new(w.objects.clone()),
        Shared::new(w.items.clone()),
        ImageLimits::default(),
    );
    handler
        .handle(&media_core::testing::s3_change(
            "ObjectCreated:Put",
            &key,
            "0A",
        ))
        .await
        .unwrap();
    w.objects.insert(
        &format!("public/faces/{ID}/older.jpg"),
        vec![1],
        &[("sequencer", Sequencer::new("0A").as_str())],
    );
    // Faces done, as face-detection would leave it.
    let mut item = w.items.item(&item_key(&key)).unwrap();
    item.faces_sequencer = Some(Sequencer::new("0A"));
    item.faces_key = Some(format!("public/faces/{ID}/older.jpg"));
    // An item made before previews: no preview, no previewKey.
    item.preview_key = None;
    w.items.put(item);
    let preview = format!("public/previews/{ID}/older.jpg");
    w.objects.objects.lock().unwrap().remove(&preview);

    let summary = w.run(false).await;
    let problems: Vec<_> = summary.actions.iter().map(|a| (a.problem, a.to)).collect();
    assert_eq!(
        problems,
        [(Problem::MissingPreview, Target::ContentUpdated)]
    );
    w.deliver_to_content_updated().await;
    let decoded = image::load_from_memory(
        &w.objects
            .object(&preview)
            .expect("the preview made again")
            .body,
    )
    .unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1600, 800));
    assert_eq!(
        w.items.item(&item_key(&key)).unwrap().preview_key,
        Some(preview)
    );
    w.queues.0.lock().unwrap().clear();
    assert_eq!(w.run(false).await.actions_total, 0);
}

#[tokio::test]
async fn a_dry_run_reports_and_changes_nothing() {
    let w = World::new();
    let key = format!("public/content/{ID}/lost.jpg");
    w.objects.insert(&key, jpeg(50, 50), &[]);
    w.items.put(MediaItem {
        identity_id: ID.into(),
        object_key: format!("public/content/{ID}/deleted.jpg"),
        upload_date: Some("2026-11-01T00:00:00.000Z".into()),
        ..Default::default()
    });
    let before = w.objects.keys();
    let summary = w.run(true).await;
    assert!(summary.dry_run && summary.done);
    assert_eq!(summary.actions_total, 3, "{:?}", summary.actions);
    assert_eq!(summary.events_sent, 0);
    assert!(w.queues.0.lock().unwrap().is_empty());
    assert_eq!(w.objects.keys(), before, "no index written");
}

#[tokio::test]
async fn a_pass_at_its_deadline_hands_over_and_the_continuation_finishes_it() {
    let w = World::new();
    for n in 0..120 {
        w.items.put(MediaItem {
            identity_id: format!("{ID}{n:03}"),
            object_key: format!("private/content/{ID}{n:03}/x.jpg"),
            ..Default::default()
        });
    }
    let stopped = w
        .repair
        .run(&RepairRequest::default(), Instant::now())
        .await
        .unwrap();
    assert!(!stopped.done);
    let continuation = stopped.continuation.expect("a continuation");
    // Resumed at the table step: the 120 items over three pages.
    let request = RepairRequest {
        dry_run: true,
        continuation: Some(repair::Continuation {
            step: Step::Table,
            ..continuation
        }),
    };
    let finished = w
        .repair
        .run(&request, Instant::now() + Duration::from_secs(60))
        .await
        .unwrap();
    assert!(finished.done);
    assert_eq!(finished.items_checked, 120);
    assert_eq!(
        finished.objects_checked, 0,
        "the content steps were not walked again"
    );
    let json = serde_json::to_value(&finished).unwrap();
    assert_eq!(json["actionsTotal"], 120);
}

#[test]
fn a_payload_that_is_not_a_repair_request_is_refused_never_run_as_a_whole_pass() {
    use serde_json::json;
    assert_eq!(
        RepairRequest::from_payload(json!({})).unwrap(),
        RepairRequest::default()
    );
    assert_eq!(
        RepairRequest::from_payload(serde_json::Value::Null).unwrap(),
        RepairRequest::default()
    );
    assert!(
        RepairRequest::from_payload(json!({"dryRun": true}))
            .unwrap()
            .dry_run
    );
    let resumed = RepairRequest::from_payload(json!({"continuation": {"step": "table"}})).unwrap();
    assert_eq!(resumed.continuation.unwrap().step, Step::Table);
    // A misspelt field, a continuation with one or with a step that is not one by name, and
    // EventBridge's own scheduled event.
    for payload in [
        json!({"dry_run": true}),
        json!({"continuation": {"step": "table", "listToken": null, "after": null, "stepp": 3}}),
        json!({"continuation": {"step": 2}}),
        json!({"continuation": {"step": "nextStep"}}),
        json!({"version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}),
        json!([]),
    ] {
        let refused = RepairRequest::from_payload(payload.clone()).expect_err(&payload.to_string());
        assert!(
            refused.to_string().starts_with("not a repair request"),
            "{refused}"
        );
    }
}
