//! No rendition carries a location: the thumbnail and the preview ([`super::make_renditions`])
//! and the faces copy's encoder ([`super::encode`], which face-detection's `mark_faces` calls
//! on its outlined copy) of pictures carrying one in every way an accepted format can
//! ([`crate::testing::location`]).

use image::DynamicImage;

use super::*;
use crate::testing::location::{
    coordinate_forms, exif_tiff, iptc_iim, location_traces, read_position, xmp_packet,
    CoordinateForm, Located, LocationTrace, MetadataBlock, FIXTURE_SIZE, LATITUDE, LONGITUDE,
};

fn dms_text() -> String {
    format!("{} {}", LATITUDE.text(), LONGITUDE.text())
}

#[test]
fn the_position_has_its_recognisable_forms() {
    assert_eq!(dms_text(), "48°51'29.6\"N 2°17'40.2\"E");
    assert_eq!(
        (LATITUDE.xmp(), LONGITUDE.xmp()),
        ("48,51.4933N".to_owned(), "2,17.6700E".to_owned())
    );
    assert_eq!(
        (LATITUDE.decimal(), LONGITUDE.decimal()),
        ("48.858222".to_owned(), "2.294500".to_owned())
    );
    // 48/1, 51/1, 296/10 as big-endian RATIONALs.
    assert_eq!(
        LATITUDE.rational_bytes(true),
        [0, 0, 0, 48, 0, 0, 0, 1, 0, 0, 0, 51, 0, 0, 0, 1, 0, 0, 1, 0x28, 0, 0, 0, 10]
    );
    assert!(coordinate_forms()
        .iter()
        .all(|(_, pattern)| pattern.len() >= 8));
}

#[test]
fn every_fixture_carries_the_position_where_its_format_keeps_it() {
    for located in Located::ALL {
        let bytes = located.bytes();
        let want = match located {
            Located::JpegXmp => format!("{} {}", LATITUDE.xmp(), LONGITUDE.xmp()),
            _ => dms_text(),
        };
        assert_eq!(
            read_position(located, &bytes),
            Some(want),
            "{located:?}: a reader finds the position"
        );
        let traces = location_traces(&bytes);
        assert!(
            traces
                .iter()
                .any(|t| matches!(t, LocationTrace::Coordinate(_))),
            "{located:?}: the check sees it: {traces:?}"
        );
        let decoded =
            decode(&bytes, &ImageLimits::default()).unwrap_or_else(|e| panic!("{located:?}: {e}"));
        assert_eq!(
            decoded.info.content_type(),
            located.content_type(),
            "{located:?}"
        );
        assert_eq!(
            (decoded.info.width, decoded.info.height),
            FIXTURE_SIZE,
            "{located:?}"
        );
    }
}

#[test]
fn renditions_of_pictures_with_a_location_carry_none() {
    for located in Located::ALL {
        let renditions = make_renditions(&located.bytes(), &ImageLimits::default())
            .unwrap_or_else(|e| panic!("{located:?}: {e}"));
        assert_eq!(renditions.original.content_type(), located.content_type());
        assert_eq!(
            (renditions.preview.width, renditions.preview.height),
            FIXTURE_SIZE
        );
        assert_eq!(
            (renditions.thumbnail.width, renditions.thumbnail.height),
            (200, 133)
        );
        for (name, rendition) in [
            ("thumbnail", &renditions.thumbnail),
            ("preview", &renditions.preview),
        ] {
            assert_eq!(location_traces(&rendition.bytes), [], "{located:?} {name}");
        }
    }
}

#[test]
fn the_faces_copy_encoder_writes_no_location() {
    // face-detection outlines faces on a decode of the original and encodes it with `encode`:
    // a JPEG, or a PNG when the picture has alpha. Both are checked.
    for located in Located::ALL {
        let decoded = decode(&located.bytes(), &ImageLimits::default()).unwrap();
        let opaque = encode(&decoded.image).unwrap();
        assert_eq!(opaque.content_type, "image/jpeg");
        let with_alpha = encode(&DynamicImage::ImageRgba8(decoded.image.to_rgba8())).unwrap();
        assert_eq!(with_alpha.content_type, "image/png");
        for copy in [&opaque, &with_alpha] {
            assert_eq!(
                location_traces(&copy.bytes),
                [],
                "{located:?} {}",
                copy.content_type
            );
        }
    }
}

/// `jpeg` with a `marker` segment of `payload` after SOI.
fn with_segment(jpeg: &[u8], marker: u8, payload: &[u8]) -> Vec<u8> {
    [
        &[0xFF, 0xD8, 0xFF, marker][..],
        &((payload.len() + 2) as u16).to_be_bytes(),
        payload,
        &jpeg[2..],
    ]
    .concat()
}

#[test]
fn the_check_finds_each_way_a_rendition_could_carry_the_position() {
    let clean = make_renditions(&crate::testing::jpeg(320, 240), &ImageLimits::default()).unwrap();
    assert_eq!(location_traces(&clean.preview.bytes), []);
    assert_eq!(location_traces(&clean.thumbnail.bytes), []);
    let jpeg = &clean.preview.bytes;

    let exif = with_segment(jpeg, 0xE1, &[b"Exif\0\0".as_slice(), &exif_tiff()].concat());
    let traces = location_traces(&exif);
    for trace in [
        LocationTrace::JpegMetadataSegment { marker: 0xE1 },
        LocationTrace::Signature("Exif"),
        LocationTrace::Signature("Exif\0\0"),
        LocationTrace::Coordinate(CoordinateForm::Rationals {
            latitude: true,
            big_endian: true,
        }),
        LocationTrace::DecoderReads(MetadataBlock::Exif),
    ] {
        assert!(traces.contains(&trace), "{trace:?} not in {traces:?}");
    }

    // XMP in a comment: no APPn segment, but the packet and the position are found.
    let traces = location_traces(&with_segment(jpeg, 0xFE, xmp_packet().as_bytes()));
    for trace in [
        LocationTrace::Signature("xmpmeta"),
        LocationTrace::Coordinate(CoordinateForm::Xmp { latitude: false }),
    ] {
        assert!(traces.contains(&trace), "{trace:?} not in {traces:?}");
    }

    let mut photoshop = b"Photoshop 3.0\08BIM\x04\x04\0\0".to_vec();
    photoshop.extend_from_slice(&(iptc_iim().len() as u32).to_be_bytes());
    photoshop.extend(iptc_iim());
    let traces = location_traces(&with_segment(jpeg, 0xED, &photoshop));
    for trace in [
        LocationTrace::JpegMetadataSegment { marker: 0xED },
        LocationTrace::Signature("8BIM"),
        LocationTrace::Coordinate(CoordinateForm::Text { latitude: true }),
    ] {
        assert!(traces.contains(&trace), "{trace:?} not in {traces:?}");
    }

    // A GPS tag name in an APP0 segment, and data appended after the end of the image.
    let traces = location_traces(&with_segment(jpeg, 0xE0, b"GPS"));
    assert_eq!(traces, [LocationTrace::Signature("GPS")]);
    let traces = location_traces(&[jpeg.as_slice(), LATITUDE.decimal().as_bytes()].concat());
    assert_eq!(
        traces,
        [LocationTrace::Coordinate(CoordinateForm::Decimal {
            latitude: true
        })]
    );

    // A PNG with an eXIf chunk, and one with the position in a text chunk.
    let png = Located::PngExif.bytes();
    let traces = location_traces(&png);
    assert!(
        traces.contains(&LocationTrace::PngMetadataChunk(*b"eXIf")),
        "{traces:?}"
    );
    assert!(
        traces.contains(&LocationTrace::DecoderReads(MetadataBlock::Exif)),
        "{traces:?}"
    );
    let clean_png = encode(&DynamicImage::ImageRgba8(image::RgbaImage::new(8, 8)))
        .unwrap()
        .bytes;
    assert_eq!(location_traces(&clean_png), []);
    let mut text = Vec::new();
    crate::testing::push_chunk(
        &mut text,
        b"tEXt",
        format!("Location\0{}", dms_text()).as_bytes(),
    );
    let tagged = [&clean_png[..33], &text, &clean_png[33..]].concat();
    let traces = location_traces(&tagged);
    assert!(
        traces.contains(&LocationTrace::PngMetadataChunk(*b"tEXt")),
        "{traces:?}"
    );
    assert!(
        traces.contains(&LocationTrace::Coordinate(CoordinateForm::Text {
            latitude: false
        })),
        "{traces:?}"
    );

    // Anything else is not a rendition.
    assert!(location_traces(&Located::TiffGps.bytes()).contains(&LocationTrace::NotARendition));
    assert!(location_traces(&jpeg[..jpeg.len() / 2]).contains(&LocationTrace::NotARendition));
}
