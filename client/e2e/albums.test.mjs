// Browser tests of albums (docs/albums.md): an album made from the select-many bar with three
// pictures (one private), renamed, one removed; shared by link and opened in a second, signed-out
// browser: its name and exactly its pictures, each rendition served from the shared copy under
// public/albums/ (the private picture's too), never a request for the owner's private/ or
// content/ keys; revoked (the link says "This album is not available"), shared again (a new
// link works, the old one does not); a picture deleted from My pictures leaves the album and its
// shared copy; the album deleted, with its shared copy. axe-core audits of the albums view, the
// album view and the shared view, and screenshots: e2e/artifacts/al-*.png at desktop (1280) and
// phone (390) widths. The emulator does not enforce IAM: infra/test/policies.test.mjs proves
// who may read and write what.
// One fresh devstack (or STACK_JSON); the owner and the visitor in two browser profiles.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { S3Client, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startStack, artifactsDir } from './stack.mjs';
import { launchBrowser, makeImage, screenshotsAtBothWidths } from './browser.mjs';
import { dependentSteps } from './steps.mjs';
import { signUpAndIn } from './account-steps.mjs';
import { audit } from './a11y.mjs';

const PROCESSING_MS = Number(process.env.E2E_PROCESSING_TIMEOUT_MS || 120_000);
const run = Date.now().toString(36);
const email = `albums-${run}@example.com`;
const password = 'Correct-Horse-9-battery';
const WORDS = ['Aspen', 'Beech', 'Cherry', 'Dune'];
const TITLES = WORDS.map((w) => `${w} ${run}`);
/** The one uploaded private. */
const PRIVATE = TITLES[1];
/** In the album: three, the private one among them. */
const IN_ALBUM = [TITLES[0], TITLES[1], TITLES[2]];
/** Removed from the album in the album view. */
const REMOVED = TITLES[2];
/** Deleted from My pictures while in the album. */
const DELETED = TITLES[0];
const fileOf = (title) => `album-${title.split(' ')[0].toLowerCase()}.jpg`;
const NOT_AVAILABLE = 'This album is not available';

let stack;
let stopStack = async () => {};
let owner;
let visitor;
let page;
let identityId;
/** The album's pictures in its order (the order they were added: the grid's). */
let albumOrder;
/** The links the owner shared, in order. */
const links = [];
const pageErrors = [];
/** Every object key the visitor's browser asked the bucket for. */
const visitorKeys = [];

const test = dependentSteps(async (name) => {
  await page?.screenshot({ path: path.join(artifactsDir, `FAILED-al-${name}.png`), fullPage: true }).catch(() => {});
  await visitor?.page?.screenshot({ path: path.join(artifactsDir, `FAILED-al-${name}-visitor.png`), fullPage: true }).catch(() => {});
});

const decoded = (url) => {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
};
/** The bucket key of a request to the stack's S3 endpoint (path-style), or undefined. */
function keyOf(url) {
  const u = new URL(url);
  if (!stack || u.origin !== new URL(stack.endpoint).origin) return undefined;
  const p = decoded(u.pathname);
  const prefix = `/${stack.bucket}/`;
  return p.startsWith(prefix) ? p.slice(prefix.length) : undefined;
}

const card = (title) => page.locator('#view-mine ul.grid li', { has: page.locator('[data-role="title"]', { hasText: title }) });
const entry = (name) => page.locator('#albums-list li.album-entry', { has: page.locator('h2', { hasText: name }) });

/** A screenshot of `p` at desktop and at phone width (left at desktop width). */
const shots = (p, name) => screenshotsAtBothWidths(p, path.join(artifactsDir, `al-${name}`));

async function checkA11y(t, p, what) {
  const { failing, other } = await audit(p);
  for (const v of other) t.diagnostic(`${what}: ${v.impact} ${v.id}: ${v.help}`);
  assert.deepEqual(failing.map((v) => `${v.impact} ${v.id}: ${v.help} -- ${v.nodes.join(' | ')}`), [], `${what}: axe-core`);
}

/** Keys under a prefix, listed with the stack's own credentials. */
async function listKeys(prefix) {
  const s3 = new S3Client({
    region: stack.region, endpoint: stack.endpoint, forcePathStyle: true,
    credentials: { accessKeyId: stack.accessKeyId, secretAccessKey: stack.secretAccessKey },
  });
  const r = await s3.send(new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: prefix }));
  return (r.Contents ?? []).map((o) => o.Key).sort();
}

/** Every image in `selector` loaded (complete, with pixels). */
async function imagesLoaded(p, selector) {
  await p.waitForFunction((sel) => {
    const imgs = [...document.querySelectorAll(sel)];
    return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, selector, { timeout: 30_000 });
}

/** The shared view in the visitor's browser at `link`: its heading and card titles once settled. */
async function visit(link) {
  const v = visitor.page;
  await v.goto('about:blank');
  await v.goto(link);
  await v.locator('#view-shared-album:not([hidden])').waitFor();
  await v.waitForFunction(() => !/^Looking/.test(document.querySelector('#shared-album-status')?.textContent ?? ''));
  return {
    heading: await v.locator('#shared-album-heading').textContent(),
    missing: await v.locator('#shared-album-missing').isVisible(),
    titles: await v.locator('#shared-album-grid [data-role="title"]').allTextContents(),
  };
}

const signUp = () => signUpAndIn(page, stack.clientUrl, { email, password });

async function gotoAlbums() {
  await page.getByRole('link', { name: 'Albums', exact: true }).click();
  await page.locator('#view-albums:not([hidden])').waitFor();
}

before(async () => {
  ({ stack, stop: stopStack } = await startStack());
  owner = await launchBrowser();
  page = owner.context.pages()[0] ?? (await owner.context.newPage());
  page.setDefaultTimeout(30_000);
  visitor = await launchBrowser();
  visitor.page = visitor.context.pages()[0] ?? (await visitor.context.newPage());
  visitor.page.setDefaultTimeout(30_000);
  for (const p of [page, visitor.page]) {
    p.on('pageerror', (e) => pageErrors.push(String(e)));
    p.on('dialog', (d) => {
      pageErrors.push(`dialog ${d.message()}`);
      void d.dismiss().catch(() => {});
    });
  }
  visitor.page.on('request', (r) => {
    const key = keyOf(r.url());
    if (key !== undefined) visitorKeys.push(key);
  });
});

after(async () => {
  await owner?.close().catch(() => {});
  await visitor?.close().catch(() => {});
  await stopStack();
});

test('the owner uploads four pictures, one private', async () => {
  await signUp();
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.locator('#view-upload:not([hidden])').waitFor();
  const files = await Promise.all(TITLES.map(async (title, i) => ({
    name: fileOf(title), mimeType: 'image/jpeg',
    buffer: await makeImage(page, { width: 400 + 40 * i, height: 300, hue: 30 + 80 * i, type: 'image/jpeg', label: title.split(' ')[0] }),
  })));
  await page.locator('#file-input').setInputFiles(files);
  for (const [i, title] of TITLES.entries()) {
    const li = page.locator(`#upload-queue li[data-file="${files[i].name}"]`);
    await li.locator('[data-role="title"]').fill(title);
    if (title !== PRIVATE) await li.locator('[data-role="public"]').check();
  }
  await page.getByRole('button', { name: /^Upload( \d+ pictures)?$/ }).click();
  await page.locator('#upload-status').filter({ hasText: 'All uploads finished.' }).waitFor({ timeout: 60_000 });
  await page.getByRole('link', { name: 'My pictures' }).click();
  for (const title of TITLES) {
    await card(title).filter({ has: page.locator(`.badge.${title === PRIVATE ? 'private' : 'public'}`) })
      .locator('img[data-role="thumbnail"]').waitFor({ timeout: PROCESSING_MS });
  }
  identityId = (await card(TITLES[0]).getAttribute('data-key')).split('/')[2];
  assert.match(identityId, /^[\w-]+:[\w-]+$/);
});

test('Add to album… in the select-many bar makes an album of three pictures, the private one among them', async (t) => {
  await page.getByRole('button', { name: 'Select', exact: true }).click();
  for (const title of IN_ALBUM) await card(title).locator('button.card').click();
  assert.equal(await page.locator('#bulk-count').textContent(), '3 selected');
  await page.getByRole('button', { name: 'Add to album…' }).click();
  await page.locator('#bulk-album-form').waitFor();
  assert.equal(await page.locator('#bulk-album-choice').inputValue(), '', 'no album yet: a new one');
  await page.locator('#bulk-album-name').fill('Trip');
  await checkA11y(t, page, 'add to album');
  await shots(page, 'add');
  await page.locator('#bulk-album-add').click();
  await page.locator('#bulk-progress').filter({ hasText: 'Added 3 pictures to “Trip”.' }).waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('#bulk-count').textContent(), '0 selected');
  assert.equal(await page.locator('#bulk-album-form').isHidden(), true);
  // Adding again: the chooser offers the album; what is in it already is skipped and said so.
  await card(TITLES[0]).locator('button.card').click();
  await page.getByRole('button', { name: 'Add to album…' }).click();
  await page.locator('#bulk-album-choice option', { hasText: 'Trip' }).waitFor({ state: 'attached' });
  await page.waitForFunction(() => document.querySelector('#bulk-album-choice').selectedOptions[0]?.textContent === 'Trip');
  assert.equal(await page.locator('#bulk-album-name').isHidden(), true);
  await page.locator('#bulk-album-add').click();
  await page.locator('#bulk-progress').filter({ hasText: 'Skipped 1 picture: already in the album.' }).waitFor();
  await page.keyboard.press('Escape');
});

test('the albums view lists it; rename; the album view shows its pictures and removes one', async (t) => {
  await gotoAlbums();
  await entry('Trip').waitFor();
  assert.equal(await entry('Trip').locator('[data-role="summary"]').textContent(), '3 pictures · Private');
  await entry('Trip').getByRole('button', { name: 'Rename… “Trip”' }).click();
  await page.locator('#albums-list [data-role="rename-form"] input').fill('Summer trip');
  await page.locator('#albums-list [data-role="rename-form"]').getByRole('button', { name: 'Save' }).click();
  await entry('Summer trip').locator('.form-ok').filter({ hasText: 'Renamed to “Summer trip”.' }).waitFor();
  assert.equal(await page.locator('#albums-list li').count(), 1);
  await checkA11y(t, page, 'albums view');
  await shots(page, 'albums');
  await entry('Summer trip').getByRole('link', { name: 'Summer trip' }).click();
  await page.locator('#view-album:not([hidden])').waitFor();
  await page.locator('#album-heading').filter({ hasText: 'Summer trip' }).waitFor();
  albumOrder = await page.locator('#album-grid [data-role="title"]').allTextContents();
  assert.deepEqual([...albumOrder].sort(), [...IN_ALBUM].sort());
  await imagesLoaded(page, '#album-grid img');
  await checkA11y(t, page, 'album view');
  await shots(page, 'album');
  await page.getByRole('button', { name: `Remove “${REMOVED}” from the album` }).click();
  await page.waitForFunction(() => document.querySelectorAll('#album-grid li').length === 2);
  albumOrder = albumOrder.filter((x) => x !== REMOVED);
  assert.deepEqual(await page.locator('#album-grid [data-role="title"]').allTextContents(), albumOrder);
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.action), 'remove', 'focus stays on a Remove button');
});

test('Share by link: a signed-out visitor sees the name and exactly its pictures, from the shared copy', async (t) => {
  await gotoAlbums();
  await entry('Summer trip').getByRole('button', { name: 'Share by link “Summer trip”' }).click();
  await entry('Summer trip').locator('.form-ok').filter({ hasText: 'Shared.' }).waitFor({ timeout: 60_000 });
  assert.equal(await entry('Summer trip').locator('[data-role="summary"]').textContent(), '2 pictures · Shared by link');
  await owner.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(stack.clientUrl).origin }).catch(() => {});
  await entry('Summer trip').getByRole('button', { name: 'Copy link “Summer trip”' }).click();
  await entry('Summer trip').locator('.form-ok').filter({ hasText: /Link copied\.|The link is selected/ }).waitFor();
  const link = await entry('Summer trip').locator('[data-role="link"]').inputValue();
  const copied = await page.evaluate(() => navigator.clipboard.readText()).catch(() => undefined);
  if (copied !== undefined) assert.equal(copied, link, 'the clipboard holds the link');
  const m = /#\/a\/([^/]+)\/([A-Za-z0-9_-]{22})$/.exec(link);
  assert.ok(m, `a link of owner and 128-bit token: ${link}`);
  assert.equal(decodeURIComponent(m[1]), identityId);
  links.push({ link, token: m[2] });
  await checkA11y(t, page, 'albums view, shared');
  await shots(page, 'albums-shared');

  visitorKeys.length = 0;
  const seen = await visit(link);
  assert.equal(seen.heading, 'Summer trip');
  assert.equal(seen.missing, false);
  const shown = albumOrder;
  assert.deepEqual(seen.titles, shown);
  const v = visitor.page;
  await imagesLoaded(v, '#shared-album-grid img');
  const srcs = await v.locator('#shared-album-grid img').evaluateAll((imgs) => imgs.map((i) => i.src));
  const prefix = `public/albums/${identityId}/${m[2]}/`;
  assert.deepEqual(srcs.map(keyOf), shown.map((title) => `${prefix}thumbnails/${fileOf(title)}`),
    'every thumbnail, the private picture\'s too, is the shared copy');
  // A preview opens.
  await v.locator('#shared-album-grid li', { hasText: PRIVATE }).locator('button').click();
  await v.locator('#album-preview[open]').waitFor();
  assert.equal(await v.locator('#album-preview-title').textContent(), PRIVATE);
  await imagesLoaded(v, '#album-preview-image');
  assert.equal(keyOf(await v.locator('#album-preview-image').getAttribute('src')), `${prefix}previews/${fileOf(PRIVATE)}`);
  await checkA11y(t, v, 'shared view, preview');
  await shots(v, 'shared-preview');
  await v.keyboard.press('Escape');
  await v.locator('#album-preview').waitFor({ state: 'hidden' });
  assert.equal(await v.evaluate(() => document.activeElement?.closest('li')?.dataset.file), fileOf(PRIVATE), 'focus back on the card');
  await checkA11y(t, v, 'shared view');
  await shots(v, 'shared');
  // Nothing of the owner's but the shared copy: no private/ key, no original, no index of theirs.
  const owners = visitorKeys.filter((k) => k.includes(identityId) && !k.startsWith(prefix));
  assert.deepEqual(owners, [], 'the visitor asked for nothing of the owner\'s outside the shared copy');
  assert.ok(visitorKeys.every((k) => !k.startsWith('private/')), `no private/ key: ${visitorKeys.join(', ')}`);
  // What the shared copy holds: the document and the two renditions of each picture, no more.
  assert.deepEqual(await listKeys(prefix), [
    `${prefix}album.json`,
    ...shown.map((title) => `${prefix}previews/${fileOf(title)}`).sort(),
    ...shown.map((title) => `${prefix}thumbnails/${fileOf(title)}`).sort(),
  ].sort());
});

test('revoke: the link says the album is not available; sharing again makes a new link, the old stays dead', async (t) => {
  await entry('Summer trip').getByRole('button', { name: 'Revoke link “Summer trip”' }).click();
  await entry('Summer trip').locator('.form-ok').filter({ hasText: 'Link revoked' }).waitFor();
  assert.equal(await entry('Summer trip').locator('[data-role="summary"]').textContent(), '2 pictures · Private');
  assert.deepEqual(await listKeys(`public/albums/${identityId}/${links[0].token}/`), []);
  const revoked = await visit(links[0].link);
  assert.equal(revoked.missing, true);
  assert.match(await visitor.page.locator('#shared-album-missing').textContent(), new RegExp(NOT_AVAILABLE));
  assert.deepEqual(revoked.titles, []);
  // The same words as for a link that never existed.
  const never = await visit(links[0].link.replace(links[0].token, 'AAAAAAAAAAAAAAAAAAAAAA'));
  assert.equal(never.missing, true);
  await checkA11y(t, visitor.page, 'shared view, not available');
  await shots(visitor.page, 'not-available');

  await entry('Summer trip').getByRole('button', { name: 'Share by link “Summer trip”' }).click();
  await entry('Summer trip').locator('.form-ok').filter({ hasText: 'Shared.' }).waitFor({ timeout: 60_000 });
  const link = await entry('Summer trip').locator('[data-role="link"]').inputValue();
  const token = /([A-Za-z0-9_-]{22})$/.exec(link)[1];
  assert.notEqual(token, links[0].token, 'a new token');
  links.push({ link, token });
  const again = await visit(link);
  assert.deepEqual(again.titles, albumOrder);
  await imagesLoaded(visitor.page, '#shared-album-grid img');
  assert.equal((await visit(links[0].link)).missing, true, 'the old link still does not work');
});

test('deleting a picture that is in the album takes it out of the album and its shared copy', async () => {
  await page.getByRole('link', { name: 'My pictures' }).click();
  await card(DELETED).locator('button.card').click();
  await page.locator('#detail-title').filter({ hasText: DELETED }).waitFor();
  await page.locator('#delete-button').click();
  await page.locator('#delete-yes').click();
  await card(DELETED).waitFor({ state: 'detached', timeout: PROCESSING_MS });
  assert.equal(await page.locator('#delete-error').textContent(), '');
  const { token, link } = links[1];
  const prefix = `public/albums/${identityId}/${token}/`;
  assert.deepEqual(await listKeys(prefix), [`${prefix}album.json`, `${prefix}previews/${fileOf(PRIVATE)}`, `${prefix}thumbnails/${fileOf(PRIVATE)}`]);
  await gotoAlbums();
  await entry('Summer trip').locator('[data-role="summary"]').filter({ hasText: '1 picture · Shared by link' }).waitFor();
  await entry('Summer trip').getByRole('link', { name: 'Summer trip' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#album-grid li').length === 1);
  assert.deepEqual(await page.locator('#album-grid [data-role="title"]').allTextContents(), [PRIVATE]);
  assert.deepEqual((await visit(link)).titles, [PRIVATE]);
});

test('deleting the album: gone from the list, its shared copy gone, its link not available', async (t) => {
  await gotoAlbums();
  await entry('Summer trip').getByRole('button', { name: 'Delete… “Summer trip”' }).click();
  await entry('Summer trip').locator('[data-role="confirm"]').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.action), 'delete-no', 'focus on Cancel');
  await checkA11y(t, page, 'delete confirmation');
  await shots(page, 'delete');
  await entry('Summer trip').getByRole('button', { name: 'Yes, delete the album' }).click();
  await page.locator('#albums-status').filter({ hasText: 'Deleted the album “Summer trip”.' }).waitFor();
  assert.equal(await page.locator('#albums-list li').count(), 0);
  assert.deepEqual(await listKeys(`public/albums/${identityId}/`), []);
  assert.deepEqual(await listKeys(`private/albums/${identityId}/`), []);
  assert.equal((await visit(links[1].link)).missing, true);
});

test('no dialogs, no uncaught errors', () => {
  assert.deepEqual(pageErrors, []);
});
