/** The upload view: pick or drop files, describe each, upload with per-file progress. */
import { contentKey, sanitizeFileName, uniqueFileName, visibilityOf } from '../keys';
import { scanLocation, stripLocation, type LocationScan } from '../location';
import { checkFile, checkMetadataSize, defaultTitle, formatBytes, MAX_DESCRIPTION, MAX_TITLE } from '../metadata';
import { $, el, h, setText } from './dom';
import type { AppConfig } from '../config';
import { quotaProblem, usageText } from '../bounds';

export interface UploadDeps {
  identityId: () => Promise<string>;
  /**
   * File names the signed-in user already uses, under either prefix (from the private index):
   * a new upload takes a name unused under both, so a share link (owner and file name) names
   * one picture.
   */
  takenNames: () => Promise<Set<string>>;
  upload: (key: string, file: Blob, contentType: string, meta: { isPublic: boolean; title: string; description: string }, onProgress: (f: number) => void) => { done: Promise<void>; abort: () => Promise<void> };
  describeError: (err: unknown) => string;
  /** Called after a round of uploads with the keys written. */
  onUploaded: (keys: string[]) => void;
  /** The largest upload kept and the storage quota (config.json). */
  limits: Pick<AppConfig, 'maxUploadBytes' | 'storageQuotaBytes'>;
  /** Bytes of the person's originals now stored (the bucket's listing, as the quota counts). */
  storageUsed: () => Promise<number>;
}

type State = 'checking' | 'invalid' | 'ready' | 'uploading' | 'done' | 'failed';

interface Entry {
  id: number;
  file: File;
  state: State;
  contentType?: string;
  li: HTMLLIElement;
  title?: HTMLInputElement;
  description?: HTMLTextAreaElement;
  isPublic?: HTMLInputElement;
  /** "Remove location tags": follows Public until the person sets it (JPEG only). */
  removeLocation?: HTMLInputElement;
  removeLocationTouched?: boolean;
  progress?: HTMLProgressElement;
  percent?: HTMLElement;
  stateText: HTMLElement;
  previewUrl?: string;
}

let nextId = 1;

export class UploadView {
  private entries: Entry[] = [];
  private readonly queue = el('#upload-queue', HTMLOListElement);
  private readonly form = el('#upload-form', HTMLFormElement);
  private readonly button = el('#upload-button', HTMLButtonElement);
  private readonly clearButton = el('#upload-clear', HTMLButtonElement);
  private readonly status = $('#upload-status');
  private readonly usage = $('#storage-usage');
  /** The last storage figure read, while a round of checks uses it. */
  private usedBytes?: Promise<number | undefined>;
  private busy = false;
  /** Keys uploaded in this session (the index may not list them yet). */
  private readonly uploaded = new Set<string>();

  constructor(private readonly deps: UploadDeps) {
    const input = el('#file-input', HTMLInputElement);
    input.addEventListener('change', () => {
      if (input.files) this.add(Array.from(input.files));
      input.value = '';
    });
    const zone = $('#drop-zone');
    const view = $('#view-upload');
    view.addEventListener('dragover', (e) => {
      e.preventDefault();
      zone.classList.add('dragging');
    });
    view.addEventListener('dragleave', (e) => {
      if (!view.contains(e.relatedTarget as Node | null)) zone.classList.remove('dragging');
    });
    view.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('dragging');
      const files = Array.from(e.dataTransfer?.files ?? []);
      if (files.length) this.add(files);
    });
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.uploadAll();
    });
    this.clearButton.addEventListener('click', () => this.clear());
  }

  /** Adds files to the list, checking each before anything is sent. */
  add(files: File[]): void {
    this.usedBytes = this.readUsage();
    for (const file of files) {
      const entry = this.buildEntry(file);
      this.entries.push(entry);
      this.queue.append(entry.li);
      void this.check(entry);
    }
    setText(this.status, '');
    this.refresh();
  }

  clear(): void {
    if (this.busy) return;
    for (const e of this.entries) if (e.previewUrl) URL.revokeObjectURL(e.previewUrl);
    this.entries = [];
    this.queue.replaceChildren();
    setText(this.status, '');
    this.refresh();
  }

  private remove(entry: Entry): void {
    if (entry.state === 'uploading') return;
    if (entry.previewUrl) URL.revokeObjectURL(entry.previewUrl);
    entry.li.remove();
    this.entries = this.entries.filter((e) => e !== entry);
    this.refresh();
  }

  private buildEntry(file: File): Entry {
    const id = nextId++;
    const stateText = h('span', { class: 'entry-state', id: `entry-${id}-state`, text: 'Checking…' });
    const li = h('li', { class: 'upload-entry', 'data-file': file.name });
    const entry: Entry = { id, file, state: 'checking', li, stateText };
    li.append(
      h('img', { class: 'preview', alt: '' }),
      h('fieldset', {}, h('legend', { text: file.name }), h('p', { class: 'hint', text: formatBytes(file.size) }), stateText),
    );
    return entry;
  }

  private async check(entry: Entry): Promise<void> {
    let head: Uint8Array;
    try {
      // Enough for the format and for a JPEG's metadata segments (EXIF and XMP come first).
      head = new Uint8Array(await entry.file.slice(0, 256 * 1024).arrayBuffer());
    } catch {
      head = new Uint8Array();
    }
    let res = checkFile(entry.file.size, head, this.deps.limits.maxUploadBytes);
    const used = await this.usedBytes;
    const overQuota = res.ok && used !== undefined ? quotaProblem(entry.file.size, used, this.deps.limits) : undefined;
    if (overQuota) res = { ok: false, reason: overQuota };
    if (!res.ok) {
      entry.state = 'invalid';
      entry.li.classList.add('invalid');
      setText(entry.stateText, res.reason);
      entry.stateText.classList.add('error');
      entry.li.querySelector('fieldset')!.append(
        h('div', { class: 'row' }, h('button', { type: 'button', class: 'secondary', 'aria-label': `Remove ${entry.file.name}`, text: 'Remove', onclick: () => this.remove(entry) })),
      );
      el('.preview', HTMLImageElement, entry.li).remove();
      this.refresh();
      return;
    }
    entry.contentType = res.contentType;
    entry.state = 'ready';
    entry.previewUrl = URL.createObjectURL(entry.file);
    el('.preview', HTMLImageElement, entry.li).src = entry.previewUrl;
    const p = `entry-${entry.id}`;
    entry.title = h('input', { id: `${p}-title`, type: 'text', maxlength: MAX_TITLE, value: defaultTitle(entry.file.name), 'data-role': 'title' });
    entry.description = h('textarea', { id: `${p}-description`, rows: 2, maxlength: MAX_DESCRIPTION, 'data-role': 'description' });
    entry.isPublic = h('input', { id: `${p}-public`, type: 'checkbox', 'data-role': 'public' });
    const locationRow = entry.contentType === 'image/jpeg' ? this.locationRow(entry, scanLocation(head)) : null;
    entry.progress = h('progress', { id: `${p}-progress`, max: 100, value: 0, 'aria-label': `Upload progress of ${entry.file.name}` });
    entry.percent = h('span', { 'data-role': 'percent', text: '0%' });
    setText(entry.stateText, 'Ready');
    const fs = entry.li.querySelector('fieldset')!;
    fs.append(
      h('div', { class: 'stack' },
        h('label', { for: entry.title.id, text: 'Title' }), entry.title,
        h('label', { for: entry.description.id, text: 'Description' }), entry.description),
      h('div', { class: 'row' }, entry.isPublic, h('label', { for: entry.isPublic.id, text: 'Public: everyone can see it' })),
      locationRow ?? '',
      h('div', { class: 'row' }, entry.progress, entry.percent,
        h('button', { type: 'button', class: 'secondary', 'data-role': 'remove', 'aria-label': `Remove ${entry.file.name}`, text: 'Remove', onclick: () => this.remove(entry) })),
    );
    fs.append(entry.stateText);
    this.refresh();
  }

  /**
   * The "remove location" choice of a JPEG: on by default for a public upload, off for a
   * private one, until the person sets it; and whether the file carries a location at all.
   */
  private locationRow(entry: Entry, scan: LocationScan): HTMLElement {
    const box = h('input', { id: `entry-${entry.id}-strip`, type: 'checkbox', 'data-role': 'remove-location' });
    entry.removeLocation = box;
    box.addEventListener('change', () => {
      entry.removeLocationTouched = true;
    });
    entry.isPublic!.addEventListener('change', () => {
      if (!entry.removeLocationTouched) box.checked = entry.isPublic!.checked;
    });
    const hint =
      scan.status === 'present' ? `This picture carries where it was taken (${scan.where.join(', ')}).`
        : scan.status === 'none' ? 'No location found in this picture.'
          : '';
    return h('div', { class: 'row location' },
      box,
      h('label', { for: box.id, text: 'Remove location tags (GPS) before uploading' }),
      hint ? h('span', { class: 'hint', 'data-role': 'location', 'data-location': scan.status, text: hint }) : null);
  }

  private refresh(): void {
    const ready = this.entries.filter((e) => e.state === 'ready' || e.state === 'failed').length;
    this.button.disabled = this.busy || ready === 0;
    this.button.textContent = ready > 1 ? `Upload ${ready} pictures` : 'Upload';
    this.clearButton.disabled = this.busy || this.entries.length === 0;
  }

  private setState(entry: Entry, state: State, text: string): void {
    entry.state = state;
    setText(entry.stateText, text);
    entry.stateText.classList.toggle('error', state === 'failed');
    entry.stateText.classList.toggle('done', state === 'done');
    entry.li.dataset.state = state;
  }

  private setProgress(entry: Entry, fraction: number): void {
    const pct = Math.round(fraction * 100);
    if (entry.progress) entry.progress.value = pct;
    if (entry.percent) setText(entry.percent, `${pct}%`);
  }

  async uploadAll(): Promise<void> {
    if (this.busy) return;
    const todo = this.entries.filter((e) => e.state === 'ready' || e.state === 'failed');
    // Check all metadata first: nothing is sent if any entry is not acceptable.
    let bad = 0;
    for (const e of todo) {
      const meta = this.metaOf(e);
      const size = checkMetadataSize(meta);
      if (!size.ok) {
        this.setState(e, 'failed', size.reason);
        bad++;
      }
    }
    if (bad) {
      setText(this.status, `${bad} picture${bad === 1 ? ' needs' : 's need'} attention before uploading.`);
      return;
    }
    this.busy = true;
    this.refresh();
    let identityId: string;
    try {
      identityId = await this.deps.identityId();
    } catch (err) {
      this.busy = false;
      this.refresh();
      setText(this.status, `Could not start the upload: ${this.deps.describeError(err)}`);
      return;
    }
    setText(this.status, `Uploading ${todo.length} picture${todo.length === 1 ? '' : 's'}…`);
    let taken = new Set<string>();
    try {
      taken = await this.deps.takenNames();
    } catch {
      // The index could not be read: only this session's names are known.
    }
    for (const key of this.uploaded) {
      const [, , id, ...rest] = key.split('/');
      if (id === identityId) taken.add(rest.join('/'));
    }
    const jobs = todo.map((e) => {
      const meta = this.metaOf(e);
      const name = uniqueFileName(sanitizeFileName(e.file.name), taken);
      taken.add(name);
      return { e, meta, key: contentKey(visibilityOf(meta.isPublic), identityId, name) };
    });
    let failed = 0;
    // Two at a time.
    const run = async (): Promise<void> => {
      for (let job = jobs.shift(); job; job = jobs.shift()) {
        const { e, meta, key } = job;
        for (const el of [e.title, e.description, e.isPublic, e.removeLocation]) if (el) el.disabled = true;
        this.setState(e, 'uploading', 'Uploading…');
        this.setProgress(e, 0);
        try {
          let cancelled = false;
          const { body, note } = await this.withoutLocation(e);
          const transfer = this.deps.upload(key, body, e.contentType!, meta, (f) => this.setProgress(e, f));
          const cancel = h('button', {
            type: 'button', class: 'secondary', 'aria-label': `Cancel upload of ${e.file.name}`, text: 'Cancel',
            onclick: () => {
              cancelled = true;
              void transfer.abort();
            },
          });
          e.progress?.parentElement?.append(cancel);
          try {
            await transfer.done;
          } catch (err) {
            if (cancelled) throw new Error('Cancelled.', { cause: err });
            throw err;
          } finally {
            cancel.remove();
          }
          this.setProgress(e, 1);
          this.setState(e, 'done', `Uploaded${note}. It appears in My pictures once processed.`);
          e.li.dataset.key = key;
          this.uploaded.add(key);
          e.li.querySelector<HTMLButtonElement>('[data-role="remove"]')?.setAttribute('hidden', '');
        } catch (err) {
          failed++;
          for (const el of [e.title, e.description, e.isPublic, e.removeLocation]) if (el) el.disabled = false;
          this.setState(e, 'failed', `Upload failed: ${this.deps.describeError(err)}`);
        }
      }
    };
    await Promise.all([run(), run()]);
    this.busy = false;
    this.refresh();
    setText(this.status, failed ? `${failed} upload${failed === 1 ? '' : 's'} failed; you can try again.` : 'All uploads finished.');
    this.deps.onUploaded([...this.uploaded]);
    this.usedBytes = this.readUsage();
  }

  /** Reads the storage in use and shows it; undefined (and nothing shown) when it cannot be read. */
  private async readUsage(): Promise<number | undefined> {
    try {
      const used = await this.deps.storageUsed();
      setText(this.usage, usageText(used, this.deps.limits));
      return used;
    } catch {
      setText(this.usage, '');
      return undefined;
    }
  }

  /**
   * The bytes to send: the file, or a copy without its location when asked. A file whose
   * location cannot be removed with certainty is not sent (the person decides).
   */
  private async withoutLocation(e: Entry): Promise<{ body: Blob; note: string }> {
    if (!e.removeLocation?.checked) return { body: e.file, note: '' };
    const result = stripLocation(new Uint8Array(await e.file.arrayBuffer()));
    if (result.status === 'failed') {
      throw new Error(`the location could not be removed safely (${result.reason}). Untick "Remove location tags" to upload it as it is, or upload it as private.`);
    }
    if (result.status === 'unchanged') return { body: e.file, note: '' };
    return { body: new Blob([result.bytes as Uint8Array<ArrayBuffer>], { type: e.contentType }), note: ' without its location' };
  }

  private metaOf(e: Entry): { isPublic: boolean; title: string; description: string } {
    const title = e.title?.value.trim() || e.file.name;
    return { isPublic: !!e.isPublic?.checked, title, description: e.description?.value ?? '' };
  }
}
