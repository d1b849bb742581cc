//! Reading the table: which items an index's head and each page's range hold now. The
//! secondary indexes only propose candidates; every candidate is read again consistently.

use std::collections::BTreeSet;

use media_core::item::{upload_day, ItemKey, MediaItem};
use media_core::ports::{DateRange, IndexItems, ObjectStore, StoreError};

use crate::publish::IndexPublisher;
use crate::target::IndexTarget;

impl<O: ObjectStore, I: IndexItems> IndexPublisher<'_, O, I> {
    /// all of time (the head), a day whose markers lead to no item any more is forgotten,
    /// so later walks stop visiting it.
    pub(crate) async fn candidates(
        &self,
        target: &IndexTarget,
        range: &DateRange,
        limit: usize,
    ) -> Result<Vec<ItemKey>, StoreError> {
        if let IndexTarget::Private(identity_id) = target {
            return Ok(self
                .items
                .owner_items_between(identity_id, range, limit)
                .await?
                .iter()
                .map(MediaItem::key)
                .collect());
        }
        let first_day = range.after.as_deref().map(upload_day);
        // Markers are `YYYY-MM-DD`: "~" sorts after every character of a date.
        let mut before = range.upto.as_deref().map_or_else(
            || "9999-12-31~".to_owned(),
            |upto| format!("{}~", upload_day(upto)),
        );
        let mut keys = Vec::new();
        while let Some(day) = self.items.public_day_before(&before).await? {
            if first_day
                .as_deref()
                .is_some_and(|first| day.as_str() < first)
            {
                break;
            }
            let listed = self
                .items
                .public_items_of_day(&day, range, limit.saturating_sub(keys.len()))
                .await?;
            if listed.is_empty()
                && *range == DateRange::ALL
                && self.items.forget_public_day(&day).await?
            {
                tracing::info!(day, "public day has no items any more; forgotten");
            }
            keys.extend(listed.iter().map(MediaItem::key));
            if keys.len() >= limit {
                break;
            }
            before = day;
        }
        Ok(keys)
    }

    /// The items of the head: the newest the index shows, as the table says now. The
    /// candidates are the secondary index's newest and `known` (the keys just changed and the
    /// head in place, which the secondary index may not show yet); all are read again
    /// consistently, and more are listed if deleted ones left the head short.
    pub async fn head_items(
        &self,
        target: &IndexTarget,
        known: &BTreeSet<ItemKey>,
    ) -> Result<Vec<MediaItem>, StoreError> {
        let limit = self.limits.head(target);
        let mut wanted = limit + known.len();
        loop {
            let listed = self.candidates(target, &DateRange::ALL, wanted).await?;
            let exhausted = listed.len() < wanted;
            let keys: BTreeSet<ItemKey> = listed.into_iter().chain(known.iter().cloned()).collect();
            let items: Vec<MediaItem> = self
                .items
                .items_now(&keys.into_iter().collect::<Vec<_>>())
                .await?
                .into_iter()
                .filter(|i| target.shows(i))
                .collect();
            if items.len() >= limit || exhausted {
                return Ok(items);
            }
            wanted *= 2;
        }
    }
}
