// Browser tests of acting on many pictures at once in My pictures: Select mode (click,
// Shift+click over the grid as the find field shows it, Select all shown, Clear, Escape), Make
// public over a selection (a JPEG carrying a GPS position among them stored without it; the
// pictures already public skipped and counted), a bulk delete
// where one picture's DeleteObject is refused (the report names it, it stays selected, the
// others go; a retry deletes it), selection from the keyboard alone (Tab to a card, Space,
// Shift+Space), the axe-core audit and the keyboard walk of the bar, and screenshots.
// Screenshots: e2e/artifacts/b-*.png, at desktop (1280) and phone (390) widths.
// One fresh devstack (or STACK_JSON); the owner in a desktop profile.
import { signUpAndIn } from './account-steps.mjs';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { startStack, artifactsDir } from './stack.mjs';
import { launchBrowser, makeImage, screenshotsAtBothWidths } from './browser.mjs';
import { exifSegment, phoneExif, withSegments } from './exif-builder.mjs';
import { dependentSteps } from './steps.mjs';
import { audit, tabWalk } from './a11y.mjs';

const PROCESSING_MS = Number(process.env.E2E_PROCESSING_TIMEOUT_MS || 120_000);
const run = Date.now().toString(36);
const email = `bulk-${run}@example.com`;
const password = 'Correct-Horse-9-battery';
/** Three "red" and two "blue": the find field shows the red ones alone. */
const WORDS = ['Alder red', 'Birch blue', 'Cedar red', 'Dogwood blue', 'Elm red'];
const TITLES = WORDS.map((w) => `${w} ${run}`);
const RED = TITLES.filter((t) => t.includes(' red '));
/** The one uploaded with a GPS position in its EXIF (little endian): made public, it loses it. */
const WITH_GPS = TITLES[2];
/** Its latitude (48° 51' 29.79"), as the EXIF's rationals. */
const LATITUDE = [48, 1, 51, 1, 2979, 100];

let stack;
let stopStack = async () => {};
let browser;
let page;
const pageErrors = [];
const cspViolations = [];
/** The titles as My pictures shows them (newest first). */
let order;
/** The bytes uploaded, by file name. */
const uploaded = {};
/** DeleteObject requests of originals in flight now, and the most seen at once. */
const deletes = { now: 0, most: 0, sent: 0 };

const test = dependentSteps(async (name) => {
  await page?.screenshot({ path: path.join(artifactsDir, `FAILED-b-${name}.png`), fullPage: true }).catch(() => {});
});

const decoded = (url) => {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
};
const card = (title) => page.locator('#view-mine ul.grid li', { has: page.locator('[data-role="title"]', { hasText: title }) });
const cardButton = (title) => card(title).locator('button.card');
const gridTitles = () => page.locator('#view-mine ul.grid [data-role="title"]').allTextContents();
/** The titles of the cards marked selected (aria-pressed). */
const selectedTitles = () => page.locator('#view-mine ul.grid button.card[aria-pressed="true"] [data-role="title"]').allTextContents();
const count = () => page.locator('#bulk-count').textContent();
const bar = () => page.locator('#bulk-panel');
const fileOf = (title) => `bulk-${title.split(' ')[0].toLowerCase()}.jpg`;

/** A screenshot at desktop and at phone width (the page is left at desktop width). */
const shots = (name) => screenshotsAtBothWidths(page, path.join(artifactsDir, `b-${name}`));

/** axe-core on the page as it is now: no serious or critical violation. */
async function checkA11y(t, what) {
  const { failing, other } = await audit(page);
  for (const v of other) t.diagnostic(`${what}: ${v.impact} ${v.id}: ${v.help}`);
  assert.deepEqual(failing.map((v) => `${v.impact} ${v.id}: ${v.help} -- ${v.nodes.join(' | ')}`), [], `${what}: axe-core`);
}

/** Whether `needle` occurs in `bytes`. */
function contains(bytes, needle) {
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** EXIF rationals as little-endian LONG pairs. */
const rationalBytes = (values) => values.flatMap((v) => [0, 1, 2, 3].map((i) => (v >>> (8 * i)) & 0xff));

/** An object of the bucket, read with the stack's own credentials. */
async function readObject(key) {
  const s3 = new S3Client({
    region: stack.region, endpoint: stack.endpoint, forcePathStyle: true,
    credentials: { accessKeyId: stack.accessKeyId, secretAccessKey: stack.secretAccessKey },
  });
  const r = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
  return new Uint8Array(await r.Body.transformToByteArray());
}

const signUp = () => signUpAndIn(page, stack.clientUrl, { email, password });

/** Waits until the card of `title` is listed (with a thumbnail) with the visibility badge `badge`. */
async function shownAs(title, badge) {
  const c = card(title).filter({ has: page.locator(`.badge.${badge.toLowerCase()}`) });
  await c.locator('img[data-role="thumbnail"]').waitFor({ timeout: PROCESSING_MS });
  // A moved picture is listed under both keys for a moment (move.ts): until the old one goes.
  const deadline = Date.now() + PROCESSING_MS;
  while ((await card(title).count()) !== 1) {
    assert.ok(Date.now() < deadline, `${title} is listed once`);
    await page.waitForTimeout(200);
  }
}

/** Waits for the bar's report (the status after a run) to say `text`. */
async function reported(text) {
  await page.locator('#bulk-progress').filter({ hasText: text }).waitFor({ timeout: 60_000 });
}

before(async () => {
  ({ stack, stop: stopStack } = await startStack());
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('dialog', (d) => {
    pageErrors.push(`dialog ${d.message()}`);
    void d.dismiss().catch(() => {});
  });
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  const isDelete = (r) => r.method() === 'DELETE' && /\/content\//.test(decoded(new URL(r.url()).pathname));
  page.on('request', (r) => {
    if (!isDelete(r)) return;
    deletes.sent++;
    deletes.most = Math.max(deletes.most, ++deletes.now);
  });
  for (const ended of ['requestfinished', 'requestfailed']) page.on(ended, (r) => { if (isDelete(r)) deletes.now--; });
});

after(async () => {
  await browser?.close().catch(() => {});
  await stopStack();
});

test('the owner uploads five private pictures', async () => {
  await signUp();
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.locator('#view-upload:not([hidden])').waitFor();
  const files = await Promise.all(TITLES.map(async (title, i) => {
    const drawn = await makeImage(page, { width: 480 + 40 * i, height: 360, hue: 20 + 70 * i, type: 'image/jpeg', label: title.split(' ')[0] });
    const buffer = title === WITH_GPS ? Buffer.from(withSegments(new Uint8Array(drawn), exifSegment(phoneExif({ le: true, orientation: 1 }).bytes))) : drawn;
    uploaded[fileOf(title)] = new Uint8Array(buffer);
    return { name: fileOf(title), mimeType: 'image/jpeg', buffer };
  }));
  assert.equal(contains(uploaded[fileOf(WITH_GPS)], rationalBytes(LATITUDE)), true, 'the file as picked carries the latitude');
  await page.locator('#file-input').setInputFiles(files);
  for (const [i, title] of TITLES.entries()) {
    await page.locator(`#upload-queue li[data-file="${files[i].name}"] [data-role="title"]`).fill(title);
  }
  await page.getByRole('button', { name: /^Upload( \d+ pictures)?$/ }).click();
  await page.locator('#upload-status').filter({ hasText: 'All uploads finished.' }).waitFor({ timeout: 60_000 });
  await page.getByRole('link', { name: 'My pictures' }).click();
  // The head lists four; the fifth comes from a page, loaded as the grid's end is on screen.
  for (const title of TITLES) await shownAs(title, 'Private');
  order = await gridTitles();
  assert.deepEqual([...order].sort(), [...TITLES].sort());
});

test('outside Select mode a card opens the picture; the bar only offers Select', async () => {
  assert.equal(await bar().isHidden(), true);
  assert.equal(await page.locator('#select-toggle').getAttribute('aria-pressed'), 'false');
  assert.equal(await cardButton(order[0]).getAttribute('aria-haspopup'), 'dialog');
  assert.equal(await cardButton(order[0]).getAttribute('aria-pressed'), null);
  await cardButton(order[0]).click();
  await page.locator('#detail-title').filter({ hasText: order[0] }).waitFor();
  await page.keyboard.press('Escape');
  await page.locator('#detail').waitFor({ state: 'hidden' });
});

test('click and Shift+click select over the grid as the find field shows it', async () => {
  await page.getByRole('button', { name: 'Select', exact: true }).click();
  await bar().waitFor();
  assert.equal(await page.locator('#select-toggle').getAttribute('aria-pressed'), 'true');
  assert.equal(await count(), '0 selected');
  assert.equal(await cardButton(order[0]).getAttribute('aria-pressed'), 'false');
  assert.equal(await cardButton(order[0]).getAttribute('aria-haspopup'), null);
  // The red ones only: a range from the first shown to the last shown passes over the blue.
  await page.locator('#mine-find').fill('red');
  await page.waitForFunction(() => document.querySelectorAll('#view-mine ul.grid li').length === 3);
  const shownRed = await gridTitles();
  assert.deepEqual([...shownRed].sort(), [...RED].sort());
  await cardButton(shownRed[0]).click();
  assert.equal(await count(), '1 selected');
  await cardButton(shownRed[2]).click({ modifiers: ['Shift'] });
  assert.equal(await count(), '3 selected');
  assert.deepEqual((await selectedTitles()).sort(), [...RED].sort());
  // No dialog opened in Select mode.
  assert.equal(await page.locator('#detail').isHidden(), true);
  // Back to all: the blue ones are not selected; the selection stays.
  await page.locator('#mine-find').fill('');
  await page.waitForFunction(() => document.querySelectorAll('#view-mine ul.grid li').length === 5);
  assert.equal(await count(), '3 selected');
  assert.deepEqual((await selectedTitles()).sort(), [...RED].sort());
  // A toggle off and on again.
  await cardButton(RED[1]).click();
  assert.equal(await count(), '2 selected');
  await cardButton(RED[1]).click();
  assert.equal(await count(), '3 selected');
});

test('the bar with a selection passes the audit and the keyboard walk; screenshots', async (t) => {
  await checkA11y(t, 'select mode');
  const walk = await tabWalk(page);
  assert.deepEqual(walk.missing, [], 'controls Tab never reached');
  assert.ok(walk.inOrder, `Tab order follows the page (${walk.order.join(', ')})`);
  for (const id of ['select-toggle', 'select-all', 'select-clear', 'bulk-public', 'bulk-private', 'bulk-delete', 'bulk-strip']) {
    assert.ok(walk.order.some((c) => c.includes(`#${id} `)), `Tab reaches #${id}`);
  }
  await shots('select');
});

test('Make public acts on the selection; the owner\'s index then lists them public', async () => {
  await page.getByRole('button', { name: 'Make public' }).click();
  await reported('Made 3 pictures public.');
  assert.equal(await count(), '0 selected', 'successes leave the selection');
  assert.equal(await page.locator('#bulk-failures').isHidden(), true);
  for (const title of RED) await shownAs(title, 'Public');
  for (const title of TITLES.filter((x) => !RED.includes(x))) assert.equal(await card(title).locator('.badge.private').count(), 1);
  // "Remove the location…" was checked: the JPEG with a GPS position went public without it,
  // nothing else changed (the removal never moves a byte).
  const key = await card(WITH_GPS).getAttribute('data-key');
  assert.match(key, /^public\/content\/[^/]+\/bulk-cedar\.jpg$/);
  const stored = await readObject(key);
  const sent = uploaded[fileOf(WITH_GPS)];
  assert.equal(stored.length, sent.length, 'same length: nothing re-encoded');
  assert.equal(contains(stored, rationalBytes(LATITUDE)), false, 'the public original has no GPS latitude');
  assert.deepEqual(stored.subarray(sent.length - 4000), sent.subarray(sent.length - 4000), 'the image data is untouched');
  // The others were copied as they were.
  const plain = RED.find((x) => x !== WITH_GPS);
  assert.deepEqual(await readObject(await card(plain).getAttribute('data-key')), uploaded[fileOf(plain)]);
  // The public gallery (another index) lists them too.
  await page.goto(new URL('#/', stack.clientUrl).href);
  for (const title of RED) {
    await page.locator('#view-public ul.grid [data-role="title"]', { hasText: title }).waitFor({ timeout: PROCESSING_MS });
  }
  await page.getByRole('link', { name: 'My pictures' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#view-mine ul.grid li').length === 5, null, { timeout: PROCESSING_MS });
  order = await gridTitles();
  assert.equal(order.length, 5);
});

test('Select all shown, then Make public skips the public ones and says how many', async () => {
  if (await page.locator('#select-toggle').getAttribute('aria-pressed') !== 'true') await page.locator('#select-toggle').click();
  await page.getByRole('button', { name: 'Select all shown' }).click();
  assert.equal(await count(), '5 selected');
  await page.getByRole('button', { name: 'Clear' }).click();
  assert.equal(await count(), '0 selected');
  // One public, one private: the public one is skipped.
  const blue = TITLES.find((x) => !RED.includes(x));
  await cardButton(RED[0]).click();
  await cardButton(blue).click();
  assert.equal(await count(), '2 selected');
  await page.getByRole('button', { name: 'Make public' }).click();
  await reported('Made 1 picture public. Skipped 1 picture: already public.');
  assert.equal(await count(), '0 selected');
  await shownAs(blue, 'Public');
  await page.waitForFunction(() => document.querySelectorAll('#view-mine ul.grid li').length === 5, null, { timeout: PROCESSING_MS });
  order = await gridTitles();
});

test('Escape leaves Select mode and clears the selection; from the keyboard alone: Tab, Space, Shift+Space', async () => {
  await cardButton(order[0]).click();
  assert.equal(await count(), '1 selected');
  await page.keyboard.press('Escape');
  await bar().waitFor({ state: 'hidden' });
  assert.equal(await page.locator('#select-toggle').getAttribute('aria-pressed'), 'false');
  assert.equal(await page.locator('#view-mine ul.grid button.card[aria-pressed]').count(), 0);
  // Keyboard only: Select by Enter, then Tab on to the first card.
  await page.locator('#select-toggle').focus();
  await page.keyboard.press('Enter');
  await bar().waitFor();
  assert.equal(await count(), '0 selected');
  const focusedTitle = () => page.evaluate(() => document.activeElement?.closest('li')?.querySelector('[data-role="title"]')?.textContent ?? null);
  for (let i = 0; i < 20 && (await focusedTitle()) !== order[0]; i++) await page.keyboard.press('Tab');
  assert.equal(await focusedTitle(), order[0], 'Tab reaches the first card');
  await page.keyboard.press('Space');
  assert.equal(await count(), '1 selected');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await focusedTitle(), order[2]);
  await page.keyboard.press('Shift+Space');
  assert.equal(await count(), '3 selected');
  assert.deepEqual(await selectedTitles(), order.slice(0, 3));
  // Enter toggles too; no dialog opens.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  assert.equal(await count(), '4 selected');
  await page.keyboard.press('Enter');
  assert.equal(await count(), '3 selected');
  assert.equal(await page.locator('#detail').isHidden(), true);
  assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('card')), true, 'focus stays on the card');
  await page.getByRole('button', { name: 'Select all shown' }).click();
  assert.equal(await count(), '5 selected');
});

test('a bulk delete where one picture is refused: the report names it, it stays selected, the others go', async (t) => {
  const failing = order[1];
  const failingFile = fileOf(failing);
  const refuse = (url) => decoded(url.pathname).endsWith(`/${failingFile}`);
  let refused = 0;
  await page.route(refuse, async (route) => {
    const req = route.request();
    if (req.method() !== 'DELETE') return route.fallback();
    refused++;
    const origin = new URL(stack.clientUrl).origin;
    await route.fulfill({
      status: 403,
      headers: {
        'content-type': 'application/xml',
        'access-control-allow-origin': origin,
        'access-control-expose-headers': 'x-amz-request-id',
      },
      body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
    });
  });
  await page.getByRole('button', { name: 'Delete…' }).click();
  await page.locator('#bulk-confirm').waitFor();
  assert.equal(await page.locator('#bulk-confirm-text').textContent(), 'Delete 5 pictures for good? This cannot be undone.');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'bulk-delete-no', 'focus on Cancel');
  // Cancel, then again.
  await page.keyboard.press('Escape');
  await page.locator('#bulk-confirm').waitFor({ state: 'hidden' });
  assert.equal(await page.locator('#select-toggle').getAttribute('aria-pressed'), 'true', 'Escape closed the confirmation only');
  assert.equal(await count(), '5 selected');
  await page.getByRole('button', { name: 'Delete…' }).click();
  await checkA11y(t, 'delete confirmation');
  await shots('confirm');
  const progressSeen = [];
  await page.exposeFunction('bulkProgressSeen', (text) => progressSeen.push(text)).catch(() => {});
  await page.evaluate(() => {
    const p = document.querySelector('#bulk-progress');
    new MutationObserver(() => window.bulkProgressSeen(p.textContent)).observe(p, { childList: true, characterData: true, subtree: true });
  });
  Object.assign(deletes, { most: 0, sent: 0 });
  await page.getByRole('button', { name: 'Yes, delete 5 pictures' }).click();
  await reported('Deleted 4 pictures. 1 picture failed and stays selected');
  t.diagnostic(`progress: ${JSON.stringify(progressSeen)}`);
  t.diagnostic(`DeleteObject requests: ${deletes.sent}, at most ${deletes.most} at once`);
  assert.equal(deletes.sent, 5, 'one DeleteObject per picture');
  assert.ok(deletes.most <= 3 && deletes.most >= 2, `at most three at once (${deletes.most})`);
  assert.ok(progressSeen.some((p) => /^Deleting: \d of 5 done…$/.test(p)), 'progress was shown');
  assert.ok(refused >= 1);
  const failures = await page.locator('#bulk-failures li').allTextContents();
  assert.deepEqual(failures, [`${failing}: Not allowed: you can only change your own pictures.`]);
  assert.equal(await count(), '1 selected');
  assert.equal(await cardButton(failing).getAttribute('aria-pressed'), 'true');
  for (const title of order.filter((x) => x !== failing)) await card(title).waitFor({ state: 'detached', timeout: PROCESSING_MS });
  assert.deepEqual(await gridTitles(), [failing]);
  await checkA11y(t, 'report');
  await shots('report');
  await page.unroute(refuse);
});

test('a retry deletes the one that failed', async () => {
  await page.getByRole('button', { name: 'Delete…' }).click();
  assert.equal(await page.locator('#bulk-confirm-text').textContent(), 'Delete 1 picture for good? This cannot be undone.');
  await page.getByRole('button', { name: 'Yes, delete 1 picture' }).click();
  await reported('Deleted 1 picture.');
  assert.equal(await page.locator('#bulk-failures').isHidden(), true);
  assert.equal(await count(), '0 selected');
  await page.locator('#view-mine ul.grid li').first().waitFor({ state: 'detached', timeout: PROCESSING_MS });
  await page.locator('#view-mine [data-role="status"]').filter({ hasText: 'You have not uploaded any pictures yet.' }).waitFor({ timeout: PROCESSING_MS });
});

test('no dialogs, no CSP violations, no uncaught errors', () => {
  assert.deepEqual(cspViolations, []);
  assert.deepEqual(pageErrors, []);
});
