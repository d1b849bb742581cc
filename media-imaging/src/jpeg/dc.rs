//! A progressive JPEG's 1/8-scale image from its DC coefficients alone, for thumbnails.
//!
//! At 1/8 scale each 8x8 block becomes one pixel: the block's mean, which is its DC
//! coefficient over 8 (ITU-T T.81, A.3.3, the inverse DCT at `x = y = 0` frequencies), plus the
//! level shift of A.3.1. libjpeg's 1x1 inverse DCT (`jpeg_idct_1x1`) computes exactly that, but
//! for a progressive file (T.81 Annex G) libjpeg first decodes every scan into whole-image
//! coefficient arrays, 64 coefficients of 2 bytes for every block of every component, because
//! any later scan may refine any coefficient: 116 MB for a 20 MP photo, whatever the output
//! scale (bench/README.md, "Thumbnails").
//!
//! This decoder keeps one `i16` per block (the DC coefficient) and reads only the scans that
//! carry DC bits: a component's first DC scan (`Ss = Se = 0`, `Ah = 0`: Huffman-coded
//! differences from the previous block's DC, G.1.2.1 and F.2.2.1) and its successive
//! approximation refinements (`Ah > 0`: one raw bit per block, G.1.2.1), interleaved (A.2.3)
//! or not (A.2.2), with restart intervals (B.2.4.4, E.2.4: the DC prediction restarts at
//! zero after each RSTn) and Huffman tables (B.2.4.2) and quantisation tables (B.2.4.1)
//! defined between scans. AC scans (`Ss > 0`) are skipped whole without decoding: the
//! segment walker in [`super::segments`] finds where each scan's entropy-coded data ends.
//!
//! Each block's pixel is `DC x Q(0) / 8 + 128`, rounded and clamped as libjpeg rounds it; a
//! subsampled component's pixels are repeated over the blocks of the largest sampling
//! factors (box upsampling, which is what libjpeg does at this scale, except that in 4:2:0 it
//! gives the chroma a 2x2 inverse DCT, so its chroma there has a little of the AC detail ours
//! lacks), then YCbCr goes to RGB as JFIF defines it (ITU-T T.871, 7) with libjpeg's
//! fixed-point arithmetic. Grey stays one channel.
//!
//! [`decode`] returns `Ok(None)` for what it does not read, and the caller decodes those with
//! libjpeg as before: other frame types (baseline, extended, lossless, arithmetic coding),
//! 12-bit samples, anything but one component or three in YCbCr (CMYK, YCCK, RGB, and every
//! Adobe transform but YCbCr), sampling factors that do not divide the largest, duplicate
//! component ids, and a progression that T.81 does not allow (a DC refinement without its
//! first scan, or whose `Ah` is not the last `Al`), which libjpeg reads with a warning.
//! Anything wrong with the data (a code no table has, data ending before the last block, a
//! missing or misnumbered restart marker, a table index out of range, a component without
//! any DC scan) is an error, as libjpeg's "premature end of data" is for the caller. Every
//! loop advances through the file's bytes or over a block count bounded by the frame's
//! pixels, which the caller has checked against [`ImageLimits`], and the caller has refused
//! files of more than `MAX_SCANS` scans.

use image::{DynamicImage, GrayImage, RgbImage};

use super::{decode_error, insufficient_memory, segments};
use crate::{ImageLimits, ImagingError};

/// Huffman codes of up to this many bits are decoded with one table look-up; longer ones
/// (rare for DC differences) by comparing against each length's last code (T.81 F.2.2.3).
const FAST_BITS: u32 = 9;

/// Decodes a progressive JPEG at 1/8 scale from its DC scans: `Ok(None)` when it is not one
/// this module reads (see the module's documentation), for the caller to decode with libjpeg.
pub(super) fn decode(
    bytes: &[u8],
    limits: &ImageLimits,
) -> Result<Option<DynamicImage>, ImagingError> {
    match Decoder::default().run(bytes, limits) {
        Ok(image) => Ok(image),
        Err(Failure::Data(message)) => Err(decode_error(message)),
        Err(Failure::Memory) => Err(insufficient_memory()),
    }
}

/// Why a decode stopped: bad data, or more memory than the limits allow.
#[derive(Debug)]
enum Failure {
    Data(String),
    Memory,
}

fn bad(message: impl Into<String>) -> Failure {
    Failure::Data(message.into())
}

fn ended_early() -> Failure {
    bad("JPEG data ends before its last block (premature end of data segment)")
}

/// A Huffman table as DHT defines it (T.81 B.2.4.2): how many codes of each length 1-16, and
/// the symbols in code order.
#[derive(Clone)]
struct HuffmanSpec {
    counts: [u8; 16],
    symbols: Vec<u8>,
}

/// A DC table ready for decoding, its codes generated as T.81 C.2 and F.2.2.3 describe.
struct Huffman {
    /// Indexed by the next `FAST_BITS` bits: `length << 8 | symbol` of the code they start
    /// with, or 0 when that code is longer.
    fast: [u16; 1 << FAST_BITS],
    /// The last code of each length, -1 where there is none below the next length's first.
    max_code: [i32; 17],
    /// Added to a code of each length, its symbol's index in `symbols`.
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    /// Refuses what libjpeg refuses (`jpeg_make_d_derived_tbl`): codes that do not fit their
    /// length or use up all its ones, and DC symbols (difference categories) over 15.
    fn new(spec: &HuffmanSpec) -> Result<Self, Failure> {
        if spec.symbols.iter().any(|&s| s > 15) {
            return Err(bad("bad Huffman table: a DC category over 15"));
        }
        let mut table = Huffman {
            fast: [0; 1 << FAST_BITS],
            max_code: [-1; 17],
            offset: [0; 17],
            symbols: spec.symbols.clone(),
        };
        let mut code: i32 = 0;
        let mut index: i32 = 0;
        for length in 1..=16u32 {
            let count = i32::from(spec.counts[length as usize - 1]);
            table.offset[length as usize] = index - code;
            for _ in 0..count {
                // libjpeg's rule: the codes of a length fit it, and are not all ones.
                if code + 1 >= 1 << length {
                    return Err(bad("bad Huffman table: codes overflow their length"));
                }
                if length <= FAST_BITS {
                    let symbol = u16::from(spec.symbols[index as usize]);
                    let shift = FAST_BITS - length;
                    let first = (code as usize) << shift;
                    for entry in &mut table.fast[first..first + (1 << shift)] {
                        *entry = (length as u16) << 8 | symbol;
                    }
                }
                code += 1;
                index += 1;
            }
            table.max_code[length as usize] = code - 1;
            code <<= 1;
        }
        Ok(table)
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Result<u8, Failure> {
        let peek = bits.peek16();
        let entry = self.fast[(peek >> (16 - FAST_BITS)) as usize];
        if entry != 0 {
            bits.consume(u32::from(entry >> 8))?;
            return Ok(entry as u8);
        }
        for length in FAST_BITS + 1..=16 {
            let code = (peek >> (16 - length)) as i32;
            if code <= self.max_code[length as usize] {
                bits.consume(length)?;
                let index = code + self.offset[length as usize];
                return usize::try_from(index)
                    .ok()
                    .and_then(|i| self.symbols.get(i).copied())
                    .ok_or_else(|| bad("bad Huffman code"));
            }
        }
        // No code matches: corrupt data, or zero padding past the end of the data.
        if bits.available() < 16 {
            return Err(ended_early());
        }
        Err(bad("bad Huffman code"))
    }
}

/// Bits of one scan's entropy-coded data (T.81 F.2.2.5): `FF 00` is a data byte `FF`, and an
/// `FF` followed by anything else is a marker, where the data stops until [`Bits::restart`]
/// passes an RSTn.
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
    /// The next `count` bits, most significant first; the bits below them are zero.
    buffer: u64,
    count: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits {
            data,
            at: 0,
            buffer: 0,
            count: 0,
        }
    }

    fn refill(&mut self) {
        while self.count <= 56 {
            let Some(&byte) = self.data.get(self.at) else {
                return;
            };
            if byte == 0xFF {
                if self.data.get(self.at + 1) != Some(&0x00) {
                    return;
                }
                self.at += 2;
            } else {
                self.at += 1;
            }
            self.buffer |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    /// The next 16 bits, zeros past the end of the data.
    fn peek16(&mut self) -> u32 {
        if self.count < 16 {
            self.refill();
        }
        (self.buffer >> 48) as u32
    }

    fn available(&self) -> u32 {
        self.count
    }

    fn consume(&mut self, n: u32) -> Result<(), Failure> {
        if n > self.count {
            return Err(ended_early());
        }
        self.buffer <<= n;
        self.count -= n;
        Ok(())
    }

    /// The next `n` (1 to 16) bits as a number.
    fn get(&mut self, n: u32) -> Result<u32, Failure> {
        if self.count < n {
            self.refill();
        }
        let value = (self.buffer >> (64 - n)) as u32;
        self.consume(n)?;
        Ok(value)
    }

    /// Drops the bits left of the interval (its padding) and passes the restart marker that
    /// must follow, `RST(number)`. Bytes before the marker are skipped, as libjpeg skips them.
    fn restart(&mut self, number: u8) -> Result<(), Failure> {
        self.buffer = 0;
        self.count = 0;
        loop {
            let offset = memchr::memchr(0xFF, self.data.get(self.at..).unwrap_or_default())
                .ok_or_else(ended_early)?;
            let at = self.at + offset;
            match self.data.get(at + 1) {
                Some(0x00) => self.at = at + 2,
                Some(&marker @ 0xD0..=0xD7) => {
                    if marker != 0xD0 + number {
                        return Err(bad(format!(
                            "restart marker RST{} where RST{number} belongs",
                            marker - 0xD0
                        )));
                    }
                    self.at = at + 2;
                    return Ok(());
                }
                _ => return Err(ended_early()),
            }
        }
    }
}

/// T.81 F.2.2.1 (EXTEND): a difference's `size` (1 to 15) bits as a signed number.
fn extend(value: u32, size: u32) -> i32 {
    let value = value as i32;
    if value < 1 << (size - 1) {
        value - (1 << size) + 1
    } else {
        value
    }
}

/// A frame component (T.81 B.2.2) and its blocks' DC coefficients.
struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant_table: usize,
    /// Its DC quantiser, taken from its table when a scan first includes it, as libjpeg
    /// does (`latch_quant_tables`): a later DQT for that table does not change it.
    quant: Option<u16>,
    /// Blocks that hold image data, across and down (A.2.2: a non-interleaved scan codes
    /// only these).
    blocks_across: usize,
    blocks_down: usize,
    /// Blocks a row in `dc`: whole MCUs, as an interleaved scan codes them (A.2.3).
    stride: usize,
    dc: Vec<i16>,
    /// The point transform of its DC coefficients so far: `None` before its first DC scan.
    dc_al: Option<u8>,
}

struct Frame {
    width: usize,
    height: usize,
    max_h: usize,
    max_v: usize,
    mcus_across: usize,
    mcus_down: usize,
    components: Vec<Component>,
}

/// A scan header (T.81 B.2.3) with its components as indices into the frame's.
struct Scan {
    components: Vec<(usize, usize)>,
    ss: u8,
    se: u8,
    ah: u8,
    al: u8,
}

#[derive(Default)]
struct Decoder {
    dc_tables: [Option<HuffmanSpec>; 4],
    /// Each table's first entry (its DC quantiser, B.2.4.1), `None` before a DQT defines it.
    quant: [Option<u16>; 4],
    restart_interval: u16,
    jfif: bool,
    /// The Adobe APP14 segment's colour transform flag, when there is one.
    adobe_transform: Option<u8>,
    frame: Option<Frame>,
    /// Whether a scan has been read: libjpeg takes JFIF and Adobe markers from the header
    /// before it, and decides the colour space there.
    scanning: bool,
}

fn be16(bytes: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *bytes.get(at)?,
        *bytes.get(at + 1)?,
    ])))
}

impl Decoder {
    fn run(mut self, bytes: &[u8], limits: &ImageLimits) -> Result<Option<DynamicImage>, Failure> {
        let mut seen_eoi = false;
        for (marker, range) in segments(bytes) {
            let segment = &bytes[range];
            // A segment's payload, after its marker and length: all of it, or the data
            // ended inside it.
            let payload = || -> Result<&[u8], Failure> {
                let length = be16(segment, 2).ok_or_else(ended_early)?;
                if length < 2 {
                    return Err(bad(format!("marker FF{marker:02X} with length {length}")));
                }
                segment.get(4..2 + length).ok_or_else(ended_early)
            };
            match marker {
                0xD9 => {
                    seen_eoi = true;
                    break;
                }
                0xC2 if self.frame.is_none() => match self.read_frame(payload()?, limits)? {
                    Some(frame) => self.frame = Some(frame),
                    None => return Ok(None),
                },
                // Any other frame type this module leaves to libjpeg; a second frame is an
                // error there too.
                0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                    if self.frame.is_none() {
                        return Ok(None);
                    }
                    return Err(bad("a second frame header"));
                }
                0xC4 => self.read_huffman_tables(payload()?)?,
                0xDB => self.read_quant_tables(payload()?)?,
                0xDD => {
                    let payload = payload()?;
                    if payload.len() != 2 {
                        return Err(bad("DRI of the wrong length"));
                    }
                    self.restart_interval = u16::from_be_bytes([payload[0], payload[1]]);
                }
                0xDA => {
                    if !self.scanning {
                        self.scanning = true;
                        if !self
                            .frame
                            .as_ref()
                            .is_some_and(|f| self.is_supported_colour(f))
                        {
                            return Ok(None);
                        }
                    }
                    let header_length = be16(segment, 2).ok_or_else(ended_early)?;
                    let payload = payload()?;
                    let data = &segment[2 + header_length..];
                    if !self.read_scan(payload, data)? {
                        return Ok(None);
                    }
                }
                0xE0 | 0xEE if !self.scanning => {
                    let payload = payload()?;
                    // What libjpeg recognises (`examine_app0`, `examine_app14`).
                    if marker == 0xE0 && payload.len() >= 14 && payload.starts_with(b"JFIF\0") {
                        self.jfif = true;
                    }
                    if marker == 0xEE && payload.len() >= 12 && payload.starts_with(b"Adobe") {
                        self.adobe_transform = Some(payload[11]);
                    }
                }
                // APPn, COM, DNL, DAC: nothing here for the DC coefficients.
                0xE0..=0xEF | 0xFE | 0xDC | 0xCC => {
                    payload()?;
                }
                // Restart markers between segments, and TEM: libjpeg passes over them.
                0xD0..=0xD7 | 0x01 => {}
                0xD8 => return Err(bad("a second start of image")),
                other => return Err(bad(format!("unsupported JPEG marker FF{other:02X}"))),
            }
        }
        // Garbage between segments ends the walk before EOI: libjpeg skips it and reads on.
        if !seen_eoi {
            return Ok(None);
        }
        let Some(frame) = self.frame.take() else {
            return Err(bad("no frame header"));
        };
        if let Some(missing) = frame.components.iter().find(|c| c.dc_al.is_none()) {
            return Err(bad(format!("component {} has no DC scan", missing.id)));
        }
        Ok(Some(frame.image()?))
    }

    /// The frame, with its DC buffers allocated; `None` for frames this module leaves to
    /// libjpeg.
    fn read_frame(&self, payload: &[u8], limits: &ImageLimits) -> Result<Option<Frame>, Failure> {
        // P, Y (2), X (2), Nf, Nf x (Ci, Hi << 4 | Vi, Tqi).
        if payload.len() < 6 {
            return Err(bad("frame header too short"));
        }
        let count = usize::from(payload[5]);
        if payload.len() != 6 + 3 * count {
            return Err(bad("frame header of the wrong length"));
        }
        let (height, width) = (be16(payload, 1), be16(payload, 3));
        let (Some(height), Some(width)) = (height, width) else {
            return Err(ended_early());
        };
        if width == 0 || height == 0 {
            return Err(bad(format!("{width}x{height} frame")));
        }
        if payload[0] != 8 || !matches!(count, 1 | 3) {
            return Ok(None);
        }
        let specs: Vec<(u8, usize, usize, usize)> = payload[6..]
            .chunks_exact(3)
            .map(|c| {
                (
                    c[0],
                    usize::from(c[1] >> 4),
                    usize::from(c[1] & 0x0F),
                    usize::from(c[2]),
                )
            })
            .collect();
        if specs
            .iter()
            .any(|&(_, h, v, tq)| !(1..=4).contains(&h) || !(1..=4).contains(&v) || tq > 3)
        {
            return Err(bad(
                "bad sampling factor or quantisation table in frame header",
            ));
        }
        let max_h = specs.iter().map(|s| s.1).max().unwrap_or(1);
        let max_v = specs.iter().map(|s| s.2).max().unwrap_or(1);
        let divides = specs
            .iter()
            .all(|&(_, h, v, _)| max_h % h == 0 && max_v % v == 0);
        let unique = specs
            .iter()
            .enumerate()
            .all(|(i, a)| specs[..i].iter().all(|b| b.0 != a.0));
        if !divides || !unique {
            return Ok(None);
        }
        let mcus_across = width.div_ceil(8 * max_h);
        let mcus_down = height.div_ceil(8 * max_v);
        // One i16 a block, and the output image with a row of samples per component.
        let blocks: u64 = specs
            .iter()
            .map(|&(_, h, v, _)| (mcus_across * h) as u64 * (mcus_down * v) as u64)
            .sum();
        let (out_width, out_height) = (width.div_ceil(8) as u64, height.div_ceil(8) as u64);
        let needed = blocks * 2 + out_width * out_height * 3 + out_width * 4 * count as u64;
        if needed > limits.max_alloc_bytes() {
            return Err(Failure::Memory);
        }
        let components = specs
            .iter()
            .map(|&(id, h, v, quant_table)| {
                let stride = mcus_across * h;
                Component {
                    id,
                    h,
                    v,
                    quant_table,
                    quant: None,
                    blocks_across: (width * h).div_ceil(max_h).div_ceil(8),
                    blocks_down: (height * v).div_ceil(max_v).div_ceil(8),
                    stride,
                    dc: vec![0; stride * mcus_down * v],
                    dc_al: None,
                }
            })
            .collect();
        Ok(Some(Frame {
            width,
            height,
            max_h,
            max_v,
            mcus_across,
            mcus_down,
            components,
        }))
    }

    /// Grey, or three components in YCbCr as libjpeg decides (`default_decompress_parms`):
    /// a JFIF marker says so; else an Adobe marker's transform 1; else anything but the
    /// component ids 'R', 'G', 'B'. Other Adobe transforms are left to libjpeg.
    fn is_supported_colour(&self, frame: &Frame) -> bool {
        let ids: Vec<u8> = frame.components.iter().map(|c| c.id).collect();
        match ids.as_slice() {
            [_] => true,
            _ if self.jfif => true,
            _ if self.adobe_transform.is_some() => self.adobe_transform == Some(1),
            [r, g, b] => (*r, *g, *b) != (b'R', b'G', b'B'),
            _ => false,
        }
    }

    fn read_huffman_tables(&mut self, mut payload: &[u8]) -> Result<(), Failure> {
        while let Some((&class_and_index, rest)) = payload.split_first() {
            let (class, index) = (class_and_index >> 4, usize::from(class_and_index & 0x0F));
            if class > 1 || index > 3 {
                return Err(bad(format!(
                    "bad Huffman table index {class_and_index:#04x}"
                )));
            }
            let counts: [u8; 16] = rest
                .get(..16)
                .and_then(|c| c.try_into().ok())
                .ok_or_else(|| bad("Huffman table too short"))?;
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            if total > 256 {
                return Err(bad("bad Huffman table: more than 256 codes"));
            }
            let symbols = rest
                .get(16..16 + total)
                .ok_or_else(|| bad("Huffman table too short"))?;
            if class == 0 {
                self.dc_tables[index] = Some(HuffmanSpec {
                    counts,
                    symbols: symbols.to_vec(),
                });
            }
            payload = &rest[16 + total..];
        }
        Ok(())
    }

    /// Keeps each table's first entry, the DC quantiser. A table shorter than 64 entries is
    /// accepted, as libjpeg accepts it.
    fn read_quant_tables(&mut self, mut payload: &[u8]) -> Result<(), Failure> {
        while let Some((&precision_and_index, rest)) = payload.split_first() {
            let (precision, index) = (
                precision_and_index >> 4,
                usize::from(precision_and_index & 0x0F),
            );
            if index > 3 {
                return Err(bad(format!(
                    "bad quantisation table {precision_and_index:#04x}"
                )));
            }
            // Any precision but 0 is 16-bit to libjpeg.
            let entry = if precision == 0 { 1 } else { 2 };
            let length = (rest.len() / entry).min(64) * entry;
            let first = match entry {
                1 => rest.first().map(|&q| u16::from(q)),
                _ => rest.get(..2).map(|q| u16::from_be_bytes([q[0], q[1]])),
            };
            self.quant[index] = Some(first.ok_or_else(|| bad("empty quantisation table"))?);
            payload = &rest[length..];
        }
        Ok(())
    }

    /// Reads one scan: decodes a DC scan into the frame's coefficients, passes over an AC scan.
    /// `false` for a progression this module leaves to libjpeg.
    fn read_scan(&mut self, header: &[u8], data: &[u8]) -> Result<bool, Failure> {
        let frame = self
            .frame
            .as_mut()
            .ok_or_else(|| bad("a scan before the frame header"))?;
        // Ns, Ns x (Csj, Tdj << 4 | Taj), Ss, Se, Ah << 4 | Al.
        let count = usize::from(*header.first().unwrap_or(&0));
        if !(1..=4).contains(&count) || header.len() != 4 + 2 * count {
            return Err(bad("scan header of the wrong length"));
        }
        let mut components = Vec::with_capacity(count);
        for selector in header[1..1 + 2 * count].chunks_exact(2) {
            let index = frame
                .components
                .iter()
                .position(|c| c.id == selector[0])
                .ok_or_else(|| bad(format!("scan of unknown component {}", selector[0])))?;
            if components.iter().any(|&(i, _)| i == index) {
                return Err(bad("a component twice in one scan"));
            }
            components.push((index, usize::from(selector[1] >> 4)));
        }
        let [ss, se, approximation] = header[1 + 2 * count..] else {
            return Err(bad("scan header of the wrong length"));
        };
        let scan = Scan {
            components,
            ss,
            se,
            ah: approximation >> 4,
            al: approximation & 0x0F,
        };
        // What libjpeg refuses (`start_pass_phuff_decoder`, T.81 G.1.1.1.1).
        let dc = scan.ss == 0;
        if (dc && scan.se != 0)
            || (!dc && (scan.ss > scan.se || scan.se > 63 || count != 1))
            || (scan.ah != 0 && scan.al + 1 != scan.ah)
            || scan.al > 13
        {
            return Err(bad(format!(
                "bad progression: Ss={} Se={} Ah={} Al={}",
                scan.ss, scan.se, scan.ah, scan.al
            )));
        }
        for &(index, _) in &scan.components {
            let component = &mut frame.components[index];
            if component.quant.is_none() {
                let quant = self.quant[component.quant_table].ok_or_else(|| {
                    bad(format!("no quantisation table {}", component.quant_table))
                })?;
                component.quant = Some(quant);
            }
        }
        if !dc {
            return Ok(true);
        }
        if count > 1 {
            let blocks: usize = scan
                .components
                .iter()
                .map(|&(i, _)| frame.components[i].h * frame.components[i].v)
                .sum();
            if blocks > 10 {
                return Err(bad(format!("{blocks} blocks in an MCU, over 10")));
            }
        }
        // A first scan comes once, and each refinement's Ah is the Al so far (G.1.1.1.1).
        for &(index, _) in &scan.components {
            let in_order = match frame.components[index].dc_al {
                None => scan.ah == 0,
                Some(al) => al > 0 && scan.ah == al,
            };
            if !in_order {
                return Ok(false);
            }
        }
        let mut tables: Vec<Huffman> = Vec::with_capacity(count);
        if scan.ah == 0 {
            for &(_, table) in &scan.components {
                let spec = self
                    .dc_tables
                    .get(table)
                    .and_then(Option::as_ref)
                    .ok_or_else(|| bad(format!("no DC Huffman table {table}")))?;
                tables.push(Huffman::new(spec)?);
            }
        }
        frame.decode_dc_scan(&scan, &tables, data, self.restart_interval)?;
        for &(index, _) in &scan.components {
            frame.components[index].dc_al = Some(scan.al);
        }
        Ok(true)
    }
}

impl Frame {
    /// Decodes a DC scan (T.81 G.1.2.1): with `ah == 0` each block's DC difference (Huffman
    /// code of its size, then its bits, F.2.2.1) added to the previous block's of the same
    /// component in the scan, the sum shifted left by `al`; with `ah > 0` one raw bit per
    /// block, bit `al` of its coefficient.
    fn decode_dc_scan(
        &mut self,
        scan: &Scan,
        tables: &[Huffman],
        data: &[u8],
        restart_interval: u16,
    ) -> Result<(), Failure> {
        let mut bits = Bits::new(data);
        let mut predictions = [0i32; 4];
        let al = u32::from(scan.al);
        let decode_block = |bits: &mut Bits<'_>,
                            table: Option<&Huffman>,
                            prediction: &mut i32,
                            coefficient: &mut i16|
         -> Result<(), Failure> {
            match table {
                Some(table) => {
                    let size = u32::from(table.decode(bits)?);
                    let difference = if size == 0 {
                        0
                    } else {
                        extend(bits.get(size)?, size)
                    };
                    *prediction = prediction.wrapping_add(difference);
                    // libjpeg keeps coefficients as 16-bit JCOEF: the same truncation.
                    *coefficient = prediction.wrapping_shl(al) as i16;
                }
                None => {
                    if bits.get(1)? == 1 {
                        *coefficient |= 1 << al;
                    }
                }
            }
            Ok(())
        };
        let interleaved = scan.components.len() > 1;
        let (across, down) = if interleaved {
            (self.mcus_across, self.mcus_down)
        } else {
            let component = &self.components[scan.components[0].0];
            (component.blocks_across, component.blocks_down)
        };
        let mut left_in_interval = restart_interval;
        let mut next_restart = 0u8;
        for row in 0..down {
            for column in 0..across {
                if restart_interval > 0 {
                    if left_in_interval == 0 {
                        bits.restart(next_restart)?;
                        next_restart = (next_restart + 1) % 8;
                        predictions = [0; 4];
                        left_in_interval = restart_interval;
                    }
                    left_in_interval -= 1;
                }
                for (slot, &(index, _)) in scan.components.iter().enumerate() {
                    let component = &mut self.components[index];
                    let table = tables.get(slot);
                    let prediction = &mut predictions[slot];
                    if !interleaved {
                        let at = row * component.stride + column;
                        decode_block(&mut bits, table, prediction, &mut component.dc[at])?;
                        continue;
                    }
                    for y in 0..component.v {
                        for x in 0..component.h {
                            let at = (row * component.v + y) * component.stride
                                + column * component.h
                                + x;
                            decode_block(&mut bits, table, prediction, &mut component.dc[at])?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The 1/8-scale image: each block's level (`jpeg_idct_1x1`), repeated over the largest
    /// sampling factors' blocks, then YCbCr to RGB; grey as it is.
    fn image(&self) -> Result<DynamicImage, Failure> {
        let (width, height) = (self.width.div_ceil(8), self.height.div_ceil(8));
        let (Ok(out_width), Ok(out_height)) = (u32::try_from(width), u32::try_from(height)) else {
            return Err(Failure::Memory);
        };
        let mut rows: Vec<Vec<u8>> = self.components.iter().map(|_| vec![0; width]).collect();
        let mut pixels = Vec::with_capacity(width * height * self.components.len());
        for y in 0..height {
            for (component, row) in self.components.iter().zip(&mut rows) {
                let quant = i32::from(component.quant.unwrap_or(0));
                let block_row = y / (self.max_v / component.v);
                let repeat = self.max_h / component.h;
                let dc = &component.dc[block_row * component.stride..][..component.stride];
                for (x, sample) in row.iter_mut().enumerate() {
                    *sample = level(dc[x / repeat], quant);
                }
            }
            match rows.as_slice() {
                [grey] => pixels.extend_from_slice(grey),
                [luma, cb, cr] => {
                    for x in 0..width {
                        pixels.extend_from_slice(&ycbcr_to_rgb(luma[x], cb[x], cr[x]));
                    }
                }
                _ => return Err(bad("unsupported component count")),
            }
        }
        let image = if self.components.len() == 1 {
            GrayImage::from_raw(out_width, out_height, pixels).map(DynamicImage::ImageLuma8)
        } else {
            RgbImage::from_raw(out_width, out_height, pixels).map(DynamicImage::ImageRgb8)
        };
        image.ok_or_else(|| bad("DC decoder made too few pixels"))
    }
}

/// A block's level at 1/8 scale: its dequantised DC over 8, rounded, plus 128 (T.81 A.3.1),
/// clamped, as `jpeg_idct_1x1` computes it (`DESCALE(dc * q, 3)`).
fn level(coefficient: i16, quant: i32) -> u8 {
    let value = (i32::from(coefficient) * quant + 4) >> 3;
    (value + 128).clamp(0, 255) as u8
}

/// JFIF's YCbCr to RGB (ITU-T T.871, 7) in libjpeg's fixed point (`build_ycc_rgb_table`,
/// `ycc_rgb_convert`: 16 fractional bits, constants rounded to them).
fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    const HALF: i32 = 1 << 15;
    let (y, cb, cr) = (i32::from(y), i32::from(cb) - 128, i32::from(cr) - 128);
    let red = y + ((91_881 * cr + HALF) >> 16);
    let green = y + ((-22_554 * cb + HALF - 46_802 * cr) >> 16);
    let blue = y + ((116_130 * cb + HALF) >> 16);
    [red, green, blue].map(|v| v.clamp(0, 255) as u8)
}

#[cfg(test)]
mod tests;
