// Measures what the local emulator does for the account flows (docs/emulator.md, "Account flows
// on the emulator (Cognito)"). Not a test: prints facts.
// Usage: STACK_JSON=.devstack/stack.json node e2e/measure-cognito.mjs
import fs from 'node:fs';
import {
  CognitoIdentityProviderClient, SignUpCommand, ConfirmSignUpCommand, InitiateAuthCommand,
  ForgotPasswordCommand, ConfirmForgotPasswordCommand, ChangePasswordCommand, GlobalSignOutCommand,
  DeleteUserCommand, AdminDeleteUserCommand, GetUserCommand, RevokeTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { CognitoIdentityClient, GetIdCommand, GetCredentialsForIdentityCommand } from '@aws-sdk/client-cognito-identity';

const stack = JSON.parse(fs.readFileSync(process.env.STACK_JSON, 'utf8'));
const common = { region: stack.region, endpoint: stack.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const idp = new CognitoIdentityProviderClient(common);
const cid = new CognitoIdentityClient(common);
const ClientId = stack.userPoolClientId;
const run = Date.now().toString(36);
const email = `measure-${run}@example.com`;
const pw1 = 'First-Password-1', pw2 = 'Second-Password-2', pw3 = 'Third-Password-3';

async function step(name, fn) {
  try {
    const r = await fn();
    console.log(`OK   ${name}${r !== undefined ? ': ' + JSON.stringify(r) : ''}`);
    return r;
  } catch (e) {
    console.log(`ERR  ${name}: ${e.name}: ${e.message}`);
    return undefined;
  }
}
const signIn = (pw) => idp.send(new InitiateAuthCommand({ ClientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: pw } })).then((r) => r.AuthenticationResult);
const mails = async () => (await (await fetch(`${stack.endpoint}/_ministack/ses/messages`)).json());
const logins = (t) => ({ [`cognito-idp.${stack.region}.amazonaws.com/${stack.userPoolId}`]: t });

await step('SignUp', () => idp.send(new SignUpCommand({ ClientId, Username: email, Password: pw1, UserAttributes: [{ Name: 'email', Value: email }] })).then((r) => ({ UserConfirmed: r.UserConfirmed, sub: r.UserSub })));
await step('ConfirmSignUp with a wrong code 000000', () => idp.send(new ConfirmSignUpCommand({ ClientId, Username: email, ConfirmationCode: '000000' })).then(() => 'accepted'));
await step('SignIn pw1', () => signIn(pw1).then((x) => x && 'tokens'));
let t = await signIn(pw1);
const id1 = await step('GetId (first user)', () => cid.send(new GetIdCommand({ IdentityPoolId: stack.identityPoolId, Logins: logins(t.IdToken) })).then((r) => r.IdentityId));

await step('ChangePassword with a wrong previous password', () => idp.send(new ChangePasswordCommand({ AccessToken: t.AccessToken, PreviousPassword: 'Wrong-Password-9', ProposedPassword: pw2 })));
await step('ChangePassword to a weak password "short"', () => idp.send(new ChangePasswordCommand({ AccessToken: t.AccessToken, PreviousPassword: pw1, ProposedPassword: 'short' })));
await step('ChangePassword to "alllowercase1" (no upper case)', () => idp.send(new ChangePasswordCommand({ AccessToken: t.AccessToken, PreviousPassword: pw1, ProposedPassword: 'alllowercase1' })));
await step('ChangePassword pw1 -> pw2', () => idp.send(new ChangePasswordCommand({ AccessToken: t.AccessToken, PreviousPassword: pw1, ProposedPassword: pw2 })).then(() => 'changed'));
await step('SignIn with old pw1 after change', () => signIn(pw1));
await step('SignIn with pw2', () => signIn(pw2).then((x) => x && 'tokens'));

await step('ForgotPassword (known user)', () => idp.send(new ForgotPasswordCommand({ ClientId, Username: email })).then((r) => r.CodeDeliveryDetails));
await step('ForgotPassword (unknown user)', () => idp.send(new ForgotPasswordCommand({ ClientId, Username: `nobody-${run}@example.com` })).then((r) => r.CodeDeliveryDetails));
const m = await mails();
const mine = Object.values(m.messages).flat().filter((x) => x.To.includes(email));
console.log(`INFO emails recorded at /_ministack/ses/messages for ${email}: ${JSON.stringify(mine.map((x) => x.BodyText))}`);
console.log(`INFO emails for the unknown user: ${Object.values(m.messages).flat().filter((x) => x.To.includes(`nobody-${run}@example.com`)).length}`);
await step('ConfirmForgotPassword, wrong code 000000', () => idp.send(new ConfirmForgotPasswordCommand({ ClientId, Username: email, ConfirmationCode: '000000', Password: pw3 })).then(() => 'accepted'));
await step('SignIn pw3 (after wrong-code reset)', () => signIn(pw3).then((x) => x && 'tokens'));
await step('ForgotPassword again', () => idp.send(new ForgotPasswordCommand({ ClientId, Username: email })).then((r) => r.CodeDeliveryDetails));
await step('ConfirmForgotPassword weak password', () => idp.send(new ConfirmForgotPasswordCommand({ ClientId, Username: email, ConfirmationCode: '654321', Password: 'weak' })));
await step('ConfirmForgotPassword unknown user', () => idp.send(new ConfirmForgotPasswordCommand({ ClientId, Username: `nobody-${run}@example.com`, ConfirmationCode: '654321', Password: pw3 })));
await step('ConfirmForgotPassword code 654321 -> pw1', () => idp.send(new ConfirmForgotPasswordCommand({ ClientId, Username: email, ConfirmationCode: '654321', Password: pw1 })).then(() => 'reset'));
await step('ConfirmForgotPassword code reused', () => idp.send(new ConfirmForgotPasswordCommand({ ClientId, Username: email, ConfirmationCode: '654321', Password: pw2 })).then(() => 'accepted'));
t = await signIn(pw1).catch(() => signIn(pw2));
console.log('INFO signed in again');
const t2 = await signIn(pw1).catch(() => signIn(pw2));
// The emulator compares the refresh token's iat with the sign-out time in whole seconds.
await new Promise((r) => setTimeout(r, 1100));
await step('GlobalSignOut', () => idp.send(new GlobalSignOutCommand({ AccessToken: t.AccessToken })).then(() => 'done'));
await step('GetUser with the signed-out access token', () => idp.send(new GetUserCommand({ AccessToken: t.AccessToken })).then((r) => r.Username));
await step('REFRESH_TOKEN_AUTH with a refresh token from before the sign-out (other session)', () => idp.send(new InitiateAuthCommand({ ClientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: t2.RefreshToken } })).then((r) => r.AuthenticationResult && 'tokens'));
await step('GetCredentialsForIdentity with the id token from before the sign-out', () => cid.send(new GetCredentialsForIdentityCommand({ IdentityId: id1, Logins: logins(t2.IdToken) })).then((r) => !!r.Credentials?.AccessKeyId));
t = await signIn(pw1).catch(() => signIn(pw2));
await step('DeleteUser', () => idp.send(new DeleteUserCommand({ AccessToken: t.AccessToken })).then(() => 'deleted'));
await step('SignIn after DeleteUser', () => signIn(pw1));
await step('GetUser with the deleted user\'s access token', () => idp.send(new GetUserCommand({ AccessToken: t.AccessToken })));
await step('SignUp again with the same email', () => idp.send(new SignUpCommand({ ClientId, Username: email, Password: pw2, UserAttributes: [{ Name: 'email', Value: email }] })).then((r) => ({ UserConfirmed: r.UserConfirmed, sub: r.UserSub })));
await step('ConfirmSignUp 123456', () => idp.send(new ConfirmSignUpCommand({ ClientId, Username: email, ConfirmationCode: '123456' })).then(() => 'confirmed'));
t = await signIn(pw2);
const id2 = await step('GetId (second user, same email)', () => cid.send(new GetIdCommand({ IdentityPoolId: stack.identityPoolId, Logins: logins(t.IdToken) })).then((r) => r.IdentityId));
console.log(`INFO identity ids differ: ${id1 !== id2}`);
await step('AdminDeleteUser', () => idp.send(new AdminDeleteUserCommand({ UserPoolId: stack.userPoolId, Username: email })).then(() => 'deleted'));
await step('SignIn after AdminDeleteUser', () => signIn(pw2));
// Throttling: many wrong passwords in a row.
await step('SignUp for throttling', () => idp.send(new SignUpCommand({ ClientId, Username: email, Password: pw1, UserAttributes: [{ Name: 'email', Value: email }] })).then(() => 'ok'));
await idp.send(new ConfirmSignUpCommand({ ClientId, Username: email, ConfirmationCode: '123456' }));
const names = {};
for (let i = 0; i < 12; i++) {
  try { await signIn('Wrong-Password-' + i); names.ok = (names.ok ?? 0) + 1; } catch (e) { names[e.name] = (names[e.name] ?? 0) + 1; }
}
console.log('INFO 12 wrong passwords: ' + JSON.stringify(names));
const fp = {};
for (let i = 0; i < 12; i++) {
  try { await idp.send(new ForgotPasswordCommand({ ClientId, Username: email })); fp.ok = (fp.ok ?? 0) + 1; } catch (e) { fp[e.name] = (fp[e.name] ?? 0) + 1; }
}
console.log('INFO 12 ForgotPassword calls: ' + JSON.stringify(fp));
// RevokeToken (sign out of this device only): the other session's refresh token keeps working.
{
  const ta = await signIn(pw1);
  const tb = await signIn(pw1);
  await step('RevokeToken (session A)', () => idp.send(new RevokeTokenCommand({ ClientId, Token: ta.RefreshToken })).then(() => 'revoked'));
  await step('REFRESH_TOKEN_AUTH session A', () => idp.send(new InitiateAuthCommand({ ClientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: ta.RefreshToken } })).then((r) => r.AuthenticationResult && 'tokens'));
  await step('REFRESH_TOKEN_AUTH session B', () => idp.send(new InitiateAuthCommand({ ClientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: tb.RefreshToken } })).then((r) => r.AuthenticationResult && 'tokens'));
}
