//! The DC decoder against libjpeg's own 1/8-scale decode of the same files, and on damaged
//! ones. Hostile inputs call [`decode`] directly, outside the `catch_unwind` of
//! [`crate::decode_scaled`], so that a panic fails the test instead of becoming an `Err`.

use image::{DynamicImage, RgbImage};

use super::decode;
use crate::testing::{progressive_jpeg, DcScans, Progression};
use crate::{ImageLimits, ImagingError, THUMBNAIL_BOX};

/// A photo-like picture: gradients, a hard edge, coloured discs and noise, so that blocks
/// differ in DC and carry AC detail (which the AC scans hold and this decoder skips).
fn photo(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)).rotate_left(7) % 31;
        let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
        let disc = |cx: f32, cy: f32, r: f32| (fx - cx).powi(2) + (fy - cy).powi(2) < r * r;
        let mut pixel = [
            (40.0 + 180.0 * fx) as u32,
            (30.0 + 200.0 * fy) as u32,
            (220.0 - 160.0 * fx * fy) as u32,
        ];
        if disc(0.3, 0.4, 0.15) {
            pixel = [230, 40, 30];
        } else if disc(0.7, 0.6, 0.2) {
            pixel = [20, 90, 210];
        }
        if x * 5 / width == 3 {
            pixel = pixel.map(|c| c / 3);
        }
        image::Rgb(pixel.map(|c| (c + noise).min(255) as u8))
    })
}

fn grey(image: &RgbImage) -> Vec<u8> {
    DynamicImage::ImageRgb8(image.clone())
        .into_luma8()
        .into_raw()
}

/// libjpeg's decode at 1/8 scale, RGB.
fn libjpeg_one_eighth(bytes: &[u8]) -> RgbImage {
    let mut decompress = mozjpeg::Decompress::new_mem(bytes).unwrap();
    decompress.scale(1);
    let mut started = decompress.rgb().unwrap();
    let (width, height) = (started.width() as u32, started.height() as u32);
    let pixels: Vec<u8> = started.read_scanlines().unwrap();
    started.finish().unwrap();
    RgbImage::from_raw(width, height, pixels).unwrap()
}

fn ours(bytes: &[u8]) -> RgbImage {
    decode(bytes, &ImageLimits::default())
        .unwrap()
        .expect("read by the DC decoder")
        .to_rgb8()
}

/// Largest and mean absolute difference per channel.
fn differences(a: &RgbImage, b: &RgbImage) -> (u8, f64) {
    assert_eq!(a.dimensions(), b.dimensions());
    let (mut max, mut sum) = (0u8, 0u64);
    for (&x, &y) in a.as_raw().iter().zip(b.as_raw()) {
        max = max.max(x.abs_diff(y));
        sum += u64::from(x.abs_diff(y));
    }
    (max, sum as f64 / a.as_raw().len() as f64)
}

const W: u32 = 1601;
const H: u32 = 1203;

fn progression(luma_sampling: (u8, u8), restart_interval: u16, dc: DcScans) -> Progression {
    Progression {
        luma_sampling,
        restart_interval,
        dc,
    }
}

/// Where libjpeg's 1x1 inverse DCT, box upsampling and colour conversion apply to every
/// component (all but 4:2:0), the pixels are libjpeg's exactly: odd sizes (partial MCUs at
/// the right and bottom), DC refined by successive approximation (`Al` 1 and 2), separate and
/// interleaved DC scans, restart intervals of 1, 3, 7 and 40 MCUs.
#[test]
fn the_dc_decode_is_libjpegs_one_eighth_scale_decode() {
    let image = photo(W, H);
    assert_eq!(super::super::scale_numerator(W, H, THUMBNAIL_BOX), 1);
    let cases = [
        ("4:4:4, standard", progression((1, 1), 0, DcScans::Standard)),
        (
            "4:4:4, separate DC refined twice, restart 7",
            progression((1, 1), 7, DcScans::SeparateRefined),
        ),
        (
            "4:2:2, standard, restart 1",
            progression((2, 1), 1, DcScans::Standard),
        ),
        (
            "4:2:2, separate DC refined twice, restart 40",
            progression((2, 1), 40, DcScans::SeparateRefined),
        ),
        (
            "4:4:0, interleaved DC at full precision, restart 3",
            progression((1, 2), 3, DcScans::Interleaved),
        ),
        (
            "4:1:1, interleaved DC, restart 3",
            progression((4, 1), 3, DcScans::Interleaved),
        ),
    ];
    for (name, progression) in cases {
        let bytes = progressive_jpeg(image.as_raw(), W, H, false, progression);
        let (max, mean) = differences(&ours(&bytes), &libjpeg_one_eighth(&bytes));
        assert_eq!((max, mean), (0, 0.0), "{name}");
    }
    for (name, progression) in [
        ("grey, standard", progression((1, 1), 0, DcScans::Standard)),
        (
            "grey, DC refined twice, restart 5",
            progression((1, 1), 5, DcScans::SeparateRefined),
        ),
        (
            "grey, DC at full precision, restart 1",
            progression((1, 1), 1, DcScans::Interleaved),
        ),
    ] {
        let bytes = progressive_jpeg(&grey(&image), W, H, true, progression);
        let decoded = decode(&bytes, &ImageLimits::default()).unwrap().unwrap();
        assert!(
            decoded.as_luma8().is_some(),
            "{name}: grey stays one channel"
        );
        let (max, mean) = differences(&decoded.to_rgb8(), &libjpeg_one_eighth(&bytes));
        assert_eq!((max, mean), (0, 0.0), "{name}");
    }
}

/// In 4:2:0 libjpeg gives the chroma a 2x2 inverse DCT at 1/8 scale (its first AC
/// coefficients, which this decoder skips) where ours repeats each chroma block's DC over
/// its 2x2 luma blocks: the luma is the same, the colours are those of 16x16 pixels instead
/// of 8x8, which shows only at hard colour edges. The tolerance, against libjpeg's pixels:
/// per channel 1.5 on average and 16 at the 99th percentile, 128 at most (a saturated red
/// disc's edge on this picture: 112; 0.95 and 14 for the others); luma (BT.601 from the RGB)
/// 12 at most.
fn assert_within_the_4_2_0_tolerance(name: &str, ours: &RgbImage, theirs: &RgbImage) {
    let (max, mean) = differences(ours, theirs);
    let mut each: Vec<u8> = ours
        .as_raw()
        .iter()
        .zip(theirs.as_raw())
        .map(|(a, b)| a.abs_diff(*b))
        .collect();
    each.sort_unstable();
    let p99 = each[each.len() * 99 / 100];
    let luma = |image: &RgbImage| DynamicImage::ImageRgb8(image.clone()).into_luma8();
    let luma_max = luma(ours)
        .as_raw()
        .iter()
        .zip(luma(theirs).as_raw())
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap_or(0);
    assert!(
        mean <= 1.5 && p99 <= 16 && max <= 128 && luma_max <= 12,
        "{name}: mean {mean:.3}, 99th percentile {p99}, max {max}, luma max {luma_max}"
    );
}

#[test]
fn in_4_2_0_the_dc_decode_is_within_a_small_tolerance_of_libjpegs() {
    let image = photo(W, H);
    let cases = [
        ("standard", progression((2, 2), 0, DcScans::Standard)),
        (
            "separate DC refined twice, restart 2",
            progression((2, 2), 2, DcScans::SeparateRefined),
        ),
        (
            "interleaved DC, restart 1",
            progression((2, 2), 1, DcScans::Interleaved),
        ),
    ];
    for (name, progression) in cases {
        let bytes = progressive_jpeg(image.as_raw(), W, H, false, progression);
        assert_within_the_4_2_0_tolerance(name, &ours(&bytes), &libjpeg_one_eighth(&bytes));
    }
}

/// What the `mozjpeg` crate writes by default (its own scan search, 4:2:0) and the path
/// through [`crate::decode_scaled`]: the DC decoder's pixels, oriented.
#[test]
fn decode_scaled_takes_the_dc_path_for_progressive_jpegs_at_one_eighth() {
    let image = photo(W, H);
    let mut compress = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
    compress.set_size(W as usize, H as usize);
    compress.set_quality(85.0);
    compress.set_progressive_mode();
    let mut started = compress.start_compress(Vec::new()).unwrap();
    started.write_scanlines(image.as_raw()).unwrap();
    let bytes = started.finish().unwrap();
    assert!(
        super::super::one_by_one_components(&bytes).is_some(),
        "progressive"
    );
    let dc = ours(&bytes);
    assert_within_the_4_2_0_tolerance("mozjpeg", &dc, &libjpeg_one_eighth(&bytes));

    let decoded = crate::decode_scaled(&bytes, &ImageLimits::default(), THUMBNAIL_BOX).unwrap();
    assert_eq!((decoded.info.width, decoded.info.height), (W, H));
    assert!(
        decoded.image.to_rgb8() == dc,
        "decode_scaled is the DC decode"
    );

    let rotated = crate::testing::insert_exif_orientation(&bytes, 6);
    let decoded = crate::decode_scaled(&rotated, &ImageLimits::default(), THUMBNAIL_BOX).unwrap();
    assert_eq!((decoded.info.width, decoded.info.height), (H, W));
    let expected = image::imageops::rotate90(&dc);
    assert!(decoded.image.to_rgb8() == expected, "rotated as EXIF says");
}

/// What the DC decoder leaves to libjpeg comes back as `None`: baseline, CMYK, RGB.
#[test]
fn what_the_dc_decoder_does_not_read_is_left_to_libjpeg() {
    let limits = ImageLimits::default();
    let pixels = photo(64, 48).into_raw();
    let baseline = crate::testing::libjpeg_jpeg("rgb", 64, 48, &pixels, false);
    assert!(decode(&baseline, &limits).unwrap().is_none());
    let cmyk: Vec<u8> = pixels
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 40])
        .collect();
    let cmyk = crate::testing::libjpeg_jpeg("cmyk", 64, 48, &cmyk, true);
    assert!(decode(&cmyk, &limits).unwrap().is_none());
    let ycck: Vec<u8> = pixels
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 40])
        .collect();
    let ycck = crate::testing::libjpeg_jpeg("ycck", 64, 48, &ycck, true);
    assert!(decode(&ycck, &limits).unwrap().is_none());
    // An Adobe marker with transform 0 (RGB) instead of the JFIF marker (which would say
    // YCbCr whatever Adobe's says).
    let ycbcr = crate::testing::libjpeg_jpeg("rgb", 64, 48, &pixels, true);
    let mut rgb = ycbcr[..2].to_vec();
    rgb.extend_from_slice(&[0xFF, 0xEE, 0, 14]);
    rgb.extend_from_slice(b"Adobe\0\x64\0\0\0\0\0");
    let transform = rgb.len() - 1;
    for (marker, range) in super::segments(&ycbcr) {
        if marker != 0xE0 {
            rgb.extend_from_slice(&ycbcr[range]);
        }
    }
    assert!(decode(&rgb, &limits).unwrap().is_none());
    // Transform 1 is YCbCr: read here.
    rgb[transform] = 1;
    assert!(decode(&rgb, &limits).unwrap().is_some());
}

/// A small progressive file through each layout, cut, damaged and given bad tables:
/// always an `Err` or a decode, never a panic.
fn small_files() -> Vec<Vec<u8>> {
    let image = photo(200, 120);
    let mut files = vec![
        progressive_jpeg(
            image.as_raw(),
            200,
            120,
            false,
            progression((2, 2), 3, DcScans::Standard),
        ),
        progressive_jpeg(
            image.as_raw(),
            200,
            120,
            false,
            progression((2, 1), 0, DcScans::SeparateRefined),
        ),
        progressive_jpeg(
            &grey(&image),
            200,
            120,
            true,
            progression((1, 1), 2, DcScans::Interleaved),
        ),
    ];
    files.push(crate::testing::libjpeg_jpeg(
        "rgb",
        200,
        120,
        image.as_raw(),
        true,
    ));
    files
}

/// The offsets of each marker `FF code` in a JPEG's segments.
fn markers(bytes: &[u8], code: u8) -> Vec<usize> {
    super::segments(bytes)
        .filter(|(marker, _)| *marker == code)
        .map(|(_, range)| range.start)
        .collect()
}

fn is_data_error(result: Result<Option<DynamicImage>, ImagingError>) -> bool {
    matches!(result, Err(ImagingError::Decode { .. }))
}

#[test]
fn damaged_progressive_files_are_errors_never_panics() {
    let limits = ImageLimits::default();
    for file in small_files() {
        assert!(decode(&file, &limits).unwrap().is_some());
        let (_, first_scan) = super::segments(&file)
            .find(|(marker, _)| *marker == 0xDA)
            .unwrap();
        let data = first_scan.start + 2 + usize::from(file[first_scan.start + 3]);

        // Cut inside the first (DC) scan, an EOI after: the data ends early.
        for cut in [data + 1, data + 40, first_scan.end - 3] {
            let mut cut_file = file[..cut].to_vec();
            cut_file.extend_from_slice(&[0xFF, 0xD9]);
            assert!(is_data_error(decode(&cut_file, &limits)), "cut at {cut}");
        }
        // Cut anywhere, with and without an EOI.
        for cut in (2..file.len()).step_by(7) {
            let _ = decode(&file[..cut], &limits);
            let mut cut_file = file[..cut].to_vec();
            cut_file.extend_from_slice(&[0xFF, 0xD9]);
            let _ = decode(&cut_file, &limits);
        }
        // Any byte set to any of a few values.
        for at in 2..file.len() {
            for value in [0x00, 0x01, 0x0F, 0x10, 0x7F, 0xC4, 0xD0, 0xD9, 0xDA, 0xFF] {
                let mut damaged = file.clone();
                damaged[at] = value;
                let _ = decode(&damaged, &limits);
            }
        }
        // Random damage, several bytes at once.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..2000 {
            let mut damaged = file.clone();
            for _ in 0..3 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = 2 + (seed as usize) % (damaged.len() - 2);
                damaged[at] = (seed >> 40) as u8;
            }
            let _ = decode(&damaged, &limits);
        }
    }
}

#[test]
fn restart_markers_out_of_order_or_missing_are_errors() {
    let limits = ImageLimits::default();
    let file = progressive_jpeg(
        photo(200, 120).as_raw(),
        200,
        120,
        false,
        progression((2, 2), 3, DcScans::Standard),
    );
    let first_scan = markers(&file, 0xDA)[0]..markers(&file, 0xDA)[1];
    let rst = (first_scan.start..first_scan.end - 1)
        .find(|&i| file[i] == 0xFF && (0xD0..=0xD7).contains(&file[i + 1]))
        .expect("a restart marker in the DC scan");
    assert_eq!(file[rst + 1], 0xD0);
    let mut misnumbered = file.clone();
    misnumbered[rst + 1] = 0xD3;
    assert!(is_data_error(decode(&misnumbered, &limits)));
    // Without the marker the next interval's bits run on where RST0 belongs.
    let mut missing = file[..rst].to_vec();
    missing.extend_from_slice(&file[rst + 2..]);
    assert!(is_data_error(decode(&missing, &limits)));
}

#[test]
fn bad_tables_and_headers_are_errors() {
    let limits = ImageLimits::default();
    let file = &small_files()[0];
    let dht = markers(file, 0xC4)[0];
    // The first DHT's 16 counts all 0xFF: over 256 codes.
    let mut too_many = file.clone();
    too_many[dht + 5..dht + 21].fill(0xFF);
    assert!(is_data_error(decode(&too_many, &limits)));
    // Two codes of length 1 and one more: they overflow one bit.
    let mut overflowing = file.clone();
    let total: usize = overflowing[dht + 5..dht + 21]
        .iter()
        .map(|&c| usize::from(c))
        .sum();
    if total >= 3 {
        overflowing[dht + 5] = 3;
        assert!(is_data_error(decode(&overflowing, &limits)));
    }
    // A DC table index of 5.
    let mut index = file.clone();
    index[dht + 4] = 0x05;
    assert!(is_data_error(decode(&index, &limits)));
    // The first scan asks for a component the frame does not have.
    let sos = markers(file, 0xDA)[0];
    let mut unknown = file.clone();
    unknown[sos + 5] = 0x77;
    assert!(is_data_error(decode(&unknown, &limits)));
    // A DC scan with Se = 1: a bad progression, refused as libjpeg refuses it.
    let mut progression = file.clone();
    let ns = usize::from(progression[sos + 4]);
    progression[sos + 5 + 2 * ns + 1] = 1;
    assert!(is_data_error(decode(&progression, &limits)));
}

/// A 200x120 4:4:4 progressive JPEG with separate, refined DC scans, without the scans (SOS
/// segments with their data) that `drop` picks.
fn refined_without(drop: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let file = progressive_jpeg(
        photo(200, 120).as_raw(),
        200,
        120,
        false,
        progression((1, 1), 0, DcScans::SeparateRefined),
    );
    let mut without = file[..2].to_vec();
    for (marker, range) in super::segments(&file) {
        let segment = &file[range];
        if !(marker == 0xDA && drop(segment)) {
            without.extend_from_slice(segment);
        }
    }
    without
}

/// Every DC scan of one component dropped: its blocks have no values at all.
#[test]
fn a_component_without_a_dc_scan_is_an_error() {
    // The scans of component 3 (Cr) with Ss = 0.
    let without = refined_without(|scan| scan[4] == 1 && scan[5] == 3 && scan[7] == 0);
    let err = decode(&without, &ImageLimits::default()).unwrap_err();
    assert!(
        err.to_string().contains("component 3 has no DC scan"),
        "{err}"
    );
}

/// A refinement scan without its first scan is a progression libjpeg reads with a warning:
/// left to it.
#[test]
fn a_dc_refinement_before_its_first_scan_is_left_to_libjpeg() {
    // The first DC scan of component 3 (Cr): Ss = 0, Ah = 0.
    let without =
        refined_without(|scan| scan[4] == 1 && scan[5] == 3 && scan[7] == 0 && scan[9] >> 4 == 0);
    assert!(decode(&without, &ImageLimits::default()).unwrap().is_none());
}

/// The DC buffers and the output are checked against the allocation limit before they
/// exist.
#[test]
fn the_buffers_are_within_the_allocation_limit() {
    let file = progressive_jpeg(
        photo(400, 300).as_raw(),
        400,
        300,
        false,
        progression((2, 2), 0, DcScans::Standard),
    );
    // 50x38 blocks of luma, 25x19 of each chroma (2 bytes each), 50x38x3 of output.
    let small = ImageLimits {
        max_decoded_bytes: 3_000,
        ..ImageLimits::default()
    };
    let err = decode(&file, &small).unwrap_err();
    assert!(
        matches!(
            err,
            ImagingError::Decode {
                source: image::ImageError::Limits(_),
                ..
            }
        ),
        "{err:?}"
    );
    let enough = ImageLimits {
        max_decoded_bytes: 10_000,
        ..ImageLimits::default()
    };
    assert!(decode(&file, &enough).unwrap().is_some());
}

/// The `thumbnail` fuzz target's seeds for this decoder (fuzz/corpus/thumbnail) reach it.
#[test]
fn the_fuzz_seeds_for_the_dc_decoder_are_read_by_it() {
    assert_eq!(super::super::scale_numerator(1608, 16, THUMBNAIL_BOX), 1);
    for (name, bytes) in crate::testing::one_eighth_progressive_jpegs() {
        let decoded = decode(&bytes, &ImageLimits::default()).unwrap();
        assert!(decoded.is_some(), "{name}");
    }
}

/// Fill bytes before a restart marker (T.81 B.1.1.2 allows any number of 0xFF there): the DC
/// decoder stops at them, and the file goes to libjpeg, which reads it.
#[test]
fn what_the_dc_decoder_declines_libjpeg_decodes() {
    let (width, height) = (1608, 96);
    let file = progressive_jpeg(
        photo(width, height).as_raw(),
        width,
        height,
        false,
        progression((1, 1), 3, DcScans::Standard),
    );
    let sos = file
        .windows(2)
        .position(|w| w == [0xFF, 0xDA])
        .expect("a scan");
    let rst = sos
        + file[sos..]
            .windows(2)
            .position(|w| w[0] == 0xFF && (0xD0..=0xD7).contains(&w[1]))
            .expect("a restart marker");
    let filled = [&file[..rst], &[0xFF, 0xFF][..], &file[rst..]].concat();
    assert!(decode(&filled, &ImageLimits::default()).is_err());
    let decoded = crate::decode_scaled(&filled, &ImageLimits::default(), THUMBNAIL_BOX).unwrap();
    assert_eq!((decoded.info.width, decoded.info.height), (width, height));
}
