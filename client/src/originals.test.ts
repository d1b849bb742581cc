import { describe, expect, it } from 'vitest';
import type { IndexItem } from './indexdoc';
import { IMAGE_TYPES } from './metadata';
import { attachmentDisposition, encodeExtValue, originalDownload, ownsOriginal, safeContentType, shownPicture } from './originals';

const OWNER = 'us-east-1:0b5c0000-0000-4000-8000-000000000001';
const OTHER = 'us-east-1:0b5c0000-0000-4000-8000-000000000002';

const item = (fields: Partial<IndexItem> = {}): IndexItem => ({
  identityId: OWNER,
  objectKey: `public/content/${OWNER}/sea.jpg`,
  isPublic: true,
  title: 'Sea',
  description: '',
  uploadDate: '2026-11-30T10:00:00.000Z',
  contentType: 'image/jpeg',
  ...fields,
});

/** Decodes an RFC 8187 value as a recipient does: every %XX is a UTF-8 byte. */
const decodeExtValue = (v: string) => new TextDecoder('utf-8', { fatal: true }).decode(
  Uint8Array.from(v.match(/%[0-9A-F]{2}|[^%]/g)!.map((t) => (t.length === 3 ? parseInt(t.slice(1), 16) : t.charCodeAt(0)))),
);
/** RFC 8187 attr-char, the only bytes a value may carry unencoded. */
const ATTR_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;

describe('who reads an original', () => {
  it('its owner only, judged by the key as the bucket policy judges it', () => {
    expect(ownsOriginal(`public/content/${OWNER}/sea.jpg`, OWNER)).toBe(true);
    expect(ownsOriginal(`private/content/${OWNER}/sea.jpg`, OWNER)).toBe(true);
    expect(ownsOriginal(`public/content/${OWNER}/sea.jpg`, OTHER)).toBe(false);
    expect(ownsOriginal(`public/content/${OWNER}/sea.jpg`, undefined)).toBe(false);
    expect(ownsOriginal(`public/content/${OWNER}/sea.jpg`, '')).toBe(false);
    expect(ownsOriginal(`public/content/${OWNER}x/sea.jpg`, OWNER)).toBe(false);
    expect(ownsOriginal(`public/content/${OTHER}/${OWNER}/sea.jpg`, OWNER)).toBe(false);
    expect(ownsOriginal(`public/previews/${OWNER}/sea.jpg`, OWNER)).toBe(false);
  });

  it('the detail view shows the preview; the original only to its owner; otherwise no preview', () => {
    const previewKey = `public/previews/${OWNER}/sea.jpg`;
    for (const viewer of [OWNER, OTHER, undefined]) {
      expect(shownPicture(item({ previewKey }), viewer)).toEqual({ kind: 'preview', key: previewKey });
    }
    expect(shownPicture(item(), OWNER)).toEqual({ kind: 'original', key: `public/content/${OWNER}/sea.jpg` });
    expect(shownPicture(item(), OTHER)).toEqual({ kind: 'none' });
    expect(shownPicture(item(), undefined)).toEqual({ kind: 'none' });
    // An index entry whose identity does not match its key is judged by the key.
    expect(shownPicture(item({ identityId: OTHER }), OTHER)).toEqual({ kind: 'none' });
  });
});

describe('the original as a download', () => {
  it('is offered to the owner only, as an attachment with a safe type', () => {
    expect(originalDownload(item(), OTHER)).toBeUndefined();
    expect(originalDownload(item(), undefined)).toBeUndefined();
    expect(originalDownload(item({ identityId: OTHER }), OTHER)).toBeUndefined();
    expect(originalDownload(item(), OWNER)).toEqual({
      key: `public/content/${OWNER}/sea.jpg`,
      fileName: 'sea.jpg',
      overrides: { ResponseContentDisposition: "attachment; filename*=UTF-8''sea.jpg", ResponseContentType: 'image/jpeg' },
    });
    const heic = originalDownload(item({ objectKey: `private/content/${OWNER}/IMG 1.HEIC`, contentType: 'image/heic' }), OWNER);
    expect(heic?.overrides).toEqual({
      ResponseContentDisposition: "attachment; filename*=UTF-8''IMG%201.HEIC", ResponseContentType: 'image/heic',
    });
  });

  it('keeps the content type only when it is an image type uploads may have', () => {
    for (const type of IMAGE_TYPES) expect(safeContentType(type)).toBe(type);
    // What an owner may have sent with an upload the backend could not decode.
    for (const type of ['text/html', 'image/svg+xml', 'application/xhtml+xml', 'text/xml', 'application/pdf', 'IMAGE/JPEG',
      'image/jpeg; charset=utf-8', 'image/jpeg ', '', undefined]) {
      expect(safeContentType(type), String(type)).toBe('application/octet-stream');
    }
    for (const contentType of ['text/html', undefined]) {
      expect(originalDownload(item({ contentType }), OWNER)?.overrides.ResponseContentType).toBe('application/octet-stream');
    }
  });

  it('encodes any file name as an RFC 8187 value: attr-chars as they are, every other UTF-8 byte as %XX', () => {
    const names = [
      'sea.jpg', 'b c.png', "it's (2).jpg", 'a*b.jpg', '50% #1?x=y&z.jpg', 'été 東京 😀.jpg', 'quote".jpg', 'semi;colon,comma.jpg',
      'back\\slash.jpg', 'tab\there.jpg', "x'; filename=evil.html", 'p+q~r^s`t|u!v$w.jpg', 'Ω≈ç√∫.heic',
    ];
    for (const name of names) {
      const value = encodeExtValue(name);
      for (const token of value.match(/%[0-9A-F]{2}|[^%]/g) ?? []) {
        if (token.length === 1) expect(token, `${name}: ${value}`).toMatch(ATTR_CHAR);
      }
      expect(decodeExtValue(value), value).toBe(name);
      expect(attachmentDisposition(name)).toBe(`attachment; filename*=UTF-8''${value}`);
    }
    expect(encodeExtValue("it's (2)*.jpg")).toBe('it%27s%20%282%29%2A.jpg');
    expect(encodeExtValue('été 😀.jpg')).toBe('%C3%A9t%C3%A9%20%F0%9F%98%80.jpg');
    // The header cannot be ended or extended by a name: no quote, semicolon, comma or space survives.
    expect(attachmentDisposition("x'; filename=evil.html"))
      .toBe("attachment; filename*=UTF-8''x%27%3B%20filename%3Devil.html");
  });

  it('encodes a lone surrogate (no UTF-8 form) as U+FFFD instead of failing', () => {
    expect(encodeExtValue('a\ud800b.jpg')).toBe('a%EF%BF%BDb.jpg');
    expect(encodeExtValue('a\udc00.jpg')).toBe('a%EF%BF%BD.jpg');
    expect(encodeExtValue('😀')).toBe('%F0%9F%98%80');
  });
});
