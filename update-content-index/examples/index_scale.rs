//! What one upload costs the paged indexes as the collection grows, with the in-memory stores
//! (the same publisher the function runs): one owner with 1,000 / 10,000 / 100,000 items, and
//! a public history of 1,000,000 items. For each, 20 uploads after the collection is in place:
//! bytes of index written and read in the bucket, items read consistently from the table,
//! keys listed from the secondary indexes, objects written; the largest head, page and
//! volume, and the entries the head lists (pages / volumes).
//! Run with `make -C bench index-scale` (figures in bench/README.md).
//!
//! Arguments: the owner's collection sizes, then the public history's size
//! (default `1000,10000,100000 1000000`). With `INDEX_SCALE_JSON=path`, each row is also
//! appended to that file as a JSON line (read by `bench/cost.py`).

use std::sync::atomic::Ordering;

use media_core::item::{MediaItem, Sequencer};
use media_core::ports::IndexItems;
use media_core::testing::memory::{MemoryItemStore, MemoryObjectStore};
use media_index::{ContentIndex, IndexChange, IndexLimits, IndexPublisher, IndexTarget, PageEntry};

const UPLOADS: usize = 20;

fn item(owner: &str, n: usize, public: bool, minutes: usize) -> MediaItem {
    let visibility = if public { "public" } else { "private" };
    let at = chrono::DateTime::parse_from_rfc3339("2020-01-01T00:00:00Z")
        .unwrap()
        .to_utc()
        + chrono::Duration::seconds(minutes as i64 * 60 + (n % 60) as i64);
    let date = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    MediaItem {
        identity_id: owner.into(),
        object_key: format!("{visibility}/content/{owner}/IMG_{n:07}.jpg"),
        thumbnail_key: Some(format!("{visibility}/thumbnails/{owner}/IMG_{n:07}.jpg")),
        is_public: public,
        title: format!("Holiday picture number {n}"),
        description: "A picture from the trip, with a description of a usual length.".into(),
        upload_day: public.then(|| date[..10].to_owned()),
        upload_date: Some(date),
        content_type: Some("image/jpeg".into()),
        size: Some(2_345_678),
        width: Some(4000),
        height: Some(3000),
        face_count: Some(2),
        faces_key: Some(format!("{visibility}/faces/{owner}/IMG_{n:07}.jpg")),
        sequencer: Some(Sequencer::new("0055AED6DCD90281E5")),
        ..Default::default()
    }
}

#[derive(Default, Clone, Copy)]
struct Cost {
    bytes_written: usize,
    bytes_read: usize,
    items_read: usize,
    keys_listed: usize,
    puts: usize,
}

fn snapshot(objects: &MemoryObjectStore, items: &MemoryItemStore) -> Cost {
    Cost {
        bytes_written: objects.bytes_written.load(Ordering::SeqCst),
        bytes_read: objects.bytes_read.load(Ordering::SeqCst),
        items_read: items.items_read.load(Ordering::SeqCst),
        keys_listed: items.index_keys_read.load(Ordering::SeqCst),
        puts: objects.request_count("PutObject"),
    }
}

/// The largest head, page and volume in bytes, and the head's entries: pages and volumes.
fn largest(objects: &MemoryObjectStore, head_key: &str) -> (usize, usize, usize, usize, usize) {
    let folder = head_key.trim_end_matches("content.json");
    let all = objects.objects.lock().unwrap();
    let head = all.get(head_key).map_or(0, |o| o.body.len());
    let biggest = |kind: &str| {
        all.iter()
            .filter(|(k, _)| k.starts_with(&format!("{folder}{kind}")))
            .map(|(_, o)| o.body.len())
            .max()
            .unwrap_or(0)
    };
    let entries: Vec<PageEntry> = all
        .get(head_key)
        .map(|o| {
            serde_json::from_slice::<ContentIndex>(&o.body)
                .unwrap()
                .pages
        })
        .unwrap_or_default();
    let volumes = entries.iter().filter(|p| p.level > 0).count();
    (
        head,
        biggest("content-"),
        biggest("volume"),
        entries.len() - volumes,
        volumes,
    )
}

/// Builds a collection of `size` items (every `minutes_apart` minutes), pages it, then
/// measures `UPLOADS` uploads.
async fn measure(
    label: &str,
    target: IndexTarget,
    size: usize,
    owners: usize,
    public: bool,
    per_day: usize,
) {
    let objects = MemoryObjectStore::default();
    let items = MemoryItemStore::default();
    let limits = IndexLimits::default();
    let owner = |n: usize| format!("us-east-1:{:08x}-1111-4111-8111-111111111111", n % owners);
    let minutes = |n: usize| n * (24 * 60) / per_day;
    for n in 0..size {
        let it = item(&owner(n), n, public, minutes(n));
        if let Some(day) = &it.upload_day {
            if n % per_day == 0 {
                items.mark_public_day(day).await.unwrap();
            }
        }
        items.put(it);
    }
    if let Some(day) = item(&owner(size - 1), size - 1, public, minutes(size - 1)).upload_day {
        items.mark_public_day(&day).await.unwrap();
    }
    let publisher = IndexPublisher {
        objects: &objects,
        items: &items,
        limits,
    };
    let started = std::time::Instant::now();
    publisher.rebuild(&target).await.unwrap();
    let built_in = started.elapsed();

    let mut costs = Vec::new();
    for n in size..size + UPLOADS {
        let it = item(&owner(0), n, public, minutes(n));
        items.put(it.clone());
        if let Some(day) = &it.upload_day {
            items.mark_public_day(day).await.unwrap();
        }
        let before = snapshot(&objects, &items);
        publisher
            .regenerate(&target, &[IndexChange::of(&it)])
            .await
            .unwrap();
        let after = snapshot(&objects, &items);
        costs.push(Cost {
            bytes_written: after.bytes_written - before.bytes_written,
            bytes_read: after.bytes_read - before.bytes_read,
            items_read: after.items_read - before.items_read,
            keys_listed: after.keys_listed - before.keys_listed,
            puts: after.puts - before.puts,
        });
    }
    let mean =
        |f: fn(&Cost) -> usize| costs.iter().map(f).sum::<usize>() as f64 / costs.len() as f64;
    let max = |f: fn(&Cost) -> usize| costs.iter().map(f).max().unwrap_or(0);
    let (head, page, volume, head_pages, head_volumes) = largest(&objects, &target.key());
    println!(
        "| {label} | {size} | {:.1} / {:.1} | {:.1} / {:.1} | {:.0} / {} | {:.0} / {} | {:.1} / {} | {:.1} | {:.1} | {:.1} | {head_pages} / {head_volumes} | (paged in {:.1} s) |",
        mean(|c| c.bytes_written) / 1024.0,
        max(|c| c.bytes_written) as f64 / 1024.0,
        mean(|c| c.bytes_read) / 1024.0,
        max(|c| c.bytes_read) as f64 / 1024.0,
        mean(|c| c.items_read),
        max(|c| c.items_read),
        mean(|c| c.keys_listed),
        max(|c| c.keys_listed),
        mean(|c| c.puts),
        max(|c| c.puts),
        head as f64 / 1024.0,
        page as f64 / 1024.0,
        volume as f64 / 1024.0,
        built_in.as_secs_f64(),
    );
    // The same means as JSON lines, for the cost model (`bench/cost.py`).
    if let Some(path) = std::env::var_os("INDEX_SCALE_JSON") {
        let row = serde_json::json!({
            "index": if public { "public" } else { "private" },
            "items": size,
            "bytesWritten": mean(|c| c.bytes_written),
            "bytesRead": mean(|c| c.bytes_read),
            "itemsRead": mean(|c| c.items_read),
            "keysListed": mean(|c| c.keys_listed),
            "objectsWritten": mean(|c| c.puts),
            "largestHead": head,
            "largestPage": page,
        });
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .expect("INDEX_SCALE_JSON is writable");
        writeln!(file, "{row}").expect("INDEX_SCALE_JSON is writable");
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let sizes: Vec<usize> = args
        .next()
        .unwrap_or_else(|| "1000,10000,100000".into())
        .split(',')
        .map(|s| s.parse().expect("a size"))
        .collect();
    let public_history: usize = args
        .next()
        .map_or(1_000_000, |s| s.parse().expect("a size"));
    let limits = IndexLimits::default();
    println!(
        "heads: {} public / {} private items; pages of {} items; volumes of {} entries; {UPLOADS} uploads each, mean / max\n",
        limits.public_head, limits.private_head, limits.page_size, limits.volume_size
    );
    println!("| index | items | KiB written | KiB read (bucket) | items read (table, consistent) | keys listed (GSI) | objects written | largest head KiB | largest page KiB | largest volume KiB | head lists pages / volumes | |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let owner = "us-east-1:00000000-1111-4111-8111-111111111111".to_owned();
    for size in sizes {
        // One owner uploading about 20 pictures a day.
        measure(
            "private, one owner",
            IndexTarget::Private(owner.clone()),
            size,
            1,
            false,
            20,
        )
        .await;
    }
    // 1,000 owners, 10,000 public uploads a day.
    measure(
        "public",
        IndexTarget::Public,
        public_history,
        1000,
        true,
        10_000,
    )
    .await;
}
