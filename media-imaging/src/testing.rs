//! Hand-made images for tests: the exact bytes a hostile or unusual upload carries, which
//! no encoder produces on purpose. Compiled only with the `testing` feature, never into a
//! Lambda package.

pub mod fuzz;
pub mod heif;
pub mod location;
pub mod worst;

/// A JPEG of `width` x `height` with gradients (so thumbnails and decoders have something to
/// chew on), as the handler tests upload it.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::Jpeg,
        )
        .expect("a JPEG encodes");
    out
}

/// An Exif block (big-endian TIFF structure) whose IFD0 holds only `orientation`.
pub fn exif_orientation(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0*");
    tiff.extend_from_slice(&8u32.to_be_bytes()); // IFD0 right after the header
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    tiff
}

/// Returns `jpeg` with an EXIF APP1 segment carrying `orientation` right after SOI.
pub fn insert_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    assert!(jpeg.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&exif_orientation(orientation));
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Returns `png` with a chunk of `kind` holding `data` right after its header (IHDR).
pub fn insert_png_chunk(png: &[u8], kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let ihdr_end = 8 + 8 + 13 + 4;
    let mut chunk = Vec::new();
    push_chunk(&mut chunk, kind, data);
    [&png[..ihdr_end], &chunk, &png[ihdr_end..]].concat()
}

/// An ICC v2 display profile for RGB with the given primaries and white point (CIE xy) and
/// the sRGB-shaped transfer curve `Y = (aX + b)^g` above `d`, `cX` below (a `para` curve of
/// type 3, params `[g, a, b, c, d]`): what a phone or an editor embeds for Display P3 or
/// Adobe RGB. The colorants are adapted to the D50 connection space with the Bradford
/// transform, as the ICC specification (v4, annex E) has profile makers do.
pub fn icc_rgb_profile(
    description: &str,
    primaries: [(f64, f64); 3],
    white: (f64, f64),
    curve: [f64; 5],
) -> Vec<u8> {
    type M = [[f64; 3]; 3];
    let mul = |a: &M, b: &M| -> M {
        let mut c = [[0.0; 3]; 3];
        for i in 0..3 {
            for j in 0..3 {
                c[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
            }
        }
        c
    };
    let apply = |m: &M, v: [f64; 3]| -> [f64; 3] {
        [0, 1, 2].map(|i| (0..3).map(|k| m[i][k] * v[k]).sum())
    };
    let inverse = |m: &M| -> M {
        let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
        // The adjugate's entry (i, j) over the determinant.
        std::array::from_fn(|i| {
            std::array::from_fn(|j| {
                let (a, b) = ((j + 1) % 3, (j + 2) % 3);
                let (c, d) = ((i + 1) % 3, (i + 2) % 3);
                (m[a][c] * m[b][d] - m[a][d] * m[b][c]) / det
            })
        })
    };
    let xyz = |(x, y): (f64, f64)| [x / y, 1.0, (1.0 - x - y) / y];
    // RGB -> XYZ under the profile's white: the primaries scaled so that 1,1,1 is white.
    let p: M = {
        let [r, g, b] = primaries.map(xyz);
        [[r[0], g[0], b[0]], [r[1], g[1], b[1]], [r[2], g[2], b[2]]]
    };
    let scale = apply(&inverse(&p), xyz(white));
    let rgb_to_xyz: M = [0, 1, 2].map(|i| [0, 1, 2].map(|j| p[i][j] * scale[j]));
    const BRADFORD: M = [
        [0.8951, 0.2664, -0.1614],
        [-0.7502, 1.7135, 0.0367],
        [0.0389, -0.0685, 1.0296],
    ];
    const D50: [f64; 3] = [0.9642, 1.0, 0.8249];
    let (cone_white, cone_d50) = (apply(&BRADFORD, xyz(white)), apply(&BRADFORD, D50));
    let gain: M = [0, 1, 2].map(|i| {
        [0, 1, 2].map(|j| {
            if i == j {
                cone_d50[i] / cone_white[i]
            } else {
                0.0
            }
        })
    });
    let adapted = mul(
        &mul(&inverse(&BRADFORD), &mul(&gain, &BRADFORD)),
        &rgb_to_xyz,
    );

    let fixed = |v: f64| ((v * 65536.0).round() as i32).to_be_bytes();
    let xyz_tag = |v: [f64; 3]| -> Vec<u8> {
        [
            b"XYZ \0\0\0\0".to_vec(),
            v.iter().flat_map(|&c| fixed(c)).collect(),
        ]
        .concat()
    };
    let mut desc = b"desc\0\0\0\0".to_vec();
    desc.extend_from_slice(&(description.len() as u32 + 1).to_be_bytes());
    desc.extend_from_slice(description.as_bytes());
    desc.extend_from_slice(&[0; 1 + 4 + 4 + 2 + 1 + 67]);
    let mut para = b"para\0\0\0\0\0\x03\0\0".to_vec();
    para.extend(curve.iter().flat_map(|&v| fixed(v)));
    let column = |j: usize| [adapted[0][j], adapted[1][j], adapted[2][j]];
    let tags: Vec<(&[u8; 4], Vec<u8>)> = vec![
        (b"desc", desc),
        (b"wtpt", xyz_tag(D50)),
        (b"rXYZ", xyz_tag(column(0))),
        (b"gXYZ", xyz_tag(column(1))),
        (b"bXYZ", xyz_tag(column(2))),
        (b"rTRC", para.clone()),
        (b"gTRC", para.clone()),
        (b"bTRC", para),
    ];
    let mut table = (tags.len() as u32).to_be_bytes().to_vec();
    let mut data = Vec::new();
    let mut offset = 128 + 4 + 12 * tags.len();
    for (signature, bytes) in &tags {
        table.extend_from_slice(*signature);
        table.extend_from_slice(&(offset as u32).to_be_bytes());
        table.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        let padded = bytes.len().div_ceil(4) * 4;
        data.extend_from_slice(bytes);
        data.resize(data.len() + padded - bytes.len(), 0);
        offset += padded;
    }
    let mut header = vec![0u8; 128];
    header[0..4].copy_from_slice(&(offset as u32).to_be_bytes());
    header[8..12].copy_from_slice(&[2, 0x10, 0, 0]);
    header[12..16].copy_from_slice(b"mntr");
    header[16..20].copy_from_slice(b"RGB ");
    header[20..24].copy_from_slice(b"XYZ ");
    header[36..40].copy_from_slice(b"acsp");
    for (i, v) in D50.iter().enumerate() {
        header[68 + 4 * i..72 + 4 * i].copy_from_slice(&fixed(*v));
    }
    [header, table, data].concat()
}

/// The sRGB transfer curve's parameters (IEC 61966-2.1), which Display P3 shares.
pub const SRGB_CURVE: [f64; 5] = [2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045];

/// Display P3 as Apple's phones embed it: DCI-P3 primaries, D65 white, the sRGB curve.
pub fn display_p3_profile() -> Vec<u8> {
    icc_rgb_profile(
        "Display P3",
        [(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)],
        (0.3127, 0.3290),
        SRGB_CURVE,
    )
}

/// Returns `jpeg` with `profile` in one `ICC_PROFILE` APP2 segment right after SOI.
pub fn insert_icc_profile(jpeg: &[u8], profile: &[u8]) -> Vec<u8> {
    assert!(jpeg.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let mut payload = b"ICC_PROFILE\0\x01\x01".to_vec();
    payload.extend_from_slice(profile);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE2];
    out.extend_from_slice(
        &u16::try_from(payload.len() + 2)
            .expect("a profile under 64 KB")
            .to_be_bytes(),
    );
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// An animated GIF of `frames` frames of `side` x `side`: the first red, every other blue.
pub fn animated_gif(side: u32, frames: usize) -> Vec<u8> {
    let frame = |colour: [u8; 4]| {
        image::Frame::new(image::RgbaImage::from_pixel(
            side,
            side,
            image::Rgba(colour),
        ))
    };
    let mut out = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new_with_speed(&mut out, 30);
        encoder
            .encode_frame(frame([255, 0, 0, 255]))
            .expect("a GIF frame");
        for _ in 1..frames {
            encoder
                .encode_frame(frame([0, 0, 255, 255]))
                .expect("a GIF frame");
        }
    }
    out
}

/// An animated WebP (VP8X with the animation flag, ANIM, then one ANMF per frame carrying a
/// lossless VP8L bitstream) of `frames` frames of `side` x `side`: the first red, every other
/// blue. The `image` crate writes still WebPs only.
pub fn animated_webp(side: u32, frames: usize) -> Vec<u8> {
    let vp8l = |colour: [u8; 3]| -> Vec<u8> {
        let mut still = Vec::new();
        image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(side, side, image::Rgb(colour)))
            .write_to(
                &mut std::io::Cursor::new(&mut still),
                image::ImageFormat::WebP,
            )
            .expect("a WebP encodes");
        let at = still
            .windows(4)
            .position(|w| w == b"VP8L")
            .expect("a VP8L chunk");
        still[at..].to_vec()
    };
    let u24 = |v: u32| v.to_le_bytes()[..3].to_vec();
    let chunk = riff_chunk;
    let mut body = b"WEBP".to_vec();
    body.extend(chunk(
        b"VP8X",
        &[vec![0x02, 0, 0, 0], u24(side - 1), u24(side - 1)].concat(),
    ));
    body.extend(chunk(b"ANIM", &[0, 0, 0, 0, 0, 0]));
    for n in 0..frames {
        let colour = if n == 0 { [255, 0, 0] } else { [0, 0, 255] };
        let frame = [
            u24(0),
            u24(0),
            u24(side - 1),
            u24(side - 1),
            u24(100),
            vec![0],
            vp8l(colour),
        ]
        .concat();
        body.extend(chunk(b"ANMF", &frame));
    }
    [
        b"RIFF".to_vec(),
        (body.len() as u32).to_le_bytes().to_vec(),
        body,
    ]
    .concat()
}

/// A PNG signature and IHDR that claim `width` x `height` RGB pixels, followed by one tiny
/// IDAT and IEND: a decompression bomb's header without the bomb.
pub fn png_header_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    push_chunk(&mut out, b"IHDR", &ihdr);
    push_chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    push_chunk(&mut out, b"IEND", &[]);
    out
}

/// A RIFF chunk as WebP uses them: type, little-endian length, data, a pad byte to an even
/// length (WebP container specification, "RIFF file format").
pub(crate) fn riff_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = kind.to_vec();
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// Appends a PNG chunk (length, type, data, CRC).
pub(crate) fn push_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(kind);
    hasher.update(data);
    out.extend_from_slice(&hasher.finalize().to_be_bytes());
}

/// A JPEG written by libjpeg (the decoder the thumbnail path uses) from `pixels` laid out in
/// `color_space`: `"gray"` (1 byte a pixel), `"rgb"` (3), `"cmyk"` (4, stored as CMYK with
/// Adobe's APP14 marker, inverted as Adobe writes it) or `"ycck"` (4 bytes of CMYK, stored
/// transformed to YCCK). Baseline unless `progressive`. What the `image` crate cannot write.
pub fn libjpeg_jpeg(
    color_space: &str,
    width: usize,
    height: usize,
    pixels: &[u8],
    progressive: bool,
) -> Vec<u8> {
    use mozjpeg::ColorSpace;
    let (input, stored) = match color_space {
        "gray" => (ColorSpace::JCS_GRAYSCALE, ColorSpace::JCS_GRAYSCALE),
        "rgb" => (ColorSpace::JCS_RGB, ColorSpace::JCS_YCbCr),
        "cmyk" => (ColorSpace::JCS_CMYK, ColorSpace::JCS_CMYK),
        "ycck" => (ColorSpace::JCS_CMYK, ColorSpace::JCS_YCCK),
        other => panic!("libjpeg_jpeg: unknown colour space {other:?}"),
    };
    let mut compress = mozjpeg::Compress::new(input);
    // libjpeg's own settings (mozjpeg's defaults are progressive), then ours.
    compress.set_fastest_defaults();
    compress.set_color_space(stored);
    if progressive {
        compress.set_progressive_mode();
    }
    compress.set_size(width, height);
    compress.set_quality(90.0);
    let mut started = compress
        .start_compress(Vec::new())
        .expect("a libjpeg compressor");
    started
        .write_scanlines(pixels)
        .expect("pixels of the given size");
    started.finish().expect("a JPEG")
}

/// How [`progressive_jpeg`] lays out a progressive JPEG.
#[derive(Clone, Copy, Debug)]
pub struct Progression {
    /// The first component's sampling factors (h, v); the others' are 1x1. (2, 2) is 4:2:0,
    /// (2, 1) 4:2:2, (1, 1) 4:4:4.
    pub luma_sampling: (u8, u8),
    /// MCUs between restart markers (0: none).
    pub restart_interval: u16,
    pub dc: DcScans,
}

/// The DC scans of a [`progressive_jpeg`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DcScans {
    /// libjpeg's own script (`jpeg_simple_progression`): one interleaved DC scan of all
    /// components at `Al = 1`, AC scans, then the DC refinement to `Al = 0`.
    Standard,
    /// One DC scan per component at `Al = 2`, refined one component at a time to `Al = 1` and
    /// then `0`, with AC scans between.
    SeparateRefined,
    /// One interleaved DC scan at full precision (`Al = 0`), then each component's AC.
    Interleaved,
}

/// A progressive JPEG written by libjpeg with the given sampling, restart interval and DC
/// scans, Huffman tables optimised per scan (a DHT before each): grey from 1 byte a pixel,
/// else YCbCr (JFIF) from RGB. What the `mozjpeg` crate's compressor cannot set.
pub fn progressive_jpeg(
    pixels: &[u8],
    width: u32,
    height: u32,
    grey: bool,
    progression: Progression,
) -> Vec<u8> {
    use mozjpeg_sys::*;
    let components: usize = if grey { 1 } else { 3 };
    assert_eq!(pixels.len(), width as usize * height as usize * components);
    let scan = |comps: &[c_int], ss, se, ah, al| {
        let mut component_index = [0; 4];
        component_index[..comps.len()].copy_from_slice(comps);
        jpeg_scan_info {
            comps_in_scan: comps.len() as c_int,
            component_index,
            Ss: ss,
            Se: se,
            Ah: ah,
            Al: al,
        }
    };
    let all: Vec<c_int> = (0..components as c_int).collect();
    let script: Vec<jpeg_scan_info> = match progression.dc {
        DcScans::Standard => Vec::new(),
        DcScans::SeparateRefined => {
            let mut scans: Vec<_> = all.iter().map(|&c| scan(&[c], 0, 0, 0, 2)).collect();
            scans.extend(all.iter().map(|&c| scan(&[c], 1, 63, 0, 0)));
            scans.extend(all.iter().map(|&c| scan(&[c], 0, 0, 2, 1)));
            scans.extend(all.iter().rev().map(|&c| scan(&[c], 0, 0, 1, 0)));
            scans
        }
        DcScans::Interleaved => {
            let mut scans = vec![scan(&all, 0, 0, 0, 0)];
            scans.extend(all.iter().map(|&c| scan(&[c], 1, 5, 0, 0)));
            scans.extend(all.iter().map(|&c| scan(&[c], 6, 63, 0, 0)));
            scans
        }
    };
    let mut error = crate::jpeg::error_manager();
    // Room for any JPEG of these pixels, so that libjpeg's memory destination never
    // replaces it with a buffer of its own (which it would allocate with malloc).
    let mut buffer = vec![0u8; pixels.len() * 2 + (1 << 16)];
    let mut out = buffer.as_mut_ptr();
    let mut size = buffer.len() as std::os::raw::c_ulong;
    // SAFETY: the compressor is created, used and destroyed here with libjpeg's API; `error`,
    // `script`, `buffer` and `pixels` outlive it; errors unwind (the C is built for that).
    unsafe {
        let mut cinfo: jpeg_compress_struct = std::mem::zeroed();
        cinfo.common.err = &mut error;
        jpeg_create_compress(&mut cinfo);
        cinfo.image_width = width;
        cinfo.image_height = height;
        cinfo.input_components = components as c_int;
        cinfo.in_color_space = if grey { JCS_GRAYSCALE } else { JCS_RGB };
        jpeg_c_set_int_param(
            &mut cinfo,
            JINT_COMPRESS_PROFILE,
            JCP_FASTEST as std::os::raw::c_int,
        );
        jpeg_set_defaults(&mut cinfo);
        jpeg_set_quality(&mut cinfo, 90, 1);
        cinfo.optimize_coding = 1;
        if !grey {
            let luma = &mut *cinfo.comp_info;
            luma.h_samp_factor = c_int::from(progression.luma_sampling.0);
            luma.v_samp_factor = c_int::from(progression.luma_sampling.1);
        }
        cinfo.restart_interval = u32::from(progression.restart_interval);
        jpeg_simple_progression(&mut cinfo);
        if !script.is_empty() {
            cinfo.scan_info = script.as_ptr();
            cinfo.num_scans = script.len() as c_int;
        }
        jpeg_mem_dest(&mut cinfo, &mut out, &mut size);
        jpeg_start_compress(&mut cinfo, 1);
        let row_bytes = width as usize * components;
        for row in pixels.chunks_exact(row_bytes) {
            let rows = [row.as_ptr()];
            jpeg_write_scanlines(&mut cinfo, rows.as_ptr(), 1);
        }
        jpeg_finish_compress(&mut cinfo);
        jpeg_destroy_compress(&mut cinfo);
    }
    assert_eq!(
        out,
        buffer.as_mut_ptr(),
        "libjpeg kept to the buffer it was given"
    );
    buffer.truncate(size as usize);
    buffer
}

/// Progressive JPEGs long enough for the thumbnail's 1/8 scale, so that the thumbnail path
/// reads them with the DC decoder (`jpeg/dc.rs`): the `thumbnail` fuzz target's seeds for it,
/// one per layout (4:2:0 with restarts and DC refined once, grey with separate DC scans
/// refined twice, 4:2:2 with interleaved DC), a few KB each.
pub fn one_eighth_progressive_jpegs() -> Vec<(&'static str, Vec<u8>)> {
    let (width, height) = (1608, 16);
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        let ripple = (x / 37 + y / 5) % 7 * 9;
        image::Rgb([
            (x / 7 % 256) as u8,
            (40 + ripple) as u8,
            (200 - x / 9) as u8,
        ])
    });
    let grey = image::DynamicImage::ImageRgb8(image.clone())
        .into_luma8()
        .into_raw();
    let layout = |luma_sampling, restart_interval, dc| Progression {
        luma_sampling,
        restart_interval,
        dc,
    };
    vec![
        (
            "jpeg-progressive-dc-420-restarts.jpg",
            progressive_jpeg(
                image.as_raw(),
                width,
                height,
                false,
                layout((2, 2), 5, DcScans::Standard),
            ),
        ),
        (
            "jpeg-progressive-dc-grey-refined.jpg",
            progressive_jpeg(
                &grey,
                width,
                height,
                true,
                layout((1, 1), 0, DcScans::SeparateRefined),
            ),
        ),
        (
            "jpeg-progressive-dc-422-interleaved.jpg",
            progressive_jpeg(
                image.as_raw(),
                width,
                height,
                false,
                layout((2, 1), 0, DcScans::Interleaved),
            ),
        ),
    ]
}
