//! Objects derived from an upload (thumbnails, faces copies), written and removed in the
//! order of the upload events that produced them.
//!
//! Each derived object carries the sequencer of its event as user metadata. A write reads
//! the current object's head, gives up when a later event's object is already there, and
//! otherwise writes conditionally on the ETag it saw (`If-Match`, or `If-None-Match: *` when
//! there was none: S3 user guide, "How to prevent object overwrites with conditional
//! writes"). A removal does the same with a conditional delete. So a slow handler of an older
//! event can never replace or remove what a newer event's handler wrote, whatever the timing.

use crate::item::Sequencer;
use crate::ports::{ObjectHead, ObjectStore, PutObject, StoreError, WriteCondition, WriteOutcome};

/// The user metadata (`x-amz-meta-sequencer`) naming the event a derived object comes from.
pub const SEQUENCER_METADATA: &str = "sequencer";

/// Head-then-conditional-write rounds before giving up (each lost round means another
/// writer changed the object in between: the message is retried later).
const MAX_ROUNDS: usize = 5;

/// The sequencer a derived object was written for; objects written before sequencers were
/// recorded count as the oldest.
pub fn stored_sequencer(head: &ObjectHead) -> Option<Sequencer> {
    head.metadata
        .get(SEQUENCER_METADATA)
        .map(|s| Sequencer::new(s))
}

fn is_newer(head: &ObjectHead, sequencer: &Sequencer) -> bool {
    stored_sequencer(head).is_some_and(|stored| stored > *sequencer)
}

/// Writes `object` for the event `sequencer` unless a later event's object is in place.
pub async fn put<O: ObjectStore + ?Sized>(
    objects: &O,
    mut object: PutObject,
    sequencer: &Sequencer,
) -> Result<WriteOutcome, StoreError> {
    object
        .metadata
        .insert(SEQUENCER_METADATA.to_owned(), sequencer.as_str().to_owned());
    for _ in 0..MAX_ROUNDS {
        object.condition = Some(match objects.head(&object.key).await? {
            Some(head) if is_newer(&head, sequencer) => return Ok(WriteOutcome::Superseded),
            Some(head) => match head.etag {
                Some(etag) => WriteCondition::Matches(etag),
                None => {
                    return Err(StoreError::new(
                        "HeadObject",
                        &object.key,
                        "no ETag in the answer",
                    ))
                }
            },
            None => WriteCondition::Absent,
        });
        if objects.put(object.clone()).await? == WriteOutcome::Applied {
            return Ok(WriteOutcome::Applied);
        }
    }
    Err(StoreError::new(
        "PutObject",
        &object.key,
        "other writers kept replacing the object; will retry",
    ))
}

/// Removes the derived object at `key` unless a later event than `sequencer` wrote it.
pub async fn remove<O: ObjectStore + ?Sized>(
    objects: &O,
    key: &str,
    sequencer: &Sequencer,
) -> Result<WriteOutcome, StoreError> {
    for _ in 0..MAX_ROUNDS {
        match objects.head(key).await? {
            None => return Ok(WriteOutcome::Applied),
            Some(head) if is_newer(&head, sequencer) => return Ok(WriteOutcome::Superseded),
            Some(head) => {
                let etag = head
                    .etag
                    .ok_or_else(|| StoreError::new("HeadObject", key, "no ETag in the answer"))?;
                if objects.delete_if_match(key, &etag).await? == WriteOutcome::Applied {
                    return Ok(WriteOutcome::Applied);
                }
            }
        }
    }
    Err(StoreError::new(
        "DeleteObject",
        key,
        "other writers kept replacing the object; will retry",
    ))
}

/// Removes the derived object at `key` only if it is exactly the one event `sequencer`
/// wrote: the cleanup of a handler whose item write lost to a later event.
pub async fn remove_own<O: ObjectStore + ?Sized>(
    objects: &O,
    key: &str,
    sequencer: &Sequencer,
) -> Result<(), StoreError> {
    if let Some(head) = objects.head(key).await? {
        if stored_sequencer(&head).as_ref() == Some(sequencer) {
            if let Some(etag) = head.etag {
                objects.delete_if_match(key, &etag).await?;
            }
        }
    }
    Ok(())
}
