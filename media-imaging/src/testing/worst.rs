//! The worst pictures the image path accepts, for the memory tests of the functions that
//! decode them: 16-bit RGBA is the widest pixel the decoders produce, so the largest accepted
//! picture is the largest 16-bit RGBA square within `ImageLimits::max_decoded_bytes`.

use image::{ImageBuffer, Rgba};

use crate::ImageLimits;

/// The side of the largest square 16-bit RGBA picture within the decoded-size limit.
pub fn largest_rgba16_side(limits: &ImageLimits) -> u32 {
    ((limits.max_decoded_bytes / 8) as f64).sqrt() as u32
}

/// A `side` x `side` 16-bit RGBA picture of flat 64-px tiles: it compresses under the upload
/// limit, and memory depends on the declared size, not the content.
pub fn tiled_rgba16(side: u32) -> ImageBuffer<Rgba<u16>, Vec<u16>> {
    ImageBuffer::from_fn(side, side, |x, y| {
        let (tx, ty) = (x / 64, y / 64);
        Rgba([
            (tx * 997) as u16,
            (ty * 991) as u16,
            ((tx + ty) * 499) as u16,
            u16::MAX,
        ])
    })
}

/// [`tiled_rgba16`] as a Deflate-compressed TIFF (which is decoded whole, never shrunk on
/// load), with an EXIF `orientation` tag when given (a rotation needs a second whole copy).
pub fn tiled_rgba16_tiff(side: u32, orientation: Option<u16>) -> Vec<u8> {
    use tiff::encoder::{colortype, Compression, DeflateLevel, TiffEncoder};
    let mut out = std::io::Cursor::new(Vec::new());
    let mut encoder = TiffEncoder::new(&mut out)
        .expect("a TIFF encoder")
        .with_compression(Compression::Deflate(DeflateLevel::Fast));
    let mut image = encoder
        .new_image::<colortype::RGBA16>(side, side)
        .expect("a TIFF image");
    if let Some(orientation) = orientation {
        image
            .encoder()
            .write_tag(tiff::tags::Tag::Orientation, orientation)
            .expect("an orientation tag");
    }
    image
        .write_data(tiled_rgba16(side).as_raw())
        .expect("the TIFF's pixels");
    out.into_inner()
}
