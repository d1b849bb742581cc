//! The largest images content-updated accepts stay inside the memory its Lambda function has.
//!
//! Each goes through a child process (the `thumbnail` command: the handler's path, thumbnail
//! and preview from one decode, with the default limits), whose peak resident memory is
//! compared with the function's `MemorySize` in `infra/template.yaml`. 16-bit RGBA is the
//! widest pixel the decoders produce, so the worst accepted image is the largest 16-bit RGBA
//! one under `MAX_DECODED_BYTES`; the TIFF also carries an EXIF orientation that needs a
//! rotated copy. (A PNG streams through a shrink without a whole-image buffer, so its figure
//! is far under the TIFF's.)

use std::path::{Path, PathBuf};
use std::process::Command;

use media_imaging::testing::worst;
use media_imaging::ImageLimits;

/// content-updated's memory setting in the template, in MB.
fn function_memory_mb() -> u64 {
    media_core::testing::template::function_memory_mb("ContentUpdatedFunction")
}

fn largest_square_side() -> u32 {
    worst::largest_rgba16_side(&ImageLimits::default())
}

fn png16(dir: &Path, side: u32) -> PathBuf {
    let path = dir.join(format!("rgba16-{side}.png"));
    worst::tiled_rgba16(side).save(&path).unwrap();
    path
}

fn tiff16_rotated(dir: &Path, side: u32) -> PathBuf {
    let path = dir.join(format!("rgba16-{side}-orientation6.tif"));
    std::fs::write(&path, worst::tiled_rgba16_tiff(side, Some(6))).unwrap();
    path
}

/// Runs the `thumbnail` command on one file: its JSON line.
fn thumbnail(file: &Path) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_thumbnail"))
        .arg(file)
        .output()
        .unwrap();
    let line = String::from_utf8(output.stdout).unwrap();
    serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("{e}: {line:?} {}", String::from_utf8_lossy(&output.stderr)))
}

#[test]
fn the_worst_accepted_16_bit_png_and_tiff_fit_the_function_memory() {
    let dir = std::env::temp_dir().join(format!("cu-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let limit_kb = function_memory_mb() * 1000;
    let side = largest_square_side();
    for file in [png16(&dir, side), tiff16_rotated(&dir, side)] {
        let size = std::fs::metadata(&file).unwrap().len();
        assert!(
            size <= ImageLimits::default().max_bytes,
            "{}: {size} bytes is over the upload limit",
            file.display()
        );
        let line = thumbnail(&file);
        assert!(
            line.get("error").is_none(),
            "the worst accepted image must be accepted: {line}"
        );
        assert_eq!(
            (line["width"].as_u64(), line["height"].as_u64()),
            (Some(200), Some(200)),
            "{line}"
        );
        let peak = line["maxRssKb"].as_u64().unwrap();
        eprintln!(
            "{}: {size} bytes, peak {} MB of {} MB",
            file.display(),
            peak / 1000,
            limit_kb / 1000
        );
        assert!(
            peak < limit_kb,
            "{}: peak {peak} kB is over the function's {limit_kb} kB",
            file.display()
        );
    }
    // One pixel row more and it is refused before anything of its size is allocated.
    let over = tiff16_rotated(&dir, side + 1);
    let line = thumbnail(&over);
    assert!(
        line["error"].as_str().unwrap().contains("over the limit"),
        "{line}"
    );
    assert!(
        line["maxRssKb"].as_u64().unwrap() < 100_000,
        "refused without decoding: {line}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
