/**
 * Acting on many pictures at once (My pictures' selection): runs one action per item, a few at
 * a time, and reports what became of each. Knows nothing of pictures or of the page: the
 * caller gives the action (the single-picture code path: delete, moveToVisibility), which items
 * to skip and why, and how to put an error in words.
 *
 * Nothing is half-done silently: every item ends in exactly one of done, skipped, failed (with
 * a reason) or not started (the run was cancelled before its turn, e.g. by a sign-out). One
 * item's error, thrown or rejected, never stops the others.
 */

export interface BulkProgress {
  /** Items the action ran for and that ended, either way. */
  finished: number;
  /** Items the action runs for: the selection less the skipped ones. */
  total: number;
  succeeded: number;
  failed: number;
}

export interface BulkFailure<T> {
  item: T;
  reason: string;
}

export interface BulkReport<T> {
  done: T[];
  /** Left alone, each with why (e.g. "already public"), in the order given. */
  skipped: { item: T; reason: string }[];
  failed: BulkFailure<T>[];
  /** Not tried: the run was cancelled before their turn. */
  notStarted: T[];
}

export interface BulkOptions<T> {
  /** The action for one item; its rejection (or throw) fails that item only. */
  run: (item: T) => Promise<unknown>;
  /** At most this many actions at once (at least 1). */
  concurrency: number;
  /** Why to leave `item` alone, or undefined to act on it. */
  skip?: (item: T) => string | undefined;
  describeError: (err: unknown) => string;
  /** Called once before the first action and after each one ends. */
  onProgress?: (progress: BulkProgress) => void;
  /** Aborted: no further action starts (those under way end as they end). */
  signal?: AbortSignal;
}

/** Runs `opts.run` for every item not skipped, at most `opts.concurrency` at once, in order. */
export async function runBulk<T>(items: readonly T[], opts: BulkOptions<T>): Promise<BulkReport<T>> {
  const report: BulkReport<T> = { done: [], skipped: [], failed: [], notStarted: [] };
  const todo: T[] = [];
  for (const item of items) {
    const why = opts.skip?.(item);
    if (why === undefined) todo.push(item);
    else report.skipped.push({ item, reason: why });
  }
  const progress: BulkProgress = { finished: 0, total: todo.length, succeeded: 0, failed: 0 };
  const tell = () => opts.onProgress?.({ ...progress });
  tell();
  // Outcomes by position, so the report lists items in the order given whatever ends first.
  const outcomes: ({ ok: true } | { ok: false; reason: string } | undefined)[] = new Array<undefined>(todo.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length && !opts.signal?.aborted) {
      const i = next++;
      try {
        // Called inside the try: a synchronous throw fails this item like a rejection.
        await opts.run(todo[i]);
        outcomes[i] = { ok: true };
        progress.succeeded++;
      } catch (err) {
        outcomes[i] = { ok: false, reason: describe(opts.describeError, err) };
        progress.failed++;
      }
      progress.finished++;
      tell();
    }
  };
  const lanes = Math.max(1, Math.min(Math.floor(opts.concurrency) || 1, todo.length));
  await Promise.all(Array.from({ length: lanes }, worker));
  todo.forEach((item, i) => {
    const o = outcomes[i];
    if (!o) report.notStarted.push(item);
    else if (o.ok) report.done.push(item);
    else report.failed.push({ item, reason: o.reason });
  });
  return report;
}

/** The caller's words for an error; never throws itself (a failure must keep a reason). */
function describe(describeError: (err: unknown) => string, err: unknown): string {
  try {
    return describeError(err) || 'Unknown error.';
  } catch {
    return err instanceof Error && err.message ? err.message : 'Unknown error.';
  }
}

/** "1 picture", "3 pictures". */
export function pictures(n: number): string {
  return `${n} picture${n === 1 ? '' : 's'}`;
}

/**
 * The sentence that ends a run: what was done (`doneText`, given the count), what was skipped
 * and why (grouped by reason), what failed and what was not tried.
 */
export function summarize<T>(report: BulkReport<T>, doneText: (n: number) => string): string {
  const parts: string[] = [];
  const tried = report.done.length + report.failed.length + report.notStarted.length;
  if (tried > 0 || report.skipped.length === 0) parts.push(`${doneText(report.done.length)}.`);
  const reasons = new Map<string, number>();
  for (const s of report.skipped) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
  for (const [reason, n] of reasons) parts.push(`Skipped ${pictures(n)}: ${reason}.`);
  const failed = report.failed.length;
  if (failed) parts.push(`${pictures(failed)} failed and ${failed === 1 ? 'stays' : 'stay'} selected: see why below, then try again.`);
  if (report.notStarted.length) parts.push(`${pictures(report.notStarted.length)} not tried: cancelled.`);
  return parts.join(' ');
}
