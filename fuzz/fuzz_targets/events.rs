//! SQS message bodies: raw or SNS-wrapped S3 events. Reading them never panics, and a change
//! read from a record reads back the same from the event body S3 would send for it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_core::events::{
    content_change, s3_event_body, s3_records_from_body, sqs_event_from_json,
};

fuzz_target!(|data: &[u8]| {
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
});
