//! The labelled face set (`data/labels.tsv`, images fetched by `make test-data`), shared by the
//! accuracy test and the benchmark so both judge against the same labels.

use std::path::{Path, PathBuf};

/// One labelled image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Labelled {
    pub file: String,
    /// Faces a person counts in the image.
    pub faces: u32,
    /// How far the default detector's count may be from `faces` (0 on faceless images).
    pub tolerance: u32,
    pub source: String,
    pub what: String,
}

/// The labels shipped in the crate.
pub const LABELS: &str = include_str!("../data/labels.tsv");

pub fn labels() -> Vec<Labelled> {
    LABELS
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let mut cols = line.split('\t');
            let mut next = || cols.next().unwrap_or_default().to_owned();
            let file = next();
            let faces = next()
                .parse()
                .unwrap_or_else(|_| panic!("bad face count in labels.tsv: {line}"));
            let tolerance = next()
                .parse()
                .unwrap_or_else(|_| panic!("bad tolerance in labels.tsv: {line}"));
            Labelled {
                file,
                faces,
                tolerance,
                source: next(),
                what: next(),
            }
        })
        .collect()
}

/// Where `make test-data` puts the images: `FACE_DATA_DIR`, else
/// `~/.cache/media-share/face-data`.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FACE_DATA_DIR").filter(|d| !d.is_empty()) {
        return dir.into();
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    PathBuf::from(home).join(".cache/media-share/face-data")
}

/// The images of the set that are missing from `dir`.
pub fn missing(dir: &Path) -> Vec<String> {
    labels()
        .into_iter()
        .filter(|l| !dir.join(&l.file).is_file())
        .map(|l| l.file)
        .collect()
}

/// Count-based scores: with no box labels, a found face counts as true up to the labelled
/// count; faces beyond it are false positives, faces short of it false negatives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Score {
    pub true_positives: u32,
    pub false_positives: u32,
    pub false_negatives: u32,
}

impl Score {
    pub fn add(&mut self, expected: u32, found: u32) {
        self.true_positives += expected.min(found);
        self.false_positives += found.saturating_sub(expected);
        self.false_negatives += expected.saturating_sub(found);
    }

    pub fn recall(&self) -> f64 {
        let all = self.true_positives + self.false_negatives;
        if all == 0 {
            1.0
        } else {
            f64::from(self.true_positives) / f64::from(all)
        }
    }

    pub fn precision(&self) -> f64 {
        let found = self.true_positives + self.false_positives;
        if found == 0 {
            1.0
        } else {
            f64::from(self.true_positives) / f64::from(found)
        }
    }
}
