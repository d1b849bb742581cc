//! Colour management: pictures tagged with an ICC profile other than sRGB (Display P3 from
//! phones, Adobe RGB from cameras) are converted to sRGB, the space browsers assume for an
//! untagged image, so that thumbnails and previews (which carry no profile) do not look
//! washed out.
//!
//! The conversion is `qcms`, Firefox's colour management, in pure Rust: it reads the profiles
//! web pages carry (ICC v2 and v4, matrix/TRC and LUT-based), has run on untrusted input in
//! the browser for years, and, unlike Little CMS through `lcms2`, brings no C library to
//! cross-build for the arm64 function. It runs on the resized picture, not the original, so
//! its cost does not grow with the upload.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Largest embedded profile read. Real ones are 0.5-60 KB (a LUT-based printer profile can
/// reach a few MB); anything larger is ignored, as a damaged profile is.
const MAX_PROFILE_BYTES: usize = 4 << 20;

/// The ICC profile embedded in an image's bytes, if it has one. Reads headers only.
pub fn embedded_profile(bytes: &[u8], format: ImageFormat) -> Option<Vec<u8>> {
    let profile = match format {
        ImageFormat::Jpeg => jpeg_profile(bytes),
        ImageFormat::Png => png_profile(bytes),
        ImageFormat::WebP | ImageFormat::Tiff => {
            let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
            let mut limits = Limits::default();
            limits.max_alloc = Some(4 * MAX_PROFILE_BYTES as u64);
            reader.limits(limits);
            let mut decoder = reader.into_decoder().ok()?;
            decoder.icc_profile().ok().flatten()
        }
        _ => None,
    }?;
    (profile.len() <= MAX_PROFILE_BYTES).then_some(profile)
}

/// Converts `image` (8 bits per channel) from the space `profile` describes to sRGB in
/// place. Does nothing when the profile is sRGB, is not an RGB profile, or cannot be read
/// (the picture is then shown as if untagged, as browsers do): returns whether it converted.
pub fn to_srgb(image: &mut DynamicImage, profile: &[u8]) -> bool {
    if !is_rgb_profile(profile) || describes_srgb(profile) {
        return false;
    }
    let Some(input) = qcms::Profile::new_from_slice(profile, false) else {
        tracing::warn!(
            bytes = profile.len(),
            "embedded ICC profile unreadable: ignored"
        );
        return false;
    };
    let mut output = qcms::Profile::new_sRGB();
    output.precache_output_transform();
    let (data_type, pixels) = match image {
        DynamicImage::ImageRgb8(rgb) => (qcms::DataType::RGB8, rgb.as_mut()),
        DynamicImage::ImageRgba8(rgba) => (qcms::DataType::RGBA8, rgba.as_mut()),
        _ => return false,
    };
    let Some(transform) =
        qcms::Transform::new(&input, &output, data_type, qcms::Intent::Perceptual)
    else {
        tracing::warn!(
            bytes = profile.len(),
            "embedded ICC profile has no usable transform: ignored"
        );
        return false;
    };
    transform.apply(pixels);
    true
}

/// Whether the profile's data colour space (header bytes 16-19) is RGB.
fn is_rgb_profile(profile: &[u8]) -> bool {
    profile.get(16..20) == Some(b"RGB ")
}

/// Whether the profile says it is sRGB (its `desc` tag starts with "sRGB", as the IEC
/// 61966-2.1 profile cameras, phones and editors embed does): converting would change
/// nothing, so it is skipped.
fn describes_srgb(profile: &[u8]) -> bool {
    let Some(tag) = tag(profile, b"desc") else {
        return false;
    };
    let text: &[u8] = match tag.get(0..4) {
        // ICC v2 textDescriptionType: ASCII count at 8, text at 12.
        Some(b"desc") => tag.get(12..).unwrap_or_default(),
        // ICC v4 multiLocalizedUnicodeType: first record's length and offset, UTF-16BE.
        Some(b"mluc") => {
            let field = |at: usize| {
                tag.get(at..at + 4)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
            };
            let (Some(length), Some(offset)) = (field(20), field(24)) else {
                return false;
            };
            let utf16: Vec<u8> = tag
                .get(offset..offset + length.min(16))
                .unwrap_or_default()
                .iter()
                .skip(1)
                .step_by(2)
                .copied()
                .collect();
            return utf16.starts_with(b"sRGB");
        }
        _ => return false,
    };
    text.starts_with(b"sRGB")
}

/// The bytes of the tag `signature` in an ICC profile's tag table.
fn tag<'a>(profile: &'a [u8], signature: &[u8; 4]) -> Option<&'a [u8]> {
    let u32_at = |at: usize| {
        profile
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let count = u32_at(128)?.min(1024);
    (0..count).find_map(|i| {
        let entry = 132 + 12 * i;
        (profile.get(entry..entry + 4)? == signature).then_some(())?;
        let (offset, size) = (u32_at(entry + 4)?, u32_at(entry + 8)?);
        profile.get(offset..offset.checked_add(size)?)
    })
}

/// A PNG's `iCCP` chunk before the first `IDAT` (PNG specification, 11.3.3.3): where the
/// whole chunk lies in `bytes`, and its data.
fn png_iccp_chunk(bytes: &[u8]) -> Option<(std::ops::Range<usize>, &[u8])> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    let mut at = SIGNATURE.len();
    bytes.starts_with(SIGNATURE).then_some(())?;
    while bytes.len() >= at + 12 {
        let length =
            usize::try_from(u32::from_be_bytes(bytes[at..at + 4].try_into().ok()?)).ok()?;
        let end = at.checked_add(12)?.checked_add(length)?;
        // The whole chunk, its CRC too: a file cut inside it has no chunk to take out.
        let chunk = bytes.get(at..end)?;
        match &chunk[4..8] {
            b"iCCP" => return Some((at..end, &chunk[8..chunk.len() - 4])),
            b"IDAT" | b"IEND" => return None,
            _ => at = end,
        }
    }
    None
}

/// The profile of an `iCCP` chunk's data (name, NUL, compression method 0, zlib stream),
/// inflated to at most [`MAX_PROFILE_BYTES`]: inflation stops one byte past it.
fn inflate_iccp(data: &[u8]) -> Option<Vec<u8>> {
    let name_end = memchr::memchr(0, data)?;
    let (&method, stream) = data.get(name_end + 1..)?.split_first()?;
    (method == 0).then_some(())?;
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(stream, MAX_PROFILE_BYTES).ok()
}

fn png_profile(bytes: &[u8]) -> Option<Vec<u8>> {
    inflate_iccp(png_iccp_chunk(bytes)?.1)
}

/// The PNG without its `iCCP` chunk when that profile is not one to use (over
/// [`MAX_PROFILE_BYTES`] inflated, or damaged), else `None`.
///
/// The png crate inflates a profile while reading the header, up to the decoder's whole
/// allocation limit, and drops it when over: a 1 MB file whose profile inflates to 1 GiB cost
/// 533 MB and 0.3 s that way (measured with the `thumbnail` command, 2026-11-30), and the
/// image crate has no switch for the png crate's `set_ignore_iccp_chunk`. Such a profile is
/// ignored anyway, so the decoder gets the file without it: one copy of the upload, only for
/// these files.
pub fn png_without_unusable_profile(bytes: &[u8]) -> Option<Vec<u8>> {
    let (chunk, data) = png_iccp_chunk(bytes)?;
    if inflate_iccp(data).is_some() {
        return None;
    }
    tracing::warn!(
        bytes = data.len(),
        "embedded ICC profile over the size limit or damaged: decoded without it"
    );
    let mut stripped = Vec::with_capacity(bytes.len() - chunk.len());
    stripped.extend_from_slice(&bytes[..chunk.start]);
    stripped.extend_from_slice(&bytes[chunk.end..]);
    Some(stripped)
}

/// A JPEG's profile: the `ICC_PROFILE` APP2 segments before the first scan, in their
/// sequence order (a profile over 64 KB is split across several).
fn jpeg_profile(bytes: &[u8]) -> Option<Vec<u8>> {
    const SIGNATURE: &[u8] = b"ICC_PROFILE\0";
    let mut chunks: Vec<(u8, &[u8])> = Vec::new();
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1;
            continue;
        }
        if matches!(marker, 0xDA | 0xD9) {
            break;
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        let segment = bytes.get(at + 4..at + 2 + length)?;
        if marker == 0xE2 && segment.starts_with(SIGNATURE) && segment.len() > SIGNATURE.len() + 2 {
            chunks.push((segment[SIGNATURE.len()], &segment[SIGNATURE.len() + 2..]));
        }
        at += 2 + length;
    }
    if chunks.is_empty() {
        return None;
    }
    chunks.sort_by_key(|&(sequence, _)| sequence);
    Some(
        chunks
            .into_iter()
            .flat_map(|(_, data)| data.iter().copied())
            .collect(),
    )
}
