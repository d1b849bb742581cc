//! content-updated: for each upload, a thumbnail, a preview and the picture's item; on
//! delete, cleanup.
//!
//! Events arrive at least once and out of order. Every change is checked against the item's
//! stored S3 `sequencer` before any work and written conditionally on it, so a repeated or
//! older event never overwrites a newer one. A create reads the object with `If-Match` on
//! the event's ETag (so it thumbnails the version its event is about), writes the thumbnail
//! and the preview through [`media_core::derived`] (never over a later event's), then the
//! item; if the item write loses to a later event, it takes its own renditions back. A delete turns the item
//! into a tombstone first (so a create that read the object before the delete cannot bring
//! the item back), then removes the derived objects older than itself.

use std::sync::Arc;

pub mod bounds;
pub mod dating;

use bounds::UploadBounds;

use media_core::aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use media_core::config::ConfigError;
use media_core::derived;
use media_core::events::{process_sqs_batch, ChangeKind, ContentChange};
use media_core::item::{
    format_upload_date, upload_day, ContentAttributes, ItemKey, Refusal, Tombstone,
    REFUSAL_TTL_SECONDS,
};
use media_core::keys::ContentKey;
use media_core::metadata::UploadMetadata;
use media_core::metadata::{parse_upload_metadata, METADATA_KEY};
use media_core::ports::{
    ContentItems, FetchedObject, ObjectHead, ObjectStore, PutObject, StoreError, WriteOutcome,
};
use media_imaging::capture::{self, Capture};
use media_imaging::ImageLimits;
use media_imaging::{self as imaging, ImagingError, Renditions, Unusable};

/// A change that could not be applied now; the message is retried.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("thumbnail task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// What a change led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Thumbnail and preview written and item up to date; `width` and `height` are the
    /// thumbnail's.
    Thumbnailed {
        thumbnail_key: String,
        preview_key: String,
        width: u32,
        height: u32,
    },
    /// The upload is kept and has an item, but no thumbnail.
    StoredWithoutThumbnail { reason: NoThumbnail },
    /// Not kept: the upload was deleted and its item says why.
    Refused(Refusal),
    /// Thumbnail, preview, faces image and item removed.
    Removed,
    /// Nothing to do.
    Skipped(Skip),
}

/// Why an upload is kept without a thumbnail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoThumbnail {
    #[error("the thumbnail's key would pass S3's 1,024-byte key limit")]
    KeyTooLong,
    #[error(transparent)]
    Unusable(#[from] Unusable),
}

/// Why a change needed no work here: each case is another event's to handle, or was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The item already holds a later event's sequencer.
    LaterEventApplied,
    /// The object is gone, or is no longer the version the event names: a later event
    /// handles it.
    ObjectGoneOrReplaced,
    /// A later upload's thumbnail or preview is in place; what this event wrote is taken back.
    LaterRenditionsInPlace,
    /// The item's conditional write lost to a later event while this one worked.
    LaterEventAppliedMeanwhile,
    /// A removal whose object exists again: the new upload's own event handles it.
    ObjectExistsAgain,
    /// A removal whose tombstone lost: a later upload replaced the object, or the item
    /// records why the upload was not kept.
    ItemNewerOrRefused,
}

/// The function, over any object and item store.
pub struct ContentUpdated<O, I> {
    objects: O,
    items: I,
    limits: ImageLimits,
    bounds: UploadBounds,
}

/// The item's attributes for an upload without renditions, which every outcome starts from.
fn attributes_without_renditions(
    change: &ContentChange,
    head: &ObjectHead,
    metadata: UploadMetadata,
    upload_date: String,
) -> ContentAttributes {
    let is_public = change.key.visibility().is_public();
    ContentAttributes {
        thumbnail_key: None,
        preview_key: None,
        animated: false,
        is_public,
        title: metadata.title,
        description: metadata.description,
        upload_day: is_public.then(|| upload_day(&upload_date)),
        upload_date,
        content_type: head
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into()),
        taken_at: None,
        camera: None,
        size: head.size,
        width: None,
        height: None,
        sequencer: change.sequencer.clone(),
        refused: None,
        expires_at: None,
    }
}

/// The owner's metadata header, with each problem it had logged (a broken header never
/// stops the upload: what cannot be read falls back to the defaults).
fn upload_metadata(key: &ContentKey, fetched: &FetchedObject) -> UploadMetadata {
    let (metadata, problems) = parse_upload_metadata(
        fetched.head.metadata.get(METADATA_KEY).map(String::as_str),
        key.file_name(),
    );
    for problem in &problems {
        tracing::warn!(key = %key, problem = %problem, "upload metadata");
    }
    metadata
}

/// Records the renditions (and what decoding learnt of the original) on the item.
fn set_renditions(
    attributes: &mut ContentAttributes,
    key: &ContentKey,
    renditions: &Renditions,
    capture: Capture,
) {
    attributes.taken_at = capture.taken_at.map(|taken| taken.to_string());
    attributes.camera = capture.camera;
    attributes.thumbnail_key = Some(key.thumbnail_key());
    attributes.preview_key = Some(key.preview_key());
    attributes.animated = renditions.animated;
    attributes.content_type = renditions.original.content_type().to_owned();
    attributes.width = Some(renditions.original.width);
    attributes.height = Some(renditions.original.height);
}

impl<O: ObjectStore, I: ContentItems> ContentUpdated<O, I> {
    /// The function with the default upload bounds.
    pub fn new(objects: O, items: I, limits: ImageLimits) -> Self {
        ContentUpdated {
            objects,
            items,
            limits,
            bounds: UploadBounds::default(),
        }
    }

    pub fn with_bounds(self, bounds: UploadBounds) -> Self {
        ContentUpdated { bounds, ..self }
    }

    pub fn objects(&self) -> &O {
        &self.objects
    }

    pub fn items(&self) -> &I {
        &self.items
    }

    /// Handles an SQS batch and reports the messages to retry.
    pub async fn handle_sqs(&self, event: SqsEvent) -> SqsBatchResponse {
        process_sqs_batch(event, |change| async move {
            self.handle(&change).await.map(|_| ())
        })
        .await
    }

    /// Applies one change.
    pub async fn handle(&self, change: &ContentChange) -> Result<Outcome, HandlerError> {
        let key = change.key.object_key();
        let outcome = match change.kind {
            ChangeKind::Created => self.created(change).await,
            ChangeKind::Removed => self.removed(change).await,
        }?;
        match &outcome {
            Outcome::StoredWithoutThumbnail { reason } => {
                tracing::error!(key, event = %change.event_name, ?reason, %reason, "upload kept without a thumbnail")
            }
            Outcome::Refused(refusal) => {
                tracing::warn!(key, event = %change.event_name, ?refusal, "upload not kept: deleted, its item says why")
            }
            other => {
                tracing::info!(key, event = %change.event_name, outcome = ?other, "change applied")
            }
        }
        Ok(outcome)
    }

    /// Whether the item already reflects an event after this one.
    async fn later_event_applied(
        &self,
        change: &ContentChange,
        item: &ItemKey,
    ) -> Result<bool, StoreError> {
        Ok(self
            .items
            .sequencer(item)
            .await?
            .is_some_and(|stored| stored > change.sequencer))
    }

    /// An upload: refused if it passes the bounds, else renditions (or why there are none),
    /// then the item.
    async fn created(&self, change: &ContentChange) -> Result<Outcome, HandlerError> {
        let item_key = ItemKey::from(&change.key);
        // The same event again is not skipped: a retry completes what a crash interrupted
        // (every write below is idempotent).
        if self.later_event_applied(change, &item_key).await? {
            return Ok(Outcome::Skipped(Skip::LaterEventApplied));
        }
        // The version the event is about (If-Match on its ETag), or nothing.
        let Some(mut fetched) = self
            .objects
            .get_matching(
                &change.key.object_key(),
                change.etag.as_deref(),
                self.limits.max_bytes,
            )
            .await?
        else {
            return Ok(Outcome::Skipped(Skip::ObjectGoneOrReplaced));
        };
        let metadata = upload_metadata(&change.key, &fetched);
        if let Some(refusal) = self.refusal(change, &fetched, &metadata).await? {
            return self.refuse(change, &fetched, metadata, refusal).await;
        }
        let renditions = self.renditions(change, &mut fetched).await?;
        // Dated by its event, or by its old item when it moved from the other prefix.
        let upload_date =
            dating::upload_date(&self.items, change, metadata.moved_from.as_deref()).await?;
        let mut attributes =
            attributes_without_renditions(change, &fetched.head, metadata, upload_date);
        let outcome = match renditions {
            Ok((renditions, capture)) => {
                set_renditions(&mut attributes, &change.key, &renditions, capture);
                let outcome = Outcome::Thumbnailed {
                    thumbnail_key: change.key.thumbnail_key(),
                    preview_key: change.key.preview_key(),
                    width: renditions.thumbnail.width,
                    height: renditions.thumbnail.height,
                };
                if self.write_renditions(change, renditions).await? == WriteOutcome::Superseded {
                    return Ok(Outcome::Skipped(Skip::LaterRenditionsInPlace));
                }
                outcome
            }
            Err(reason) => {
                // An earlier upload under the same key may have left renditions that no
                // longer match the object.
                self.remove_renditions(change).await?;
                Outcome::StoredWithoutThumbnail { reason }
            }
        };
        self.write_item(change, &item_key, &attributes, outcome)
            .await
    }

    /// Why the upload is not kept, if it passes a bound.
    async fn refusal(
        &self,
        change: &ContentChange,
        fetched: &FetchedObject,
        metadata: &UploadMetadata,
    ) -> Result<Option<Refusal>, StoreError> {
        // A visibility change: the old original is about to be deleted and must not count
        // twice.
        let moved_from = metadata
            .moved_from
            .as_deref()
            .and_then(|old| dating::accepted_move(&change.key, old).ok())
            .map(|old| old.object_key());
        bounds::refusal(
            &self.objects,
            &change.key,
            fetched,
            &self.bounds,
            moved_from.as_deref(),
        )
        .await
    }

    /// The thumbnail and preview of the fetched bytes, with what their Exif says of the
    /// capture (read off the async threads), or why there are none.
    async fn renditions(
        &self,
        change: &ContentChange,
        fetched: &mut FetchedObject,
    ) -> Result<Result<(Renditions, Capture), NoThumbnail>, HandlerError> {
        if !change.key.derived_keys_fit() {
            return Ok(Err(NoThumbnail::KeyTooLong));
        }
        let Some(bytes) = fetched.body.take() else {
            return Ok(Err(Unusable::TooLarge {
                size: fetched.head.size,
                limit: self.limits.max_bytes,
            }
            .into()));
        };
        let (limits, uploaded) = (self.limits, change.event_time);
        let made: Result<(Renditions, Capture), ImagingError> =
            tokio::task::spawn_blocking(move || {
                let renditions = imaging::make_renditions(&bytes, &limits)?;
                Ok((renditions, capture::read(&bytes, uploaded)))
            })
            .await?;
        Ok(made.map_err(|err| Unusable::from(err).into()))
    }

    /// Writes the thumbnail, then the preview, each only over an older event's. If a later
    /// upload's is in place, this event is over: it takes back what it already wrote.
    async fn write_renditions(
        &self,
        change: &ContentChange,
        renditions: Renditions,
    ) -> Result<WriteOutcome, StoreError> {
        let (thumbnail_key, preview_key) = (change.key.thumbnail_key(), change.key.preview_key());
        for (key, encoded) in [
            (&thumbnail_key, renditions.thumbnail),
            (&preview_key, renditions.preview),
        ] {
            let put = PutObject::new(key, encoded.bytes, encoded.content_type);
            if derived::put(&self.objects, put, &change.sequencer).await?
                == WriteOutcome::Superseded
            {
                self.take_back(&[&thumbnail_key, &preview_key], change)
                    .await?;
                return Ok(WriteOutcome::Superseded);
            }
        }
        Ok(WriteOutcome::Applied)
    }

    /// Removes the thumbnail and preview older than this event, if the key has any.
    async fn remove_renditions(&self, change: &ContentChange) -> Result<(), StoreError> {
        let key = &change.key;
        if key.derived_keys_fit() {
            derived::remove(&self.objects, &key.thumbnail_key(), &change.sequencer).await?;
            derived::remove(&self.objects, &key.preview_key(), &change.sequencer).await?;
        }
        Ok(())
    }

    /// Writes the item unless a later event's is there; then what this event wrote must not
    /// outlive it (a newer upload won, or the deletion did).
    async fn write_item(
        &self,
        change: &ContentChange,
        item_key: &ItemKey,
        attributes: &ContentAttributes,
        outcome: Outcome,
    ) -> Result<Outcome, HandlerError> {
        match self.items.write_content(item_key, attributes).await? {
            WriteOutcome::Applied => Ok(outcome),
            WriteOutcome::Superseded => {
                if attributes.thumbnail_key.is_some() {
                    let (thumbnail, preview) =
                        (change.key.thumbnail_key(), change.key.preview_key());
                    self.take_back(&[&thumbnail, &preview], change).await?;
                }
                Ok(Outcome::Skipped(Skip::LaterEventAppliedMeanwhile))
            }
        }
    }

    /// Records why the upload is not kept, then deletes it (only the version this event is
    /// about: If-Match on its ETag) and whatever renditions and faces copy of it exist. The
    /// item comes first, so the deletion's own event finds it and leaves it (its tombstone is
    /// conditioned on no `refused`); DynamoDB's TTL removes it after `REFUSAL_TTL_SECONDS`.
    async fn refuse(
        &self,
        change: &ContentChange,
        fetched: &FetchedObject,
        metadata: UploadMetadata,
        refusal: Refusal,
    ) -> Result<Outcome, HandlerError> {
        let key = &change.key;
        let attributes = ContentAttributes {
            // Never in the public by-day index: nobody but the owner has anything to see.
            upload_day: None,
            refused: Some(refusal),
            expires_at: Some(chrono::Utc::now().timestamp() + REFUSAL_TTL_SECONDS),
            ..attributes_without_renditions(
                change,
                &fetched.head,
                metadata,
                format_upload_date(change.event_time),
            )
        };
        if self
            .items
            .write_content(&ItemKey::from(key), &attributes)
            .await?
            == WriteOutcome::Superseded
        {
            return Ok(Outcome::Skipped(Skip::LaterEventAppliedMeanwhile));
        }
        let etag = fetched.head.etag.as_deref().or(change.etag.as_deref());
        match etag {
            Some(etag) => {
                self.objects
                    .delete_if_match(&key.object_key(), etag)
                    .await?;
            }
            None => {
                tracing::error!(key = %key, "refused upload has no ETag to delete it by; left in place")
            }
        }
        self.remove_renditions(change).await?;
        derived::remove(&self.objects, &key.faces_key(), &change.sequencer).await?;
        Ok(Outcome::Refused(refusal))
    }

    /// Removes the renditions at `keys` that this event wrote (and only those).
    async fn take_back(&self, keys: &[&String], change: &ContentChange) -> Result<(), StoreError> {
        for key in keys {
            derived::remove_own(&self.objects, key, &change.sequencer).await?;
        }
        Ok(())
    }

    async fn removed(&self, change: &ContentChange) -> Result<Outcome, HandlerError> {
        let key = &change.key;
        let item_key = ItemKey::from(key);
        if self.later_event_applied(change, &item_key).await? {
            return Ok(Outcome::Skipped(Skip::LaterEventApplied));
        }
        if self.objects.exists(&key.object_key()).await? {
            return Ok(Outcome::Skipped(Skip::ObjectExistsAgain));
        }
        let tombstone = Tombstone::new(change.sequencer.clone(), chrono::Utc::now());
        if self.items.write_tombstone(&item_key, &tombstone).await? == WriteOutcome::Superseded {
            return Ok(Outcome::Skipped(Skip::ItemNewerOrRefused));
        }
        self.remove_renditions(change).await?;
        derived::remove(&self.objects, &key.faces_key(), &change.sequencer).await?;
        Ok(Outcome::Removed)
    }
}

/// The function as deployed: AWS stores configured from the environment.
pub type AwsContentUpdated =
    ContentUpdated<media_core::aws::S3ObjectStore, media_core::aws::DynamoItemStore>;

/// Builds the deployed function from the environment.
pub async fn from_env() -> Result<Arc<AwsContentUpdated>, ConfigError> {
    let limits = ImageLimits::from_env().map_err(|e| ConfigError::Invalid {
        name: e.name,
        value: e.value,
        expected: "number",
    })?;
    let bounds = UploadBounds::from_env()?;
    let (objects, items) = media_core::aws::stores_from_env().await?;
    Ok(Arc::new(
        ContentUpdated::new(objects, items, limits).with_bounds(bounds),
    ))
}
