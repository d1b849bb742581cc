import { describe, expect, it } from 'vitest';
import { pictures, runBulk, summarize, type BulkProgress } from './bulk';

interface Pic { key: string; title: string; isPublic?: boolean }
const pics = (n: number): Pic[] => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, title: `Picture ${i}` }));
const describeError = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** An action whose calls wait until the test settles them, one by one. */
function gated() {
  const pending = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  let running = 0;
  let most = 0;
  const started: string[] = [];
  const run = (p: Pic) => {
    started.push(p.key);
    running++;
    most = Math.max(most, running);
    return new Promise<void>((resolve, reject) => {
      pending.set(p.key, {
        resolve: () => { running--; resolve(); },
        reject: (e) => { running--; reject(e); },
      });
    });
  };
  return { run, pending, started, get running() { return running; }, get most() { return most; } };
}

class Odd extends Error {}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('runBulk', () => {
  it('runs at most `concurrency` actions at once, starting the next as one ends', async () => {
    const g = gated();
    const done = runBulk(pics(7), { run: g.run, concurrency: 3, describeError });
    await tick();
    expect(g.started).toEqual(['k0', 'k1', 'k2']);
    g.pending.get('k1')!.resolve();
    await tick();
    expect(g.started).toEqual(['k0', 'k1', 'k2', 'k3']);
    expect(g.running).toBe(3);
    for (const k of ['k0', 'k2', 'k3', 'k4', 'k5', 'k6']) {
      await tick();
      g.pending.get(k)!.resolve();
    }
    const report = await done;
    expect(g.most).toBe(3);
    expect(report.done.map((p) => p.key)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
    expect(report.failed).toEqual([]);
  });

  it('never runs more lanes than items, and at least one', async () => {
    const g = gated();
    const done = runBulk(pics(2), { run: g.run, concurrency: 5, describeError });
    await tick();
    expect(g.running).toBe(2);
    g.pending.get('k0')!.resolve();
    g.pending.get('k1')!.resolve();
    await done;
    const one = gated();
    const serial = runBulk(pics(3), { run: one.run, concurrency: 0, describeError });
    await tick();
    expect(one.running).toBe(1);
    for (const k of ['k0', 'k1', 'k2']) {
      one.pending.get(k)!.resolve();
      await tick();
    }
    expect((await serial).done).toHaveLength(3);
    expect(one.most).toBe(1);
  });

  it('reports progress before the first action and after each one ends', async () => {
    const seen: BulkProgress[] = [];
    const items = pics(4);
    await runBulk(items, {
      run: (p) => (p.key === 'k2' ? Promise.reject(new Error('nope')) : Promise.resolve()),
      concurrency: 2,
      describeError,
      onProgress: (p) => seen.push(p),
    });
    expect(seen[0]).toEqual({ finished: 0, total: 4, succeeded: 0, failed: 0 });
    expect(seen.map((p) => p.finished)).toEqual([0, 1, 2, 3, 4]);
    expect(seen.at(-1)).toEqual({ finished: 4, total: 4, succeeded: 3, failed: 1 });
  });

  it('names each failure with its item and reason, in the order given, whatever ends first', async () => {
    const g = gated();
    const done = runBulk(pics(5), { run: g.run, concurrency: 5, describeError });
    await tick();
    g.pending.get('k4')!.reject(new Error('Not allowed'));
    g.pending.get('k3')!.resolve();
    g.pending.get('k1')!.reject(new Error('Network error'));
    g.pending.get('k0')!.resolve();
    g.pending.get('k2')!.resolve();
    const report = await done;
    expect(report.failed.map((f) => [f.item.title, f.reason])).toEqual([
      ['Picture 1', 'Network error'],
      ['Picture 4', 'Not allowed'],
    ]);
    expect(report.done.map((p) => p.key)).toEqual(['k0', 'k2', 'k3']);
  });

  it('goes on after an action that throws synchronously, or with a describer that throws', async () => {
    const ran: string[] = [];
    const report = await runBulk(pics(4), {
      run: (p) => {
        ran.push(p.key);
        if (p.key === 'k1') throw new Error('thrown at once');
        if (p.key === 'k2') throw new Odd('odd');
        return Promise.resolve();
      },
      concurrency: 1,
      describeError: (err) => {
        if (err instanceof Odd) throw new Error('describer broke');
        return describeError(err);
      },
    });
    expect(ran).toEqual(['k0', 'k1', 'k2', 'k3']);
    expect(report.done.map((p) => p.key)).toEqual(['k0', 'k3']);
    expect(report.failed.map((f) => f.reason)).toEqual(['thrown at once', 'odd']);
  });

  it('skips what `skip` names, counts it by reason, and runs nothing for it', async () => {
    const items: Pic[] = [
      { key: 'a', title: 'A', isPublic: true },
      { key: 'b', title: 'B', isPublic: false },
      { key: 'c', title: 'C', isPublic: true },
      { key: 'd', title: 'D', isPublic: false },
    ];
    const ran: string[] = [];
    const seen: BulkProgress[] = [];
    const report = await runBulk(items, {
      run: (p) => { ran.push(p.key); return Promise.resolve(); },
      skip: (p) => (p.isPublic ? 'already public' : undefined),
      concurrency: 3,
      describeError,
      onProgress: (p) => seen.push(p),
    });
    expect(ran).toEqual(['b', 'd']);
    expect(report.skipped.map((s) => [s.item.key, s.reason])).toEqual([['a', 'already public'], ['c', 'already public']]);
    expect(seen[0].total).toBe(2);
    expect(summarize(report, (n) => `Made ${pictures(n)} public`)).toBe('Made 2 pictures public. Skipped 2 pictures: already public.');
  });

  it('starts nothing more once aborted, and reports what was not tried', async () => {
    const abort = new AbortController();
    const g = gated();
    const done = runBulk(pics(6), { run: g.run, concurrency: 2, describeError, signal: abort.signal });
    await tick();
    g.pending.get('k0')!.resolve();
    await tick();
    abort.abort();
    g.pending.get('k1')!.resolve();
    g.pending.get('k2')!.reject(new Error('Cancelled'));
    const report = await done;
    expect(g.started).toEqual(['k0', 'k1', 'k2']);
    expect(report.done.map((p) => p.key)).toEqual(['k0', 'k1']);
    expect(report.failed.map((f) => f.item.key)).toEqual(['k2']);
    expect(report.notStarted.map((p) => p.key)).toEqual(['k3', 'k4', 'k5']);
  });

  it('an empty selection reports nothing done', async () => {
    const report = await runBulk([], { run: () => Promise.resolve(), concurrency: 3, describeError });
    expect(report).toEqual({ done: [], skipped: [], failed: [], notStarted: [] });
  });
});

describe('summarize', () => {
  it('says what was done, skipped, failed and not tried', () => {
    const p = pics(5);
    const text = summarize({
      done: [p[0], p[1]],
      skipped: [{ item: p[2], reason: 'already private' }],
      failed: [{ item: p[3], reason: 'Not allowed' }],
      notStarted: [p[4]],
    }, (n) => `Made ${pictures(n)} private`);
    expect(text).toBe('Made 2 pictures private. Skipped 1 picture: already private. 1 picture failed and stays selected: see why below, then try again. 1 picture not tried: cancelled.');
  });

  it('only the skip when everything was skipped', () => {
    const p = pics(1);
    expect(summarize({ done: [], skipped: [{ item: p[0], reason: 'already public' }], failed: [], notStarted: [] }, (n) => `Made ${pictures(n)} public`))
      .toBe('Skipped 1 picture: already public.');
  });
});
