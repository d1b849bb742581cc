/**
 * The edit form's bounds: the contract's title (200) and description (2,000).
 *
 * Lengths are counted as the browser's `maxlength` counts them, in UTF-16 code
 * units (`String.length`), so the counter, the submit check and what the field
 * lets one type agree. A character is one or two units, so a value within these
 * bounds is always within the contract's characters.
 */
import { MAX_DESCRIPTION, MAX_TITLE } from './metadata';

export type EditField = 'title' | 'description';

export type EditCheck = { ok: true } | { ok: false; field: EditField; reason: string };

/** What the form may send: a non-empty title and a description, both within bounds once trimmed. */
export function checkEdit(title: string, description: string): EditCheck {
  const t = title.trim();
  const d = description.trim();
  if (!t) return { ok: false, field: 'title', reason: 'The title cannot be empty.' };
  if (t.length > MAX_TITLE) {
    return { ok: false, field: 'title', reason: `The title is too long: ${t.length} characters, at most ${MAX_TITLE}.` };
  }
  if (d.length > MAX_DESCRIPTION) {
    return {
      ok: false,
      field: 'description',
      reason: `The description is too long: ${d.length} characters, at most ${MAX_DESCRIPTION.toLocaleString('en')}.`,
    };
  }
  return { ok: true };
}

/** The counter under a field: "12 / 200", and whether the value is over the bound. */
export function lengthCounter(value: string, max: number): { text: string; over: boolean } {
  return { text: `${value.length} / ${max.toLocaleString('en')}`, over: value.length > max };
}
