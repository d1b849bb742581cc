//! Uploads through the real S3 API of a fresh devstack; the event travels S3 -> SNS -> SQS ->
//! content-updated as in the cloud.

use std::time::Duration;

use anyhow::Result;
use async_trait::async_trait;
use content_updated::{ContentUpdated, Outcome, Skip};
use e2e_tests::{encode, eventually, identity_id, photo_jpeg, Stack};
use media_core::aws::{DynamoItemStore, S3ObjectStore};
use media_core::metadata::encode_upload_metadata;
use media_core::ports::*;
use media_imaging::testing::{insert_exif_orientation, png_header_claiming};
use media_imaging::ImageLimits;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread")]
async fn uploads_get_thumbnails_previews_and_items_and_deletes_remove_them() -> Result<()> {
    let stack = Stack::start().await?;
    let id = identity_id();

    let photo_key = format!("public/content/{id}/my photo+1 é.jpg");
    let photo = photo_jpeg(3000, 2000);
    stack
        .upload(
            &photo_key,
            photo.clone(),
            Some(&encode_upload_metadata(
                true,
                "Été à la plage",
                "Sable & mer <3",
            )),
        )
        .await?;

    let alpha_key = format!("private/content/{id}/logo.png");
    let alpha = image::RgbaImage::from_fn(640, 320, |x, y| {
        image::Rgba([200, 30, 30, ((x + y) % 256) as u8])
    });
    stack
        .upload(
            &alpha_key,
            encode(
                image::DynamicImage::ImageRgba8(alpha),
                image::ImageFormat::Png,
            ),
            None,
        )
        .await?;

    let rotated_key = format!("public/content/{id}/rotated.jpg");
    stack
        .upload(
            &rotated_key,
            insert_exif_orientation(&photo_jpeg(800, 400), 6),
            Some(r#"{"title":"","description":"d"}"#),
        )
        .await?;

    // The photo: JPEG thumbnail fitting 200x200, every attribute of the item.
    let item = eventually("the photo's item", WAIT, || async {
        stack.content_item(&id, &photo_key).await
    })
    .await?;
    let thumbnail_key = format!("public/thumbnails/{id}/my photo+1 é.jpg");
    assert_eq!(item.thumbnail_key.as_deref(), Some(thumbnail_key.as_str()));
    assert!(item.is_public);
    assert_eq!(item.title, "Été à la plage");
    assert_eq!(item.description, "Sable & mer <3");
    assert_eq!((item.width, item.height), (Some(3000), Some(2000)));
    assert_eq!(item.size, Some(photo.len() as u64));
    assert_eq!(item.content_type.as_deref(), Some("image/jpeg"));
    let upload_date = item.upload_date.clone().unwrap();
    assert_eq!(
        upload_date.len(),
        "2026-11-23T14:05:09.123Z".len(),
        "{upload_date}"
    );
    assert_eq!(item.upload_day.as_deref(), Some(&upload_date[..10]));
    assert!(item.sequencer.is_some());
    let (bytes, content_type) = stack.object(&thumbnail_key).await?.expect("thumbnail");
    assert_eq!(content_type.as_deref(), Some("image/jpeg"));
    let thumbnail = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)?;
    assert_eq!((thumbnail.width(), thumbnail.height()), (200, 133));
    // Its preview: a JPEG fitting 1600x1600, no EXIF, named by the item.
    let preview_key = format!("public/previews/{id}/my photo+1 é.jpg");
    assert_eq!(item.preview_key.as_deref(), Some(preview_key.as_str()));
    assert!(!item.animated);
    let (bytes, content_type) = stack.object(&preview_key).await?.expect("preview");
    assert_eq!(content_type.as_deref(), Some("image/jpeg"));
    assert!(
        !bytes.windows(6).any(|w| w == b"Exif\0\0"),
        "EXIF in the preview"
    );
    let preview = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)?;
    assert_eq!((preview.width(), preview.height()), (1600, 1067));

    // The PNG with alpha: a PNG thumbnail that keeps it; private, so no upload day.
    let item = eventually("the PNG's item", WAIT, || async {
        stack.content_item(&id, &alpha_key).await
    })
    .await?;
    assert!(!item.is_public);
    assert_eq!(item.upload_day, None);
    assert_eq!(item.title, "logo.png");
    let (bytes, content_type) = stack
        .object(&format!("private/thumbnails/{id}/logo.png"))
        .await?
        .expect("thumbnail");
    assert_eq!(content_type.as_deref(), Some("image/png"));
    let thumbnail = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)?;
    assert!(thumbnail.color().has_alpha());
    assert_eq!((thumbnail.width(), thumbnail.height()), (200, 100));

    // EXIF orientation 6: width and height swapped, thumbnail upright.
    let item = eventually("the rotated item", WAIT, || async {
        stack.content_item(&id, &rotated_key).await
    })
    .await?;
    assert_eq!((item.width, item.height), (Some(400), Some(800)));
    assert_eq!(
        item.title, "rotated.jpg",
        "an empty title falls back to the file name"
    );
    let (bytes, _) = stack
        .object(&format!("public/thumbnails/{id}/rotated.jpg"))
        .await?
        .expect("thumbnail");
    let thumbnail = image::load_from_memory(&bytes)?;
    assert_eq!((thumbnail.width(), thumbnail.height()), (100, 200));
    let (bytes, _) = stack
        .object(&format!("public/previews/{id}/rotated.jpg"))
        .await?
        .expect("preview");
    let preview = image::load_from_memory(&bytes)?;
    assert_eq!(
        (preview.width(), preview.height()),
        (400, 800),
        "upright, never upscaled"
    );

    // An animated GIF of 1,000 frames: its first frame, and the item says it is animated.
    let gif_key = format!("private/content/{id}/loop.gif");
    stack
        .upload(
            &gif_key,
            media_imaging::testing::animated_gif(120, 1000),
            None,
        )
        .await?;
    let item = eventually("the GIF's item", WAIT, || async {
        stack.content_item(&id, &gif_key).await
    })
    .await?;
    assert!(item.animated, "{item:?}");
    assert_eq!(
        item.preview_key,
        Some(format!("private/previews/{id}/loop.gif"))
    );
    let (bytes, _) = stack
        .object(&format!("private/previews/{id}/loop.gif"))
        .await?
        .expect("preview");
    let pixel = image::load_from_memory(&bytes)?
        .to_rgb8()
        .get_pixel(60, 60)
        .0;
    assert!(
        pixel[0] > 200 && pixel[2] < 60,
        "the first (red) frame: {pixel:?}"
    );

    // Deleting the originals removes thumbnails, previews and items.
    for key in [&photo_key, &alpha_key, &rotated_key, &gif_key] {
        stack.delete(key).await?;
    }
    for key in [&photo_key, &alpha_key, &rotated_key, &gif_key] {
        let gone = || async {
            Ok(stack
                .item(&id, key)
                .await?
                .is_none_or(|i| i.is_tombstone())
                .then_some(()))
        };
        eventually("the item to become a tombstone", WAIT, gone).await?;
        // The tombstone is written before the derived objects are removed (by design), so
        // their removal is waited for, not expected at once.
        for area in ["/thumbnails/", "/previews/"] {
            let derived = key.replacen("/content/", area, 1);
            let removed = || async { Ok(stack.object(&derived).await?.is_none().then_some(())) };
            eventually(&format!("{derived} to be removed"), WAIT, removed).await?;
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_uploads_are_kept_and_reported_and_the_good_one_goes_through() -> Result<()> {
    let stack = Stack::start().await?;
    let id = identity_id();
    let truncated = photo_jpeg(1200, 900);
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("empty.jpg", Vec::new()),
        ("truncated.jpg", truncated[..truncated.len() / 2].to_vec()),
        (
            "text.jpg",
            b"Dear diary, today I uploaded a text file.".to_vec(),
        ),
        ("bomb.png", png_header_claiming(100_000, 100_000)),
    ];
    for (name, bytes) in &bad {
        stack
            .upload(&format!("private/content/{id}/{name}"), bytes.clone(), None)
            .await?;
    }
    let good_key = format!("private/content/{id}/good.jpg");
    stack.upload(&good_key, photo_jpeg(1024, 768), None).await?;

    let good = eventually("the good picture", WAIT, || async {
        stack.content_item(&id, &good_key).await
    })
    .await?;
    assert!(good.thumbnail_key.is_some());
    for (name, bytes) in &bad {
        let key = format!("private/content/{id}/{name}");
        let item = eventually("the bad upload's item", WAIT, || async {
            stack.content_item(&id, &key).await
        })
        .await?;
        assert_eq!(item.thumbnail_key, None, "{name}");
        assert_eq!(item.size, Some(bytes.len() as u64), "{name}");
        let (kept, _) = stack.object(&key).await?.expect("the original is kept");
        assert_eq!(&kept, bytes, "{name}");
        assert!(stack
            .object(&format!("private/thumbnails/{id}/{name}"))
            .await?
            .is_none());
        assert!(stack
            .object(&format!("private/previews/{id}/{name}"))
            .await?
            .is_none());
        assert_eq!(item.preview_key, None, "{name}");
        assert!(stack.log().contains(&key), "the log names {key}");
    }
    let log = stack.log();
    assert!(
        log.contains("100000x100000 pixels is over the limit"),
        "{log}"
    );
    assert!(log.contains("empty file"));
    assert!(log.contains("not an image"));
    Ok(())
}

/// The real S3 adapter, with a pause after the first read of an object: long enough for the
/// object to be deleted and the deletion handled by the stack's own content-updated.
struct PauseAfterFirstGet {
    inner: S3ObjectStore,
    after_first_get:
        tokio::sync::Mutex<Option<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>>,
}

#[async_trait]
impl ObjectStore for PauseAfterFirstGet {
    async fn get_matching(
        &self,
        key: &str,
        m: Option<&str>,
        max: u64,
    ) -> Result<Option<FetchedObject>, StoreError> {
        let read = self.inner.get_matching(key, m, max).await;
        let pause = self.after_first_get.lock().await.take();
        if let Some(pause) = pause {
            pause.await;
        }
        read
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectHead>, StoreError> {
        self.inner.head(key).await
    }
    async fn put(&self, object: PutObject) -> Result<WriteOutcome, StoreError> {
        self.inner.put(object).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn delete_if_match(&self, key: &str, etag: &str) -> Result<WriteOutcome, StoreError> {
        self.inner.delete_if_match(key, etag).await
    }
    async fn list_page(&self, p: &str, c: Option<String>) -> Result<ObjectPage, StoreError> {
        self.inner.list_page(p, c).await
    }
    async fn delete_many(&self, keys: &[String]) -> Result<Vec<(String, String)>, StoreError> {
        self.inner.delete_many(keys).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_create_that_read_the_picture_before_its_deletion_does_not_bring_it_back(
) -> Result<()> {
    let stack = Stack::start().await?;
    let id = identity_id();
    let key = format!("public/content/{id}/late.jpg");
    stack.upload(&key, photo_jpeg(640, 480), None).await?;
    let created = eventually("the item", WAIT, || async {
        stack.content_item(&id, &key).await
    })
    .await?;
    let create_sequencer = created.sequencer.clone().unwrap();

    // A second delivery of the create event (S3 delivers at least once) reads the picture,
    // then the owner deletes it and the stack handles the deletion before this handler writes.
    let (s3, bucket, k) = (stack.s3.clone(), stack.info.bucket.clone(), key.clone());
    let (dynamodb, table, identity) =
        (stack.dynamodb.clone(), stack.info.table.clone(), id.clone());
    let pause = Box::pin(async move {
        s3.delete_object()
            .bucket(&bucket)
            .key(&k)
            .send()
            .await
            .unwrap();
        for _ in 0..240 {
            let store = DynamoItemStore::new(dynamodb.clone(), &table);
            let key = media_core::item::ItemKey {
                identity_id: identity.clone(),
                object_key: k.clone(),
            };
            let items = media_core::ports::IndexItems::items_now(&store, &[key])
                .await
                .unwrap();
            if items.iter().any(|i| i.is_tombstone()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("the stack never handled the deletion");
    });
    let slow = ContentUpdated::new(
        PauseAfterFirstGet {
            inner: S3ObjectStore::new(stack.s3.clone(), &stack.info.bucket),
            after_first_get: tokio::sync::Mutex::new(Some(pause)),
        },
        DynamoItemStore::new(stack.dynamodb.clone(), &stack.info.table),
        ImageLimits::default(),
    );
    let late = media_core::testing::s3_change("ObjectCreated:Put", &key, create_sequencer.as_str());
    let outcome = slow.handle(&late).await?;
    assert_eq!(outcome, Outcome::Skipped(Skip::LaterEventAppliedMeanwhile));

    let item = stack.item(&id, &key).await?.unwrap();
    assert!(
        item.is_tombstone(),
        "the deleted picture came back: {item:?}"
    );
    assert!(
        stack
            .object(&format!("public/thumbnails/{id}/late.jpg"))
            .await?
            .is_none(),
        "its thumbnail came back"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_claiming_an_old_date_in_its_metadata_is_dated_by_its_event() -> Result<()> {
    let stack = Stack::start().await?;
    let id = identity_id();
    let key = format!("public/content/{id}/backdated.jpg");
    let before = chrono::Utc::now();
    let claim = r#"{"isPublic":true,"title":"Backdated","description":"","uploadDate":"2001-01-01T00:00:00.000Z"}"#;
    stack
        .upload(&key, photo_jpeg(320, 240), Some(claim))
        .await?;
    let item = eventually("the item", WAIT, || async {
        stack.content_item(&id, &key).await
    })
    .await?;
    let after = chrono::Utc::now();
    let date = item.upload_date.clone().unwrap();
    let when = chrono::DateTime::parse_from_rfc3339(&date)?.to_utc();
    // The emulator's clock is this machine's; a second of slack for S3's event time.
    let slack = chrono::Duration::seconds(1);
    assert!(
        before - slack <= when && when <= after + slack,
        "{date} is not the upload's event time"
    );
    assert_eq!(item.upload_day.as_deref(), Some(&date[..10]));
    assert_eq!(item.title, "Backdated");
    Ok(())
}

/// A change of visibility as the web client makes it (`client/src/move.ts`), through the real S3
/// API: CopyObject to the other prefix with `movedFrom` in the metadata, then DeleteObject of
/// the old original. The new item keeps the first upload's date whichever of the two events
/// the stack applies first, and again when the copy's event comes once more after the old
/// item is a tombstone (the emulator's own UpdateItem kept the date there).
#[tokio::test(flavor = "multi_thread")]
async fn a_visibility_change_keeps_the_first_upload_date_from_the_old_item_or_its_tombstone(
) -> Result<()> {
    let stack = Stack::start().await?;
    let id = identity_id();
    let old = format!("private/content/{id}/harbour.jpg");
    let moved = format!("public/content/{id}/harbour.jpg");
    stack
        .upload(
            &old,
            photo_jpeg(640, 480),
            Some(&encode_upload_metadata(false, "Harbour", "")),
        )
        .await?;
    let first = eventually("the first upload's item", WAIT, || async {
        stack.content_item(&id, &old).await
    })
    .await?;
    let first_date = first.upload_date.clone().unwrap();

    let metadata = serde_json::json!({"isPublic": true, "title": "Harbour", "description": "", "movedFrom": old});
    stack
        .s3
        .copy_object()
        .bucket(&stack.info.bucket)
        .key(&moved)
        .copy_source(format!("{}/{old}", stack.info.bucket))
        .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
        .metadata("data", metadata.to_string())
        .send()
        .await?;
    stack.delete(&old).await?;
    let (item, tombstone) = eventually("the moved item and the old tombstone", WAIT, || async {
        let item = stack
            .item(&id, &moved)
            .await?
            .filter(|i| i.thumbnail_key.is_some());
        let tombstone = stack.item(&id, &old).await?.filter(|i| i.is_tombstone());
        Ok(item.zip(tombstone))
    })
    .await?;
    assert_eq!(
        item.upload_date.as_deref(),
        Some(first_date.as_str()),
        "the first upload's date is kept"
    );
    assert_eq!(item.upload_day.as_deref(), Some(&first_date[..10]));
    assert!(item.is_public);
    assert_eq!(
        tombstone.deleted_upload_date.as_deref(),
        Some(first_date.as_str()),
        "{tombstone:?}"
    );
    assert_eq!(
        tombstone.upload_date, None,
        "a tombstone stays out of the by-owner index"
    );

    // The copy's event once more (S3 delivers at least once), now that the old item is a
    // tombstone: its date comes from the tombstone, not from this event (2026-11-23).
    let again = ContentUpdated::new(
        S3ObjectStore::new(stack.s3.clone(), &stack.info.bucket),
        DynamoItemStore::new(stack.dynamodb.clone(), &stack.info.table),
        ImageLimits::default(),
    );
    let sequencer = item.sequencer.clone().unwrap();
    let redelivered =
        media_core::testing::s3_change("ObjectCreated:Copy", &moved, sequencer.as_str());
    assert!(matches!(
        again.handle(&redelivered).await?,
        Outcome::Thumbnailed { .. }
    ));
    let item = stack.item(&id, &moved).await?.unwrap();
    assert_eq!(
        item.upload_date.as_deref(),
        Some(first_date.as_str()),
        "dated by the tombstone"
    );
    Ok(())
}

/// The astronaut photo (one face) from the labelled set (`make test-data`); this test needs it.
fn astronaut() -> image::RgbImage {
    let dir = std::env::var_os("FACE_DATA_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/media-share/face-data")
        });
    let path = dir.join("astronaut.png");
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run `make test-data`)", path.display()));
    image::load_from_memory(&bytes)
        .expect("astronaut.png decodes")
        .to_rgb8()
}

fn mean_difference(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

#[tokio::test(flavor = "multi_thread")]
async fn heic_and_avif_uploads_get_upright_thumbnails_items_and_faces() -> Result<()> {
    use media_imaging::testing::heif::{avifenc, heic_rotated, heif_enc};
    let stack = Stack::start().await?;
    let id = identity_id();
    let upright = astronaut();
    // Stored sideways, as a phone held in portrait stores it; the container says turn it.
    let sideways = image::imageops::rotate270(&upright);
    let sideways_jpeg = encode(
        image::DynamicImage::ImageRgb8(sideways),
        image::ImageFormat::Jpeg,
    );
    // HEIC: irot (a quarter turn clockwise) and Exif orientation 6, as an iPhone writes them.
    let heic = heic_rotated(&heif_enc(&sideways_jpeg), 3, 6);
    // AVIF, 10-bit: avifenc turns the JPEG's Exif orientation into irot and keeps the Exif.
    let avif = avifenc(
        &insert_exif_orientation(&sideways_jpeg, 6),
        "jpg",
        &["--depth", "10"],
    );
    let uploads = [
        (
            format!("public/content/{id}/astronaut.heic"),
            heic,
            "image/heic",
        ),
        (
            format!("private/content/{id}/astronaut.avif"),
            avif,
            "image/avif",
        ),
    ];
    for (key, bytes, _) in &uploads {
        stack
            .upload(
                key,
                bytes.clone(),
                Some(&encode_upload_metadata(
                    key.starts_with("public/"),
                    "Astronaut",
                    "",
                )),
            )
            .await?;
    }
    let expected =
        image::imageops::resize(&upright, 200, 200, image::imageops::FilterType::Lanczos3);
    for (key, bytes, content_type) in &uploads {
        let item = eventually("the item with thumbnail and faces", WAIT, || async {
            Ok(stack
                .item(&id, key)
                .await?
                .filter(|i| i.thumbnail_key.is_some() && i.face_count.is_some()))
        })
        .await?;
        assert_eq!(
            (item.width, item.height),
            (Some(upright.width()), Some(upright.height())),
            "{key}"
        );
        assert_eq!(item.content_type.as_deref(), Some(*content_type), "{key}");
        assert_eq!(item.size, Some(bytes.len() as u64));
        assert_eq!(item.face_count, Some(1), "{key}: the astronaut's face");
        let face = &item.faces.as_ref().expect("faces")[0];
        assert!(face.x + face.w <= upright.width() && face.y + face.h <= upright.height());
        let (thumbnail, _) = stack
            .object(item.thumbnail_key.as_deref().unwrap())
            .await?
            .expect("thumbnail");
        let thumbnail = image::load_from_memory(&thumbnail)?.to_rgb8();
        assert_eq!(thumbnail.dimensions(), (200, 200));
        // Upright: like the upright photo's thumbnail, unlike the stored (sideways) one.
        let upright_difference = mean_difference(&thumbnail, &expected);
        let sideways_difference =
            mean_difference(&thumbnail, &image::imageops::rotate270(&expected));
        assert!(
            upright_difference < 12.0 && sideways_difference > 2.0 * upright_difference,
            "{key}: {upright_difference} vs {sideways_difference}"
        );
        let faces_key = key.replacen("/content/", "/faces/", 1);
        assert_eq!(item.faces_key.as_deref(), Some(faces_key.as_str()));
        let (copy, _) = stack.object(&faces_key).await?.expect("faces copy");
        let copy = image::load_from_memory(&copy)?;
        assert_eq!(
            (copy.width(), copy.height()),
            (upright.width(), upright.height()),
            "{faces_key}"
        );
    }
    Ok(())
}

/// The race tests step the handlers over the in-memory store; this holds it to what S3 (here
/// the emulator) answers for the same conditional writes, through the adapter the functions
/// use: If-Match on a key that is gone is 404 NoSuchKey, which both read as superseded.
#[tokio::test(flavor = "multi_thread")]
async fn conditional_writes_read_the_same_through_the_adapter_and_the_fake() -> Result<()> {
    let stack = Stack::start().await?;
    let id = identity_id();
    let s3 = S3ObjectStore::new(stack.s3.clone(), &stack.info.bucket);
    let memory = media_core::testing::memory::MemoryObjectStore::default();
    let stores: [&dyn ObjectStore; 2] = [&s3, &memory];
    let mut answers = Vec::new();
    for store in stores {
        let key = format!("public/thumbnails/{id}/conditional.jpg");
        let put = |condition| {
            let mut put = PutObject::new(&key, b"x".to_vec(), "image/jpeg");
            put.condition = Some(condition);
            put
        };
        let stale = WriteCondition::Matches("\"0123456789abcdef0123456789abcdef\"".into());
        let mut answer = vec![
            ("If-Match, no object", store.put(put(stale.clone())).await?),
            (
                "If-None-Match, no object",
                store.put(put(WriteCondition::Absent)).await?,
            ),
            (
                "If-None-Match, an object",
                store.put(put(WriteCondition::Absent)).await?,
            ),
            ("If-Match, another version", store.put(put(stale)).await?),
        ];
        let etag = store.head(&key).await?.and_then(|h| h.etag).unwrap();
        answer.push((
            "If-Match, this version",
            store
                .put(put(WriteCondition::Matches(etag.clone())))
                .await?,
        ));
        answer.push((
            "delete If-Match, another version",
            store.delete_if_match(&key, &etag).await?,
        ));
        store.delete(&key).await?;
        answer.push((
            "delete If-Match, no object",
            store.delete_if_match(&key, &etag).await?,
        ));
        answers.push(answer);
    }
    use WriteOutcome::{Applied, Superseded};
    let expected = [
        ("If-Match, no object", Superseded),
        ("If-None-Match, no object", Applied),
        ("If-None-Match, an object", Superseded),
        ("If-Match, another version", Superseded),
        ("If-Match, this version", Applied),
        ("delete If-Match, another version", Superseded),
        ("delete If-Match, no object", Applied),
    ];
    // The emulator deletes whatever version is there on a DeleteObject with If-Match, where
    // S3 answers 412 Precondition Failed ("DeleteObject", `If-Match`,
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html) as the fake does:
    // a gap of the emulator (docs/emulator.md), held here so that its end is noticed.
    let emulator_gap = "delete If-Match, another version";
    let on_the_emulator: Vec<_> = expected
        .iter()
        .map(|&(what, outcome)| {
            (
                what,
                if what == emulator_gap {
                    Applied
                } else {
                    outcome
                },
            )
        })
        .collect();
    assert_eq!(answers[0], on_the_emulator, "S3 through the adapter");
    assert_eq!(answers[1], expected, "the in-memory fake");
    Ok(())
}
