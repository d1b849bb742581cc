/** Upload metadata (`x-amz-meta-data`) and pre-upload checks. */

export const MAX_TITLE = 200;
export const MAX_DESCRIPTION = 2000;
/** S3 limits user metadata to 2 KB: key ("data") plus value, in bytes. */
export const MAX_METADATA_VALUE_BYTES = 2048 - 'data'.length;
/** The backend's default MAX_IMAGE_BYTES (config.json's maxUploadBytes says the stack's). */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

export interface UploadMetadata {
  isPublic: boolean;
  title: string;
  description: string;
  /**
   * The picture's key before its visibility changed, sent with the copy under the other prefix
   * (an extension of the contract's metadata). content-updated then dates the new item by the
   * old item's date as the table holds it; the metadata itself never dates a picture
   * (docs/decisions/visibility-changes.md).
   */
  movedFrom?: string;
}

/** Cuts to at most `max` characters (code points), never splitting a surrogate pair. */
export function clampChars(s: string, max: number): string {
  const cps = Array.from(s);
  return cps.length <= max ? s : cps.slice(0, max).join('');
}

/**
 * JSON for the `x-amz-meta-data` header. Every character outside printable
 * ASCII is written as a JSON `\uXXXX` escape (astral characters as two escaped
 * surrogates), so the header value is pure ASCII and JSON.parse gives back
 * the original strings.
 */
export function encodeMetadata(m: UploadMetadata): string {
  const json = JSON.stringify({
    isPublic: !!m.isPublic,
    title: clampChars(m.title.trim(), MAX_TITLE),
    description: clampChars(m.description.trim(), MAX_DESCRIPTION),
    ...(m.movedFrom ? { movedFrom: m.movedFrom } : {}),
  });
  return json.replace(/[^\x20-\x7e]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export type CheckResult = { ok: true } | { ok: false; reason: string };

/** True when the encoded metadata fits S3's 2 KB user-metadata limit. */
export function checkMetadataSize(m: UploadMetadata): CheckResult {
  const n = encodeMetadata(m).length;
  if (n <= MAX_METADATA_VALUE_BYTES) return { ok: true };
  return {
    ok: false,
    reason: `Title and description are too long to send with the upload (${n} of ${MAX_METADATA_VALUE_BYTES} bytes once encoded; accented and non-Latin characters take 6). Shorten the description; it can be made longer by editing after the upload.`,
  };
}

/** The content types of the image formats the backend decodes: every upload is one of these. */
export const IMAGE_TYPES = [
  'image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/bmp', 'image/tiff', 'image/heic', 'image/heif', 'image/avif',
] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

export function isImageType(type: string | undefined): type is ImageType {
  return (IMAGE_TYPES as readonly (string | undefined)[]).includes(type);
}

/** Image formats the backend decodes, recognised from the first bytes. */
export function sniffImageType(head: Uint8Array): ImageType | undefined {
  const b = head;
  const at = (i: number, ...bytes: number[]) => bytes.every((x, j) => b[i + j] === x);
  if (at(0, 0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (at(0, 0x47, 0x49, 0x46, 0x38) && (b[4] === 0x37 || b[4] === 0x39) && b[5] === 0x61) return 'image/gif';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'image/webp';
  if (at(0, 0x42, 0x4d)) return 'image/bmp';
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) return 'image/tiff';
  return heifType(b);
}

/** HEIC, HEIF or AVIF from the `ftyp` box's brands, as the backend sniffs them (media-core imaging/heif.rs). */
function heifType(b: Uint8Array): ImageType | undefined {
  if (b.length < 16 || String.fromCharCode(...b.subarray(4, 8)) !== 'ftyp') return undefined;
  const end = Math.min(b.length, ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0);
  const brands = [String.fromCharCode(...b.subarray(8, 12))];
  for (let i = 16; i + 4 <= end; i += 4) brands.push(String.fromCharCode(...b.subarray(i, i + 4)));
  if (brands.some((x) => x === 'avif' || x === 'avis')) return 'image/avif';
  if (brands.some((x) => ['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx'].includes(x))) return 'image/heic';
  if (brands.some((x) => x === 'mif1' || x === 'msf1')) return 'image/heif';
  return undefined;
}

/** Checks a picked file before anything is sent: a supported image, not empty, not too large. */
export function checkFile(size: number, head: Uint8Array, maxBytes = MAX_UPLOAD_BYTES): CheckResult & { contentType?: string } {
  if (size === 0) return { ok: false, reason: 'The file is empty.' };
  const type = sniffImageType(head);
  if (!type) return { ok: false, reason: 'Not a supported image (JPEG, PNG, GIF, WebP, BMP, TIFF, HEIC/HEIF or AVIF).' };
  if (size > maxBytes) {
    return { ok: false, reason: `Too large: ${formatBytes(size)}; the limit is ${formatBytes(maxBytes)}.` };
  }
  return { ok: true, contentType: type };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}

/** Default title for a file: its name without the extension. */
export function defaultTitle(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return clampChars(dot > 0 ? fileName.slice(0, dot) : fileName, MAX_TITLE);
}
