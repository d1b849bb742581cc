//! SQS message bodies: raw or SNS-wrapped S3 events ([`media_core::testing::fuzz::event_body`]).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| media_core::testing::fuzz::event_body(data));
