//! update-content-index: regenerates the indexes a batch of table changes affects, each once
//! per batch, and reports the changes whose index could not be published as batch item
//! failures so the stream retries them.
//!
//! Before regenerating, it writes back cut any title or description an owner stored past the
//! contract's bounds (owners edit the two attributes in the table directly, and IAM cannot
//! bound a value's size): [`oversized_text`], [`UpdateContentIndex::handle_stream`].

use std::collections::BTreeSet;
use std::sync::Arc;

use media_core::aws_lambda_events::event::dynamodb::{Event, EventRecord};
use media_core::aws_lambda_events::event::streams::{
    DynamoDbBatchItemFailure, DynamoDbEventResponse,
};
use media_core::config::ConfigError;
use media_core::item::is_bookkeeping_partition;
use media_core::item::ItemKey;
use media_core::ports::{IndexItems, ObjectStore, TextBounds, WriteOutcome};
use media_core::text::{TextCut, TextField};
use media_index::{
    affected_indexes, IndexChange, IndexLimits, IndexPublisher, Published, TableChange,
};
use serde::Deserialize;
use tracing::Instrument;

mod metered;
pub use metered::{Meter, Metered, MeteredItems, MeteredObjects};

/// A payload that is not a DynamoDB stream batch: this function only follows the table's
/// stream. Rebuilding every index from the table is repair's job (`repair/`), which pages
/// through it instead of holding it in memory.
#[derive(Debug, thiserror::Error)]
pub enum NotAStreamBatch {
    #[error("update-content-index takes DynamoDB stream batches (a \"Records\" array); to rebuild every index, invoke repair")]
    NoRecords,
    #[error("the stream batch cannot be read: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// Reads a Lambda payload as a stream batch, refusing anything else.
pub fn stream_batch(payload: serde_json::Value) -> Result<Event, NotAStreamBatch> {
    if !payload
        .get("Records")
        .is_some_and(serde_json::Value::is_array)
    {
        return Err(NotAStreamBatch::NoRecords);
    }
    Ok(serde_json::from_value(payload)?)
}

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
    let sequence_number =
        record
            .change
            .sequence_number
            .clone()
            .ok_or_else(|| RecordError::NoSequenceNumber {
                event_id: event_id.clone(),
            })?;
    let key: ItemKey =
        serde_dynamo::from_item(record.change.keys.clone()).map_err(|e| RecordError::BadKeys {
            event_id: event_id.clone(),
            reason: e.to_string(),
        })?;
    let new_image = if record.event_name == "REMOVE" {
        None
    } else {
        image_dates(&record.change.new_image)
    };
    let old_image = image_dates(&record.change.old_image);
    let public_day = new_image
        .as_ref()
        .filter(|image| image.is_public)
        .and_then(|image| image.upload_day.clone());
    // The pages the change may touch: where the item was and where it is.
    let mut dates: Vec<String> = old_image
        .into_iter()
        .chain(new_image)
        .filter_map(|image| image.upload_date)
        .collect();
    dates.dedup();
    Ok(TableChange {
        sequence_number,
        key,
        public_day,
        dates,
    })
}

#[derive(Deserialize)]
struct ImageText {
    #[serde(default)]
    deleted: Option<bool>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// A title or description a stream record shows past the contract's bounds, on a live item:
/// what to write back, and the record that showed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OversizedText {
    pub sequence_number: String,
    pub key: ItemKey,
    pub cuts: Vec<TextCut>,
}

/// The oversized texts of a record's new image, if it has any: never for a removal, a
/// tombstone or a bookkeeping item.
pub fn oversized_text(record: &EventRecord) -> Option<OversizedText> {
    if record.event_name == "REMOVE" {
        return None;
    }
    let key: ItemKey = serde_dynamo::from_item(record.change.keys.clone()).ok()?;
    if is_bookkeeping_partition(&key.identity_id) {
        return None;
    }
    let image: ImageText = serde_dynamo::from_item(record.change.new_image.clone()).ok()?;
    if image.deleted == Some(true) {
        return None;
    }
    let cuts: Vec<TextCut> = [
        (TextField::Title, &image.title),
        (TextField::Description, &image.description),
    ]
    .into_iter()
    .filter_map(|(field, value)| field.cut(value.as_deref()?))
    .collect();
    let sequence_number = record.change.sequence_number.clone()?;
    (!cuts.is_empty()).then_some(OversizedText {
        sequence_number,
        key,
        cuts,
    })
}

/// Lambda retries a shard from the lowest sequence number reported; they are decimal strings
/// of growing length, so shorter is lower.
fn in_retry_order(failed: BTreeSet<String>) -> Vec<String> {
    let mut failed: Vec<String> = failed.into_iter().collect();
    failed.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    failed
}

/// The function, over any object and item store.
pub struct UpdateContentIndex<O, I> {
    objects: O,
    items: I,
    limits: IndexLimits,
}

impl<O: ObjectStore, I: IndexItems> UpdateContentIndex<O, I> {
    pub fn new(objects: O, items: I, limits: IndexLimits) -> Self {
        UpdateContentIndex {
            objects,
            items,
            limits,
        }
    }

    pub fn objects(&self) -> &O {
        &self.objects
    }

    pub fn items(&self) -> &I {
        &self.items
    }

    pub fn publisher(&self) -> IndexPublisher<'_, O, I> {
        IndexPublisher {
            objects: &self.objects,
            items: &self.items,
            limits: self.limits,
        }
    }

    /// Applies a batch; returns the sequence numbers of the changes to retry.
    pub async fn handle_changes(&self, changes: &[TableChange]) -> Vec<String> {
        let mut failed: BTreeSet<String> = BTreeSet::new();

        let days: BTreeSet<&str> = changes
            .iter()
            .filter_map(|c| c.public_day.as_deref())
            .collect();
        for day in days {
            if let Err(err) = self.items.mark_public_day(day).await {
                tracing::error!(day, error = %err, "cannot record a public upload day");
                failed.extend(
                    changes
                        .iter()
                        .filter(|c| c.public_day.as_deref() == Some(day))
                        .map(|c| c.sequence_number.clone()),
                );
            }
        }

        for (target, affecting) in affected_indexes(changes) {
            let fresh: Vec<IndexChange> = affecting.iter().map(|c| c.index_change()).collect();
            // The changed keys on every line of this index's regeneration: an upload can be
            // followed from content-updated's log to the index that shows it.
            let keys: Vec<&str> = affecting
                .iter()
                .take(20)
                .map(|c| c.key.object_key.as_str())
                .collect();
            let span = tracing::info_span!("index", index = %target.key(), keys = ?keys);
            let meter = Meter::default();
            let (objects, table) = (
                MeteredObjects {
                    inner: &self.objects,
                    meter: &meter,
                },
                MeteredItems {
                    inner: &self.items,
                    meter: &meter,
                },
            );
            let publisher = IndexPublisher {
                objects: &objects,
                items: &table,
                limits: self.limits,
            };
            let outcome = publisher.regenerate(&target, &fresh).instrument(span).await;
            let Metered {
                index_bytes_read,
                index_bytes_written,
                objects_read,
                objects_written,
                items_read,
                keys_listed,
                read_units,
            } = meter.read();
            // `attempts`: the head writes tried (none when the index was already current).
            let (message, items, pages, volumes, attempts) = match outcome {
                Ok(Published::Written {
                    items,
                    pages,
                    volumes,
                    attempts,
                }) => ("index written", items, pages, volumes, attempts),
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
                read_units,
                "{message}"
            );
        }
        in_retry_order(failed)
    }
}

impl<O: ObjectStore, I: IndexItems + TextBounds> UpdateContentIndex<O, I> {
    /// Handles a stream batch as Lambda delivers it: first writes back cut every title and
    /// description the records show past the contract's bounds, then regenerates the indexes
    /// the batch affects, so that no regeneration (this one or any later one) reads an
    /// oversized value from the table.
    ///
    /// The write-back's own record shows the values within bounds: it cuts nothing and its
    /// regeneration finds the indexes already current, so it ends there. A record delivered
    /// again (or late, after a newer edit) finds its condition false and writes nothing.
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
        let uncut = self
            .cut_oversized(event.records.iter().filter_map(oversized_text))
            .await;
        // A change whose cut could not be written is retried before its index is regenerated.
        changes.retain(|c| !uncut.contains(&c.sequence_number));
        let failed: BTreeSet<String> = self
            .handle_changes(&changes)
            .await
            .into_iter()
            .chain(uncut)
            .collect();
        let mut response = DynamoDbEventResponse::default();
        for sequence_number in in_retry_order(failed) {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(sequence_number);
            response.batch_item_failures.push(failure);
        }
        response
    }

    /// Writes each oversized text back cut, conditioned on the item still holding exactly that
    /// text (a newer edit is never overwritten); returns the sequence numbers whose write failed.
    async fn cut_oversized(
        &self,
        oversized: impl Iterator<Item = OversizedText>,
    ) -> BTreeSet<String> {
        let mut failed = BTreeSet::new();
        for OversizedText {
            sequence_number,
            key,
            cuts,
        } in oversized
        {
            let fields: Vec<&str> = cuts.iter().map(|c| c.field.attribute()).collect();
            let stored_chars: Vec<usize> = cuts.iter().map(|c| c.stored.chars().count()).collect();
            match self.items.cut_text(&key, &cuts).await {
                Ok(WriteOutcome::Applied) => tracing::info!(
                    key = key.object_key,
                    identity = key.identity_id,
                    ?fields,
                    ?stored_chars,
                    "owner's text cut to the contract's bounds"
                ),
                Ok(WriteOutcome::Superseded) => tracing::info!(
                    key = key.object_key,
                    identity = key.identity_id,
                    ?fields,
                    "oversized text already replaced (a newer edit, an earlier cut, or a deletion); nothing cut"
                ),
                Err(err) => {
                    let message = "cannot cut an oversized text; the change will be retried";
                    tracing::error!(key = key.object_key, error = %err, "{message}");
                    failed.insert(sequence_number);
                }
            }
        }
        failed
    }
}

/// The function as deployed.
pub type AwsUpdateContentIndex =
    UpdateContentIndex<media_core::aws::S3ObjectStore, media_core::aws::DynamoItemStore>;

pub async fn from_env() -> Result<Arc<AwsUpdateContentIndex>, ConfigError> {
    let limits = IndexLimits::from_env()?;
    let (objects, items) = media_core::aws::stores_from_env().await?;
    Ok(Arc::new(UpdateContentIndex::new(objects, items, limits)))
}
