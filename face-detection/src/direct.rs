//! The direct call: `{"imageUrl"}` or `{"bucket", "key"}` in, the faces and a presigned link
//! to a marked copy under `tmp/` out.

use chrono::Utc;
use media_core::ports::{FaceItems, ObjectStore, PresignGet, PutObject, StoreError};
use serde::{Deserialize, Serialize};

use crate::marking::MarkError;
use crate::FaceDetection;
use media_core::item::FaceBox;

/// Key prefixes a direct `{bucket, key}` call may read: what a caller could publish anyway
/// (public uploads, and `tmp/` results of earlier calls). Private uploads are refused:
/// the result's link would hand a private picture to whoever asked.
pub const DIRECT_READABLE_PREFIXES: [&str; 2] = ["public/content/", "tmp/"];

/// A direct invocation: one of the two forms of the contract.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DirectRequest {
    pub image_url: Option<String>,
    pub bucket: Option<String>,
    pub key: Option<String>,
}

/// The answer to a direct invocation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DirectResponse {
    pub faces: u32,
    pub boxes: Vec<FaceBox>,
    pub output_url: String,
    /// The `tmp/` key behind `outputUrl`.
    pub output_key: String,
}

/// Why a direct call failed; the caller gets the message.
#[derive(Debug, thiserror::Error)]
pub enum DirectError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("cannot download {url}: {reason}")]
    Download { url: String, reason: String },
    #[error("{what} is larger than the limit of {max_bytes} bytes")]
    TooLarge { what: String, max_bytes: u64 },
    #[error("no object {key} in bucket {bucket}")]
    NotFound { bucket: String, key: String },
    #[error("{source_name}: {error}")]
    Mark {
        source_name: String,
        error: MarkError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("detection task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl<O: ObjectStore + PresignGet, I: FaceItems> FaceDetection<O, I> {
    /// The direct call: marks the image, writes `tmp/YYYYMMDDHHMMSS-uuid.jpg` (UTC) and returns
    /// a presigned link to it.
    pub async fn handle_direct(
        &self,
        request: &DirectRequest,
    ) -> Result<DirectResponse, DirectError> {
        let (source_name, bytes) = match (&request.image_url, &request.bucket, &request.key) {
            (Some(url), None, None) => (url.clone(), self.download(url).await?),
            (None, Some(bucket), Some(key)) => {
                if *bucket != self.settings.bucket {
                    return Err(DirectError::BadRequest(format!(
                        "bucket {bucket:?} is not this function's bucket {:?}",
                        self.settings.bucket
                    )));
                }
                if !DIRECT_READABLE_PREFIXES
                    .iter()
                    .any(|prefix| key.starts_with(prefix))
                    || key.split('/').any(|s| s == "..")
                {
                    return Err(DirectError::BadRequest(format!(
                        "key {key:?} is not readable by a direct call: only keys under {} are",
                        DIRECT_READABLE_PREFIXES.join(" and ")
                    )));
                }
                let fetched = self
                    .objects
                    .get(key, self.settings.limits.max_bytes)
                    .await?
                    .ok_or_else(|| DirectError::NotFound {
                        bucket: bucket.clone(),
                        key: key.clone(),
                    })?;
                let body = fetched.body.ok_or_else(|| DirectError::TooLarge {
                    what: format!("s3://{bucket}/{key} ({} bytes)", fetched.head.size),
                    max_bytes: self.settings.limits.max_bytes,
                })?;
                (format!("s3://{bucket}/{key}"), body)
            }
            _ => {
                return Err(DirectError::BadRequest(
                    "expected either {\"imageUrl\": URL} or {\"bucket\": B, \"key\": K}".into(),
                ))
            }
        };
        let marked = self
            .mark(bytes, true)
            .await?
            .map_err(|error| DirectError::Mark {
                source_name: source_name.clone(),
                error,
            })?;
        let output_key = tmp_key(Utc::now());
        self.objects
            .put(PutObject::new(
                &output_key,
                marked.encoded.bytes,
                "image/jpeg",
            ))
            .await?;
        let output_url = self
            .objects
            .presign_get(&output_key, self.settings.presign_expiry)
            .await?;
        tracing::info!(
            source = source_name,
            output_key,
            faces = marked.faces.len(),
            detector = self.detector.name(),
            "direct call"
        );
        Ok(DirectResponse {
            faces: marked.faces.len() as u32,
            boxes: marked.faces,
            output_url,
            output_key,
        })
    }
}

/// `tmp/YYYYMMDDHHMMSS-uuid.jpg`, the timestamp in UTC: purge-bucket reads the age from it.
pub fn tmp_key(now: chrono::DateTime<Utc>) -> String {
    format!(
        "tmp/{}-{}.jpg",
        now.format("%Y%m%d%H%M%S"),
        uuid::Uuid::new_v4()
    )
}
