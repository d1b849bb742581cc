//! S3 event notifications as S3 sends them, for the handlers' tests.

/// An S3 event notification body for one record, as S3 sends it: `key` (decoded) is
/// form-URL-encoded into the record. No `eTag`, so handlers read whatever version is there;
/// [`s3_event_body_for_version`] names one.
pub fn s3_event_body(event_name: &str, key: &str, sequencer: &str) -> String {
    s3_event_body_for_version(event_name, key, sequencer, None)
}

/// [`s3_event_body`] about the version of the object with `etag`.
pub fn s3_event_body_for_version(
    event_name: &str,
    key: &str,
    sequencer: &str,
    etag: Option<&str>,
) -> String {
    let time = chrono::DateTime::parse_from_rfc3339("2026-11-23T14:05:09.123Z")
        .expect("a date")
        .to_utc();
    crate::events::s3_event_body(
        event_name,
        key,
        &crate::item::Sequencer::new(sequencer),
        etag,
        time,
        "AWS:X",
    )
}

/// The change a one-record S3 event body describes.
pub fn s3_change(event_name: &str, key: &str, sequencer: &str) -> crate::events::ContentChange {
    s3_change_for_version(event_name, key, sequencer, None)
}

/// The change [`s3_event_body_for_version`] describes.
pub fn s3_change_for_version(
    event_name: &str,
    key: &str,
    sequencer: &str,
    etag: Option<&str>,
) -> crate::events::ContentChange {
    let record = crate::events::s3_records_from_body(&s3_event_body_for_version(
        event_name, key, sequencer, etag,
    ))
    .expect("an S3 event")
    .remove(0);
    crate::events::content_change(0, record).expect("a content change")
}
