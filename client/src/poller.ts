/**
 * Polls one index object with conditional GETs.
 *
 * Every request after the first carries `If-Modified-Since` (the Last-Modified
 * of the copy we have) and, when the ETag is known, `If-None-Match`: S3 then
 * answers 304 only when the ETag matches, so a rewrite within the same second
 * as the copy we hold (Last-Modified has one-second resolution) is not missed.
 * 304 means "no change": no callback, no re-render. A 200 whose items and
 * pages are the same as before is also not reported. With a paged index this
 * polls the head only; the pages are PagedIndex's (pages.ts).
 */
import { EMPTY_INDEX, parseIndex, sameHead, type IndexDoc } from './indexdoc';

export type FetchResult =
  | { status: 'ok'; body: string; lastModified?: Date; etag?: string }
  | { status: 'not-modified' }
  | { status: 'missing' };

export interface Conditions {
  ifModifiedSince?: Date;
  ifNoneMatch?: string;
}

export type IndexFetcher = (key: string, cond: Conditions) => Promise<FetchResult>;

export interface PollerOptions {
  key: string;
  fetch: IndexFetcher;
  onChange: (doc: IndexDoc) => void;
  onError?: (err: unknown) => void;
  /** Called after every successful request (200, 304 or missing). */
  onSuccess?: () => void;
  intervalMs?: number;
  /** Injected for tests. */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (h: unknown) => void;
}

export class IndexPoller {
  readonly key: string;
  private readonly opts: PollerOptions;
  private lastModified?: Date;
  private etag?: string;
  private current?: IndexDoc;
  private timer: unknown;
  private running = false;
  private inFlight?: Promise<void>;
  private failures = 0;
  /** Counters, handy for tests and debugging. */
  readonly stats = { requests: 0, notModified: 0, changes: 0, errors: 0 };

  constructor(opts: PollerOptions) {
    this.key = opts.key;
    this.opts = opts;
  }

  get doc(): IndexDoc | undefined {
    return this.current;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) (this.opts.clearTimer ?? clearTimeout)(this.timer as ReturnType<typeof setTimeout>);
    this.timer = undefined;
  }

  /** Polls now (e.g. right after an upload, edit or delete); coalesces with a poll in flight. */
  pollNow(): Promise<void> {
    if (!this.inFlight) {
      this.inFlight = this.poll().finally(() => {
        this.inFlight = undefined;
      });
    }
    return this.inFlight;
  }

  private async tick(): Promise<void> {
    await this.pollNow();
    if (!this.running) return;
    const base = this.opts.intervalMs ?? 2500;
    // Back off on repeated errors, up to 30 s.
    const delay = this.failures ? Math.min(30000, base * 2 ** this.failures) : base;
    this.timer = (this.opts.setTimer ?? setTimeout)(() => void this.tick(), delay);
  }

  private async poll(): Promise<void> {
    this.stats.requests++;
    let res: FetchResult;
    try {
      res = await this.opts.fetch(this.key, {
        ifModifiedSince: this.current ? this.lastModified : undefined,
        ifNoneMatch: this.current ? this.etag : undefined,
      });
    } catch (err) {
      this.failures++;
      this.stats.errors++;
      this.opts.onError?.(err);
      return;
    }
    this.failures = 0;
    if (res.status === 'not-modified') {
      this.stats.notModified++;
      this.opts.onSuccess?.();
      return;
    }
    let doc: IndexDoc;
    if (res.status === 'missing') {
      this.lastModified = undefined;
      this.etag = undefined;
      doc = EMPTY_INDEX;
    } else {
      try {
        doc = parseIndex(res.body);
      } catch (err) {
        this.stats.errors++;
        this.opts.onError?.(new Error(`Unreadable index ${this.key}: ${(err as Error).message}`));
        return;
      }
      this.lastModified = res.lastModified;
      this.etag = res.etag;
    }
    const prev = this.current;
    this.current = doc;
    this.opts.onSuccess?.();
    if (prev && sameHead(prev, doc)) return;
    this.stats.changes++;
    this.opts.onChange(doc);
  }
}
