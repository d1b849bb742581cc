//! The property the `thumbnail` fuzz target checks (`fuzz/fuzz_targets/thumbnail.rs`), so
//! that the committed seeds replay through it as an ordinary test on the stable toolchain.

use crate::{fit_within, make_thumbnail, ImageLimits, THUMBNAIL_BOX};

/// Smaller than the function's, so that libFuzzer's `-rss_limit_mb=512` holds: each decoder
/// may allocate twice `max_decoded_bytes`.
pub const LIMITS: ImageLimits = ImageLimits {
    max_bytes: 1 << 20,
    max_pixels: 4_000_000,
    max_decoded_bytes: 32 << 20,
};

/// The whole thumbnail path (sniff, header checks, decode with shrink-on-load, orientation,
/// resize, encode) on any bytes: an error or a thumbnail fitting the box with the size the
/// original's dimensions give, never a panic or an abort.
pub fn thumbnail(data: &[u8]) {
    // The handler never reads more than max_bytes of an upload.
    if data.len() as u64 > LIMITS.max_bytes {
        return;
    }
    if let Ok(thumbnail) = make_thumbnail(data, &LIMITS) {
        let (width, height) = (thumbnail.encoded.width, thumbnail.encoded.height);
        assert!(
            (1..=THUMBNAIL_BOX).contains(&width) && (1..=THUMBNAIL_BOX).contains(&height),
            "{width}x{height}"
        );
        let original = thumbnail.original;
        assert_eq!(
            (width, height),
            fit_within(original.width, original.height, THUMBNAIL_BOX)
        );
        assert!(u64::from(original.width) * u64::from(original.height) <= LIMITS.max_pixels);
        assert!(!thumbnail.encoded.bytes.is_empty());
    }
}
