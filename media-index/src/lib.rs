//! The indexes the client reads: which a batch of table changes affects, what each contains,
//! and publishing them without ever going back to an older state.
//!
//! An index is a head (the newest items and the list of pages) and pages of older items,
//! each page owning a range of upload dates, with volumes listing older pages so the head
//! stays short (docs/indexes.md). A change rewrites the head and the page(s) whose range its
//! dates fall in, so what one change reads and writes does not grow with the collection.
//!
//! Publishing is optimistic concurrency on each object's ETag: read the head (ETag E), read
//! the table, write each touched page with `If-Match` on the ETag read just before reading
//! the table for it, then the head with `If-Match: E`. A failed precondition means another
//! writer published in between; everything is read again and the write retried. Every
//! published object was therefore read from the table after its predecessor was published.
//!
//! # Modules
//!
//! * `model`: the documents the client reads (`IndexEntry`, `ContentIndex`, `PageEntry`)
//!   and their content hash. The JSON Schema the client checks is generated from them.
//! * `target`: what to publish: an index (`IndexTarget`, its keys and which items it
//!   shows), its sizes (`IndexLimits`), and which indexes a batch affects (`TableChange`,
//!   `IndexChange`, `affected_indexes`).
//! * `layout`: which entry of a list owns which dates, with no I/O: reading a list, the
//!   entry holding a date, cutting a page into pages, the next run to seal into a volume.
//! * `table`: the items the head and a page's range hold now, from the table.
//! * `objects`: reading and conditionally writing heads, pages and volumes, skipping
//!   writes that would change nothing.
//! * `rebuild`: one attempt's pages and volumes, bottom-up, and sealing the head's list.
//! * `publish`: `IndexPublisher` and the attempt loop: the one place that tells "another
//!   writer won, start again from the head" (`PublishError::Superseded`) from a failure.

mod layout;
mod model;
mod objects;
mod publish;
mod rebuild;
mod table;
mod target;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;

pub use model::{ContentIndex, IndexEntry, PageEntry, INDEX_VERSION};
pub use publish::{IndexError, IndexPublisher, Published};
pub use target::{
    affected_indexes, IndexChange, IndexLimits, IndexTarget, TableChange, DEFAULT_INDEX_PAGE_SIZE,
    DEFAULT_INDEX_VOLUME_SIZE, DEFAULT_PRIVATE_HEAD_LIMIT, DEFAULT_PUBLIC_INDEX_LIMIT,
};
