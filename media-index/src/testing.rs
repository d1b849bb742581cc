//! The property the `index` fuzz target checks (`fuzz/fuzz_targets/index.rs`), so that the
//! committed seeds replay through it as an ordinary test on the stable toolchain.

use crate::ContentIndex;

/// Index files as the client and update-content-index read them: parsing never panics, and a
/// parsed index writes back to JSON that parses to the same index.
pub fn index_document(data: &[u8]) {
    let Ok(index) = serde_json::from_slice::<ContentIndex>(data) else {
        return;
    };
    let json = serde_json::to_vec(&index).expect("an index serialises");
    let again: ContentIndex = serde_json::from_slice(&json).expect("what we write parses");
    assert_eq!(again, index);
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_fuzz_seeds_pass_the_index_property() {
        let replayed = media_core::testing::fuzz::replay_seeds(
            env!("CARGO_MANIFEST_DIR"),
            "index",
            super::index_document,
        );
        assert!(replayed >= 2);
    }
}
