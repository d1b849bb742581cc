/** The content indexes written by update-content-index (CONTRACT.md, "Indexes"). */
import { fileNameOfKey } from './keys';

export interface IndexItem {
  identityId: string;
  objectKey: string;
  thumbnailKey?: string;
  /** The preview rendition (fits 1600x1600); absent on items made before previews. */
  previewKey?: string;
  /** An animated GIF or WebP (its thumbnail and preview are the first frame). */
  animated?: boolean;
  facesKey?: string;
  faceCount?: number;
  isPublic: boolean;
  title: string;
  description: string;
  uploadDate: string;
  /**
   * When the picture was taken, from its Exif: the camera's local time, then its UTC offset when
   * the file gives one (`2024-07-14T18:03:22`, `2024-07-14T18:03:22+02:00`).
   */
  takenAt?: string;
  /** The camera's make and model, from its Exif. */
  camera?: string;
  contentType?: string;
  size?: number;
  width?: number;
  height?: number;
  /** Set on the owner's item of an upload the cloud did not keep: why. */
  refused?: Refusal;
}

/** Why content-updated did not keep an upload (media-core's `Refusal`). */
export type Refusal = 'tooLarge' | 'storageClass' | 'overQuota';
const REFUSALS: readonly Refusal[] = ['tooLarge', 'storageClass', 'overQuota'];

/**
 * A page of older items, or a volume of pages, as a head (version 2 and 3) or a volume lists
 * it (docs/indexes.md).
 */
export interface PageRef {
  key: string;
  /** Items on the page, or beneath the volume. */
  count: number;
  generatedAt: string;
  /** A hash of the page's items (the volume's entries): a copy with this hash is current. */
  contentHash: string;
  /** The entry owns the upload dates after this one; absent on the oldest. */
  after?: string;
  /** Present (above 0) on a volume: a document listing older pages (and volumes), no items. */
  level?: number;
}

/** Whether an entry is a volume, to be fetched for the pages it lists. */
export const isVolume = (p: PageRef): boolean => (p.level ?? 0) > 0;

export interface IndexDoc {
  version: number;
  generatedAt?: string;
  items: IndexItem[];
  /** On a head or a volume: pages (and volumes) of older items, newest first. Empty on a page and on a version-1 index. */
  pages: PageRef[];
}

export const EMPTY_INDEX: IndexDoc = Object.freeze({ version: 2, items: [], pages: [] });

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/**
 * Parses one index item; undefined when it lacks what the client needs
 * (identityId and a content key). Unknown fields are ignored, wrong-typed
 * optional fields dropped, a missing title falls back to the file name.
 */
export function parseItem(raw: unknown): IndexItem | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const o = raw as Record<string, unknown>;
  const identityId = str(o.identityId);
  const objectKey = str(o.objectKey);
  if (!identityId || !objectKey || !/^(public|private)\/content\/[^/]+\/.+/.test(objectKey)) return undefined;
  const isPublic = typeof o.isPublic === 'boolean' ? o.isPublic : objectKey.startsWith('public/');
  return {
    identityId,
    objectKey,
    thumbnailKey: str(o.thumbnailKey),
    previewKey: str(o.previewKey),
    animated: o.animated === true ? true : undefined,
    facesKey: str(o.facesKey),
    faceCount: num(o.faceCount),
    isPublic,
    title: str(o.title) ?? fileNameOfKey(objectKey),
    description: typeof o.description === 'string' ? o.description : '',
    uploadDate: typeof o.uploadDate === 'string' ? o.uploadDate : '',
    takenAt: str(o.takenAt),
    camera: str(o.camera),
    contentType: str(o.contentType),
    size: num(o.size),
    width: num(o.width),
    height: num(o.height),
    refused: REFUSALS.find((r) => r === o.refused),
  };
}

/** Parses an index document (text or already-parsed JSON). Throws on a body that is not an index. */
export function parseIndex(body: unknown): IndexDoc {
  const raw: unknown = typeof body === 'string' ? JSON.parse(body) : body;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('index is not a JSON object');
  const o = raw as Record<string, unknown>;
  if (!Array.isArray(o.items)) throw new Error('index has no items array');
  const seen = new Set<string>();
  const items: IndexItem[] = [];
  for (const r of o.items) {
    const it = parseItem(r);
    if (!it || seen.has(it.objectKey)) continue;
    seen.add(it.objectKey);
    items.push(it);
  }
  // Newest first (the writer already orders them; a stable sort keeps ties as written).
  items.sort((a, b) => (a.uploadDate === b.uploadDate ? 0 : a.uploadDate < b.uploadDate ? 1 : -1));
  const pages: PageRef[] = [];
  for (const r of Array.isArray(o.pages) ? o.pages : []) {
    const page = parsePageRef(r);
    if (page) pages.push(page);
  }
  return {
    version: typeof o.version === 'number' ? o.version : 1,
    generatedAt: str(o.generatedAt),
    items,
    pages,
  };
}

/** One entry of a head's `pages`; undefined without a key under an index folder. */
export function parsePageRef(raw: unknown): PageRef | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const o = raw as Record<string, unknown>;
  const key = str(o.key);
  if (!key || !/^(public|private)\/index\//.test(key)) return undefined;
  const page: PageRef = { key, count: num(o.count) ?? 0, generatedAt: str(o.generatedAt) ?? '', contentHash: str(o.contentHash) ?? '' };
  const after = str(o.after);
  if (after) page.after = after;
  const level = num(o.level);
  if (level) page.level = level;
  return page;
}

/** Identity of an item's rendering: a card is rebuilt when this changes. */
export function itemSignature(it: IndexItem): string {
  return JSON.stringify([it.objectKey, it.uploadDate, it.thumbnailKey ?? '', it.previewKey ?? '', it.facesKey ?? '', it.faceCount ?? -1, it.title, it.description, it.isPublic, it.refused ?? '', it.takenAt ?? '', it.camera ?? '']);
}

/** True when two indexes would render identically. */
export function sameItems(a: IndexDoc, b: IndexDoc): boolean {
  if (a.items.length !== b.items.length) return false;
  return a.items.every((it, i) => itemSignature(it) === itemSignature(b.items[i]));
}

/** True when two heads have the same items and list the same pages in the same versions. */
export function sameHead(a: IndexDoc, b: IndexDoc): boolean {
  if (!sameItems(a, b) || a.pages.length !== b.pages.length) return false;
  return a.pages.every((p, i) => p.key === b.pages[i].key && p.contentHash === b.pages[i].contentHash && p.count === b.pages[i].count);
}
