//! Load test on a fresh devstack (`make -C bench load`): 20 users upload 1,000 small JPEGs
//! (every other one public) as fast as the stack takes them, then make 200 edits (title and
//! description, as the client writes them: UpdateItem on the table) and 200 deletes (S3
//! DeleteObject, as the client does). Reports throughput, latency from each request to its
//! effect in the index that shows it (the public index for public uploads, the owner's private
//! index for private ones), what update-content-index read and wrote (its structured "index
//! written" / "index already current" lines), the bucket's objects by kind at the end, the
//! per-invocation durations of each function (the emulator's REPORT lines in CloudWatch Logs),
//! and public writes per second per `uploadDay` GSI partition. Writes the counters as JSON
//! (for `bench/cost.py`) to the path in `LOAD_COUNTERS`.
//!
//! Usage: load [UPLOADS] [Name=Value ...]   (template parameters for devstack)

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use aws_sdk_dynamodb::types::AttributeValue;
use e2e_tests::bench::{
    count_and_parameters, log_events, millis, percentile, process_cpu_seconds, IndexWatcher,
};
use e2e_tests::{identity_id, photo_jpeg, Stack};
use media_index::IndexTarget;
use serde_json::{json, Value};

const USERS: usize = 20;
const PUBLIC_INDEX: &str = "public/index/content.json";
const INDEX_EVENTS: [&str; 2] = ["index written", "index already current"];

#[derive(Clone)]
struct Upload {
    owner: String,
    key: String,
    public: bool,
}

impl Upload {
    fn index(&self) -> String {
        if self.public {
            PUBLIC_INDEX.to_owned()
        } else {
            IndexTarget::Private(self.owner.clone()).key()
        }
    }
}

/// What the watcher saw: when each key was first listed in its index, when each (key, title)
/// was first listed, and when each key was last listed.
#[derive(Default)]
struct Seen {
    listed: HashMap<String, Instant>,
    titled: HashMap<(String, String), Instant>,
    absent_since: HashMap<String, Instant>,
}

/// Polls every index the uploads go to, every 100 ms, until `stop`.
async fn watch(
    stack: Arc<Stack>,
    uploads: Vec<Upload>,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Result<()> {
    let mut by_index: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for upload in &uploads {
        by_index
            .entry(upload.index())
            .or_default()
            .push(upload.key.clone());
    }
    let mut watchers: BTreeMap<String, IndexWatcher> = by_index
        .keys()
        .map(|k| (k.clone(), IndexWatcher::new(k.clone())))
        .collect();
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        for (index, keys) in &by_index {
            let listed = watchers
                .get_mut(index)
                .expect("one per index")
                .listed(&stack)
                .await?;
            let now = Instant::now();
            let mut seen = seen.lock().unwrap();
            for key in keys {
                match listed.get(key) {
                    Some(title) => {
                        seen.listed.entry(key.clone()).or_insert(now);
                        seen.titled
                            .entry((key.clone(), title.clone()))
                            .or_insert(now);
                        seen.absent_since.remove(key);
                    }
                    None => {
                        seen.absent_since.entry(key.clone()).or_insert(now);
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Waits until `done` holds of what was seen, or fails after `timeout`.
async fn until(
    seen: &Mutex<Seen>,
    what: &str,
    timeout: Duration,
    done: impl Fn(&Seen) -> bool,
) -> Result<()> {
    let started = Instant::now();
    while !done(&seen.lock().unwrap()) {
        if started.elapsed() > timeout {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

fn latency_summary(mut latencies: Vec<Duration>) -> Value {
    latencies.sort();
    if latencies.is_empty() {
        return json!({"count": 0});
    }
    json!({
        "count": latencies.len(),
        "p50Ms": millis(percentile(&latencies, 50.0)).round(),
        "p95Ms": millis(percentile(&latencies, 95.0)).round(),
        "p99Ms": millis(percentile(&latencies, 99.0)).round(),
        "maxMs": millis(*latencies.last().unwrap()).round(),
    })
}

/// Sums update-content-index's counters over `events`, by index kind.
fn index_counters(events: &[Value]) -> Value {
    let mut by_kind: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for event in events {
        let kind = if event["index"].as_str() == Some(PUBLIC_INDEX) {
            "public"
        } else {
            "private"
        };
        let sums = by_kind.entry(kind).or_default();
        *sums.entry("regenerations").or_default() += 1;
        *sums.entry("headsWritten").or_default() += u64::from(event["message"] == "index written");
        *sums.entry("changes").or_default() += event["changes"].as_u64().unwrap_or(0);
        for field in [
            "index_bytes_read",
            "index_bytes_written",
            "objects_read",
            "objects_written",
            "items_read",
            "keys_listed",
        ] {
            *sums.entry(field).or_default() += event[field].as_u64().unwrap_or(0);
        }
    }
    json!(by_kind)
}

/// Objects in the bucket by kind (`public/thumbnails`, ...): count and bytes, and the largest
/// index head and page.
async fn bucket_census(stack: &Stack) -> Result<Value> {
    let mut kinds: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let (mut largest_head, mut largest_page) = ((0i64, String::new()), (0i64, String::new()));
    let mut continuation = None;
    loop {
        let page = stack
            .s3
            .list_objects_v2()
            .bucket(&stack.info.bucket)
            .set_continuation_token(continuation)
            .send()
            .await?;
        for object in page.contents() {
            let (key, size) = (object.key().unwrap_or_default(), object.size().unwrap_or(0));
            let kind = key.splitn(3, '/').take(2).collect::<Vec<_>>().join("/");
            let entry = kinds.entry(kind.clone()).or_default();
            entry.0 += 1;
            entry.1 += size as u64;
            if kind.ends_with("/index") {
                let largest = if key.ends_with("/content.json") {
                    &mut largest_head
                } else {
                    &mut largest_page
                };
                if size > largest.0 {
                    *largest = (size, key.to_owned());
                }
            }
        }
        continuation = page.next_continuation_token().map(str::to_owned);
        if continuation.is_none() {
            break;
        }
    }
    let items_on = |bytes: Option<(Vec<u8>, Option<String>)>| -> usize {
        bytes
            .and_then(|(b, _)| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v["items"].as_array().map(Vec::len))
            .unwrap_or(0)
    };
    let head_items = items_on(stack.object(&largest_head.1).await?);
    let page_items = if largest_page.1.is_empty() {
        0
    } else {
        items_on(stack.object(&largest_page.1).await?)
    };
    Ok(json!({
        "objects": kinds.iter().map(|(k, (n, b))| (k.clone(), json!({"count": n, "bytes": b}))).collect::<BTreeMap<_, _>>(),
        "largestHead": {"key": largest_head.1, "bytes": largest_head.0, "items": head_items},
        "largestPage": {"key": largest_page.1, "bytes": largest_page.0, "items": page_items},
    }))
}

/// Per-invocation durations by function from the emulator's CloudWatch Logs (the REPORT line
/// Lambda writes after every invocation). The emulator does not check signatures.
async fn invocation_durations(stack: &Stack) -> Result<Value> {
    let http = reqwest::Client::new();
    let mut out = BTreeMap::new();
    for (function, name) in &stack.info.functions {
        let mut durations: Vec<f64> = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut body =
                json!({"logGroupName": format!("/aws/lambda/{name}"), "filterPattern": "REPORT"});
            if let Some(token) = &token {
                body["nextToken"] = json!(token);
            }
            let response = http
                .post(&stack.info.endpoint)
                .header("X-Amz-Target", "Logs_20140328.FilterLogEvents")
                .header("Content-Type", "application/x-amz-json-1.1")
                .header("Authorization", format!("AWS4-HMAC-SHA256 Credential={}/20261130/{}/logs/aws4_request, SignedHeaders=host, Signature=0", stack.info.access_key_id, stack.info.region))
                .body(body.to_string())
                .send()
                .await?;
            if !response.status().is_success() {
                break;
            }
            let page: Value = response.json().await?;
            for event in page["events"].as_array().into_iter().flatten() {
                let message = event["message"].as_str().unwrap_or_default();
                if let Some(ms) = message
                    .split("Duration: ")
                    .nth(1)
                    .and_then(|rest| rest.split(' ').next())
                    .and_then(|ms| ms.parse::<f64>().ok())
                {
                    durations.push(ms);
                }
            }
            token = page["nextToken"].as_str().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        durations.sort_by(f64::total_cmp);
        if durations.is_empty() {
            continue;
        }
        let at =
            |p: f64| durations[((p / 100.0) * (durations.len() as f64 - 1.0)).round() as usize];
        out.insert(
            function.clone(),
            json!({
                "invocations": durations.len(),
                "meanMs": durations.iter().sum::<f64>() / durations.len() as f64,
                "p50Ms": at(50.0),
                "p95Ms": at(95.0),
            }),
        );
    }
    Ok(json!(out))
}

/// Items written per public upload to the `uploadDay` GSI, and the peak per second per day key:
/// each public item's `uploadDate` (the S3 event time) gives its day partition and second.
async fn public_day_partitions(stack: &Stack) -> Result<Value> {
    let mut per_second: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut start_key = None;
    loop {
        let page = stack
            .dynamodb
            .scan()
            .table_name(&stack.info.table)
            .set_exclusive_start_key(start_key)
            .send()
            .await?;
        for item in page.items() {
            let public = matches!(item.get("isPublic"), Some(AttributeValue::Bool(true)));
            if let (true, Some(AttributeValue::S(day)), Some(AttributeValue::S(date))) =
                (public, item.get("uploadDay"), item.get("uploadDate"))
            {
                *per_second
                    .entry((day.clone(), date.chars().take(19).collect()))
                    .or_default() += 1;
            }
        }
        start_key = page.last_evaluated_key().cloned();
        if start_key.is_none() {
            break;
        }
    }
    let mut peak: BTreeMap<String, u64> = BTreeMap::new();
    for ((day, _), n) in &per_second {
        let p = peak.entry(day.clone()).or_default();
        *p = (*p).max(*n);
    }
    Ok(json!({"peakPublicUploadsPerSecondByDay": peak}))
}

#[tokio::main]
async fn main() -> Result<()> {
    let (total, parameters) = count_and_parameters(1000)?;
    let parameters: Vec<(&str, &str)> = parameters
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let (edits, deletes) = (total / 5, total / 5);
    let stack = Arc::new(Stack::start_with_parameters(&parameters).await?);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let owners: Vec<String> = (0..USERS).map(|_| identity_id()).collect();
    let picture = photo_jpeg(640, 480);
    let uploads: Vec<Upload> = (0..total)
        .map(|n| {
            let (owner, public) = (owners[n % USERS].clone(), n % 2 == 0);
            let key = format!(
                "{}/content/{owner}/load-{n:04}.jpg",
                if public { "public" } else { "private" }
            );
            Upload { owner, key, public }
        })
        .collect();

    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = tokio::spawn(watch(
        stack.clone(),
        uploads.clone(),
        seen.clone(),
        stop.clone(),
    ));

    // Phase 1: each user uploads its share one after another, all users at once.
    let started = Instant::now();
    let picture = Arc::new(picture);
    let body = picture.clone();
    let sent = per_owner(&stack, &uploads, move |stack, upload| {
        upload_one(stack, upload, body.clone())
    })
    .await?;
    let sent_in = started.elapsed();
    until(
        &seen,
        "every upload in its index",
        Duration::from_secs(900),
        |s| uploads.iter().all(|u| s.listed.contains_key(&u.key)),
    )
    .await?;
    let upload_events = log_events(&stack, &INDEX_EVENTS).len();
    let (upload_latencies, last_listed) = {
        let seen = seen.lock().unwrap();
        let latencies: Vec<Duration> = uploads
            .iter()
            .map(|u| seen.listed[&u.key] - sent[&u.key])
            .collect();
        (
            latencies,
            uploads
                .iter()
                .map(|u| seen.listed[&u.key])
                .max()
                .expect("uploads"),
        )
    };
    let upload_span = (last_listed - started).as_secs_f64();
    let days = public_day_partitions(&stack).await?;
    println!(
        "uploads: {total} by {USERS} users, sent in {:.1} s, all listed after {upload_span:.1} s",
        sent_in.as_secs_f64()
    );

    // Phase 2: edits of every fifth upload, 20 users at once.
    let edited: Vec<Upload> = uploads.iter().step_by(5).take(edits).cloned().collect();
    let edit_sent = per_owner(&stack, &edited, edit).await?;
    let new_title = |u: &Upload| format!("edited {}", u.key);
    until(
        &seen,
        "every edit in its index",
        Duration::from_secs(600),
        |s| {
            edited
                .iter()
                .all(|u| s.titled.contains_key(&(u.key.clone(), new_title(u))))
        },
    )
    .await?;
    let edit_events = log_events(&stack, &INDEX_EVENTS).len();
    let edit_latencies: Vec<Duration> = {
        let seen = seen.lock().unwrap();
        edited
            .iter()
            .map(|u| seen.titled[&(u.key.clone(), new_title(u))] - edit_sent[&u.key])
            .collect()
    };

    // Phase 3: deletes of other uploads (the ones after each edited one), 20 users at once.
    let deleted: Vec<Upload> = uploads
        .iter()
        .skip(1)
        .step_by(5)
        .take(deletes)
        .cloned()
        .collect();
    let delete_sent = per_owner(&stack, &deleted, delete).await?;
    until(
        &seen,
        "every delete out of its index",
        Duration::from_secs(600),
        |s| {
            deleted.iter().all(|u| {
                s.absent_since
                    .get(&u.key)
                    .is_some_and(|at| *at > delete_sent[&u.key])
            })
        },
    )
    .await?;
    let delete_latencies: Vec<Duration> = {
        let seen = seen.lock().unwrap();
        deleted
            .iter()
            .map(|u| seen.absent_since[&u.key] - delete_sent[&u.key])
            .collect()
    };
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    watcher.await??;
    // Let the last regenerations (found current) reach the log.
    tokio::time::sleep(Duration::from_secs(5)).await;

    let events = log_events(&stack, &INDEX_EVENTS);
    let public_uploads = uploads.iter().filter(|u| u.public).count();
    let report = json!({
        "date": chrono::Utc::now().format("%Y-%m-%d").to_string(),
        "cores": cores,
        "users": USERS,
        "parameters": parameters.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
        "uploads": {
            "count": total, "public": public_uploads, "private": total - public_uploads,
            "bytesEach": picture.len(), "width": 640, "height": 480,
            "sentSeconds": sent_in.as_secs_f64(), "allListedSeconds": upload_span,
            "perSecond": total as f64 / upload_span, "perSecondPerCore": total as f64 / upload_span / cores as f64,
            "latency": latency_summary(upload_latencies),
            "index": index_counters(&events[..upload_events]),
        },
        "edits": {"count": edited.len(), "latency": latency_summary(edit_latencies), "index": index_counters(&events[upload_events..edit_events])},
        "deletes": {"count": deleted.len(), "latency": latency_summary(delete_latencies), "index": index_counters(&events[edit_events..])},
        "indexTotals": index_counters(&events),
        "bucket": bucket_census(&stack).await?,
        "invocations": invocation_durations(&stack).await?,
        "cpuSeconds": process_cpu_seconds(&stack),
        "hotKeys": days,
    });
    let text = serde_json::to_string_pretty(&report)?;
    println!("{text}");
    if let Some(path) = std::env::var_os("LOAD_COUNTERS") {
        std::fs::write(&path, text + "\n").with_context(|| format!("writing {path:?}"))?;
    }
    Ok(())
}

/// Runs `request` on each upload and returns when each was sent: an owner's requests one
/// after another, all owners at once.
async fn per_owner<F, Fut>(
    stack: &Arc<Stack>,
    uploads: &[Upload],
    request: F,
) -> Result<HashMap<String, Instant>>
where
    F: Fn(Arc<Stack>, Upload) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let mut by_owner: BTreeMap<String, Vec<Upload>> = BTreeMap::new();
    for upload in uploads {
        by_owner
            .entry(upload.owner.clone())
            .or_default()
            .push(upload.clone());
    }
    let mut tasks = Vec::new();
    for (_, mine) in by_owner {
        let (stack, request) = (stack.clone(), request.clone());
        tasks.push(tokio::spawn(async move {
            let mut sent = HashMap::new();
            for upload in mine {
                let (at, key) = (Instant::now(), upload.key.clone());
                request(stack.clone(), upload).await?;
                sent.insert(key, at);
            }
            anyhow::Ok(sent)
        }));
    }
    let mut sent = HashMap::new();
    for task in tasks {
        sent.extend(task.await??);
    }
    Ok(sent)
}

/// Uploads the picture with the client's metadata header.
async fn upload_one(stack: Arc<Stack>, upload: Upload, picture: Arc<Vec<u8>>) -> Result<()> {
    let metadata = json!({"isPublic": upload.public, "title": format!("load {}", upload.key), "description": "a load-test upload"}).to_string();
    stack
        .upload(&upload.key, picture.to_vec(), Some(&metadata))
        .await
}

/// Edits title and description as the client does (`client/src/api.ts`, `updateText`).
async fn edit(stack: Arc<Stack>, upload: Upload) -> Result<()> {
    stack
        .dynamodb
        .update_item()
        .table_name(&stack.info.table)
        .key("identityId", AttributeValue::S(upload.owner.clone()))
        .key("objectKey", AttributeValue::S(upload.key.clone()))
        .update_expression("SET #title = :title, #description = :description")
        .condition_expression("attribute_exists(#title)")
        .expression_attribute_names("#title", "title")
        .expression_attribute_names("#description", "description")
        .expression_attribute_values(
            ":title",
            AttributeValue::S(format!("edited {}", upload.key)),
        )
        .expression_attribute_values(
            ":description",
            AttributeValue::S("edited by the load test".into()),
        )
        .send()
        .await?;
    Ok(())
}

/// Deletes the original, as the client does; the backend removes the rest.
async fn delete(stack: Arc<Stack>, upload: Upload) -> Result<()> {
    stack.delete(&upload.key).await
}
