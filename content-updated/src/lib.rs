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
    ContentItems, FetchedObject, ObjectStore, PutObject, StoreError, WriteOutcome,
};
use media_imaging::ImageLimits;
use media_imaging::{self as imaging, ImagingError, Renditions};

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
    /// The upload is kept and has an item, but no thumbnail: it is not a usable image.
    StoredWithoutThumbnail { reason: String },
    /// Not kept: the upload was deleted and its item says why.
    Refused(Refusal),
    /// Thumbnail, preview, faces image and item removed.
    Removed,
    /// Nothing to do, for the reason given.
    Skipped(&'static str),
}

/// The function, over any object and item store.
pub struct ContentUpdated<O, I> {
    objects: O,
    items: I,
    limits: ImageLimits,
    bounds: UploadBounds,
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
                tracing::error!(key, event = %change.event_name, reason, "upload kept without a thumbnail")
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

    async fn created(&self, change: &ContentChange) -> Result<Outcome, HandlerError> {
        let key: &ContentKey = &change.key;
        let item_key = ItemKey::from(key);
        // The same event again is not skipped: a retry completes what a crash interrupted
        // (every write below is idempotent).
        if self.later_event_applied(change, &item_key).await? {
            return Ok(Outcome::Skipped("the item already reflects a later event"));
        }
        let Some(fetched) = self
            .objects
            .get_matching(
                &key.object_key(),
                change.etag.as_deref(),
                self.limits.max_bytes,
            )
            .await?
        else {
            return Ok(Outcome::Skipped(
                "the object is gone or was replaced; a later event handles it",
            ));
        };

        let (metadata, problems) = parse_upload_metadata(
            fetched.head.metadata.get(METADATA_KEY).map(String::as_str),
            key.file_name(),
        );
        for problem in &problems {
            tracing::warn!(key = %key, problem = %problem, "upload metadata");
        }

        // A visibility change: the old original is about to be deleted and must not count twice.
        let moved_from = metadata
            .moved_from
            .as_deref()
            .and_then(|old| dating::accepted_move(key, old).ok())
            .map(|old| old.object_key());
        if let Some(refusal) = bounds::refusal(
            &self.objects,
            key,
            &fetched,
            &self.bounds,
            moved_from.as_deref(),
        )
        .await?
        {
            return self.refuse(change, &fetched, metadata, refusal).await;
        }

        let renditions = match fetched.body {
            _ if !key.derived_keys_fit() => {
                Err("the thumbnail's key would pass S3's 1,024-byte key limit".to_owned())
            }
            None => Err(format!(
                "{} bytes is over the limit of {} bytes",
                fetched.head.size, self.limits.max_bytes
            )),
            Some(bytes) => {
                let limits = self.limits;
                let result: Result<Renditions, ImagingError> =
                    tokio::task::spawn_blocking(move || imaging::make_renditions(&bytes, &limits))
                        .await?;
                result.map_err(|e| e.to_string())
            }
        };

        // Dated by its event, or by its old item when it moved from the other prefix.
        let upload_date =
            dating::upload_date(&self.items, change, metadata.moved_from.as_deref()).await?;
        let mut attributes = ContentAttributes {
            thumbnail_key: None,
            preview_key: None,
            animated: false,
            is_public: key.visibility().is_public(),
            title: metadata.title,
            description: metadata.description,
            upload_day: key
                .visibility()
                .is_public()
                .then(|| upload_day(&upload_date)),
            upload_date,
            content_type: fetched
                .head
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into()),
            size: fetched.head.size,
            width: None,
            height: None,
            sequencer: change.sequencer.clone(),
            refused: None,
            expires_at: None,
        };
        let (thumbnail_key, preview_key) = (key.thumbnail_key(), key.preview_key());
        let outcome = match renditions {
            Ok(renditions) => {
                let (thumbnail, preview) = (renditions.thumbnail, renditions.preview);
                let outcome = Outcome::Thumbnailed {
                    thumbnail_key: thumbnail_key.clone(),
                    preview_key: preview_key.clone(),
                    width: thumbnail.width,
                    height: thumbnail.height,
                };
                // Each rendition is written only over an older event's: if a later upload's is
                // in place, this event is over (and takes back what it already wrote).
                for (rendition_key, encoded) in
                    [(&thumbnail_key, thumbnail), (&preview_key, preview)]
                {
                    let put = PutObject::new(rendition_key, encoded.bytes, encoded.content_type);
                    if derived::put(&self.objects, put, &change.sequencer).await?
                        == WriteOutcome::Superseded
                    {
                        self.take_back(&[&thumbnail_key, &preview_key], change)
                            .await?;
                        return Ok(Outcome::Skipped("a later upload's renditions are in place"));
                    }
                }
                attributes.thumbnail_key = Some(thumbnail_key.clone());
                attributes.preview_key = Some(preview_key.clone());
                attributes.animated = renditions.animated;
                attributes.content_type = renditions.original.content_type().to_owned();
                attributes.width = Some(renditions.original.width);
                attributes.height = Some(renditions.original.height);
                outcome
            }
            Err(reason) => {
                // An earlier upload under the same key may have left renditions that no
                // longer match the object.
                if key.derived_keys_fit() {
                    derived::remove(&self.objects, &thumbnail_key, &change.sequencer).await?;
                    derived::remove(&self.objects, &preview_key, &change.sequencer).await?;
                }
                Outcome::StoredWithoutThumbnail { reason }
            }
        };
        match self.items.write_content(&item_key, &attributes).await? {
            WriteOutcome::Applied => Ok(outcome),
            WriteOutcome::Superseded => {
                // A later event won (a newer upload, or the deletion): what this one wrote
                // must not outlive it.
                if attributes.thumbnail_key.is_some() {
                    self.take_back(&[&thumbnail_key, &preview_key], change)
                        .await?;
                }
                Ok(Outcome::Skipped("a later event was applied meanwhile"))
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
            thumbnail_key: None,
            preview_key: None,
            animated: false,
            is_public: key.visibility().is_public(),
            title: metadata.title,
            description: metadata.description,
            upload_date: format_upload_date(change.event_time),
            // Never in the public by-day index: nobody but the owner has anything to see.
            upload_day: None,
            content_type: fetched
                .head
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into()),
            size: fetched.head.size,
            width: None,
            height: None,
            sequencer: change.sequencer.clone(),
            refused: Some(refusal),
            expires_at: Some(chrono::Utc::now().timestamp() + REFUSAL_TTL_SECONDS),
        };
        if self
            .items
            .write_content(&ItemKey::from(key), &attributes)
            .await?
            == WriteOutcome::Superseded
        {
            return Ok(Outcome::Skipped("a later event was applied meanwhile"));
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
        if key.derived_keys_fit() {
            derived::remove(&self.objects, &key.thumbnail_key(), &change.sequencer).await?;
            derived::remove(&self.objects, &key.preview_key(), &change.sequencer).await?;
        }
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
            return Ok(Outcome::Skipped("a later upload replaced the object"));
        }
        if self.objects.exists(&key.object_key()).await? {
            return Ok(Outcome::Skipped(
                "the object exists again; its own event handles it",
            ));
        }
        let tombstone = Tombstone::new(change.sequencer.clone(), chrono::Utc::now());
        if self.items.write_tombstone(&item_key, &tombstone).await? == WriteOutcome::Superseded {
            return Ok(Outcome::Skipped(
                "a later upload replaced the object, or its item says why it was not kept",
            ));
        }
        if key.derived_keys_fit() {
            derived::remove(&self.objects, &key.thumbnail_key(), &change.sequencer).await?;
            derived::remove(&self.objects, &key.preview_key(), &change.sequencer).await?;
        }
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
