//! HEIC/HEIF and AVIF: sniffed from the `ftyp` brands, decoded by libheif (Debian 12's 1.15,
//! with libde265 for HEVC and dav1d for AV1), which also assembles grid (tiled) images and
//! applies the container's transformations (`clap`, `irot`, `imir`).
//!
//! Orientation is applied exactly once, by libheif: MIAF (ISO/IEC 23000-22:2024, 7.3.10.1)
//! says Exif transformations in these files "shall be ignored by a MIAF renderer", and libheif
//! applies `irot`/`imir` unless told not to (`heif_decoding_options.ignore_transformations`,
//! default false, libheif/heif.h). Phones write both (an iPhone HEIC carries `irot` and an
//! Exif orientation that says the same thing), so reading the Exif tag too would turn them
//! twice. Width and height come from the decoded, transformed image.
//!
//! Memory: before libheif sees the file, [`boxes`] reads what the file declares: the primary
//! image's `ispe`, and for a grid its descriptor (the canvas libheif allocates) and every
//! tile's `ispe`. Those are checked against [`ImageLimits`] as the other formats' headers are.
//! libheif itself only refuses sides over 32,768 (`heif_limits.h`).

pub(crate) mod boxes;

use image::error::{DecodingError, ImageFormatHint, LimitError, LimitErrorKind};
use image::{DynamicImage, ImageError, RgbImage, RgbaImage};
use libheif_rs::{ColorSpace, DecodingOptions, HeifContext, LibHeif, RgbChroma};

use super::{Decoded, ImagingError, OriginalInfo, SourceFormat};
use crate::config::ImageLimits;

/// The three kinds of file libheif reads, by their registered media types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeifFormat {
    /// HEVC-coded (`heic`, `heix`, ... brands): what iPhones write.
    Heic,
    /// AV1-coded (`avif`, `avis` brands).
    Avif,
    /// Any other HEIF (`mif1`, `msf1` only).
    Heif,
}

impl HeifFormat {
    pub fn mime_type(self) -> &'static str {
        match self {
            HeifFormat::Heic => "image/heic",
            HeifFormat::Avif => "image/avif",
            HeifFormat::Heif => "image/heif",
        }
    }
}

/// The format from the `ftyp` box's major and compatible brands (ISO/IEC 23008-12 Annex B
/// for the HEIF brands, the AV1 Image File Format spec for `avif`/`avis`).
pub(crate) fn sniff(bytes: &[u8]) -> Option<HeifFormat> {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    let size = (u32::from_be_bytes(bytes[0..4].try_into().ok()?) as usize).min(bytes.len());
    if size < 16 {
        return None;
    }
    // The major brand, then the compatible ones (after the 4-byte minor version).
    let brands = std::iter::once(&bytes[8..12]).chain(bytes[16..size].chunks_exact(4));
    let mut found = None;
    for brand in brands {
        let format = match brand {
            b"avif" | b"avis" => HeifFormat::Avif,
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" => HeifFormat::Heic,
            b"mif1" | b"msf1" => HeifFormat::Heif,
            _ => continue,
        };
        // A specific brand wins over the generic ones.
        if found.is_none() || found == Some(HeifFormat::Heif) {
            found = Some(format);
        }
    }
    found
}

fn decode_error(format: HeifFormat, message: impl Into<String>) -> ImagingError {
    ImagingError::Decode {
        format: format.mime_type(),
        source: ImageError::Decoding(DecodingError::new(ImageFormatHint::Name(format.mime_type().into()), message.into())),
    }
}

/// What the file says it will take, from its boxes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Declared {
    /// The primary image as coded (before transformations).
    pub width: u32,
    pub height: u32,
    /// Pixels decoded on the way: the image, or every tile of a grid.
    pub coded_pixels: u64,
}

/// The primary image's declared size, checked for consistency: coded images need an `ispe`,
/// a grid needs a descriptor, as many coded tiles as it has cells, and an `ispe` on each.
pub(crate) fn declared(bytes: &[u8], layout: &boxes::Layout) -> Result<Declared, String> {
    let primary = &layout.items[&layout.primary];
    let coded_size = |id: u32| -> Result<(u32, u32), String> {
        let item = layout.items.get(&id).ok_or(format!("item {id} is not described"))?;
        if !matches!(&item.item_type, b"hvc1" | b"av01") {
            return Err(format!("item {id} of type {} is not a coded image", String::from_utf8_lossy(&item.item_type)));
        }
        item.ispe.ok_or(format!("item {id} has no size (ispe)"))
    };
    match &primary.item_type {
        b"hvc1" | b"av01" => {
            let (width, height) = coded_size(layout.primary)?;
            Ok(Declared { width, height, coded_pixels: u64::from(width) * u64::from(height) })
        }
        b"grid" => {
            let grid = layout.grid(bytes, layout.primary)?;
            let cells = u64::from(grid.rows) * u64::from(grid.columns);
            if primary.derived_from.len() as u64 != cells {
                return Err(format!("grid of {cells} cells has {} tiles", primary.derived_from.len()));
            }
            let mut coded_pixels = 0u64;
            for &tile in &primary.derived_from {
                let (w, h) = coded_size(tile)?;
                coded_pixels = coded_pixels.saturating_add(u64::from(w) * u64::from(h));
            }
            Ok(Declared { width: grid.width, height: grid.height, coded_pixels })
        }
        other => Err(format!("primary item of type {} is not supported", String::from_utf8_lossy(other))),
    }
}

/// Decodes the primary image to 8 bits per channel, transformed, within `limits`.
pub(super) fn decode(bytes: &[u8], format: HeifFormat, limits: &ImageLimits) -> Result<Decoded, ImagingError> {
    let layout = boxes::parse(bytes).map_err(|m| decode_error(format, m))?;
    let declared = declared(bytes, &layout).map_err(|m| decode_error(format, m))?;
    let (width, height) = (declared.width, declared.height);
    let pixels = u64::from(width) * u64::from(height);
    if pixels.max(declared.coded_pixels) > limits.max_pixels {
        return Err(ImagingError::TooManyPixels { width, height, max_pixels: limits.max_pixels });
    }

    // Reads the boxes only; no pixel memory yet.
    let context = HeifContext::read_from_bytes(bytes).map_err(|e| decode_error(format, e.message))?;
    let handle = context.primary_image_handle().map_err(|e| decode_error(format, e.message))?;
    let bytes_per_sample = if handle.luma_bits_per_pixel().max(handle.chroma_bits_per_pixel()) > 8 { 2 } else { 1 };
    // libheif converts each decoded image to planar 4:4:4 RGB (a grid's canvas too), then
    // makes a copy per transformation and one interleaved 8-bit copy; ours is one more.
    let planar = pixels * 3 * bytes_per_sample;
    if planar > limits.max_decoded_bytes {
        return Err(ImagingError::TooManyBytes { width, height, bytes: planar, max_bytes: limits.max_decoded_bytes });
    }
    let peak = 2 * planar.max(pixels * 4);
    if peak > limits.max_alloc_bytes() {
        return Err(ImagingError::Decode {
            format: format.mime_type(),
            source: ImageError::Limits(LimitError::from_kind(LimitErrorKind::InsufficientMemory)),
        });
    }

    let has_alpha = handle.has_alpha_channel();
    let chroma = if has_alpha { RgbChroma::Rgba } else { RgbChroma::Rgb };
    let mut options = DecodingOptions::new().ok_or_else(|| decode_error(format, "libheif: no decoding options"))?;
    options.set_convert_hdr_to_8bit(true);
    let lib = LibHeif::new();
    let decoded = lib
        .decode(&handle, ColorSpace::Rgb(chroma), Some(options))
        .map_err(|e| decode_error(format, e.message))?;
    let plane = decoded.planes().interleaved.ok_or_else(|| decode_error(format, "libheif returned no interleaved plane"))?;
    let channels: usize = if has_alpha { 4 } else { 3 };
    if plane.bits_per_pixel != 8 * channels as u8 && plane.storage_bits_per_pixel != 8 * channels as u8 {
        return Err(decode_error(format, format!("libheif returned {} bits per pixel", plane.storage_bits_per_pixel)));
    }
    let (out_width, out_height) = (plane.width, plane.height);
    let row = out_width as usize * channels;
    let mut pixels = Vec::with_capacity(row * out_height as usize);
    for y in 0..out_height as usize {
        let start = y * plane.stride;
        pixels.extend_from_slice(plane.data.get(start..start + row).ok_or_else(|| decode_error(format, "libheif plane too short"))?);
    }
    drop(decoded);
    let image = if has_alpha {
        RgbaImage::from_raw(out_width, out_height, pixels).map(DynamicImage::ImageRgba8)
    } else {
        RgbImage::from_raw(out_width, out_height, pixels).map(DynamicImage::ImageRgb8)
    }
    .ok_or_else(|| decode_error(format, "libheif returned too few pixels"))?;
    let info = OriginalInfo { format: SourceFormat::Heif(format), width: out_width, height: out_height, has_alpha };
    Ok(Decoded { image, info })
}
