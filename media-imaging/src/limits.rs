//! Limits on what an image function accepts, read from the environment.

use std::env;

/// A limit variable set to something that is not a number.
#[derive(Debug, thiserror::Error)]
#[error("{name} must be a number, got {value:?}")]
pub struct InvalidLimit {
    pub name: &'static str,
    pub value: String,
}

fn limit_or(name: &'static str, default: u64) -> Result<u64, InvalidLimit> {
    match env::var(name) {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .parse()
            .map_err(|_| InvalidLimit { name, value }),
        _ => Ok(default),
    }
}

/// Limits on what an image function accepts, so that no upload takes more memory than the
/// function has.
///
/// Pixels alone do not bound memory (a 10000x10000 16-bit RGBA image is 800 MB decoded), so
/// the decoded size in bytes is checked too, from the header, before anything is allocated.
/// With the defaults the worst accepted image peaks at about twice `max_decoded_bytes` plus
/// the original: about 600 MB, inside content-updated's and face-detection's 1,024 MB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest original read, in bytes.
    pub max_bytes: u64,
    /// Largest image, in pixels (width x height, before orientation), from its header.
    pub max_pixels: u64,
    /// Largest decoded image in bytes (pixels times bytes per pixel of the decoder's output).
    pub max_decoded_bytes: u64,
}

impl ImageLimits {
    pub const DEFAULT_MAX_BYTES: u64 = 50 * 1024 * 1024;
    pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;
    pub const DEFAULT_MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;

    /// `MAX_IMAGE_BYTES`, `MAX_IMAGE_PIXELS`, `MAX_DECODED_BYTES`.
    pub fn from_env() -> Result<Self, InvalidLimit> {
        Ok(ImageLimits {
            max_bytes: limit_or("MAX_IMAGE_BYTES", Self::DEFAULT_MAX_BYTES)?,
            max_pixels: limit_or("MAX_IMAGE_PIXELS", Self::DEFAULT_MAX_PIXELS)?,
            max_decoded_bytes: limit_or("MAX_DECODED_BYTES", Self::DEFAULT_MAX_DECODED_BYTES)?,
        })
    }

    /// What one decoder may allocate at most: the decoded image and as much again for its
    /// working buffers (libjpeg's whole-image coefficient buffers for a progressive JPEG are
    /// the largest of those).
    pub fn max_alloc_bytes(&self) -> u64 {
        self.max_decoded_bytes.saturating_mul(2)
    }
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_bytes: Self::DEFAULT_MAX_BYTES,
            max_pixels: Self::DEFAULT_MAX_PIXELS,
            max_decoded_bytes: Self::DEFAULT_MAX_DECODED_BYTES,
        }
    }
}
