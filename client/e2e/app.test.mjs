// Browser end-to-end tests: Debian Chromium + playwright-core against a fresh devstack
// (or STACK_JSON). Screenshots go to e2e/artifacts/.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { startStack, artifactsDir, INDEX_PARAMETERS } from './stack.mjs';
import { launchBrowser, makeImage, DESKTOP, PHONE, scrollsSideways } from './browser.mjs';
import { dependentSteps } from './steps.mjs';

const PROCESSING_MS = Number(process.env.E2E_PROCESSING_TIMEOUT_MS || 120_000);
const XSS = '<img src=x onerror=alert(1)>';
const run = Date.now().toString(36);
const email = `e2e-${run}@example.com`;
const password = 'Correct-Horse-9-battery';
const TITLE_PUBLIC = `Astronaut ${run}`;
const TITLE_PUBLIC_EDITED = `Astronaut in orbit ${run}`;
const TITLE_SECRET = `Secret garden ${run}`;

let stack;
let stopStack = async () => {};
let browser;
let page;
/** The signed-in user's identity id (from My pictures' first index request). */
let identityId;
const dialogs = [];
const cspViolations = [];
const pageErrors = [];

// The steps build on each other: after the first failure the rest are skipped,
// and a screenshot of the failing screen is saved.
const test = dependentSteps(async (name) => {
  await page?.screenshot({ path: path.join(artifactsDir, `FAILED-${name}.png`), fullPage: true });
});

const shot = (name) => page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });
const card = (title) => page.locator('section.view:not([hidden]) ul.grid li', { has: page.locator('[data-role="title"]', { hasText: title }) });
const visibleView = () => page.locator('section.view:not([hidden])');

/** Waits (checking every 100 ms) until `condition()` holds; fails saying `what` after `deadline`. */
async function until(what, condition, deadline) {
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what()}`);
    await page.waitForTimeout(100);
  }
}

const s3 = () => new S3Client({
  region: stack.region, endpoint: stack.endpoint, forcePathStyle: true,
  credentials: { accessKeyId: stack.accessKeyId, secretAccessKey: stack.secretAccessKey },
});

/** The identity id of the signed-in user, from the app's latest request of a private index. */
async function signedInIdentity() {
  const id = await page.evaluate(() => [...performance.getEntriesByType('resource')]
    .map((e) => /private\/index\/([^/]+)\/content\.json/.exec(decodeURIComponent(e.name))?.[1]).filter(Boolean).at(-1));
  assert.match(id ?? '', /^[a-z]{2}-[a-z]+-\d:[0-9a-f-]{36}$/, 'identity id seen in the private index request');
  return id;
}

/**
 * The titles of every item the signed-in user's private index lists (its head, and the pages
 * and volumes it lists, read from the bucket as the client reads them: an entry with a count
 * of 0 is never read), newest first by the upload dates the index records: the order the
 * gallery's default sort promises.
 */
async function titlesByUploadDate() {
  const client = s3();
  const items = new Map();
  const read = async (key) => {
    const body = await client.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key })).catch((err) => {
      throw new Error(`reading ${key}: ${err.name}`, { cause: err });
    });
    const doc = JSON.parse(await body.Body.transformToString());
    for (const item of doc.items ?? []) if (!items.has(item.objectKey)) items.set(item.objectKey, item);
    for (const entry of doc.pages ?? []) if (entry.count > 0) await read(entry.key);
  };
  await read(`private/index/${identityId}/content.json`);
  return [...items.values()].sort((a, b) => b.uploadDate.localeCompare(a.uploadDate)).map((i) => i.title);
}

/** The keys of the volumes with items that the signed-in user's private index lists, at any depth. */
async function listedVolumes() {
  const client = s3();
  const volumes = [];
  const read = async (key) => {
    const body = await client.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
    const doc = JSON.parse(await body.Body.transformToString());
    for (const entry of doc.pages ?? []) {
      if (entry.count === 0) continue;
      if (entry.level > 0) volumes.push(entry.key);
      await read(entry.key);
    }
  };
  await read(`private/index/${identityId}/content.json`);
  return volumes;
}

before(async () => {
  ({ stack, stop: stopStack } = await startStack());
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(30_000);
  page.on('dialog', async (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  await stopStack();
});

test('the public gallery loads with the runtime config', async () => {
  await page.goto(stack.clientUrl);
  await page.locator('#view-public:not([hidden])').waitFor();
  await page.locator('#view-public [data-role="status"]').filter({ hasText: /picture/ }).waitFor();
  const cfg = await page.evaluate(async () => (await fetch('./config.json')).json());
  assert.equal(cfg.bucket, stack.bucket);
  await shot('01-public-gallery-signed-out');
});

test('sign up, confirm with the emailed code, sign in', async () => {
  await page.getByRole('link', { name: 'Sign up' }).first().click();
  await page.locator('#signup-email').fill(email);
  await page.locator('#signup-password').fill(password);
  await shot('02-sign-up');
  await page.locator('#signup-form').getByRole('button', { name: 'Sign up' }).click();
  await page.locator('#view-confirm:not([hidden])').waitFor();
  assert.equal(await page.locator('#confirm-email').inputValue(), email);
  // (The emulator accepts any confirmation code, so a wrong one is not tested here.)
  await page.locator('#confirm-code').fill('123456');
  await page.locator('#confirm-form').getByRole('button', { name: 'Confirm' }).click();
  await page.locator('#view-signin:not([hidden])').waitFor();
  // A wrong password is refused with a visible message.
  await page.locator('#signin-password').fill('wrong-Password-1');
  await page.locator('#signin-form').getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#signin-form [data-role="error"]').filter({ hasText: /Incorrect/ }).waitFor();
  await page.locator('#signin-password').fill(password);
  await page.locator('#signin-form').getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#view-mine:not([hidden])').waitFor();
  await page.locator('#account-email').filter({ hasText: email }).waitFor();
  await page.locator('#view-mine [data-role="status"]').filter({ hasText: /not uploaded any/ }).waitFor();
  await shot('03-my-pictures-empty');
});

test('upload pictures: a non-image is refused up front; progress reaches 100%', async () => {
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.locator('#view-upload:not([hidden])').waitFor();
  const files = [
    { name: 'astronaut.jpg', mimeType: 'image/jpeg', buffer: fs.readFileSync(new URL('./fixtures/astronaut.jpg', import.meta.url)) },
    { name: 'sunset.png', mimeType: 'image/png', buffer: await makeImage(page, { width: 640, height: 480, hue: 20, label: 'sunset' }) },
    { name: 'xss.jpg', mimeType: 'image/jpeg', buffer: await makeImage(page, { width: 500, height: 700, hue: 200, type: 'image/jpeg', label: 'xss' }) },
    { name: 'garden.jpg', mimeType: 'image/jpeg', buffer: await makeImage(page, { width: 800, height: 600, hue: 110, type: 'image/jpeg', label: 'garden' }) },
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') },
  ];
  await page.locator('#file-input').setInputFiles(files);
  const entry = (name) => page.locator(`#upload-queue li[data-file="${name}"]`);
  await entry('notes.txt').getByText('Not a supported image').waitFor();
  await entry('garden.jpg').locator('[data-role="title"]').waitFor();

  await entry('astronaut.jpg').locator('[data-role="title"]').fill(TITLE_PUBLIC);
  await entry('astronaut.jpg').locator('[data-role="description"]').fill('Über den Wolken: café, 東京 😀');
  await entry('astronaut.jpg').getByLabel('Public: everyone can see it').check();
  // sunset.png is removed from the list again before uploading.
  await entry('sunset.png').getByRole('button', { name: 'Remove sunset.png' }).click();
  await entry('sunset.png').waitFor({ state: 'detached' });
  await entry('xss.jpg').locator('[data-role="title"]').fill(XSS);
  await entry('xss.jpg').getByLabel('Public: everyone can see it').check();
  await entry('garden.jpg').locator('[data-role="title"]').fill(TITLE_SECRET);
  await shot('04-upload-form');

  await page.getByRole('button', { name: /^Upload( \d+ pictures)?$/ }).click();
  await page.locator('#upload-status').filter({ hasText: 'All uploads finished.' }).waitFor({ timeout: 60_000 });
  for (const name of ['astronaut.jpg', 'xss.jpg', 'garden.jpg']) {
    assert.equal(await entry(name).locator('progress').getAttribute('value'), '100', `${name} progress`);
    assert.equal(await entry(name).locator('[data-role="percent"]').textContent(), '100%');
    assert.equal(await entry(name).getAttribute('data-state'), 'done');
  }
  assert.equal(await entry('notes.txt').getAttribute('data-state'), null, 'the text file was never sent');
  await shot('05-upload-done');
});

test('My pictures shows the thumbnails with titles, public and private marked', async () => {
  await page.getByRole('link', { name: 'My pictures' }).click();
  for (const title of [TITLE_PUBLIC, XSS, TITLE_SECRET]) {
    const thumb = card(title).locator('img[data-role="thumbnail"]');
    await thumb.waitFor({ timeout: PROCESSING_MS });
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await thumb.elementHandle(), { timeout: 30_000 });
  }
  assert.equal(await card(TITLE_PUBLIC).locator('.badge.public').count(), 1);
  assert.equal(await card(TITLE_SECRET).locator('.badge.private').count(), 1);
  // Newest first: the three were sent two at a time, so which one S3 stored last is not fixed;
  // the order is that of the upload dates the owner's index records.
  identityId = await signedInIdentity();
  const shown = await page.locator('#view-mine ul.grid [data-role="title"]').allTextContents();
  assert.deepEqual(shown, await titlesByUploadDate(), 'newest first, by the index\'s upload dates');
  assert.equal(shown.length, 3);
  await shot('06-my-pictures');
});

test('a title of <img src=x onerror=alert(1)> shows as text and runs nothing', async () => {
  const title = card(XSS).locator('[data-role="title"]');
  assert.equal(await title.textContent(), XSS);
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  await card(XSS).getByRole('button').click();
  await page.locator('#detail-title').filter({ hasText: XSS }).waitFor();
  assert.equal(await page.locator('#detail img[src="x"]').count(), 0);
  await page.getByRole('button', { name: 'Close details' }).click();
  assert.deepEqual(dialogs, [], 'no alert/confirm dialog was opened');
});

test('the detail view shows the preview, offers the original, the face count and the faces copy', async (t) => {
  await card(TITLE_PUBLIC).getByRole('button').click();
  const dlg = page.locator('#detail');
  await dlg.locator('#detail-title').filter({ hasText: TITLE_PUBLIC }).waitFor();
  await dlg.locator('#detail-description').filter({ hasText: 'Über den Wolken: café, 東京 😀' }).waitFor();
  // The picture shown is the preview rendition (content-updated's, fitting 1600x1600).
  await page.waitForFunction(() => {
    const img = document.querySelector('#detail-image');
    return img && img.complete && img.naturalWidth > 0 && /\/previews\//.test(decodeURIComponent(img.src));
  });
  const shown = await page.evaluate(() => {
    const img = document.querySelector('#detail-image');
    return { width: img.naturalWidth, height: img.naturalHeight };
  });
  assert.ok(shown.width <= 1600 && shown.height <= 1600, `preview ${shown.width}x${shown.height}`);
  // The owner is offered the original as a download: that link serves the uploaded bytes as an
  // attachment (never a page of the bucket's origin), with an image type. Fetched from the test,
  // which sees every response header (the bucket's CORS exposes only a few to the page).
  const original = dlg.getByRole('link', { name: 'Download the original' });
  await original.waitFor();
  const href = await original.getAttribute('href');
  assert.match(decodeURIComponent(href), /\/public\/content\//);
  assert.equal(await original.getAttribute('download'), 'astronaut.jpg');
  assert.equal(await page.locator('#detail-original-note').isHidden(), true, 'no "owner only" note for the owner');
  const response = await fetch(href);
  const fetched = {
    status: response.status,
    type: response.headers.get('content-type'),
    bytes: (await response.arrayBuffer()).byteLength,
  };
  assert.equal(fetched.status, 200);
  assert.equal(response.headers.get('content-disposition'), "attachment; filename*=UTF-8''astronaut.jpg");
  assert.equal(fetched.type, 'image/jpeg');
  assert.equal(fetched.bytes, fs.statSync(new URL('./fixtures/astronaut.jpg', import.meta.url)).size, 'the original, byte for byte');
  t.diagnostic(`preview ${shown.width}x${shown.height}; original ${fetched.bytes} bytes (${fetched.type})`);
  // The face count arrives once face-detection has run: the astronaut has one face, which both
  // detectors find (e2e/fixtures/README.md, bench/README.md's labelled set).
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('#detail-faces')?.textContent ?? ''), null, { timeout: PROCESSING_MS });
  assert.equal(await dlg.locator('#detail-faces').textContent(), '1', 'the one face of the astronaut');
  await shot('07-detail');
  const toggle = dlg.getByRole('button', { name: 'Show faces' });
  await page.waitForFunction(() => !document.querySelector('#detail-faces-toggle').disabled, null, { timeout: PROCESSING_MS });
  await toggle.click();
  assert.equal(await dlg.locator('#detail-faces-toggle').getAttribute('aria-pressed'), 'true');
  await page.waitForFunction(() => {
    const img = document.querySelector('#detail-image');
    return img && img.complete && img.naturalWidth > 0 && /faces/.test(decodeURIComponent(img.src));
  });
  await shot('08-detail-faces');
});

test('the owner edits a title and the gallery follows', async () => {
  const dlg = page.locator('#detail');
  // The contract's bounds: typing stops at 200 / 2,000 characters, with a counter ...
  const title = dlg.locator('#edit-title');
  assert.equal(await title.getAttribute('maxlength'), '200');
  assert.equal(await dlg.locator('#edit-description').getAttribute('maxlength'), '2000');
  await title.fill('t'.repeat(200));
  await title.press('x');
  assert.equal((await title.inputValue()).length, 200, 'typing past 200 characters is refused');
  await dlg.locator('#edit-title-count').filter({ hasText: '200 / 200' }).waitFor();
  // ... and a longer value already in a field (maxlength does not stop that) cannot be submitted.
  const description = await dlg.locator('#edit-description').inputValue();
  await dlg.locator('#edit-description').evaluate((el) => {
    el.value = 'd'.repeat(2001);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await dlg.locator('#edit-description-count.over').filter({ hasText: '2001 / 2,000' }).waitFor();
  await dlg.getByRole('button', { name: 'Save changes' }).click();
  await dlg.locator('#edit-form [data-role="error"]').filter({ hasText: 'The description is too long' }).waitFor();
  assert.equal(await dlg.locator('#edit-form [data-role="ok"]').textContent(), '', 'nothing was saved');
  await dlg.locator('#edit-description').fill(description);
  await title.fill(TITLE_PUBLIC_EDITED);
  await dlg.getByRole('button', { name: 'Save changes' }).click();
  await dlg.locator('#edit-form [data-role="ok"]').filter({ hasText: 'Saved' }).waitFor();
  await dlg.locator('#detail-title').filter({ hasText: TITLE_PUBLIC_EDITED }).waitFor();
  await page.keyboard.press('Escape');
  await card(TITLE_PUBLIC_EDITED).waitFor({ timeout: PROCESSING_MS });
  assert.equal(await card(TITLE_PUBLIC_EDITED).locator('[data-role="title"]').textContent(), TITLE_PUBLIC_EDITED);
  await shot('09-after-edit');
});

test('the owner deletes a picture and it goes', async () => {
  await card(TITLE_SECRET).getByRole('button').click();
  await page.locator('#detail-title').filter({ hasText: TITLE_SECRET }).waitFor();
  await page.getByRole('button', { name: 'Delete picture…' }).click();
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await page.locator('#detail').waitFor({ state: 'hidden' });
  await card(TITLE_SECRET).waitFor({ state: 'detached', timeout: PROCESSING_MS });
  assert.equal(await page.locator('#view-mine ul.grid li').count(), 2);
  await shot('10-after-delete');
});

test('a person scrolls back through every picture, page by page and into volumes, each fetched once', async () => {
  const count = 14;
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.locator('#view-upload:not([hidden])').waitFor();
  const files = [];
  for (let n = 0; n < count; n++) {
    files.push({ name: `scroll-${n}.jpg`, mimeType: 'image/jpeg', buffer: await makeImage(page, { width: 320, height: 240, hue: n * 25, type: 'image/jpeg', label: `scroll ${n}` }) });
  }
  await page.locator('#file-input').setInputFiles(files);
  for (let n = 0; n < count; n++) await page.locator(`#upload-queue li[data-file="scroll-${n}.jpg"] [data-role="title"]`).fill(`Scroll ${String(n).padStart(2, '0')} ${run}`);
  await page.getByRole('button', { name: /^Upload( \d+ pictures)?$/ }).click();
  await page.locator('#upload-status').filter({ hasText: 'All uploads finished.' }).waitFor({ timeout: 120_000 });

  const pageRequests = [];
  /** Statuses of the private head's polls (200: the index was rewritten). */
  const headPolls = [];
  const onResponse = (r) => {
    const url = decodeURIComponent(r.url());
    if (/\/index\/[^?]*(content|volume\d+)-[^/?]*\.json/.test(url)) pageRequests.push({ key: url.replace(/^.*\/(private|public)\/index\//, '$1/index/').split('?')[0], status: r.status() });
    else if (/\/private\/index\/[^/?]+\/content\.json/.test(url)) headPolls.push(r.status());
  };
  page.on('response', onResponse);
  // A phone: the head fills the first screen; older pictures load as the person scrolls.
  await page.setViewportSize({ width: PHONE.width, height: 420 });
  await page.getByRole('link', { name: 'My pictures' }).click();
  const titles = () => page.locator('#view-mine ul.grid [data-role="title"]').allTextContents();
  const scrollTitles = async () => (await titles()).filter((t) => t.startsWith('Scroll '));
  await card(`Scroll ${String(count - 1).padStart(2, '0')} ${run}`).waitFor({ timeout: PROCESSING_MS });
  assert.ok((await titles()).length <= INDEX_PARAMETERS.PrivateIndexHeadLimit + INDEX_PARAMETERS.IndexPageSize, `the first screen shows the head (and at most the page under it): ${(await titles()).length}`);
  // The head holds 4 of the 16 pictures: older ones are left, and the button says so.
  const older = page.locator('#view-mine [data-role="older"]');
  await older.waitFor({ state: 'visible' });
  // Keyboard first: the button is a real button, focused and pressed with Enter. On screen it
  // also loads by itself (and is disabled meanwhile, which takes the focus away), so it is
  // pressed once those loads have pushed it below the screen, and focused where it is.
  await page.waitForFunction(() => {
    const b = document.querySelector('#view-mine [data-role="older"]');
    return !b.hidden && !b.disabled && b.getBoundingClientRect().top > window.innerHeight + 100;
  });
  const before = (await titles()).length;
  await older.evaluate((b) => b.focus({ preventScroll: true }));
  assert.equal(await older.evaluate((b) => b === document.activeElement), true, 'the button takes the focus');
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => document.querySelectorAll('#view-mine ul.grid [data-role="title"]').length > n, before);
  const deadline = Date.now() + PROCESSING_MS;
  // Every picture, in any order while scrolling: the client uploads two at a time, so two
  // neighbours may arrive (and be dated) in either order.
  const want = Array.from({ length: count }, (_, n) => `Scroll ${String(n).padStart(2, '0')} ${run}`);
  while (JSON.stringify((await scrollTitles()).sort()) !== JSON.stringify(want)) {
    assert.ok(Date.now() < deadline, `every picture reached by scrolling: ${JSON.stringify(await scrollTitles())}`);
    await page.mouse.wheel(0, 2000);
    await page.waitForTimeout(300);
  }
  await older.waitFor({ state: 'hidden' });
  const all = await titles();
  assert.equal(new Set(all).size, all.length, 'each picture once');
  // Newest first across the head, the pages and the volumes: the order of the upload dates.
  assert.deepEqual(all, await titlesByUploadDate(), 'every picture, newest first by the index\'s upload dates');
  assert.ok(pageRequests.length >= 2, `pages were fetched as the person scrolled: ${JSON.stringify(pageRequests)}`);
  // Pages of 3 and volumes of 2 (INDEX_PARAMETERS): how many pages (and so whether a volume)
  // 16 uploads make depends on how the stream batched their changes, so what is promised is
  // that the gallery opened every volume the index lists as the person scrolled into it.
  const volumes = await listedVolumes();
  for (const volume of volumes) {
    assert.ok(pageRequests.some((r) => decodeURIComponent(r.key) === volume), `volume ${volume} was opened: ${JSON.stringify(pageRequests)}`);
  }
  await shot('10a-scrolled-to-the-oldest');
  // Settled: polling reads the head only; no page is fetched again. The backend may still be
  // rewriting the index (the uploads' processing): a page or volume fetched while it did can be
  // newer than the entry it was listed under, and is rightly fetched again (a 304) when a newer
  // head lists its new contentHash. So the window counts only once the head answered 304 twice
  // in a row, and only if it answered 304 to the next two polls too (else the next window is
  // taken): polls the head answered 304 lead to no page request.
  const stopped = () => `the index stopped changing: head polls ${JSON.stringify(headPolls)}`;
  for (let idle = false; !idle;) {
    const from = headPolls.length;
    await until(stopped, () => headPolls.length >= from + 2 && headPolls.slice(-2).every((s) => s === 304), deadline);
    const settled = pageRequests.length;
    const headFrom = headPolls.length;
    await until(stopped, () => headPolls.length >= headFrom + 2, deadline);
    idle = headPolls.slice(headFrom).every((s) => s === 304);
    if (idle) assert.deepEqual(pageRequests.slice(settled), [], 'no page refetched while nothing changes');
  }
  page.off('response', onResponse);
  await page.setViewportSize(DESKTOP);
});

test('the session survives a reload', async () => {
  await page.reload();
  await page.locator('#account-email').filter({ hasText: email }).waitFor();
  await page.locator('#view-mine:not([hidden])').waitFor();
  await card(TITLE_PUBLIC_EDITED).waitFor();
});

test('phone pictures: a HEIC and an AVIF show upright thumbnails', async () => {
  // Made by tests/examples/heif_fixtures.rs with Debian's heif-enc and avifenc: a landscape
  // photo stored sideways, turned by the container's irot (and an Exif orientation to ignore).
  const target = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'media-share', 'target');
  const maker = path.join(target, 'release', 'examples', 'heif_fixtures');
  assert.ok(fs.existsSync(maker), `${maker} missing: cargo build --release --workspace --all-targets`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heif-fixtures-'));
  execFileSync(maker, [fileURLToPath(new URL('./fixtures/astronaut.jpg', import.meta.url)), dir]);
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.locator('#view-upload:not([hidden])').waitFor();
  const files = ['landscape.heic', 'landscape.avif'].map((name) => ({
    name, mimeType: name.endsWith('.heic') ? 'image/heic' : 'image/avif', buffer: fs.readFileSync(path.join(dir, name)),
  }));
  await page.locator('#file-input').setInputFiles(files);
  const entry = (name) => page.locator(`#upload-queue li[data-file="${name}"]`);
  for (const { name } of files) await entry(name).locator('[data-role="title"]').fill(`${name} ${run}`);
  await page.getByRole('button', { name: /^Upload( \d+ pictures)?$/ }).click();
  await page.locator('#upload-status').filter({ hasText: 'All uploads finished.' }).waitFor({ timeout: 60_000 });
  await page.getByRole('link', { name: 'My pictures' }).click();
  for (const { name } of files) {
    const thumb = card(`${name} ${run}`).locator('img[data-role="thumbnail"]');
    await thumb.waitFor({ timeout: PROCESSING_MS });
    const handle = await thumb.elementHandle();
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, handle, { timeout: 30_000 });
    const size = await thumb.evaluate((img) => [img.naturalWidth, img.naturalHeight]);
    assert.deepEqual(size, [200, 150], `${name}: upright (stored 384x512, shown 512x384)`);
  }
  await shot('15-heic-avif');
  // The detail view shows each one's preview, upright and at its own size (never upscaled).
  for (const { name } of files) {
    await card(`${name} ${run}`).getByRole('button').click();
    await page.locator('#detail-title').filter({ hasText: `${name} ${run}` }).waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector('#detail-image');
      return img && img.complete && img.naturalWidth > 0 && /\/previews\//.test(decodeURIComponent(img.src));
    }, null, { timeout: PROCESSING_MS });
    const shown = await page.evaluate(() => {
      const img = document.querySelector('#detail-image');
      return [img.naturalWidth, img.naturalHeight];
    });
    assert.deepEqual(shown, [512, 384], `${name}: the preview is upright`);
    await page.keyboard.press('Escape');
    await page.locator('#detail').waitFor({ state: 'hidden' });
  }
});

test('signed out, only public pictures are shown', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('#view-public:not([hidden])').waitFor();
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  await card(TITLE_PUBLIC_EDITED).locator('img[data-role="thumbnail"]').waitFor({ timeout: PROCESSING_MS });
  const titles = await visibleView().locator('[data-role="title"]').allTextContents();
  assert.ok(titles.includes(TITLE_PUBLIC_EDITED), 'public picture listed');
  assert.ok(titles.includes(XSS), 'public picture with the hostile title listed as text');
  assert.ok(!titles.includes(TITLE_SECRET), 'no private picture');
  // Keyboard: Enter on a card opens the details, Escape closes them and focus returns to the card.
  // Guests see no owner controls.
  const button = card(TITLE_PUBLIC_EDITED).getByRole('button');
  await button.focus();
  await page.keyboard.press('Enter');
  await page.locator('#detail-title').filter({ hasText: TITLE_PUBLIC_EDITED }).waitFor();
  assert.equal(await page.locator('#detail-owner').isHidden(), true);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'detail-close');
  await page.keyboard.press('Escape');
  await page.locator('#detail').waitFor({ state: 'hidden' });
  assert.equal(await button.evaluate((b) => b === document.activeElement), true, 'focus back on the card');
  // My pictures needs a sign-in.
  await page.goto(new URL('#/mine', stack.clientUrl).href);
  await page.locator('#view-signin:not([hidden])').waitFor();
  await page.goto(new URL('#/', stack.clientUrl).href);
  await page.locator('#view-public:not([hidden])').waitFor();
  await shot('11-public-signed-out');
});

test('polling: unchanged index answers 304 and nothing is re-rendered', async () => {
  const statuses = [];
  const onResponse = (r) => {
    if (decodeURIComponent(r.url()).includes('public/index/content.json')) statuses.push(r.status());
  };
  page.on('response', onResponse);
  // The backend may still be rewriting the index (face-detection's counts arrive after the
  // thumbnails), and a changed item's card is rightly rebuilt. So the cards are marked once the
  // index answered 304, and the window counts only if the next two polls were answered 304
  // too (else the next window is taken): an index answered 304 rebuilds no card.
  const deadline = Date.now() + PROCESSING_MS;
  const polled = () => `the index polled and answered 304: ${JSON.stringify(statuses)}`;
  for (let idle = false; !idle;) {
    await until(polled, () => statuses.at(-1) === 304, deadline);
    // Mark the card nodes: a re-render would replace them.
    await page.evaluate(() => document.querySelectorAll('#view-public ul.grid li').forEach((li) => { li.__marked = true; }));
    const from = statuses.length;
    await until(polled, () => statuses.length >= from + 2, deadline);
    idle = statuses.slice(from).every((s) => s === 304);
    if (idle) {
      const kept = await page.evaluate(() => [...document.querySelectorAll('#view-public ul.grid li')].every((li) => li.__marked === true));
      assert.equal(kept, true, 'the cards were not rebuilt');
    }
  }
  page.off('response', onResponse);
});

test('phone-sized screens', async () => {
  await page.setViewportSize(PHONE);
  await page.locator('#view-public ul.grid li').first().waitFor();
  await shot('12-phone-gallery');
  await card(TITLE_PUBLIC_EDITED).getByRole('button').click();
  await page.waitForFunction(() => document.querySelector('#detail-image')?.naturalWidth > 0);
  await page.screenshot({ path: path.join(artifactsDir, '13-phone-detail.png') });
  await page.keyboard.press('Escape');
  assert.equal(await scrollsSideways(page), false, 'no horizontal scrolling on a phone');
});

test('a network failure is shown, and the gallery recovers', async () => {
  await page.setViewportSize(DESKTOP);
  const endpoint = new URL(stack.endpoint).origin;
  const toEndpoint = (url) => url.origin === endpoint;
  await page.route(toEndpoint, (route) => route.abort('connectionrefused'));
  const status = page.locator('#view-public [data-role="status"]');
  await status.filter({ hasText: 'Could not refresh the pictures' }).waitFor();
  assert.equal(await status.getAttribute('class'), 'status error');
  // The pictures already shown stay.
  await card(TITLE_PUBLIC_EDITED).waitFor();
  await shot('14-network-error');
  await page.unroute(toEndpoint);
  await status.filter({ hasText: /^\d+ pictures?$/ }).waitFor({ timeout: 60_000 });
});

test('no dialogs, no CSP violations, no uncaught errors', () => {
  assert.deepEqual(dialogs, []);
  assert.deepEqual(cspViolations, []);
  assert.deepEqual(pageErrors, []);
});
