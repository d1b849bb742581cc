//! The capture reader on a real camera's files, on every format that keeps Exif, and on
//! values an uploader can write but no camera would.

use chrono::{DateTime, Utc};
use proptest::prelude::*;

use super::*;
use crate::testing::jpeg;
use crate::testing::location::{exif_block, ExifCarrier};

const MAKE: u16 = 0x010F;
const MODEL: u16 = 0x0110;
const DATE_TIME: u16 = 0x0132;
const ORIGINAL: u16 = 0x9003;
const DIGITIZED: u16 = 0x9004;
const OFFSET_ORIGINAL: u16 = 0x9011;
const OFFSET_DIGITIZED: u16 = 0x9012;

fn uploaded() -> DateTime<Utc> {
    "2026-12-07T10:00:00Z".parse().unwrap()
}

fn taken(exif: &[(u16, &str)]) -> Option<String> {
    let bytes = ExifCarrier::Jpeg.picture_carrying(&exif_block(&[], exif));
    read(&bytes, uploaded()).taken_at.map(|t| t.to_string())
}

fn camera_of(primary: &[(u16, &str)]) -> Option<String> {
    let bytes = ExifCarrier::Jpeg.picture_carrying(&exif_block(primary, &[]));
    read(&bytes, uploaded()).camera
}

/// Photographs from a Canon EOS 5D, fetched by `make test-data` into `FACE_DATA_DIR`.
fn camera_photo(name: &str) -> Vec<u8> {
    let dir = std::env::var_os("FACE_DATA_DIR")
        .expect("FACE_DATA_DIR: run `make unit` (or `make test-data`), which fetches the photos");
    let path = std::path::Path::new(&dir).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_cameras_own_files_give_their_capture_time_and_camera() {
    // Read with exiftool: DateTimeOriginal 2012:12:06 15:46:01, no offset; Make "Canon",
    // Model "Canon EOS 5D Mark III"; DateTime (the editor's save) 2017:03:02 16:27:12.
    let capture = read(&camera_photo("obama.jpg"), uploaded());
    assert_eq!(
        capture.taken_at.map(|t| t.to_string()).as_deref(),
        Some("2012-12-06T15:46:01")
    );
    assert_eq!(capture.camera.as_deref(), Some("Canon EOS 5D Mark III"));
    let capture = read(&camera_photo("biden.jpg"), uploaded());
    assert_eq!(
        capture.taken_at.map(|t| t.to_string()).as_deref(),
        Some("2010-05-10T10:04:01")
    );
    assert_eq!(capture.camera.as_deref(), Some("Canon EOS 5D Mark II"));
}

#[test]
fn every_format_that_keeps_exif_gives_the_capture() {
    let exif = exif_block(
        &[(MAKE, "Apple"), (MODEL, "iPhone 15 Pro")],
        &[
            (ORIGINAL, "2024:07:14 18:03:22"),
            (OFFSET_ORIGINAL, "+02:00"),
        ],
    );
    for carrier in ExifCarrier::ALL {
        let capture = read(&carrier.picture_carrying(&exif), uploaded());
        assert_eq!(
            capture.taken_at.map(|t| t.to_string()).as_deref(),
            Some("2024-07-14T18:03:22+02:00"),
            "{carrier:?}"
        );
        assert_eq!(
            capture.camera.as_deref(),
            Some("Apple iPhone 15 Pro"),
            "{carrier:?}"
        );
    }
}

#[test]
fn the_digitized_time_stands_in_for_a_missing_or_broken_original() {
    assert_eq!(
        taken(&[
            (DIGITIZED, "2019:01:02 03:04:05"),
            (OFFSET_DIGITIZED, "-05:30")
        ])
        .as_deref(),
        Some("2019-01-02T03:04:05-05:30")
    );
    assert_eq!(
        taken(&[
            (ORIGINAL, "2019:02:30 03:04:05"),
            (DIGITIZED, "2019:01:02 03:04:05"),
        ])
        .as_deref(),
        Some("2019-01-02T03:04:05")
    );
}

#[test]
fn the_files_last_save_time_is_not_a_capture_time() {
    let bytes =
        ExifCarrier::Jpeg.picture_carrying(&exif_block(&[(DATE_TIME, "2020:01:01 00:00:00")], &[]));
    assert_eq!(read(&bytes, uploaded()), Capture::default());
}

#[test]
fn malformed_times_are_dropped() {
    for value in [
        "0000:00:00 00:00:00",
        "0000:01:01 00:00:00",
        "1825:12:31 23:59:59",
        "2099:01:01 00:00:00",
        "2024:02:30 10:00:00",
        "2023:02:29 10:00:00",
        "2024:13:01 10:00:00",
        "2024:07:14 24:00:00",
        "2024:07:14 12:60:00",
        "2024:07:14 12:00:61",
        "    :  :     :  :  ",
        "                   ",
        "garbage",
        "2024-07-14 12:00:00",
        "2024:07:14",
        "",
    ] {
        assert_eq!(taken(&[(ORIGINAL, value)]), None, "{value:?}");
    }
    assert_eq!(
        taken(&[(ORIGINAL, "2024:02:29 10:00:00")]).as_deref(),
        Some("2024-02-29T10:00:00"),
        "a leap day is a day"
    );
    assert_eq!(
        taken(&[(ORIGINAL, "1826:01:01 00:00:00")]).as_deref(),
        Some("1826-01-01T00:00:00")
    );
}

#[test]
fn a_time_past_the_upload_is_believed_only_within_the_easternmost_offset() {
    // Uploaded 2026-12-07T10:00:00Z: a clock at UTC+14 showed 2026-12-08 00:00:00.
    assert_eq!(
        taken(&[(ORIGINAL, "2026:12:08 00:00:00")]).as_deref(),
        Some("2026-12-08T00:00:00")
    );
    assert_eq!(taken(&[(ORIGINAL, "2026:12:08 00:00:01")]), None);
}

#[test]
fn an_offset_no_zone_uses_is_dropped_and_the_time_kept() {
    for offset in [
        "+14:01", "-15:00", "+99:99", "02:00", "+2:00", "garbage", "   :  ",
    ] {
        assert_eq!(
            taken(&[(ORIGINAL, "2024:07:14 18:03:22"), (OFFSET_ORIGINAL, offset)]).as_deref(),
            Some("2024-07-14T18:03:22"),
            "{offset:?}"
        );
    }
    assert_eq!(
        taken(&[
            (ORIGINAL, "2024:07:14 18:03:22"),
            (OFFSET_ORIGINAL, "-14:00")
        ])
        .as_deref(),
        Some("2024-07-14T18:03:22-14:00")
    );
}

#[test]
fn the_camera_is_its_model_with_its_make_said_once() {
    assert_eq!(
        camera_of(&[(MAKE, "Canon"), (MODEL, "Canon EOS R5")]).as_deref(),
        Some("Canon EOS R5")
    );
    assert_eq!(
        camera_of(&[(MAKE, "NIKON CORPORATION"), (MODEL, "NIKON Z 6")]).as_deref(),
        Some("NIKON CORPORATION NIKON Z 6")
    );
    assert_eq!(
        camera_of(&[(MAKE, "samsung"), (MODEL, "Galaxy S24")]).as_deref(),
        Some("samsung Galaxy S24")
    );
    assert_eq!(camera_of(&[(MODEL, "Pixel 8")]).as_deref(), Some("Pixel 8"));
    assert_eq!(
        camera_of(&[(MAKE, "FUJIFILM")]).as_deref(),
        Some("FUJIFILM")
    );
    assert_eq!(
        camera_of(&[(MAKE, "  \u{1b}[31mAcme\t\r\n"), (MODEL, "   ")]).as_deref(),
        Some("[31mAcme")
    );
    let long = "X".repeat(500);
    assert_eq!(
        camera_of(&[(MODEL, &long)]).map(|c| c.len()),
        Some(MAX_CAMERA_PART)
    );
}

#[test]
fn a_position_is_never_part_of_the_capture() {
    let bytes = ExifCarrier::Jpeg.picture_carrying(&crate::testing::location::exif_tiff());
    assert_eq!(read(&bytes, uploaded()), Capture::default());
}

#[test]
fn pictures_without_exif_give_nothing() {
    assert_eq!(read(&jpeg(64, 48), uploaded()), Capture::default());
    assert_eq!(read(b"", uploaded()), Capture::default());
    assert_eq!(read(b"not an image", uploaded()), Capture::default());
}

#[test]
fn an_exif_block_over_64_kb_is_not_read() {
    // A `Make` of 60,000 NULs and spaces: kamadak-exif would make a vector per NUL. Within
    // 64 KB it is read (and comes to nothing printable); past it the block is not parsed.
    let padding = "\0".repeat(30_000);
    let within = exif_block(&[(MAKE, &padding)], &[(ORIGINAL, "2024:07:14 18:03:22")]);
    for carrier in [ExifCarrier::Png, ExifCarrier::WebP] {
        let capture = read(&carrier.picture_carrying(&within), uploaded());
        assert_eq!(
            capture.taken_at.map(|t| t.to_string()).as_deref(),
            Some("2024-07-14T18:03:22"),
            "{carrier:?}"
        );
    }
    let over = exif_block(
        &[(MAKE, &"\0".repeat(70_000))],
        &[(ORIGINAL, "2024:07:14 18:03:22")],
    );
    for carrier in [ExifCarrier::Png, ExifCarrier::WebP] {
        assert_eq!(
            read(&carrier.picture_carrying(&over), uploaded()),
            Capture::default(),
            "{carrier:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever an APP1 Exif segment holds, reading it returns (no panic, no hang).
    #[test]
    fn any_exif_payload_reads_without_failing(payload in proptest::collection::vec(any::<u8>(), 0..600)) {
        let bytes = ExifCarrier::Jpeg.picture_carrying(&payload);
        let _ = read(&bytes, uploaded());
    }

    /// A damaged copy of a real Exif block reads without failing, and any time it gives is a
    /// believable one.
    #[test]
    fn a_damaged_exif_block_never_gives_an_unbelievable_time(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
    ) {
        let mut exif = exif_block(
            &[(MAKE, "Apple"), (MODEL, "iPhone 15 Pro")],
            &[(ORIGINAL, "2024:07:14 18:03:22"), (OFFSET_ORIGINAL, "+02:00")],
        );
        for (at, value) in flips {
            let i = at.index(exif.len());
            exif[i] = value;
        }
        let capture = read(&ExifCarrier::Jpeg.picture_carrying(&exif), uploaded());
        if let Some(taken) = capture.taken_at {
            prop_assert!(believable(&taken, uploaded()), "{taken}");
        }
    }
}
