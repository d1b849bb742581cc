// Accessibility helpers for the browser tests: an axe-core audit of the page as it is, and a
// keyboard walk that checks every control of the view can be reached with Tab.
import axe from 'axe-core';

/** WCAG 2.x A and AA rules plus axe's best practices; impacts that fail a test. */
const FAILING = new Set(['serious', 'critical']);

/**
 * Runs axe-core in the page (injected through the DevTools protocol, so the page's CSP, which
 * forbids inline scripts, is not weakened for the test) and answers the violations, each with
 * its impact, rule and offending nodes. Only serious and critical ones fail the caller.
 */
export async function audit(page) {
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!loaded) await page.evaluate(axe.source);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join('; ')}`),
    }));
  });
  return {
    failing: result.filter((v) => FAILING.has(v.impact)),
    other: result.filter((v) => !FAILING.has(v.impact)),
  };
}

/**
 * Presses Tab from the start of the page (or of the open modal dialog) until focus has come
 * round, and answers the controls that Tab never reached, and the order in which it reached
 * them. "Controls": visible, enabled links, buttons, inputs, selects, textareas and anything
 * with a non-negative tabindex (inside the open modal dialog only, when there is one: the
 * rest of the page is inert then).
 */
export async function tabWalk(page, { maxPresses } = {}) {
  const expected = await page.evaluate(() => {
    const dialog = document.querySelector('dialog[open]');
    const root = dialog ?? document;
    const sel = 'a[href], button, input:not([type="hidden"]), select, textarea, [tabindex]:not([tabindex="-1"])';
    const els = [...root.querySelectorAll(sel)].filter((el) => !el.disabled && !el.closest('[hidden]') && el.checkVisibility() && !el.closest('[inert]'));
    els.forEach((el, i) => { el.dataset.kbd = String(i); });
    document.querySelectorAll('[data-kbd]').forEach((el) => { if (!els.includes(el)) delete el.dataset.kbd; });
    const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${(el.getAttribute('aria-label') || el.textContent || el.getAttribute('name') || '').trim().slice(0, 40)}"`;
    // Start before the first control: focus the dialog itself, or the document.
    if (dialog) {
      dialog.tabIndex = -1;
      dialog.focus();
    } else {
      document.activeElement?.blur?.();
      window.getSelection()?.removeAllRanges();
      document.body.focus();
    }
    return els.map(describe);
  });
  const seen = [];
  const presses = maxPresses ?? expected.length * 2 + 6;
  for (let i = 0; i < presses && new Set(seen).size < expected.length; i++) {
    await page.keyboard.press('Tab');
    const k = await page.evaluate(() => document.activeElement?.dataset?.kbd ?? null);
    if (k !== null && !seen.includes(Number(k))) seen.push(Number(k));
  }
  await page.evaluate(() => document.querySelector('dialog[open]')?.removeAttribute('tabindex'));
  const missing = expected.filter((_, i) => !seen.includes(i));
  // Tab order follows the document order (no positive tabindex reshuffles it).
  const inOrder = seen.every((v, i) => i === 0 || v > seen[i - 1] || v === 0);
  return { expected, missing, inOrder, order: seen.map((i) => expected[i]) };
}
