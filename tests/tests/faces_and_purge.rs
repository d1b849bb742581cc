//! face-detection and purge-bucket on a fresh devstack: uploads through S3 -> SNS -> SQS ->
//! face-detection, the direct call through `devstack invoke` as a developer makes it, and the
//! purge of a large `tmp/` with its request counts.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use chrono::Utc;
use e2e_tests::{eventually, identity_id, photo_jpeg, Stack};
use media_core::metadata::encode_upload_metadata;

const WAIT: Duration = Duration::from_secs(60);

/// `devstack invoke FUNCTION EVENT` against `stack`, as a developer runs it: the devstack
/// binary next to the test binary, `DEVSTACK_STATE_DIR` naming the stack.
async fn invoke(
    stack: &Stack,
    function: &str,
    event: serde_json::Value,
) -> Result<serde_json::Value> {
    let bin = std::env::var_os("DEVSTACK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("current exe");
            exe.parent()
                .and_then(|deps| deps.parent())
                .expect("target dir")
                .join("devstack")
        });
    let output = tokio::process::Command::new(&bin)
        .args(["invoke", function, &event.to_string()])
        .env("DEVSTACK_STATE_DIR", &stack.state_dir)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .with_context(|| format!("running {}", bin.display()))?;
    ensure!(
        output.status.success(),
        "devstack invoke {function} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "invoke printed no JSON: {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The astronaut photo (one face) from the labelled set that `make test-data` fetches.
fn astronaut() -> Vec<u8> {
    let dir = std::env::var_os("FACE_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".cache/media-share/face-data"))
        })
        .expect("FACE_DATA_DIR or HOME");
    let path = dir.join("astronaut.png");
    std::fs::read(&path)
        .unwrap_or_else(|err| panic!("{}: {err}: run `make test-data`", path.display()))
}

fn is_tmp_key(key: &str) -> bool {
    let Some(name) = key
        .strip_prefix("tmp/")
        .and_then(|n| n.strip_suffix(".jpg"))
    else {
        return false;
    };
    let (stamp, uuid) = name.split_at(14.min(name.len()));
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%d%H%M%S").is_ok()
        && uuid.len() == 37
        && uuid.starts_with('-')
        && uuid[1..].chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_get_faces_marked_and_the_direct_call_returns_a_working_link() -> Result<()> {
    let stack = Stack::start().await?;
    let id = identity_id();

    let uploads = [
        (
            format!("private/content/{id}/landscape.jpg"),
            photo_jpeg(1600, 1000),
            Some(0u32),
        ),
        (
            format!("public/content/{id}/astronaut one.png"),
            astronaut(),
            Some(1),
        ),
    ];
    for (key, bytes, _) in &uploads {
        stack
            .upload(
                key,
                bytes.clone(),
                Some(&encode_upload_metadata(
                    key.starts_with("public/"),
                    "A title",
                    "d",
                )),
            )
            .await?;
    }
    for (key, bytes, faces) in &uploads {
        // Both functions ran, in whichever order: each one's attributes are there.
        let item = eventually("the item with thumbnail and faces", WAIT, || async {
            Ok(stack
                .item(&id, key)
                .await?
                .filter(|i| i.face_count.is_some() && i.thumbnail_key.is_some()))
        })
        .await?;
        let faces_key = key.replacen("/content/", "/faces/", 1);
        assert_eq!(item.faces_key.as_deref(), Some(faces_key.as_str()));
        assert_eq!(item.face_count, *faces, "{key}");
        assert_eq!(item.faces.as_ref().map(Vec::len), faces.map(|n| n as usize));
        assert_eq!(item.title, "A title");
        assert_eq!(
            item.thumbnail_key,
            Some(key.replacen("/content/", "/thumbnails/", 1))
        );
        let original = image::load_from_memory(bytes)?;
        assert_eq!(
            (item.width, item.height),
            (Some(original.width()), Some(original.height()))
        );
        assert_eq!(item.size, Some(bytes.len() as u64));
        let (copy, _) = stack.object(&faces_key).await?.context("faces copy")?;
        let copy = image::load_from_memory(&copy)?;
        assert_eq!(
            (copy.width(), copy.height()),
            (original.width(), original.height()),
            "{faces_key}"
        );
        for face in item.faces.unwrap_or_default() {
            assert!(face.x + face.w <= original.width() && face.y + face.h <= original.height());
        }
    }

    // The direct call on an object of the bucket.
    let (key, bytes, faces) = uploads.last().unwrap().clone();
    let answer = invoke(
        &stack,
        "face-detection",
        serde_json::json!({"bucket": stack.info.bucket, "key": key}),
    )
    .await?;
    assert_eq!(answer["faces"].as_u64(), faces.map(u64::from), "{answer}");
    assert_eq!(
        answer["boxes"].as_array().map(Vec::len),
        faces.map(|n| n as usize)
    );
    let output_key = answer["outputKey"].as_str().context("outputKey")?;
    assert!(is_tmp_key(output_key), "{output_key}");
    let stamp =
        chrono::NaiveDateTime::parse_from_str(&output_key[4..18], "%Y%m%d%H%M%S")?.and_utc();
    assert!(
        (Utc::now() - stamp).num_seconds().abs() < 120,
        "the key's time is UTC now: {output_key}"
    );
    let url = answer["outputUrl"].as_str().context("outputUrl")?;
    assert!(url.contains("X-Amz-Expires=3600"), "{url}");
    let response = reqwest::get(url).await?;
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    let body = response.bytes().await?;
    let marked = image::load_from_memory_with_format(&body, image::ImageFormat::Jpeg)?;
    let original = image::load_from_memory(&bytes)?;
    assert_eq!(
        (marked.width(), marked.height()),
        (original.width(), original.height())
    );

    // The direct call on a URL: the link just returned serves as one.
    let again = invoke(
        &stack,
        "face-detection",
        serde_json::json!({"imageUrl": url}),
    )
    .await?;
    assert_eq!(again["faces"], answer["faces"], "{again}");
    assert!(is_tmp_key(again["outputKey"].as_str().unwrap_or_default()));

    // A bad request is an error with a message, not a crash.
    let err = invoke(
        &stack,
        "face-detection",
        serde_json::json!({"imageUrl": "ftp://example.com/x.jpg"}),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("http or https"), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn purge_deletes_exactly_the_old_tmp_objects_in_batches() -> Result<()> {
    let stack = Stack::start().await?;
    let now = Utc::now();
    let stamp = |age: i64| {
        (now - chrono::Duration::seconds(age))
            .format("%Y%m%d%H%M%S")
            .to_string()
    };
    let mut keys: Vec<(String, bool)> = (0..2500)
        .map(|i| match i % 4 {
            0 | 1 => (format!("tmp/{}-{i:05}.jpg", stamp(2 * 3600 + i)), true),
            2 => (format!("tmp/{}-{i:05}.jpg", stamp(600)), false),
            // No timestamp: LastModified (now) says recent.
            _ => (format!("tmp/upload-{i:05}.jpg"), false),
        })
        .collect();
    let old_name = stamp(30 * 86400);
    for key in [
        format!("tmpfiles/{old_name}-a.jpg"),
        format!("archive/tmp/{old_name}-b.jpg"),
        format!("public/index/{old_name}.json"),
    ] {
        keys.push((key, false));
    }
    let mut uploads = tokio::task::JoinSet::new();
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    for (key, _) in &keys {
        let (s3, bucket, key, permit) = (
            stack.s3.clone(),
            stack.info.bucket.clone(),
            key.clone(),
            semaphore.clone(),
        );
        uploads.spawn(async move {
            let _permit = permit.acquire_owned().await?;
            s3.put_object()
                .bucket(bucket)
                .key(&key)
                .body(b"x".to_vec().into())
                .send()
                .await
                .with_context(|| key)?;
            anyhow::Ok(())
        });
    }
    while let Some(done) = uploads.join_next().await {
        done??;
    }

    let dry = invoke(&stack, "purge-bucket", serde_json::json!({"dryRun": true})).await?;
    assert_eq!(dry["expired"], 1250, "{dry}");
    assert_eq!(dry["deleted"], 0);

    let report = invoke(&stack, "purge-bucket", serde_json::json!({})).await?;
    eprintln!("purge report: {report}");
    assert_eq!(report["listed"], 2500, "{report}");
    assert_eq!(report["deleted"], 1250);
    assert_eq!(report["kept"], 1250);
    assert_eq!(report["failed"], 0);
    assert!(report["listRequests"].as_u64().unwrap() <= 3, "{report}");
    assert!(report["deleteRequests"].as_u64().unwrap() <= 3, "{report}");

    let mut left = std::collections::BTreeSet::new();
    let mut pages = stack
        .s3
        .list_objects_v2()
        .bucket(&stack.info.bucket)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        left.extend(
            page?
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
    }
    for (key, old) in &keys {
        assert_eq!(left.contains(key), !old, "{key}");
    }
    Ok(())
}
