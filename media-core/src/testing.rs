//! Hand-made inputs for tests in every crate: the exact bytes a hostile or unusual upload
//! carries, which no encoder produces on purpose.

/// An S3 event notification body for one record, as S3 sends it: `key` (decoded) is
/// form-URL-encoded into the record. No `eTag`, so handlers read whatever version is there;
/// [`s3_event_body_for_version`] names one.
pub fn s3_event_body(event_name: &str, key: &str, sequencer: &str) -> String {
    s3_event_body_for_version(event_name, key, sequencer, None)
}

/// [`s3_event_body`] about the version of the object with `etag`.
pub fn s3_event_body_for_version(event_name: &str, key: &str, sequencer: &str, etag: Option<&str>) -> String {
    let time = chrono::DateTime::parse_from_rfc3339("2026-11-23T14:05:09.123Z").expect("a date").to_utc();
    crate::events::s3_event_body(event_name, key, &crate::item::Sequencer::new(sequencer), etag, time, "AWS:X")
}

/// The change a one-record S3 event body describes.
pub fn s3_change(event_name: &str, key: &str, sequencer: &str) -> crate::events::ContentChange {
    s3_change_for_version(event_name, key, sequencer, None)
}

/// The change [`s3_event_body_for_version`] describes.
pub fn s3_change_for_version(event_name: &str, key: &str, sequencer: &str, etag: Option<&str>) -> crate::events::ContentChange {
    let record = crate::events::s3_records_from_body(&s3_event_body_for_version(event_name, key, sequencer, etag))
        .expect("an S3 event")
        .remove(0);
    crate::events::content_change(0, record).expect("a content change")
}

/// A JPEG of `width` x `height` with gradients (so thumbnails and decoders have something to
/// chew on), as the handler tests upload it.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Jpeg)
        .expect("a JPEG encodes");
    out
}

/// Returns `jpeg` with an EXIF APP1 segment carrying `orientation` right after SOI.
pub fn insert_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    assert!(jpeg.starts_with(&[0xFF, 0xD8]), "not a JPEG");
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
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// An ICC v2 display profile for RGB with the given primaries and white point (CIE xy) and
/// the sRGB-shaped transfer curve `Y = (aX + b)^g` above `d`, `cX` below (a `para` curve of
/// type 3, params `[g, a, b, c, d]`): what a phone or an editor embeds for Display P3 or
/// Adobe RGB. The colorants are adapted to the D50 connection space with the Bradford
/// transform, as the ICC specification (v4, annex E) has profile makers do.
pub fn icc_rgb_profile(description: &str, primaries: [(f64, f64); 3], white: (f64, f64), curve: [f64; 5]) -> Vec<u8> {
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
    let apply = |m: &M, v: [f64; 3]| -> [f64; 3] { [0, 1, 2].map(|i| (0..3).map(|k| m[i][k] * v[k]).sum()) };
    let inverse = |m: &M| -> M {
        let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
        let mut r = [[0.0; 3]; 3];
        for i in 0..3 {
            for j in 0..3 {
                let (a, b) = ((j + 1) % 3, (j + 2) % 3);
                let (c, d) = ((i + 1) % 3, (i + 2) % 3);
                r[i][j] = (m[a][c] * m[b][d] - m[a][d] * m[b][c]) / det;
            }
        }
        r
    };
    let xyz = |(x, y): (f64, f64)| [x / y, 1.0, (1.0 - x - y) / y];
    // RGB -> XYZ under the profile's white: the primaries scaled so that 1,1,1 is white.
    let p: M = {
        let [r, g, b] = primaries.map(xyz);
        [[r[0], g[0], b[0]], [r[1], g[1], b[1]], [r[2], g[2], b[2]]]
    };
    let scale = apply(&inverse(&p), xyz(white));
    let rgb_to_xyz: M = [0, 1, 2].map(|i| [0, 1, 2].map(|j| p[i][j] * scale[j]));
    const BRADFORD: M = [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]];
    const D50: [f64; 3] = [0.9642, 1.0, 0.8249];
    let (cone_white, cone_d50) = (apply(&BRADFORD, xyz(white)), apply(&BRADFORD, D50));
    let gain: M = [0, 1, 2].map(|i| [0, 1, 2].map(|j| if i == j { cone_d50[i] / cone_white[i] } else { 0.0 }));
    let adapted = mul(&mul(&inverse(&BRADFORD), &mul(&gain, &BRADFORD)), &rgb_to_xyz);

    let fixed = |v: f64| ((v * 65536.0).round() as i32).to_be_bytes();
    let xyz_tag = |v: [f64; 3]| -> Vec<u8> { [b"XYZ \0\0\0\0".to_vec(), v.iter().flat_map(|&c| fixed(c)).collect()].concat() };
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
    icc_rgb_profile("Display P3", [(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)], (0.3127, 0.3290), SRGB_CURVE)
}

/// Returns `jpeg` with `profile` in one `ICC_PROFILE` APP2 segment right after SOI.
pub fn insert_icc_profile(jpeg: &[u8], profile: &[u8]) -> Vec<u8> {
    assert!(jpeg.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let mut payload = b"ICC_PROFILE\0\x01\x01".to_vec();
    payload.extend_from_slice(profile);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE2];
    out.extend_from_slice(&u16::try_from(payload.len() + 2).expect("a profile under 64 KB").to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// An animated GIF of `frames` frames of `side` x `side`: the first red, every other blue.
pub fn animated_gif(side: u32, frames: usize) -> Vec<u8> {
    let frame = |colour: [u8; 4]| image::Frame::new(image::RgbaImage::from_pixel(side, side, image::Rgba(colour)));
    let mut out = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new_with_speed(&mut out, 30);
        encoder.encode_frame(frame([255, 0, 0, 255])).expect("a GIF frame");
        for _ in 1..frames {
            encoder.encode_frame(frame([0, 0, 255, 255])).expect("a GIF frame");
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
            .write_to(&mut std::io::Cursor::new(&mut still), image::ImageFormat::WebP)
            .expect("a WebP encodes");
        let at = still.windows(4).position(|w| w == b"VP8L").expect("a VP8L chunk");
        still[at..].to_vec()
    };
    let u24 = |v: u32| v.to_le_bytes()[..3].to_vec();
    let chunk = |kind: &[u8; 4], data: &[u8]| -> Vec<u8> {
        let mut out = kind.to_vec();
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(0);
        }
        out
    };
    let mut body = b"WEBP".to_vec();
    body.extend(chunk(b"VP8X", &[vec![0x02, 0, 0, 0], u24(side - 1), u24(side - 1)].concat()));
    body.extend(chunk(b"ANIM", &[0, 0, 0, 0, 0, 0]));
    for n in 0..frames {
        let colour = if n == 0 { [255, 0, 0] } else { [0, 0, 255] };
        let frame = [u24(0), u24(0), u24(side - 1), u24(side - 1), u24(100), vec![0], vp8l(colour)].concat();
        body.extend(chunk(b"ANMF", &frame));
    }
    [b"RIFF".to_vec(), (body.len() as u32).to_le_bytes().to_vec(), body].concat()
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
    push_chunk(&mut out, b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    push_chunk(&mut out, b"IEND", &[]);
    out
}

fn push_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
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
pub fn libjpeg_jpeg(color_space: &str, width: usize, height: usize, pixels: &[u8], progressive: bool) -> Vec<u8> {
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
    let mut started = compress.start_compress(Vec::new()).expect("a libjpeg compressor");
    started.write_scanlines(pixels).expect("pixels of the given size");
    started.finish().expect("a JPEG")
}

/// HEIC and AVIF files made by Debian's encoders, and the HEIF layouts they cannot write.
/// A processed upload's item as the index tests need it: `{visibility}/content/{identity}/{file}.jpg`
/// with its thumbnail, titled `picture {file}`, uploaded at `date` (ISO 8601).
pub fn indexed_item(identity: &str, visibility: &str, file: &str, date: &str) -> crate::item::MediaItem {
    crate::item::MediaItem {
        identity_id: identity.into(),
        object_key: format!("{visibility}/content/{identity}/{file}.jpg"),
        thumbnail_key: Some(format!("{visibility}/thumbnails/{identity}/{file}.jpg")),
        is_public: visibility == "public",
        title: format!("picture {file}"),
        upload_date: Some(date.into()),
        upload_day: (visibility == "public").then(|| date[..10].to_owned()),
        content_type: Some("image/jpeg".into()),
        width: Some(4),
        height: Some(3),
        sequencer: Some(crate::item::Sequencer::new("1")),
        ..Default::default()
    }
}

pub mod heif;

/// In-memory stores with AWS's semantics, for unit tests of the handlers: conditional writes
/// and deletes, the 403 S3 gives for a missing key to a caller without `s3:ListBucket`, the
/// 1,024-byte key limit, and a by-day secondary index that can lag behind the table.
pub mod memory {
    use std::collections::{BTreeMap, HashMap};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;
    use chrono::{DateTime, Utc};

    use crate::item::*;
    use crate::ports::*;

    use crate::keys::MAX_KEY_BYTES;

    #[derive(Clone, Debug)]
    pub struct MemoryObject {
        pub body: Vec<u8>,
        pub content_type: String,
        pub metadata: HashMap<String, String>,
        pub cache_control: Option<String>,
        pub etag: String,
        pub last_modified: DateTime<Utc>,
    }

    impl MemoryObject {
        fn head(&self) -> ObjectHead {
            ObjectHead {
                content_type: Some(self.content_type.clone()),
                size: self.body.len() as u64,
                metadata: self.metadata.clone(),
                etag: Some(self.etag.clone()),
                last_modified: Some(self.last_modified),
            }
        }
    }

    /// A bucket in memory. Counts requests so tests can check batching.
    #[derive(Default)]
    pub struct MemoryObjectStore {
        pub objects: Mutex<BTreeMap<String, MemoryObject>>,
        pub requests: Mutex<HashMap<&'static str, usize>>,
        next_etag: Mutex<u64>,
        /// Keys whose next deletion through `delete_many` fails once.
        pub fail_delete_once: Mutex<Vec<String>>,
        /// The caller lacks `s3:ListBucket`: a missing key answers 403, as on AWS.
        pub without_list_bucket: AtomicBool,
        /// Bytes of bodies returned by GETs and sent by PUTs: what a change costs in transfer.
        pub bytes_read: AtomicUsize,
        pub bytes_written: AtomicUsize,
    }

    impl MemoryObjectStore {
        /// A bucket read by a caller without `s3:ListBucket`.
        pub fn without_list_bucket() -> Self {
            let store = Self::default();
            store.without_list_bucket.store(true, Ordering::SeqCst);
            store
        }

        pub fn insert(&self, key: &str, body: Vec<u8>, metadata: &[(&str, &str)]) {
            self.insert_at(key, body, metadata, Utc::now());
        }

        pub fn insert_at(&self, key: &str, body: Vec<u8>, metadata: &[(&str, &str)], at: DateTime<Utc>) {
            let etag = self.new_etag();
            self.objects.lock().unwrap().insert(
                key.to_owned(),
                MemoryObject {
                    body,
                    content_type: "application/octet-stream".into(),
                    metadata: metadata.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
                    cache_control: None,
                    etag,
                    last_modified: at,
                },
            );
        }

        pub fn object(&self, key: &str) -> Option<MemoryObject> {
            self.objects.lock().unwrap().get(key).cloned()
        }

        pub fn keys(&self) -> Vec<String> {
            self.objects.lock().unwrap().keys().cloned().collect()
        }

        pub fn request_count(&self, operation: &'static str) -> usize {
            self.requests.lock().unwrap().get(operation).copied().unwrap_or(0)
        }

        fn count(&self, operation: &'static str) {
            *self.requests.lock().unwrap().entry(operation).or_default() += 1;
        }

        fn new_etag(&self) -> String {
            let mut next = self.next_etag.lock().unwrap();
            *next += 1;
            format!("\"etag-{next}\"")
        }

        fn missing(&self, operation: &'static str, key: &str) -> Result<(), StoreError> {
            if self.without_list_bucket.load(Ordering::SeqCst) {
                return Err(StoreError::new(operation, key, "AccessDenied (403): missing key, caller lacks s3:ListBucket"));
            }
            Ok(())
        }
    }

    /// Links of the form `memory:///{key}?expires={seconds}`: enough for a test to check what
    /// was signed and for how long.
    #[async_trait]
    impl PresignGet for MemoryObjectStore {
        async fn presign_get(&self, key: &str, expires_in: std::time::Duration) -> Result<String, StoreError> {
            self.count("PresignGetObject");
            Ok(format!("memory:///{key}?expires={}", expires_in.as_secs()))
        }
    }

    #[async_trait]
    impl ObjectStore for MemoryObjectStore {
        async fn get_matching(&self, key: &str, if_match: Option<&str>, max_bytes: u64) -> Result<Option<FetchedObject>, StoreError> {
            self.count("GetObject");
            let Some(o) = self.object(key) else {
                self.missing("GetObject", key)?;
                return Ok(None);
            };
            if if_match.is_some_and(|etag| etag.trim_matches('"') != o.etag.trim_matches('"')) {
                return Ok(None);
            }
            if o.body.len() as u64 <= max_bytes {
                self.bytes_read.fetch_add(o.body.len(), Ordering::SeqCst);
            }
            Ok(Some(FetchedObject { head: o.head(), body: (o.body.len() as u64 <= max_bytes).then_some(o.body) }))
        }

        async fn head(&self, key: &str) -> Result<Option<ObjectHead>, StoreError> {
            self.count("HeadObject");
            match self.object(key) {
                Some(o) => Ok(Some(o.head())),
                None => self.missing("HeadObject", key).map(|_| None),
            }
        }

        async fn put(&self, object: PutObject) -> Result<WriteOutcome, StoreError> {
            self.count("PutObject");
            if object.key.len() > MAX_KEY_BYTES {
                return Err(StoreError::new("PutObject", &object.key, "KeyTooLongError: your key is too long"));
            }
            let etag = self.new_etag();
            let mut objects = self.objects.lock().unwrap();
            let current = objects.get(&object.key).map(|o| o.etag.clone());
            let allowed = match (&object.condition, current) {
                (None, _) => true,
                (Some(WriteCondition::Absent), current) => current.is_none(),
                (Some(WriteCondition::Matches(want)), Some(current)) => *want == current,
                (Some(WriteCondition::Matches(_)), None) => false,
            };
            if !allowed {
                return Ok(WriteOutcome::Superseded);
            }
            self.bytes_written.fetch_add(object.body.len(), Ordering::SeqCst);
            objects.insert(
                object.key,
                MemoryObject {
                    body: object.body,
                    content_type: object.content_type,
                    metadata: object.metadata,
                    cache_control: object.cache_control,
                    etag,
                    last_modified: Utc::now(),
                },
            );
            Ok(WriteOutcome::Applied)
        }

        async fn delete(&self, key: &str) -> Result<(), StoreError> {
            self.count("DeleteObject");
            self.objects.lock().unwrap().remove(key);
            Ok(())
        }

        async fn delete_if_match(&self, key: &str, etag: &str) -> Result<WriteOutcome, StoreError> {
            self.count("DeleteObject");
            let mut objects = self.objects.lock().unwrap();
            match objects.get(key) {
                None => Ok(WriteOutcome::Applied),
                Some(o) if o.etag.trim_matches('"') == etag.trim_matches('"') => {
                    objects.remove(key);
                    Ok(WriteOutcome::Applied)
                }
                Some(_) => Ok(WriteOutcome::Superseded),
            }
        }

        async fn list_page(&self, prefix: &str, continuation: Option<String>) -> Result<ObjectPage, StoreError> {
            self.count("ListObjectsV2");
            let objects = self.objects.lock().unwrap();
            let mut listed: Vec<ListedObject> = objects
                .range(continuation.clone().unwrap_or_default()..)
                .filter(|(k, _)| k.starts_with(prefix) && Some(*k) != continuation.as_ref())
                .take(1001)
                .map(|(k, o)| ListedObject { key: k.clone(), last_modified: Some(o.last_modified) })
                .collect();
            let next = (listed.len() > 1000).then(|| {
                listed.truncate(1000);
                listed.last().map(|o| o.key.clone()).unwrap_or_default()
            });
            Ok(ObjectPage { objects: listed, next })
        }

        async fn delete_many(&self, keys: &[String]) -> Result<Vec<(String, String)>, StoreError> {
            self.count("DeleteObjects");
            assert!(keys.len() <= 1000, "DeleteObjects takes at most 1000 keys");
            let mut failing = self.fail_delete_once.lock().unwrap();
            let mut objects = self.objects.lock().unwrap();
            let mut errors = Vec::new();
            for key in keys {
                if let Some(pos) = failing.iter().position(|k| k == key) {
                    failing.remove(pos);
                    errors.push((key.clone(), "InternalError: injected".to_owned()));
                } else {
                    objects.remove(key);
                }
            }
            Ok(errors)
        }
    }

    /// A table in memory, with the same conditions as the DynamoDB adapter.
    #[derive(Default)]
    pub struct MemoryItemStore {
        pub items: Mutex<BTreeMap<ItemKey, MediaItem>>,
        /// Public days and when each was marked.
        pub public_days: Mutex<BTreeMap<String, DateTime<Utc>>>,
        /// While set, the secondary indexes answer from this copy of the table: GSIs that have
        /// not caught up.
        lagging_index: Mutex<Option<BTreeMap<ItemKey, MediaItem>>>,
        /// Items returned by consistent reads (BatchGetItem, Query of the table).
        pub items_read: AtomicUsize,
        /// Keys returned by queries of the secondary indexes.
        pub index_keys_read: AtomicUsize,
    }

    impl MemoryItemStore {
        pub fn item(&self, key: &ItemKey) -> Option<MediaItem> {
            self.items.lock().unwrap().get(key).cloned()
        }

        pub fn put(&self, item: MediaItem) {
            self.items.lock().unwrap().insert(item.key(), item);
        }

        pub fn len(&self) -> usize {
            self.items.lock().unwrap().len()
        }

        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        /// From now on the by-day secondary index shows the table as it is now, until
        /// [`MemoryItemStore::catch_up_secondary_index`].
        pub fn freeze_secondary_index(&self) {
            *self.lagging_index.lock().unwrap() = Some(self.items.lock().unwrap().clone());
        }

        pub fn catch_up_secondary_index(&self) {
            *self.lagging_index.lock().unwrap() = None;
        }

        /// Marks `day` as if it had been marked `age` ago.
        pub fn mark_public_day_at(&self, day: &str, at: DateTime<Utc>) {
            self.public_days.lock().unwrap().insert(day.to_owned(), at);
        }

        /// Runs `query` over the secondary indexes' view of the table (lagging or not) without
        /// copying the table, and counts what it returns.
        fn query_secondary(&self, query: impl FnOnce(&BTreeMap<ItemKey, MediaItem>) -> Vec<MediaItem>) -> Vec<MediaItem> {
            let lagging = self.lagging_index.lock().unwrap();
            let found = match lagging.as_ref() {
                Some(view) => query(view),
                None => query(&self.items.lock().unwrap()),
            };
            self.index_keys_read.fetch_add(found.len(), Ordering::SeqCst);
            found
        }

        fn update(&self, key: &ItemKey, allowed: impl FnOnce(&MediaItem) -> bool, apply: impl FnOnce(&mut MediaItem)) -> WriteOutcome {
            let mut items = self.items.lock().unwrap();
            let item = items.entry(key.clone()).or_insert_with(|| MediaItem {
                identity_id: key.identity_id.clone(),
                object_key: key.object_key.clone(),
                ..Default::default()
            });
            if !allowed(item) {
                return WriteOutcome::Superseded;
            }
            apply(item);
            WriteOutcome::Applied
        }
    }

    fn not_later(stored: &Option<Sequencer>, sequencer: &Sequencer) -> bool {
        stored.as_ref().is_none_or(|s| s <= sequencer)
    }

    #[async_trait]
    impl ContentItems for MemoryItemStore {
        async fn sequencer(&self, key: &ItemKey) -> Result<Option<Sequencer>, StoreError> {
            Ok(self.item(key).and_then(|i| i.sequencer))
        }

        async fn write_content(&self, key: &ItemKey, a: &ContentAttributes) -> Result<WriteOutcome, StoreError> {
            Ok(self.update(key, |item| not_later(&item.sequencer, &a.sequencer), |item| {
                // The attributes as DynamoDB would hold them after the update: content-updated's
                // replaced (absent ones removed, the tombstone's too), face-detection's kept.
                let mut value = serde_json::to_value(a).unwrap();
                value["identityId"] = key.identity_id.clone().into();
                value["objectKey"] = key.object_key.clone().into();
                let faces = (item.faces_key.take(), item.face_count.take(), item.faces.take(), item.faces_sequencer.take());
                *item = serde_json::from_value(value).expect("content attributes are an item");
                (item.faces_key, item.face_count, item.faces, item.faces_sequencer) = faces;
            }))
        }

        async fn write_tombstone(&self, key: &ItemKey, t: &Tombstone) -> Result<WriteOutcome, StoreError> {
            Ok(self.update(key, |item| not_later(&item.sequencer, &t.sequencer), |item| {
                *item = MediaItem {
                    identity_id: key.identity_id.clone(),
                    object_key: key.object_key.clone(),
                    sequencer: Some(t.sequencer.clone()),
                    deleted: Some(true),
                    expires_at: Some(t.expires_at),
                    ..Default::default()
                };
            }))
        }
    }

    #[async_trait]
    impl FaceItems for MemoryItemStore {
        async fn write_faces(&self, key: &ItemKey, a: &FaceAttributes) -> Result<WriteOutcome, StoreError> {
            let seq = &a.faces_sequencer;
            Ok(self.update(
                key,
                |item| not_later(&item.sequencer, seq) && not_later(&item.faces_sequencer, seq),
                |item| {
                    item.faces_key = a.faces_key.clone();
                    item.face_count = a.face_count;
                    item.faces = a.faces.clone();
                    item.faces_sequencer = Some(seq.clone());
                },
            ))
        }
    }

    #[async_trait]
    impl IndexItems for MemoryItemStore {
        async fn items_of(&self, identity_id: &str) -> Result<Vec<MediaItem>, StoreError> {
            let items: Vec<MediaItem> = self.items.lock().unwrap().values().filter(|i| i.identity_id == identity_id).cloned().collect();
            self.items_read.fetch_add(items.len(), Ordering::SeqCst);
            Ok(items)
        }

        async fn owner_items_between(&self, identity_id: &str, range: &DateRange, limit: usize) -> Result<Vec<MediaItem>, StoreError> {
            // The partition is the identity: the table's key order finds it without a scan.
            let start = ItemKey { identity_id: identity_id.to_owned(), object_key: String::new() };
            Ok(self.query_secondary(|table| {
                let mut found: Vec<(&String, &ItemKey)> = table
                    .range(start..)
                    .take_while(|(k, _)| k.identity_id == identity_id)
                    .filter_map(|(k, i)| Some((i.upload_date.as_ref().filter(|d| range.contains(d))?, k)))
                    .collect();
                found.sort_by(|a, b| b.cmp(a));
                found.truncate(limit);
                // KEYS_ONLY: the table's keys and the index's.
                found
                    .into_iter()
                    .map(|(date, key)| MediaItem {
                        identity_id: key.identity_id.clone(),
                        object_key: key.object_key.clone(),
                        upload_date: Some(date.clone()),
                        ..Default::default()
                    })
                    .collect()
            }))
        }

        async fn public_items_of_day(&self, day: &str, range: &DateRange, limit: usize) -> Result<Vec<MediaItem>, StoreError> {
            Ok(self.query_secondary(|table| {
                let mut items: Vec<&MediaItem> = table
                    .values()
                    .filter(|i| i.upload_day.as_deref() == Some(day) && i.upload_date.as_deref().is_some_and(|d| range.contains(d)))
                    .collect();
                items.sort_by(|a, b| b.upload_date.cmp(&a.upload_date));
                items.truncate(limit);
                items.into_iter().cloned().collect()
            }))
        }

        async fn public_day_before(&self, day: &str) -> Result<Option<String>, StoreError> {
            Ok(self.public_days.lock().unwrap().keys().filter(|d| d.as_str() < day).max().cloned())
        }

        async fn mark_public_day(&self, day: &str) -> Result<(), StoreError> {
            self.mark_public_day_at(day, Utc::now());
            Ok(())
        }

        async fn forget_public_day(&self, day: &str) -> Result<bool, StoreError> {
            let mut days = self.public_days.lock().unwrap();
            let grace = chrono::Duration::seconds(PUBLIC_DAY_GRACE_SECONDS);
            match days.get(day) {
                Some(marked) if *marked > Utc::now() - grace => Ok(false),
                _ => Ok(days.remove(day).is_some()),
            }
        }

        async fn all_items(&self) -> Result<Vec<MediaItem>, StoreError> {
            Ok(self.items.lock().unwrap().values().cloned().collect())
        }

        async fn items_now(&self, keys: &[ItemKey]) -> Result<Vec<MediaItem>, StoreError> {
            let items = self.items.lock().unwrap();
            let found: Vec<MediaItem> = keys.iter().filter_map(|k| items.get(k).cloned()).collect();
            self.items_read.fetch_add(found.len(), Ordering::SeqCst);
            Ok(found)
        }
    }

    /// Pages of at most this many items, like DynamoDB's 1 MB pages, small enough for tests
    /// to cross page boundaries.
    pub const SCAN_PAGE_ITEMS: usize = 50;

    #[async_trait]
    impl TableScan for MemoryItemStore {
        async fn scan_page(&self, after: Option<ItemKey>) -> Result<ItemPage, StoreError> {
            let items = self.items.lock().unwrap();
            let mut page: Vec<MediaItem> = match &after {
                Some(after) => items.range(after.clone()..).filter(|(k, _)| *k != after).map(|(_, v)| v.clone()).take(SCAN_PAGE_ITEMS + 1).collect(),
                None => items.values().take(SCAN_PAGE_ITEMS + 1).cloned().collect(),
            };
            let next = (page.len() > SCAN_PAGE_ITEMS).then(|| {
                page.truncate(SCAN_PAGE_ITEMS);
                page.last().map(MediaItem::key).expect("a full page")
            });
            Ok(ItemPage { items: page, next })
        }
    }

    /// Runs one action at the n-th store call of a handler: a deterministic scheduler for
    /// race tests, which can let another handler run to completion between any two of the
    /// first handler's steps.
    #[derive(Default)]
    pub struct StepHook {
        calls: AtomicUsize,
        at: AtomicUsize,
        /// Counts object PUTs only (the writes a publisher makes), not every store call.
        puts_only: bool,
        action: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    }

    impl StepHook {
        /// Runs `action` just before the `step`-th call (counting from 0).
        pub fn before_step(step: usize, action: impl FnOnce() + Send + 'static) -> Arc<Self> {
            let hook = StepHook::default();
            hook.at.store(step, Ordering::SeqCst);
            *hook.action.lock().unwrap() = Some(Box::new(action));
            Arc::new(hook)
        }

        /// Runs `action` just before the `put`-th object PUT (counting from 0), whatever the
        /// other calls in between.
        pub fn before_put(put: usize, action: impl FnOnce() + Send + 'static) -> Arc<Self> {
            let hook = StepHook { puts_only: true, ..StepHook::default() };
            hook.at.store(put, Ordering::SeqCst);
            *hook.action.lock().unwrap() = Some(Box::new(action));
            Arc::new(hook)
        }

        /// Store calls seen so far.
        pub fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }

        /// Whether the action has run.
        pub fn fired(&self) -> bool {
            self.action.lock().unwrap().is_none()
        }

        fn step(&self, is_put: bool) {
            if self.puts_only && !is_put {
                return;
            }
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if n == self.at.load(Ordering::SeqCst) {
                let action = self.action.lock().unwrap().take();
                if let Some(action) = action {
                    action();
                }
            }
        }
    }

    /// A shared store, optionally stepping a [`StepHook`] before each call.
    pub struct Shared<S> {
        pub inner: Arc<S>,
        pub hook: Option<Arc<StepHook>>,
    }

    impl<S> Shared<S> {
        pub fn new(inner: Arc<S>) -> Self {
            Shared { inner, hook: None }
        }

        pub fn hooked(inner: Arc<S>, hook: Arc<StepHook>) -> Self {
            Shared { inner, hook: Some(hook) }
        }

        fn step(&self) {
            if let Some(hook) = &self.hook {
                hook.step(false);
            }
        }

        fn step_put(&self) {
            if let Some(hook) = &self.hook {
                hook.step(true);
            }
        }
    }

    #[async_trait]
    impl<S: ObjectStore> ObjectStore for Shared<S> {
        async fn get_matching(&self, key: &str, if_match: Option<&str>, max: u64) -> Result<Option<FetchedObject>, StoreError> {
            self.step();
            self.inner.get_matching(key, if_match, max).await
        }
        async fn head(&self, key: &str) -> Result<Option<ObjectHead>, StoreError> {
            self.step();
            self.inner.head(key).await
        }
        async fn put(&self, object: PutObject) -> Result<WriteOutcome, StoreError> {
            self.step_put();
            self.inner.put(object).await
        }
        async fn delete(&self, key: &str) -> Result<(), StoreError> {
            self.step();
            self.inner.delete(key).await
        }
        async fn delete_if_match(&self, key: &str, etag: &str) -> Result<WriteOutcome, StoreError> {
            self.step();
            self.inner.delete_if_match(key, etag).await
        }
        async fn list_page(&self, prefix: &str, continuation: Option<String>) -> Result<ObjectPage, StoreError> {
            self.step();
            self.inner.list_page(prefix, continuation).await
        }
        async fn delete_many(&self, keys: &[String]) -> Result<Vec<(String, String)>, StoreError> {
            self.step();
            self.inner.delete_many(keys).await
        }
    }

    #[async_trait]
    impl<S: PresignGet> PresignGet for Shared<S> {
        async fn presign_get(&self, key: &str, expires_in: std::time::Duration) -> Result<String, StoreError> {
            self.inner.presign_get(key, expires_in).await
        }
    }

    #[async_trait]
    impl<S: ContentItems> ContentItems for Shared<S> {
        async fn sequencer(&self, key: &ItemKey) -> Result<Option<Sequencer>, StoreError> {
            self.step();
            self.inner.sequencer(key).await
        }
        async fn write_content(&self, key: &ItemKey, a: &ContentAttributes) -> Result<WriteOutcome, StoreError> {
            self.step();
            self.inner.write_content(key, a).await
        }
        async fn write_tombstone(&self, key: &ItemKey, t: &Tombstone) -> Result<WriteOutcome, StoreError> {
            self.step();
            self.inner.write_tombstone(key, t).await
        }
    }

    #[async_trait]
    impl<S: FaceItems> FaceItems for Shared<S> {
        async fn write_faces(&self, key: &ItemKey, a: &FaceAttributes) -> Result<WriteOutcome, StoreError> {
            self.step();
            self.inner.write_faces(key, a).await
        }
    }

    #[async_trait]
    impl<S: IndexItems> IndexItems for Shared<S> {
        async fn items_of(&self, identity_id: &str) -> Result<Vec<MediaItem>, StoreError> {
            self.inner.items_of(identity_id).await
        }
        async fn owner_items_between(&self, identity_id: &str, range: &DateRange, limit: usize) -> Result<Vec<MediaItem>, StoreError> {
            self.inner.owner_items_between(identity_id, range, limit).await
        }
        async fn public_items_of_day(&self, day: &str, range: &DateRange, limit: usize) -> Result<Vec<MediaItem>, StoreError> {
            self.inner.public_items_of_day(day, range, limit).await
        }
        async fn public_day_before(&self, day: &str) -> Result<Option<String>, StoreError> {
            self.inner.public_day_before(day).await
        }
        async fn mark_public_day(&self, day: &str) -> Result<(), StoreError> {
            self.inner.mark_public_day(day).await
        }
        async fn forget_public_day(&self, day: &str) -> Result<bool, StoreError> {
            self.inner.forget_public_day(day).await
        }
        async fn all_items(&self) -> Result<Vec<MediaItem>, StoreError> {
            self.inner.all_items().await
        }
        async fn items_now(&self, keys: &[ItemKey]) -> Result<Vec<MediaItem>, StoreError> {
            self.inner.items_now(keys).await
        }
    }

    #[async_trait]
    impl<S: TableScan> TableScan for Shared<S> {
        async fn scan_page(&self, after: Option<ItemKey>) -> Result<ItemPage, StoreError> {
            self.inner.scan_page(after).await
        }
    }

    /// Runs a future to completion on a runtime of its own, on another thread: how a
    /// [`StepHook`] action runs a second handler from inside the first one's store call.
    pub fn block_on_elsewhere<F: std::future::Future + Send>(future: F) -> F::Output
    where
        F::Output: Send,
    {
        std::thread::scope(|scope| {
            scope
                .spawn(|| tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future))
                .join()
                .unwrap()
        })
    }
}
