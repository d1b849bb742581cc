//! The uploader's `x-amz-meta-data` header, then optionally a NUL and the file name
//! ([`media_core::testing::fuzz::metadata_header`]).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| media_core::testing::fuzz::metadata_header(data));
