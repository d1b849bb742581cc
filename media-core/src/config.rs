//! Configuration from the environment, as the contract names it.

use std::env;
use std::str::FromStr;

/// A required variable is missing or a variable does not parse.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} = {value:?} is not a valid {expected}")]
    Invalid { name: &'static str, value: String, expected: &'static str },
}

pub fn required(name: &'static str) -> Result<String, ConfigError> {
    env::var(name).ok().filter(|v| !v.is_empty()).ok_or(ConfigError::Missing(name))
}

pub fn number_or<T: FromStr>(name: &'static str, default: T) -> Result<T, ConfigError> {
    match env::var(name) {
        Ok(value) if !value.trim().is_empty() => value.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            value,
            expected: std::any::type_name::<T>(),
        }),
        _ => Ok(default),
    }
}

pub fn string_or(name: &'static str, default: &str) -> String {
    env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
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
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(ImageLimits {
            max_bytes: number_or("MAX_IMAGE_BYTES", Self::DEFAULT_MAX_BYTES)?,
            max_pixels: number_or("MAX_IMAGE_PIXELS", Self::DEFAULT_MAX_PIXELS)?,
            max_decoded_bytes: number_or("MAX_DECODED_BYTES", Self::DEFAULT_MAX_DECODED_BYTES)?,
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

/// Where the data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageConfig {
    pub bucket: String,
    pub table: String,
}

impl StorageConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(StorageConfig { bucket: required("BUCKET_NAME")?, table: required("TABLE_NAME")? })
    }
}
