//! The streamed PNG shrink against the full decode it stands in for.

use image::{DynamicImage, GenericImageView, ImageBuffer, Rgba};
use proptest::prelude::*;

use super::*;
use crate::{decode, make_renditions, ImageProblem, PREVIEW_BOX, THUMBNAIL_BOX};

/// A PNG of `width` x `height` in `color` at `depth` bits, from a pattern with detail in
/// every channel (so a wrong block or channel shows).
fn png_of(width: u32, height: u32, color: ColorType, depth: png::BitDepth) -> Vec<u8> {
    let samples = color.samples()
        * if depth == png::BitDepth::Sixteen {
            2
        } else {
            1
        };
    let mut data = Vec::with_capacity(width as usize * height as usize * samples);
    for y in 0..height {
        for x in 0..width {
            for s in 0..samples as u32 {
                data.push(((x * 7 + y * 13 + s * 61 + (x ^ y)) % 256) as u8);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(depth);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&data).unwrap();
    writer.finish().unwrap();
    out
}

/// An Adam7-interlaced 8-bit RGB PNG (the png crate writes none): each pass's pixels,
/// filter type 0, zlib-compressed (PNG specification, 8.2 "Interlace methods").
fn interlaced_rgb(width: u32, height: u32) -> Vec<u8> {
    const PASSES: [(u32, u32, u32, u32); 7] = [
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ];
    let mut raw = Vec::new();
    for (x0, y0, dx, dy) in PASSES {
        if x0 >= width || y0 >= height {
            continue;
        }
        for y in (y0..height).step_by(dy as usize) {
            raw.push(0);
            for x in (x0..width).step_by(dx as usize) {
                raw.extend([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]);
            }
        }
    }
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 1]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    crate::testing::push_chunk(&mut out, b"IHDR", &ihdr);
    crate::testing::push_chunk(
        &mut out,
        b"IDAT",
        &miniz_oxide::deflate::compress_to_vec_zlib(&raw, 1),
    );
    crate::testing::push_chunk(&mut out, b"IEND", &[]);
    out
}

/// The mean of each `factor.x` x `factor.y` block of `image` (partial blocks at the edges over
/// the pixels they have), rounded: what the shrink must give, computed the slow way.
fn block_means(image: &DynamicImage, factor: Factor) -> Vec<u8> {
    let rgba = image.to_rgba8();
    let channels = image.color().channel_count() as usize;
    let (width, height) = rgba.dimensions();
    let mut out = Vec::new();
    for by in 0..height.div_ceil(factor.y) {
        for bx in 0..width.div_ceil(factor.x) {
            let mut sums = [0u32; 4];
            let mut count = 0;
            for y in by * factor.y..((by + 1) * factor.y).min(height) {
                for x in bx * factor.x..((bx + 1) * factor.x).min(width) {
                    let Rgba(p) = *rgba.get_pixel(x, y);
                    for c in 0..4 {
                        sums[c] += u32::from(p[c]);
                    }
                    count += 1;
                }
            }
            let means = sums.map(|s| ((s + count / 2) / count) as u8);
            match channels {
                1 => out.push(means[0]),
                2 => out.extend([means[0], means[3]]),
                3 => out.extend(&means[..3]),
                _ => out.extend(means),
            }
        }
    }
    out
}

fn problem_of(result: Result<Option<Decoded>, ImagingError>) -> ImageProblem {
    result.err().expect("an error").problem()
}

#[test]
fn every_colour_type_shrinks_to_the_block_means_of_the_full_decode() {
    // 8-bit sources: the same samples as the image crate's decode, so the means match exactly.
    for color in [
        ColorType::Grayscale,
        ColorType::GrayscaleAlpha,
        ColorType::Rgb,
        ColorType::Rgba,
    ] {
        let png = png_of(1013, 517, color, png::BitDepth::Eight);
        let full = decode(&png, &ImageLimits::default()).unwrap().image;
        let shrunk = decode_scaled(&png, &ImageLimits::default(), THUMBNAIL_BOX)
            .unwrap()
            .expect("not interlaced");
        let factor = shrink_factor(1013, 517, THUMBNAIL_BOX);
        assert_eq!(
            factor,
            Factor { x: 5, y: 5 },
            "1013x517 fits 200x102, so blocks of 5 leave 203x104"
        );
        assert_eq!(shrunk.image.dimensions(), (203, 104), "{color:?}");
        assert_eq!(shrunk.image.color(), full.color(), "{color:?}");
        assert_eq!(
            shrunk.image.as_bytes(),
            block_means(&full, factor),
            "{color:?}"
        );
        assert_eq!((shrunk.info.width, shrunk.info.height), (1013, 517));
    }
}

#[test]
fn sixteen_bit_samples_keep_their_high_byte() {
    // png's STRIP_16 keeps the high byte; the image crate rounds (v * 255 / 65535): they differ
    // by at most one, and only where the low byte is at least 128.
    let png = png_of(640, 480, ColorType::Rgba, png::BitDepth::Sixteen);
    let full = decode(&png, &ImageLimits::default()).unwrap().image;
    let shrunk = decode_scaled(&png, &ImageLimits::default(), THUMBNAIL_BOX)
        .unwrap()
        .unwrap();
    let factor = shrink_factor(640, 480, THUMBNAIL_BOX);
    let expected = block_means(&full, factor);
    let largest = shrunk
        .image
        .as_bytes()
        .iter()
        .zip(&expected)
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert!(largest <= 1, "largest difference {largest}");
}

#[test]
fn a_palette_with_transparency_comes_out_as_rgba() {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 300, 300);
    encoder.set_color(ColorType::Indexed);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_palette(vec![255, 0, 0, 0, 0, 255]);
    encoder.set_trns(vec![255, 0]);
    let mut writer = encoder.write_header().unwrap();
    let indices: Vec<u8> = (0..300 * 300).map(|i| u8::from(i % 300 >= 150)).collect();
    writer.write_image_data(&indices).unwrap();
    writer.finish().unwrap();
    let shrunk = decode_scaled(&out, &ImageLimits::default(), 100)
        .unwrap()
        .unwrap();
    assert_eq!(shrunk.image.dimensions(), (100, 100));
    assert_eq!(shrunk.image.get_pixel(10, 10), Rgba([255, 0, 0, 255]));
    assert_eq!(shrunk.image.get_pixel(90, 10), Rgba([0, 0, 255, 0]));
    assert!(shrunk.info.has_alpha);
}

#[test]
fn a_png_over_the_decoded_size_limit_still_gets_its_renditions() {
    // 1800x1800 16-bit RGBA decodes to 25.9 MB: over a 16 MB limit for the full decode, which
    // refuses it, while the shrink never holds more than a preview's worth.
    let png = png_of(1800, 1800, ColorType::Rgba, png::BitDepth::Sixteen);
    let limits = ImageLimits {
        max_decoded_bytes: 16 << 20,
        ..ImageLimits::default()
    };
    assert_eq!(
        decode(&png, &limits).err().expect("refused").problem(),
        ImageProblem::TooManyBytes
    );
    let renditions = make_renditions(&png, &limits).unwrap();
    assert_eq!(
        (renditions.original.width, renditions.original.height),
        (1800, 1800)
    );
    assert_eq!(
        (renditions.preview.width, renditions.preview.height),
        (PREVIEW_BOX, PREVIEW_BOX)
    );
    assert_eq!(
        (renditions.thumbnail.width, renditions.thumbnail.height),
        (THUMBNAIL_BOX, THUMBNAIL_BOX)
    );
}

#[test]
fn a_strip_shrinks_along_its_length_only() {
    let png = png_of(3, 90_000, ColorType::Grayscale, png::BitDepth::Eight);
    let full = decode(&png, &ImageLimits::default()).unwrap().image;
    let shrunk = decode_scaled(&png, &ImageLimits::default(), THUMBNAIL_BOX)
        .unwrap()
        .unwrap();
    // 3 x 90,000 fits 1 x 200 (its width rounds up to one pixel): every 3 columns, and every
    // 256 rows (the cap; 450 would do).
    let factor = Factor {
        x: 3,
        y: MAX_FACTOR,
    };
    assert_eq!(shrink_factor(3, 90_000, THUMBNAIL_BOX), factor);
    assert_eq!(shrunk.image.dimensions(), (1, 352));
    assert_eq!(shrunk.image.as_bytes(), block_means(&full, factor));
}

#[test]
fn rows_too_wide_for_the_decoders_buffers_take_the_full_decode() {
    // 16 MB a raw row (2,000,000 pixels of 16-bit RGBA): four of them pass a 32 MB limit, so
    // the full decode and its limit decide (here the image itself, 16 MB, is within it).
    let limits = ImageLimits {
        max_decoded_bytes: 32 << 20,
        ..ImageLimits::default()
    };
    let wide_rgba16 = {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, 2_000_000, 1);
        encoder.set_color(ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Sixteen);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&vec![0; 16_000_000]).unwrap();
        writer.finish().unwrap();
        out
    };
    assert!(decode_scaled(&wide_rgba16, &limits, 100).unwrap().is_none());
    let decoded = crate::decode_scaled(&wide_rgba16, &limits, 100).unwrap();
    assert_eq!(decoded.image.dimensions(), (2_000_000, 1));
    // Under a limit the full decode cannot meet either, it is refused.
    let tighter = ImageLimits {
        max_decoded_bytes: 8 << 20,
        ..limits
    };
    assert_eq!(
        crate::decode_scaled(&wide_rgba16, &tighter, 100)
            .err()
            .expect("refused")
            .problem(),
        ImageProblem::TooManyBytes
    );
}

#[test]
fn an_interlaced_png_takes_the_full_decode() {
    let png = interlaced_rgb(400, 300);
    assert!(decode_scaled(&png, &ImageLimits::default(), 100)
        .unwrap()
        .is_none());
    let decoded = crate::decode_scaled(&png, &ImageLimits::default(), 100).unwrap();
    assert_eq!(decoded.image.dimensions(), (400, 300));
}

#[test]
fn the_exif_orientation_of_a_png_is_applied() {
    let png = png_of(600, 300, ColorType::Rgb, png::BitDepth::Eight);
    // Orientation 6: a quarter turn clockwise.
    let oriented =
        crate::testing::insert_png_chunk(&png, b"eXIf", &crate::testing::exif_orientation(6));
    let shrunk = decode_scaled(&oriented, &ImageLimits::default(), 100)
        .unwrap()
        .unwrap();
    assert_eq!((shrunk.info.width, shrunk.info.height), (300, 600));
    assert_eq!(shrunk.image.dimensions(), (50, 100));
}

#[test]
fn a_cut_short_png_is_truncated_and_a_damaged_one_undecodable() {
    let png = png_of(400, 300, ColorType::Rgb, png::BitDepth::Eight);
    let cut = &png[..png.len() / 2];
    assert_eq!(
        problem_of(decode_scaled(cut, &ImageLimits::default(), 100)),
        ImageProblem::Truncated
    );
    let mut damaged = png.clone();
    let idat = damaged.windows(4).position(|w| w == b"IDAT").unwrap();
    for byte in &mut damaged[idat + 8..idat + 40] {
        *byte ^= 0x5A;
    }
    assert_eq!(
        problem_of(decode_scaled(&damaged, &ImageLimits::default(), 100)),
        ImageProblem::Undecodable
    );
}

#[test]
fn a_header_over_the_pixel_limit_is_refused_before_any_row() {
    let png = crate::testing::png_header_claiming(20_000, 20_000);
    assert_eq!(
        problem_of(decode_scaled(&png, &ImageLimits::default(), 100)),
        ImageProblem::TooManyPixels
    );
}

proptest! {
    /// Each axis's factor leaves its side at least as long as the rendition needs, and the next one
    /// up would not (unless capped).
    #[test]
    fn the_factor_is_the_largest_that_still_covers_the_rendition(
        width in 1u32..20_000, height in 1u32..20_000, min_box in 1u32..2_000
    ) {
        let factor = shrink_factor(width, height, min_box);
        let (target_width, target_height) = fit_within(width, height, min_box);
        prop_assert!(width.div_ceil(factor.x) >= target_width);
        prop_assert!(height.div_ceil(factor.y) >= target_height);
        if factor.x < MAX_FACTOR {
            prop_assert!(width / (factor.x + 1) < target_width);
        }
        if factor.y < MAX_FACTOR {
            prop_assert!(height / (factor.y + 1) < target_height);
        }
    }

    /// Whatever a damaged PNG holds, the shrink returns (no panic, no hang).
    #[test]
    fn a_damaged_png_never_panics(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16)
    ) {
        let mut png = png_of(64, 48, ColorType::Rgba, png::BitDepth::Eight);
        for (at, value) in flips {
            let i = at.index(png.len());
            png[i] = value;
        }
        let _ = decode_scaled(&png, &ImageLimits::default(), 16);
    }
}

#[test]
fn block_means_is_the_mean() {
    // The reference itself, on a case small enough to check by hand.
    let image = DynamicImage::ImageRgba8(ImageBuffer::from_fn(3, 1, |x, _| {
        Rgba([x as u8 * 10, 0, 0, 255])
    }));
    assert_eq!(
        block_means(&image, Factor { x: 2, y: 1 }),
        vec![5, 0, 0, 255, 20, 0, 0, 255]
    );
}
