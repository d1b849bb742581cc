// Browser tests of which credentials the web client signs with as the session changes in one tab
// (a shared computer): a guest browses, signs in and uploads, signs out, another person signs in;
// and a session whose credentials are refreshed keeps showing its pictures.
//
// Every identity-pool answer (GetCredentialsForIdentity) goes through the page's request
// interception: the access key it hands out is recorded with its identity id and whether it was
// for a login (the pool hands out a new access key on every call, guest or signed in), and its
// Expiration is shortened to CREDENTIAL_SECONDS, so the client must refresh its credentials and
// re-sign its URLs while the test runs (the emulator itself does not expire them). Every request
// the page sends to the bucket is recorded with the access key that signed it (Authorization
// header, or X-Amz-Credential of a presigned URL).
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startStack, artifactsDir } from './stack.mjs';
import { launchBrowser, makeImage } from './browser.mjs';
import { dependentSteps } from './steps.mjs';

const PROCESSING_MS = Number(process.env.E2E_PROCESSING_TIMEOUT_MS || 120_000);
const run = Date.now().toString(36);
const password = 'Correct-Horse-9-battery';
const alice = { email: `alice-${run}@example.com` };
const bob = { email: `bob-${run}@example.com` };
const T_ALICE_PRIVATE = `Alice diary ${run}`;
const T_ALICE_PUBLIC = `Alice beach ${run}`;
const T_BOB = `Bob garden ${run}`;
const T_BOB_LATER = `Bob later ${run}`;
/**
 * Lifetime of the credentials as the page sees them. The client fetches new ones 5 minutes
 * before they expire (client/src/auth.ts, CREDENTIALS_REFRESH_MS), so to it these are good
 * for 20 s; a presigned URL is re-signed at the same margin.
 */
const CREDENTIAL_SECONDS = 320;
/** Within this much of its credentials' expiration no request or URL may be used (the margin, less latency). */
const USABLE_MS = 270_000;
/** Requests seen this long after a sign-in or sign-out were started by the new session. */
const SETTLE_MS = 1_000;

let stack;
let stopStack = async () => {};
let browser;
let page;
const pageErrors = [];
/** Access key -> { identityId, authenticated, expiresAt (ms, as shortened), issuedAt }. */
const issued = new Map();
/** Requests to the bucket: { at, method, key, accessKeyId, presigned }. */
const bucketRequests = [];
const pendingRecords = [];

const test = dependentSteps(async (name) => {
  await page?.screenshot({ path: path.join(artifactsDir, `FAILED-session-${name}.png`), fullPage: true });
});
const shot = (name) => page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });
const card = (title) => page.locator('section.view:not([hidden]) ul.grid li', { has: page.locator('[data-role="title"]', { hasText: title }) });
const gridTitles = (v) => page.locator(`#view-${v} ul.grid [data-role="title"]`).allTextContents();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The bucket requests recorded so far (waits for the headers of those in progress). */
async function requests() {
  await Promise.all(pendingRecords);
  return bucketRequests;
}

/** Bucket requests sent from `since` on, each with what the identity pool said of its key. */
async function requestsSince(since) {
  return (await requests()).filter((r) => r.at >= since).map((r) => ({ ...r, credentials: issued.get(r.accessKeyId) }));
}

const describe = (r) => `${r.method} ${r.key} signed with ${r.accessKeyId} (${JSON.stringify(r.credentials ?? 'not issued by the identity pool in this test')})`;

/** Polls until `check` answers truthy, or fails with `what`. */
async function eventually(what, check, timeoutMs = PROCESSING_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(300);
  }
}

/** In-app navigation (a hash change, no reload: the tab keeps its state, as a person's would). */
async function go(hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
}

async function signUp(email) {
  await go('#/signup');
  await page.locator('#view-signup:not([hidden])').waitFor();
  await page.locator('#signup-email').fill(email);
  await page.locator('#signup-password').fill(password);
  await page.locator('#signup-form').getByRole('button', { name: 'Sign up' }).click();
  await page.locator('#view-confirm:not([hidden])').waitFor();
  await page.locator('#confirm-code').fill('123456');
  await page.locator('#confirm-form').getByRole('button', { name: 'Confirm' }).click();
  await page.locator('#view-signin:not([hidden])').waitFor();
}

/** Signs in in this tab; answers when the app shows the person (its session changed). */
async function signIn(email) {
  await go('#/signin');
  await page.locator('#view-signin:not([hidden])').waitFor();
  await page.locator('#signin-email').fill(email);
  await page.locator('#signin-password').fill(password);
  await page.locator('#signin-form').getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#account-email').filter({ hasText: email }).waitFor();
  return Date.now();
}

/** Uploads `files` ({ name, title, isPublic }) from the Upload view; answers the keys they went to. */
async function upload(files) {
  await go('#/upload');
  await page.locator('#view-upload:not([hidden])').waitFor();
  const entry = (name) => page.locator(`#upload-queue li[data-file="${name}"]`);
  await page.locator('#file-input').setInputFiles(await Promise.all(files.map(async (f, i) => ({
    name: f.name, mimeType: 'image/jpeg', buffer: await makeImage(page, { width: 480, height: 360, hue: 40 + i * 90, type: 'image/jpeg', label: f.name }),
  }))));
  for (const f of files) {
    await entry(f.name).locator('[data-role="title"]').fill(f.title);
    if (f.isPublic) await entry(f.name).getByLabel('Public: everyone can see it').check();
  }
  await page.getByRole('button', { name: /^Upload( \d+ pictures)?$/ }).click();
  // Each entry done (the status line may still say so from the previous batch).
  for (const f of files) await page.locator(`#upload-queue li[data-file="${f.name}"][data-state="done"]`).waitFor({ timeout: 60_000 });
  await page.locator('#upload-status').filter({ hasText: 'All uploads finished.' }).waitFor({ timeout: 60_000 });
  const keys = {};
  for (const f of files) keys[f.name] = await entry(f.name).getAttribute('data-key');
  // The queue is cleared for the next upload.
  await page.locator('#upload-clear').click();
  return keys;
}

/** Waits until the card's thumbnail has loaded (decoded, not "Preview unavailable"). */
async function thumbnailShown(title) {
  const thumb = card(title).locator('img[data-role="thumbnail"]');
  await thumb.waitFor({ timeout: PROCESSING_MS });
  await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await thumb.elementHandle(), { timeout: 30_000 });
}

/** The PUTs (uploads) of `key`, each with what the identity pool said of the key that signed it. */
async function putsOf(key, since) {
  return (await requestsSince(since)).filter((r) => r.method === 'PUT' && r.key === key);
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
  const endpoint = new URL(stack.endpoint);
  // Identity-pool calls (JSON protocol: POST to the endpoint's root with X-Amz-Target).
  await page.route((url) => url.origin === endpoint.origin && url.pathname === '/', async (route) => {
    const req = route.request();
    const target = (await req.allHeaders())['x-amz-target'] ?? '';
    if (req.method() !== 'POST' || !target.endsWith('.GetCredentialsForIdentity')) return route.fallback();
    const response = await route.fetch();
    let body;
    try {
      body = await response.json();
    } catch {
      return route.fulfill({ response });
    }
    const c = body?.Credentials;
    if (c?.AccessKeyId) {
      const input = req.postDataJSON() ?? {};
      const expiresAt = Math.floor(Date.now() / 1000) + CREDENTIAL_SECONDS;
      c.Expiration = expiresAt;
      issued.set(c.AccessKeyId, {
        identityId: body.IdentityId ?? input.IdentityId,
        authenticated: Object.keys(input.Logins ?? {}).length > 0,
        expiresAt: expiresAt * 1000,
        issuedAt: Date.now(),
      });
    }
    const text = JSON.stringify(body);
    return route.fulfill({ response, body: text, headers: { ...response.headers(), 'content-length': String(Buffer.byteLength(text)) } });
  });
  const bucketPath = `/${stack.bucket}/`;
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.origin !== endpoint.origin || !url.pathname.startsWith(bucketPath)) return;
    const at = Date.now();
    const key = decodeURIComponent(url.pathname.slice(bucketPath.length));
    const fromUrl = url.searchParams.get('X-Amz-Credential');
    pendingRecords.push((async () => {
      let accessKeyId = fromUrl?.split('/')[0];
      if (!accessKeyId) {
        const auth = (await r.allHeaders().catch(() => ({}))).authorization ?? '';
        accessKeyId = /Credential=([^/]+)\//.exec(auth)?.[1];
      }
      // A CORS preflight carries no credentials: not a request of the app's.
      if (r.method() === 'OPTIONS') return;
      bucketRequests.push({ at, method: r.method(), key, accessKeyId, presigned: !!fromUrl });
    })());
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  await stopStack();
});

test('a guest browses the public gallery with guest credentials', async () => {
  await page.goto(stack.clientUrl);
  await page.locator('#view-public:not([hidden])').waitFor();
  await page.locator('#view-public [data-role="status"]').filter({ hasText: /picture/ }).waitFor();
  const reads = await eventually('a read of the public index', async () => {
    const r = (await requestsSince(0)).filter((q) => q.key === 'public/index/content.json');
    return r.length ? r : undefined;
  });
  for (const r of reads) assert.equal(r.credentials?.authenticated, false, `the guest reads with guest credentials: ${describe(r)}`);
});

test('two people sign up in the same tab, staying guests', async () => {
  await signUp(alice.email);
  await signUp(bob.email);
  assert.equal(await page.locator('#account-email').isVisible(), false);
});

test('signed in after browsing as a guest: the upload is signed as the signed-in person', async () => {
  alice.signedInAt = await signIn(alice.email);
  const since = Date.now();
  const keys = await upload([
    { name: 'diary.jpg', title: T_ALICE_PRIVATE, isPublic: false },
    { name: 'beach.jpg', title: T_ALICE_PUBLIC, isPublic: true },
  ]);
  alice.keys = keys;
  alice.identityId = keys['diary.jpg'].split('/')[2];
  assert.match(keys['diary.jpg'], /^private\/content\//);
  assert.match(keys['beach.jpg'], /^public\/content\//);
  assert.equal(keys['beach.jpg'].split('/')[2], alice.identityId);
  for (const key of Object.values(keys)) {
    const puts = await putsOf(key, since);
    assert.ok(puts.length >= 1, `the upload of ${key} was seen`);
    for (const p of puts) {
      assert.equal(p.credentials?.authenticated, true, `PutObject signed with signed-in credentials: ${describe(p)}`);
      assert.equal(p.credentials?.identityId, alice.identityId, `PutObject signed as Alice's identity: ${describe(p)}`);
    }
  }

  await go('#/mine');
  await thumbnailShown(T_ALICE_PRIVATE);
  await thumbnailShown(T_ALICE_PUBLIC);
  await shot('s-01-alice-mine');

  // Nothing the tab sent once signed in went out with the guest's credentials. The upload may
  // be over within SETTLE_MS of the sign-in (the Upload view polls nothing): My pictures polls
  // its index, so requests after it are waited for rather than assumed.
  await eventually('a request more than SETTLE_MS after the sign-in', async () => (await requestsSince(alice.signedInAt + SETTLE_MS)).length > 0, 30_000);
  const afterSignIn = await requestsSince(alice.signedInAt + SETTLE_MS);
  assert.deepEqual(afterSignIn.filter((r) => r.credentials?.identityId !== alice.identityId).map(describe), [], 'every request after the sign-in is Alice\'s');
  alice.accessKeys = new Set([...issued].filter(([, v]) => v.identityId === alice.identityId).map(([k]) => k));
});

test('signed out: the tab signs as a guest again, never as the previous person', async () => {
  await page.locator('#signout-button').click();
  await page.locator('#signin-link').waitFor();
  const signedOutAt = Date.now();
  await page.locator('#view-public:not([hidden])').waitFor();
  await card(T_ALICE_PUBLIC).waitFor({ timeout: PROCESSING_MS });
  await sleep(6_000); // a few polls of the public index
  const later = await requestsSince(signedOutAt + SETTLE_MS);
  assert.ok(later.length > 0, 'the public gallery kept polling');
  assert.deepEqual(later.filter((r) => r.credentials?.authenticated !== false).map(describe), [], 'every request after the sign-out is a guest\'s');
  assert.deepEqual(later.filter((r) => alice.accessKeys.has(r.accessKeyId) || r.credentials?.identityId === alice.identityId).map(describe), [],
    'nothing after the sign-out is signed with Alice\'s credentials or identity');
  assert.deepEqual((await gridTitles('public')).filter((t) => t === T_ALICE_PRIVATE), [], 'Alice\'s private picture is not public');
  // My pictures needs a sign-in now.
  await go('#/mine');
  await page.locator('#view-signin:not([hidden])').waitFor();
});

test('another person signs in in the same tab: own identity, own uploads, not the first person\'s private pictures', async () => {
  bob.signedInAt = await signIn(bob.email);
  const since = Date.now();
  const keys = await upload([{ name: 'garden.jpg', title: T_BOB, isPublic: false }]);
  bob.identityId = keys['garden.jpg'].split('/')[2];
  assert.notEqual(bob.identityId, alice.identityId, 'Bob has an identity of his own');
  assert.equal(keys['garden.jpg'], `private/content/${bob.identityId}/garden.jpg`, 'Bob\'s upload lands under his own identity');
  const puts = await putsOf(keys['garden.jpg'], since);
  assert.ok(puts.length >= 1);
  for (const p of puts) {
    assert.equal(p.credentials?.authenticated, true, `signed in: ${describe(p)}`);
    assert.equal(p.credentials?.identityId, bob.identityId, `PutObject signed as Bob's identity: ${describe(p)}`);
  }

  await go('#/mine');
  await thumbnailShown(T_BOB);
  // Bob's gallery holds Bob's pictures only.
  const mine = await gridTitles('mine');
  assert.ok(!mine.includes(T_ALICE_PRIVATE) && !mine.includes(T_ALICE_PUBLIC), `My pictures shows none of Alice's: ${JSON.stringify(mine)}`);
  await shot('s-02-bob-mine');

  const afterSignIn = await requestsSince(bob.signedInAt + SETTLE_MS);
  assert.deepEqual(afterSignIn.filter((r) => r.credentials?.identityId !== bob.identityId || !r.credentials?.authenticated).map(describe), [],
    'every request after Bob\'s sign-in is signed with Bob\'s credentials');
  assert.deepEqual(afterSignIn.filter((r) => r.key.startsWith('private/') && r.key.split('/')[2] === alice.identityId).map(describe), [],
    'nothing of Alice\'s private prefix is asked for in Bob\'s session');

  // The public gallery shows Alice's public picture to Bob, not her private one.
  await go('#/public');
  await card(T_ALICE_PUBLIC).waitFor({ timeout: PROCESSING_MS });
  assert.deepEqual((await gridTitles('public')).filter((t) => t === T_ALICE_PRIVATE), []);
});

test('credentials refreshed while the tab stays open: pictures keep loading, never signed with expiring credentials', async () => {
  const detailImage = async () => {
    await page.waitForFunction(() => {
      const img = document.querySelector('#detail-image');
      return !!img?.getAttribute('src') && img.complete && img.naturalWidth > 0;
    }, null, { timeout: 30_000 });
    return page.locator('#detail-image').getAttribute('src');
  };
  const openDetail = async (title) => {
    await card(title).getByRole('button').click();
    await page.locator('#detail-title').filter({ hasText: title }).waitFor();
    return detailImage();
  };
  const signedBy = (url) => new URL(url).searchParams.get('X-Amz-Credential')?.split('/')[0];

  await go('#/mine');
  await thumbnailShown(T_BOB);
  const first = await openDetail(T_BOB);
  await page.getByRole('button', { name: 'Close details' }).click();
  const bobKeysBefore = [...issued.values()].filter((v) => v.identityId === bob.identityId).length;

  const sleptFrom = Date.now();
  // Long enough that the first credentials are within their last 5 minutes (to the client) and
  // that a URL cached from then would be signed with credentials about to expire.
  await sleep(65_000);
  const bobKeys = [...issued.values()].filter((v) => v.identityId === bob.identityId).length;
  assert.ok(bobKeys > bobKeysBefore, `the client fetched new credentials for Bob (${bobKeysBefore} -> ${bobKeys})`);

  // The same picture again: its preview URL is signed with credentials that still have their
  // margin (not the first URL, signed with credentials now about to expire).
  const again = await openDetail(T_BOB);
  const signer = issued.get(signedBy(again));
  assert.ok(signer, `the preview URL is signed with credentials the identity pool issued: ${again}`);
  assert.equal(signer.identityId, bob.identityId);
  assert.ok(signer.expiresAt - Date.now() >= USABLE_MS,
    `the preview URL is signed with credentials that are not about to expire (${Math.round((signer.expiresAt - Date.now()) / 1000)} s left; first URL signed by ${signedBy(first)})`);
  const link = page.locator('#detail-original');
  await link.hover();
  await eventually('a download link', async () => (await link.getAttribute('href')) || undefined, 10_000);
  const linkSigner = issued.get(signedBy(await link.getAttribute('href')));
  assert.ok(linkSigner && linkSigner.expiresAt - Date.now() >= USABLE_MS, 'the download link is signed with credentials that are not about to expire');
  await page.getByRole('button', { name: 'Close details' }).click();

  // A new picture shows its thumbnail, and the ones shown before still show.
  await upload([{ name: 'later.jpg', title: T_BOB_LATER, isPublic: false }]);
  await go('#/mine');
  await thumbnailShown(T_BOB_LATER);
  await thumbnailShown(T_BOB);
  assert.equal(await page.locator('#view-mine').getByText('Preview unavailable').count(), 0, 'no thumbnail became unavailable');
  await shot('s-03-bob-after-refresh');

  // No request signed by the SDK in the whole test, and no presigned URL loaded after the wait,
  // was used within its credentials' last USABLE_MS. (Before the wait, a lazy thumbnail of a
  // hidden gallery may load a URL signed when its card was built; with AWS it would fail once
  // its credentials expired and the gallery signs it again; the emulator does not expire them.)
  const late = (await requestsSince(0))
    .filter((r) => !r.presigned || r.at >= sleptFrom)
    .filter((r) => !r.credentials || r.credentials.expiresAt - r.at < USABLE_MS);
  assert.deepEqual(late.map((r) => `${describe(r)} at ${new Date(r.at).toISOString()}`), [], 'requests signed with credentials close to their expiration');
});

test('no page errors', async () => {
  assert.deepEqual(pageErrors, []);
  assert.equal(await page.locator('#banner').isVisible(), false, `no error banner: ${await page.locator('#banner-text').textContent()}`);
});
