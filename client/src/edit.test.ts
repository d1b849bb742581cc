import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { checkEdit, lengthCounter } from './edit';
import { MAX_DESCRIPTION, MAX_TITLE } from './metadata';

describe('checkEdit (the contract: title 200, description 2,000)', () => {
  it('uses the contract bounds', () => {
    expect(MAX_TITLE).toBe(200);
    expect(MAX_DESCRIPTION).toBe(2000);
  });

  it('accepts values up to the bounds', () => {
    expect(checkEdit('t'.repeat(200), 'd'.repeat(2000))).toEqual({ ok: true });
    expect(checkEdit('é'.repeat(200), '')).toEqual({ ok: true });
  });

  it('refuses a title of 201 characters', () => {
    const r = checkEdit('t'.repeat(201), '');
    expect(r).toMatchObject({ ok: false, field: 'title' });
    expect(r.ok || r.reason).toBe('The title is too long: 201 characters, at most 200.');
  });

  it('refuses a description of 2,001 characters', () => {
    const r = checkEdit('ok', 'd'.repeat(2001));
    expect(r).toMatchObject({ ok: false, field: 'description' });
    expect(r.ok || r.reason).toBe('The description is too long: 2001 characters, at most 2,000.');
  });

  it('counts what is sent: surrounding spaces do not count, an empty title is refused', () => {
    expect(checkEdit(`  ${'t'.repeat(200)}  `, ` ${'d'.repeat(2000)}\n`)).toEqual({ ok: true });
    expect(checkEdit('   ', 'x')).toMatchObject({ ok: false, field: 'title', reason: 'The title cannot be empty.' });
  });

  it('counts as maxlength does (UTF-16 units), so it never lets more than 200 characters through', () => {
    expect(checkEdit('😀'.repeat(100), '')).toEqual({ ok: true });
    expect(checkEdit('😀'.repeat(101), '')).toMatchObject({ ok: false, field: 'title' });
  });
});

describe('lengthCounter', () => {
  it('shows the count and the bound, and flags a value over it', () => {
    expect(lengthCounter('abc', 200)).toEqual({ text: '3 / 200', over: false });
    expect(lengthCounter('x'.repeat(2000), 2000)).toEqual({ text: '2000 / 2,000', over: false });
    expect(lengthCounter('x'.repeat(201), 200)).toEqual({ text: '201 / 200', over: true });
  });
});

describe('index.html edit form', () => {
  const html = readFileSync(new URL('../index.html', import.meta.url), 'utf8');
  const tag = (id: string) => new RegExp(`<(?:input|textarea)\\b[^>]*\\bid="${id}"[^>]*>`).exec(html)?.[0] ?? '';

  it('bounds the fields with maxlength = the contract bounds', () => {
    expect(tag('edit-title')).toContain(`maxlength="${MAX_TITLE}"`);
    expect(tag('edit-description')).toContain(`maxlength="${MAX_DESCRIPTION}"`);
  });

  it('has a visible counter tied to each field', () => {
    for (const id of ['edit-title', 'edit-description']) {
      expect(tag(id)).toContain(`aria-describedby="${id}-count"`);
      expect(html).toMatch(new RegExp(`<p\\b[^>]*\\bid="${id}-count"`));
    }
  });
});
