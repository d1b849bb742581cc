/**
 * Moving through pictures in the detail view: which pictures are before and after the open
 * one in the grid it was opened from, and which gestures and keys move to them. DOM-free, so
 * the rules are unit-tested; ui/detail.ts applies them.
 */

/** The keys of the pictures just before and after the open one, when last known. */
export interface Around {
  before?: string;
  after?: string;
}

export interface Neighbours<T> {
  prev?: T;
  next?: T;
  /** The open picture's place in the list without the skipped ones; undefined when it is not listed. */
  index?: number;
  /** How many pictures the list has without the skipped ones. */
  count: number;
  /** What to remember for the next call, in case the open picture leaves the list. */
  around: Around;
}

/**
 * The pictures before and after `current` in `list` (the grid's order as shown), leaving out
 * those `skip` names (deleted by this page, though an index may list them a moment longer).
 *
 * When `current` is not listed (deleted, moved to the other visibility under a new key, no
 * longer matching the find field), it keeps its place: the gap between the pictures that were
 * around it (`around`, from the previous call), so the next one is the one that followed it.
 */
export function neighbours<T>(
  list: readonly T[],
  keyOf: (t: T) => string,
  current: string,
  around: Around = {},
  skip: (key: string) => boolean = () => false,
): Neighbours<T> {
  const shown = list.filter((t) => !skip(keyOf(t)));
  const at = (key: string | undefined) => (key === undefined ? -1 : shown.findIndex((t) => keyOf(t) === key));
  const result = (prev: number, next: number, index?: number): Neighbours<T> => {
    const p = prev >= 0 ? shown[prev] : undefined;
    const n = next >= 0 && next < shown.length ? shown[next] : undefined;
    return { prev: p, next: n, index, count: shown.length, around: { before: p && keyOf(p), after: n && keyOf(n) } };
  };
  const i = at(current);
  if (i >= 0) return result(i - 1, i + 1, i);
  const after = at(around.after);
  if (after >= 0) return result(after - 1, after);
  const before = at(around.before);
  if (before >= 0) return result(before, before + 1);
  return { count: shown.length, around: {} };
}

export type Step = 'prev' | 'next';

/** The least horizontal travel, in CSS pixels, of a touch that moves to another picture. */
export const SWIPE_MIN_PX = 50;
/** A swipe is at least this many times as wide as it is tall (a steeper one scrolls the dialog). */
export const SWIPE_MIN_RATIO = 2;

/**
 * The step a one-finger touch that travelled `dx`, `dy` (end minus start) asks for: the
 * picture follows the finger, so a swipe to the left shows the next one. Short, steep or
 * vertical moves ask for nothing (they tap, scroll or zoom).
 */
export function swipeStep(dx: number, dy: number): Step | undefined {
  if (!Number.isFinite(dx) || !Number.isFinite(dy)) return undefined;
  if (Math.abs(dx) < SWIPE_MIN_PX || Math.abs(dx) < SWIPE_MIN_RATIO * Math.abs(dy)) return undefined;
  return dx < 0 ? 'next' : 'prev';
}

/** What arrowStep needs of a keydown (a KeyboardEvent has it all). */
export interface KeyPress {
  key: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
}

/** What arrowStep needs of the focused element (an Element has it all). */
export interface Focused {
  tagName: string;
  type?: string;
  isContentEditable?: boolean;
}

/** Input types whose arrow keys do nothing of their own (the rest move a caret or change a value). */
const ARROW_FREE_INPUTS = new Set(['button', 'checkbox', 'file', 'image', 'radio', 'reset', 'submit']);

/** Whether the arrow keys belong to the focused element: a text field, a select, a slider. */
export function ownsArrows(target: Focused | null | undefined): boolean {
  if (!target) return false;
  if (target.isContentEditable) return true;
  switch (target.tagName.toUpperCase()) {
    case 'TEXTAREA':
    case 'SELECT':
      return true;
    case 'INPUT':
      return !ARROW_FREE_INPUTS.has((target.type ?? 'text').toLowerCase());
    default:
      return false;
  }
}

/**
 * The step ArrowLeft and ArrowRight ask for in the open dialog, unless a modifier is held
 * (the browser's and the system's shortcuts) or the focused element uses the arrows itself.
 */
export function arrowStep(e: KeyPress, target: Focused | null | undefined): Step | undefined {
  if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return undefined;
  if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return undefined;
  if (ownsArrows(target)) return undefined;
  return e.key === 'ArrowLeft' ? 'prev' : 'next';
}
