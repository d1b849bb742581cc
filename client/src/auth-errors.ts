/**
 * The one place where Cognito failures become sentences a person can act on.
 *
 * The same exception means different things in different flows (a NotAuthorizedException is a
 * wrong password at sign-in, a wrong *current* password when changing it, a revoked session
 * elsewhere), so every call names the flow it comes from. Exception names and their meaning per
 * operation: the "Errors" sections of the Amazon Cognito user pools API reference
 * (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html,
 * API_ForgotPassword.html, API_ConfirmForgotPassword.html, API_ChangePassword.html,
 * API_GlobalSignOut.html, API_DeleteUser.html, API_SignUp.html, API_ConfirmSignUp.html).
 */

export type AuthFlow =
  | 'signIn'
  | 'signUp'
  | 'confirmSignUp'
  | 'resendCode'
  | 'forgotPassword'
  | 'resetPassword'
  | 'changePassword'
  | 'signOutEverywhere'
  | 'deleteAccount'
  | 'credentials';

const TOO_MANY = 'Too many attempts. Wait a few minutes, then try again.';
const SESSION_OVER = 'Your session has ended (perhaps you signed out everywhere). Sign in again.';

interface ErrorLike {
  name?: string;
  message?: string;
}

/**
 * Cognito answers a locked-out sign-in (after repeated wrong passwords) with
 * NotAuthorizedException "Password attempts exceeded", and a revoked or expired token with
 * NotAuthorizedException "... has been revoked" / "... has expired"; the name alone cannot tell.
 */
function notAuthorized(flow: AuthFlow, message: string): string {
  if (/attempts exceeded/i.test(message)) return TOO_MANY;
  if (/revoked|expired|invalid (access|refresh) token/i.test(message)) return SESSION_OVER;
  switch (flow) {
    case 'signIn':
      return 'Incorrect email or password.';
    case 'changePassword':
      return 'Your current password is not right.';
    case 'confirmSignUp':
      return 'This account cannot be confirmed: it is confirmed already. Sign in.';
    case 'resetPassword':
    case 'forgotPassword':
      return 'The password of this account cannot be reset here. Contact support.';
    default:
      return SESSION_OVER;
  }
}

/** A sentence for an error thrown by a Cognito call (or the network under it) in `flow`. */
export function friendlyAuthError(err: unknown, flow: AuthFlow): string {
  const e = (err ?? {}) as ErrorLike;
  const message = typeof e.message === 'string' ? e.message : '';
  switch (e.name) {
    case 'NotAuthorizedException':
      return notAuthorized(flow, message);
    case 'UserNotFoundException':
      // Only when the app client reveals unknown users (ours does not: PreventUserExistenceErrors),
      // or for a token whose user was deleted meanwhile.
      return flow === 'signIn' ? 'Incorrect email or password.'
        : flow === 'forgotPassword' || flow === 'resetPassword' || flow === 'resendCode' ? 'There is no account with this email.'
          : SESSION_OVER;
    case 'UsernameExistsException':
      return 'An account with this email already exists. Sign in, or confirm it if you have not yet.';
    case 'UserNotConfirmedException':
      return 'This account is not confirmed yet. Enter the code from the email.';
    case 'PasswordResetRequiredException':
      return 'You need to choose a new password: use "Forgot your password?".';
    case 'CodeMismatchException':
      return 'That code is not right. Check the email (the newest one, if you asked more than once) and try again.';
    case 'ExpiredCodeException':
      return flow === 'confirmSignUp'
        ? 'That code has expired. Use "Send a new code" to get another.'
        : 'That code has expired. Ask for a new one with "Send a new code".';
    case 'InvalidPasswordException':
    case 'PasswordHistoryPolicyViolationException':
      return passwordRules(message);
    case 'LimitExceededException':
    case 'TooManyRequestsException':
    case 'TooManyFailedAttemptsException':
    case 'CodeDeliveryFailureException':
      return e.name === 'CodeDeliveryFailureException' ? 'The email with the code could not be sent. Try again later.' : TOO_MANY;
    case 'InvalidParameterException':
      return message ? `Some of the details are not valid: ${message}` : 'Some of the details are not valid.';
    case 'InvalidEmailRoleAccessPolicyException':
    case 'InvalidLambdaResponseException':
    case 'UnexpectedLambdaException':
    case 'UserLambdaValidationException':
    case 'InternalErrorException':
    case 'ResourceNotFoundException':
      return 'The sign-in service had a problem. Try again later.';
    case 'ForbiddenException':
      return 'This request was blocked by the sign-in service.';
    default:
      if (err instanceof TypeError || e.name === 'TypeError' || e.name === 'NetworkError') {
        return 'Network error: the sign-in service could not be reached. Check the connection and try again.';
      }
      return message || e.name || String(err);
  }
}

/**
 * Cognito's InvalidPasswordException message names the rules broken ("Password did not conform
 * with policy: Password must have uppercase characters; ..."): keep those, in plain words.
 */
function passwordRules(message: string): string {
  const rules = message.replace(/^.*?policy:\s*/i, '').split(/;\s*/).map((r) => r.trim()).filter(Boolean);
  const plain = rules.map((r) => r
    .replace(/^Password must have length greater than or equal to (\d+)$/i, 'at least $1 characters')
    .replace(/^Password must have uppercase characters$/i, 'an upper-case letter')
    .replace(/^Password must have lowercase characters$/i, 'a lower-case letter')
    .replace(/^Password must have numeric characters$/i, 'a digit')
    .replace(/^Password must have symbol characters$/i, 'a symbol'));
  if (/history|previous|recently/i.test(message)) return 'Choose a password you have not used recently.';
  if (!rules.length || plain.every((p, i) => p === rules[i])) {
    return 'That password is too weak: use at least 8 characters, with upper- and lower-case letters and a digit.';
  }
  return `That password is too weak: it needs ${plain.join(', ')}.`;
}
