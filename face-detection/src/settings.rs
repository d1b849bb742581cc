//! The function's settings besides its stores, from the environment.

use std::time::Duration;

use media_core::config::{number_or, ConfigError};
use media_imaging::ImageLimits;

/// Default lifetime of the link a direct call returns: the book's hour, which is also how
/// long purge-bucket keeps `tmp/` objects.
pub const DEFAULT_PRESIGN_EXPIRY_SECONDS: u64 = 3600;
/// A download that takes longer than this is abandoned (Lambda bills the wait).
pub const DEFAULT_DOWNLOAD_TIMEOUT_SECONDS: u64 = 20;

/// Settings besides the stores.
#[derive(Clone, Debug)]
pub struct Settings {
    pub limits: ImageLimits,
    /// Bucket the stores are bound to: a direct call naming another one is refused.
    pub bucket: String,
    pub presign_expiry: Duration,
    pub download_timeout: Duration,
    /// Whether `imageUrl` may point at loopback, private or link-local addresses. Off in the
    /// cloud, where such a URL can only be an attempt to reach something internal (the
    /// Lambda runtime API listens on loopback); on in devstack, where everything is.
    pub allow_private_urls: bool,
}

impl Settings {
    pub fn new(bucket: impl Into<String>) -> Self {
        Settings {
            limits: ImageLimits::default(),
            bucket: bucket.into(),
            presign_expiry: Duration::from_secs(DEFAULT_PRESIGN_EXPIRY_SECONDS),
            download_timeout: Duration::from_secs(DEFAULT_DOWNLOAD_TIMEOUT_SECONDS),
            allow_private_urls: false,
        }
    }

    /// `BUCKET_NAME`, `MAX_IMAGE_*`, `PRESIGN_EXPIRY_SECONDS`, `DOWNLOAD_TIMEOUT_SECONDS`,
    /// `ALLOW_PRIVATE_IMAGE_URLS` (1 to allow).
    pub fn from_env(bucket: String) -> Result<Self, ConfigError> {
        let expiry: u64 = number_or("PRESIGN_EXPIRY_SECONDS", DEFAULT_PRESIGN_EXPIRY_SECONDS)?;
        // SigV4 links live at most 7 days.
        if expiry == 0 || expiry > 604_800 {
            return Err(ConfigError::Invalid {
                name: "PRESIGN_EXPIRY_SECONDS",
                value: expiry.to_string(),
                expected: "number of seconds between 1 and 604800",
            });
        }
        Ok(Settings {
            limits: ImageLimits::from_env().map_err(|e| ConfigError::Invalid {
                name: e.name,
                value: e.value,
                expected: "number",
            })?,
            bucket,
            presign_expiry: Duration::from_secs(expiry),
            download_timeout: Duration::from_secs(number_or(
                "DOWNLOAD_TIMEOUT_SECONDS",
                DEFAULT_DOWNLOAD_TIMEOUT_SECONDS,
            )?),
            allow_private_urls: number_or("ALLOW_PRIVATE_IMAGE_URLS", 0u8)? == 1,
        })
    }
}
