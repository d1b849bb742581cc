import { describe, expect, it } from 'vitest';
import {
  contentKey, contentPrefix, derivedKey, fileNameOfKey, privateIndexKey, PUBLIC_INDEX_KEY, sanitizeFileName, uniqueFileName,
  visibilityOf, visibilityOfKey, MAX_FILE_NAME_BYTES,
} from './keys';

const ID = 'us-east-1:0f9c1d2e-1111-2222-3333-444455556666';

describe('keys', () => {
  it('builds content keys by visibility', () => {
    expect(contentKey('public', ID, 'b c.png')).toBe(`public/content/${ID}/b c.png`);
    expect(contentKey('private', ID, 'a+b%2B.jpg')).toBe(`private/content/${ID}/a+b%2B.jpg`);
    expect(contentPrefix('public', ID)).toBe(`public/content/${ID}/`);
    expect(contentPrefix('private', ID)).toBe(`private/content/${ID}/`);
    expect(contentKey(visibilityOf(true), ID, 'a.jpg')).toBe(`public/content/${ID}/a.jpg`);
    expect(contentKey(visibilityOf(false), ID, 'a.jpg')).toBe(`private/content/${ID}/a.jpg`);
  });
  it('refuses empty identity or file names with slashes', () => {
    expect(() => contentKey('public', '', 'a.png')).toThrow();
    expect(() => contentKey('public', ID, 'x/y.png')).toThrow();
    expect(() => contentKey('public', ID, '')).toThrow();
  });
  it('derives thumbnail and faces keys by replacing the content segment', () => {
    expect(derivedKey('public/content/a/b c.png', 'thumbnails')).toBe('public/thumbnails/a/b c.png');
    expect(derivedKey('private/content/a/content/x.png', 'faces')).toBe('private/faces/a/content/x.png');
    expect(() => derivedKey('tmp/x.jpg', 'faces')).toThrow();
  });
  it('index keys', () => {
    expect(PUBLIC_INDEX_KEY).toBe('public/index/content.json');
    expect(privateIndexKey(ID)).toBe(`private/index/${ID}/content.json`);
    expect(() => privateIndexKey('')).toThrow();
  });
  it('file name and visibility of a key', () => {
    expect(fileNameOfKey(`public/content/${ID}/b c.png`)).toBe('b c.png');
    expect(visibilityOfKey('private/content/x/y')).toBe('private');
    expect(visibilityOfKey('tmp/x')).toBeUndefined();
  });
  it('sanitizes browser file names', () => {
    expect(sanitizeFileName('ok name.jpg')).toBe('ok name.jpg');
    expect(sanitizeFileName('a/b\\c\u0001.png')).toBe('a_b_c_.png');
    expect(sanitizeFileName('...hidden.png')).toBe('hidden.png');
    expect(sanitizeFileName('   ')).toBe('picture');
    const long = sanitizeFileName('é'.repeat(400) + '.jpeg');
    expect(new TextEncoder().encode(long).length).toBeLessThanOrEqual(MAX_FILE_NAME_BYTES);
    expect(long.endsWith('.jpeg')).toBe(true);
  });
  it('makes file names unique without losing the extension', () => {
    expect(uniqueFileName('a.jpg', new Set())).toBe('a.jpg');
    expect(uniqueFileName('a.jpg', new Set(['a.jpg']))).toBe('a (2).jpg');
    expect(uniqueFileName('a.jpg', new Set(['a.jpg', 'a (2).jpg']))).toBe('a (3).jpg');
    expect(uniqueFileName('noext', new Set(['noext']))).toBe('noext (2)');
  });
});
