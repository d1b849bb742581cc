import { describe, expect, it } from 'vitest';
import {
  checkFile, checkMetadataSize, clampChars, defaultTitle, encodeMetadata, MAX_DESCRIPTION, MAX_METADATA_VALUE_BYTES,
  MAX_TITLE, MAX_UPLOAD_BYTES, sniffImageType,
} from './metadata';

/** The metadata header's JSON, with the fields these tests read. */
const decoded = (header: string) => JSON.parse(header) as { title: string; description: string };

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16]);

describe('encodeMetadata', () => {
  it('writes the contract shape', () => {
    const s = encodeMetadata({ isPublic: true, title: 'Beach', description: 'Sunny day' });
    expect(JSON.parse(s)).toEqual({ isPublic: true, title: 'Beach', description: 'Sunny day' });
    expect(s).toBe('{"isPublic":true,"title":"Beach","description":"Sunny day"}');
  });

  it('escapes non-ASCII as \\uXXXX so the header is pure printable ASCII', () => {
    const meta = { isPublic: false, title: 'Café über 東京 😀', description: 'line1\nline2\ttab "quoted" \\ back\u007f' };
    const s = encodeMetadata(meta);
    expect(s).toMatch(/^[\x20-\x7e]*$/);
    expect(s).toContain('Caf\\u00e9');
    expect(s).toContain('\\u00fcber');
    expect(s).toContain('\\u6771\\u4eac');
    expect(s).toContain('\\ud83d\\ude00');
    expect(s).toContain('\\u007f');
    expect(JSON.parse(s)).toEqual(meta);
  });

  it('trims and clamps title and description by characters', () => {
    const s = encodeMetadata({ isPublic: true, title: '  ' + 'é'.repeat(300) + '  ', description: 'x'.repeat(MAX_DESCRIPTION + 50) });
    const back = decoded(s);
    expect(Array.from(back.title)).toHaveLength(MAX_TITLE);
    expect(back.description).toHaveLength(MAX_DESCRIPTION);
  });

  it('never splits a surrogate pair when clamping', () => {
    const t = clampChars('😀'.repeat(3), 2);
    expect(t).toBe('😀😀');
    expect(clampChars('abc', 5)).toBe('abc');
  });

  it('injection-looking titles are just data', () => {
    const title = '<img src=x onerror=alert(1)>';
    expect(decoded(encodeMetadata({ isPublic: true, title, description: '' })).title).toBe(title);
  });
});

describe('checkMetadataSize', () => {
  it('accepts ordinary metadata', () => {
    expect(checkMetadataSize({ isPublic: true, title: 't', description: 'd'.repeat(1500) }).ok).toBe(true);
  });
  it('rejects metadata that would exceed the 2 KB S3 user-metadata limit', () => {
    const r = checkMetadataSize({ isPublic: true, title: 't', description: 'ü'.repeat(400) });
    expect(r.ok).toBe(false);
    expect(encodeMetadata({ isPublic: true, title: 't', description: 'ü'.repeat(400) }).length).toBeGreaterThan(MAX_METADATA_VALUE_BYTES);
  });
});

describe('file checks', () => {
  it('sniffs image formats from the first bytes', () => {
    expect(sniffImageType(PNG)).toBe('image/png');
    expect(sniffImageType(JPEG)).toBe('image/jpeg');
    expect(sniffImageType(new TextEncoder().encode('GIF89a....'))).toBe('image/gif');
    expect(sniffImageType(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    const ftyp = (major: string, ...compatible: string[]) => {
      const body = major + '\0\0\0\0' + compatible.join('');
      const size = body.length + 8;
      return new Uint8Array([0, 0, 0, size, ...new TextEncoder().encode('ftyp' + body)]);
    };
    expect(sniffImageType(ftyp('heic', 'mif1', 'heic'))).toBe('image/heic');
    expect(sniffImageType(ftyp('mif1', 'miaf', 'heic'))).toBe('image/heic');
    expect(sniffImageType(ftyp('avif', 'mif1', 'miaf'))).toBe('image/avif');
    expect(sniffImageType(ftyp('mif1', 'miaf', 'MA1B', 'avif'))).toBe('image/avif');
    expect(sniffImageType(ftyp('mif1', 'miaf'))).toBe('image/heif');
    expect(sniffImageType(ftyp('isom', 'iso2', 'mp41'))).toBeUndefined();
    expect(sniffImageType(new TextEncoder().encode('%PDF-1.7'))).toBeUndefined();
    expect(sniffImageType(new Uint8Array())).toBeUndefined();
  });
  it('rejects non-images, empty and too-large files before upload', () => {
    expect(checkFile(100, PNG)).toEqual({ ok: true, contentType: 'image/png' });
    expect(checkFile(100, new TextEncoder().encode('hello world')).ok).toBe(false);
    expect(checkFile(0, PNG).ok).toBe(false);
    const big = checkFile(MAX_UPLOAD_BYTES + 1, JPEG);
    expect(big.ok).toBe(false);
    expect(!big.ok && big.reason).toMatch(/Too large/);
  });
  it('default title drops the extension', () => {
    expect(defaultTitle('holiday.photo.jpg')).toBe('holiday.photo');
    expect(defaultTitle('.hidden')).toBe('.hidden');
    expect(defaultTitle('noext')).toBe('noext');
  });
});
