//! Owners' edits past the contract's bounds: a signed-in owner writes a 400 KB title into the
//! table with the web client's own request and credentials (IAM cannot bound a value's size);
//! update-content-index cuts it where it is stored before any index reads it, and the cut's own
//! stream record ends the chain.

use std::time::Duration;

use anyhow::Result;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use e2e_tests::bench::log_events;
use e2e_tests::{encode, eventually, Stack};
use media_core::metadata::encode_upload_metadata;
use media_index::ContentIndex;

const WAIT: Duration = Duration::from_secs(60);
const PUBLIC_INDEX: &str = "public/index/content.json";
const INDEX_EVENTS: [&str; 2] = ["index written", "index already current"];

async fn index(stack: &Stack, key: &str) -> Result<Option<ContentIndex>> {
    Ok(match stack.object(key).await? {
        Some((bytes, _)) => Some(serde_json::from_slice(&bytes)?),
        None => None,
    })
}

/// update-content-index's regenerations of `index` so far, from the functions' log lines.
fn regenerations(stack: &Stack, index: &str) -> Vec<serde_json::Value> {
    log_events(stack, &INDEX_EVENTS)
        .into_iter()
        .filter(|e| e["index"].as_str() == Some(index))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_owners_400_kb_title_is_cut_where_it_is_stored_before_any_index_reads_it() -> Result<()>
{
    let stack = Stack::start().await?;
    let owner = stack.sign_in_new_user().await?;
    let id = owner.identity_id.clone();
    let key = format!("public/content/{id}/sunset.png");
    let pixels = image::RgbImage::from_pixel(64, 48, image::Rgb([200, 100, 50]));
    let png = encode(
        image::DynamicImage::ImageRgb8(pixels),
        image::ImageFormat::Png,
    );
    stack
        .upload(
            &key,
            png,
            Some(&encode_upload_metadata(true, "Sunset", "red sky")),
        )
        .await?;
    let private_index = format!("private/index/{id}/content.json");
    // Complete (face-detection's write too): nothing but the owner and the cut writes the item
    // from here on.
    eventually(
        "the picture in its owner's index, faces known",
        WAIT,
        || async {
            let complete = |i: &ContentIndex| {
                i.items
                    .iter()
                    .any(|e| e.object_key == key && e.face_count.is_some())
            };
            Ok(index(&stack, &private_index).await?.filter(complete))
        },
    )
    .await?;
    let before = (
        regenerations(&stack, &private_index).len(),
        regenerations(&stack, PUBLIC_INDEX).len(),
    );

    // The web client's edit request (client/src/api.ts, updateText), with the owner's own
    // credentials; only the values are longer than the client would send.
    let (title, description) = ("T".repeat(400_000), "é".repeat(3_000));
    owner
        .dynamodb
        .update_item()
        .table_name(&stack.info.table)
        .key("identityId", AttributeValue::S(id.clone()))
        .key("objectKey", AttributeValue::S(key.clone()))
        .update_expression("SET #title = :title, #description = :description")
        .condition_expression("attribute_exists(#title)")
        .expression_attribute_names("#title", "title")
        .expression_attribute_names("#description", "description")
        .expression_attribute_values(":title", AttributeValue::S(title))
        .expression_attribute_values(":description", AttributeValue::S(description))
        .return_values(ReturnValue::None)
        .send()
        .await?;

    let stored = eventually("the stored title cut to 200 characters", WAIT, || async {
        Ok(stack
            .item(&id, &key)
            .await?
            .filter(|i| i.title.chars().count() == 200))
    })
    .await?;
    assert_eq!(
        (stored.title, stored.description),
        ("T".repeat(200), "é".repeat(2_000))
    );
    for index_key in [private_index.as_str(), PUBLIC_INDEX] {
        eventually(&format!("the cut title in {index_key}"), WAIT, || async {
            let cut = |e: &media_index::IndexEntry| {
                e.title == "T".repeat(200) && e.description == "é".repeat(2_000)
            };
            Ok(index(&stack, index_key)
                .await?
                .filter(|i| i.items.iter().any(|e| e.object_key == key && cut(e))))
        })
        .await?;
    }

    // Two regenerations of each index follow the edit: its own record's (after the cut) and the
    // cut's record's, which finds the index current and writes nothing. Then nothing more.
    let settled = || async {
        let (private, public) = (
            regenerations(&stack, &private_index),
            regenerations(&stack, PUBLIC_INDEX),
        );
        let done = private.len() >= before.0 + 2 && public.len() >= before.1 + 2;
        Ok(done.then_some((private, public)))
    };
    eventually("the edit's and the cut's records handled", WAIT, settled).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (private, public) = settled().await?.expect("still handled");
    let counts = (private.len(), public.len());
    assert_eq!(
        counts,
        (before.0 + 2, before.1 + 2),
        "the cut's record ends the chain: {private:#?}"
    );
    for (name, events, from) in [
        ("private", &private, before.0),
        ("public", &public, before.1),
    ] {
        assert_eq!(
            events.last().unwrap()["message"],
            "index already current",
            "{name}: the cut's record writes nothing"
        );
        for event in &events[from..] {
            // A consistent read of the 400 KB item alone would be 98 units.
            let units = event["read_units"].as_f64().expect("read units logged");
            println!("{name} index regeneration after the edit: {units} read units");
            assert!(
                units < 10.0,
                "{name}: a regeneration read the oversized title: {event}"
            );
        }
    }
    let cuts = log_events(&stack, &["owner's text cut to the contract's bounds"]);
    assert_eq!(cuts.len(), 1, "{cuts:#?}");
    Ok(())
}
