//! S3 notifications as they reach the functions: SQS messages whose bodies are S3 events,
//! either wrapped in an SNS notification or raw.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

use aws_lambda_events::event::s3::S3EventRecord;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use tracing::Instrument;

use crate::item::Sequencer;
use crate::keys::{decode_event_key, ContentKey, KeyError};

/// A message or record that cannot be understood: retrying it does not help.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("message body is not JSON: {0}")]
    NotJson(String),
    #[error("message is neither an S3 event nor an SNS notification of one")]
    NotS3Event,
    #[error("record {index} is not an S3 event record: {reason}")]
    BadRecord { index: usize, reason: String },
    #[error("record {index} has no object key")]
    NoKey { index: usize },
    #[error(
        "record {index} has an event name {name:?} that is neither ObjectCreated nor ObjectRemoved"
    )]
    UnknownEventName { index: usize, name: String },
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Created,
    Removed,
}

/// One S3 change to an upload, decoded and validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentChange {
    pub kind: ChangeKind,
    pub key: ContentKey,
    pub sequencer: Sequencer,
    /// The ETag of the version this event is about (created events), quoted as S3's
    /// `If-Match` expects it.
    pub etag: Option<String>,
    pub event_time: DateTime<Utc>,
    pub event_name: String,
}

impl ContentChange {
    /// The event time as the table stores it: ISO 8601 UTC with milliseconds.
    pub fn upload_date(&self) -> String {
        crate::item::format_upload_date(self.event_time)
    }
}

/// An S3 notification body for one record, as S3 sends it (`key` decoded; it is
/// form-URL-encoded into the record): what the repair pass sends the functions for a change
/// whose own event was lost, and what tests send.
pub fn s3_event_body(
    event_name: &str,
    key: &str,
    sequencer: &Sequencer,
    etag: Option<&str>,
    event_time: DateTime<Utc>,
    principal: &str,
) -> String {
    let mut object = serde_json::json!({"key": crate::keys::encode_event_key(key), "size": 0, "sequencer": sequencer.as_str()});
    if let Some(etag) = etag {
        object["eTag"] = etag.trim_matches('"').into();
    }
    serde_json::json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": event_time.to_rfc3339_opts(SecondsFormat::Millis, true), "eventName": event_name,
        "userIdentity": {"principalId": principal}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": principal,
               "bucket": {"name": "media", "ownerIdentity": {"principalId": principal}, "arn": "arn:aws:s3:::media"},
               "object": object}}]})
    .to_string()
}

#[derive(Deserialize)]
struct SnsEnvelope {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Message")]
    message: String,
}

/// The records of a message body; `Ok(vec![])` for S3's test event.
pub fn s3_records_from_body(body: &str) -> Result<Vec<serde_json::Value>, EventError> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| EventError::NotJson(e.to_string()))?;
    let value = match serde_json::from_value::<SnsEnvelope>(value.clone()) {
        Ok(envelope) if envelope.kind == "Notification" => serde_json::from_str(&envelope.message)
            .map_err(|e| EventError::NotJson(e.to_string()))?,
        _ => value,
    };
    if value.get("Event").and_then(|e| e.as_str()) == Some("s3:TestEvent") {
        return Ok(Vec::new());
    }
    match value.get("Records") {
        Some(serde_json::Value::Array(records)) => Ok(records.clone()),
        _ => Err(EventError::NotS3Event),
    }
}

/// Validates one record. Keys are decoded here, exactly once.
pub fn content_change(
    index: usize,
    record: serde_json::Value,
) -> Result<ContentChange, EventError> {
    let record: S3EventRecord =
        serde_json::from_value(record).map_err(|e| EventError::BadRecord {
            index,
            reason: e.to_string(),
        })?;
    let raw_key = record
        .s3
        .object
        .key
        .as_deref()
        .ok_or(EventError::NoKey { index })?;
    let key = ContentKey::parse(&decode_event_key(raw_key)?)?;
    let event_name = record.event_name.unwrap_or_default();
    let kind = if event_name.starts_with("ObjectCreated") {
        ChangeKind::Created
    } else if event_name.starts_with("ObjectRemoved") {
        ChangeKind::Removed
    } else {
        return Err(EventError::UnknownEventName {
            index,
            name: event_name,
        });
    };
    Ok(ContentChange {
        kind,
        key,
        sequencer: Sequencer::new(record.s3.object.sequencer.as_deref().unwrap_or("")),
        etag: record
            .s3
            .object
            .e_tag
            .filter(|etag| !etag.is_empty())
            .map(|etag| format!("\"{}\"", etag.trim_matches('"'))),
        event_time: record.event_time,
        event_name,
    })
}

/// An event given by hand (`devstack invoke`, `aws lambda invoke`): an SQS event as is, or
/// an S3 event (raw or SNS-wrapped) wrapped in a one-message SQS event.
pub fn sqs_event_from_json(event: serde_json::Value) -> Result<SqsEvent, serde_json::Error> {
    let records = event["Records"].as_array();
    let is_sqs =
        records.is_some_and(|r| r.is_empty() || r[0]["eventSource"].as_str() == Some("aws:sqs"));
    if is_sqs {
        return serde_json::from_value(event);
    }
    let mut message = aws_lambda_events::event::sqs::SqsMessage::default();
    message.message_id = Some("direct".into());
    message.body = Some(event.to_string());
    let mut sqs = SqsEvent::default();
    sqs.records.push(message);
    Ok(sqs)
}

/// Runs `handle` on every change of every message and reports the messages to retry.
///
/// A record that cannot be understood is logged and skipped (S3 will never send it
/// differently); a message that is not an S3 event at all is reported as failed, so the queue
/// moves it to its dead-letter queue after a few tries and nothing is silently lost. A message
/// fails when any of its changes fails; the other messages of the batch go on.
pub async fn process_sqs_batch<F, Fut, E>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(ContentChange) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let message_id = message.message_id.clone().unwrap_or_default();
        let records = match s3_records_from_body(message.body.as_deref().unwrap_or("")) {
            Ok(records) => records,
            Err(err) => {
                tracing::error!(message_id, error = %err, "message rejected; it will go to the dead-letter queue");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message_id;
                response.batch_item_failures.push(failure);
                continue;
            }
        };
        let mut failed = false;
        for (index, record) in records.into_iter().enumerate() {
            let change = match content_change(index, record) {
                Ok(change) => change,
                Err(err) => {
                    tracing::error!(message_id, error = %err, "record skipped");
                    continue;
                }
            };
            let key = change.key.object_key();
            // Every log line of the change carries the message and the key, so one upload
            // can be followed through every function's logs.
            let span = tracing::info_span!("change", message_id = %message_id, key = %key, event = %change.event_name);
            // A panic in a handler (a bug, or a library's on hostile input) fails this
            // message only: the others of the batch go on, and this one is retried and then
            // dead-lettered like any other failure.
            match AssertUnwindSafe(handle(change).instrument(span.clone()))
                .catch_unwind()
                .await
            {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    span.in_scope(|| tracing::error!(error = %err, "change failed; the message will be retried"));
                    failed = true;
                }
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    span.in_scope(|| tracing::error!(panic = %what, "the handler panicked; the message will be retried"));
                    failed = true;
                }
            }
        }
        if failed {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3_event(name: &str, decoded_key: &str, sequencer: &str) -> String {
        crate::testing::s3_event_body(name, decoded_key, sequencer)
    }

    #[tokio::test]
    async fn a_panicking_handler_fails_only_its_message() {
        let message = |id: &str, key: &str| {
            let mut m = aws_lambda_events::event::sqs::SqsMessage::default();
            m.message_id = Some(id.into());
            m.body = Some(s3_event("ObjectCreated:Put", key, "0A"));
            m
        };
        let mut event = SqsEvent::default();
        event.records = vec![
            message("boom", "public/content/a/boom.jpg"),
            message("fine", "public/content/a/fine.jpg"),
        ];
        let handled = std::sync::Mutex::new(Vec::new());
        let response = process_sqs_batch(event, |change| {
            let handled = &handled;
            async move {
                if change.key.file_name() == "boom.jpg" {
                    panic!("a bug");
                }
                handled.lock().unwrap().push(change.key.object_key());
                Ok::<(), String>(())
            }
        })
        .await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["boom"]);
        assert_eq!(*handled.lock().unwrap(), ["public/content/a/fine.jpg"]);
    }

    #[test]
    fn reads_raw_and_sns_wrapped_events() {
        let raw = s3_event(
            "ObjectCreated:Put",
            "public/content/us-east-1:a/my photo+1.jpg",
            "0A",
        );
        let wrapped = serde_json::json!({"Type": "Notification", "MessageId": "m", "Message": raw})
            .to_string();
        for body in [&raw, &wrapped] {
            let records = s3_records_from_body(body).unwrap();
            let change = content_change(0, records[0].clone()).unwrap();
            assert_eq!(change.kind, ChangeKind::Created);
            assert_eq!(
                change.key.object_key(),
                "public/content/us-east-1:a/my photo+1.jpg"
            );
            assert_eq!(change.upload_date(), "2026-11-23T14:05:09.123Z");
        }
    }

    #[test]
    fn test_events_have_no_records() {
        let body = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-23T14:05:09Z","Bucket":"b"}"#;
        assert!(s3_records_from_body(body).unwrap().is_empty());
        let wrapped = serde_json::json!({"Type": "Notification", "Message": body}).to_string();
        assert!(s3_records_from_body(&wrapped).unwrap().is_empty());
    }

    #[test]
    fn the_library_fixture_parses() {
        let fixture = include_str!("../tests/fixtures/example-s3-event.json");
        let records = s3_records_from_body(fixture).unwrap();
        assert!(matches!(
            content_change(0, records[0].clone()),
            Err(EventError::Key(KeyError::NotContent(_)))
        ));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert!(matches!(
            s3_records_from_body("not json"),
            Err(EventError::NotJson(_))
        ));
        assert!(matches!(
            s3_records_from_body("{}"),
            Err(EventError::NotS3Event)
        ));
        assert!(matches!(
            content_change(0, serde_json::json!({"eventName": "x"})),
            Err(EventError::BadRecord { .. })
        ));
        let body = s3_event("ObjectRestore:Post", "public/content/a/b.jpg", "1");
        let record = s3_records_from_body(&body).unwrap().remove(0);
        assert!(matches!(
            content_change(0, record),
            Err(EventError::UnknownEventName { .. })
        ));
        let body = s3_event("ObjectCreated:Put", "public/content//b.jpg", "1");
        let record = s3_records_from_body(&body).unwrap().remove(0);
        assert!(matches!(
            content_change(0, record),
            Err(EventError::Key(KeyError::MissingIdentity(_)))
        ));
    }

    #[tokio::test]
    async fn a_failing_change_fails_only_its_message() {
        use aws_lambda_events::event::sqs::SqsMessage;
        let message = |id: &str, body: String| {
            let mut m = SqsMessage::default();
            m.message_id = Some(id.into());
            m.body = Some(body);
            m
        };
        let mut event = SqsEvent::default();
        event.records = vec![
            message(
                "ok",
                s3_event("ObjectCreated:Put", "public/content/a/good.jpg", "1"),
            ),
            message(
                "bad",
                s3_event("ObjectCreated:Put", "public/content/a/fails.jpg", "2"),
            ),
            message("poison", "garbage".into()),
            message("skipped", s3_event("ObjectCreated:Put", "tmp/x.jpg", "3")),
        ];
        let seen = std::sync::Mutex::new(Vec::new());
        let response = process_sqs_batch(event, |change: ContentChange| {
            seen.lock().unwrap().push(change.key.file_name().to_owned());
            let fail = change.key.file_name() == "fails.jpg";
            async move {
                if fail {
                    Err("boom")
                } else {
                    Ok(())
                }
            }
        })
        .await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["bad", "poison"]);
        assert_eq!(*seen.lock().unwrap(), ["good.jpg", "fails.jpg"]);
    }
}
