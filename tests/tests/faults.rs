//! Faults on the local stack: while the functions work through a burst of uploads and
//! deletes, the events still queued are lost (the queues are purged, as a message that ran
//! out of retries or a function that was down would lose them) and the stack is stopped and
//! started again (which loses the table's stream records). After its start-up repair pass
//! every remaining picture has its item, thumbnail, faces copy and index entry, every deleted
//! one has none of them, and nothing else is in the bucket.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::Result;
use e2e_tests::{eventually, identity_id, photo_jpeg, Stack};
use media_index::ContentIndex;

const UPLOADS: usize = 100;
const DELETES: usize = 20;

#[tokio::test(flavor = "multi_thread")]
async fn a_stop_in_the_middle_of_a_burst_loses_nothing_after_the_repair_pass() -> Result<()> {
    let stack = Stack::start().await?;
    let owner = identity_id();
    let keys: Vec<String> = (0..UPLOADS)
        .map(|n| format!("private/content/{owner}/burst {n:03}.jpg"))
        .collect();
    let picture = photo_jpeg(160, 120);
    let mut uploads = Vec::new();
    for key in &keys {
        let (s3, bucket, key, body) = (
            stack.s3.clone(),
            stack.info.bucket.clone(),
            key.clone(),
            picture.clone(),
        );
        uploads.push(tokio::spawn(async move {
            s3.put_object()
                .bucket(bucket)
                .key(key)
                .body(body.into())
                .send()
                .await
        }));
    }
    for upload in uploads {
        upload.await??;
    }
    let (deleted, kept) = keys.split_at(DELETES);
    for key in deleted {
        stack.delete(key).await?;
    }
    // The events still queued are lost, and the stack stops while the functions work.
    let sqs = aws_sdk_sqs::Client::new(&stack.sdk);
    for url in stack.info.queue_urls.values() {
        sqs.purge_queue().queue_url(url).send().await?;
    }
    let state_dir = stack.stop_keeping_state();

    let stack = Stack::start_in(state_dir).await?;
    let repaired = stack.log();
    let sent: u64 = repaired
        .lines()
        .find(|l| l.contains("start-up repair pass done"))
        .and_then(|l| {
            l.split("events_sent=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .expect("the start-up repair pass's summary in the log");
    assert!(
        sent > 0,
        "nothing was lost, so nothing was shown: the burst was handled before the purge"
    );
    let wait = Duration::from_secs(180);
    let prefix = |area: &str| format!("private/{area}/{owner}/");
    let listed = |area: &'static str| {
        let stack = &stack;
        let prefix = prefix(area);
        async move {
            let mut keys = BTreeSet::new();
            let mut token = None;
            loop {
                let page = stack
                    .s3
                    .list_objects_v2()
                    .bucket(&stack.info.bucket)
                    .prefix(&prefix)
                    .set_continuation_token(token)
                    .send()
                    .await?;
                keys.extend(
                    page.contents()
                        .iter()
                        .filter_map(|o| o.key().map(|k| k[prefix.len()..].to_owned())),
                );
                match page.next_continuation_token() {
                    Some(next) if page.is_truncated() == Some(true) => {
                        token = Some(next.to_owned())
                    }
                    _ => return anyhow::Ok(keys),
                }
            }
        }
    };
    let want: BTreeSet<String> = kept
        .iter()
        .map(|k| k[prefix("content").len()..].to_owned())
        .collect();
    for area in ["thumbnails", "faces"] {
        eventually(
            &format!("exactly the kept pictures' {area}"),
            wait,
            || async { Ok((listed(area).await? == want).then_some(())) },
        )
        .await?;
    }
    assert_eq!(
        listed("content").await?,
        want,
        "the originals are the kept ones"
    );
    let index_key = format!("private/index/{owner}/content.json");
    let index = eventually(
        "the private index with exactly the kept pictures",
        wait,
        || async {
            let Some((bytes, _)) = stack.object(&index_key).await? else {
                return Ok(None);
            };
            let index: ContentIndex = serde_json::from_slice(&bytes)?;
            let listed: BTreeSet<String> =
                index.items.iter().map(|e| e.object_key.clone()).collect();
            Ok((listed == kept.iter().cloned().collect::<BTreeSet<_>>()).then_some(index))
        },
    )
    .await?;
    assert!(
        index
            .items
            .iter()
            .all(|e| e.thumbnail_key.is_some() && e.faces_key.is_some()),
        "every entry complete"
    );
    for key in kept {
        let item = stack.item(&owner, key).await?.expect("an item");
        assert!(
            !item.is_tombstone() && item.face_count.is_some(),
            "{key}: {item:?}"
        );
    }
    for key in deleted {
        assert!(
            stack
                .item(&owner, key)
                .await?
                .is_none_or(|i| i.is_tombstone()),
            "{key} has an item"
        );
    }
    Ok(())
}
