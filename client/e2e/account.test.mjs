// Browser tests of the account flows (forgot/reset password, change password, sign out
// everywhere, delete my account and sign up again), find and sort, and accessibility (an axe-core
// audit of every view, keyboard-only use). Real Cognito flows against the local stack's emulator,
// real Chromium; codes are read from the emulator's outbox (its record of the emails Cognito sent).
// Screenshots: e2e/artifacts/a-*.png, each new view at desktop (1280) and phone (390) widths.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { S3Client, ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startStack, artifactsDir } from './stack.mjs';
import { launchBrowser, makeImage, screenshotsAtBothWidths } from './browser.mjs';
import { dependentSteps } from './steps.mjs';
import { audit, tabWalk } from './a11y.mjs';
import { buildTiff, exifSegment, withSegments } from './exif-builder.mjs';

const PROCESSING_MS = Number(process.env.E2E_PROCESSING_TIMEOUT_MS || 120_000);
const run = Date.now().toString(36);
const email = `a11y-${run}@example.com`;
const PASSWORD_1 = 'First-Password-1';
const PASSWORD_2 = 'Second-Password-2';
const PASSWORD_3 = 'Third-Password-3';
const PASSWORD_4 = 'Fourth-Password-4';
const T_ZEBRA = `Zebra crossing ${run}`;
const T_APPLE = `Apple tree ${run}`;
const T_SECRET = `Secret diary ${run}`;
// A camera's Exif: when (its local time, and its offset for the zebra) and with what.
const cameraExif = (taken, offset) => exifSegment(buildTiff({
  order: ['ifd0', 'exif'],
  ifds: {
    ifd0: [{ tag: 0x010f, type: 2, values: 'Canon' }, { tag: 0x0110, type: 2, values: 'Canon EOS R5' }, { tag: 0x8769, ref: 'exif' }],
    exif: [{ tag: 0x9003, type: 2, values: taken }, ...(offset ? [{ tag: 0x9011, type: 2, values: offset }] : [])],
  },
}).bytes);

let stack;
let stopStack = async () => {};
let browser;
let page;
let identityId;
const cspViolations = [];
const pageErrors = [];
const audits = [];

const test = dependentSteps(async (name) => {
  await page?.screenshot({ path: path.join(artifactsDir, `FAILED-a-${name}.png`), fullPage: true });
});

/** A screenshot at desktop and at phone width (the page is left at desktop width). */
const shots = (name) => screenshotsAtBothWidths(page, path.join(artifactsDir, `a-${name}`));

/** axe-core on the page as it is now: no serious or critical violation. */
async function checkA11y(t, view) {
  const { failing, other } = await audit(page);
  audits.push({ view, failing: failing.length, other: other.map((v) => `${v.id} (${v.impact})`) });
  for (const v of other) t.diagnostic(`${view}: ${v.impact} ${v.id}: ${v.help}`);
  assert.deepEqual(failing.map((v) => `${v.impact} ${v.id}: ${v.help} -- ${v.nodes.join(' | ')}`), [], `${view}: axe found serious or critical violations`);
}

/** Every control of the view reachable with Tab, in document order. */
async function checkKeyboard(t, view) {
  const walk = await tabWalk(page);
  t.diagnostic(`${view}: Tab reached ${walk.order.length} of ${walk.expected.length} controls`);
  assert.deepEqual(walk.missing, [], `${view}: controls Tab never reached`);
  assert.ok(walk.inOrder, `${view}: Tab order follows the page (${walk.order.join(', ')})`);
}

const view = (name) => page.locator(`#view-${name}:not([hidden])`);
const card = (title) => page.locator('section.view:not([hidden]) ul.grid li', { has: page.locator('[data-role="title"]', { hasText: title }) });
const gridTitles = (v) => page.locator(`#view-${v} ul.grid [data-role="title"]`).allTextContents();

/** The newest code Cognito emailed to `to` after `since` (the emulator records what it sends). */
async function emailedCode(to, since) {
  for (let i = 0; i < 50; i++) {
    const r = await fetch(`${stack.endpoint}/_ministack/ses/messages`);
    const all = Object.values((await r.json()).messages ?? {}).flat();
    const mine = all.filter((m) => m.To?.includes(to) && m.Timestamp * 1000 >= since - 1000);
    const m = /(\d{6})/.exec(mine.at(-1)?.BodyText ?? '');
    if (m) return m[1];
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`no code emailed to ${to}`);
}

const s3 = () => new S3Client({
  region: stack.region, endpoint: stack.endpoint, forcePathStyle: true,
  credentials: { accessKeyId: stack.accessKeyId, secretAccessKey: stack.secretAccessKey },
});
const idp = () => new CognitoIdentityProviderClient({
  region: stack.region, endpoint: stack.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const refresh = (refreshToken) => idp().send(new InitiateAuthCommand({
  ClientId: stack.userPoolClientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: refreshToken },
}));
const storedSession = (p) => p.evaluate(() => JSON.parse(localStorage.getItem('media-share.session.v1') ?? 'null'));

async function signIn(pw, { p = page } = {}) {
  await p.goto(new URL('#/signin', stack.clientUrl).href);
  await p.locator('#view-signin:not([hidden])').waitFor();
  await p.locator('#signin-email').fill(email);
  await p.locator('#signin-password').fill(pw);
  await p.locator('#signin-password').press('Enter');
  await p.locator('#view-mine:not([hidden])').waitFor();
}

/** The identity id of the signed-in user, from the app's latest request of a private index. */
async function signedInIdentity() {
  const id = await page.evaluate(() => [...performance.getEntriesByType('resource')]
    .map((e) => /private\/index\/([^/]+)\/content\.json/.exec(decodeURIComponent(e.name))?.[1]).filter(Boolean).at(-1));
  assert.match(id ?? '', /^[a-z]{2}-[a-z]+-\d:[0-9a-f-]{36}$/, 'identity id seen in the private index request');
  return id;
}

/** On the sign-in view with the email filled in: `old` is refused, `current` signs in. */
async function onlyThisPasswordWorks(old, current) {
  await page.locator('#signin-password').fill(old);
  await page.locator('#signin-password').press('Enter');
  await page.locator('#signin-form [data-role="error"]').filter({ hasText: 'Incorrect email or password.' }).waitFor();
  await page.locator('#signin-password').fill(current);
  await page.locator('#signin-password').press('Enter');
  await view('mine').waitFor();
}

before(async () => {
  ({ stack, stop: stopStack } = await startStack());
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(30_000);
  page.on('dialog', (d) => d.dismiss().catch(() => {}));
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
});

after(async () => {
  fs.writeFileSync(path.join(artifactsDir, 'a11y-audits.json'), JSON.stringify(audits, null, 2));
  await browser?.close().catch(() => {});
  await stopStack();
});

test('signed out: the public gallery passes the audit and the keyboard walk', async (t) => {
  await page.goto(stack.clientUrl);
  await view('public').waitFor();
  await page.locator('#view-public [data-role="status"]').filter({ hasText: /picture/ }).waitFor();
  await checkA11y(t, 'public gallery (signed out)');
  await checkKeyboard(t, 'public gallery (signed out)');
  // The audit and the walk do find problems: a button without a name (axe: critical) and a
  // control Tab cannot reach, planted for a moment.
  await page.evaluate(() => {
    const b = document.createElement('button');
    b.id = 'planted';
    document.querySelector('#view-public h1').after(b);
    const input = document.createElement('input');
    input.id = 'planted-unreachable';
    input.setAttribute('aria-label', 'planted');
    input.tabIndex = -1;
    b.after(input);
  });
  const planted = await audit(page);
  assert.ok(planted.failing.some((v) => v.id === 'button-name' && v.nodes.some((n) => n.startsWith('#planted'))), 'axe reports the unnamed button');
  const walk = await tabWalk(page);
  assert.deepEqual(walk.missing, ['input#planted-unreachable "planted"'], 'the walk reports the control Tab skips');
  await page.evaluate(() => document.querySelectorAll('#planted, #planted-unreachable').forEach((el) => el.remove()));
});

test('sign up and confirm with the emailed code, by keyboard alone', async (t) => {
  await page.locator('#signup-link').focus();
  await page.keyboard.press('Enter');
  await view('signup').waitFor();
  await checkA11y(t, 'sign up');
  await checkKeyboard(t, 'sign up');
  await shots('sign-up');
  await page.locator('#signup-email').focus();
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD_1);
  const since = Date.now();
  await page.keyboard.press('Enter');
  await view('confirm').waitFor();
  await checkA11y(t, 'confirm sign-up');
  await checkKeyboard(t, 'confirm sign-up');
  await page.locator('#confirm-code').fill(await emailedCode(email, since));
  await page.locator('#confirm-code').press('Enter');
  await view('signin').waitFor();
  await page.locator('#signin-form [data-role="ok"]').filter({ hasText: 'Account confirmed' }).waitFor();
  await checkA11y(t, 'sign in');
  await checkKeyboard(t, 'sign in');
  await shots('sign-in');
  await page.locator('#signin-password').fill(PASSWORD_1);
  await page.locator('#signin-password').press('Enter');
  await view('mine').waitFor();
  await page.locator('#view-mine [data-role="status"]').filter({ hasText: /not uploaded any/ }).waitFor();
  identityId = await signedInIdentity();
});

test('upload two public pictures and a private one (upload view audited)', async (t) => {
  await page.getByRole('link', { name: 'Upload' }).click();
  await view('upload').waitFor();
  await checkA11y(t, 'upload (empty)');
  await checkKeyboard(t, 'upload (empty)');
  const files = [
    { name: 'zebra.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(withSegments(await makeImage(page, { width: 640, height: 480, hue: 30, type: 'image/jpeg', label: 'zebra' }), cameraExif('2019:05:01 09:30:00', '+02:00'))) },
    { name: 'apple.png', mimeType: 'image/png', buffer: await makeImage(page, { width: 480, height: 480, hue: 100, label: 'apple' }) },
    { name: 'diary.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(withSegments(await makeImage(page, { width: 500, height: 600, hue: 260, type: 'image/jpeg', label: 'diary' }), cameraExif('2021:01:01 00:00:00'))) },
  ];
  await page.locator('#file-input').setInputFiles(files);
  const entry = (name) => page.locator(`#upload-queue li[data-file="${name}"]`);
  await entry('diary.jpg').locator('[data-role="title"]').waitFor();
  await entry('zebra.jpg').locator('[data-role="title"]').fill(T_ZEBRA);
  await entry('zebra.jpg').locator('[data-role="description"]').fill('Stripes on the road, Zürich');
  await entry('zebra.jpg').getByLabel('Public: everyone can see it').check();
  await entry('apple.png').locator('[data-role="title"]').fill(T_APPLE);
  await entry('apple.png').locator('[data-role="description"]').fill('Autumn in the garden');
  await entry('apple.png').getByLabel('Public: everyone can see it').check();
  await entry('diary.jpg').locator('[data-role="title"]').fill(T_SECRET);
  await checkA11y(t, 'upload (three pictures queued)');
  await checkKeyboard(t, 'upload (three pictures queued)');
  await page.getByRole('button', { name: /^Upload( \d+ pictures)?$/ }).click();
  await page.locator('#upload-status').filter({ hasText: 'All uploads finished.' }).waitFor({ timeout: 60_000 });
  await page.getByRole('link', { name: 'My pictures' }).click();
  for (const title of [T_ZEBRA, T_APPLE, T_SECRET]) {
    await card(title).locator('img[data-role="thumbnail"]').waitFor({ timeout: PROCESSING_MS });
  }
});

test('find and sort: filter by title or description, sort by date or title, by keyboard', async (t) => {
  await checkA11y(t, 'my pictures');
  await checkKeyboard(t, 'my pictures');
  const status = page.locator('#view-mine [data-role="status"]');
  // Newest first by default.
  assert.equal(await page.locator('#mine-sort').inputValue(), 'newest');
  // Keyboard: Tab from the heading to the find field, type; the grid follows.
  await page.locator('#mine-heading').focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'mine-find');
  await page.keyboard.type('zurich');
  await status.filter({ hasText: `1 of 3 pictures match “zurich”.` }).waitFor();
  assert.deepEqual(await gridTitles('mine'), [T_ZEBRA], 'found by a word of the description, accents ignored');
  await shots('find');
  await page.locator('#mine-find').fill('nothing like this');
  await status.filter({ hasText: 'No picture matches “nothing like this” (3 pictures in all).' }).waitFor();
  assert.deepEqual(await gridTitles('mine'), []);
  // Escape in a search field clears it (the browser's own behaviour for type=search).
  await page.locator('#mine-find').press('Escape');
  await status.filter({ hasText: /^3 pictures$/ }).waitFor();
  // Sort with the keyboard: Tab to the select, arrow keys change it.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'mine-sort');
  await page.keyboard.press('ArrowDown'); // Oldest first
  await page.keyboard.press('ArrowDown'); // Title A to Z
  assert.equal(await page.locator('#mine-sort').inputValue(), 'title-asc');
  await page.waitForFunction((first) => document.querySelector('#view-mine ul.grid [data-role="title"]')?.textContent === first, T_APPLE);
  assert.deepEqual(await gridTitles('mine'), [T_APPLE, T_SECRET, T_ZEBRA]);
  await page.locator('#mine-sort').selectOption('title-desc');
  assert.deepEqual(await gridTitles('mine'), [T_ZEBRA, T_SECRET, T_APPLE]);
  await page.locator('#mine-sort').selectOption('oldest');
  const oldest = await gridTitles('mine');
  await page.locator('#mine-sort').selectOption('newest');
  assert.deepEqual(await gridTitles('mine'), [...oldest].reverse(), 'newest first is oldest first reversed');
  // The three were sent two at a time, so which one S3 stored last is not fixed: newest first
  // is the order of the items' upload dates as the owner's index records them.
  const index = JSON.parse(await (await s3().send(new GetObjectCommand({ Bucket: stack.bucket, Key: `private/index/${identityId}/content.json` }))).Body.transformToString());
  const byDate = [...index.items].sort((a, b) => b.uploadDate.localeCompare(a.uploadDate)).map((i) => i.title);
  assert.deepEqual(await gridTitles('mine'), byDate, 'newest first is the order of the upload dates');
  // By date taken: the zebra (2019) and the diary (2021) by their Exif, the PNG (none) by its
  // upload, which is today.
  await page.locator('#mine-sort').selectOption('taken-newest');
  assert.deepEqual(await gridTitles('mine'), [T_APPLE, T_SECRET, T_ZEBRA]);
  await page.locator('#mine-sort').selectOption('taken-oldest');
  assert.deepEqual(await gridTitles('mine'), [T_ZEBRA, T_SECRET, T_APPLE]);
  await shots('sort-taken');
  await page.locator('#mine-sort').selectOption('title-asc');
  await shots('sort-title');
  await page.locator('#mine-sort').selectOption('newest');
});

test('the detail view passes the audit; Enter opens it, Escape closes it', async (t) => {
  const button = card(T_ZEBRA).getByRole('button');
  await button.focus();
  await page.keyboard.press('Enter');
  await page.locator('#detail-title').filter({ hasText: T_ZEBRA }).waitFor();
  await page.waitForFunction(() => document.querySelector('#detail-image')?.naturalWidth > 0);
  // When and with what it was taken, as the camera's clock showed it.
  const taken = await page.evaluate(() => new Date(Date.UTC(2019, 4, 1, 9, 30)).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }));
  assert.equal(await page.locator('#detail-taken').textContent(), `${taken} (UTC+02:00)`);
  assert.equal(await page.locator('#detail-camera').textContent(), 'Canon EOS R5');
  await checkA11y(t, 'detail (owner)');
  await checkKeyboard(t, 'detail (owner)');
  // Space on the delete button shows the confirmation; Escape closes the whole dialog.
  await page.locator('#delete-button').focus();
  await page.keyboard.press('Space');
  await page.locator('#delete-confirm:not([hidden])').waitFor();
  await checkA11y(t, 'detail, delete confirmation');
  await page.keyboard.press('Escape');
  await page.locator('#detail').waitFor({ state: 'hidden' });
  assert.equal(await button.evaluate((b) => b === document.activeElement), true, 'focus back on the card');
});

test('change password: wrong current and weak new passwords are explained; then it changes', async (t) => {
  await page.locator('#account-link').click();
  await view('account').waitFor();
  await page.locator('#account-who').filter({ hasText: email }).waitFor();
  await checkA11y(t, 'account');
  await checkKeyboard(t, 'account');
  await shots('account');
  const form = page.locator('#password-form');
  const error = form.locator('[data-role="error"]');
  await page.locator('#password-current').fill('Not-My-Password-0');
  await page.locator('#password-new').fill(PASSWORD_2);
  await page.locator('#password-new').press('Enter');
  await error.filter({ hasText: 'Your current password is not right.' }).waitFor();
  await page.locator('#password-current').fill(PASSWORD_1);
  await page.locator('#password-new').fill('weakpassword');
  await form.getByRole('button', { name: 'Change password' }).click();
  await error.filter({ hasText: 'That password is too weak: it needs an upper-case letter, a digit.' }).waitFor();
  await checkA11y(t, 'account, password error shown');
  await shots('change-password-error');
  await page.locator('#password-new').fill(PASSWORD_2);
  await form.getByRole('button', { name: 'Change password' }).click();
  await form.locator('[data-role="ok"]').filter({ hasText: 'Password changed.' }).waitFor();
  assert.equal(await error.textContent(), '');
  assert.equal(await page.locator('#password-current').inputValue(), '', 'the fields are emptied');
  await shots('change-password-done');
  // Sign out (this browser), then in again with the new password only.
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await view('public').waitFor();
  await page.goto(new URL('#/signin', stack.clientUrl).href);
  await page.locator('#signin-email').fill(email);
  await onlyThisPasswordWorks(PASSWORD_1, PASSWORD_2);
});

test('forgot password: a code by email, wrong and weak inputs explained, then a new password', async (t) => {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await view('public').waitFor();
  await page.goto(new URL('#/signin', stack.clientUrl).href);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await view('forgot').waitFor();
  await checkA11y(t, 'forgot password');
  await checkKeyboard(t, 'forgot password');
  await shots('forgot-password');
  await page.locator('#forgot-email').fill(email);
  const since = Date.now();
  await page.locator('#forgot-email').press('Enter');
  await view('reset').waitFor();
  const ok = page.locator('#reset-form [data-role="ok"]');
  await ok.filter({ hasText: `If there is an account for ${email}, a code is on its way to a****@e****.` }).waitFor();
  assert.equal(await page.locator('#reset-email').inputValue(), email);
  await checkA11y(t, 'reset password');
  await checkKeyboard(t, 'reset password');
  await shots('reset-password');
  const code = await emailedCode(email, since);
  const error = page.locator('#reset-form [data-role="error"]');
  // A weak password is refused with the rules it breaks.
  await page.locator('#reset-code').fill(code);
  await page.locator('#reset-password').fill('alllowercase1');
  await page.locator('#reset-password').press('Enter');
  await error.filter({ hasText: 'That password is too weak: it needs an upper-case letter.' }).waitFor();
  // A code for an email without an account: Cognito (PreventUserExistenceErrors) answers as for
  // a wrong code. (The emulator does not check codes of real users: see client/README.md.)
  await page.locator('#reset-email').fill(`nobody-${run}@example.com`);
  await page.locator('#reset-password').fill(PASSWORD_3);
  await page.locator('#reset-password').press('Enter');
  await error.filter({ hasText: 'That code is not right.' }).waitFor();
  await checkA11y(t, 'reset password, error shown');
  await shots('reset-password-error');
  // "Send a new code" with the right email: a new email arrives.
  await page.locator('#reset-email').fill(email);
  const since2 = Date.now();
  await page.getByRole('button', { name: 'Send a new code' }).click();
  await ok.filter({ hasText: 'a code is on its way' }).waitFor();
  const code2 = await emailedCode(email, since2);
  await page.locator('#reset-code').fill(code2);
  await page.locator('#reset-password').fill(PASSWORD_3);
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await view('signin').waitFor();
  await page.locator('#signin-form [data-role="ok"]').filter({ hasText: 'Password changed. Sign in with the new one.' }).waitFor();
  assert.equal(await page.locator('#signin-email').inputValue(), email);
  await onlyThisPasswordWorks(PASSWORD_2, PASSWORD_3);
});

test('sign out here keeps other devices signed in; sign out everywhere ends them all', async (t) => {
  // A second "device": another browser profile signed in to the same account.
  const other = await launchBrowser();
  try {
    const p2 = other.context.pages()[0] ?? (await other.context.newPage());
    p2.setDefaultTimeout(30_000);
    await signIn(PASSWORD_3, { p: p2 });
    const twoRefresh = (await storedSession(p2)).refreshToken;
    // Sign out here (RevokeToken of this browser's session only): the other session still refreshes.
    const mine = (await storedSession(page)).refreshToken;
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await view('public').waitFor();
    await assert.rejects(refresh(mine), { name: 'NotAuthorizedException' }, "this browser's refresh token is revoked");
    assert.ok((await refresh(twoRefresh)).AuthenticationResult?.AccessToken, 'the other device is still signed in');
    // Sign out everywhere from this browser. (The emulator compares the sign-out time with the
    // tokens' issue time in whole seconds: the sessions above are older than one second.)
    await signIn(PASSWORD_3);
    await page.waitForTimeout(1_100);
    await page.locator('#account-link').click();
    await view('account').waitFor();
    await page.locator('#signout-everywhere').focus();
    await page.keyboard.press('Enter');
    await view('signin').waitFor();
    await page.locator('#notice-text').filter({ hasText: 'You are signed out on every device.' }).waitFor();
    await checkA11y(t, 'signed out everywhere (notice)');
    await shots('signed-out-everywhere');
    await assert.rejects(refresh(twoRefresh), { name: 'NotAuthorizedException' }, "the other device's refresh token is revoked");
    // The other device notices at its next token refresh: forced here by ageing its id token.
    await p2.evaluate(() => {
      const s = JSON.parse(localStorage.getItem('media-share.session.v1'));
      localStorage.setItem('media-share.session.v1', JSON.stringify({ ...s, expiresAt: 0 }));
    });
    await p2.reload();
    await p2.locator('#signin-link:not([hidden])').waitFor();
    await p2.locator('#banner-text').filter({ hasText: 'Your session has expired. Please sign in again.' }).waitFor();
    assert.equal(await storedSession(p2), null, 'the other device forgot its tokens');
  } finally {
    await other.close();
  }
});

test('delete my account: the confirmation names the pictures; Escape cancels; then everything goes', async (t) => {
  await signIn(PASSWORD_3);
  await page.locator('#account-link').click();
  await view('account').waitFor();
  const opener = page.locator('#delete-account');
  await opener.focus();
  await page.keyboard.press('Space');
  const dialog = page.locator('#delete-account-dialog');
  await dialog.locator('#delete-account-summary').filter({ hasText: 'This deletes your 3 pictures (2 public, 1 private) and then your account. This cannot be undone.' }).waitFor();
  assert.equal(await page.locator('#delete-account-yes').textContent(), 'Delete my account and 3 pictures');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'delete-account-no', 'focus starts on Cancel');
  await checkA11y(t, 'delete account confirmation');
  await checkKeyboard(t, 'delete account confirmation');
  await shots('delete-account-confirm');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await opener.evaluate((b) => b === document.activeElement), true, 'focus back on the opener');
  // Nothing was deleted by cancelling.
  await page.getByRole('link', { name: 'My pictures' }).click();
  await page.locator('#view-mine [data-role="status"]').filter({ hasText: /^3 pictures$/ }).waitFor();

  await page.locator('#account-link').click();
  await view('account').waitFor();
  await opener.focus();
  await page.keyboard.press('Enter');
  const yes = page.locator('#delete-account-yes');
  await page.waitForFunction(() => !document.querySelector('#delete-account-yes').disabled);
  await yes.focus();
  await page.keyboard.press('Enter');
  await page.locator('#delete-account-progress').filter({ hasText: /Deleting pictures|Removing them|Deleting your account/ }).waitFor();
  await page.screenshot({ path: path.join(artifactsDir, 'a-delete-account-progress-desktop.png') });
  await dialog.waitFor({ state: 'hidden', timeout: PROCESSING_MS + 60_000 });
  await view('public').waitFor();
  await page.locator('#notice-text').filter({ hasText: 'Your account and your 3 pictures have been deleted.' }).waitFor();
  await page.locator('#signin-link:not([hidden])').waitFor();
  await checkA11y(t, 'account deleted (notice)');
  await shots('account-deleted');

  // Nothing of the person is left in the bucket: originals, thumbnails, previews, faces copies.
  const client = s3();
  for (const vis of ['public', 'private']) {
    for (const kind of ['content', 'thumbnails', 'previews', 'faces']) {
      const r = await client.send(new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: `${vis}/${kind}/${identityId}/` }));
      assert.deepEqual((r.Contents ?? []).map((o) => o.Key), [], `${vis}/${kind}/ of the deleted person`);
    }
  }
  // The private index lists nothing (or is gone), and the public one has neither public picture.
  try {
    const body = await (await client.send(new GetObjectCommand({ Bucket: stack.bucket, Key: `private/index/${identityId}/content.json` }))).Body.transformToString();
    const doc = JSON.parse(body);
    assert.deepEqual(doc.items, []);
    // Version 2 may keep listing emptied pages, with count 0 (docs/indexes.md).
    assert.deepEqual((doc.pages ?? []).filter((p) => p.count !== 0), []);
  } catch (err) {
    if (err.name !== 'NoSuchKey') throw err;
  }
  const pub = JSON.parse(await (await client.send(new GetObjectCommand({ Bucket: stack.bucket, Key: 'public/index/content.json' }))).Body.transformToString());
  const titles = pub.items.map((i) => i.title);
  assert.ok(!titles.includes(T_ZEBRA) && !titles.includes(T_APPLE), 'no public picture of the deleted person');
  // The Cognito user is gone.
  await page.goto(new URL('#/signin', stack.clientUrl).href);
  await page.locator('#signin-email').fill(email);
  await page.locator('#signin-password').fill(PASSWORD_3);
  await page.locator('#signin-password').press('Enter');
  await page.locator('#signin-form [data-role="error"]').filter({ hasText: 'Incorrect email or password.' }).waitFor();
});

test('a person who deleted their account signs up again with the same email', async () => {
  // The browser keeps 250 resource timings by default; start afresh so the new requests are kept.
  await page.evaluate(() => performance.clearResourceTimings());
  await page.goto(new URL('#/signup', stack.clientUrl).href);
  await page.locator('#signup-email').fill(email);
  await page.locator('#signup-password').fill(PASSWORD_4);
  const since = Date.now();
  await page.locator('#signup-password').press('Enter');
  await view('confirm').waitFor();
  await page.locator('#confirm-code').fill(await emailedCode(email, since));
  await page.locator('#confirm-code').press('Enter');
  await view('signin').waitFor();
  await page.locator('#signin-password').fill(PASSWORD_4);
  await page.locator('#signin-password').press('Enter');
  await view('mine').waitFor();
  // A new identity: none of the old pictures.
  await page.locator('#view-mine [data-role="status"]').filter({ hasText: /not uploaded any/ }).waitFor();
  assert.equal(await page.locator('#view-mine ul.grid li').count(), 0);
  assert.notEqual(await signedInIdentity(), identityId, 'a new identity id');
});

test('no CSP violations, no uncaught errors', () => {
  assert.deepEqual(cspViolations, []);
  assert.deepEqual(pageErrors, []);
});
