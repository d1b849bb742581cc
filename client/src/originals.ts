/**
 * A picture's original is requested by its owner only (docs/decisions/originals-owner-only.md).
 * The bucket enforces it: the Cognito roles read the renditions (preview, thumbnail, faces
 * image) of everyone's public pictures and the originals of their own identity only. The
 * client follows the same rule, so it never asks for an original it would be refused, and an
 * original it does fetch is a download, never a page served from the bucket's domain.
 */
import type { IndexItem } from './indexdoc';
import { fileNameOfKey, ownerOfContentKey } from './keys';
import { isImageType } from './metadata';

/**
 * Whether `viewer` (the signed-in person's identity id, if any) owns the original at
 * `objectKey`: the key's identity segment, which is what the bucket's policy judges.
 */
export function ownsOriginal(objectKey: string, viewer: string | undefined): boolean {
  return viewer !== undefined && viewer !== '' && ownerOfContentKey(objectKey) === viewer;
}

/** What the detail view shows for a picture. */
export type Shown =
  | { kind: 'preview'; key: string }
  /** The owner's picture without a preview (made before previews, or not decodable). */
  | { kind: 'original'; key: string }
  /** No preview, and the original is not the viewer's to read. */
  | { kind: 'none' };

/** The preview; for the owner only, the original when there is no preview. */
export function shownPicture(item: IndexItem, viewer: string | undefined): Shown {
  if (item.previewKey) return { kind: 'preview', key: item.previewKey };
  if (ownsOriginal(item.objectKey, viewer)) return { kind: 'original', key: item.objectKey };
  return { kind: 'none' };
}

/**
 * Response headers a presigned GET asks S3 to answer with (GetObject's `response-content-type`
 * and `response-content-disposition` query parameters; S3 API reference, GetObject). They are
 * part of the signed URL, so whoever holds the URL cannot change them.
 */
export interface ResponseOverrides {
  ResponseContentDisposition: string;
  ResponseContentType: string;
}

export interface Download {
  key: string;
  /** The name the browser saves the file under (also the link's `download` attribute). */
  fileName: string;
  overrides: ResponseOverrides;
}

/**
 * The owner's download of the original: `Content-Disposition: attachment` with its file name,
 * and an image content type (or application/octet-stream), so the bytes are saved, never
 * rendered as a page of the bucket's origin whatever the owner uploaded. Undefined for
 * anyone else.
 */
export function originalDownload(item: IndexItem, viewer: string | undefined): Download | undefined {
  if (!ownsOriginal(item.objectKey, viewer)) return undefined;
  const fileName = fileNameOfKey(item.objectKey) || 'picture';
  return {
    key: item.objectKey,
    fileName,
    overrides: {
      ResponseContentDisposition: attachmentDisposition(fileName),
      ResponseContentType: safeContentType(item.contentType),
    },
  };
}

/**
 * `attachment; filename*=UTF-8''<name>`: the disposition type of RFC 6266 (section 4.2) with
 * the file name as an RFC 8187 (formerly RFC 5987) extended value, which carries any Unicode
 * name in ASCII. RFC 6266 section 4.3: a recipient prefers `filename*`; every browser the app
 * supports reads it, so no `filename=` fallback (whose quoting would be a second encoding).
 */
export function attachmentDisposition(fileName: string): string {
  return `attachment; filename*=UTF-8''${encodeExtValue(fileName)}`;
}

/**
 * RFC 8187 section 3.2.1 `value-chars`: UTF-8 bytes, every one outside `attr-char`
 * (ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~")
 * percent-encoded. encodeURIComponent leaves `'`, `(`, `)`, `*` as they are, which are not
 * attr-chars, and escapes `#`, `$`, `&`, `+`, `^`, `` ` ``, `|`, which need not be (escaping
 * more than needed is allowed: a recipient decodes every `%XX`).
 */
export function encodeExtValue(value: string): string {
  // A lone surrogate has no UTF-8 form (encodeURIComponent would throw): U+FFFD stands in.
  const wellFormed = value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  return encodeURIComponent(wellFormed).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The item's content type if it is one of the image types uploads may have, else application/octet-stream. */
export function safeContentType(contentType: string | undefined): string {
  return isImageType(contentType) ? contentType : 'application/octet-stream';
}
