import { describe, expect, it } from 'vitest';
import { AccountDeletionError, deleteAccount, picturesListed, type AccountDeletionPorts, type DeletionProgress } from './account-deletion';

const ID = 'us-east-1:0000';
const pub = (n: string) => `public/content/${ID}/${n}`;
const priv = (n: string) => `private/content/${ID}/${n}`;

/** The AccountDeletionError a deletion fails with (fails the test when it resolves or throws another error). */
async function deletionError(deletion: Promise<void>): Promise<AccountDeletionError> {
  const err = await deletion.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AccountDeletionError);
  return err as AccountDeletionError;
}

/**
 * A bucket and a pipeline: deleting an original removes its index entry `lag` polls later (the
 * pipeline's latency), so the index empties only after the deletes and some waiting.
 */
function fakeStack(originals: string[], { lag = 2, refuse = new Set<string>(), arriving = [] as string[][] } = {}) {
  const bucket = new Set(originals);
  const indexed = new Map(originals.map((k) => [k, 0] as [string, number]));
  const calls: string[] = [];
  let clock = 0;
  let lists = 0;
  const ports: AccountDeletionPorts = {
    listOwnOriginals() {
      calls.push('list');
      // Someone uploading from another device: new originals appear after a listing.
      for (const k of arriving[lists++] ?? []) {
        bucket.add(k);
        indexed.set(k, 0);
      }
      const keys = [...bucket];
      return Promise.resolve({ publicKeys: keys.filter((k) => k.startsWith('public/')), privateKeys: keys.filter((k) => k.startsWith('private/')) });
    },
    deleteObjects(keys) {
      calls.push(`delete ${keys.length}`);
      const failed = [];
      for (const k of keys) {
        if (refuse.has(k)) failed.push({ key: k, message: 'Access Denied' });
        else if (bucket.delete(k)) indexed.set(k, lag);
      }
      return Promise.resolve(failed);
    },
    fetchPrivateIndex() {
      calls.push('index');
      for (const [k, left] of indexed) {
        if (bucket.has(k)) continue;
        if (left <= 0) indexed.delete(k);
        else indexed.set(k, left - 1);
      }
      if (indexed.size === 0 && originals.length === 0) return Promise.resolve(undefined);
      return Promise.resolve(JSON.stringify({ version: 1, items: [...indexed.keys()].map((objectKey) => ({ objectKey })) }));
    },
    deleteAlbums() {
      calls.push('albums');
      return Promise.resolve();
    },
    deleteUser() {
      calls.push('deleteUser');
      return Promise.resolve();
    },
    sleep(ms) {
      clock += ms;
      return Promise.resolve();
    },
    now: () => clock,
  };
  return { ports, calls, bucket };
}

describe('picturesListed (is the private index empty?)', () => {
  it('no index, or no items and no pages, is empty', () => {
    expect(picturesListed(undefined)).toBe(0);
    expect(picturesListed('{"version":1,"items":[]}')).toBe(0);
    expect(picturesListed('{"version":2,"items":[],"pages":[]}')).toBe(0);
  });

  it('counts the head items and the pages', () => {
    expect(picturesListed('{"version":1,"items":[{},{}]}')).toBe(2);
    expect(picturesListed('{"version":2,"items":[],"pages":[{"key":"a","count":100},{"key":"b","count":3}]}')).toBe(103);
    // A page without a count still means "not empty yet".
    expect(picturesListed('{"version":2,"items":[],"pages":[{"key":"a"}]}')).toBe(1);
  });

  it('pages left with count 0 after their items were deleted are empty', () => {
    // What update-content-index writes once every picture of a paged index is deleted.
    expect(picturesListed('{"version":2,"items":[],"pages":[{"key":"a","count":0},{"key":"b","count":0}]}')).toBe(0);
  });

  it('a body that is not JSON is an error, not "empty"', () => {
    expect(() => picturesListed('<html>')).toThrow();
  });
});

describe('deleteAccount', () => {
  it('deletes every original, waits for the index to empty, then deletes the user', async () => {
    const { ports, calls, bucket } = fakeStack([pub('a.jpg'), pub('b.jpg'), priv('c.jpg')], { lag: 2 });
    const progress: DeletionProgress[] = [];
    await deleteAccount(ports, { onProgress: (p) => progress.push(p), pollMs: 1000 });
    expect(bucket.size).toBe(0);
    expect(calls.indexOf('deleteUser')).toBe(calls.length - 1);
    // The user is deleted only after an index read that found it empty.
    expect(calls.filter((c) => c === 'index').length).toBeGreaterThanOrEqual(3);
    expect(calls[0]).toBe('albums');
    expect(progress.slice(0, 2)).toEqual([{ step: 'deleting-albums' }, { step: 'deleting', deleted: 0, total: 3 }]);
    expect(progress).toContainEqual({ step: 'deleting', deleted: 3, total: 3 });
    expect(progress).toContainEqual({ step: 'waiting', remaining: 3 });
    expect(progress.slice(-2)).toEqual([{ step: 'deleting-account' }, { step: 'done' }]);
  });

  it('batches deletes (DeleteObjects takes 1,000 keys at most)', async () => {
    const keys = Array.from({ length: 2_345 }, (_, i) => pub(`p${i}.jpg`));
    const { ports, calls } = fakeStack(keys, { lag: 0 });
    await deleteAccount(ports);
    expect(calls.filter((c) => c.startsWith('delete '))).toEqual(['delete 1000', 'delete 1000', 'delete 345']);
  });

  it('a person without pictures: the user is deleted at once', async () => {
    const { ports, calls } = fakeStack([]);
    await deleteAccount(ports);
    expect(calls).toEqual(['albums', 'list', 'index', 'deleteUser']);
  });

  it('albums that cannot be deleted keep the account and every picture', async () => {
    const { ports, calls, bucket } = fakeStack([pub('a.jpg')]);
    ports.deleteAlbums = () => {
      calls.push('albums');
      return Promise.reject(new Error('Access Denied'));
    };
    const err = await deletionError(deleteAccount(ports));
    expect(err.failure).toBe('albums-not-deleted');
    expect(err.message).toBe('Your albums could not be deleted (Access Denied). Your account is kept; try again.');
    expect(calls).toEqual(['albums']);
    expect(bucket.size).toBe(1);
  });

  it('a refused delete keeps the account and says how many failed', async () => {
    const { ports, calls } = fakeStack([pub('a.jpg'), priv('b.jpg')], { refuse: new Set([priv('b.jpg')]) });
    const err = await deletionError(deleteAccount(ports));
    expect(err.failure).toBe('pictures-not-deleted');
    expect(err.message).toBe('1 of 2 pictures could not be deleted (Access Denied). Your account is kept; try again.');
    expect(calls).not.toContain('deleteUser');
  });

  it('an index that does not empty in time keeps the account', async () => {
    const { ports, calls } = fakeStack([pub('a.jpg')], { lag: 1_000 });
    const err = await deletionError(deleteAccount(ports, { waitTimeoutMs: 10_000, pollMs: 2_000 }));
    expect(err.failure).toBe('index-not-empty');
    expect(err.message).toMatch(/^Your pictures are deleted, but 1 are still being removed/);
    expect(calls).not.toContain('deleteUser');
  });

  it('pictures uploaded meanwhile from another device are deleted too', async () => {
    const { ports, calls, bucket } = fakeStack([pub('a.jpg')], { lag: 0, arriving: [[], [priv('late.jpg')]] });
    await deleteAccount(ports);
    expect(bucket.size).toBe(0);
    expect(calls.filter((c) => c === 'list').length).toBe(3);
    expect(calls.at(-1)).toBe('deleteUser');
  });

  it('gives up when pictures keep arriving, keeping the account', async () => {
    const more = (i: number) => [pub(`more${i}.jpg`)];
    const { ports, calls } = fakeStack([pub('a.jpg')], { lag: 0, arriving: [[], more(1), more(2), more(3), more(4)] });
    const err = await deletionError(deleteAccount(ports));
    expect(err.failure).toBe('pictures-keep-coming');
    expect(calls).not.toContain('deleteUser');
  });
});
