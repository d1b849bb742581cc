/**
 * "Delete my account": the person's albums (documents and shared copies), every original the
 * person owns, then (once the pipeline has removed
 * thumbnails, faces copies, items and index entries) the Cognito user.
 *
 * Order matters. The user is deleted last because afterwards nobody but an administrator can
 * delete the pictures: the identity pool hands out credentials only for a live user-pool login.
 * And the user is deleted only once the private index is empty, i.e. the pipeline has seen every
 * removal, so a failure on the way leaves the person signed in and able to try again (every
 * step is idempotent: deleting a deleted key succeeds, S3 DeleteObjects docs).
 */

/** The originals a person owns, listed from the bucket (the truth, not the index). */
export interface OwnedOriginals {
  publicKeys: string[];
  privateKeys: string[];
}

export function totalOf(o: OwnedOriginals): number {
  return o.publicKeys.length + o.privateKeys.length;
}

export interface AccountDeletionPorts {
  /** Every key under the person's `public/content/{id}/` and `private/content/{id}/`. */
  listOwnOriginals(): Promise<OwnedOriginals>;
  /** Deletes the keys; answers the ones S3 refused, with S3's message. */
  deleteObjects(keys: string[]): Promise<{ key: string; message: string }[]>;
  /** The private index's body, or undefined when there is none (never written, or removed). */
  fetchPrivateIndex(): Promise<string | undefined>;
  /**
   * Deletes every album document and shared album copy of the person (albums.ts); throws when
   * some could not be deleted.
   */
  deleteAlbums(): Promise<void>;
  /** Cognito DeleteUser of the signed-in user. */
  deleteUser(): Promise<void>;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export type DeletionProgress =
  | { step: 'deleting-albums' }
  | { step: 'deleting'; deleted: number; total: number }
  | { step: 'waiting'; remaining: number }
  | { step: 'deleting-account' }
  | { step: 'done' };

export type DeletionFailure = 'albums-not-deleted' | 'pictures-not-deleted' | 'index-not-empty' | 'pictures-keep-coming';

export class AccountDeletionError extends Error {
  constructor(readonly failure: DeletionFailure, message: string) {
    super(message);
    this.name = 'AccountDeletionError';
  }
}

export interface DeletionOptions {
  onProgress?: (p: DeletionProgress) => void;
  /** How long to wait for the pipeline to empty the private index. */
  waitTimeoutMs?: number;
  pollMs?: number;
  /** S3 DeleteObjects takes at most 1,000 keys per request. */
  batchSize?: number;
}

/**
 * How many pictures an index body still lists: the head's `items` plus the pages it points to
 * (a paged index, CONTRACT.md "Indexes": `pages: [{key, count}]`; a page without a count counts
 * as one). An index with no items and no pages, or only pages of count 0, is empty; so is no
 * index. Version 2 keeps listing a page whose items were all deleted, with count 0
 * (docs/indexes.md).
 */
export function picturesListed(body: string | undefined): number {
  if (body === undefined) return 0;
  const doc = JSON.parse(body) as { items?: unknown; pages?: unknown };
  const items = Array.isArray(doc.items) ? doc.items.length : 0;
  const pages = Array.isArray(doc.pages) ? doc.pages : [];
  return items + pages.reduce<number>((n, p) => {
    const count = (p as { count?: unknown })?.count;
    return n + (typeof count === 'number' && count >= 0 ? count : 1);
  }, 0);
}

/** Rounds of list-and-delete before giving up on someone uploading from another device meanwhile. */
const MAX_ROUNDS = 3;

export async function deleteAccount(ports: AccountDeletionPorts, opts: DeletionOptions = {}): Promise<void> {
  const { onProgress = () => {}, waitTimeoutMs = 180_000, pollMs = 2_000, batchSize = 1_000 } = opts;
  // Albums first: their links stop working before anything else goes, and none is left naming
  // pictures that are gone.
  onProgress({ step: 'deleting-albums' });
  try {
    await ports.deleteAlbums();
  } catch (err) {
    throw new AccountDeletionError('albums-not-deleted',
      `Your albums could not be deleted (${(err as Error)?.message ?? String(err)}). Your account is kept; try again.`);
  }
  for (let round = 1; ; round++) {
    const owned = await ports.listOwnOriginals();
    const keys = [...owned.publicKeys, ...owned.privateKeys];
    if (keys.length === 0 && round > 1) break;
    if (round > MAX_ROUNDS) {
      throw new AccountDeletionError('pictures-keep-coming',
        `New pictures keep arriving (${keys.length} now), perhaps from another device. Stop uploading there and try again.`);
    }
    let deleted = 0;
    onProgress({ step: 'deleting', deleted, total: keys.length });
    const failed: { key: string; message: string }[] = [];
    for (let i = 0; i < keys.length; i += batchSize) {
      const batch = keys.slice(i, i + batchSize);
      const refused = await ports.deleteObjects(batch);
      failed.push(...refused);
      deleted += batch.length - refused.length;
      onProgress({ step: 'deleting', deleted, total: keys.length });
    }
    if (failed.length) {
      throw new AccountDeletionError('pictures-not-deleted',
        `${failed.length} of ${keys.length} pictures could not be deleted (${failed[0].message}). Your account is kept; try again.`);
    }
    await waitForEmptyIndex(ports, onProgress, waitTimeoutMs, pollMs);
    if (keys.length === 0) break;
  }
  onProgress({ step: 'deleting-account' });
  await ports.deleteUser();
  onProgress({ step: 'done' });
}

async function waitForEmptyIndex(
  ports: AccountDeletionPorts,
  onProgress: (p: DeletionProgress) => void,
  timeoutMs: number,
  pollMs: number,
): Promise<void> {
  const deadline = ports.now() + timeoutMs;
  for (;;) {
    const remaining = picturesListed(await ports.fetchPrivateIndex());
    if (remaining === 0) return;
    onProgress({ step: 'waiting', remaining });
    if (ports.now() >= deadline) {
      throw new AccountDeletionError('index-not-empty',
        `Your pictures are deleted, but ${remaining} are still being removed from the gallery. Your account is kept for now; try again in a few minutes.`);
    }
    await ports.sleep(pollMs);
  }
}
