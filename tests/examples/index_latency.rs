//! Upload-to-public-index latency on a fresh devstack: a burst of concurrent uploads, the
//! time until each appears in the public index (head or pages, polled every 50 ms), the
//! throughput, and how many index writes the burst caused. Run with `make -C bench index`
//! (`UPLOADS=200`, `PARAMETERS="StreamBatchingWindowSeconds=0 ..."` for template parameters).
//!
//! Usage: index_latency [UPLOADS] [Name=Value ...]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use e2e_tests::bench::{
    count_and_parameters, millis, percentile, process_cpu_seconds, IndexWatcher,
};
use e2e_tests::{encode, identity_id, Stack};

const PUBLIC_INDEX: &str = "public/index/content.json";

#[tokio::main]
async fn main() -> Result<()> {
    let (uploads, parameters) = count_and_parameters(50)?;
    let parameters: Vec<(&str, &str)> = parameters
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let stack = Stack::start_with_parameters(&parameters).await?;
    let owner = identity_id();
    let picture = encode(
        image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            640,
            480,
            image::Rgb([90, 120, 200]),
        )),
        image::ImageFormat::Jpeg,
    );

    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..uploads {
        let (s3, bucket, body) = (stack.s3.clone(), stack.info.bucket.clone(), picture.clone());
        let key = format!("public/content/{owner}/burst-{n:03}.jpg");
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            s3.put_object()
                .bucket(bucket)
                .key(&key)
                .body(body.into())
                .send()
                .await
                .map(|_| (key, sent))
        }));
    }
    let mut sent_at: HashMap<String, Instant> = HashMap::new();
    for task in tasks {
        let (key, sent) = task.await??;
        sent_at.insert(key, sent);
    }
    let uploaded_in = started.elapsed();

    let mut watcher = IndexWatcher::new(PUBLIC_INDEX);
    let mut seen_at: HashMap<String, Instant> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    while seen_at.len() < uploads && Instant::now() < deadline {
        let listed = watcher.listed(&stack).await?;
        let now = Instant::now();
        for key in listed.into_keys() {
            seen_at.entry(key).or_insert(now);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut latencies: Vec<Duration> = sent_at
        .iter()
        .filter_map(|(k, sent)| seen_at.get(k).map(|seen| *seen - *sent))
        .collect();
    latencies.sort();
    let log = stack.log();
    let written = log
        .lines()
        .filter(|l| l.contains("index written") && l.contains(PUBLIC_INDEX))
        .count();
    let current = log
        .lines()
        .filter(|l| l.contains("index already current") && l.contains(PUBLIC_INDEX))
        .count();
    let batches = log
        .lines()
        .filter(|l| l.contains("index written") || l.contains("index already current"))
        .count();
    println!("parameters: {parameters:?}");
    println!(
        "uploads: {uploads} concurrent, all sent in {:.0} ms; {} appeared in the public index",
        millis(uploaded_in),
        latencies.len()
    );
    if let Some(last) = seen_at.values().max() {
        let span = (*last - started).as_secs_f64();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!(
            "throughput: {:.1} uploads/s to the public index ({:.1} per core, {cores} cores), last listed {:.0} ms after the first upload",
            latencies.len() as f64 / span,
            latencies.len() as f64 / span / cores as f64,
            span * 1000.0
        );
    }
    if !latencies.is_empty() {
        println!(
            "upload-to-public-index latency: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
            millis(percentile(&latencies, 50.0)),
            millis(percentile(&latencies, 95.0)),
            millis(*latencies.last().unwrap())
        );
    }
    let cpu = process_cpu_seconds(&stack);
    let cpu_line: Vec<String> = cpu
        .as_object()
        .into_iter()
        .flatten()
        .map(|(part, s)| format!("{part} {:.1}", s.as_f64().unwrap_or(0.0)))
        .collect();
    println!(
        "CPU seconds since the stack started: {}",
        cpu_line.join(", ")
    );
    println!("public index writes: {written} (plus {current} regenerations that found it current); index regenerations in all: {batches}");
    Ok(())
}
