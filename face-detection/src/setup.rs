//! Building the deployed function from the environment: stores, settings, detector.

use std::path::PathBuf;
use std::sync::Arc;

use media_core::config::{ConfigError, StorageConfig};

use crate::detector::{self, DetectorError, DetectorKind, FaceDetector};
use crate::{FaceDetection, Settings};

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
    let explicit_kind = var("FACE_DETECTOR")
        .map(|v| DetectorKind::parse(&v))
        .transpose()?;
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
                let path =
                    DetectorKind::Haar
                        .find_model()
                        .ok_or_else(|| DetectorError::ModelMissing {
                            path: kind
                                .model_candidates()
                                .into_iter()
                                .next()
                                .unwrap_or_default(),
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
                    path: kind
                        .model_candidates()
                        .into_iter()
                        .next()
                        .unwrap_or_default(),
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
pub type AwsFaceDetection =
    FaceDetection<media_core::aws::S3ObjectStore, media_core::aws::DynamoItemStore>;

/// Builds the deployed function from the environment.
pub async fn from_env() -> Result<Arc<AwsFaceDetection>, SetupError> {
    let settings = Settings::from_env(StorageConfig::from_env()?.bucket)?;
    let detector = detector_from_env()?;
    let (objects, items) = media_core::aws::stores_from_env().await?;
    Ok(Arc::new(FaceDetection::new(
        objects, items, detector, settings,
    )))
}
