//! Configuration from the environment, as the contract names it.

use std::env;
use std::str::FromStr;

/// A required variable is missing or a variable does not parse.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} = {value:?} is not a valid {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

pub fn required(name: &'static str) -> Result<String, ConfigError> {
    env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or(ConfigError::Missing(name))
}

pub fn number_or<T: FromStr>(name: &'static str, default: T) -> Result<T, ConfigError> {
    match env::var(name) {
        Ok(value) if !value.trim().is_empty() => {
            value.trim().parse().map_err(|_| ConfigError::Invalid {
                name,
                value,
                expected: std::any::type_name::<T>(),
            })
        }
        _ => Ok(default),
    }
}

pub fn string_or(name: &'static str, default: &str) -> String {
    env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Where the data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageConfig {
    pub bucket: String,
    pub table: String,
}

impl StorageConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(StorageConfig {
            bucket: required("BUCKET_NAME")?,
            table: required("TABLE_NAME")?,
        })
    }
}
