//! The table's item: one per upload, keyed by `identityId` and `objectKey`.
//!
//! Two functions write an item independently and in any order: content-updated owns
//! [`ContentAttributes`], face-detection owns [`FaceAttributes`]. Each writes only its own
//! attributes, so neither overwrites the other's.

use serde::{Deserialize, Serialize};

use crate::keys::ContentKey;

/// The table's primary key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemKey {
    pub identity_id: String,
    pub object_key: String,
}

impl From<&ContentKey> for ItemKey {
    fn from(key: &ContentKey) -> Self {
        ItemKey {
            identity_id: key.identity_id().to_owned(),
            object_key: key.object_key(),
        }
    }
}

/// A face's box in original-image pixels, after EXIF orientation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceBox {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// Everything an item may hold. Attributes written by only one of the two functions are
/// optional: the other may not have run yet.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaItem {
    pub identity_id: String,
    pub object_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_key: Option<String>,
    /// An animated GIF or WebP (its thumbnail and preview are the first frame).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub animated: bool,
    #[serde(default)]
    pub is_public: bool,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_day: Option<String>,
    /// On a tombstone: the `uploadDate` its item had when the upload was deleted, so a picture
    /// moved to the other prefix keeps its date when the old key's delete is applied first.
    /// Not `uploadDate`, which would put the tombstone into the by-owner secondary index. A
    /// DynamoDB NULL (no date was known) reads as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_upload_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// When the picture was taken, from its Exif (`media_imaging::capture`): ISO 8601, the
    /// camera's local time with its UTC offset when the file gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<String>,
    /// The camera's make and model, from its Exif.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequencer: Option<Sequencer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faces_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faces: Option<Vec<FaceBox>>,
    /// Sequencer of the upload event face-detection last applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faces_sequencer: Option<Sequencer>,
    /// Set on a tombstone: the upload was deleted by the event in `sequencer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<bool>,
    /// When DynamoDB's TTL may remove a tombstone or a refusal (epoch seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Set when the upload was not kept: why (the object is gone, the item tells its owner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<Refusal>,
}

impl MediaItem {
    pub fn key(&self) -> ItemKey {
        ItemKey {
            identity_id: self.identity_id.clone(),
            object_key: self.object_key.clone(),
        }
    }

    pub fn is_tombstone(&self) -> bool {
        self.deleted == Some(true)
    }
}

/// Every attribute an item may carry besides its key, by owner. A writer removes the
/// attributes of its own that its new value leaves out, so a rewrite never keeps what an
/// earlier version of the upload had set.
pub mod attributes {
    /// Owned by content-updated.
    pub const CONTENT: &[&str] = &[
        "thumbnailKey",
        "previewKey",
        "animated",
        "isPublic",
        "title",
        "description",
        "uploadDate",
        "uploadDay",
        "contentType",
        "takenAt",
        "camera",
        "size",
        "width",
        "height",
        "sequencer",
        "refused",
    ];
    /// Owned by face-detection.
    pub const FACES: &[&str] = &["facesKey", "faceCount", "faces", "facesSequencer"];
    /// A tombstone's own attributes (besides `sequencer`).
    pub const TOMBSTONE: &[&str] = &["deleted", "expiresAt", "deletedUploadDate"];
}

/// How long a tombstone is kept: longer than any event can be late (SQS keeps a message at
/// most 14 days, SQS developer guide "Amazon SQS message quotas").
pub const TOMBSTONE_TTL_SECONDS: i64 = 14 * 24 * 3600;

/// What is left of an item after its upload was deleted: the delete's sequencer, so that an
/// older create arriving late cannot bring the item back, until DynamoDB's TTL removes it.
/// The store's write also keeps the item's `uploadDate` as `deletedUploadDate`, read from the
/// item in the same write (see [`crate::ports::ContentItems::write_tombstone`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tombstone {
    pub sequencer: Sequencer,
    pub deleted: bool,
    pub expires_at: i64,
}

impl Tombstone {
    pub fn new(sequencer: Sequencer, now: chrono::DateTime<chrono::Utc>) -> Self {
        Tombstone {
            sequencer,
            deleted: true,
            expires_at: now.timestamp() + TOMBSTONE_TTL_SECONDS,
        }
    }
}

/// Why content-updated did not keep an upload. The upload is deleted (only the version the
/// event is about) and its item records the reason, so the owner's private index says why
/// the picture is not there, until DynamoDB's TTL removes the item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum Refusal {
    /// Larger than the largest upload kept (`MAX_IMAGE_BYTES`).
    TooLarge,
    /// Stored in a storage class other than STANDARD: an archive class cannot be read
    /// without a restore, and the others bill minimum durations and retrievals.
    StorageClass,
    /// Past its owner's storage quota (`STORAGE_QUOTA_BYTES`).
    OverQuota,
}

/// How long the item of a refused upload stays to tell its owner why.
pub const REFUSAL_TTL_SECONDS: i64 = 7 * 24 * 3600;

/// The attributes content-updated owns. `thumbnailKey`, `previewKey`, `width` and `height`
/// are absent when the upload could not be decoded, `animated` when it is not an animation
/// (and are then removed from the item).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentAttributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview_key: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub animated: bool,
    pub is_public: bool,
    pub title: String,
    pub description: String,
    pub upload_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_day: Option<String>,
    pub content_type: String,
    /// When and with what the picture was taken (see [`MediaItem::taken_at`]); absent when
    /// its Exif does not say believably, or it could not be decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub camera: Option<String>,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    pub sequencer: Sequencer,
    /// Set when the upload is not kept; the item then also carries `expiresAt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<Refusal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// The attributes face-detection owns. `facesKey`, `faceCount` and `faces` are absent when
/// the upload could not be decoded (and are then removed from the item).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaceAttributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faces_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub face_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faces: Option<Vec<FaceBox>>,
    pub faces_sequencer: Sequencer,
}

/// An S3 event sequencer, comparable across events for the same key.
///
/// The S3 event message structure page (and `aws_lambda_events`' doc of
/// `S3Object::sequencer`) says two sequencers of one key compare as strings after
/// right-padding the shorter with zeros. Stored padded to a fixed width, DynamoDB's string
/// order in condition expressions is that order, so this type is the one place the rule
/// lives: the stores, the conditions and the derived objects' metadata all carry its padded
/// form.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct Sequencer(String);

const SEQUENCER_WIDTH: usize = 40;

impl Sequencer {
    pub fn new(raw: &str) -> Self {
        let hex = raw.trim().to_ascii_uppercase();
        Sequencer(format!("{hex:0<SEQUENCER_WIDTH$}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A sequencer after this one and before any later real event's: for a change the repair
    /// pass sends in place of a lost event, so that the real event, if it ever comes, still
    /// wins. Real sequencers are far shorter than the padded width, so their padded forms
    /// differ before the last character; this one differs from `self` only there.
    pub fn just_after(&self) -> Sequencer {
        let mut digits = self.0.clone().into_bytes();
        let last = digits
            .last_mut()
            .expect("a padded sequencer is never empty");
        *last = match *last {
            b'9' => b'A',
            b'F' => return Sequencer(format!("{}1", self.0)),
            other => other + 1,
        };
        Sequencer(String::from_utf8(digits).expect("hex digits"))
    }
}

impl From<String> for Sequencer {
    fn from(raw: String) -> Self {
        Sequencer::new(&raw)
    }
}

impl From<Sequencer> for String {
    fn from(sequencer: Sequencer) -> Self {
        sequencer.0
    }
}

impl std::fmt::Display for Sequencer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Partition of the table that records which days have public uploads.
pub const PUBLIC_DAYS_PARTITION: &str = "#public-days";

/// A day marker written within this many seconds is never forgotten: the by-day secondary
/// index may not show the upload that caused it yet (GSIs are eventually consistent,
/// DynamoDB developer guide "Using Global Secondary Indexes").
pub const PUBLIC_DAY_GRACE_SECONDS: i64 = 3600;

/// The one rule for bookkeeping: items the functions write have Cognito identities
/// (`region:uuid`); partitions starting with `#` (such as [`PUBLIC_DAYS_PARTITION`]) hold
/// the index function's own records and belong to no index.
pub fn is_bookkeeping_partition(identity_id: &str) -> bool {
    identity_id.starts_with('#')
}

/// An upload time as the table stores it: ISO 8601 UTC with milliseconds
/// (`2026-11-23T14:05:09.123Z`).
pub fn format_upload_date(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The first 10 characters of an ISO 8601 date: the day it falls on.
pub fn upload_day(upload_date: &str) -> String {
    upload_date.chars().take(10).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequencers_compare_right_padded_as_s3_documents() {
        assert!(Sequencer::new("0055AED6DCD90281E5") < Sequencer::new("0055AED6DCD90281E6"));
        // Right-padded: "100" is "1000...", "FF" is "FF00...": the shorter is not the smaller.
        assert!(Sequencer::new("100") < Sequencer::new("FF"));
        assert!(Sequencer::new("0055AED6DCD90281E5") < Sequencer::new("0055AED6DCD90281E501"));
        assert_eq!(Sequencer::new("AB"), Sequencer::new("AB00"));
        assert_eq!(Sequencer::new("ab"), Sequencer::new("AB"));
    }

    #[test]
    fn just_after_sits_between_a_sequencer_and_the_next_real_one() {
        let stored = Sequencer::new("0055AED6DCD90281E5");
        let repair = stored.just_after();
        assert!(stored < repair && repair < Sequencer::new("0055AED6DCD90281E6"));
        assert!(repair < repair.just_after());
        assert!(Sequencer::new("0").just_after() < Sequencer::new("01"));
    }

    #[test]
    fn item_round_trips_through_dynamodb_attributes() {
        let item = MediaItem {
            identity_id: "us-east-1:abc".into(),
            object_key: "public/content/us-east-1:abc/x.jpg".into(),
            thumbnail_key: Some("public/thumbnails/us-east-1:abc/x.jpg".into()),
            preview_key: Some("public/previews/us-east-1:abc/x.jpg".into()),
            animated: true,
            is_public: true,
            title: "t".into(),
            upload_date: Some("2026-11-23T14:05:09.123Z".into()),
            upload_day: Some("2026-11-23".into()),
            size: Some(10),
            width: Some(4000),
            height: Some(3000),
            face_count: Some(1),
            faces: Some(vec![FaceBox {
                x: 1,
                y: 2,
                w: 3,
                h: 4,
            }]),
            sequencer: Some(Sequencer::new("0055AED6DCD90281E5")),
            ..Default::default()
        };
        let attrs: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
            serde_dynamo::to_item(&item).unwrap();
        assert!(attrs["isPublic"].as_bool().is_ok());
        assert_eq!(attrs["animated"].as_bool(), Ok(&true));
        assert_eq!(attrs["width"].as_n().unwrap(), "4000");
        assert!(attrs["faces"].as_l().is_ok());
        assert!(!attrs.contains_key("facesKey"));
        assert_eq!(
            attrs["sequencer"].as_s().unwrap(),
            Sequencer::new("0055AED6DCD90281E5").as_str()
        );
        let back: MediaItem = serde_dynamo::from_item(attrs).unwrap();
        assert_eq!(back, item);
    }

    #[test]
    fn a_tombstone_that_kept_no_date_reads_its_null_as_none() {
        use aws_sdk_dynamodb::types::AttributeValue;
        let tombstone = MediaItem {
            identity_id: "us-east-1:abc".into(),
            object_key: "public/content/us-east-1:abc/x.jpg".into(),
            deleted: Some(true),
            deleted_upload_date: Some("2026-01-02T03:04:05.678Z".into()),
            ..Default::default()
        };
        let mut attrs: std::collections::HashMap<String, AttributeValue> =
            serde_dynamo::to_item(&tombstone).unwrap();
        assert_eq!(
            attrs["deletedUploadDate"].as_s().unwrap(),
            "2026-01-02T03:04:05.678Z"
        );
        attrs.insert("deletedUploadDate".into(), AttributeValue::Null(true));
        let back: MediaItem = serde_dynamo::from_item(attrs).unwrap();
        assert_eq!(
            back,
            MediaItem {
                deleted_upload_date: None,
                ..tombstone
            }
        );
    }
}
