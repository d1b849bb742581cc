/**
 * A paged index as the gallery shows it: the head's items, then the items of
 * the pages the person has scrolled to, newest first (docs/indexes.md).
 *
 * The head comes from the IndexPoller, which polls it alone. It lists pages
 * and volumes (documents listing older pages and volumes); every document is
 * read alike: its items, then its pages. Pages and volumes are fetched only
 * when asked for (`loadOlder`, as the person scrolls) and kept: one is
 * fetched again only when a new head (or volume) lists it with another
 * `contentHash`, and then with If-None-Match on the ETag of the copy held, so
 * an unchanged one costs a 304 and no body.
 */
import { isVolume, parseIndex, type IndexDoc, type IndexItem, type PageRef } from './indexdoc';
import type { IndexFetcher } from './poller';

interface Held {
  contentHash: string;
  etag?: string;
  items: IndexItem[];
  /** A volume's entries. */
  pages: PageRef[];
}

export interface PagedIndexOptions {
  fetch: IndexFetcher;
  /** The merged index changed: head items, then the loaded pages' items. */
  onChange: (doc: IndexDoc) => void;
  onError?: (err: unknown) => void;
}

/** Whether an entry owning the dates after `a` holds the page owning the dates after `b`. */
const startsAtOrBefore = (a: string | undefined, b: string | undefined): boolean => a === undefined || (b !== undefined && a <= b);

export class PagedIndex {
  private head?: IndexDoc;
  private readonly held = new Map<string, Held>();
  /** The oldest page the person has asked for (shown, with every newer one), and where its range starts. */
  private deepest?: { key: string; after?: string };
  private loading?: Promise<void>;
  /** Counters, handy for tests and debugging. */
  readonly stats = { pageRequests: 0, volumeRequests: 0, notModified: 0 };

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
    return { version: this.head?.version ?? 3, generatedAt: this.head?.generatedAt, items: unique, pages: this.head?.pages ?? [] };
  }

  /**
   * Applies a new head: volumes and pages already shown are brought up to date (each only
   * if its hash changed) before it is shown, and the deepest page shown stays shown when it
   * moved into a volume.
   */
  async setHead(head: IndexDoc): Promise<void> {
    this.head = head;
    // Volumes opened before, listed with another hash now: fetched again, level by level.
    for (;;) {
      const stale = this.entries().filter((p) => isVolume(p) && this.held.has(p.key));
      if (stale.length === 0) break;
      const fetched = await Promise.all(stale.map((p) => this.fetchDoc(p)));
      if (!fetched.every(Boolean)) break;
    }
    await this.findDeepest();
    this.prune();
    await this.refresh(this.shownPages());
    this.opts.onChange(this.doc);
  }

  /** Shows the next older page (fetching it, and the volumes on the way, unless held and current). */
  loadOlder(): Promise<void> {
    if (!this.loading) {
      this.loading = this.loadNext().finally(() => {
        this.loading = undefined;
      });
    }
    return this.loading;
  }

  /**
   * The head's entries newest first, each volume held in its current version opened in
   * place (recursively); a volume not held, or held in another version, stays itself.
   */
  private entries(): PageRef[] {
    const out: PageRef[] = [];
    const walk = (list: PageRef[]) => {
      for (const p of list) {
        const held = isVolume(p) ? this.held.get(p.key) : undefined;
        if (held && held.contentHash === p.contentHash) walk(held.pages);
        else out.push(p);
      }
    };
    walk(this.head?.pages ?? []);
    return out;
  }

  /** Pages newest first down to the deepest asked for. */
  private shownPages(): PageRef[] {
    if (!this.deepest) return [];
    const list = this.entries();
    const at = list.findIndex((p) => !isVolume(p) && p.key === this.deepest?.key);
    return at < 0 ? [] : list.slice(0, at + 1);
  }

  /** Entries not shown yet that have items (pages, and volumes not opened yet). */
  private pending(): PageRef[] {
    return this.entries().slice(this.shownPages().length).filter((p) => p.count > 0);
  }

  /**
   * Keeps the deepest page shown when a new head no longer lists it where it was (sealed into
   * a volume, split): opens the volumes whose range holds its range, and shows down to the
   * page that now starts at or before it.
   */
  private async findDeepest(): Promise<void> {
    const deepest = this.deepest;
    if (!deepest) return;
    for (;;) {
      const list = this.entries();
      if (list.some((p) => !isVolume(p) && p.key === deepest.key)) return;
      const holder = list.find((p) => startsAtOrBefore(p.after, deepest.after));
      if (!holder) {
        this.deepest = undefined;
        return;
      }
      if (!isVolume(holder)) {
        this.deepest = { key: holder.key, after: holder.after };
        return;
      }
      if (!(await this.fetchDoc(holder))) {
        this.deepest = undefined;
        return;
      }
    }
  }

  /** Forgets what no entry reachable from the head lists any more. */
  private prune(): void {
    const listed = new Set<string>();
    const walk = (list: PageRef[]) => {
      for (const p of list) {
        listed.add(p.key);
        if (isVolume(p)) walk(this.held.get(p.key)?.pages ?? []);
      }
    };
    walk(this.head?.pages ?? []);
    for (const key of [...this.held.keys()]) if (!listed.has(key)) this.held.delete(key);
  }

  private async loadNext(): Promise<void> {
    for (;;) {
      const list = this.entries();
      const from = this.shownPages().length;
      const next = list.slice(from).find((p) => p.count > 0);
      if (!next) return;
      // A volume on the way is opened, and the search goes on inside it.
      if (isVolume(next)) {
        if (!(await this.fetchDoc(next))) return;
        continue;
      }
      // Empty pages on the way are shown (as nothing) too.
      await this.refresh(list.slice(0, list.indexOf(next) + 1));
      this.deepest = { key: next.key, after: next.after };
      this.opts.onChange(this.doc);
      return;
    }
  }

  /**
   * Fetches the pages among `pages` whose held copy is missing or older than the entry says. A
   * page its entry now says is empty (`count` 0: its last pictures deleted or moved) is not
   * fetched but held as empty: its old copy must not keep showing them.
   */
  private async refresh(pages: PageRef[]): Promise<void> {
    const stale = pages.filter((p) => !isVolume(p) && this.held.get(p.key)?.contentHash !== p.contentHash);
    for (const p of stale) if (p.count === 0 && this.held.has(p.key)) this.held.set(p.key, { contentHash: p.contentHash, items: [], pages: [] });
    await Promise.all(stale.filter((p) => p.count > 0).map((p) => this.fetchDoc(p)));
  }

  /** Fetches a page or a volume; false when it could not be read (reported). */
  private async fetchDoc(entry: PageRef): Promise<boolean> {
    const held = this.held.get(entry.key);
    if (isVolume(entry)) this.stats.volumeRequests++;
    else this.stats.pageRequests++;
    try {
      const res = await this.opts.fetch(entry.key, { ifNoneMatch: held?.etag });
      if (res.status === 'not-modified') {
        this.stats.notModified++;
        if (held) held.contentHash = entry.contentHash;
        return true;
      }
      // Listed but gone: a newer head is on its way; show nothing for it.
      if (res.status === 'missing') {
        this.held.set(entry.key, { contentHash: entry.contentHash, items: [], pages: [] });
        return true;
      }
      const doc = parseIndex(res.body);
      // Held under the hash its entry gave: a copy newer than that entry is fetched again
      // once an entry lists its hash (rare: it changed between the two reads).
      this.held.set(entry.key, { contentHash: entry.contentHash, etag: res.etag, items: doc.items, pages: doc.pages });
      return true;
    } catch (err) {
      this.opts.onError?.(err);
      return false;
    }
  }
}
