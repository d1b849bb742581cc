//! Real HEIC and AVIF files for tests, made by Debian's encoders (`heif-enc` from
//! libheif-examples, `avifenc` from libavif-bin; `make deps` installs both), and the HEIF
//! box structures those tools cannot write.
//!
//! `avifenc` 0.11 writes `irot`/`imir` (`--irot`, `--imir`), grids (`--grid`) and 10-bit
//! (`--depth 10`) itself. `heif-enc` 1.15 writes neither transformations nor grids, so
//! [`heic_rotated`] and [`heic_grid`] take the HEVC bitstreams `heif-enc` coded and lay them out
//! again, as an iPhone does: the same `hvcC` and coded data, new `meta` boxes (ISO/IEC
//! 23008-12: `irot` property, `grid` item with `dimg` references to hidden tiles).

use std::path::Path;
use std::process::Command;

use crate::heif::boxes;

/// Runs `tool` with `args`, then the input file (`input`, with `input_extension`), then
/// `output_flag` and the output file, and returns what it wrote. Panics with what to install
/// when the tool is missing: a test never skips for want of its data.
fn encode(
    tool: &str,
    package: &str,
    args: &[&str],
    input: &[u8],
    input_extension: &str,
    output_flag: &[&str],
) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!(
        "media-share-heif-{}-{}",
        std::process::id(),
        unique()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join(format!("in.{input_extension}"));
    let target = dir.join("out");
    std::fs::write(&source, input).unwrap();
    let output = Command::new(tool)
        .args(args)
        .arg(&source)
        .args(output_flag)
        .arg(&target)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {tool} ({e}): install Debian's {package} (`make deps`)")
        });
    let result = read_output(tool, &output, &target);
    std::fs::remove_dir_all(&dir).ok();
    result
}

fn read_output(tool: &str, output: &std::process::Output, target: &Path) -> Vec<u8> {
    assert!(
        output.status.success(),
        "{tool} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read(target).unwrap_or_else(|e| panic!("{tool} wrote no output: {e}"))
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// `jpeg` encoded as HEIC (HEVC, 8-bit 4:2:0) by `heif-enc`. Its Exif, orientation included,
/// is copied as an `Exif` item: heif-enc 1.15 writes no `irot`.
pub fn heif_enc(jpeg: &[u8]) -> Vec<u8> {
    encode(
        "heif-enc",
        "libheif-examples",
        &["-q", "80"],
        jpeg,
        "jpg",
        &["-o"],
    )
}

/// `input` (a JPEG or PNG, by `extension`) encoded as AVIF by `avifenc` with `args`
/// (e.g. `--depth 10`, `--irot 1`, `--grid 2x2`), at its fastest speed.
pub fn avifenc(input: &[u8], extension: &str, args: &[&str]) -> Vec<u8> {
    let all = [&["--speed", "10", "--jobs", "1"][..], args].concat();
    encode("avifenc", "libavif-bin", &all, input, extension, &["-o"])
}

/// The coded primary image of a single-image HEIC: its `hvcC` payload, `ispe` and data.
struct Coded {
    hvcc: Vec<u8>,
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl Coded {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

fn coded(heic: &[u8]) -> Coded {
    let layout = boxes::parse(heic).expect("a HEIF file");
    let item = &layout.items[&layout.primary];
    assert_eq!(&item.item_type, b"hvc1", "a single HEVC image");
    let hvcc = item
        .properties
        .iter()
        .find(|(kind, _)| kind == b"hvcC")
        .expect("an hvcC")
        .1
        .clone();
    let (width, height) = item.ispe.expect("an ispe");
    Coded {
        hvcc,
        width,
        height,
        data: layout.item_data(heic, layout.primary).unwrap(),
    }
}

fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(payload);
    out
}

fn full_box(kind: &[u8; 4], version: u8, flags: u32, payload: &[u8]) -> Vec<u8> {
    let mut body = ((u32::from(version) << 24) | flags).to_be_bytes().to_vec();
    body.extend_from_slice(payload);
    bx(kind, &body)
}

fn ispe(width: u32, height: u32) -> Vec<u8> {
    let mut payload = width.to_be_bytes().to_vec();
    payload.extend_from_slice(&height.to_be_bytes());
    full_box(b"ispe", 0, 0, &payload)
}

/// One item of a file being written.
struct ItemSpec {
    id: u16,
    item_type: [u8; 4],
    hidden: bool,
    data: Vec<u8>,
    /// In the `meta` box's `idat` (grid descriptors), else in `mdat`.
    in_idat: bool,
    /// 1-based indices into the property list, in order.
    properties: Vec<u8>,
}

/// A HEIF file: `ftyp` (heic), `meta` (hdlr, pitm, iinf, iref, iprp, idat, iloc), `mdat`.
fn write_heic(
    primary: u16,
    items: &[ItemSpec],
    properties: &[Vec<u8>],
    references: &[([u8; 4], u16, Vec<u16>)],
) -> Vec<u8> {
    let mut ftyp = b"heic".to_vec();
    ftyp.extend_from_slice(&0u32.to_be_bytes());
    for brand in [b"mif1", b"heic", b"miaf"] {
        ftyp.extend_from_slice(brand);
    }
    let ftyp = bx(b"ftyp", &ftyp);

    let meta = |mdat_start: u32| {
        let mut hdlr = 0u32.to_be_bytes().to_vec();
        hdlr.extend_from_slice(b"pict");
        hdlr.extend_from_slice(&[0; 13]);
        let mut iinf = (items.len() as u16).to_be_bytes().to_vec();
        for item in items {
            let mut infe = item.id.to_be_bytes().to_vec();
            infe.extend_from_slice(&0u16.to_be_bytes());
            infe.extend_from_slice(&item.item_type);
            infe.push(0);
            iinf.extend(full_box(b"infe", 2, u32::from(item.hidden), &infe));
        }
        let mut iref = Vec::new();
        for (kind, from, to) in references {
            let mut reference = from.to_be_bytes().to_vec();
            reference.extend_from_slice(&(to.len() as u16).to_be_bytes());
            for id in to {
                reference.extend_from_slice(&id.to_be_bytes());
            }
            iref.extend(bx(kind, &reference));
        }
        let ipco = bx(b"ipco", &properties.concat());
        let mut ipma = (items.len() as u32).to_be_bytes().to_vec();
        for item in items {
            ipma.extend_from_slice(&item.id.to_be_bytes());
            ipma.push(item.properties.len() as u8);
            // Every property essential but ispe (ISO/IEC 23008-12 6.5.3.1); indices < 128.
            ipma.extend(item.properties.iter().map(|&index| {
                let essential = &properties[usize::from(index) - 1][4..8] != b"ispe";
                index | if essential { 0x80 } else { 0 }
            }));
        }
        let iprp = bx(b"iprp", &[ipco, full_box(b"ipma", 0, 0, &ipma)].concat());
        let idat: Vec<u8> = items
            .iter()
            .filter(|item| item.in_idat)
            .flat_map(|item| item.data.clone())
            .collect();
        // iloc version 1: 4-byte offsets and lengths, no base offset, construction methods.
        let mut iloc = vec![0x44, 0x00];
        iloc.extend_from_slice(&(items.len() as u16).to_be_bytes());
        let (mut in_idat, mut in_mdat) = (0u32, mdat_start);
        for item in items {
            iloc.extend_from_slice(&item.id.to_be_bytes());
            iloc.extend_from_slice(&u16::from(item.in_idat).to_be_bytes());
            iloc.extend_from_slice(&0u16.to_be_bytes());
            iloc.extend_from_slice(&1u16.to_be_bytes());
            let offset = if item.in_idat {
                &mut in_idat
            } else {
                &mut in_mdat
            };
            iloc.extend_from_slice(&offset.to_be_bytes());
            iloc.extend_from_slice(&(item.data.len() as u32).to_be_bytes());
            *offset += item.data.len() as u32;
        }
        let children = [
            full_box(b"hdlr", 0, 0, &hdlr),
            full_box(b"pitm", 0, 0, &primary.to_be_bytes()),
            full_box(b"iinf", 0, 0, &iinf),
            full_box(b"iref", 0, 0, &iref),
            iprp,
            bx(b"idat", &idat),
            full_box(b"iloc", 1, 0, &iloc),
        ];
        full_box(b"meta", 0, 0, &children.concat())
    };
    let length = meta(0).len();
    let mdat_start = (ftyp.len() + length + 8) as u32;
    let meta = meta(mdat_start);
    assert_eq!(meta.len(), length);
    let mdat: Vec<u8> = items
        .iter()
        .filter(|item| !item.in_idat)
        .flat_map(|item| item.data.clone())
        .collect();
    [ftyp, meta, bx(b"mdat", &mdat)].concat()
}

/// An Exif item payload (ISO/IEC 23008-12 A.2.1: a 4-byte offset to the TIFF header, then
/// the TIFF structure) with one tag, `orientation`.
fn exif_item(orientation: u16) -> Vec<u8> {
    let jpeg = super::insert_exif_orientation(&[0xFF, 0xD8, 0xFF, 0xD9], orientation);
    // APP1 payload after its length: "Exif\0\0" then TIFF.
    let tiff = &jpeg[4 + 2 + 6..jpeg.len() - 2];
    [0u32.to_be_bytes().to_vec(), tiff.to_vec()].concat()
}

/// `heic` (one coded image, as heif-enc writes it) laid out again with an `irot` of
/// `quarter_turns` x 90 degrees anticlockwise, and an Exif item saying `exif_orientation`, as
/// an iPhone writes both.
pub fn heic_rotated(heic: &[u8], quarter_turns: u8, exif_orientation: u16) -> Vec<u8> {
    let image = coded(heic);
    let properties = vec![
        bx(b"hvcC", &image.hvcc),
        ispe(image.width, image.height),
        bx(b"irot", &[quarter_turns & 3]),
    ];
    let items = [
        ItemSpec {
            id: 1,
            item_type: *b"hvc1",
            hidden: false,
            data: image.data,
            in_idat: false,
            properties: vec![1, 2, 3],
        },
        ItemSpec {
            id: 2,
            item_type: *b"Exif",
            hidden: true,
            data: exif_item(exif_orientation),
            in_idat: false,
            properties: vec![],
        },
    ];
    write_heic(1, &items, &properties, &[(*b"cdsc", 2, vec![1])])
}

/// `heic` laid out again with its `ispe` claiming `width` x `height`: a lying header.
pub fn heic_claiming(heic: &[u8], width: u32, height: u32) -> Vec<u8> {
    let image = coded(heic);
    let properties = vec![bx(b"hvcC", &image.hvcc), ispe(width, height)];
    let items = [ItemSpec {
        id: 1,
        item_type: *b"hvc1",
        hidden: false,
        data: image.data,
        in_idat: false,
        properties: vec![1, 2],
    }];
    write_heic(1, &items, &properties, &[])
}

/// A grid HEIC of `columns` x `rows` tiles (heif-enc outputs of equal size, row by row) whose
/// canvas is `width` x `height` (at most the tiles' extent; the right and bottom ones are
/// cropped), as iPhones write 512x512 tiles.
pub fn heic_grid(tiles: &[Vec<u8>], columns: u8, rows: u8, width: u32, height: u32) -> Vec<u8> {
    let (tile_width, tile_height) = coded(&tiles[0]).size();
    heic_grid_of_tiles_declared(
        tiles,
        columns,
        rows,
        width,
        height,
        (tile_width, tile_height),
    )
}

/// [`heic_grid`] whose tiles' `ispe` declare `tile_size`, which may be smaller than what is
/// coded. An HEVC 4:2:0 picture always decodes to even sides (its conformance window crops in
/// units of two samples), so a grid of odd-sized tiles is made this way: coded 66x66, declared
/// 65x65, each tile placed at the declared size's offsets (ISO/IEC 23008-12 6.6.2.3).
pub fn heic_grid_of_tiles_declared(
    tiles: &[Vec<u8>],
    columns: u8,
    rows: u8,
    width: u32,
    height: u32,
    tile_size: (u32, u32),
) -> Vec<u8> {
    assert_eq!(tiles.len(), usize::from(columns) * usize::from(rows));
    let tiles: Vec<Coded> = tiles.iter().map(|tile| coded(tile)).collect();
    let (tile_width, tile_height) = tile_size;
    let mut properties = vec![ispe(width, height), ispe(tile_width, tile_height)];
    let mut items = Vec::new();
    let mut descriptor = vec![0, 1, rows - 1, columns - 1];
    descriptor.extend_from_slice(&width.to_be_bytes());
    descriptor.extend_from_slice(&height.to_be_bytes());
    items.push(ItemSpec {
        id: 1,
        item_type: *b"grid",
        hidden: false,
        data: descriptor,
        in_idat: true,
        properties: vec![1],
    });
    let tiles_coded_size = tiles[0].size();
    for (n, tile) in tiles.into_iter().enumerate() {
        assert_eq!(tile.size(), tiles_coded_size, "tiles of one size");
        properties.push(bx(b"hvcC", &tile.hvcc));
        let hvcc_index = properties.len() as u8;
        items.push(ItemSpec {
            id: 2 + n as u16,
            item_type: *b"hvc1",
            hidden: true,
            data: tile.data,
            in_idat: false,
            properties: vec![hvcc_index, 2],
        });
    }
    let tile_ids = (2..2 + u16::from(columns) * u16::from(rows)).collect();
    write_heic(1, &items, &properties, &[(*b"dimg", 1, tile_ids)])
}
