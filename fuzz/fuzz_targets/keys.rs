//! Event keys as they arrive (form-URL-encoded) and decoded keys: decoding never panics, the
//! encoder is its inverse, and a parsed upload key gives itself back and derives its keys
//! from its own identity and file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_core::keys::{decode_event_key, encode_event_key, ContentKey, MAX_KEY_BYTES};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(decoded) = decode_event_key(raw) {
        assert_eq!(
            decode_event_key(&encode_event_key(&decoded)).as_deref(),
            Ok(decoded.as_str())
        );
        check(&decoded);
    }
    check(raw);
});

fn check(key: &str) {
    let Ok(parsed) = ContentKey::parse(key) else {
        return;
    };
    assert_eq!(parsed.object_key(), key);
    assert_eq!(
        ContentKey::parse(&parsed.object_key()).as_ref(),
        Ok(&parsed)
    );
    assert!(!parsed.identity_id().is_empty() && !parsed.identity_id().contains('/'));
    assert!(!parsed.file().is_empty() && parsed.file().ends_with(parsed.file_name()));
    let tail = format!("/{}/{}", parsed.identity_id(), parsed.file());
    let visibility = parsed.visibility().as_str();
    for (derived, area) in [
        (parsed.thumbnail_key(), "thumbnails"),
        (parsed.faces_key(), "faces"),
    ] {
        assert_eq!(derived, format!("{visibility}/{area}{tail}"));
    }
    assert_eq!(
        parsed.derived_keys_fit(),
        parsed.thumbnail_key().len() <= MAX_KEY_BYTES
    );
}
