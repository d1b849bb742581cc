/**
 * Albums (docs/albums.md): the owner's album documents, written with the owner's own
 * credentials, and the shared copy a link reads. Knows nothing of the page or of the SDK: the
 * caller gives an `AlbumStore` (S3 with the session's credentials, or a fake in the tests).
 *
 * - `private/albums/{identityId}/{albumId}.json`: the album, naming pictures by file name (the
 *   owner is the identity), so a picture keeps its albums when its visibility changes.
 * - `public/albums/{identityId}/{token}/album.json` and `.../{thumbnails,previews}/{file}`: the
 *   shared copy of a shared album, rewritten after every change of it.
 *
 * Every write of an album document is conditional (create: If-None-Match `*`; change: If-Match
 * the ETag read), so a stale tab never puts an album back to an older state: on 412 the change
 * is applied again to what is stored now, a bounded number of times.
 */
import { fileNameOfKey } from './keys';
import type { BulkReport } from './bulk';

/** At most this many pictures in one album: one change writes one document of bounded size. */
export const MAX_ALBUM_PICTURES = 500;
/** At most this many characters in an album's name. */
export const MAX_ALBUM_NAME = 200;
/** Tries of one conditional change before giving up (each after a 412 from another writer). */
export const MAX_WRITE_TRIES = 8;

export interface AlbumDoc {
  version: 1;
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  /** File names of the owner's pictures, in the order added. */
  pictures: string[];
  /** Present while the album is shared by link. */
  link?: { token: string };
}

/** An album as read, with the ETag its next change is conditional on. */
export interface StoredAlbum {
  doc: AlbumDoc;
  etag: string;
}

export interface SharedPicture {
  file: string;
  title: string;
  width?: number;
  height?: number;
  takenAt?: string;
}

/** What a link's visitor reads: the name and each picture's title and size, nothing else. */
export interface SharedAlbumDoc {
  version: 1;
  name: string;
  pictures: SharedPicture[];
}

/** What the album code knows of one of the owner's pictures (from their index). */
export interface PictureInfo {
  isPublic: boolean;
  title: string;
  width?: number;
  height?: number;
  takenAt?: string;
}

/** The write was refused because the stored object is not the one the condition named. */
export class PreconditionFailed extends Error {
  constructor() {
    super('The album changed meanwhile.');
    this.name = 'PreconditionFailed';
  }
}

/** The album does not exist (deleted, perhaps in another tab). */
export class AlbumGone extends Error {
  constructor() {
    super('This album no longer exists.');
    this.name = 'AlbumGone';
  }
}

export class AlbumFull extends Error {
  constructor(readonly room: number) {
    super(`An album holds at most ${MAX_ALBUM_PICTURES} pictures.`);
    this.name = 'AlbumFull';
  }
}

/** The bucket as the album code uses it (S3's semantics: api.ts, or the tests' fake). */
export interface AlbumStore {
  /** The object's body and ETag, or undefined when there is none. */
  get(key: string): Promise<{ body: string; etag: string } | undefined>;
  /**
   * Writes JSON; `ifNoneMatch: '*'` only when absent, `ifMatch` only over that ETag; rejects
   * with PreconditionFailed when the condition fails. Answers the new ETag.
   */
  put(key: string, body: string, cond?: { ifNoneMatch: '*' } | { ifMatch: string }): Promise<string>;
  /** Every key under `prefix`. */
  list(prefix: string): Promise<string[]>;
  /** Server-side copy (content type kept); rejects when the source is missing. */
  copy(from: string, to: string): Promise<void>;
  /** Deletes the keys; answers the ones refused. */
  delete(keys: string[]): Promise<{ key: string; message: string }[]>;
}

export interface AlbumEnv {
  store: AlbumStore;
  identityId: string;
  now?: () => Date;
  /** `n` random bytes (crypto.getRandomValues). */
  random?: (n: number) => Uint8Array;
}

// ------------------------------------------------------------------ keys

function requireSegment(what: string, value: string): void {
  if (!value || value.includes('/')) throw new Error(`invalid ${what}: ${JSON.stringify(value)}`);
}

export function albumsPrefix(identityId: string): string {
  requireSegment('identity id', identityId);
  return `private/albums/${identityId}/`;
}

export function albumKey(identityId: string, albumId: string): string {
  requireSegment('album id', albumId);
  return `${albumsPrefix(identityId)}${albumId}.json`;
}

/** Every shared copy of the identity's albums is under here. */
export function sharedAlbumsPrefix(identityId: string): string {
  requireSegment('identity id', identityId);
  return `public/albums/${identityId}/`;
}

export function sharedPrefix(identityId: string, token: string): string {
  requireSegment('token', token);
  return `${sharedAlbumsPrefix(identityId)}${token}/`;
}

export function sharedDocKey(identityId: string, token: string): string {
  return `${sharedPrefix(identityId, token)}album.json`;
}

export type RenditionKind = 'thumbnails' | 'previews';
export const RENDITIONS: readonly RenditionKind[] = ['thumbnails', 'previews'];

export function sharedRenditionKey(identityId: string, token: string, kind: RenditionKind, file: string): string {
  requireSegment('file name', file);
  return `${sharedPrefix(identityId, token)}${kind}/${file}`;
}

/** The owner's own rendition of a picture, the source of its shared copy. */
export function ownRenditionKey(identityId: string, isPublic: boolean, kind: RenditionKind, file: string): string {
  requireSegment('identity id', identityId);
  requireSegment('file name', file);
  return `${isPublic ? 'public' : 'private'}/${kind}/${identityId}/${file}`;
}

// ------------------------------------------------------------------ links

/** `#/a/{identityId}/{token}`, each segment encoded. */
export function albumLinkHash(identityId: string, token: string): string {
  return `#/a/${encodeURIComponent(identityId)}/${encodeURIComponent(token)}`;
}

export function albumLink(pageUrl: string, identityId: string, token: string): string {
  const u = new URL(pageUrl);
  u.hash = albumLinkHash(identityId, token);
  return u.href;
}

export function isAlbumLinkHash(hash: string): boolean {
  return /^#\/a\//.test(hash);
}

/** The owner and token a link names, or undefined when it is not a whole, valid link. */
export function parseAlbumLinkHash(hash: string): { identityId: string; token: string } | undefined {
  const m = /^#\/a\/([^/]+)\/([^/?]+)$/.exec(hash);
  if (!m) return undefined;
  try {
    const identityId = decodeURIComponent(m[1]);
    const token = decodeURIComponent(m[2]);
    if (!/^[\w-]+:[\w-]+$/.test(identityId) || !/^[A-Za-z0-9_-]{16,64}$/.test(token)) return undefined;
    return { identityId, token };
  } catch {
    return undefined;
  }
}

/** `#/album/{albumId}`: the owner's view of one album. */
export function ownAlbumHash(albumId: string): string {
  return `#/album/${encodeURIComponent(albumId)}`;
}

export function parseOwnAlbumHash(hash: string): string | undefined {
  const m = /^#\/album\/([A-Za-z0-9_-]+)$/.exec(hash);
  return m?.[1];
}

/** `n` random bytes as base64url without padding (128 bits: 22 characters). */
export function randomId(random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n)), bytes = 16): string {
  const b = random(bytes);
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// ------------------------------------------------------------------ documents

/** The album a document's body describes, or undefined when it is not one. */
export function parseAlbum(body: string): AlbumDoc | undefined {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return undefined;
  }
  const d = v as Partial<AlbumDoc>;
  if (!d || d.version !== 1 || typeof d.id !== 'string' || typeof d.name !== 'string' || !Array.isArray(d.pictures)) return undefined;
  const pictures = d.pictures.filter((p): p is string => typeof p === 'string');
  const token = d.link && typeof d.link.token === 'string' ? d.link.token : undefined;
  return {
    version: 1, id: d.id, name: d.name,
    createdAt: typeof d.createdAt === 'string' ? d.createdAt : '',
    updatedAt: typeof d.updatedAt === 'string' ? d.updatedAt : '',
    pictures,
    ...(token ? { link: { token } } : {}),
  };
}

export function parseSharedAlbum(body: string): SharedAlbumDoc | undefined {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return undefined;
  }
  const d = v as Partial<SharedAlbumDoc>;
  if (!d || d.version !== 1 || typeof d.name !== 'string' || !Array.isArray(d.pictures)) return undefined;
  const pictures = d.pictures.filter((p): p is SharedPicture => !!p && typeof p.file === 'string' && p.file !== '' && !p.file.includes('/'))
    .map((p) => ({ ...p, title: typeof p.title === 'string' && p.title ? p.title : p.file }));
  return { version: 1, name: d.name, pictures };
}

/** A name as stored: trimmed, at most MAX_ALBUM_NAME characters; empty is refused. */
export function cleanName(name: string): string {
  const n = Array.from(name.trim()).slice(0, MAX_ALBUM_NAME).join('');
  if (!n) throw new Error('An album needs a name.');
  return n;
}

// ------------------------------------------------------------------ the owner's albums

const nowOf = (env: AlbumEnv) => (env.now ?? (() => new Date()))().toISOString();

/** Every album of the owner, by name. A document that cannot be read as an album is left out. */
export async function listAlbums(env: AlbumEnv): Promise<StoredAlbum[]> {
  const keys = (await env.store.list(albumsPrefix(env.identityId))).filter((k) => k.endsWith('.json'));
  const read = await Promise.all(keys.map((k) => readAlbumAt(env, k)));
  return read.filter((a): a is StoredAlbum => !!a).sort((a, b) => a.doc.name.localeCompare(b.doc.name) || a.doc.id.localeCompare(b.doc.id));
}

async function readAlbumAt(env: AlbumEnv, key: string): Promise<StoredAlbum | undefined> {
  const got = await env.store.get(key);
  const doc = got && parseAlbum(got.body);
  return doc && got ? { doc, etag: got.etag } : undefined;
}

export function readAlbum(env: AlbumEnv, albumId: string): Promise<StoredAlbum | undefined> {
  return readAlbumAt(env, albumKey(env.identityId, albumId));
}

/** A new, private album (If-None-Match: a new id never overwrites). */
export async function createAlbum(env: AlbumEnv, name: string, pictures: string[] = []): Promise<StoredAlbum> {
  const at = nowOf(env);
  const files = [...new Set(pictures)];
  if (files.length > MAX_ALBUM_PICTURES) throw new AlbumFull(MAX_ALBUM_PICTURES);
  const doc: AlbumDoc = { version: 1, id: randomId(env.random), name: cleanName(name), createdAt: at, updatedAt: at, pictures: files };
  const etag = await env.store.put(albumKey(env.identityId, doc.id), JSON.stringify(doc), { ifNoneMatch: '*' });
  return { doc, etag };
}

/**
 * Applies `change` to the album as stored now and writes it over exactly that version
 * (If-Match); after a 412 (another tab or device wrote meanwhile) reads it again and applies the
 * change again, at most MAX_WRITE_TRIES times. `change` answers the new document, or undefined
 * for "nothing to change" (nothing is written). Answers the album as written (or as found).
 */
export async function changeAlbum(env: AlbumEnv, albumId: string, change: (doc: AlbumDoc) => AlbumDoc | undefined): Promise<StoredAlbum> {
  const key = albumKey(env.identityId, albumId);
  for (let attempt = 1; ; attempt++) {
    const stored = await readAlbumAt(env, key);
    if (!stored) throw new AlbumGone();
    const next = change(structuredClone(stored.doc));
    if (!next) return stored;
    if (next.pictures.length > MAX_ALBUM_PICTURES) throw new AlbumFull(Math.max(0, MAX_ALBUM_PICTURES - stored.doc.pictures.length));
    const doc = { ...next, updatedAt: nowOf(env) };
    try {
      const etag = await env.store.put(key, JSON.stringify(doc), { ifMatch: stored.etag });
      return { doc, etag };
    } catch (err) {
      if (!(err instanceof PreconditionFailed) || attempt >= MAX_WRITE_TRIES) throw err;
    }
  }
}

export function renameAlbum(env: AlbumEnv, albumId: string, name: string): Promise<StoredAlbum> {
  const n = cleanName(name);
  return changeAlbum(env, albumId, (doc) => (doc.name === n ? undefined : { ...doc, name: n }));
}

/** Adds the files not in the album yet, in the order given. */
export function addPictures(env: AlbumEnv, albumId: string, files: string[]): Promise<StoredAlbum> {
  return changeAlbum(env, albumId, (doc) => {
    const added = [...new Set(files)].filter((f) => !doc.pictures.includes(f));
    return added.length ? { ...doc, pictures: [...doc.pictures, ...added] } : undefined;
  });
}

export function removePictures(env: AlbumEnv, albumId: string, files: string[]): Promise<StoredAlbum> {
  const gone = new Set(files);
  return changeAlbum(env, albumId, (doc) => (doc.pictures.some((f) => gone.has(f)) ? { ...doc, pictures: doc.pictures.filter((f) => !gone.has(f)) } : undefined));
}

/** Gives the album a link (a new token when it has none); the shared copy is the caller's next step (publish). */
export function shareAlbum(env: AlbumEnv, albumId: string): Promise<StoredAlbum> {
  const token = randomId(env.random);
  return changeAlbum(env, albumId, (doc) => (doc.link ? undefined : { ...doc, link: { token } }));
}

/**
 * Ends the album's link: the document drops it first (no publish writes that token again after
 * that), then every object under the token's prefix goes, so the old link finds nothing.
 */
export async function revokeLink(env: AlbumEnv, albumId: string): Promise<StoredAlbum> {
  let old: string | undefined;
  const album = await changeAlbum(env, albumId, (doc) => {
    old = doc.link?.token;
    if (!doc.link) return undefined;
    const { link: _dropped, ...rest } = doc;
    void _dropped;
    return rest;
  });
  if (old) await deleteShared(env, old);
  return album;
}

/** Deletes the album: its shared copy first (the link stops working), then its document. */
export async function deleteAlbum(env: AlbumEnv, albumId: string): Promise<void> {
  const album = await readAlbum(env, albumId);
  if (album?.doc.link) await deleteShared(env, album.doc.link.token);
  await deleteAll(env.store, [albumKey(env.identityId, albumId)]);
}

/** Every object under one token's prefix (the shared document first). */
export async function deleteShared(env: AlbumEnv, token: string): Promise<void> {
  const keys = await env.store.list(sharedPrefix(env.identityId, token));
  const doc = sharedDocKey(env.identityId, token);
  await deleteAll(env.store, [...keys.filter((k) => k === doc), ...keys.filter((k) => k !== doc)]);
}

async function deleteAll(store: AlbumStore, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const refused = await store.delete(keys.slice(i, i + 1000));
    if (refused.length) throw new Error(`${refused.length} album objects could not be deleted (${refused[0].message}).`);
  }
}

/** Every album document and shared copy of the person (account deletion). */
export async function deleteEveryAlbum(env: AlbumEnv): Promise<number> {
  const shared = await env.store.list(sharedAlbumsPrefix(env.identityId));
  const own = await env.store.list(albumsPrefix(env.identityId));
  // Shared copies first: if this stops half-way, no link outlives its album document.
  await deleteAll(env.store, [...shared, ...own]);
  return own.filter((k) => k.endsWith('.json')).length;
}

// ------------------------------------------------------------------ the shared copy

export interface PublishDeps {
  /** What is known of the owner's pictures by file name; a file not in the answer is left out. */
  pictures: (files: string[]) => Promise<Map<string, PictureInfo>>;
  /** Rendition copies done so far of those needed. */
  onProgress?: (done: number, total: number) => void;
}

export interface PublishResult {
  /** Files of the album in the shared copy. */
  shared: string[];
  /** Files left out: unknown to the owner's index, or with no rendition to copy yet. */
  missing: string[];
}

/**
 * Brings the album's shared copy up to its document: copies the renditions of pictures it has
 * no copy of yet, writes `album.json`, deletes the copies of pictures no longer in it. Then reads
 * the document again: when another change came meanwhile (its ETag differs), publishes again,
 * so the copy written last is of the latest document; when the link was revoked or replaced
 * meanwhile, deletes what this call wrote under the old token. Does nothing for an album not
 * shared.
 */
export async function publishAlbum(env: AlbumEnv, albumId: string, deps: PublishDeps): Promise<PublishResult | undefined> {
  let stored = await readAlbum(env, albumId);
  let result: PublishResult | undefined;
  for (let attempt = 1; stored?.doc.link; attempt++) {
    const token = stored.doc.link.token;
    result = await writeShared(env, stored.doc, token, deps);
    const now = await readAlbum(env, albumId);
    if (now?.doc.link?.token !== token) {
      // Revoked, deleted or re-shared meanwhile: nothing may stay under the old token.
      await deleteShared(env, token);
      stored = now;
      continue;
    }
    if (now.etag === stored.etag || attempt >= MAX_WRITE_TRIES) break;
    stored = now;
  }
  return result;
}

async function writeShared(env: AlbumEnv, doc: AlbumDoc, token: string, deps: PublishDeps): Promise<PublishResult> {
  const { identityId, store } = env;
  const prefix = sharedPrefix(identityId, token);
  const existing = new Set(await store.list(prefix));
  const info = await deps.pictures(doc.pictures);
  const known = doc.pictures.filter((f) => info.has(f));
  const copies = known.flatMap((file) => RENDITIONS.map((kind) => ({ file, kind }))).filter(({ file, kind }) => !existing.has(sharedRenditionKey(identityId, token, kind, file)));
  const failed = new Set<string>();
  let done = 0;
  deps.onProgress?.(done, copies.length);
  const queue = [...copies];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const { file, kind } = c;
      try {
        await store.copy(ownRenditionKey(identityId, info.get(file)!.isPublic, kind, file), sharedRenditionKey(identityId, token, kind, file));
      } catch {
        // Not made yet (just uploaded) or gone: left out now, tried again at the next change.
        failed.add(file);
      }
      deps.onProgress?.(++done, copies.length);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  const shared = known.filter((f) => !failed.has(f) || existing.has(sharedRenditionKey(identityId, token, 'thumbnails', f)));
  const body: SharedAlbumDoc = {
    version: 1,
    name: doc.name,
    pictures: shared.map((file) => {
      const p = info.get(file)!;
      return {
        file, title: p.title || file,
        ...(p.width ? { width: p.width } : {}), ...(p.height ? { height: p.height } : {}),
        ...(p.takenAt ? { takenAt: p.takenAt } : {}),
      };
    }),
  };
  await store.put(sharedDocKey(identityId, token), JSON.stringify(body));
  const keep = new Set(shared);
  const stale = [...existing].filter((k) => k !== sharedDocKey(identityId, token) && !keep.has(fileNameOfKey(k)));
  await deleteAll(store, stale);
  return { shared, missing: doc.pictures.filter((f) => !keep.has(f)) };
}

// ------------------------------------------------------------------ deleted pictures

/** Removes the files from every album listing them, and republishes the shared ones. */
export async function forgetPictures(env: AlbumEnv, files: string[], deps: PublishDeps): Promise<void> {
  const gone = new Set(files);
  const albums = (await listAlbums(env)).filter((a) => a.doc.pictures.some((f) => gone.has(f)));
  for (const a of albums) {
    try {
      const changed = await removePictures(env, a.doc.id, files);
      if (changed.doc.link) await publishAlbum(env, a.doc.id, deps);
    } catch (err) {
      if (!(err instanceof AlbumGone)) throw err;
    }
  }
}

/**
 * Coalesces `forgetPictures` over pictures deleted one by one (a bulk delete runs several at
 * once): files asked for while a pass runs go into the next pass, so each album is changed once
 * per pass rather than once per picture, and changes of one album never race each other here.
 * Each caller's promise settles when a pass that included its file ends.
 */
export class PictureForgetter {
  private pending = new Map<string, { resolve: () => void; reject: (e: unknown) => void }[]>();
  private running = false;

  constructor(private readonly pass: (files: string[]) => Promise<void>) {}

  forget(file: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiting = this.pending.get(file) ?? [];
      waiting.push({ resolve, reject });
      this.pending.set(file, waiting);
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    // Let the other deletions of the same tick join the first pass.
    await Promise.resolve();
    while (this.pending.size) {
      const batch = this.pending;
      this.pending = new Map();
      try {
        await this.pass([...batch.keys()]);
        for (const w of batch.values()) w.forEach((x) => x.resolve());
      } catch (err) {
        for (const w of batch.values()) w.forEach((x) => x.reject(err));
      }
    }
    this.running = false;
  }
}

// ------------------------------------------------------------------ adding a selection

export interface AddablePicture {
  objectKey: string;
  /** Set on an upload the cloud did not keep: it cannot be shown, so it is not added. */
  refused?: unknown;
}

/**
 * Adds the owner's selected pictures to an album (an existing one by id, or a new one by name)
 * in one conditional write, then brings its shared copy up to date when it has one. The answer
 * is a bulk report (bulk.ts): added, skipped (already in the album; not kept by the cloud) or
 * failed (the album would pass MAX_ALBUM_PICTURES, or the write failed), with the album's name.
 */
export async function addToAlbum<T extends AddablePicture>(
  env: AlbumEnv,
  items: readonly T[],
  target: { albumId: string } | { name: string },
  deps: PublishDeps & { describeError: (err: unknown) => string },
): Promise<{ report: BulkReport<T>; name: string }> {
  const report: BulkReport<T> = { done: [], skipped: [], failed: [], notStarted: [] };
  const todo: T[] = [];
  for (const item of items) {
    if (item.refused) report.skipped.push({ item, reason: 'the cloud did not keep the file' });
    else todo.push(item);
  }
  const fileOf = (i: T) => fileNameOfKey(i.objectKey);
  let name = 'name' in target ? target.name : '';
  try {
    let album: StoredAlbum;
    if ('name' in target) {
      album = await createAlbum(env, target.name, todo.map(fileOf));
    } else {
      const before = await readAlbum(env, target.albumId);
      if (!before) throw new AlbumGone();
      const already = new Set(before.doc.pictures);
      for (const item of todo.filter((i) => already.has(fileOf(i)))) report.skipped.push({ item, reason: 'already in the album' });
      album = await addPictures(env, target.albumId, todo.map(fileOf));
    }
    name = album.doc.name;
    if (album.doc.link) await publishAlbum(env, album.doc.id, deps);
    const inAlbum = new Set(album.doc.pictures);
    const skipped = new Set(report.skipped.map((s) => s.item));
    for (const item of todo) {
      if (skipped.has(item)) continue;
      if (inAlbum.has(fileOf(item))) report.done.push(item);
      else report.failed.push({ item, reason: 'removed from the album meanwhile' });
    }
  } catch (err) {
    const reason = deps.describeError(err);
    const skipped = new Set(report.skipped.map((s) => s.item));
    for (const item of todo) if (!skipped.has(item)) report.failed.push({ item, reason });
  }
  return { report, name };
}
