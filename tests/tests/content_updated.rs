//! Uploads through the real S3 API of a fresh devstack; the event travels S3 -> SNS -> SQS ->
//! content-updated as in the cloud.

use std::time::Duration;

use anyhow::Result;
use e2e_tests::{encode, eventually, identity_id, photo_jpeg, Stack};
use media_core::metadata::encode_upload_metadata;
use media_core::testing::{insert_exif_orientation, png_header_claiming};

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread")]
async fn uploads_get_thumbnails_and_items_and_deletes_remove_them() -> Result<()> {
    let stack = Stack::start().await?;
    let id = identity_id();

    let photo_key = format!("public/content/{id}/my photo+1 é.jpg");
    let photo = photo_jpeg(3000, 2000);
    stack.upload(&photo_key, photo.clone(), Some(&encode_upload_metadata(true, "Été à la plage", "Sable & mer <3"))).await?;

    let alpha_key = format!("private/content/{id}/logo.png");
    let alpha = image::RgbaImage::from_fn(640, 320, |x, y| image::Rgba([200, 30, 30, ((x + y) % 256) as u8]));
    stack.upload(&alpha_key, encode(image::DynamicImage::ImageRgba8(alpha), image::ImageFormat::Png), None).await?;

    let rotated_key = format!("public/content/{id}/rotated.jpg");
    stack.upload(&rotated_key, insert_exif_orientation(&photo_jpeg(800, 400), 6), Some(r#"{"title":"","description":"d"}"#)).await?;

    // The photo: JPEG thumbnail fitting 200x200, every attribute of the item.
    let item = eventually("the photo's item", WAIT, || async { stack.item(&id, &photo_key).await }).await?;
    let thumbnail_key = format!("public/thumbnails/{id}/my photo+1 é.jpg");
    assert_eq!(item.thumbnail_key.as_deref(), Some(thumbnail_key.as_str()));
    assert!(item.is_public);
    assert_eq!(item.title, "Été à la plage");
    assert_eq!(item.description, "Sable & mer <3");
    assert_eq!((item.width, item.height), (Some(3000), Some(2000)));
    assert_eq!(item.size, Some(photo.len() as u64));
    assert_eq!(item.content_type.as_deref(), Some("image/jpeg"));
    let upload_date = item.upload_date.clone().unwrap();
    assert_eq!(upload_date.len(), "2026-11-23T14:05:09.123Z".len(), "{upload_date}");
    assert_eq!(item.upload_day.as_deref(), Some(&upload_date[..10]));
    assert!(item.sequencer.is_some());
    let (bytes, content_type) = stack.object(&thumbnail_key).await?.expect("thumbnail");
    assert_eq!(content_type.as_deref(), Some("image/jpeg"));
    let thumbnail = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)?;
    assert_eq!((thumbnail.width(), thumbnail.height()), (200, 133));

    // The PNG with alpha: a PNG thumbnail that keeps it; private, so no upload day.
    let item = eventually("the PNG's item", WAIT, || async { stack.item(&id, &alpha_key).await }).await?;
    assert!(!item.is_public);
    assert_eq!(item.upload_day, None);
    assert_eq!(item.title, "logo.png");
    let (bytes, content_type) = stack.object(&format!("private/thumbnails/{id}/logo.png")).await?.expect("thumbnail");
    assert_eq!(content_type.as_deref(), Some("image/png"));
    let thumbnail = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)?;
    assert!(thumbnail.color().has_alpha());
    assert_eq!((thumbnail.width(), thumbnail.height()), (200, 100));

    // EXIF orientation 6: width and height swapped, thumbnail upright.
    let item = eventually("the rotated item", WAIT, || async { stack.item(&id, &rotated_key).await }).await?;
    assert_eq!((item.width, item.height), (Some(400), Some(800)));
    assert_eq!(item.title, "rotated.jpg", "an empty title falls back to the file name");
    let (bytes, _) = stack.object(&format!("public/thumbnails/{id}/rotated.jpg")).await?.expect("thumbnail");
    let thumbnail = image::load_from_memory(&bytes)?;
    assert_eq!((thumbnail.width(), thumbnail.height()), (100, 200));

    // Deleting the originals removes thumbnails and items.
    for key in [&photo_key, &alpha_key, &rotated_key] {
        stack.delete(key).await?;
    }
    for key in [&photo_key, &alpha_key, &rotated_key] {
        eventually("the item to go", WAIT, || async { Ok(stack.item(&id, key).await?.is_none().then_some(())) }).await?;
        let thumbnail = key.replacen("/content/", "/thumbnails/", 1);
        assert!(stack.object(&thumbnail).await?.is_none(), "{thumbnail} left behind");
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
        ("text.jpg", b"Dear diary, today I uploaded a text file.".to_vec()),
        ("bomb.png", png_header_claiming(100_000, 100_000)),
    ];
    for (name, bytes) in &bad {
        stack.upload(&format!("private/content/{id}/{name}"), bytes.clone(), None).await?;
    }
    let good_key = format!("private/content/{id}/good.jpg");
    stack.upload(&good_key, photo_jpeg(1024, 768), None).await?;

    let good = eventually("the good picture", WAIT, || async { stack.item(&id, &good_key).await }).await?;
    assert!(good.thumbnail_key.is_some());
    for (name, bytes) in &bad {
        let key = format!("private/content/{id}/{name}");
        let item = eventually("the bad upload's item", WAIT, || async { stack.item(&id, &key).await }).await?;
        assert_eq!(item.thumbnail_key, None, "{name}");
        assert_eq!(item.size, Some(bytes.len() as u64), "{name}");
        let (kept, _) = stack.object(&key).await?.expect("the original is kept");
        assert_eq!(&kept, bytes, "{name}");
        assert!(stack.object(&format!("private/thumbnails/{id}/{name}")).await?.is_none());
        assert!(stack.log().contains(&key), "the log names {key}");
    }
    let log = stack.log();
    assert!(log.contains("100000x100000 pixels is over the limit"), "{log}");
    assert!(log.contains("empty file"));
    assert!(log.contains("not an image"));

    let peak = stack.peak_rss_bytes()?;
    assert!(peak < 512 * 1024 * 1024, "devstack peaked at {} MiB", peak / 1024 / 1024);
    Ok(())
}
