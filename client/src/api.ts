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
import type { Session } from './auth';
import type { Conditions, FetchResult } from './poller';
import { contentPrefix } from './keys';
import type { OwnedOriginals } from './account-deletion';
import { encodeMetadata, clampChars, MAX_DESCRIPTION, MAX_TITLE, type UploadMetadata } from './metadata';

const PRESIGN_SECONDS = 3600;

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
  if (e?.name === 'AbortError') return 'Cancelled.';
  if (e?.name === 'MetadataTooLong') return e.message ?? 'The title and description are too long to carry over.';
  return e?.message || e?.name || String(err);
}

export class Api {
  readonly s3: S3Client;
  readonly ddb: DynamoDBClient;
  private presignCache = new Map<string, { url: string; until: number }>();

  constructor(private readonly config: AppConfig, session: Session) {
    const common = {
      region: config.region,
      credentials: session.credentials,
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
    session.onChange(() => this.presignCache.clear());
  }

  /** Conditional GET of an index object (see IndexPoller). */
  fetchIndex = async (key: string, cond: Conditions): Promise<FetchResult> => {
    try {
      const r = await this.s3.send(new GetObjectCommand({
        Bucket: this.config.bucket,
        Key: key,
        IfModifiedSince: cond.ifModifiedSince,
        IfNoneMatch: cond.ifNoneMatch,
      }));
      const body = (await r.Body?.transformToString('utf-8')) ?? '';
      return { status: 'ok', body, lastModified: r.LastModified, etag: r.ETag };
    } catch (err) {
      const status = httpStatusOf(err);
      const name = (err as { name?: string }).name;
      if (status === 304 || name === 'NotModified') return { status: 'not-modified' };
      // Not written yet. Without s3:ListBucket, S3 answers 403 instead of 404 for a missing key.
      if (status === 404 || name === 'NoSuchKey' || status === 403) return { status: 'missing' };
      throw err;
    }
  };

  /** Presigned GET URL, reused while it has more than 5 minutes left. */
  async presign(key: string, version = ''): Promise<string> {
    const cacheKey = `${key}\u0000${version}`;
    const hit = this.presignCache.get(cacheKey);
    if (hit && hit.until > Date.now()) return hit.url;
    const url = await getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.config.bucket, Key: key }), { expiresIn: PRESIGN_SECONDS });
    this.presignCache.set(cacheKey, { url, until: Date.now() + (PRESIGN_SECONDS - 300) * 1000 });
    return url;
  }

  /** Uploads one file with its metadata; `onProgress` gets fractions 0..1. */
  upload(
    key: string,
    file: Blob,
    contentType: string,
    meta: UploadMetadata,
    onProgress: (fraction: number) => void,
  ): { done: Promise<void>; abort: () => Promise<void> } {
    const up = new Upload({
      client: this.s3,
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
    return {
      done: up.done().then(() => onProgress(1)),
      abort: () => up.abort(),
    };
  }

  /** Edits title and description of the caller's own item: those two attributes and nothing else. */
  async updateText(identityId: string, objectKey: string, title: string, description: string): Promise<void> {
    await this.ddb.send(new UpdateItemCommand({
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
    }));
  }

  /**
   * Copies an original within the bucket with new metadata (`MetadataDirective: REPLACE`),
   * only if the destination does not exist yet (`If-None-Match: *`; S3 answers 412 when it
   * does). S3 needs s3:GetObject on the source and s3:PutObject on the destination (S3 API
   * reference, CopyObject, "Permissions"): the caller's own prefixes.
   */
  async copyObject(sourceKey: string, destinationKey: string, contentType: string | undefined, meta: UploadMetadata): Promise<void> {
    await this.s3.send(new CopyObjectCommand({
      Bucket: this.config.bucket,
      // "bucket/key", URL-encoded (CopyObject, x-amz-copy-source); each segment on its own
      // so the slashes stay separators.
      CopySource: `${this.config.bucket}/${sourceKey.split('/').map(encodeURIComponent).join('/')}`,
      Key: destinationKey,
      MetadataDirective: 'REPLACE',
      Metadata: { data: encodeMetadata(meta) },
      ...(contentType ? { ContentType: contentType } : {}),
      IfNoneMatch: '*',
    }));
  }

  /** Writes new bytes under a key that must not exist yet (`If-None-Match: *`). */
  async putNewObject(key: string, body: Uint8Array, contentType: string | undefined, meta: UploadMetadata): Promise<void> {
    await this.s3.send(new PutObjectCommand({
      Bucket: this.config.bucket,
      Key: key,
      Body: body,
      Metadata: { data: encodeMetadata(meta) },
      ...(contentType ? { ContentType: contentType } : {}),
      IfNoneMatch: '*',
    }));
  }

  /** The object's bytes, or the first `bytes` of them (a Range GET). */
  async readObject(key: string, bytes?: number): Promise<Uint8Array> {
    const r = await this.s3.send(new GetObjectCommand({
      Bucket: this.config.bucket,
      Key: key,
      ...(bytes ? { Range: `bytes=0-${bytes - 1}` } : {}),
    }));
    return (await r.Body?.transformToByteArray()) ?? new Uint8Array();
  }

  /** HEAD of an object: its metadata, or undefined when absent (404, or 403 without s3:ListBucket). */
  async headObject(key: string): Promise<{ metadata: Record<string, string>; contentType?: string; size?: number; lastModified?: Date } | undefined> {
    try {
      const r = await this.s3.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: key }));
      return { metadata: r.Metadata ?? {}, contentType: r.ContentType, size: r.ContentLength, lastModified: r.LastModified };
    } catch (err) {
      const status = httpStatusOf(err);
      if (status === 404 || status === 403) return undefined;
      throw err;
    }
  }

  /** Deletes the original; the backend removes thumbnail, faces copy and item. */
  async deleteObject(objectKey: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: objectKey }));
  }

  /**
   * Every original under one of the caller's content prefixes, all pages (ListObjectsV2 answers
   * at most 1,000 keys a page). The role may list only with `s3:prefix` under its own prefixes.
   */
  async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.s3.send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /** The person's originals, public and private, listed from the bucket. */
  async listOwnOriginals(identityId: string): Promise<OwnedOriginals> {
    const [publicKeys, privateKeys] = await Promise.all([
      this.listKeys(contentPrefix(true, identityId)),
      this.listKeys(contentPrefix(false, identityId)),
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
    const r = await this.s3.send(new DeleteObjectsCommand({
      Bucket: this.config.bucket,
      Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
    }));
    return (r.Errors ?? []).map((e) => ({ key: e.Key ?? '', message: e.Message || e.Code || 'refused' }));
  }
}
