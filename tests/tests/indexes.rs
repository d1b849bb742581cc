//! The indexes follow the table through the real stream: uploads, edits, deletes, bursts,
//! several days, and a slow writer racing a fast one.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::Result;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use e2e_tests::{encode, eventually, identity_id, Stack};
use media_core::aws::{DynamoItemStore, S3ObjectStore};
use media_core::metadata::encode_upload_metadata;
use media_core::ports::*;
use media_index::{ContentIndex, IndexPublisher, IndexTarget, Published};

const WAIT: Duration = Duration::from_secs(60);
const PUBLIC_INDEX: &str = "public/index/content.json";

fn small_png(n: u32) -> Vec<u8> {
    encode(
        image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            64,
            48,
            image::Rgb([n as u8, 100, 200]),
        )),
        image::ImageFormat::Png,
    )
}

async fn index(stack: &Stack, key: &str) -> Result<Option<ContentIndex>> {
    Ok(match stack.object(key).await? {
        Some((bytes, _)) => Some(serde_json::from_slice(&bytes)?),
        None => None,
    })
}

fn keys(index: &ContentIndex) -> Vec<String> {
    index.items.iter().map(|e| e.object_key.clone()).collect()
}

/// Waits until the index at `key` satisfies `check`.
async fn index_where(
    stack: &Stack,
    key: &str,
    what: &str,
    check: impl Fn(&ContentIndex) -> bool,
) -> Result<ContentIndex> {
    eventually(what, WAIT, || async {
        Ok(index(stack, key).await?.filter(|i| check(i)))
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_edits_and_deletes_reach_the_indexes() -> Result<()> {
    let stack = Stack::start().await?;
    let owner = identity_id();
    let private_index = format!("private/index/{owner}/content.json");
    let public_key = format!("public/content/{owner}/sunset.png");
    let private_key = format!("private/content/{owner}/diary.png");
    stack
        .upload(
            &public_key,
            small_png(1),
            Some(&encode_upload_metadata(true, "Sunset", "red sky")),
        )
        .await?;
    let public = index_where(
        &stack,
        PUBLIC_INDEX,
        "the public upload in the public index",
        |i| keys(i).contains(&public_key),
    )
    .await?;
    stack
        .upload(
            &private_key,
            small_png(2),
            Some(&encode_upload_metadata(false, "Diary", "")),
        )
        .await?;
    let mine = index_where(
        &stack,
        &private_index,
        "both uploads in the private index",
        |i| i.items.len() == 2,
    )
    .await?;
    assert_eq!(
        keys(&mine),
        [private_key.clone(), public_key.clone()],
        "newest first"
    );
    assert!(!mine.items[0].is_public && mine.items[1].is_public);
    let entry = &public.items[0];
    assert_eq!(entry.title, "Sunset");
    assert_eq!(
        entry.thumbnail_key.as_deref(),
        Some(format!("public/thumbnails/{owner}/sunset.png").as_str())
    );
    assert_eq!((entry.width, entry.height), (Some(64), Some(48)));

    // Headers the client relies on.
    let head = stack
        .s3
        .head_object()
        .bucket(&stack.info.bucket)
        .key(PUBLIC_INDEX)
        .send()
        .await?;
    assert_eq!(head.content_type(), Some("application/json"));
    assert_eq!(head.cache_control(), Some("no-cache"));
    let last_modified = head.last_modified().cloned().unwrap();
    let unchanged = stack
        .s3
        .get_object()
        .bucket(&stack.info.bucket)
        .key(PUBLIC_INDEX)
        .if_modified_since(last_modified)
        .send()
        .await;
    let status = unchanged
        .err()
        .and_then(|e| e.raw_response().map(|r| r.status().as_u16()));
    assert_eq!(
        status,
        Some(304),
        "a poll with If-Modified-Since gets 304 when nothing changed"
    );

    // The private upload never reaches the public index.
    assert!(!keys(&index(&stack, PUBLIC_INDEX).await?.unwrap()).contains(&private_key));

    // An owner's edit: the request the client makes (client/src/api.ts, `updateText`), title
    // and description of an existing item only; signed here with the harness's keys (the
    // browser tests make it with the owner's Cognito credentials, checked by the IAM replay).
    stack
        .dynamodb
        .update_item()
        .table_name(&stack.info.table)
        .key("identityId", AttributeValue::S(owner.clone()))
        .key("objectKey", AttributeValue::S(public_key.clone()))
        .update_expression("SET #title = :title, #description = :description")
        .condition_expression("attribute_exists(#title)")
        .expression_attribute_names("#title", "title")
        .expression_attribute_names("#description", "description")
        .expression_attribute_values(":title", AttributeValue::S("Sunset, edited".into()))
        .expression_attribute_values(":description", AttributeValue::S("<b>not bold</b>".into()))
        .return_values(aws_sdk_dynamodb::types::ReturnValue::None)
        .send()
        .await?;
    index_where(&stack, PUBLIC_INDEX, "the edit in the public index", |i| {
        i.items
            .iter()
            .any(|e| e.title == "Sunset, edited" && e.description == "<b>not bold</b>")
    })
    .await?;
    index_where(
        &stack,
        &private_index,
        "the edit in the private index",
        |i| i.items.iter().any(|e| e.title == "Sunset, edited"),
    )
    .await?;

    stack.delete(&public_key).await?;
    index_where(
        &stack,
        PUBLIC_INDEX,
        "the delete in the public index",
        |i| !keys(i).contains(&public_key),
    )
    .await?;
    index_where(
        &stack,
        &private_index,
        "the delete in the private index",
        |i| keys(i) == [private_key.clone()],
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_public_index_holds_the_100_newest_over_several_days() -> Result<()> {
    let stack = Stack::start().await?;
    let owner = identity_id();
    let mut uploaded = Vec::new();
    for n in 0..105 {
        let key = format!("public/content/{owner}/burst-{n:03}.png");
        stack.upload(&key, small_png(n), None).await?;
        uploaded.push(key);
    }
    let private_index = format!("private/index/{owner}/content.json");
    // Version 2: the newest 100 on the owner's head, the other 5 on its pages.
    eventually("all 105 in the owner's head and pages", WAIT, || async {
        Ok(whole_index(&stack, &private_index)
            .await?
            .filter(|(head, all)| head.items.len() == 100 && all.len() == 105))
    })
    .await?;

    // Yesterday's pictures, written straight to the table as an older deployment would have
    // (with thumbnails: the public index lists pictures only).
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let other = identity_id();
    for n in 0..3 {
        let key = format!("public/content/{other}/yesterday-{n}.png");
        stack
            .dynamodb
            .put_item()
            .table_name(&stack.info.table)
            .item("identityId", AttributeValue::S(other.clone()))
            .item(
                "thumbnailKey",
                AttributeValue::S(key.replacen("/content/", "/thumbnails/", 1)),
            )
            .item("objectKey", AttributeValue::S(key))
            .item("isPublic", AttributeValue::Bool(true))
            .item("title", AttributeValue::S(format!("yesterday {n}")))
            .item("description", AttributeValue::S(String::new()))
            .item(
                "uploadDate",
                AttributeValue::S(format!("{yesterday}T12:00:0{n}.000Z")),
            )
            .item("uploadDay", AttributeValue::S(yesterday.clone()))
            .send()
            .await?;
    }
    // Newest first, exactly 100: the five oldest of the burst are out, yesterday's too.
    let expected: Vec<String> = uploaded[5..].iter().rev().cloned().collect();
    let burst = index_where(&stack, PUBLIC_INDEX, "the 100 newest", |i| {
        keys(i) == expected
    })
    .await?;
    assert_eq!(burst.items.len(), 100);
    let other_index = format!("private/index/{other}/content.json");
    index_where(
        &stack,
        &other_index,
        "yesterday's pictures in their owner's index",
        |i| i.items.len() == 3,
    )
    .await?;

    // Deleting 50 of today's makes room: yesterday's come in, read from an older day.
    for key in &uploaded[50..] {
        stack.delete(key).await?;
    }
    let mixed = index_where(&stack, PUBLIC_INDEX, "today's 50 and yesterday's 3", |i| {
        i.items.len() == 53
    })
    .await?;
    let days: BTreeSet<&str> = mixed.items.iter().map(|e| &e.upload_date[..10]).collect();
    assert_eq!(days.len(), 2, "{days:?}");
    assert_eq!(mixed.items.last().unwrap().title, "yesterday 0");
    Ok(())
}

/// An object store that lets something happen between a writer's table read and its write.
struct PauseBeforeWrite {
    inner: S3ObjectStore,
    before_first_put:
        tokio::sync::Mutex<Option<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>>,
}

#[async_trait]
impl ObjectStore for PauseBeforeWrite {
    async fn get_matching(
        &self,
        key: &str,
        m: Option<&str>,
        max: u64,
    ) -> Result<Option<FetchedObject>, StoreError> {
        self.inner.get_matching(key, m, max).await
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectHead>, StoreError> {
        self.inner.head(key).await
    }
    async fn delete_if_match(&self, key: &str, etag: &str) -> Result<WriteOutcome, StoreError> {
        self.inner.delete_if_match(key, etag).await
    }
    async fn put(&self, object: PutObject) -> Result<WriteOutcome, StoreError> {
        let pause = self.before_first_put.lock().await.take();
        if let Some(pause) = pause {
            pause.await;
        }
        self.inner.put(object).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn list_page(&self, p: &str, c: Option<String>) -> Result<ObjectPage, StoreError> {
        self.inner.list_page(p, c).await
    }
    async fn delete_many(&self, keys: &[String]) -> Result<Vec<(String, String)>, StoreError> {
        self.inner.delete_many(keys).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_writer_racing_the_stream_leaves_the_newest_index() -> Result<()> {
    let stack = Stack::start().await?;
    let owner = identity_id();
    let first = format!("public/content/{owner}/first.png");
    stack.upload(&first, small_png(1), None).await?;
    // Complete (face-detection's write too), so no later change of it can reach the table
    // between the fast writer's publication and the slow writer's second read.
    index_where(&stack, PUBLIC_INDEX, "the first picture", |i| {
        keys(i) == [first.clone()] && i.items.iter().all(|e| e.face_count.is_some())
    })
    .await?;

    // A stale index is in place (as a crashed writer could leave it), so the slow writer
    // below has something to write: it reads that index and the table ({first}) ...
    let stale =
        serde_json::json!({"version": 1, "generatedAt": "2026-01-01T00:00:00.000Z", "items": []});
    stack
        .s3
        .put_object()
        .bucket(&stack.info.bucket)
        .key(PUBLIC_INDEX)
        .content_type("application/json")
        .body(serde_json::to_vec(&stale)?.into())
        .send()
        .await?;

    // ... and before it writes, a second picture arrives and devstack's own
    // update-content-index publishes the index with both.
    let second = format!("public/content/{owner}/second.png");
    let (s3, bucket) = (stack.s3.clone(), stack.info.bucket.clone());
    let pause = {
        let second = second.clone();
        Box::pin(async move {
            s3.put_object()
                .bucket(&bucket)
                .key(&second)
                .body(small_png(2).into())
                .send()
                .await
                .unwrap();
            for _ in 0..240 {
                let body = s3
                    .get_object()
                    .bucket(&bucket)
                    .key(PUBLIC_INDEX)
                    .send()
                    .await
                    .unwrap()
                    .body
                    .collect()
                    .await
                    .unwrap()
                    .into_bytes();
                let index: ContentIndex = serde_json::from_slice(&body).unwrap();
                // Both pictures complete: an index published before face-detection's write of the
                // second is rightly replaced by the slow writer, which then reads that write.
                if index.items.len() == 2 && index.items.iter().all(|e| e.face_count.is_some()) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            panic!("the fast writer never published");
        })
    };
    let slow_objects = PauseBeforeWrite {
        inner: S3ObjectStore::new(stack.s3.clone(), &stack.info.bucket),
        before_first_put: tokio::sync::Mutex::new(Some(pause)),
    };
    let items = DynamoItemStore::new(stack.dynamodb.clone(), &stack.info.table);
    let slow = IndexPublisher {
        objects: &slow_objects,
        items: &items,
        limits: media_index::IndexLimits::default(),
    };
    let published = slow.regenerate(&IndexTarget::Public, &[]).await?;

    // Its first write was refused (the ETag changed); it read the table again and found the
    // published index current. Without the condition it would have written {first} alone.
    assert_eq!(published, Published::Unchanged { items: 2 });
    let final_index = index(&stack, PUBLIC_INDEX).await?.unwrap();
    assert_eq!(keys(&final_index), [second, first]);
    Ok(())
}

/// The head and the items of every page under it (through its volumes), newest first, and
/// the keys of the pages (not volumes) under it.
async fn whole_index(stack: &Stack, key: &str) -> Result<Option<(ContentIndex, Vec<String>)>> {
    let Some(head) = index(stack, key).await? else {
        return Ok(None);
    };
    let mut all = keys(&head);
    // Entries still to read, newest first (a volume's entries replace it in place).
    let mut pending: Vec<media_index::PageEntry> = head.pages.iter().rev().cloned().collect();
    // Every listed page is a document, an empty one too: the head never lists one before it
    // is written.
    while let Some(entry) = pending.pop() {
        let Some(doc) = index(stack, &entry.key).await? else {
            return Ok(None);
        };
        all.extend(keys(&doc));
        pending.extend(doc.pages.iter().rev().cloned());
    }
    Ok(Some((head, all)))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_collection_larger_than_the_head_is_paged_and_every_picture_is_in_one_place() -> Result<()>
{
    // Heads of 4, pages of 3 and volumes of 2, so 15 uploads make several pages and volumes.
    let stack = Stack::start_with_parameters(&[
        ("PrivateIndexHeadLimit", "4"),
        ("PublicIndexLimit", "4"),
        ("IndexPageSize", "3"),
        ("IndexVolumeSize", "2"),
    ])
    .await?;
    let owner = identity_id();
    let head_key = format!("private/index/{owner}/content.json");
    let key = |n: usize| format!("private/content/{owner}/picture-{n:02}.png");
    for n in 0..15 {
        stack
            .upload(
                &key(n),
                small_png(n as u32),
                Some(&encode_upload_metadata(false, &format!("Picture {n}"), "")),
            )
            .await?;
        // One at a time, each in the head before the next: the upload dates are in this order,
        // and no stream batch brings several, so each page fills to exactly 3 and is sealed
        // (batched uploads would pile onto the open page and make fewer pages than volumes need).
        index_where(
            &stack,
            &head_key,
            "the newest upload at the top of the head",
            |i| i.items.first().map(|e| e.object_key.as_str()) == Some(key(n).as_str()),
        )
        .await?;
    }
    let want: Vec<String> = (0..15).rev().map(key).collect();
    let (head, _) = eventually(
        "all 15 in the head and its pages, each once, newest first",
        WAIT,
        || async {
            Ok(whole_index(&stack, &head_key)
                .await?
                .filter(|(_, all)| *all == want))
        },
    )
    .await?;
    assert_eq!(head.version, 3);
    assert_eq!(head.items.len(), 4, "the head holds the newest 4");
    assert!(
        head.pages.len() >= 2,
        "older pictures on pages: {:?}",
        head.pages
    );
    assert!(
        head.pages.iter().any(|p| p.level > 0),
        "older pages sealed into volumes: {:?}",
        head.pages
    );
    for page in &head.pages {
        let kind = if page.level > 0 {
            format!("volume{}-", page.level)
        } else {
            "content-".to_owned()
        };
        assert!(
            page.key
                .starts_with(&format!("private/index/{owner}/{kind}"))
                && page.key.ends_with(".json"),
            "{}",
            page.key
        );
    }

    // An old picture edited and another deleted: each leaves its page right.
    stack
        .dynamodb
        .update_item()
        .table_name(&stack.info.table)
        .key("identityId", AttributeValue::S(owner.clone()))
        .key("objectKey", AttributeValue::S(key(1)))
        .update_expression("SET title = :t")
        .expression_attribute_values(":t", AttributeValue::S("Picture 1, edited".into()))
        .send()
        .await?;
    stack.delete(&key(3)).await?;
    let want: Vec<String> = (0..15).rev().filter(|n| *n != 3).map(key).collect();
    eventually("the delete and the edit on their pages", WAIT, || async {
        let Some((_, all)) = whole_index(&stack, &head_key).await? else {
            return Ok(None);
        };
        // The edited title is on a page under the head (through a volume).
        let mut pending = vec![head_key.clone()];
        let mut edited = false;
        while let Some(key) = pending.pop() {
            let Some(doc) = index(&stack, &key).await? else {
                continue;
            };
            edited |= key != head_key && doc.items.iter().any(|e| e.title == "Picture 1, edited");
            pending.extend(
                doc.pages
                    .iter()
                    .filter(|p| p.count > 0)
                    .map(|p| p.key.clone()),
            );
        }
        Ok((all == want && edited).then_some(()))
    })
    .await?;

    // The repair pass rebuilds every page to the same state: nothing to write.
    let answer = stack.invoke("repair", &serde_json::json!({}), &[]).await?;
    assert_eq!(answer["indexesWritten"], 0, "{answer}");
    Ok(())
}
