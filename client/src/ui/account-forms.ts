/**
 * The forms that get a person into their account: sign in, sign up, confirm the sign-up (and
 * send a new code), forgot password, and choose a new password (and send a new code). What each
 * does on failure is in client/README.md ("Accounts").
 */
import type { Session } from '../auth';
import { friendlyAuthError, type AuthFlow } from '../auth-errors';
import { $, el, field, setText } from './dom';

/** sessionStorage key of the page a signed-out person asked for: signing in opens it. */
export const AFTER_SIGN_IN_KEY = 'media-share.after-signin';

export interface AccountFormsDeps {
  session: Session;
  /** Hides the banner and the notice: what they said is about the session before. */
  clearMessages: () => void;
}

const errorOf = (form: HTMLFormElement) => $('[data-role="error"]', form);
const okOf = (form: HTMLFormElement) => $('[data-role="ok"]', form);

/**
 * Runs `request` with the form's buttons disabled and its error line cleared, showing a failure
 * there as the flow's friendly message.
 */
export async function busy(form: HTMLFormElement, flow: AuthFlow, request: () => Promise<void>): Promise<void> {
  const buttons = form.querySelectorAll('button');
  buttons.forEach((b) => (b.disabled = true));
  const error = errorOf(form);
  setText(error, '');
  try {
    await request();
  } catch (err) {
    setText(error, friendlyAuthError(err, flow));
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

/** Calls `onValid` when the form is submitted with every field valid (the browser says what is not). */
export function onValidSubmit(form: HTMLFormElement, onValid: () => void): void {
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (form.reportValidity()) onValid();
  });
}

export class AccountForms {
  private readonly signin = el('#signin-form', HTMLFormElement);
  private readonly signup = el('#signup-form', HTMLFormElement);
  private readonly confirm = el('#confirm-form', HTMLFormElement);
  private readonly forgot = el('#forgot-form', HTMLFormElement);
  private readonly reset = el('#reset-form', HTMLFormElement);

  constructor(private readonly deps: AccountFormsDeps) {
    onValidSubmit(this.signin, () => this.signIn());
    onValidSubmit(this.signup, () => this.signUp());
    onValidSubmit(this.confirm, () => this.confirmSignUp());
    el('#resend-code', HTMLButtonElement).addEventListener('click', () => this.resendConfirmationCode());
    onValidSubmit(this.forgot, () => this.sendResetCode());
    el('#reset-resend', HTMLButtonElement).addEventListener('click', () => this.resendResetCode());
    onValidSubmit(this.reset, () => this.resetPassword());
  }

  private signIn(): void {
    const email = field(this.signin, 'email').value.trim();
    const password = field(this.signin, 'password').value;
    setText(okOf(this.signin), '');
    void busy(this.signin, 'signIn', async () => {
      try {
        await this.deps.session.signIn(email, password);
      } catch (err) {
        if ((err as { name?: string }).name === 'UserNotConfirmedException') {
          field(this.confirm, 'email').value = email;
          location.hash = '#/confirm';
        }
        throw err;
      }
      field(this.signin, 'password').value = '';
      this.deps.clearMessages();
      const next = sessionStorage.getItem(AFTER_SIGN_IN_KEY) ?? 'mine';
      sessionStorage.removeItem(AFTER_SIGN_IN_KEY);
      location.hash = `#/${next}`;
    });
  }

  private signUp(): void {
    const email = field(this.signup, 'email').value.trim();
    const password = field(this.signup, 'password').value;
    void busy(this.signup, 'signUp', async () => {
      const r = await this.deps.session.signUp(email, password);
      field(this.confirm, 'email').value = email;
      field(this.signin, 'email').value = email;
      if (r.confirmed) {
        location.hash = '#/signin';
      } else {
        setText(okOf(this.confirm), '');
        location.hash = '#/confirm';
      }
    });
  }

  private confirmSignUp(): void {
    const email = field(this.confirm, 'email').value.trim();
    const code = field(this.confirm, 'code').value.trim();
    void busy(this.confirm, 'confirmSignUp', async () => {
      await this.deps.session.confirm(email, code);
      field(this.confirm, 'code').value = '';
      this.openSignIn(email, 'Account confirmed. You can sign in now.');
    });
  }

  private resendConfirmationCode(): void {
    const email = field(this.confirm, 'email').value.trim();
    if (!email) {
      setText(errorOf(this.confirm), 'Enter your email first.');
      return;
    }
    void busy(this.confirm, 'resendCode', async () => {
      await this.deps.session.resendCode(email);
      setText(okOf(this.confirm), 'A new code is on its way.');
    });
  }

  private sendResetCode(): void {
    const email = field(this.forgot, 'email').value.trim();
    void busy(this.forgot, 'forgotPassword', async () => {
      await this.sendCodeForReset(email);
      setText(errorOf(this.reset), '');
      location.hash = '#/reset';
    });
  }

  private resendResetCode(): void {
    const email = field(this.reset, 'email').value.trim();
    if (!email) {
      setText(errorOf(this.reset), 'Enter your email first.');
      field(this.reset, 'email').focus();
      return;
    }
    void busy(this.reset, 'forgotPassword', () => this.sendCodeForReset(email));
  }

  /** Asks Cognito to email a password reset code, and says so on the reset form. */
  private async sendCodeForReset(email: string): Promise<void> {
    const destination = await this.deps.session.forgotPassword(email);
    field(this.reset, 'email').value = email;
    // With PreventUserExistenceErrors, Cognito answers the same for an unknown email: never
    // claim an account exists.
    setText(okOf(this.reset),
      `If there is an account for ${email}, a code is on its way${destination ? ` to ${destination}` : ''}. It is valid for one hour.`);
  }

  private resetPassword(): void {
    const email = field(this.reset, 'email').value.trim();
    const code = field(this.reset, 'code').value.trim();
    const password = field(this.reset, 'password').value;
    void busy(this.reset, 'resetPassword', async () => {
      await this.deps.session.confirmForgotPassword(email, code, password);
      field(this.reset, 'code').value = '';
      field(this.reset, 'password').value = '';
      setText(okOf(this.reset), '');
      this.openSignIn(email, 'Password changed. Sign in with the new one.');
    });
  }

  /** Goes to the sign-in form with the email filled in and a note of what just succeeded. */
  private openSignIn(email: string, note: string): void {
    field(this.signin, 'email').value = email;
    setText(errorOf(this.signin), '');
    setText(okOf(this.signin), note);
    location.hash = '#/signin';
  }
}
