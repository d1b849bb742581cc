import { describe, expect, it } from 'vitest';
import { findAndSort, foldText, isSortOrder, matches, whenTaken } from './find';
import type { IndexItem } from './indexdoc';

const item = (title: string, uploadDate: string, description = ''): IndexItem => ({
  identityId: 'us-east-1:a', objectKey: `public/content/us-east-1:a/${title}.jpg`, isPublic: true, title, description, uploadDate,
});
const A = item('Zebra at noon', '2026-11-23T10:00:00.000Z', 'Savanna, Kenya');
const B = item('apple tree', '2026-11-25T10:00:00.000Z', 'Garden in Zürich');
const C = item('Café', '2026-11-24T10:00:00.000Z', '');
const D = item('Photo 10', '2026-11-22T10:00:00.000Z');
const E = item('Photo 9', '2026-11-22T10:00:00.000Z');
const titles = (xs: IndexItem[]) => xs.map((x) => x.title);

describe('find', () => {
  it('folds case, accents and spaces', () => {
    expect(foldText('  Café   ZÜRICH ')).toBe('cafe zurich');
  });

  it('matches every word in title or description, in any order', () => {
    expect(matches(A, 'kenya zebra')).toBe(true);
    expect(matches(A, 'ZEBRA')).toBe(true);
    expect(matches(A, 'zebra paris')).toBe(false);
    expect(matches(B, 'zurich')).toBe(true);
    expect(matches(C, 'cafe')).toBe(true);
    expect(matches(C, '')).toBe(true);
    expect(matches(C, '   ')).toBe(true);
  });

  it('filters and keeps the chosen order', () => {
    expect(titles(findAndSort([A, B, C], 'a', 'title-asc'))).toEqual(['apple tree', 'Café', 'Zebra at noon']);
    expect(titles(findAndSort([A, B, C], 'garden', 'newest'))).toEqual(['apple tree']);
    expect(findAndSort([A, B, C], 'nothing like this', 'newest')).toEqual([]);
  });

  it('sorts by date both ways', () => {
    expect(titles(findAndSort([A, B, C], '', 'newest'))).toEqual(['apple tree', 'Café', 'Zebra at noon']);
    expect(titles(findAndSort([A, B, C], '', 'oldest'))).toEqual(['Zebra at noon', 'Café', 'apple tree']);
  });

  it('sorts titles case- and accent-insensitively, numbers by value', () => {
    expect(titles(findAndSort([A, B, C, D, E], '', 'title-asc'))).toEqual(['apple tree', 'Café', 'Photo 9', 'Photo 10', 'Zebra at noon']);
    expect(titles(findAndSort([A, B, C, D, E], '', 'title-desc'))).toEqual(['Zebra at noon', 'Photo 10', 'Photo 9', 'Café', 'apple tree']);
  });

  it('keeps the index order on ties and never changes its input', () => {
    const input = [E, D];
    expect(titles(findAndSort(input, '', 'newest'))).toEqual(['Photo 9', 'Photo 10']);
    expect(titles(findAndSort(input, '', 'oldest'))).toEqual(['Photo 9', 'Photo 10']);
    expect(input).toEqual([E, D]);
  });

  it('sorts by date taken, the upload date standing in where none is known', () => {
    // Uploaded in this order: a holiday a week late, last night's dinner, an old scan, a screenshot.
    const holiday = { ...item('Holiday', '2026-11-30T09:00:00.000Z'), takenAt: '2026-11-20T16:00:00+01:00' };
    const dinner = { ...item('Dinner', '2026-11-26T21:00:00.000Z'), takenAt: '2026-11-26T20:30:00' };
    const scan = { ...item('Scan', '2026-11-27T10:00:00.000Z'), takenAt: '1974-06-01T12:00:00' };
    const screenshot = item('Screenshot', '2026-11-25T08:00:00.000Z');
    const all = [holiday, scan, dinner, screenshot];
    expect(titles(findAndSort(all, '', 'taken-newest'))).toEqual(['Dinner', 'Screenshot', 'Holiday', 'Scan']);
    expect(titles(findAndSort(all, '', 'taken-oldest'))).toEqual(['Scan', 'Holiday', 'Screenshot', 'Dinner']);
    expect(titles(findAndSort(all, '', 'newest'))).toEqual(['Holiday', 'Scan', 'Dinner', 'Screenshot']);
    // The camera's local time orders, whatever its offset.
    expect(whenTaken(holiday)).toBe('2026-11-20T16:00:00');
    expect(whenTaken(screenshot)).toBe('2026-11-25T08:00:00');
  });

  it('knows its sort orders', () => {
    expect(isSortOrder('taken-oldest')).toBe(true);
    expect(isSortOrder('newest')).toBe(true);
    expect(isSortOrder('random')).toBe(false);
  });
});
