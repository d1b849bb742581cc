//! The whole thumbnail path (sniff, header checks, decode with shrink-on-load, orientation,
//! resize, encode) on any bytes: an error or a thumbnail fitting the box with the size the
//! original's dimensions give, never a panic, an abort, or more memory than the limits allow.
//!
//! The limits are smaller than the function's, so that libFuzzer's `-rss_limit_mb=512`
//! holds: each decoder may allocate twice `max_decoded_bytes`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_imaging::ImageLimits;
use media_imaging::{fit_within, make_thumbnail, THUMBNAIL_BOX};

const LIMITS: ImageLimits = ImageLimits {
    max_bytes: 1 << 20,
    max_pixels: 4_000_000,
    max_decoded_bytes: 32 << 20,
};

fuzz_target!(|data: &[u8]| {
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
});
