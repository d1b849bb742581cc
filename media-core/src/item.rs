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
        ItemKey { identity_id: key.identity_id().to_owned(), object_key: key.object_key() }
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequencer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faces_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faces: Option<Vec<FaceBox>>,
}

impl MediaItem {
    pub fn key(&self) -> ItemKey {
        ItemKey { identity_id: self.identity_id.clone(), object_key: self.object_key.clone() }
    }

    /// An item that content-updated has written: face-detection alone may have created a
    /// partial one, which no index lists until the content attributes arrive.
    pub fn is_complete(&self) -> bool {
        self.upload_date.is_some()
    }
}

/// The attributes content-updated owns. `thumbnailKey`, `width` and `height` are absent when
/// the upload could not be decoded (and are then removed from the item).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentAttributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail_key: Option<String>,
    pub is_public: bool,
    pub title: String,
    pub description: String,
    pub upload_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_day: Option<String>,
    pub content_type: String,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    pub sequencer: String,
}

impl ContentAttributes {
    /// Names of the optional attributes that this value leaves out, so that a rewrite of the
    /// item removes what an earlier version of the upload had set.
    pub fn absent_attributes(&self) -> Vec<&'static str> {
        let mut absent = Vec::new();
        if self.thumbnail_key.is_none() {
            absent.push("thumbnailKey");
        }
        if self.width.is_none() {
            absent.push("width");
        }
        if self.height.is_none() {
            absent.push("height");
        }
        if self.upload_day.is_none() {
            absent.push("uploadDay");
        }
        absent
    }
}

/// The attributes face-detection owns.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaceAttributes {
    pub faces_key: String,
    pub face_count: u32,
    pub faces: Vec<FaceBox>,
}

/// An S3 event sequencer, comparable across events for the same key.
///
/// AWS documents that sequencers of the same key compare as hexadecimal strings after
/// left-padding the shorter with zeros; stored padded, DynamoDB's string order is that order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sequencer(String);

const SEQUENCER_WIDTH: usize = 40;

impl Sequencer {
    pub fn new(raw: &str) -> Self {
        let hex = raw.trim().to_ascii_uppercase();
        Sequencer(format!("{hex:0>SEQUENCER_WIDTH$}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The first 10 characters of an ISO 8601 date: the day it falls on.
pub fn upload_day(upload_date: &str) -> String {
    upload_date.chars().take(10).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequencers_order_as_padded_hex() {
        assert!(Sequencer::new("0055AED6DCD90281E5") < Sequencer::new("0055AED6DCD90281E6"));
        assert!(Sequencer::new("FF") < Sequencer::new("100"));
        assert_eq!(Sequencer::new("ab"), Sequencer::new("00AB"));
    }

    #[test]
    fn item_round_trips_through_dynamodb_attributes() {
        let item = MediaItem {
            identity_id: "us-east-1:abc".into(),
            object_key: "public/content/us-east-1:abc/x.jpg".into(),
            thumbnail_key: Some("public/thumbnails/us-east-1:abc/x.jpg".into()),
            is_public: true,
            title: "t".into(),
            upload_date: Some("2026-11-23T14:05:09.123Z".into()),
            upload_day: Some("2026-11-23".into()),
            size: Some(10),
            width: Some(4000),
            height: Some(3000),
            face_count: Some(1),
            faces: Some(vec![FaceBox { x: 1, y: 2, w: 3, h: 4 }]),
            ..Default::default()
        };
        let attrs: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
            serde_dynamo::to_item(&item).unwrap();
        assert!(attrs["isPublic"].as_bool().is_ok());
        assert_eq!(attrs["width"].as_n().unwrap(), "4000");
        assert!(attrs["faces"].as_l().is_ok());
        assert!(!attrs.contains_key("facesKey"));
        let back: MediaItem = serde_dynamo::from_item(attrs).unwrap();
        assert_eq!(back, item);
    }
}
