//! Decoding, orientation, thumbnails and encoding: the one place image bytes are touched.
//!
//! Every decode goes through [`decode`], which sniffs the format from the bytes (never the
//! extension), refuses images over the pixel limit before allocating them, caps the decoder's
//! allocations, and applies EXIF orientation. [`make_thumbnail`] is the whole thumbnail path,
//! so it can be made faster without touching a handler: it goes through [`decode_scaled`],
//! which decodes JPEGs shrunk on load (libjpeg-turbo DCT scaling, in [`jpeg`]) and everything
//! else as [`decode`] does. [`make_renditions`] makes the thumbnail and the preview from one
//! such decode (at the scale the preview needs), converted to sRGB ([`colour`]), and says
//! whether a GIF or WebP is animated ([`animation`]; the decoders read the first frame only).
//! [`capture`] reads when and with what camera a picture was taken from its Exif, and
//! nothing else of it (never a location).

mod animation;
pub mod capture;
pub mod colour;
pub(crate) mod heif;
mod jpeg;
mod jpeg_encode;
use jpeg_encode::Effort;
mod limits;
#[cfg(test)]
mod location_tests;
mod png_shrink;
#[cfg(test)]
mod renditions_tests;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use limits::{ImageLimits, InvalidLimit};

use std::io::Cursor;

use fast_image_resize::{images::Image as FirImage, FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Limits};

/// Longest side of a thumbnail's bounding box.
pub const THUMBNAIL_BOX: u32 = 200;
/// Longest side of a preview's bounding box: a large laptop screen's width, half a phone's
/// screen at 3x.
pub const PREVIEW_BOX: u32 = 1600;
const JPEG_QUALITY: u8 = 85;
/// The preview's JPEG quality: a screen-sized view, not an archive (the original is one
/// click away); bytes against the originals' in bench/README.md.
const PREVIEW_JPEG_QUALITY: u8 = 80;

/// Why an image was not processed. Every variant is about the input, not the system: retrying
/// does not help.
#[derive(Debug, thiserror::Error)]
pub enum ImagingError {
    #[error("empty file")]
    Empty,
    #[error(
        "not an image in a supported format (JPEG, PNG, GIF, WebP, TIFF, BMP, HEIC/HEIF, AVIF)"
    )]
    UnknownFormat,
    #[error("{width}x{height} pixels is over the limit of {max_pixels} pixels")]
    TooManyPixels {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    #[error(
        "{width}x{height} pixels decode to {bytes} bytes, over the limit of {max_bytes} bytes"
    )]
    TooManyBytes {
        width: u32,
        height: u32,
        bytes: u64,
        max_bytes: u64,
    },
    #[error("truncated {0}: the file ends before the image does")]
    Truncated(&'static str),
    #[error("cannot decode {format}: {source}")]
    Decode {
        format: &'static str,
        source: image::ImageError,
    },
    #[error("cannot encode the result: {0}")]
    Encode(String),
}

/// The kind of an [`ImagingError`], for callers that act on it or record it (tests assert it)
/// without matching on the decoder's own error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageProblem {
    Empty,
    UnknownFormat,
    TooManyPixels,
    TooManyBytes,
    Truncated,
    Undecodable,
    Unencodable,
}

impl ImagingError {
    pub fn problem(&self) -> ImageProblem {
        match self {
            ImagingError::Empty => ImageProblem::Empty,
            ImagingError::UnknownFormat => ImageProblem::UnknownFormat,
            ImagingError::TooManyPixels { .. } => ImageProblem::TooManyPixels,
            ImagingError::TooManyBytes { .. } => ImageProblem::TooManyBytes,
            ImagingError::Truncated(_) => ImageProblem::Truncated,
            ImagingError::Decode { .. } => ImageProblem::Undecodable,
            ImagingError::Encode(_) => ImageProblem::Unencodable,
        }
    }
}

/// Why an upload gets no rendition: it is larger than the function reads, or its bytes are
/// not a usable image. The upload itself is kept either way.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("{size} bytes is over the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    /// `detail` is the decoder's message, for the log.
    #[error("{detail}")]
    Image {
        problem: ImageProblem,
        detail: String,
    },
}

impl From<ImagingError> for Unusable {
    fn from(err: ImagingError) -> Self {
        Unusable::Image {
            problem: err.problem(),
            detail: err.to_string(),
        }
    }
}

/// An original's format, as sniffed from its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFormat {
    /// Decoded by the `image` crate (JPEG by libjpeg-turbo when shrunk on load).
    Image(ImageFormat),
    /// Decoded by libheif ([`heif`]).
    Heif(heif::HeifFormat),
}

impl From<ImageFormat> for SourceFormat {
    fn from(format: ImageFormat) -> Self {
        SourceFormat::Image(format)
    }
}

/// What is known of an original after decoding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OriginalInfo {
    pub format: SourceFormat,
    /// Width and height after EXIF orientation.
    pub width: u32,
    pub height: u32,
    pub has_alpha: bool,
}

impl OriginalInfo {
    pub fn content_type(&self) -> &'static str {
        match self.format {
            SourceFormat::Image(format) => format.to_mime_type(),
            SourceFormat::Heif(format) => format.mime_type(),
        }
    }
}

/// A decoded image, oriented as a person would see it.
pub struct Decoded {
    pub image: DynamicImage,
    pub info: OriginalInfo,
}

/// An encoded image ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// A thumbnail and what was learned of its original on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thumbnail {
    pub encoded: Encoded,
    pub original: OriginalInfo,
}

/// The renditions of an upload, and what was learned of its original on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Renditions {
    pub thumbnail: Encoded,
    pub preview: Encoded,
    pub original: OriginalInfo,
    /// An animated GIF or WebP: the renditions show its first frame.
    pub animated: bool,
}

/// Sniffs the format of `bytes` from their content.
pub fn sniff_format(bytes: &[u8]) -> Option<ImageFormat> {
    let format = image::guess_format(bytes).ok()?;
    matches!(
        format,
        ImageFormat::Jpeg
            | ImageFormat::Png
            | ImageFormat::Gif
            | ImageFormat::WebP
            | ImageFormat::Tiff
            | ImageFormat::Bmp
    )
    .then_some(format)
}

/// Decodes `bytes` within `limits` and applies EXIF orientation.
pub fn decode(bytes: &[u8], limits: &ImageLimits) -> Result<Decoded, ImagingError> {
    if bytes.is_empty() {
        return Err(ImagingError::Empty);
    }
    if let Some(format) = heif::sniff(bytes) {
        return heif::decode(bytes, format, limits);
    }
    let format = sniff_format(bytes).ok_or(ImagingError::UnknownFormat)?;
    let format_name = format.to_mime_type();
    // The JPEG decoder conceals missing data with grey; a half-uploaded photo must not pass.
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(ImagingError::Truncated(format_name));
    }
    // image-webp allocates a metadata chunk (EXIF, read for the orientation) at the size its
    // header claims, up to 4 GB, before reading it: a refused allocation aborts.
    if format == ImageFormat::WebP && !webp_chunks_fit(bytes) {
        return Err(ImagingError::Truncated(format_name));
    }
    let decode_error = |source| ImagingError::Decode {
        format: format_name,
        source,
    };
    let without_profile = (format == ImageFormat::Png)
        .then(|| colour::png_without_unusable_profile(bytes))
        .flatten();
    let bytes = without_profile.as_deref().unwrap_or(bytes);

    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder_limits = Limits::default();
    decoder_limits.max_alloc = Some(limits.max_alloc_bytes());
    reader.limits(decoder_limits);
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    // Headers are checked before any pixel buffer exists: a header claiming 100000x100000
    // costs nothing.
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ImagingError::TooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
        });
    }
    let bytes = decoder.total_bytes();
    if bytes > limits.max_decoded_bytes {
        return Err(ImagingError::TooManyBytes {
            width,
            height,
            bytes,
            max_bytes: limits.max_decoded_bytes,
        });
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    // 8 bits per channel is all a thumbnail, a preview or a detector needs; converting before
    // the orientation's copy keeps the peak at the decoded size plus half of it.
    image = to_8_bit(image);
    image.apply_orientation(orientation);
    let info = OriginalInfo {
        format: format.into(),
        width: image.width(),
        height: image.height(),
        has_alpha: image.color().has_alpha(),
    };
    Ok(Decoded { image, info })
}

/// Width and height after `orientation` (a quarter turn swaps them).
fn oriented_size(width: u32, height: u32, orientation: image::metadata::Orientation) -> (u32, u32) {
    use image::metadata::Orientation::{Rotate270, Rotate270FlipH, Rotate90, Rotate90FlipH};
    match orientation {
        Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH => (height, width),
        _ => (width, height),
    }
}

/// The same picture at 8 bits per channel (alpha kept), the original dropped first if it
/// has to be converted.
fn to_8_bit(image: DynamicImage) -> DynamicImage {
    match image {
        DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_)
        | DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_) => image,
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.into_rgba8()),
        other => DynamicImage::ImageRgb8(other.into_rgb8()),
    }
}

/// Like [`decode`], but a JPEG or a PNG may come out smaller than the original: a JPEG shrunk
/// on load by the largest DCT scale (1/8 to 8/8), a non-interlaced PNG by the largest whole
/// block ([`png_shrink`], streamed row by row), that still leaves each side at least as long
/// as the image fitting `min_box` x `min_box` needs (see [`fit_within`]). `info` describes the
/// original, so `image` may be smaller than `info` says. Other formats are decoded at full
/// size. The same
/// guarantees hold: format sniffed, truncation refused, pixel limit checked on the header,
/// allocations bounded, EXIF orientation applied, errors (never aborts) for corrupt data.
pub fn decode_scaled(
    bytes: &[u8],
    limits: &ImageLimits,
    min_box: u32,
) -> Result<Decoded, ImagingError> {
    if bytes.is_empty() {
        return Err(ImagingError::Empty);
    }
    match sniff_format(bytes) {
        Some(ImageFormat::Jpeg) => {}
        Some(ImageFormat::Png) => {
            return match png_shrink::decode_scaled(bytes, limits, min_box)? {
                Some(decoded) => Ok(decoded),
                None => decode(bytes, limits),
            }
        }
        // Everything else (HEIF and AVIF included) decodes at full size.
        _ => return decode(bytes, limits),
    }
    if !jpeg_is_complete(bytes) {
        return Err(ImagingError::Truncated(ImageFormat::Jpeg.to_mime_type()));
    }
    jpeg::decode_scaled(bytes, limits, min_box)
}

/// Whether a JPEG's entropy-coded data is followed by its end-of-image marker.
///
/// Walks the marker segments up to the first start-of-scan (skipping any embedded EXIF
/// thumbnail, which has its own markers inside APP1), then looks for `FF D9`: byte stuffing
/// guarantees it cannot occur inside scan data, so a file cut short has none.
pub fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut at = 2;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return false;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1;
            continue;
        }
        if marker == 0xD9 {
            return true;
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        if marker == 0xDA {
            let scan = (at + 2 + length).min(bytes.len());
            // From the end: an EOI is nearly always the last two bytes.
            return memchr::memmem::rfind(&bytes[scan..], &[0xFF, 0xD9]).is_some();
        }
        at += 2 + length;
    }
    false
}

/// Whether every chunk of a WebP (RIFF) file ends within the file. A missing pad byte after
/// the last chunk is allowed.
fn webp_chunks_fit(bytes: &[u8]) -> bool {
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let size = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
            as usize;
        let end = at + 8 + size;
        if end > bytes.len() {
            return false;
        }
        at = end + size % 2;
    }
    bytes.len() >= 12
}

/// Size of the largest box with the aspect ratio of `width` x `height` fitting in
/// `max` x `max`, never larger than the original.
pub fn fit_within(width: u32, height: u32, max: u32) -> (u32, u32) {
    if width <= max && height <= max {
        return (width, height);
    }
    let scale = f64::min(
        f64::from(max) / f64::from(width),
        f64::from(max) / f64::from(height),
    );
    let fit = |side: u32| ((f64::from(side) * scale).round() as u32).clamp(1, max);
    (fit(width), fit(height))
}

/// Resizes to fit within `max` x `max` (no upscaling), keeping alpha when there is one.
pub fn resize_to_fit(image: &DynamicImage, max: u32) -> Result<DynamicImage, ImagingError> {
    let (width, height) = fit_within(image.width(), image.height(), max);
    resize_exact(image, width, height)
}

/// The most [`resize_exact`] shrinks a side by with its convolution: a side longer than this
/// many times its target is first brought down to that length by nearest neighbour. Sides of
/// up to 51,200 pixels (256 x the thumbnail's 200) are resized by the convolution alone.
const MAX_CONVOLUTION_SHRINK: u32 = 256;

/// Resizes to exactly `width` x `height` (Lanczos3, 8 bits per channel), keeping alpha when
/// there is one.
pub fn resize_exact(
    image: &DynamicImage,
    width: u32,
    height: u32,
) -> Result<DynamicImage, ImagingError> {
    // 8 bits per channel is all a thumbnail needs, and the resizer's fastest paths are there.
    let source = match image {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => {
            std::borrow::Cow::Borrowed(image)
        }
        _ if image.color().has_alpha() => {
            std::borrow::Cow::Owned(DynamicImage::ImageRgba8(image.to_rgba8()))
        }
        _ => std::borrow::Cow::Owned(DynamicImage::ImageRgb8(image.to_rgb8())),
    };
    if (width, height) == (source.width(), source.height()) {
        return Ok(source.into_owned());
    }
    let pixel_type = if source.color().has_alpha() {
        fast_image_resize::PixelType::U8x4
    } else {
        fast_image_resize::PixelType::U8x3
    };
    let mut target = FirImage::new(width, height, pixel_type);
    let mut resizer = Resizer::new();
    let lanczos = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    let resize_error = |e: fast_image_resize::ResizeError| ImagingError::Encode(e.to_string());
    // A convolution keeps about six weights per source pixel of each side, so a side shrunk
    // by a huge factor is cut down by nearest neighbour first (a 1x100,000,000 PNG of 1.3 MB
    // took 6 GB and 30 s without this).
    let (reduced_width, reduced_height) = (
        source
            .width()
            .min(width.saturating_mul(MAX_CONVOLUTION_SHRINK)),
        source
            .height()
            .min(height.saturating_mul(MAX_CONVOLUTION_SHRINK)),
    );
    if (reduced_width, reduced_height) == (source.width(), source.height()) {
        resizer
            .resize(&*source, &mut target, &lanczos)
            .map_err(resize_error)?;
    } else {
        let mut reduced = FirImage::new(reduced_width, reduced_height, pixel_type);
        let nearest = ResizeOptions::new().resize_alg(ResizeAlg::Nearest);
        resizer
            .resize(&*source, &mut reduced, &nearest)
            .map_err(resize_error)?;
        resizer
            .resize(&reduced, &mut target, &lanczos)
            .map_err(resize_error)?;
    }
    let buffer = target.into_vec();
    let resized = if source.color().has_alpha() {
        image::RgbaImage::from_raw(width, height, buffer).map(DynamicImage::ImageRgba8)
    } else {
        image::RgbImage::from_raw(width, height, buffer).map(DynamicImage::ImageRgb8)
    };
    resized.ok_or_else(|| ImagingError::Encode("resized buffer has the wrong size".into()))
}

/// Encodes as PNG when the image has alpha (to keep it), else as JPEG (libjpeg-turbo's fast
/// settings: [`Effort::Fastest`]). Nothing of the
/// original's metadata (EXIF, location, profile) is written: the pixels are sRGB, which is
/// what an untagged image is.
pub fn encode(image: &DynamicImage) -> Result<Encoded, ImagingError> {
    let mut bytes = Vec::new();
    let (width, height) = (image.width(), image.height());
    let content_type = if image.color().has_alpha() {
        let rgba = image.to_rgba8();
        PngEncoder::new(&mut bytes)
            .write_image(&rgba, width, height, image::ExtendedColorType::Rgba8)
            .map_err(|e| ImagingError::Encode(e.to_string()))?;
        "image/png"
    } else {
        bytes = jpeg_encode::encode_rgb(&image.to_rgb8(), JPEG_QUALITY, Effort::Fastest)?;
        "image/jpeg"
    };
    Ok(Encoded {
        bytes,
        content_type,
        width,
        height,
    })
}

/// The whole thumbnail path: bytes of an original in, an encoded thumbnail fitting
/// [`THUMBNAIL_BOX`] out. The size is computed from the original's, so shrink-on-load
/// rounding never changes it.
pub fn make_thumbnail(bytes: &[u8], limits: &ImageLimits) -> Result<Thumbnail, ImagingError> {
    make_thumbnail_sized(bytes, limits, THUMBNAIL_BOX)
}

/// [`make_thumbnail`] fitting `size` x `size` (the `thumbnail` command's `--size`).
pub fn make_thumbnail_sized(
    bytes: &[u8],
    limits: &ImageLimits,
    size: u32,
) -> Result<Thumbnail, ImagingError> {
    let decoded = decode_scaled(bytes, limits, size)?;
    let (width, height) = fit_within(decoded.info.width, decoded.info.height, size);
    let mut resized = resize_exact(&decoded.image, width, height)?;
    drop(decoded.image);
    convert_to_srgb(bytes, decoded.info.format, &mut resized);
    Ok(Thumbnail {
        encoded: encode(&resized)?,
        original: decoded.info,
    })
}

/// The thumbnail (fitting [`THUMBNAIL_BOX`]) and the preview (fitting [`PREVIEW_BOX`]) of an
/// original, from one decode: shrunk on load to what the preview needs, resized to the
/// preview, converted to sRGB, and the preview resized to the thumbnail. Neither is ever
/// larger than the original, and both sizes are computed from the original's.
pub fn make_renditions(bytes: &[u8], limits: &ImageLimits) -> Result<Renditions, ImagingError> {
    let decoded = match decode_scaled(bytes, limits, PREVIEW_BOX) {
        // A JPEG whose whole-image buffers (progressive, 64 MP, CMYK) leave no room within the
        // decoder's allowance for a preview-sized output still gets its thumbnail, and a
        // preview as large as the thumbnail's decode scale gives (never upscaled).
        Err(ImagingError::Decode {
            source: image::ImageError::Limits(_),
            ..
        }) => {
            tracing::warn!("no room for a preview-sized decode: the preview is what the thumbnail's decode gives");
            decode_scaled(bytes, limits, THUMBNAIL_BOX)?
        }
        other => other?,
    };
    let original = decoded.info;
    let decoded_side = decoded.image.width().max(decoded.image.height());
    let (width, height) = fit_within(
        original.width,
        original.height,
        PREVIEW_BOX.min(decoded_side),
    );
    let mut preview = resize_exact(&decoded.image, width, height)?;
    drop(decoded.image);
    convert_to_srgb(bytes, original.format, &mut preview);
    let (width, height) = fit_within(original.width, original.height, THUMBNAIL_BOX);
    let thumbnail = resize_exact(&preview, width, height)?;
    Ok(Renditions {
        thumbnail: encode(&thumbnail)?,
        preview: encode_preview(&preview)?,
        original,
        animated: matches!(original.format, SourceFormat::Image(format) if animation::is_animated(bytes, format)),
    })
}

/// The preview: PNG when it has alpha (as [`encode`]), else a JPEG from mozjpeg's encoder,
/// smaller than [`encode`]'s at the same quality, which matters for the one rendition people
/// download at full size.
fn encode_preview(image: &DynamicImage) -> Result<Encoded, ImagingError> {
    if image.color().has_alpha() {
        return encode(image);
    }
    let (width, height) = (image.width(), image.height());
    let bytes = jpeg_encode::encode_rgb(&image.to_rgb8(), PREVIEW_JPEG_QUALITY, Effort::Smallest)?;
    Ok(Encoded {
        bytes,
        content_type: "image/jpeg",
        width,
        height,
    })
}

/// Converts a rendition of `bytes` to sRGB when the original embeds another profile.
fn convert_to_srgb(bytes: &[u8], format: SourceFormat, image: &mut DynamicImage) {
    // HEIF colour profiles (`colr` boxes) are not read yet: libheif hands back the pixels as coded.
    let SourceFormat::Image(format) = format else {
        return;
    };
    if let Some(profile) = colour::embedded_profile(bytes, format) {
        colour::to_srgb(image, &profile);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::jpeg::JpegEncoder;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    fn png_bytes(image: &DynamicImage) -> Vec<u8> {
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    fn jpeg_with_orientation(width: u32, height: u32, orientation: u16) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, _| {
            if x < width / 2 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        });
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, 90)
            .write_image(&image, width, height, image::ExtendedColorType::Rgb8)
            .unwrap();
        crate::testing::insert_exif_orientation(&jpeg, orientation)
    }

    #[test]
    fn jpeg_completeness_skips_an_embedded_thumbnail() {
        let inner = jpeg_with_orientation(16, 16, 1);
        let outer = jpeg_with_orientation(300, 200, 1);
        // An APP1 segment carrying a whole JPEG (with its own EOI), as EXIF thumbnails do.
        let mut with_thumbnail = vec![0xFF, 0xD8, 0xFF, 0xE1];
        with_thumbnail.extend_from_slice(&((inner.len() + 2) as u16).to_be_bytes());
        with_thumbnail.extend_from_slice(&inner);
        with_thumbnail.extend_from_slice(&outer[2..]);
        assert!(jpeg_is_complete(&outer));
        assert!(jpeg_is_complete(&with_thumbnail));
        assert!(!jpeg_is_complete(
            &with_thumbnail[..with_thumbnail.len() - 100]
        ));
        // Trailing bytes after EOI (some cameras append data) are fine.
        let mut trailer = outer.clone();
        trailer.extend_from_slice(b"SEFT trailer");
        assert!(jpeg_is_complete(&trailer));
    }

    #[test]
    fn fits_without_upscaling() {
        assert_eq!(fit_within(4000, 3000, 200), (200, 150));
        assert_eq!(fit_within(3000, 4000, 200), (150, 200));
        assert_eq!(fit_within(100, 50, 200), (100, 50));
        assert_eq!(fit_within(10000, 1, 200), (200, 1));
        assert_eq!(fit_within(201, 200, 200), (200, 199));
    }

    #[test]
    fn jpeg_thumbnail_is_jpeg_and_fits() {
        let thumb =
            make_thumbnail(&jpeg_with_orientation(800, 600, 1), &ImageLimits::default()).unwrap();
        assert_eq!(thumb.encoded.content_type, "image/jpeg");
        assert_eq!((thumb.encoded.width, thumb.encoded.height), (200, 150));
        assert_eq!((thumb.original.width, thumb.original.height), (800, 600));
        assert_eq!(sniff_format(&thumb.encoded.bytes), Some(ImageFormat::Jpeg));
        let decoded = image::load_from_memory(&thumb.encoded.bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (200, 150));
    }

    /// A 100x200 thumbnail of [`jpeg_with_orientation`] turned upright by orientation 6:
    /// the left (red) half of the stored pixels is now on top.
    fn assert_red_on_top(thumbnail: &[u8]) {
        let decoded = image::load_from_memory(thumbnail).unwrap().to_rgb8();
        let top = decoded.get_pixel(50, 20);
        let bottom = decoded.get_pixel(50, 180);
        assert!(top[0] > 200 && top[2] < 60, "top {top:?}");
        assert!(bottom[2] > 200 && bottom[0] < 60, "bottom {bottom:?}");
    }

    #[test]
    fn exif_orientation_6_rotates_before_resizing() {
        let thumb =
            make_thumbnail(&jpeg_with_orientation(800, 400, 6), &ImageLimits::default()).unwrap();
        assert_eq!((thumb.original.width, thumb.original.height), (400, 800));
        assert_eq!((thumb.encoded.width, thumb.encoded.height), (100, 200));
        assert_red_on_top(&thumb.encoded.bytes);
    }

    #[test]
    fn alpha_is_kept_as_png() {
        let image = DynamicImage::ImageRgba8(RgbaImage::from_fn(400, 400, |x, _| {
            Rgba([0, 128, 0, (x % 256) as u8])
        }));
        let thumb = make_thumbnail(&png_bytes(&image), &ImageLimits::default()).unwrap();
        assert_eq!(thumb.encoded.content_type, "image/png");
        assert!(thumb.original.has_alpha);
        let decoded = image::load_from_memory(&thumb.encoded.bytes).unwrap();
        assert!(decoded.color().has_alpha());
        assert_eq!((decoded.width(), decoded.height()), (200, 200));
    }

    #[test]
    fn small_images_are_not_upscaled() {
        let image = DynamicImage::ImageRgb8(RgbImage::new(30, 20));
        let thumb = make_thumbnail(&png_bytes(&image), &ImageLimits::default()).unwrap();
        assert_eq!((thumb.encoded.width, thumb.encoded.height), (30, 20));
    }

    #[test]
    fn every_supported_format_is_sniffed_and_decoded() {
        let image = DynamicImage::ImageRgb8(RgbImage::from_fn(300, 100, |x, y| {
            Rgb([x as u8, y as u8, 7])
        }));
        for format in [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Gif,
            ImageFormat::WebP,
            ImageFormat::Tiff,
            ImageFormat::Bmp,
        ] {
            let mut bytes = Vec::new();
            let source = if format == ImageFormat::Gif {
                DynamicImage::ImageRgba8(image.to_rgba8())
            } else {
                image.clone()
            };
            source
                .write_to(&mut Cursor::new(&mut bytes), format)
                .unwrap();
            let thumb = make_thumbnail(&bytes, &ImageLimits::default())
                .unwrap_or_else(|e| panic!("{format:?}: {e}"));
            assert_eq!(thumb.original.format, SourceFormat::Image(format));
            assert_eq!(
                (thumb.encoded.width, thumb.encoded.height),
                (200, 67),
                "{format:?}"
            );
        }
    }

    fn rgb_jpeg(image: &RgbImage) -> Vec<u8> {
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, 90)
            .write_image(
                image,
                image.width(),
                image.height(),
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        jpeg
    }

    /// A JPEG written by libjpeg itself, in `color_space` (`pixels` in that space's layout).
    fn libjpeg_jpeg(
        color_space: mozjpeg::ColorSpace,
        width: usize,
        height: usize,
        pixels: &[u8],
        progressive: bool,
    ) -> Vec<u8> {
        let mut compress = mozjpeg::Compress::new(color_space);
        compress.set_size(width, height);
        compress.set_quality(95.0);
        if progressive {
            compress.set_progressive_mode();
        }
        let mut started = compress.start_compress(Vec::new()).unwrap();
        started.write_scanlines(pixels).unwrap();
        started.finish().unwrap()
    }

    fn mean_abs_difference(a: &RgbImage, b: &RgbImage) -> f64 {
        assert_eq!(a.dimensions(), b.dimensions());
        let sum: u64 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(&x, &y)| u64::from(x.abs_diff(y)))
            .sum();
        sum as f64 / a.as_raw().len() as f64
    }

    #[test]
    fn shrink_on_load_never_goes_below_the_thumbnail() {
        assert_eq!(jpeg::scale_numerator(3840, 2400, 200), 1); // 480x300 for 200x125
        assert_eq!(jpeg::scale_numerator(800, 600, 200), 2); // 200x150 exactly
        assert_eq!(jpeg::scale_numerator(1599, 1200, 200), 1); // libjpeg rounds up: 200x150
        assert_eq!(jpeg::scaled_side(1599, 1), 200);
        assert_eq!(jpeg::scale_numerator(1500, 1000, 200), 2); // 1/8 is 188 wide, short of 200
        assert_eq!(jpeg::scale_numerator(201, 200, 200), 8);
        assert_eq!(jpeg::scale_numerator(100, 50, 200), 8); // smaller than the box: full size
        assert_eq!(jpeg::scale_numerator(10_000, 1, 200), 1);
    }

    proptest::proptest! {
        #[test]
        fn shrink_on_load_is_the_smallest_that_covers(width in 1u32..20_000, height in 1u32..20_000) {
            let n = jpeg::scale_numerator(width, height, THUMBNAIL_BOX);
            let (tw, th) = fit_within(width, height, THUMBNAIL_BOX);
            proptest::prop_assert!((1..=8).contains(&n));
            proptest::prop_assert!(jpeg::scaled_side(width, n) >= tw && jpeg::scaled_side(height, n) >= th);
            if n > 1 {
                proptest::prop_assert!(jpeg::scaled_side(width, n - 1) < tw || jpeg::scaled_side(height, n - 1) < th);
            }
        }
    }

    #[test]
    fn jpeg_is_shrunk_on_load_and_thumbnail_size_comes_from_the_original() {
        let limits = ImageLimits::default();
        // Odd sizes: libjpeg rounds scaled sides up, the thumbnail must not depend on that.
        for (width, height) in [
            (1601, 1203),
            (3000, 2000),
            (803, 97),
            (640, 480),
            (150, 120),
        ] {
            let image = RgbImage::from_fn(width, height, |x, y| {
                Rgb([(x % 256) as u8, (y % 256) as u8, 90])
            });
            let bytes = rgb_jpeg(&image);
            let decoded = decode_scaled(&bytes, &limits, THUMBNAIL_BOX).unwrap();
            let n = jpeg::scale_numerator(width, height, THUMBNAIL_BOX);
            assert_eq!((decoded.info.width, decoded.info.height), (width, height));
            assert_eq!(
                (decoded.image.width(), decoded.image.height()),
                (jpeg::scaled_side(width, n), jpeg::scaled_side(height, n)),
                "{width}x{height} at {n}/8"
            );
            let thumb = make_thumbnail(&bytes, &limits).unwrap();
            assert_eq!(
                (thumb.original.width, thumb.original.height),
                (width, height)
            );
            assert_eq!(
                (thumb.encoded.width, thumb.encoded.height),
                fit_within(width, height, THUMBNAIL_BOX)
            );
            let encoded = image::load_from_memory(&thumb.encoded.bytes).unwrap();
            assert_eq!(
                (encoded.width(), encoded.height()),
                fit_within(width, height, THUMBNAIL_BOX)
            );
        }
    }

    #[test]
    fn shrunk_thumbnail_looks_like_the_full_size_one() {
        // A smooth picture with some detail: the old path (full decode + Lanczos) and the new
        // one must agree closely.
        let image = RgbImage::from_fn(2400, 1600, |x, y| {
            Rgb([
                (x / 10 % 256) as u8,
                (y / 7 % 256) as u8,
                (((x + y) / 16) % 2 * 200) as u8,
            ])
        });
        let bytes = rgb_jpeg(&image);
        let new = make_thumbnail(&bytes, &ImageLimits::default()).unwrap();
        let old = resize_to_fit(
            &decode(&bytes, &ImageLimits::default()).unwrap().image,
            THUMBNAIL_BOX,
        )
        .unwrap();
        let new = image::load_from_memory(&new.encoded.bytes)
            .unwrap()
            .to_rgb8();
        let difference = mean_abs_difference(&new, &old.to_rgb8());
        assert!(difference < 8.0, "mean difference {difference}");
    }

    #[test]
    fn exif_orientation_6_with_shrink_on_load() {
        let bytes = jpeg_with_orientation(1600, 800, 6);
        let decoded = decode_scaled(&bytes, &ImageLimits::default(), THUMBNAIL_BOX).unwrap();
        // Shrunk 1/8 (200x100), then rotated; info is the original, rotated.
        assert_eq!((decoded.image.width(), decoded.image.height()), (100, 200));
        assert_eq!((decoded.info.width, decoded.info.height), (800, 1600));
        let thumb = make_thumbnail(&bytes, &ImageLimits::default()).unwrap();
        assert_eq!((thumb.encoded.width, thumb.encoded.height), (100, 200));
        assert_red_on_top(&thumb.encoded.bytes);
        // Every orientation gives the size the full decode gives.
        for orientation in 1..=8 {
            let bytes = jpeg_with_orientation(1000, 500, orientation);
            let thumb = make_thumbnail(&bytes, &ImageLimits::default()).unwrap();
            let full = decode(&bytes, &ImageLimits::default()).unwrap();
            assert_eq!(
                (thumb.original.width, thumb.original.height),
                (full.info.width, full.info.height)
            );
            assert_eq!(
                (thumb.encoded.width, thumb.encoded.height),
                fit_within(full.info.width, full.info.height, THUMBNAIL_BOX)
            );
        }
    }

    #[test]
    fn grayscale_jpeg_becomes_an_rgb_thumbnail() {
        let gray = image::GrayImage::from_fn(900, 600, |x, _| {
            image::Luma([if x < 450 { 40 } else { 220 }])
        });
        let mut bytes = Vec::new();
        JpegEncoder::new_with_quality(&mut bytes, 90)
            .write_image(&gray, 900, 600, image::ExtendedColorType::L8)
            .unwrap();
        let thumb = make_thumbnail(&bytes, &ImageLimits::default()).unwrap();
        assert_eq!(thumb.encoded.content_type, "image/jpeg");
        assert_eq!((thumb.encoded.width, thumb.encoded.height), (200, 133));
        let decoded = image::load_from_memory(&thumb.encoded.bytes)
            .unwrap()
            .to_rgb8();
        let (left, right) = (decoded.get_pixel(20, 60), decoded.get_pixel(180, 60));
        assert!(left.0.iter().all(|&v| v.abs_diff(40) < 10), "left {left:?}");
        assert!(
            right.0.iter().all(|&v| v.abs_diff(220) < 10),
            "right {right:?}"
        );
    }

    #[test]
    fn cmyk_jpeg_becomes_rgb_as_the_full_decoder_does() {
        // Adobe-style (inverted) CMYK, as libjpeg writes it: left half red, right half blue.
        let (width, height) = (640, 480);
        let mut pixels = Vec::with_capacity(width * height * 4);
        for _ in 0..height {
            for x in 0..width {
                pixels.extend_from_slice(if x < width / 2 {
                    &[255, 0, 0, 255]
                } else {
                    &[0, 0, 255, 255]
                });
            }
        }
        let bytes = libjpeg_jpeg(mozjpeg::ColorSpace::JCS_CMYK, width, height, &pixels, false);
        let thumb = make_thumbnail(&bytes, &ImageLimits::default()).unwrap();
        assert_eq!((thumb.encoded.width, thumb.encoded.height), (200, 150));
        let decoded = image::load_from_memory(&thumb.encoded.bytes)
            .unwrap()
            .to_rgb8();
        let (left, right) = (decoded.get_pixel(30, 75), decoded.get_pixel(170, 75));
        assert!(
            left[0] > 200 && left[1] < 50 && left[2] < 50,
            "left {left:?}"
        );
        assert!(
            right[2] > 200 && right[0] < 50 && right[1] < 50,
            "right {right:?}"
        );
        // Same colours as the image crate's decoder at full size.
        let ours = decode_scaled(&bytes, &ImageLimits::default(), u32::MAX)
            .unwrap()
            .image
            .to_rgb8();
        let theirs = decode(&bytes, &ImageLimits::default())
            .unwrap()
            .image
            .to_rgb8();
        let difference = mean_abs_difference(&ours, &theirs);
        assert!(difference < 3.0, "mean difference {difference}");
    }

    #[test]
    fn progressive_jpeg_is_shrunk_too() {
        let image = RgbImage::from_fn(1200, 800, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, 30])
        });
        let bytes = libjpeg_jpeg(
            mozjpeg::ColorSpace::JCS_RGB,
            1200,
            800,
            image.as_raw(),
            true,
        );
        let decoded = decode_scaled(&bytes, &ImageLimits::default(), THUMBNAIL_BOX).unwrap();
        assert_eq!((decoded.image.width(), decoded.image.height()), (300, 200));
        let thumb = make_thumbnail(&bytes, &ImageLimits::default()).unwrap();
        assert_eq!((thumb.encoded.width, thumb.encoded.height), (200, 133));
        assert!(matches!(
            make_thumbnail(&bytes[..bytes.len() / 2], &ImageLimits::default()),
            Err(ImagingError::Truncated(_))
        ));
    }

    #[test]
    fn libjpeg_decodes_a_progressive_jpeg_without_its_unused_ac_scans_to_the_same_pixels() {
        // Busy content, so that the AC scans carry most of the file.
        let image = RgbImage::from_fn(1600, 1200, |x, y| {
            let noise = x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503);
            Rgb([
                ((x / 7 + noise % 17) % 256) as u8,
                ((y / 5 + noise % 23) % 256) as u8,
                ((x + y) / 9 % 256) as u8,
            ])
        });
        let bytes = libjpeg_jpeg(
            mozjpeg::ColorSpace::JCS_RGB,
            1600,
            1200,
            image.as_raw(),
            true,
        );
        assert_eq!(jpeg::scale_numerator(1600, 1200, THUMBNAIL_BOX), 1);
        let one_by_one = jpeg::one_by_one_components(&bytes).unwrap();
        assert_eq!(one_by_one.len(), 1, "4:2:0: only the luma is decoded 1x1");
        let luma_dc_only = jpeg::without_unused_ac_scans(&bytes, &one_by_one);
        assert!(
            luma_dc_only.len() * 2 < bytes.len(),
            "{} of {} bytes kept",
            luma_dc_only.len(),
            bytes.len()
        );
        assert!(jpeg::scan_count(&luma_dc_only, 100) < jpeg::scan_count(&bytes, 100));

        // What the fallback for the files the DC decoder leaves to libjpeg (CMYK, YCCK) does:
        // libjpeg on the file without those AC scans, block smoothing off, gives the pixels
        // of libjpeg on the whole file at 1/8 with its defaults.
        let one_eighth = |bytes: &[u8], smoothing: bool| -> Vec<u8> {
            let mut decompress = mozjpeg::Decompress::new_mem(bytes).unwrap();
            decompress.do_block_smoothing(smoothing);
            decompress.scale(1);
            let mut started = decompress.rgb().unwrap();
            assert_eq!((started.width(), started.height()), (200, 150));
            let pixels: Vec<u8> = started.read_scanlines().unwrap();
            started.finish().unwrap();
            pixels
        };
        assert!(
            one_eighth(&luma_dc_only, false) == one_eighth(&bytes, true),
            "pixels differ from the full decode"
        );
    }

    #[test]
    fn a_baseline_jpeg_keeps_every_segment_through_the_segment_walker() {
        let bytes = rgb_jpeg(&RgbImage::from_fn(64, 48, |x, y| {
            Rgb([x as u8, y as u8, 7])
        }));
        let walked: usize = jpeg::segments(&bytes).map(|(_, range)| range.len()).sum();
        assert_eq!(walked + 2, bytes.len());
        assert_eq!(jpeg::scan_count(&bytes, 100), 1);
    }

    #[test]
    fn corrupt_jpeg_is_an_error_not_a_crash() {
        let limits = ImageLimits::default();
        let jpeg = rgb_jpeg(&RgbImage::from_fn(640, 480, |x, y| {
            Rgb([x as u8, y as u8, (x ^ y) as u8])
        }));
        let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();

        // Cut short, then given an end-of-image marker so the completeness check passes:
        // libjpeg's "premature end of data segment" warning must become an error.
        let mut cut = jpeg[..sos + (jpeg.len() - sos) / 2].to_vec();
        cut.extend_from_slice(&[0xFF, 0xD9]);
        assert!(jpeg_is_complete(&cut));
        let err = make_thumbnail(&cut, &limits).unwrap_err();
        assert!(matches!(err, ImagingError::Decode { .. }), "{err}");

        // A header libjpeg refuses (zero height): a libjpeg fatal error, caught.
        let mut empty = jpeg.clone();
        empty[sof + 5..sof + 7].copy_from_slice(&[0, 0]);
        let err = make_thumbnail(&empty, &limits).unwrap_err();
        assert!(matches!(err, ImagingError::Decode { .. }), "{err}");

        // A bad Huffman table.
        let dht = jpeg.windows(2).position(|w| w == [0xFF, 0xC4]).unwrap();
        let mut bad_table = jpeg.clone();
        bad_table[dht + 5..dht + 21].fill(0xFF);
        assert!(make_thumbnail(&bad_table, &limits).is_err());

        // A header claiming 60000x60000: refused before anything is allocated.
        let mut huge = jpeg.clone();
        huge[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
        let err = make_thumbnail(&huge, &limits).unwrap_err();
        assert!(
            matches!(
                err,
                ImagingError::TooManyPixels {
                    width: 60_000,
                    height: 60_000,
                    ..
                }
            ),
            "{err}"
        );

        // Damage anywhere: an error or a (garbled) thumbnail, never a panic or an abort.
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..300 {
            let mut damaged = jpeg.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = 2 + (seed as usize) % (damaged.len() - 4);
                damaged[at] = (seed >> 32) as u8;
            }
            let _ = make_thumbnail(&damaged, &limits);
        }
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let limits = ImageLimits::default();
        assert!(matches!(
            make_thumbnail(b"", &limits),
            Err(ImagingError::Empty)
        ));
        assert!(matches!(
            make_thumbnail(b"hello, I am text", &limits),
            Err(ImagingError::UnknownFormat)
        ));
        let jpeg = jpeg_with_orientation(64, 64, 1);
        assert!(matches!(
            make_thumbnail(&jpeg[..jpeg.len() / 3], &limits),
            Err(ImagingError::Truncated(_))
        ));
        assert!(matches!(
            make_thumbnail(&jpeg[..jpeg.len() - 2], &limits),
            Err(ImagingError::Truncated(_))
        ));
        let bomb = crate::testing::png_header_claiming(100_000, 100_000);
        let err = make_thumbnail(&bomb, &limits).unwrap_err();
        assert!(
            matches!(
                err,
                ImagingError::TooManyPixels {
                    width: 100_000,
                    height: 100_000,
                    ..
                }
            ),
            "{err}"
        );
    }
}
