//! The uploader's metadata: the `x-amz-meta-data` header, a JSON object
//! `{"isPublic": bool, "title": string, "description": string}`.
//!
//! Extension (docs/ARCHITECTURE.md, "Changing visibility"): an optional `"uploadDate"`, an
//! ISO 8601 UTC time (`2026-11-23T14:05:09.123Z`). The client sends it when it moves a
//! picture to the other prefix, so the moved picture keeps the date it was first uploaded.
//! It is believed only when it is not after the event time (see
//! [`UploadMetadata::upload_time`]): nobody can date a picture into the future and pin it
//! to the top of the public index.
//!
//! Missing or broken metadata is never fatal: the title falls back to the file name and the
//! problem is reported to the caller, who logs it.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::text::TextField;

/// Longest title kept, in characters ([`TextField::max_chars`]).
pub const MAX_TITLE_CHARS: usize = TextField::Title.max_chars();
/// Longest description kept, in characters ([`TextField::max_chars`]).
pub const MAX_DESCRIPTION_CHARS: usize = TextField::Description.max_chars();
/// Name of the user metadata entry (the header is `x-amz-meta-data`).
pub const METADATA_KEY: &str = "data";

/// Title and description as stored on the item, and the upload time the uploader claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadMetadata {
    pub title: String,
    pub description: String,
    /// `uploadDate` when the header carries a well-formed one; see [`Self::upload_time`].
    pub claimed_upload_date: Option<DateTime<Utc>>,
}

impl UploadMetadata {
    /// The item's upload time for an event at `event_time`: the claimed `uploadDate` when
    /// there is one and it is not after the event, else the event time (and the problem).
    pub fn upload_time(&self, event_time: DateTime<Utc>) -> (DateTime<Utc>, Option<MetadataProblem>) {
        match self.claimed_upload_date {
            Some(claimed) if claimed <= event_time => (claimed, None),
            Some(claimed) => (event_time, Some(MetadataProblem::UploadDateAfterEvent(claimed.to_rfc3339()))),
            None => (event_time, None),
        }
    }
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
    #[error("uploadDate {0} is not an ISO 8601 UTC time (like 2026-11-23T14:05:09.123Z), event time used")]
    InvalidUploadDate(String),
    #[error("uploadDate {0} is after the event, event time used")]
    UploadDateAfterEvent(String),
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
    let (title, description, upload_date) = match raw {
        Some(raw) => (raw.title, raw.description, raw.upload_date),
        None => (None, None, None),
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
    let claimed_upload_date = match upload_date {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => {
            let parsed = value.as_str().and_then(parse_utc_time);
            if parsed.is_none() {
                problems.push(MetadataProblem::InvalidUploadDate(value.to_string()));
            }
            parsed
        }
    };
    (UploadMetadata { title, description, claimed_upload_date }, problems)
}

/// An RFC 3339 (ISO 8601) time in UTC, written with `Z` as the table writes them; any other
/// offset, a date without a time, or a year outside 0000-9999 is refused.
fn parse_utc_time(text: &str) -> Option<DateTime<Utc>> {
    if !text.ends_with('Z') && !text.ends_with('z') {
        return None;
    }
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
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
            UploadMetadata { title: "b c.png".into(), description: String::new(), claimed_upload_date: None }
        );
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

    fn time(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_upload_date_not_after_the_event_is_kept() {
        let header = r#"{"isPublic":false,"title":"Moved","description":"","uploadDate":"2026-01-02T03:04:05.678Z"}"#;
        let (meta, problems) = parse_upload_metadata(Some(header), "f.jpg");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(meta.title, "Moved");
        let event = time("2026-11-23T14:05:09.123Z");
        assert_eq!(meta.upload_time(event), (time("2026-01-02T03:04:05.678Z"), None));
        // Exactly the event time is not after it.
        assert_eq!(meta.upload_time(time("2026-01-02T03:04:05.678Z")).0, time("2026-01-02T03:04:05.678Z"));
    }

    #[test]
    fn an_upload_date_after_the_event_gives_the_event_time() {
        let header = r#"{"title":"Future","uploadDate":"2099-01-01T00:00:00Z"}"#;
        let (meta, problems) = parse_upload_metadata(Some(header), "f.jpg");
        assert!(problems.is_empty());
        let event = time("2026-11-23T14:05:09.123Z");
        let (when, problem) = meta.upload_time(event);
        assert_eq!(when, event);
        assert!(matches!(problem, Some(MetadataProblem::UploadDateAfterEvent(_))), "{problem:?}");
    }

    #[test]
    fn a_malformed_upload_date_gives_the_event_time_and_keeps_the_title() {
        let event = time("2026-11-23T14:05:09.123Z");
        for bad in [
            r#""2026-01-02""#,
            r#""2026-01-02T03:04:05""#,
            r#""2026-01-02T03:04:05+01:00""#,
            r#""2026-01-02T03:04:05+00:00""#,
            r#""2026-13-02T03:04:05Z""#,
            r#""yesterday""#,
            r#""""#,
            "1700000000",
            "true",
            r#"{"a":1}"#,
        ] {
            let header = format!(r#"{{"title":"Kept","uploadDate":{bad}}}"#);
            let (meta, problems) = parse_upload_metadata(Some(&header), "f.jpg");
            assert_eq!(meta.title, "Kept", "{bad}");
            assert!(matches!(problems[..], [MetadataProblem::InvalidUploadDate(_)]), "{bad}: {problems:?}");
            assert_eq!(meta.upload_time(event), (event, None), "{bad}");
        }
    }

    #[test]
    fn no_or_null_upload_date_is_the_event_time_without_a_problem() {
        let event = time("2026-11-23T14:05:09.123Z");
        for header in [r#"{"title":"t"}"#, r#"{"title":"t","uploadDate":null}"#] {
            let (meta, problems) = parse_upload_metadata(Some(header), "f.jpg");
            assert!(problems.is_empty(), "{header}: {problems:?}");
            assert_eq!(meta.upload_time(event), (event, None));
        }
    }
}
