/** The upload view: pick or drop files, describe each, upload with per-file progress. */
import { contentKey, sanitizeFileName, uniqueFileName } from '../keys';
import { checkFile, checkMetadataSize, defaultTitle, formatBytes, MAX_DESCRIPTION, MAX_TITLE } from '../metadata';
import { $, h, setText } from './dom';

export interface UploadDeps {
  identityId: () => Promise<string>;
  /** File names already used by the signed-in user, per visibility prefix (from the private index). */
  takenNames: (isPublic: boolean) => Promise<Set<string>>;
  upload: (key: string, file: File, contentType: string, meta: { isPublic: boolean; title: string; description: string }, onProgress: (f: number) => void) => { done: Promise<void>; abort: () => Promise<void> };
  describeError: (err: unknown) => string;
  onUploaded: () => void;
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
  progress?: HTMLProgressElement;
  percent?: HTMLElement;
  stateText: HTMLElement;
  previewUrl?: string;
}

let nextId = 1;

export class UploadView {
  private entries: Entry[] = [];
  private readonly queue = $('#upload-queue') as HTMLOListElement;
  private readonly form = $('#upload-form') as HTMLFormElement;
  private readonly button = $('#upload-button') as HTMLButtonElement;
  private readonly clearButton = $('#upload-clear') as HTMLButtonElement;
  private readonly status = $('#upload-status');
  private busy = false;
  /** Keys uploaded in this session (the index may not list them yet). */
  private readonly uploaded = new Set<string>();

  constructor(private readonly deps: UploadDeps) {
    const input = $('#file-input') as HTMLInputElement;
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
      head = new Uint8Array(await entry.file.slice(0, 64).arrayBuffer());
    } catch {
      head = new Uint8Array();
    }
    const res = checkFile(entry.file.size, head);
    if (!res.ok) {
      entry.state = 'invalid';
      entry.li.classList.add('invalid');
      setText(entry.stateText, res.reason);
      entry.stateText.classList.add('error');
      entry.li.querySelector('fieldset')!.append(
        h('div', { class: 'row' }, h('button', { type: 'button', class: 'secondary', 'aria-label': `Remove ${entry.file.name}`, text: 'Remove', onclick: () => this.remove(entry) })),
      );
      (entry.li.querySelector('.preview') as HTMLElement).remove();
      this.refresh();
      return;
    }
    entry.contentType = res.contentType;
    entry.state = 'ready';
    entry.previewUrl = URL.createObjectURL(entry.file);
    (entry.li.querySelector('.preview') as HTMLImageElement).src = entry.previewUrl;
    const p = `entry-${entry.id}`;
    entry.title = h('input', { id: `${p}-title`, type: 'text', maxlength: MAX_TITLE, value: defaultTitle(entry.file.name), 'data-role': 'title' });
    entry.description = h('textarea', { id: `${p}-description`, rows: 2, maxlength: MAX_DESCRIPTION, 'data-role': 'description' });
    entry.isPublic = h('input', { id: `${p}-public`, type: 'checkbox', 'data-role': 'public' });
    entry.progress = h('progress', { id: `${p}-progress`, max: 100, value: 0, 'aria-label': `Upload progress of ${entry.file.name}` });
    entry.percent = h('span', { 'data-role': 'percent', text: '0%' });
    setText(entry.stateText, 'Ready');
    const fs = entry.li.querySelector('fieldset')!;
    fs.append(
      h('div', { class: 'stack' },
        h('label', { for: entry.title.id, text: 'Title' }), entry.title,
        h('label', { for: entry.description.id, text: 'Description' }), entry.description),
      h('div', { class: 'row' }, entry.isPublic, h('label', { for: entry.isPublic.id, text: 'Public: everyone can see it' })),
      h('div', { class: 'row' }, entry.progress, entry.percent,
        h('button', { type: 'button', class: 'secondary', 'data-role': 'remove', 'aria-label': `Remove ${entry.file.name}`, text: 'Remove', onclick: () => this.remove(entry) })),
    );
    fs.append(entry.stateText);
    this.refresh();
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
    const taken = { true: new Set<string>(), false: new Set<string>() };
    try {
      for (const vis of [true, false]) for (const n of await this.deps.takenNames(vis)) taken[String(vis) as 'true' | 'false'].add(n);
    } catch {
      // The index could not be read: only this session's names are known.
    }
    for (const key of this.uploaded) {
      const [vis, , id, ...rest] = key.split('/');
      if (id === identityId) taken[String(vis === 'public') as 'true' | 'false'].add(rest.join('/'));
    }
    const jobs = todo.map((e) => {
      const meta = this.metaOf(e);
      const set = taken[String(meta.isPublic) as 'true' | 'false'];
      const name = uniqueFileName(sanitizeFileName(e.file.name), set);
      set.add(name);
      return { e, meta, key: contentKey(meta.isPublic, identityId, name) };
    });
    let failed = 0;
    // Two at a time.
    const run = async (): Promise<void> => {
      for (let job = jobs.shift(); job; job = jobs.shift()) {
        const { e, meta, key } = job;
        for (const el of [e.title, e.description, e.isPublic]) if (el) el.disabled = true;
        this.setState(e, 'uploading', 'Uploading…');
        this.setProgress(e, 0);
        try {
          let cancelled = false;
          const transfer = this.deps.upload(key, e.file, e.contentType!, meta, (f) => this.setProgress(e, f));
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
            if (cancelled) throw new Error('Cancelled.');
            throw err;
          } finally {
            cancel.remove();
          }
          this.setProgress(e, 1);
          this.setState(e, 'done', 'Uploaded. It appears in My pictures once processed.');
          e.li.dataset.key = key;
          this.uploaded.add(key);
          e.li.querySelector<HTMLButtonElement>('[data-role="remove"]')?.setAttribute('hidden', '');
        } catch (err) {
          failed++;
          for (const el of [e.title, e.description, e.isPublic]) if (el) el.disabled = false;
          this.setState(e, 'failed', `Upload failed: ${this.deps.describeError(err)}`);
        }
      }
    };
    await Promise.all([run(), run()]);
    this.busy = false;
    this.refresh();
    setText(this.status, failed ? `${failed} upload${failed === 1 ? '' : 's'} failed; you can try again.` : 'All uploads finished.');
    this.deps.onUploaded();
  }

  private metaOf(e: Entry): { isPublic: boolean; title: string; description: string } {
    const title = e.title?.value.trim() || e.file.name;
    return { isPublic: !!e.isPublic?.checked, title, description: e.description?.value ?? '' };
  }
}
