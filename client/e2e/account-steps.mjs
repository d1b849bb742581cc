// Signing up and in through the client's own forms, as a person does. The local stack's
// Cognito accepts any confirmation code (docs/emulator.md), so these type 123456.

/** Signs up `person` and confirms the account; ends on the sign-in view. */
export async function signUp(page, clientUrl, { email, password }) {
  await page.goto(new URL('#/signup', clientUrl).href);
  await page.locator('#view-signup:not([hidden])').waitFor();
  await page.locator('#signup-email').fill(email);
  await page.locator('#signup-password').fill(password);
  await page.locator('#signup-form').getByRole('button', { name: 'Sign up' }).click();
  await page.locator('#view-confirm:not([hidden])').waitFor();
  await page.locator('#confirm-code').fill('123456');
  await page.locator('#confirm-form').getByRole('button', { name: 'Confirm' }).click();
  await page.locator('#view-signin:not([hidden])').waitFor();
}

/** Signs `person` in; returns when the account shows their email (the time it did). */
export async function signIn(page, clientUrl, { email, password }) {
  await page.goto(new URL('#/signin', clientUrl).href);
  await page.locator('#view-signin:not([hidden])').waitFor();
  await page.locator('#signin-email').fill(email);
  await page.locator('#signin-password').fill(password);
  await page.locator('#signin-form').getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#account-email').filter({ hasText: email }).waitFor();
  return Date.now();
}

/** A new account, signed in. */
export async function signUpAndIn(page, clientUrl, person) {
  await signUp(page, clientUrl, person);
  await signIn(page, clientUrl, person);
}
