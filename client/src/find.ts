/** Find and sort over the pictures already loaded (client-side; the index is the whole list). */
import type { IndexItem } from './indexdoc';

export type SortOrder = 'newest' | 'oldest' | 'title-asc' | 'title-desc';

export const SORT_ORDERS: readonly { value: SortOrder; label: string }[] = [
  { value: 'newest', label: 'Newest first' },
  { value: 'oldest', label: 'Oldest first' },
  { value: 'title-asc', label: 'Title A to Z' },
  { value: 'title-desc', label: 'Title Z to A' },
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

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

/**
 * The items that match `query`, in `order`. Ties (same date, same title) keep the index's order,
 * so the view does not shuffle between polls. Never changes `items`.
 */
export function findAndSort(items: readonly IndexItem[], query: string, order: SortOrder): IndexItem[] {
  const found = items.filter((it) => matches(it, query));
  const byDate = (a: IndexItem, b: IndexItem) => (a.uploadDate === b.uploadDate ? 0 : a.uploadDate < b.uploadDate ? -1 : 1);
  switch (order) {
    case 'newest': return found.sort((a, b) => byDate(b, a));
    case 'oldest': return found.sort(byDate);
    case 'title-asc': return found.sort((a, b) => collator.compare(a.title, b.title));
    case 'title-desc': return found.sort((a, b) => collator.compare(b.title, a.title));
  }
}
