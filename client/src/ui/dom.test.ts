import { describe, expect, it } from 'vitest';
import { el } from './dom';

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
