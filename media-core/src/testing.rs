//! Hand-made inputs for tests in every crate: the exact bytes a hostile or unusual upload
//! carries, which no encoder produces on purpose.

/// An S3 event notification body for one record, as S3 sends it: `key` (decoded) is
/// form-URL-encoded into the record.
pub fn s3_event_body(event_name: &str, key: &str, sequencer: &str) -> String {
    serde_json::json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-23T14:05:09.123Z", "eventName": event_name,
        "userIdentity": {"principalId": "AWS:X"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "R"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
               "bucket": {"name": "media", "ownerIdentity": {"principalId": "X"}, "arn": "arn:aws:s3:::media"},
               "object": {"key": crate::keys::encode_event_key(key), "size": 1, "eTag": "e", "sequencer": sequencer}}}]})
    .to_string()
}

/// The change a one-record S3 event body describes.
pub fn s3_change(event_name: &str, key: &str, sequencer: &str) -> crate::events::ContentChange {
    let record = crate::events::s3_records_from_body(&s3_event_body(event_name, key, sequencer))
        .expect("an S3 event")
        .remove(0);
    crate::events::content_change(0, record).expect("a content change")
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

/// In-memory stores with the same conditional semantics as the AWS adapters, for unit tests
/// of the handlers.
pub mod memory {
    use std::collections::{BTreeMap, HashMap};
    use std::sync::Mutex;

    use async_trait::async_trait;
    use chrono::Utc;

    use crate::aws::PUBLIC_DAYS_PARTITION;
    use crate::item::{ContentAttributes, FaceAttributes, ItemKey, MediaItem, Sequencer};
    use crate::ports::*;

    #[derive(Clone, Debug)]
    pub struct MemoryObject {
        pub body: Vec<u8>,
        pub content_type: String,
        pub metadata: HashMap<String, String>,
        pub cache_control: Option<String>,
        pub etag: String,
        pub last_modified: chrono::DateTime<Utc>,
    }

    /// A bucket in memory. Counts requests so tests can check batching.
    #[derive(Default)]
    pub struct MemoryObjectStore {
        pub objects: Mutex<BTreeMap<String, MemoryObject>>,
        pub requests: Mutex<HashMap<&'static str, usize>>,
        next_etag: Mutex<u64>,
        /// Keys whose next deletion through `delete_many` fails once.
        pub fail_delete_once: Mutex<Vec<String>>,
    }

    impl MemoryObjectStore {
        pub fn insert(&self, key: &str, body: Vec<u8>, metadata: &[(&str, &str)]) {
            self.insert_at(key, body, metadata, Utc::now());
        }

        pub fn insert_at(&self, key: &str, body: Vec<u8>, metadata: &[(&str, &str)], at: chrono::DateTime<Utc>) {
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
        async fn get(&self, key: &str, max_bytes: u64) -> Result<Option<FetchedObject>, StoreError> {
            self.count("GetObject");
            Ok(self.object(key).map(|o| FetchedObject {
                head: ObjectHead {
                    content_type: Some(o.content_type.clone()),
                    size: o.body.len() as u64,
                    metadata: o.metadata.clone(),
                    etag: Some(o.etag.clone()),
                    last_modified: Some(o.last_modified),
                },
                body: (o.body.len() as u64 <= max_bytes).then_some(o.body),
            }))
        }

        async fn exists(&self, key: &str) -> Result<bool, StoreError> {
            self.count("HeadObject");
            Ok(self.objects.lock().unwrap().contains_key(key))
        }

        async fn put(&self, object: PutObject) -> Result<WriteOutcome, StoreError> {
            self.count("PutObject");
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
            objects.insert(
                object.key,
                MemoryObject {
                    body: object.body,
                    content_type: object.content_type,
                    metadata: HashMap::new(),
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

    /// A table in memory.
    #[derive(Default)]
    pub struct MemoryItemStore {
        pub items: Mutex<BTreeMap<ItemKey, MediaItem>>,
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
    }

    #[async_trait]
    impl ItemStore for MemoryItemStore {
        async fn sequencer(&self, key: &ItemKey) -> Result<Option<Sequencer>, StoreError> {
            Ok(self.item(key).and_then(|i| i.sequencer).map(|s| Sequencer::new(&s)))
        }

        async fn write_content(&self, key: &ItemKey, a: &ContentAttributes) -> Result<WriteOutcome, StoreError> {
            let mut items = self.items.lock().unwrap();
            let item = items.entry(key.clone()).or_insert_with(|| MediaItem {
                identity_id: key.identity_id.clone(),
                object_key: key.object_key.clone(),
                ..Default::default()
            });
            if item.sequencer.as_ref().is_some_and(|s| *s >= a.sequencer) {
                return Ok(WriteOutcome::Superseded);
            }
            item.thumbnail_key = a.thumbnail_key.clone();
            item.is_public = a.is_public;
            item.title = a.title.clone();
            item.description = a.description.clone();
            item.upload_date = Some(a.upload_date.clone());
            item.upload_day = a.upload_day.clone();
            item.content_type = Some(a.content_type.clone());
            item.size = Some(a.size);
            item.width = a.width;
            item.height = a.height;
            item.sequencer = Some(a.sequencer.clone());
            Ok(WriteOutcome::Applied)
        }

        async fn delete_item(&self, key: &ItemKey, sequencer: &Sequencer) -> Result<WriteOutcome, StoreError> {
            let mut items = self.items.lock().unwrap();
            if items.get(key).and_then(|i| i.sequencer.as_deref()).is_some_and(|s| s > sequencer.as_str()) {
                return Ok(WriteOutcome::Superseded);
            }
            items.remove(key);
            Ok(WriteOutcome::Applied)
        }

        async fn write_faces(&self, key: &ItemKey, a: &FaceAttributes) -> Result<(), StoreError> {
            let mut items = self.items.lock().unwrap();
            let item = items.entry(key.clone()).or_insert_with(|| MediaItem {
                identity_id: key.identity_id.clone(),
                object_key: key.object_key.clone(),
                ..Default::default()
            });
            item.faces_key = Some(a.faces_key.clone());
            item.face_count = Some(a.face_count);
            item.faces = Some(a.faces.clone());
            Ok(())
        }

        async fn items_of(&self, identity_id: &str) -> Result<Vec<MediaItem>, StoreError> {
            Ok(self.items.lock().unwrap().values().filter(|i| i.identity_id == identity_id).cloned().collect())
        }

        async fn public_items_of_day(&self, day: &str, limit: usize) -> Result<Vec<MediaItem>, StoreError> {
            let mut items: Vec<MediaItem> = self
                .items
                .lock()
                .unwrap()
                .values()
                .filter(|i| i.upload_day.as_deref() == Some(day))
                .cloned()
                .collect();
            items.sort_by(|a, b| b.upload_date.cmp(&a.upload_date));
            items.truncate(limit);
            Ok(items)
        }

        async fn public_day_before(&self, day: &str) -> Result<Option<String>, StoreError> {
            Ok(self
                .items
                .lock()
                .unwrap()
                .keys()
                .filter(|k| k.identity_id == PUBLIC_DAYS_PARTITION && k.object_key.as_str() < day)
                .map(|k| k.object_key.clone())
                .max())
        }

        async fn mark_public_day(&self, day: &str) -> Result<(), StoreError> {
            let key = ItemKey { identity_id: PUBLIC_DAYS_PARTITION.to_owned(), object_key: day.to_owned() };
            self.items.lock().unwrap().insert(
                key.clone(),
                MediaItem { identity_id: key.identity_id, object_key: key.object_key, ..Default::default() },
            );
            Ok(())
        }

        async fn all_items(&self) -> Result<Vec<MediaItem>, StoreError> {
            Ok(self.items.lock().unwrap().values().cloned().collect())
        }

        async fn items_now(&self, keys: &[ItemKey]) -> Result<Vec<MediaItem>, StoreError> {
            let items = self.items.lock().unwrap();
            Ok(keys.iter().filter_map(|k| items.get(k).cloned()).collect())
        }
    }
}
