//! The handler against in-memory stores, driven by S3 event JSON as S3 sends it.

use content_updated::bounds::UploadBounds;
use content_updated::{ContentUpdated, NoThumbnail, Outcome, Skip};
use media_core::aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use media_core::events::ContentChange;
use media_imaging::ImageLimits;
use media_imaging::{ImageProblem, Unusable};
use std::sync::Arc;

use media_core::derived::stored_sequencer;
use media_core::item::{FaceAttributes, FaceBox, ItemKey, MediaItem, Refusal, Sequencer};
use media_core::metadata::encode_upload_metadata;
use media_core::ports::WriteOutcome;
use media_core::ports::{FaceItems, ObjectStore as _};
use media_core::testing::interleaving::{block_on_elsewhere, Shared, StepHook};
use media_core::testing::memory::{MemoryItemStore, MemoryObjectStore};
use media_core::testing::{indexed_item, s3_event_body};
use media_imaging::testing::jpeg;

const ID: &str = "us-east-1:0b5c0000-0000-4000-8000-000000000001";

fn function() -> ContentUpdated<MemoryObjectStore, MemoryItemStore> {
    ContentUpdated::new(
        MemoryObjectStore::default(),
        MemoryItemStore::default(),
        ImageLimits::default(),
    )
}

fn change(name: &str, key: &str, sequencer: &str) -> ContentChange {
    media_core::testing::s3_change(name, key, sequencer)
}

fn item_key(key: &str) -> ItemKey {
    ItemKey {
        identity_id: ID.into(),
        object_key: key.into(),
    }
}

#[tokio::test]
async fn created_writes_a_thumbnail_a_preview_and_every_item_attribute() {
    let f = function();
    let key = format!("public/content/{ID}/my photo+1 é.jpg");
    let meta = encode_upload_metadata(true, "Été", "at the sea");
    f.objects().insert(&key, jpeg(800, 600), &[("data", &meta)]);

    let outcome = f
        .handle(&change("ObjectCreated:Put", &key, "0055AED6DCD90281E5"))
        .await
        .unwrap();
    let thumbnail_key = format!("public/thumbnails/{ID}/my photo+1 é.jpg");
    let preview_key = format!("public/previews/{ID}/my photo+1 é.jpg");
    assert_eq!(
        outcome,
        Outcome::Thumbnailed {
            thumbnail_key: thumbnail_key.clone(),
            preview_key: preview_key.clone(),
            width: 200,
            height: 150
        }
    );
    // Smaller than the preview's box: kept at its size, never upscaled.
    let preview = f.objects().object(&preview_key).unwrap();
    assert_eq!(preview.content_type, "image/jpeg");
    let decoded = image::load_from_memory(&preview.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (800, 600));

    let thumbnail = f.objects().object(&thumbnail_key).unwrap();
    assert_eq!(thumbnail.content_type, "image/jpeg");
    let decoded = image::load_from_memory(&thumbnail.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (200, 150));

    let item = f.items().item(&item_key(&key)).unwrap();
    assert_eq!(item.thumbnail_key.as_deref(), Some(thumbnail_key.as_str()));
    assert_eq!(item.preview_key.as_deref(), Some(preview_key.as_str()));
    assert!(!item.animated);
    assert!(item.is_public);
    assert_eq!(item.title, "Été");
    assert_eq!(item.description, "at the sea");
    assert_eq!(
        item.upload_date.as_deref(),
        Some("2026-11-23T14:05:09.123Z")
    );
    assert_eq!(item.upload_day.as_deref(), Some("2026-11-23"));
    assert_eq!(item.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(
        item.size,
        Some(f.objects().object(&key).unwrap().body.len() as u64)
    );
    assert_eq!((item.width, item.height), (Some(800), Some(600)));
    assert_eq!(item.sequencer, Some(Sequencer::new("0055AED6DCD90281E5")));
    assert_eq!(
        stored_sequencer(&f.objects().head(&thumbnail_key).await.unwrap().unwrap()),
        item.sequencer
    );
    assert_eq!(
        stored_sequencer(&f.objects().head(&preview_key).await.unwrap().unwrap()),
        item.sequencer
    );
}

#[tokio::test]
async fn the_item_says_when_and_with_what_camera_the_picture_was_taken() {
    use media_imaging::testing::location::{exif_block, ExifCarrier};
    let f = function();
    let key = format!("public/content/{ID}/holiday.jpg");
    let exif = exif_block(
        &[(0x010F, "Apple"), (0x0110, "iPhone 15 Pro")],
        &[(0x9003, "2024:07:14 18:03:22"), (0x9011, "+02:00")],
    );
    f.objects()
        .insert(&key, ExifCarrier::Jpeg.picture_carrying(&exif), &[]);
    f.handle(&change("ObjectCreated:Put", &key, "01"))
        .await
        .unwrap();
    let item = f.items().item(&item_key(&key)).unwrap();
    assert_eq!(item.taken_at.as_deref(), Some("2024-07-14T18:03:22+02:00"));
    assert_eq!(item.camera.as_deref(), Some("Apple iPhone 15 Pro"));

    // A replacement whose Exif claims a time after its upload (the event says
    // 2026-11-23T14:05:09Z) keeps its camera and loses the earlier upload's time.
    let exif = exif_block(&[(0x0110, "Pixel 8")], &[(0x9003, "2099:01:01 00:00:00")]);
    f.objects()
        .insert(&key, ExifCarrier::Jpeg.picture_carrying(&exif), &[]);
    f.handle(&change("ObjectCreated:Put", &key, "02"))
        .await
        .unwrap();
    let item = f.items().item(&item_key(&key)).unwrap();
    assert_eq!(item.taken_at, None);
    assert_eq!(item.camera.as_deref(), Some("Pixel 8"));

    // Nothing of an undecodable replacement's Exif is believed.
    let mut broken = ExifCarrier::Jpeg.picture_carrying(&exif_block(
        &[(0x0110, "Pixel 8")],
        &[(0x9003, "2024:07:14 18:03:22")],
    ));
    broken.truncate(broken.len() / 2);
    f.objects().insert(&key, broken, &[]);
    f.handle(&change("ObjectCreated:Put", &key, "03"))
        .await
        .unwrap();
    let item = f.items().item(&item_key(&key)).unwrap();
    assert_eq!((item.taken_at, item.camera), (None, None));
}

#[tokio::test]
async fn a_large_upload_gets_a_preview_fitting_1600() {
    let f = function();
    let key = format!("private/content/{ID}/large.jpg");
    f.objects().insert(&key, jpeg(3200, 2000), &[]);
    f.handle(&change("ObjectCreated:Put", &key, "01"))
        .await
        .unwrap();
    let preview = f
        .objects()
        .object(&format!("private/previews/{ID}/large.jpg"))
        .unwrap();
    let decoded = image::load_from_memory(&preview.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1600, 1000));
    let item = f.items().item(&item_key(&key)).unwrap();
    assert_eq!((item.width, item.height), (Some(3200), Some(2000)));
}

#[tokio::test]
async fn an_animated_gif_is_marked_animated_and_shows_its_first_frame() {
    let f = function();
    let key = format!("public/content/{ID}/moving.gif");
    f.objects()
        .insert(&key, media_imaging::testing::animated_gif(40, 1000), &[]);
    f.handle(&change("ObjectCreated:Put", &key, "01"))
        .await
        .unwrap();
    let item = f.items().item(&item_key(&key)).unwrap();
    assert!(item.animated, "{item:?}");
    assert_eq!(item.content_type.as_deref(), Some("image/gif"));
    let thumbnail = f
        .objects()
        .object(&format!("public/thumbnails/{ID}/moving.gif"))
        .unwrap();
    let pixel = image::load_from_memory(&thumbnail.body)
        .unwrap()
        .to_rgb8()
        .get_pixel(20, 20)
        .0;
    assert!(
        pixel[0] > 200 && pixel[2] < 60,
        "the first (red) frame: {pixel:?}"
    );
    // Replaced by a still: the attribute goes.
    f.objects()
        .insert(&key, media_imaging::testing::animated_gif(40, 1), &[]);
    f.handle(&change("ObjectCreated:Put", &key, "02"))
        .await
        .unwrap();
    assert!(!f.items().item(&item_key(&key)).unwrap().animated);
}

#[tokio::test]
async fn an_undecodable_replacement_removes_the_earlier_renditions() {
    let f = function();
    let key = format!("public/content/{ID}/r.jpg");
    f.objects().insert(&key, jpeg(300, 200), &[]);
    f.handle(&change("ObjectCreated:Put", &key, "01"))
        .await
        .unwrap();
    assert!(f
        .objects()
        .object(&format!("public/previews/{ID}/r.jpg"))
        .is_some());
    f.objects()
        .insert(&key, b"no longer a picture".to_vec(), &[]);
    let outcome = f
        .handle(&change("ObjectCreated:Put", &key, "02"))
        .await
        .unwrap();
    assert!(
        matches!(outcome, Outcome::StoredWithoutThumbnail { .. }),
        "{outcome:?}"
    );
    let derived: Vec<String> = f
        .objects()
        .keys()
        .into_iter()
        .filter(|k| !k.contains("/content/"))
        .collect();
    assert!(derived.is_empty(), "{derived:?}");
    let item = f.items().item(&item_key(&key)).unwrap();
    assert_eq!((item.thumbnail_key, item.preview_key), (None, None));
}

#[tokio::test]
async fn private_items_have_no_upload_day_and_visibility_follows_the_prefix() {
    let f = function();
    let key = format!("private/content/{ID}/x.jpg");
    // The metadata claims public; the prefix wins.
    f.objects().insert(
        &key,
        jpeg(50, 40),
        &[("data", r#"{"isPublic":true,"title":"t"}"#)],
    );
    f.handle(&change("ObjectCreated:Put", &key, "01"))
        .await
        .unwrap();
    let item = f.items().item(&item_key(&key)).unwrap();
    assert!(!item.is_public);
    assert_eq!(item.upload_day, None);
    assert_eq!((item.width, item.height), (Some(50), Some(40)));
}

/// The test events happen at this time; `created_at` makes one at another.
const EVENT_DATE: &str = "2026-11-23T14:05:09.123Z";
/// A picture's first upload, long before the test events.
const FIRST_DATE: &str = "2026-01-02T03:04:05.678Z";

fn created_at(key: &str, sequencer: &str, date: &str) -> ContentChange {
    let mut created = change("ObjectCreated:Put", key, sequencer);
    created.event_time = chrono::DateTime::parse_from_rfc3339(date).unwrap().to_utc();
    created
}

/// The metadata the client sends with a move's copy.
fn moved_metadata(moved_from: &str) -> String {
    serde_json::json!({"isPublic": true, "title": "Edited", "description": "d", "movedFrom": moved_from}).to_string()
}

/// A live item at `key`, dated [`FIRST_DATE`], as content-updated wrote it.
fn live_item(key: &str) -> MediaItem {
    let mut item = indexed_item(ID, "private", "x", FIRST_DATE);
    item.identity_id = key.split('/').nth(2).unwrap().to_owned();
    item.object_key = key.to_owned();
    item.sequencer = Some(Sequencer::new("01"));
    item
}

#[tokio::test]
async fn an_upload_is_dated_by_its_event_whatever_date_its_metadata_claims() {
    let f = function();
    for claimed in [
        "2001-01-01T00:00:00.000Z",
        FIRST_DATE,
        "2026-11-23T14:05:09.122Z",
    ] {
        let key = format!("public/content/{ID}/{claimed}.jpg");
        let meta =
            serde_json::json!({"isPublic": true, "title": "t", "uploadDate": claimed}).to_string();
        f.objects().insert(&key, jpeg(60, 40), &[("data", &meta)]);
        f.handle(&change("ObjectCreated:Put", &key, "0A"))
            .await
            .unwrap();
        let item = f.items().item(&item_key(&key)).unwrap();
        assert_eq!(item.upload_date.as_deref(), Some(EVENT_DATE), "{claimed}");
        assert_eq!(item.upload_day.as_deref(), Some("2026-11-23"), "{claimed}");
    }
}

#[tokio::test]
async fn a_moved_picture_takes_the_date_of_its_old_item_while_that_is_live() {
    let f = function();
    let old = format!("private/content/{ID}/beach.jpg");
    f.items().put(live_item(&old));
    let moved = format!("public/content/{ID}/beach (2).jpg");
    f.objects()
        .insert(&moved, jpeg(60, 40), &[("data", &moved_metadata(&old))]);
    f.handle(&change("ObjectCreated:Copy", &moved, "0A"))
        .await
        .unwrap();
    let item = f.items().item(&item_key(&moved)).unwrap();
    assert_eq!(item.upload_date.as_deref(), Some(FIRST_DATE));
    assert_eq!(
        item.upload_day.as_deref(),
        Some("2026-01-02"),
        "the public day follows the kept date"
    );
    assert_eq!(item.title, "Edited");
}

#[tokio::test]
async fn a_moved_picture_takes_the_date_its_old_items_tombstone_kept_when_the_delete_came_first() {
    let f = function();
    let old = format!("public/content/{ID}/beach.jpg");
    f.objects().insert(&old, jpeg(60, 40), &[]);
    f.handle(&created_at(&old, "01", FIRST_DATE)).await.unwrap();
    let moved = format!("private/content/{ID}/beach.jpg");
    f.objects()
        .insert(&moved, jpeg(60, 40), &[("data", &moved_metadata(&old))]);
    f.objects().objects.lock().unwrap().remove(&old);
    // The old original's delete is applied before the copy's create.
    assert_eq!(
        f.handle(&change("ObjectRemoved:Delete", &old, "02"))
            .await
            .unwrap(),
        Outcome::Removed
    );
    let tombstone = f.items().item(&item_key(&old)).unwrap();
    assert!(
        tombstone.is_tombstone() && tombstone.upload_date.is_none(),
        "{tombstone:?}"
    );
    assert_eq!(tombstone.deleted_upload_date.as_deref(), Some(FIRST_DATE));

    f.handle(&change("ObjectCreated:Copy", &moved, "0A"))
        .await
        .unwrap();
    let item = f.items().item(&item_key(&moved)).unwrap();
    assert_eq!(item.upload_date.as_deref(), Some(FIRST_DATE));
    assert_eq!((item.is_public, item.upload_day), (false, None));
}

#[tokio::test]
async fn a_tombstone_keeps_its_date_when_written_again_and_a_new_upload_drops_it() {
    let f = function();
    let key = format!("public/content/{ID}/again.jpg");
    f.objects().insert(&key, jpeg(60, 40), &[]);
    f.handle(&created_at(&key, "01", FIRST_DATE)).await.unwrap();
    f.objects().objects.lock().unwrap().remove(&key);
    for _ in 0..2 {
        // The second time, a retry of the same delete: the item is a tombstone already.
        f.handle(&change("ObjectRemoved:Delete", &key, "02"))
            .await
            .unwrap();
        let tombstone = f.items().item(&item_key(&key)).unwrap();
        assert_eq!(
            tombstone.deleted_upload_date.as_deref(),
            Some(FIRST_DATE),
            "{tombstone:?}"
        );
    }
    // A delete of a key that never had an item knows no date.
    let never = format!("public/content/{ID}/never.jpg");
    f.handle(&change("ObjectRemoved:Delete", &never, "02"))
        .await
        .unwrap();
    assert_eq!(
        f.items()
            .item(&item_key(&never))
            .unwrap()
            .deleted_upload_date,
        None
    );

    f.objects().insert(&key, jpeg(60, 40), &[]);
    f.handle(&change("ObjectCreated:Put", &key, "03"))
        .await
        .unwrap();
    let item = f.items().item(&item_key(&key)).unwrap();
    assert_eq!(
        (item.upload_date.as_deref(), item.deleted_upload_date),
        (Some(EVENT_DATE), None)
    );
}

#[tokio::test]
async fn a_moved_from_naming_another_identity_the_same_visibility_garbage_or_nothing_known_is_ignored(
) {
    let f = function();
    let other = "us-east-1:0b5c0000-0000-4000-8000-000000000002";
    let others = format!("private/content/{other}/beach.jpg");
    let same_visibility = format!("public/content/{ID}/old.jpg");
    for dated in [&others, &same_visibility] {
        f.items().put(live_item(dated));
    }
    // Known to the table, but with no date to carry over.
    let undated = format!("private/content/{ID}/undated.jpg");
    f.items().put(MediaItem {
        upload_date: None,
        upload_day: None,
        ..live_item(&undated)
    });
    let no_date_kept = format!("private/content/{ID}/tombstone.jpg");
    let tombstone = MediaItem {
        deleted: Some(true),
        ..Default::default()
    };
    f.items().put(MediaItem {
        identity_id: ID.into(),
        object_key: no_date_kept.clone(),
        ..tombstone
    });
    let claims = [
        others.clone(),
        same_visibility.clone(),
        format!("private/thumbnails/{ID}/beach.jpg"),
        "2001-01-01T00:00:00.000Z".to_owned(),
        format!("private/content/{ID}/{}", "a".repeat(1100)),
        format!("private/content/{ID}/absent.jpg"),
        undated,
        no_date_kept,
    ];
    for (n, moved_from) in claims.iter().enumerate() {
        let key = format!("public/content/{ID}/claim {n}.jpg");
        f.objects()
            .insert(&key, jpeg(60, 40), &[("data", &moved_metadata(moved_from))]);
        f.handle(&change("ObjectCreated:Copy", &key, "0A"))
            .await
            .unwrap();
        let item = f.items().item(&item_key(&key)).unwrap();
        assert_eq!(
            item.upload_date.as_deref(),
            Some(EVENT_DATE),
            "{moved_from}"
        );
        assert_eq!(
            item.upload_day.as_deref(),
            Some("2026-11-23"),
            "{moved_from}"
        );
    }
    // A movedFrom that is not a string costs nothing else.
    let key = format!("public/content/{ID}/number.jpg");
    f.objects().insert(
        &key,
        jpeg(60, 40),
        &[("data", r#"{"title":"kept","movedFrom":5}"#)],
    );
    f.handle(&change("ObjectCreated:Copy", &key, "0A"))
        .await
        .unwrap();
    let item = f.items().item(&item_key(&key)).unwrap();
    assert_eq!(
        (item.title.as_str(), item.upload_date.as_deref()),
        ("kept", Some(EVENT_DATE))
    );
}

#[tokio::test]
async fn repeated_and_older_events_change_nothing() {
    let f = function();
    let key = format!("public/content/{ID}/a.jpg");
    f.objects()
        .insert(&key, jpeg(300, 300), &[("data", r#"{"title":"first"}"#)]);
    f.handle(&change("ObjectCreated:Put", &key, "0A"))
        .await
        .unwrap();
    let item = f.items().item(&item_key(&key)).unwrap();

    // The same event again is applied again (a retry completes a crashed attempt), to the
    // same result.
    let again = f
        .handle(&change("ObjectCreated:Put", &key, "0A"))
        .await
        .unwrap();
    assert!(matches!(again, Outcome::Thumbnailed { .. }), "{again:?}");
    assert_eq!(f.items().item(&item_key(&key)).unwrap(), item);
    let puts = f.objects().request_count("PutObject");
    let gets = f.objects().request_count("GetObject");
    let older = f
        .handle(&change("ObjectCreated:Put", &key, "09"))
        .await
        .unwrap();
    assert_eq!(older, Outcome::Skipped(Skip::LaterEventApplied));
    let older_delete = f
        .handle(&change("ObjectRemoved:Delete", &key, "08"))
        .await
        .unwrap();
    assert_eq!(older_delete, Outcome::Skipped(Skip::LaterEventApplied));
    assert_eq!(f.objects().request_count("PutObject"), puts);
    assert_eq!(f.objects().request_count("GetObject"), gets);
    assert!(f.items().item(&item_key(&key)).is_some());
    assert!(f
        .objects()
        .object(&format!("public/thumbnails/{ID}/a.jpg"))
        .is_some());
}

#[tokio::test]
async fn a_newer_upload_replaces_the_item_and_keeps_face_attributes() {
    let f = function();
    let key = format!("public/content/{ID}/a.jpg");
    f.items()
        .write_faces(
            &item_key(&key),
            &FaceAttributes {
                faces_key: Some("k".into()),
                face_count: Some(1),
                faces: Some(vec![FaceBox {
                    x: 1,
                    y: 2,
                    w: 3,
                    h: 4,
                }]),
                faces_sequencer: Sequencer::new("0A"),
            },
        )
        .await
        .unwrap();
    f.objects()
        .insert(&key, jpeg(300, 100), &[("data", r#"{"title":"one"}"#)]);
    f.handle(&change("ObjectCreated:Put", &key, "0A"))
        .await
        .unwrap();
    f.objects()
        .insert(&key, jpeg(100, 300), &[("data", r#"{"title":"two"}"#)]);
    f.handle(&change("ObjectCreated:Put", &key, "0B"))
        .await
        .unwrap();
    let item = f.items().item(&item_key(&key)).unwrap();
    assert_eq!(item.title, "two");
    assert_eq!((item.width, item.height), (Some(100), Some(300)));
    assert_eq!(item.face_count, Some(1));
    assert_eq!(item.faces_key.as_deref(), Some("k"));
}

#[tokio::test]
async fn a_create_whose_object_is_gone_does_nothing() {
    let f = function();
    let key = format!("public/content/{ID}/gone.jpg");
    let outcome = f
        .handle(&change("ObjectCreated:Put", &key, "01"))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Skipped(Skip::ObjectGoneOrReplaced));
    assert!(f.items().is_empty());
    assert!(f.objects().keys().is_empty());
}

#[tokio::test]
async fn bad_images_are_kept_with_an_item_and_no_thumbnail() {
    let f = ContentUpdated::new(
        MemoryObjectStore::default(),
        MemoryItemStore::default(),
        ImageLimits {
            max_bytes: 100_000,
            max_pixels: 10_000_000,
            ..ImageLimits::default()
        },
    );
    let good = jpeg(64, 64);
    let cases: Vec<(&str, Vec<u8>, ImageProblem)> = vec![
        ("empty.jpg", Vec::new(), ImageProblem::Empty),
        (
            "truncated.jpg",
            jpeg(400, 400)[..200].to_vec(),
            ImageProblem::Truncated,
        ),
        (
            "text.jpg",
            b"this is not a picture".to_vec(),
            ImageProblem::UnknownFormat,
        ),
        (
            "bomb.png",
            media_imaging::testing::png_header_claiming(100_000, 100_000),
            ImageProblem::TooManyPixels,
        ),
    ];
    for (name, bytes, problem) in &cases {
        let key = format!("private/content/{ID}/{name}");
        f.objects().insert(&key, bytes.clone(), &[]);
        let outcome = f
            .handle(&change("ObjectCreated:Put", &key, "01"))
            .await
            .unwrap();
        match outcome {
            Outcome::StoredWithoutThumbnail {
                reason: NoThumbnail::Unusable(Unusable::Image { problem: got, .. }),
            } => assert_eq!(got, *problem, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(
            f.objects().object(&key).unwrap().body,
            *bytes,
            "{name}: original kept"
        );
        assert!(f
            .objects()
            .object(&format!("private/thumbnails/{ID}/{name}"))
            .is_none());
        assert!(f
            .objects()
            .object(&format!("private/previews/{ID}/{name}"))
            .is_none());
        let item = f.items().item(&item_key(&key)).unwrap();
        assert_eq!(item.thumbnail_key, None);
        assert_eq!(item.preview_key, None);
        assert_eq!(item.title, *name);
    }
    let key = format!("private/content/{ID}/good.jpg");
    f.objects().insert(&key, good, &[]);
    assert!(matches!(
        f.handle(&change("ObjectCreated:Put", &key, "01"))
            .await
            .unwrap(),
        Outcome::Thumbnailed { .. }
    ));
}

#[tokio::test]
async fn removed_deletes_thumbnail_preview_faces_and_item_but_not_a_newer_upload() {
    let f = function();
    let key = format!("public/content/{ID}/b c.png");
    f.objects().insert(&key, jpeg(300, 200), &[]);
    f.handle(&change("ObjectCreated:Put", &key, "10"))
        .await
        .unwrap();
    assert!(f
        .objects()
        .object(&format!("public/previews/{ID}/b c.png"))
        .is_some());
    f.objects()
        .insert(&format!("public/faces/{ID}/b c.png"), vec![1], &[]);

    // Deleted and uploaded again before the delete event arrives: nothing is removed.
    let outcome = f
        .handle(&change("ObjectRemoved:Delete", &key, "11"))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Skipped(Skip::ObjectExistsAgain));
    assert!(f.items().item(&item_key(&key)).is_some());

    f.objects().objects.lock().unwrap().remove(&key);
    let outcome = f
        .handle(&change("ObjectRemoved:Delete", &key, "11"))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Removed);
    assert!(f.objects().keys().is_empty(), "{:?}", f.objects().keys());
    let tombstone = f.items().item(&item_key(&key)).unwrap();
    assert!(
        tombstone.is_tombstone()
            && tombstone.thumbnail_key.is_none()
            && tombstone.upload_date.is_none(),
        "{tombstone:?}"
    );
    assert!(tombstone.expires_at.unwrap() > chrono::Utc::now().timestamp() + 13 * 24 * 3600);
    // Delivered twice: still fine.
    assert_eq!(
        f.handle(&change("ObjectRemoved:Delete", &key, "11"))
            .await
            .unwrap(),
        Outcome::Removed
    );
}

#[tokio::test]
async fn an_sqs_batch_handles_every_record_and_never_writes_under_content() {
    let f = function();
    let keys: Vec<String> = (0..3)
        .map(|i| format!("public/content/{ID}/p{i}.jpg"))
        .collect();
    for key in &keys {
        f.objects().insert(key, jpeg(250, 250), &[]);
    }
    // Two records in one message, a third in an SNS envelope, then garbage.
    let mut two: serde_json::Value =
        serde_json::from_str(&s3_event_body("ObjectCreated:Put", &keys[0], "1")).unwrap();
    let second: serde_json::Value =
        serde_json::from_str(&s3_event_body("ObjectCreated:Put", &keys[1], "1")).unwrap();
    two["Records"]
        .as_array_mut()
        .unwrap()
        .push(second["Records"][0].clone());
    let wrapped = serde_json::json!({"Type": "Notification", "Message": s3_event_body("ObjectCreated:Post", &keys[2], "1")});
    let mut event = SqsEvent::default();
    for (id, body) in [
        ("m1", two.to_string()),
        ("m2", wrapped.to_string()),
        ("m3", "{oops".to_string()),
    ] {
        let mut message = SqsMessage::default();
        message.message_id = Some(id.into());
        message.body = Some(body);
        event.records.push(message);
    }
    let response = f.handle_sqs(event).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier, "m3");
    assert_eq!(f.items().len(), 3);
    let content_keys: Vec<String> = f
        .objects()
        .keys()
        .into_iter()
        .filter(|k| k.contains("/content/"))
        .collect();
    assert_eq!(content_keys, keys);
}

#[tokio::test]
async fn without_list_bucket_a_missing_key_is_an_error_and_nothing_is_removed() {
    // S3 answers 403, not 404, for a missing key to a caller without s3:ListBucket: the
    // handler must not read that as "gone" (and the template grants s3:ListBucket).
    let f = ContentUpdated::new(
        MemoryObjectStore::without_list_bucket(),
        MemoryItemStore::default(),
        ImageLimits::default(),
    );
    let key = format!("public/content/{ID}/x.jpg");
    let thumbnail = format!("public/thumbnails/{ID}/x.jpg");
    f.objects().insert(&thumbnail, vec![1], &[]);
    let err = f
        .handle(&change("ObjectRemoved:Delete", &key, "11"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("AccessDenied"), "{err}");
    assert!(f.objects().object(&thumbnail).is_some());
    assert!(f.items().is_empty());
}

#[tokio::test]
async fn a_create_for_a_replaced_version_is_skipped() {
    let f = function();
    let key = format!("public/content/{ID}/v.jpg");
    f.objects().insert(&key, jpeg(40, 40), &[]);
    let old_etag = f.objects().object(&key).unwrap().etag;
    f.objects().insert(&key, jpeg(60, 60), &[]);
    let change = media_core::testing::s3_change_for_version(
        "ObjectCreated:Put",
        &key,
        "0A",
        Some(&old_etag),
    );
    assert_eq!(
        f.handle(&change).await.unwrap(),
        Outcome::Skipped(Skip::ObjectGoneOrReplaced)
    );
    assert!(f.items().is_empty());
    let current = f.objects().object(&key).unwrap().etag;
    let change =
        media_core::testing::s3_change_for_version("ObjectCreated:Put", &key, "0B", Some(&current));
    assert!(matches!(
        f.handle(&change).await.unwrap(),
        Outcome::Thumbnailed { width: 60, .. }
    ));
}

#[tokio::test]
async fn a_key_whose_thumbnail_key_would_pass_the_limit_gets_an_item_without_thumbnail() {
    let f = function();
    let prefix = format!("public/content/{ID}/");
    let key = format!("{prefix}{}.jpg", "k".repeat(1024 - prefix.len() - 4));
    assert_eq!(key.len(), 1024);
    f.objects().insert(&key, jpeg(50, 50), &[]);
    match f
        .handle(&change("ObjectCreated:Put", &key, "01"))
        .await
        .unwrap()
    {
        Outcome::StoredWithoutThumbnail {
            reason: NoThumbnail::KeyTooLong,
        } => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(f.items().item(&item_key(&key)).unwrap().thumbnail_key, None);
    // Its deletion is no poison message either.
    f.objects().objects.lock().unwrap().remove(&key);
    assert_eq!(
        f.handle(&change("ObjectRemoved:Delete", &key, "02"))
            .await
            .unwrap(),
        Outcome::Removed
    );
}

type Racer = ContentUpdated<Shared<MemoryObjectStore>, Shared<MemoryItemStore>>;

/// Runs `first` with `second` run to completion just before the first's `step`-th store
/// call, for every step, and checks `settled` on the outcome. `setup` prepares fresh stores;
/// `second` changes the bucket (as a user would) and handles the resulting event.
async fn interleave(
    setup: impl Fn(&MemoryObjectStore, &MemoryItemStore),
    first: ContentChange,
    second: impl Fn(Arc<MemoryObjectStore>, Arc<MemoryItemStore>) + Send + Sync + Clone + 'static,
    settled: impl Fn(usize, &MemoryObjectStore, &MemoryItemStore),
) {
    let mut step = 0;
    loop {
        let (objects, items) = (
            Arc::new(MemoryObjectStore::default()),
            Arc::new(MemoryItemStore::default()),
        );
        setup(&objects, &items);
        let hook = {
            let (objects, items, second) = (objects.clone(), items.clone(), second.clone());
            StepHook::before_step(step, move || second(objects, items))
        };
        let racer: Racer = ContentUpdated::new(
            Shared::hooked(objects.clone(), hook.clone()),
            Shared::hooked(items.clone(), hook.clone()),
            ImageLimits::default(),
        );
        racer.handle(&first).await.unwrap();
        if !hook.fired() {
            // The first handler finished in fewer steps: every interleaving has been tried.
            assert!(step > 3, "the first handler made only {step} store calls");
            return;
        }
        settled(step, &objects, &items);
        step += 1;
    }
}

fn plain(objects: &Arc<MemoryObjectStore>, items: &Arc<MemoryItemStore>) -> Racer {
    ContentUpdated::new(
        Shared::new(objects.clone()),
        Shared::new(items.clone()),
        ImageLimits::default(),
    )
}

#[tokio::test]
async fn a_delete_at_any_step_of_an_older_create_leaves_nothing_behind() {
    let key = format!("public/content/{ID}/race.jpg");
    let k = key.clone();
    interleave(
        |objects, _| objects.insert(&key, jpeg(120, 80), &[]),
        change("ObjectCreated:Put", &key, "0A"),
        move |objects, items| {
            objects.objects.lock().unwrap().remove(&k);
            let delete = change("ObjectRemoved:Delete", &k, "0B");
            block_on_elsewhere(plain(&objects, &items).handle(&delete)).unwrap();
        },
        |step, objects, items| {
            let derived: Vec<String> = objects.keys();
            assert!(derived.is_empty(), "step {step}: left {derived:?}");
            let item = items.item(&item_key(&key)).unwrap();
            assert!(
                item.is_tombstone(),
                "step {step}: the item came back: {item:?}"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_newer_upload_at_any_step_of_an_older_create_keeps_its_renditions_and_item() {
    let key = format!("public/content/{ID}/race.jpg");
    let k = key.clone();
    interleave(
        |objects, _| objects.insert(&key, jpeg(120, 80), &[]),
        change("ObjectCreated:Put", &key, "0A"),
        move |objects, items| {
            objects.insert(&k, jpeg(30, 90), &[]);
            let create = change("ObjectCreated:Put", &k, "0B");
            block_on_elsewhere(plain(&objects, &items).handle(&create)).unwrap();
        },
        |step, objects, items| {
            let item = items.item(&item_key(&key)).unwrap();
            assert_eq!(item.sequencer, Some(Sequencer::new("0B")), "step {step}");
            assert_eq!(
                (item.width, item.height),
                (Some(30), Some(90)),
                "step {step}"
            );
            let thumbnail = objects
                .object(&format!("public/thumbnails/{ID}/race.jpg"))
                .expect("a thumbnail");
            let decoded = image::load_from_memory(&thumbnail.body).unwrap();
            assert_eq!(
                (decoded.width(), decoded.height()),
                (30, 90),
                "step {step}: an older thumbnail won"
            );
            let preview = objects
                .object(&format!("public/previews/{ID}/race.jpg"))
                .expect("a preview");
            let decoded = image::load_from_memory(&preview.body).unwrap();
            assert_eq!(
                (decoded.width(), decoded.height()),
                (30, 90),
                "step {step}: an older preview won"
            );
            assert_eq!(
                item.preview_key,
                Some(format!("public/previews/{ID}/race.jpg")),
                "step {step}"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_new_upload_at_any_step_of_a_delete_survives_it() {
    let key = format!("public/content/{ID}/race.jpg");
    let k = key.clone();
    interleave(
        |_, _| {},
        change("ObjectRemoved:Delete", &key, "0B"),
        move |objects, items| {
            objects.insert(&k, jpeg(50, 50), &[]);
            let create = change("ObjectCreated:Put", &k, "0C");
            block_on_elsewhere(plain(&objects, &items).handle(&create)).unwrap();
        },
        |step, objects, items| {
            let item = items.item(&item_key(&key)).unwrap();
            assert!(
                !item.is_tombstone() && item.thumbnail_key.is_some(),
                "step {step}: {item:?}"
            );
            assert!(
                objects
                    .object(&format!("public/thumbnails/{ID}/race.jpg"))
                    .is_some(),
                "step {step}"
            );
            assert!(
                objects
                    .object(&format!("public/previews/{ID}/race.jpg"))
                    .is_some(),
                "step {step}"
            );
        },
    )
    .await;
}

/// A change for `key` as S3 would send it for the object now stored there (its ETag).
async fn change_of_stored<O: media_core::ports::ObjectStore>(
    objects: &O,
    name: &str,
    key: &str,
    sequencer: &str,
) -> ContentChange {
    let mut change = change(name, key, sequencer);
    change.etag = objects.head(key).await.unwrap().and_then(|head| head.etag);
    change
}

#[tokio::test]
async fn an_upload_over_the_size_limit_is_deleted_and_its_item_says_why_until_it_expires() {
    let f = ContentUpdated::new(
        MemoryObjectStore::default(),
        MemoryItemStore::default(),
        ImageLimits {
            max_bytes: 100_000,
            ..ImageLimits::default()
        },
    );
    let key = format!("public/content/{ID}/huge.jpg");
    let meta = encode_upload_metadata(true, "Too big", "");
    f.objects()
        .insert(&key, vec![0u8; 200_000], &[("data", &meta)]);
    let created = change_of_stored(f.objects(), "ObjectCreated:Put", &key, "01").await;

    assert_eq!(
        f.handle(&created).await.unwrap(),
        Outcome::Refused(Refusal::TooLarge)
    );
    assert!(f.objects().object(&key).is_none(), "the upload is not kept");
    let item = f.items().item(&item_key(&key)).unwrap();
    assert_eq!(item.refused, Some(Refusal::TooLarge));
    assert_eq!((item.title.as_str(), item.size), ("Too big", Some(200_000)));
    assert_eq!(
        (item.thumbnail_key, item.upload_day),
        (None, None),
        "never in the public by-day index"
    );
    assert!(item
        .expires_at
        .is_some_and(|at| at > chrono::Utc::now().timestamp()));

    // The deletion's own event leaves the item that says why; the same created event again
    // finds the object gone.
    let removed = f
        .handle(&change("ObjectRemoved:Delete", &key, "02"))
        .await
        .unwrap();
    assert_eq!(removed, Outcome::Skipped(Skip::ItemNewerOrRefused));
    assert_eq!(
        f.items().item(&item_key(&key)).unwrap().refused,
        Some(Refusal::TooLarge)
    );
    assert_eq!(
        f.handle(&created).await.unwrap(),
        Outcome::Skipped(Skip::ObjectGoneOrReplaced)
    );
    assert_eq!(
        f.items().item(&item_key(&key)).unwrap().refused,
        Some(Refusal::TooLarge)
    );

    // A later upload under the same key that fits replaces the refusal.
    f.objects().insert(&key, jpeg(64, 64), &[("data", &meta)]);
    let again = change_of_stored(f.objects(), "ObjectCreated:Put", &key, "03").await;
    assert!(matches!(
        f.handle(&again).await.unwrap(),
        Outcome::Thumbnailed { .. }
    ));
    let item = f.items().item(&item_key(&key)).unwrap();
    assert_eq!((item.refused, item.expires_at), (None, None));
}

#[tokio::test]
async fn an_upload_in_another_storage_class_than_standard_is_refused() {
    for class in ["DEEP_ARCHIVE", "GLACIER", "STANDARD_IA"] {
        let f = function();
        let key = format!("private/content/{ID}/{class}.jpg");
        f.objects().insert(&key, jpeg(64, 64), &[]);
        f.objects().set_storage_class(&key, class);
        let created = change_of_stored(f.objects(), "ObjectCreated:Put", &key, "01").await;
        assert_eq!(
            f.handle(&created).await.unwrap(),
            Outcome::Refused(Refusal::StorageClass),
            "{class}"
        );
        assert!(f.objects().object(&key).is_none(), "{class}");
        assert_eq!(
            f.items().item(&item_key(&key)).unwrap().refused,
            Some(Refusal::StorageClass)
        );
    }
}

#[tokio::test]
async fn the_quota_counts_the_owners_originals_stored_before_the_upload_on_every_delivery() {
    let picture = jpeg(64, 64);
    let size = picture.len() as u64;
    let f = function().with_bounds(UploadBounds {
        storage_quota_bytes: 2 * size + size / 2,
    });
    let at = |s: i64| chrono::DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
    let first = format!("private/content/{ID}/1.jpg");
    let second = format!("public/content/{ID}/2.jpg");
    let third = format!("private/content/{ID}/3.jpg");
    let other = "private/content/us-east-1:0b5c0000-0000-4000-8000-000000000002/x.jpg";
    f.objects().insert_at(other, picture.clone(), &[], at(0));
    f.objects().insert_at(&first, picture.clone(), &[], at(1));
    f.objects().insert_at(&second, picture.clone(), &[], at(2));
    f.objects().insert_at(&third, picture.clone(), &[], at(3));

    let second_created = change_of_stored(f.objects(), "ObjectCreated:Put", &second, "02").await;
    // Both prefixes count, another person's originals do not; what came after does not either.
    assert!(matches!(
        f.handle(&second_created).await.unwrap(),
        Outcome::Thumbnailed { .. }
    ));
    let third_created = change_of_stored(f.objects(), "ObjectCreated:Put", &third, "03").await;
    assert_eq!(
        f.handle(&third_created).await.unwrap(),
        Outcome::Refused(Refusal::OverQuota)
    );
    assert!(f.objects().object(&third).is_none());
    // The first one's late event and the second one's repeated one still keep them.
    let first_created = change_of_stored(f.objects(), "ObjectCreated:Put", &first, "01").await;
    assert!(matches!(
        f.handle(&first_created).await.unwrap(),
        Outcome::Thumbnailed { .. }
    ));
    assert!(matches!(
        f.handle(&second_created).await.unwrap(),
        Outcome::Thumbnailed { .. }
    ));
    assert!(f.objects().object(&first).is_some() && f.objects().object(&second).is_some());
    assert!(f.objects().object(other).is_some());
}

#[tokio::test]
async fn uploads_within_one_second_count_in_key_order() {
    let picture = jpeg(64, 64);
    let size = picture.len() as u64;
    let f = function().with_bounds(UploadBounds {
        storage_quota_bytes: 2 * size + size / 2,
    });
    // One second, three uploads: their own Last-Modified (GetObject) says 1_800_000_000 for
    // each, the listing says .100, .200, .300.
    let at = |ms: u32| chrono::DateTime::from_timestamp(1_800_000_000, ms * 1_000_000).unwrap();
    let keys: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|name| format!("private/content/{ID}/{name}.jpg"))
        .collect();
    for (n, key) in keys.iter().enumerate() {
        f.objects()
            .insert_at(key, picture.clone(), &[], at(100 * (n as u32 + 1)));
    }
    let mut outcomes = Vec::new();
    for (n, key) in keys.iter().enumerate() {
        let created =
            change_of_stored(f.objects(), "ObjectCreated:Put", key, &format!("0{n}")).await;
        outcomes.push(f.handle(&created).await.unwrap());
    }
    assert!(
        matches!(outcomes[0], Outcome::Thumbnailed { .. }),
        "{outcomes:?}"
    );
    assert!(
        matches!(outcomes[1], Outcome::Thumbnailed { .. }),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[2], Outcome::Refused(Refusal::OverQuota));
}

#[tokio::test]
async fn a_refused_uploads_item_takes_no_face_attributes() {
    let f = ContentUpdated::new(
        MemoryObjectStore::default(),
        MemoryItemStore::default(),
        ImageLimits {
            max_bytes: 1_000,
            ..ImageLimits::default()
        },
    );
    let key = format!("public/content/{ID}/big.jpg");
    f.objects().insert(&key, jpeg(400, 400), &[]);
    let created = change_of_stored(f.objects(), "ObjectCreated:Put", &key, "01").await;
    assert_eq!(
        f.handle(&created).await.unwrap(),
        Outcome::Refused(Refusal::TooLarge)
    );
    let faces = FaceAttributes {
        faces_key: Some(format!("public/faces/{ID}/big.jpg")),
        face_count: Some(1),
        faces: Some(vec![FaceBox {
            x: 1,
            y: 1,
            w: 2,
            h: 2,
        }]),
        faces_sequencer: Sequencer::new("01"),
    };
    assert_eq!(
        f.items()
            .write_faces(&item_key(&key), &faces)
            .await
            .unwrap(),
        WriteOutcome::Superseded
    );
}

#[tokio::test]
async fn a_move_keeps_its_date_whichever_step_of_the_copys_create_the_old_keys_delete_comes_before()
{
    let old = format!("private/content/{ID}/move.jpg");
    let moved = format!("public/content/{ID}/move.jpg");
    let (o, m) = (old.clone(), moved.clone());
    interleave(
        move |objects, items| {
            objects.insert(&o, jpeg(120, 80), &[]);
            objects.insert(&m, jpeg(120, 80), &[("data", &moved_metadata(&o))]);
            items.put(live_item(&o));
        },
        change("ObjectCreated:Copy", &moved, "0A"),
        {
            let old = old.clone();
            move |objects, items| {
                objects.objects.lock().unwrap().remove(&old);
                let delete = change("ObjectRemoved:Delete", &old, "02");
                assert_eq!(
                    block_on_elsewhere(plain(&objects, &items).handle(&delete)).unwrap(),
                    Outcome::Removed
                );
            }
        },
        |step, _, items| {
            let item = items.item(&item_key(&moved)).unwrap();
            assert_eq!(item.upload_date.as_deref(), Some(FIRST_DATE), "step {step}");
            assert_eq!(
                item.upload_day.as_deref(),
                Some("2026-01-02"),
                "step {step}"
            );
            let tombstone = items.item(&item_key(&old)).unwrap();
            assert!(tombstone.is_tombstone(), "step {step}");
            assert_eq!(
                tombstone.deleted_upload_date.as_deref(),
                Some(FIRST_DATE),
                "step {step}"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_move_near_the_quota_keeps_its_copy_and_only_its_own_old_original_is_left_out() {
    let picture = jpeg(64, 64);
    let size = picture.len() as u64;
    let f = function().with_bounds(UploadBounds {
        storage_quota_bytes: 2 * size + size / 2,
    });
    let at = |s: i64| chrono::DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
    let (a, b) = (
        format!("private/content/{ID}/a.jpg"),
        format!("private/content/{ID}/b.jpg"),
    );
    f.objects().insert_at(&a, picture.clone(), &[], at(1));
    f.objects().insert_at(&b, picture.clone(), &[], at(2));
    // b made public: its copy is the third original until the client deletes b.
    let copy = format!("public/content/{ID}/b.jpg");
    f.objects().insert_at(
        &copy,
        picture.clone(),
        &[("data", &moved_metadata(&b))],
        at(3),
    );
    let created = change_of_stored(f.objects(), "ObjectCreated:Copy", &copy, "03").await;
    assert!(matches!(
        f.handle(&created).await.unwrap(),
        Outcome::Thumbnailed { .. }
    ));
    assert!(f.objects().object(&copy).is_some());
    // A movedFrom that is not a move (the same prefix) leaves nothing out.
    let other = format!("public/content/{ID}/c.jpg");
    f.objects().insert_at(
        &other,
        picture.clone(),
        &[("data", &moved_metadata(&copy))],
        at(4),
    );
    let created = change_of_stored(f.objects(), "ObjectCreated:Put", &other, "04").await;
    assert_eq!(
        f.handle(&created).await.unwrap(),
        Outcome::Refused(Refusal::OverQuota)
    );
}
