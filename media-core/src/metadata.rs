//! The uploader's metadata: the `x-amz-meta-data` header, a JSON object
//! `{"isPublic": bool, "title": string, "description": string}`.
//!
//! Extension (docs/decisions/visibility-changes.md): an optional `"movedFrom"`, the
//! object key a picture had before its visibility changed. The client sends it with the copy
//! under the other prefix, so the new item can take the date the table already holds for the
//! old one (`content_updated::dating` decides, and checks the key). The metadata never dates a
//! picture: an `"uploadDate"` in it is ignored and reported.
//!
//! Missing or broken metadata is never fatal: the title falls back to the file name and the
//! problem is reported to the caller, who logs it.

use serde::Deserialize;

use crate::text::TextField;

/// Longest title kept, in characters ([`TextField::max_chars`]).
pub const MAX_TITLE_CHARS: usize = TextField::Title.max_chars();
/// Longest description kept, in characters ([`TextField::max_chars`]).
pub const MAX_DESCRIPTION_CHARS: usize = TextField::Description.max_chars();
/// Name of the user metadata entry (the header is `x-amz-meta-data`).
pub const METADATA_KEY: &str = "data";

/// Title and description as stored on the item, and the key the picture says it moved from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadMetadata {
    pub title: String,
    pub description: String,
    /// `movedFrom` when the header carries a string there: a claim, checked before use.
    pub moved_from: Option<String>,
}

/// Something wrong with the metadata that was worked around.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MetadataProblem {
    #[error("no x-amz-meta-data header")]
    Missing,
    #[error("x-amz-meta-data is not a JSON object of strings and booleans: {0}")]
    Invalid(String),
    #[error("empty or missing title, file name used")]
    NoTitle,
    #[error("title longer than {MAX_TITLE_CHARS} characters, cut")]
    TitleTooLong,
    #[error("description longer than {MAX_DESCRIPTION_CHARS} characters, cut")]
    DescriptionTooLong,
    #[error("movedFrom {0} is not a string, ignored")]
    InvalidMovedFrom(String),
    #[error(
        "uploadDate {0} ignored: a picture is dated by its event, or by its old item when it moved"
    )]
    UploadDateIgnored(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetadata {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    // Any JSON value, so that a wrong one is reported on its own and costs no title.
    #[serde(default)]
    moved_from: Option<serde_json::Value>,
    // Read only to report it: the metadata never dates a picture.
    #[serde(default)]
    upload_date: Option<serde_json::Value>,
    // Visibility follows the key's prefix; the flag is accepted and ignored.
    #[serde(default, rename = "isPublic")]
    _is_public: Option<serde_json::Value>,
}

/// Parses the header value; `file_name` is the title's fallback.
pub fn parse_upload_metadata(
    header: Option<&str>,
    file_name: &str,
) -> (UploadMetadata, Vec<MetadataProblem>) {
    let mut problems = Vec::new();
    let raw = match header {
        None => {
            problems.push(MetadataProblem::Missing);
            None
        }
        Some(text) => match serde_json::from_str::<RawMetadata>(text) {
            Ok(raw) => Some(raw),
            Err(err) => {
                problems.push(MetadataProblem::Invalid(err.to_string()));
                None
            }
        },
    };
    let (title, description, moved_from, upload_date) = match raw {
        Some(raw) => (raw.title, raw.description, raw.moved_from, raw.upload_date),
        None => (None, None, None, None),
    };
    let title = match title.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
        Some(title) => title,
        None => {
            if header.is_some() && problems.is_empty() {
                problems.push(MetadataProblem::NoTitle);
            }
            file_name.to_owned()
        }
    };
    let title = TextField::Title.bound(title);
    if title.was_cut() {
        problems.push(MetadataProblem::TitleTooLong);
    }
    let description = TextField::Description.bound(description.unwrap_or_default());
    if description.was_cut() {
        problems.push(MetadataProblem::DescriptionTooLong);
    }
    let (title, description) = (title.into_text(), description.into_text());
    let moved_from = match moved_from {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(key)) => Some(key),
        Some(other) => {
            problems.push(MetadataProblem::InvalidMovedFrom(other.to_string()));
            None
        }
    };
    if let Some(claimed) = upload_date.filter(|v| !v.is_null()) {
        problems.push(MetadataProblem::UploadDateIgnored(claimed.to_string()));
    }
    (
        UploadMetadata {
            title,
            description,
            moved_from,
        },
        problems,
    )
}

/// Encodes metadata the way the client sends it: JSON with every non-ASCII character as a
/// `\uXXXX` escape (UTF-16 surrogate pairs beyond the BMP), so the header stays ASCII.
pub fn encode_upload_metadata(is_public: bool, title: &str, description: &str) -> String {
    let json =
        serde_json::json!({"isPublic": is_public, "title": title, "description": description});
    ascii_json(&json.to_string())
}

fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for ch in json.chars() {
        if ch.is_ascii() {
            out.push(ch);
        } else {
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_title_and_description() {
        let (meta, problems) = parse_upload_metadata(
            Some(r#"{"isPublic":true,"title":"Sunset","description":"At the beach"}"#),
            "x.jpg",
        );
        assert_eq!(meta.title, "Sunset");
        assert_eq!(meta.description, "At the beach");
        assert!(problems.is_empty());
    }

    #[test]
    fn missing_header_falls_back_to_file_name() {
        let (meta, problems) = parse_upload_metadata(None, "b c.png");
        assert_eq!(
            meta,
            UploadMetadata {
                title: "b c.png".into(),
                description: String::new(),
                moved_from: None
            }
        );
        assert_eq!(problems, vec![MetadataProblem::Missing]);
    }

    #[test]
    fn invalid_json_falls_back_and_is_reported() {
        for header in ["{not json", "[1,2]", r#"{"title": 5}"#, ""] {
            let (meta, problems) = parse_upload_metadata(Some(header), "f.jpg");
            assert_eq!(meta.title, "f.jpg", "{header}");
            assert!(
                matches!(problems[..], [MetadataProblem::Invalid(_)]),
                "{header}: {problems:?}"
            );
        }
    }

    #[test]
    fn empty_title_counts_as_missing() {
        let (meta, problems) =
            parse_upload_metadata(Some(r#"{"title":"  ","description":"d"}"#), "f.jpg");
        assert_eq!(meta.title, "f.jpg");
        assert_eq!(meta.description, "d");
        assert_eq!(problems, vec![MetadataProblem::NoTitle]);
    }

    #[test]
    fn non_ascii_escapes_are_decoded() {
        let header = r#"{"title":"Caf\u00e9 \ud83d\udcf7","description":"\u65e5\u672c"}"#;
        let (meta, problems) = parse_upload_metadata(Some(header), "f.jpg");
        assert_eq!(meta.title, "Café 📷");
        assert_eq!(meta.description, "日本");
        assert!(problems.is_empty());
    }

    #[test]
    fn encoding_is_ascii_and_round_trips() {
        let header = encode_upload_metadata(false, "Café 📷 \"q\"", "<b>日本</b>");
        assert!(header.is_ascii(), "{header}");
        let (meta, _) = parse_upload_metadata(Some(&header), "f");
        assert_eq!(meta.title, "Café 📷 \"q\"");
        assert_eq!(meta.description, "<b>日本</b>");
    }

    #[test]
    fn over_long_fields_are_cut_on_character_boundaries() {
        let title = "é".repeat(250);
        let description = "📷".repeat(2_500);
        let header = encode_upload_metadata(true, &title, &description);
        let (meta, problems) = parse_upload_metadata(Some(&header), "f");
        assert_eq!(meta.title.chars().count(), MAX_TITLE_CHARS);
        assert_eq!(meta.description.chars().count(), MAX_DESCRIPTION_CHARS);
        assert_eq!(
            problems,
            vec![
                MetadataProblem::TitleTooLong,
                MetadataProblem::DescriptionTooLong
            ]
        );
    }

    #[test]
    fn moved_from_is_read_as_a_claim_and_a_wrong_one_keeps_the_title() {
        let header = r#"{"isPublic":false,"title":"Moved","movedFrom":"public/content/us-east-1:a/b c.jpg"}"#;
        let (meta, problems) = parse_upload_metadata(Some(header), "f.jpg");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(meta.title, "Moved");
        assert_eq!(
            meta.moved_from.as_deref(),
            Some("public/content/us-east-1:a/b c.jpg")
        );
        for bad in ["1700000000", "true", r#"{"a":1}"#, r#"["k"]"#] {
            let header = format!(r#"{{"title":"Kept","movedFrom":{bad}}}"#);
            let (meta, problems) = parse_upload_metadata(Some(&header), "f.jpg");
            assert_eq!(
                (meta.title.as_str(), meta.moved_from),
                ("Kept", None),
                "{bad}"
            );
            assert!(
                matches!(problems[..], [MetadataProblem::InvalidMovedFrom(_)]),
                "{bad}: {problems:?}"
            );
        }
        let (meta, problems) =
            parse_upload_metadata(Some(r#"{"title":"t","movedFrom":null}"#), "f.jpg");
        assert_eq!((meta.moved_from, problems), (None, vec![]));
    }

    #[test]
    fn an_upload_date_in_the_metadata_is_reported_and_never_read() {
        for claimed in [r#""2001-01-01T00:00:00.000Z""#, r#""not a date""#, "5"] {
            let header = format!(r#"{{"title":"Old","uploadDate":{claimed}}}"#);
            let (meta, problems) = parse_upload_metadata(Some(&header), "f.jpg");
            assert_eq!(
                meta,
                UploadMetadata {
                    title: "Old".into(),
                    description: String::new(),
                    moved_from: None
                }
            );
            assert_eq!(
                problems,
                vec![MetadataProblem::UploadDateIgnored(claimed.to_owned())],
                "{claimed}"
            );
        }
        let (_, problems) =
            parse_upload_metadata(Some(r#"{"title":"t","uploadDate":null}"#), "f.jpg");
        assert!(problems.is_empty(), "{problems:?}");
    }
}
