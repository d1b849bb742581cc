//! Pictures that carry a location, in each way an accepted format can carry one, and a check
//! that a rendition carries none.
//!
//! Every fixture is the same 480x320 picture with one fixed, recognisable position,
//! 48°51'29.6"N 2°17'40.2"E ([`LATITUDE`], [`LONGITUDE`]), written where that format keeps it:
//! an EXIF GPS IFD (JPEG APP1, PNG `eXIf`, WebP `EXIF`, the HEIF `Exif` item libheif writes,
//! TIFF's own IFD), XMP `exif:GPSLatitude`/`exif:GPSLongitude` (JPEG APP1) and IPTC IIM
//! location datasets (JPEG APP13). [`location_traces`] parses a rendition and lists whatever
//! of that, or of any metadata block, it still carries.

use std::io::Cursor;

use image::{ImageDecoder, ImageFormat};
use libheif_rs::{
    ColorSpace, CompressionFormat, EncoderParameterValue, EncoderQuality, HeifContext, LibHeif,
    RgbChroma,
};

/// A position in degrees, minutes and tenths of a second, as EXIF writes it (three
/// RATIONALs: `d/1`, `m/1`, `s/10`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dms {
    pub degrees: u32,
    pub minutes: u32,
    pub tenths_of_seconds: u32,
    /// `N`, `S`, `E` or `W`.
    pub reference: u8,
}

impl Dms {
    /// The three RATIONALs (numerator, denominator).
    pub fn rationals(self) -> [(u32, u32); 3] {
        [
            (self.degrees, 1),
            (self.minutes, 1),
            (self.tenths_of_seconds, 10),
        ]
    }

    /// The 24 bytes of the three RATIONALs, big-endian (`MM`) or little-endian (`II`).
    pub fn rational_bytes(self, big_endian: bool) -> Vec<u8> {
        let word = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        self.rationals()
            .iter()
            .flat_map(|&(n, d)| [word(n), word(d)].concat())
            .collect()
    }

    fn minutes_decimal(self) -> f64 {
        f64::from(self.minutes) + f64::from(self.tenths_of_seconds) / 600.0
    }

    /// XMP's GPSCoordinate form (XMP Specification Part 2, EXIF schema): `DDD,MM.mmmmk`.
    pub fn xmp(self) -> String {
        format!(
            "{},{:.4}{}",
            self.degrees,
            self.minutes_decimal(),
            char::from(self.reference)
        )
    }

    /// Decimal degrees to six places, as maps and most APIs write a position.
    pub fn decimal(self) -> String {
        format!(
            "{:.6}",
            f64::from(self.degrees) + self.minutes_decimal() / 60.0
        )
    }

    /// `48°51'29.6"N`, as people write it (and as the IPTC fixture's sub-location says).
    pub fn text(self) -> String {
        let (seconds, tenths) = (self.tenths_of_seconds / 10, self.tenths_of_seconds % 10);
        format!(
            "{}°{}'{seconds}.{tenths}\"{}",
            self.degrees,
            self.minutes,
            char::from(self.reference)
        )
    }
}

/// 48°51'29.6"N.
pub const LATITUDE: Dms = Dms {
    degrees: 48,
    minutes: 51,
    tenths_of_seconds: 296,
    reference: b'N',
};
/// 2°17'40.2"E.
pub const LONGITUDE: Dms = Dms {
    degrees: 2,
    minutes: 17,
    tenths_of_seconds: 402,
    reference: b'E',
};

/// The fixtures' position, in every form a fixture writes it or a rendition could: what
/// [`location_traces`] searches a whole file for. Each is at least 8 bytes, so it does not turn
/// up by chance in compressed pixel data.
pub fn coordinate_forms() -> Vec<(CoordinateForm, Vec<u8>)> {
    let mut forms = Vec::new();
    for (latitude, dms) in [(true, LATITUDE), (false, LONGITUDE)] {
        forms.push((
            CoordinateForm::Rationals {
                latitude,
                big_endian: true,
            },
            dms.rational_bytes(true),
        ));
        forms.push((
            CoordinateForm::Rationals {
                latitude,
                big_endian: false,
            },
            dms.rational_bytes(false),
        ));
        forms.push((CoordinateForm::Xmp { latitude }, dms.xmp().into_bytes()));
        forms.push((
            CoordinateForm::Decimal { latitude },
            dms.decimal().into_bytes(),
        ));
        forms.push((CoordinateForm::Text { latitude }, dms.text().into_bytes()));
    }
    forms
}

/// One written form of the fixtures' position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoordinateForm {
    /// EXIF's three RATIONALs.
    Rationals { latitude: bool, big_endian: bool },
    /// XMP's `DDD,MM.mmmmk`.
    Xmp { latitude: bool },
    /// Decimal degrees (`48.858222`).
    Decimal { latitude: bool },
    /// Degrees, minutes and seconds as text (`48°51'29.6"N`).
    Text { latitude: bool },
}

/// A picture that carries the position, one per way of carrying it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Located {
    /// EXIF GPS IFD in an APP1 segment.
    JpegExif,
    /// An XMP packet with `exif:GPSLatitude`/`exif:GPSLongitude` in an APP1 segment.
    JpegXmp,
    /// IPTC IIM City, Sub-location and Country in a Photoshop APP13 segment.
    JpegIptc,
    /// EXIF GPS IFD in an `eXIf` chunk.
    PngExif,
    /// EXIF GPS IFD in an `EXIF` chunk of an extended (VP8X) WebP.
    WebpExif,
    /// HEVC, with the EXIF added through libheif's `heif_context_add_exif_metadata`.
    HeicExif,
    /// AV1 (libheif's aom encoder), the EXIF added the same way.
    AvifExif,
    /// An uncompressed RGB TIFF whose IFD0 points to a GPS IFD.
    TiffGps,
}

/// Width and height of every fixture: larger than the thumbnail, so it is resized.
pub const FIXTURE_SIZE: (u32, u32) = (480, 320);

impl Located {
    pub const ALL: [Located; 8] = [
        Located::JpegExif,
        Located::JpegXmp,
        Located::JpegIptc,
        Located::PngExif,
        Located::WebpExif,
        Located::HeicExif,
        Located::AvifExif,
        Located::TiffGps,
    ];

    /// A file name for an upload of it.
    pub fn file_name(self) -> &'static str {
        match self {
            Located::JpegExif => "gps-exif.jpg",
            Located::JpegXmp => "gps-xmp.jpg",
            Located::JpegIptc => "gps-iptc.jpg",
            Located::PngExif => "gps-exif.png",
            Located::WebpExif => "gps-exif.webp",
            Located::HeicExif => "gps-exif.heic",
            Located::AvifExif => "gps-exif.avif",
            Located::TiffGps => "gps.tif",
        }
    }

    /// The media type content-updated records for it (sniffed from its bytes).
    pub fn content_type(self) -> &'static str {
        match self {
            Located::JpegExif | Located::JpegXmp | Located::JpegIptc => "image/jpeg",
            Located::PngExif => "image/png",
            Located::WebpExif => "image/webp",
            Located::HeicExif => "image/heic",
            Located::AvifExif => "image/avif",
            Located::TiffGps => "image/tiff",
        }
    }

    pub fn bytes(self) -> Vec<u8> {
        let (width, height) = FIXTURE_SIZE;
        let pixels = picture(width, height);
        let exif = exif_tiff();
        match self {
            Located::JpegExif => ExifCarrier::Jpeg.picture_carrying(&exif),
            Located::JpegXmp => insert_jpeg_segment(
                &jpeg_of(&pixels),
                0xE1,
                &[XMP_SIGNATURE, xmp_packet().as_bytes()].concat(),
            ),
            Located::JpegIptc => insert_jpeg_segment(&jpeg_of(&pixels), 0xED, &photoshop_iptc()),
            Located::PngExif => ExifCarrier::Png.picture_carrying(&exif),
            Located::WebpExif => ExifCarrier::WebP.picture_carrying(&exif),
            Located::HeicExif => ExifCarrier::Heic.picture_carrying(&exif),
            Located::AvifExif => ExifCarrier::Avif.picture_carrying(&exif),
            Located::TiffGps => tiff_with_gps(&pixels),
        }
    }
}

/// The formats whose files keep an Exif block, each where its specification puts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExifCarrier {
    /// An APP1 segment after `Exif\0\0`.
    Jpeg,
    /// An `eXIf` chunk.
    Png,
    /// An `EXIF` chunk of an extended (VP8X) WebP.
    WebP,
    /// The Exif item libheif writes (`heif_context_add_exif_metadata`), HEVC-coded.
    Heic,
    /// The same, AV1-coded.
    Avif,
}

impl ExifCarrier {
    pub const ALL: [ExifCarrier; 5] = [
        ExifCarrier::Jpeg,
        ExifCarrier::Png,
        ExifCarrier::WebP,
        ExifCarrier::Heic,
        ExifCarrier::Avif,
    ];

    /// The fixture picture ([`FIXTURE_SIZE`]) in this format, carrying `exif` (a TIFF
    /// structure such as [`exif_tiff`] or [`exif_block`] makes).
    pub fn picture_carrying(self, exif: &[u8]) -> Vec<u8> {
        let (width, height) = FIXTURE_SIZE;
        let pixels = picture(width, height);
        match self {
            ExifCarrier::Jpeg => insert_jpeg_segment(
                &jpeg_of(&pixels),
                0xE1,
                &[b"Exif\0\0".as_slice(), exif].concat(),
            ),
            ExifCarrier::Png => png_with_exif(&pixels, exif),
            ExifCarrier::WebP => webp_with_exif(&pixels, exif),
            ExifCarrier::Heic => heif_with_exif(&pixels, CompressionFormat::Hevc, exif),
            ExifCarrier::Avif => heif_with_exif(&pixels, CompressionFormat::Av1, exif),
        }
    }
}

/// A smooth picture with some detail: colour gradients and a diagonal pattern.
fn picture(width: u32, height: u32) -> image::RgbImage {
    image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x * 255 / width) as u8,
            (y * 255 / height) as u8,
            if (x + y) / 16 % 2 == 0 { 60 } else { 190 },
        ])
    })
}

fn jpeg_of(pixels: &image::RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(pixels.clone())
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
        .expect("a JPEG encodes");
    out
}

/// `jpeg` with one `marker` segment holding `payload` right after SOI.
fn insert_jpeg_segment(jpeg: &[u8], marker: u8, payload: &[u8]) -> Vec<u8> {
    assert!(jpeg.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let length = u16::try_from(payload.len() + 2).expect("a segment under 64 KB");
    [
        &[0xFF, 0xD8, 0xFF, marker][..],
        &length.to_be_bytes(),
        payload,
        &jpeg[2..],
    ]
    .concat()
}

// --- TIFF structures (TIFF 6.0; EXIF 2.32 for the GPS IFD) -------------------------------

const BYTE: u16 = 1;
const ASCII: u16 = 2;
const SHORT: u16 = 3;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;
const GPS_INFO_TAG: u16 = 0x8825;
const EXIF_IFD_TAG: u16 = 0x8769;

/// One IFD entry: its value's bytes, big-endian.
struct Field {
    tag: u16,
    kind: u16,
    count: u32,
    value: Vec<u8>,
}

fn short(tag: u16, value: u16) -> Field {
    Field {
        tag,
        kind: SHORT,
        count: 1,
        value: value.to_be_bytes().to_vec(),
    }
}

fn long(tag: u16, value: u32) -> Field {
    Field {
        tag,
        kind: LONG,
        count: 1,
        value: value.to_be_bytes().to_vec(),
    }
}

fn rationals(tag: u16, dms: Dms) -> Field {
    Field {
        tag,
        kind: RATIONAL,
        count: 3,
        value: dms.rational_bytes(true),
    }
}

fn ascii(tag: u16, text: &str) -> Field {
    let value = [text.as_bytes(), b"\0"].concat();
    Field {
        tag,
        kind: ASCII,
        count: value.len() as u32,
        value,
    }
}

/// The GPS IFD's fields: version 2.3, latitude and longitude with their references.
fn gps_fields() -> Vec<Field> {
    vec![
        Field {
            tag: 0x0000,
            kind: BYTE,
            count: 4,
            value: vec![2, 3, 0, 0],
        },
        ascii(0x0001, &char::from(LATITUDE.reference).to_string()),
        rationals(0x0002, LATITUDE),
        ascii(0x0003, &char::from(LONGITUDE.reference).to_string()),
        rationals(0x0004, LONGITUDE),
    ]
}

/// `fields` as an IFD written at offset `at`, its values over 4 bytes right after it.
fn ifd(mut fields: Vec<Field>, at: u32) -> Vec<u8> {
    fields.sort_by_key(|field| field.tag);
    let mut table = (fields.len() as u16).to_be_bytes().to_vec();
    let mut data = Vec::new();
    let data_at = at + 2 + 12 * fields.len() as u32 + 4;
    for field in &fields {
        table.extend_from_slice(&field.tag.to_be_bytes());
        table.extend_from_slice(&field.kind.to_be_bytes());
        table.extend_from_slice(&field.count.to_be_bytes());
        if field.value.len() <= 4 {
            let mut inline = field.value.clone();
            inline.resize(4, 0);
            table.extend_from_slice(&inline);
        } else {
            table.extend_from_slice(&(data_at + data.len() as u32).to_be_bytes());
            data.extend_from_slice(&field.value);
            if data.len() % 2 == 1 {
                data.push(0);
            }
        }
    }
    table.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    [table, data].concat()
}

/// A big-endian TIFF structure: the header, `body` (e.g. pixels) at offset 8, the GPS IFD,
/// then IFD0 with `ifd0` and the GPS pointer. `ifd0` gets the offset `body` starts at.
fn tiff_structure(body: &[u8], ifd0: impl FnOnce(u32) -> Vec<Field>) -> Vec<u8> {
    let body_at = 8u32;
    let gps_at = (body_at + body.len() as u32).next_multiple_of(2);
    let gps = ifd(gps_fields(), gps_at);
    let ifd0_at = (gps_at + gps.len() as u32).next_multiple_of(2);
    let mut fields = ifd0(body_at);
    fields.push(long(GPS_INFO_TAG, gps_at));
    let mut out = b"MM\0*".to_vec();
    out.extend_from_slice(&ifd0_at.to_be_bytes());
    out.extend_from_slice(body);
    out.resize(gps_at as usize, 0);
    out.extend_from_slice(&gps);
    out.resize(ifd0_at as usize, 0);
    out.extend(ifd(fields, ifd0_at));
    out
}

/// An EXIF block (the TIFF structure JPEG's APP1 puts after `Exif\0\0`): IFD0 pointing to
/// the GPS IFD.
pub fn exif_tiff() -> Vec<u8> {
    tiff_structure(&[], |_| Vec::new())
}

/// An Exif block (a big-endian TIFF structure) with the ASCII fields `primary` in IFD0 and
/// `exif` in the Exif IFD IFD0 points to (tag 0x8769), e.g. `(0x9003, "2024:07:14 18:03:22")`
/// for `DateTimeOriginal`.
pub fn exif_block(primary: &[(u16, &str)], exif: &[(u16, &str)]) -> Vec<u8> {
    let to_fields = |fields: &[(u16, &str)]| -> Vec<Field> {
        fields.iter().map(|&(tag, text)| ascii(tag, text)).collect()
    };
    let exif_at = 8u32;
    let exif_ifd = ifd(to_fields(exif), exif_at);
    let ifd0_at = (exif_at + exif_ifd.len() as u32).next_multiple_of(2);
    let mut fields = to_fields(primary);
    fields.push(long(EXIF_IFD_TAG, exif_at));
    let mut out = b"MM\0*".to_vec();
    out.extend_from_slice(&ifd0_at.to_be_bytes());
    out.extend_from_slice(&exif_ifd);
    out.resize(ifd0_at as usize, 0);
    out.extend(ifd(fields, ifd0_at));
    out
}

/// An uncompressed, one-strip RGB TIFF of `pixels` whose IFD0 points to the GPS IFD.
fn tiff_with_gps(pixels: &image::RgbImage) -> Vec<u8> {
    let (width, height) = pixels.dimensions();
    tiff_structure(pixels.as_raw(), |strip_at| {
        vec![
            long(256, width),
            long(257, height),
            Field {
                tag: 258,
                kind: SHORT,
                count: 3,
                value: [8u16, 8, 8].iter().flat_map(|v| v.to_be_bytes()).collect(),
            },
            short(259, 1),
            short(262, 2),
            long(273, strip_at),
            short(277, 3),
            long(278, height),
            long(279, pixels.as_raw().len() as u32),
            short(284, 1),
        ]
    })
}

/// The position in the GPS IFD of a TIFF structure (either byte order), as a reader finds it:
/// IFD0's GPS pointer, then tags 1 to 4. `None` when there is none or it does not parse.
pub fn gps_position(tiff: &[u8]) -> Option<(Dms, Dms)> {
    let big_endian = match tiff.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let bytes: [u8; 2] = tiff.get(at..at + 2)?.try_into().ok()?;
        Some(if big_endian {
            u16::from_be_bytes(bytes)
        } else {
            u16::from_le_bytes(bytes)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let bytes: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        })
    };
    // (tag, type, count, value or offset field's position) of each entry of the IFD at `at`.
    let entries = |at: usize| -> Option<Vec<(u16, u16, u32, usize)>> {
        let count = usize::from(u16_at(at)?);
        (0..count)
            .map(|i| {
                let entry = at + 2 + 12 * i;
                Some((
                    u16_at(entry)?,
                    u16_at(entry + 2)?,
                    u32_at(entry + 4)?,
                    entry + 8,
                ))
            })
            .collect()
    };
    let ifd0 = entries(u32_at(4)? as usize)?;
    let &(_, _, _, pointer) = ifd0
        .iter()
        .find(|(tag, kind, _, _)| *tag == GPS_INFO_TAG && *kind == LONG)?;
    let gps = entries(u32_at(pointer)? as usize)?;
    let reference = |tag: u16| -> Option<u8> {
        let &(_, kind, _, value) = gps.iter().find(|e| e.0 == tag)?;
        (kind == ASCII).then(|| tiff.get(value).copied())?
    };
    let position = |tag: u16, reference: u8| -> Option<Dms> {
        let &(_, kind, count, value) = gps.iter().find(|e| e.0 == tag)?;
        if kind != RATIONAL || count != 3 {
            return None;
        }
        let at = u32_at(value)? as usize;
        let part = |i: usize| -> Option<(u32, u32)> {
            Some((u32_at(at + 8 * i)?, u32_at(at + 8 * i + 4)?))
        };
        let ((degrees, 1), (minutes, 1), (seconds, denominator)) = (part(0)?, part(1)?, part(2)?)
        else {
            return None;
        };
        let tenths_of_seconds =
            u32::try_from(u64::from(seconds) * 10 / u64::from(denominator.max(1))).ok()?;
        Some(Dms {
            degrees,
            minutes,
            tenths_of_seconds,
            reference,
        })
    };
    Some((position(2, reference(1)?)?, position(4, reference(3)?)?))
}

// --- XMP and IPTC ---------------------------------------------------------------------

/// What precedes an XMP packet in a JPEG's APP1 segment (XMP Specification Part 3, 1.1.3).
const XMP_SIGNATURE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// An XMP packet with the position in the EXIF schema's GPS properties.
pub fn xmp_packet() -> String {
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
         <rdf:Description rdf:about=\"\" xmlns:exif=\"http://ns.adobe.com/exif/1.0/\" \
         exif:GPSVersionID=\"2.3.0.0\" exif:GPSLatitude=\"{}\" exif:GPSLongitude=\"{}\"/>\
         </rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>",
        LATITUDE.xmp(),
        LONGITUDE.xmp()
    )
}

/// The IPTC IIM location datasets (IPTC IIM 4.2: 1:90 coded character set UTF-8, 2:90 City,
/// 2:92 Sub-location, 2:101 Country), as the 8BIM resource 0x0404 of an APP13 "Photoshop 3.0"
/// segment carries them.
pub fn iptc_iim() -> Vec<u8> {
    let sub_location = format!("{} {}", LATITUDE.text(), LONGITUDE.text());
    let datasets: [(u8, u8, &[u8]); 4] = [
        (1, 90, b"\x1b%G"),
        (2, 90, b"Paris"),
        (2, 92, sub_location.as_bytes()),
        (2, 101, b"France"),
    ];
    let mut iim = Vec::new();
    for (record, dataset, data) in datasets {
        iim.extend_from_slice(&[0x1C, record, dataset]);
        iim.extend_from_slice(&(data.len() as u16).to_be_bytes());
        iim.extend_from_slice(data);
    }
    iim
}

fn photoshop_iptc() -> Vec<u8> {
    let iim = iptc_iim();
    let mut out = b"Photoshop 3.0\0".to_vec();
    out.extend_from_slice(b"8BIM");
    out.extend_from_slice(&0x0404u16.to_be_bytes());
    out.extend_from_slice(&[0, 0]); // an empty name, padded to an even length
    out.extend_from_slice(&(iim.len() as u32).to_be_bytes());
    out.extend_from_slice(&iim);
    if iim.len() % 2 == 1 {
        out.push(0);
    }
    out
}

// --- PNG, WebP, HEIF ------------------------------------------------------------------

/// `pixels` as a PNG with an `eXIf` chunk (PNG 1.2 extensions, 1.5.0) before the image data.
fn png_with_exif(pixels: &image::RgbImage, exif: &[u8]) -> Vec<u8> {
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(pixels.clone())
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .expect("a PNG encodes");
    super::insert_png_chunk(&png, b"eXIf", exif)
}

/// `pixels` as an extended WebP: VP8X with the EXIF flag, the lossless image, an `EXIF`
/// chunk (WebP container specification, "Extended file format").
fn webp_with_exif(pixels: &image::RgbImage, exif: &[u8]) -> Vec<u8> {
    let mut still = Vec::new();
    image::DynamicImage::ImageRgb8(pixels.clone())
        .write_to(&mut Cursor::new(&mut still), ImageFormat::WebP)
        .expect("a WebP encodes");
    let vp8l_at = still
        .windows(4)
        .position(|w| w == b"VP8L")
        .expect("a VP8L chunk");
    let chunk = super::riff_chunk;
    let u24 = |v: u32| v.to_le_bytes()[..3].to_vec();
    let (width, height) = pixels.dimensions();
    let vp8x = [vec![0x08, 0, 0, 0], u24(width - 1), u24(height - 1)].concat();
    let mut body = b"WEBP".to_vec();
    body.extend(chunk(b"VP8X", &vp8x));
    body.extend_from_slice(&still[vp8l_at..]);
    body.extend(chunk(b"EXIF", exif));
    [
        b"RIFF".to_vec(),
        (body.len() as u32).to_le_bytes().to_vec(),
        body,
    ]
    .concat()
}

/// `pixels` coded by libheif (x265 for HEVC, aom for AV1: Debian 12's libheif1 has both) with
/// `exif` added as the image's Exif item (`heif_context_add_exif_metadata`).
fn heif_with_exif(pixels: &image::RgbImage, format: CompressionFormat, exif: &[u8]) -> Vec<u8> {
    let (width, height) = pixels.dimensions();
    let mut image = libheif_rs::Image::new(width, height, ColorSpace::Rgb(RgbChroma::Rgb))
        .expect("a libheif image");
    image
        .create_plane(libheif_rs::Channel::Interleaved, width, height, 8)
        .expect("an RGB plane");
    let plane = image
        .planes_mut()
        .interleaved
        .expect("the interleaved plane");
    let row = width as usize * 3;
    for (y, source) in pixels.as_raw().chunks_exact(row).enumerate() {
        plane.data[y * plane.stride..y * plane.stride + row].copy_from_slice(source);
    }
    let lib = LibHeif::new();
    let mut encoder = lib.encoder_for_format(format).unwrap_or_else(|e| {
        panic!(
            "libheif has no {format:?} encoder ({e}): install Debian's libheif1 with its plugins"
        )
    });
    encoder
        .set_quality(EncoderQuality::Lossy(70))
        .expect("a quality");
    if format == CompressionFormat::Av1 {
        // aom's default speed takes seconds for this picture; 8 is its fastest for stills here.
        encoder
            .set_parameter_value("speed", EncoderParameterValue::Int(8))
            .expect("aom's speed parameter");
    }
    let mut context = HeifContext::new().expect("a libheif context");
    let handle = context
        .encode_image(&image, &mut encoder, None)
        .expect("libheif encodes");
    context
        .add_exif_metadata(&handle, exif)
        .expect("libheif adds the Exif");
    context.write_to_bytes().expect("libheif writes the file")
}

// --- The check --------------------------------------------------------------------------

/// Something in a file that carries, or could carry, a location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocationTrace {
    /// Neither a JPEG nor a PNG (what renditions are), or one that does not parse.
    NotARendition,
    /// A JPEG segment whose only use is metadata: APP1 (EXIF, XMP) to APP15, APP13 (IPTC)
    /// included; only APP0 (JFIF) is expected.
    JpegMetadataSegment { marker: u8 },
    /// A PNG chunk for metadata: `eXIf`, `tEXt`, `zTXt`, `iTXt`.
    PngMetadataChunk([u8; 4]),
    /// A metadata signature in a header segment or chunk (`Exif`, `GPS`, XMP, Photoshop/IPTC),
    /// or anywhere in the file for the long ones.
    Signature(&'static str),
    /// The fixtures' position, in one of its forms, anywhere in the file.
    Coordinate(CoordinateForm),
    /// The `image` crate's decoder reads a metadata block from the file.
    DecoderReads(MetadataBlock),
}

/// Kinds of metadata block a decoder can hand out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataBlock {
    Exif,
    Xmp,
    Iptc,
}

/// Signatures searched for in headers (APPn and COM segments, chunks other than image data):
/// short, so only where no compressed pixels are.
const HEADER_SIGNATURES: [&str; 7] = [
    "Exif",
    "GPS",
    "http://ns.adobe.com/",
    "xmpmeta",
    "xpacket",
    "Photoshop",
    "8BIM",
];
/// Signatures searched for in the whole file: long enough never to occur by chance.
const FILE_SIGNATURES: [&str; 5] = [
    "Exif\0\0",
    "http://ns.adobe.com/xap/1.0/",
    "<x:xmpmeta",
    "<?xpacket",
    "Photoshop 3.0\0",
];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// Everything in `bytes` (a rendition: a JPEG or a PNG) that carries, or could carry, a
/// location or other metadata of the original; empty for a clean rendition. Parses the file's
/// structure (JPEG marker segments, PNG chunks), searches its headers for metadata
/// signatures and the whole file for the fixtures' position, and asks the `image` crate's
/// decoder for EXIF, XMP and IPTC.
pub fn location_traces(bytes: &[u8]) -> Vec<LocationTrace> {
    let mut traces = Vec::new();
    let headers: Vec<&[u8]> = match crate::sniff_format(bytes) {
        Some(ImageFormat::Jpeg) => jpeg_headers(bytes, &mut traces),
        Some(ImageFormat::Png) => png_headers(bytes, &mut traces),
        _ => {
            traces.push(LocationTrace::NotARendition);
            Vec::new()
        }
    };
    for signature in HEADER_SIGNATURES {
        if headers
            .iter()
            .any(|header| contains(header, signature.as_bytes()))
        {
            traces.push(LocationTrace::Signature(signature));
        }
    }
    for signature in FILE_SIGNATURES {
        if contains(bytes, signature.as_bytes())
            && !traces.contains(&LocationTrace::Signature(signature))
        {
            traces.push(LocationTrace::Signature(signature));
        }
    }
    for (form, pattern) in coordinate_forms() {
        if contains(bytes, &pattern) {
            traces.push(LocationTrace::Coordinate(form));
        }
    }
    traces.extend(
        decoder_metadata(bytes)
            .into_iter()
            .map(LocationTrace::DecoderReads),
    );
    traces
}

/// A JPEG's header segments (everything but entropy-coded data), noting metadata segments.
fn jpeg_headers<'a>(bytes: &'a [u8], traces: &mut Vec<LocationTrace>) -> Vec<&'a [u8]> {
    let mut headers = Vec::new();
    let mut ended = false;
    for (marker, range) in crate::jpeg::segments(bytes) {
        let segment = &bytes[range.clone()];
        match marker {
            0xE1..=0xEF => traces.push(LocationTrace::JpegMetadataSegment { marker }),
            0xD9 => ended = true,
            _ => {}
        }
        // A scan's range runs over its entropy-coded data: only its header is a header.
        let header_length = segment
            .get(2..4)
            .map_or(0, |l| 2 + usize::from(u16::from_be_bytes([l[0], l[1]])));
        headers.push(if marker == 0xDA {
            &segment[..header_length.min(segment.len())]
        } else {
            segment
        });
        // Anything after EOI (some writers append data there) counts as a header.
        if ended {
            headers.push(&bytes[range.end..]);
        }
    }
    if !ended {
        traces.push(LocationTrace::NotARendition);
    }
    headers
}

/// A PNG's chunks other than image data, noting metadata chunks.
fn png_headers<'a>(bytes: &'a [u8], traces: &mut Vec<LocationTrace>) -> Vec<&'a [u8]> {
    let mut headers = Vec::new();
    let mut at = 8;
    while at < bytes.len() {
        let Some(length) = bytes
            .get(at..at + 4)
            .map(|l| u32::from_be_bytes(l.try_into().unwrap()) as usize)
        else {
            break;
        };
        let Some(kind) = bytes
            .get(at + 4..at + 8)
            .map(|k| <[u8; 4]>::try_from(k).unwrap())
        else {
            break;
        };
        let Some(data) = bytes.get(at + 8..at + 8 + length) else {
            break;
        };
        if matches!(&kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt") {
            traces.push(LocationTrace::PngMetadataChunk(kind));
        }
        if &kind != b"IDAT" {
            headers.push(data);
        }
        at += 12 + length;
        if &kind == b"IEND" {
            headers.push(bytes.get(at..).unwrap_or_default());
            return headers;
        }
    }
    traces.push(LocationTrace::NotARendition);
    headers
}

/// The metadata blocks the `image` crate's decoder reads from a JPEG or PNG.
fn decoder_metadata(bytes: &[u8]) -> Vec<MetadataBlock> {
    fn read(mut decoder: impl ImageDecoder) -> Vec<MetadataBlock> {
        let mut found = Vec::new();
        if decoder.exif_metadata().ok().flatten().is_some() {
            found.push(MetadataBlock::Exif);
        }
        if decoder.xmp_metadata().ok().flatten().is_some() {
            found.push(MetadataBlock::Xmp);
        }
        if decoder.iptc_metadata().ok().flatten().is_some() {
            found.push(MetadataBlock::Iptc);
        }
        found
    }
    match crate::sniff_format(bytes) {
        Some(ImageFormat::Jpeg) => image::codecs::jpeg::JpegDecoder::new(Cursor::new(bytes))
            .map(read)
            .unwrap_or_default(),
        Some(ImageFormat::Png) => image::codecs::png::PngDecoder::new(Cursor::new(bytes))
            .map(read)
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// What a reader finds of the position in a fixture: the EXIF (through the `image` crate's
/// decoders, libheif's metadata blocks, or TIFF's own IFDs) read by [`gps_position`], the XMP
/// packet's GPS properties, the IPTC sub-location. Shows a fixture carries what it claims.
pub fn read_position(located: Located, bytes: &[u8]) -> Option<String> {
    let from_exif = |exif: Option<Vec<u8>>| -> Option<String> {
        let exif = exif?;
        // A HEIF Exif item starts with a 4-byte offset to the TIFF header (ISO/IEC 23008-12 A.2.1).
        let tiff_at = memchr::memmem::find(&exif, b"MM\0*")
            .or_else(|| memchr::memmem::find(&exif, b"II*\0"))?;
        let (latitude, longitude) = gps_position(&exif[tiff_at..])?;
        Some(format!("{} {}", latitude.text(), longitude.text()))
    };
    let jpeg = || image::codecs::jpeg::JpegDecoder::new(Cursor::new(bytes)).expect("a JPEG");
    match located {
        Located::JpegExif => from_exif(jpeg().exif_metadata().ok()?),
        Located::PngExif => from_exif(
            image::codecs::png::PngDecoder::new(Cursor::new(bytes))
                .ok()?
                .exif_metadata()
                .ok()?,
        ),
        Located::WebpExif => from_exif(
            image::codecs::webp::WebPDecoder::new(Cursor::new(bytes))
                .ok()?
                .exif_metadata()
                .ok()?,
        ),
        Located::TiffGps => from_exif(Some(bytes.to_vec())),
        Located::HeicExif | Located::AvifExif => {
            let context = HeifContext::read_from_bytes(bytes).ok()?;
            let handle = context.primary_image_handle().ok()?;
            let mut ids = [0; 4];
            let count = handle.metadata_block_ids(&mut ids, b"Exif");
            from_exif(
                ids[..count]
                    .first()
                    .and_then(|&id| handle.metadata(id).ok()),
            )
        }
        Located::JpegXmp => {
            let xmp = String::from_utf8(jpeg().xmp_metadata().ok()??).ok()?;
            let attribute = |name: &str| -> Option<String> {
                let start = xmp.find(&format!("exif:{name}=\""))? + name.len() + 7;
                Some(xmp[start..start + xmp[start..].find('"')?].to_owned())
            };
            Some(format!(
                "{} {}",
                attribute("GPSLatitude")?,
                attribute("GPSLongitude")?
            ))
        }
        Located::JpegIptc => {
            let iim = jpeg().iptc_metadata().ok()??;
            let at = memchr::memmem::find(&iim, &[0x1C, 2, 92])?;
            let length = usize::from(u16::from_be_bytes(
                iim.get(at + 3..at + 5)?.try_into().ok()?,
            ));
            String::from_utf8(iim.get(at + 5..at + 5 + length)?.to_vec()).ok()
        }
    }
}
