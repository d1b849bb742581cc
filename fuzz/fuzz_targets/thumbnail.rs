//! The whole thumbnail path on any bytes ([`media_imaging::testing::fuzz::thumbnail`]): an
//! error or a thumbnail of the right size, never a panic, an abort, or more memory than the
//! limits allow (they are smaller than the function's, so `-rss_limit_mb=512` holds).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| media_imaging::testing::fuzz::thumbnail(data));
