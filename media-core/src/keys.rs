//! The bucket's key namespace: parsing upload keys and deriving every other key from them.
//!
//! Keys arrive in S3 event notifications form-URL-encoded (`+` is a space, `%2B` a plus).
//! [`decode_event_key`] undoes that exactly once; everything else in this crate works on
//! decoded keys.

use std::fmt;

/// Who may read an object: decided by the key's first segment, never by metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Visibility {
    Public,
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }

    pub fn is_public(self) -> bool {
        self == Visibility::Public
    }
}

/// S3's limit on a key's length, in bytes of UTF-8 (S3 user guide, "Naming Amazon S3
/// objects"): a longer key is refused with `KeyTooLongError`.
pub const MAX_KEY_BYTES: usize = 1024;

/// Key of the public index, read by everyone.
pub const PUBLIC_INDEX_KEY: &str = "public/index/content.json";

/// Key of an identity's private index, read by its owner.
pub fn private_index_key(identity_id: &str) -> String {
    format!("private/index/{identity_id}/content.json")
}

/// Key of a page of the index whose head is at `head_key`: beside the head, named after the
/// exclusive lower bound of the page's `uploadDate` range (its digits and letters only), the
/// oldest page (no lower bound) `content-0.json` (docs/indexes.md).
/// At most 46 bytes longer than the index's folder, whatever the date says.
pub fn index_page_key(head_key: &str, after: Option<&str>) -> String {
    index_object_key(head_key, "content", after)
}

/// Key of a volume of level `level` (a list of pages or of lower volumes) of the index whose
/// head is at `head_key`: as a page's, named `volume{level}-` after the lower bound of its
/// range, so a volume and the oldest page (or volume) it lists never share a key.
pub fn index_volume_key(head_key: &str, level: u32, after: Option<&str>) -> String {
    index_object_key(head_key, &format!("volume{level}"), after)
}

fn index_object_key(head_key: &str, kind: &str, after: Option<&str>) -> String {
    let folder = head_key.strip_suffix("content.json").unwrap_or(head_key);
    let suffix: String = match after {
        Some(after) => after
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(32)
            .collect(),
        None => "0".to_owned(),
    };
    format!("{folder}{kind}-{suffix}.json")
}

/// Why a decoded key is not an upload key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key is not form-URL-encoded UTF-8: {0:?}")]
    NotUtf8(String),
    #[error("key {0:?} is not under public/content/ or private/content/")]
    NotContent(String),
    #[error("key {0:?} has no identity segment")]
    MissingIdentity(String),
    #[error("key {0:?} has no file name after the identity")]
    MissingFile(String),
}

/// Decodes a key as S3 event notifications carry it (form-URL-encoding: `+` is a space).
///
/// Call once per key: decoding twice would turn a literal `%2B` in a name into `+` and then
/// into a space.
pub fn decode_event_key(raw: &str) -> Result<String, KeyError> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| KeyError::NotUtf8(raw.to_owned()))
}

/// Encodes a key the way S3 puts it into event notifications; the inverse of
/// [`decode_event_key`]. Used by tests and the local event tooling.
pub fn encode_event_key(key: &str) -> String {
    // S3 leaves `/` readable in event keys; every other reserved byte is escaped.
    key.split('/')
        .map(|segment| form_urlencoded::byte_serialize(segment.as_bytes()).collect::<String>())
        .collect::<Vec<_>>()
        .join("/")
}

/// A user's upload: `{public,private}/content/{identityId}/{file}`.
///
/// `file` is everything after the identity segment and may itself contain `/`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ContentKey {
    visibility: Visibility,
    identity_id: String,
    file: String,
}

impl ContentKey {
    /// Parses a decoded key.
    pub fn parse(key: &str) -> Result<Self, KeyError> {
        let (visibility, rest) = if let Some(rest) = key.strip_prefix("public/content/") {
            (Visibility::Public, rest)
        } else if let Some(rest) = key.strip_prefix("private/content/") {
            (Visibility::Private, rest)
        } else {
            return Err(KeyError::NotContent(key.to_owned()));
        };
        let (identity_id, file) = match rest.split_once('/') {
            Some((identity, file)) => (identity, file),
            None if rest.is_empty() => return Err(KeyError::MissingIdentity(key.to_owned())),
            None => return Err(KeyError::MissingFile(key.to_owned())),
        };
        if identity_id.is_empty() {
            return Err(KeyError::MissingIdentity(key.to_owned()));
        }
        if file.is_empty() {
            return Err(KeyError::MissingFile(key.to_owned()));
        }
        Ok(ContentKey {
            visibility,
            identity_id: identity_id.to_owned(),
            file: file.to_owned(),
        })
    }

    pub fn new(visibility: Visibility, identity_id: &str, file: &str) -> Result<Self, KeyError> {
        Self::parse(&format!(
            "{}/content/{identity_id}/{file}",
            visibility.as_str()
        ))
    }

    pub fn visibility(&self) -> Visibility {
        self.visibility
    }

    pub fn identity_id(&self) -> &str {
        &self.identity_id
    }

    /// The part after the identity, as uploaded.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The last segment of the key: the name a title falls back to.
    pub fn file_name(&self) -> &str {
        self.file.rsplit('/').next().unwrap_or(&self.file)
    }

    fn derived(&self, area: &str) -> String {
        format!(
            "{}/{area}/{}/{}",
            self.visibility.as_str(),
            self.identity_id,
            self.file
        )
    }

    /// The key of the upload itself.
    pub fn object_key(&self) -> String {
        self.derived("content")
    }

    pub fn thumbnail_key(&self) -> String {
        self.derived("thumbnails")
    }

    pub fn faces_key(&self) -> String {
        self.derived("faces")
    }

    /// The preview rendition: fits 1600x1600, shown by the detail view.
    pub fn preview_key(&self) -> String {
        self.derived("previews")
    }

    /// Whether every key derived from this one stays within S3's key limit: `thumbnails` and
    /// `previews` are longer than `content`, so an upload key near the limit has no room for
    /// them.
    pub fn derived_keys_fit(&self) -> bool {
        [self.thumbnail_key(), self.preview_key(), self.faces_key()]
            .iter()
            .all(|k| k.len() <= MAX_KEY_BYTES)
    }
}

impl fmt::Display for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.object_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_plus_as_space_and_percent_escapes_once() {
        assert_eq!(
            decode_event_key("public/content/eu-west-1%3Aabc/my+photo%2B1+%C3%A9.jpg").unwrap(),
            "public/content/eu-west-1:abc/my photo+1 é.jpg"
        );
        // A literal "%2B" in a file name arrives as "%252B" and must stay "%2B".
        assert_eq!(decode_event_key("a%252Bb").unwrap(), "a%2Bb");
    }

    #[test]
    fn rejects_invalid_utf8() {
        assert!(matches!(
            decode_event_key("a%FFb"),
            Err(KeyError::NotUtf8(_))
        ));
    }

    #[test]
    fn parses_and_derives_keys() {
        let key = ContentKey::parse("public/content/us-east-1:u1/b c.png").unwrap();
        assert_eq!(key.visibility(), Visibility::Public);
        assert_eq!(key.identity_id(), "us-east-1:u1");
        assert_eq!(key.file_name(), "b c.png");
        assert_eq!(key.object_key(), "public/content/us-east-1:u1/b c.png");
        assert_eq!(
            key.thumbnail_key(),
            "public/thumbnails/us-east-1:u1/b c.png"
        );
        assert_eq!(key.faces_key(), "public/faces/us-east-1:u1/b c.png");
        assert_eq!(key.preview_key(), "public/previews/us-east-1:u1/b c.png");
        let nested = ContentKey::parse("private/content/id/album/x.jpg").unwrap();
        assert_eq!(nested.visibility(), Visibility::Private);
        assert_eq!(nested.file(), "album/x.jpg");
        assert_eq!(nested.file_name(), "x.jpg");
        assert_eq!(nested.thumbnail_key(), "private/thumbnails/id/album/x.jpg");
        assert_eq!(nested.preview_key(), "private/previews/id/album/x.jpg");
        assert_eq!(private_index_key("id"), "private/index/id/content.json");
        assert_eq!(
            index_page_key(&private_index_key("id"), Some("2026-11-23T14:05:09.123Z")),
            "private/index/id/content-20261123T140509123Z.json"
        );
        assert_eq!(
            index_page_key(PUBLIC_INDEX_KEY, None),
            "public/index/content-0.json"
        );
        assert_eq!(
            index_page_key(PUBLIC_INDEX_KEY, Some(&"9/".repeat(2000))).len(),
            "public/index/content-.json".len() + 32
        );
        assert_eq!(
            index_volume_key(PUBLIC_INDEX_KEY, 2, None),
            "public/index/volume2-0.json"
        );
        assert_eq!(
            index_volume_key(
                &private_index_key("id"),
                1,
                Some("2026-11-23T14:05:09.123Z")
            ),
            "private/index/id/volume1-20261123T140509123Z.json"
        );
    }

    #[test]
    fn derived_keys_of_a_key_at_the_limit_do_not_fit() {
        let prefix = "public/content/us-east-1:u1/";
        let fits = ContentKey::parse(&format!(
            "{prefix}{}",
            "a".repeat(MAX_KEY_BYTES - prefix.len() - 3)
        ))
        .unwrap();
        assert!(fits.derived_keys_fit());
        assert_eq!(fits.thumbnail_key().len(), MAX_KEY_BYTES);
        let too_long = ContentKey::parse(&format!(
            "{prefix}{}",
            "a".repeat(MAX_KEY_BYTES - prefix.len() - 2)
        ))
        .unwrap();
        assert!(!too_long.derived_keys_fit());
    }

    #[test]
    fn rejects_keys_outside_content_or_without_identity() {
        for (key, want) in [
            ("public/thumbnails/id/x.jpg", "NotContent"),
            ("tmp/x.jpg", "NotContent"),
            ("public/content/", "MissingIdentity"),
            ("public/content//x.jpg", "MissingIdentity"),
            ("public/content/id", "MissingFile"),
            ("private/content/id/", "MissingFile"),
        ] {
            let err = ContentKey::parse(key).unwrap_err();
            assert!(format!("{err:?}").starts_with(want), "{key}: {err:?}");
        }
    }

    proptest! {
        #[test]
        fn encoding_then_decoding_gives_the_key_back(key in "\\PC{0,80}") {
            prop_assert_eq!(decode_event_key(&encode_event_key(&key)).unwrap(), key);
        }

        #[test]
        fn derived_keys_keep_everything_after_content(
            identity in "[a-z0-9-]{1,12}:[0-9a-f-]{1,36}",
            file in "[^/]\\PC{0,40}",
        ) {
            let key = ContentKey::new(Visibility::Private, &identity, &file).unwrap();
            prop_assert_eq!(key.thumbnail_key(), format!("private/thumbnails/{identity}/{file}"));
            prop_assert_eq!(ContentKey::parse(&key.object_key()).unwrap(), key);
        }
    }
}
