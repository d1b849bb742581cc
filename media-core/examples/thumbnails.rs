//! Makes a thumbnail of every file given, with the same function content-updated uses, and
//! writes them to a directory: the Rust side of `bench/thumbnails.py`.
//!
//! `cargo run --release -p media-core --example thumbnails -- OUT_DIR FILE...`

use std::path::Path;

use media_core::config::ImageLimits;
use media_core::imaging::make_thumbnail;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out_dir = args.next().ok_or("usage: thumbnails OUT_DIR FILE...")?;
    std::fs::create_dir_all(&out_dir)?;
    for file in args {
        let bytes = std::fs::read(&file)?;
        let thumbnail = make_thumbnail(&bytes, &ImageLimits::default())?;
        let extension = if thumbnail.encoded.content_type == "image/png" { "png" } else { "jpg" };
        let name = Path::new(&file).file_stem().ok_or("no file name")?.to_string_lossy();
        std::fs::write(Path::new(&out_dir).join(format!("{name}.{extension}")), &thumbnail.encoded.bytes)?;
    }
    Ok(())
}
