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

use std::mem;
use std::os::raw::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

use image::error::{DecodingError, ImageFormatHint, LimitError, LimitErrorKind};
use image::metadata::Orientation;
use image::{DynamicImage, ImageError, ImageFormat, RgbImage};
use mozjpeg::decompress::DecompressBuilder;
use mozjpeg::{ColorSpace, Marker};
use mozjpeg_sys::{jpeg_common_struct, jpeg_error_mgr, jpeg_std_error, JWRN_HIT_MARKER, JWRN_JPEG_EOF};

use super::{fit_within, Decoded, ImagingError, OriginalInfo};
use crate::config::ImageLimits;

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
pub(super) fn decode_scaled(bytes: &[u8], limits: &ImageLimits, min_box: u32) -> Result<Decoded, ImagingError> {
    match catch_unwind(AssertUnwindSafe(|| decode_unguarded(bytes, limits, min_box))) {
        Ok(result) => result,
        Err(payload) => {
            let message = if let Some(LibjpegError(message)) = payload.downcast_ref::<LibjpegError>() {
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
        source: ImageError::Decoding(DecodingError::new(ImageFormatHint::Exact(ImageFormat::Jpeg), message)),
    }
}

/// How many scans (SOS segments) a JPEG has, counting up to `limit + 1`: its marker segments
/// walked, each scan's entropy-coded data skipped up to the next marker (inside it, `FF` is
/// only ever followed by a stuffed `00` or a restart marker).
fn scan_count(bytes: &[u8], limit: usize) -> usize {
    let mut scans = 0;
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF && scans <= limit {
        let marker = bytes[at + 1];
        match marker {
            0xFF => at += 1,
            0xD9 => break,
            0x01 | 0xD0..=0xD7 => at += 2,
            _ => {
                at += 2 + usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
                if marker == 0xDA {
                    scans += 1;
                    while at + 1 < bytes.len()
                        && !(bytes[at] == 0xFF && bytes[at + 1] != 0 && !(0xD0..=0xD7).contains(&bytes[at + 1]))
                    {
                        at += 1;
                    }
                }
            }
        }
    }
    scans
}

fn decode_unguarded(bytes: &[u8], limits: &ImageLimits, min_box: u32) -> Result<Decoded, ImagingError> {
    let scans = scan_count(bytes, MAX_SCANS);
    if scans > MAX_SCANS {
        return Err(decode_error(format!("more than {MAX_SCANS} scans")));
    }
    // APP1 for EXIF; libjpeg keeps saved markers until the end of the decode.
    let mut decompress = DecompressBuilder::new()
        .with_err(error_manager())
        .with_markers(&[Marker::APP(1)])
        .from_mem(bytes)
        .map_err(|e| decode_error(e.to_string()))?;

    // Only the header has been read: nothing of the image's size is allocated yet.
    let (width, height) = (decompress.width() as u32, decompress.height() as u32);
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ImagingError::TooManyPixels { width, height, max_pixels: limits.max_pixels });
    }
    let components = decompress.components().len() as u64;
    if width == 0 || height == 0 || components == 0 || components > 4 {
        return Err(decode_error(format!("unsupported JPEG: {width}x{height} with {components} components")));
    }
    let numerator = scale_numerator(width, height, min_box);
    let (out_width, out_height) = (scaled_side(width, numerator), scaled_side(height, numerator));
    let out_bytes = u64::from(out_width) * u64::from(out_height) * 3;
    if out_bytes > limits.max_decoded_bytes {
        return Err(ImagingError::TooManyBytes { width: out_width, height: out_height, bytes: out_bytes, max_bytes: limits.max_decoded_bytes });
    }
    // What libjpeg may allocate: whole-image coefficient buffers for progressive and
    // multi-scan files (2 bytes per sample per component, padded to 16-pixel MCUs), our
    // output (at most 4 bytes a pixel) and a generous allowance for its row buffers and tables.
    let padded = (u64::from(width) + 16) * (u64::from(height) + 16);
    let bound = components * padded * 2 + u64::from(out_width) * u64::from(out_height) * 4 + (16 << 20);
    if bound > limits.max_alloc_bytes() {
        return Err(ImagingError::Decode {
            format: FORMAT_NAME,
            source: ImageError::Limits(LimitError::from_kind(LimitErrorKind::InsufficientMemory)),
        });
    }

    let orientation = decompress
        .markers()
        .filter(|marker| marker.marker == Marker::APP(1))
        .find_map(|marker| marker.data.strip_prefix(b"Exif\0\0").and_then(Orientation::from_exif_chunk))
        .unwrap_or(Orientation::NoTransforms);

    decompress.scale(numerator);
    let cmyk = matches!(decompress.color_space(), ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK);
    let image = if cmyk {
        let mut started = decompress.to_colorspace(ColorSpace::JCS_CMYK).map_err(|e| decode_error(e.to_string()))?;
        let (w, h) = (started.width() as u32, started.height() as u32);
        let pixels: Vec<[u8; 4]> = started.read_scanlines().map_err(|e| decode_error(e.to_string()))?;
        started.finish().map_err(|e| decode_error(e.to_string()))?;
        cmyk_to_rgb(w, h, &pixels)?
    } else {
        // Grayscale and YCbCr alike: libjpeg converts to RGB while decoding.
        let mut started = decompress.rgb().map_err(|e| decode_error(e.to_string()))?;
        let (w, h) = (started.width() as u32, started.height() as u32);
        let pixels: Vec<u8> = started.read_scanlines().map_err(|e| decode_error(e.to_string()))?;
        started.finish().map_err(|e| decode_error(e.to_string()))?;
        RgbImage::from_raw(w, h, pixels).ok_or_else(|| decode_error("JPEG decoder returned too few pixels"))?
    };

    let mut image = DynamicImage::ImageRgb8(image);
    image.apply_orientation(orientation);
    let swaps_axes = matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    );
    let (width, height) = if swaps_axes { (height, width) } else { (width, height) };
    Ok(Decoded { image, info: OriginalInfo { format: ImageFormat::Jpeg.into(), width, height, has_alpha: false } })
}

/// CMYK as Adobe writes it (inverted, which is what nearly every CMYK JPEG is, and what the
/// `image` crate's decoder assumes too) to RGB.
fn cmyk_to_rgb(width: u32, height: u32, pixels: &[[u8; 4]]) -> Result<RgbImage, ImagingError> {
    if pixels.len() as u64 != u64::from(width) * u64::from(height) {
        return Err(decode_error("JPEG decoder returned too few pixels"));
    }
    let scale = |value: u8, k: u8| ((u16::from(value) * u16::from(k) + 127) / 255) as u8;
    let rgb = pixels.iter().flat_map(|&[c, m, y, k]| [scale(c, k), scale(m, k), scale(y, k)]).collect();
    RgbImage::from_raw(width, height, rgb).ok_or_else(|| decode_error("JPEG decoder returned too few pixels"))
}

fn error_manager() -> jpeg_error_mgr {
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
