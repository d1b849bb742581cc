//! Both detectors on the labelled set (`data/labels.tsv`): each image's count within its stated
//! tolerance, and no face at all on the faceless images. The images come from package
//! registries through `make test-data`; without them this test skips with a message, unless
//! `FACE_DATA_REQUIRED=1` (set by `make unit`) makes that a failure.

use face_detection::detector::{self, DetectorKind};
use face_detection::labelled;
use media_core::config::ImageLimits;

fn check(kind: DetectorKind) {
    let dir = labelled::data_dir();
    let missing = labelled::missing(&dir);
    if !missing.is_empty() {
        let message = format!("labelled face set missing from {} ({missing:?}): run `make test-data`", dir.display());
        assert!(std::env::var_os("FACE_DATA_REQUIRED").is_none(), "{message}");
        eprintln!("SKIPPED: {message}");
        return;
    }
    let Some(model) = kind.find_model() else {
        let message = format!("no {} model in {:?}: run `make test-data`", kind.as_str(), kind.model_candidates());
        assert!(std::env::var_os("FACE_DATA_REQUIRED").is_none(), "{message}");
        eprintln!("SKIPPED: {message}");
        return;
    };
    let detector = detector::load(kind, &model).unwrap();
    let mut wrong = Vec::new();
    for label in labelled::labels() {
        let bytes = std::fs::read(dir.join(&label.file)).unwrap();
        let decoded = media_core::imaging::decode(&bytes, &ImageLimits::default()).unwrap();
        let faces = detector.detect(&decoded.image).unwrap();
        let found = faces.len() as u32;
        for face in &faces {
            assert!(face.x + face.w <= decoded.info.width && face.y + face.h <= decoded.info.height, "{}: {face:?}", label.file);
        }
        let ok = if label.faces == 0 { found == 0 } else { found.abs_diff(label.faces) <= label.tolerance };
        if !ok {
            wrong.push(format!("{}: found {found}, labelled {} ± {}", label.file, label.faces, label.tolerance));
        }
    }
    assert!(wrong.is_empty(), "{} detector: {wrong:#?}", kind.as_str());
}

#[test]
fn haar_counts_within_tolerance_and_no_faces_on_faceless_images() {
    check(DetectorKind::Haar);
}

#[test]
fn dnn_counts_within_tolerance_and_no_faces_on_faceless_images() {
    check(DetectorKind::Dnn);
}

#[test]
fn the_default_detector_finds_every_labelled_face() {
    // The default was chosen for its recall; keep it honest.
    assert_eq!(DetectorKind::DEFAULT, DetectorKind::Dnn);
}
