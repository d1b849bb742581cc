//! face-detection: every upload gets a copy with its faces outlined under `faces/` and its
//! item gets `facesKey`, `faceCount` and `faces`; a direct call marks any image and answers
//! with a presigned link to the result under `tmp/`.
//!
//! The function runs independently of content-updated and in any order with it: it touches
//! only its own attributes and its own key, so running first, second or twice gives the same
//! result. Like content-updated it reads the version its event is about (`If-Match`), writes
//! the faces copy in event order ([`media_core::derived`]) and its attributes conditionally
//! on `facesSequencer` and on the item not reflecting a later upload or its deletion.
//!
//! Detection and the marked copy work on a copy of the picture at most
//! [`MARKED_COPY_MAX_SIDE`] pixels on its longest side, shrunk on load: the memory a
//! detection takes does not grow with the original's size. Boxes are reported in the
//! original's pixels, after EXIF orientation.

pub mod detector;
pub mod draw;
pub mod labelled;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use image::DynamicImage;
use media_core::aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use media_core::config::{number_or, ConfigError, ImageLimits, StorageConfig};
use media_core::events::{process_sqs_batch, ChangeKind, ContentChange};
use media_core::imaging::{self, Encoded, ImagingError};
use media_core::derived;
use media_core::item::{FaceAttributes, FaceBox, ItemKey, Sequencer};
use media_core::ports::{FaceItems, ObjectStore, PresignGet, PutObject, StoreError, WriteOutcome};
use serde::{Deserialize, Serialize};

pub use detector::{DetectorError, DetectorKind, FaceDetector};

/// Default lifetime of the link a direct call returns: the book's hour, which is also how
/// long purge-bucket keeps `tmp/` objects.
pub const DEFAULT_PRESIGN_EXPIRY_SECONDS: u64 = 3600;
/// A download that takes longer than this is abandoned (Lambda bills the wait).
pub const DEFAULT_DOWNLOAD_TIMEOUT_SECONDS: u64 = 20;
/// Longest side of the picture detection runs on and of the marked copy.
pub const MARKED_COPY_MAX_SIDE: u32 = 2048;
/// Key prefixes a direct `{bucket, key}` call may read: what a caller could publish anyway
/// (public uploads, and `tmp/` results of earlier calls). Private uploads are refused:
/// the result's link would hand a private picture to whoever asked.
pub const DIRECT_READABLE_PREFIXES: [&str; 2] = ["public/content/", "tmp/"];

/// Why an image could not be marked. Input problems, not system ones: retrying does not help.
#[derive(Debug, thiserror::Error)]
pub enum MarkError {
    #[error(transparent)]
    Image(#[from] ImagingError),
    #[error(transparent)]
    Detector(#[from] DetectorError),
}

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
    NotAnImage { reason: String },
    /// Nothing to do, for the reason given.
    Skipped(&'static str),
}

/// An image with its faces found and outlined.
pub struct Marked {
    /// In the original's pixels (after EXIF orientation).
    pub faces: Vec<FaceBox>,
    pub encoded: Encoded,
    /// Of the marked copy.
    pub width: u32,
    pub height: u32,
}

/// A box found on a copy `from` (width, height) in the pixels of the original `to`.
pub fn box_in_original(face: &FaceBox, from: (u32, u32), to: (u32, u32)) -> FaceBox {
    let scale = |v: u32, a: u32, b: u32| ((f64::from(v) * f64::from(b) / f64::from(a)).round() as u32).min(b);
    let x = scale(face.x, from.0, to.0);
    let y = scale(face.y, from.1, to.1);
    FaceBox {
        x,
        y,
        w: scale(face.x + face.w, from.0, to.0).saturating_sub(x),
        h: scale(face.y + face.h, from.1, to.1).saturating_sub(y),
    }
}

/// Decodes (limits, EXIF orientation, shrunk to [`MARKED_COPY_MAX_SIDE`]), detects, outlines
/// and encodes. `force_jpeg` drops alpha so the result is a JPEG (the direct call's
/// `tmp/*.jpg`); otherwise an image with alpha stays PNG, as content-updated does for
/// thumbnails.
pub fn mark_faces(
    bytes: &[u8],
    limits: &ImageLimits,
    detector: &dyn FaceDetector,
    force_jpeg: bool,
) -> Result<Marked, MarkError> {
    let decoded = imaging::decode_bounded(bytes, limits, MARKED_COPY_MAX_SIDE)?;
    let found = detector.detect(&decoded.image)?;
    let copy = (decoded.image.width(), decoded.image.height());
    let original = (decoded.info.width, decoded.info.height);
    let faces = found.iter().map(|f| box_in_original(f, copy, original)).collect();
    let mut outlined = draw::outline_faces(&decoded.image, &found);
    drop(decoded.image);
    if force_jpeg && outlined.color().has_alpha() {
        outlined = DynamicImage::ImageRgb8(outlined.to_rgb8());
    }
    let encoded = imaging::encode(&outlined)?;
    Ok(Marked { faces, width: encoded.width, height: encoded.height, encoded })
}

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
    Mark { source_name: String, error: MarkError },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("detection task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Settings besides the stores.
#[derive(Clone, Debug)]
pub struct Settings {
    pub limits: ImageLimits,
    /// Bucket the stores are bound to: a direct call naming another one is refused.
    pub bucket: String,
    pub presign_expiry: Duration,
    pub download_timeout: Duration,
    /// Whether `imageUrl` may point at loopback, private or link-local addresses. Off in the
    /// cloud, where such a URL can only be an attempt to reach something internal (the
    /// Lambda runtime API listens on loopback); on in devstack, where everything is.
    pub allow_private_urls: bool,
}

impl Settings {
    pub fn new(bucket: impl Into<String>) -> Self {
        Settings {
            limits: ImageLimits::default(),
            bucket: bucket.into(),
            presign_expiry: Duration::from_secs(DEFAULT_PRESIGN_EXPIRY_SECONDS),
            download_timeout: Duration::from_secs(DEFAULT_DOWNLOAD_TIMEOUT_SECONDS),
            allow_private_urls: false,
        }
    }

    /// `BUCKET_NAME`, `MAX_IMAGE_*`, `PRESIGN_EXPIRY_SECONDS`, `DOWNLOAD_TIMEOUT_SECONDS`,
    /// `ALLOW_PRIVATE_IMAGE_URLS` (1 to allow).
    pub fn from_env(bucket: String) -> Result<Self, ConfigError> {
        let expiry: u64 = number_or("PRESIGN_EXPIRY_SECONDS", DEFAULT_PRESIGN_EXPIRY_SECONDS)?;
        // SigV4 links live at most 7 days.
        if expiry == 0 || expiry > 604_800 {
            return Err(ConfigError::Invalid {
                name: "PRESIGN_EXPIRY_SECONDS",
                value: expiry.to_string(),
                expected: "number of seconds between 1 and 604800",
            });
        }
        Ok(Settings {
            limits: ImageLimits::from_env()?,
            bucket,
            presign_expiry: Duration::from_secs(expiry),
            download_timeout: Duration::from_secs(number_or("DOWNLOAD_TIMEOUT_SECONDS", DEFAULT_DOWNLOAD_TIMEOUT_SECONDS)?),
            allow_private_urls: number_or("ALLOW_PRIVATE_IMAGE_URLS", 0u8)? == 1,
        })
    }
}

/// The function, over any object and item store.
pub struct FaceDetection<O, I> {
    objects: O,
    items: I,
    detector: Arc<dyn FaceDetector>,
    settings: Settings,
    http: reqwest::Client,
}

impl<O: ObjectStore + PresignGet, I: FaceItems> FaceDetection<O, I> {
    pub fn new(objects: O, items: I, detector: Arc<dyn FaceDetector>, settings: Settings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(settings.download_timeout)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent("media-share-face-detection")
            .build()
            .expect("the HTTP client builds with static settings");
        FaceDetection { objects, items, detector, settings, http }
    }

    pub fn objects(&self) -> &O {
        &self.objects
    }

    pub fn items(&self) -> &I {
        &self.items
    }

    pub fn detector(&self) -> &dyn FaceDetector {
        self.detector.as_ref()
    }

    /// Any event the Lambda receives: an SQS batch of S3 notifications (a raw S3 event is
    /// wrapped in one), or a direct call. Answers with the batch response or the direct answer.
    pub async fn handle_event(&self, event: serde_json::Value) -> Result<serde_json::Value, DirectError> {
        if event.get("Records").is_some() {
            let event = media_core::events::sqs_event_from_json(event).map_err(|e| DirectError::BadRequest(e.to_string()))?;
            let response = self.handle_sqs(event).await;
            return serde_json::to_value(response).map_err(|e| DirectError::BadRequest(e.to_string()));
        }
        let request: DirectRequest = serde_json::from_value(event)
            .map_err(|e| DirectError::BadRequest(format!("expected {{\"imageUrl\"}} or {{\"bucket\",\"key\"}}: {e}")))?;
        let response = self.handle_direct(&request).await?;
        serde_json::to_value(response).map_err(|e| DirectError::BadRequest(e.to_string()))
    }

    /// Handles an SQS batch and reports the messages to retry.
    pub async fn handle_sqs(&self, event: SqsEvent) -> SqsBatchResponse {
        process_sqs_batch(event, |change| async move { self.handle(&change).await.map(|_| ()) }).await
    }

    /// Applies one change.
    pub async fn handle(&self, change: &ContentChange) -> Result<Outcome, HandlerError> {
        let key = change.key.object_key();
        let outcome = match change.kind {
            ChangeKind::Created => self.created(change).await?,
            // content-updated removes the faces copy and the item.
            ChangeKind::Removed => Outcome::Skipped("removal is content-updated's"),
        };
        match &outcome {
            Outcome::NotAnImage { reason } => {
                tracing::error!(key, event = %change.event_name, reason, "no faces copy: not a usable image; the original is kept")
            }
            other => tracing::info!(key, event = %change.event_name, detector = self.detector.name(), outcome = ?other, "change applied"),
        }
        Ok(outcome)
    }

    async fn created(&self, change: &ContentChange) -> Result<Outcome, HandlerError> {
        let key = &change.key;
        let object_key = key.object_key();
        let Some(fetched) = self
            .objects
            .get_matching(&object_key, change.etag.as_deref(), self.settings.limits.max_bytes)
            .await?
        else {
            return Ok(Outcome::Skipped("the object is gone or was replaced; a later event handles it"));
        };
        let marked = match fetched.body {
            None => Err(format!("{} bytes is over the limit of {} bytes", fetched.head.size, self.settings.limits.max_bytes)),
            Some(bytes) => match self.mark(bytes, false).await? {
                Ok(marked) => Ok(marked),
                Err(MarkError::Image(err)) => Err(err.to_string()),
                Err(MarkError::Detector(err)) => return Err(err.into()),
            },
        };
        let faces_key = key.faces_key();
        let (attributes, outcome) = match marked {
            Ok(marked) => {
                let put = PutObject::new(&faces_key, marked.encoded.bytes, marked.encoded.content_type);
                if derived::put(&self.objects, put, &change.sequencer).await? == WriteOutcome::Superseded {
                    return Ok(Outcome::Skipped("a later upload's faces copy is in place"));
                }
                let face_count = marked.faces.len() as u32;
                let attributes = FaceAttributes {
                    faces_key: Some(faces_key.clone()),
                    face_count: Some(face_count),
                    faces: Some(marked.faces),
                    faces_sequencer: change.sequencer.clone(),
                };
                (attributes, Outcome::Marked { faces_key: faces_key.clone(), face_count })
            }
            Err(reason) => {
                // A picture replaced by one that cannot be decoded keeps nothing of the old one.
                derived::remove(&self.objects, &faces_key, &change.sequencer).await?;
                let attributes = FaceAttributes { faces_key: None, face_count: None, faces: None, faces_sequencer: change.sequencer.clone() };
                (attributes, Outcome::NotAnImage { reason })
            }
        };
        match self.items.write_faces(&ItemKey::from(key), &attributes).await? {
            WriteOutcome::Applied => Ok(outcome),
            WriteOutcome::Superseded => {
                // A later upload or the deletion won: the copy written above must not outlive it.
                remove_own_copy(&self.objects, &faces_key, &change.sequencer, attributes.faces_key.is_some()).await?;
                Ok(Outcome::Skipped("a later event was applied meanwhile"))
            }
        }
    }

    /// Runs [`mark_faces`] off the async threads: decoding and detection take CPU seconds.
    async fn mark(&self, bytes: Vec<u8>, force_jpeg: bool) -> Result<Result<Marked, MarkError>, tokio::task::JoinError> {
        let detector = self.detector.clone();
        let limits = self.settings.limits;
        tokio::task::spawn_blocking(move || mark_faces(&bytes, &limits, detector.as_ref(), force_jpeg)).await
    }

    /// The direct call: marks the image, writes `tmp/YYYYMMDDHHMMSS-uuid.jpg` (UTC) and returns
    /// a presigned link to it.
    pub async fn handle_direct(&self, request: &DirectRequest) -> Result<DirectResponse, DirectError> {
        let (source_name, bytes) = match (&request.image_url, &request.bucket, &request.key) {
            (Some(url), None, None) => (url.clone(), self.download(url).await?),
            (None, Some(bucket), Some(key)) => {
                if *bucket != self.settings.bucket {
                    return Err(DirectError::BadRequest(format!(
                        "bucket {bucket:?} is not this function's bucket {:?}",
                        self.settings.bucket
                    )));
                }
                if !DIRECT_READABLE_PREFIXES.iter().any(|prefix| key.starts_with(prefix)) || key.split('/').any(|s| s == "..") {
                    return Err(DirectError::BadRequest(format!(
                        "key {key:?} is not readable by a direct call: only keys under {} are",
                        DIRECT_READABLE_PREFIXES.join(" and ")
                    )));
                }
                let fetched = self
                    .objects
                    .get(key, self.settings.limits.max_bytes)
                    .await?
                    .ok_or_else(|| DirectError::NotFound { bucket: bucket.clone(), key: key.clone() })?;
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
            .map_err(|error| DirectError::Mark { source_name: source_name.clone(), error })?;
        let output_key = tmp_key(Utc::now());
        self.objects.put(PutObject::new(&output_key, marked.encoded.bytes, "image/jpeg")).await?;
        let output_url = self.objects.presign_get(&output_key, self.settings.presign_expiry).await?;
        tracing::info!(source = source_name, output_key, faces = marked.faces.len(), detector = self.detector.name(), "direct call");
        Ok(DirectResponse { faces: marked.faces.len() as u32, boxes: marked.faces, output_url, output_key })
    }

    /// Downloads an http(s) URL, refusing bodies over the byte limit before and while reading.
    async fn download(&self, url: &str) -> Result<Vec<u8>, DirectError> {
        let failed = |reason: String| DirectError::Download { url: url.to_owned(), reason };
        let parsed = reqwest::Url::parse(url).map_err(|e| DirectError::BadRequest(format!("imageUrl {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(DirectError::BadRequest(format!("imageUrl must be http or https, not {:?}", parsed.scheme())));
        }
        let max_bytes = self.settings.limits.max_bytes;
        let too_large = || DirectError::TooLarge { what: url.to_owned(), max_bytes };
        let client = if self.settings.allow_private_urls {
            self.http.clone()
        } else {
            self.public_only_client(&parsed).await?
        };
        let mut response = client.get(parsed).send().await.map_err(|e| failed(e.to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("HTTP {}", response.status())));
        }
        if response.content_length().is_some_and(|n| n > max_bytes) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
            if (body.len() + chunk.len()) as u64 > max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

impl<O: ObjectStore + PresignGet, I: FaceItems> FaceDetection<O, I> {
    /// A client bound to the URL's host's public addresses: every address the host resolves
    /// to is checked, the connection is pinned to them (no second lookup to rebind), and
    /// redirects are not followed (they could lead inside).
    async fn public_only_client(&self, url: &reqwest::Url) -> Result<reqwest::Client, DirectError> {
        let refused = |reason: String| DirectError::BadRequest(format!("imageUrl {url}: {reason}"));
        let host = url.host_str().ok_or_else(|| refused("no host".into()))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| refused(format!("cannot resolve: {e}")))?
            .collect();
        if addresses.is_empty() {
            return Err(refused("resolves to no address".into()));
        }
        if let Some(internal) = addresses.iter().find(|a| !is_public_address(a.ip())) {
            return Err(refused(format!("resolves to {}, which is not a public address", internal.ip())));
        }
        reqwest::Client::builder()
            .timeout(self.settings.download_timeout)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("media-share-face-detection")
            .resolve_to_addrs(host, &addresses)
            .build()
            .map_err(|e| refused(e.to_string()))
    }
}

async fn remove_own_copy<O: ObjectStore>(objects: &O, key: &str, sequencer: &Sequencer, written: bool) -> Result<(), StoreError> {
    if written {
        derived::remove_own(objects, key, sequencer).await?;
    }
    Ok(())
}

/// Whether an address is on the public internet (not loopback, private, link-local, shared,
/// documentation, multicast or unspecified).
pub fn is_public_address(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        std::net::IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_address(std::net::IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// `tmp/YYYYMMDDHHMMSS-uuid.jpg`, the timestamp in UTC: purge-bucket reads the age from it.
pub fn tmp_key(now: chrono::DateTime<Utc>) -> String {
    format!("tmp/{}-{}.jpg", now.format("%Y%m%d%H%M%S"), uuid::Uuid::new_v4())
}

/// Why the function could not start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Detector(#[from] DetectorError),
}

/// The detector the environment asks for.
///
/// `FACE_DETECTOR` (`haar` or `dnn`) picks the kind; without it the kind follows
/// `FACE_MODEL_PATH`'s extension (`.xml` is a cascade, `.onnx` a network), else
/// [`DetectorKind::DEFAULT`]. Without `FACE_MODEL_PATH` the model is looked for in the usual
/// places ([`DetectorKind::model_candidates`]). When neither variable is set and the default
/// network's model is nowhere, the cascade is used with a warning rather than not starting.
pub fn detector_from_env() -> Result<Arc<dyn FaceDetector>, SetupError> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let model_path = var("FACE_MODEL_PATH").map(PathBuf::from);
    let explicit_kind = var("FACE_DETECTOR").map(|v| DetectorKind::parse(&v)).transpose()?;
    let kind = explicit_kind
        .or_else(|| match model_path.as_ref()?.extension()?.to_str()? {
            "xml" => Some(DetectorKind::Haar),
            "onnx" => Some(DetectorKind::Dnn),
            _ => None,
        })
        .unwrap_or(DetectorKind::DEFAULT);
    let (kind, path) = match model_path {
        Some(path) => (kind, path),
        None => match kind.find_model() {
            Some(path) => (kind, path),
            None if explicit_kind.is_none() && kind != DetectorKind::Haar => {
                let path = DetectorKind::Haar.find_model().ok_or_else(|| DetectorError::ModelMissing {
                    path: kind.model_candidates().into_iter().next().unwrap_or_default(),
                })?;
                tracing::warn!(
                    wanted = kind.as_str(),
                    looked_in = ?kind.model_candidates(),
                    "the default face model is missing; using the Haar cascade (run `make models`)"
                );
                (DetectorKind::Haar, path)
            }
            None => {
                return Err(DetectorError::ModelMissing {
                    path: kind.model_candidates().into_iter().next().unwrap_or_default(),
                }
                .into())
            }
        },
    };
    let detector = detector::load(kind, &path)?;
    tracing::info!(detector = kind.as_str(), model = %path.display(), "face detector loaded");
    Ok(Arc::from(detector))
}

/// The function as deployed: AWS stores configured from the environment.
pub type AwsFaceDetection = FaceDetection<media_core::aws::S3ObjectStore, media_core::aws::DynamoItemStore>;

/// Builds the function over AWS stores from an SDK configuration and the environment.
pub fn with_sdk(sdk: &aws_config::SdkConfig, storage: StorageConfig) -> Result<Arc<AwsFaceDetection>, SetupError> {
    let settings = Settings::from_env(storage.bucket.clone())?;
    let detector = detector_from_env()?;
    Ok(Arc::new(FaceDetection::new(
        media_core::aws::S3ObjectStore::new(media_core::aws::s3_client(sdk), storage.bucket),
        media_core::aws::DynamoItemStore::new(media_core::aws::dynamodb_client(sdk), storage.table),
        detector,
        settings,
    )))
}

/// Builds the deployed function from the environment.
pub async fn from_env() -> Result<Arc<AwsFaceDetection>, SetupError> {
    let storage = StorageConfig::from_env()?;
    let sdk = media_core::aws::sdk_config_from_env().await;
    with_sdk(&sdk, storage)
}
