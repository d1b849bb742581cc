/**
 * Tiny DOM builder. Text always goes in as text nodes / textContent and
 * values as attributes: nothing is ever parsed as HTML.
 */
type Prop = string | number | boolean | undefined | null | ((ev: Event) => void);
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, Prop> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') {
      el.addEventListener(k.replace(/^on/, '').toLowerCase(), v);
    } else if (k === 'text') {
      el.textContent = String(v);
    } else if (k === 'class') {
      el.className = String(v);
    } else if (v === true) {
      el.setAttribute(k, '');
    } else {
      if (/^on/i.test(k)) throw new Error(`refusing inline handler attribute ${k}`);
      el.setAttribute(k, String(v));
    }
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/**
 * The first element under `root` that `selector` finds, checked to be a `type`
 * (`el('#signin-form', HTMLFormElement)`): throws naming the selector when there is none or it
 * is another kind of element, so a page that lost or changed an element fails at start.
 */
export function el<T extends Element>(selector: string, type: abstract new () => T, root: ParentNode = document): T {
  const found = root.querySelector(selector);
  if (!found) throw new Error(`missing element ${selector}`);
  if (!(found instanceof type)) throw new Error(`element ${selector} is a <${found.tagName.toLowerCase()}>, not the expected ${type.name}`);
  return found;
}

/** An HTML element of any kind (for what every element has: hidden, focus, text). */
export function $(selector: string, root: ParentNode = document): HTMLElement {
  return el(selector, HTMLElement, root);
}

/** The `<input>` named `name` in `form`. */
export function field(form: HTMLFormElement, name: string): HTMLInputElement {
  return el(`[name="${name}"]`, HTMLInputElement, form);
}

export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/**
 * A capture time as the camera's clock showed it (never moved to the viewer's zone: a picture
 * taken at 18:03 in Paris says 18:03), with its UTC offset when known.
 */
export function formatTaken(takenAt: string | undefined): string {
  if (!takenAt) return 'unknown';
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([+-]\d{2}:\d{2})?$/.exec(takenAt);
  if (!m) return takenAt;
  const [, y, mo, d, h, mi, s, offset] = m;
  const asUtc = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s));
  const shown = asUtc.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  return offset ? `${shown} (UTC${offset})` : shown;
}

export function formatDate(iso: string): string {
  if (!iso) return 'unknown';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
