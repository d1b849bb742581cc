/**
 * Find and sort over the pictures already loaded (client-side). The indexes are paged by upload
 * date, so "by date taken" orders what is loaded: a picture taken long ago but uploaded before
 * the loaded pages takes its place once its page is loaded (docs/decisions/date-taken.md).
 */
import type { IndexItem } from './indexdoc';

export type SortOrder = 'newest' | 'oldest' | 'taken-newest' | 'taken-oldest' | 'title-asc' | 'title-desc';

export const SORT_ORDERS: readonly { value: SortOrder; label: string }[] = [
  { value: 'newest', label: 'Newest first' },
  { value: 'oldest', label: 'Oldest first' },
  { value: 'title-asc', label: 'Title A to Z' },
  { value: 'title-desc', label: 'Title Z to A' },
  { value: 'taken-newest', label: 'Date taken, newest first' },
  { value: 'taken-oldest', label: 'Date taken, oldest first' },
];

export function isSortOrder(v: string): v is SortOrder {
  return SORT_ORDERS.some((o) => o.value === v);
}

/** Lower case, accents dropped, spaces collapsed: "Café  Zürich" and "cafe zurich" match. */
export function foldText(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}/gu, '').toLocaleLowerCase('en').replace(/\s+/g, ' ').trim();
}

/** Every word of the query must occur in the title or the description (in any order). */
export function matches(item: IndexItem, query: string): boolean {
  const words = foldText(query).split(' ').filter(Boolean);
  if (!words.length) return true;
  const text = foldText(`${item.title} ${item.description}`);
  return words.every((w) => text.includes(w));
}

/**
 * When a picture was taken, as a sortable `YYYY-MM-DDTHH:MM:SS`: the camera's local time, or the
 * upload time (UTC) for a picture whose Exif does not say.
 */
export function whenTaken(item: IndexItem): string {
  return (item.takenAt ?? item.uploadDate).slice(0, 19);
}

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

/**
 * The items that match `query`, in `order`. Ties (same date, same title) keep the index's order,
 * so the view does not shuffle between polls. Never changes `items`.
 */
export function findAndSort(items: readonly IndexItem[], query: string, order: SortOrder): IndexItem[] {
  const found = items.filter((it) => matches(it, query));
  const compare = (x: string, y: string) => (x === y ? 0 : x < y ? -1 : 1);
  const byDate = (a: IndexItem, b: IndexItem) => compare(a.uploadDate, b.uploadDate);
  const byTaken = (a: IndexItem, b: IndexItem) => compare(whenTaken(a), whenTaken(b));
  switch (order) {
    case 'newest': return found.sort((a, b) => byDate(b, a));
    case 'oldest': return found.sort(byDate);
    case 'taken-newest': return found.sort((a, b) => byTaken(b, a));
    case 'taken-oldest': return found.sort(byTaken);
    case 'title-asc': return found.sort((a, b) => collator.compare(a.title, b.title));
    case 'title-desc': return found.sort((a, b) => collator.compare(b.title, a.title));
  }
}
