//! The properties the cargo-fuzz targets check (`fuzz/fuzz_targets/`), one function per
//! target, so that the committed seeds (`fuzz/corpus/<target>/`) replay through the same
//! checks as ordinary tests on the stable toolchain, in every `make test`
//! ([`replay_seeds`]); coverage-guided fuzzing with the sanitizer stays `make fuzz`.

use std::path::{Path, PathBuf};

use crate::events::{content_change, s3_event_body, s3_records_from_body, sqs_event_from_json};
use crate::keys::{decode_event_key, encode_event_key, ContentKey, MAX_KEY_BYTES};
use crate::metadata::{
    encode_upload_metadata, parse_upload_metadata, MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS,
};

/// SQS message bodies, raw or SNS-wrapped S3 events: reading them never panics, and a change
/// read from a record reads back the same from the event body S3 would send for it.
pub fn event_body(data: &[u8]) {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(records) = s3_records_from_body(body) {
        for (index, record) in records.into_iter().enumerate() {
            let Ok(change) = content_change(index, record) else {
                continue;
            };
            let _ = change.upload_date();
            assert!(
                change.sequencer.as_str().chars().count() >= 40,
                "sequencers are padded"
            );
            let body = s3_event_body(
                &change.event_name,
                &change.key.object_key(),
                &change.sequencer,
                None,
                change.event_time,
                "p",
            );
            let record = s3_records_from_body(&body).expect("our own body").remove(0);
            let again = content_change(0, record).expect("our own record");
            assert_eq!(
                (&again.kind, &again.key, &again.sequencer, &again.event_name),
                (
                    &change.kind,
                    &change.key,
                    &change.sequencer,
                    &change.event_name
                )
            );
        }
    }
    // What `devstack invoke` and a direct Lambda call accept.
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        let _ = sqs_event_from_json(value);
    }
}

/// Event keys as they arrive (form-URL-encoded) and decoded keys: decoding never panics, the
/// encoder is its inverse, and a parsed upload key gives itself back and derives its keys
/// from its own identity and file.
pub fn event_key(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(decoded) = decode_event_key(raw) {
        assert_eq!(
            decode_event_key(&encode_event_key(&decoded)).as_deref(),
            Ok(decoded.as_str())
        );
        content_key(&decoded);
    }
    content_key(raw);
}

fn content_key(key: &str) {
    let Ok(parsed) = ContentKey::parse(key) else {
        return;
    };
    assert_eq!(parsed.object_key(), key);
    assert_eq!(
        ContentKey::parse(&parsed.object_key()).as_ref(),
        Ok(&parsed)
    );
    assert!(!parsed.identity_id().is_empty() && !parsed.identity_id().contains('/'));
    assert!(!parsed.file().is_empty() && parsed.file().ends_with(parsed.file_name()));
    let tail = format!("/{}/{}", parsed.identity_id(), parsed.file());
    let visibility = parsed.visibility().as_str();
    for (derived, area) in [
        (parsed.thumbnail_key(), "thumbnails"),
        (parsed.faces_key(), "faces"),
    ] {
        assert_eq!(derived, format!("{visibility}/{area}{tail}"));
    }
    assert_eq!(
        parsed.derived_keys_fit(),
        parsed.thumbnail_key().len() <= MAX_KEY_BYTES
    );
}

/// The uploader's `x-amz-meta-data` header (then optionally a NUL and the file name, the
/// title's fallback): any text gives a title and a description within the contract's bounds,
/// and what the client encodes reads back the same.
pub fn metadata_header(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (header, file_name) = text.split_once('\0').unwrap_or((&text, "file.jpg"));
    let (metadata, _problems) = parse_upload_metadata(Some(header), file_name);
    assert!(metadata.title.chars().count() <= MAX_TITLE_CHARS);
    assert!(metadata.description.chars().count() <= MAX_DESCRIPTION_CHARS);

    let encoded = encode_upload_metadata(true, &metadata.title, &metadata.description);
    assert!(encoded.is_ascii(), "the client's header is ASCII");
    let (again, problems) = parse_upload_metadata(Some(&encoded), file_name);
    assert_eq!(again.description, metadata.description);
    if !metadata.title.trim().is_empty() {
        assert_eq!(again.title, metadata.title.trim(), "{problems:?}");
    }
}

/// Runs `check` on every committed seed of the fuzz target `target` (from the crate at
/// `manifest_dir`, in the workspace whose `fuzz/` holds them), naming the seed that fails.
/// A target without seeds fails: a replay of nothing proves nothing.
pub fn replay_seeds(manifest_dir: &str, target: &str, check: fn(&[u8])) -> usize {
    let dir: PathBuf = Path::new(manifest_dir).join("../fuzz/corpus").join(target);
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "{}: no seeds", dir.display());
    for seed in &seeds {
        let data = std::fs::read(seed).expect("a seed reads");
        if let Err(panic) = std::panic::catch_unwind(|| check(&data)) {
            std::panic::resume_unwind(Box::new(format!(
                "seed {}: {}",
                seed.display(),
                panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("panicked")
            )));
        }
    }
    seeds.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_fuzz_seeds_pass_the_keys_events_and_metadata_properties() {
        let dir = env!("CARGO_MANIFEST_DIR");
        assert!(replay_seeds(dir, "keys", event_key) >= 5);
        assert!(replay_seeds(dir, "events", event_body) >= 5);
        assert!(replay_seeds(dir, "metadata", metadata_header) >= 5);
    }
}
