//! Whether a GIF or WebP is an animation. The decoders give the first frame only (so an
//! animation of 10,000 frames costs one frame's decode); this walks the container's blocks
//! without decoding any, and stops at the second frame.

use image::ImageFormat;

/// Whether `bytes` (already sniffed as `format`) hold more than one frame.
pub fn is_animated(bytes: &[u8], format: ImageFormat) -> bool {
    match format {
        ImageFormat::Gif => gif_frames(bytes, 2) >= 2,
        ImageFormat::WebP => webp_frames(bytes, 2) >= 2,
        _ => false,
    }
}

/// The image descriptors of a GIF, counted up to `limit` (GIF89a specification: header,
/// logical screen descriptor, optional global colour table, then blocks until the trailer).
fn gif_frames(bytes: &[u8], limit: usize) -> usize {
    /// Skips a chain of data sub-blocks (each a length byte and that many bytes, ended by a
    /// zero length); `None` when the file ends first.
    fn skip_sub_blocks(bytes: &[u8], mut at: usize) -> Option<usize> {
        loop {
            let length = usize::from(*bytes.get(at)?);
            at += 1 + length;
            if length == 0 {
                return Some(at);
            }
        }
    }
    let colour_table = |flags: u8| {
        if flags & 0x80 != 0 {
            3 << ((flags & 0x07) + 1)
        } else {
            0
        }
    };
    let Some(&screen_flags) = bytes.get(10) else {
        return 0;
    };
    let mut at = 13 + colour_table(screen_flags);
    let mut frames = 0;
    while frames < limit {
        match bytes.get(at) {
            Some(0x21) => match skip_sub_blocks(bytes, at + 2) {
                Some(next) => at = next,
                None => break,
            },
            Some(0x2C) => {
                frames += 1;
                let Some(&flags) = bytes.get(at + 9) else {
                    break;
                };
                // Descriptor (10 bytes), local colour table, LZW minimum code size, data.
                match skip_sub_blocks(bytes, at + 10 + colour_table(flags) + 1) {
                    Some(next) => at = next,
                    None => break,
                }
            }
            _ => break,
        }
    }
    frames
}

/// The `ANMF` (animation frame) chunks of a WebP's RIFF container, counted up to `limit`.
fn webp_frames(bytes: &[u8], limit: usize) -> usize {
    let mut at = 12;
    let mut frames = 0;
    while frames < limit && at + 8 <= bytes.len() {
        let size = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
            as usize;
        if &bytes[at..at + 4] == b"ANMF" {
            frames += 1;
        }
        at = at
            .saturating_add(8)
            .saturating_add(size)
            .saturating_add(size % 2);
    }
    frames
}
