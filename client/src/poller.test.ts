import { describe, expect, it, vi } from 'vitest';
import type { IndexDoc } from './indexdoc';
import { IndexPoller, type Conditions, type FetchResult } from './poller';

const ID = 'us-east-1:abc';
const body = (titles: string[]) => JSON.stringify({
  version: 1,
  items: titles.map((t, i) => ({ identityId: ID, objectKey: `public/content/${ID}/${i}.jpg`, title: t, uploadDate: `2026-01-0${9 - i}T00:00:00Z` })),
});

function setup(responses: (FetchResult | Error)[]) {
  const calls: Conditions[] = [];
  const fetch = vi.fn((_key: string, cond: Conditions): Promise<FetchResult> => {
    calls.push(cond);
    const r = responses.shift();
    if (!r) return Promise.reject(new Error('no more responses'));
    return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
  });
  const onChange = vi.fn<(doc: IndexDoc) => void>();
  const onError = vi.fn();
  const timers: { fn: () => void; ms: number }[] = [];
  const poller = new IndexPoller({
    key: 'public/index/content.json', fetch, onChange, onError, intervalMs: 1000,
    setTimer: (fn, ms) => timers.push({ fn, ms }), clearTimer: () => {},
  });
  return { poller, fetch, calls, onChange, onError, timers };
}

const LM1 = new Date('2026-11-23T14:05:10Z');
const LM2 = new Date('2026-11-23T14:05:12Z');

describe('IndexPoller', () => {
  it('first GET is unconditional, later ones carry If-Modified-Since and If-None-Match', async () => {
    const { poller, calls, onChange } = setup([
      { status: 'ok', body: body(['a']), lastModified: LM1, etag: '"e1"' },
      { status: 'not-modified' },
    ]);
    await poller.pollNow();
    await poller.pollNow();
    expect(calls[0]).toEqual({ ifModifiedSince: undefined, ifNoneMatch: undefined });
    expect(calls[1]).toEqual({ ifModifiedSince: LM1, ifNoneMatch: '"e1"' });
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it('304 means no change: no callback, state kept', async () => {
    const { poller, onChange, calls } = setup([
      { status: 'ok', body: body(['a']), lastModified: LM1, etag: '"e1"' },
      { status: 'not-modified' },
      { status: 'not-modified' },
      { status: 'ok', body: body(['b', 'a']), lastModified: LM2, etag: '"e2"' },
      { status: 'not-modified' },
    ]);
    for (let i = 0; i < 5; i++) await poller.pollNow();
    expect(onChange).toHaveBeenCalledTimes(2);
    expect(onChange.mock.calls[1][0].items.map((i: { title: string }) => i.title)).toEqual(['b', 'a']);
    expect(calls[4]).toEqual({ ifModifiedSince: LM2, ifNoneMatch: '"e2"' });
    expect(poller.stats).toMatchObject({ requests: 5, notModified: 3, changes: 2 });
  });

  it('a 200 with the same items (e.g. only generatedAt changed) does not re-render', async () => {
    const { poller, onChange } = setup([
      { status: 'ok', body: body(['a']), lastModified: LM1 },
      { status: 'ok', body: body(['a']).replace('"version":1', '"version":1,"generatedAt":"later"'), lastModified: LM2 },
    ]);
    await poller.pollNow();
    await poller.pollNow();
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it('a missing index is an empty gallery, reported once', async () => {
    const { poller, onChange, calls } = setup([{ status: 'missing' }, { status: 'missing' }, { status: 'ok', body: body(['a']), lastModified: LM1 }]);
    await poller.pollNow();
    await poller.pollNow();
    expect(onChange).toHaveBeenCalledTimes(1);
    expect(onChange.mock.calls[0][0].items).toEqual([]);
    expect(calls[1]).toEqual({ ifModifiedSince: undefined, ifNoneMatch: undefined });
    await poller.pollNow();
    expect(onChange).toHaveBeenCalledTimes(2);
  });

  it('errors are reported and polling continues with back-off; the old gallery stays', async () => {
    const { poller, onChange, onError, timers, calls } = setup([
      { status: 'ok', body: body(['a']), lastModified: LM1, etag: '"e1"' },
      new Error('network down'),
      { status: 'not-modified' },
    ]);
    poller.start();
    await vi.waitFor(() => expect(timers).toHaveLength(1));
    expect(timers[0].ms).toBe(1000);
    timers[0].fn();
    await vi.waitFor(() => expect(timers).toHaveLength(2));
    expect(onError).toHaveBeenCalledTimes(1);
    expect(timers[1].ms).toBe(2000);
    timers[1].fn();
    await vi.waitFor(() => expect(timers).toHaveLength(3));
    expect(timers[2].ms).toBe(1000);
    expect(calls[2]).toEqual({ ifModifiedSince: LM1, ifNoneMatch: '"e1"' });
    expect(onChange).toHaveBeenCalledTimes(1);
    expect(poller.doc?.items[0].title).toBe('a');
    poller.stop();
  });

  it('an unreadable index is an error, not an empty gallery', async () => {
    const { poller, onChange, onError } = setup([
      { status: 'ok', body: body(['a']), lastModified: LM1 },
      { status: 'ok', body: '<html>oops', lastModified: LM2 },
    ]);
    await poller.pollNow();
    await poller.pollNow();
    expect(onChange).toHaveBeenCalledTimes(1);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(poller.doc?.items).toHaveLength(1);
  });

  it('concurrent pollNow calls share one request', async () => {
    const { poller, fetch } = setup([{ status: 'ok', body: body(['a']), lastModified: LM1 }]);
    await Promise.all([poller.pollNow(), poller.pollNow(), poller.pollNow()]);
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('stop() ends the schedule', async () => {
    const { poller, timers } = setup([{ status: 'ok', body: body(['a']), lastModified: LM1 }]);
    poller.start();
    poller.stop();
    await new Promise((r) => setTimeout(r, 10));
    expect(timers).toHaveLength(0);
  });
});
