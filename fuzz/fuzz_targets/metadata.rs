//! The uploader's `x-amz-meta-data` header: any text gives a title and a description within
//! the contract's bounds, and what the client encodes reads back the same.
//!
//! Input: the header, then optionally a NUL and the file name (the title's fallback).
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_core::metadata::{
    encode_upload_metadata, parse_upload_metadata, MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS,
};

fuzz_target!(|data: &[u8]| {
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
});
