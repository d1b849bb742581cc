//! What an upload must fit to be kept: S3 Standard storage, the largest upload, and its
//! owner's storage quota.
//!
//! IAM has no condition key for an upload's size on `s3:PutObject`, and none can sum what a
//! person already stores, so these are checked here, after the fact, on every upload event
//! (docs/decisions/upload-bounds.md). The role's `s3:x-amz-storage-class` condition refuses
//! other classes before they are stored; the check here is what the local stack (which does
//! not enforce IAM) and a misconfigured deployment still get.
//!
//! The quota is decided the same way on every delivery of an event: the upload counts the
//! bytes of the owner's originals that were stored before it (by `LastModified`, then key),
//! never those uploaded after it, so a repeated or late event never turns a kept picture
//! into a refused one.

use media_core::item::Refusal;
use media_core::keys::{ContentKey, Visibility};
use media_core::ports::{FetchedObject, ObjectStore, StoreError};

/// The bounds, from the environment (`MAX_IMAGE_BYTES` is the image limits' largest read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadBounds {
    /// Bytes of originals one person may store, both content prefixes together.
    pub storage_quota_bytes: u64,
}

impl UploadBounds {
    pub const DEFAULT_STORAGE_QUOTA_BYTES: u64 = 2 * 1024 * 1024 * 1024;

    /// `STORAGE_QUOTA_BYTES`.
    pub fn from_env() -> Result<Self, media_core::config::ConfigError> {
        Ok(UploadBounds {
            storage_quota_bytes: media_core::config::number_or(
                "STORAGE_QUOTA_BYTES",
                Self::DEFAULT_STORAGE_QUOTA_BYTES,
            )?,
        })
    }
}

impl Default for UploadBounds {
    fn default() -> Self {
        UploadBounds {
            storage_quota_bytes: Self::DEFAULT_STORAGE_QUOTA_BYTES,
        }
    }
}

/// Why the upload `fetched` at `key` is not kept, if it is not. `moved_from` is the original
/// a visibility change copied it from: it is about to be deleted, so it does not count twice.
pub async fn refusal<O: ObjectStore + ?Sized>(
    objects: &O,
    key: &ContentKey,
    fetched: &FetchedObject,
    bounds: &UploadBounds,
    moved_from: Option<&str>,
) -> Result<Option<Refusal>, StoreError> {
    if !fetched.head.is_standard_storage() {
        return Ok(Some(Refusal::StorageClass));
    }
    if fetched.body.is_none() {
        return Ok(Some(Refusal::TooLarge));
    }
    let before = stored_before(objects, key, fetched, moved_from).await?;
    if before.saturating_add(fetched.head.size) > bounds.storage_quota_bytes {
        return Ok(Some(Refusal::OverQuota));
    }
    Ok(None)
}

/// Bytes of the owner's originals stored before this upload.
async fn stored_before<O: ObjectStore + ?Sized>(
    objects: &O,
    key: &ContentKey,
    fetched: &FetchedObject,
    moved_from: Option<&str>,
) -> Result<u64, StoreError> {
    let this_key = key.object_key();
    // Compared in whole seconds: the upload's own time comes from GetObject's Last-Modified
    // header (an HTTP date), the others' from ListObjectsV2 (milliseconds). Uploads within one
    // second count in key order.
    let whole_second = |time: Option<chrono::DateTime<chrono::Utc>>| time.map(|t| t.timestamp());
    let this = (whole_second(fetched.head.last_modified), this_key.as_str());
    let mut total = 0u64;
    for visibility in [Visibility::Public, Visibility::Private] {
        let prefix = format!("{}/content/{}/", visibility.as_str(), key.identity_id());
        let mut continuation = None;
        loop {
            let page = objects.list_page(&prefix, continuation).await?;
            for object in &page.objects {
                let counted = object.key != this_key
                    && Some(object.key.as_str()) != moved_from
                    && (whole_second(object.last_modified), object.key.as_str()) < this;
                if counted {
                    total = total.saturating_add(object.size);
                }
            }
            match page.next {
                Some(next) => continuation = Some(next),
                None => break,
            }
        }
    }
    Ok(total)
}
