//! The JPEG encoder of every rendition: libjpeg-turbo's mozjpeg fork (the `mozjpeg` crate,
//! already here for shrink-on-load), at one of two efforts ([`Effort`]). With mozjpeg's
//! defaults, previews on the photo set were about 45% smaller than the `image` crate's encoder
//! made them at the same quality (bench/README.md, "Previews"); with libjpeg-turbo's, a faces
//! copy is encoded in a fifteenth of the `image` crate's time.

use std::panic::{catch_unwind, AssertUnwindSafe};

use image::RgbImage;
use mozjpeg::{ColorSpace, Compress};

use super::ImagingError;

/// How much CPU the encoder spends to make the file smaller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Effort {
    /// mozjpeg's defaults: trellis quantisation, optimised Huffman tables, progressive scans.
    /// For the preview, the rendition people view and download at full size.
    Smallest,
    /// libjpeg-turbo's own defaults (baseline, no trellis) with optimised Huffman tables and
    /// full-resolution colour: a
    /// 2048x1536 picture in about 10 ms where `Smallest` takes about 600 and the `image`
    /// crate's encoder about 150 (bench/README.md, "Faces"). For thumbnails and the faces copy.
    Fastest,
}

/// Encodes `image` as a JPEG of `quality` with no metadata at all (no EXIF, no profile).
pub(super) fn encode_rgb(
    image: &RgbImage,
    quality: u8,
    effort: Effort,
) -> Result<Vec<u8>, ImagingError> {
    // The crate's error manager unwinds on libjpeg's fatal errors (built with -fexceptions).
    catch_unwind(AssertUnwindSafe(|| -> std::io::Result<Vec<u8>> {
        let mut compress = Compress::new(ColorSpace::JCS_RGB);
        if effort == Effort::Fastest {
            compress.set_fastest_defaults();
            compress.set_optimize_coding(true);
            // Full-resolution colour, as the `image` crate's encoder wrote it: a 200-px
            // thumbnail has no pixels to spare for 4:2:0's halved chroma (coloured edges and
            // stripes smear), and the faces copy's outlines are one colour on any background.
            compress.set_chroma_sampling_pixel_sizes((1, 1), (1, 1));
        }
        compress.set_size(image.width() as usize, image.height() as usize);
        compress.set_quality(f32::from(quality));
        let mut started = compress.start_compress(Vec::new())?;
        started.write_scanlines(image.as_raw())?;
        started.finish()
    }))
    .map_err(|_| ImagingError::Encode("the JPEG encoder failed".into()))?
    .map_err(|e| ImagingError::Encode(e.to_string()))
}
