/**
 * The detail dialog: the picture (its preview rendition; the original is its owner's download),
 * its facts (for the owner, whether the file carries a location), the faces toggle, the share
 * link, and the owner's edit, visibility change and delete. Only the owner's view requests the
 * original (originals.ts). Previous and next (buttons, arrow keys, a swipe) move through the
 * grid it was opened from (browse.ts).
 */
import { arrowStep, neighbours, swipeStep, type Around, type Neighbours, type Step } from '../browse';
import { checkEdit, lengthCounter } from '../edit';
import { mayCarryLocation, scanLocation, type LocationScan } from '../location';
import type { IndexItem } from '../indexdoc';
import { originalDownload, ownsOriginal, shownPicture, type ResponseOverrides } from '../originals';
import { MAX_DESCRIPTION, MAX_TITLE } from '../metadata';
import { $, el, formatDate, formatTaken, h, setText } from './dom';

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
  /**
   * Keys this page deleted (or moved away from) that an index may still list for a moment:
   * moving through the pictures passes over them.
   */
  gone: (key: string) => boolean;
}

/**
 * The pictures the detail view moves through: the grid it was opened from, in the order and
 * with the find field's filter it shows them.
 */
export interface Browse {
  /** The grid's pictures as shown now (read at every step: the index changes meanwhile). */
  items: () => readonly IndexItem[];
  /**
   * Whether older pictures can be loaded and would continue the list after its last one (a
   * newest-first grid with a "Load older pictures" button): then Next at the last loaded
   * picture loads them, as scrolling the grid down would.
   */
  canLoadMore: () => boolean;
  loadMore: () => Promise<void>;
  /** The grid's control that opens `key`: focus returns there when the dialog closes. */
  control: (key: string) => HTMLElement | undefined;
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
  private readonly figure = $('.detail-figure', this.dialog);
  private readonly nav = $('#detail-nav');
  private readonly prevButton = el('#detail-prev', HTMLButtonElement);
  private readonly nextButton = el('#detail-next', HTMLButtonElement);
  private readonly position = $('#detail-position');
  private item?: IndexItem;
  /** The key the open picture is moving to, until an index lists it. */
  private movingTo?: string;
  private locationScan?: { key: string; scan: LocationScan | 'checking' };
  private showFaces = false;
  private opener?: HTMLElement;
  private imageToken = 0;
  /** The grid the dialog was opened from; undefined for a picture opened alone (a share link). */
  private browse?: Browse;
  /** The pictures around the open one when last looked at, to keep its place if it leaves the list. */
  private around: Around = {};
  /** Loading older pictures for Next at the last loaded one. */
  private loadingMore = false;
  /** The neighbours' previews, loaded ahead so a step shows them from the cache. */
  private preloads: { keys: string; images: HTMLImageElement[] } = { keys: '', images: [] };

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
    this.prevButton.addEventListener('click', () => void this.step('prev'));
    this.nextButton.addEventListener('click', () => void this.step('next'));
    // On the document: after a click on the picture (not focusable), focus is on the body.
    document.addEventListener('keydown', (e) => {
      if (!this.dialog.open || !this.browse || e.defaultPrevented) return;
      const target = e.target instanceof Element ? e.target : null;
      const step = arrowStep(e, target && {
        tagName: target.tagName,
        type: target instanceof HTMLInputElement ? target.type : undefined,
        isContentEditable: target instanceof HTMLElement && target.isContentEditable,
      });
      if (!step) return;
      e.preventDefault();
      void this.step(step);
    });
    this.followSwipes();
    this.followZoom();
  }

  /**
   * A one-finger horizontal swipe on the picture steps (touch only: a mouse drag selects). A
   * second finger (pinch-zoom) or the browser taking the touch over (pointercancel: a scroll)
   * drops it.
   */
  private followSwipes(): void {
    let start: { id: number; x: number; y: number } | undefined;
    const fingers = new Set<number>();
    this.figure.addEventListener('pointerdown', (e) => {
      if (e.pointerType !== 'touch') return;
      fingers.add(e.pointerId);
      start = fingers.size === 1 && e.isPrimary ? { id: e.pointerId, x: e.clientX, y: e.clientY } : undefined;
    });
    const lift = (e: PointerEvent) => {
      fingers.delete(e.pointerId);
      if (e.pointerId === start?.id && e.type === 'pointercancel') start = undefined;
    };
    this.figure.addEventListener('pointercancel', lift);
    this.figure.addEventListener('pointerup', (e) => {
      const began = start;
      const alone = fingers.size === 1;
      lift(e);
      if (!began || e.pointerId !== began.id) return;
      start = undefined;
      if (!alone || this.zoomed()) return;
      const step = swipeStep(e.clientX - began.x, e.clientY - began.y);
      if (step) void this.step(step);
    });
  }

  /** Whether the page is pinch-zoomed in (then a one-finger pan moves the zoomed view, not the pictures). */
  private zoomed(): boolean {
    return (window.visualViewport?.scale ?? 1) > 1.01;
  }

  private followZoom(): void {
    window.visualViewport?.addEventListener('resize', () => {
      this.figure.toggleAttribute('data-zoomed', this.zoomed());
    });
  }

  get openKey(): string | undefined {
    return this.dialog.open ? this.item?.objectKey : undefined;
  }

  /** Opens `item`; with `browse`, previous and next move through that grid. */
  open(item: IndexItem, browse?: Browse): void {
    this.opener = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
    this.browse = browse;
    this.around = {};
    this.show(item);
    if (!this.dialog.open) this.dialog.showModal();
    el('#detail-close', HTMLButtonElement).focus();
  }

  /** Shows `item` in the dialog as opening it from the gallery does: every part of it reset. */
  private show(item: IndexItem): void {
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
  }

  /** The pictures around the open one in the grid it was opened from, as the grid is now. */
  private neighbours(): Neighbours<IndexItem> | undefined {
    if (!this.browse || !this.item) return undefined;
    const found = neighbours(this.browse.items(), (i) => i.objectKey, this.item.objectKey, this.around, this.deps.gone);
    this.around = found.around;
    return found;
  }

  /**
   * Moves to the previous or next picture. Next at the last loaded one loads older pictures
   * when they continue the list (Browse.canLoadMore); otherwise the ends are the ends.
   */
  private async step(step: Step): Promise<void> {
    if (!this.dialog.open || this.loadingMore) return;
    let found = this.neighbours();
    if (!found) return;
    const focusHere = this.dialog.contains(document.activeElement) ? document.activeElement : null;
    if (step === 'next' && !found.next && this.browse?.canLoadMore()) {
      const browse = this.browse;
      const from = this.item?.objectKey;
      this.loadingMore = true;
      this.renderNav();
      try {
        // A page may hold nothing the find field lets through: on to the next one, while the
        // list grows (a failed load leaves it as it was, and the gallery says why).
        let before = -1;
        while (!found?.next && browse.canLoadMore() && browse.items().length > before) {
          before = browse.items().length;
          await browse.loadMore();
          found = this.neighbours();
        }
      } finally {
        this.loadingMore = false;
      }
      // Closed, or moved on by other means, while loading.
      if (!this.dialog.open || this.browse !== browse || this.item?.objectKey !== from) return;
    }
    const to = step === 'prev' ? found?.prev : found?.next;
    if (!to) {
      this.renderNav();
      return;
    }
    this.show(to);
    // Focus stays where it was, unless that control is gone for this picture (the end reached,
    // a confirmation closed): then on the other way, or on Close.
    const other = step === 'prev' ? this.nextButton : this.prevButton;
    const focus = [focusHere, other, el('#detail-close', HTMLButtonElement)]
      .find((c): c is HTMLElement => c instanceof HTMLElement && this.focusable(c));
    if (focus && document.activeElement !== focus) focus.focus();
  }

  private focusable(control: HTMLElement): boolean {
    return control.isConnected && !(control as HTMLButtonElement).disabled && !control.closest('[hidden]');
  }

  /**
   * The previous and next buttons (disabled at the ends, hidden for a picture opened alone),
   * the place in the list, and the neighbours' previews loaded ahead.
   */
  private renderNav(): void {
    const found = this.neighbours();
    this.nav.hidden = !found;
    if (!found || !this.item) return;
    const more = this.browse?.canLoadMore() ?? false;
    this.prevButton.disabled = !found.prev;
    this.nextButton.disabled = !found.next && (!more || this.loadingMore);
    const place = found.index === undefined ? '' : `${found.index + 1} of ${found.count}${more ? ' loaded' : ''}`;
    const spoken = place && `${this.item.title}, `;
    if (this.position.textContent !== spoken + place) {
      this.position.replaceChildren(h('span', { class: 'visually-hidden', text: spoken }), place);
    }
    this.preload([found.prev, found.next]);
  }

  /**
   * Loads the previews of `items` into the browser's cache, by the very URL the dialog will
   * show (presign answers the same URL for a key while it is valid), so a step shows them at
   * once. Only previews: an owner's picture without one would show the original, too heavy to
   * fetch on the chance.
   */
  private preload(items: (IndexItem | undefined)[]): void {
    const wanted = items.flatMap((it) => {
      const shown = it && shownPicture(it, this.deps.ownerId());
      return it && shown?.kind === 'preview' ? [{ key: shown.key, version: it.uploadDate }] : [];
    });
    const keys = JSON.stringify(wanted);
    if (keys === this.preloads.keys) return;
    const images: HTMLImageElement[] = [];
    // Kept while they are the neighbours, so the loaded pictures stay in the memory cache.
    this.preloads = { keys, images };
    for (const { key, version } of wanted) {
      const img = new Image();
      img.decoding = 'async';
      images.push(img);
      this.deps.presign(key, version).then(
        (url) => {
          if (this.preloads.images.includes(img)) img.src = url;
        },
        () => {},
      );
    }
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
      this.renderNav();
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
    setText($('#detail-taken'), formatTaken(it.takenAt));
    setText($('#detail-date'), formatDate(it.uploadDate));
    setText($('#detail-camera'), it.camera ?? '—');
    setText($('#detail-faces'), it.faceCount === undefined ? 'Detecting…' : String(it.faceCount));
    setText($('#detail-visibility'), it.isPublic ? 'Public' : 'Private');
    setText($('#detail-size'), it.width && it.height ? `${it.width} × ${it.height}` : 'unknown');
    this.toggle.disabled = !it.facesKey;
    const mine = ownsOriginal(it.objectKey, this.deps.ownerId());
    this.owner.hidden = !mine;
    this.renderVisibility();
    this.renderLocation();
    this.renderNav();
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
    this.stripRow.hidden = it.isPublic || typeof scan !== 'object' || !mayCarryLocation(scan, it.contentType);
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
      if (this.dialog.open && this.item?.objectKey === it.objectKey) {
        this.movingTo = newKey;
        this.item = moved;
        this.render(true);
        setText(this.visibilityOk, `Moved: the picture is ${toPublic ? 'public' : 'private'} now; the galleries follow in a moment.`);
      }
    } catch (err) {
      if (this.item?.objectKey === it.objectKey) setText(this.visibilityError, `Could not change the visibility: ${this.deps.describeError(err)}`);
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
      (err) => {
        if (token === this.imageToken) setText(this.caption, `The picture could not be loaded: ${this.deps.describeError(err)}`);
      },
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
      // Moved on to another picture meanwhile: the gallery shows the saved text.
      if (this.item?.objectKey !== it.objectKey) return;
      setText(this.editOk, 'Saved. The gallery updates in a moment.');
      // Show the new text at once; the index confirms it shortly.
      this.item = { ...it, title, description: this.editDescription.value.trim() };
      this.render(false);
    } catch (err) {
      if (this.item?.objectKey !== it.objectKey) return;
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
      // Deleting closes the dialog (the grid shows the picture gone), unless the person moved
      // on to another picture meanwhile.
      if (this.item?.objectKey === it.objectKey) this.close();
    } catch (err) {
      if (this.item?.objectKey !== it.objectKey) return;
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
    // Focus goes back to the grid at the picture last shown (the one opened, or one moved to).
    const control = this.item && this.browse?.control(this.item.objectKey);
    this.item = undefined;
    this.browse = undefined;
    this.preloads = { keys: '', images: [] };
    if (control?.isConnected) control.focus();
    else if (this.opener?.isConnected) this.opener.focus();
  }
}
