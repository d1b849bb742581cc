/**
 * The detail dialog: the picture (its preview rendition; the original is a download link),
 * its facts, the faces toggle, and the owner's edit and delete.
 */
import { checkEdit, lengthCounter } from '../edit';
import { displayKey, type IndexItem } from '../indexdoc';
import { MAX_DESCRIPTION, MAX_TITLE } from '../metadata';
import { $, formatDate, setText } from './dom';

export interface DetailDeps {
  presign: (key: string, version: string) => Promise<string>;
  /** The signed-in user's identity id, if any. */
  ownerId: () => string | undefined;
  save: (item: IndexItem, title: string, description: string) => Promise<void>;
  remove: (item: IndexItem) => Promise<void>;
  describeError: (err: unknown) => string;
}

export class DetailView {
  private readonly dialog = $('#detail') as HTMLDialogElement;
  private readonly title = $('#detail-title');
  private readonly image = $('#detail-image') as HTMLImageElement;
  private readonly caption = $('#detail-image-caption');
  private readonly toggle = $('#detail-faces-toggle') as HTMLButtonElement;
  private readonly original = $('#detail-original') as HTMLAnchorElement;
  private readonly owner = $('#detail-owner');
  private readonly editForm = $('#edit-form') as HTMLFormElement;
  private readonly editTitle = $('#edit-title') as HTMLInputElement;
  private readonly editDescription = $('#edit-description') as HTMLTextAreaElement;
  private readonly editTitleCount = $('#edit-title-count');
  private readonly editDescriptionCount = $('#edit-description-count');
  private readonly editError = $('[data-role="error"]', this.editForm);
  private readonly editOk = $('[data-role="ok"]', this.editForm);
  private readonly deleteButton = $('#delete-button') as HTMLButtonElement;
  private readonly deleteConfirm = $('#delete-confirm');
  private readonly deleteError = $('#delete-error');
  private item?: IndexItem;
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
      ($('#delete-no') as HTMLButtonElement).focus();
    });
    $('#delete-no').addEventListener('click', () => this.resetDelete(true));
    $('#delete-yes').addEventListener('click', () => void this.remove());
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
    this.resetDelete(false);
    this.editTitle.value = item.title;
    this.editDescription.value = item.description;
    this.renderCounts();
    this.render();
    if (!this.dialog.open) this.dialog.showModal();
    ($('#detail-close') as HTMLButtonElement).focus();
  }

  close(): void {
    if (this.dialog.open) this.dialog.close();
  }

  /** The index changed: refresh the open item's facts (not the fields being edited), or note it is gone. */
  refresh(items: IndexItem[] | undefined): void {
    if (!this.dialog.open || !this.item || !items) return;
    const fresh = items.find((i) => i.objectKey === this.item!.objectKey);
    if (!fresh) {
      setText(this.caption, 'This picture has been deleted.');
      this.owner.hidden = true;
      return;
    }
    const imageChanged = fresh.facesKey !== this.item.facesKey || fresh.previewKey !== this.item.previewKey;
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
    const mine = this.deps.ownerId() === it.identityId;
    this.owner.hidden = !mine;
    if (reloadImage) this.renderImage();
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
    const key = faces ? it.facesKey! : displayKey(it);
    const token = ++this.imageToken;
    this.renderOriginalLink(it, token);
    this.image.removeAttribute('src');
    this.image.alt = faces ? `${it.title}, with detected faces outlined` : it.title;
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

  /** The original, full size, as a download (the dialog shows the lighter preview). */
  private renderOriginalLink(it: IndexItem, token: number): void {
    this.original.hidden = true;
    this.original.removeAttribute('href');
    this.original.download = it.objectKey.split('/').pop() ?? '';
    this.deps.presign(it.objectKey, it.uploadDate).then(
      (url) => {
        if (token !== this.imageToken) return;
        this.original.href = url;
        this.original.hidden = false;
      },
      () => {},
    );
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
    const button = this.editForm.querySelector('button[type="submit"]') as HTMLButtonElement;
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
    const yes = $('#delete-yes') as HTMLButtonElement;
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
    this.image.removeAttribute('src');
    this.item = undefined;
    if (this.opener?.isConnected) this.opener.focus();
  }
}
