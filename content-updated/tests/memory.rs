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

use image::{ImageBuffer, Rgba};
use media_imaging::ImageLimits;

/// content-updated's memory setting in the template, in MB.
fn function_memory_mb() -> u64 {
    let template = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml"),
    )
    .unwrap();
    let function = template
        .split("\n  ContentUpdatedFunction:\n")
        .nth(1)
        .expect("ContentUpdatedFunction in the template");
    let line = function
        .lines()
        .find(|l| l.trim_start().starts_with("MemorySize:"))
        .expect("a MemorySize");
    line.split(':').nth(1).unwrap().trim().parse().unwrap()
}

/// The side of the largest square 16-bit RGBA image within the decoded-bytes limit.
fn largest_square_side() -> u32 {
    ((ImageLimits::default().max_decoded_bytes / 8) as f64).sqrt() as u32
}

fn pixels(side: u32) -> Vec<u16> {
    // Flat tiles: they compress under the 50 MB upload limit (memory does not depend on the
    // content, only on the declared size).
    let mut data = Vec::with_capacity(side as usize * side as usize * 4);
    for y in 0..side {
        for x in 0..side {
            let (tx, ty) = (x / 64, y / 64);
            data.extend_from_slice(&[
                (tx * 997) as u16,
                (ty * 991) as u16,
                ((tx + ty) * 499) as u16,
                u16::MAX,
            ]);
        }
    }
    data
}

fn png16(dir: &Path, side: u32) -> PathBuf {
    let image: ImageBuffer<Rgba<u16>, Vec<u16>> =
        ImageBuffer::from_raw(side, side, pixels(side)).unwrap();
    let path = dir.join(format!("rgba16-{side}.png"));
    image.save(&path).unwrap();
    path
}

fn tiff16_rotated(dir: &Path, side: u32) -> PathBuf {
    use tiff::encoder::{colortype, Compression, DeflateLevel, TiffEncoder};
    let path = dir.join(format!("rgba16-{side}-orientation6.tif"));
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut encoder = TiffEncoder::new(file)
        .unwrap()
        .with_compression(Compression::Deflate(DeflateLevel::Fast));
    let mut image = encoder.new_image::<colortype::RGBA16>(side, side).unwrap();
    image
        .encoder()
        .write_tag(tiff::tags::Tag::Orientation, 6u16)
        .unwrap();
    image.write_data(&pixels(side)).unwrap();
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
