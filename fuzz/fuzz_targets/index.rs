//! Index files as the client and update-content-index read them
//! ([`media_index::testing::index_document`]).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| media_index::testing::index_document(data));
