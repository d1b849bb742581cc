/**
 * The detail dialog: the picture (its preview rendition; the original is its owner's download),
 * its facts (for the owner, whether the file carries a location), the faces toggle, the share
 * link, and the owner's edit, visibility change and delete. Only the owner's view requests the
 * original (originals.ts).
 */
import { checkEdit, lengthCounter } from '../edit';
import { scanLocation, type LocationScan } from '../location';
import type { IndexItem } from '../indexdoc';
import { originalDownload, ownsOriginal, shownPicture, type ResponseOverrides } from '../originals';
import { MAX_DESCRIPTION, MAX_TITLE } from '../metadata';
import { $, el, formatDate, setText } from './dom';

export interface DetailDeps {
  presign: (key: string, version: string, overrides?: ResponseOverrides) => Promise<string>;
  /** The signed-in user's identity id, if any. */
  ownerId: () => string | undefined;
  save: (item: IndexItem, title: string, description: string) => Promise<void>;
  remove: (item: IndexItem) => Promise<void>;
  /**
   * Moves the picture to the other visibility (removing the location from the file on the
   * way when asked); resolves to the new key once the old original is deleted.
   */
  move: (item: IndexItem, toPublic: boolean, removeLocation: boolean) => Promise<string>;
  /** The first bytes of the viewer's own original (a Range GET), to tell whether it carries a location. */
  readHead: (key: string) => Promise<Uint8Array>;
  shareUrl: (item: IndexItem) => string;
  describeError: (err: unknown) => string;
}


export class DetailView {
  private readonly dialog = el('#detail', HTMLDialogElement);
  private readonly title = $('#detail-title');
  private readonly image = el('#detail-image', HTMLImageElement);
  private readonly caption = $('#detail-image-caption');
  private readonly toggle = el('#detail-faces-toggle', HTMLButtonElement);
  private readonly original = el('#detail-original', HTMLAnchorElement);
  private readonly originalNote = $('#detail-original-note');
  private readonly owner = $('#detail-owner');
  private readonly editForm = el('#edit-form', HTMLFormElement);
  private readonly editTitle = el('#edit-title', HTMLInputElement);
  private readonly editDescription = el('#edit-description', HTMLTextAreaElement);
  private readonly editTitleCount = $('#edit-title-count');
  private readonly editDescriptionCount = $('#edit-description-count');
  private readonly editError = $('[data-role="error"]', this.editForm);
  private readonly editOk = $('[data-role="ok"]', this.editForm);
  private readonly deleteButton = el('#delete-button', HTMLButtonElement);
  private readonly deleteConfirm = $('#delete-confirm');
  private readonly deleteError = $('#delete-error');
  private readonly location = $('#detail-location');
  private readonly copyLink = el('#detail-copy-link', HTMLButtonElement);
  private readonly linkField = el('#detail-link', HTMLInputElement);
  private readonly linkStatus = $('#detail-link-status');
  private readonly visibilityText = $('#visibility-text');
  private readonly visibilityButton = el('#visibility-button', HTMLButtonElement);
  private readonly stripRow = $('#visibility-strip-row');
  private readonly stripBox = el('#visibility-strip', HTMLInputElement);
  private readonly visibilityError = $('#visibility-error');
  private readonly visibilityOk = $('#visibility-ok');
  private item?: IndexItem;
  /** The key the open picture is moving to, until an index lists it. */
  private movingTo?: string;
  private locationScan?: { key: string; scan: LocationScan | 'checking' };
  private showFaces = false;
  private opener?: HTMLElement;
  private imageToken = 0;

  constructor(private readonly deps: DetailDeps) {
    $('#detail-close').addEventListener('click', () => this.close());
    this.dialog.addEventListener('close', () => this.onClosed());
    // Click on the backdrop closes.
    this.dialog.addEventListener('click', (e) => {
      if (e.target === this.dialog) this.close();
    });
    this.toggle.addEventListener('click', () => {
      this.showFaces = !this.showFaces;
      this.renderImage();
    });
    this.editTitle.addEventListener('input', () => this.renderCounts());
    this.editDescription.addEventListener('input', () => this.renderCounts());
    this.editForm.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.save();
    });
    this.deleteButton.addEventListener('click', () => {
      this.deleteConfirm.hidden = false;
      this.deleteButton.hidden = true;
      el('#delete-no', HTMLButtonElement).focus();
    });
    $('#delete-no').addEventListener('click', () => this.resetDelete(true));
    $('#delete-yes').addEventListener('click', () => void this.remove());
    this.copyLink.addEventListener('click', () => void this.copyShareLink());
    this.visibilityButton.addEventListener('click', () => void this.changeVisibility());
  }

  get openKey(): string | undefined {
    return this.dialog.open ? this.item?.objectKey : undefined;
  }

  open(item: IndexItem): void {
    this.opener = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
    this.item = item;
    this.showFaces = false;
    setText(this.editError, '');
    setText(this.editOk, '');
    setText(this.deleteError, '');
    setText(this.linkStatus, '');
    setText(this.visibilityError, '');
    setText(this.visibilityOk, '');
    this.linkField.hidden = true;
    this.movingTo = undefined;
    this.stripBox.checked = true;
    this.resetDelete(false);
    this.editTitle.value = item.title;
    this.editDescription.value = item.description;
    this.renderCounts();
    this.render();
    if (!this.dialog.open) this.dialog.showModal();
    el('#detail-close', HTMLButtonElement).focus();
  }

  close(): void {
    if (this.dialog.open) this.dialog.close();
  }

  /** The index changed: refresh the open item's facts (not the fields being edited), or note it is gone. */
  refresh(items: IndexItem[] | undefined): void {
    if (!this.dialog.open || !this.item || !items) return;
    const fresh = items.find((i) => i.objectKey === this.item!.objectKey);
    if (!fresh && this.movingTo === this.item.objectKey) return; // not listed yet: the pipeline is on it
    if (!fresh) {
      setText(this.caption, 'This picture has been deleted.');
      this.owner.hidden = true;
      return;
    }
    const imageChanged = fresh.facesKey !== this.item.facesKey || fresh.previewKey !== this.item.previewKey;
    if (this.movingTo === fresh.objectKey) {
      this.movingTo = undefined;
      setText(this.visibilityOk, `Done: the picture is ${fresh.isPublic ? 'public' : 'private'} now.`);
    }
    this.item = fresh;
    this.render(imageChanged);
  }

  private render(reloadImage = true): void {
    const it = this.item!;
    setText(this.title, it.title);
    setText($('#detail-description'), it.description || '—');
    setText($('#detail-date'), formatDate(it.uploadDate));
    setText($('#detail-faces'), it.faceCount === undefined ? 'Detecting…' : String(it.faceCount));
    setText($('#detail-visibility'), it.isPublic ? 'Public' : 'Private');
    setText($('#detail-size'), it.width && it.height ? `${it.width} × ${it.height}` : 'unknown');
    this.toggle.disabled = !it.facesKey;
    const mine = ownsOriginal(it.objectKey, this.deps.ownerId());
    this.owner.hidden = !mine;
    this.renderVisibility();
    this.renderLocation();
    if (reloadImage) this.renderImage();
  }

  private renderVisibility(): void {
    const it = this.item!;
    this.visibilityButton.textContent = it.isPublic ? 'Make private' : 'Make public';
    setText(
      this.visibilityText,
      it.isPublic
        ? 'Everyone can see this picture. Making it private takes it out of the public gallery; title, description and date stay.'
        : 'Only you can see this picture. Making it public puts it in the public gallery; title, description and date stay.',
    );
    const scan = this.locationScan?.key === it.objectKey ? this.locationScan.scan : undefined;
    // Offered when a location is there, or may be (a JPEG whose metadata could not be read).
    const mayCarry = typeof scan === 'object' && (scan.status === 'present' || (scan.status === 'unknown' && it.contentType === 'image/jpeg'));
    this.stripRow.hidden = it.isPublic || !mayCarry;
  }

  /**
   * Says whether the original carries a location, from its first bytes (once per key). Only the
   * owner reads the original; others see renditions, which carry no metadata.
   */
  private renderLocation(): void {
    const it = this.item!;
    if (!ownsOriginal(it.objectKey, this.deps.ownerId())) {
      setText(this.location, 'Not shared: only its owner has the original file');
      this.location.dataset.location = 'owner-only';
      return;
    }
    if (this.locationScan?.key !== it.objectKey) {
      const key = it.objectKey;
      this.locationScan = { key, scan: 'checking' };
      this.deps.readHead(key).then(
        (head) => this.locationFound(key, scanLocation(head)),
        (err) => this.locationFound(key, { status: 'unknown', reason: this.deps.describeError(err) }),
      );
    }
    const scan = this.locationScan.scan;
    let text: string;
    if (scan === 'checking') text = 'Checking…';
    else if (scan.status === 'present') text = `Yes: the file carries where it was taken (${scan.where.join(', ')})`;
    else if (scan.status === 'none') text = 'None in the file';
    else text = `Not known (${scan.reason})`;
    setText(this.location, text);
    this.location.dataset.location = scan === 'checking' ? 'checking' : scan.status;
  }

  private locationFound(key: string, scan: LocationScan): void {
    if (this.locationScan?.key !== key) return;
    this.locationScan = { key, scan };
    if (this.item?.objectKey === key && this.dialog.open) {
      this.renderLocation();
      this.renderVisibility();
    }
  }

  /** Copies the share link; where the clipboard is refused, shows it selected to copy by hand. */
  private async copyShareLink(): Promise<void> {
    const it = this.item!;
    const url = this.deps.shareUrl(it);
    const note = it.isPublic ? '' : ' Only you can open it while the picture is private.';
    this.linkField.value = url;
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(url);
      this.linkField.hidden = true;
      setText(this.linkStatus, `Link copied.${note}`);
    } catch {
      this.linkField.hidden = false;
      this.linkField.focus();
      this.linkField.select();
      setText(this.linkStatus, `Copy the selected link (Ctrl+C or ⌘C).${note}`);
    }
  }

  private async changeVisibility(): Promise<void> {
    const it = this.item!;
    const toPublic = !it.isPublic;
    const scan = this.locationScan?.key === it.objectKey ? this.locationScan.scan : undefined;
    const removeLocation = toPublic && !this.stripRow.hidden && this.stripBox.checked;
    setText(this.visibilityError, '');
    setText(this.visibilityOk, '');
    if (toPublic && scan === 'checking') {
      // Never publish before knowing whether the file tells where it was taken.
      setText(this.visibilityError, 'Still checking the picture for a location; try again in a moment.');
      return;
    }
    this.visibilityButton.disabled = true;
    try {
      const newKey = await this.deps.move(it, toPublic, removeLocation);
      const moved = {
        ...it,
        objectKey: newKey,
        isPublic: toPublic,
        thumbnailKey: undefined,
        facesKey: undefined,
        faceCount: undefined,
      };
      // Whether the new original carries a location is known without reading it again.
      if (typeof scan === 'object') {
        this.locationScan = { key: newKey, scan: removeLocation ? { status: 'none' } : scan };
      }
      this.movingTo = newKey;
      if (this.dialog.open && this.item?.objectKey === it.objectKey) {
        this.item = moved;
        this.render(true);
        setText(this.visibilityOk, `Moved: the picture is ${toPublic ? 'public' : 'private'} now; the galleries follow in a moment.`);
      }
    } catch (err) {
      setText(this.visibilityError, `Could not change the visibility: ${this.deps.describeError(err)}`);
    } finally {
      this.visibilityButton.disabled = false;
    }
  }

  /** The counters under the edit fields ("12 / 200"), marked when over the bound. */
  private renderCounts(): void {
    for (const [field, counter, max] of [
      [this.editTitle, this.editTitleCount, MAX_TITLE],
      [this.editDescription, this.editDescriptionCount, MAX_DESCRIPTION],
    ] as const) {
      const { text, over } = lengthCounter(field.value, max);
      setText(counter, text);
      counter.classList.toggle('over', over);
    }
  }

  private renderImage(): void {
    const it = this.item!;
    const faces = this.showFaces && !!it.facesKey;
    this.toggle.setAttribute('aria-pressed', String(faces));
    this.toggle.textContent = faces ? 'Hide faces' : 'Show faces';
    const shown = faces ? { kind: 'faces' as const, key: it.facesKey! } : shownPicture(it, this.deps.ownerId());
    const token = ++this.imageToken;
    this.renderDownload(it, token);
    this.image.removeAttribute('src');
    this.image.dataset.shown = shown.kind;
    this.image.alt = faces ? `${it.title}, with detected faces outlined` : it.title;
    if (shown.kind === 'none') {
      // Not processed yet, not decodable, or made before previews: only the original, its owner's.
      this.image.hidden = true;
      setText(this.caption, 'No preview');
      return;
    }
    this.image.hidden = false;
    const key = shown.key;
    setText(this.caption, 'Loading…');
    this.image.onload = () => {
      if (token === this.imageToken) setText(this.caption, faces ? 'Detected faces are outlined.' : '');
    };
    this.image.onerror = () => {
      if (token === this.imageToken) setText(this.caption, 'The picture could not be loaded.');
    };
    this.deps.presign(key, it.uploadDate).then(
      (url) => {
        if (token === this.imageToken) this.image.src = url;
      },
      (err) => setText(this.caption, `The picture could not be loaded: ${this.deps.describeError(err)}`),
    );
  }

  /**
   * The original, full size, as its owner's download (the dialog shows the lighter preview).
   * Others get nothing to download: the preview on the page is theirs to save already.
   */
  private renderDownload(it: IndexItem, token: number): void {
    this.original.hidden = true;
    this.original.removeAttribute('href');
    this.original.onpointerenter = null;
    this.original.onfocus = null;
    const download = originalDownload(it, this.deps.ownerId());
    this.originalNote.hidden = download !== undefined;
    if (!download) {
      this.original.removeAttribute('download');
      return;
    }
    this.original.download = download.fileName;
    const sign = () => this.deps.presign(download.key, it.uploadDate, download.overrides).then(
      (url) => {
        if (token !== this.imageToken) return;
        this.original.href = url;
        this.original.hidden = false;
      },
      () => {},
    );
    // The dialog may stay open longer than the link's credentials live: about to be used, the
    // link is the cached URL, signed again once the old one is close to expiring.
    this.original.onpointerenter = () => void sign();
    this.original.onfocus = () => void sign();
    void sign();
  }

  private async save(): Promise<void> {
    const it = this.item!;
    setText(this.editError, '');
    setText(this.editOk, '');
    const title = this.editTitle.value.trim();
    // maxlength stops typing past the bounds, but not a longer value already in the
    // field (an item written to the table directly): refuse it here, never cut it.
    const check = checkEdit(title, this.editDescription.value);
    if (!check.ok) {
      setText(this.editError, check.reason);
      (check.field === 'title' ? this.editTitle : this.editDescription).focus();
      return;
    }
    const button = el('button[type="submit"]', HTMLButtonElement, this.editForm);
    button.disabled = true;
    try {
      await this.deps.save(it, title, this.editDescription.value);
      setText(this.editOk, 'Saved. The gallery updates in a moment.');
      // Show the new text at once; the index confirms it shortly.
      this.item = { ...it, title, description: this.editDescription.value.trim() };
      this.render(false);
    } catch (err) {
      setText(this.editError, `Could not save: ${this.deps.describeError(err)}`);
    } finally {
      button.disabled = false;
    }
  }

  private async remove(): Promise<void> {
    const it = this.item!;
    const yes = el('#delete-yes', HTMLButtonElement);
    yes.disabled = true;
    setText(this.deleteError, '');
    try {
      await this.deps.remove(it);
      this.close();
    } catch (err) {
      setText(this.deleteError, `Could not delete: ${this.deps.describeError(err)}`);
    } finally {
      yes.disabled = false;
    }
  }

  private resetDelete(focus: boolean): void {
    this.deleteConfirm.hidden = true;
    this.deleteButton.hidden = false;
    if (focus) this.deleteButton.focus();
  }

  private onClosed(): void {
    this.imageToken++;
    this.movingTo = undefined;
    this.image.removeAttribute('src');
    this.item = undefined;
    if (this.opener?.isConnected) this.opener.focus();
  }
}
