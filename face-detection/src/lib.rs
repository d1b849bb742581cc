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
//! Detection runs on one decode of the picture, a JPEG or PNG shrunk on load (DCT scaling,
//! whole blocks) to the smallest scale that covers the marked copy, so a large JPEG or PNG is
//! never decoded at full size;
//! the marked copy is at most [`MARKED_COPY_MAX_SIDE`] pixels on its longest side, made from
//! the same decode (a decode over [`DETECTION_MAX_SIDE`] is brought to the copy's size before
//! detection, so what a detection converts stays bounded). Boxes are reported in the original's pixels, after EXIF orientation.
//!
//! Where things live: `uploads` (the S3-event path), `direct` (the direct call), `download`
//! (fetching an `imageUrl` behind its address guard), `marking` (decode, detect, draw,
//! encode), [`detector`] (the Haar and CenterFace detectors), [`draw`] (outlining),
//! `settings` and `setup` (configuration and construction), [`labelled`] (the labelled
//! test set).

pub mod detector;
mod direct;
mod download;
pub mod draw;
pub mod labelled;
mod marking;
mod settings;
mod setup;
mod uploads;

use std::sync::Arc;
use std::time::Duration;

use media_core::aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use media_core::events::process_sqs_batch;
use media_core::ports::{FaceItems, ObjectStore, PresignGet};

pub use detector::{DetectorError, DetectorKind, FaceDetector};
pub use direct::{tmp_key, DirectError, DirectRequest, DirectResponse, DIRECT_READABLE_PREFIXES};
pub use download::is_public_address;
pub use marking::{
    box_in_original, find_faces, mark_faces, Found, MarkError, Marked, DETECTION_MAX_SIDE,
    MARKED_COPY_MAX_SIDE,
};
pub use settings::{Settings, DEFAULT_DOWNLOAD_TIMEOUT_SECONDS, DEFAULT_PRESIGN_EXPIRY_SECONDS};
pub use setup::{detector_from_env, from_env, AwsFaceDetection, SetupError};
pub use uploads::{HandlerError, Outcome, Skip};

/// The function, over any object and item store.
pub struct FaceDetection<O, I> {
    pub(crate) objects: O,
    pub(crate) items: I,
    pub(crate) detector: Arc<dyn FaceDetector>,
    pub(crate) settings: Settings,
    pub(crate) http: reqwest::Client,
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
        FaceDetection {
            objects,
            items,
            detector,
            settings,
            http,
        }
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
    pub async fn handle_event(
        &self,
        event: serde_json::Value,
    ) -> Result<serde_json::Value, DirectError> {
        if event.get("Records").is_some() {
            let event = media_core::events::sqs_event_from_json(event)
                .map_err(|e| DirectError::BadRequest(e.to_string()))?;
            let response = self.handle_sqs(event).await;
            return serde_json::to_value(response)
                .map_err(|e| DirectError::BadRequest(e.to_string()));
        }
        let request: DirectRequest = serde_json::from_value(event).map_err(|e| {
            DirectError::BadRequest(format!(
                "expected {{\"imageUrl\"}} or {{\"bucket\",\"key\"}}: {e}"
            ))
        })?;
        let response = self.handle_direct(&request).await?;
        serde_json::to_value(response).map_err(|e| DirectError::BadRequest(e.to_string()))
    }

    /// Handles an SQS batch and reports the messages to retry.
    pub async fn handle_sqs(&self, event: SqsEvent) -> SqsBatchResponse {
        process_sqs_batch(event, |change| async move {
            self.handle(&change).await.map(|_| ())
        })
        .await
    }
}
