//! `thumbnail [--size N] [--out DIR] FILE...`: content-updated's image path
//! ([`media_imaging::make_renditions`], thumbnail and preview, with the function's
//! limits from the environment) on local files, for benchmarks and the memory test; with
//! `--size N`, a thumbnail alone fitting N ([`media_imaging::make_thumbnail_sized`]).
//! Prints one JSON line per file: `{"file", "ms", "width", "height", "bytes", "maxRssKb"}`
//! (the thumbnail's size; with renditions also `previewWidth`, `previewHeight`,
//! `previewBytes` and `animated`; `ms` is this thread's CPU time for the file, `maxRssKb` the
//! process's peak resident memory so far), or `{"file", "error"}`.

use std::path::PathBuf;
use std::process::ExitCode;

use media_imaging::ImageLimits;
use media_imaging::{make_renditions, make_thumbnail_sized, Encoded, ImagingError};

fn thread_cpu_ms() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
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
    let mut size: Option<u32> = None;
    let mut out: Option<PathBuf> = None;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--size" => match args.next().and_then(|v| v.parse().ok()) {
                Some(n) => size = Some(n),
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
                let result: Result<(Encoded, Option<(Encoded, bool)>), ImagingError> = match size {
                    Some(size) => {
                        make_thumbnail_sized(&bytes, &limits, size).map(|t| (t.encoded, None))
                    }
                    None => make_renditions(&bytes, &limits)
                        .map(|r| (r.thumbnail, Some((r.preview, r.animated)))),
                };
                let ms = thread_cpu_ms() - start;
                match result {
                    Ok((thumbnail, preview)) => {
                        if let Some(dir) = &out {
                            let stem = file.file_stem().unwrap_or_default().to_string_lossy();
                            let mut written = vec![(format!("{stem}"), &thumbnail)];
                            if let Some((preview, _)) = &preview {
                                written.push((format!("{stem}.preview"), preview));
                            }
                            for (name, encoded) in written {
                                let ext = if encoded.content_type == "image/png" {
                                    "png"
                                } else {
                                    "jpg"
                                };
                                if let Err(err) = std::fs::write(
                                    dir.join(format!("{name}.{ext}")),
                                    &encoded.bytes,
                                ) {
                                    failed = true;
                                    eprintln!("{name}: cannot write the rendition: {err}");
                                }
                            }
                        }
                        let mut line = serde_json::json!({"file": name, "ms": (ms * 1000.0).round() / 1000.0,
                            "width": thumbnail.width, "height": thumbnail.height, "bytes": thumbnail.bytes.len(),
                            "maxRssKb": max_rss_kb()});
                        if let Some((preview, animated)) = preview {
                            line["previewWidth"] = preview.width.into();
                            line["previewHeight"] = preview.height.into();
                            line["previewBytes"] = preview.bytes.len().into();
                            line["animated"] = animated.into();
                        }
                        line
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
