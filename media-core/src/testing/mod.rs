//! Test support for every crate, by kind; compiled only with the `testing` feature, never
//! into a Lambda package.
//!
//! * [`events`]: S3 event notification bodies and the changes they describe.
//! * [`fuzz`]: the fuzz targets' properties, and replaying their committed seeds as tests.
//! * [`memory`]: in-memory stores with AWS's semantics.
//! * [`interleaving`]: the step hooks that run a second handler inside one store call of a
//!   first, for race tests.
//! * [`template`]: figures read from `infra/template.yaml` (a function's memory).
//! * [`indexed_item`]: a processed upload's item.

pub mod events;
pub mod fuzz;
pub mod interleaving;
pub mod memory;
pub mod template;

pub use events::*;

/// A processed upload's item as the index tests need it: `{visibility}/content/{identity}/{file}.jpg`
/// with its thumbnail, titled `picture {file}`, uploaded at `date` (ISO 8601).
pub fn indexed_item(
    identity: &str,
    visibility: &str,
    file: &str,
    date: &str,
) -> crate::item::MediaItem {
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

/// For a test that captures logs with a subscriber of its own thread (`set_default`,
/// `with_default`): the binary's other tests log on their threads with no subscriber, and
/// tracing caches each callsite's interest globally, so a callsite they meet first would be
/// cached as "never" and stay silent in the capture. A global subscriber that wants every
/// event (and writes them nowhere) keeps every callsite enabled. Later calls do nothing.
pub fn keep_every_callsite_enabled() {
    let _ = tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(std::io::sink)
            .finish(),
    );
}
