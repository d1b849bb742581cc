//! `faces FILE...`: face-detection's detection path ([`face_detection::find_faces`]: decode
//! shrunk on load, then the default CenterFace detector) on local files, for the side-by-side
//! benchmark against Python OpenCV (bench/faces_opencv.py). Prints one JSON line per file:
//! `{"file", "ms", "faces", "width", "height"}` (`ms`: this process's CPU time from reading the
//! file to the boxes in the original's pixels, OpenCV's threads included; width and height of
//! the original), or `{"file", "error"}`. `faces --input-side` prints the long side of the
//! network's inputs. `--side N` gives the detector one square N x N input instead of its input
//! shapes (every picture letterboxed into the square); `--mark` times the whole
//! [`face_detection::mark_faces`] instead (the above, then the outlined copy resized and
//! encoded; width and height are then the copy's).
//!
//! The model is found as the function finds it (`FACE_MODEL_PATH`, else the candidates of
//! [`DetectorKind::model_candidates`]); limits from the environment as in the function.

use std::process::ExitCode;

use face_detection::detector::{self, DetectorKind};
use media_imaging::ImageLimits;

mod common;

use common::process_cpu_ms;

fn main() -> anyhow::Result<ExitCode> {
    let mut files: Vec<String> = std::env::args().skip(1).collect();
    if files.first().map(String::as_str) == Some("--input-side") {
        println!("{}", detector::INPUT_SIDE);
        return Ok(ExitCode::SUCCESS);
    }
    let mut side = None;
    let mut mark = false;
    loop {
        match files.first().map(String::as_str) {
            Some("--side") => {
                side = Some(
                    files
                        .get(1)
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(|| anyhow::anyhow!("--side takes a number"))?,
                );
                files.drain(..2);
            }
            Some("--mark") => {
                mark = true;
                files.remove(0);
            }
            _ => break,
        }
    }
    anyhow::ensure!(
        !files.is_empty(),
        "usage: faces [--side N] [--mark] FILE... | faces --input-side"
    );
    let model = match std::env::var_os("FACE_MODEL_PATH").filter(|p| !p.is_empty()) {
        Some(path) => path.into(),
        None => DetectorKind::Dnn
            .find_model()
            .ok_or_else(|| anyhow::anyhow!("no CenterFace model; run `make test-data`"))?,
    };
    let detector = match side {
        Some(side) => detector::CenterFaceDetector::with_input_side(&model, side)?,
        None => detector::CenterFaceDetector::load(&model)?,
    };
    let limits = ImageLimits::from_env()?;
    let mut failed = false;
    for file in files {
        let start = process_cpu_ms();
        let found = std::fs::read(&file)
            .map_err(anyhow::Error::from)
            .and_then(|bytes| {
                if mark {
                    let marked = face_detection::mark_faces(&bytes, &limits, &detector, false)?;
                    return Ok((marked.faces.len(), (marked.width, marked.height)));
                }
                let found = face_detection::find_faces(&bytes, &limits, &detector)?;
                let info = &found.decoded.info;
                Ok((found.faces.len(), (info.width, info.height)))
            });
        let ms = process_cpu_ms() - start;
        let line = match found {
            Ok((faces, (width, height))) => {
                serde_json::json!({"file": file, "ms": (ms * 1000.0).round() / 1000.0, "faces": faces,
                "width": width, "height": height})
            }
            Err(err) => {
                failed = true;
                serde_json::json!({"file": file, "error": err.to_string()})
            }
        };
        println!("{line}");
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
