//! Finding and outlining faces in one picture: decode within the limits on a bounded copy,
//! detect, draw, encode; the boxes reported in the original's pixels.

use image::DynamicImage;
use media_core::config::ImageLimits;
use media_core::imaging::{self, Decoded, Encoded, ImagingError};
use media_core::item::FaceBox;
use media_core::ports::{FaceItems, ObjectStore, PresignGet};

use crate::detector::{DetectorError, FaceDetector};
use crate::{draw, FaceDetection};

/// Longest side of the picture detection runs on and of the marked copy.
pub const MARKED_COPY_MAX_SIDE: u32 = 2048;

/// Why an image could not be marked. Input problems, not system ones: retrying does not help.
#[derive(Debug, thiserror::Error)]
pub enum MarkError {
    #[error(transparent)]
    Image(#[from] ImagingError),
    #[error(transparent)]
    Detector(#[from] DetectorError),
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

/// Faces found in one picture, and the copy they were found on.
pub struct Found {
    /// The copy detection ran on (at most [`MARKED_COPY_MAX_SIDE`]) and the original's info.
    pub decoded: Decoded,
    /// In the copy's pixels.
    pub on_copy: Vec<FaceBox>,
    /// In the original's pixels (after EXIF orientation).
    pub faces: Vec<FaceBox>,
}

/// Decodes (limits, EXIF orientation, shrunk on load to [`MARKED_COPY_MAX_SIDE`]: a JPEG is
/// never decoded at full size) and detects: the detection half of [`mark_faces`], which the
/// benchmark times.
pub fn find_faces(bytes: &[u8], limits: &ImageLimits, detector: &dyn FaceDetector) -> Result<Found, MarkError> {
    let decoded = imaging::decode_bounded(bytes, limits, MARKED_COPY_MAX_SIDE)?;
    let on_copy = detector.detect(&decoded.image)?;
    let copy = (decoded.image.width(), decoded.image.height());
    let original = (decoded.info.width, decoded.info.height);
    let faces = on_copy.iter().map(|f| box_in_original(f, copy, original)).collect();
    Ok(Found { decoded, on_copy, faces })
}

/// [`find_faces`], then outlines and encodes. `force_jpeg` drops alpha so the result is a JPEG
/// (the direct call's `tmp/*.jpg`); otherwise an image with alpha stays PNG, as
/// content-updated does for thumbnails.
pub fn mark_faces(
    bytes: &[u8],
    limits: &ImageLimits,
    detector: &dyn FaceDetector,
    force_jpeg: bool,
) -> Result<Marked, MarkError> {
    let Found { decoded, on_copy, faces } = find_faces(bytes, limits, detector)?;
    let mut outlined = draw::outline_faces(&decoded.image, &on_copy);
    drop(decoded.image);
    if force_jpeg && outlined.color().has_alpha() {
        outlined = DynamicImage::ImageRgb8(outlined.to_rgb8());
    }
    let encoded = imaging::encode(&outlined)?;
    Ok(Marked { faces, width: encoded.width, height: encoded.height, encoded })
}

impl<O: ObjectStore + PresignGet, I: FaceItems> FaceDetection<O, I> {
    /// Runs [`mark_faces`] off the async threads: decoding and detection take CPU seconds.
    pub(crate) async fn mark(&self, bytes: Vec<u8>, force_jpeg: bool) -> Result<Result<Marked, MarkError>, tokio::task::JoinError> {
        let detector = self.detector.clone();
        let limits = self.settings.limits;
        tokio::task::spawn_blocking(move || mark_faces(&bytes, &limits, detector.as_ref(), force_jpeg)).await
    }

}
