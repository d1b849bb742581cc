//! The faces copy carries no location: `mark_faces` (decode, outline, encode: what the
//! S3-event path writes under `faces/` and the direct call under `tmp/`) on pictures that
//! carry one in every way an accepted format can.

use face_detection::{mark_faces, DetectorError, FaceDetector};
use image::DynamicImage;
use media_core::item::FaceBox;
use media_imaging::testing::location::{location_traces, Located, FIXTURE_SIZE};
use media_imaging::ImageLimits;

/// Finds one face in the middle of every picture, so the copy has an outline drawn on it.
struct Middle;

impl FaceDetector for Middle {
    fn name(&self) -> &'static str {
        "middle"
    }
    fn detect(&self, image: &DynamicImage) -> Result<Vec<FaceBox>, DetectorError> {
        let (w, h) = (image.width(), image.height());
        Ok(vec![FaceBox {
            x: w / 3,
            y: h / 3,
            w: w / 3,
            h: h / 3,
        }])
    }
}

#[test]
fn the_faces_copy_of_a_picture_with_a_location_carries_none() {
    for located in Located::ALL {
        let bytes = located.bytes();
        // The S3-event path (the original's alpha kept), then the direct call (always JPEG).
        for force_jpeg in [false, true] {
            let marked = mark_faces(&bytes, &ImageLimits::default(), &Middle, force_jpeg)
                .unwrap_or_else(|e| panic!("{located:?}: {e}"));
            assert_eq!(marked.faces.len(), 1);
            assert_eq!((marked.width, marked.height), FIXTURE_SIZE, "{located:?}");
            assert_eq!(marked.encoded.content_type, "image/jpeg", "{located:?}");
            assert_eq!(
                location_traces(&marked.encoded.bytes),
                [],
                "{located:?} force_jpeg={force_jpeg}"
            );
        }
    }
}
