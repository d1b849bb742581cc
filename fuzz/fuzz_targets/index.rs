//! Index files as the client and update-content-index read them: parsing never panics, and a
//! parsed index writes back to JSON that parses to the same index.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_index::ContentIndex;

fuzz_target!(|data: &[u8]| {
    let Ok(index) = serde_json::from_slice::<ContentIndex>(data) else {
        return;
    };
    let json = serde_json::to_vec(&index).expect("an index serialises");
    let again: ContentIndex = serde_json::from_slice(&json).expect("what we write parses");
    assert_eq!(again, index);
});
