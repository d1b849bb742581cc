//! Finding and outlining faces in one picture: decode within the limits (a JPEG or PNG
//! shrunk on load), detect, draw on a bounded copy, encode; the boxes reported in the original's pixels.

use image::DynamicImage;
use media_core::item::FaceBox;
use media_core::ports::{FaceItems, ObjectStore, PresignGet};
use media_imaging::ImageLimits;
use media_imaging::{self as imaging, Decoded, Encoded, ImagingError};

use crate::detector::{DetectorError, FaceDetector};
use crate::{draw, FaceDetection};

/// Longest side of the marked copy; a JPEG is decoded at the smallest DCT scale covering it.
pub const MARKED_COPY_MAX_SIDE: u32 = 2048;

/// Longest side of the picture the detector is given. A JPEG's scaled decode stays within it
/// (the next DCT scale down would not cover the copy, so this one is less than twice the
/// copy's side) but for originals over 32,768 px; a larger decode (formats other than JPEG and
/// PNG decode at full size) is first brought to the copy's size, so what the detector converts stays bounded.
pub const DETECTION_MAX_SIDE: u32 = 2 * MARKED_COPY_MAX_SIDE;

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

/// A box found on a picture of size `from` (width, height) in the pixels of the same picture at
/// size `to`.
pub fn box_in_original(face: &FaceBox, from: (u32, u32), to: (u32, u32)) -> FaceBox {
    let scale = |v: u32, a: u32, b: u32| {
        ((f64::from(v) * f64::from(b) / f64::from(a)).round() as u32).min(b)
    };
    let x = scale(face.x, from.0, to.0);
    let y = scale(face.y, from.1, to.1);
    FaceBox {
        x,
        y,
        w: scale(face.x + face.w, from.0, to.0).saturating_sub(x),
        h: scale(face.y + face.h, from.1, to.1).saturating_sub(y),
    }
}

/// Faces found in one picture, and the decode they were found on.
pub struct Found {
    /// What detection ran on (at most [`DETECTION_MAX_SIDE`]), and the original's info.
    pub decoded: Decoded,
    /// In the decode's pixels.
    pub on_decoded: Vec<FaceBox>,
    /// In the original's pixels (after EXIF orientation).
    pub faces: Vec<FaceBox>,
}

/// Decodes (limits, EXIF orientation; a JPEG or PNG shrunk on load, by DCT scaling or whole
/// blocks, to the smallest size that still covers the marked copy, so it is never decoded at
/// full size) and detects
/// on that decode: each detector shrinks it to its own input, so detection does not wait for
/// the marked copy's resize. The detection half of [`mark_faces`], which the benchmark times.
pub fn find_faces(
    bytes: &[u8],
    limits: &ImageLimits,
    detector: &dyn FaceDetector,
) -> Result<Found, MarkError> {
    let mut decoded = imaging::decode_scaled(bytes, limits, MARKED_COPY_MAX_SIDE)?;
    if decoded.image.width().max(decoded.image.height()) > DETECTION_MAX_SIDE {
        decoded.image = imaging::resize_to_fit(&decoded.image, MARKED_COPY_MAX_SIDE)?;
    }
    let on_decoded = detector.detect(&decoded.image)?;
    let size = (decoded.image.width(), decoded.image.height());
    let original = (decoded.info.width, decoded.info.height);
    let faces = on_decoded
        .iter()
        .map(|f| box_in_original(f, size, original))
        .collect();
    Ok(Found {
        decoded,
        on_decoded,
        faces,
    })
}

/// [`find_faces`], then outlines the faces on a copy at most [`MARKED_COPY_MAX_SIDE`] pixels on
/// its longest side and encodes it. `force_jpeg` drops alpha so the result is a JPEG (the
/// direct call's `tmp/*.jpg`); otherwise an image with alpha stays PNG, as content-updated
/// does for thumbnails.
pub fn mark_faces(
    bytes: &[u8],
    limits: &ImageLimits,
    detector: &dyn FaceDetector,
    force_jpeg: bool,
) -> Result<Marked, MarkError> {
    let Found {
        decoded,
        on_decoded,
        faces,
    } = find_faces(bytes, limits, detector)?;
    let image = decoded.image;
    let size = (image.width(), image.height());
    let (copy, on_copy) = if size.0 <= MARKED_COPY_MAX_SIDE && size.1 <= MARKED_COPY_MAX_SIDE {
        (image, on_decoded)
    } else {
        let copy = imaging::resize_to_fit(&image, MARKED_COPY_MAX_SIDE)?;
        drop(image);
        let copy_size = (copy.width(), copy.height());
        let on_copy = on_decoded
            .iter()
            .map(|f| box_in_original(f, size, copy_size))
            .collect();
        (copy, on_copy)
    };
    let mut outlined = draw::outline_faces(&copy, &on_copy);
    drop(copy);
    if force_jpeg && outlined.color().has_alpha() {
        outlined = DynamicImage::ImageRgb8(outlined.to_rgb8());
    }
    let encoded = imaging::encode(&outlined)?;
    Ok(Marked {
        faces,
        width: encoded.width,
        height: encoded.height,
        encoded,
    })
}

impl<O: ObjectStore + PresignGet, I: FaceItems> FaceDetection<O, I> {
    /// Runs [`mark_faces`] off the async threads: decoding and detection take CPU seconds.
    pub(crate) async fn mark(
        &self,
        bytes: Vec<u8>,
        force_jpeg: bool,
    ) -> Result<Result<Marked, MarkError>, tokio::task::JoinError> {
        let detector = self.detector.clone();
        let limits = self.settings.limits;
        tokio::task::spawn_blocking(move || {
            mark_faces(&bytes, &limits, detector.as_ref(), force_jpeg)
        })
        .await
    }
}
