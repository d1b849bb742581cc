// Which credentials sign the requests and presigned URLs of `Api` when the session changes
// (guest -> signed in -> signed out -> another person) or its credentials are refreshed.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api } from './api';
import type { AwsCredentialIdentity, Session } from './auth';
import { parseConfig } from './config';

const config = parseConfig({
  endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', bucket: 'media', table: 'content',
  userPoolId: 'us-east-1_p', userPoolClientId: 'c', identityPoolId: 'us-east-1:i', s3ForcePathStyle: true,
});

const HOUR = 3_600_000;
const creds = (accessKeyId: string, expiresInMs = HOUR): AwsCredentialIdentity => ({
  accessKeyId, secretAccessKey: `secret-${accessKeyId}`, sessionToken: `token-${accessKeyId}`,
  expiration: new Date(Date.now() + expiresInMs),
});

/** A session manager as Api sees it: `credentials` answers the current person's credentials. */
function fakeSession(first: AwsCredentialIdentity) {
  const listeners = new Set<() => void>();
  let current = first;
  let credentialCalls = 0;
  const session = {
    credentials: () => {
      credentialCalls++;
      return Promise.resolve(current);
    },
    onChange: (fn: () => void) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  return {
    session: session as unknown as Session,
    /** Sign-in, sign-out: new credentials and the change reported. */
    switchTo(next: AwsCredentialIdentity) {
      current = next;
      for (const l of listeners) l();
    },
    /** The same session with refreshed credentials (no change reported). */
    refresh(next: AwsCredentialIdentity) {
      current = next;
    },
    get credentialCalls() {
      return credentialCalls;
    },
  };
}

interface Sent { method: string; path: string; headers: Record<string, string> }

/**
 * Answers every request of `client` locally and records it as signed: the client's request handler
 * is the last step, after signing. `hold` keeps a request unanswered until released or aborted.
 */
function captureRequests(client: Api['s3'] | Api['ddb'], answer: () => { statusCode: number; body: string }) {
  const sent: Sent[] = [];
  const held: { release: () => void }[] = [];
  let hold = false;
  const handler = {
    handle: (request: { method: string; path: string; headers: Record<string, string> }, opts?: { abortSignal?: AbortSignal }) => {
      sent.push({ method: request.method, path: request.path, headers: { ...request.headers } });
      const respond = () => {
        const a = answer();
        return { response: { statusCode: a.statusCode, headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode(a.body) } };
      };
      if (!hold) return Promise.resolve(respond());
      return new Promise((resolve, reject) => {
        held.push({ release: () => resolve(respond()) });
        opts?.abortSignal?.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })));
      });
    },
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => ({}),
  };
  (client.config as unknown as { requestHandler: unknown }).requestHandler = handler;
  return {
    sent,
    held,
    set hold(v: boolean) {
      hold = v;
    },
  };
}

/** The access key a request was signed with (SigV4 Authorization header). */
const accessKeyOf = (s: Sent) => /Credential=([^/]+)\//.exec(s.headers.authorization ?? '')?.[1];
const tokenOf = (s: Sent) => s.headers['x-amz-security-token'];
const accessKeyOfUrl = (url: string) => new URL(url).searchParams.get('X-Amz-Credential')?.split('/')[0];

afterEach(() => {
  vi.useRealTimers();
});

describe('Api: every request is signed with the credentials of the session current at the time', () => {
  it('S3: guest, then signed in, then signed out, then another person', async () => {
    const fake = fakeSession(creds('GUEST1'));
    const api = new Api(config, fake.session);
    const s3 = captureRequests(api.s3, () => ({ statusCode: 204, body: '' }));

    await api.deleteObject('public/content/us-east-1:g/a.jpg');
    fake.switchTo(creds('ALICE'));
    await api.deleteObject('public/content/us-east-1:alice/a.jpg');
    fake.switchTo(creds('GUEST2'));
    await api.deleteObject('public/content/us-east-1:g2/a.jpg');
    fake.switchTo(creds('BOB'));
    await api.deleteObject('public/content/us-east-1:bob/a.jpg');

    expect(s3.sent.map(accessKeyOf)).toEqual(['GUEST1', 'ALICE', 'GUEST2', 'BOB']);
    expect(s3.sent.map(tokenOf)).toEqual(['token-GUEST1', 'token-ALICE', 'token-GUEST2', 'token-BOB']);
  });

  it('DynamoDB: the edit after a sign-in is signed as the signed-in person', async () => {
    const fake = fakeSession(creds('GUEST1'));
    const api = new Api(config, fake.session);
    const ddb = captureRequests(api.ddb, () => ({ statusCode: 200, body: '{}' }));
    await api.updateText('us-east-1:g', 'public/content/us-east-1:g/a.jpg', 't', 'd');
    fake.switchTo(creds('ALICE'));
    await api.updateText('us-east-1:alice', 'public/content/us-east-1:alice/a.jpg', 't', 'd');
    expect(ddb.sent.map(accessKeyOf)).toEqual(['GUEST1', 'ALICE']);
  });

  it('refreshed credentials of the same session sign the next request', async () => {
    const fake = fakeSession(creds('ALICE1'));
    const api = new Api(config, fake.session);
    const s3 = captureRequests(api.s3, () => ({ statusCode: 204, body: '' }));
    await api.deleteObject('k1');
    fake.refresh(creds('ALICE2'));
    await api.deleteObject('k2');
    expect(s3.sent.map(accessKeyOf)).toEqual(['ALICE1', 'ALICE2']);
  });

  it('a request in flight when the session changes is cancelled, not answered to the new session', async () => {
    const fake = fakeSession(creds('ALICE'));
    const api = new Api(config, fake.session);
    const s3 = captureRequests(api.s3, () => ({ statusCode: 204, body: '' }));
    s3.hold = true;
    const pending = api.deleteObject('private/content/us-east-1:alice/a.jpg');
    await vi.waitFor(() => expect(s3.sent).toHaveLength(1));
    fake.switchTo(creds('GUEST'));
    await expect(pending).rejects.toMatchObject({ name: 'SessionChangedError' });
    expect(accessKeyOf(s3.sent[0])).toBe('ALICE');
  });

  it('an upload in flight when the person signs out is cancelled', async () => {
    const fake = fakeSession(creds('ALICE'));
    const api = new Api(config, fake.session);
    const s3 = captureRequests(api.s3, () => ({ statusCode: 200, body: '' }));
    s3.hold = true;
    const file = new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' });
    const up = api.upload('private/content/us-east-1:alice/a.png', file, 'image/png', { isPublic: false, title: 'a', description: '' }, () => {});
    await vi.waitFor(() => expect(s3.sent).toHaveLength(1));
    fake.switchTo(creds('GUEST'));
    await expect(up.done).rejects.toMatchObject({ name: 'SessionChangedError' });
  });
});

describe('Api.presign: cached URLs do not outlive the credentials that signed them', () => {
  it('re-signs before the signing credentials expire (credentials valid 10 minutes)', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-23T12:00:00Z'), toFake: ['Date'] });
    const fake = fakeSession(creds('ALICE1', 10 * 60_000));
    const api = new Api(config, fake.session);
    const key = 'private/thumbnails/us-east-1:alice/a.jpg';

    const first = await api.presign(key, 'v1');
    expect(accessKeyOfUrl(first)).toBe('ALICE1');
    vi.setSystemTime(new Date('2026-11-23T12:04:00Z'));
    expect(await api.presign(key, 'v1')).toBe(first);

    // Within the margin before the credentials expire: the session has refreshed them, and the
    // URL is signed again with the new ones.
    vi.setSystemTime(new Date('2026-11-23T12:05:30Z'));
    fake.refresh(creds('ALICE2'));
    const second = await api.presign(key, 'v1');
    expect(second).not.toBe(first);
    expect(accessKeyOfUrl(second)).toBe('ALICE2');
    // Neither URL claims to live longer than its credentials.
    expect(Number(new URL(first).searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(600);
  });

  it('drops every cached URL on a session change, also one being signed during the change', async () => {
    const fake = fakeSession(creds('ALICE'));
    const api = new Api(config, fake.session);
    const key = 'public/thumbnails/us-east-1:alice/a.jpg';
    const alice = await api.presign(key, 'v1');
    expect(accessKeyOfUrl(alice)).toBe('ALICE');

    fake.switchTo(creds('GUEST'));
    const guest = await api.presign(key, 'v1');
    expect(accessKeyOfUrl(guest)).toBe('GUEST');

    // Signing started as the guest, finished after Bob signed in: not cached as Bob's.
    const slow = api.presign('public/thumbnails/us-east-1:alice/b.jpg', 'v1');
    fake.switchTo(creds('BOB'));
    await slow.catch(() => undefined);
    expect(accessKeyOfUrl(await api.presign('public/thumbnails/us-east-1:alice/b.jpg', 'v1'))).toBe('BOB');
    expect(accessKeyOfUrl(await api.presign(key, 'v1'))).toBe('BOB');
  });
});
