/**
 * The account page of a signed-in person: change password, sign out everywhere, and delete my
 * account (with its confirmation dialog); getting into an account is account-forms.ts. What
 * each does on failure is in client/README.md ("Accounts").
 */
import type { Session } from '../auth';
import { friendlyAuthError } from '../auth-errors';
import { AccountDeletionError, deleteAccount, totalOf, type AccountDeletionPorts, type DeletionProgress, type OwnedOriginals } from '../account-deletion';
import { AFTER_SIGN_IN_KEY, busy, onValidSubmit } from './account-forms';
import { $, el, field, setText } from './dom';

export interface AccountDeps {
  session: Session;
  /** Ports of the deletion for the signed-in person (S3 and the private index). */
  deletionPorts: () => Promise<Omit<AccountDeletionPorts, 'deleteUser' | 'sleep' | 'now'>>;
  /** A describe function for S3 errors. */
  describeApiError: (err: unknown) => string;
  notify: (text: string) => void;
}

const pictures = (n: number) => `${n} picture${n === 1 ? '' : 's'}`;

export class AccountView {
  private readonly password = el('#password-form', HTMLFormElement);
  private readonly dialog = el('#delete-account-dialog', HTMLDialogElement);
  private readonly yes = el('#delete-account-yes', HTMLButtonElement);
  private readonly no = el('#delete-account-no', HTMLButtonElement);
  private owned?: OwnedOriginals;
  private deleting = false;

  constructor(private readonly deps: AccountDeps) {
    this.wirePassword();
    this.wireEverywhere();
    this.wireDelete();
  }

  /** Fills what the account page shows about the signed-in person. */
  render(): void {
    const email = this.deps.session.email ?? '';
    setText($('#account-who'), email ? `Signed in as ${email}.` : '');
    field(this.password, 'username').value = email;
  }

  private wirePassword(): void {
    onValidSubmit(this.password, () => {
      const current = field(this.password, 'current');
      const next = field(this.password, 'password');
      const ok = $('[data-role="ok"]', this.password);
      setText(ok, '');
      void busy(this.password, 'changePassword', async () => {
        await this.deps.session.changePassword(current.value, next.value);
        current.value = '';
        next.value = '';
        setText(ok, 'Password changed. Other devices stay signed in until you sign out everywhere.');
      });
    });
  }

  private wireEverywhere(): void {
    const button = el('#signout-everywhere', HTMLButtonElement);
    const error = $('#everywhere-error');
    button.addEventListener('click', () => {
      button.disabled = true;
      setText(error, '');
      this.deps.session.signOutEverywhere().then(
        () => {
          this.deps.notify('You are signed out on every device.');
          location.hash = '#/signin';
        },
        (err) => {
          // This browser is signed out anyway (Session.signOutEverywhere); say the rest may not be.
          this.deps.notify(`Signed out here, but the other devices could not be signed out: ${friendlyAuthError(err, 'signOutEverywhere')}`);
          location.hash = '#/signin';
        },
      ).finally(() => {
        sessionStorage.removeItem(AFTER_SIGN_IN_KEY);
        button.disabled = false;
      });
    });
  }

  private wireDelete(): void {
    const opener = el('#delete-account', HTMLButtonElement);
    opener.addEventListener('click', () => void this.openDelete());
    this.no.addEventListener('click', () => this.dialog.close());
    this.yes.addEventListener('click', () => void this.confirmDelete());
    // Escape closes the dialog (the browser's cancel), except while deleting.
    this.dialog.addEventListener('cancel', (e) => {
      if (this.deleting) e.preventDefault();
    });
    this.dialog.addEventListener('close', () => {
      if (opener.isConnected && !opener.closest('[hidden]')) opener.focus();
    });
  }

  private async openDelete(): Promise<void> {
    this.owned = undefined;
    this.yes.disabled = true;
    this.yes.textContent = 'Delete my account';
    setText($('#delete-account-summary'), 'Counting your pictures…');
    setText($('#delete-account-progress'), '');
    setText($('#delete-account-error'), '');
    this.dialog.showModal();
    this.no.focus();
    try {
      const ports = await this.deps.deletionPorts();
      const owned = await ports.listOwnOriginals();
      if (!this.dialog.open) return;
      this.owned = owned;
      const n = totalOf(owned);
      setText($('#delete-account-summary'), n === 0
        ? 'You have no pictures. Your account will be deleted. This cannot be undone.'
        : `This deletes your ${pictures(n)} (${owned.publicKeys.length} public, ${owned.privateKeys.length} private) and then your account. This cannot be undone.`);
      this.yes.textContent = n === 0 ? 'Delete my account' : `Delete my account and ${pictures(n)}`;
      this.yes.disabled = false;
    } catch (err) {
      setText($('#delete-account-summary'), '');
      setText($('#delete-account-error'), `Your pictures could not be counted: ${this.deps.describeApiError(err)} Nothing was deleted.`);
    }
  }

  private async confirmDelete(): Promise<void> {
    if (!this.owned) return;
    const total = totalOf(this.owned);
    this.deleting = true;
    this.yes.disabled = true;
    this.no.disabled = true;
    setText($('#delete-account-error'), '');
    const progress = $('#delete-account-progress');
    const onProgress = (p: DeletionProgress) => {
      switch (p.step) {
        case 'deleting-albums': return setText(progress, 'Deleting your albums…');
        case 'deleting': return setText(progress, `Deleting pictures: ${p.deleted} of ${p.total}…`);
        case 'waiting': return setText(progress, `Removing them from the galleries: ${p.remaining} left…`);
        case 'deleting-account': return setText(progress, 'Deleting your account…');
        case 'done': return setText(progress, 'Done.');
      }
    };
    let failedAt = 'pictures' as 'pictures' | 'account';
    try {
      const ports = await this.deps.deletionPorts();
      await deleteAccount({
        ...ports,
        deleteUser: () => {
          failedAt = 'account';
          return this.deps.session.deleteUser();
        },
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        now: () => Date.now(),
      }, { onProgress });
      this.deleting = false;
      this.dialog.close();
      sessionStorage.removeItem(AFTER_SIGN_IN_KEY);
      this.deps.notify(`Your account and your ${pictures(total)} have been deleted. You can sign up again with the same email at any time.`);
      location.hash = '#/';
    } catch (err) {
      setText(progress, '');
      const message = err instanceof AccountDeletionError ? err.message
        : failedAt === 'account' ? `Your pictures are deleted, but the account could not be: ${friendlyAuthError(err, 'deleteAccount')}`
          : `Nothing more was deleted: ${this.deps.describeApiError(err)} Your account is kept; try again.`;
      setText($('#delete-account-error'), message);
      this.yes.textContent = 'Try again';
      this.yes.disabled = false;
      this.no.disabled = false;
    } finally {
      this.deleting = false;
    }
  }
}
