//! The uploader's metadata: the `x-amz-meta-data` header, a JSON object
//! `{"isPublic": bool, "title": string, "description": string}`.
//!
//! Missing or broken metadata is never fatal: the title falls back to the file name and the
//! problem is reported to the caller, who logs it.

use serde::Deserialize;

/// Longest title kept, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest description kept, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// Name of the user metadata entry (the header is `x-amz-meta-data`).
pub const METADATA_KEY: &str = "data";

/// Title and description as stored on the item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadMetadata {
    pub title: String,
    pub description: String,
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
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetadata {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
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
    let (title, description) = match raw {
        Some(raw) => (raw.title, raw.description),
        None => (None, None),
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
    let (title, cut) = truncate_chars(title, MAX_TITLE_CHARS);
    if cut {
        problems.push(MetadataProblem::TitleTooLong);
    }
    let (description, cut) = truncate_chars(description.unwrap_or_default(), MAX_DESCRIPTION_CHARS);
    if cut {
        problems.push(MetadataProblem::DescriptionTooLong);
    }
    (UploadMetadata { title, description }, problems)
}

/// Encodes metadata the way the client sends it: JSON with every non-ASCII character as a
/// `\uXXXX` escape (UTF-16 surrogate pairs beyond the BMP), so the header stays ASCII.
pub fn encode_upload_metadata(is_public: bool, title: &str, description: &str) -> String {
    let json = serde_json::json!({"isPublic": is_public, "title": title, "description": description});
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

/// Cuts `text` to at most `max` characters (on a character boundary); says whether it cut.
pub fn truncate_chars(text: String, max: usize) -> (String, bool) {
    match text.char_indices().nth(max) {
        Some((byte_index, _)) => (text[..byte_index].to_owned(), true),
        None => (text, false),
    }
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
        assert_eq!(meta, UploadMetadata { title: "b c.png".into(), description: String::new() });
        assert_eq!(problems, vec![MetadataProblem::Missing]);
    }

    #[test]
    fn invalid_json_falls_back_and_is_reported() {
        for header in ["{not json", "[1,2]", r#"{"title": 5}"#, ""] {
            let (meta, problems) = parse_upload_metadata(Some(header), "f.jpg");
            assert_eq!(meta.title, "f.jpg", "{header}");
            assert!(matches!(problems[..], [MetadataProblem::Invalid(_)]), "{header}: {problems:?}");
        }
    }

    #[test]
    fn empty_title_counts_as_missing() {
        let (meta, problems) = parse_upload_metadata(Some(r#"{"title":"  ","description":"d"}"#), "f.jpg");
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
        assert_eq!(problems, vec![MetadataProblem::TitleTooLong, MetadataProblem::DescriptionTooLong]);
    }
}
