//! Writes the browser tests' phone pictures (client/e2e/app.test.mjs): `heif_fixtures
//! <photo.jpg> <dir>` crops the photo to a landscape 4:3, stores it sideways as a phone held
//! in portrait does, and writes `<dir>/landscape.heic` (HEVC from Debian's heif-enc, `irot`
//! plus Exif orientation 6 as an iPhone writes them) and `<dir>/landscape.avif` (10-bit, from
//! Debian's avifenc, which turns the Exif orientation into `irot`). Shown upright, both are
//! wider than high.

use media_imaging::testing::heif::{avifenc, heic_rotated, heif_enc};
use media_imaging::testing::insert_exif_orientation;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, photo, dir] = &args[..] else {
        eprintln!("usage: heif_fixtures <photo.jpg> <dir>");
        std::process::exit(2);
    };
    let photo = image::open(photo)
        .unwrap_or_else(|e| panic!("{photo}: {e}"))
        .to_rgb8();
    let (width, height) = (photo.width(), photo.width() * 3 / 4);
    let landscape =
        image::imageops::crop_imm(&photo, 0, (photo.height() - height) / 2, width, height)
            .to_image();
    let sideways = image::imageops::rotate270(&landscape);
    let jpeg = e2e_tests::encode(
        image::DynamicImage::ImageRgb8(sideways),
        image::ImageFormat::Jpeg,
    );
    let dir = std::path::Path::new(dir);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("landscape.heic"),
        heic_rotated(&heif_enc(&jpeg), 3, 6),
    )
    .unwrap();
    std::fs::write(
        dir.join("landscape.avif"),
        avifenc(
            &insert_exif_orientation(&jpeg, 6),
            "jpg",
            &["--depth", "10"],
        ),
    )
    .unwrap();
}
