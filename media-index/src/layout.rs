//! Which entry owns which dates, with no I/O: a list of entries (the head's or a volume's)
//! partitions a range of upload dates, newest entry first. This module reads a list as
//! published (or makes up one page for a list that is missing or damaged), finds the entry
//! holding a date and its range, cuts a page's items into pages, and finds the run of
//! entries to seal into a volume.

use std::ops::Range;

use media_core::ports::DateRange;

use crate::model::{now, IndexEntry, PageEntry, EMPTY_PAGE_HASH};
use crate::target::IndexTarget;

/// Which pages a regeneration rebuilds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pages {
    /// The pages whose ranges the changes' dates, and the items crossing the head's
    /// boundary, fall in.
    Touched,
    /// Every page (the repair pass).
    All,
}

/// Where a list of entries sits: the head's (whose newest page is the open one) or a
/// volume's, owning the dates up to `upto`.
#[derive(Clone)]
pub(crate) struct Container {
    pub upto: Option<String>,
    pub is_head: bool,
}

/// The entries of a list (a head's or a volume's) owning the dates after `after`, and which
/// of them to rebuild: newest first, the oldest owning all dates after `after`, rebuilt as
/// `scope` says. A list that is not that (no head yet, a version-1 head, a missing or damaged
/// volume) becomes a single page owning the whole range, rebuilt (`Pages::All`): filled and
/// split from the table, and written before anything lists it.
pub(crate) fn layout(
    target: &IndexTarget,
    pages: Vec<PageEntry>,
    after: Option<&str>,
    scope: Pages,
) -> (Vec<PageEntry>, Pages) {
    let ordered = pages.windows(2).all(|w| match (&w[0].after, &w[1].after) {
        (Some(newer), Some(older)) => newer > older,
        (Some(_), None) => true,
        (None, _) => false,
    });
    if !pages.is_empty() && ordered && pages.last().is_some_and(|p| p.after.as_deref() == after) {
        return (pages, scope);
    }
    let after = after.map(str::to_owned);
    let page = PageEntry {
        key: target.page_key(after.as_deref()),
        count: 0,
        generated_at: now(),
        content_hash: EMPTY_PAGE_HASH.to_owned(),
        after,
        level: 0,
    };
    (vec![page], Pages::All)
}

/// The entry whose range holds `date`.
pub(crate) fn page_of(pages: &[PageEntry], date: &str) -> usize {
    pages
        .iter()
        .position(|p| p.after.as_deref().is_none_or(|after| date > after))
        .unwrap_or(pages.len() - 1)
}

/// The range of entry `at` of a list whose newest entry owns the dates up to `upto`.
pub(crate) fn range_of(pages: &[PageEntry], at: usize, upto: Option<&str>) -> DateRange {
    let upto = match at.checked_sub(1) {
        Some(newer) => pages[newer].after.clone(),
        None => upto.map(str::to_owned),
    };
    DateRange {
        after: pages[at].after.clone(),
        upto,
    }
}

/// `entries` (newest first) in pages of at least `size`, oldest page first, never splitting
/// one upload date between two pages; one page unless there are more than twice `size`.
pub(crate) fn split(mut entries: Vec<IndexEntry>, size: usize) -> Vec<Vec<IndexEntry>> {
    if entries.len() <= 2 * size {
        return vec![entries];
    }
    entries.reverse();
    let mut chunks: Vec<Vec<IndexEntry>> = vec![Vec::new()];
    for entry in entries {
        let chunk = chunks.last_mut().expect("one chunk at least");
        if chunk.len() >= size
            && chunk
                .last()
                .is_some_and(|last| last.upload_date != entry.upload_date)
        {
            chunks.push(Vec::new());
        }
        chunks.last_mut().expect("one chunk at least").push(entry);
    }
    // A short newest remainder joins the page before it.
    if chunks.len() > 1 && chunks.last().is_some_and(|c| c.len() < size) {
        let rest = chunks.pop().expect("checked");
        chunks.last_mut().expect("checked").extend(rest);
    }
    for chunk in &mut chunks {
        chunk.reverse();
    }
    chunks
}

/// The next run of entries to seal into a volume: the oldest `size` of the first run of
/// `2 * size` or more entries of one level, lowest level first, with that level. Entries are
/// ordered by level, lowest (newest) first, so each level's entries are one run.
pub(crate) fn sealable(list: &[PageEntry], size: usize) -> Option<(u32, Range<usize>)> {
    let mut level = 0;
    while list.iter().any(|p| p.level >= level) {
        if let Some(start) = list.iter().position(|p| p.level == level) {
            let run = list[start..]
                .iter()
                .take_while(|p| p.level == level)
                .count();
            if run >= 2 * size {
                return Some((level, start + run - size..start + run));
            }
        }
        level += 1;
    }
    None
}
