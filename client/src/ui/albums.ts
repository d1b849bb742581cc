/**
 * The album views (docs/albums.md): Albums (the owner's list: create, rename, share, copy link,
 * revoke, delete), one album of the owner's (its pictures, each with Remove), and a shared
 * album as anyone with its link sees it (name, thumbnails, a preview on demand). The documents
 * and their conditional writes are albums.ts's; this module only shows them and asks.
 */
import {
  albumLink, createAlbum, deleteAlbum, listAlbums, ownAlbumHash, parseAlbumLinkHash, parseSharedAlbum, publishAlbum,
  readAlbum, removePictures, renameAlbum, revokeLink, shareAlbum, sharedDocKey, sharedRenditionKey,
  type AlbumEnv, type PublishDeps, type StoredAlbum,
} from '../albums';
import { pictures } from '../bulk';
import { fileNameOfKey } from '../keys';
import type { IndexItem } from '../indexdoc';
import { $, el, h, setText } from './dom';

export interface OwnerAlbumDeps {
  /** The signed-in person's album environment (their identity, the bucket with their credentials). */
  env: () => Promise<AlbumEnv>;
  /** What the shared copy needs of the person's pictures. */
  publishDeps: PublishDeps;
  presign: (key: string) => Promise<string>;
  /** The person's pictures as loaded from their index, to show an album's thumbnails and titles. */
  myItems: () => Promise<IndexItem[]>;
  /** The page's address, which an album link is made from. */
  pageUrl: () => string;
  describeError: (err: unknown) => string;
}

const quoted = (name: string) => `“${name}”`;

/** A status line's text, marked as an error or not. */
function say(p: HTMLElement, text: string, error = false): void {
  setText(p, text);
  p.classList.toggle('error', error);
}

/** One picture of the owner's by file name: the item not vacated, the newest when listed twice (a move under way). */
export function itemsByFile(items: IndexItem[]): Map<string, IndexItem> {
  const byFile = new Map<string, IndexItem>();
  for (const item of items) {
    const file = fileNameOfKey(item.objectKey);
    if (!byFile.has(file)) byFile.set(file, item);
  }
  return byFile;
}

/** "3 pictures · Shared by link". */
export function albumSummary(doc: StoredAlbum['doc']): string {
  return `${pictures(doc.pictures.length)} · ${doc.link ? 'Shared by link' : 'Private'}`;
}

/** The owner's list of albums. */
export class AlbumsView {
  private readonly list = $('#albums-list');
  private readonly status = $('#albums-status');
  private readonly createForm = el('#album-create', HTMLFormElement);
  private readonly createName = el('#album-create-name', HTMLInputElement);
  private token = 0;
  private busy = false;

  constructor(private readonly deps: OwnerAlbumDeps) {
    this.createForm.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.act(async (env) => {
        const created = await createAlbum(env, this.createName.value);
        this.createName.value = '';
        return { text: `Created the album ${quoted(created.doc.name)}.`, focus: { id: created.doc.id, action: 'link' } };
      });
    });
  }

  /** Loads and shows the list (on every visit: another tab or device may have changed it). */
  async show(focus?: { id: string; action: string }): Promise<void> {
    const token = ++this.token;
    if (!this.list.children.length) say(this.status, 'Loading your albums…');
    try {
      const env = await this.deps.env();
      this.owner = env.identityId;
      const albums = await listAlbums(env);
      if (token !== this.token) return;
      this.render(albums, focus);
    } catch (err) {
      if (token !== this.token) return;
      say(this.status, `Your albums could not be loaded: ${this.deps.describeError(err)}`, true);
    }
  }

  /** Nobody is signed in any more: nothing of the last person's stays on the page. */
  clear(): void {
    this.token++;
    this.list.replaceChildren();
    say(this.status, '');
  }

  private render(albums: StoredAlbum[], focus?: { id: string; action: string }): void {
    if (!albums.length) say(this.status, 'You have no albums yet. Create one here, or from My pictures: Select, then Add to album.');
    else if (!this.status.classList.contains('error') && /^Loading/.test(this.status.textContent ?? '')) say(this.status, '');
    this.list.replaceChildren(...albums.map((a) => this.entry(a)));
    if (focus) {
      const li = this.list.querySelector<HTMLElement>(`li[data-album-id="${CSS.escape(focus.id)}"]`);
      (li?.querySelector<HTMLElement>(`[data-action="${focus.action}"]`) ?? li?.querySelector<HTMLElement>('h2 a') ?? $('#albums-heading')).focus();
    }
  }

  private entry({ doc }: StoredAlbum): HTMLLIElement {
    const id = doc.id;
    // Each button's name is its visible text and then the album's, so that "Copy link" says
    // which album's link among several.
    const button = (text: string, action: string, cls = 'secondary') =>
      h('button', { type: 'button', class: cls, 'data-action': action }, text, h('span', { class: 'visually-hidden', text: ` ${quoted(doc.name)}` }));
    const rename = button('Rename…', 'rename');
    const share = button('Share by link', 'share');
    const copy = button('Copy link', 'copy');
    const revoke = button('Revoke link', 'revoke');
    const del = button('Delete…', 'delete', 'danger');
    const error = h('p', { class: 'form-error', role: 'alert' });
    const ok = h('p', { class: 'form-ok', role: 'status' });
    const link = doc.link && this.owner ? albumLink(this.deps.pageUrl(), this.owner, doc.link.token) : '';
    const linkId = `album-link-${id}`;
    const linkRow = doc.link
      ? h('div', { class: 'share-row' },
        h('label', { for: linkId, text: 'Link' }),
        h('input', { id: linkId, type: 'text', readonly: true, value: link, 'data-role': 'link' }))
      : null;

    const nameId = `album-rename-${id}`;
    const nameInput = h('input', { id: nameId, name: 'name', type: 'text', maxlength: 200, required: true, autocomplete: 'off' });
    const renameForm = h('form', { class: 'album-create', hidden: true, 'data-role': 'rename-form' },
      h('label', { for: nameId, text: 'New name' }), nameInput,
      h('button', { type: 'submit', text: 'Save' }),
      h('button', { type: 'button', class: 'secondary', 'data-action': 'rename-cancel', text: 'Cancel' }));
    const confirm = h('div', { class: 'album-confirm', hidden: true, 'data-role': 'confirm' },
      h('p', { text: `Delete the album ${quoted(doc.name)}? Its pictures are kept${doc.link ? ', and its link stops working' : ''}.` }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'danger', 'data-action': 'delete-yes', text: 'Yes, delete the album' }),
        h('button', { type: 'button', class: 'secondary', 'data-action': 'delete-no', text: 'Cancel' })));

    const li = h('li', { class: 'album-entry', 'data-album-id': id },
      h('h2', {}, h('a', { href: ownAlbumHash(id), 'data-action': 'link', text: doc.name })),
      h('p', { class: 'hint', 'data-role': 'summary', text: albumSummary(doc) }),
      h('div', { class: 'actions' }, rename, doc.link ? copy : share, doc.link ? revoke : null, del),
      linkRow, renameForm, confirm, error, ok);
    const entry = { error, ok };

    rename.addEventListener('click', () => {
      nameInput.value = doc.name;
      renameForm.hidden = false;
      nameInput.focus();
      nameInput.select();
    });
    renameForm.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.act(async (env) => {
        const renamed = await renameAlbum(env, id, nameInput.value);
        if (renamed.doc.link) await publishAlbum(env, id, this.deps.publishDeps);
        return { text: `Renamed to ${quoted(renamed.doc.name)}.`, focus: { id, action: 'rename' } };
      }, entry);
    });
    renameForm.querySelector('[data-action="rename-cancel"]')!.addEventListener('click', () => {
      renameForm.hidden = true;
      rename.focus();
    });
    share.addEventListener('click', () => void this.act(async (env) => {
      await shareAlbum(env, id);
      const out = await publishAlbum(env, id, {
        ...this.deps.publishDeps,
        onProgress: (done, total) => say(ok, total ? `Sharing: ${done} of ${total} copies made…` : 'Sharing…'),
      });
      const left = out?.missing.length ?? 0;
      return {
        text: `Shared. Anyone with the link can see the album.${left ? ` ${pictures(left)} not shown yet: not processed, or not found.` : ''}`,
        focus: { id, action: 'copy' },
      };
    }, entry));
    copy.addEventListener('click', () => {
      const input = li.querySelector<HTMLInputElement>('[data-role="link"]');
      input?.select();
      // The clipboard may be refused (permissions, an insecure origin): the link stays selected.
      const copied = navigator.clipboard ? navigator.clipboard.writeText(link) : Promise.reject(new Error('no clipboard'));
      copied.then(() => say(ok, 'Link copied.'), () => say(ok, 'The link is selected: copy it with your keyboard or menu.'));
    });
    revoke.addEventListener('click', () => void this.act(async (env) => {
      await revokeLink(env, id);
      return { text: 'Link revoked: it shows "This album is not available" now. Sharing again makes a new link.', focus: { id, action: 'share' } };
    }, entry));
    del.addEventListener('click', () => {
      confirm.hidden = false;
      confirm.querySelector<HTMLElement>('[data-action="delete-no"]')!.focus();
    });
    confirm.querySelector('[data-action="delete-no"]')!.addEventListener('click', () => {
      confirm.hidden = true;
      del.focus();
    });
    confirm.querySelector('[data-action="delete-yes"]')!.addEventListener('click', () => void this.act(async (env) => {
      await deleteAlbum(env, id);
      return { text: `Deleted the album ${quoted(doc.name)}.`, where: 'list' };
    }, entry));
    li.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      if (!confirm.hidden) {
        confirm.hidden = true;
        del.focus();
      } else if (!renameForm.hidden) {
        renameForm.hidden = true;
        rename.focus();
      }
    });
    return li;
  }

  /** The identity of the albums shown (their links name it). */
  private owner?: string;

  /**
   * Runs one change; its outcome is said in the entry (or, for a create or a delete, above the
   * list), and the list is read again.
   */
  private async act(
    change: (env: AlbumEnv) => Promise<{ text: string; focus?: { id: string; action: string }; where?: 'list' }>,
    entry?: { error: HTMLElement; ok: HTMLElement },
  ): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    if (entry) {
      setText(entry.error, '');
      setText(entry.ok, 'Working…');
    }
    say(this.status, '');
    try {
      const out = await change(await this.deps.env());
      await this.show(out.focus);
      const shown = out.focus && this.list.querySelector<HTMLElement>(`li[data-album-id="${CSS.escape(out.focus.id)}"] .form-ok`);
      if (shown && out.where !== 'list') say(shown, out.text);
      else {
        say(this.status, out.text);
        if (!out.focus) $('#albums-heading').focus();
      }
    } catch (err) {
      const text = this.deps.describeError(err);
      if (entry && entry.error.isConnected) {
        setText(entry.ok, '');
        setText(entry.error, text);
      } else say(this.status, text, true);
    } finally {
      this.busy = false;
    }
  }
}

/** One album of the owner's: its pictures, each with Remove. */
export class AlbumView {
  private readonly heading = $('#album-heading');
  private readonly status = $('#album-status');
  private readonly grid = $('#album-grid');
  private token = 0;

  constructor(private readonly deps: OwnerAlbumDeps) {}

  async show(albumId: string, focusAfter?: number): Promise<void> {
    const token = ++this.token;
    setText(this.heading, 'Album');
    say(this.status, 'Loading the album…');
    this.grid.replaceChildren();
    try {
      const env = await this.deps.env();
      const [album, items] = albumId ? await Promise.all([readAlbum(env, albumId), this.deps.myItems()]) : [undefined, []];
      if (token !== this.token) return;
      if (!album) {
        say(this.status, 'This album is not available. It may have been deleted.');
        return;
      }
      this.render(album, itemsByFile(items), focusAfter);
    } catch (err) {
      if (token !== this.token) return;
      say(this.status, `The album could not be loaded: ${this.deps.describeError(err)}`, true);
    }
  }

  clear(): void {
    this.token++;
    this.grid.replaceChildren();
  }

  private render({ doc }: StoredAlbum, byFile: Map<string, IndexItem>, focusAfter?: number): void {
    setText(this.heading, doc.name);
    say(this.status, doc.pictures.length ? albumSummary(doc) : `${albumSummary(doc)}. Add pictures from My pictures: Select, then Add to album.`);
    const cards = doc.pictures.map((file) => {
      const item = byFile.get(file);
      const title = item?.title || file;
      const thumb = h('span', { class: 'thumb' });
      if (item?.thumbnailKey) {
        const img = h('img', { alt: title, decoding: 'async', 'data-role': 'thumbnail' });
        void this.deps.presign(item.thumbnailKey).then((url) => { img.src = url; }, () => {});
        thumb.append(img);
      } else thumb.append(h('span', { text: item ? 'No thumbnail yet' : 'Not found' }));
      const remove = h('button', { type: 'button', class: 'secondary', 'data-action': 'remove', 'aria-label': `Remove ${quoted(title)} from the album`, text: 'Remove' });
      remove.addEventListener('click', () => void this.remove(doc.id, file, doc.pictures.indexOf(file)));
      return h('li', { 'data-file': file }, h('div', { class: 'album-card' }, thumb, h('span', { class: 'card-title', 'data-role': 'title', text: title }), remove));
    });
    this.grid.replaceChildren(...cards);
    if (focusAfter !== undefined) {
      const buttons = this.grid.querySelectorAll<HTMLElement>('[data-action="remove"]');
      (buttons[Math.min(focusAfter, buttons.length - 1)] ?? this.heading).focus();
    }
  }

  private async remove(albumId: string, file: string, at: number): Promise<void> {
    say(this.status, 'Removing…');
    try {
      const env = await this.deps.env();
      const changed = await removePictures(env, albumId, [file]);
      if (changed.doc.link) await publishAlbum(env, albumId, this.deps.publishDeps);
      await this.show(albumId, at);
    } catch (err) {
      say(this.status, `The picture could not be removed: ${this.deps.describeError(err)}`, true);
    }
  }
}

export interface SharedAlbumDeps {
  /** The body of a shared document, or undefined when there is none (or it may not be read). */
  read: (key: string) => Promise<string | undefined>;
  presign: (key: string) => Promise<string>;
  describeError: (err: unknown) => string;
}

/** A shared album as anyone with its link sees it (`#/a/{identityId}/{token}`). */
export class SharedAlbumView {
  private readonly heading = $('#shared-album-heading');
  private readonly status = $('#shared-album-status');
  private readonly missing = $('#shared-album-missing');
  private readonly grid = $('#shared-album-grid');
  private readonly dialog = el('#album-preview', HTMLDialogElement);
  private readonly image = el('#album-preview-image', HTMLImageElement);
  private token = 0;
  private opener?: HTMLElement;

  constructor(private readonly deps: SharedAlbumDeps) {
    $('#album-preview-close').addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('close', () => {
      this.image.removeAttribute('src');
      this.opener?.focus();
    });
  }

  async show(hash: string): Promise<void> {
    const token = ++this.token;
    setText(this.heading, 'Shared album');
    this.missing.hidden = true;
    this.grid.replaceChildren();
    say(this.status, 'Looking for the album…');
    const ref = parseAlbumLinkHash(hash);
    let body: string | undefined;
    if (ref) {
      try {
        body = await this.deps.read(sharedDocKey(ref.identityId, ref.token));
      } catch (err) {
        if (token !== this.token) return;
        say(this.status, `The album could not be looked up: ${this.deps.describeError(err)} Reload the page to try again.`, true);
        return;
      }
    }
    if (token !== this.token) return;
    const album = body === undefined ? undefined : parseSharedAlbum(body);
    if (!ref || !album) {
      say(this.status, '');
      this.missing.hidden = false;
      return;
    }
    setText(this.heading, album.name);
    say(this.status, pictures(album.pictures.length));
    this.grid.replaceChildren(...album.pictures.map((p) => {
      const img = h('img', { alt: '', decoding: 'async', 'data-role': 'thumbnail' });
      void this.deps.presign(sharedRenditionKey(ref.identityId, ref.token, 'thumbnails', p.file)).then((url) => { img.src = url; }, () => {});
      const button = h('button', { type: 'button', class: 'card', 'aria-haspopup': 'dialog' },
        h('span', { class: 'thumb' }, img), h('span', { class: 'card-title', 'data-role': 'title', text: p.title }));
      button.addEventListener('click', () => void this.open(button, sharedRenditionKey(ref.identityId, ref.token, 'previews', p.file), p));
      return h('li', { 'data-file': p.file }, button);
    }));
  }

  private async open(opener: HTMLElement, key: string, p: { title: string; width?: number; height?: number }): Promise<void> {
    this.opener = opener;
    setText($('#album-preview-title'), p.title);
    this.image.alt = p.title;
    setText($('#album-preview-caption'), p.width && p.height ? `${p.width} × ${p.height} original; the preview fits 1600 × 1600.` : '');
    this.dialog.showModal();
    try {
      this.image.src = await this.deps.presign(key);
    } catch (err) {
      setText($('#album-preview-caption'), `The picture could not be loaded: ${this.deps.describeError(err)}`);
    }
  }

  close(): void {
    this.token++;
    if (this.dialog.open) this.dialog.close();
  }
}
