/** Object keys of the bucket layout (see CONTRACT.md). */

export type Visibility = 'public' | 'private';
export type Derived = 'thumbnails' | 'previews' | 'faces';

export const PUBLIC_INDEX_KEY = 'public/index/content.json';

export function privateIndexKey(identityId: string): string {
  requireIdentity(identityId);
  return `private/index/${identityId}/content.json`;
}

function requireIdentity(identityId: string): void {
  if (!identityId || identityId.includes('/')) throw new Error(`invalid identity id: ${JSON.stringify(identityId)}`);
}

/** Maximum bytes (UTF-8) of the file-name segment: S3 keys are limited to 1024 bytes. */
export const MAX_FILE_NAME_BYTES = 255;

/**
 * Makes a browser file name safe as the last key segment: no slashes, backslashes
 * or control characters, no leading dots, at most MAX_FILE_NAME_BYTES bytes
 * (the extension is kept when the name is shortened).
 */
export function sanitizeFileName(name: string): string {
  // eslint-disable-next-line no-control-regex
  let n = name.normalize('NFC').replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim().replace(/^\.+/, '');
  if (n === '') n = 'picture';
  const enc = new TextEncoder();
  if (enc.encode(n).length <= MAX_FILE_NAME_BYTES) return n;
  const dot = n.lastIndexOf('.');
  const ext = dot > 0 && n.length - dot <= 10 ? n.slice(dot) : '';
  const base = Array.from(ext ? n.slice(0, dot) : n);
  while (base.length && enc.encode(base.join('') + ext).length > MAX_FILE_NAME_BYTES) base.pop();
  return base.join('') + ext;
}

/** The visibility an `isPublic` flag (of an index item, of upload metadata) stands for. */
export function visibilityOf(isPublic: boolean): Visibility {
  return isPublic ? 'public' : 'private';
}

/** `{public|private}/content/{identityId}/`: where a person's originals of one visibility live. */
export function contentPrefix(visibility: Visibility, identityId: string): string {
  requireIdentity(identityId);
  return `${visibility}/content/${identityId}/`;
}

export function contentKey(visibility: Visibility, identityId: string, fileName: string): string {
  if (!fileName || fileName.includes('/')) throw new Error(`invalid file name: ${JSON.stringify(fileName)}`);
  return `${contentPrefix(visibility, identityId)}${fileName}`;
}

/** `public/content/a/b c.png` -> `public/thumbnails/a/b c.png`. */
export function derivedKey(objectKey: string, kind: Derived): string {
  const m = /^(public|private)\/content\/(.+)$/.exec(objectKey);
  if (!m) throw new Error(`not a content key: ${objectKey}`);
  return `${m[1]}/${kind}/${m[2]}`;
}

/** The identity whose original a content key names (its third segment); undefined for any other key. */
export function ownerOfContentKey(key: string): string | undefined {
  const m = /^(?:public|private)\/content\/([^/]+)\/./.exec(key);
  return m ? m[1] : undefined;
}

/** The last key segment (the file name, extension included). */
export function fileNameOfKey(objectKey: string): string {
  return objectKey.slice(objectKey.lastIndexOf('/') + 1);
}

export function visibilityOfKey(objectKey: string): Visibility | undefined {
  if (objectKey.startsWith('public/')) return 'public';
  if (objectKey.startsWith('private/')) return 'private';
  return undefined;
}

/**
 * A file name not yet used among `taken` (case-sensitive, as S3 keys are):
 * `a.jpg`, then `a (2).jpg`, `a (3).jpg`, ...
 */
export function uniqueFileName(name: string, taken: ReadonlySet<string>): string {
  if (!taken.has(name)) return name;
  const dot = name.lastIndexOf('.');
  const base = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  for (let i = 2; ; i++) {
    const candidate = `${base} (${i})${ext}`;
    if (!taken.has(candidate)) return candidate;
  }
}
