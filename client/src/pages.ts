/**
 * A paged index as the gallery shows it: the head's items, then the items of
 * the pages the person has scrolled to, newest first (docs/ARCHITECTURE.md,
 * "Paged indexes").
 *
 * The head comes from the IndexPoller, which polls it alone. Pages are
 * fetched only when asked for (`loadOlder`, as the person scrolls) and kept:
 * a page is fetched again only when a new head lists it with another
 * `contentHash`, and then with If-None-Match on the ETag of the copy held, so
 * an unchanged page costs a 304 and no body.
 */
import { parseIndex, type IndexDoc, type IndexItem, type PageRef } from './indexdoc';
import type { IndexFetcher } from './poller';

interface HeldPage {
  contentHash: string;
  etag?: string;
  items: IndexItem[];
}

export interface PagedIndexOptions {
  fetch: IndexFetcher;
  /** The merged index changed: head items, then the loaded pages' items. */
  onChange: (doc: IndexDoc) => void;
  onError?: (err: unknown) => void;
}

export class PagedIndex {
  private head?: IndexDoc;
  private readonly held = new Map<string, HeldPage>();
  /** The oldest page the person has asked for: shown, with every newer one. */
  private deepest?: string;
  private loading?: Promise<void>;
  /** Counters, handy for tests and debugging. */
  readonly stats = { pageRequests: 0, notModified: 0 };

  constructor(private readonly opts: PagedIndexOptions) {}

  /** Whether older pictures remain to be loaded. */
  get hasMore(): boolean {
    return this.pending().length > 0;
  }

  /** The head's items and the loaded pages' items, newest first, each item once. */
  get doc(): IndexDoc {
    const items: IndexItem[] = [...(this.head?.items ?? [])];
    for (const page of this.shownPages()) items.push(...(this.held.get(page.key)?.items ?? []));
    const seen = new Set<string>();
    const unique = items.filter((it) => !seen.has(it.objectKey) && (seen.add(it.objectKey), true));
    return { version: this.head?.version ?? 2, generatedAt: this.head?.generatedAt, items: unique, pages: this.head?.pages ?? [] };
  }

  /** Applies a new head: pages already shown are brought up to date before it is shown. */
  async setHead(head: IndexDoc): Promise<void> {
    this.head = head;
    for (const key of [...this.held.keys()]) {
      if (!head.pages.some((p) => p.key === key)) this.held.delete(key);
    }
    if (this.deepest && !head.pages.some((p) => p.key === this.deepest)) this.deepest = undefined;
    await this.refresh(this.shownPages());
    this.opts.onChange(this.doc);
  }

  /** Shows the next older page (fetching it unless held and current). */
  loadOlder(): Promise<void> {
    if (!this.loading) {
      this.loading = this.loadNext().finally(() => {
        this.loading = undefined;
      });
    }
    return this.loading;
  }

  /** Pages newest first down to the deepest asked for. */
  private shownPages(): PageRef[] {
    const pages = this.head?.pages ?? [];
    if (!this.deepest) return [];
    return pages.slice(0, pages.findIndex((p) => p.key === this.deepest) + 1);
  }

  /** Pages not shown yet that have items. */
  private pending(): PageRef[] {
    const pages = this.head?.pages ?? [];
    return pages.slice(this.shownPages().length).filter((p) => p.count > 0);
  }

  private async loadNext(): Promise<void> {
    const next = this.pending()[0];
    if (!next) return;
    // Empty pages on the way are shown (as nothing) too.
    const pages = this.head?.pages ?? [];
    const through = pages.slice(0, pages.indexOf(next) + 1);
    await this.refresh(through);
    this.deepest = next.key;
    this.opts.onChange(this.doc);
  }

  /** Fetches the pages among `pages` whose held copy is missing or older than the head says. */
  private async refresh(pages: PageRef[]): Promise<void> {
    const stale = pages.filter((p) => p.count > 0 && this.held.get(p.key)?.contentHash !== p.contentHash);
    await Promise.all(stale.map((p) => this.fetchPage(p)));
  }

  private async fetchPage(page: PageRef): Promise<void> {
    const held = this.held.get(page.key);
    this.stats.pageRequests++;
    try {
      const res = await this.opts.fetch(page.key, { ifNoneMatch: held?.etag });
      if (res.status === 'not-modified') {
        this.stats.notModified++;
        if (held) held.contentHash = page.contentHash;
        return;
      }
      // A page listed but gone: a newer head is on its way; show nothing for it.
      if (res.status === 'missing') {
        this.held.set(page.key, { contentHash: page.contentHash, items: [] });
        return;
      }
      const doc = parseIndex(res.body);
      // Held under the hash the head gave: a copy newer than that head is fetched again
      // once a head lists its hash (rare: the page changed between the two reads).
      this.held.set(page.key, { contentHash: page.contentHash, etag: res.etag, items: doc.items });
    } catch (err) {
      this.opts.onError?.(err);
    }
  }
}
