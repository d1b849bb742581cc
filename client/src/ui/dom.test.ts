import { describe, expect, it } from 'vitest';
import { el, formatTaken } from './dom';

// The unit tests run without a DOM: stand-in element classes and a root that finds one element.
class FakeElement {
  constructor(readonly tagName: string) {}
}
class FakeForm extends FakeElement {
  constructor() {
    super('FORM');
  }
}
const rootFinding = (found: FakeElement | null) => ({ querySelector: () => found }) as unknown as ParentNode;
const asElementType = <T>(type: new () => T) => type as unknown as abstract new () => Element & T;

describe('el', () => {
  it('answers the element the selector finds when it is of the expected type', () => {
    const form = new FakeForm();
    expect(el('#signin-form', asElementType(FakeForm), rootFinding(form))).toBe(form);
  });

  it('throws naming the selector when nothing matches', () => {
    expect(() => el('#signin-form', asElementType(FakeForm), rootFinding(null))).toThrow('missing element #signin-form');
  });

  it('throws naming the element found when it is of another type', () => {
    expect(() => el('#signin-form', asElementType(FakeForm), rootFinding(new FakeElement('DIV'))))
      .toThrow('element #signin-form is a <div>, not the expected FakeForm');
  });
});

describe('formatTaken', () => {
  it("shows the camera's local time, with its offset when known", () => {
    const local = new Date(Date.UTC(2024, 6, 14, 18, 3, 22)).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
    expect(formatTaken('2024-07-14T18:03:22')).toBe(local);
    expect(formatTaken('2024-07-14T18:03:22+02:00')).toBe(`${local} (UTC+02:00)`);
    expect(formatTaken('2024-07-14T18:03:22-05:30')).toBe(`${local} (UTC-05:30)`);
  });

  it('says unknown when there is none, and shows an unexpected value as it is', () => {
    expect(formatTaken(undefined)).toBe('unknown');
    expect(formatTaken('')).toBe('unknown');
    expect(formatTaken('sometime in July')).toBe('sometime in July');
  });
});
