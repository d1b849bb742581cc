import { describe, expect, it } from 'vitest';
import { moveToVisibility, type MoveDeps } from './move';
import type { IndexItem } from './indexdoc';
import type { UploadMetadata } from './metadata';

const ID = 'us-east-1:0b5c0000-0000-4000-8000-000000000001';
const item: IndexItem = {
  identityId: ID,
  objectKey: `public/content/${ID}/beach.jpg`,
  isPublic: true,
  title: 'Edited title',
  description: 'Edited description, café',
  uploadDate: '2026-01-02T03:04:05.678Z',
  contentType: 'image/jpeg',
};

function fakeDeps(taken: Record<'public' | 'private', string[]>, refuse: Set<string> = new Set()) {
  const calls: string[] = [];
  const metas: UploadMetadata[] = [];
  const deps: MoveDeps = {
    takenNames: (isPublic) => Promise.resolve(new Set(taken[isPublic ? 'public' : 'private'])),
    copy: (from, to, type, meta) => {
      calls.push(`copy ${from} -> ${to} (${type})`);
      metas.push(meta);
      if (refuse.has(to)) return Promise.reject(Object.assign(new Error('PreconditionFailed'), { $metadata: { httpStatusCode: 412 } }));
      return Promise.resolve();
    },
    put: (key, body, type, meta) => {
      calls.push(`put ${key} ${body.length} bytes (${type})`);
      metas.push(meta);
      return Promise.resolve();
    },
    remove: (key) => {
      calls.push(`delete ${key}`);
      return Promise.resolve();
    },
  };
  return { deps, calls, metas };
}

describe('moveToVisibility', () => {
  it('copies with the current title, description and the old key, then deletes the old original', async () => {
    const { deps, calls, metas } = fakeDeps({ public: ['beach.jpg'], private: [] });
    const key = await moveToVisibility(item, false, deps);
    expect(key).toBe(`private/content/${ID}/beach.jpg`);
    expect(calls).toEqual([
      `copy public/content/${ID}/beach.jpg -> private/content/${ID}/beach.jpg (image/jpeg)`,
      `delete public/content/${ID}/beach.jpg`,
    ]);
    // The old key, never a date: the backend dates the new item by the old one's.
    const movedFrom = `public/content/${ID}/beach.jpg`;
    expect(metas).toEqual([{ isPublic: false, title: 'Edited title', description: 'Edited description, café', movedFrom }]);
  });

  it('never deletes the old original when the copy fails', async () => {
    const { deps, calls } = fakeDeps({ public: [], private: [] });
    deps.copy = () => Promise.reject(Object.assign(new Error('AccessDenied'), { $metadata: { httpStatusCode: 403 } }));
    await expect(moveToVisibility(item, false, deps)).rejects.toThrow('AccessDenied');
    expect(calls).toEqual([]);
  });

  it('picks another name when the name is used under the new prefix, known or found by a 412', async () => {
    const { deps, calls } = fakeDeps({ public: [], private: ['beach.jpg'] }, new Set([`private/content/${ID}/beach (2).jpg`]));
    const key = await moveToVisibility(item, false, deps);
    expect(key).toBe(`private/content/${ID}/beach (3).jpg`);
    expect(calls.filter((c) => c.startsWith('copy')).length).toBe(2);
    expect(calls.at(-1)).toBe(`delete public/content/${ID}/beach.jpg`);
  });

  it('writes the given bytes instead of a copy (a location removed on the way to public)', async () => {
    const { deps, calls } = fakeDeps({ public: [], private: [] });
    const priv = { ...item, objectKey: `private/content/${ID}/beach.jpg`, isPublic: false };
    await moveToVisibility(priv, true, deps, new Uint8Array(10));
    expect(calls).toEqual([`put public/content/${ID}/beach.jpg 10 bytes (image/jpeg)`, `delete private/content/${ID}/beach.jpg`]);
  });

  it('refuses, before writing anything, a description too long for S3 metadata', async () => {
    const { deps, calls } = fakeDeps({ public: [], private: [] });
    await expect(moveToVisibility({ ...item, description: 'é'.repeat(1500) }, false, deps)).rejects.toThrow(/too long/);
    expect(calls).toEqual([]);
  });

  it('counts the old key in the metadata size: a description that fits alone may not with a long name', async () => {
    const description = 'x'.repeat(1500);
    const fits = fakeDeps({ public: [], private: [] });
    const moved = moveToVisibility({ ...item, description }, false, fits.deps);
    await expect(moved).resolves.toBe(`private/content/${ID}/beach.jpg`);
    const tooLong = fakeDeps({ public: [], private: [] });
    const longName = { ...item, description, objectKey: `public/content/${ID}/${'é'.repeat(100)}.jpg` };
    await expect(moveToVisibility(longName, false, tooLong.deps)).rejects.toThrow(/too long/);
    expect(tooLong.calls).toEqual([]);
  });

  it('does nothing when the picture already has that visibility', async () => {
    const { deps, calls } = fakeDeps({ public: [], private: [] });
    expect(await moveToVisibility(item, true, deps)).toBe(item.objectKey);
    expect(calls).toEqual([]);
  });
});
