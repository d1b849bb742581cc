//! Hostile uploads and hostile events: every input has a clear outcome, nothing crashes,
//! loops or takes more memory than the function has.
//!
//! The corpus is generated here, from small images the `image` crate (and libjpeg, through
//! `media_imaging::testing::libjpeg_jpeg`) encodes, cut, damaged or wrapped in hand-built
//! containers: zero bytes, truncated and corrupt files of every supported format,
//! decompression bombs (zlib, LZW, RLE, lying headers), images just under and just over
//! `ImageLimits`, CMYK and YCCK JPEGs, animations, polyglots, hostile EXIF and ICC data.
//!
//! Each file goes through the `thumbnail` command (content-updated's thumbnail path with the
//! function's limits) in a child process of its own, so an abort or a signal is seen and the
//! peak resident memory is that file's; it must end (exit code 0 or 1, within a time bound),
//! print a JSON line with a thumbnail or an error, and peak under the function's
//! `MemorySize` from `infra/template.yaml`. Each file also goes through the handler with the
//! in-memory stores: the original is kept and an item written, with or without a thumbnail.
//!
//! Malformed SQS messages and S3 records (invalid JSON, unknown event names, hostile keys,
//! oversized metadata) go through `ContentUpdated::handle_sqs`: no panic, unreadable messages
//! are reported failed, unreadable records are logged and skipped, and nothing is written
//! under `content/`.
//!
//! `cargo test --release --workspace --exclude e2e-tests -- hostile --nocapture` prints a
//! line per file (outcome, peak memory, CPU time).

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use content_updated::{ContentUpdated, Outcome};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use media_core::aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use media_core::item::ItemKey;
use media_core::keys::encode_event_key;
use media_core::testing::memory::{MemoryItemStore, MemoryObjectStore};
use media_core::testing::s3_event_body;
use media_imaging::testing::{heif, insert_exif_orientation, libjpeg_jpeg};
use media_imaging::ImageLimits;

const ID: &str = "us-east-1:0b5c0000-0000-4000-8000-0000000000ff";
/// A file taking longer than this in the `thumbnail` command counts as a loop.
const TIME_BOUND: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------

/// What a hostile file must come to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// A thumbnail.
    Thumbnail,
    /// An error whose message contains this.
    Error(&'static str),
    /// Either, as long as it is one of them.
    Either,
}

struct Case {
    name: String,
    bytes: Vec<u8>,
    expect: Expect,
}

fn case(cases: &mut Vec<Case>, name: &str, bytes: Vec<u8>, expect: Expect) {
    assert!(
        !cases.iter().any(|c| c.name == name),
        "duplicate case {name}"
    );
    cases.push(Case {
        name: name.to_owned(),
        bytes,
        expect,
    });
}

/// A picture with detail everywhere (so damage anywhere changes something).
fn photo(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        Rgb([
            (x * 7 % 256) as u8,
            (y * 5 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    })
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    encode(
        &DynamicImage::ImageRgb8(photo(width, height)),
        ImageFormat::Jpeg,
    )
}

/// A small deterministic generator (xorshift64).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// `bytes` with `count` bytes at or after `from` overwritten at random.
fn damage(bytes: &[u8], from: usize, count: usize, seed: u64) -> Vec<u8> {
    let mut random = Random(seed);
    let mut out = bytes.to_vec();
    for _ in 0..count {
        let at = from + random.next() as usize % (out.len() - from);
        out[at] = (random.next() >> 24) as u8;
    }
    out
}

/// Where `pattern` first occurs in `bytes`.
fn find(bytes: &[u8], pattern: &[u8]) -> usize {
    bytes
        .windows(pattern.len())
        .position(|w| w == pattern)
        .unwrap_or_else(|| panic!("{pattern:02X?} not found"))
}

/// Bits written least significant first, as deflate, LZW (GIF) and VP8L pack them.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    count: u32,
}

impl Bits {
    fn put(&mut self, value: u32, bits: u32) {
        self.acc |= u64::from(value) << self.count;
        self.count += bits;
        while self.count >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.count -= 8;
        }
    }

    /// A Huffman code: most significant bit first.
    fn code(&mut self, code: u32, bits: u32) {
        let reversed = code.reverse_bits() >> (32 - bits);
        self.put(reversed, bits);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.count > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A zlib stream of `n` zero bytes: one fixed-Huffman deflate block of (length 258,
/// distance 1) copies, 13 bits per 258 bytes (about 1:160).
fn zlib_zeros(n: u64) -> Vec<u8> {
    let mut bits = Bits::default();
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // fixed Huffman codes
    let mut left = n;
    if left > 0 {
        bits.code(0x30, 8); // literal 0
        left -= 1;
    }
    while left > 0 {
        if left >= 258 {
            bits.code(0xC0 + 5, 8); // length 258 (symbol 285)
            bits.code(0, 5); // distance 1
            left -= 258;
        } else if left >= 3 {
            let length = left.min(10);
            bits.code((254 + length - 256) as u32, 7); // lengths 3..10: symbols 257..264
            bits.code(0, 5);
            left -= length;
        } else {
            bits.code(0x30, 8);
            left -= 1;
        }
    }
    bits.code(0, 7); // end of block
    let mut out = vec![0x78, 0x01];
    out.extend(bits.finish());
    let adler = ((n % 65521) << 16) as u32 | 1;
    out.extend_from_slice(&adler.to_be_bytes());
    out
}

fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = !0u32;
    for part in parts {
        for &byte in *part {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// A PNG of `width` x `height` (bit depth, colour type as in IHDR), with `extra` chunks before
/// the image data and `idat` as its (zlib) image data.
fn png(
    width: u32,
    height: u32,
    depth: u8,
    color: u8,
    extra: &[(&[u8; 4], Vec<u8>)],
    idat: &[u8],
) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[depth, color, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    for (kind, data) in extra {
        png_chunk(&mut out, kind, data);
    }
    png_chunk(&mut out, b"IDAT", idat);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A black PNG, bytes per pixel from depth and colour type: every row is a zero filter byte
/// and zero pixels, so the image data is [`zlib_zeros`] of the decoded size.
fn black_png(width: u32, height: u32, depth: u8, color: u8) -> Vec<u8> {
    let channels = match color {
        0 => 1,
        2 => 3,
        4 => 2,
        6 => 4,
        _ => unreachable!(),
    };
    let row = 1 + u64::from(width) * channels * u64::from(depth) / 8;
    png(
        width,
        height,
        depth,
        color,
        &[],
        &zlib_zeros(row * u64::from(height)),
    )
}

/// GIF LZW of `indices` with `min_code_size`, never clearing the table (a full table is
/// used as is, which decoders must accept): the stream without its sub-block framing.
fn gif_lzw(min_code_size: u32, indices: impl IntoIterator<Item = u8>) -> Vec<u8> {
    let clear = 1u32 << min_code_size;
    let first_free = clear + 2;
    let alphabet = clear as usize;
    let mut table = vec![0u16; 4096 * alphabet];
    let mut next = first_free;
    let mut bits = Bits::default();
    // The decoder adds each entry one code later than the encoder: when it reads a code it
    // knows `next - 1` entries, and it widens its codes once that count reaches a power of two.
    let width = |known: u32| (32 - known.leading_zeros()).clamp(min_code_size + 1, 12);
    bits.put(clear, min_code_size + 1);
    let mut prefix: Option<u32> = None;
    for index in indices {
        let index = u32::from(index);
        let Some(current) = prefix else {
            prefix = Some(index);
            continue;
        };
        let entry = table[current as usize * alphabet + index as usize];
        if entry != 0 {
            prefix = Some(u32::from(entry));
            continue;
        }
        bits.put(current, width(next.saturating_sub(1).max(first_free)));
        if next < 4096 {
            table[current as usize * alphabet + index as usize] = next as u16;
            next += 1;
        }
        prefix = Some(index);
    }
    if let Some(current) = prefix {
        bits.put(current, width(next.saturating_sub(1).max(first_free)));
    }
    bits.put(clear + 1, width(next));
    bits.finish()
}

struct GifFrame {
    left: u16,
    top: u16,
    width: u16,
    height: u16,
    lzw: Vec<u8>,
}

/// A GIF89a with a four-colour global palette (LZW minimum code size 2) and `frames`.
fn gif(screen_width: u16, screen_height: u16, frames: &[GifFrame]) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&screen_width.to_le_bytes());
    out.extend_from_slice(&screen_height.to_le_bytes());
    out.extend_from_slice(&[0x81, 0, 0]); // global colour table of 4
    out.extend_from_slice(&[0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]);
    for frame in frames {
        out.push(0x2C);
        for value in [frame.left, frame.top, frame.width, frame.height] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.push(0);
        out.push(2);
        for block in frame.lzw.chunks(255) {
            out.push(block.len() as u8);
            out.extend_from_slice(block);
        }
        out.push(0);
    }
    out.push(0x3B);
    out
}

/// The chunks of a RIFF WebP file.
fn webp_chunks(bytes: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    assert_eq!(&bytes[8..12], b"WEBP");
    let mut chunks = Vec::new();
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let kind: [u8; 4] = bytes[at..at + 4].try_into().unwrap();
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        chunks.push((kind, bytes[at + 8..at + 8 + size].to_vec()));
        at += 8 + size + size % 2;
    }
    chunks
}

fn webp_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(kind);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}

fn riff_webp(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut body = b"WEBP".to_vec();
    for (kind, data) in chunks {
        webp_chunk(&mut body, kind, data);
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

/// A lossless WebP of `image` (the `image` crate's encoder).
fn webp(image: &RgbaImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .encode(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgba8,
        )
        .unwrap();
    out
}

/// The VP8L bitstream of a lossless WebP.
fn vp8l(image: &RgbaImage) -> Vec<u8> {
    let chunks = webp_chunks(&webp(image));
    chunks
        .into_iter()
        .find(|(kind, _)| kind == b"VP8L")
        .expect("a VP8L chunk")
        .1
}

fn u24(value: u32) -> [u8; 3] {
    let bytes = value.to_le_bytes();
    [bytes[0], bytes[1], bytes[2]]
}

/// A VP8X chunk: `flags` (0x02 animation, 0x08 EXIF, 0x10 alpha, 0x20 ICC) and the canvas.
fn vp8x(flags: u8, width: u32, height: u32) -> Vec<u8> {
    let mut data = vec![flags, 0, 0, 0];
    data.extend_from_slice(&u24(width - 1));
    data.extend_from_slice(&u24(height - 1));
    data
}

/// An ANMF chunk's data: a frame at (`x`, `y`) holding a VP8L bitstream of `width` x `height`.
fn anmf(x: u32, y: u32, width: u32, height: u32, vp8l: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    for value in [x / 2, y / 2, width - 1, height - 1, 100] {
        data.extend_from_slice(&u24(value));
    }
    data.push(0);
    webp_chunk(&mut data, b"VP8L", vp8l);
    data
}

/// A little-endian TIFF IFD entry: (tag, type, count, value or offset).
type TiffEntry = (u16, u16, u32, u32);
const SHORT: u16 = 3;
const LONG: u16 = 4;

/// A little-endian TIFF: header, IFD0 at 8 with `entries` (sorted here), `next_ifd`, then
/// `data` at [`tiff_data_offset`].
fn tiff(entries: &[TiffEntry], next_ifd: u32, data: &[u8]) -> Vec<u8> {
    let mut entries = entries.to_vec();
    entries.sort_by_key(|e| e.0);
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, count, value) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    }
    out.extend_from_slice(&next_ifd.to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// Where [`tiff`] puts the data of a file with `entries` entries.
fn tiff_data_offset(entries: usize) -> u32 {
    8 + 2 + 12 * entries as u32 + 4
}

/// A grey 8-bit strip TIFF of `width` x `height` whose single strip is `strip` with
/// `compression` (1 none, 8 deflate), plus `extra` entries.
fn tiff_gray(
    width: u32,
    height: u32,
    compression: u32,
    strip: &[u8],
    extra: &[TiffEntry],
) -> Vec<u8> {
    let mut entries = vec![
        (256, LONG, 1, width),
        (257, LONG, 1, height),
        (258, SHORT, 1, 8),
        (259, SHORT, 1, compression),
        (262, SHORT, 1, 1),
        (277, SHORT, 1, 1),
        (278, LONG, 1, height),
        (279, LONG, 1, strip.len() as u32),
    ];
    entries.extend_from_slice(extra);
    let offset = tiff_data_offset(entries.len() + 1);
    entries.push((273, LONG, 1, offset));
    tiff(&entries, 0, strip)
}

/// A BMP (BITMAPINFOHEADER) with `bits` per pixel, `compression` (0 none, 1 RLE8), a
/// two-colour palette and `data` as its pixels.
fn bmp(width: i32, height: i32, bits: u16, compression: u32, data: &[u8]) -> Vec<u8> {
    let palette: &[u8] = &[0, 0, 0, 0, 255, 255, 255, 0];
    let offset = 14 + 40 + palette.len() as u32;
    let mut out = b"BM".to_vec();
    out.extend_from_slice(&(offset + data.len() as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(&compression.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&[0; 8]); // resolution
    out.extend_from_slice(&2u32.to_le_bytes()); // colours used
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(palette);
    out.extend_from_slice(data);
    out
}

/// RLE8 data of a `width` x `height` image in colour 1: runs of 255, an end of line per row.
fn rle8_rows(width: u32, height: u32) -> Vec<u8> {
    let mut row = Vec::new();
    let mut left = width;
    while left > 0 {
        let run = left.min(255);
        row.extend_from_slice(&[run as u8, 1]);
        left -= run;
    }
    row.extend_from_slice(&[0, 0]);
    let mut out = Vec::with_capacity(row.len() * height as usize + 2);
    for _ in 0..height {
        out.extend_from_slice(&row);
    }
    out.extend_from_slice(&[0, 1]);
    out
}

/// `jpeg` with a segment `FF marker` carrying `payload` right after SOI.
fn with_segment(jpeg: &[u8], marker: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() + 2 <= 0xFFFF);
    let mut out = vec![0xFF, 0xD8, 0xFF, marker];
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// `jpeg` whose frame header (SOF0 or SOF2) claims `width` x `height`.
fn claiming(jpeg: &[u8], sof: u8, width: u16, height: u16) -> Vec<u8> {
    let at = find(jpeg, &[0xFF, sof]);
    let mut out = jpeg.to_vec();
    out[at + 5..at + 7].copy_from_slice(&height.to_be_bytes());
    out[at + 7..at + 9].copy_from_slice(&width.to_be_bytes());
    out
}

/// A big-endian EXIF block ("Exif\0\0" and a TIFF structure) with IFD0 at `ifd_offset`,
/// `count` claimed entries of which `entries` are written, and `next_ifd`.
fn exif(ifd_offset: u32, count: u16, entries: &[(u16, u16, u32, u32)], next_ifd: u32) -> Vec<u8> {
    let mut out = b"Exif\0\0MM\0*".to_vec();
    out.extend_from_slice(&ifd_offset.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    for &(tag, kind, n, value) in entries {
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&n.to_be_bytes());
        if kind == SHORT && n == 1 {
            out.extend_from_slice(&(value as u16).to_be_bytes());
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
    out.extend_from_slice(&next_ifd.to_be_bytes());
    out
}

/// An APP2 ICC_PROFILE chunk: number `seq` of `total`, with `data`.
fn icc_chunk(seq: u8, total: u8, data: &[u8]) -> Vec<u8> {
    let mut out = b"ICC_PROFILE\0".to_vec();
    out.push(seq);
    out.push(total);
    out.extend_from_slice(data);
    out
}

/// Splits a JPEG into its segments: each marker with its payload, a scan with its entropy
/// coded data.
fn jpeg_segments(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut segments = vec![bytes[..2].to_vec()];
    let mut at = 2;
    while at < bytes.len() {
        assert_eq!(bytes[at], 0xFF, "a marker at {at}");
        let marker = bytes[at + 1];
        if marker == 0xD9 {
            segments.push(bytes[at..at + 2].to_vec());
            break;
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        let mut end = at + 2 + length;
        if marker == 0xDA {
            while !(bytes[end] == 0xFF
                && bytes[end + 1] != 0
                && !(0xD0..=0xD7).contains(&bytes[end + 1]))
            {
                end += 1;
            }
        }
        segments.push(bytes[at..end].to_vec());
        at = end;
    }
    segments
}

/// A progressive JPEG of a flat picture with its last scan (and the Huffman table before it)
/// repeated `extra` times: hardly any bytes each, but libjpeg goes over every block per scan.
fn many_scans(width: usize, height: usize, extra: usize) -> Vec<u8> {
    let flat = vec![128u8; width * height];
    let progressive = libjpeg_jpeg("gray", width, height, &flat, true);
    let segments = jpeg_segments(&progressive);
    let last_scan = segments.iter().rposition(|s| s[1] == 0xDA).unwrap();
    let repeated: Vec<u8> = segments[last_scan - 1..=last_scan].concat();
    assert_eq!(
        segments[last_scan - 1][1],
        0xC4,
        "a Huffman table before the last scan"
    );
    let mut out: Vec<u8> = segments[..=last_scan].concat();
    for _ in 0..extra {
        out.extend_from_slice(&repeated);
    }
    out.extend(segments[last_scan + 1..].concat());
    out
}

fn cmyk_pixels(width: usize, height: usize) -> Vec<u8> {
    let mut pixels = Vec::with_capacity(width * height * 4);
    for y in 0..height {
        for x in 0..width {
            pixels.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, 200, 230]);
        }
    }
    pixels
}

fn corpus() -> &'static [Case] {
    static CORPUS: OnceLock<Vec<Case>> = OnceLock::new();
    CORPUS.get_or_init(build_corpus)
}

fn build_corpus() -> Vec<Case> {
    use Expect::*;
    let mut cases = Vec::new();
    let c = &mut cases;
    let small = DynamicImage::ImageRgb8(photo(96, 64));
    let small_rgba = DynamicImage::ImageRgba8(DynamicImage::ImageRgb8(photo(96, 64)).to_rgba8());

    // --- Nothing, or nothing recognisable.
    case(c, "empty", Vec::new(), Error("empty file"));
    case(
        c,
        "text",
        b"just some text, no picture".to_vec(),
        Error("not an image"),
    );
    case(
        c,
        "jpeg-soi-only",
        vec![0xFF, 0xD8, 0xFF],
        Error("truncated"),
    );
    case(
        c,
        "png-signature-only",
        b"\x89PNG\r\n\x1a\n".to_vec(),
        Error("truncated"),
    );

    // --- Truncated and corrupt files of every format.
    let good_jpeg = jpeg(640, 480);
    case(c, "jpeg-valid", good_jpeg.clone(), Thumbnail);
    case(
        c,
        "jpeg-truncated-half",
        good_jpeg[..good_jpeg.len() / 2].to_vec(),
        Error("truncated"),
    );
    case(
        c,
        "jpeg-truncated-in-header",
        good_jpeg[..120].to_vec(),
        Error("truncated"),
    );
    let sos = find(&good_jpeg, &[0xFF, 0xDA]);
    let mut cut = good_jpeg[..sos + (good_jpeg.len() - sos) / 3].to_vec();
    cut.extend_from_slice(&[0xFF, 0xD9]);
    case(c, "jpeg-cut-scan-with-eoi", cut, Error("cannot decode"));
    for seed in 1..=3 {
        case(
            c,
            &format!("jpeg-damaged-scan-{seed}"),
            damage(&good_jpeg, sos + 12, 8, seed),
            Either,
        );
    }
    case(
        c,
        "jpeg-damaged-header",
        damage(&good_jpeg, 2, 6, 0xD00D)
            .iter()
            .take(sos)
            .chain(&good_jpeg[sos..])
            .copied()
            .collect(),
        Either,
    );
    case(
        c,
        "jpeg-zero-height",
        claiming(&good_jpeg, 0xC0, 640, 0),
        Error("cannot decode"),
    );

    let good_png = encode(&small, ImageFormat::Png);
    case(
        c,
        "png-truncated-half",
        good_png[..good_png.len() / 2].to_vec(),
        Error("truncated"),
    );
    case(
        c,
        "png-truncated-after-ihdr",
        good_png[..33].to_vec(),
        Error("truncated"),
    );
    case(c, "png-damaged", damage(&good_png, 40, 10, 7), Either);
    case(
        c,
        "png-zero-width",
        png(0, 10, 8, 0, &[], &zlib_zeros(10)),
        Error("cannot decode"),
    );

    let good_gif = encode(&small_rgba, ImageFormat::Gif);
    case(
        c,
        "gif-truncated-half",
        good_gif[..good_gif.len() / 2].to_vec(),
        Either,
    );
    case(c, "gif-damaged", damage(&good_gif, 13, 12, 11), Either);
    case(
        c,
        "gif-zero-screen",
        gif(
            0,
            0,
            &[GifFrame {
                left: 0,
                top: 0,
                width: 1,
                height: 1,
                lzw: gif_lzw(2, [1]),
            }],
        ),
        Either,
    );

    let good_webp = encode(&small_rgba, ImageFormat::WebP);
    case(
        c,
        "webp-truncated-half",
        good_webp[..good_webp.len() / 2].to_vec(),
        Error("truncated"),
    );
    case(c, "webp-damaged", damage(&good_webp, 30, 10, 13), Either);
    let mut riff_lies = good_webp.clone();
    riff_lies[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    case(c, "webp-riff-size-4gb", riff_lies, Either);

    let good_tiff = encode(&small, ImageFormat::Tiff);
    case(
        c,
        "tiff-truncated-half",
        good_tiff[..good_tiff.len() / 2].to_vec(),
        Error("cannot decode"),
    );
    case(c, "tiff-damaged", damage(&good_tiff, 8, 16, 17), Either);
    let gray = vec![200u8; 64 * 64];
    case(
        c,
        "tiff-valid-hand-made",
        tiff_gray(64, 64, 1, &gray, &[]),
        Thumbnail,
    );
    let mut past_end = tiff_gray(64, 64, 1, &gray, &[]);
    let strip_offsets = find(&past_end, &[0x11, 0x01, 4, 0]) + 8; // tag 273, LONG
    past_end[strip_offsets..strip_offsets + 4].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes());
    case(
        c,
        "tiff-strip-offset-past-end",
        past_end,
        Error("cannot decode"),
    );
    let mut strip_4gb = tiff_gray(64, 64, 1, &gray, &[]);
    let strip_counts = find(&strip_4gb, &[0x17, 0x01, 4, 0]) + 8; // tag 279, LONG
    strip_4gb[strip_counts..strip_counts + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    case(c, "tiff-strip-claiming-4gb", strip_4gb, Either);
    let mut ifd_past_end = tiff_gray(64, 64, 1, &gray, &[]);
    ifd_past_end[4..8].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    case(
        c,
        "tiff-ifd-offset-past-end",
        ifd_past_end,
        Error("cannot decode"),
    );
    let mut ifd_loop = tiff_gray(
        64,
        64,
        1,
        &gray,
        &[(34665, LONG, 1, 8), (34853, LONG, 1, 8)],
    );
    let next = 8 + 2 + 12 * 11;
    ifd_loop[next..next + 4].copy_from_slice(&8u32.to_le_bytes());
    case(c, "tiff-ifd-pointing-to-itself", ifd_loop, Either);
    let mut many_entries = tiff_gray(64, 64, 1, &gray, &[]);
    many_entries[8..10].copy_from_slice(&0xFFFFu16.to_le_bytes());
    case(
        c,
        "tiff-65535-entries-claimed",
        many_entries,
        Error("cannot decode"),
    );
    case(
        c,
        "tiff-zero-width",
        tiff_gray(0, 64, 1, &gray, &[]),
        Error("cannot decode"),
    );

    let good_bmp = encode(&small, ImageFormat::Bmp);
    case(
        c,
        "bmp-truncated-half",
        good_bmp[..good_bmp.len() / 2].to_vec(),
        Either,
    );
    case(
        c,
        "bmp-damaged-header",
        damage(&good_bmp, 2, 8, 19)
            .iter()
            .take(54)
            .chain(&good_bmp[54..])
            .copied()
            .collect(),
        Either,
    );
    case(
        c,
        "bmp-height-i32-min",
        bmp(16, i32::MIN, 8, 0, &[0; 64]),
        Error("cannot decode"),
    );
    case(c, "bmp-zero-width", bmp(0, 16, 8, 0, &[0; 64]), Either);

    // --- Decompression bombs.
    // PNG: the header claims 30000x30000 and the image data really inflates to 64 MiB.
    case(
        c,
        "png-bomb-30000x30000",
        png(30_000, 30_000, 8, 2, &[], &zlib_zeros(64 << 20)),
        Error("over the limit"),
    );
    // PNG: a small header whose image data inflates to far more than it needs.
    case(
        c,
        "png-idat-inflating-past-the-image",
        png(1000, 1000, 8, 0, &[], &zlib_zeros(256 << 20)),
        Either,
    );
    // PNG: compressed ancillary chunks that inflate to 1 GiB each.
    let mut icc_bomb = b"icc\0\0".to_vec();
    icc_bomb.extend(zlib_zeros(1 << 30));
    case(
        c,
        "png-iccp-bomb-1gib",
        png(64, 64, 8, 0, &[(b"iCCP", icc_bomb)], &zlib_zeros(65 * 64)),
        Either,
    );
    let mut icc_bomb_big = b"icc\0\0".to_vec();
    icc_bomb_big.extend(zlib_zeros(1 << 30));
    case(
        c,
        "png-iccp-bomb-1gib-rgba8-8192x8192",
        png(
            8192,
            8192,
            8,
            6,
            &[(b"iCCP", icc_bomb_big)],
            &zlib_zeros((1 + 8192 * 4) * 8192),
        ),
        Thumbnail,
    );
    let mut text_bomb = b"Comment\0\0".to_vec();
    text_bomb.extend(zlib_zeros(1 << 30));
    case(
        c,
        "png-ztxt-bomb-1gib",
        png(64, 64, 8, 0, &[(b"zTXt", text_bomb)], &zlib_zeros(65 * 64)),
        Either,
    );
    // GIF: a 65535x65535 screen with real LZW data behind it.
    let frame = |w: u16, h: u16, lzw: Vec<u8>| GifFrame {
        left: 0,
        top: 0,
        width: w,
        height: h,
        lzw,
    };
    case(
        c,
        "gif-screen-65535x65535",
        gif(
            65_535,
            65_535,
            &[frame(
                4096,
                4096,
                gif_lzw(2, std::iter::repeat_n(1, 4096 * 4096)),
            )],
        ),
        Error("over the limit"),
    );
    // GIF: an 8000x8000 frame (exactly 256,000,000 bytes decoded) in about 40 KB of LZW.
    case(
        c,
        "gif-lzw-bomb-8000x8000",
        gif(
            8000,
            8000,
            &[frame(
                8000,
                8000,
                gif_lzw(2, std::iter::repeat_n(1, 8000 * 8000)),
            )],
        ),
        Thumbnail,
    );
    // GIF: a frame far larger than its screen.
    case(
        c,
        "gif-frame-larger-than-screen",
        gif(
            64,
            64,
            &[frame(
                65_535,
                65_535,
                gif_lzw(2, std::iter::repeat_n(2, 1 << 20)),
            )],
        ),
        Either,
    );
    // WebP: a canvas of 16384x16384 (VP8X), and a lossless bitstream claiming 16383x16383.
    let tiny_vp8l = vp8l(&RgbaImage::from_pixel(16, 16, Rgba([1, 2, 3, 255])));
    case(
        c,
        "webp-vp8x-canvas-16384x16384",
        riff_webp(&[
            (b"VP8X", vp8x(0, 16_384, 16_384)),
            (b"VP8L", tiny_vp8l.clone()),
        ]),
        Error("over the limit"),
    );
    let mut vp8l_huge = tiny_vp8l.clone();
    let header = 16_382u32 | (16_382 << 14) | (1 << 28);
    vp8l_huge[1..5].copy_from_slice(&header.to_le_bytes());
    case(
        c,
        "webp-vp8l-16383x16383",
        riff_webp(&[(b"VP8L", vp8l_huge)]),
        Error("over the limit"),
    );
    // WebP: a lossless bitstream claiming 8192x8192 (accepted: 256 MiB) whose data is 16x16.
    let mut vp8l_big = tiny_vp8l.clone();
    let header = 8_191u32 | (8_191 << 14) | (1 << 28);
    vp8l_big[1..5].copy_from_slice(&header.to_le_bytes());
    case(
        c,
        "webp-vp8l-8192x8192-short-data",
        riff_webp(&[(b"VP8L", vp8l_big)]),
        Either,
    );
    // WebP: a real 8192x8192 lossless image (one colour: zero bits a pixel).
    case(
        c,
        "webp-lossless-bomb-8192x8192",
        webp(&RgbaImage::from_pixel(8192, 8192, Rgba([9, 99, 199, 255]))),
        Thumbnail,
    );
    // JPEG: frame headers claiming 65000x65000, and sizes around the decoder's allocation
    // bound (progressive files keep every coefficient: 2 bytes a sample).
    case(
        c,
        "jpeg-sof-65000x65000",
        claiming(&good_jpeg, 0xC0, 65_000, 65_000),
        Error("over the limit"),
    );
    case(
        c,
        "jpeg-sof-10000x10000-baseline",
        claiming(&good_jpeg, 0xC0, 10_000, 10_000),
        Error("cannot decode"),
    );
    let progressive = libjpeg_jpeg("rgb", 320, 240, photo(320, 240).as_raw(), true);
    case(
        c,
        "jpeg-progressive-sof-8000x8000-short-data",
        claiming(&progressive, 0xC2, 8000, 8000),
        Error("cannot decode"),
    );
    let progressive_cmyk = libjpeg_jpeg("cmyk", 320, 240, &cmyk_pixels(320, 240), true);
    case(
        c,
        "jpeg-progressive-cmyk-sof-8000x8000-short-data",
        claiming(&progressive_cmyk, 0xC2, 8000, 8000),
        Error("cannot decode"),
    );
    case(
        c,
        "jpeg-progressive-cmyk-sof-8200x8200-over-alloc",
        claiming(&progressive_cmyk, 0xC2, 8200, 8200),
        Error("cannot decode"),
    );
    // JPEG: the largest progressive CMYK file the allocation bound accepts, for real.
    let (side, flat) = (8000, vec![128u8; 8000 * 8000 * 4]);
    case(
        c,
        "jpeg-progressive-cmyk-8000x8000",
        libjpeg_jpeg("cmyk", side, side, &flat, true),
        Thumbnail,
    );
    drop(flat);
    // JPEG: a progressive 2048x2048 file (6 scans) with its last scan repeated: CPU, not
    // memory, since libjpeg goes over every block for each scan (regression: 2,000 scans
    // took 4.5 s, and 500 on an 8000x8000 file 17 s, before the limit of 100 scans).
    let own_scans = jpeg_segments(&many_scans(64, 64, 0))
        .iter()
        .filter(|s| s[1] == 0xDA)
        .count();
    case(
        c,
        "jpeg-progressive-100-scans",
        many_scans(2048, 2048, 100 - own_scans),
        Thumbnail,
    );
    case(
        c,
        "jpeg-progressive-101-scans",
        many_scans(2048, 2048, 101 - own_scans),
        Error("more than 100 scans"),
    );
    case(
        c,
        "jpeg-progressive-2000-scans",
        many_scans(2048, 2048, 2000 - own_scans),
        Error("more than 100 scans"),
    );
    // BMP: run-length data for 9000x9000 (243 MB decoded) in under a megabyte.
    case(
        c,
        "bmp-rle8-bomb-9000x9000",
        bmp(9000, 9000, 8, 1, &rle8_rows(9000, 9000)),
        Thumbnail,
    );
    case(
        c,
        "bmp-header-30000x30000",
        bmp(30_000, 30_000, 24, 0, &[0; 1024]),
        Error("over the limit"),
    );
    // TIFF: a deflated strip of 100 MB of zeros (100 MP), and a header claiming 30000x30000.
    case(
        c,
        "tiff-deflate-bomb-10000x10000",
        tiff_gray(10_000, 10_000, 8, &zlib_zeros(100_000_000), &[]),
        Thumbnail,
    );
    case(
        c,
        "tiff-header-30000x30000",
        tiff_gray(30_000, 30_000, 8, &zlib_zeros(1 << 20), &[]),
        Error("over the limit"),
    );

    // --- Just under and just over the limits (16-bit and huge dimensions). The worst
    // 16-bit RGBA PNG and TIFF are content-updated/tests/memory.rs.
    case(
        c,
        "png-gray16-10000x10000-at-pixel-limit",
        black_png(10_000, 10_000, 16, 0),
        Thumbnail,
    );
    case(
        c,
        "png-gray16-10000x10001-over-pixel-limit",
        black_png(10_000, 10_001, 16, 0),
        Error("over the limit"),
    );
    case(
        c,
        "png-rgb16-6688x6688-under-byte-limit",
        black_png(6688, 6688, 16, 2),
        Thumbnail,
    );
    case(
        c,
        "png-rgb16-6689x6689-over-byte-limit",
        black_png(6689, 6689, 16, 2),
        // Over the decoded-size limit of a full decode, which a non-interlaced PNG never
        // needs: its rows stream through the shrink (media-imaging's png_shrink).
        Thumbnail,
    );
    case(
        c,
        "png-rgba8-8192x8192-at-byte-limit",
        black_png(8192, 8192, 8, 6),
        Thumbnail,
    );
    case(
        c,
        "png-rgba8-8192x8193-over-byte-limit",
        black_png(8192, 8193, 8, 6),
        Thumbnail,
    );
    // Extreme aspect ratios: within every limit, but a convolution over a side of 100
    // million pixels needs gigabytes of weights (regression: 6.2 GB and 32 s before
    // `resize_exact` cut such sides down by nearest neighbour first).
    case(
        c,
        "png-gray8-1x100000000",
        black_png(1, 100_000_000, 8, 0),
        Thumbnail,
    );
    case(
        c,
        "png-gray8-100000000x1",
        black_png(100_000_000, 1, 8, 0),
        Thumbnail,
    );
    case(
        c,
        "tiff-deflate-gray8-1x100000000",
        tiff_gray(1, 100_000_000, 8, &zlib_zeros(100_000_000), &[]),
        Thumbnail,
    );
    case(
        c,
        "png-rgba8-60000x1000",
        black_png(60_000, 1000, 8, 6),
        Thumbnail,
    );

    // --- CMYK and YCCK JPEGs (Adobe APP14), baseline and progressive.
    let cmyk = cmyk_pixels(400, 300);
    case(
        c,
        "jpeg-cmyk",
        libjpeg_jpeg("cmyk", 400, 300, &cmyk, false),
        Thumbnail,
    );
    case(
        c,
        "jpeg-ycck",
        libjpeg_jpeg("ycck", 400, 300, &cmyk, false),
        Thumbnail,
    );
    case(
        c,
        "jpeg-ycck-progressive",
        libjpeg_jpeg("ycck", 400, 300, &cmyk, true),
        Thumbnail,
    );
    let mut adobe_lies = libjpeg_jpeg("rgb", 400, 300, photo(400, 300).as_raw(), false);
    adobe_lies = with_segment(&adobe_lies, 0xEE, b"Adobe\0\x64\0\0\0\0\x02"); // YCCK transform on 3 components
    case(c, "jpeg-rgb-with-adobe-ycck-marker", adobe_lies, Either);

    // --- Animations.
    let frames: Vec<image::Frame> = (0..3)
        .map(|i| {
            image::Frame::new(RgbaImage::from_pixel(
                120,
                80,
                Rgba([i * 80, 255 - i * 80, 0, 255]),
            ))
        })
        .collect();
    let mut animated_gif = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut animated_gif);
        encoder
            .set_repeat(image::codecs::gif::Repeat::Infinite)
            .unwrap();
        encoder.encode_frames(frames).unwrap();
    }
    case(c, "gif-animated", animated_gif, Thumbnail);
    let thousand: Vec<GifFrame> = (0..1000)
        .map(|_| frame(64, 64, gif_lzw(2, std::iter::repeat_n(3, 64 * 64))))
        .collect();
    case(
        c,
        "gif-animated-1000-frames",
        gif(64, 64, &thousand),
        Thumbnail,
    );
    let red = vp8l(&RgbaImage::from_pixel(60, 40, Rgba([255, 0, 0, 255])));
    let blue = vp8l(&RgbaImage::from_pixel(60, 40, Rgba([0, 0, 255, 255])));
    let anim = vec![0, 0, 0, 0, 0, 0];
    case(
        c,
        "webp-animated",
        riff_webp(&[
            (b"VP8X", vp8x(0x12, 120, 80)),
            (b"ANIM", anim.clone()),
            (b"ANMF", anmf(0, 0, 60, 40, &red)),
            (b"ANMF", anmf(60, 40, 60, 40, &blue)),
        ]),
        Thumbnail,
    );
    case(
        c,
        "webp-animated-frame-outside-canvas",
        riff_webp(&[
            (b"VP8X", vp8x(0x12, 120, 80)),
            (b"ANIM", anim.clone()),
            (b"ANMF", anmf(30_000, 30_000, 60, 40, &red)),
        ]),
        Either,
    );
    case(
        c,
        "webp-animated-no-frames",
        riff_webp(&[(b"VP8X", vp8x(0x12, 120, 80)), (b"ANIM", anim)]),
        Either,
    );

    // --- Polyglots.
    let mut zip_appended = good_jpeg.clone();
    zip_appended.extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0");
    zip_appended.extend_from_slice(&[0u8; 4096]);
    zip_appended.extend_from_slice(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
    case(c, "jpeg-with-zip-appended", zip_appended, Thumbnail);
    let mut html_appended = good_jpeg.clone();
    html_appended
        .extend_from_slice(b"<html><body><script>alert(document.cookie)</script></body></html>");
    case(c, "jpeg-with-html-appended", html_appended, Thumbnail);
    let mut png_html = good_png.clone();
    png_html.extend_from_slice(b"<script>alert(1)</script>");
    case(c, "png-with-html-after-iend", png_html, Thumbnail);
    case(
        c,
        "png-with-html-text-chunk",
        png(
            64,
            64,
            8,
            0,
            &[(
                b"tEXt",
                b"Comment\0<html><script>alert(1)</script></html>".to_vec(),
            )],
            &zlib_zeros(65 * 64),
        ),
        Thumbnail,
    );
    case(
        c,
        "gif-header-then-script",
        b"GIF89a/*\x01\x01\x00\x00*/=1;alert(document.domain);//<script>alert(1)</script>".to_vec(),
        Error("cannot decode"),
    );
    case(
        c,
        "html-page",
        b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec(),
        Error("not an image"),
    );
    case(
        c,
        "svg-with-script",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(),
        Error("not an image"),
    );
    case(
        c,
        "zip-archive",
        b"PK\x03\x04\x14\0\0\0\0\0 junk".to_vec(),
        Error("not an image"),
    );

    // --- EXIF: absurd orientations, IFDs pointing at themselves, offsets past the end.
    let base = jpeg(300, 200);
    for orientation in [0u16, 9, 65535] {
        case(
            c,
            &format!("jpeg-exif-orientation-{orientation}"),
            insert_exif_orientation(&base, orientation),
            Thumbnail,
        );
    }
    let orientation_6 = (0x0112, SHORT, 1, 6);
    case(
        c,
        "jpeg-exif-ifd-pointing-to-itself",
        with_segment(
            &base,
            0xE1,
            &exif(
                8,
                3,
                &[orientation_6, (0x8769, LONG, 1, 8), (0x8825, LONG, 1, 8)],
                8,
            ),
        ),
        Thumbnail,
    );
    case(
        c,
        "jpeg-exif-ifd-offset-past-end",
        with_segment(&base, 0xE1, &exif(0xFFFF_FFF0, 1, &[orientation_6], 0)),
        Thumbnail,
    );
    case(
        c,
        "jpeg-exif-65535-entries-claimed",
        with_segment(&base, 0xE1, &exif(8, 0xFFFF, &[orientation_6], 0)),
        Thumbnail,
    );
    case(
        c,
        "jpeg-exif-orientation-value-past-end",
        with_segment(
            &base,
            0xE1,
            &exif(8, 1, &[(0x0112, SHORT, 1000, 0xFFFF_0000)], 0),
        ),
        Thumbnail,
    );
    case(
        c,
        "jpeg-exif-not-tiff",
        with_segment(&base, 0xE1, b"Exif\0\0XX\0*garbage"),
        Thumbnail,
    );
    let exif_segment = exif(8, 1, &[(0x0112, SHORT, 1, 3)], 0);
    let mut many_exif = base.clone();
    let mut padded_exif = exif_segment.clone();
    padded_exif.resize(65_000, 0xEE);
    for _ in 0..300 {
        many_exif = with_segment(&many_exif, 0xE1, &padded_exif);
    }
    case(c, "jpeg-300-exif-segments-19mb", many_exif, Thumbnail);
    let png_exif = exif(8, 2, &[(0x0112, SHORT, 1, 65535), (0x8769, LONG, 1, 8)], 8)[6..].to_vec();
    case(
        c,
        "png-exif-recursive",
        png(
            64,
            64,
            8,
            0,
            &[(b"eXIf", png_exif.clone())],
            &zlib_zeros(65 * 64),
        ),
        Thumbnail,
    );
    case(
        c,
        "tiff-orientation-65535",
        tiff_gray(64, 64, 1, &gray, &[(274, SHORT, 1, 65535)]),
        Either,
    );
    case(
        c,
        "webp-exif-recursive",
        riff_webp(&[
            (b"VP8X", vp8x(0x08 | 0x10, 16, 16)),
            (b"VP8L", tiny_vp8l.clone()),
            (b"EXIF", png_exif),
        ]),
        Thumbnail,
    );

    // --- ICC profiles of hostile size.
    let chunk = vec![0xAB; 65_519 - 14];
    let mut icc_huge = base.clone();
    for seq in (1..=255u8).rev() {
        icc_huge = with_segment(&icc_huge, 0xE2, &icc_chunk(seq, 255, &chunk));
    }
    case(c, "jpeg-icc-255-chunks-16mb", icc_huge, Thumbnail);
    let mut icc_bad = base.clone();
    for (seq, total) in [(0u8, 0u8), (5, 3), (1, 1), (1, 1), (200, 2)] {
        icc_bad = with_segment(
            &icc_bad,
            0xE2,
            &icc_chunk(seq, total, b"\xFF\xFF\xFF\xFFacspnonsense"),
        );
    }
    case(c, "jpeg-icc-inconsistent-chunks", icc_bad, Thumbnail);
    let mut iccp_claim = riff_webp(&[
        (b"VP8X", vp8x(0x20 | 0x10, 16, 16)),
        (b"ICCP", vec![0; 16]),
        (b"VP8L", tiny_vp8l.clone()),
    ]);
    let iccp = find(&iccp_claim, b"ICCP") + 4;
    iccp_claim[iccp..iccp + 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    case(c, "webp-iccp-claiming-4gb", iccp_claim, Either);
    // WebP: an EXIF chunk claiming 4 GB at the end of the file. image-webp allocated the
    // claimed size to read it, for the orientation (regression: found by the thumbnail fuzz
    // target; refused allocations abort).
    let mut exif_claim = riff_webp(&[
        (b"VP8X", vp8x(0x08, 16, 16)),
        (b"VP8L", tiny_vp8l.clone()),
        (b"EXIF", vec![0; 16]),
    ]);
    let exif_size = find(&exif_claim, b"EXIF") + 4;
    exif_claim[exif_size..exif_size + 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    case(c, "webp-exif-claiming-4gb", exif_claim, Error("truncated"));
    case(
        c,
        "webp-exif-claiming-1.4gb-fuzzed",
        include_bytes!("../../fuzz/corpus/thumbnail/regression-webp-exif-size-1.4gb.webp").to_vec(),
        Error("truncated"),
    );
    let mut png_icc_size = b"icc\0\0".to_vec();
    png_icc_size.extend(zlib_zeros(1 << 20)); // a 1 MiB profile of zeros: no valid header
    case(
        c,
        "png-iccp-invalid-1mb",
        png(
            64,
            64,
            8,
            0,
            &[(b"iCCP", png_icc_size)],
            &zlib_zeros(65 * 64),
        ),
        Either,
    );

    // --- HEIC and AVIF (Debian's heif-enc and avifenc, layouts from media_imaging::testing::heif):
    // declared sizes over the limits refused before libheif decodes anything, grid canvases
    // included; cut and damaged files.
    let photo_jpeg = encode(&DynamicImage::ImageRgb8(photo(640, 480)), ImageFormat::Jpeg);
    let heic = heif::heif_enc(&photo_jpeg);
    let avif10 = heif::avifenc(&photo_jpeg, "jpg", &["--depth", "10"]);
    case(c, "heic-640x480", heic.clone(), Thumbnail);
    case(c, "avif-10bit-640x480", avif10.clone(), Thumbnail);
    case(
        c,
        "avif-grid-2x2",
        heif::avifenc(&photo_jpeg, "jpg", &["--grid", "2x2"]),
        Thumbnail,
    );
    case(
        c,
        "heic-ispe-claiming-100000x100000",
        heif::heic_claiming(&heic, 100_000, 100_000),
        Error("over the limit"),
    );
    case(
        c,
        "heic-ispe-claiming-9000x10000-over-byte-limit",
        heif::heic_claiming(&heic, 9_000, 10_000),
        Error("over the limit"),
    );
    let tile = heif::heif_enc(&jpeg(64, 64));
    let tiles = vec![tile; 4];
    case(
        c,
        "heic-grid-canvas-claiming-30000x30000",
        heif::heic_grid(&tiles, 2, 2, 30_000, 30_000),
        Error("over the limit"),
    );
    case(
        c,
        "heic-grid-64x64-tiles-canvas-128x128",
        heif::heic_grid(&tiles, 2, 2, 128, 128),
        Thumbnail,
    );
    // Tiles of odd sides (coded 66x66, declared 65x65) at odd offsets, cut by the canvas: what
    // libheif 1.19 to 1.21 write past the canvas for; 1.15 assembles them in RGB
    // (docs/decisions/heif-grids.md).
    let odd_tiles = vec![heif::heif_enc(&jpeg(66, 66)); 4];
    let odd_grid = heif::heic_grid_of_tiles_declared(&odd_tiles, 2, 2, 128, 128, (65, 65));
    case(
        c,
        "heic-grid-65x65-tiles-canvas-128x128",
        odd_grid,
        Thumbnail,
    );
    // A coded image larger than its ispe: libde265 decodes what the bitstream says.
    case(
        c,
        "heic-ispe-smaller-than-coded",
        heif::heic_claiming(&heic, 64, 48),
        Either,
    );
    for (name, file) in [("heic", &heic), ("avif", &avif10)] {
        case(
            c,
            &format!("{name}-cut-in-half"),
            file[..file.len() / 2].to_vec(),
            Either,
        );
        case(
            c,
            &format!("{name}-header-only"),
            file[..64.min(file.len())].to_vec(),
            Either,
        );
        for seed in 0..4 {
            case(
                c,
                &format!("{name}-damaged-{seed}"),
                damage(file, 16, 8, seed),
                Either,
            );
        }
    }

    cases
}

// ---------------------------------------------------------------------------------------
// The thumbnail command in a child process
// ---------------------------------------------------------------------------------------

/// content-updated's memory setting in the template, in MB.
fn function_memory_mb() -> u64 {
    media_core::testing::template::function_memory_mb("ContentUpdatedFunction")
}

struct Run {
    line: serde_json::Value,
    wall: Duration,
}

/// Runs the `thumbnail` command on `file` with the function's default limits and at most
/// `memory_mb` of address space; fails the test on a signal, an unexpected exit code, no JSON
/// line, or no end within [`TIME_BOUND`].
///
/// The address-space limit stands for the function's memory: on a machine with more memory
/// than the function, an allocation of gigabytes that is never written (a header's claimed
/// size, zeroed lazily by the kernel) costs no resident memory and goes unseen, where a
/// function of 1,024 MB would have it refused, and Rust aborts on a refused allocation.
fn thumbnail_in_child(file: &Path, memory_mb: u64) -> Run {
    use std::os::unix::process::CommandExt;
    let start = Instant::now();
    let address_space = (memory_mb << 20) as libc::rlim_t;
    let mut command = Command::new(env!("CARGO_BIN_EXE_thumbnail"));
    // SAFETY: between fork and exec the closure only calls setrlimit, which is
    // async-signal-safe, on a struct of its own.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: address_space,
                rlim_max: address_space,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command
        .arg(file)
        .env_remove("MAX_IMAGE_BYTES")
        .env_remove("MAX_IMAGE_PIXELS")
        .env_remove("MAX_DECODED_BYTES")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIME_BOUND {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{}: still running after {TIME_BOUND:?}", file.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let wall = start.elapsed();
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        matches!(status.code(), Some(0 | 1)),
        "{}: ended with {status} (a signal or a usage error), stderr: {stderr}",
        file.display()
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{}: one JSON line expected: {stdout:?} {stderr}",
        file.display()
    );
    let line: serde_json::Value = serde_json::from_str(lines[0])
        .unwrap_or_else(|e| panic!("{}: {e}: {stdout:?}", file.display()));
    Run { line, wall }
}

#[test]
fn hostile_files_end_cleanly_within_the_function_memory() {
    let cases = corpus();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let dir = std::env::temp_dir().join(format!("cu-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let limit_kb = function_memory_mb() * 1000;
    let mut failures = Vec::new();
    let (mut worst_kb, mut worst) = (0, String::new());
    let (mut thumbnails, mut errors) = (0, 0);
    for case in cases {
        let path: PathBuf = dir.join(&case.name);
        std::fs::write(&path, &case.bytes).unwrap();
        let run = thumbnail_in_child(&path, function_memory_mb());
        std::fs::remove_file(&path).unwrap();
        let line = &run.line;
        let peak = line["maxRssKb"]
            .as_u64()
            .unwrap_or_else(|| panic!("{}: no maxRssKb: {line}", case.name));
        let outcome = match (
            line.get("error").and_then(|e| e.as_str()),
            line["width"].as_u64(),
            line["height"].as_u64(),
        ) {
            (Some(error), _, _) => {
                errors += 1;
                assert!(!error.is_empty(), "{}: an empty error", case.name);
                match case.expect {
                    Expect::Thumbnail => {
                        failures.push(format!("{}: expected a thumbnail, got {error}", case.name))
                    }
                    Expect::Error(want) if !error.contains(want) => failures.push(format!(
                        "{}: expected an error with {want:?}, got {error}",
                        case.name
                    )),
                    _ => {}
                }
                format!("error: {error}")
            }
            (None, Some(width), Some(height)) => {
                thumbnails += 1;
                assert!(
                    (1..=200).contains(&width) && (1..=200).contains(&height),
                    "{}: {line}",
                    case.name
                );
                if let Expect::Error(want) = case.expect {
                    failures.push(format!(
                        "{}: expected an error with {want:?}, got a {width}x{height} thumbnail",
                        case.name
                    ));
                }
                format!("thumbnail {width}x{height}")
            }
            _ => panic!("{}: neither an error nor a thumbnail: {line}", case.name),
        };
        eprintln!(
            "hostile {:<48} {:>9} bytes  peak {:>7} kB  {:>6} ms  {}",
            case.name,
            case.bytes.len(),
            peak,
            run.wall.as_millis(),
            outcome
        );
        if peak >= limit_kb {
            failures.push(format!(
                "{}: peak {peak} kB is over the function's {limit_kb} kB",
                case.name
            ));
        }
        if peak > worst_kb {
            (worst_kb, worst) = (peak, case.name.clone());
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    eprintln!(
        "hostile: {} files, {thumbnails} thumbnails, {errors} errors, highest peak {} MB ({worst}) of {} MB",
        cases.len(),
        worst_kb / 1000,
        limit_kb / 1000
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Through the handler
// ---------------------------------------------------------------------------------------

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn content_objects(objects: &MemoryObjectStore) -> BTreeMap<String, Vec<u8>> {
    let all = objects.objects.lock().unwrap();
    all.iter()
        .filter(|(key, _)| {
            key.starts_with("public/content/") || key.starts_with("private/content/")
        })
        .map(|(key, object)| (key.clone(), object.body.clone()))
        .collect()
}

#[test]
fn hostile_files_are_kept_with_an_item() {
    let f = ContentUpdated::new(
        MemoryObjectStore::default(),
        MemoryItemStore::default(),
        ImageLimits::default(),
    );
    let runtime = runtime();
    for (i, case) in corpus().iter().enumerate() {
        let key = format!("private/content/{ID}/{}", case.name);
        f.objects().insert(
            &key,
            case.bytes.clone(),
            &[("data", r#"{"title":"hostile"}"#)],
        );
        let change =
            media_core::testing::s3_change("ObjectCreated:Put", &key, &format!("{:04X}", i + 1));
        let outcome = runtime
            .block_on(f.handle(&change))
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let item = f
            .items()
            .item(&ItemKey {
                identity_id: ID.into(),
                object_key: key.clone(),
            })
            .unwrap_or_else(|| panic!("{}: no item", case.name));
        assert_eq!(item.title, "hostile", "{}", case.name);
        assert_eq!(item.size, Some(case.bytes.len() as u64), "{}", case.name);
        let thumbnail = f
            .objects()
            .object(&format!("private/thumbnails/{ID}/{}", case.name));
        match outcome {
            Outcome::Thumbnailed { .. } => {
                assert!(
                    !matches!(case.expect, Expect::Error(_)),
                    "{}: expected an error",
                    case.name
                );
                assert!(
                    item.thumbnail_key.is_some() && thumbnail.is_some(),
                    "{}",
                    case.name
                );
            }
            Outcome::StoredWithoutThumbnail { reason } => {
                assert!(case.expect != Expect::Thumbnail, "{}: {reason}", case.name);
                assert!(
                    item.thumbnail_key.is_none() && thumbnail.is_none(),
                    "{}",
                    case.name
                );
            }
            other => panic!("{}: {other:?}", case.name),
        }
        // The original, byte for byte, and nothing else under content/.
        let content = content_objects(f.objects());
        assert_eq!(content.len(), i + 1, "{}", case.name);
        assert!(
            content[&key] == case.bytes,
            "{}: original changed",
            case.name
        );
    }
}

// ---------------------------------------------------------------------------------------
// Malformed events and metadata
// ---------------------------------------------------------------------------------------

/// Log lines (level, then the fields) of what runs under it on this thread.
#[derive(Clone, Default)]
struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
    next_span: Arc<Mutex<u64>>,
}

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut next = self.next_span.lock().unwrap();
        *next += 1;
        tracing::span::Id::from_u64(*next)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields(event.metadata().level().to_string());
        event.record(&mut fields);
        self.lines.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn message(id: &str, body: Option<String>) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some(id.into());
    message.body = body;
    message
}

/// An S3 event body with one record per (event name, raw key as it appears in the event).
fn raw_records(records: &[(&str, serde_json::Value)]) -> String {
    let template: serde_json::Value = serde_json::from_str(&s3_event_body(
        "ObjectCreated:Put",
        "public/content/a/b.jpg",
        "0A",
    ))
    .unwrap();
    let records: Vec<serde_json::Value> = records
        .iter()
        .map(|(name, key)| {
            let mut record = template["Records"][0].clone();
            record["eventName"] = serde_json::Value::from(*name);
            match key {
                serde_json::Value::Null => {
                    record["s3"]["object"]
                        .as_object_mut()
                        .unwrap()
                        .remove("key");
                }
                key => record["s3"]["object"]["key"] = key.clone(),
            }
            record
        })
        .collect();
    serde_json::json!({ "Records": records }).to_string()
}

fn sns(message: &str) -> String {
    serde_json::json!({"Type": "Notification", "MessageId": "n", "Message": message}).to_string()
}

#[test]
fn hostile_events_and_metadata_are_skipped_or_failed_and_never_write_content() {
    let f = ContentUpdated::new(
        MemoryObjectStore::default(),
        MemoryItemStore::default(),
        ImageLimits::default(),
    );
    let picture = jpeg(120, 90);
    let user = |file: &str| format!("public/content/{ID}/{file}");

    // Objects that exist, under hostile but possible keys, with hostile metadata.
    let dot_dot = user("../../private/content/us-east-1:victim/x.jpg");
    let dot_dot_identity = "public/content/../content/us-east-1:victim/x.jpg".to_owned();
    let literal_percent = user("a%2Fb.jpg");
    let control = user("a\u{0}\n\r\t\u{1b}[31m\u{7f}b.jpg");
    let long_title = user("long-title.jpg");
    let garbage_meta = user("garbage-metadata.jpg");
    let nested_meta = user("nested-metadata.jpg");
    let escapes_meta = user("escaped-metadata.jpg");
    let plain = user("plain.jpg");
    let prefix = user("");
    let at_limit = format!("{prefix}{}", "k".repeat(1024 - prefix.len()));
    assert_eq!(at_limit.len(), 1024);
    let two_kb_title = format!(
        r#"{{"isPublic":true,"title":"{}","description":"{}"}}"#,
        "T".repeat(1000),
        "D".repeat(1000)
    );
    assert!(two_kb_title.len() >= 2000);
    let two_kb_garbage: String = (0..2048)
        .map(|i| char::from(b'!' + (i * 31 % 90) as u8))
        .collect();
    let nested = format!("{}{}", "[".repeat(1500), "]".repeat(548));
    let escapes = format!(r#"{{"title":"{}"}}"#, "\\u0000\\ud800".repeat(170));
    let metadata: Vec<(&String, &str)> = vec![
        (&dot_dot, r#"{"title":"dots"}"#),
        (&dot_dot_identity, r#"{"title":"dots"}"#),
        (&literal_percent, r#"{"title":"percent"}"#),
        (&control, "{\"title\":\"\\u0000\\n<script>\"}"),
        (&long_title, &two_kb_title),
        (&garbage_meta, &two_kb_garbage),
        (&nested_meta, &nested),
        (&escapes_meta, &escapes),
        (&plain, r#"{"title":"plain"}"#),
        (&at_limit, r#"{"title":"long key"}"#),
    ];
    for (key, data) in &metadata {
        f.objects().insert(key, picture.clone(), &[("data", data)]);
    }
    let originals = content_objects(f.objects());

    let key = |k: &str| serde_json::Value::from(encode_event_key(k));
    let raw = |k: &str| serde_json::Value::from(k);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let thousand_records: Vec<(&str, serde_json::Value)> = (0..1000)
        .map(|i| ("ObjectCreated:Put", key(&user(&format!("missing-{i}.jpg")))))
        .collect();
    let messages: Vec<(&str, Option<String>, bool)> = vec![
        // (message id, body, reported failed)
        ("not-json", Some("{oops".into()), true),
        ("empty-body", Some(String::new()), true),
        ("no-body", None, true),
        ("json-null", Some("null".into()), true),
        ("json-array", Some("[1,2,3]".into()), true),
        ("json-nested-100000", Some(deep), true),
        (
            "json-string-1mb",
            Some(serde_json::Value::from("x".repeat(1 << 20)).to_string()),
            true,
        ),
        (
            "records-not-an-array",
            Some(r#"{"Records":{"0":{}}}"#.into()),
            true,
        ),
        ("sns-message-not-json", Some(sns("{oops")), true),
        (
            "sns-message-not-a-string",
            Some(r#"{"Type":"Notification","Message":5}"#.into()),
            true,
        ),
        (
            "sns-wrapped-twice",
            Some(sns(&sns(&s3_event_body("ObjectCreated:Put", &plain, "01")))),
            true,
        ),
        (
            "test-event",
            Some(r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}"#.into()),
            false,
        ),
        (
            "records-of-garbage",
            Some(r#"{"Records":[1,"x",null,{},[]]}"#.into()),
            false,
        ),
        (
            "unknown-event-names",
            Some(raw_records(&[
                ("ObjectRestore:Post", key(&plain)),
                ("", key(&plain)),
                ("LifecycleExpiration:Delete", key(&plain)),
                ("s3:ObjectCreated:Put", key(&plain)),
                ("objectcreated:put", key(&plain)),
                ("ObjectTagging:Put", key(&plain)),
            ])),
            false,
        ),
        (
            "keys-not-content",
            Some(raw_records(&[
                ("ObjectCreated:Put", serde_json::Value::Null),
                ("ObjectCreated:Put", raw("")),
                ("ObjectCreated:Put", raw("%FF%FE.jpg")),
                (
                    "ObjectCreated:Put",
                    raw(&format!("public/content/{ID}/%C3")),
                ),
                ("ObjectCreated:Put", key("public/content//x.jpg")),
                ("ObjectRemoved:Delete", key("public/content//x.jpg")),
                ("ObjectCreated:Put", key(&format!("public/content/{ID}"))),
                ("ObjectCreated:Put", key("tmp/x.jpg")),
                (
                    "ObjectCreated:Put",
                    key(&format!("public/thumbnails/{ID}/x.jpg")),
                ),
                ("ObjectCreated:Put", key("../public/content/x/y.jpg")),
                (
                    "ObjectCreated:Put",
                    raw(&format!("public/content/{ID}/a.jpg")
                        .replace('/', "%2F")
                        .replace("public%2Fcontent%2F", "public%2Fcontent%2F%2F")),
                ),
                ("ObjectCreated:Put", serde_json::Value::from(5)),
            ])),
            false,
        ),
        (
            "hostile-keys",
            Some(raw_records(&[
                ("ObjectCreated:Put", key(&dot_dot)),
                ("ObjectCreated:Put", key(&dot_dot_identity)),
                ("ObjectCreated:Put", key(&literal_percent)),
                ("ObjectCreated:Put", raw(&plain.replace('/', "%2F"))),
                ("ObjectCreated:Put", key(&control)),
                ("ObjectCreated:Put", key(&at_limit)),
                ("ObjectCreated:Put", key(&format!("{at_limit}-over-1024"))),
                ("ObjectCreated:Put", key(&user(&"z".repeat(100_000)))),
                ("ObjectRemoved:Delete", key(&user("never-existed.jpg"))),
            ])),
            false,
        ),
        (
            "hostile-metadata",
            Some(raw_records(&[
                ("ObjectCreated:Put", key(&long_title)),
                ("ObjectCreated:Put", key(&garbage_meta)),
                ("ObjectCreated:Put", key(&nested_meta)),
                ("ObjectCreated:Post", key(&escapes_meta)),
            ])),
            false,
        ),
        (
            "bad-fields",
            Some({
                let mut body: serde_json::Value =
                    serde_json::from_str(&s3_event_body("ObjectCreated:Put", &plain, "01"))
                        .unwrap();
                let mut records = Vec::new();
                for (field, value) in [
                    ("eventTime", serde_json::Value::from("yesterday")),
                    ("eventTime", serde_json::Value::from(-1)),
                    ("s3", serde_json::Value::from("nothing")),
                ] {
                    let mut record = body["Records"][0].clone();
                    record[field] = value;
                    records.push(record);
                }
                let mut odd_sequencer = body["Records"][0].clone();
                odd_sequencer["s3"]["object"]["sequencer"] =
                    serde_json::Value::from(format!("é{}", "Z".repeat(500)));
                odd_sequencer["s3"]["object"]["size"] = serde_json::Value::from(-5);
                odd_sequencer["s3"]["object"]["eTag"] = serde_json::Value::from("\"\"\"");
                records.push(odd_sequencer);
                body["Records"] = serde_json::Value::from(records);
                body.to_string()
            }),
            false,
        ),
        (
            "a-thousand-records",
            Some(raw_records(&thousand_records)),
            false,
        ),
    ];
    let expected_failed: Vec<&str> = messages.iter().filter(|m| m.2).map(|m| m.0).collect();
    let mut event = SqsEvent::default();
    for (id, body, _) in &messages {
        event.records.push(message(id, body.clone()));
    }

    let capture = Capture::default();
    let runtime = runtime();
    media_core::testing::keep_every_callsite_enabled();
    let response = tracing::subscriber::with_default(capture.clone(), || {
        runtime.block_on(f.handle_sqs(event))
    });
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, expected_failed);

    // Every rejected message and every skipped record is logged as an error with its message.
    let lines = capture.lines.lock().unwrap().clone();
    let logged = |id: &str, what: &str| {
        lines
            .iter()
            .filter(|l| {
                l.starts_with("ERROR")
                    && l.contains(what)
                    && l.contains(&format!("message_id={id:?}"))
            })
            .count()
    };
    for id in &expected_failed {
        assert_eq!(logged(id, "dead-letter"), 1, "{id}: {lines:#?}");
    }
    for (id, skipped) in [
        ("records-of-garbage", 5),
        ("unknown-event-names", 6),
        ("keys-not-content", 12),
        ("bad-fields", 3),
    ] {
        assert_eq!(
            logged(id, "record skipped"),
            skipped,
            "{id}: {:#?}",
            lines.iter().filter(|l| l.contains(id)).collect::<Vec<_>>()
        );
    }

    // Nothing under content/ was written, changed or removed.
    assert_eq!(content_objects(f.objects()), originals);
    // Everything written is a thumbnail or a preview (of an upload that exists) or an item.
    for written in f.objects().keys() {
        let rendition =
            written.starts_with("public/thumbnails/") || written.starts_with("public/previews/");
        assert!(originals.contains_key(&written) || rendition, "{written:?}");
    }
    let item = |key: &str| {
        f.items().item(&ItemKey::from(
            &media_core::keys::ContentKey::parse(key).unwrap(),
        ))
    };
    for (key, _) in &metadata {
        let item = item(key).unwrap_or_else(|| panic!("{key:?}: no item"));
        let thumbnail = f.objects().object(
            &media_core::keys::ContentKey::parse(key)
                .unwrap()
                .thumbnail_key(),
        );
        if **key == at_limit {
            assert!(item.thumbnail_key.is_none() && thumbnail.is_none());
        } else {
            assert!(
                item.thumbnail_key.is_some() && thumbnail.is_some(),
                "{key:?}"
            );
        }
    }
    // 2 KB of metadata: cut to the bounds, or the file name when unreadable.
    assert_eq!(item(&long_title).unwrap().title, "T".repeat(200));
    assert_eq!(item(&long_title).unwrap().description, "D".repeat(1000));
    assert_eq!(item(&garbage_meta).unwrap().title, "garbage-metadata.jpg");
    assert_eq!(item(&nested_meta).unwrap().title, "nested-metadata.jpg");
    assert!(item(&escapes_meta).unwrap().title.chars().count() <= 200);
    // A key over the limit, a missing object, an unknown one: no item.
    assert!(item(&format!("{at_limit}-over-1024")).is_none());
    assert!(item(&user(&"z".repeat(100_000))).is_none());
    for i in [0, 999] {
        assert!(item(&user(&format!("missing-{i}.jpg"))).is_none());
    }
}

// ---------------------------------------------------------------------------------------
// The generators make what they say
// ---------------------------------------------------------------------------------------

#[test]
fn hostile_generators_make_valid_files_at_small_sizes() {
    // zlib of zeros: a PNG that decodes to black.
    let png = black_png(300, 7, 16, 2);
    let decoded = image::load_from_memory(&png).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (300, 7));
    assert!(decoded.to_rgb16().as_raw().iter().all(|&v| v == 0));
    // LZW: varied indices filling the table, and a long constant run, decode to themselves.
    let mut random = Random(99);
    let varied: Vec<u8> = (0..300 * 300).map(|_| (random.next() % 4) as u8).collect();
    for indices in [varied, vec![1; 500 * 500]] {
        let side = (indices.len() as f64).sqrt() as u16;
        let file = gif(
            side,
            side,
            &[GifFrame {
                left: 0,
                top: 0,
                width: side,
                height: side,
                lzw: gif_lzw(2, indices.iter().copied()),
            }],
        );
        let decoded = image::load_from_memory(&file).unwrap().to_rgba8();
        let palette = [
            [0, 0, 0, 255],
            [255, 0, 0, 255],
            [0, 255, 0, 255],
            [0, 0, 255, 255],
        ];
        let want: Vec<u8> = indices
            .iter()
            .flat_map(|&i| palette[usize::from(i)])
            .collect();
        assert!(decoded.as_raw() == &want, "LZW round trip");
    }
    // RLE8 BMP, hand-made TIFF, animated WebP, exif helper.
    let decoded = image::load_from_memory(&bmp(300, 20, 8, 1, &rle8_rows(300, 20)))
        .unwrap()
        .to_rgb8();
    assert_eq!(decoded.dimensions(), (300, 20));
    assert!(decoded.pixels().all(|p| p.0 == [255, 255, 255]));
    let decoded = image::load_from_memory(&tiff_gray(10, 3, 8, &zlib_zeros(30), &[])).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (10, 3));
    let red = vp8l(&RgbaImage::from_pixel(6, 4, Rgba([255, 0, 0, 255])));
    let animated = riff_webp(&[
        (b"VP8X", vp8x(0x12, 12, 8)),
        (b"ANIM", vec![0; 6]),
        (b"ANMF", anmf(6, 4, 6, 4, &red)),
    ]);
    let decoded = image::load_from_memory(&animated).unwrap().to_rgba8();
    let [r, g, b, a] = decoded.get_pixel(8, 6).0;
    assert!(r > 250 && g < 5 && b < 5 && a > 250, "{:?}", [r, g, b, a]);
    // Extra progressive scans are real scans, and libjpeg reads them.
    for extra in [0, 5] {
        let thumbnail =
            media_imaging::make_thumbnail(&many_scans(64, 64, extra), &ImageLimits::default())
                .unwrap();
        assert_eq!(
            (thumbnail.encoded.width, thumbnail.encoded.height),
            (64, 64)
        );
    }
    assert_eq!(
        jpeg_segments(&many_scans(64, 64, 5))
            .iter()
            .filter(|s| s[1] == 0xDA)
            .count(),
        jpeg_segments(&many_scans(64, 64, 0))
            .iter()
            .filter(|s| s[1] == 0xDA)
            .count()
            + 5
    );
}

// ---------------------------------------------------------------------------------------
// Seeds for the thumbnail fuzz target
// ---------------------------------------------------------------------------------------

/// The `thumbnail` fuzz target's seed images (`fuzz/corpus/thumbnail/`, committed): one small
/// file of each format and feature the decoders have, and small forms of the regressions
/// above. Regenerate them when the generators change:
/// `FUZZ_SEED_DIR=fuzz/corpus/thumbnail cargo test --release --workspace --exclude e2e-tests -- --ignored hostile_fuzz_seeds`
/// (a relative directory is taken from the workspace root).
#[test]
#[ignore = "writes the fuzz seed corpus when asked to"]
fn hostile_fuzz_seeds() {
    let dir = std::env::var_os("FUZZ_SEED_DIR").expect("FUZZ_SEED_DIR: where to write the seeds");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in fuzz_seeds() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// Lossy WebP seeds, made with `vips webpsave ... --Q 60` from two of the generated ones (the
/// `image` crate writes lossless WebP only): fuzz/README.md.
const MADE_BY_VIPS: [&str; 2] = ["webp-lossy.webp", "webp-lossy-alpha.webp"];

/// HEIF encoders (x265, aom) are not byte-for-byte repeatable across builds: those seeds are
/// compared by name only.
fn is_heif_seed(name: &str) -> bool {
    name.ends_with(".heic") || name.ends_with(".avif")
}

/// The committed seeds are the generators' output: a format or feature added to the
/// generators reaches the fuzz corpus, and no seed is left that they no longer make.
#[test]
fn the_committed_fuzz_seeds_are_what_the_generators_make() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/thumbnail");
    let committed: BTreeMap<String, Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .filter(|(name, _)| {
            !name.starts_with("regression-") && !MADE_BY_VIPS.contains(&name.as_str())
        })
        .collect();
    let generated: BTreeMap<String, Vec<u8>> = fuzz_seeds()
        .into_iter()
        .map(|(name, bytes)| (name.to_owned(), bytes))
        .collect();
    assert_eq!(
        committed.keys().collect::<Vec<_>>(),
        generated.keys().collect::<Vec<_>>(),
        "regenerate with hostile_fuzz_seeds (its doc comment says how)"
    );
    for (name, bytes) in &generated {
        if !is_heif_seed(name) {
            assert!(
                committed[name] == *bytes,
                "{name}: regenerate with hostile_fuzz_seeds"
            );
        }
    }
}

fn fuzz_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let rgb = |w: usize, h: usize| photo(w as u32, h as u32).into_raw();
    let rgba = DynamicImage::ImageRgba8(RgbaImage::from_fn(16, 16, |x, y| {
        Rgba([(x * 16) as u8, (y * 16) as u8, 99, (x * y) as u8])
    }));
    let gray16 = DynamicImage::ImageLuma16(image::ImageBuffer::from_fn(8, 8, |x, y| {
        image::Luma([(x * 8000 + y * 300) as u16])
    }));
    let own_scans = jpeg_segments(&many_scans(16, 16, 0))
        .iter()
        .filter(|s| s[1] == 0xDA)
        .count();
    let palette = png(
        4,
        4,
        8,
        3,
        &[(b"PLTE", vec![0, 0, 0, 255, 0, 0]), (b"tRNS", vec![0, 128])],
        &zlib_zeros(5 * 4),
    );
    let mut small_icc = b"icc\0\0".to_vec();
    small_icc.extend(zlib_zeros(200));
    let png_exif = exif(8, 1, &[(0x0112, SHORT, 1, 6)], 0)[6..].to_vec();
    let gif_frames: Vec<GifFrame> = (0..2)
        .map(|i| GifFrame {
            left: i * 2,
            top: i,
            width: 6,
            height: 6,
            lzw: gif_lzw(2, (0..36u8).map(|v| (v + i as u8) % 4)),
        })
        .collect();
    let red = vp8l(&RgbaImage::from_pixel(8, 8, Rgba([255, 0, 0, 255])));
    let blue = vp8l(&RgbaImage::from_pixel(8, 8, Rgba([0, 0, 255, 128])));
    let flat = encode(
        &DynamicImage::ImageRgb8(RgbImage::from_pixel(66, 66, Rgb([200, 60, 40]))),
        ImageFormat::Jpeg,
    );
    let odd_tiles = vec![heif::heif_enc(&flat); 4];
    let mut seeds: Vec<(&str, Vec<u8>)> = vec![
        ("jpeg-baseline.jpg", jpeg(32, 24)),
        (
            "jpeg-progressive.jpg",
            libjpeg_jpeg("rgb", 32, 24, &rgb(32, 24), true),
        ),
        (
            "jpeg-gray.jpg",
            libjpeg_jpeg("gray", 16, 16, &[77; 256], false),
        ),
        (
            "jpeg-cmyk.jpg",
            libjpeg_jpeg("cmyk", 16, 16, &cmyk_pixels(16, 16), false),
        ),
        (
            "jpeg-ycck-progressive.jpg",
            libjpeg_jpeg("ycck", 16, 16, &cmyk_pixels(16, 16), true),
        ),
        (
            "jpeg-exif-orientation-6.jpg",
            insert_exif_orientation(&jpeg(24, 16), 6),
        ),
        ("jpeg-101-scans.jpg", many_scans(16, 16, 101 - own_scans)),
        ("png-rgba.png", encode(&rgba, ImageFormat::Png)),
        ("png-gray16.png", encode(&gray16, ImageFormat::Png)),
        ("png-palette-trns.png", palette),
        (
            "png-exif-iccp.png",
            png(
                8,
                8,
                8,
                0,
                &[(b"iCCP", small_icc), (b"eXIf", png_exif.clone())],
                &zlib_zeros(9 * 8),
            ),
        ),
        ("png-60000x1.png", black_png(60_000, 1, 8, 0)),
        ("gif-two-frames.gif", gif(8, 8, &gif_frames)),
        ("gif-image-crate.gif", encode(&rgba, ImageFormat::Gif)),
        ("webp-lossless.webp", webp(rgba.as_rgba8().unwrap())),
        (
            "webp-animated.webp",
            riff_webp(&[
                (b"VP8X", vp8x(0x12, 16, 16)),
                (b"ANIM", vec![0; 6]),
                (b"ANMF", anmf(0, 0, 8, 8, &red)),
                (b"ANMF", anmf(8, 8, 8, 8, &blue)),
            ]),
        ),
        (
            "webp-exif.webp",
            riff_webp(&[
                (b"VP8X", vp8x(0x08 | 0x10, 8, 8)),
                (b"VP8L", red.clone()),
                (b"EXIF", png_exif),
            ]),
        ),
        (
            "tiff-rgb.tif",
            encode(&DynamicImage::ImageRgb8(photo(16, 16)), ImageFormat::Tiff),
        ),
        (
            "tiff-gray-deflate-orientation-6.tif",
            tiff_gray(16, 16, 8, &zlib_zeros(256), &[(274, SHORT, 1, 6)]),
        ),
        (
            "bmp-rgb.bmp",
            encode(&DynamicImage::ImageRgb8(photo(8, 8)), ImageFormat::Bmp),
        ),
        ("bmp-rle8.bmp", bmp(16, 16, 8, 1, &rle8_rows(16, 16))),
        (
            "heic-grid-odd-tiles.heic",
            heif::heic_grid_of_tiles_declared(&odd_tiles, 2, 2, 128, 128, (65, 65)),
        ),
        ("heic.heic", heif::heif_enc(&jpeg(32, 24))),
        ("avif.avif", heif::avifenc(&jpeg(32, 24), "jpg", &[])),
        (
            "avif-10bit-grid.avif",
            heif::avifenc(&jpeg(128, 128), "jpg", &["--depth", "10", "--grid", "2x2"]),
        ),
    ];
    // Progressive and wide enough for 1/8 scale: the thumbnail path's DC decoder.
    seeds.extend(media_imaging::testing::one_eighth_progressive_jpegs());
    for (name, bytes) in &seeds {
        assert!(
            bytes.len() < 6000,
            "{name}: {} bytes is not a small seed",
            bytes.len()
        );
    }
    seeds
}

/// A profile that inflates to 1 GiB is left out of the decode rather than inflated up to the
/// decoder's allocation limit and dropped (533 MB peak before, for a 64x64 picture).
#[test]
fn a_png_profile_bomb_costs_no_more_memory_than_the_picture() {
    let dir = std::env::temp_dir().join(format!("cu-iccp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut icc_bomb = b"icc\0\0".to_vec();
    icc_bomb.extend(zlib_zeros(1 << 30));
    let path = dir.join("png-iccp-bomb-1gib.png");
    std::fs::write(
        &path,
        png(64, 64, 8, 0, &[(b"iCCP", icc_bomb)], &zlib_zeros(65 * 64)),
    )
    .unwrap();
    let run = thumbnail_in_child(&path, function_memory_mb());
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(run.line["width"], 64, "{}", run.line);
    let peak_kb = run.line["maxRssKb"].as_u64().unwrap();
    assert!(
        peak_kb < 64_000,
        "peak {peak_kb} kB: the profile was inflated"
    );
}

/// The `thumbnail` fuzz target's seeds, replayed through its property on the stable toolchain
/// in every `make test` (coverage-guided fuzzing is `make fuzz`).
#[test]
fn the_committed_fuzz_seeds_pass_the_thumbnail_property() {
    let replayed = media_core::testing::fuzz::replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "thumbnail",
        media_imaging::testing::fuzz::thumbnail,
    );
    assert!(replayed >= 25);
}
