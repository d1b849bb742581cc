// Browser tests of location privacy, visibility and share links: location removed before a
// public upload, visibility changed from the detail view, share links for the owner, another
// user and a visitor; and that nobody but its owner requests a picture's original
// (docs/decisions/originals-owner-only.md).
// Two Chromium profiles (two people) against one fresh devstack (or STACK_JSON). The stored
// objects and indexes are read with a real S3 client against the emulator.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { S3Client, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startStack, artifactsDir } from './stack.mjs';
import { launchBrowser, makeImage, DESKTOP, PHONE } from './browser.mjs';
import { dependentSteps } from './steps.mjs';
import { signUpAndIn } from './account-steps.mjs';
import { exifSegment, phoneExif, withSegments, xmpSegment } from './exif-builder.mjs';

const PROCESSING_MS = Number(process.env.E2E_PROCESSING_TIMEOUT_MS || 120_000);
const run = Date.now().toString(36);
const password = 'Correct-Horse-9-battery';
const owner = { email: `owner-${run}@example.com` };
const other = { email: `other-${run}@example.com` };
const TITLE_PUBLIC = `Harbour ${run}`;
const TITLE_EDITED = `Harbour at dusk ${run}`;
const TITLE_PRIVATE = `Home ${run}`;
// The GPS latitude written into the test pictures (48° 51' 29.79"): its rational bytes must
// not survive a public upload.
const LATITUDE = [48, 1, 51, 1, 2979, 100];

let stack;
let stopStack = async () => {};
let s3;
const people = [];
const pageErrors = [];
const cspViolations = [];

const test = dependentSteps(async (name) => {
  for (const p of people) {
    await p.page?.screenshot({ path: path.join(artifactsDir, `FAILED-share-${p.name}-${name}.png`), fullPage: true }).catch(() => {});
  }
});

const shot = (page, name) => page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });

async function openPerson(person, name) {
  person.name = name;
  person.browser = await launchBrowser();
  person.page = person.browser.context.pages()[0] ?? (await person.browser.context.newPage());
  person.page.setDefaultTimeout(30_000);
  // Every request the page makes, to tell whose originals it asked for.
  person.requests = [];
  person.page.on('request', (r) => person.requests.push({ at: Date.now(), url: r.url() }));
  person.page.on('pageerror', (e) => pageErrors.push(`${name}: ${e}`));
  person.page.on('dialog', (d) => {
    pageErrors.push(`${name}: dialog ${d.message()}`);
    void d.dismiss().catch(() => {});
  });
  person.page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  people.push(person);
}

const signUp = (page, email) => signUpAndIn(page, stack.clientUrl, { email, password });

async function readObject(key) {
  const r = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
  return new Uint8Array(await r.Body.transformToByteArray());
}

async function readIndex(key) {
  try {
    return JSON.parse(new TextDecoder().decode(await readObject(key)));
  } catch (err) {
    if (err?.$metadata?.httpStatusCode === 404) return { items: [] };
    throw err;
  }
}

async function exists(key) {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
    return true;
  } catch (err) {
    if (err?.$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

/** Polls until `check` returns a truthy value (the pipeline's latency), or fails with `what`. */
async function eventually(what, check, timeoutMs = PROCESSING_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) {
      // Say what the indexes held, to tell a slow pipeline from a wrong state.
      const indexes = { public: await readIndex('public/index/content.json').catch(String) };
      if (owner.identityId) indexes.private = await readIndex(`private/index/${owner.identityId}/content.json`).catch(String);
      throw new Error(`timed out waiting for ${what}; indexes: ${JSON.stringify(indexes)}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

const indexEntry = (doc, key) => doc.items.find((i) => i.objectKey === key);

/** The requests `person`'s page made since `since` for an original (a `content/` key) of `identityId`. */
function originalsRequested(person, since, identityId) {
  return person.requests
    .filter((r) => r.at >= since)
    .map((r) => {
      const path = new URL(r.url).pathname;
      try {
        return decodeURIComponent(path);
      } catch {
        return path;
      }
    })
    .filter((path) => path.includes(`/public/content/${identityId}/`) || path.includes(`/private/content/${identityId}/`));
}

/** Waits for the detail view to show a preview rendition, loaded. */
async function previewShown(page) {
  await page.waitForFunction(() => {
    const img = document.querySelector('#detail-image');
    return img && !img.hidden && img.dataset.shown === 'preview' && img.complete && img.naturalWidth > 0
      && /\/public\/previews\//.test(decodeURIComponent(img.src));
  });
}

/** What someone who does not own the open picture sees: the preview, nothing of the original. */
async function assertNotOwnersView(page) {
  await previewShown(page);
  assert.equal(await page.locator('#detail-owner').isHidden(), true, 'no owner controls');
  assert.equal(await page.locator('#detail-original').isHidden(), true, 'no download of the original');
  assert.equal(await page.locator('#detail-original').getAttribute('href'), null, 'no URL of the original in the page');
  await page.locator('#detail-original-note:not([hidden])')
    .filter({ hasText: 'Only its owner can download the original' }).waitFor();
  await page.locator('#detail-location[data-location="owner-only"]').waitFor();
}
/** Whether `needle` occurs in `bytes`. */
function contains(bytes, needle) {
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

function rationalBytes(values, le) {
  const out = [];
  for (const v of values) for (let i = 0; i < 4; i++) out.push((v >>> (8 * (le ? i : 3 - i))) & 0xff);
  return out;
}

/** A camera-like JPEG: drawn 640x480, EXIF orientation 6 (shown 480x640), a GPS position, XMP GPS too. */
async function gpsJpeg(page, { hue, label, le }) {
  const drawn = new Uint8Array(await makeImage(page, { width: 640, height: 480, hue, type: 'image/jpeg', label }));
  const exif = phoneExif({ le, orientation: 6 });
  const xmp = '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    + '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="48,51.4965N" exif:GPSLongitude="2,17.4012E"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>';
  return Buffer.from(withSegments(drawn, exifSegment(exif.bytes), xmpSegment(xmp)));
}

const card = (page, title) => page.locator('section.view:not([hidden]) ul.grid li', { has: page.locator('[data-role="title"]', { hasText: title }) });

async function openDetail(page, title) {
  await card(page, title).getByRole('button').click();
  await page.locator('#detail-title').filter({ hasText: title }).waitFor();
}

before(async () => {
  ({ stack, stop: stopStack } = await startStack());
  s3 = new S3Client({
    region: stack.region,
    endpoint: stack.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: stack.accessKeyId, secretAccessKey: stack.secretAccessKey },
  });
  await openPerson(owner, 'owner');
  await openPerson(other, 'other');
});

after(async () => {
  for (const p of people) await p.browser?.close().catch(() => {});
  await stopStack();
});

test('two people sign up', async () => {
  await signUp(owner.page, owner.email);
  await signUp(other.page, other.email);
});

test('a public JPEG upload loses its location, a private one keeps it', async () => {
  const page = owner.page;
  await page.getByRole('link', { name: 'Upload' }).click();
  const files = [
    { name: 'harbour.jpg', mimeType: 'image/jpeg', buffer: await gpsJpeg(page, { hue: 200, label: 'harbour', le: true }) },
    { name: 'home.jpg', mimeType: 'image/jpeg', buffer: await gpsJpeg(page, { hue: 30, label: 'home', le: false }) },
  ];
  owner.uploaded = Object.fromEntries(files.map((f) => [f.name, new Uint8Array(f.buffer)]));
  await page.locator('#file-input').setInputFiles(files);
  const entry = (name) => page.locator(`#upload-queue li[data-file="${name}"]`);
  for (const name of ['harbour.jpg', 'home.jpg']) {
    await entry(name).locator('[data-role="location"][data-location="present"]').waitFor();
    // Private by default, and then the location is kept unless the person asks.
    assert.equal(await entry(name).getByLabel('Remove location tags (GPS) before uploading').isChecked(), false);
  }
  await entry('harbour.jpg').locator('[data-role="title"]').fill(TITLE_PUBLIC);
  await entry('harbour.jpg').getByLabel('Public: everyone can see it').check();
  // Making it public turns the removal on.
  assert.equal(await entry('harbour.jpg').getByLabel('Remove location tags (GPS) before uploading').isChecked(), true);
  await entry('home.jpg').locator('[data-role="title"]').fill(TITLE_PRIVATE);
  await shot(page, '20-upload-location');
  await page.getByRole('button', { name: /^Upload( \d+ pictures)?$/ }).click();
  await page.locator('#upload-status').filter({ hasText: 'All uploads finished.' }).waitFor({ timeout: 60_000 });
  await entry('harbour.jpg').getByText('Uploaded without its location').waitFor();
  // The key the upload went to names the owner's identity.
  const uploadedKey = await entry('harbour.jpg').getAttribute('data-key');
  owner.identityId = uploadedKey.split('/')[2];
  assert.equal(uploadedKey, `public/content/${owner.identityId}/harbour.jpg`);

  const publicKey = `public/content/${owner.identityId}/harbour.jpg`;
  const stored = await readObject(publicKey);
  const sent = owner.uploaded['harbour.jpg'];
  assert.equal(stored.length, sent.length, 'same length: nothing re-encoded');
  assert.equal(contains(sent, rationalBytes(LATITUDE, true)), true, 'the file as picked carries the latitude');
  assert.equal(contains(stored, rationalBytes(LATITUDE, true)), false, 'the stored public original does not');
  assert.equal(contains(stored, [...Buffer.from('GPSLatitude')]), false, 'nor its XMP');
  // The orientation entry (tag 0x0112, SHORT, 1, value 6; little endian) is still there.
  assert.equal(contains(stored, [0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0]), true, 'orientation kept');
  // Everything after the EXIF and XMP segments (the image itself) is byte-identical.
  const tailFrom = sent.length - 4000;
  assert.deepEqual(stored.subarray(tailFrom), sent.subarray(tailFrom));
  const privateStored = await readObject(`private/content/${owner.identityId}/home.jpg`);
  assert.deepEqual(privateStored, owner.uploaded['home.jpg'], 'the private upload is stored as picked');
});

test('the detail view says whether a picture carries a location; orientation applies', async () => {
  const page = owner.page;
  await page.getByRole('link', { name: 'My pictures' }).click();
  await card(page, TITLE_PUBLIC).locator('img[data-role="thumbnail"]').waitFor({ timeout: PROCESSING_MS });
  await card(page, TITLE_PRIVATE).locator('img[data-role="thumbnail"]').waitFor({ timeout: PROCESSING_MS });
  await openDetail(page, TITLE_PUBLIC);
  await page.locator('#detail-location[data-location="none"]').waitFor();
  // Decodes in the browser, turned by its EXIF orientation: drawn 640x480, shown 480x640.
  await page.waitForFunction(() => {
    const img = document.querySelector('#detail-image');
    return img && img.complete && img.naturalWidth === 480 && img.naturalHeight === 640;
  });
  await page.locator('#detail-size').filter({ hasText: '480 × 640' }).waitFor({ timeout: PROCESSING_MS });
  await page.keyboard.press('Escape');
  await openDetail(page, TITLE_PRIVATE);
  await page.locator('#detail-location[data-location="present"]').waitFor();
  await shot(page, '21-detail-private-with-location');
  await page.keyboard.press('Escape');
});

test('make private: the picture leaves the public index, keeps its edited title and date, gets private derivatives', async () => {
  const page = owner.page;
  const oldKey = `public/content/${owner.identityId}/harbour.jpg`;
  const newKey = `private/content/${owner.identityId}/harbour.jpg`;
  const privateIndexKey = `private/index/${owner.identityId}/content.json`;
  await eventually('the upload in the public index', async () => indexEntry(await readIndex('public/index/content.json'), oldKey));
  const before = await eventually('the upload in the private index', async () => indexEntry(await readIndex(privateIndexKey), oldKey));
  await openDetail(page, TITLE_PUBLIC);
  await page.locator('#edit-title').fill(TITLE_EDITED);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#edit-form [data-role="ok"]').filter({ hasText: 'Saved' }).waitFor();
  await eventually('the edit in the private index', async () => indexEntry(await readIndex(privateIndexKey), oldKey)?.title === TITLE_EDITED);
  await page.getByRole('button', { name: 'Make private' }).click();
  await page.locator('#visibility-ok').filter({ hasText: /private now/ }).waitFor();
  await shot(page, '22-detail-made-private');

  const moved = await eventually('the moved picture in the private index, with its thumbnail', async () => {
    const doc = await readIndex(privateIndexKey);
    const entry = indexEntry(doc, newKey);
    return entry?.thumbnailKey && !indexEntry(doc, oldKey) ? entry : undefined;
  });
  assert.equal(moved.isPublic, false);
  assert.equal(moved.title, TITLE_EDITED);
  assert.equal(moved.uploadDate, before.uploadDate, 'the first upload date is kept');
  assert.equal(moved.thumbnailKey, `private/thumbnails/${owner.identityId}/harbour.jpg`);
  assert.equal(await exists(moved.thumbnailKey), true);
  await eventually('the faces copy under private/faces', () => exists(`private/faces/${owner.identityId}/harbour.jpg`));
  await eventually('the picture gone from the public index', async () => !indexEntry(await readIndex('public/index/content.json'), oldKey));
  await eventually('the old thumbnail removed', async () => !(await exists(`public/thumbnails/${owner.identityId}/harbour.jpg`)));
  assert.equal(await exists(oldKey), false, 'the old original is deleted');
  // The dialog follows: private, the same title.
  await page.locator('#detail-visibility').filter({ hasText: 'Private' }).waitFor();
  await page.locator('#detail-title').filter({ hasText: TITLE_EDITED }).waitFor();
});

test('make public again: back in the public index with the same title and date', async () => {
  const page = owner.page;
  const key = `public/content/${owner.identityId}/harbour.jpg`;
  const privateKey = `private/content/${owner.identityId}/harbour.jpg`;
  const before = indexEntry(await readIndex(`private/index/${owner.identityId}/content.json`), privateKey);
  // No location in this one: no removal offered.
  await page.locator('#detail-location[data-location="none"]').waitFor();
  assert.equal(await page.locator('#visibility-strip-row').isHidden(), true);
  await page.getByRole('button', { name: 'Make public' }).click();
  await page.locator('#visibility-ok').filter({ hasText: /public now/ }).waitFor();
  const back = await eventually('the picture in the public index again', async () => {
    const entry = indexEntry(await readIndex('public/index/content.json'), key);
    return entry?.thumbnailKey ? entry : undefined;
  });
  assert.equal(back.title, TITLE_EDITED);
  assert.equal(back.uploadDate, before.uploadDate);
  assert.equal(back.thumbnailKey, `public/thumbnails/${owner.identityId}/harbour.jpg`);
  await eventually('the private copy gone from the private index', async () => !indexEntry(await readIndex(`private/index/${owner.identityId}/content.json`), privateKey));
  await page.keyboard.press('Escape');
});

test('making a private picture with a location public removes the location first', async () => {
  const page = owner.page;
  await openDetail(page, TITLE_PRIVATE);
  await page.locator('#detail-location[data-location="present"]').waitFor();
  await page.locator('#visibility-strip-row:not([hidden])').waitFor();
  assert.equal(await page.getByLabel('Remove the location from the picture before making it public').isChecked(), true);
  await page.getByRole('button', { name: 'Make public' }).click();
  await page.locator('#visibility-ok').filter({ hasText: /public now/ }).waitFor();
  const key = `public/content/${owner.identityId}/home.jpg`;
  const stored = await readObject(key);
  assert.equal(stored.length, owner.uploaded['home.jpg'].length);
  assert.equal(contains(stored, rationalBytes(LATITUDE, false)), false, 'no GPS latitude');
  assert.equal(contains(stored, [0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6]), true, 'orientation kept (big endian)');
  await page.locator('#detail-location[data-location="none"]').waitFor();
  await eventually('in the public index', async () => indexEntry(await readIndex('public/index/content.json'), key)?.thumbnailKey);
  // Back to private for the share-link tests below, once the private index no longer lists
  // the old private original (the move picks a name that index does not show as taken).
  await eventually('the old private original out of the private index', async () =>
    !indexEntry(await readIndex(`private/index/${owner.identityId}/content.json`), `private/content/${owner.identityId}/home.jpg`));
  await page.getByRole('button', { name: 'Make private' }).click();
  await page.locator('#visibility-ok').filter({ hasText: /private now/ }).waitFor();
  await eventually('out of the public index', async () => !indexEntry(await readIndex('public/index/content.json'), key));
});

test('copy link: the owner gets a stable link and opens the private picture with it', async () => {
  const page = owner.page;
  await page.getByRole('button', { name: 'Copy link' }).click();
  await page.locator('#detail-link-status').filter({ hasText: /Link copied|Copy the selected link/ }).waitFor();
  await page.locator('#detail-link-status').filter({ hasText: 'Only you can open it' }).waitFor();
  owner.privateLink = await page.locator('#detail-link').inputValue();
  assert.equal(owner.privateLink, new URL(`#/p/${encodeURIComponent(owner.identityId)}/home.jpg`, stack.clientUrl).href);
  await shot(page, '23-detail-copy-link');
  await page.keyboard.press('Escape');
  await openDetail(page, TITLE_EDITED);
  await page.getByRole('button', { name: 'Copy link' }).click();
  owner.publicLink = await page.locator('#detail-link').inputValue();
  await page.keyboard.press('Escape');

  await page.goto('about:blank');
  await page.goto(owner.privateLink);
  await page.locator('#detail[open] #detail-title').filter({ hasText: TITLE_PRIVATE }).waitFor();
  await page.locator('#detail-owner:not([hidden])').waitFor();
  await page.waitForFunction(() => document.querySelector('#detail-image')?.naturalWidth > 0);
  await shot(page, '24-shared-link-owner');
});

test('another person opening the private link sees "not available", never an error', async () => {
  const page = other.page;
  await page.goto(owner.privateLink);
  await page.locator('#view-shared:not([hidden]) #shared-missing:not([hidden])').waitFor();
  assert.equal(await page.locator('#detail').evaluate((d) => d.open), false);
  assert.equal(await page.locator('#banner').isHidden(), true, 'no error banner');
  assert.equal(await page.locator('#shared-signin-hint').isHidden(), true, 'signed in: no sign-in hint');
  await shot(page, '25-shared-not-available');
  await page.setViewportSize(PHONE);
  await shot(page, '25-shared-not-available-phone');
  await page.setViewportSize(DESKTOP);
});

test('another person opens the public link and the gallery: the preview, never the original', async () => {
  const page = other.page;
  const since = Date.now();
  await page.goto(owner.publicLink);
  await page.locator('#detail[open] #detail-title').filter({ hasText: TITLE_EDITED }).waitFor();
  await assertNotOwnersView(page);
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(artifactsDir, '26-shared-public-phone.png') });
  await page.setViewportSize(DESKTOP);
  await page.keyboard.press('Escape');
  await page.getByRole('link', { name: 'Public gallery', exact: true }).click();
  await card(page, TITLE_EDITED).locator('img[data-role="thumbnail"]').waitFor();
  await openDetail(page, TITLE_EDITED);
  await assertNotOwnersView(page);
  await page.keyboard.press('Escape');
  assert.deepEqual(originalsRequested(other, since, owner.identityId), [], "requests for the owner's originals");
});

test('signed out: a public link opens; a private one asks to sign in and then lands on the picture', async () => {
  const page = owner.page;
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('#signin-link:not([hidden])').waitFor();
  const since = Date.now();
  await page.goto('about:blank');
  await page.goto(owner.publicLink);
  await page.locator('#detail[open] #detail-title').filter({ hasText: TITLE_EDITED }).waitFor();
  // Signed out, the owner is a visitor like any other.
  await assertNotOwnersView(page);
  await page.keyboard.press('Escape');
  assert.deepEqual(originalsRequested(owner, since, owner.identityId), [], 'a visitor requested an original');
  await page.goto('about:blank');
  await page.goto(owner.privateLink);
  await page.locator('#shared-missing:not([hidden])').waitFor();
  await page.locator('#shared-signin-hint:not([hidden])').waitFor();
  await shot(page, '27-shared-signed-out');
  await page.locator('#shared-signin').click();
  await page.locator('#view-signin:not([hidden])').waitFor();
  await page.locator('#signin-email').fill(owner.email);
  await page.locator('#signin-password').fill(password);
  await page.locator('#signin-form').getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#detail[open] #detail-title').filter({ hasText: TITLE_PRIVATE }).waitFor();
  assert.equal(new URL(page.url()).hash, `#/p/${encodeURIComponent(owner.identityId)}/home.jpg`);
});

test('a malformed link is "not available" too', async () => {
  const page = other.page;
  await page.goto(new URL('#/p/%E0%A4%A/x.jpg', stack.clientUrl).href);
  await page.locator('#shared-missing:not([hidden])').waitFor();
});

test('another person\'s own picture: the download link answers with the original as an attachment under its name', async () => {
  const page = other.page;
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.locator('#view-upload:not([hidden])').waitFor();
  // Four public pictures push the owner's out of the public index's head (PublicIndexLimit 4),
  // for the next test; the first one's name needs RFC 8187 encoding.
  const names = ['Été à Tōkyō (1)\'s.jpg', 'pier 2.jpg', 'pier 3.jpg', 'pier 4.jpg'];
  const files = [];
  for (const [i, name] of names.entries()) {
    const buffer = await makeImage(page, { width: 320, height: 240, hue: 40 * i, type: 'image/jpeg', label: `pier ${i}` });
    files.push({ name, mimeType: 'image/jpeg', buffer });
  }
  await page.locator('#file-input').setInputFiles(files);
  for (const name of names) {
    const entry = page.locator(`#upload-queue li[data-file="${name}"]`);
    await entry.getByLabel('Public: everyone can see it').check();
  }
  await page.getByRole('button', { name: /^Upload( \d+ pictures)?$/ }).click();
  await page.locator('#upload-status').filter({ hasText: 'All uploads finished.' }).waitFor({ timeout: 60_000 });
  const key = await page.locator(`#upload-queue li[data-file="${names[0]}"]`).getAttribute('data-key');
  other.identityId = key.split('/')[2];
  assert.equal(key, `public/content/${other.identityId}/${names[0]}`);

  await page.getByRole('link', { name: 'My pictures' }).click();
  const title = 'Été à Tōkyō (1)\'s';
  await card(page, title).locator('img[data-role="thumbnail"]').waitFor({ timeout: PROCESSING_MS });
  await openDetail(page, title);
  const link = page.getByRole('link', { name: 'Download the original' });
  await link.waitFor();
  assert.equal(await link.getAttribute('download'), names[0]);
  const response = await fetch(await link.getAttribute('href'));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-disposition'),
    "attachment; filename*=UTF-8''%C3%89t%C3%A9%20%C3%A0%20T%C5%8Dky%C5%8D%20%281%29%27s.jpg");
  assert.equal(response.headers.get('content-type'), 'image/jpeg');
  const bytes = new Uint8Array(await response.arrayBuffer());
  assert.deepEqual(bytes, new Uint8Array(files[0].buffer), 'the original, byte for byte');
  await page.keyboard.press('Escape');
});

test('past the public index\'s head, another person and a visitor find a public picture from its preview alone', async () => {
  const key = `public/content/${owner.identityId}/harbour.jpg`;
  await eventually('the picture out of the public index\'s head',
    async () => !indexEntry(await readIndex('public/index/content.json'), key));
  const visitor = owner;
  await visitor.page.keyboard.press('Escape');
  await visitor.page.getByRole('button', { name: 'Sign out' }).click();
  await visitor.page.locator('#signin-link:not([hidden])').waitFor();
  for (const person of [other, visitor]) {
    const page = person.page;
    const since = Date.now();
    await page.goto('about:blank');
    await page.goto(owner.publicLink);
    // The file name stands in for the title; the date is the original's, which only the owner reads.
    await page.locator('#detail[open] #detail-title').filter({ hasText: 'harbour.jpg' }).waitFor();
    await page.locator('#detail-date').filter({ hasText: 'unknown' }).waitFor();
    await assertNotOwnersView(page);
    await shot(page, `28-shared-past-the-index-${person.name}`);
    await page.keyboard.press('Escape');
    assert.deepEqual(originalsRequested(person, since, owner.identityId), [], `${person.name} requested an original`);
  }
});

test('an upload over the size limit is not kept; its owner sees why, and it uses none of the quota', async () => {
  // Sent past the client (which refuses it up front) with the owner's credentials: content-updated
  // deletes it and the owner's index says why (docs/decisions/upload-bounds.md).
  const key = `private/content/${other.identityId}/huge.jpg`;
  const body = new Uint8Array(stack.maxUploadBytes + 1);
  body.set([0xff, 0xd8, 0xff, 0xe0]);
  await s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: body, ContentType: 'image/jpeg' }));
  const entry = await eventually('the refusal in its owner\'s index',
    async () => indexEntry(await readIndex(`private/index/${other.identityId}/content.json`), key));
  assert.equal(entry.refused, 'tooLarge');
  await eventually('the upload deleted', async () => !(await exists(key)));

  const page = other.page;
  await page.getByRole('link', { name: 'My pictures' }).click();
  const refused = card(page, 'huge.jpg').locator('[data-role="refused"]');
  await refused.waitFor({ timeout: PROCESSING_MS });
  assert.equal(await refused.textContent(), 'Not kept: larger than 50.0 MB, the largest upload kept.');
  await shot(page, '29-refused-upload');

  // The upload view's storage line counts what is kept: four small pictures, not the 50 MB.
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.locator('#view-upload:not([hidden])').waitFor();
  const buffer = await makeImage(page, { width: 64, height: 64, hue: 10, type: 'image/jpeg', label: 'q' });
  await page.locator('#file-input').setInputFiles([{ name: 'queued.jpg', mimeType: 'image/jpeg', buffer }]);
  await page.locator('#storage-usage').filter({ hasText: /^Your originals use [\d.]+ KB of your 2\.0 GB\.$/ }).waitFor();
  await page.getByRole('button', { name: /^Clear/ }).click();
});

test('a page uploaded as a public "picture" is never listed to others, and its owner only downloads it', async () => {
  // What a client other than ours can send with its owner's credentials: HTML with a script,
  // typed text/html, under the public prefix. Not an image, so no thumbnail: it must never be
  // listed to visitors, and the owner's download must not render it as a page of the bucket.
  const key = `public/content/${other.identityId}/special-offer.html`;
  const html = '<!doctype html><title>Sign in</title><script>document.title = "phished"</script><form>Password: <input type=password></form>';
  await s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: html, ContentType: 'text/html' }));
  const entry = await eventually('the page in its owner\'s index',
    async () => indexEntry(await readIndex(`private/index/${other.identityId}/content.json`), key));
  assert.equal(entry.thumbnailKey, undefined, 'nothing to show');
  assert.equal(entry.contentType, 'text/html');
  assert.equal(indexEntry(await readIndex('public/index/content.json'), key), undefined, 'never in the public index');

  const page = other.page;
  await page.getByRole('link', { name: 'My pictures' }).click();
  await openDetail(page, 'special-offer.html');
  const link = page.getByRole('link', { name: 'Download the original' });
  await link.waitFor();
  assert.equal(await link.getAttribute('download'), 'special-offer.html');
  const response = await fetch(await link.getAttribute('href'));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-disposition'), "attachment; filename*=UTF-8''special-offer.html");
  assert.equal(response.headers.get('content-type'), 'application/octet-stream', 'never served as a page');
  assert.equal(await response.text(), html);
  assert.notEqual(await page.title(), 'phished');
  await page.keyboard.press('Escape');

  // A visitor's gallery (the owner's page, signed out by the test before) does not list it.
  const visitor = owner.page;
  await visitor.goto(new URL('#/', stack.clientUrl).href);
  await card(visitor, 'pier 4').locator('img[data-role="thumbnail"]').waitFor({ timeout: PROCESSING_MS });
  assert.equal(await card(visitor, 'special-offer').count(), 0, 'not in the public gallery');
});

test('no uncaught errors, dialogs or CSP violations', () => {
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(cspViolations, []);
});
