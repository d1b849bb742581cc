/** Cognito user pool sign-up / sign-in and identity pool credentials. */
import {
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  InitiateAuthCommand,
  ResendConfirmationCodeCommand,
  SignUpCommand,
  GlobalSignOutCommand,
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
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** Turns SDK errors into sentences a user can act on. */
export function friendlyAuthError(err: unknown): string {
  const e = err as { name?: string; message?: string };
  switch (e?.name) {
    case 'UsernameExistsException': return 'An account with this email already exists. Sign in, or confirm it if you have not yet.';
    case 'UserNotConfirmedException': return 'This account is not confirmed yet. Enter the code from the email.';
    case 'NotAuthorizedException': return 'Incorrect email or password.';
    case 'UserNotFoundException': return 'Incorrect email or password.';
    case 'CodeMismatchException': return 'That confirmation code is not right. Check the email and try again.';
    case 'ExpiredCodeException': return 'That code has expired. Ask for a new one.';
    case 'InvalidPasswordException': return e.message || 'The password does not meet the requirements.';
    case 'InvalidParameterException': return e.message || 'Some of the details are not valid.';
    case 'LimitExceededException':
    case 'TooManyRequestsException': return 'Too many attempts. Wait a moment and try again.';
    default:
      if (err instanceof TypeError) return 'Network error: the service could not be reached.';
      return e?.message || String(err);
  }
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

  async signOut(): Promise<void> {
    const t = this.tokens;
    this.setTokens(undefined);
    if (t) {
      // Best effort: revoke the refresh token on the server.
      try {
        await this.idp.send(new GlobalSignOutCommand({ AccessToken: t.accessToken }));
      } catch { /* signed out locally anyway */ }
    }
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
        throw new Error('Your session has expired. Please sign in again.');
      }
      throw err;
    }
    const a = r.AuthenticationResult;
    if (!a?.IdToken || epoch !== this.epoch) return this.tokens?.idToken;
    this.tokens = { ...t, idToken: a.IdToken, accessToken: a.AccessToken ?? t.accessToken, expiresAt: Date.now() + (a.ExpiresIn ?? 3600) * 1000 };
    this.store.setItem(STORAGE_KEY, JSON.stringify(this.tokens));
    return a.IdToken;
  }

  /** The Cognito identity id of the current user or guest. */
  async getIdentityId(): Promise<string> {
    await this.credentials();
    return this.identityId!;
  }

  /** Credential provider for the AWS clients: cached until close to expiry. */
  credentials = async (): Promise<AwsCredentialIdentity> => {
    const now = Date.now();
    const who = this.tokens ? `user:${this.tokens.email}` : 'guest';
    if (this.creds && this.credsFor === who && (!this.creds.expiration || this.creds.expiration.getTime() - now > 120_000)) {
      return this.creds;
    }
    if (!this.pending) {
      const epoch = this.epoch;
      this.pending = this.fetchCredentials().then(
        (c) => {
          if (epoch === this.epoch) {
            this.creds = c;
            this.credsFor = who;
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
  };

  private async fetchCredentials(): Promise<AwsCredentialIdentity> {
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
    this.identityId = r.IdentityId ?? identityId;
    if (!token) this.store.setItem(UNAUTH_ID_KEY, this.identityId);
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration ? new Date(c.Expiration) : undefined,
    };
  }
}
