/** Cognito user pool sign-up / sign-in and identity pool credentials. */
import {
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  InitiateAuthCommand,
  ResendConfirmationCodeCommand,
  SignUpCommand,
  GlobalSignOutCommand,
  RevokeTokenCommand,
  ForgotPasswordCommand,
  ConfirmForgotPasswordCommand,
  ChangePasswordCommand,
  DeleteUserCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from '@aws-sdk/client-cognito-identity';
import type { AppConfig } from './config';

/** Temporary AWS credentials, as the SDK's credential providers return them. */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/**
 * Credentials are fetched again when they expire within this margin (as the SDK's own
 * memoizeIdentityProvider does: 5 minutes). Presigned URLs are re-signed at the same margin
 * (api.ts), so a URL is never re-signed with the credentials about to expire.
 */
export const CREDENTIALS_REFRESH_MS = 300_000;

/** What a refresh refused by Cognito (a revoked or expired refresh token) throws, and the person is told. */
export const SESSION_EXPIRED_MESSAGE = 'Your session has expired. Please sign in again.';

const STORAGE_KEY = 'media-share.session.v1';
const UNAUTH_ID_KEY = 'media-share.unauth-identity.v1';

export interface Tokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  /** ms since epoch when the id token expires */
  expiresAt: number;
  email: string;
}

export interface SessionStore {
  getItem(k: string): string | null;
  setItem(k: string, v: string): void;
  removeItem(k: string): void;
}

/** Payload of a JWT (no verification: the services verify it). */
export function decodeJwt(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

type Listener = () => void;

/**
 * Holds the signed-in user (tokens kept in localStorage so the session survives
 * a reload) and provides identity-pool credentials for the current state:
 * authenticated when signed in, unauthenticated (guest) otherwise.
 */
export class Session {
  readonly idp: CognitoIdentityProviderClient;
  readonly cid: CognitoIdentityClient;
  private tokens?: Tokens;
  private identityId?: string;
  private creds?: AwsCredentialIdentity;
  private credsFor?: string;
  private pending?: Promise<AwsCredentialIdentity>;
  private listeners = new Set<Listener>();
  private expiredListeners = new Set<Listener>();
  /** Bumped on every sign-in/out so stale credential fetches are discarded. */
  private epoch = 0;

  constructor(private readonly config: AppConfig, private readonly store: SessionStore = localStorage) {
    const common = { region: config.region, ...(config.endpoint ? { endpoint: config.endpoint } : {}) };
    this.idp = new CognitoIdentityProviderClient(common);
    this.cid = new CognitoIdentityClient(common);
    try {
      const raw = store.getItem(STORAGE_KEY);
      if (raw) this.tokens = JSON.parse(raw) as Tokens;
    } catch {
      store.removeItem(STORAGE_KEY);
    }
  }

  onChange(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Called when the session ended by itself: Cognito refused to refresh its tokens (revoked by
   * "sign out everywhere" elsewhere, or expired). After the onChange listeners (the session is
   * a guest's then). The request that found out fails, but as one of the ended session, whose
   * answers are dropped: this is how the person learns of it.
   */
  onExpired(fn: Listener): () => void {
    this.expiredListeners.add(fn);
    return () => this.expiredListeners.delete(fn);
  }

  get signedIn(): boolean {
    return !!this.tokens;
  }

  get email(): string | undefined {
    return this.tokens?.email;
  }

  private get loginsKey(): string {
    return `cognito-idp.${this.config.region}.amazonaws.com/${this.config.userPoolId}`;
  }

  async signUp(email: string, password: string): Promise<{ confirmed: boolean }> {
    const r = await this.idp.send(new SignUpCommand({
      ClientId: this.config.userPoolClientId,
      Username: email,
      Password: password,
      UserAttributes: [{ Name: 'email', Value: email }],
    }));
    return { confirmed: !!r.UserConfirmed };
  }

  async confirm(email: string, code: string): Promise<void> {
    await this.idp.send(new ConfirmSignUpCommand({ ClientId: this.config.userPoolClientId, Username: email, ConfirmationCode: code }));
  }

  async resendCode(email: string): Promise<void> {
    await this.idp.send(new ResendConfirmationCodeCommand({ ClientId: this.config.userPoolClientId, Username: email }));
  }

  async signIn(email: string, password: string): Promise<void> {
    const r = await this.idp.send(new InitiateAuthCommand({
      ClientId: this.config.userPoolClientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }));
    const a = r.AuthenticationResult;
    if (!a?.IdToken || !a.AccessToken || !a.RefreshToken) {
      throw new Error(r.ChallengeName ? `Sign-in needs a step this app does not support (${r.ChallengeName}).` : 'Sign-in returned no tokens.');
    }
    const claims = decodeJwt(a.IdToken);
    this.setTokens({
      idToken: a.IdToken,
      accessToken: a.AccessToken,
      refreshToken: a.RefreshToken,
      expiresAt: Date.now() + (a.ExpiresIn ?? 3600) * 1000,
      email: typeof claims.email === 'string' ? claims.email : email,
    });
  }

  /**
   * Signs this browser out: forgets the tokens and revokes this session's refresh token
   * (RevokeToken revokes it and the access tokens issued with it; other devices stay signed in).
   * Best effort: signed out locally even when the call fails.
   */
  async signOut(): Promise<void> {
    const t = this.tokens;
    this.setTokens(undefined);
    if (t) {
      try {
        await this.idp.send(new RevokeTokenCommand({ ClientId: this.config.userPoolClientId, Token: t.refreshToken }));
      } catch { /* signed out locally anyway */ }
    }
  }

  /**
   * Signs out on every device: GlobalSignOut invalidates every refresh token (and the access
   * tokens for user-pool calls) issued to the user (API_GlobalSignOut). Throws when the service
   * refused, so the person learns the other devices may still be signed in; this browser is
   * signed out either way.
   */
  async signOutEverywhere(): Promise<void> {
    try {
      const accessToken = await this.accessToken();
      await this.idp.send(new GlobalSignOutCommand({ AccessToken: accessToken }));
    } finally {
      this.setTokens(undefined);
    }
  }

  /** Sends a password-reset code to the account's email (API_ForgotPassword); answers where it went, masked. */
  async forgotPassword(email: string): Promise<string | undefined> {
    const r = await this.idp.send(new ForgotPasswordCommand({ ClientId: this.config.userPoolClientId, Username: email }));
    return r.CodeDeliveryDetails?.Destination;
  }

  /** Sets a new password with the emailed code (API_ConfirmForgotPassword). */
  async confirmForgotPassword(email: string, code: string, newPassword: string): Promise<void> {
    await this.idp.send(new ConfirmForgotPasswordCommand({
      ClientId: this.config.userPoolClientId, Username: email, ConfirmationCode: code, Password: newPassword,
    }));
  }

  /** Changes the signed-in user's password (API_ChangePassword: needs the current one). */
  async changePassword(current: string, next: string): Promise<void> {
    const accessToken = await this.accessToken();
    await this.idp.send(new ChangePasswordCommand({ AccessToken: accessToken, PreviousPassword: current, ProposedPassword: next }));
  }

  /**
   * Deletes the signed-in user from the user pool (API_DeleteUser), then forgets the session.
   * Only call once the person's pictures are gone: afterwards nobody can delete them but an admin.
   */
  async deleteUser(): Promise<void> {
    const accessToken = await this.accessToken();
    await this.idp.send(new DeleteUserCommand({ AccessToken: accessToken }));
    this.setTokens(undefined);
  }

  private setTokens(t: Tokens | undefined): void {
    this.tokens = t;
    this.epoch++;
    this.identityId = undefined;
    this.creds = undefined;
    this.credsFor = undefined;
    this.pending = undefined;
    if (t) this.store.setItem(STORAGE_KEY, JSON.stringify(t));
    else this.store.removeItem(STORAGE_KEY);
    for (const l of this.listeners) l();
  }

  /** A fresh id token (refreshed with the refresh token when close to expiry). */
  private async idToken(): Promise<string | undefined> {
    const t = this.tokens;
    if (!t) return undefined;
    if (t.expiresAt - Date.now() > 120_000) return t.idToken;
    const epoch = this.epoch;
    let r;
    try {
      r = await this.idp.send(new InitiateAuthCommand({
        ClientId: this.config.userPoolClientId,
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        AuthParameters: { REFRESH_TOKEN: t.refreshToken },
      }));
    } catch (err) {
      if ((err as { name?: string }).name === 'NotAuthorizedException' && epoch === this.epoch) {
        // Refresh token revoked or expired: back to guest.
        this.setTokens(undefined);
        for (const l of this.expiredListeners) l();
        throw new Error(SESSION_EXPIRED_MESSAGE, { cause: err });
      }
      throw err;
    }
    const a = r.AuthenticationResult;
    if (!a?.IdToken || epoch !== this.epoch) return this.tokens?.idToken;
    this.tokens = { ...t, idToken: a.IdToken, accessToken: a.AccessToken ?? t.accessToken, expiresAt: Date.now() + (a.ExpiresIn ?? 3600) * 1000 };
    this.store.setItem(STORAGE_KEY, JSON.stringify(this.tokens));
    return a.IdToken;
  }

  /** A fresh access token (refreshed with the id token when close to expiry). */
  private async accessToken(): Promise<string> {
    await this.idToken();
    if (!this.tokens) throw Object.assign(new Error('Access Token has expired'), { name: 'NotAuthorizedException' });
    return this.tokens.accessToken;
  }

  /** The Cognito identity id of the current user or guest (the session current when it answers). */
  async getIdentityId(): Promise<string> {
    for (;;) {
      const epoch = this.epoch;
      await this.credentials();
      if (epoch === this.epoch && this.identityId) return this.identityId;
    }
  }

  /**
   * The identity id of the current session, when its credentials were fetched already
   * (undefined right after a sign-in or sign-out): to check that a key built for one
   * identity is still the current person's.
   */
  get currentIdentityId(): string | undefined {
    return this.identityId;
  }

  /**
   * Credential provider: the current session's credentials, cached until CREDENTIALS_REFRESH_MS
   * before they expire. Answers credentials of the session current when it answers: a fetch
   * for a session that ended meanwhile is discarded.
   */
  credentials = async (): Promise<AwsCredentialIdentity> => {
    for (;;) {
      const epoch = this.epoch;
      const c = await this.credentialsOnce();
      if (epoch === this.epoch) return c;
    }
  };

  private credentialsOnce(): Promise<AwsCredentialIdentity> {
    const now = Date.now();
    const who = this.tokens ? `user:${this.tokens.email}` : 'guest';
    if (this.creds && this.credsFor === who && (!this.creds.expiration || this.creds.expiration.getTime() - now > CREDENTIALS_REFRESH_MS)) {
      return Promise.resolve(this.creds);
    }
    if (!this.pending) {
      const epoch = this.epoch;
      this.pending = this.fetchCredentials().then(
        ({ credentials: c, identityId }) => {
          // A fetch for a session that ended keeps nothing: not its credentials, and not its
          // identity id (the next person's fetch would otherwise ask for that identity).
          if (epoch === this.epoch) {
            this.creds = c;
            this.credsFor = who;
            this.identityId = identityId;
            this.pending = undefined;
          }
          return c;
        },
        (err) => {
          if (epoch === this.epoch) this.pending = undefined;
          throw err;
        },
      );
    }
    return this.pending;
  }

  private async fetchCredentials(): Promise<{ credentials: AwsCredentialIdentity; identityId: string }> {
    const epoch = this.epoch;
    const token = await this.idToken();
    const logins = token ? { [this.loginsKey]: token } : undefined;
    let identityId = this.identityId ?? (token ? undefined : this.store.getItem(UNAUTH_ID_KEY) ?? undefined);
    if (!identityId) {
      const r = await this.cid.send(new GetIdCommand({ IdentityPoolId: this.config.identityPoolId, Logins: logins }));
      identityId = r.IdentityId!;
    }
    let r;
    try {
      r = await this.cid.send(new GetCredentialsForIdentityCommand({ IdentityId: identityId, Logins: logins }));
    } catch (err) {
      if (!token && (err as { name?: string }).name === 'ResourceNotFoundException') {
        // A remembered guest identity that no longer exists: get a new one.
        this.store.removeItem(UNAUTH_ID_KEY);
        const g = await this.cid.send(new GetIdCommand({ IdentityPoolId: this.config.identityPoolId }));
        identityId = g.IdentityId!;
        r = await this.cid.send(new GetCredentialsForIdentityCommand({ IdentityId: identityId }));
      } else {
        throw err;
      }
    }
    const c = r.Credentials;
    if (!c?.AccessKeyId || !c.SecretKey) throw new Error('The identity pool returned no credentials.');
    const id = r.IdentityId ?? identityId;
    if (!token && this.epoch === epoch) this.store.setItem(UNAUTH_ID_KEY, id);
    return {
      credentials: {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration ? new Date(c.Expiration) : undefined,
      },
      identityId: id,
    };
  }
}
