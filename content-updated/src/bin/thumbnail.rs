//! `thumbnail [--size N] [--out DIR] FILE...`: content-updated's thumbnail path
//! ([`media_core::imaging::make_thumbnail_sized`] with the function's limits from the
//! environment) on local files, for benchmarks and the memory test. Prints one JSON line per
//! file: `{"file", "ms", "width", "height", "maxRssKb"}` (`ms` is this thread's CPU time for
//! the file, `maxRssKb` the process's peak resident memory so far), or `{"file", "error"}`.

use std::path::PathBuf;
use std::process::ExitCode;

use media_core::config::ImageLimits;
use media_core::imaging::{make_thumbnail_sized, THUMBNAIL_BOX};

fn thread_cpu_ms() -> f64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into the pointer it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    now.tv_sec as f64 * 1e3 + now.tv_nsec as f64 / 1e6
}

/// VmHWM from /proc/self/status: the peak resident set of this process, in KiB.
fn max_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> ExitCode {
    let mut size = THUMBNAIL_BOX;
    let mut out: Option<PathBuf> = None;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--size" => match args.next().and_then(|v| v.parse().ok()) {
                Some(n) => size = n,
                None => return usage("--size takes a number of pixels"),
            },
            "--out" => match args.next() {
                Some(dir) => out = Some(PathBuf::from(dir)),
                None => return usage("--out takes a directory"),
            },
            "-h" | "--help" => return usage(""),
            _ => files.push(PathBuf::from(arg)),
        }
    }
    if files.is_empty() {
        return usage("no files given");
    }
    let limits = match ImageLimits::from_env() {
        Ok(limits) => limits,
        Err(err) => return usage(&err.to_string()),
    };
    let mut failed = false;
    for file in files {
        let name = file.display().to_string();
        let line = match std::fs::read(&file) {
            Err(err) => {
                failed = true;
                serde_json::json!({"file": name, "error": err.to_string()})
            }
            Ok(bytes) => {
                let start = thread_cpu_ms();
                let result = make_thumbnail_sized(&bytes, &limits, size);
                let ms = thread_cpu_ms() - start;
                match result {
                    Ok(thumbnail) => {
                        let encoded = thumbnail.encoded;
                        if let Some(dir) = &out {
                            let stem = file.file_stem().unwrap_or_default().to_string_lossy();
                            let ext = if encoded.content_type == "image/png" { "png" } else { "jpg" };
                            if let Err(err) = std::fs::write(dir.join(format!("{stem}.{ext}")), &encoded.bytes) {
                                failed = true;
                                eprintln!("{name}: cannot write the thumbnail: {err}");
                            }
                        }
                        serde_json::json!({"file": name, "ms": (ms * 1000.0).round() / 1000.0, "width": encoded.width,
                            "height": encoded.height, "maxRssKb": max_rss_kb()})
                    }
                    Err(err) => {
                        failed = true;
                        serde_json::json!({"file": name, "error": err.to_string(), "maxRssKb": max_rss_kb()})
                    }
                }
            }
        };
        println!("{line}");
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn usage(problem: &str) -> ExitCode {
    if !problem.is_empty() {
        eprintln!("thumbnail: {problem}");
    }
    eprintln!("usage: thumbnail [--size N] [--out DIR] FILE...   (limits from MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, MAX_DECODED_BYTES)");
    ExitCode::from(2)
}
