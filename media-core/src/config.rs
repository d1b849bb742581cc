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

/// Limits on what an image function accepts, so that no upload takes unbounded memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest original read, in bytes.
    pub max_bytes: u64,
    /// Largest decoded image, in pixels (width x height, before orientation).
    pub max_pixels: u64,
}

impl ImageLimits {
    pub const DEFAULT_MAX_BYTES: u64 = 50 * 1024 * 1024;
    pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;

    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(ImageLimits {
            max_bytes: number_or("MAX_IMAGE_BYTES", Self::DEFAULT_MAX_BYTES)?,
            max_pixels: number_or("MAX_IMAGE_PIXELS", Self::DEFAULT_MAX_PIXELS)?,
        })
    }

    /// Upper bound on memory a decode may allocate: the pixels at 16 bits per channel with
    /// alpha (the widest format the decoders produce here), plus slack for decoder buffers.
    pub fn max_alloc_bytes(&self) -> u64 {
        self.max_pixels.saturating_mul(8).saturating_add(64 * 1024 * 1024)
    }
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits { max_bytes: Self::DEFAULT_MAX_BYTES, max_pixels: Self::DEFAULT_MAX_PIXELS }
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
