import { describe, expect, it } from 'vitest';
import { friendlyAuthError, type AuthFlow } from './auth-errors';

/** An error shaped as the SDK throws it (a ServiceException subclass: name + message). */
const cognito = (name: string, message = '') => Object.assign(new Error(message), { name });

describe('friendlyAuthError', () => {
  it('a wrong code: CodeMismatchException', () => {
    for (const flow of ['confirmSignUp', 'resetPassword'] as AuthFlow[]) {
      expect(friendlyAuthError(cognito('CodeMismatchException', 'Invalid verification code provided, please try again.'), flow))
        .toBe('That code is not right. Check the email (the newest one, if you asked more than once) and try again.');
    }
  });

  it('an expired code tells how to get a new one', () => {
    expect(friendlyAuthError(cognito('ExpiredCodeException', 'Invalid code provided, please request a code again.'), 'resetPassword'))
      .toBe('That code has expired. Ask for a new one with "Send a new code".');
    expect(friendlyAuthError(cognito('ExpiredCodeException'), 'confirmSignUp'))
      .toBe('That code has expired. Use "Send a new code" to get another.');
  });

  it('a weak password names the rules it breaks, in plain words', () => {
    const msg = 'Password did not conform with policy: Password must have length greater than or equal to 8; Password must have uppercase characters; Password must have numeric characters';
    for (const flow of ['signUp', 'resetPassword', 'changePassword'] as AuthFlow[]) {
      expect(friendlyAuthError(cognito('InvalidPasswordException', msg), flow))
        .toBe('That password is too weak: it needs at least 8 characters, an upper-case letter, a digit.');
    }
    expect(friendlyAuthError(cognito('InvalidPasswordException', 'Password did not conform with policy: Password must have lowercase characters'), 'signUp'))
      .toBe('That password is too weak: it needs a lower-case letter.');
  });

  it('a weak password without a parsable message still explains the policy', () => {
    expect(friendlyAuthError(cognito('InvalidPasswordException', 'nope'), 'signUp'))
      .toBe('That password is too weak: use at least 8 characters, with upper- and lower-case letters and a digit.');
  });

  it('a reused password (password history)', () => {
    expect(friendlyAuthError(cognito('PasswordHistoryPolicyViolationException', 'The password was used recently'), 'changePassword'))
      .toBe('Choose a password you have not used recently.');
  });

  it('too many attempts: every throttling exception, and the lockout NotAuthorizedException', () => {
    const tooMany = 'Too many attempts. Wait a few minutes, then try again.';
    for (const name of ['LimitExceededException', 'TooManyRequestsException', 'TooManyFailedAttemptsException']) {
      expect(friendlyAuthError(cognito(name, 'Attempt limit exceeded, please try after some time.'), 'forgotPassword')).toBe(tooMany);
    }
    expect(friendlyAuthError(cognito('NotAuthorizedException', 'Password attempts exceeded'), 'signIn')).toBe(tooMany);
  });

  it('NotAuthorizedException depends on the flow', () => {
    const wrong = cognito('NotAuthorizedException', 'Incorrect username or password.');
    expect(friendlyAuthError(wrong, 'signIn')).toBe('Incorrect email or password.');
    expect(friendlyAuthError(wrong, 'changePassword')).toBe('Your current password is not right.');
    expect(friendlyAuthError(cognito('NotAuthorizedException', 'User cannot be confirmed. Current status is CONFIRMED'), 'confirmSignUp'))
      .toBe('This account cannot be confirmed: it is confirmed already. Sign in.');
  });

  it('a revoked or expired session asks to sign in again, whatever the flow', () => {
    const over = 'Your session has ended (perhaps you signed out everywhere). Sign in again.';
    for (const m of ['Access Token has been revoked', 'Refresh Token has been revoked', 'Access Token has expired']) {
      for (const flow of ['changePassword', 'signOutEverywhere', 'deleteAccount', 'signIn'] as AuthFlow[]) {
        expect(friendlyAuthError(cognito('NotAuthorizedException', m), flow)).toBe(over);
      }
    }
  });

  it('an unknown user does not reveal itself at sign-in', () => {
    expect(friendlyAuthError(cognito('UserNotFoundException', 'User does not exist.'), 'signIn')).toBe('Incorrect email or password.');
    expect(friendlyAuthError(cognito('UserNotFoundException'), 'forgotPassword')).toBe('There is no account with this email.');
    expect(friendlyAuthError(cognito('UserNotFoundException'), 'deleteAccount'))
      .toBe('Your session has ended (perhaps you signed out everywhere). Sign in again.');
  });

  it('sign-up and confirmation states', () => {
    expect(friendlyAuthError(cognito('UsernameExistsException'), 'signUp'))
      .toBe('An account with this email already exists. Sign in, or confirm it if you have not yet.');
    expect(friendlyAuthError(cognito('UserNotConfirmedException'), 'signIn'))
      .toBe('This account is not confirmed yet. Enter the code from the email.');
    expect(friendlyAuthError(cognito('PasswordResetRequiredException'), 'signIn'))
      .toBe('You need to choose a new password: use "Forgot your password?".');
  });

  it('service-side failures and the network', () => {
    expect(friendlyAuthError(cognito('InternalErrorException', 'boom'), 'signIn')).toBe('The sign-in service had a problem. Try again later.');
    expect(friendlyAuthError(cognito('CodeDeliveryFailureException'), 'forgotPassword')).toBe('The email with the code could not be sent. Try again later.');
    expect(friendlyAuthError(new TypeError('Failed to fetch'), 'signIn'))
      .toBe('Network error: the sign-in service could not be reached. Check the connection and try again.');
  });

  it('anything else keeps its own message, never an empty string', () => {
    expect(friendlyAuthError(cognito('SomethingNewException', 'A new thing happened.'), 'signIn')).toBe('A new thing happened.');
    expect(friendlyAuthError(cognito('SomethingNewException'), 'signIn')).toBe('SomethingNewException');
    expect(friendlyAuthError('plain string', 'signIn')).toBe('plain string');
    expect(friendlyAuthError(undefined, 'signIn')).toBe('undefined');
  });
});
