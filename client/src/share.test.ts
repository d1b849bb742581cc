import { describe, expect, it } from 'vitest';
import { findShared, itemFromHead, parseShareHash, shareHash, shareUrl, type FindDeps } from './share';
import type { IndexDoc, IndexItem } from './indexdoc';

const OWNER = 'us-east-1:0b5c0000-0000-4000-8000-000000000001';
const OTHER = 'us-east-1:0b5c0000-0000-4000-8000-000000000002';

const item = (objectKey: string, title: string): IndexItem => ({
  identityId: objectKey.split('/')[2], objectKey, isPublic: objectKey.startsWith('public/'), title, description: '', uploadDate: '2026-11-30T10:00:00.000Z',
});
const doc = (...items: IndexItem[]): IndexDoc => ({ version: 2, items, pages: [] });

describe('share links', () => {
  it('round-trip any file name, safely encoded', () => {
    for (const fileName of ['a.jpg', 'b c.png', '50% #1?x=y&z.jpg', 'été 東京 😀.jpg', "it's (2).jpg", 'p+q.jpg']) {
      const hash = shareHash({ identityId: OWNER, fileName });
      expect(hash.startsWith('#/p/')).toBe(true);
      expect(hash.slice(4).split('/').length).toBe(2);
      expect(hash).not.toMatch(/[ ?]/);
      expect(parseShareHash(hash)).toEqual({ identityId: OWNER, fileName });
    }
    const url = shareUrl('http://127.0.0.1:5173/#/mine', item(`private/content/${OWNER}/b c.png`, 't'));
    expect(url).toBe(`http://127.0.0.1:5173/#/p/${encodeURIComponent(OWNER)}/b%20c.png`);
  });

  it('refuse malformed links', () => {
    for (const hash of ['#/p/', '#/p/abc', '#/p//a.jpg', `#/p/${OWNER}/`, `#/p/${OWNER}/a/b.jpg`, '#/p/%E0%A4%A/a.jpg', `#/p/${OWNER}/%2F`, '#/mine']) {
      expect(parseShareHash(hash), hash).toBeUndefined();
    }
  });
});

describe('findShared', () => {
  const pub = item(`public/content/${OWNER}/sea.jpg`, 'Sea');
  const priv = item(`private/content/${OWNER}/garden.jpg`, 'Garden');
  const deps = (me: string | undefined, heads: Record<string, string> = {}): FindDeps & { heads: string[] } => {
    const asked: string[] = [];
    return {
      myIdentityId: me,
      privateIndex: () => Promise.resolve(me === OWNER ? doc(pub, priv) : doc()),
      publicIndex: () => Promise.resolve(doc(pub)),
      head: (key) => {
        asked.push(key);
        return Promise.resolve(key in heads ? { metadata: { data: heads[key] }, contentType: 'image/jpeg', size: 10, lastModified: new Date('2026-01-01T00:00:00Z') } : undefined);
      },
      heads: asked,
    };
  };

  it('the owner finds a private picture; nobody else does', async () => {
    expect(await findShared({ identityId: OWNER, fileName: 'garden.jpg' }, deps(OWNER))).toEqual({ item: priv, from: 'private-index' });
    expect(await findShared({ identityId: OWNER, fileName: 'garden.jpg' }, deps(OTHER))).toBeUndefined();
    expect(await findShared({ identityId: OWNER, fileName: 'garden.jpg' }, deps(undefined))).toBeUndefined();
  });

  it('anyone finds a public picture, signed in or not', async () => {
    for (const me of [OWNER, OTHER, undefined]) {
      expect((await findShared({ identityId: OWNER, fileName: 'sea.jpg' }, deps(me)))?.item).toBe(pub);
    }
  });

  it('its owner knows a public picture beyond the indexes\' heads from the original\'s metadata', async () => {
    const key = `public/content/${OWNER}/old.jpg`;
    const d = deps(OWNER, { [key]: '{"isPublic":true,"title":"Old \\u00e9","description":"d"}' });
    const found = await findShared({ identityId: OWNER, fileName: 'old.jpg' }, d);
    expect(found?.from).toBe('original');
    expect(found?.item).toMatchObject({ objectKey: key, title: 'Old é', description: 'd', uploadDate: '2026-01-01T00:00:00.000Z', thumbnailKey: `public/thumbnails/${OWNER}/old.jpg`, isPublic: true });
    expect(d.heads).toEqual([key]);
  });

  it('anyone else knows it from its preview, never asking for the original', async () => {
    const key = `public/content/${OWNER}/old (1).jpg`;
    const previewKey = `public/previews/${OWNER}/old (1).jpg`;
    for (const me of [OTHER, undefined]) {
      const d = deps(me, { [previewKey]: '', [key]: '{"title":"not for them"}' });
      const found = await findShared({ identityId: OWNER, fileName: 'old (1).jpg' }, d);
      expect(found).toEqual({
        from: 'preview',
        item: {
          identityId: OWNER, objectKey: key, thumbnailKey: `public/thumbnails/${OWNER}/old (1).jpg`, previewKey,
          isPublic: true, title: 'old (1).jpg', description: '', uploadDate: '',
        },
      });
      expect(d.heads).toEqual([previewKey]);
      // No preview (deleted, private, never made): not available, still without asking for the original.
      const none = deps(me, { [key]: '{}' });
      expect(await findShared({ identityId: OWNER, fileName: 'old (1).jpg' }, none)).toBeUndefined();
      expect(none.heads).toEqual([previewKey]);
    }
  });

  it('the date is the object\'s, never one its metadata claims', () => {
    const claim = '{"title":"t","uploadDate":"2001-01-01T00:00:00.000Z"}';
    const head = { metadata: { data: claim }, lastModified: new Date('2026-01-01T00:00:00Z') };
    const it = itemFromHead({ identityId: OWNER, fileName: 'x.jpg' }, `public/content/${OWNER}/x.jpg`, head);
    expect(it.uploadDate).toBe('2026-01-01T00:00:00.000Z');
  });

  it('broken metadata falls back to the file name and the object\'s date', () => {
    const it = itemFromHead({ identityId: OWNER, fileName: 'x.jpg' }, `public/content/${OWNER}/x.jpg`, { metadata: { data: '{oops' }, lastModified: new Date('2026-01-01T00:00:00Z') });
    expect(it.title).toBe('x.jpg');
    expect(it.uploadDate).toBe('2026-01-01T00:00:00.000Z');
  });
});
