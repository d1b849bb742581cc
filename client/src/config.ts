/** Run-time configuration, loaded from `./config.json` beside index.html. */
export interface AppConfig {
  /** Custom endpoint for every AWS client (a local stack); empty or absent in the cloud. */
  endpoint?: string;
  region: string;
  bucket: string;
  table: string;
  userPoolId: string;
  userPoolClientId: string;
  identityPoolId: string;
  s3ForcePathStyle: boolean;
  /** The largest upload the cloud keeps, in bytes (the template's MaxImageBytes). */
  maxUploadBytes: number;
  /** Bytes of originals each person may store; absent when the stack does not say. */
  storageQuotaBytes?: number;
}

/** MaxImageBytes' default, for a config.json that does not carry it. */
export const DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

const positive = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);

const REQUIRED = ['region', 'bucket', 'table', 'userPoolId', 'userPoolClientId', 'identityPoolId'] as const;

/** Validates the parsed config.json; throws an Error naming what is wrong. */
export function parseConfig(raw: unknown): AppConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error('config.json is not a JSON object');
  }
  const o = raw as Record<string, unknown>;
  const missing = REQUIRED.filter((k) => typeof o[k] !== 'string' || o[k].trim() === '');
  if (missing.length) throw new Error(`config.json is missing ${missing.join(', ')}`);
  let endpoint: string | undefined;
  if (typeof o.endpoint === 'string' && o.endpoint.trim() !== '') {
    endpoint = o.endpoint.trim().replace(/\/+$/, '');
    if (!/^https?:\/\//.test(endpoint)) throw new Error('config.json: endpoint must be an http(s) URL');
  }
  return {
    endpoint,
    region: (o.region as string).trim(),
    bucket: (o.bucket as string).trim(),
    table: (o.table as string).trim(),
    userPoolId: (o.userPoolId as string).trim(),
    userPoolClientId: (o.userPoolClientId as string).trim(),
    identityPoolId: (o.identityPoolId as string).trim(),
    // Path-style addressing whenever a custom endpoint is used (emulators need it).
    s3ForcePathStyle: o.s3ForcePathStyle === true || o.s3ForcePathStyle === 'true' || endpoint !== undefined,
    maxUploadBytes: positive(o.maxUploadBytes) ?? DEFAULT_MAX_UPLOAD_BYTES,
    storageQuotaBytes: positive(o.storageQuotaBytes),
  };
}

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<AppConfig> {
  let res: Response;
  try {
    res = await fetchImpl('./config.json', { cache: 'no-store' });
  } catch (e) {
    throw new Error(`Could not load config.json: ${(e as Error).message}`, { cause: e });
  }
  if (!res.ok) throw new Error(`Could not load config.json (HTTP ${res.status})`);
  let raw: unknown;
  try {
    raw = await res.json();
  } catch {
    throw new Error('config.json is not valid JSON');
  }
  return parseConfig(raw);
}
