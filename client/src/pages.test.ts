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
  const fetch = vi.fn(async (key: string, cond: Conditions): Promise<FetchResult> => {
    requests.push({ key, cond });
    const page = Object.entries(pages).find(([name]) => pageKey(name) === key)?.[1];
    if (!page) return { status: 'missing' };
    const etag = `"${page.version}"`;
    if (cond.ifNoneMatch === etag) return { status: 'not-modified' };
    return { status: 'ok', etag, body: JSON.stringify({ version: 2, generatedAt: page.version, items: page.items }) };
  });
  return { fetch, requests, pages };
}

const titles = (doc: IndexDoc) => doc.items.map((i) => i.title);

describe('PagedIndex', () => {
  it('shows the head alone first and fetches no page until asked', async () => {
    const b = bucket({ b: { items: items(24, 20), version: 'v1' } });
    const onChange = vi.fn();
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

  it('a failed page fetch is reported and can be retried', async () => {
    let fail = true;
    const fetch = vi.fn(async (): Promise<FetchResult> => {
      if (fail) throw new Error('network down');
      return { status: 'ok', etag: '"v1"', body: JSON.stringify({ version: 2, generatedAt: 'v1', items: items(24, 20) }) };
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

  it('the poller sees a head whose pages changed as a change', () => {
    const a = head([{ name: 'c', count: 5, version: 'v1' }]);
    expect(sameHead(a, head([{ name: 'c', count: 5, version: 'v1' }]))).toBe(true);
    expect(sameHead(a, head([{ name: 'c', count: 5, version: 'v2' }]))).toBe(false);
    expect(sameHead(a, head([{ name: 'c', count: 4, version: 'v1' }]))).toBe(false);
  });
});
