//! The `uploadDate` of an upload's item: its event time, or, for a picture moved to its
//! owner's other prefix, the date the table already holds for the old key's item. Never a date
//! the uploader sends (the contract's "Upload metadata";
//! docs/decisions/visibility-changes.md).
//!
//! A move copies the original under the other prefix with `movedFrom` (the old key) in its
//! metadata, then deletes the old original. The two keys' events are not ordered, so the old
//! item is read as it is now: live (the copy's event came first) or a tombstone, which keeps
//! the deleted item's date as `deletedUploadDate` (the delete came first). `movedFrom` is only
//! believed for a content key of the same identity under the other visibility, so an owner can
//! only carry over dates the system gave their own pictures.

use chrono::{DateTime, Utc};
use media_core::events::ContentChange;
use media_core::item::{format_upload_date, ItemKey};
use media_core::keys::{ContentKey, MAX_KEY_BYTES};
use media_core::ports::{ContentItems, KnownUploadDate, StoreError};

/// Where an item's `uploadDate` came from, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DateSource {
    /// The event time.
    Event(EventDated),
    /// The date of the item at `key`, the picture's key before its visibility changed.
    MovedFrom { key: String, old_item: OldItem },
}

/// Why an upload is dated by its event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventDated {
    /// The metadata names no `movedFrom`: a new upload.
    NotMoved,
    /// `movedFrom` names nothing an owner may carry a date over from; the table is not read.
    Refused(MoveRefusal),
    /// `movedFrom` is acceptable but the table knows no date for it: no item (never processed,
    /// or a tombstone past its TTL), or one without a date.
    NothingKnown {
        key: String,
        old_item: KnownUploadDate,
    },
}

/// Why a `movedFrom` is not believed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveRefusal {
    /// Not a content key (`{public,private}/content/{identityId}/{file}`).
    NotAContentKey,
    /// Longer than any S3 key (1,024 bytes, S3 user guide "Naming Amazon S3 objects"). Never
    /// read: DynamoDB refuses a sort key over 1,024 bytes ("Quotas in Amazon DynamoDB", sort
    /// key length), which would fail the message on every retry.
    TooLong,
    /// Another identity's picture.
    OtherIdentity,
    /// The same visibility as the upload: no move, which always changes the prefix.
    SameVisibility,
}

/// State of the old key's item a date was taken from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OldItem {
    Live,
    /// Already deleted: the old original's delete was applied before this copy's create.
    Tombstone,
}

/// The `uploadDate` for `change`, a created event whose metadata names `moved_from` (if any),
/// logged with the key and the reason.
pub async fn upload_date<I: ContentItems>(
    items: &I,
    change: &ContentChange,
    moved_from: Option<&str>,
) -> Result<String, StoreError> {
    let (date, source) = decide(items, &change.key, moved_from, change.event_time).await?;
    let key = change.key.object_key();
    match &source {
        DateSource::Event(EventDated::Refused(refusal)) => {
            tracing::warn!(key, upload_date = %date, moved_from, refusal = ?refusal, "movedFrom refused, dated by the event")
        }
        source => {
            tracing::info!(key, upload_date = %date, moved_from, source = ?source, "upload dated")
        }
    }
    Ok(date)
}

/// The date and its source, without logging.
pub async fn decide<I: ContentItems>(
    items: &I,
    key: &ContentKey,
    moved_from: Option<&str>,
    event_time: DateTime<Utc>,
) -> Result<(String, DateSource), StoreError> {
    let event = |reason| Ok((format_upload_date(event_time), DateSource::Event(reason)));
    let Some(moved_from) = moved_from else {
        return event(EventDated::NotMoved);
    };
    let old = match accepted_move(key, moved_from) {
        Ok(old) => old,
        Err(refusal) => return event(EventDated::Refused(refusal)),
    };
    let old_key = old.object_key();
    match items.known_upload_date(&ItemKey::from(&old)).await? {
        KnownUploadDate::Live(Some(date)) => Ok((
            date,
            DateSource::MovedFrom {
                key: old_key,
                old_item: OldItem::Live,
            },
        )),
        KnownUploadDate::Deleted(Some(date)) => Ok((
            date,
            DateSource::MovedFrom {
                key: old_key,
                old_item: OldItem::Tombstone,
            },
        )),
        nothing => event(EventDated::NothingKnown {
            key: old_key,
            old_item: nothing,
        }),
    }
}

/// The old key, when `moved_from` is one the upload at `key` may have moved from.
pub fn accepted_move(key: &ContentKey, moved_from: &str) -> Result<ContentKey, MoveRefusal> {
    if moved_from.len() > MAX_KEY_BYTES {
        return Err(MoveRefusal::TooLong);
    }
    let old = ContentKey::parse(moved_from).map_err(|_| MoveRefusal::NotAContentKey)?;
    if old.identity_id() != key.identity_id() {
        Err(MoveRefusal::OtherIdentity)
    } else if old.visibility() == key.visibility() {
        Err(MoveRefusal::SameVisibility)
    } else {
        Ok(old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "us-east-1:0b5c0000-0000-4000-8000-000000000001";

    #[test]
    fn only_a_content_key_of_the_same_identity_under_the_other_prefix_is_accepted() {
        let key = ContentKey::parse(&format!("public/content/{ID}/b.jpg")).unwrap();
        let other = "us-east-1:0b5c0000-0000-4000-8000-000000000002";
        assert!(accepted_move(&key, &format!("private/content/{ID}/a (2).jpg")).is_ok());
        for (moved_from, refusal) in [
            (
                format!("private/content/{other}/b.jpg"),
                MoveRefusal::OtherIdentity,
            ),
            (
                format!("public/content/{ID}/b.jpg"),
                MoveRefusal::SameVisibility,
            ),
            (
                format!("public/content/{ID}/a.jpg"),
                MoveRefusal::SameVisibility,
            ),
            (
                format!("private/thumbnails/{ID}/b.jpg"),
                MoveRefusal::NotAContentKey,
            ),
            (
                format!("private/content/{ID}/"),
                MoveRefusal::NotAContentKey,
            ),
            (
                "2001-01-01T00:00:00.000Z".to_owned(),
                MoveRefusal::NotAContentKey,
            ),
            (String::new(), MoveRefusal::NotAContentKey),
            (
                format!("private/content/{ID}/{}", "a".repeat(MAX_KEY_BYTES)),
                MoveRefusal::TooLong,
            ),
        ] {
            assert_eq!(
                accepted_move(&key, &moved_from),
                Err(refusal),
                "{moved_from}"
            );
        }
    }
}
