//! Just enough of the HEIF box structure (ISO/IEC 14496-12 boxes, ISO/IEC 23008-12 items) to
//! learn what an image declares before libheif decodes it: the primary item, each item's type,
//! `ispe` size, transformations and derivation references, and a grid's descriptor.
//!
//! libheif 1.15 checks each `ispe` against 32768x32768 only, and allocates a grid's canvas at
//! the size its descriptor (in `idat` or `mdat`, not `ispe`) claims, so both are read here and
//! checked against [`ImageLimits`](crate::ImageLimits) first. Every read is bounds
//! checked: a malformed file is an `Err`, never a panic.

use std::collections::HashMap;

pub(crate) type ItemId = u32;

/// Where an item's data is: `(offset, length)` extents in the file (construction method 0)
/// or in the `meta` box's `idat` (method 1).
#[derive(Clone, Debug, Default)]
pub(crate) struct Location {
    pub construction_method: u8,
    pub extents: Vec<(u64, u64)>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Item {
    pub item_type: [u8; 4],
    /// Width and height as coded, before any transformation.
    pub ispe: Option<(u32, u32)>,
    /// Property boxes associated with the item, in association order (type, payload).
    pub properties: Vec<([u8; 4], Vec<u8>)>,
    /// Items this one is derived from (`dimg` references), in order.
    pub derived_from: Vec<ItemId>,
    pub location: Option<Location>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Layout {
    pub primary: ItemId,
    pub items: HashMap<ItemId, Item>,
    /// The `idat` box's payload, as a range of the file.
    pub idat: Option<(usize, usize)>,
}

/// A grid's descriptor (ISO/IEC 23008-12, 6.6.2.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GridDescriptor {
    pub rows: u32,
    pub columns: u32,
    pub width: u32,
    pub height: u32,
}

/// A bounds-checked big-endian reader over a slice.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or("box ends early")?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }
    /// An unsigned integer of `size` bytes (0, 4 or 8 in `iloc`; 2 or 4 elsewhere).
    fn uint(&mut self, size: u8) -> Result<u64, String> {
        match size {
            0 => Ok(0),
            2 => self.u16().map(u64::from),
            4 => self.u32().map(u64::from),
            8 => Ok(u64::from_be_bytes(self.take(8)?.try_into().unwrap())),
            other => Err(format!("field size {other} is not allowed")),
        }
    }
    fn fourcc(&mut self) -> Result<[u8; 4], String> {
        Ok(self.take(4)?.try_into().unwrap())
    }
    fn full_box_header(&mut self) -> Result<(u8, u32), String> {
        let word = self.u32()?;
        Ok(((word >> 24) as u8, word & 0x00FF_FFFF))
    }
    fn rest(&mut self) -> &'a [u8] {
        let out = &self.bytes[self.at..];
        self.at = self.bytes.len();
        out
    }
}

/// One box: its type, its payload, and the payload's offset within the bytes read.
pub(crate) type Child<'a> = ([u8; 4], &'a [u8], usize);

/// The boxes in `bytes`.
pub(crate) fn children(bytes: &[u8]) -> Result<Vec<Child<'_>>, String> {
    let mut out = Vec::new();
    let mut reader = Reader::new(bytes);
    while reader.at < bytes.len() {
        let start = reader.at;
        let size = reader.u32()?;
        let kind = reader.fourcc()?;
        let size = match size {
            0 => (bytes.len() - start) as u64,
            1 => reader.uint(8)?,
            size => u64::from(size),
        };
        let header = reader.at - start;
        let size = usize::try_from(size).map_err(|_| "box too large")?;
        if size < header {
            return Err(format!(
                "box {} smaller than its header",
                String::from_utf8_lossy(&kind)
            ));
        }
        reader.at = start;
        let whole = reader.take(size)?;
        out.push((kind, &whole[header..], start + header));
        if out.len() > 20_000 {
            return Err("too many boxes".into());
        }
    }
    Ok(out)
}

fn find<'a>(boxes: &[Child<'a>], kind: &[u8; 4]) -> Option<(&'a [u8], usize)> {
    boxes
        .iter()
        .find(|(k, _, _)| k == kind)
        .map(|&(_, payload, offset)| (payload, offset))
}

/// Reads the `meta` box of a HEIF file: the primary item (`pitm`), each item's type
/// (`iinf`), the grid references (`iref`), properties (`iprp`) and extents (`iloc`).
pub(crate) fn parse(bytes: &[u8]) -> Result<Layout, String> {
    let top = children(bytes)?;
    let (meta, meta_offset) = find(&top, b"meta").ok_or("no meta box")?;
    let meta_children = children(meta.get(4..).ok_or("meta box ends early")?)?;
    let meta_children: Vec<_> = meta_children
        .into_iter()
        .map(|(k, p, o)| (k, p, o + meta_offset + 4))
        .collect();
    let mut layout = Layout::default();
    let (pitm, _) = find(&meta_children, b"pitm").ok_or("no primary item (pitm)")?;
    layout.primary = primary_item(pitm)?;
    let (iinf, _) = find(&meta_children, b"iinf").ok_or("no item information (iinf)")?;
    read_item_types(iinf, &mut layout)?;
    if let Some((iref, _)) = find(&meta_children, b"iref") {
        read_references(iref, &mut layout)?;
    }
    if let Some((iprp, _)) = find(&meta_children, b"iprp") {
        read_properties(iprp, &mut layout)?;
    }
    if let Some((iloc, _)) = find(&meta_children, b"iloc") {
        read_locations(iloc, &mut layout)?;
    }
    if let Some((idat, offset)) = find(&meta_children, b"idat") {
        layout.idat = Some((offset, offset + idat.len()));
    }
    if !layout.items.contains_key(&layout.primary) {
        return Err(format!("primary item {} is not described", layout.primary));
    }
    Ok(layout)
}

/// `pitm`: the primary item's id.
fn primary_item(pitm: &[u8]) -> Result<u32, String> {
    let mut reader = Reader::new(pitm);
    let (version, _) = reader.full_box_header()?;
    if version == 0 {
        Ok(u32::from(reader.u16()?))
    } else {
        reader.u32()
    }
}

/// `iinf`: each item's type (`hvc1`, `av01`, `grid`, `Exif`...).
fn read_item_types(iinf: &[u8], layout: &mut Layout) -> Result<(), String> {
    let mut reader = Reader::new(iinf);
    let (version, _) = reader.full_box_header()?;
    if version == 0 {
        reader.u16()?;
    } else {
        reader.u32()?;
    }
    for (kind, infe, _) in children(reader.rest())? {
        if &kind != b"infe" {
            continue;
        }
        let mut reader = Reader::new(infe);
        let (version, _) = reader.full_box_header()?;
        if version < 2 {
            continue;
        }
        let id = if version == 2 {
            u32::from(reader.u16()?)
        } else {
            reader.u32()?
        };
        reader.u16()?;
        let item_type = reader.fourcc()?;
        layout.items.entry(id).or_default().item_type = item_type;
    }
    Ok(())
}

/// `iref`: which items a derived item (a grid's `dimg`) is made from.
fn read_references(iref: &[u8], layout: &mut Layout) -> Result<(), String> {
    let mut reader = Reader::new(iref);
    let (version, _) = reader.full_box_header()?;
    for (kind, reference, _) in children(reader.rest())? {
        let mut reader = Reader::new(reference);
        let id = |r: &mut Reader| {
            if version == 0 {
                r.u16().map(u32::from)
            } else {
                r.u32()
            }
        };
        let from = id(&mut reader)?;
        let count = reader.u16()?;
        let mut to = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            to.push(id(&mut reader)?);
        }
        if &kind == b"dimg" {
            layout
                .items
                .entry(from)
                .or_default()
                .derived_from
                .extend(to);
        }
    }
    Ok(())
}

/// `iprp`: each item's properties (`ipma` associations into `ipco`), and its size (`ispe`).
fn read_properties(iprp: &[u8], layout: &mut Layout) -> Result<(), String> {
    let iprp = children(iprp)?;
    let (ipco, _) = find(&iprp, b"ipco").ok_or("no item properties (ipco)")?;
    let properties = children(ipco)?;
    for &(_, ipma, _) in iprp.iter().filter(|(kind, _, _)| kind == b"ipma") {
        let mut reader = Reader::new(ipma);
        let (version, flags) = reader.full_box_header()?;
        let entries = reader.u32()?;
        for _ in 0..entries {
            let id = if version < 1 {
                u32::from(reader.u16()?)
            } else {
                reader.u32()?
            };
            let count = reader.u8()?;
            for _ in 0..count {
                let index = if flags & 1 == 1 {
                    usize::from(reader.u16()? & 0x7FFF)
                } else {
                    usize::from(reader.u8()? & 0x7F)
                };
                if index == 0 {
                    continue;
                }
                let &(kind, payload, _) = properties
                    .get(index - 1)
                    .ok_or("property index out of range")?;
                let item = layout.items.entry(id).or_default();
                if &kind == b"ispe" {
                    let mut reader = Reader::new(payload);
                    reader.full_box_header()?;
                    item.ispe = Some((reader.u32()?, reader.u32()?));
                }
                item.properties.push((kind, payload.to_vec()));
            }
        }
    }
    Ok(())
}

/// `iloc`: where each item's bytes are (extents in the file or in `idat`).
fn read_locations(iloc: &[u8], layout: &mut Layout) -> Result<(), String> {
    let mut reader = Reader::new(iloc);
    let (version, _) = reader.full_box_header()?;
    let sizes = reader.u16()?;
    let (offset_size, length_size, base_offset_size) = (
        (sizes >> 12) as u8,
        (sizes >> 8 & 15) as u8,
        (sizes >> 4 & 15) as u8,
    );
    let index_size = if version == 1 || version == 2 {
        (sizes & 15) as u8
    } else {
        0
    };
    let count = if version < 2 {
        u32::from(reader.u16()?)
    } else {
        reader.u32()?
    };
    for _ in 0..count {
        let id = if version < 2 {
            u32::from(reader.u16()?)
        } else {
            reader.u32()?
        };
        let construction_method = if version == 1 || version == 2 {
            (reader.u16()? & 15) as u8
        } else {
            0
        };
        reader.u16()?;
        let base = reader.uint(base_offset_size)?;
        let extent_count = reader.u16()?;
        let mut extents = Vec::with_capacity(usize::from(extent_count).min(32));
        for _ in 0..extent_count {
            reader.uint(index_size)?;
            let offset = reader.uint(offset_size)?;
            let length = reader.uint(length_size)?;
            extents.push((
                base.checked_add(offset).ok_or("iloc offset overflows")?,
                length,
            ));
        }
        layout.items.entry(id).or_default().location = Some(Location {
            construction_method,
            extents,
        });
    }
    Ok(())
}

impl Layout {
    /// The bytes of an item (its extents concatenated), read from the file or `idat`.
    pub(crate) fn item_data(&self, bytes: &[u8], id: ItemId) -> Result<Vec<u8>, String> {
        let location = self
            .items
            .get(&id)
            .and_then(|item| item.location.as_ref())
            .ok_or(format!("item {id} has no location"))?;
        let source = match location.construction_method {
            0 => bytes,
            1 => {
                let (start, end) = self.idat.ok_or("item in idat, but no idat")?;
                &bytes[start..end]
            }
            other => return Err(format!("construction method {other} is not supported")),
        };
        let mut out = Vec::new();
        for &(offset, length) in &location.extents {
            let length = if length == 0 {
                (source.len() as u64).saturating_sub(offset)
            } else {
                length
            };
            let start = usize::try_from(offset).map_err(|_| "extent offset too large")?;
            let end =
                usize::try_from(offset.saturating_add(length)).map_err(|_| "extent too large")?;
            out.extend_from_slice(
                source
                    .get(start..end)
                    .ok_or(format!("item {id}'s data lies outside the file"))?,
            );
        }
        Ok(out)
    }

    /// A grid item's descriptor.
    pub(crate) fn grid(&self, bytes: &[u8], id: ItemId) -> Result<GridDescriptor, String> {
        let data = self.item_data(bytes, id)?;
        let mut reader = Reader::new(&data);
        let _version = reader.u8()?;
        let flags = reader.u8()?;
        let rows = u32::from(reader.u8()?) + 1;
        let columns = u32::from(reader.u8()?) + 1;
        let size = if flags & 1 == 1 { 4 } else { 2 };
        let width = reader.uint(size)? as u32;
        let height = reader.uint(size)? as u32;
        Ok(GridDescriptor {
            rows,
            columns,
            width,
            height,
        })
    }
}

/// Reads bits, most significant first, from an RBSP (emulation prevention bytes removed).
struct BitReader {
    bytes: Vec<u8>,
    bit: usize,
}

impl BitReader {
    fn bits(&mut self, n: u32) -> Result<u32, String> {
        let mut value = 0u32;
        for _ in 0..n {
            let byte = *self.bytes.get(self.bit / 8).ok_or("SPS ends early")?;
            value = (value << 1) | u32::from((byte >> (7 - self.bit % 8)) & 1);
            self.bit += 1;
        }
        Ok(value)
    }
    fn skip(&mut self, n: usize) {
        self.bit += n;
    }
    /// An unsigned Exp-Golomb code (H.265 9.2).
    fn ue(&mut self) -> Result<u32, String> {
        let mut zeros = 0;
        while self.bits(1)? == 0 {
            zeros += 1;
            if zeros > 31 {
                return Err("Exp-Golomb code too long".into());
            }
        }
        Ok(((1u64 << zeros) - 1 + u64::from(self.bits(zeros)?)) as u32)
    }
}

/// The coded picture size (`pic_width/height_in_luma_samples`) of the first sequence
/// parameter set in an `hvcC` payload (ISO/IEC 14496-15 8.3.3, H.265 7.3.2.2): what libde265
/// allocates, whatever `ispe` says.
pub(crate) fn hevc_coded_size(hvcc: &[u8]) -> Result<(u32, u32), String> {
    let mut reader = Reader::new(hvcc);
    reader.take(22)?;
    let arrays = reader.u8()?;
    for _ in 0..arrays {
        let nal_type = reader.u8()? & 0x3F;
        let count = reader.u16()?;
        for _ in 0..count {
            let length = usize::from(reader.u16()?);
            let nal = reader.take(length)?;
            if nal_type != 33 || nal.len() < 2 {
                continue;
            }
            // The RBSP: the 2-byte NAL header dropped, every 00 00 03 made 00 00.
            let mut rbsp = Vec::with_capacity(nal.len());
            let mut zeros = 0;
            for &byte in &nal[2..] {
                if zeros >= 2 && byte == 3 {
                    zeros = 0;
                    continue;
                }
                zeros = if byte == 0 { zeros + 1 } else { 0 };
                rbsp.push(byte);
            }
            let mut bits = BitReader {
                bytes: rbsp,
                bit: 0,
            };
            bits.skip(4);
            let sub_layers = bits.bits(3)? as usize;
            bits.skip(1);
            // profile_tier_level(1, sps_max_sub_layers_minus1)
            bits.skip(96);
            let mut present = Vec::with_capacity(sub_layers);
            for _ in 0..sub_layers {
                present.push((bits.bits(1)? == 1, bits.bits(1)? == 1));
            }
            if sub_layers > 0 {
                bits.skip(2 * (8 - sub_layers));
            }
            for (profile, level) in present {
                bits.skip(if profile { 88 } else { 0 } + if level { 8 } else { 0 });
            }
            bits.ue()?; // sps_seq_parameter_set_id
            if bits.ue()? == 3 {
                bits.skip(1); // separate_colour_plane_flag
            }
            let width = bits.ue()?;
            let height = bits.ue()?;
            return Ok((width, height));
        }
    }
    Err("hvcC has no sequence parameter set".into())
}
