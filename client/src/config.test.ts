import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from './config';

const base = {
  region: 'us-east-1', bucket: 'b', table: 't', userPoolId: 'us-east-1_x', userPoolClientId: 'c',
  identityPoolId: 'us-east-1:p',
};

describe('config', () => {
  it('cloud config: no endpoint, virtual-hosted S3', () => {
    const c = parseConfig({ ...base, endpoint: '' });
    expect(c.endpoint).toBeUndefined();
    expect(c.s3ForcePathStyle).toBe(false);
  });
  it('local config: endpoint and path-style', () => {
    const c = parseConfig({ ...base, endpoint: 'http://127.0.0.1:4566/', s3ForcePathStyle: true, accessKeyId: 'ignored' });
    expect(c.endpoint).toBe('http://127.0.0.1:4566');
    expect(c.s3ForcePathStyle).toBe(true);
  });
  it('carries the upload bounds when the stack says them, the default size limit otherwise', () => {
    const c = parseConfig({ ...base, maxUploadBytes: 1048576, storageQuotaBytes: 2147483648 });
    expect([c.maxUploadBytes, c.storageQuotaBytes]).toEqual([1048576, 2147483648]);
    const d = parseConfig({ ...base, maxUploadBytes: 'big', storageQuotaBytes: -1 });
    expect([d.maxUploadBytes, d.storageQuotaBytes]).toEqual([50 * 1024 * 1024, undefined]);
  });
  it('names what is missing', () => {
    expect(() => parseConfig({ ...base, bucket: '' })).toThrow(/bucket/);
    expect(() => parseConfig([])).toThrow();
    expect(() => parseConfig({ ...base, endpoint: 'ftp://x' })).toThrow(/endpoint/);
  });
  it('loads ./config.json', async () => {
    const fake = ((url: string) => {
      expect(url).toBe('./config.json');
      return Promise.resolve(new Response(JSON.stringify(base), { status: 200 }));
    }) as unknown as typeof fetch;
    expect((await loadConfig(fake)).bucket).toBe('b');
    const missing = (() => Promise.resolve(new Response('nope', { status: 404 }))) as unknown as typeof fetch;
    await expect(loadConfig(missing)).rejects.toThrow(/404/);
  });
});
