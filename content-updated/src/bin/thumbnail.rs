//! `thumbnail [--size N] [--out DIR] FILE...`: content-updated's image path
//! ([`media_imaging::make_renditions`], thumbnail and preview, with the function's
//! limits from the environment) on local files, for benchmarks and the memory test; with
//! `--size N`, a thumbnail alone fitting N ([`media_imaging::make_thumbnail_sized`]).
//! Prints one JSON line per file: `{"file", "ms", "width", "height", "bytes", "maxRssKb"}`
//! (the thumbnail's size; with renditions also `previewWidth`, `previewHeight`,
//! `previewBytes` and `animated`; `ms` is this thread's CPU time for the file, `maxRssKb` the
//! process's peak resident memory so far), or `{"file", "error"}`.

use std::path::{Path, PathBuf};
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

/// What the command line asks for.
struct Args {
    /// A thumbnail alone fitting this many pixels, instead of the function's renditions.
    size: Option<u32>,
    /// Where to write the renditions, if anywhere.
    out: Option<PathBuf>,
    files: Vec<PathBuf>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        size: None,
        out: None,
        files: Vec::new(),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--size" => {
                let size = args.next().and_then(|v| v.parse().ok());
                parsed.size = Some(size.ok_or("--size takes a number of pixels")?);
            }
            "--out" => parsed.out = Some(args.next().ok_or("--out takes a directory")?.into()),
            "-h" | "--help" => return Err(String::new()),
            _ => parsed.files.push(PathBuf::from(arg)),
        }
    }
    if parsed.files.is_empty() {
        return Err("no files given".into());
    }
    Ok(parsed)
}

/// A thumbnail, and with the function's renditions the preview and whether it is animated.
struct Rendered {
    thumbnail: Encoded,
    preview: Option<(Encoded, bool)>,
}

fn render(bytes: &[u8], limits: &ImageLimits, size: Option<u32>) -> Result<Rendered, ImagingError> {
    Ok(match size {
        Some(size) => Rendered {
            thumbnail: make_thumbnail_sized(bytes, limits, size)?.encoded,
            preview: None,
        },
        None => {
            let renditions = make_renditions(bytes, limits)?;
            Rendered {
                thumbnail: renditions.thumbnail,
                preview: Some((renditions.preview, renditions.animated)),
            }
        }
    })
}

/// Writes `<stem>.jpg|png` (and `<stem>.preview.jpg`) into `dir`.
fn write_rendered(dir: &Path, file: &Path, rendered: &Rendered) -> std::io::Result<()> {
    let stem = file.file_stem().unwrap_or_default().to_string_lossy();
    let mut written = vec![(stem.to_string(), &rendered.thumbnail)];
    if let Some((preview, _)) = &rendered.preview {
        written.push((format!("{stem}.preview"), preview));
    }
    for (name, encoded) in written {
        let ext = if encoded.content_type == "image/png" {
            "png"
        } else {
            "jpg"
        };
        std::fs::write(dir.join(format!("{name}.{ext}")), &encoded.bytes)?;
    }
    Ok(())
}

/// The JSON line for one rendered file.
fn report(name: &str, ms: f64, rendered: &Rendered) -> serde_json::Value {
    let thumbnail = &rendered.thumbnail;
    let mut line = serde_json::json!({
        "file": name,
        "ms": (ms * 1000.0).round() / 1000.0,
        "width": thumbnail.width,
        "height": thumbnail.height,
        "bytes": thumbnail.bytes.len(),
        "maxRssKb": max_rss_kb(),
    });
    if let Some((preview, animated)) = &rendered.preview {
        line["previewWidth"] = preview.width.into();
        line["previewHeight"] = preview.height.into();
        line["previewBytes"] = preview.bytes.len().into();
        line["animated"] = (*animated).into();
    }
    line
}

/// Renders one file and says how it went; `Err` carries the line of a failure.
fn run_one(
    file: &Path,
    args: &Args,
    limits: &ImageLimits,
) -> Result<serde_json::Value, serde_json::Value> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file)
        .map_err(|err| serde_json::json!({"file": name, "error": err.to_string()}))?;
    let start = thread_cpu_ms();
    let rendered = render(&bytes, limits, args.size).map_err(
        |err| serde_json::json!({"file": name, "error": err.to_string(), "maxRssKb": max_rss_kb()}),
    )?;
    let ms = thread_cpu_ms() - start;
    if let Some(dir) = &args.out {
        write_rendered(dir, file, &rendered).map_err(|err| {
            serde_json::json!({"file": name, "error": format!("cannot write the renditions: {err}")})
        })?;
    }
    Ok(report(&name, ms, &rendered))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(problem) => return usage(&problem),
    };
    let limits = match ImageLimits::from_env() {
        Ok(limits) => limits,
        Err(err) => return usage(&err.to_string()),
    };
    let mut status = ExitCode::SUCCESS;
    for file in &args.files {
        let line = run_one(file, &args, &limits).unwrap_or_else(|failure| {
            status = ExitCode::FAILURE;
            failure
        });
        println!("{line}");
    }
    status
}

fn usage(problem: &str) -> ExitCode {
    if !problem.is_empty() {
        eprintln!("thumbnail: {problem}");
    }
    eprintln!("usage: thumbnail [--size N] [--out DIR] FILE...   (limits from MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, MAX_DECODED_BYTES)");
    ExitCode::from(2)
}
