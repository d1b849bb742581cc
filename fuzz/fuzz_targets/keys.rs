//! Event keys as they arrive and decoded keys ([`media_core::testing::fuzz::event_key`]).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| media_core::testing::fuzz::event_key(data));
