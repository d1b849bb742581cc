//! The purge against the in-memory bucket, which counts requests.

use chrono::{Duration, TimeZone, Utc};
use media_core::testing::memory::MemoryObjectStore;
use purge_bucket::{purge, PurgeConfig, PurgeReport};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 14, 0, 0).unwrap()
}

fn stamp(age_seconds: i64) -> String {
    (now() - Duration::seconds(age_seconds))
        .format("%Y%m%d%H%M%S")
        .to_string()
}

/// 2,500 tmp/ objects: every other one two hours old by its key, a few recent ones whose
/// LastModified is old (the key wins), some without a timestamp aged by LastModified; plus
/// objects outside the prefix, old by every measure.
fn bucket() -> (MemoryObjectStore, Vec<String>) {
    let store = MemoryObjectStore::default();
    let mut old = Vec::new();
    let long_ago = now() - Duration::days(30);
    for i in 0..2500 {
        let (key, modified) = match i % 10 {
            // No timestamp in the key: LastModified decides.
            8 => (
                format!("tmp/upload-{i:05}.jpg"),
                if i % 20 == 8 { long_ago } else { now() },
            ),
            // A recent key timestamp beats an old LastModified.
            9 => (format!("tmp/{}-{i:05}.jpg", stamp(60)), long_ago),
            n if n % 2 == 0 => (format!("tmp/{}-{i:05}.jpg", stamp(7200)), now()),
            _ => (format!("tmp/{}-{i:05}.jpg", stamp(1800)), now()),
        };
        let expired = key_is_old(&key, modified);
        store.insert_at(&key, vec![1], &[], modified);
        if expired {
            old.push(key);
        }
    }
    for key in [
        format!("tmpfiles/{}-x.jpg", stamp(99_999)),
        format!("public/content/id/{}-x.jpg", stamp(99_999)),
        format!("public/tmp/{}-x.jpg", stamp(99_999)),
        "a/tmp/old.jpg".to_owned(),
    ] {
        store.insert_at(&key, vec![1], &[], long_ago);
    }
    (store, old)
}

fn key_is_old(key: &str, modified: chrono::DateTime<Utc>) -> bool {
    let time = purge_bucket::key_timestamp(key).unwrap_or(modified);
    time < now() - Duration::seconds(3600)
}

#[tokio::test]
async fn deletes_exactly_the_old_tmp_objects_in_few_requests() {
    let (store, old) = bucket();
    assert!(old.len() > 1000 && old.len() < 2000, "{}", old.len());
    let before = store.keys();
    let report = purge(&store, &PurgeConfig::default(), now()).await.unwrap();

    let after = store.keys();
    let deleted: Vec<_> = before
        .iter()
        .filter(|k| !after.contains(k))
        .cloned()
        .collect();
    let mut want = old.clone();
    want.sort();
    assert_eq!(deleted, want);
    assert!(
        after.iter().any(|k| k.starts_with("tmpfiles/"))
            && after.iter().any(|k| k.starts_with("a/tmp/"))
    );
    assert_eq!(
        after.iter().filter(|k| !k.starts_with("tmp/")).count(),
        4,
        "keys outside the prefix untouched"
    );

    assert_eq!(report.listed, 2500);
    assert_eq!(report.deleted, old.len() as u64);
    assert_eq!(report.expired, old.len() as u64);
    assert_eq!(report.kept, 2500 - old.len() as u64);
    assert_eq!(report.failed, 0);
    assert!(
        report.list_requests <= 3 && report.delete_requests <= 3,
        "{report:?}"
    );
    assert_eq!(
        report.list_requests as usize,
        store.request_count("ListObjectsV2")
    );
    assert_eq!(
        report.delete_requests as usize,
        store.request_count("DeleteObjects")
    );
    assert_eq!(
        store.request_count("DeleteObject"),
        0,
        "never one object per request"
    );

    // A second run finds nothing more to do.
    let again = purge(&store, &PurgeConfig::default(), now()).await.unwrap();
    assert_eq!((again.deleted, again.expired), (0, 0));
}

#[tokio::test]
async fn per_key_errors_are_retried_once_then_reported() {
    let (store, old) = bucket();
    // Fails once: deleted on the retry.
    store
        .fail_delete_once
        .lock()
        .unwrap()
        .extend(old[..3].iter().cloned());
    // Fails twice (listed twice, each entry fails once): reported.
    let stubborn = old[10].clone();
    store
        .fail_delete_once
        .lock()
        .unwrap()
        .extend([stubborn.clone(), stubborn.clone()]);
    let report = purge(&store, &PurgeConfig::default(), now()).await.unwrap();
    assert_eq!(report.failed, 1);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].key, stubborn);
    assert!(report.failures[0].reason.contains("injected"));
    assert_eq!(report.deleted, old.len() as u64 - 1);
    let keys = store.keys();
    assert!(keys.contains(&stubborn));
    assert!(old[..3].iter().all(|k| !keys.contains(k)));
    // One extra DeleteObjects for all the retries together.
    assert_eq!(
        report.delete_requests as usize,
        old.len().div_ceil(1000) + 1
    );
}

#[tokio::test]
async fn dry_run_deletes_nothing_and_says_what_it_would() {
    let (store, old) = bucket();
    let config = PurgeConfig::default().with_event(&serde_json::json!({"dryRun": true}));
    let report: PurgeReport = purge(&store, &config, now()).await.unwrap();
    assert!(report.dry_run);
    assert_eq!(report.expired, old.len() as u64);
    assert_eq!(report.deleted, 0);
    assert_eq!(store.request_count("DeleteObjects"), 0);
    assert_eq!(store.keys().len(), 2504);
}

#[tokio::test]
async fn other_prefixes_and_ages_are_configurable() {
    let (store, _) = bucket();
    let config = PurgeConfig {
        prefix: "tmpfiles/".into(),
        max_age_seconds: 10,
        dry_run: false,
    };
    let report = purge(&store, &config, now()).await.unwrap();
    assert_eq!((report.listed, report.deleted), (1, 1));
    assert_eq!(
        store
            .keys()
            .iter()
            .filter(|k| k.starts_with("tmp/"))
            .count(),
        2500
    );
}
