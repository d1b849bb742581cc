/**
 * Share links: `#/p/{identityId}/{file}`, each segment URL-encoded. The link names the owner
 * and the file, not the visibility, so it survives a change of visibility (which keeps the
 * file name when it can; uploads pick names unused under both prefixes).
 *
 * Who sees what: anyone a public picture (signed out too: the identity pool's
 * unauthenticated role reads the public index and renditions), only the owner a private one;
 * everyone else gets "not available", which says nothing about whether a private picture
 * exists. Only the owner reads an original (originals.ts).
 */
import type { IndexDoc, IndexItem } from './indexdoc';
import { contentKey, derivedKey, fileNameOfKey } from './keys';
import { ownsOriginal } from './originals';
import { clampChars, MAX_DESCRIPTION, MAX_TITLE } from './metadata';

export interface SharedRef {
  identityId: string;
  fileName: string;
}

const PREFIX = '#/p/';

export function shareHash(ref: SharedRef): string {
  return `${PREFIX}${encodeURIComponent(ref.identityId)}/${encodeURIComponent(ref.fileName)}`;
}

export function shareRefOf(item: IndexItem): SharedRef {
  return { identityId: item.identityId, fileName: fileNameOfKey(item.objectKey) };
}

/** The full link for a page at `base` (location.href). */
export function shareUrl(base: string, item: IndexItem): string {
  const url = new URL(base);
  url.hash = shareHash(shareRefOf(item));
  return url.href;
}

export function isShareHash(hash: string): boolean {
  return hash.startsWith(PREFIX);
}

/** The picture a share hash names; undefined for a malformed one (bad escapes, missing or extra segments). */
export function parseShareHash(hash: string): SharedRef | undefined {
  if (!isShareHash(hash)) return undefined;
  const parts = hash.slice(PREFIX.length).split('/');
  if (parts.length !== 2) return undefined;
  try {
    const [identityId, fileName] = parts.map(decodeURIComponent);
    // The same checks as the key layout: no empty segment, no slash inside one.
    contentKey('public', identityId, fileName);
    return { identityId, fileName };
  } catch {
    return undefined;
  }
}

export interface PublicHead {
  metadata: Record<string, string>;
  contentType?: string;
  size?: number;
  lastModified?: Date;
}

/**
 * A picture found, and where: an index (which the view then follows), the owner's original's
 * metadata, or, for anyone else, its public preview.
 */
export interface Found {
  item: IndexItem;
  from: 'private-index' | 'public-index' | 'original' | 'preview';
}

export interface FindDeps {
  /** The signed-in user's identity id, if any. */
  myIdentityId?: string;
  /** The signed-in user's private index (all their pictures). */
  privateIndex: () => Promise<IndexDoc | undefined>;
  publicIndex: () => Promise<IndexDoc | undefined>;
  /** HEAD of an object: undefined when absent or not readable. */
  head: (key: string) => Promise<PublicHead | undefined>;
}

/**
 * The picture a link names, as the caller may see it, or undefined. The owner finds it in
 * their private index (public or private); others in the public index. A public picture older
 * than the indexes' heads reach back is known to its owner from its original's metadata, to
 * anyone else from its preview (which tells that it exists, no more).
 */
export async function findShared(ref: SharedRef, deps: FindDeps): Promise<Found | undefined> {
  const publicKey = contentKey('public', ref.identityId, ref.fileName);
  if (deps.myIdentityId && deps.myIdentityId === ref.identityId) {
    const mine = (await deps.privateIndex())?.items ?? [];
    const matches = mine.filter((i) => fileNameOfKey(i.objectKey) === ref.fileName);
    // Two pictures of one owner with one name (uploaded before names were unique across
    // both prefixes): the public one, the one the link can have been shared for.
    const found = matches.find((i) => i.objectKey === publicKey) ?? matches[0];
    if (found) return { item: found, from: 'private-index' };
  }
  const inPublic = (await deps.publicIndex())?.items.find((i) => i.objectKey === publicKey);
  if (inPublic) return { item: inPublic, from: 'public-index' };
  if (ownsOriginal(publicKey, deps.myIdentityId)) {
    const head = await deps.head(publicKey);
    return head ? { item: itemFromHead(ref, publicKey, head), from: 'original' } : undefined;
  }
  const previewKey = derivedKey(publicKey, 'previews');
  return (await deps.head(previewKey)) ? { item: itemFromPreview(ref, publicKey, previewKey), from: 'preview' } : undefined;
}

/**
 * What a public preview tells of a picture: that it exists and is public. The title is the file
 * name (the backend's fallback too); description and date are not known (they are in the
 * original's metadata and the table, which only the owner reads).
 */
export function itemFromPreview(ref: SharedRef, objectKey: string, previewKey: string): IndexItem {
  return {
    identityId: ref.identityId,
    objectKey,
    thumbnailKey: derivedKey(objectKey, 'thumbnails'),
    previewKey,
    isPublic: true,
    title: clampChars(ref.fileName, MAX_TITLE),
    description: '',
    uploadDate: '',
  };
}

/**
 * What the original's own metadata tells: the title and description at upload (or at the
 * last change of visibility; later edits live in the table only), no face count. The date is
 * when S3 wrote the original (its upload or its last change of visibility): the metadata
 * never dates a picture, whatever it claims.
 */
export function itemFromHead(ref: SharedRef, objectKey: string, head: PublicHead): IndexItem {
  let meta: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(head.metadata.data ?? '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) meta = parsed as Record<string, unknown>;
  } catch {
    // Missing or broken metadata: the file name stands in, as in the backend.
  }
  const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  return {
    identityId: ref.identityId,
    objectKey,
    thumbnailKey: derivedKey(objectKey, 'thumbnails'),
    isPublic: true,
    title: clampChars(text(meta.title) || ref.fileName, MAX_TITLE),
    description: clampChars(text(meta.description), MAX_DESCRIPTION),
    uploadDate: head.lastModified?.toISOString() ?? '',
    contentType: head.contentType,
    size: head.size,
  };
}
