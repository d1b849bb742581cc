import { describe, expect, it, vi } from 'vitest';
import { parseIndex, sameHead, type IndexDoc } from './indexdoc';
import { PagedIndex } from './pages';
import type { Conditions, FetchResult } from './poller';

const ID = 'us-east-1:abc';
const item = (n: number) => ({
  identityId: ID,
  objectKey: `private/content/${ID}/${n}.jpg`,
  isPublic: false,
  title: `picture ${n}`,
  description: '',
  uploadDate: `2026-01-01T00:${String(Math.floor(n / 60)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}.000Z`,
});
/** Newest first: n from `newest` down to `oldest`. */
const items = (newest: number, oldest: number) => Array.from({ length: newest - oldest + 1 }, (_, i) => item(newest - i));
const pageKey = (name: string) => `private/index/${ID}/content-${name}.json`;

function head(pages: { name: string; count: number; version: string }[], newest = 29, oldest = 25): IndexDoc {
  return parseIndex({
    version: 2,
    generatedAt: 'h',
    items: items(newest, oldest),
    pages: pages.map((p) => ({ key: pageKey(p.name), count: p.count, generatedAt: `at ${p.version}`, contentHash: p.version })),
  });
}

/** A bucket of page bodies, each with an ETag; answers 304 to a matching If-None-Match. */
function bucket(pages: Record<string, { items: unknown[]; version: string }>) {
  const requests: { key: string; cond: Conditions }[] = [];
  const answer = (key: string, cond: Conditions): FetchResult => {
    const page = Object.entries(pages).find(([name]) => pageKey(name) === key)?.[1];
    if (!page) return { status: 'missing' };
    const etag = `"${page.version}"`;
    if (cond.ifNoneMatch === etag) return { status: 'not-modified' };
    return { status: 'ok', etag, body: JSON.stringify({ version: 2, generatedAt: page.version, items: page.items }) };
  };
  const fetch = vi.fn((key: string, cond: Conditions): Promise<FetchResult> => {
    requests.push({ key, cond });
    return Promise.resolve(answer(key, cond));
  });
  return { fetch, requests, pages };
}

const titles = (doc: IndexDoc) => doc.items.map((i) => i.title);

describe('PagedIndex', () => {
  it('shows the head alone first and fetches no page until asked', async () => {
    const b = bucket({ b: { items: items(24, 20), version: 'v1' } });
    const onChange = vi.fn<(doc: IndexDoc) => void>();
    const paged = new PagedIndex({ fetch: b.fetch, onChange });
    await paged.setHead(head([{ name: 'b', count: 5, version: 'v1' }]));
    expect(b.requests).toEqual([]);
    expect(titles(onChange.mock.lastCall![0])).toEqual(items(29, 25).map((i) => i.title));
    expect(paged.hasMore).toBe(true);
  });

  it('scrolls back through every page, newest first, skipping empty ones, each fetched once', async () => {
    const b = bucket({
      c: { items: items(24, 20), version: 'v1' },
      b: { items: [], version: 'v1' },
      '0': { items: items(19, 0), version: 'v1' },
    });
    const onChange = vi.fn();
    const paged = new PagedIndex({ fetch: b.fetch, onChange });
    await paged.setHead(head([{ name: 'c', count: 5, version: 'v1' }, { name: 'b', count: 0, version: 'v1' }, { name: '0', count: 20, version: 'v1' }]));
    await paged.loadOlder();
    expect(titles(paged.doc)).toEqual(items(29, 20).map((i) => i.title));
    await paged.loadOlder();
    expect(titles(paged.doc)).toEqual(items(29, 0).map((i) => i.title));
    expect(paged.hasMore).toBe(false);
    await paged.loadOlder();
    expect(b.requests.map((r) => r.key)).toEqual([pageKey('c'), pageKey('0')]);
  });

  it('a new head with the same page versions refetches nothing; a changed page is asked for with If-None-Match', async () => {
    const b = bucket({ c: { items: items(24, 20), version: 'v1' }, '0': { items: items(19, 0), version: 'v1' } });
    const paged = new PagedIndex({ fetch: b.fetch, onChange: () => {} });
    const pages = (c: string) => [{ name: 'c', count: 5, version: c }, { name: '0', count: 20, version: 'v1' }];
    await paged.setHead(head(pages('v1')));
    await paged.loadOlder();
    await paged.loadOlder();
    expect(b.requests.length).toBe(2);

    // A new upload: the head changes, its pages do not.
    await paged.setHead(head(pages('v1'), 30, 26));
    expect(b.requests.length).toBe(2);
    expect(paged.doc.items[0].title).toBe('picture 30');

    // An old picture edited: its page has a new version; only that page is fetched again.
    b.pages.c = { items: items(24, 20).map((i) => (i.title === 'picture 22' ? { ...i, title: 'edited' } : i)), version: 'v2' };
    await paged.setHead(head(pages('v2'), 30, 26));
    expect(b.requests.slice(2)).toEqual([{ key: pageKey('c'), cond: { ifNoneMatch: '"v1"' } }]);
    expect(titles(paged.doc)).toContain('edited');
  });

  it('keeps what was scrolled to when a new page is listed before it', async () => {
    const b = bucket({ c: { items: items(24, 20), version: 'v1' }, n: { items: [item(25)], version: 'v1' } });
    const paged = new PagedIndex({ fetch: b.fetch, onChange: () => {} });
    await paged.setHead(head([{ name: 'c', count: 5, version: 'v1' }, { name: '0', count: 0, version: 'v1' }]));
    await paged.loadOlder();
    // The open page was sealed and a new one follows it, holding what left the head.
    await paged.setHead(head([{ name: 'n', count: 1, version: 'v1' }, { name: 'c', count: 5, version: 'v1' }, { name: '0', count: 0, version: 'v1' }], 30, 26));
    expect(titles(paged.doc)).toEqual(items(30, 20).map((i) => i.title));
    expect(b.requests.map((r) => r.key)).toEqual([pageKey('c'), pageKey('n')]);
  });

  it('a page emptied since it was shown (its last picture deleted) shows nothing, without a fetch', async () => {
    const b = bucket({ c: { items: items(24, 24), version: 'v1' } });
    const paged = new PagedIndex({ fetch: b.fetch, onChange: () => {} });
    await paged.setHead(head([{ name: 'c', count: 1, version: 'v1' }]));
    await paged.loadOlder();
    expect(titles(paged.doc)).toContain('picture 24');
    b.pages.c = { items: [], version: 'v2' };
    await paged.setHead(head([{ name: 'c', count: 0, version: 'v2' }]));
    expect(titles(paged.doc)).toEqual(items(29, 25).map((i) => i.title));
    expect(b.requests.length).toBe(1);
    // Filled again later: fetched again.
    b.pages.c = { items: items(23, 23), version: 'v3' };
    await paged.setHead(head([{ name: 'c', count: 1, version: 'v3' }]));
    expect(titles(paged.doc)).toContain('picture 23');
  });

  it('a failed page fetch is reported and can be retried', async () => {
    let fail = true;
    const fetch = vi.fn((): Promise<FetchResult> => {
      if (fail) return Promise.reject(new Error('network down'));
      return Promise.resolve({ status: 'ok', etag: '"v1"', body: JSON.stringify({ version: 2, generatedAt: 'v1', items: items(24, 20) }) });
    });
    const onError = vi.fn();
    const paged = new PagedIndex({ fetch, onChange: () => {}, onError });
    await paged.setHead(head([{ name: 'c', count: 5, version: 'v1' }]));
    await paged.loadOlder();
    expect(onError).toHaveBeenCalledOnce();
    fail = false;
    await paged.setHead(head([{ name: 'c', count: 5, version: 'v1' }]));
    expect(titles(paged.doc)).toEqual(items(29, 20).map((i) => i.title));
  });

  describe('volumes (index version 3)', () => {
    const volumeKey = (name: string) => `private/index/${ID}/volume${name}.json`;
    type Entry = { key: string; count: number; version: string; after?: string; level?: number };
    const entry = (e: Entry) => ({ key: e.key, count: e.count, generatedAt: `at ${e.version}`, contentHash: e.version, after: e.after, level: e.level });
    /** Documents by key: pages with items, volumes with entries; ETag = version. */
    function store(docs: Record<string, { items?: unknown[]; pages?: Entry[]; version: string }>) {
      const requests: { key: string; cond: Conditions }[] = [];
      const answer = (key: string, cond: Conditions): FetchResult => {
        const doc = docs[key];
        if (!doc) return { status: 'missing' };
        const etag = `"${doc.version}"`;
        if (cond.ifNoneMatch === etag) return { status: 'not-modified' };
        return { status: 'ok', etag, body: JSON.stringify({ version: 3, generatedAt: doc.version, items: doc.items ?? [], pages: (doc.pages ?? []).map(entry) }) };
      };
      const fetch = vi.fn((key: string, cond: Conditions): Promise<FetchResult> => {
        requests.push({ key, cond });
        return Promise.resolve(answer(key, cond));
      });
      return { fetch, requests, docs };
    }
    const headOf = (entries: Entry[], newest = 29, oldest = 25) =>
      parseIndex({ version: 3, generatedAt: 'h', items: items(newest, oldest), pages: entries.map(entry) });
    const c: Entry = { key: pageKey('c'), count: 5, version: 'v1', after: '2026-01-01T00:00:19.000Z' };
    const b: Entry = { key: pageKey('b'), count: 10, version: 'v1', after: '2026-01-01T00:00:09.000Z' };
    const o: Entry = { key: pageKey('0'), count: 10, version: 'v1' };

    it('descends into nested volumes only as the person scrolls, each document fetched once', async () => {
      const inner: Entry = { key: volumeKey('1-0'), count: 20, version: 'i1', level: 1 };
      const outer: Entry = { key: volumeKey('2-0'), count: 20, version: 'o1', level: 2 };
      const s = store({
        [c.key]: { items: items(24, 20), version: 'v1' },
        [b.key]: { items: items(19, 10), version: 'v1' },
        [o.key]: { items: items(9, 0), version: 'v1' },
        [inner.key]: { pages: [b, o], version: 'i1' },
        [outer.key]: { pages: [inner], version: 'o1' },
      });
      const paged = new PagedIndex({ fetch: s.fetch, onChange: () => {} });
      await paged.setHead(headOf([c, outer]));
      expect(s.requests).toEqual([]);
      await paged.loadOlder();
      expect(s.requests.map((r) => r.key)).toEqual([c.key]);
      expect(paged.hasMore).toBe(true);
      await paged.loadOlder();
      expect(s.requests.map((r) => r.key)).toEqual([c.key, outer.key, inner.key, b.key]);
      expect(titles(paged.doc)).toEqual(items(29, 10).map((i) => i.title));
      await paged.loadOlder();
      expect(titles(paged.doc)).toEqual(items(29, 0).map((i) => i.title));
      expect(paged.hasMore).toBe(false);
      expect(paged.stats).toMatchObject({ pageRequests: 3, volumeRequests: 2 });

      // A new upload: the head changes, nothing under it does; nothing is fetched again.
      await paged.setHead(headOf([c, outer], 30, 26));
      expect(s.requests.length).toBe(5);
      expect(titles(paged.doc)).toEqual([...items(30, 26), ...items(24, 0)].map((i) => i.title));
    });

    it('an edit deep in a volume refetches that volume and that page only, with If-None-Match', async () => {
      const volume: Entry = { key: volumeKey('1-0'), count: 20, version: 'w1', level: 1 };
      const s = store({
        [c.key]: { items: items(24, 20), version: 'v1' },
        [b.key]: { items: items(19, 10), version: 'v1' },
        [o.key]: { items: items(9, 0), version: 'v1' },
        [volume.key]: { pages: [b, o], version: 'w1' },
      });
      const paged = new PagedIndex({ fetch: s.fetch, onChange: () => {} });
      await paged.setHead(headOf([c, volume]));
      for (let i = 0; i < 3; i++) await paged.loadOlder();
      expect(s.requests.length).toBe(4);
      const o2 = { ...o, version: 'v2' };
      s.docs[o.key] = { items: items(9, 0).map((i) => (i.title === 'picture 3' ? { ...i, title: 'edited' } : i)), version: 'v2' };
      s.docs[volume.key] = { pages: [b, o2], version: 'w2' };
      await paged.setHead(headOf([c, { ...volume, version: 'w2' }]));
      expect(s.requests.slice(4)).toEqual([
        { key: volume.key, cond: { ifNoneMatch: '"w1"' } },
        { key: o.key, cond: { ifNoneMatch: '"v1"' } },
      ]);
      expect(titles(paged.doc)).toContain('edited');
      expect(paged.doc.items.length).toBe(30);
    });

    it('keeps showing a page the writer sealed into a volume, without fetching that page again', async () => {
      const s = store({ [c.key]: { items: items(24, 20), version: 'v1' }, [b.key]: { items: items(19, 10), version: 'v1' } });
      const paged = new PagedIndex({ fetch: s.fetch, onChange: () => {} });
      await paged.setHead(headOf([c, b]));
      await paged.loadOlder();
      await paged.loadOlder();
      expect(titles(paged.doc)).toEqual(items(29, 10).map((i) => i.title));
      // b and the empty oldest page are sealed into a volume.
      const empty: Entry = { key: pageKey('0'), count: 0, version: '0' };
      const volume: Entry = { key: volumeKey('1-0'), count: 10, version: 'w1', level: 1 };
      s.docs[volume.key] = { pages: [b, empty], version: 'w1' };
      await paged.setHead(headOf([c, volume]));
      expect(s.requests.map((r) => r.key)).toEqual([c.key, b.key, volume.key]);
      expect(titles(paged.doc)).toEqual(items(29, 10).map((i) => i.title));
      expect(paged.hasMore).toBe(false);
    });
  });

  it('the poller sees a head whose pages changed as a change', () => {
    const a = head([{ name: 'c', count: 5, version: 'v1' }]);
    expect(sameHead(a, head([{ name: 'c', count: 5, version: 'v1' }]))).toBe(true);
    expect(sameHead(a, head([{ name: 'c', count: 5, version: 'v2' }]))).toBe(false);
    expect(sameHead(a, head([{ name: 'c', count: 4, version: 'v1' }]))).toBe(false);
  });
});
