/** The share-link view (`#/p/{identityId}/{file}`): finds the picture and opens its details, or says it is not available. */
import type { IndexItem } from '../indexdoc';
import { findShared, parseShareHash, shareHash, type FindDeps } from '../share';
import { $, setText } from './dom';

export interface SharedDeps extends Omit<FindDeps, 'myIdentityId'> {
  open: (item: IndexItem) => void;
  myIdentityId: () => string | undefined;
  signedIn: () => boolean;
  /** The picture was found (or not): the index to follow may have changed. */
  onFound: () => void;
  describeError: (err: unknown) => string;
}

export class SharedView {
  private readonly status = $('#shared-status');
  private readonly missing = $('#shared-missing');
  private readonly signinHint = $('#shared-signin-hint');
  private readonly actions = $('#shared-actions');
  private item?: IndexItem;
  private token = 0;
  /** The index the shown picture came from, which the app polls while it is open. */
  source?: 'public' | 'mine';

  constructor(private readonly deps: SharedDeps) {
    $('#shared-open').addEventListener('click', () => {
      if (this.item) this.deps.open(this.item);
    });
    // After signing in, come back to this link.
    $('#shared-signin').addEventListener('click', () => {
      sessionStorage.setItem('media-share.after-signin', location.hash.replace(/^#\//, ''));
    });
  }

  async show(hash: string): Promise<void> {
    const token = ++this.token;
    this.item = undefined;
    this.source = undefined;
    this.missing.hidden = true;
    this.actions.hidden = true;
    setText(this.status, 'Looking for the picture…');
    const ref = parseShareHash(hash);
    let item: IndexItem | undefined;
    if (ref) {
      const me = this.deps.myIdentityId();
      try {
        const found = await findShared(ref, { ...this.deps, myIdentityId: me });
        item = found?.item;
        // Follow the index it is listed in; one known from its original only is not listed.
        if (found?.from === 'private-index') this.source = 'mine';
        if (found?.from === 'public-index') this.source = 'public';
      } catch (err) {
        if (token !== this.token) return;
        setText(this.status, `The picture could not be looked up: ${this.deps.describeError(err)} Reload the page to try again.`);
        return;
      }
    }
    if (token !== this.token) return;
    this.deps.onFound();
    if (!item) {
      setText(this.status, '');
      this.missing.hidden = false;
      this.signinHint.hidden = this.deps.signedIn();
      return;
    }
    this.item = item;
    // The link as the app writes it (a hand-typed one may encode differently).
    if (ref && location.hash !== shareHash(ref)) history.replaceState(null, '', shareHash(ref));
    setText(this.status, `“${item.title}”`);
    this.actions.hidden = false;
    this.deps.open(item);
  }
}
