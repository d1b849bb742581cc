//! The S3-event path: an upload gets a faces copy and face attributes, written in event order
//! ([`media_core::derived`] and `facesSequencer`), never over a later upload's or after its
//! deletion; an upload that cannot be decoded loses what an earlier one left.

use media_core::derived;
use media_core::events::{ChangeKind, ContentChange};
use media_core::item::{FaceAttributes, ItemKey};
use media_core::ports::{FaceItems, ObjectStore, PresignGet, PutObject, StoreError, WriteOutcome};

use media_imaging::Unusable;

use crate::detector::DetectorError;
use crate::marking::MarkError;
use crate::FaceDetection;

/// A change that could not be applied now; the message is retried.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("detection task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The detector itself failed (not the image): worth retrying, then the dead-letter queue.
    #[error(transparent)]
    Detector(#[from] DetectorError),
}

/// What a change led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Faces copy written and the item's face attributes set.
    Marked { faces_key: String, face_count: u32 },
    /// Not a usable image: no faces copy (one left by an earlier upload under the same key is
    /// removed) and no face attributes; the original is left alone.
    NotAnImage { reason: Unusable },
    /// Nothing to do.
    Skipped(Skip),
}

/// Why a change needed no work here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// A removal: content-updated removes the faces copy with the item.
    RemovalIsContentUpdated,
    /// The object is gone, or is no longer the version the event names: a later event
    /// handles it.
    ObjectGoneOrReplaced,
    /// A later upload's faces copy is in place.
    LaterFacesCopyInPlace,
    /// The item's conditional write lost to a later event while this one worked; the faces
    /// copy it wrote is taken back.
    LaterEventAppliedMeanwhile,
}

impl<O: ObjectStore + PresignGet, I: FaceItems> FaceDetection<O, I> {
    /// Applies one change.
    pub async fn handle(&self, change: &ContentChange) -> Result<Outcome, HandlerError> {
        let key = change.key.object_key();
        let outcome = match change.kind {
            ChangeKind::Created => self.created(change).await?,
            // content-updated removes the faces copy and the item.
            ChangeKind::Removed => Outcome::Skipped(Skip::RemovalIsContentUpdated),
        };
        match &outcome {
            Outcome::NotAnImage { reason } => {
                tracing::error!(key, event = %change.event_name, ?reason, %reason, "no faces copy: not a usable image; the original is kept")
            }
            other => {
                tracing::info!(key, event = %change.event_name, detector = self.detector.name(), outcome = ?other, "change applied")
            }
        }
        Ok(outcome)
    }

    async fn created(&self, change: &ContentChange) -> Result<Outcome, HandlerError> {
        let key = &change.key;
        let object_key = key.object_key();
        let Some(fetched) = self
            .objects
            .get_matching(
                &object_key,
                change.etag.as_deref(),
                self.settings.limits.max_bytes,
            )
            .await?
        else {
            return Ok(Outcome::Skipped(Skip::ObjectGoneOrReplaced));
        };
        let marked = match fetched.body {
            None => Err(Unusable::TooLarge {
                size: fetched.head.size,
                limit: self.settings.limits.max_bytes,
            }),
            Some(bytes) => match self.mark(bytes, false).await? {
                Ok(marked) => Ok(marked),
                Err(MarkError::Image(err)) => Err(Unusable::from(err)),
                Err(MarkError::Detector(err)) => return Err(err.into()),
            },
        };
        let faces_key = key.faces_key();
        let (attributes, outcome) = match marked {
            Ok(marked) => {
                let put = PutObject::new(
                    &faces_key,
                    marked.encoded.bytes,
                    marked.encoded.content_type,
                );
                if derived::put(&self.objects, put, &change.sequencer).await?
                    == WriteOutcome::Superseded
                {
                    return Ok(Outcome::Skipped(Skip::LaterFacesCopyInPlace));
                }
                let face_count = marked.faces.len() as u32;
                let attributes = FaceAttributes {
                    faces_key: Some(faces_key.clone()),
                    face_count: Some(face_count),
                    faces: Some(marked.faces),
                    faces_sequencer: change.sequencer.clone(),
                };
                (
                    attributes,
                    Outcome::Marked {
                        faces_key: faces_key.clone(),
                        face_count,
                    },
                )
            }
            Err(reason) => {
                // A picture replaced by one that cannot be decoded keeps nothing of the old one.
                derived::remove(&self.objects, &faces_key, &change.sequencer).await?;
                let attributes = FaceAttributes {
                    faces_key: None,
                    face_count: None,
                    faces: None,
                    faces_sequencer: change.sequencer.clone(),
                };
                (attributes, Outcome::NotAnImage { reason })
            }
        };
        match self
            .items
            .write_faces(&ItemKey::from(key), &attributes)
            .await?
        {
            WriteOutcome::Applied => Ok(outcome),
            WriteOutcome::Superseded => {
                // A later upload or the deletion won: the copy written above must not outlive it.
                if attributes.faces_key.is_some() {
                    derived::remove_own(&self.objects, &faces_key, &change.sequencer).await?;
                }
                Ok(Outcome::Skipped(Skip::LaterEventAppliedMeanwhile))
            }
        }
    }
}
