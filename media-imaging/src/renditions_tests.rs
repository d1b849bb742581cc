//! Tests of the preview, animated images and colour conversion ([`super::make_renditions`]).

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

use super::*;
use crate::testing::{
    animated_gif, animated_webp, display_p3_profile, icc_rgb_profile, insert_exif_orientation,
    insert_icc_profile, SRGB_CURVE,
};
use crate::ImageLimits;
use image::codecs::jpeg::JpegEncoder;

fn jpeg_of(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(
            image,
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

fn decoded(encoded: &Encoded) -> RgbImage {
    image::load_from_memory(&encoded.bytes).unwrap().to_rgb8()
}

#[test]
fn the_preview_fits_1600_is_never_upscaled_and_the_thumbnail_fits_200() {
    let limits = ImageLimits::default();
    let large = crate::testing::jpeg(4000, 3000);
    let renditions = make_renditions(&large, &limits).unwrap();
    assert_eq!(
        (renditions.preview.width, renditions.preview.height),
        (1600, 1200)
    );
    assert_eq!(decoded(&renditions.preview).dimensions(), (1600, 1200));
    assert_eq!(
        (renditions.thumbnail.width, renditions.thumbnail.height),
        (200, 150)
    );
    assert_eq!(renditions.preview.content_type, "image/jpeg");
    assert_eq!(
        (renditions.original.width, renditions.original.height),
        (4000, 3000)
    );
    assert!(!renditions.animated);

    // Tall, from a PNG (decoded at full size, no shrink-on-load).
    let tall = DynamicImage::ImageRgb8(RgbImage::from_pixel(900, 2400, Rgb([10, 200, 30])));
    let mut png = Vec::new();
    tall.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    let renditions = make_renditions(&png, &limits).unwrap();
    assert_eq!(
        (renditions.preview.width, renditions.preview.height),
        (600, 1600)
    );
    assert_eq!(
        (renditions.thumbnail.width, renditions.thumbnail.height),
        (75, 200)
    );

    // Smaller than the box: kept at its size.
    let small = crate::testing::jpeg(300, 120);
    let renditions = make_renditions(&small, &limits).unwrap();
    assert_eq!(
        (renditions.preview.width, renditions.preview.height),
        (300, 120)
    );
    assert_eq!(
        (renditions.thumbnail.width, renditions.thumbnail.height),
        (200, 80)
    );
}

#[test]
fn the_preview_is_upright_and_carries_no_exif() {
    // Left half red, right half blue, stored rotated: orientation 6 turns it a quarter right,
    // so red ends up on top. The EXIF segment is what carries a phone's GPS position too.
    let image = RgbImage::from_fn(2400, 1800, |x, _| {
        if x < 1200 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    let jpeg = insert_exif_orientation(&jpeg_of(&image, 90), 6);
    let renditions = make_renditions(&jpeg, &ImageLimits::default()).unwrap();
    assert_eq!(
        (renditions.preview.width, renditions.preview.height),
        (1200, 1600)
    );
    let preview = decoded(&renditions.preview);
    let (top, bottom) = (preview.get_pixel(600, 100), preview.get_pixel(600, 1500));
    assert!(top[0] > 200 && top[2] < 60, "top {top:?}");
    assert!(bottom[2] > 200 && bottom[0] < 60, "bottom {bottom:?}");
    for rendition in [&renditions.preview, &renditions.thumbnail] {
        assert!(
            !rendition.bytes.windows(6).any(|w| w == b"Exif\0\0"),
            "EXIF copied into a rendition"
        );
        assert!(
            !rendition.bytes.windows(2).any(|w| w == [0xFF, 0xE1]),
            "an APP1 segment in a rendition"
        );
    }
}

#[test]
fn an_animated_gif_of_1000_frames_costs_its_first_frame() {
    let gif = animated_gif(64, 1000);
    let renditions = make_renditions(&gif, &ImageLimits::default()).unwrap();
    assert!(renditions.animated);
    assert_eq!(renditions.original.format, ImageFormat::Gif.into());
    let thumbnail = decoded(&renditions.thumbnail);
    let centre = thumbnail.get_pixel(32, 32);
    assert!(
        centre[0] > 200 && centre[2] < 60,
        "the first (red) frame, got {centre:?}"
    );
    // Everything after the second frame's start made garbage: nothing past the first frame
    // is decoded (a decoder reading on would fail or show it), and the walk that finds the
    // second frame stops there.
    let second = second_gif_frame_start(&gif);
    let mut damaged = gif[..second + 12].to_vec();
    damaged.extend(std::iter::repeat_n(0xA5, gif.len() - damaged.len()));
    let renditions = make_renditions(&damaged, &ImageLimits::default()).unwrap();
    assert!(renditions.animated);
    assert_eq!(decoded(&renditions.thumbnail).get_pixel(32, 32), centre);
    // One frame is a still.
    assert!(
        !make_renditions(&animated_gif(64, 1), &ImageLimits::default())
            .unwrap()
            .animated
    );
}

/// Where a GIF's second image descriptor starts (the encoder writes a graphic control
/// extension, 8 bytes, before each).
fn second_gif_frame_start(gif: &[u8]) -> usize {
    let descriptors: Vec<usize> = gif
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w == &[0x21, 0xF9])
        .map(|(at, _)| at)
        .collect();
    assert!(descriptors.len() >= 2, "two graphic control extensions");
    descriptors[1]
}

#[test]
fn an_animated_webp_is_its_first_frame_and_animated() {
    let webp = animated_webp(48, 30);
    let renditions = make_renditions(&webp, &ImageLimits::default()).unwrap();
    assert!(renditions.animated);
    assert_eq!(renditions.original.format, ImageFormat::WebP.into());
    assert_eq!(
        (renditions.original.width, renditions.original.height),
        (48, 48)
    );
    let centre = *decoded(&renditions.preview).get_pixel(24, 24);
    assert!(
        centre[0] > 200 && centre[2] < 60,
        "the first (red) frame, got {centre:?}"
    );
    assert!(
        !make_renditions(&animated_webp(48, 1), &ImageLimits::default())
            .unwrap()
            .animated
    );
}

/// sRGB's encoding (IEC 61966-2.1) of a linear value, and its inverse.
fn srgb_encode(linear: f64) -> f64 {
    let v = linear.clamp(0.0, 1.0);
    if v <= 0.003_130_8 {
        12.92 * v
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

fn srgb_decode(encoded: f64) -> f64 {
    if encoded <= 0.040_45 {
        encoded / 12.92
    } else {
        ((encoded + 0.055) / 1.055).powf(2.4)
    }
}

/// What a Display P3 colour is in sRGB, through the published linear P3 -> sRGB matrix
/// (both D65; e.g. the W3C CSS Color 4 conversion code), clipped to the sRGB gamut.
fn p3_to_srgb(p3: [u8; 3]) -> [f64; 3] {
    const P3_TO_SRGB: [[f64; 3]; 3] = [
        [1.224_940_2, -0.224_940_2, 0.0],
        [-0.042_056_955, 1.042_056_955, 0.0],
        [-0.019_637_555, -0.078_636_046, 1.098_273_6],
    ];
    let linear = p3.map(|c| srgb_decode(f64::from(c) / 255.0));
    P3_TO_SRGB.map(|row| 255.0 * srgb_encode(row.iter().zip(linear).map(|(m, c)| m * c).sum()))
}

#[test]
fn a_display_p3_photo_is_converted_to_srgb_within_a_small_difference() {
    // Flat patches of P3 colours (saturated ones are what P3 adds over sRGB), 400 px wide
    // each so the centre of each is far from the JPEG's block edges and the resizer's reach.
    let colours: [[u8; 3]; 5] = [
        [200, 60, 40],
        [60, 170, 80],
        [40, 80, 200],
        [230, 200, 60],
        [128, 128, 128],
    ];
    let image = RgbImage::from_fn(2000, 400, |x, _| Rgb(colours[(x / 400) as usize]));
    let untagged = jpeg_of(&image, 100);
    let tagged = insert_icc_profile(&untagged, &display_p3_profile());
    let renditions = make_renditions(&tagged, &ImageLimits::default()).unwrap();
    let (thumbnail, preview) = (decoded(&renditions.thumbnail), decoded(&renditions.preview));
    let plain = decoded(
        &make_renditions(&untagged, &ImageLimits::default())
            .unwrap()
            .thumbnail,
    );
    for (i, colour) in colours.iter().enumerate() {
        let want = p3_to_srgb(*colour);
        let (tx, px) = (i as u32 * 40 + 20, i as u32 * 320 + 160);
        for (name, got) in [
            ("thumbnail", thumbnail.get_pixel(tx, 20).0),
            ("preview", preview.get_pixel(px, 160).0),
        ] {
            let difference = got
                .iter()
                .zip(want)
                .map(|(&g, w)| (f64::from(g) - w).abs())
                .fold(0.0, f64::max);
            assert!(
                difference <= 4.0,
                "{name}: P3 {colour:?} became {got:?}, sRGB is {want:?}"
            );
        }
        // Without the conversion the saturated colours would be far off (washed out).
        let unconverted = plain.get_pixel(tx, 20).0;
        let off = unconverted
            .iter()
            .zip(want)
            .map(|(&g, w)| (f64::from(g) - w).abs())
            .fold(0.0, f64::max);
        if colour != &[128, 128, 128] {
            assert!(
                off >= 10.0,
                "P3 {colour:?} is close to sRGB even unconverted: {unconverted:?} vs {want:?}"
            );
        }
    }
}

#[test]
fn srgb_and_unreadable_profiles_leave_the_pixels_alone() {
    let image = RgbImage::from_fn(64, 64, |x, y| Rgb([(x * 4) as u8, (y * 4) as u8, 200]));
    let mut pixels = DynamicImage::ImageRgb8(image.clone());
    let srgb = icc_rgb_profile(
        "sRGB IEC61966-2.1",
        [(0.64, 0.33), (0.30, 0.60), (0.15, 0.06)],
        (0.3127, 0.3290),
        SRGB_CURVE,
    );
    assert!(
        !colour::to_srgb(&mut pixels, &srgb),
        "an sRGB profile is not converted"
    );
    assert!(!colour::to_srgb(
        &mut pixels,
        b"not a profile at all, just some bytes"
    ));
    let mut truncated = display_p3_profile();
    truncated.truncate(200);
    assert!(!colour::to_srgb(&mut pixels, &truncated));
    assert_eq!(pixels.to_rgb8(), image);
    assert!(
        colour::to_srgb(&mut pixels, &display_p3_profile()),
        "a P3 profile is converted"
    );
    assert_ne!(pixels.to_rgb8(), image);
}

#[test]
fn the_profile_is_found_in_jpeg_and_png() {
    let profile = display_p3_profile();
    let jpeg = insert_icc_profile(&crate::testing::jpeg(32, 32), &profile);
    assert_eq!(
        colour::embedded_profile(&jpeg, ImageFormat::Jpeg).as_deref(),
        Some(profile.as_slice())
    );
    assert_eq!(
        colour::embedded_profile(&crate::testing::jpeg(32, 32), ImageFormat::Jpeg),
        None
    );
    let mut png = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut png);
    encoder.set_icc_profile(profile.clone()).unwrap();
    encoder
        .write_image(&[0u8; 3 * 16], 4, 4, image::ExtendedColorType::Rgb8)
        .unwrap();
    assert_eq!(
        colour::embedded_profile(&png, ImageFormat::Png).as_deref(),
        Some(profile.as_slice())
    );
}

/// A PNG of `pixels` (4x4 RGB) with an `iCCP` chunk holding `profile`, compressed.
fn png_with_iccp(pixels: &[u8], compressed_profile: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    image::codecs::png::PngEncoder::new(&mut plain)
        .write_image(pixels, 4, 4, image::ExtendedColorType::Rgb8)
        .unwrap();
    let ihdr_end = 8 + 12 + 13;
    let mut data = b"bomb\0\0".to_vec();
    data.extend_from_slice(compressed_profile);
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"iCCP");
    chunk.extend_from_slice(&data);
    chunk.extend_from_slice(&crc32fast::hash(&chunk[4..]).to_be_bytes());
    [&plain[..ihdr_end], &chunk, &plain[ihdr_end..]].concat()
}

#[test]
fn a_png_whose_profile_inflates_past_the_limit_is_decoded_without_it() {
    let pixels: Vec<u8> = (0..48).map(|i| i * 5).collect();
    let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&vec![0u8; 64 << 20], 6);
    let png = png_with_iccp(&pixels, &bomb);
    assert_eq!(
        colour::embedded_profile(&png, ImageFormat::Png),
        None,
        "over the limit: no profile"
    );
    let stripped = colour::png_without_unusable_profile(&png).expect("the chunk is removed");
    assert_eq!(stripped.len(), png.len() - (12 + 6 + bomb.len()));
    assert!(!stripped.windows(4).any(|w| w == b"iCCP"));
    let decoded = decode(&png, &ImageLimits::default()).unwrap();
    assert_eq!(
        decoded.image.to_rgb8().into_raw(),
        pixels,
        "the same pixels, decoded from the stripped copy"
    );

    let usable = miniz_oxide::deflate::compress_to_vec_zlib(&display_p3_profile(), 6);
    let tagged = png_with_iccp(&pixels, &usable);
    assert_eq!(
        colour::png_without_unusable_profile(&tagged),
        None,
        "a usable profile stays"
    );
    assert_eq!(
        colour::embedded_profile(&tagged, ImageFormat::Png),
        Some(display_p3_profile())
    );
}

#[test]
fn a_png_cut_inside_its_profile_chunk_is_read_without_panicking() {
    // The fuzzer's file: a damaged profile (so the chunk is to be taken out) whose chunk's
    // data is all there but whose CRC is cut off.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(b"IHDR\0\0\0\x08\0\0\0\x08\x08\0\0\0\0");
    png.extend_from_slice(&crc32fast::hash(b"IHDR\0\0\0\x08\0\0\0\x08\x08\0\0\0\0").to_be_bytes());
    let data = b"icc\0\0\x78\x01not a deflate stream".to_vec();
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(b"iCCP");
    png.extend_from_slice(&data);
    for cut in png.len() - 6..=png.len() {
        assert_eq!(colour::png_without_unusable_profile(&png[..cut]), None);
        assert!(decode(&png[..cut], &ImageLimits::default()).is_err());
    }
}
