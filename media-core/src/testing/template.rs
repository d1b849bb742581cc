//! Figures the tests take from `infra/template.yaml`, the one description of what is deployed.

use std::path::PathBuf;

/// The repository's root: `MEDIA_SHARE_ROOT` when set (the Makefile sets it to the checkout it
/// runs in), else the one this crate was compiled in. A test binary compiled in another clone
/// and left fresh in the shared target directory would otherwise read that clone's template.
pub fn repo_root() -> PathBuf {
    std::env::var_os("MEDIA_SHARE_ROOT")
        .filter(|root| !root.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")))
}

/// A function's `MemorySize` in the template, in MB; `logical_id` is its resource's name
/// (`ContentUpdatedFunction`). Panics naming what is missing.
pub fn function_memory_mb(logical_id: &str) -> u64 {
    let path = repo_root().join("infra/template.yaml");
    let template = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let function = template
        .split(&format!("\n  {logical_id}:\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("no {logical_id} in {}", path.display()));
    let line = function
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with("   "))
        .find(|l| l.trim_start().starts_with("MemorySize:"))
        .unwrap_or_else(|| panic!("no MemorySize for {logical_id}"));
    line.split(':')
        .nth(1)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{logical_id}'s MemorySize is not a number: {line}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_functions_memory_comes_from_their_own_resources() {
        assert_eq!(function_memory_mb("ContentUpdatedFunction"), 1024);
        assert_eq!(function_memory_mb("FaceDetectionFunction"), 2048);
    }
}
