import { describe, expect, it } from 'vitest';
import { Selection } from './selection';

const shown = ['a', 'b', 'c', 'd', 'e', 'f'];

describe('Selection', () => {
  it('toggles one key at a time', () => {
    const s = new Selection();
    s.toggle('b');
    s.toggle('d');
    expect(s.all).toEqual(['b', 'd']);
    s.toggle('b');
    expect(s.all).toEqual(['d']);
    expect(s.has('d')).toBe(true);
    expect(s.size).toBe(1);
  });

  it('selects the range from the last toggled key, either way round, over the grid as shown', () => {
    const s = new Selection();
    s.toggle('b');
    expect(s.selectRange('e', shown)).toBe(3);
    expect(s.all.sort()).toEqual(['b', 'c', 'd', 'e']);
    // The anchor moved to e: a range back up to a.
    expect(s.selectRange('a', shown)).toBe(1);
    expect(s.all.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('ranges over the order shown, not the order of upload', () => {
    const s = new Selection();
    const sorted = ['f', 'a', 'e', 'b'];
    s.toggle('a');
    s.selectRange('b', sorted);
    expect(s.all.sort()).toEqual(['a', 'b', 'e']);
  });

  it('without an anchor (or one no longer shown), a range is a toggle', () => {
    const s = new Selection();
    expect(s.selectRange('c', shown)).toBe(1);
    expect(s.all).toEqual(['c']);
    s.toggle('x');
    s.selectRange('d', shown);
    expect(s.all.sort()).toEqual(['c', 'd', 'x']);
  });

  it('selects all shown, keeping what else was selected; clears', () => {
    const s = new Selection();
    s.toggle('z');
    s.selectAll(['a', 'b']);
    expect(s.all).toEqual(['z', 'a', 'b']);
    s.clear();
    expect(s.size).toBe(0);
    expect(s.selectRange('b', shown)).toBe(1);
  });

  it('prunes keys that are gone, and the anchor with them', () => {
    const s = new Selection();
    s.toggle('a');
    s.toggle('c');
    expect(s.prune((k) => k !== 'c')).toBe(true);
    expect(s.all).toEqual(['a']);
    expect(s.prune(() => true)).toBe(false);
    s.selectRange('e', shown);
    expect(s.all.sort()).toEqual(['a', 'e']);
  });
});
