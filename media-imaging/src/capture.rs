//! When, and with what, a picture was taken: the capture time and the camera from its Exif.
//!
//! The time is `DateTimeOriginal` (Exif 2.32 tag 0x9003), else `DateTimeDigitized` (0x9004),
//! with its offset from UTC (`OffsetTimeOriginal` 0x9011, `OffsetTimeDigitized` 0x9012) when
//! the camera wrote one; `DateTime` (0x0132) is not used, since editors rewrite it. The camera
//! is `Make` and `Model` (0x010F, 0x0110). kamadak-exif finds the Exif wherever an accepted
//! format keeps it (JPEG APP1, TIFF, the HEIF/AVIF `Exif` item, PNG `eXIf`, WebP `EXIF`).
//! Nothing else is read: not the GPS IFD (no location ever leaves an original), not serial
//! numbers or owner names.
//!
//! Metadata is whatever the uploader wrote, so a time is kept only when it is a real calendar
//! time, not before 1826 (the oldest surviving photograph) and not after the upload, allowing
//! for a local time up to 14 hours ahead of UTC (UTC+14 is the easternmost zone). Anything
//! else (year 0, 2099, "garbage", 30 February, a blank field) is dropped, never guessed at.

use std::fmt;
use std::io::Cursor;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use exif::{Exif, In, Tag, Value};
use image::ImageFormat;

/// The earliest capture year believed.
const EARLIEST_YEAR: i32 = 1826;
/// How far a local time may run ahead of UTC.
const LARGEST_UTC_OFFSET_HOURS: i64 = 14;
/// Longest `Make` or `Model` kept, in characters (real ones are a few dozen).
const MAX_CAMERA_PART: usize = 64;

/// What the Exif says about a picture's capture, each part only when believable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capture {
    pub taken_at: Option<TakenAt>,
    /// `Model`, preceded by `Make` unless the model already starts with it
    /// ("Canon EOS 5D Mark III", "Apple iPhone 15 Pro").
    pub camera: Option<String>,
}

/// A capture time as the camera's clock showed it, with that clock's offset from UTC when
/// the file says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TakenAt {
    pub local: NaiveDateTime,
    pub offset: Option<FixedOffset>,
}

impl fmt::Display for TakenAt {
    /// ISO 8601: `2012-12-06T15:46:01`, or `2012-12-06T15:46:01-05:00` with an offset. The
    /// local part comes first either way, so the text sorts by the time the camera showed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.local.format("%Y-%m-%dT%H:%M:%S"))?;
        if let Some(offset) = self.offset {
            write!(f, "{offset}")?;
        }
        Ok(())
    }
}

/// Reads the capture of the picture in `bytes`, uploaded at `uploaded`. Unreadable or absent
/// Exif gives an empty [`Capture`]: it never stops an upload.
pub fn read(bytes: &[u8], uploaded: DateTime<Utc>) -> Capture {
    let Some(exif) = exif_of(bytes) else {
        return Capture::default();
    };
    Capture {
        taken_at: taken_at(&exif, uploaded),
        camera: camera(&exif),
    }
}

/// Most bytes of Exif read: what a JPEG's APP1 segment can hold. kamadak-exif splits an ASCII
/// value at every NUL into vectors of its own (24 bytes each), so a 40 MB `eXIf` chunk of NULs
/// behind a `Make` would take about a gigabyte; a block this size takes at most 1.5 MB.
const MAX_EXIF_BYTES: usize = 64 * 1024;

fn exif_of(bytes: &[u8]) -> Option<Exif> {
    let mut reader = exif::Reader::new();
    // Keep what could be read of a damaged Exif (a bad thumbnail IFD must not lose the date).
    reader.continue_on_error(true);
    let read = match crate::sniff_format(bytes) {
        // JPEG's APP1 is at most 64 KB by its length field; kamadak-exif reads a HEIF's Exif
        // item only up to 128 KB.
        Some(ImageFormat::Png) => reader.read_raw(bounded(png_exif(bytes)?)?),
        Some(ImageFormat::WebP) => reader.read_raw(bounded(webp_exif(bytes)?)?),
        // A TIFF is its own Exif block: its first 64 KB, where cameras write their tags (a
        // value pointing further fails alone, and the rest is kept).
        Some(ImageFormat::Tiff) => {
            reader.read_raw(bytes[..bytes.len().min(MAX_EXIF_BYTES)].to_vec())
        }
        _ => reader.read_from_container(&mut Cursor::new(bytes)),
    };
    match read {
        Ok(exif) => Some(exif),
        Err(exif::Error::PartialResult(partial)) => Some(partial.into_inner().0),
        Err(_) => None,
    }
}

/// The block as kamadak-exif reads it (a TIFF structure), when it is at most
/// [`MAX_EXIF_BYTES`].
fn bounded(block: &[u8]) -> Option<Vec<u8>> {
    let tiff = block.strip_prefix(b"Exif\0\0").unwrap_or(block);
    (tiff.len() <= MAX_EXIF_BYTES).then(|| tiff.to_vec())
}

/// The data of a PNG's `eXIf` chunk (PNG 1.2 extensions, 1.5.0), wherever it is.
fn png_exif(bytes: &[u8]) -> Option<&[u8]> {
    let mut at = 8;
    while let Some(header) = bytes.get(at..at + 8) {
        let length = usize::try_from(u32::from_be_bytes(header[..4].try_into().ok()?)).ok()?;
        let data = at + 8..(at + 8).checked_add(length)?;
        if &header[4..] == b"eXIf" {
            return bytes.get(data);
        }
        at = data.end.checked_add(4)?;
    }
    None
}

/// The data of a WebP's `EXIF` chunk (WebP container specification, "Extended file format").
fn webp_exif(bytes: &[u8]) -> Option<&[u8]> {
    let mut at = 12;
    while let Some(header) = bytes.get(at..at + 8) {
        let size = usize::try_from(u32::from_le_bytes(header[4..].try_into().ok()?)).ok()?;
        let data = at + 8..(at + 8).checked_add(size)?;
        if &header[..4] == b"EXIF" {
            return bytes.get(data);
        }
        at = data.end.checked_add(size % 2)?;
    }
    None
}

fn taken_at(exif: &Exif, uploaded: DateTime<Utc>) -> Option<TakenAt> {
    [
        (Tag::DateTimeOriginal, Tag::OffsetTimeOriginal),
        (Tag::DateTimeDigitized, Tag::OffsetTimeDigitized),
    ]
    .into_iter()
    .find_map(|(time, offset)| {
        let local = local_time(ascii(exif, time)?)?;
        let offset = ascii(exif, offset).and_then(utc_offset);
        Some(TakenAt { local, offset }).filter(|taken| believable(taken, uploaded))
    })
}

/// The first string of an ASCII field of the primary image.
fn ascii(exif: &Exif, tag: Tag) -> Option<&[u8]> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(strings) => strings.first().map(Vec::as_slice),
        _ => None,
    }
}

/// `YYYY:MM:DD HH:MM:SS` as a calendar time (`exif::DateTime` checks the shape, chrono that
/// the day and time exist).
fn local_time(text: &[u8]) -> Option<NaiveDateTime> {
    let parsed = exif::DateTime::from_ascii(text).ok()?;
    NaiveDate::from_ymd_opt(
        i32::from(parsed.year),
        u32::from(parsed.month),
        u32::from(parsed.day),
    )?
    .and_hms_opt(
        u32::from(parsed.hour),
        u32::from(parsed.minute),
        u32::from(parsed.second),
    )
}

/// `+HH:MM` or `-HH:MM`, within the offsets real zones use.
fn utc_offset(text: &[u8]) -> Option<FixedOffset> {
    let mut parsed = exif::DateTime::from_ascii(b"2000:01:01 00:00:00").ok()?;
    parsed.parse_offset(text).ok()?;
    let minutes = i32::from(parsed.offset?);
    (minutes.abs() <= 14 * 60)
        .then(|| FixedOffset::east_opt(minutes * 60))
        .flatten()
}

fn believable(taken: &TakenAt, uploaded: DateTime<Utc>) -> bool {
    use chrono::Datelike;
    taken.local.year() >= EARLIEST_YEAR
        && taken.local <= uploaded.naive_utc() + Duration::hours(LARGEST_UTC_OFFSET_HOURS)
}

fn camera(exif: &Exif) -> Option<String> {
    let make = ascii(exif, Tag::Make).and_then(printable);
    let model = ascii(exif, Tag::Model).and_then(printable);
    match (make, model) {
        (Some(make), Some(model)) if !model.to_lowercase().starts_with(&make.to_lowercase()) => {
            Some(format!("{make} {model}"))
        }
        (_, Some(model)) => Some(model),
        (Some(make), None) => Some(make),
        (None, None) => None,
    }
}

/// The text of an Exif ASCII value without control characters, padding, or anything past
/// [`MAX_CAMERA_PART`]; `None` when nothing is left.
fn printable(bytes: &[u8]) -> Option<String> {
    let text: String = String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| !c.is_control() && *c != char::REPLACEMENT_CHARACTER)
        .take(MAX_CAMERA_PART)
        .collect();
    let trimmed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!trimmed.is_empty()).then_some(trimmed)
}

#[cfg(test)]
#[path = "capture_tests.rs"]
mod tests;
