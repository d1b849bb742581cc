//! PNG shrink-on-load: rows straight from the png crate into a box filter, so a PNG of any
//! size within the pixel limit gets its renditions in bounded memory.
//!
//! A full decode holds every pixel: 512 MB for an 8000x8000 16-bit RGBA scan, which the
//! decoded-size limit refuses. Here the decoder hands over one row at a time (converted to 8
//! bits per sample, palettes and transparency expanded: `Transformations::normalize_to_color8`),
//! each row is added into one output row of sums, and every `factor.y` rows the sums become a
//! row of the shrunk image: the mean of each `factor.x` x `factor.y` block, which is what
//! libvips' `shrink` does before its final resize. Memory is the shrunk image, one row of sums and the
//! decoder's own row buffers, whatever the original's size. Each axis's factor is the largest
//! that still leaves that side at least as long as the rendition fitting `min_box` needs, so
//! the resize that follows only ever reduces; one per axis, so a 1 x 100,000,000 strip
//! shrinks along its length rather than staying whole.
//!
//! Interlaced (Adam7) files send their pixels in seven passes over the whole image, so no
//! block is complete before the last pass: they take the full decode ([`super::decode`]), as
//! do rows so wide that the decoder's own row buffers would pass the memory limits.

use std::io::Cursor;

use image::error::{DecodingError, ImageFormatHint, LimitError, LimitErrorKind};
use image::metadata::Orientation;
use image::{DynamicImage, ImageBuffer, ImageError, ImageFormat};
use png::{ColorType, Transformations};

use super::{fit_within, oriented_size, Decoded, ImagingError, OriginalInfo};
use crate::ImageLimits;

const FORMAT_NAME: &str = "image/png";

/// The PNG in `bytes` shrunk by whole blocks to just over what a rendition fitting `min_box`
/// needs, oriented; `info` describes the original. `None` for an interlaced file, which this
/// cannot stream.
pub(super) fn decode_scaled(
    bytes: &[u8],
    limits: &ImageLimits,
    min_box: u32,
) -> Result<Option<Decoded>, ImagingError> {
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: usize::try_from(limits.max_alloc_bytes()).unwrap_or(usize::MAX),
        },
    );
    decoder.set_transformations(Transformations::normalize_to_color8());
    // The profile is read from the original by `colour` after resizing; the decoder would
    // only inflate it (up to its allocation limit) to hand it back.
    decoder.set_ignore_iccp_chunk(true);
    decoder.set_ignore_text_chunk(true);
    let mut reader = decoder.read_info().map_err(decode_error)?;
    let info = reader.info();
    let (width, height) = (info.width, info.height);
    // The png crate keeps the previous and the current raw row (and our row one more, at 8
    // bits): a 100,000,000 x 1 RGBA 16-bit strip would hold gigabytes of rows. Past a quarter
    // of the decoded-size limit the full decode and its limit decide.
    let raw_row = u64::try_from(info.raw_row_length()).unwrap_or(u64::MAX);
    if info.interlaced || raw_row.saturating_mul(4) > limits.max_decoded_bytes {
        return Ok(None);
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ImagingError::TooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
        });
    }
    let orientation = info
        .exif_metadata
        .as_deref()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    let (color, _) = reader.output_color_type();
    let channels = color.samples();
    let factor = shrink_factor(width, height, min_box);
    let shrunk = Shrunk::new(width, height, factor, channels);
    let pixels = shrunk.rows_from(|row| match reader.read_row(row) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ImagingError::Truncated(FORMAT_NAME)),
        Err(err) => Err(decode_error(err)),
    })?;
    let (out_width, out_height) = (shrunk.width, shrunk.height);
    let mut image = to_image(color, out_width, out_height, pixels)?;
    image.apply_orientation(orientation);
    let (width, height) = oriented_size(width, height, orientation);
    Ok(Some(Decoded {
        info: OriginalInfo {
            format: ImageFormat::Png.into(),
            width,
            height,
            has_alpha: image.color().has_alpha(),
        },
        image,
    }))
}

/// How many source pixels make one shrunk pixel, across and down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Factor {
    x: u32,
    y: u32,
}

/// On each axis, the largest whole factor that leaves that side at least as long as the image
/// fitting `min_box` x `min_box` needs. Orientation only swaps axes, and [`fit_within`] is
/// symmetric in them, so this holds after rotating too.
fn shrink_factor(width: u32, height: u32, min_box: u32) -> Factor {
    let (target_width, target_height) = fit_within(width, height, min_box.max(1));
    // Shrinking rounds up (a partial block at an edge is a pixel of its own), so a factor
    // never leaves a side shorter than its target.
    let along = |side: u32, target: u32| (side / target.max(1)).clamp(1, MAX_FACTOR);
    Factor {
        x: along(width, target_width),
        y: along(height, target_height),
    }
}

/// The largest factor on an axis: a block's sum, 256 x 256 x 255, fits a `u32`. A larger one
/// would only matter for renditions of a few pixels.
const MAX_FACTOR: u32 = 256;

/// The geometry of a shrink: `factor.x` x `factor.y` blocks of a `source_width` x
/// `source_height` image with `channels` samples per pixel, and the size it comes out at.
struct Shrunk {
    source_width: u32,
    source_height: u32,
    factor: Factor,
    channels: usize,
    width: u32,
    height: u32,
}

impl Shrunk {
    fn new(source_width: u32, source_height: u32, factor: Factor, channels: usize) -> Shrunk {
        Shrunk {
            source_width,
            source_height,
            factor,
            channels,
            width: source_width.div_ceil(factor.x),
            height: source_height.div_ceil(factor.y),
        }
    }

    /// The shrunk image's samples, from the source's rows in order (`next_row` fills each,
    /// `source_width * channels` samples long).
    fn rows_from(
        &self,
        mut next_row: impl FnMut(&mut [u8]) -> Result<(), ImagingError>,
    ) -> Result<Vec<u8>, ImagingError> {
        let channels = self.channels;
        let block = self.factor.x as usize * channels;
        let out_row_len = self.width as usize * channels;
        let mut out = Vec::with_capacity(out_row_len * self.height as usize);
        let mut sums = vec![0u32; out_row_len];
        let mut row = vec![0u8; self.source_width as usize * channels];
        for y in 0..self.source_height {
            next_row(&mut row)?;
            if self.factor == (Factor { x: 1, y: 1 }) {
                out.extend_from_slice(&row);
                continue;
            }
            match channels {
                1 => add_row::<1>(&mut sums, &row, block),
                2 => add_row::<2>(&mut sums, &row, block),
                3 => add_row::<3>(&mut sums, &row, block),
                _ => add_row::<4>(&mut sums, &row, block),
            }
            let rows_in_block = (y % self.factor.y) + 1;
            if rows_in_block == self.factor.y || y + 1 == self.source_height {
                self.emit(&mut sums, rows_in_block, &mut out);
            }
        }
        Ok(out)
    }

    /// Appends the means of a row of blocks `rows` high, and clears the sums.
    fn emit(&self, sums: &mut [u32], rows: u32, out: &mut Vec<u8>) {
        let full_columns = self.source_width / self.factor.x;
        let last_columns = self.source_width - full_columns * self.factor.x;
        for (x, sum) in sums.chunks_exact_mut(self.channels).enumerate() {
            let columns = if (x as u32) < full_columns {
                self.factor.x
            } else {
                last_columns
            };
            let count = columns * rows;
            for total in sum {
                out.push(((*total + count / 2) / count) as u8);
                *total = 0;
            }
        }
    }
}

/// Adds each block of `block` samples of `row` into its pixel's `C` sums (one function per
/// channel count, so the inner loops have fixed lengths).
fn add_row<const C: usize>(sums: &mut [u32], row: &[u8], block: usize) {
    for (sum, pixels) in sums.chunks_exact_mut(C).zip(row.chunks(block)) {
        let mut block_sum = [0u32; C];
        for pixel in pixels.chunks_exact(C) {
            for c in 0..C {
                block_sum[c] += u32::from(pixel[c]);
            }
        }
        for c in 0..C {
            sum[c] += block_sum[c];
        }
    }
}

fn to_image(
    color: ColorType,
    width: u32,
    height: u32,
    pixels: Vec<u8>,
) -> Result<DynamicImage, ImagingError> {
    let wrong_size = || ImagingError::Decode {
        format: FORMAT_NAME,
        source: ImageError::Decoding(DecodingError::new(
            ImageFormatHint::Exact(ImageFormat::Png),
            "the decoder gave an unexpected sample layout",
        )),
    };
    Ok(match color {
        ColorType::Grayscale => DynamicImage::ImageLuma8(
            ImageBuffer::from_raw(width, height, pixels).ok_or_else(wrong_size)?,
        ),
        ColorType::GrayscaleAlpha => DynamicImage::ImageLumaA8(
            ImageBuffer::from_raw(width, height, pixels).ok_or_else(wrong_size)?,
        ),
        ColorType::Rgb => DynamicImage::ImageRgb8(
            ImageBuffer::from_raw(width, height, pixels).ok_or_else(wrong_size)?,
        ),
        ColorType::Rgba => DynamicImage::ImageRgba8(
            ImageBuffer::from_raw(width, height, pixels).ok_or_else(wrong_size)?,
        ),
        // `EXPAND` turns a palette into RGB or RGBA samples.
        ColorType::Indexed => return Err(wrong_size()),
    })
}

fn decode_error(err: png::DecodingError) -> ImagingError {
    let source = match err {
        png::DecodingError::LimitsExceeded => {
            ImageError::Limits(LimitError::from_kind(LimitErrorKind::InsufficientMemory))
        }
        png::DecodingError::IoError(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
            return ImagingError::Truncated(FORMAT_NAME)
        }
        other => ImageError::Decoding(DecodingError::new(
            ImageFormatHint::Exact(ImageFormat::Png),
            other,
        )),
    };
    ImagingError::Decode {
        format: FORMAT_NAME,
        source,
    }
}

#[cfg(test)]
#[path = "png_shrink_tests.rs"]
mod tests;
