//! face-detection stays inside the memory its Lambda function has when a warm container has
//! built every CenterFace network (one per input shape, each holding its activations) and then
//! gets the worst picture it accepts: the largest 16-bit RGBA TIFF within the decoded-size
//! limit (a TIFF is decoded whole; a JPEG or PNG is shrunk on load), made by
//! `media_imaging::testing::worst` as content-updated's memory test makes it.
//!
//! This file holds one test, so its process's peak resident memory (VmHWM) is that test's;
//! it also counts making the test picture, so it overstates the handler's peak.

use face_detection::detector::{CenterFaceDetector, DetectorKind, FaceDetector, INPUT_SHAPES};
use face_detection::mark_faces;
use image::{DynamicImage, ImageBuffer, Rgb};
use media_imaging::testing::worst;
use media_imaging::ImageLimits;

/// VmHWM from /proc/self/status, in kB.
fn peak_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn every_network_and_the_worst_accepted_picture_fit_the_function_memory() {
    let limit_kb =
        media_core::testing::template::function_memory_mb("FaceDetectionFunction") * 1000;
    let model = DetectorKind::Dnn
        .find_model()
        .expect("no CenterFace model: run `make test-data`");
    let detector = CenterFaceDetector::load(&model).unwrap();
    // A picture of each shape's own size builds that shape's network.
    for shape in INPUT_SHAPES {
        let picture = ImageBuffer::from_pixel(shape.width, shape.height, Rgb([90u8, 120, 150]));
        detector.detect(&DynamicImage::ImageRgb8(picture)).unwrap();
    }
    assert_eq!(detector.built_shapes().len(), INPUT_SHAPES.len());

    let limits = ImageLimits::default();
    let side = worst::largest_rgba16_side(&limits);
    let bytes = worst::tiled_rgba16_tiff(side, None);
    assert!(
        bytes.len() as u64 <= limits.max_bytes,
        "the TIFF is over the upload limit"
    );
    let marked = mark_faces(&bytes, &limits, &detector, false).unwrap_or_else(|e| {
        panic!("the worst accepted picture ({side}x{side}) must be accepted: {e}")
    });
    drop(bytes);
    assert!(marked.width.max(marked.height) <= 2048);
    let peak = peak_kb();
    eprintln!(
        "seven networks and a {side}x{side} 16-bit RGBA TIFF: peak {} MB of {} MB",
        peak / 1000,
        limit_kb / 1000
    );
    assert!(
        peak < limit_kb,
        "peak {peak} kB is over the function's {limit_kb} kB"
    );
}
