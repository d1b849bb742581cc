//! update-content-index: regenerates the indexes a batch of table changes affects, each once
//! per batch, and reports the changes whose index could not be published as batch item
//! failures so the stream retries them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use media_core::aws_lambda_events::event::dynamodb::{Event, EventRecord};
use media_core::aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use media_core::config::ConfigError;
use media_index::{affected_indexes, IndexChange, IndexLimits, IndexPublisher, IndexTarget, Published, TableChange};
use media_core::item::{ItemKey, MediaItem};
use media_core::item::is_bookkeeping_partition;
use media_core::ports::{IndexItems, ObjectStore, StoreError};
use serde::Deserialize;
use tracing::Instrument;

mod metered;
pub use metered::{Meter, Metered, MeteredItems, MeteredObjects};

/// A stream record that cannot be understood.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("record {event_id} has no sequence number")]
    NoSequenceNumber { event_id: String },
    #[error("record {event_id} has no identityId/objectKey keys: {reason}")]
    BadKeys { event_id: String, reason: String },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageDates {
    #[serde(default)]
    is_public: bool,
    #[serde(default)]
    upload_day: Option<String>,
    #[serde(default)]
    upload_date: Option<String>,
}

fn image_dates(image: &serde_dynamo::Item) -> Option<ImageDates> {
    serde_dynamo::from_item::<_, ImageDates>(image.clone()).ok()
}

/// Reads the parts of a stream record that decide which indexes it affects.
pub fn table_change(record: &EventRecord) -> Result<TableChange, RecordError> {
    let event_id = record.event_id.clone();
    let sequence_number = record
        .change
        .sequence_number
        .clone()
        .ok_or_else(|| RecordError::NoSequenceNumber { event_id: event_id.clone() })?;
    let key: ItemKey = serde_dynamo::from_item(record.change.keys.clone())
        .map_err(|e| RecordError::BadKeys { event_id: event_id.clone(), reason: e.to_string() })?;
    let new_image = if record.event_name == "REMOVE" { None } else { image_dates(&record.change.new_image) };
    let old_image = image_dates(&record.change.old_image);
    let public_day = new_image.as_ref().filter(|image| image.is_public).and_then(|image| image.upload_day.clone());
    // The pages the change may touch: where the item was and where it is.
    let mut dates: Vec<String> = old_image.into_iter().chain(new_image).filter_map(|image| image.upload_date).collect();
    dates.dedup();
    Ok(TableChange { sequence_number, key, public_day, dates })
}

/// The function, over any object and item store.
pub struct UpdateContentIndex<O, I> {
    objects: O,
    items: I,
    limits: IndexLimits,
}

impl<O: ObjectStore, I: IndexItems> UpdateContentIndex<O, I> {
    pub fn new(objects: O, items: I, limits: IndexLimits) -> Self {
        UpdateContentIndex { objects, items, limits }
    }

    pub fn objects(&self) -> &O {
        &self.objects
    }

    pub fn items(&self) -> &I {
        &self.items
    }

    pub fn publisher(&self) -> IndexPublisher<'_, O, I> {
        IndexPublisher { objects: &self.objects, items: &self.items, limits: self.limits }
    }

    /// Handles a stream batch as Lambda delivers it.
    pub async fn handle_stream(&self, event: Event) -> DynamoDbEventResponse {
        let mut changes = Vec::new();
        for record in &event.records {
            match table_change(record) {
                Ok(change) => changes.push(change),
                // Retrying cannot make a malformed record readable: skip it, loudly, rather
                // than block the shard behind it.
                Err(err) => tracing::error!(error = %err, "stream record skipped"),
            }
        }
        let mut response = DynamoDbEventResponse::default();
        for sequence_number in self.handle_changes(&changes).await {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(sequence_number);
            response.batch_item_failures.push(failure);
        }
        response
    }

    /// Applies a batch; returns the sequence numbers of the changes to retry.
    pub async fn handle_changes(&self, changes: &[TableChange]) -> Vec<String> {
        let mut failed: BTreeSet<String> = BTreeSet::new();

        let days: BTreeSet<&str> = changes.iter().filter_map(|c| c.public_day.as_deref()).collect();
        for day in days {
            if let Err(err) = self.items.mark_public_day(day).await {
                tracing::error!(day, error = %err, "cannot record a public upload day");
                failed.extend(changes.iter().filter(|c| c.public_day.as_deref() == Some(day)).map(|c| c.sequence_number.clone()));
            }
        }

        for (target, affecting) in affected_indexes(changes) {
            let fresh: Vec<IndexChange> = affecting.iter().map(|c| c.index_change()).collect();
            // The changed keys on every line of this index's regeneration: an upload can be
            // followed from content-updated's log to the index that shows it.
            let keys: Vec<&str> = affecting.iter().take(20).map(|c| c.key.object_key.as_str()).collect();
            let span = tracing::info_span!("index", index = %target.key(), keys = ?keys);
            let meter = Meter::default();
            let (objects, table) = (MeteredObjects { inner: &self.objects, meter: &meter }, MeteredItems { inner: &self.items, meter: &meter });
            let publisher = IndexPublisher { objects: &objects, items: &table, limits: self.limits };
            let outcome = publisher.regenerate(&target, &fresh).instrument(span).await;
            let Metered { index_bytes_read, index_bytes_written, objects_read, objects_written, items_read, keys_listed } = meter.read();
            // `attempts`: the head writes tried (none when the index was already current).
            let (message, items, pages, volumes, attempts) = match outcome {
                Ok(Published::Written { items, pages, volumes, attempts }) => ("index written", items, pages, volumes, attempts),
                Ok(Published::Unchanged { items }) => ("index already current", items, 0, 0, 0),
                Err(err) => {
                    tracing::error!(index = target.key(), error = %err, "index not published; its changes will be retried");
                    failed.extend(affecting.iter().map(|c| c.sequence_number.clone()));
                    continue;
                }
            };
            tracing::info!(
                index = target.key(),
                items,
                pages,
                volumes,
                attempts,
                changes = affecting.len(),
                index_bytes_read,
                index_bytes_written,
                objects_read,
                objects_written,
                items_read,
                keys_listed,
                "{message}"
            );
        }
        // Lambda retries from the lowest reported sequence number; report them in order.
        let mut failed: Vec<String> = failed.into_iter().collect();
        failed.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        failed
    }

    /// Regenerates every index from a full read of the table and records every public day:
    /// for start-up after the stream lost records.
    pub async fn reconcile(&self) -> Result<BTreeMap<String, Published>, StoreError> {
        let all: Vec<MediaItem> = self.items.all_items().await?;
        let mut targets = BTreeSet::from([IndexTarget::Public]);
        let mut days = BTreeSet::new();
        for item in all.iter().filter(|i| !is_bookkeeping_partition(&i.identity_id)) {
            targets.insert(IndexTarget::Private(item.identity_id.clone()));
            if let (true, false, Some(day)) = (item.is_public, item.is_tombstone(), item.upload_day.as_ref()) {
                days.insert(day.clone());
            }
        }
        for day in &days {
            self.items.mark_public_day(day).await?;
        }
        let mut results = BTreeMap::new();
        for target in targets {
            match self.publisher().rebuild(&target).await {
                Ok(published) => {
                    results.insert(target.key(), published);
                }
                Err(err) => tracing::error!(index = target.key(), error = %err, "reconcile could not publish"),
            }
        }
        Ok(results)
    }
}

/// The function as deployed.
pub type AwsUpdateContentIndex = UpdateContentIndex<media_core::aws::S3ObjectStore, media_core::aws::DynamoItemStore>;

pub async fn from_env() -> Result<Arc<AwsUpdateContentIndex>, ConfigError> {
    let limits = IndexLimits::from_env()?;
    let (objects, items) = media_core::aws::stores_from_env().await?;
    Ok(Arc::new(UpdateContentIndex::new(objects, items, limits)))
}
