/** S3 and DynamoDB calls the client makes with the session's credentials. */
import {
  S3Client,
  GetObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  CopyObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AppConfig } from './config';
import { CREDENTIALS_REFRESH_MS, type AwsCredentialIdentity, type Session } from './auth';
import type { Conditions, FetchResult } from './poller';
import { contentPrefix, type Visibility } from './keys';
import type { OwnedOriginals } from './account-deletion';
import type { ResponseOverrides } from './originals';
import { PreconditionFailed, type AlbumStore } from './albums';
import { encodeMetadata, clampChars, MAX_DESCRIPTION, MAX_TITLE, type UploadMetadata } from './metadata';

const PRESIGN_SECONDS = 3600;
/**
 * A cached presigned URL is handed out until this long before it, or the credentials that
 * signed it, expire (a URL signed with temporary credentials stops working when they expire:
 * S3 user guide, "Sharing objects with presigned URLs"). Not more than the session's refresh
 * margin, so that when an entry runs out the session has fresh credentials to sign with.
 */
export const PRESIGN_MARGIN_MS = CREDENTIALS_REFRESH_MS;

/** A request of a session that ended (sign-in, sign-out) before it was answered. */
export class SessionChangedError extends Error {
  constructor() {
    super('Cancelled: you signed in or out meanwhile.');
    this.name = 'SessionChangedError';
  }
}

/** What Api needs of the session: its current credentials, and word when it changes. */
export type CredentialSource = Pick<Session, 'credentials' | 'onChange'>;

/** One key segment of a CopyObject source: URL-encoded, except ':' (see `copy`). */
export function copySourceSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/%3A/gi, ':');
}

/**
 * A CopyObject's source: "bucket/key", URL-encoded (CopyObject, x-amz-copy-source); each segment
 * on its own so the slashes stay separators, and ':' (legal in a path segment, RFC 3986) left as
 * is: the role's s3:x-amz-copy-source condition names the identity id with its ':'.
 */
export function copySourceOf(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(copySourceSegment).join('/')}`;
}

export function httpStatusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** A sentence for an S3/DynamoDB error. */
export function friendlyApiError(err: unknown): string {
  const e = err as { name?: string; message?: string };
  const status = httpStatusOf(err);
  if (err instanceof TypeError || e?.name === 'TypeError') return 'Network error: the storage service could not be reached.';
  if (status === 403 || e?.name === 'AccessDenied' || e?.name === 'AccessDeniedException') return 'Not allowed: you can only change your own pictures.';
  if (e?.name === 'ConditionalCheckFailedException') return 'This picture no longer exists.';
  if (e?.name === 'SessionChangedError') return e.message ?? 'Cancelled.';
  if (e?.name === 'AbortError') return 'Cancelled.';
  if (e?.name === 'MetadataTooLong') return e.message ?? 'The title and description are too long to carry over.';
  return e?.message || e?.name || String(err);
}

export class Api {
  readonly s3: S3Client;
  readonly ddb: DynamoDBClient;
  private presignCache = new Map<string, { url: string; until: number }>();
  /** Bumped on every session change: work started before it belongs to the old session. */
  private epoch = 0;
  /** Aborted on the next session change: every request carries its signal. */
  private sessionAbort = new AbortController();

  constructor(private readonly config: AppConfig, private readonly session: CredentialSource) {
    const common = {
      region: config.region,
      credentials: currentCredentials(session),
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    };
    this.s3 = new S3Client({
      ...common,
      forcePathStyle: config.s3ForcePathStyle,
      // Plain PUTs: no flexible checksums the browser would have to compute over the whole
      // file, and nothing an emulator might not understand.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    this.ddb = new DynamoDBClient(common);
    session.onChange(() => {
      this.epoch++;
      this.presignCache.clear();
      const ended = this.sessionAbort;
      this.sessionAbort = new AbortController();
      ended.abort(new SessionChangedError());
    });
  }

  /**
   * Runs one request of the current session: cancelled when the session changes before it is
   * answered (its answer would belong to the person who signed out), failing with
   * SessionChangedError.
   */
  private async request<T>(send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const epoch = this.epoch;
    let out: T;
    try {
      out = await send(this.sessionAbort.signal);
    } catch (err) {
      if (epoch !== this.epoch) throw new SessionChangedError();
      throw err;
    }
    if (epoch !== this.epoch) throw new SessionChangedError();
    return out;
  }

  /** Conditional GET of an index object (see IndexPoller). */
  fetchIndex = async (key: string, cond: Conditions): Promise<FetchResult> => {
    try {
      return await this.request(async (abortSignal) => {
        const r = await this.s3.send(new GetObjectCommand({
          Bucket: this.config.bucket,
          Key: key,
          IfModifiedSince: cond.ifModifiedSince,
          IfNoneMatch: cond.ifNoneMatch,
        }), { abortSignal });
        const body = (await r.Body?.transformToString('utf-8')) ?? '';
        return { status: 'ok', body, lastModified: r.LastModified, etag: r.ETag } as const;
      });
    } catch (err) {
      if (err instanceof SessionChangedError) throw err;
      const status = httpStatusOf(err);
      const name = (err as { name?: string }).name;
      if (status === 304 || name === 'NotModified') return { status: 'not-modified' };
      // Not written yet. Without s3:ListBucket, S3 answers 403 instead of 404 for a missing key.
      if (status === 404 || name === 'NoSuchKey' || status === 403) return { status: 'missing' };
      throw err;
    }
  };

  /**
   * Presigned GET URL of the current session, reused until PRESIGN_MARGIN_MS before it or the
   * credentials that signed it expire, whichever is first; a session change drops them all.
   * `overrides` become the URL's signed `response-content-disposition` and
   * `response-content-type` (a download: originals.ts).
   */
  async presign(key: string, version = '', overrides?: ResponseOverrides): Promise<string> {
    const cacheKey = JSON.stringify([key, version, overrides?.ResponseContentDisposition, overrides?.ResponseContentType]);
    // A session change while signing: sign again for the new session (at most twice more).
    for (let attempt = 0; ; attempt++) {
      const hit = this.presignCache.get(cacheKey);
      if (hit && hit.until > Date.now()) return hit.url;
      const epoch = this.epoch;
      const creds = await this.session.credentials();
      const now = Date.now();
      const credsUntil = creds.expiration?.getTime() ?? Infinity;
      const expiresIn = Math.max(1, Math.min(PRESIGN_SECONDS, Math.floor((credsUntil - now) / 1000)));
      const command = new GetObjectCommand({ Bucket: this.config.bucket, Key: key, ...overrides });
      const url = await getSignedUrl(this.s3, command, { expiresIn });
      if (epoch !== this.epoch) {
        if (attempt < 2) continue;
        throw new SessionChangedError();
      }
      // The client asked the session again while signing: cached only when signed with the
      // credentials whose expiration is known here (not ones refreshed meanwhile).
      if (new URL(url).searchParams.get('X-Amz-Credential')?.split('/')[0] === creds.accessKeyId) {
        const until = Math.min(now + expiresIn * 1000, credsUntil) - PRESIGN_MARGIN_MS;
        if (until > Date.now()) this.presignCache.set(cacheKey, { url, until });
      }
      return url;
    }
  }

  /** Uploads one file with its metadata; `onProgress` gets fractions 0..1. */
  upload(
    key: string,
    file: Blob,
    contentType: string,
    meta: UploadMetadata,
    onProgress: (fraction: number) => void,
  ): { done: Promise<void>; abort: () => Promise<void> } {
    const epoch = this.epoch;
    // Cancelled by the person, or by a session change (sign-out): requests in flight too
    // (lib-storage stops sending parts but does not pass its signal to the client).
    const cancel = new AbortController();
    const sessionSignal = this.sessionAbort.signal;
    const onSessionChange = () => cancel.abort(new SessionChangedError());
    sessionSignal.addEventListener('abort', onSessionChange, { once: true });
    const s3 = this.s3;
    const client = {
      config: s3.config,
      send: (command: Parameters<S3Client['send']>[0], options?: object) => s3.send(command, { ...options, abortSignal: cancel.signal }),
    } as unknown as S3Client;
    const up = new Upload({
      client,
      abortController: cancel,
      params: {
        Bucket: this.config.bucket,
        Key: key,
        Body: file,
        ContentType: contentType,
        Metadata: { data: encodeMetadata(meta) },
      },
      queueSize: 2,
      partSize: 8 * 1024 * 1024,
      leavePartsOnError: false,
    });
    const total = file.size;
    up.on('httpUploadProgress', (p) => {
      const t = p.total ?? total;
      if (t > 0 && typeof p.loaded === 'number') onProgress(Math.min(1, p.loaded / t));
    });
    const done = up.done().then(
      () => {
        if (epoch !== this.epoch) throw new SessionChangedError();
        onProgress(1);
      },
      (err) => {
        throw epoch !== this.epoch ? new SessionChangedError() : err;
      },
    ).finally(() => sessionSignal.removeEventListener('abort', onSessionChange));
    return { done, abort: () => up.abort() };
  }

  /** Edits title and description of the caller's own item: those two attributes and nothing else. */
  async updateText(identityId: string, objectKey: string, title: string, description: string): Promise<void> {
    await this.request((abortSignal) => this.ddb.send(new UpdateItemCommand({
      TableName: this.config.table,
      Key: { identityId: { S: identityId }, objectKey: { S: objectKey } },
      UpdateExpression: 'SET #title = :title, #description = :description',
      // Only on an existing item (one deleted meanwhile is not re-created); the
      // condition reads `title` only, so the request still touches only title and description.
      ConditionExpression: 'attribute_exists(#title)',
      ExpressionAttributeNames: { '#title': 'title', '#description': 'description' },
      ExpressionAttributeValues: {
        ':title': { S: clampChars(title.trim(), MAX_TITLE) },
        ':description': { S: clampChars(description.trim(), MAX_DESCRIPTION) },
      },
      ReturnValues: 'NONE',
    }), { abortSignal }));
  }

  /**
   * Copies an original within the bucket with new metadata (`MetadataDirective: REPLACE`),
   * only if the destination does not exist yet (`If-None-Match: *`; S3 answers 412 when it
   * does). S3 needs s3:GetObject on the source and s3:PutObject on the destination (S3 API
   * reference, CopyObject, "Permissions"): the caller's own prefixes.
   */
  async copyObject(sourceKey: string, destinationKey: string, contentType: string | undefined, meta: UploadMetadata): Promise<void> {
    await this.request((abortSignal) => this.s3.send(new CopyObjectCommand({
      Bucket: this.config.bucket,
      CopySource: copySourceOf(this.config.bucket, sourceKey),
      Key: destinationKey,
      MetadataDirective: 'REPLACE',
      Metadata: { data: encodeMetadata(meta) },
      ...(contentType ? { ContentType: contentType } : {}),
      IfNoneMatch: '*',
    }), { abortSignal }));
  }

  /** Writes new bytes under a key that must not exist yet (`If-None-Match: *`). */
  async putNewObject(key: string, body: Uint8Array, contentType: string | undefined, meta: UploadMetadata): Promise<void> {
    await this.request((abortSignal) => this.s3.send(new PutObjectCommand({
      Bucket: this.config.bucket,
      Key: key,
      Body: body,
      Metadata: { data: encodeMetadata(meta) },
      ...(contentType ? { ContentType: contentType } : {}),
      IfNoneMatch: '*',
    }), { abortSignal }));
  }

  /**
   * The album code's bucket (albums.ts): JSON documents read with their ETag and written
   * conditionally, plain copies of renditions, listing and deleting under the person's prefixes.
   */
  readonly albumStore: AlbumStore = {
    get: async (key) => {
      try {
        return await this.request(async (abortSignal) => {
          const r = await this.s3.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key }), { abortSignal });
          return { body: (await r.Body?.transformToString('utf-8')) ?? '', etag: r.ETag ?? '' };
        });
      } catch (err) {
        if (err instanceof SessionChangedError) throw err;
        // Without s3:ListBucket on the key, S3 answers 403 for a missing key.
        const status = httpStatusOf(err);
        if (status === 404 || status === 403 || (err as { name?: string }).name === 'NoSuchKey') return undefined;
        throw err;
      }
    },
    put: async (key, body, cond) => {
      try {
        const r = await this.request((abortSignal) => this.s3.send(new PutObjectCommand({
          Bucket: this.config.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          // A revoked or changed album must not be served from a cache.
          CacheControl: 'no-cache',
          ...(cond && 'ifNoneMatch' in cond ? { IfNoneMatch: cond.ifNoneMatch } : {}),
          ...(cond && 'ifMatch' in cond ? { IfMatch: cond.ifMatch } : {}),
        }), { abortSignal }));
        return r.ETag ?? '';
      } catch (err) {
        // 412: the condition failed; 409: a conditional write raced another (S3 API reference,
        // PutObject, "Conditional writes"). Either way: read again and retry.
        const status = httpStatusOf(err);
        if (status === 412 || status === 409) throw new PreconditionFailed();
        throw err;
      }
    },
    list: (prefix) => this.listKeys(prefix),
    copy: async (from, to) => {
      await this.request((abortSignal) => this.s3.send(new CopyObjectCommand({
        Bucket: this.config.bucket,
        CopySource: copySourceOf(this.config.bucket, from),
        Key: to,
      }), { abortSignal }));
    },
    delete: (keys) => this.deleteObjects(keys),
  };

  /** The object's bytes, or the first `bytes` of them (a Range GET). */
  async readObject(key: string, bytes?: number): Promise<Uint8Array> {
    return this.request(async (abortSignal) => {
      const r = await this.s3.send(new GetObjectCommand({
        Bucket: this.config.bucket,
        Key: key,
        ...(bytes ? { Range: `bytes=0-${bytes - 1}` } : {}),
      }), { abortSignal });
      return (await r.Body?.transformToByteArray()) ?? new Uint8Array();
    });
  }

  /** HEAD of an object: its metadata, or undefined when absent (404, or 403 without s3:ListBucket). */
  async headObject(key: string): Promise<{ metadata: Record<string, string>; contentType?: string; size?: number; lastModified?: Date } | undefined> {
    try {
      const r = await this.request((abortSignal) => this.s3.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: key }), { abortSignal }));
      return { metadata: r.Metadata ?? {}, contentType: r.ContentType, size: r.ContentLength, lastModified: r.LastModified };
    } catch (err) {
      if (err instanceof SessionChangedError) throw err;
      const status = httpStatusOf(err);
      if (status === 404 || status === 403) return undefined;
      throw err;
    }
  }

  /** Deletes the original; the backend removes thumbnail, faces copy and item. */
  async deleteObject(objectKey: string): Promise<void> {
    await this.request((abortSignal) => this.s3.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: objectKey }), { abortSignal }));
  }

  /**
   * Every original under one of the caller's content prefixes, all pages (ListObjectsV2 answers
   * at most 1,000 keys a page). The role may list only with `s3:prefix` under its own prefixes.
   */
  async listKeys(prefix: string): Promise<string[]> {
    return (await this.listObjects(prefix)).map((o) => o.key);
  }

  private async listObjects(prefix: string): Promise<{ key: string; size: number }[]> {
    const objects: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const r = await this.request((abortSignal) => this.s3.send(
        new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal }));
      for (const o of r.Contents ?? []) if (o.Key) objects.push({ key: o.Key, size: o.Size ?? 0 });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  /**
   * Bytes of the person's originals, both prefixes: what content-updated sums against the
   * storage quota (docs/decisions/upload-bounds.md).
   */
  async storageUsed(identityId: string): Promise<number> {
    const visibilities: Visibility[] = ['public', 'private'];
    const lists = await Promise.all(visibilities.map((visibility) => this.listObjects(contentPrefix(visibility, identityId))));
    return lists.flat().reduce((sum, o) => sum + o.size, 0);
  }

  /** The person's originals, public and private, listed from the bucket. */
  async listOwnOriginals(identityId: string): Promise<OwnedOriginals> {
    const [publicKeys, privateKeys] = await Promise.all([
      this.listKeys(contentPrefix('public', identityId)),
      this.listKeys(contentPrefix('private', identityId)),
    ]);
    return { publicKeys, privateKeys };
  }

  /**
   * Deletes up to 1,000 keys in one DeleteObjects request (Quiet: only failures are answered);
   * each key needs s3:DeleteObject, as a single delete does, and a refused key is reported in
   * `Errors` while the others are deleted (S3 API reference, DeleteObjects). Answers the keys
   * S3 refused.
   */
  async deleteObjects(keys: string[]): Promise<{ key: string; message: string }[]> {
    if (keys.length === 0) return [];
    const r = await this.request((abortSignal) => this.s3.send(new DeleteObjectsCommand({
      Bucket: this.config.bucket,
      Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
    }), { abortSignal }));
    return (r.Errors ?? []).map((e) => ({ key: e.Key ?? '', message: e.Message || e.Code || 'refused' }));
  }
}

/**
 * The clients' credential provider: the session's credentials at the time of each request.
 * The SDK wraps a provider in memoizeIdentityProvider, which keeps an identity until 5 minutes
 * before its `expiration` (forever without one), across sign-in and sign-out; the session
 * caches credentials itself and drops them on every change. So the SDK must ask every time:
 * `memoized` tells this SDK's normalizeCredentialProvider not to wrap the provider, and the
 * identity is reported as expiring now so that a memoizing wrapper would ask again anyway.
 * (`api-session.test.ts` checks the signed requests.)
 */
function currentCredentials(session: CredentialSource): (() => Promise<AwsCredentialIdentity>) & { memoized: boolean } {
  const provider = async (): Promise<AwsCredentialIdentity> => {
    const c = await session.credentials();
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: new Date(Date.now()) };
  };
  return Object.assign(provider, { memoized: true });
}
