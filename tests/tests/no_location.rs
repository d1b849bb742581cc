//! Visitors and other people read only the renditions of a public picture (thumbnail, preview,
//! faces copy), never the original: none of them may give away where it was taken. Each
//! picture of `media_imaging::testing::location` (one position carried in every way an
//! accepted format can) is uploaded as a public picture through S3 on a fresh devstack; its
//! renditions are read back with GetObject and HeadObject as a visitor's client reads them.

use std::time::Duration;

use anyhow::{Context, Result};
use e2e_tests::{eventually, identity_id, Stack};
use media_core::derived::SEQUENCER_METADATA;
use media_core::item::MediaItem;
use media_core::metadata::encode_upload_metadata;
use media_imaging::testing::location::{coordinate_forms, location_traces, Located};

const WAIT: Duration = Duration::from_secs(90);

/// Every form of the position as text (the binary ones cannot be in a header).
fn coordinate_texts() -> Vec<String> {
    coordinate_forms()
        .into_iter()
        .filter_map(|(_, pattern)| String::from_utf8(pattern).ok())
        .collect()
}

/// The user metadata of a rendition, as S3 returns it in `x-amz-meta-*` headers: only the
/// sequencer of the event that wrote it (`media_core::derived`, which orders the writers),
/// never what the uploader sent (`x-amz-meta-data`) or anything read from the picture.
fn check_user_metadata(
    key: &str,
    metadata: Option<&std::collections::HashMap<String, String>>,
    sequencer: &str,
) {
    let metadata = metadata.cloned().unwrap_or_default();
    let names: Vec<&String> = metadata.keys().collect();
    assert_eq!(
        names,
        [SEQUENCER_METADATA],
        "{key}: user metadata {metadata:?}"
    );
    assert_eq!(
        metadata[SEQUENCER_METADATA], sequencer,
        "{key}: the event's sequencer"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn public_renditions_carry_no_location_in_their_bytes_or_headers() -> Result<()> {
    let stack = Stack::start().await?;
    let id = identity_id();
    for located in Located::ALL {
        let key = format!("public/content/{id}/{}", located.file_name());
        stack
            .upload(
                &key,
                located.bytes(),
                Some(&encode_upload_metadata(true, "A walk", "On a sunny day")),
            )
            .await?;
    }
    let texts = coordinate_texts();
    for located in Located::ALL {
        let key = format!("public/content/{id}/{}", located.file_name());
        // content-updated and face-detection ran, in whichever order: all three renditions exist.
        let item: MediaItem = eventually(&format!("the renditions of {key}"), WAIT, || async {
            Ok(stack
                .item(&id, &key)
                .await?
                .filter(|i| i.thumbnail_key.is_some() && i.face_count.is_some()))
        })
        .await?;
        assert_eq!(
            item.content_type.as_deref(),
            Some(located.content_type()),
            "{key}"
        );
        let sequencer = item
            .sequencer
            .as_ref()
            .context("the item's sequencer")?
            .as_str()
            .to_owned();
        let faces_sequencer = item
            .faces_sequencer
            .as_ref()
            .context("the item's faces sequencer")?
            .as_str()
            .to_owned();
        let renditions = [
            (
                item.thumbnail_key.clone().context("thumbnailKey")?,
                &sequencer,
            ),
            (item.preview_key.clone().context("previewKey")?, &sequencer),
            (
                item.faces_key.clone().context("facesKey")?,
                &faces_sequencer,
            ),
        ];
        for (rendition, sequencer) in renditions {
            let got = stack
                .s3
                .get_object()
                .bucket(&stack.info.bucket)
                .key(&rendition)
                .send()
                .await
                .with_context(|| rendition.clone())?;
            check_user_metadata(&rendition, got.metadata(), sequencer);
            let content_type = got.content_type().map(str::to_owned);
            assert!(
                matches!(content_type.as_deref(), Some("image/jpeg" | "image/png")),
                "{rendition}: {content_type:?}"
            );
            let headers = format!("{got:?}");
            let bytes = got.body.collect().await?.into_bytes();
            assert_eq!(location_traces(&bytes), [], "{rendition} ({located:?})");
            image::load_from_memory(&bytes).with_context(|| format!("{rendition} decodes"))?;

            let head = stack
                .s3
                .head_object()
                .bucket(&stack.info.bucket)
                .key(&rendition)
                .send()
                .await
                .with_context(|| rendition.clone())?;
            check_user_metadata(&rendition, head.metadata(), sequencer);
            assert_eq!(
                head.content_length(),
                Some(bytes.len() as i64),
                "{rendition}"
            );
            // No header of either answer (every field the SDK parsed) spells the position.
            let headers = headers + &format!("{head:?}");
            for text in &texts {
                assert!(
                    !headers.contains(text.as_str()),
                    "{rendition}: {text} in the headers"
                );
            }
        }
    }
    Ok(())
}
