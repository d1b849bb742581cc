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

fn exif_of(bytes: &[u8]) -> Option<Exif> {
    let mut reader = exif::Reader::new();
    // Keep what could be read of a damaged Exif (a bad thumbnail IFD must not lose the date).
    reader.continue_on_error(true);
    match reader.read_from_container(&mut Cursor::new(bytes)) {
        Ok(exif) => Some(exif),
        Err(exif::Error::PartialResult(partial)) => Some(partial.into_inner().0),
        Err(_) => None,
    }
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
