//! Delivers the table's stream to update-content-index in-process, as Lambda's DynamoDB
//! event source does: every shard (children after their parents), batches of up to 100,
//! a checkpoint after each batch persisted to disk so a restart neither loses nor replays
//! changes, retries from the first failed record, and a record that keeps failing sent to the
//! dead-letter queue (the on-failure destination) after [`MAX_ATTEMPTS`] tries.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use media_core::aws_lambda_events::event::dynamodb::{Event, EventRecord, StreamRecord};
use media_core::aws_lambda_events::event::streams::DynamoDbEventResponse;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// Deliveries of a failing record before it goes to the dead-letter queue.
pub const MAX_ATTEMPTS: u32 = 3;
const BATCH_SIZE: i32 = 100;

/// What has been processed, per shard.
#[derive(Default, Serialize, Deserialize)]
struct Checkpoints {
    /// Last sequence number processed, by shard id.
    processed: BTreeMap<String, String>,
    /// Shards read to their end.
    finished: BTreeSet<String>,
}

pub struct StreamPump {
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub stream_arn: String,
    pub dead_letter_queue_url: String,
    pub checkpoint_file: PathBuf,
    pub region: String,
}

struct ShardCursor {
    iterator: Option<String>,
    attempts: u32,
}

impl StreamPump {
    fn load(&self) -> Checkpoints {
        std::fs::read(&self.checkpoint_file).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    fn save(&self, checkpoints: &Checkpoints) -> Result<()> {
        let temporary = self.checkpoint_file.with_extension("tmp");
        std::fs::write(&temporary, serde_json::to_vec_pretty(checkpoints)?)?;
        std::fs::rename(&temporary, &self.checkpoint_file)?;
        Ok(())
    }

    pub async fn run<H, Fut>(self, handler: H, shutdown: CancellationToken) -> Result<()>
    where
        H: Fn(Event) -> Fut,
        Fut: Future<Output = DynamoDbEventResponse>,
    {
        let mut checkpoints = self.load();
        let mut cursors: BTreeMap<String, ShardCursor> = BTreeMap::new();
        while !shutdown.is_cancelled() {
            let mut busy = false;
            match self.shards().await {
                Ok(shards) => {
                    for (shard_id, parent) in shards {
                        if checkpoints.finished.contains(&shard_id) {
                            continue;
                        }
                        // A child shard's records come after its parent's: wait for the parent.
                        if parent.as_ref().is_some_and(|p| !checkpoints.finished.contains(p) && cursors.contains_key(p)) {
                            continue;
                        }
                        match self.poll_shard(&shard_id, &mut cursors, &mut checkpoints, &handler).await {
                            Ok(delivered) => busy |= delivered,
                            Err(err) => {
                                tracing::warn!(shard_id, error = %format!("{err:#}"), "stream read failed; retrying");
                                cursors.remove(&shard_id);
                            }
                        }
                    }
                }
                Err(err) => tracing::warn!(error = %format!("{err:#}"), "describing the stream failed; retrying"),
            }
            if !busy {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                }
            }
        }
        Ok(())
    }

    /// Every shard with its parent.
    async fn shards(&self) -> Result<Vec<(String, Option<String>)>> {
        let mut shards = Vec::new();
        let mut start = None;
        loop {
            let description = self
                .streams
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .set_exclusive_start_shard_id(start)
                .send()
                .await
                .context("DescribeStream")?
                .stream_description
                .context("no stream description")?;
            for shard in description.shards() {
                if let Some(id) = shard.shard_id() {
                    shards.push((id.to_owned(), shard.parent_shard_id().map(str::to_owned)));
                }
            }
            match description.last_evaluated_shard_id() {
                Some(last) => start = Some(last.to_owned()),
                None => return Ok(shards),
            }
        }
    }

    async fn iterator(&self, shard_id: &str, after: Option<&String>) -> Result<Option<String>> {
        let request = self.streams.get_shard_iterator().stream_arn(&self.stream_arn).shard_id(shard_id);
        if let Some(sequence) = after {
            let resumed = request
                .clone()
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(sequence)
                .send()
                .await;
            match resumed {
                Ok(output) => return Ok(output.shard_iterator),
                Err(err) if err.as_service_error().is_some_and(|e| e.is_trimmed_data_access_exception()) => {
                    // The emulator does not keep stream records across restarts; start-up
                    // reconciliation already rebuilt the indexes from the table.
                    tracing::info!(shard_id, checkpoint = sequence.as_str(), "checkpoint no longer on the stream; reading from its start");
                }
                Err(err) => return Err(err).context("GetShardIterator"),
            }
        }
        Ok(request
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .context("GetShardIterator")?
            .shard_iterator)
    }

    /// Reads one batch of a shard and delivers it; returns whether there were records.
    async fn poll_shard<H, Fut>(&self, shard_id: &str, cursors: &mut BTreeMap<String, ShardCursor>, checkpoints: &mut Checkpoints, handler: &H) -> Result<bool>
    where
        H: Fn(Event) -> Fut,
        Fut: Future<Output = DynamoDbEventResponse>,
    {
        if !cursors.contains_key(shard_id) {
            let iterator = self.iterator(shard_id, checkpoints.processed.get(shard_id)).await?;
            cursors.insert(shard_id.to_owned(), ShardCursor { iterator, attempts: 0 });
        }
        let cursor = cursors.get_mut(shard_id).expect("cursor");
        let Some(iterator) = cursor.iterator.clone() else {
            checkpoints.finished.insert(shard_id.to_owned());
            self.save(checkpoints)?;
            return Ok(false);
        };
        let output = self.streams.get_records().shard_iterator(iterator).limit(BATCH_SIZE).send().await.context("GetRecords")?;
        let records = output.records.unwrap_or_default();
        if records.is_empty() {
            cursor.iterator = output.next_shard_iterator;
            return Ok(false);
        }
        let event = self.lambda_event(&records);
        let response = handler(event).await;
        let first_failed = response
            .batch_item_failures
            .iter()
            .filter_map(|f| f.item_identifier.clone())
            .min_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        let Some(first_failed) = first_failed else {
            cursor.attempts = 0;
            cursor.iterator = output.next_shard_iterator;
            if let Some(last) = records.last().and_then(|r| r.dynamodb().and_then(|d| d.sequence_number())) {
                checkpoints.processed.insert(shard_id.to_owned(), last.to_owned());
                self.save(checkpoints)?;
            }
            return Ok(true);
        };
        // Everything before the first failure is done; retry from it.
        let before: Vec<&Record> = records
            .iter()
            .take_while(|r| r.dynamodb().and_then(|d| d.sequence_number()) != Some(first_failed.as_str()))
            .collect();
        if let Some(last) = before.last().and_then(|r| r.dynamodb().and_then(|d| d.sequence_number())) {
            checkpoints.processed.insert(shard_id.to_owned(), last.to_owned());
        }
        cursor.attempts += 1;
        if cursor.attempts >= MAX_ATTEMPTS {
            let failed = records.iter().find(|r| r.dynamodb().and_then(|d| d.sequence_number()) == Some(first_failed.as_str()));
            tracing::error!(shard_id, sequence_number = first_failed, attempts = cursor.attempts, "stream record failed repeatedly; sent to the dead-letter queue");
            let body = serde_json::json!({"source": "update-content-index", "shardId": shard_id, "sequenceNumber": first_failed,
                "record": failed.map(|r| serde_json::to_value(self.lambda_record(r)).unwrap_or_default())});
            self.sqs.send_message().queue_url(&self.dead_letter_queue_url).message_body(body.to_string()).send().await.context("SendMessage to the dead-letter queue")?;
            checkpoints.processed.insert(shard_id.to_owned(), first_failed.clone());
            cursor.attempts = 0;
        }
        self.save(checkpoints)?;
        cursors.remove(shard_id);
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok(true)
    }

    fn lambda_event(&self, records: &[Record]) -> Event {
        let mut event = Event::default();
        event.records = records.iter().map(|r| self.lambda_record(r)).collect();
        event
    }

    /// The record as Lambda's event source hands it to the function.
    fn lambda_record(&self, record: &Record) -> EventRecord {
        let mut change = StreamRecord::default();
        if let Some(data) = record.dynamodb() {
            change.keys = data.keys().cloned().unwrap_or_default().into();
            change.new_image = data.new_image().cloned().unwrap_or_default().into();
            change.old_image = data.old_image().cloned().unwrap_or_default().into();
            change.sequence_number = data.sequence_number().map(str::to_owned);
            change.size_bytes = data.size_bytes().unwrap_or_default();
            if let Some(created) = data.approximate_creation_date_time() {
                change.approximate_creation_date_time =
                    chrono::DateTime::from_timestamp(created.secs(), created.subsec_nanos()).unwrap_or_default();
            }
        }
        let mut event = EventRecord::default();
        event.aws_region = self.region.clone();
        event.change = change;
        event.event_id = record.event_id().unwrap_or_default().to_owned();
        event.event_name = record.event_name().map(|n| n.as_str().to_owned()).unwrap_or_default();
        event.event_source = Some("aws:dynamodb".into());
        event.event_version = record.event_version().map(str::to_owned);
        event.event_source_arn = Some(self.stream_arn.clone());
        event
    }
}
