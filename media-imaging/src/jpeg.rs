//! JPEG shrink-on-load: libjpeg-turbo's DCT scaling (the fork bundled by the `mozjpeg` crate),
//! which is what makes libvips and Pillow fast at thumbnails. Decoding a 9 MP photo at 1/8
//! scale skips most of the inverse DCT, the upsampling and the colour conversion, and the
//! resizer then works on a few hundred pixels a side instead of thousands.
//!
//! libjpeg reports fatal errors through `error_exit`, which must not return: ours unwinds with
//! a [`LibjpegError`] payload (the C is built with `-fexceptions` for this), and every call into
//! libjpeg runs inside `catch_unwind`, so a corrupt file is an `Err`, never a crash. Warnings
//! that mean the data ended early are made errors too: libjpeg would otherwise pad the image
//! with grey and carry on.
//!
//! A progressive JPEG at 1/8 scale goes to [`dc`] instead, which reads its DC scans alone
//! without libjpeg's whole-image coefficient arrays; what that module does not read comes back
//! here.

use std::mem;
use std::os::raw::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

use image::error::{DecodingError, ImageFormatHint, LimitError, LimitErrorKind};
use image::metadata::Orientation;
use image::{DynamicImage, ImageError, ImageFormat, RgbImage};
use mozjpeg::decompress::DecompressBuilder;
use mozjpeg::{ColorSpace, Marker};
use mozjpeg_sys::{
    jpeg_common_struct, jpeg_error_mgr, jpeg_std_error, JWRN_HIT_MARKER, JWRN_JPEG_EOF,
};

use super::{fit_within, Decoded, ImagingError, OriginalInfo};
use crate::ImageLimits;

mod dc;

const FORMAT_NAME: &str = "image/jpeg";

/// Most scans accepted. libjpeg goes over every block of a component for each scan, however
/// few bytes the scan has (an "EOB run" covers thousands of blocks in a few bits), so a 300 KB
/// progressive file of 8000x8000 with 500 scans took 17 s of CPU, and a 50 MB one could take
/// hours. Encoders write about 10 (libjpeg's progressive script for colour has 10);
/// libjpeg-turbo's `djpeg -maxscans` is the same guard.
const MAX_SCANS: usize = 100;

/// The panic payload our error manager unwinds with: libjpeg's own message.
struct LibjpegError(String);

/// The smallest DCT scale `n` (output = input x `n`/8) whose output still covers the
/// thumbnail of a `width` x `height` image fitting `min_box`, on both axes. Orientation only
/// swaps axes, and [`fit_within`] is symmetric in them, so this holds after rotating too.
pub(super) fn scale_numerator(width: u32, height: u32, min_box: u32) -> u8 {
    let (target_width, target_height) = fit_within(width, height, min_box.max(1));
    (1..=8)
        .find(|&n| scaled_side(width, n) >= target_width && scaled_side(height, n) >= target_height)
        .unwrap_or(8)
}

/// A side after DCT scaling by `n`/8: libjpeg rounds up.
pub(super) fn scaled_side(side: u32, n: u8) -> u32 {
    ((u64::from(side) * u64::from(n)).div_ceil(8)) as u32
}

/// Decodes a JPEG (already sniffed and checked complete) at the smallest DCT scale that still
/// covers a thumbnail fitting `min_box`, converted to RGB and oriented. `info` describes the
/// original, not the scaled image.
pub(super) fn decode_scaled(
    bytes: &[u8],
    limits: &ImageLimits,
    min_box: u32,
) -> Result<Decoded, ImagingError> {
    match catch_unwind(AssertUnwindSafe(|| {
        decode_unguarded(bytes, limits, min_box)
    })) {
        Ok(result) => result,
        Err(payload) => {
            let message =
                if let Some(LibjpegError(message)) = payload.downcast_ref::<LibjpegError>() {
                    message.clone()
                } else if let Some(message) = payload.downcast_ref::<&str>() {
                    format!("JPEG decoder panicked: {message}")
                } else if let Some(message) = payload.downcast_ref::<String>() {
                    format!("JPEG decoder panicked: {message}")
                } else {
                    "JPEG decoder panicked".to_owned()
                };
            Err(decode_error(message))
        }
    }
}

fn decode_error(message: impl Into<String>) -> ImagingError {
    let message: String = message.into();
    ImagingError::Decode {
        format: FORMAT_NAME,
        source: ImageError::Decoding(DecodingError::new(
            ImageFormatHint::Exact(ImageFormat::Jpeg),
            message,
        )),
    }
}

/// A JPEG's marker segments after SOI, in order, as `(marker, byte range)`; a scan's range
/// runs on over its entropy-coded data up to the next marker (inside it, `FF` is only ever
/// followed by a stuffed `00` or a restart marker). Stops after EOI, at anything that is not a
/// marker, and at the end of the data.
pub(super) fn segments(bytes: &[u8]) -> impl Iterator<Item = (u8, std::ops::Range<usize>)> + '_ {
    let mut at = 2;
    std::iter::from_fn(move || loop {
        if at + 2 > bytes.len() || bytes[at] != 0xFF {
            return None;
        }
        let start = at;
        let marker = bytes[at + 1];
        match marker {
            0xFF => {
                at += 1;
                continue;
            }
            0xD9 => at = bytes.len(),
            0x01 | 0xD0..=0xD7 => at += 2,
            _ => {
                if at + 4 > bytes.len() {
                    return None;
                }
                at = (at + 2 + usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]])))
                    .min(bytes.len());
                if marker == 0xDA {
                    at = scan_end(bytes, at);
                }
            }
        }
        return Some((marker, start..if marker == 0xD9 { start + 2 } else { at }));
    })
}

/// Where the entropy-coded data starting at `from` ends: its first `FF` not followed by a
/// stuffed `00`, a restart marker or another `FF` (fill bytes, which T.81 B.1.1.2 allows before
/// any marker), or the end of the data. memchr jumps between `FF`s, which are rare in the data
/// (a few per kilobyte).
fn scan_end(bytes: &[u8], mut from: usize) -> usize {
    while let Some(offset) = memchr::memchr(0xFF, bytes.get(from..).unwrap_or_default()) {
        let at = from + offset;
        match bytes.get(at + 1) {
            None => break,
            Some(0x00 | 0xD0..=0xD7) => from = at + 2,
            Some(0xFF) => from = at + 1,
            Some(_) => return at,
        }
    }
    bytes.len()
}

/// How many scans (SOS segments) a JPEG has, counting up to `limit + 1`.
pub(super) fn scan_count(bytes: &[u8], limit: usize) -> usize {
    segments(bytes)
        .filter(|(marker, _)| *marker == 0xDA)
        .take(limit + 1)
        .count()
}

/// For a progressive JPEG (SOF2), the ids of the components that libjpeg decodes with its 1x1
/// inverse DCT at 1/8 scale; `None` for any other frame type.
///
/// libjpeg-turbo gives a subsampled component a larger DCT at reduced scales, to spare the
/// upsampler (`jpeg_core_output_dimensions` in jdmaster.c): starting from 1, the size doubles
/// while the largest sampling factors divide evenly by twice the component's on both axes. In
/// 4:2:0 the chroma thus gets a 2x2 IDCT, which reads AC coefficients; the luma keeps 1x1.
pub(super) fn one_by_one_components(bytes: &[u8]) -> Option<Vec<u8>> {
    let (marker, range) = segments(bytes)
        .find(|(m, _)| matches!(m, 0xC0..=0xCF) && !matches!(m, 0xC4 | 0xC8 | 0xCC))?;
    if marker != 0xC2 {
        return None;
    }
    // FF C2, length (2), P, Y (2), X (2), Nf, Nf x (Ci, H<<4 | V, Tq).
    let frame = &bytes[range];
    let count = usize::from(*frame.get(9)?);
    let components: Vec<(u8, u8, u8)> = frame
        .get(10..10 + 3 * count)?
        .chunks_exact(3)
        .map(|c| (c[0], c[1] >> 4, c[1] & 0x0F))
        .collect();
    let max_h = components.iter().map(|c| c.1).max()?;
    let max_v = components.iter().map(|c| c.2).max()?;
    if components.iter().any(|c| c.1 == 0 || c.2 == 0) {
        return None;
    }
    Some(
        components
            .iter()
            .filter(|&&(_, h, v)| !(max_h % (h * 2) == 0 && max_v % (v * 2) == 0))
            .map(|&(id, _, _)| id)
            .collect(),
    )
}

/// A progressive JPEG without the AC scans (spectral selection start `Ss` > 0, always of one
/// component) of the components in `one_by_one`: every other scan and segment byte for byte.
///
/// At 1/8 scale libjpeg's 1x1 inverse DCT (`jpeg_idct_1x1`) reads only a block's DC
/// coefficient, so those AC scans, most of a progressive file's bytes and about 70% of its
/// decoding time (Huffman decoding in `decode_mcu_AC_first` / `_refine` under perf), change
/// nothing in the output; decoding without them gives the same pixels, provided libjpeg's
/// block smoothing is off (with AC data missing it would re-estimate the DC from neighbours).
pub(super) fn without_unused_ac_scans(bytes: &[u8], one_by_one: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 2);
    out.extend_from_slice(&bytes[..2.min(bytes.len())]);
    for (marker, range) in segments(bytes) {
        let segment = &bytes[range];
        // FF DA, length (2), Ns, Ns x (Cs, Td/Ta), Ss, Se, Ah/Al.
        let unused = marker == 0xDA
            && segment.get(4) == Some(&1)
            && segment.get(7).is_some_and(|&start| start > 0)
            && segment.get(5).is_some_and(|id| one_by_one.contains(id));
        if !unused {
            out.extend_from_slice(segment);
        }
    }
    out
}

/// Reads a JPEG's header, saving APP1 for EXIF (libjpeg keeps saved markers until the end of
/// the decode).
fn read_header(bytes: &[u8]) -> Result<mozjpeg::Decompress<&[u8]>, ImagingError> {
    DecompressBuilder::new()
        .with_err(error_manager())
        .with_markers(&[Marker::APP(1)])
        .from_mem(bytes)
        .map_err(|e| decode_error(e.to_string()))
}

fn decode_unguarded(
    bytes: &[u8],
    limits: &ImageLimits,
    min_box: u32,
) -> Result<Decoded, ImagingError> {
    let scans = scan_count(bytes, MAX_SCANS);
    if scans > MAX_SCANS {
        return Err(decode_error(format!("more than {MAX_SCANS} scans")));
    }
    let luma_dc_only;
    let mut decompress = read_header(bytes)?;

    // Only the header has been read: nothing of the image's size is allocated yet.
    let (width, height) = (decompress.width() as u32, decompress.height() as u32);
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ImagingError::TooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
        });
    }
    let components = decompress.components().len() as u64;
    if width == 0 || height == 0 || components == 0 || components > 4 {
        return Err(decode_error(format!(
            "unsupported JPEG: {width}x{height} with {components} components"
        )));
    }
    let numerator = scale_numerator(width, height, min_box);
    let (out_width, out_height) = (
        scaled_side(width, numerator),
        scaled_side(height, numerator),
    );
    let out_bytes = u64::from(out_width) * u64::from(out_height) * 3;
    if out_bytes > limits.max_decoded_bytes {
        return Err(ImagingError::TooManyBytes {
            width: out_width,
            height: out_height,
            bytes: out_bytes,
            max_bytes: limits.max_decoded_bytes,
        });
    }
    let orientation = decompress
        .markers()
        .filter(|marker| marker.marker == Marker::APP(1))
        .find_map(|marker| {
            marker
                .data
                .strip_prefix(b"Exif\0\0")
                .and_then(Orientation::from_exif_chunk)
        })
        .unwrap_or(Orientation::NoTransforms);

    // At 1/8 scale a progressive file needs only its DC coefficients: no coefficient arrays.
    if numerator == 1 && one_by_one_components(bytes).is_some() {
        match dc::decode(bytes, limits) {
            Ok(Some(image)) => return Ok(oriented(image, orientation, width, height)),
            Ok(None) => {}
            // What the DC decoder cannot read (fill bytes before a restart marker, which T.81
            // B.1.1.2 allows, among others) libjpeg may: it decides, within its own bounds.
            Err(err) if err.problem() == crate::ImageProblem::Undecodable => {
                tracing::debug!(error = %err, "DC decoder declined; libjpeg decodes");
            }
            Err(err) => return Err(err),
        }
    }

    // What libjpeg may allocate: whole-image coefficient buffers for progressive and
    // multi-scan files (2 bytes per sample per component, padded to 16-pixel MCUs), our
    // output (at most 4 bytes a pixel) and a generous allowance for its row buffers and tables.
    let padded = (u64::from(width) + 16) * (u64::from(height) + 16);
    let bound =
        components * padded * 2 + u64::from(out_width) * u64::from(out_height) * 4 + (16 << 20);
    if bound > limits.max_alloc_bytes() {
        return Err(insufficient_memory());
    }

    if numerator == 1 {
        if let Some(one_by_one) = one_by_one_components(bytes) {
            luma_dc_only = without_unused_ac_scans(bytes, &one_by_one);
            decompress = read_header(&luma_dc_only)?;
            decompress.do_block_smoothing(false);
        }
    }
    decompress.scale(numerator);
    let cmyk = matches!(
        decompress.color_space(),
        ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK
    );
    let image = if cmyk {
        let mut started = decompress
            .to_colorspace(ColorSpace::JCS_CMYK)
            .map_err(|e| decode_error(e.to_string()))?;
        let (w, h) = (started.width() as u32, started.height() as u32);
        let pixels: Vec<[u8; 4]> = started
            .read_scanlines()
            .map_err(|e| decode_error(e.to_string()))?;
        started.finish().map_err(|e| decode_error(e.to_string()))?;
        cmyk_to_rgb(w, h, &pixels)?
    } else {
        // Grayscale and YCbCr alike: libjpeg converts to RGB while decoding.
        let mut started = decompress.rgb().map_err(|e| decode_error(e.to_string()))?;
        let (w, h) = (started.width() as u32, started.height() as u32);
        let pixels: Vec<u8> = started
            .read_scanlines()
            .map_err(|e| decode_error(e.to_string()))?;
        started.finish().map_err(|e| decode_error(e.to_string()))?;
        RgbImage::from_raw(w, h, pixels)
            .ok_or_else(|| decode_error("JPEG decoder returned too few pixels"))?
    };

    Ok(oriented(
        DynamicImage::ImageRgb8(image),
        orientation,
        width,
        height,
    ))
}

/// The decode with EXIF `orientation` applied, and the original's `width` x `height` as the
/// orientation shows it.
fn oriented(mut image: DynamicImage, orientation: Orientation, width: u32, height: u32) -> Decoded {
    image.apply_orientation(orientation);
    let (width, height) = super::oriented_size(width, height, orientation);
    Decoded {
        image,
        info: OriginalInfo {
            format: ImageFormat::Jpeg.into(),
            width,
            height,
            has_alpha: false,
        },
    }
}

fn insufficient_memory() -> ImagingError {
    ImagingError::Decode {
        format: FORMAT_NAME,
        source: ImageError::Limits(LimitError::from_kind(LimitErrorKind::InsufficientMemory)),
    }
}

/// CMYK as Adobe writes it (inverted, which is what nearly every CMYK JPEG is, and what the
/// `image` crate's decoder assumes too) to RGB.
fn cmyk_to_rgb(width: u32, height: u32, pixels: &[[u8; 4]]) -> Result<RgbImage, ImagingError> {
    if pixels.len() as u64 != u64::from(width) * u64::from(height) {
        return Err(decode_error("JPEG decoder returned too few pixels"));
    }
    let scale = |value: u8, k: u8| ((u16::from(value) * u16::from(k) + 127) / 255) as u8;
    let rgb = pixels
        .iter()
        .flat_map(|&[c, m, y, k]| [scale(c, k), scale(m, k), scale(y, k)])
        .collect();
    RgbImage::from_raw(width, height, rgb)
        .ok_or_else(|| decode_error("JPEG decoder returned too few pixels"))
}

/// libjpeg's standard error manager with ours for errors (they unwind) and warnings.
pub(crate) fn error_manager() -> jpeg_error_mgr {
    // SAFETY: jpeg_error_mgr is a plain C struct (integers, pointers, optional function
    // pointers) for which all-zero is valid; jpeg_std_error then fills it in.
    let mut manager: jpeg_error_mgr = unsafe { mem::zeroed() };
    unsafe { jpeg_std_error(&mut manager) };
    manager.error_exit = Some(error_exit);
    manager.emit_message = Some(emit_message);
    manager
}

/// libjpeg's message for the error or warning code in `cinfo`.
fn message(cinfo: &mut jpeg_common_struct) -> String {
    // SAFETY: libjpeg calls us with a valid `cinfo` whose `err` is our manager, and
    // format_message writes at most JMSG_LENGTH_MAX (80) bytes, NUL-terminated.
    unsafe {
        let err = &*cinfo.err;
        let code = err.msg_code;
        let Some(format) = err.format_message else {
            return format!("libjpeg error {code}");
        };
        let format = mem::transmute::<
            unsafe extern "C-unwind" fn(&mut jpeg_common_struct, &[u8; 80]),
            unsafe extern "C-unwind" fn(&mut jpeg_common_struct, &mut [u8; 80]),
        >(format);
        let mut buffer = [0u8; 80];
        format(cinfo, &mut buffer);
        let text = buffer.split(|&b| b == 0).next().unwrap_or_default();
        String::from_utf8_lossy(text).into_owned()
    }
}

/// Fatal errors: libjpeg requires this not to return, so it unwinds to `catch_unwind` in
/// [`decode_scaled`], dropping the decompressor (which destroys libjpeg's state) on the way.
extern "C-unwind" fn error_exit(cinfo: &mut jpeg_common_struct) {
    let message = message(cinfo);
    // resume_unwind, not panic!: no panic hook, no backtrace on stderr for a bad upload.
    std::panic::resume_unwind(Box::new(LibjpegError(message)));
}

/// Warnings (level -1) and trace messages: premature end of data is an error, the rest are
/// ignored (libjpeg recovers from them, as every viewer does).
extern "C-unwind" fn emit_message(cinfo: &mut jpeg_common_struct, level: c_int) {
    if level >= 0 {
        return;
    }
    // SAFETY: `err` points to our manager for as long as libjpeg calls us.
    let code = unsafe { (*cinfo.err).msg_code };
    if code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER {
        error_exit(cinfo);
    }
}
