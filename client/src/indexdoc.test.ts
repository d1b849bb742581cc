import { describe, expect, it } from 'vitest';
import { parseIndex, parseItem, sameItems } from './indexdoc';

const ID = 'us-east-1:abc';
const item = (n: number, extra: Record<string, unknown> = {}) => ({
  identityId: ID,
  objectKey: `public/content/${ID}/p${n}.jpg`,
  thumbnailKey: `public/thumbnails/${ID}/p${n}.jpg`,
  isPublic: true,
  title: `Picture ${n}`,
  description: '',
  uploadDate: `2026-11-23T14:05:0${n}.000Z`,
  contentType: 'image/jpeg',
  width: 400,
  height: 300,
  ...extra,
});

describe('parseIndex', () => {
  it('parses the contract example', () => {
    const doc = parseIndex(JSON.stringify({
      version: 1, generatedAt: '2026-11-23T14:05:10.002Z',
      items: [item(2, { facesKey: `public/faces/${ID}/p2.jpg`, faceCount: 2 }), item(1)],
    }));
    expect(doc.version).toBe(1);
    expect(doc.generatedAt).toBe('2026-11-23T14:05:10.002Z');
    expect(doc.items.map((i) => i.title)).toEqual(['Picture 2', 'Picture 1']);
    expect(doc.items[0].faceCount).toBe(2);
    expect(doc.items[0].facesKey).toBe(`public/faces/${ID}/p2.jpg`);
    expect(doc.items[1].faceCount).toBeUndefined();
    expect(doc.items[1].facesKey).toBeUndefined();
  });

  it('keeps the reason an upload was not kept, and only the known ones', () => {
    const item = (refused: unknown) => ({ identityId: 'i', objectKey: 'private/content/i/a.jpg', uploadDate: '2026-01-01T00:00:00.000Z', refused });
    const doc = parseIndex({ version: 2, items: [item('overQuota'), { ...item('bogus'), objectKey: 'private/content/i/b.jpg' }] });
    expect(doc.items.map((i) => i.refused)).toEqual(['overQuota', undefined]);
  });
  it('orders newest first even if the writer did not', () => {
    const doc = parseIndex({ version: 1, items: [item(1), item(3), item(2)] });
    expect(doc.items.map((i) => i.title)).toEqual(['Picture 3', 'Picture 2', 'Picture 1']);
  });

  it('drops malformed items and duplicates, keeps the rest', () => {
    const doc = parseIndex({
      version: 1,
      items: [null, 7, 'x', {}, { identityId: ID }, { identityId: ID, objectKey: 'tmp/x.jpg' }, item(1), item(1)],
    });
    expect(doc.items).toHaveLength(1);
  });

  it('falls back to the file name for a missing or empty title, and ignores wrong types', () => {
    const it1 = parseItem({ ...item(1), title: '', faceCount: 'two', width: -3, description: 5 });
    expect(it1?.title).toBe('p1.jpg');
    expect(it1?.faceCount).toBeUndefined();
    expect(it1?.width).toBeUndefined();
    expect(it1?.description).toBe('');
  });

  it('takes visibility from the prefix when isPublic is missing', () => {
    const { isPublic: _ignored, ...noVis } = item(1);
    void _ignored;
    expect(parseItem({ ...noVis, objectKey: `private/content/${ID}/p.jpg` })?.isPublic).toBe(false);
  });

  it('keeps hostile strings verbatim (they are rendered as text)', () => {
    const doc = parseIndex({ items: [item(1, { title: '<img src=x onerror=alert(1)>' })] });
    expect(doc.items[0].title).toBe('<img src=x onerror=alert(1)>');
  });

  it('rejects bodies that are not an index', () => {
    expect(() => parseIndex('not json')).toThrow();
    expect(() => parseIndex('[]')).toThrow();
    expect(() => parseIndex('{"version":1}')).toThrow();
  });

  it('sameItems compares what is rendered', () => {
    const a = parseIndex({ items: [item(1), item(2)] });
    const b = parseIndex({ generatedAt: 'later', items: [item(2), item(1)] });
    expect(sameItems(a, b)).toBe(true);
    expect(sameItems(a, parseIndex({ items: [item(1), item(2, { title: 'changed' })] }))).toBe(false);
    expect(sameItems(a, parseIndex({ items: [item(1), item(2, { faceCount: 0 })] }))).toBe(false);
    expect(sameItems(a, parseIndex({ items: [item(1)] }))).toBe(false);
    expect(sameItems(a, parseIndex({ items: [item(1), item(2, { previewKey: `public/previews/${ID}/p2.jpg` })] }))).toBe(false);
  });
});

describe('previews and animations', () => {
  it('reads previewKey and animated, dropping wrong types', () => {
    const parsed = parseItem(item(1, { previewKey: `public/previews/${ID}/p1.jpg`, animated: true }));
    expect(parsed?.previewKey).toBe(`public/previews/${ID}/p1.jpg`);
    expect(parsed?.animated).toBe(true);
    const odd = parseItem(item(1, { previewKey: 5, animated: 'yes' }));
    expect(odd?.previewKey).toBeUndefined();
    expect(odd?.animated).toBeUndefined();
  });
});
