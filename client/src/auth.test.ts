import { describe, expect, it, vi } from 'vitest';
import { Session, type SessionStore, type Tokens } from './auth';
import { parseConfig } from './config';

const config = parseConfig({
  endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', bucket: 'media', table: 'content',
  userPoolId: 'us-east-1_p', userPoolClientId: 'client-1', identityPoolId: 'us-east-1:i', s3ForcePathStyle: true,
});

function memoryStore(tokens?: Tokens): SessionStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  if (tokens) data.set('media-share.session.v1', JSON.stringify(tokens));
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
}

const TOKENS: Tokens = {
  idToken: 'id', accessToken: 'access-1', refreshToken: 'refresh-1', expiresAt: Date.now() + 3_600_000, email: 'a@example.com',
};

/** The session with the Cognito client's `send` stubbed: answers the command names sent and their inputs. */
function session(tokens: Tokens | undefined, answer: (name: string) => unknown = () => ({})) {
  const store = memoryStore(tokens);
  const s = new Session(config, store);
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  vi.spyOn(s.idp, 'send').mockImplementation(((cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const name = cmd.constructor.name.replace(/Command$/, '');
    sent.push({ name, input: cmd.input });
    const r = answer(name);
    return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
  }) as never);
  return { s, store, sent };
}
const cognitoError = (name: string, message = '') => Object.assign(new Error(message), { name });

describe('Session: password recovery and change', () => {
  it('ForgotPassword for the email, answering the masked destination', async () => {
    const { s, sent } = session(undefined, () => ({ CodeDeliveryDetails: { Destination: 'a****@e****' } }));
    expect(await s.forgotPassword('a@example.com')).toBe('a****@e****');
    expect(sent).toEqual([{ name: 'ForgotPassword', input: { ClientId: 'client-1', Username: 'a@example.com' } }]);
  });

  it('ConfirmForgotPassword with the code and the new password', async () => {
    const { s, sent } = session(undefined);
    await s.confirmForgotPassword('a@example.com', '654321', 'New-Password-1');
    expect(sent).toEqual([{
      name: 'ConfirmForgotPassword',
      input: { ClientId: 'client-1', Username: 'a@example.com', ConfirmationCode: '654321', Password: 'New-Password-1' },
    }]);
  });

  it('ChangePassword with the access token, current and new password', async () => {
    const { s, sent } = session(TOKENS);
    await s.changePassword('Old-1', 'New-Password-1');
    expect(sent).toEqual([{ name: 'ChangePassword', input: { AccessToken: 'access-1', PreviousPassword: 'Old-1', ProposedPassword: 'New-Password-1' } }]);
    expect(s.signedIn).toBe(true);
  });

  it('ChangePassword signed out fails as an ended session, sending nothing', async () => {
    const { s, sent } = session(undefined);
    await expect(s.changePassword('a', 'b')).rejects.toMatchObject({ name: 'NotAuthorizedException', message: 'Access Token has expired' });
    expect(sent).toEqual([]);
  });
});

describe('Session: signing out', () => {
  it('sign out here revokes only this refresh token and forgets the tokens', async () => {
    const { s, store, sent } = session(TOKENS);
    await s.signOut();
    expect(sent).toEqual([{ name: 'RevokeToken', input: { ClientId: 'client-1', Token: 'refresh-1' } }]);
    expect(s.signedIn).toBe(false);
    expect(store.data.has('media-share.session.v1')).toBe(false);
  });

  it('sign out here still signs out when the revocation fails', async () => {
    const { s } = session(TOKENS, () => new TypeError('Failed to fetch'));
    await s.signOut();
    expect(s.signedIn).toBe(false);
  });

  it('sign out everywhere: GlobalSignOut with the access token, then signed out', async () => {
    const { s, sent } = session(TOKENS);
    await s.signOutEverywhere();
    expect(sent).toEqual([{ name: 'GlobalSignOut', input: { AccessToken: 'access-1' } }]);
    expect(s.signedIn).toBe(false);
  });

  it('sign out everywhere signs this browser out even when Cognito refuses, and says so', async () => {
    const { s } = session(TOKENS, () => cognitoError('TooManyRequestsException'));
    await expect(s.signOutEverywhere()).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    expect(s.signedIn).toBe(false);
  });
});

describe('Session: deleting the user', () => {
  it('DeleteUser with the access token, then signed out', async () => {
    const { s, sent } = session(TOKENS);
    const changes = vi.fn();
    s.onChange(changes);
    await s.deleteUser();
    expect(sent).toEqual([{ name: 'DeleteUser', input: { AccessToken: 'access-1' } }]);
    expect(s.signedIn).toBe(false);
    expect(changes).toHaveBeenCalledTimes(1);
  });

  it('a failed DeleteUser keeps the session, so the person can try again', async () => {
    const { s } = session(TOKENS, () => cognitoError('InternalErrorException'));
    await expect(s.deleteUser()).rejects.toMatchObject({ name: 'InternalErrorException' });
    expect(s.signedIn).toBe(true);
  });

  it('an access token about to expire is refreshed first', async () => {
    const { s, sent } = session({ ...TOKENS, expiresAt: Date.now() + 1_000 }, (name) => (name === 'InitiateAuth'
      ? { AuthenticationResult: { IdToken: 'id-2', AccessToken: 'access-2', ExpiresIn: 3600 } }
      : {}));
    await s.deleteUser();
    expect(sent.map((c) => c.name)).toEqual(['InitiateAuth', 'DeleteUser']);
    expect(sent[0].input).toMatchObject({ AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: 'refresh-1' } });
    expect(sent[1].input).toEqual({ AccessToken: 'access-2' });
  });
});

describe('Session: a refresh Cognito refuses', () => {
  it('ends the session and says so to onExpired, after onChange', async () => {
    const { s, store } = session({ ...TOKENS, expiresAt: 0 }, (name) => (name === 'InitiateAuth'
      ? cognitoError('NotAuthorizedException', 'Refresh Token has been revoked')
      : {}));
    const events: string[] = [];
    s.onChange(() => events.push('change'));
    s.onExpired(() => events.push('expired'));
    await expect(s.credentials()).rejects.toThrow('Your session has expired. Please sign in again.');
    expect(events).toEqual(['change', 'expired']);
    expect(s.signedIn).toBe(false);
    expect(store.data.has('media-share.session.v1')).toBe(false);
  });

  it('a network failure of the refresh is not an expiry', async () => {
    const { s } = session({ ...TOKENS, expiresAt: 0 }, () => new TypeError('Failed to fetch'));
    const expired = vi.fn();
    s.onExpired(expired);
    await expect(s.credentials()).rejects.toThrow('Failed to fetch');
    expect(expired).not.toHaveBeenCalled();
    expect(s.signedIn).toBe(true);
  });
});

describe('Session: credentials and identity id across a sign-out', () => {
  /** Identity-pool calls stubbed: Alice's id with her login, the guest's without; `hold` keeps Alice's credentials coming. */
  function identityPool(s: Session) {
    const calls: { name: string; input: Record<string, unknown> }[] = [];
    let releaseAlice: () => void = () => {};
    const aliceHeld = new Promise<void>((r) => { releaseAlice = r; });
    vi.spyOn(s.cid, 'send').mockImplementation((async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = cmd.constructor.name.replace(/Command$/, '');
      calls.push({ name, input: cmd.input });
      const withLogin = !!cmd.input.Logins;
      if (name === 'GetId') return { IdentityId: withLogin ? 'us-east-1:alice' : 'us-east-1:guest' };
      const id = cmd.input.IdentityId as string;
      if (withLogin) await aliceHeld;
      // As the local emulator does: an identity asked for without a login gets its own credentials.
      const key = id === 'us-east-1:alice' ? 'ALICE' : 'GUEST';
      return { IdentityId: id, Credentials: { AccessKeyId: key, SecretKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3_600_000) } };
    }) as never);
    return { calls, releaseAlice: () => releaseAlice() };
  }

  it('credentials asked for before a sign-out and answered after it are the guest\'s, and Alice\'s identity id is not reused', async () => {
    const { s } = session(TOKENS);
    const pool = identityPool(s);
    const asked = s.credentials();
    const id = s.getIdentityId();
    await vi.waitFor(() => expect(pool.calls.map((c) => c.name)).toEqual(['GetId', 'GetCredentialsForIdentity']));
    await s.signOut();
    pool.releaseAlice();
    expect((await asked).accessKeyId).toBe('GUEST');
    expect(await id).toBe('us-east-1:guest');
    expect(await s.getIdentityId()).toBe('us-east-1:guest');
    const guestCalls = pool.calls.slice(2);
    expect(guestCalls.every((c) => c.input.IdentityId !== 'us-east-1:alice')).toBe(true);
    expect(s.currentIdentityId).toBe('us-east-1:guest');
  });
});
