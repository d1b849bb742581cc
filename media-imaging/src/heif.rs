//! HEIC/HEIF and AVIF: sniffed from the `ftyp` brands, decoded by libheif (Debian 12's 1.15,
//! with libde265 for HEVC and dav1d for AV1), which also assembles grid (tiled) images and
//! applies the container's transformations (`clap`, `irot`, `imir`).
//!
//! Orientation is applied exactly once, by libheif: MIAF (ISO/IEC 23000-22:2024, 7.3.10.1)
//! says Exif transformations in these files "shall be ignored by a MIAF renderer", and libheif
//! applies `irot`/`imir` unless told not to (`heif_decoding_options.ignore_transformations`,
//! default false, libheif/heif.h). Phones write both (an iPhone HEIC carries `irot` and an
//! Exif orientation that says the same thing), so reading the Exif tag too would turn them
//! twice. Width and height come from the decoded, transformed image.
//!
//! Memory: before libheif sees the file, [`boxes`] reads what the file declares: the primary
//! image's `ispe`, and for a grid its descriptor (the canvas libheif allocates) and every
//! tile's `ispe`; for HEVC also the SPS's picture size (what libde265 allocates). Those are
//! checked against [`ImageLimits`] as the other formats' headers are. libheif itself only
//! refuses sides over 32,768 (`heif_limits.h`). Not read: an AV1 sequence header larger than
//! its `ispe` (docs/decisions/memory-limits.md, "HEIC/HEIF and AVIF").

pub(crate) mod boxes;

use image::error::{DecodingError, ImageFormatHint, LimitError, LimitErrorKind};
use image::{DynamicImage, ImageError, RgbImage, RgbaImage};
use libheif_rs::{ColorSpace, HeifContext, LibHeif, RgbChroma};

use super::{Decoded, ImagingError, OriginalInfo, SourceFormat};
use crate::ImageLimits;

/// The three kinds of file libheif reads, by their registered media types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeifFormat {
    /// HEVC-coded (`heic`, `heix`, ... brands): what iPhones write.
    Heic,
    /// AV1-coded (`avif`, `avis` brands).
    Avif,
    /// Any other HEIF (`mif1`, `msf1` only).
    Heif,
}

impl HeifFormat {
    pub fn mime_type(self) -> &'static str {
        match self {
            HeifFormat::Heic => "image/heic",
            HeifFormat::Avif => "image/avif",
            HeifFormat::Heif => "image/heif",
        }
    }
}

/// The format from the `ftyp` box's major and compatible brands (ISO/IEC 23008-12 Annex B
/// for the HEIF brands, the AV1 Image File Format spec for `avif`/`avis`).
pub(crate) fn sniff(bytes: &[u8]) -> Option<HeifFormat> {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    let size = (u32::from_be_bytes(bytes[0..4].try_into().ok()?) as usize).min(bytes.len());
    if size < 16 {
        return None;
    }
    // The major brand, then the compatible ones (after the 4-byte minor version).
    let brands = std::iter::once(&bytes[8..12]).chain(bytes[16..size].chunks_exact(4));
    let mut found = None;
    for brand in brands {
        let format = match brand {
            b"avif" | b"avis" => HeifFormat::Avif,
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" => HeifFormat::Heic,
            b"mif1" | b"msf1" => HeifFormat::Heif,
            _ => continue,
        };
        // A specific brand wins over the generic ones.
        if found.is_none() || found == Some(HeifFormat::Heif) {
            found = Some(format);
        }
    }
    found
}

fn decode_error(format: HeifFormat, message: impl Into<String>) -> ImagingError {
    ImagingError::Decode {
        format: format.mime_type(),
        source: ImageError::Decoding(DecodingError::new(
            ImageFormatHint::Name(format.mime_type().into()),
            message.into(),
        )),
    }
}

/// What the file says it will take, from its boxes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Declared {
    /// The primary image before transformations: a grid's canvas, or the larger of a coded
    /// image's `ispe` and its HEVC SPS.
    pub width: u32,
    pub height: u32,
    /// Pixels decoded on the way: the image, or every tile of a grid.
    pub coded_pixels: u64,
}

/// The primary image's declared size, checked for consistency: coded images need an `ispe`,
/// a grid needs a descriptor, as many coded tiles as it has cells, and an `ispe` on each.
pub(crate) fn declared(bytes: &[u8], layout: &boxes::Layout) -> Result<Declared, String> {
    let primary = &layout.items[&layout.primary];
    // The larger of what ispe declares and, for HEVC, what the bitstream's SPS codes (which
    // is what libde265 allocates; AV1's sequence header is not read, see
    // docs/decisions/memory-limits.md).
    let coded_size = |id: u32| -> Result<(u32, u32), String> {
        let item = layout
            .items
            .get(&id)
            .ok_or(format!("item {id} is not described"))?;
        if !matches!(&item.item_type, b"hvc1" | b"av01") {
            return Err(format!(
                "item {id} of type {} is not a coded image",
                String::from_utf8_lossy(&item.item_type)
            ));
        }
        let (width, height) = item.ispe.ok_or(format!("item {id} has no size (ispe)"))?;
        if &item.item_type != b"hvc1" {
            return Ok((width, height));
        }
        let hvcc = item
            .properties
            .iter()
            .find(|(kind, _)| kind == b"hvcC")
            .ok_or(format!("item {id} has no hvcC"))?;
        let (coded_width, coded_height) = boxes::hevc_coded_size(&hvcc.1)?;
        Ok((width.max(coded_width), height.max(coded_height)))
    };
    match &primary.item_type {
        b"hvc1" | b"av01" => {
            let (width, height) = coded_size(layout.primary)?;
            Ok(Declared {
                width,
                height,
                coded_pixels: u64::from(width) * u64::from(height),
            })
        }
        b"grid" => {
            let grid = layout.grid(bytes, layout.primary)?;
            let cells = u64::from(grid.rows) * u64::from(grid.columns);
            if primary.derived_from.len() as u64 != cells {
                return Err(format!(
                    "grid of {cells} cells has {} tiles",
                    primary.derived_from.len()
                ));
            }
            let mut coded_pixels = 0u64;
            for &tile in &primary.derived_from {
                let (w, h) = coded_size(tile)?;
                coded_pixels = coded_pixels.saturating_add(u64::from(w) * u64::from(h));
            }
            Ok(Declared {
                width: grid.width,
                height: grid.height,
                coded_pixels,
            })
        }
        other => Err(format!(
            "primary item of type {} is not supported",
            String::from_utf8_lossy(other)
        )),
    }
}

/// Decodes the primary image to 8 bits per channel, transformed, within `limits`.
pub(super) fn decode(
    bytes: &[u8],
    format: HeifFormat,
    limits: &ImageLimits,
) -> Result<Decoded, ImagingError> {
    let layout = boxes::parse(bytes).map_err(|m| decode_error(format, m))?;
    let declared = declared(bytes, &layout).map_err(|m| decode_error(format, m))?;
    let (width, height) = (declared.width, declared.height);
    let pixels = (u64::from(width) * u64::from(height)).max(declared.coded_pixels);
    if pixels > limits.max_pixels {
        return Err(ImagingError::TooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
        });
    }

    // Reads the boxes only; no pixel memory yet.
    let context =
        HeifContext::read_from_bytes(bytes).map_err(|e| decode_error(format, e.message))?;
    let handle = context
        .primary_image_handle()
        .map_err(|e| decode_error(format, e.message))?;
    let bytes_per_sample = if handle
        .luma_bits_per_pixel()
        .max(handle.chroma_bits_per_pixel())
        > 8
    {
        2
    } else {
        1
    };
    // libheif converts each decoded image to planar 4:4:4 RGB (a grid's canvas too), then
    // makes a copy per transformation and one interleaved 8-bit copy; ours is one more.
    let planar = pixels * 3 * bytes_per_sample;
    if planar > limits.max_decoded_bytes {
        return Err(ImagingError::TooManyBytes {
            width,
            height,
            bytes: planar,
            max_bytes: limits.max_decoded_bytes,
        });
    }
    let peak = 2 * planar.max(pixels * 4);
    if peak > limits.max_alloc_bytes() {
        return Err(ImagingError::Decode {
            format: format.mime_type(),
            source: ImageError::Limits(LimitError::from_kind(LimitErrorKind::InsufficientMemory)),
        });
    }

    let has_alpha = handle.has_alpha_channel();
    let chroma = if has_alpha {
        RgbChroma::Rgba
    } else {
        RgbChroma::Rgb
    };
    // No DecodingOptions: libheif-rs up to 1.0.0 frees them before libheif reads them (fixed
    // in 1.0.1, which needs libheif 1.17). libheif's defaults are what is wanted anyway:
    // transformations applied, and interleaved RGB output is 8 bits per channel.
    let lib = LibHeif::new();
    let decoded = lib
        .decode(&handle, ColorSpace::Rgb(chroma), None)
        .map_err(|e| decode_error(format, e.message))?;
    let plane = decoded
        .planes()
        .interleaved
        .ok_or_else(|| decode_error(format, "libheif returned no interleaved plane"))?;
    let channels: usize = if has_alpha { 4 } else { 3 };
    if plane.bits_per_pixel != 8 * channels as u8
        && plane.storage_bits_per_pixel != 8 * channels as u8
    {
        return Err(decode_error(
            format,
            format!(
                "libheif returned {} bits per pixel",
                plane.storage_bits_per_pixel
            ),
        ));
    }
    let (out_width, out_height) = (plane.width, plane.height);
    let row = out_width as usize * channels;
    let mut pixels = Vec::with_capacity(row * out_height as usize);
    for y in 0..out_height as usize {
        let start = y * plane.stride;
        pixels.extend_from_slice(
            plane
                .data
                .get(start..start + row)
                .ok_or_else(|| decode_error(format, "libheif plane too short"))?,
        );
    }
    drop(decoded);
    let image = if has_alpha {
        RgbaImage::from_raw(out_width, out_height, pixels).map(DynamicImage::ImageRgba8)
    } else {
        RgbImage::from_raw(out_width, out_height, pixels).map(DynamicImage::ImageRgb8)
    }
    .ok_or_else(|| decode_error(format, "libheif returned too few pixels"))?;
    let info = OriginalInfo {
        format: SourceFormat::Heif(format),
        width: out_width,
        height: out_height,
        has_alpha,
    };
    Ok(Decoded { image, info })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::heif::{
        avifenc, heic_claiming, heic_grid, heic_grid_of_tiles_declared, heic_rotated, heif_enc,
    };
    use crate::testing::insert_exif_orientation;
    use crate::{decode, make_thumbnail, THUMBNAIL_BOX};
    use image::{ImageEncoder, Rgb};

    fn jpeg_of(image: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
            .write_image(
                image,
                image.width(),
                image.height(),
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        out
    }

    /// Left half red, right half blue, as stored.
    fn halves(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, _| {
            if x < width / 2 {
                Rgb([230, 20, 20])
            } else {
                Rgb([20, 20, 230])
            }
        })
    }

    fn is_red(pixel: &Rgb<u8>) -> bool {
        pixel[0] > 180 && pixel[2] < 90
    }

    fn is_blue(pixel: &Rgb<u8>) -> bool {
        pixel[2] > 180 && pixel[0] < 90
    }

    /// The thumbnail's top is red and its bottom blue: the stored left half is on top, as a
    /// quarter turn clockwise puts it.
    fn assert_red_on_top(thumbnail: &[u8]) {
        let image = image::load_from_memory(thumbnail).unwrap().to_rgb8();
        let (w, h) = image.dimensions();
        let (top, bottom) = (
            image.get_pixel(w / 2, h / 5),
            image.get_pixel(w / 2, h * 4 / 5),
        );
        assert!(
            is_red(top) && is_blue(bottom),
            "top {top:?} bottom {bottom:?}"
        );
    }

    #[test]
    fn brands_are_sniffed() {
        let ftyp = |major: &[u8; 4], compatible: &[&[u8; 4]]| {
            let mut payload = major.to_vec();
            payload.extend_from_slice(&[0; 4]);
            compatible
                .iter()
                .for_each(|brand| payload.extend_from_slice(*brand));
            let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
            out.extend_from_slice(b"ftyp");
            out.extend_from_slice(&payload);
            out
        };
        assert_eq!(
            sniff(&ftyp(b"heic", &[b"mif1", b"heic"])),
            Some(HeifFormat::Heic)
        );
        assert_eq!(
            sniff(&ftyp(b"mif1", &[b"heic", b"miaf"])),
            Some(HeifFormat::Heic)
        );
        assert_eq!(
            sniff(&ftyp(b"avif", &[b"mif1", b"miaf"])),
            Some(HeifFormat::Avif)
        );
        assert_eq!(
            sniff(&ftyp(b"mif1", &[b"miaf", b"MA1B", b"avif"])),
            Some(HeifFormat::Avif)
        );
        assert_eq!(sniff(&ftyp(b"mif1", &[b"miaf"])), Some(HeifFormat::Heif));
        // MP4 video and QuickTime are not images.
        assert_eq!(sniff(&ftyp(b"isom", &[b"iso2", b"mp41"])), None);
        assert_eq!(sniff(&ftyp(b"qt  ", &[b"qt  "])), None);
        assert_eq!(sniff(b"\x00\x00\x00\x0cftypheic"), None);
    }

    #[test]
    fn heic_from_heif_enc_is_decoded_at_its_size() {
        let heic = heif_enc(&jpeg_of(&halves(640, 480)));
        let thumb = make_thumbnail(&heic, &ImageLimits::default()).unwrap();
        assert_eq!(thumb.original.format, SourceFormat::Heif(HeifFormat::Heic));
        assert_eq!(thumb.original.content_type(), "image/heic");
        assert_eq!((thumb.original.width, thumb.original.height), (640, 480));
        assert_eq!((thumb.encoded.width, thumb.encoded.height), (200, 150));
        let image = image::load_from_memory(&thumb.encoded.bytes)
            .unwrap()
            .to_rgb8();
        assert!(is_red(image.get_pixel(40, 75)) && is_blue(image.get_pixel(160, 75)));
    }

    #[test]
    fn heic_irot_is_applied_once_and_its_exif_orientation_ignored() {
        let stored = heif_enc(&jpeg_of(&halves(800, 400)));
        // As an iPhone writes a photo taken in portrait: irot 270 degrees anticlockwise (a
        // quarter turn clockwise) and Exif orientation 6 saying the same.
        let rotated = heic_rotated(&stored, 3, 6);
        let decoded = decode(&rotated, &ImageLimits::default()).unwrap();
        assert_eq!((decoded.info.width, decoded.info.height), (400, 800));
        assert_eq!((decoded.image.width(), decoded.image.height()), (400, 800));
        let thumb = make_thumbnail(&rotated, &ImageLimits::default()).unwrap();
        assert_eq!((thumb.encoded.width, thumb.encoded.height), (100, 200));
        assert_red_on_top(&thumb.encoded.bytes);

        // heif-enc 1.15 keeps a JPEG's Exif orientation but writes no irot: MIAF says the Exif
        // one is ignored, so the picture stays as stored.
        let exif_only = heif_enc(&insert_exif_orientation(&jpeg_of(&halves(800, 400)), 6));
        let decoded = decode(&exif_only, &ImageLimits::default()).unwrap();
        assert_eq!((decoded.info.width, decoded.info.height), (800, 400));
    }

    #[test]
    fn grid_heic_is_assembled_and_cropped_to_its_canvas() {
        let colours = [
            Rgb([230, 20, 20]),
            Rgb([20, 200, 20]),
            Rgb([20, 20, 230]),
            Rgb([230, 230, 20]),
        ];
        let tiles: Vec<Vec<u8>> = colours
            .iter()
            .map(|&c| heif_enc(&jpeg_of(&RgbImage::from_pixel(256, 256, c))))
            .collect();
        let grid = heic_grid(&tiles, 2, 2, 500, 400);
        let layout = boxes::parse(&grid).unwrap();
        assert_eq!(
            declared(&grid, &layout).unwrap(),
            Declared {
                width: 500,
                height: 400,
                coded_pixels: 4 * 256 * 256
            }
        );
        let decoded = decode(&grid, &ImageLimits::default()).unwrap();
        assert_eq!((decoded.info.width, decoded.info.height), (500, 400));
        let image = decoded.image.to_rgb8();
        for (n, (x, y)) in [(100, 100), (400, 100), (100, 350), (400, 350)]
            .into_iter()
            .enumerate()
        {
            let pixel = image.get_pixel(x, y);
            let distance: u32 = pixel
                .0
                .iter()
                .zip(colours[n].0)
                .map(|(&a, b)| u32::from(a.abs_diff(b)))
                .sum();
            assert!(
                distance < 40,
                "tile {n} at ({x},{y}) is {pixel:?}, not {:?}",
                colours[n]
            );
        }
    }

    /// libheif releases whose grid assembly writes past a 4:2:0 canvas's chroma planes when a
    /// tile starts at an odd offset: from 1.19.0 (the canvas keeps the tiles' chroma), fixed in
    /// 1.22.0. 1.15 assembles grids in RGB 4:4:4 and is not affected (docs/decisions/heif-grids.md).
    const GRID_CHROMA_OVERFLOW: std::ops::Range<[u8; 3]> = [1, 19, 0]..[1, 22, 0];

    #[test]
    fn the_linked_libheif_is_not_one_whose_grid_assembly_overflows() {
        let version = LibHeif::new().version();
        assert!(
            !GRID_CHROMA_OVERFLOW.contains(&version),
            "libheif {version:?} writes past the canvas for odd-sized grid tiles: refuse such grids before decoding \
             (docs/decisions/heif-grids.md)"
        );
    }

    #[test]
    fn a_grid_of_odd_sized_tiles_is_assembled_at_their_declared_offsets() {
        // Coded 66x66 (HEVC 4:2:0 decodes to even sides), declared 65x65, on a 128x128 canvas:
        // the second row and column start at an odd offset and end cut, so an affected libheif
        // writes a chroma row past the canvas (18 bytes past its block under valgrind, 1.21.2).
        let colours = [
            Rgb([230, 20, 20]),
            Rgb([20, 200, 20]),
            Rgb([20, 20, 230]),
            Rgb([230, 230, 20]),
        ];
        let tiles: Vec<Vec<u8>> = colours
            .iter()
            .map(|&c| heif_enc(&jpeg_of(&RgbImage::from_pixel(66, 66, c))))
            .collect();
        let grid = heic_grid_of_tiles_declared(&tiles, 2, 2, 128, 128, (65, 65));
        let layout = boxes::parse(&grid).unwrap();
        let tile_sizes: Vec<_> = layout.items[&layout.primary]
            .derived_from
            .iter()
            .map(|id| layout.items[id].ispe)
            .collect();
        assert_eq!(tile_sizes, [Some((65, 65)); 4]);
        // What the limits count is what the decoder allocates: each tile's SPS size, 72x72 (66
        // in 8-pixel coding blocks; the conformance window crops it to 66), never the ispe.
        assert_eq!(
            declared(&grid, &layout).unwrap(),
            Declared {
                width: 128,
                height: 128,
                coded_pixels: 4 * 72 * 72
            }
        );
        let decoded = decode(&grid, &ImageLimits::default()).unwrap();
        assert_eq!((decoded.info.width, decoded.info.height), (128, 128));
        let image = decoded.image.to_rgb8();
        // Each tile's colour up to the pixel before the next tile's offset (65) and from the one
        // after it: the column and row at the offset are written by both tiles.
        let at = |x: u32, y: u32, n: usize| {
            let pixel = image.get_pixel(x, y);
            let distance: u32 = pixel
                .0
                .iter()
                .zip(colours[n].0)
                .map(|(&a, b)| u32::from(a.abs_diff(b)))
                .sum();
            assert!(
                distance < 40,
                "({x},{y}) is {pixel:?}, not tile {n}'s {:?}",
                colours[n]
            );
        };
        let corners = [(0, 0, 0), (64, 64, 0), (66, 0, 1), (127, 64, 1)];
        for (x, y, n) in
            corners
                .into_iter()
                .chain([(0, 66, 2), (64, 127, 2), (66, 66, 3), (127, 127, 3)])
        {
            at(x, y, n);
        }
    }

    #[test]
    fn ten_bit_avif_is_decoded_to_8_bits() {
        // A 16-bit PNG, so avifenc has 10 bits to keep.
        let image = image::ImageBuffer::<Rgb<u16>, _>::from_fn(480, 320, |x, _| {
            if x < 240 {
                Rgb([60000, 5000, 5000])
            } else {
                Rgb([5000, 5000, 60000])
            }
        });
        let mut png = Vec::new();
        image::DynamicImage::ImageRgb16(image)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let avif = avifenc(&png, "png", &["--depth", "10"]);
        let context = HeifContext::read_from_bytes(&avif).unwrap();
        assert_eq!(
            context
                .primary_image_handle()
                .unwrap()
                .luma_bits_per_pixel(),
            10
        );
        let thumb = make_thumbnail(&avif, &ImageLimits::default()).unwrap();
        assert_eq!(thumb.original.format, SourceFormat::Heif(HeifFormat::Avif));
        assert_eq!(thumb.original.content_type(), "image/avif");
        assert_eq!((thumb.original.width, thumb.original.height), (480, 320));
        assert_eq!((thumb.encoded.width, thumb.encoded.height), (200, 133));
        let out = image::load_from_memory(&thumb.encoded.bytes)
            .unwrap()
            .to_rgb8();
        assert!(
            is_red(out.get_pixel(40, 66)) && is_blue(out.get_pixel(160, 66)),
            "{:?} {:?}",
            out.get_pixel(40, 66),
            out.get_pixel(160, 66)
        );
    }

    #[test]
    fn avif_transformations_are_applied_once() {
        let jpeg = jpeg_of(&halves(800, 400));
        // irot 3: 270 degrees anticlockwise.
        let rotated = avifenc(&jpeg, "jpg", &["--irot", "3"]);
        let thumb = make_thumbnail(&rotated, &ImageLimits::default()).unwrap();
        assert_eq!((thumb.original.width, thumb.original.height), (400, 800));
        assert_red_on_top(&thumb.encoded.bytes);
        // avifenc 0.11 turns a JPEG's Exif orientation into irot and keeps the Exif too, as
        // phones do: still one quarter turn.
        let both = avifenc(&insert_exif_orientation(&jpeg, 6), "jpg", &[]);
        let thumb = make_thumbnail(&both, &ImageLimits::default()).unwrap();
        assert_eq!((thumb.original.width, thumb.original.height), (400, 800));
        assert_red_on_top(&thumb.encoded.bytes);
    }

    #[test]
    fn grid_avif_is_assembled() {
        let avif = avifenc(&jpeg_of(&halves(640, 480)), "jpg", &["--grid", "2x2"]);
        let layout = boxes::parse(&avif).unwrap();
        assert_eq!(&layout.items[&layout.primary].item_type, b"grid");
        let thumb = make_thumbnail(&avif, &ImageLimits::default()).unwrap();
        assert_eq!((thumb.original.width, thumb.original.height), (640, 480));
        let image = image::load_from_memory(&thumb.encoded.bytes)
            .unwrap()
            .to_rgb8();
        assert!(is_red(image.get_pixel(40, 75)) && is_blue(image.get_pixel(160, 75)));
    }

    #[test]
    fn declared_sizes_over_the_limits_are_refused_before_decoding() {
        let limits = ImageLimits::default();
        let heic = heif_enc(&jpeg_of(&halves(64, 64)));
        let lying = heic_claiming(&heic, 100_000, 100_000);
        let err = make_thumbnail(&lying, &limits).unwrap_err();
        assert!(
            matches!(
                err,
                ImagingError::TooManyPixels {
                    width: 100_000,
                    height: 100_000,
                    ..
                }
            ),
            "{err}"
        );
        // A grid's canvas is what libheif allocates, whatever the tiles' ispe say.
        let tile = heif_enc(&jpeg_of(&halves(64, 64)));
        let grid = heic_grid(
            &[tile.clone(), tile.clone(), tile.clone(), tile],
            2,
            2,
            30_000,
            30_000,
        );
        let err = make_thumbnail(&grid, &limits).unwrap_err();
        assert!(
            matches!(
                err,
                ImagingError::TooManyPixels {
                    width: 30_000,
                    height: 30_000,
                    ..
                }
            ),
            "{err}"
        );
        // An ispe smaller than the coded picture: the SPS's size is what counts.
        let small_limits = ImageLimits {
            max_pixels: 100_000,
            ..limits
        };
        let understated = heif_enc(&jpeg_of(&halves(640, 480)));
        let layout = boxes::parse(&understated).unwrap();
        let hvcc = &layout.items[&layout.primary]
            .properties
            .iter()
            .find(|(k, _)| k == b"hvcC")
            .unwrap()
            .1;
        assert_eq!(boxes::hevc_coded_size(hvcc).unwrap(), (640, 480));
        assert!(make_thumbnail(&understated, &small_limits).is_err());
        let err = make_thumbnail(&heic_claiming(&understated, 64, 48), &small_limits).unwrap_err();
        assert!(
            matches!(
                err,
                ImagingError::TooManyPixels {
                    width: 640,
                    height: 480,
                    ..
                }
            ),
            "{err}"
        );
        // Under the pixel limit but over the memory budget: 90 MP decode to 270 MB planar RGB.
        let wide = heic_claiming(&heic, 9_000, 10_000);
        let err = make_thumbnail(&wide, &limits).unwrap_err();
        assert!(matches!(err, ImagingError::TooManyBytes { .. }), "{err}");
    }

    #[test]
    fn damaged_files_are_errors_not_crashes() {
        let limits = ImageLimits::default();
        let heic = heif_enc(&jpeg_of(&halves(256, 192)));
        let avif = avifenc(&jpeg_of(&halves(256, 192)), "jpg", &[]);
        for file in [&heic, &avif] {
            assert!(decode(&file[..file.len() / 2], &limits).is_err());
            assert!(decode(&file[..40], &limits).is_err());
            let mut seed = 0x2545_F491_4F6C_DD1Du64;
            for _ in 0..200 {
                let mut damaged = file.clone();
                for _ in 0..4 {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let at = (seed as usize) % damaged.len();
                    damaged[at] = (seed >> 32) as u8;
                }
                let _ = make_thumbnail(&damaged, &limits);
            }
        }
        assert_eq!(THUMBNAIL_BOX, 200);
    }
}
