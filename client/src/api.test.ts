import { describe, expect, it, vi } from 'vitest';
import { Api, copySourceSegment, friendlyApiError } from './api';
import type { Session } from './auth';
import { parseConfig } from './config';
import { originalDownload } from './originals';

const config = parseConfig({
  endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', bucket: 'media', table: 'content',
  userPoolId: 'us-east-1_p', userPoolClientId: 'c', identityPoolId: 'us-east-1:i', s3ForcePathStyle: true,
});
const session = {
  credentials: () => Promise.resolve({ accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST' }),
  onChange: () => () => {},
} as unknown as Session;

const sdkError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('Api.fetchIndex', () => {
  it('sends If-Modified-Since / If-None-Match and maps 200', async () => {
    const api = new Api(config, session);
    const lm = new Date('2026-11-23T14:05:10Z');
    const send = vi.spyOn(api.s3, 'send').mockResolvedValue({
      Body: { transformToString: () => Promise.resolve('{"items":[]}') }, LastModified: lm, ETag: '"e"',
    } as never);
    const r = await api.fetchIndex('public/index/content.json', { ifModifiedSince: lm, ifNoneMatch: '"e0"' });
    expect(r).toEqual({ status: 'ok', body: '{"items":[]}', lastModified: lm, etag: '"e"' });
    const input = (send.mock.calls[0][0] as unknown as { input: Record<string, unknown> }).input;
    expect(input).toMatchObject({ Bucket: 'media', Key: 'public/index/content.json', IfModifiedSince: lm, IfNoneMatch: '"e0"' });
  });

  it('maps 304 to not-modified, 404/403 to missing, and rethrows the rest', async () => {
    const api = new Api(config, session);
    const send = vi.spyOn(api.s3, 'send');
    send.mockRejectedValueOnce(sdkError('Unknown', 304));
    expect(await api.fetchIndex('k', {})).toEqual({ status: 'not-modified' });
    send.mockRejectedValueOnce(sdkError('NoSuchKey', 404));
    expect(await api.fetchIndex('k', {})).toEqual({ status: 'missing' });
    send.mockRejectedValueOnce(sdkError('AccessDenied', 403));
    expect(await api.fetchIndex('k', {})).toEqual({ status: 'missing' });
    send.mockRejectedValueOnce(sdkError('InternalError', 500));
    await expect(api.fetchIndex('k', {})).rejects.toThrow('InternalError');
  });
});

describe('Api.updateText', () => {
  it('touches only title and description of the caller\'s item', async () => {
    const api = new Api(config, session);
    const send = vi.spyOn(api.ddb, 'send').mockResolvedValue({} as never);
    await api.updateText('us-east-1:me', 'public/content/us-east-1:me/a.jpg', '  New title ', 'Déjà vu');
    const input = (send.mock.calls[0][0] as unknown as { input: Record<string, unknown> }).input;
    expect(input).toEqual({
      TableName: 'content',
      Key: { identityId: { S: 'us-east-1:me' }, objectKey: { S: 'public/content/us-east-1:me/a.jpg' } },
      UpdateExpression: 'SET #title = :title, #description = :description',
      ConditionExpression: 'attribute_exists(#title)',
      ExpressionAttributeNames: { '#title': 'title', '#description': 'description' },
      ExpressionAttributeValues: { ':title': { S: 'New title' }, ':description': { S: 'Déjà vu' } },
      ReturnValues: 'NONE',
    });
  });
});

describe('Api.presign', () => {
  it('signs GETs against the configured endpoint, path-style, and reuses URLs', async () => {
    const api = new Api(config, session);
    const url = await api.presign('public/thumbnails/us-east-1:me/b c.png', 'v1');
    expect(url.startsWith('http://127.0.0.1:4566/media/public/thumbnails/us-east-1%3Ame/b%20c.png?')).toBe(true);
    expect(url).toContain('X-Amz-Signature=');
    expect(await api.presign('public/thumbnails/us-east-1:me/b c.png', 'v1')).toBe(url);
  });

  it('signs a download\'s response headers into the URL, cached apart from the plain GET', async () => {
    const api = new Api(config, session);
    const key = "public/content/us-east-1:me/Café 東京 (1)'s.jpg";
    const item = {
      identityId: 'us-east-1:me', objectKey: key, isPublic: true, title: 't', description: '', uploadDate: 'v1', contentType: 'image/jpeg',
    };
    const download = originalDownload(item, 'us-east-1:me')!;
    const plain = await api.presign(key, 'v1');
    const url = await api.presign(key, 'v1', download.overrides);
    expect(url).not.toBe(plain);
    expect(new URL(plain).searchParams.has('response-content-disposition')).toBe(false);
    const params = new URL(url).searchParams;
    expect(params.get('response-content-disposition'))
      .toBe("attachment; filename*=UTF-8''Caf%C3%A9%20%E6%9D%B1%E4%BA%AC%20%281%29%27s.jpg");
    expect(params.get('response-content-type')).toBe('image/jpeg');
    // Signed: SigV4 query signing covers every query parameter but the signature itself.
    expect(params.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(await api.presign(key, 'v1', download.overrides)).toBe(url);
    expect(await api.presign(key, 'v1')).toBe(plain);
  });
});

describe('copySourceSegment', () => {
  it("escapes what a key segment needs but keeps the identity id's ':' as the role's condition names it", () => {
    expect(copySourceSegment('us-east-1:0b6f')).toBe('us-east-1:0b6f');
    expect(copySourceSegment('a b+c%/é.jpg')).toBe('a%20b%2Bc%25%2F%C3%A9.jpg');
  });
});

describe('friendlyApiError', () => {
  it('explains common failures', () => {
    expect(friendlyApiError(new TypeError('Failed to fetch'))).toMatch(/Network/);
    expect(friendlyApiError(sdkError('AccessDenied', 403))).toMatch(/Not allowed/);
    expect(friendlyApiError(sdkError('ConditionalCheckFailedException', 400))).toMatch(/no longer exists/);
  });
});

describe('Api.upload', () => {
  it('puts the file with content type and ASCII-only x-amz-meta-data, reporting progress to 100%', async () => {
    const api = new Api(config, session);
    const send = vi.spyOn(api.s3, 'send').mockResolvedValue({ ETag: '"x"' } as never);
    const progress: number[] = [];
    const file = new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3])], { type: 'image/png' });
    const key = 'private/content/us-east-1:me/tête.png';
    await api.upload(key, file, 'image/png', { isPublic: false, title: 'Tête à tête', description: '' }, (f) => progress.push(f)).done;
    const input = (send.mock.calls[0][0] as unknown as { input: Record<string, unknown> }).input;
    expect(input).toMatchObject({ Bucket: 'media', Key: key, ContentType: 'image/png' });
    const data = (input.Metadata as Record<string, string>).data;
    expect(data).toBe('{"isPublic":false,"title":"T\\u00eate \\u00e0 t\\u00eate","description":""}');
    expect(progress.at(-1)).toBe(1);
  });
});

describe('Api: listing and deleting the owner\'s originals (account deletion)', () => {
  const ID = 'us-east-1:me';
  const inputOf = (call: unknown[]) => (call[0] as { input: Record<string, unknown> }).input;

  it('lists both own content prefixes, following every page', async () => {
    const api = new Api(config, session);
    const send = vi.spyOn(api.s3, 'send').mockImplementation(((cmd: { input: { Prefix: string; ContinuationToken?: string } }) => {
      const { Prefix, ContinuationToken } = cmd.input;
      if (Prefix.startsWith('public/') && !ContinuationToken) return Promise.resolve({ Contents: [{ Key: `${Prefix}a.jpg` }], IsTruncated: true, NextContinuationToken: 't1' });
      if (Prefix.startsWith('public/')) return Promise.resolve({ Contents: [{ Key: `${Prefix}b.jpg` }], IsTruncated: false });
      return Promise.resolve({ Contents: [{ Key: `${Prefix}c.jpg` }], IsTruncated: false });
    }) as never);
    expect(await api.listOwnOriginals(ID)).toEqual({
      publicKeys: [`public/content/${ID}/a.jpg`, `public/content/${ID}/b.jpg`],
      privateKeys: [`private/content/${ID}/c.jpg`],
    });
    const prefixes = send.mock.calls.map((c) => [inputOf(c).Prefix, inputOf(c).ContinuationToken, inputOf(c).Bucket]);
    expect(prefixes).toContainEqual([`public/content/${ID}/`, undefined, 'media']);
    expect(prefixes).toContainEqual([`public/content/${ID}/`, 't1', 'media']);
    expect(prefixes).toContainEqual([`private/content/${ID}/`, undefined, 'media']);
    expect(send).toHaveBeenCalledTimes(3);
  });

  it('deletes in one quiet DeleteObjects request and answers the refused keys', async () => {
    const api = new Api(config, session);
    const send = vi.spyOn(api.s3, 'send').mockResolvedValue({
      Errors: [{ Key: 'private/content/us-east-1:me/b.jpg', Code: 'AccessDenied', Message: 'Access Denied' }],
    } as never);
    const keys = ['public/content/us-east-1:me/a.jpg', 'private/content/us-east-1:me/b.jpg'];
    expect(await api.deleteObjects(keys)).toEqual([{ key: 'private/content/us-east-1:me/b.jpg', message: 'Access Denied' }]);
    expect(inputOf(send.mock.calls[0])).toEqual({ Bucket: 'media', Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } });
    send.mockClear();
    expect(await api.deleteObjects([])).toEqual([]);
    expect(send).not.toHaveBeenCalled();
  });
});
