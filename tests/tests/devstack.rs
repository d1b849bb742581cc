//! devstack itself: restarts keep data, a taken port is a clear error, poison messages end
//! in the dead-letter queue, `invoke` calls a function directly.

use std::time::Duration;

use anyhow::Result;
use e2e_tests::{devstack_bin, eventually, identity_id, photo_jpeg, Stack};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn data_survives_a_restart_and_the_pipeline_keeps_working() -> Result<()> {
    let stack = Stack::start().await?;
    let id = identity_id();
    let before = format!("public/content/{id}/before.jpg");
    stack.upload(&before, photo_jpeg(300, 200), None).await?;
    eventually("the item", WAIT, || async {
        stack.content_item(&id, &before).await
    })
    .await?;
    let private_index = format!("private/index/{id}/content.json");
    eventually("the index", WAIT, || async {
        stack.object(&private_index).await
    })
    .await?;
    // The emulator's own port (the endpoint is the recording proxy in front of it).
    let port = std::fs::read_to_string(stack.state_dir.join("emulator/port"))?
        .trim()
        .to_owned();
    assert!(
        !std::env::temp_dir().join(format!("ministack-provided-code-{port}")).exists(),
        "the emulator extracts function code under the state directory, not the shared temporary one"
    );
    let extracted = std::fs::read_dir(
        stack
            .state_dir
            .join("emulator/tmp")
            .join(format!("ministack-provided-code-{port}")),
    )?;
    assert!(
        extracted.count() > 0,
        "function code extracted under the state directory"
    );
    let state_dir = stack.stop_keeping_state();

    let stack = Stack::start_in(state_dir).await?;
    assert!(
        stack.object(&before).await?.is_some(),
        "the upload survived"
    );
    assert!(
        stack
            .object(&format!("public/thumbnails/{id}/before.jpg"))
            .await?
            .is_some(),
        "the thumbnail survived"
    );
    assert!(
        stack.item(&id, &before).await?.is_some(),
        "the item survived"
    );
    let after = format!("public/content/{id}/after.jpg");
    stack.upload(&after, photo_jpeg(300, 200), None).await?;
    let index = eventually("both in the index after the restart", WAIT, || async {
        let Some((bytes, _)) = stack.object(&private_index).await? else {
            return Ok(None);
        };
        let index: serde_json::Value = serde_json::from_slice(&bytes)?;
        Ok((index["items"].as_array().map(|a| a.len()) == Some(2)).then_some(index))
    })
    .await?;
    assert_eq!(index["items"][0]["objectKey"], after.as_str());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_taken_port_is_a_clear_error() -> Result<()> {
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = taken.local_addr()?.port().to_string();
    let state_dir = std::env::temp_dir().join(format!("media-e2e-port-{}", std::process::id()));
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(devstack_bin())
            .args(["up", "--port", &port, "--client-port", "0", "--state-dir"])
            .arg(&state_dir)
            .output(),
    )
    .await??;
    let _ = std::fs::remove_dir_all(&state_dir);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("port {port}")) && stderr.contains("already in use"),
        "{stderr}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn poison_messages_go_to_the_dead_letter_queue_and_invoke_calls_a_function() -> Result<()> {
    let stack = Stack::start().await?;
    let stack_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stack.state_dir.join("stack.json"))?)?;
    let sqs = aws_sdk_sqs::Client::new(&stack.sdk);
    let queue = stack_json["queueUrls"]["content-updated"].as_str().unwrap();
    let dead_letters = stack_json["deadLetterQueueUrls"]["content-updated"]
        .as_str()
        .unwrap();
    sqs.send_message()
        .queue_url(queue)
        .message_body("this is not an S3 event")
        .send()
        .await?;
    let moved = eventually(
        "the poison message in the dead-letter queue",
        WAIT,
        || async {
            let received = sqs
                .receive_message()
                .queue_url(dead_letters)
                .wait_time_seconds(1)
                .send()
                .await?;
            Ok(received
                .messages
                .unwrap_or_default()
                .into_iter()
                .find(|m| m.body() == Some("this is not an S3 event")))
        },
    )
    .await?;
    assert!(moved.body().is_some());

    // The pipeline still works, and `invoke` runs content-updated on an S3 event by hand.
    let id = identity_id();
    let key = format!("private/content/{id}/by hand.jpg");
    stack.upload(&key, photo_jpeg(320, 240), None).await?;
    eventually("the item", WAIT, || async {
        stack.content_item(&id, &key).await
    })
    .await?;
    let event = serde_json::json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2030-01-01T00:00:00.000Z",
        "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": "X"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {}, "s3": {"s3SchemaVersion": "1.0", "configurationId": "manual",
            "bucket": {"name": stack.info.bucket, "ownerIdentity": {"principalId": "X"}, "arn": "arn:aws:s3:::media-sharing"},
            "object": {"key": media_core::keys::encode_event_key(&key), "size": 1, "sequencer": "FFFFFFFFFFFFFFFFFF"}}}]});
    let answer = stack.invoke("content-updated", &event, &[]).await?;
    assert_eq!(
        answer["batchItemFailures"],
        serde_json::json!([]),
        "{answer}"
    );
    let item = stack.item(&id, &key).await?.unwrap();
    assert_eq!(
        item.upload_date.as_deref(),
        Some("2030-01-01T00:00:00.000Z"),
        "the invoked event was applied"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn repair_restores_what_lost_events_would_have_made_and_removes_what_they_would_have_removed(
) -> Result<()> {
    let stack = Stack::start().await?;
    let id = identity_id();
    let kept = format!("public/content/{id}/kept.jpg");
    stack.upload(&kept, photo_jpeg(300, 200), None).await?;
    let thumbnail = format!("public/thumbnails/{id}/kept.jpg");
    eventually("the thumbnail", WAIT, || async {
        stack.object(&thumbnail).await
    })
    .await?;
    // Both functions done with it (face-detection after content-updated would otherwise
    // write its attributes into the item removed below).
    eventually("the item with its faces", WAIT, || async {
        Ok(stack
            .item(&id, &kept)
            .await?
            .filter(|i| i.face_count.is_some() && i.upload_date.is_some()))
    })
    .await?;

    // As if the events had been lost: the item and thumbnail of a live picture are gone, and
    // a thumbnail of a picture that no longer exists is left.
    stack
        .dynamodb
        .delete_item()
        .table_name(&stack.info.table)
        .key(
            "identityId",
            aws_sdk_dynamodb::types::AttributeValue::S(id.clone()),
        )
        .key(
            "objectKey",
            aws_sdk_dynamodb::types::AttributeValue::S(kept.clone()),
        )
        .send()
        .await?;
    stack.delete(&thumbnail).await?;
    let orphan = format!("public/thumbnails/{id}/deleted long ago.jpg");
    stack
        .s3
        .put_object()
        .bucket(&stack.info.bucket)
        .key(&orphan)
        .body(photo_jpeg(20, 20).into())
        .send()
        .await?;

    let dry = stack
        .invoke("repair", &serde_json::json!({"dryRun": true}), &[])
        .await?;
    assert_eq!(dry["done"], true, "{dry}");
    assert_eq!(dry["eventsSent"], 0, "{dry}");
    let problems: Vec<&str> = dry["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["problem"].as_str())
        .collect();
    assert!(
        problems.contains(&"uploadWithoutItem")
            && problems.contains(&"derivedObjectOfDeletedUpload"),
        "{dry}"
    );
    assert!(
        stack.object(&orphan).await?.is_some(),
        "a dry run changes nothing"
    );

    let done = stack.invoke("repair", &serde_json::json!({}), &[]).await?;
    assert!(done["eventsSent"].as_u64().unwrap() >= 3, "{done}");
    eventually("the item back", WAIT, || async {
        Ok(stack.item(&id, &kept).await?.filter(|i| !i.is_tombstone()))
    })
    .await?;
    eventually("the thumbnail back", WAIT, || async {
        stack.object(&thumbnail).await
    })
    .await?;
    eventually("the orphan gone", WAIT, || async {
        Ok(stack.object(&orphan).await?.is_none().then_some(()))
    })
    .await?;
    Ok(())
}
