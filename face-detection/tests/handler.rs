//! The handler against in-memory stores and a stand-in detector, driven by S3 event JSON as
//! S3 sends it. The real detectors are measured in `labelled.rs`.

use std::io::Cursor;
use std::sync::Arc;

use face_detection::{
    DetectorError, DirectError, DirectRequest, FaceDetection, FaceDetector, Outcome, Settings, Skip,
};
use image::DynamicImage;
use media_core::aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use media_core::events::{content_change, s3_records_from_body, ContentChange};
use media_core::item::{FaceBox, ItemKey, MediaItem};
use media_core::testing::memory::{MemoryItemStore, MemoryObjectStore};
use media_core::testing::s3_event_body;
use media_imaging::testing::jpeg;
use media_imaging::{ImageProblem, Unusable};

const ID: &str = "us-east-1:0b5c0000-0000-4000-8000-000000000001";

/// Finds the same boxes in every image, or fails like a broken model.
struct Stand(Result<Vec<FaceBox>, ()>);

impl FaceDetector for Stand {
    fn name(&self) -> &'static str {
        "stand-in"
    }
    fn detect(&self, image: &DynamicImage) -> Result<Vec<FaceBox>, DetectorError> {
        assert!(image.width() > 0);
        self.0
            .clone()
            .map_err(|_| DetectorError::Other("model exploded".into()))
    }
}

fn function(faces: Vec<FaceBox>) -> FaceDetection<MemoryObjectStore, MemoryItemStore> {
    with_detector(Stand(Ok(faces)))
}

fn with_detector(detector: Stand) -> FaceDetection<MemoryObjectStore, MemoryItemStore> {
    FaceDetection::new(
        MemoryObjectStore::default(),
        MemoryItemStore::default(),
        Arc::new(detector),
        Settings::new("media"),
    )
}

fn change(name: &str, key: &str) -> ContentChange {
    let record = s3_records_from_body(&s3_event_body(name, key, "0A"))
        .unwrap()
        .remove(0);
    content_change(0, record).unwrap()
}

fn encode(image: DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

fn item_key(key: &str) -> ItemKey {
    ItemKey {
        identity_id: ID.into(),
        object_key: key.into(),
    }
}

#[tokio::test]
async fn created_writes_the_faces_copy_and_only_the_face_attributes() {
    let boxes = vec![
        FaceBox {
            x: 10,
            y: 20,
            w: 50,
            h: 60,
        },
        FaceBox {
            x: 300,
            y: 100,
            w: 40,
            h: 40,
        },
    ];
    let f = function(boxes.clone());
    let key = format!("public/content/{ID}/my photo+1 é.jpg");
    f.objects().insert(
        &key,
        media_imaging::testing::insert_exif_orientation(&jpeg(800, 600), 6),
        &[],
    );
    // content-updated ran first: its attributes must survive.
    f.items().put(MediaItem {
        identity_id: ID.into(),
        object_key: key.clone(),
        thumbnail_key: Some("t".into()),
        title: "Été".into(),
        width: Some(600),
        height: Some(800),
        sequencer: Some(media_core::item::Sequencer::new("0A")),
        ..Default::default()
    });

    let outcome = f.handle(&change("ObjectCreated:Put", &key)).await.unwrap();
    let faces_key = format!("public/faces/{ID}/my photo+1 é.jpg");
    assert_eq!(
        outcome,
        Outcome::Marked {
            faces_key: faces_key.clone(),
            face_count: 2
        }
    );

    let copy = f.objects().object(&faces_key).expect("faces copy");
    assert_eq!(copy.content_type, "image/jpeg");
    let decoded = image::load_from_memory(&copy.body).unwrap();
    // Same dimensions as the original after EXIF orientation (6: rotated a quarter turn).
    assert_eq!((decoded.width(), decoded.height()), (600, 800));
    let item = f.items().item(&item_key(&key)).unwrap();
    assert_eq!(item.faces_key.as_deref(), Some(faces_key.as_str()));
    assert_eq!(item.face_count, Some(2));
    assert_eq!(item.faces, Some(boxes));
    assert_eq!(item.thumbnail_key.as_deref(), Some("t"));
    assert_eq!(item.title, "Été");
    assert_eq!((item.width, item.height), (Some(600), Some(800)));
    assert_eq!(item.sequencer, Some(media_core::item::Sequencer::new("0A")));
}

#[tokio::test]
async fn zero_faces_still_records_a_count_and_a_copy() {
    let f = function(vec![]);
    let key = format!("private/content/{ID}/landscape.png");
    let alpha = image::RgbaImage::from_fn(64, 32, |x, _| image::Rgba([0, 100, 0, (x * 4) as u8]));
    f.objects().insert(
        &key,
        encode(DynamicImage::ImageRgba8(alpha), image::ImageFormat::Png),
        &[],
    );
    let outcome = f.handle(&change("ObjectCreated:Put", &key)).await.unwrap();
    assert_eq!(
        outcome,
        Outcome::Marked {
            faces_key: format!("private/faces/{ID}/landscape.png"),
            face_count: 0
        }
    );
    let item = f.items().item(&item_key(&key)).unwrap();
    assert_eq!(item.face_count, Some(0));
    assert_eq!(item.faces, Some(vec![]));
    // Alpha is kept, as for thumbnails.
    let copy = f
        .objects()
        .object(&format!("private/faces/{ID}/landscape.png"))
        .unwrap();
    assert_eq!(copy.content_type, "image/png");
    assert!(image::load_from_memory(&copy.body)
        .unwrap()
        .color()
        .has_alpha());
}

#[tokio::test]
async fn running_twice_gives_the_same_result() {
    let f = function(vec![FaceBox {
        x: 1,
        y: 1,
        w: 30,
        h: 30,
    }]);
    let key = format!("public/content/{ID}/a.jpg");
    f.objects().insert(&key, jpeg(100, 100), &[]);
    let first = f.handle(&change("ObjectCreated:Put", &key)).await.unwrap();
    let item = f.items().item(&item_key(&key)).unwrap();
    let second = f.handle(&change("ObjectCreated:Put", &key)).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(f.items().item(&item_key(&key)).unwrap(), item);
}

#[tokio::test]
async fn bad_images_are_reported_and_nothing_is_written_or_lost() {
    let f = function(vec![]);
    let truncated = jpeg(300, 200);
    for (name, bytes) in [
        ("empty.jpg", Vec::new()),
        ("text.jpg", b"not an image".to_vec()),
        ("truncated.jpg", truncated[..truncated.len() / 2].to_vec()),
        (
            "bomb.png",
            media_imaging::testing::png_header_claiming(100_000, 100_000),
        ),
    ] {
        let key = format!("public/content/{ID}/{name}");
        f.objects().insert(&key, bytes.clone(), &[]);
        let outcome = f.handle(&change("ObjectCreated:Put", &key)).await.unwrap();
        assert!(
            matches!(outcome, Outcome::NotAnImage { .. }),
            "{name}: {outcome:?}"
        );
        assert_eq!(
            f.objects().object(&key).unwrap().body,
            bytes,
            "{name}: original kept"
        );
        assert!(f
            .objects()
            .object(&format!("public/faces/{ID}/{name}"))
            .is_none());
        let item = f.items().item(&item_key(&key));
        assert!(
            item.is_none_or(|i| i.faces_key.is_none()
                && i.face_count.is_none()
                && i.upload_date.is_none()),
            "{name}: no face attributes"
        );
    }
}

#[tokio::test]
async fn a_bad_image_does_not_fail_the_batch_but_a_broken_detector_retries() {
    let message = |id: &str, key: &str| {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = Some(s3_event_body("ObjectCreated:Put", key, "0B"));
        m.event_source = Some("aws:sqs".into());
        m
    };
    let bad = format!("public/content/{ID}/bad.jpg");
    let good = format!("public/content/{ID}/good.jpg");
    let mut event = SqsEvent::default();
    event.records = vec![message("bad", &bad), message("good", &good)];

    let f = function(vec![]);
    f.objects().insert(&bad, b"garbage".to_vec(), &[]);
    f.objects().insert(&good, jpeg(50, 50), &[]);
    let response = f.handle_sqs(event.clone()).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "{:?}",
        response.batch_item_failures
    );
    assert_eq!(
        f.items().item(&item_key(&good)).unwrap().face_count,
        Some(0)
    );

    let broken = with_detector(Stand(Err(())));
    broken.objects().insert(&good, jpeg(50, 50), &[]);
    broken.objects().insert(&bad, b"garbage".to_vec(), &[]);
    let response = broken.handle_sqs(event).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["good"]);
}

#[tokio::test]
async fn removals_and_vanished_originals_touch_nothing() {
    let f = function(vec![]);
    let key = format!("public/content/{ID}/gone.jpg");
    assert_eq!(
        f.handle(&change("ObjectCreated:Put", &key)).await.unwrap(),
        Outcome::Skipped(Skip::ObjectGoneOrReplaced)
    );
    assert_eq!(
        f.handle(&change("ObjectRemoved:Delete", &key))
            .await
            .unwrap(),
        Outcome::Skipped(Skip::RemovalIsContentUpdated)
    );
    assert!(f.objects().keys().is_empty());
    assert!(f.items().is_empty());
}

#[tokio::test]
async fn direct_call_on_a_bucket_object_writes_tmp_jpeg_and_presigns_it() {
    let f = function(vec![FaceBox {
        x: 5,
        y: 5,
        w: 40,
        h: 40,
    }]);
    let alpha = image::RgbaImage::from_fn(120, 80, |_, _| image::Rgba([10, 20, 30, 128]));
    let source = format!("public/content/{ID}/x.png");
    f.objects().insert(
        &source,
        encode(DynamicImage::ImageRgba8(alpha), image::ImageFormat::Png),
        &[],
    );
    let answer = f
        .handle_event(serde_json::json!({"bucket": "media", "key": source}))
        .await
        .unwrap();
    assert_eq!(answer["faces"], 1);
    assert_eq!(
        answer["boxes"],
        serde_json::json!([{"x": 5, "y": 5, "w": 40, "h": 40}])
    );
    let key = answer["outputKey"].as_str().unwrap();
    assert_eq!(answer["outputUrl"], format!("memory:///{key}?expires=3600"));
    // tmp/YYYYMMDDHHMMSS-uuid.jpg, the time in UTC, now.
    let name = key.strip_prefix("tmp/").unwrap();
    let (stamp, rest) = name.split_at(14);
    let time = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%d%H%M%S")
        .unwrap()
        .and_utc();
    assert!((chrono::Utc::now() - time).num_seconds().abs() < 60);
    assert_eq!(
        rest.len(),
        "-0b5c0000-0000-4000-8000-000000000001.jpg".len()
    );
    assert!(rest.starts_with('-') && rest.ends_with(".jpg"));
    let out = f.objects().object(key).unwrap();
    assert_eq!(out.content_type, "image/jpeg");
    let decoded = image::load_from_memory_with_format(&out.body, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (120, 80));
}

#[tokio::test]
async fn direct_call_refuses_what_it_should() {
    let f = function(vec![]);
    let cases = [
        serde_json::json!({}),
        serde_json::json!({"imageUrl": "file:///etc/passwd"}),
        serde_json::json!({"imageUrl": "not a url"}),
        serde_json::json!({"bucket": "other-bucket", "key": "a.jpg"}),
        // Only what the caller could publish anyway: not private uploads, not other areas.
        serde_json::json!({"bucket": "media", "key": format!("private/content/{ID}/a.jpg")}),
        serde_json::json!({"bucket": "media", "key": "public/index/content.json"}),
        serde_json::json!({"bucket": "media", "key": "public/content/../private/content/x.jpg"}),
        serde_json::json!({"imageUrl": "http://127.0.0.1:1/x.jpg", "key": "a.jpg"}),
    ];
    for case in cases {
        let err = f.handle_event(case.clone()).await.unwrap_err();
        assert!(matches!(err, DirectError::BadRequest(_)), "{case}: {err}");
    }
    let err = f
        .handle_direct(&DirectRequest {
            bucket: Some("media".into()),
            key: Some("tmp/nope.jpg".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, DirectError::NotFound { .. }), "{err}");
    assert!(f.objects().keys().is_empty(), "nothing written");
}

/// Serves `body` once per connection with the given Content-Length header (or none).
async fn serve(body: Vec<u8>, declared_length: Option<usize>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/photo.jpg", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let length = declared_length
                    .map(|n| format!("Content-Length: {n}\r\n"))
                    .unwrap_or_default();
                let head = format!("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n{length}Connection: close\r\n\r\n");
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    url
}

#[tokio::test]
async fn direct_call_refuses_urls_that_lead_inside() {
    let f = function(vec![]);
    let served = serve(jpeg(32, 32), None).await;
    for url in [
        served.as_str(),
        "http://localhost:9001/2018-06-01/runtime/invocation/next",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/x.jpg",
        "http://[::1]:80/x.jpg",
        "http://[::ffff:192.168.1.1]/x.jpg",
    ] {
        let err = f
            .handle_event(serde_json::json!({ "imageUrl": url }))
            .await
            .unwrap_err();
        match err {
            DirectError::BadRequest(reason) => {
                assert!(reason.contains("not a public address"), "{url}: {reason}")
            }
            other => panic!("{url}: {other}"),
        }
    }
    assert!(face_detection::is_public_address(
        "93.184.216.34".parse().unwrap()
    ));
    assert!(face_detection::is_public_address(
        "2606:2800:220:1:248:1893:25c8:1946".parse().unwrap()
    ));
    // Every special-purpose block that reaches no public host (or reaches another network
    // through a translator or tunnel).
    for address in [
        "100.64.0.1",
        "fd00::1",
        "198.18.0.1",
        "198.19.255.254",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.0.8",
        "192.88.99.1",
        "64:ff9b::a00:1",
        "64:ff9b:1::1",
        "::a00:1",
        "2002:a00:1::1",
        "2001::1",
        "2001:db8::1",
        "3fff::1",
        "100::1",
        "::ffff:10.0.0.1",
        "fe80::1",
        "ff02::1",
        "::",
        "0.0.0.0",
    ] {
        assert!(
            !face_detection::is_public_address(address.parse().unwrap()),
            "{address} counted as public"
        );
    }
}

#[tokio::test]
async fn direct_call_downloads_within_the_size_limit() {
    let mut settings = Settings::new("media");
    settings.limits.max_bytes = 20_000;
    // The test server is on loopback.
    settings.allow_private_urls = true;
    let f = FaceDetection::new(
        MemoryObjectStore::default(),
        MemoryItemStore::default(),
        Arc::new(Stand(Ok(vec![]))),
        settings,
    );
    let small = jpeg(64, 64);
    assert!(small.len() < 20_000);
    let url = serve(small.clone(), Some(small.len())).await;
    let answer = f
        .handle_event(serde_json::json!({ "imageUrl": url }))
        .await
        .unwrap();
    assert_eq!(answer["faces"], 0);

    let big = jpeg(1500, 1500);
    assert!(big.len() > 20_000);
    for declared in [Some(big.len()), None] {
        let url = serve(big.clone(), declared).await;
        let err = f
            .handle_event(serde_json::json!({ "imageUrl": url }))
            .await
            .unwrap_err();
        assert!(
            matches!(err, DirectError::TooLarge { .. }),
            "{declared:?}: {err}"
        );
    }
}

#[tokio::test]
async fn a_picture_replaced_by_an_undecodable_one_loses_its_faces() {
    let f = function(vec![FaceBox {
        x: 1,
        y: 1,
        w: 10,
        h: 10,
    }]);
    let key = format!("public/content/{ID}/swap.jpg");
    f.objects().insert(&key, jpeg(64, 64), &[]);
    f.handle(&media_core::testing::s3_change(
        "ObjectCreated:Put",
        &key,
        "0A",
    ))
    .await
    .unwrap();
    assert_eq!(f.items().item(&item_key(&key)).unwrap().face_count, Some(1));
    f.objects().insert(&key, b"not a picture".to_vec(), &[]);
    let outcome = f
        .handle(&media_core::testing::s3_change(
            "ObjectCreated:Put",
            &key,
            "0B",
        ))
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            Outcome::NotAnImage {
                reason: Unusable::Image {
                    problem: ImageProblem::UnknownFormat,
                    ..
                }
            }
        ),
        "{outcome:?}"
    );
    let item = f.items().item(&item_key(&key)).unwrap();
    assert_eq!(
        (item.faces_key, item.face_count, item.faces),
        (None, None, None)
    );
    assert!(f
        .objects()
        .object(&format!("public/faces/{ID}/swap.jpg"))
        .is_none());
    // And a late, older detection does not bring them back.
    f.objects().insert(&key, jpeg(64, 64), &[]);
    let late = f
        .handle(&media_core::testing::s3_change(
            "ObjectCreated:Put",
            &key,
            "0A",
        ))
        .await
        .unwrap();
    assert_eq!(late, Outcome::Skipped(Skip::LaterEventAppliedMeanwhile));
    assert_eq!(f.items().item(&item_key(&key)).unwrap().face_count, None);
    assert!(f
        .objects()
        .object(&format!("public/faces/{ID}/swap.jpg"))
        .is_none());
}

#[tokio::test]
async fn faces_are_found_on_a_bounded_decode_and_reported_in_original_pixels() {
    // A detector that finds one face covering the middle half of whatever it is given, and
    // remembers the size it was given.
    struct Middle(std::sync::Mutex<Vec<(u32, u32)>>);
    impl FaceDetector for Middle {
        fn name(&self) -> &'static str {
            "middle"
        }
        fn detect(&self, image: &DynamicImage) -> Result<Vec<FaceBox>, DetectorError> {
            let (w, h) = (image.width(), image.height());
            self.0.lock().unwrap().push((w, h));
            Ok(vec![FaceBox {
                x: w / 4,
                y: h / 4,
                w: w / 2,
                h: h / 2,
            }])
        }
    }
    let detector = Arc::new(Middle(Default::default()));
    let f = FaceDetection::new(
        MemoryObjectStore::default(),
        MemoryItemStore::default(),
        detector.clone(),
        Settings::new("media"),
    );
    // A BMP decodes at full size: detected as it is up to DETECTION_MAX_SIDE, brought to the
    // marked copy's size first beyond it. A PNG shrinks on load (by whole blocks, streamed) to
    // just over the marked copy's size, as a JPEG does by DCT scaling. The marked copy fits
    // MARKED_COPY_MAX_SIDE either way.
    for (format, width, height, detected_at) in [
        (image::ImageFormat::Bmp, 4096, 2048, (4096, 2048)),
        (image::ImageFormat::Bmp, 8192, 2048, (2048, 512)),
        (image::ImageFormat::Png, 4096, 2048, (2048, 1024)),
    ] {
        let extension = format.extensions_str()[0];
        let key = format!("public/content/{ID}/big-{width}.{extension}");
        let big =
            image::RgbImage::from_fn(width, height, |x, _| image::Rgb([(x % 256) as u8, 0, 0]));
        f.objects()
            .insert(&key, encode(DynamicImage::ImageRgb8(big), format), &[]);
        f.handle(&change("ObjectCreated:Put", &key)).await.unwrap();
        assert_eq!(detector.0.lock().unwrap().pop(), Some(detected_at));
        assert!(detected_at.0.max(detected_at.1) <= face_detection::DETECTION_MAX_SIDE);
        let item = f.items().item(&item_key(&key)).unwrap();
        assert_eq!(
            item.faces.unwrap(),
            [FaceBox {
                x: width / 4,
                y: height / 4,
                w: width / 2,
                h: height / 2
            }]
        );
        let copy = f
            .objects()
            .object(&format!("public/faces/{ID}/big-{width}.{extension}"))
            .unwrap();
        let decoded = image::load_from_memory(&copy.body).unwrap();
        assert_eq!(
            (decoded.width(), decoded.height()),
            (2048, 2048 * height / width)
        );
    }
}
