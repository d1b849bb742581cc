/**
 * My pictures' Select mode and what it does to the selection: delete (after a confirmation
 * naming the count), make public, make private, add to an album (an existing one or a new one). The gallery holds the selection (gallery.ts,
 * selection.ts); this bar turns select mode on and off, says how many are selected, and runs an
 * action over them with runBulk (bulk.ts), a few at a time, through the same code paths as the
 * detail view's single-picture delete and visibility change (main.ts). It ends with a report:
 * what succeeded, what was skipped and why, and each failure by title with a reason; failures
 * stay selected for another try.
 */
import { pictures, runBulk, summarize, type BulkProgress, type BulkReport } from '../bulk';
import type { IndexItem } from '../indexdoc';
import type { Gallery } from './gallery';
import { $, el, h, setText } from './dom';

/** Actions under way at once: enough to hide latency, few enough to spare the browser and S3. */
export const BULK_CONCURRENCY = 3;

export interface BulkDeps {
  gallery: Gallery;
  /** Deletes one picture (the detail view's delete). */
  remove: (item: IndexItem) => Promise<void>;
  /**
   * Moves one picture to the other visibility (the detail view's); on the way to public, first
   * removes the location from a file that carries one when `removeLocation`.
   */
  move: (item: IndexItem, toPublic: boolean, removeLocation: boolean) => Promise<unknown>;
  describeError: (err: unknown) => string;
  /** The person's albums to add to, and the adding itself (albums.ts, addToAlbum). */
  albums: {
    list: () => Promise<{ id: string; name: string }[]>;
    add: (items: IndexItem[], target: { albumId: string } | { name: string }) => Promise<{ report: BulkReport<IndexItem>; name: string }>;
  };
}

type Action = 'delete' | 'public' | 'private';

const WORDS: Record<Action, { doing: string; done: (n: number) => string }> = {
  delete: { doing: 'Deleting', done: (n) => `Deleted ${pictures(n)}` },
  public: { doing: 'Making public', done: (n) => `Made ${pictures(n)} public` },
  private: { doing: 'Making private', done: (n) => `Made ${pictures(n)} private` },
};

export class BulkBar {
  private readonly toggle = el('#select-toggle', HTMLButtonElement);
  private readonly hint = $('#select-hint');
  private readonly panel = $('#bulk-panel');
  private readonly count = $('#bulk-count');
  private readonly selectAll = el('#select-all', HTMLButtonElement);
  private readonly clear = el('#select-clear', HTMLButtonElement);
  private readonly makePublic = el('#bulk-public', HTMLButtonElement);
  private readonly makePrivate = el('#bulk-private', HTMLButtonElement);
  private readonly deleteButton = el('#bulk-delete', HTMLButtonElement);
  private readonly albumButton = el('#bulk-album', HTMLButtonElement);
  private readonly albumForm = el('#bulk-album-form', HTMLFormElement);
  private readonly albumChoice = el('#bulk-album-choice', HTMLSelectElement);
  private readonly albumName = el('#bulk-album-name', HTMLInputElement);
  private readonly albumNameLabel = $('#bulk-album-name-label');
  private readonly strip = el('#bulk-strip', HTMLInputElement);
  private readonly confirm = $('#bulk-confirm');
  private readonly confirmText = $('#bulk-confirm-text');
  private readonly yes = el('#bulk-delete-yes', HTMLButtonElement);
  private readonly no = el('#bulk-delete-no', HTMLButtonElement);
  private readonly meter = el('#bulk-meter', HTMLProgressElement);
  private readonly progress = $('#bulk-progress');
  private readonly failures = $('#bulk-failures');
  /** The run under way; aborted (no further item starts) when the session changes. */
  private running?: AbortController;

  constructor(private readonly deps: BulkDeps) {
    const { gallery } = deps;
    this.toggle.addEventListener('click', () => {
      if (!this.running) this.setSelecting(!gallery.selecting);
    });
    this.selectAll.addEventListener('click', () => this.whenIdle(() => gallery.selectAllShown()));
    this.clear.addEventListener('click', () => this.whenIdle(() => gallery.clearSelection()));
    this.makePublic.addEventListener('click', () => this.whenIdle(() => void this.run('public')));
    this.makePrivate.addEventListener('click', () => this.whenIdle(() => void this.run('private')));
    this.deleteButton.addEventListener('click', () => this.whenIdle(() => this.askDelete()));
    this.albumButton.addEventListener('click', () => this.whenIdle(() => {
      if (this.albumForm.hidden) void this.openAlbumForm();
      else this.closeAlbumForm(true);
    }));
    this.albumChoice.addEventListener('change', () => this.syncAlbumName());
    el('#bulk-album-cancel', HTMLButtonElement).addEventListener('click', () => this.closeAlbumForm(true));
    this.albumForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.whenIdle(() => void this.addToAlbum());
    });
    this.no.addEventListener('click', () => this.closeConfirm(true));
    this.yes.addEventListener('click', () => {
      if (this.running) return;
      this.closeConfirm(false);
      this.deleteButton.focus();
      void this.run('delete');
    });
    // Escape closes the confirmation, else leaves select mode (not while a run is under way, nor
    // when a dialog has it).
    document.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape' || e.defaultPrevented || !gallery.selecting || this.running) return;
      if (this.panel.closest('section[hidden]') || document.querySelector('dialog[open]')) return;
      // Escape in the find field clears it, as in any search field.
      if (e.target instanceof HTMLElement && e.target.matches('input:not([type="checkbox"]), textarea, select')) return;
      e.preventDefault();
      if (!this.confirm.hidden) return this.closeConfirm(true);
      if (!this.albumForm.hidden) return this.closeAlbumForm(true);
      const inPanel = this.panel.contains(document.activeElement);
      this.setSelecting(false);
      if (inPanel) this.toggle.focus();
    });
    this.render();
  }

  /** The gallery's selection or mode changed. */
  render(): void {
    const { gallery } = this.deps;
    const on = gallery.selecting;
    this.toggle.setAttribute('aria-pressed', String(on));
    this.hint.hidden = !on;
    this.panel.hidden = !on;
    if (!on) {
      this.confirm.hidden = true;
      this.closeAlbumForm(false);
      this.showReport(undefined);
    }
    const { selected, hidden } = gallery.selectedCount;
    setText(this.count, `${selected} selected${hidden ? ` (${hidden} not shown by Find)` : ''}`);
    const idle = !this.running;
    this.setEnabled(this.toggle, idle);
    this.setEnabled(this.selectAll, idle);
    this.setEnabled(this.clear, idle && selected > 0);
    for (const b of [this.makePublic, this.makePrivate, this.albumButton, this.deleteButton]) this.setEnabled(b, idle && selected > 0);
    this.setEnabled(el('#bulk-album-add', HTMLButtonElement), idle && selected > 0);
    // The confirmation names a count: one that changed since is asked again.
    if (!this.confirm.hidden && this.confirm.dataset.count !== String(selected)) this.closeConfirm(false);
  }

  /** Signed in or out: the run stops starting items (those under way end), the report goes. */
  cancel(): void {
    this.running?.abort();
    this.showReport(undefined);
  }

  private setSelecting(on: boolean): void {
    this.deps.gallery.setSelecting(on);
  }

  /**
   * Controls are marked aria-disabled rather than disabled while they cannot act: a disabled
   * button loses focus, and the person would have to find their place again.
   */
  private setEnabled(button: HTMLButtonElement, enabled: boolean): void {
    if (enabled) button.removeAttribute('aria-disabled');
    else button.setAttribute('aria-disabled', 'true');
  }

  private whenIdle(fn: () => void): void {
    if (!this.running && this.deps.gallery.selecting) fn();
  }

  private askDelete(): void {
    const n = this.deps.gallery.selectedCount.selected;
    if (n === 0) return;
    this.closeAlbumForm(false);
    this.showReport(undefined);
    this.confirm.dataset.count = String(n);
    setText(this.confirmText, `Delete ${pictures(n)} for good? This cannot be undone.`);
    setText(this.yes, `Yes, delete ${pictures(n)}`);
    this.confirm.hidden = false;
    this.no.focus();
  }

  /** The album chooser: the person's albums by name, then "A new album…" with a name field. */
  private async openAlbumForm(): Promise<void> {
    this.confirm.hidden = true;
    this.showReport(undefined);
    this.albumChoice.replaceChildren(h('option', { value: '', text: 'A new album…' }));
    this.albumForm.hidden = false;
    this.albumButton.setAttribute('aria-expanded', 'true');
    this.syncAlbumName();
    this.albumChoice.focus();
    try {
      const albums = await this.deps.albums.list();
      if (this.albumForm.hidden) return;
      const chosen = this.albumChoice.value;
      this.albumChoice.replaceChildren(
        ...albums.map((a) => h('option', { value: a.id, text: a.name })),
        h('option', { value: '', text: 'A new album…' }));
      this.albumChoice.value = chosen && albums.some((a) => a.id === chosen) ? chosen : (albums[0]?.id ?? '');
      this.syncAlbumName();
    } catch (err) {
      this.showReport({ report: { done: [], skipped: [], failed: [], notStarted: [] }, text: `Your albums could not be listed: ${this.deps.describeError(err)}` });
    }
  }

  private syncAlbumName(): void {
    const fresh = this.albumChoice.value === '';
    this.albumName.hidden = !fresh;
    this.albumNameLabel.hidden = !fresh;
    this.albumName.required = fresh;
  }

  private closeAlbumForm(focus: boolean): void {
    if (this.albumForm.hidden) return;
    this.albumForm.hidden = true;
    this.albumButton.setAttribute('aria-expanded', 'false');
    if (focus) this.albumButton.focus();
  }

  private async addToAlbum(): Promise<void> {
    const { gallery } = this.deps;
    const items = gallery.selectedItems();
    if (!items.length || this.running) return;
    const albumId = this.albumChoice.value;
    const name = this.albumName.value.trim();
    if (!albumId && !name) {
      this.albumName.focus();
      setText(this.progress, 'Name the new album first.');
      return;
    }
    const abort = new AbortController();
    this.running = abort;
    this.closeAlbumForm(false);
    this.albumButton.focus();
    this.showReport(undefined);
    this.render();
    this.showProgress('Adding to the album', { finished: 0, total: items.length, succeeded: 0, failed: 0 });
    let out: { report: BulkReport<IndexItem>; name: string };
    try {
      out = await this.deps.albums.add(items, albumId ? { albumId } : { name });
    } catch (err) {
      // The album could not be read or written at all (signed out meanwhile, no network):
      // every picture failed, and the report says why rather than leaving the progress up.
      const reason = err instanceof Error ? err.message : String(err);
      out = { report: { done: [], skipped: [], failed: items.map((item) => ({ item, reason })), notStarted: [] }, name };
    } finally {
      if (this.running === abort) this.running = undefined;
    }
    if (abort.signal.aborted) return;
    const { report } = out;
    if (!albumId && report.done.length) this.albumName.value = '';
    const key = (i: IndexItem) => i.objectKey;
    const already = report.skipped.filter((s) => s.reason === 'already in the album').map((s) => key(s.item));
    gallery.settleSelection([...report.done.map(key), ...already], [...report.failed.map((f) => key(f.item)), ...report.notStarted.map(key)]);
    this.showReport({ report, text: summarize(report, (n) => `Added ${pictures(n)} to “${out.name}”`) });
    this.render();
  }

  private closeConfirm(focus: boolean): void {
    this.confirm.hidden = true;
    if (focus) this.deleteButton.focus();
  }

  private async run(action: Action): Promise<void> {
    const { gallery } = this.deps;
    const items = gallery.selectedItems();
    if (!items.length || this.running) return;
    const words = WORDS[action];
    const removeLocation = this.strip.checked;
    const abort = new AbortController();
    this.running = abort;
    this.confirm.hidden = true;
    this.showReport(undefined);
    this.render();
    let report: BulkReport<IndexItem>;
    try {
      report = await runBulk(items, {
        concurrency: BULK_CONCURRENCY,
        signal: abort.signal,
        describeError: this.deps.describeError,
        skip: (item) => {
          if (action === 'delete') return undefined;
          if (item.isPublic === (action === 'public')) return `already ${action}`;
          if (item.refused) return 'the cloud did not keep the file';
          return undefined;
        },
        run: (item) => (action === 'delete' ? this.deps.remove(item) : this.deps.move(item, action === 'public', removeLocation)),
        onProgress: (p) => this.showProgress(words.doing, p),
      });
    } finally {
      if (this.running === abort) this.running = undefined;
    }
    // Signed in or out meanwhile: the selection and the grid were the other session's.
    if (abort.signal.aborted) return;
    const key = (i: IndexItem) => i.objectKey;
    // What is done, or was already as asked, leaves the selection; what failed stays (or is put
    // back), and so does what was skipped for another reason (a file the cloud did not keep).
    const already = report.skipped.filter((s) => action !== 'delete' && s.item.isPublic === (action === 'public')).map((s) => key(s.item));
    gallery.settleSelection([...report.done.map(key), ...already], [...report.failed.map((f) => key(f.item)), ...report.notStarted.map(key)]);
    this.showReport({ report, text: summarize(report, words.done) });
    this.render();
  }

  private showProgress(doing: string, p: BulkProgress): void {
    this.meter.hidden = p.total === 0;
    this.meter.max = Math.max(p.total, 1);
    this.meter.value = p.finished;
    setText(this.progress, p.total ? `${doing}: ${p.finished} of ${p.total} done…` : '');
  }

  /** The end of a run (the summary, then each failure: title and reason), or nothing. */
  private showReport(end: { report: BulkReport<IndexItem>; text: string } | undefined): void {
    this.meter.hidden = true;
    setText(this.progress, end?.text ?? '');
    this.progress.classList.toggle('error', !!end && end.report.failed.length > 0);
    this.failures.replaceChildren(...(end?.report.failed ?? []).map(({ item, reason }) =>
      h('li', { 'data-key': item.objectKey },
        h('span', { class: 'failure-title', text: item.title || item.objectKey.split('/').pop() }), `: ${reason}`)));
    this.failures.hidden = !end?.report.failed.length;
  }
}
