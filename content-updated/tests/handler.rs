//! The handler against in-memory stores, driven by S3 event JSON as S3 sends it.

use std::io::Cursor;

use content_updated::{ContentUpdated, Outcome};
use media_core::aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use media_core::config::ImageLimits;
use media_core::events::ContentChange;
use media_core::item::{FaceAttributes, FaceBox, ItemKey};
use media_core::metadata::encode_upload_metadata;
use media_core::ports::ItemStore;
use media_core::testing::memory::{MemoryItemStore, MemoryObjectStore};
use media_core::testing::s3_event_body;

const ID: &str = "us-east-1:0b5c0000-0000-4000-8000-000000000001";

fn function() -> ContentUpdated<MemoryObjectStore, MemoryItemStore> {
    ContentUpdated::new(MemoryObjectStore::default(), MemoryItemStore::default(), ImageLimits::default())
}


fn change(name: &str, key: &str, sequencer: &str) -> ContentChange {
    media_core::testing::s3_change(name, key, sequencer)
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image).write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg).unwrap();
    out
}

fn item_key(key: &str) -> ItemKey {
    ItemKey { identity_id: ID.into(), object_key: key.into() }
}

#[tokio::test]
async fn created_writes_a_thumbnail_and_every_item_attribute() {
    let f = function();
    let key = format!("public/content/{ID}/my photo+1 é.jpg");
    let meta = encode_upload_metadata(true, "Été", "at the sea");
    f.objects().insert(&key, jpeg(800, 600), &[("data", &meta)]);

    let outcome = f.handle(&change("ObjectCreated:Put", &key, "0055AED6DCD90281E5")).await.unwrap();
    let thumbnail_key = format!("public/thumbnails/{ID}/my photo+1 é.jpg");
    assert_eq!(outcome, Outcome::Thumbnailed { thumbnail_key: thumbnail_key.clone(), width: 200, height: 150 });

    let thumbnail = f.objects().object(&thumbnail_key).unwrap();
    assert_eq!(thumbnail.content_type, "image/jpeg");
    let decoded = image::load_from_memory(&thumbnail.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (200, 150));

    let item = f.items().item(&item_key(&key)).unwrap();
    assert_eq!(item.thumbnail_key.as_deref(), Some(thumbnail_key.as_str()));
    assert!(item.is_public);
    assert_eq!(item.title, "Été");
    assert_eq!(item.description, "at the sea");
    assert_eq!(item.upload_date.as_deref(), Some("2026-11-23T14:05:09.123Z"));
    assert_eq!(item.upload_day.as_deref(), Some("2026-11-23"));
    assert_eq!(item.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(item.size, Some(f.objects().object(&key).unwrap().body.len() as u64));
    assert_eq!((item.width, item.height), (Some(800), Some(600)));
    assert!(item.sequencer.unwrap().ends_with("0055AED6DCD90281E5"));
}

#[tokio::test]
async fn private_items_have_no_upload_day_and_visibility_follows_the_prefix() {
    let f = function();
    let key = format!("private/content/{ID}/x.jpg");
    // The metadata claims public; the prefix wins.
    f.objects().insert(&key, jpeg(50, 40), &[("data", r#"{"isPublic":true,"title":"t"}"#)]);
    f.handle(&change("ObjectCreated:Put", &key, "01")).await.unwrap();
    let item = f.items().item(&item_key(&key)).unwrap();
    assert!(!item.is_public);
    assert_eq!(item.upload_day, None);
    assert_eq!((item.width, item.height), (Some(50), Some(40)));
}

#[tokio::test]
async fn repeated_and_older_events_change_nothing() {
    let f = function();
    let key = format!("public/content/{ID}/a.jpg");
    f.objects().insert(&key, jpeg(300, 300), &[("data", r#"{"title":"first"}"#)]);
    f.handle(&change("ObjectCreated:Put", &key, "0A")).await.unwrap();
    let puts = f.objects().request_count("PutObject");
    let gets = f.objects().request_count("GetObject");

    let again = f.handle(&change("ObjectCreated:Put", &key, "0A")).await.unwrap();
    assert!(matches!(again, Outcome::Skipped(_)));
    let older = f.handle(&change("ObjectCreated:Put", &key, "09")).await.unwrap();
    assert!(matches!(older, Outcome::Skipped(_)));
    let older_delete = f.handle(&change("ObjectRemoved:Delete", &key, "08")).await.unwrap();
    assert!(matches!(older_delete, Outcome::Skipped(_)));
    assert_eq!(f.objects().request_count("PutObject"), puts);
    assert_eq!(f.objects().request_count("GetObject"), gets);
    assert!(f.items().item(&item_key(&key)).is_some());
    assert!(f.objects().object(&format!("public/thumbnails/{ID}/a.jpg")).is_some());
}

#[tokio::test]
async fn a_newer_upload_replaces_the_item_and_keeps_face_attributes() {
    let f = function();
    let key = format!("public/content/{ID}/a.jpg");
    f.items()
        .write_faces(&item_key(&key), &FaceAttributes { faces_key: "k".into(), face_count: 1, faces: vec![FaceBox { x: 1, y: 2, w: 3, h: 4 }] })
        .await
        .unwrap();
    f.objects().insert(&key, jpeg(300, 100), &[("data", r#"{"title":"one"}"#)]);
    f.handle(&change("ObjectCreated:Put", &key, "0A")).await.unwrap();
    f.objects().insert(&key, jpeg(100, 300), &[("data", r#"{"title":"two"}"#)]);
    f.handle(&change("ObjectCreated:Put", &key, "0B")).await.unwrap();
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
    let outcome = f.handle(&change("ObjectCreated:Put", &key, "01")).await.unwrap();
    assert_eq!(outcome, Outcome::Skipped("the object no longer exists"));
    assert!(f.items().is_empty());
    assert!(f.objects().keys().is_empty());
}

#[tokio::test]
async fn bad_images_are_kept_with_an_item_and_no_thumbnail() {
    let f = ContentUpdated::new(
        MemoryObjectStore::default(),
        MemoryItemStore::default(),
        ImageLimits { max_bytes: 100_000, max_pixels: 10_000_000 },
    );
    let good = jpeg(64, 64);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.jpg", Vec::new(), "empty file"),
        ("truncated.jpg", jpeg(400, 400)[..200].to_vec(), "truncated"),
        ("text.jpg", b"this is not a picture".to_vec(), "not an image"),
        ("bomb.png", media_core::testing::png_header_claiming(100_000, 100_000), "over the limit"),
        ("huge.bin", vec![0u8; 200_000], "bytes is over the limit"),
    ];
    for (name, bytes, reason) in &cases {
        let key = format!("private/content/{ID}/{name}");
        f.objects().insert(&key, bytes.clone(), &[]);
        let outcome = f.handle(&change("ObjectCreated:Put", &key, "01")).await.unwrap();
        match outcome {
            Outcome::StoredWithoutThumbnail { reason: got } => assert!(got.contains(reason), "{name}: {got}"),
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(f.objects().object(&key).unwrap().body, *bytes, "{name}: original kept");
        assert!(f.objects().object(&format!("private/thumbnails/{ID}/{name}")).is_none());
        let item = f.items().item(&item_key(&key)).unwrap();
        assert_eq!(item.thumbnail_key, None);
        assert_eq!(item.title, *name);
    }
    let key = format!("private/content/{ID}/good.jpg");
    f.objects().insert(&key, good, &[]);
    assert!(matches!(f.handle(&change("ObjectCreated:Put", &key, "01")).await.unwrap(), Outcome::Thumbnailed { .. }));
}

#[tokio::test]
async fn removed_deletes_thumbnail_faces_and_item_but_not_a_newer_upload() {
    let f = function();
    let key = format!("public/content/{ID}/b c.png");
    f.objects().insert(&key, jpeg(300, 200), &[]);
    f.handle(&change("ObjectCreated:Put", &key, "10")).await.unwrap();
    f.objects().insert(&format!("public/faces/{ID}/b c.png"), vec![1], &[]);

    // Deleted and uploaded again before the delete event arrives: nothing is removed.
    let outcome = f.handle(&change("ObjectRemoved:Delete", &key, "11")).await.unwrap();
    assert!(matches!(outcome, Outcome::Skipped(_)));
    assert!(f.items().item(&item_key(&key)).is_some());

    f.objects().objects.lock().unwrap().remove(&key);
    let outcome = f.handle(&change("ObjectRemoved:Delete", &key, "11")).await.unwrap();
    assert_eq!(outcome, Outcome::Removed);
    assert!(f.objects().keys().is_empty(), "{:?}", f.objects().keys());
    assert!(f.items().is_empty());
    // Delivered twice: still fine.
    assert_eq!(f.handle(&change("ObjectRemoved:Delete", &key, "11")).await.unwrap(), Outcome::Removed);
}

#[tokio::test]
async fn an_sqs_batch_handles_every_record_and_never_writes_under_content() {
    let f = function();
    let keys: Vec<String> = (0..3).map(|i| format!("public/content/{ID}/p{i}.jpg")).collect();
    for key in &keys {
        f.objects().insert(key, jpeg(250, 250), &[]);
    }
    // Two records in one message, a third in an SNS envelope, then garbage.
    let mut two: serde_json::Value = serde_json::from_str(&s3_event_body("ObjectCreated:Put", &keys[0], "1")).unwrap();
    let second: serde_json::Value = serde_json::from_str(&s3_event_body("ObjectCreated:Put", &keys[1], "1")).unwrap();
    two["Records"].as_array_mut().unwrap().push(second["Records"][0].clone());
    let wrapped = serde_json::json!({"Type": "Notification", "Message": s3_event_body("ObjectCreated:Post", &keys[2], "1")});
    let mut event = SqsEvent::default();
    for (id, body) in [("m1", two.to_string()), ("m2", wrapped.to_string()), ("m3", "{oops".to_string())] {
        let mut message = SqsMessage::default();
        message.message_id = Some(id.into());
        message.body = Some(body);
        event.records.push(message);
    }
    let response = f.handle_sqs(event).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier, "m3");
    assert_eq!(f.items().len(), 3);
    let content_keys: Vec<String> = f.objects().keys().into_iter().filter(|k| k.contains("/content/")).collect();
    assert_eq!(content_keys, keys);
}
