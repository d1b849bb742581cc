//! Benchmark of the face detectors on the labelled set: per-image detection time (CPU ms of
//! the process, the image already decoded; `make -C bench faces-labelled` pins it to one core)
//! and count-based recall and precision of each detector, as Markdown for bench/README.md.
//!
//! `cargo run --release -p face-detection --example faces_bench -- [--runs N] [--out DIR]`
//! (`make -C bench faces`). `--out` writes each image with its boxes as a PNG (at most
//! 800 px) to look at.

mod common;

use common::process_cpu_ms;

use face_detection::detector::{self, DetectorKind};
use face_detection::labelled::{self, Score};
use media_imaging::ImageLimits;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut runs = 5usize;
    let mut out = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(runs),
            "--out" => out = args.next().map(std::path::PathBuf::from),
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let dir = labelled::data_dir();
    let missing = labelled::missing(&dir);
    anyhow::ensure!(
        missing.is_empty(),
        "missing from {}: {missing:?}; run `make test-data`",
        dir.display()
    );
    let labels = labelled::labels();
    let limits = ImageLimits::default();
    let images: Vec<_> = labels
        .iter()
        .map(|l| {
            Ok((
                l,
                media_imaging::decode(&std::fs::read(dir.join(&l.file))?, &limits)?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;

    let mut summary = Vec::new();
    let mut rows: Vec<Vec<String>> = labels
        .iter()
        .zip(&images)
        .map(|(l, (_, d))| {
            vec![
                l.file.clone(),
                format!("{}x{}", d.info.width, d.info.height),
                l.faces.to_string(),
            ]
        })
        .collect();
    let mut header = vec!["image".to_owned(), "size".into(), "faces".into()];
    for kind in [DetectorKind::Haar, DetectorKind::Dnn] {
        let Some(model) = kind.find_model() else {
            eprintln!(
                "{}: no model found in {:?}; skipped",
                kind.as_str(),
                kind.model_candidates()
            );
            continue;
        };
        let detector = detector::load(kind, &model)?;
        detector.detect(&images[0].1.image)?; // warm-up: first-call allocations
        header.push(format!("{} found", kind.as_str()));
        header.push(format!("{} ms", kind.as_str()));
        let mut score = Score::default();
        let mut total = 0.0;
        for (row, (label, decoded)) in rows.iter_mut().zip(&images) {
            let mut times = Vec::new();
            let mut faces = Vec::new();
            for _ in 0..runs {
                let started = process_cpu_ms();
                faces = detector.detect(&decoded.image)?;
                times.push(process_cpu_ms() - started);
            }
            times.sort_by(f64::total_cmp);
            let median = times[times.len() / 2];
            total += median;
            score.add(label.faces, faces.len() as u32);
            row.push(faces.len().to_string());
            row.push(format!("{median:.0}"));
            if let Some(out) = &out {
                std::fs::create_dir_all(out)?;
                let marked = face_detection::draw::outline_faces(&decoded.image, &faces);
                let small = media_imaging::resize_to_fit(&marked, 800)?;
                small.save(out.join(format!(
                    "{}-{}.png",
                    kind.as_str(),
                    label.file.replace('.', "_")
                )))?;
            }
        }
        summary.push(format!(
            "| {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.0} |",
            kind.as_str(),
            model.file_name().unwrap_or_default().to_string_lossy(),
            score.true_positives,
            score.false_positives,
            score.false_negatives,
            score.recall(),
            score.precision(),
            total / images.len() as f64,
        ));
    }
    println!("| {} |", header.join(" | "));
    println!("|{}", "---|".repeat(header.len()));
    for row in rows {
        println!("| {} |", row.join(" | "));
    }
    println!();
    println!("| detector | model | true pos. | false pos. | false neg. | recall | precision | mean ms/image |");
    println!("|---|---|---|---|---|---|---|---|");
    for line in summary {
        println!("{line}");
    }
    Ok(())
}
