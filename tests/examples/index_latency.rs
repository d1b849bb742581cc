//! Upload-to-public-index latency on a fresh devstack: a burst of concurrent uploads, the
//! time until each appears in the public index (polled every 50 ms), and how many index
//! writes the burst caused. Run with `make -C bench index`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use e2e_tests::{encode, identity_id, Stack};

const PUBLIC_INDEX: &str = "public/index/content.json";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<()> {
    let uploads: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(50);
    let stack = Stack::start().await?;
    let owner = identity_id();
    let picture = encode(image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(640, 480, image::Rgb([90, 120, 200]))), image::ImageFormat::Jpeg);

    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..uploads {
        let (s3, bucket, body) = (stack.s3.clone(), stack.info.bucket.clone(), picture.clone());
        let key = format!("public/content/{owner}/burst-{n:03}.jpg");
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            s3.put_object().bucket(bucket).key(&key).body(body.into()).send().await.map(|_| (key, sent))
        }));
    }
    let mut sent_at: HashMap<String, Instant> = HashMap::new();
    for task in tasks {
        let (key, sent) = task.await??;
        sent_at.insert(key, sent);
    }
    let uploaded_in = started.elapsed();

    let mut seen_at: HashMap<String, Instant> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while seen_at.len() < uploads && Instant::now() < deadline {
        if let Some((bytes, _)) = stack.object(PUBLIC_INDEX).await? {
            let index: serde_json::Value = serde_json::from_slice(&bytes)?;
            let now = Instant::now();
            for entry in index["items"].as_array().into_iter().flatten() {
                if let Some(key) = entry["objectKey"].as_str() {
                    seen_at.entry(key.to_owned()).or_insert(now);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut latencies: Vec<Duration> = sent_at.iter().filter_map(|(k, sent)| seen_at.get(k).map(|seen| *seen - *sent)).collect();
    latencies.sort();
    let log = stack.log();
    let written = log.lines().filter(|l| l.contains("index written") && l.contains(PUBLIC_INDEX)).count();
    let current = log.lines().filter(|l| l.contains("index already current") && l.contains(PUBLIC_INDEX)).count();
    let batches = log.lines().filter(|l| l.contains("index written") || l.contains("index already current")).count();
    println!("uploads: {uploads} concurrent, all sent in {:.0} ms; {} appeared in the public index", uploaded_in.as_secs_f64() * 1000.0, latencies.len());
    if !latencies.is_empty() {
        println!(
            "upload-to-public-index latency: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
            percentile(&latencies, 50.0).as_secs_f64() * 1000.0,
            percentile(&latencies, 95.0).as_secs_f64() * 1000.0,
            latencies.last().unwrap().as_secs_f64() * 1000.0
        );
    }
    println!("public index writes: {written} (plus {current} regenerations that found it current); index regenerations in all: {batches}");
    Ok(())
}
