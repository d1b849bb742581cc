// Browser tests of moving through pictures in the detail view: previous and next by button and
// arrow key in the order of the grid it was opened from, the ends, the neighbours' previews
// requested before a step (by the URL the step then shows), arrow keys left to the edit form's
// fields, a swipe on a phone with touch (and a vertical drag that is no swipe), a picture
// deleted in the dialog passed over while the index still lists it, and the axe-core audit.
// Screenshots: e2e/artifacts/n-*.png.
// One fresh devstack (or STACK_JSON); the owner in a desktop profile, a visitor on a phone.
import { signUpAndIn } from './account-steps.mjs';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startStack, artifactsDir } from './stack.mjs';
import { CHROMIUM, launchBrowser, makeImage, DESKTOP, PHONE, scrollsSideways } from './browser.mjs';
import { dependentSteps } from './steps.mjs';
import { audit, tabWalk } from './a11y.mjs';

const PROCESSING_MS = Number(process.env.E2E_PROCESSING_TIMEOUT_MS || 120_000);
const run = Date.now().toString(36);
const email = `nav-${run}@example.com`;
const password = 'Correct-Horse-9-battery';
const TITLES = [`Lighthouse ${run}`, `Meadow ${run}`, `Harbour ${run}`];

let stack;
let stopStack = async () => {};
let browser;
let page;
/** The phone: a visitor's browser with touch. */
let phone;
/** Every request of the owner's page and of the phone's, with when it was sent. */
const requests = [];
const pageErrors = [];
const cspViolations = [];
/** The titles as My pictures shows them (newest first). */
let order;

const test = dependentSteps(async (name) => {
  await page?.screenshot({ path: path.join(artifactsDir, `FAILED-n-${name}.png`), fullPage: true }).catch(() => {});
  await phone?.page?.screenshot({ path: path.join(artifactsDir, `FAILED-n-phone-${name}.png`) }).catch(() => {});
});

function watch(p, who) {
  p.setDefaultTimeout(30_000);
  p.on('request', (r) => requests.push({ who, at: Date.now(), url: r.url() }));
  p.on('pageerror', (e) => pageErrors.push(`${who}: ${e}`));
  p.on('dialog', (d) => {
    pageErrors.push(`${who}: dialog ${d.message()}`);
    void d.dismiss().catch(() => {});
  });
  p.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
}

const card = (p, title) => p.locator('section.view:not([hidden]) ul.grid li', { has: p.locator('[data-role="title"]', { hasText: title }) });
const gridTitles = (p, v) => p.locator(`#view-${v} ul.grid [data-role="title"]`).allTextContents();
const decoded = (url) => {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
};

/** Waits until the dialog shows `title` with its preview rendition loaded; answers the preview's URL. */
async function showing(p, title) {
  await p.locator('#detail-title').filter({ hasText: new RegExp(`^${title}$`) }).waitFor();
  const img = await p.waitForFunction((t) => {
    const img = document.querySelector('#detail-image');
    return img && img.alt === t && img.dataset.shown === 'preview' && img.complete && img.naturalWidth > 0
      && /\/previews\//.test(decodeURIComponent(img.src)) && img.src;
  }, title);
  return img.jsonValue();
}

/** The preview URLs `who` requested since `since`. */
const previewsRequested = (who, since) => new Set(requests
  .filter((r) => r.who === who && r.at >= since && /\/previews\//.test(decoded(r.url)))
  .map((r) => r.url));

/** Waits until `who` requested `n` different previews since `since` (the one shown and its neighbours). */
async function previewsLoaded(who, since, n) {
  const deadline = Date.now() + 15_000;
  while (previewsRequested(who, since).size < n) {
    assert.ok(Date.now() < deadline, `${who} requested ${previewsRequested(who, since).size} of ${n} previews`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The state of the previous and next buttons and the place shown between them. */
const nav = (p) => p.evaluate(() => ({
  shown: !document.querySelector('#detail-nav').hidden,
  prev: !document.querySelector('#detail-prev').disabled,
  next: !document.querySelector('#detail-next').disabled,
  place: document.querySelector('#detail-position').textContent.replace(/^.*, /, ''),
}));

const signUp = (p) => signUpAndIn(p, stack.clientUrl, { email, password });

/**
 * A one-finger touch from `from` to `to` (page CSS pixels) through the DevTools protocol: the
 * browser's own touch input, so it makes pointer events, scrolls and honours touch-action as a
 * finger does.
 */
async function drag(p, cdp, from, to, steps = 8) {
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: from.x, y: from.y }] });
  for (let i = 1; i <= steps; i++) {
    const x = from.x + ((to.x - from.x) * i) / steps;
    const y = from.y + ((to.y - from.y) * i) / steps;
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x, y }] });
    await p.waitForTimeout(16);
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await p.waitForTimeout(300);
}

before(async () => {
  ({ stack, stop: stopStack } = await startStack());
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  watch(page, 'owner');
});

after(async () => {
  await phone?.browser.close().catch(() => {});
  await browser?.close().catch(() => {});
  await stopStack();
});

/** Uploads public pictures titled `titles` and waits for their thumbnails in My pictures. */
async function upload(titles) {
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.locator('#view-upload:not([hidden])').waitFor();
  const files = await Promise.all(titles.map(async (title, i) => ({
    name: `nav-${title.split(' ')[0].toLowerCase()}.jpg`, mimeType: 'image/jpeg',
    buffer: await makeImage(page, { width: 640 + 80 * i, height: 480, hue: 40 + 110 * i, type: 'image/jpeg', label: title.split(' ')[0] }),
  })));
  await page.locator('#file-input').setInputFiles(files);
  for (const [i, title] of titles.entries()) {
    const entry = page.locator(`#upload-queue li[data-file="${files[i].name}"]`);
    await entry.locator('[data-role="title"]').fill(title);
    await entry.getByLabel('Public: everyone can see it').check();
  }
  await page.getByRole('button', { name: /^Upload( \d+ pictures)?$/ }).click();
  await page.locator('#upload-status').filter({ hasText: 'All uploads finished.' }).waitFor({ timeout: 60_000 });
  await page.getByRole('link', { name: 'My pictures' }).click();
  for (const title of titles) {
    await card(page, title).locator('img[data-role="thumbnail"]').waitFor({ timeout: PROCESSING_MS });
  }
}

test('the owner uploads three public pictures', async () => {
  await signUp(page);
  await upload(TITLES);
  order = await gridTitles(page, 'mine');
  assert.deepEqual([...order].sort(), [...TITLES].sort());
});

test('from the middle picture, the arrow keys move in the grid\'s order and stop at the ends', async (t) => {
  const opened = Date.now();
  await card(page, order[1]).getByRole('button').click();
  await showing(page, order[1]);
  assert.deepEqual(await nav(page), { shown: true, prev: true, next: true, place: '2 of 3' });
  // The previews of both neighbours are requested while the middle one is shown.
  await previewsLoaded('owner', opened, 3);
  const beforeNext = Date.now();
  await page.keyboard.press('ArrowRight');
  const nextUrl = await showing(page, order[2]);
  assert.ok(previewsRequested('owner', opened).has(nextUrl) && requests.some((r) => r.url === nextUrl && r.at < beforeNext),
    'the next picture shows the preview requested before the step, by the same URL');
  t.diagnostic(`requests of the next preview: ${requests.filter((r) => r.url === nextUrl).length}`);
  assert.deepEqual(await nav(page), { shown: true, prev: true, next: false, place: '3 of 3' });
  // The last one is the end: ArrowRight does nothing there.
  await page.keyboard.press('ArrowRight');
  await page.waitForTimeout(200);
  await showing(page, order[2]);
  await page.keyboard.press('ArrowLeft');
  await showing(page, order[1]);
  const beforePrev = Date.now();
  await page.keyboard.press('ArrowLeft');
  const prevUrl = await showing(page, order[0]);
  assert.ok(requests.some((r) => r.url === prevUrl && r.at < beforePrev), 'the previous preview was requested before the step');
  assert.deepEqual(await nav(page), { shown: true, prev: false, next: true, place: '1 of 3' });
  await page.keyboard.press('ArrowLeft');
  await page.waitForTimeout(200);
  await showing(page, order[0]);
});

test('the buttons move too, and the rest of the dialog follows the picture shown', async () => {
  const dlg = page.locator('#detail');
  await dlg.getByRole('button', { name: 'Next picture' }).click();
  await showing(page, order[1]);
  assert.equal(await page.locator('#edit-title').inputValue(), order[1], 'the edit form holds the picture shown');
  assert.equal(await page.locator('#detail-faces-toggle').getAttribute('aria-pressed'), 'false');
  await dlg.getByRole('button', { name: 'Next picture' }).click();
  await showing(page, order[2]);
  // At the end Next is disabled; focus moved to Previous rather than being lost.
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'detail-prev');
  await dlg.getByRole('button', { name: 'Previous picture' }).click();
  await showing(page, order[1]);
  assert.equal(await page.locator('#edit-title').inputValue(), order[1]);
  assert.equal(await page.locator('#visibility-button').textContent(), 'Make private');
  // The share link names the picture shown (the clipboard may be refused: then it is shown).
  await dlg.getByRole('button', { name: 'Copy link' }).click();
  await page.locator('#detail-link-status').filter({ hasText: /Link copied|Copy the selected link/ }).waitFor();
});

test('in the edit form\'s fields the arrow keys move the caret, not the picture', async () => {
  const title = page.locator('#edit-title');
  await title.focus();
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  const caret = await title.evaluate((el) => el.selectionStart);
  assert.equal(caret, order[1].length - 2, 'the caret moved');
  await page.locator('#edit-description').focus();
  await page.keyboard.press('ArrowRight');
  await page.waitForTimeout(200);
  await showing(page, order[1]);
  assert.equal(await title.inputValue(), order[1]);
});

test('the dialog with its navigation passes the audit and the keyboard walk; screenshots', async (t) => {
  const { failing, other } = await audit(page);
  for (const v of other) t.diagnostic(`detail with navigation: ${v.impact} ${v.id}: ${v.help}`);
  assert.deepEqual(failing.map((v) => `${v.impact} ${v.id}: ${v.help} -- ${v.nodes.join(' | ')}`), []);
  const walk = await tabWalk(page);
  assert.deepEqual(walk.missing, [], 'controls Tab never reached');
  assert.ok(walk.inOrder, `Tab order follows the page (${walk.order.join(', ')})`);
  assert.ok(walk.order.some((c) => c.startsWith('button#detail-prev')) && walk.order.some((c) => c.startsWith('button#detail-next')));
  // The walk ended at the bottom of the dialog: back to the picture and its buttons.
  await page.locator('#detail').evaluate((d) => { d.scrollTop = 0; });
  await page.locator('#detail-next').focus();
  await page.screenshot({ path: path.join(artifactsDir, 'n-detail-nav-desktop.png') });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(artifactsDir, 'n-detail-nav-phone.png') });
  assert.equal(await scrollsSideways(page), false, 'no horizontal scrolling on a phone');
  await page.setViewportSize(DESKTOP);
  // Closing returns focus to the card of the picture shown last.
  await page.keyboard.press('Escape');
  await page.locator('#detail').waitFor({ state: 'hidden' });
  assert.equal(await card(page, order[1]).getByRole('button').evaluate((b) => b === document.activeElement), true);
});

test('on a phone a visitor swipes to the next and previous picture; a vertical drag scrolls', async (t) => {
  // A browser of its own (a fresh temporary profile), whose context has a touch screen.
  const b = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const context = await b.newContext({ viewport: PHONE, hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
  phone = { browser: b, page: await context.newPage() };
  const p = phone.page;
  watch(p, 'phone');
  await p.goto(stack.clientUrl);
  for (const title of TITLES) await card(p, title).locator('img[data-role="thumbnail"]').waitFor({ timeout: PROCESSING_MS });
  // The public gallery lists the same three, newest first too.
  assert.deepEqual(await gridTitles(p, 'public'), order);
  const opened = Date.now();
  await card(p, order[1]).getByRole('button').tap();
  await showing(p, order[1]);
  await previewsLoaded('phone', opened, 3);
  const cdp = await context.newCDPSession(p);
  const box = await p.locator('#detail-image').boundingBox();
  const mid = { x: box.x + box.width / 2, y: box.y + Math.min(box.height / 2, 150) };
  // Too short: nothing.
  await drag(p, cdp, { x: mid.x + 15, y: mid.y }, { x: mid.x - 15, y: mid.y });
  await showing(p, order[1]);
  // To the left: the next picture, from the preview requested ahead.
  const beforeSwipe = Date.now();
  await drag(p, cdp, { x: mid.x + 100, y: mid.y }, { x: mid.x - 100, y: mid.y + 10 });
  const nextUrl = await showing(p, order[2]);
  assert.ok(requests.some((r) => r.who === 'phone' && r.url === nextUrl && r.at < beforeSwipe), 'the visitor\'s next preview was requested ahead');
  await p.screenshot({ path: path.join(artifactsDir, 'n-detail-swipe-phone.png') });
  // To the right: back.
  await drag(p, cdp, { x: mid.x - 100, y: mid.y }, { x: mid.x + 100, y: mid.y - 10 });
  await showing(p, order[1]);
  // Up, a little sideways, on a screen too short for the whole dialog: the dialog scrolls, the
  // picture stays.
  await p.setViewportSize({ width: PHONE.width, height: 560 });
  const dialogScroll = () => p.evaluate(() => {
    const d = document.querySelector('#detail');
    return { top: d.scrollTop, room: d.scrollHeight - d.clientHeight };
  });
  const scrollBefore = await dialogScroll();
  assert.ok(scrollBefore.room > 100, `the dialog has more to show (${scrollBefore.room} px)`);
  await drag(p, cdp, { x: mid.x, y: mid.y + 60 }, { x: mid.x - 40, y: mid.y - 140 }, 12);
  await showing(p, order[1]);
  const scroll = await dialogScroll();
  t.diagnostic(`dialog scroll ${scrollBefore.top} -> ${scroll.top} (room ${scroll.room})`);
  assert.ok(scroll.top > scrollBefore.top + 50, 'a vertical drag on the picture scrolls the dialog');
  assert.deepEqual(await nav(p), { shown: true, prev: true, next: true, place: '2 of 3' });
});

test('a picture deleted in the dialog is passed over while the index still lists it', async () => {
  // The owner's index is held back, so the grid keeps listing the deleted picture.
  const privateIndex = (url) => decoded(url.pathname).includes('/private/index/');
  await page.route(privateIndex, (route) => route.abort('connectionrefused'));
  await card(page, order[1]).getByRole('button').click();
  await showing(page, order[1]);
  await page.getByRole('button', { name: 'Delete picture…' }).click();
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await page.locator('#detail').waitFor({ state: 'hidden' });
  assert.equal(await card(page, order[1]).count(), 1, 'the grid still lists it');
  await card(page, order[0]).getByRole('button').click();
  await showing(page, order[0]);
  assert.deepEqual(await nav(page), { shown: true, prev: false, next: true, place: '1 of 2' });
  await page.keyboard.press('ArrowRight');
  await showing(page, order[2]);
  assert.deepEqual(await nav(page), { shown: true, prev: true, next: false, place: '2 of 2' });
  await page.keyboard.press('ArrowLeft');
  await showing(page, order[0]);
  await page.keyboard.press('Escape');
  await page.unroute(privateIndex);
  await card(page, order[1]).waitFor({ state: 'detached', timeout: PROCESSING_MS });
  assert.deepEqual(await gridTitles(page, 'mine'), [order[0], order[2]]);
});

test('Next at the last loaded picture loads older ones (newest first)', async () => {
  // A screen the first four cards (the test stack's head) fill, so the grid's "Load older
  // pictures" stays below it and loads nothing by itself.
  await page.setViewportSize({ width: PHONE.width, height: 420 });
  const newer = [`Orchard ${run}`, `Quarry ${run}`, `Reef ${run}`];
  await upload(newer);
  // Five pictures: the head lists the newest four, a page the oldest (order[2]).
  const older = page.locator('#view-mine [data-role="older"]');
  await older.waitFor({ state: 'visible', timeout: PROCESSING_MS });
  const loaded = await gridTitles(page, 'mine');
  assert.equal(loaded.length, 4, `the head only: ${JSON.stringify(loaded)}`);
  assert.equal(loaded.at(-1), order[0]);
  // Opened from the keyboard, without scrolling the grid.
  await card(page, order[0]).getByRole('button').evaluate((b) => b.focus({ preventScroll: true }));
  await page.keyboard.press('Enter');
  await showing(page, order[0]);
  assert.deepEqual(await nav(page), { shown: true, prev: true, next: true, place: '4 of 4 loaded' });
  await page.keyboard.press('ArrowRight');
  await showing(page, order[2]);
  assert.deepEqual(await nav(page), { shown: true, prev: true, next: false, place: '5 of 5' });
  await page.keyboard.press('Escape');
  await older.waitFor({ state: 'hidden' });
  assert.equal(await page.locator('#view-mine ul.grid li').count(), 5);
  await page.setViewportSize(DESKTOP);
});

test('no dialogs, no CSP violations, no uncaught errors', () => {
  assert.deepEqual(cspViolations, []);
  assert.deepEqual(pageErrors, []);
});
