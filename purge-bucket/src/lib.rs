//! purge-bucket: deletes objects under `PURGE_PREFIX` (default `tmp/`) older than
//! `PURGE_MAX_AGE_SECONDS` (default one hour).
//!
//! The book listed one page and deleted one object per request; here the listing follows every
//! continuation and deletions go 1000 keys per DeleteObjects request (the API's maximum), so a
//! run over N objects costs about N/1000 list and N/1000 delete requests. Keys a DeleteObjects
//! answer reports as failed are retried once, together, then reported.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use media_core::config::{number_or, string_or, ConfigError};
use media_core::ports::{ObjectStore, StoreError};
use serde::{Deserialize, Serialize};

/// DeleteObjects takes at most this many keys.
pub const DELETE_BATCH: usize = 1000;
/// Failures listed by key in a report; the count covers all of them.
const REPORTED_FAILURES: usize = 50;

/// What to purge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurgeConfig {
    pub prefix: String,
    pub max_age_seconds: i64,
    pub dry_run: bool,
}

impl Default for PurgeConfig {
    fn default() -> Self {
        PurgeConfig {
            prefix: "tmp/".into(),
            max_age_seconds: 3600,
            dry_run: false,
        }
    }
}

impl PurgeConfig {
    /// `PURGE_PREFIX`, `PURGE_MAX_AGE_SECONDS`, `PURGE_DRY_RUN` (`1`/`true`/`yes`).
    pub fn from_env() -> Result<Self, ConfigError> {
        let prefix = string_or("PURGE_PREFIX", "tmp/");
        // An empty prefix would purge the whole bucket, uploads included.
        if prefix.trim_matches('/').is_empty() {
            return Err(ConfigError::Invalid {
                name: "PURGE_PREFIX",
                value: prefix,
                expected: "non-empty key prefix",
            });
        }
        let max_age_seconds: i64 = number_or("PURGE_MAX_AGE_SECONDS", 3600)?;
        if max_age_seconds < 0 {
            return Err(ConfigError::Invalid {
                name: "PURGE_MAX_AGE_SECONDS",
                value: max_age_seconds.to_string(),
                expected: "non-negative number of seconds",
            });
        }
        let dry_run = matches!(
            string_or("PURGE_DRY_RUN", "false")
                .to_ascii_lowercase()
                .as_str(),
            "1" | "true" | "yes"
        );
        Ok(PurgeConfig {
            prefix,
            max_age_seconds,
            dry_run,
        })
    }

    /// Applies what an invocation event may say: `{"dryRun": true}`. The schedule's event
    /// (EventBridge's `Scheduled Event`) says nothing and keeps the configuration.
    pub fn with_event(mut self, event: &serde_json::Value) -> Self {
        if let Some(dry_run) = event.get("dryRun").and_then(serde_json::Value::as_bool) {
            self.dry_run = dry_run;
        }
        self
    }
}

/// A key that could not be deleted, with the last reason.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Failure {
    pub key: String,
    pub reason: String,
}

/// What a run did.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PurgeReport {
    pub prefix: String,
    pub max_age_seconds: i64,
    pub dry_run: bool,
    /// Objects listed under the prefix.
    pub listed: u64,
    /// Objects old enough to delete (in a dry run: that would have been deleted).
    pub expired: u64,
    pub deleted: u64,
    /// Objects left because they are recent (or their age is unknown).
    pub kept: u64,
    /// Expired objects still there after the retry.
    pub failed: u64,
    pub list_requests: u64,
    pub delete_requests: u64,
    /// The first failures, by key.
    pub failures: Vec<Failure>,
}

/// The listing itself failed: the run stops and the next one starts over.
#[derive(Debug, thiserror::Error)]
#[error("purge of {prefix} stopped after deleting {deleted} objects: {source}")]
pub struct PurgeError {
    pub prefix: String,
    pub deleted: u64,
    #[source]
    pub source: StoreError,
}

/// The UTC time in a key's file name: `YYYYMMDDHHMMSS` at its start, followed by a non-digit
/// or nothing (`tmp/20261123140509-uuid.jpg`).
pub fn key_timestamp(key: &str) -> Option<DateTime<Utc>> {
    let name = key.rsplit('/').next()?;
    let digits = name.get(..14)?;
    if !digits.bytes().all(|b| b.is_ascii_digit())
        || name[14..].starts_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    let naive = NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M%S").ok()?;
    Some(Utc.from_utc_datetime(&naive))
}

/// Lists `config.prefix` and deletes what is older than `config.max_age_seconds` at `now`.
pub async fn purge<O: ObjectStore + ?Sized>(
    store: &O,
    config: &PurgeConfig,
    now: DateTime<Utc>,
) -> Result<PurgeReport, PurgeError> {
    let mut report = PurgeReport {
        prefix: config.prefix.clone(),
        max_age_seconds: config.max_age_seconds,
        dry_run: config.dry_run,
        ..Default::default()
    };
    let cutoff = now - chrono::Duration::seconds(config.max_age_seconds);
    let mut batch: Vec<String> = Vec::with_capacity(DELETE_BATCH);
    let mut to_retry: Vec<Failure> = Vec::new();
    let mut continuation = None;
    loop {
        report.list_requests += 1;
        let page = store
            .list_page(&config.prefix, continuation)
            .await
            .map_err(|source| PurgeError {
                prefix: config.prefix.clone(),
                deleted: report.deleted,
                source,
            })?;
        for object in page.objects {
            // The store filters by prefix; checking again costs nothing and keeps the promise.
            if !object.key.starts_with(&config.prefix) {
                tracing::warn!(
                    key = object.key,
                    prefix = config.prefix,
                    "listing returned a key outside the prefix; left alone"
                );
                continue;
            }
            report.listed += 1;
            let Some(time) = key_timestamp(&object.key).or(object.last_modified) else {
                tracing::warn!(
                    key = object.key,
                    "no timestamp in the key and no LastModified; kept"
                );
                report.kept += 1;
                continue;
            };
            if time >= cutoff {
                report.kept += 1;
                continue;
            }
            report.expired += 1;
            if config.dry_run {
                tracing::info!(key = object.key, "would delete (dry run)");
                continue;
            }
            batch.push(object.key);
            if batch.len() == DELETE_BATCH {
                to_retry.extend(delete_batch(store, std::mem::take(&mut batch), &mut report).await);
            }
        }
        match page.next {
            Some(next) => continuation = Some(next),
            None => break,
        }
    }
    if !batch.is_empty() {
        to_retry.extend(delete_batch(store, batch, &mut report).await);
    }
    // One retry of everything that failed, batched again.
    let mut failed = Vec::new();
    for chunk in to_retry.chunks(DELETE_BATCH) {
        tracing::warn!(keys = chunk.len(), "retrying keys whose deletion failed");
        failed.extend(
            delete_batch(
                store,
                chunk.iter().map(|f| f.key.clone()).collect(),
                &mut report,
            )
            .await,
        );
    }
    for failure in &failed {
        tracing::error!(
            key = failure.key,
            reason = failure.reason,
            "could not delete after a retry"
        );
    }
    report.failed = failed.len() as u64;
    report.failures = failed.into_iter().take(REPORTED_FAILURES).collect();
    tracing::info!(
        prefix = report.prefix,
        dry_run = report.dry_run,
        listed = report.listed,
        expired = report.expired,
        deleted = report.deleted,
        kept = report.kept,
        failed = report.failed,
        list_requests = report.list_requests,
        delete_requests = report.delete_requests,
        "purge done"
    );
    Ok(report)
}

/// One DeleteObjects request; returns the keys that failed. A failed request fails every key
/// in it (they get the same single retry).
async fn delete_batch<O: ObjectStore + ?Sized>(
    store: &O,
    keys: Vec<String>,
    report: &mut PurgeReport,
) -> Vec<Failure> {
    report.delete_requests += 1;
    match store.delete_many(&keys).await {
        Ok(errors) => {
            report.deleted += (keys.len() - errors.len().min(keys.len())) as u64;
            errors
                .into_iter()
                .map(|(key, reason)| Failure { key, reason })
                .collect()
        }
        Err(err) => {
            tracing::warn!(keys = keys.len(), error = %err, "DeleteObjects request failed");
            keys.into_iter()
                .map(|key| Failure {
                    key,
                    reason: err.to_string(),
                })
                .collect()
        }
    }
}

/// The function as deployed: the bucket from `BUCKET_NAME`, configuration from the environment.
pub struct PurgeBucket<O> {
    pub store: O,
    pub config: PurgeConfig,
}

impl<O: ObjectStore> PurgeBucket<O> {
    /// Handles an invocation event (the schedule's, or `{"dryRun": true}`).
    pub async fn handle(&self, event: &serde_json::Value) -> Result<PurgeReport, PurgeError> {
        purge(
            &self.store,
            &self.config.clone().with_event(event),
            Utc::now(),
        )
        .await
    }
}

/// Why the function could not start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Builds the deployed function from the environment.
pub async fn from_env() -> Result<PurgeBucket<media_core::aws::S3ObjectStore>, SetupError> {
    let bucket = media_core::config::required("BUCKET_NAME")?;
    let config = PurgeConfig::from_env()?;
    let sdk = media_core::aws::sdk_config_from_env().await;
    Ok(PurgeBucket {
        store: media_core::aws::S3ObjectStore::new(media_core::aws::s3_client(&sdk), bucket),
        config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_come_from_the_file_name_start() {
        let t = key_timestamp("tmp/20261123140509-0b5c.jpg").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-23T14:05:09+00:00");
        assert!(key_timestamp("tmp/20261123140509.jpg").is_some());
        assert!(key_timestamp("tmp/20261123140509").is_some());
        assert!(key_timestamp("tmp/a/20261123140509-x.jpg").is_some());
        // Not a timestamp: too many digits, invalid date, letters, short.
        assert!(key_timestamp("tmp/202611231405091-x.jpg").is_none());
        assert!(key_timestamp("tmp/20261323140509-x.jpg").is_none());
        assert!(key_timestamp("tmp/photo.jpg").is_none());
        assert!(key_timestamp("tmp/2026").is_none());
        assert!(key_timestamp("tmp/é2026112314050-x.jpg").is_none());
    }

    #[test]
    fn event_can_ask_for_a_dry_run() {
        let config = PurgeConfig::default();
        assert!(
            config
                .clone()
                .with_event(&serde_json::json!({"dryRun": true}))
                .dry_run
        );
        assert!(
            !config
                .clone()
                .with_event(&serde_json::json!({"detail-type": "Scheduled Event"}))
                .dry_run
        );
    }
}
