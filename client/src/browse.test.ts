import { describe, expect, it } from 'vitest';
import { arrowStep, neighbours, ownsArrows, swipeStep, SWIPE_MIN_PX, type KeyPress } from './browse';

const key = (s: string) => s;
const keys = ['a', 'b', 'c', 'd'];

describe('neighbours', () => {
  it('answers the pictures before and after one in the middle, and its place', () => {
    expect(neighbours(keys, key, 'b')).toEqual({ prev: 'a', next: 'c', index: 1, count: 4, around: { before: 'a', after: 'c' } });
  });

  it('has no previous at the first picture and no next at the last', () => {
    expect(neighbours(keys, key, 'a')).toMatchObject({ prev: undefined, next: 'b', index: 0 });
    expect(neighbours(keys, key, 'd')).toMatchObject({ prev: 'c', next: undefined, index: 3 });
  });

  it('has neither in a list of one', () => {
    expect(neighbours(['a'], key, 'a')).toEqual({ prev: undefined, next: undefined, index: 0, count: 1, around: {} });
  });

  it('leaves out the skipped pictures (deleted here, still listed by the index)', () => {
    const deleted = new Set(['c']);
    const n = neighbours(keys, key, 'b', {}, (k) => deleted.has(k));
    expect(n).toMatchObject({ prev: 'a', next: 'd', index: 1, count: 3 });
  });

  it('keeps the place of a picture that left the list: the one after it comes next', () => {
    const before = neighbours(keys, key, 'b');
    const n = neighbours(['a', 'c', 'd'], key, 'b', before.around);
    expect(n).toMatchObject({ prev: 'a', next: 'c', index: undefined, count: 3 });
  });

  it('keeps the place of a deleted picture skipped while the index still lists it', () => {
    const before = neighbours(keys, key, 'b');
    const n = neighbours(keys, key, 'b', before.around, (k) => k === 'b');
    expect(n).toMatchObject({ prev: 'a', next: 'c', index: undefined, count: 3 });
  });

  it('keeps the place of the last picture after it left: nothing next', () => {
    const before = neighbours(keys, key, 'd');
    expect(neighbours(['a', 'b', 'c'], key, 'd', before.around)).toMatchObject({ prev: 'c', next: undefined });
  });

  it('falls back to the picture before when the one after went too', () => {
    const before = neighbours(keys, key, 'b');
    expect(neighbours(['a', 'd'], key, 'b', before.around)).toMatchObject({ prev: 'a', next: 'd' });
  });

  it('answers nothing for a picture not listed and with no known place', () => {
    expect(neighbours(keys, key, 'x')).toEqual({ count: 4, around: {} });
    expect(neighbours([], key, 'x', { before: 'a', after: 'b' })).toEqual({ count: 0, around: {} });
  });

  it('follows the list as it is now: a picture added in front moves the place', () => {
    expect(neighbours(['new', ...keys], key, 'a')).toMatchObject({ prev: 'new', next: 'b', index: 1, count: 5 });
  });

  it('works on items through keyOf', () => {
    const items = [{ k: 'x' }, { k: 'y' }];
    expect(neighbours(items, (i) => i.k, 'x').next).toBe(items[1]);
  });
});

describe('swipeStep', () => {
  it('a swipe to the left shows the next picture, to the right the previous one', () => {
    expect(swipeStep(-120, 10)).toBe('next');
    expect(swipeStep(120, -10)).toBe('prev');
  });

  it('needs at least SWIPE_MIN_PX of horizontal travel', () => {
    expect(swipeStep(-(SWIPE_MIN_PX - 1), 0)).toBeUndefined();
    expect(swipeStep(-SWIPE_MIN_PX, 0)).toBe('next');
    expect(swipeStep(0, 0)).toBeUndefined();
  });

  it('ignores moves that are not clearly horizontal (scrolling the dialog)', () => {
    expect(swipeStep(-100, 300)).toBeUndefined();
    expect(swipeStep(-100, 51)).toBeUndefined();
    expect(swipeStep(-100, 50)).toBe('next');
    expect(swipeStep(0, -200)).toBeUndefined();
  });

  it('ignores what is not a number', () => {
    expect(swipeStep(Number.NaN, 0)).toBeUndefined();
    expect(swipeStep(-100, Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});

describe('arrowStep', () => {
  const press = (k: string, mods: Partial<KeyPress> = {}): KeyPress => ({ key: k, altKey: false, ctrlKey: false, metaKey: false, shiftKey: false, ...mods });
  const button = { tagName: 'BUTTON' };

  it('ArrowLeft is the previous picture, ArrowRight the next', () => {
    expect(arrowStep(press('ArrowLeft'), button)).toBe('prev');
    expect(arrowStep(press('ArrowRight'), button)).toBe('next');
    expect(arrowStep(press('ArrowRight'), null)).toBe('next');
  });

  it('other keys and arrows with a modifier do nothing', () => {
    expect(arrowStep(press('ArrowUp'), button)).toBeUndefined();
    expect(arrowStep(press('Enter'), button)).toBeUndefined();
    for (const mod of ['altKey', 'ctrlKey', 'metaKey', 'shiftKey'] as const) {
      expect(arrowStep(press('ArrowRight', { [mod]: true }), button), mod).toBeUndefined();
    }
  });

  it('leaves the arrows to text fields, selects and sliders', () => {
    expect(arrowStep(press('ArrowLeft'), { tagName: 'INPUT', type: 'text' })).toBeUndefined();
    expect(arrowStep(press('ArrowRight'), { tagName: 'TEXTAREA' })).toBeUndefined();
    expect(arrowStep(press('ArrowRight'), { tagName: 'DIV', isContentEditable: true })).toBeUndefined();
  });

  it('moves from a checkbox or a button', () => {
    expect(arrowStep(press('ArrowRight'), { tagName: 'INPUT', type: 'checkbox' })).toBe('next');
    expect(arrowStep(press('ArrowLeft'), { tagName: 'A' })).toBe('prev');
  });
});

describe('ownsArrows', () => {
  it('is true for text-like inputs, selects, textareas and editable content', () => {
    for (const type of ['text', 'search', 'email', 'password', 'number', 'range', 'date', 'url']) {
      expect(ownsArrows({ tagName: 'INPUT', type }), type).toBe(true);
    }
    expect(ownsArrows({ tagName: 'input' })).toBe(true);
    expect(ownsArrows({ tagName: 'SELECT' })).toBe(true);
  });

  it('is false for buttons, checkboxes, links and nothing focused', () => {
    for (const type of ['checkbox', 'radio', 'button', 'submit', 'reset', 'file', 'image']) {
      expect(ownsArrows({ tagName: 'INPUT', type }), type).toBe(false);
    }
    expect(ownsArrows({ tagName: 'BUTTON' })).toBe(false);
    expect(ownsArrows({ tagName: 'DIALOG' })).toBe(false);
    expect(ownsArrows(undefined)).toBe(false);
  });
});
