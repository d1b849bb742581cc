//! What the cloud keeps of an upload, through the real S3 API of a fresh devstack: an upload
//! over the size limit, one in an archive storage class and one past its owner's storage
//! quota are deleted, and their items (listed in the owner's private index) say why; the
//! owner's other pictures are untouched. The role's conditions that refuse some of these
//! before they are stored are checked by the policy cases (infra/test/policies.test.mjs):
//! the emulator does not enforce IAM, so what it stores is what content-updated must catch.

use std::time::Duration;

use anyhow::Result;
use aws_sdk_s3::types::StorageClass;
use e2e_tests::{eventually, identity_id, photo_jpeg, Stack};
use media_core::item::{MediaItem, Refusal};
use media_core::metadata::encode_upload_metadata;

const WAIT: Duration = Duration::from_secs(60);
/// 4 MiB: three 1.5 MB uploads pass it.
const QUOTA: u64 = 4 * 1024 * 1024;

/// An upload of `len` bytes that is a JPEG as far as its first bytes go.
fn sized_upload(len: usize) -> Vec<u8> {
    let mut bytes = photo_jpeg(64, 64);
    bytes.resize(len, 0);
    bytes
}

async fn settled_item(stack: &Stack, id: &str, key: &str) -> Result<MediaItem> {
    eventually(&format!("the item of {key}"), WAIT, || async {
        Ok(stack
            .item(id, key)
            .await?
            .filter(|i| i.refused.is_some() || i.thumbnail_key.is_some() || i.size.is_some()))
    })
    .await
}

/// Waits until content-updated's queue holds no message, visible or in flight: every event so
/// far (the refusals' own deletion events included) has been handled.
async fn queue_drained(stack: &Stack) -> Result<()> {
    let sqs = aws_sdk_sqs::Client::new(&stack.sdk);
    let url = &stack.info.queue_urls["content-updated"];
    eventually("content-updated's queue to drain", WAIT, || async {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(
                aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            )
            .send()
            .await?;
        let count = |name| {
            attributes
                .attributes()
                .and_then(|a| a.get(&name))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let waiting = count(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            + count(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible);
        Ok((waiting == 0).then_some(()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_past_the_bounds_are_deleted_and_their_items_say_why() -> Result<()> {
    let stack = Stack::start_with_parameters(&[("StorageQuotaBytes", &QUOTA.to_string())]).await?;
    assert_eq!(
        stack.info.storage_quota_bytes, QUOTA,
        "the stack reports its quota to the client"
    );
    let id = identity_id();
    let key = |name: &str| format!("private/content/{id}/{name}");

    // 60 MB: over MaxImageBytes (50 MiB).
    let huge = key("huge.jpg");
    stack
        .upload(
            &huge,
            sized_upload(60 * 1000 * 1000),
            Some(&encode_upload_metadata(false, "Huge", "")),
        )
        .await?;
    // DEEP_ARCHIVE: unreadable until restored, billed 180 days.
    let archived = key("archived.jpg");
    stack
        .s3
        .put_object()
        .bucket(&stack.info.bucket)
        .key(&archived)
        .storage_class(StorageClass::DeepArchive)
        .body(photo_jpeg(64, 64).into())
        .send()
        .await?;

    // The quota: uploads in order, each handled before the next is sent, so their LastModified
    // (and names) give the order the quota counts them in.
    let mut kept = Vec::new();
    for name in ["a kept.jpg", "b kept.jpg"] {
        stack
            .upload(&key(name), sized_upload(1_500_000), None)
            .await?;
        let item = settled_item(&stack, &id, &key(name)).await?;
        assert_eq!(item.refused, None, "{name} fits the quota");
        kept.push(key(name));
    }
    let over = key("c over quota.jpg");
    stack.upload(&over, sized_upload(1_500_000), None).await?;

    for (object_key, refusal) in [
        (&huge, Refusal::TooLarge),
        (&archived, Refusal::StorageClass),
        (&over, Refusal::OverQuota),
    ] {
        let item = settled_item(&stack, &id, object_key).await?;
        assert_eq!(item.refused, Some(refusal), "{object_key}");
        assert!(
            item.expires_at.is_some() && item.thumbnail_key.is_none() && item.upload_day.is_none(),
            "{item:?}"
        );
        eventually(&format!("{object_key} deleted"), WAIT, || async {
            Ok(stack.object(object_key).await?.is_none().then_some(()))
        })
        .await?;
    }
    assert_eq!(settled_item(&stack, &id, &huge).await?.title, "Huge");

    // Once the deletions' own events are handled, the items still say why, and nothing else
    // was lost.
    queue_drained(&stack).await?;
    for (object_key, refusal) in [
        (&huge, Refusal::TooLarge),
        (&archived, Refusal::StorageClass),
        (&over, Refusal::OverQuota),
    ] {
        assert_eq!(
            stack.item(&id, object_key).await?.and_then(|i| i.refused),
            Some(refusal),
            "{object_key}"
        );
    }
    for object_key in &kept {
        assert!(
            stack.object(object_key).await?.is_some(),
            "{object_key} kept"
        );
    }

    // The owner's private index lists each refusal with its reason.
    let index_key = format!("private/index/{id}/content.json");
    let listed = eventually(
        "the private index to list the three refusals",
        WAIT,
        || async {
            let Some((body, _)) = stack.object(&index_key).await? else {
                return Ok(None);
            };
            let index: media_index::ContentIndex = serde_json::from_slice(&body)?;
            let refused: Vec<_> = index
                .items
                .iter()
                .filter_map(|i| Some((i.object_key.clone(), i.refused?)))
                .collect();
            Ok((refused.len() == 3).then_some(refused))
        },
    )
    .await?;
    assert!(
        listed.contains(&(over.clone(), Refusal::OverQuota)),
        "{listed:?}"
    );
    Ok(())
}
