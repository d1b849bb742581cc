/** A grid of thumbnails kept in step with an index, card by card. */
import type { IndexDoc, IndexItem, Refusal } from '../indexdoc';
import { itemSignature } from '../indexdoc';
import { findAndSort, isSortOrder, SORT_ORDERS, type SortOrder } from '../find';
import { Selection } from '../selection';
import { h, setText } from './dom';

export interface GalleryDeps {
  presign: (key: string, version: string) => Promise<string>;
  onOpen: (item: IndexItem) => void;
  showVisibility: boolean;
  emptyText: string;
  /**
   * Where to put the view's find field and sort select (they filter and order what is loaded,
   * client-side); their ids start with `idPrefix`.
   */
  find?: { bar: HTMLElement; idPrefix: string };
  /** The owner's explanation of an upload the cloud did not keep (only the owner's index lists one). */
  describeRefusal?: (refused: Refusal) => string;
  /** Select mode was entered or left, or the selection changed (My pictures' bulk actions). */
  onSelectionChange?: () => void;
}

interface Card {
  sig: string;
  li: HTMLLIElement;
  item: IndexItem;
}

export class Gallery {
  private cards = new Map<string, Card>();
  private doc?: IndexDoc;
  /** The items on the grid, in its order (what the find field lets through, sorted). */
  private shownItems: IndexItem[] = [];
  /** Counts DOM card (re)builds, for tests and debugging. */
  builds = 0;

  private query = '';
  private order: SortOrder = 'newest';
  /**
   * Select mode: a card (click, Space, Enter) toggles its selection instead of opening the
   * picture; with Shift it selects the range from the card last toggled, over the grid as shown.
   */
  private selectingMode = false;
  private readonly selection = new Selection();

  constructor(private readonly grid: HTMLElement, private readonly status: HTMLElement, private readonly deps: GalleryDeps) {
    if (deps.find) this.buildFindBar(deps.find.bar, deps.find.idPrefix);
  }

  /** A labelled search field (words of title or description) and a sort select. */
  private buildFindBar(bar: HTMLElement, idPrefix: string): void {
    const id = (what: string) => `${idPrefix}-${what}`;
    const input = h('input', {
      id: id('find'), type: 'search', 'data-role': 'find', autocomplete: 'off', 'aria-describedby': id('find-hint'),
    });
    const sort = h('select', { id: id('sort'), 'data-role': 'sort' },
      ...SORT_ORDERS.map((o) => h('option', { value: o.value, text: o.label })));
    sort.value = this.order;
    input.addEventListener('input', () => this.setFind(input.value, this.order));
    sort.addEventListener('change', () => {
      if (isSortOrder(sort.value)) this.setFind(this.query, sort.value);
    });
    bar.replaceChildren(
      h('div', { class: 'find-field' },
        h('label', { for: id('find'), text: 'Find' }),
        input,
        h('span', { id: id('find-hint'), class: 'hint', text: 'Words in the title or description' })),
      h('div', { class: 'find-field' }, h('label', { for: id('sort'), text: 'Sort' }), sort),
    );
  }

  /** Shows only the pictures matching `query`, in `order`; re-renders from what is loaded. */
  setFind(query: string, order: SortOrder): void {
    if (query === this.query && order === this.order) return;
    this.query = query;
    this.order = order;
    if (this.doc) this.update(this.doc);
  }

  get items(): IndexItem[] {
    return this.doc?.items ?? [];
  }

  find(objectKey: string): IndexItem | undefined {
    return this.cards.get(objectKey)?.item;
  }

  /** The items as the grid shows them: filtered by the find field, in the chosen order. */
  get shown(): readonly IndexItem[] {
    return this.shownItems;
  }

  /**
   * Whether older pictures, once loaded, come after the last one shown: in newest-first
   * order they do; in the other orders they would land anywhere in the grid.
   */
  get olderComeLast(): boolean {
    return this.order === 'newest';
  }

  /** The button of the card that opens `objectKey`, if the grid shows it. */
  control(objectKey: string): HTMLElement | undefined {
    return this.cards.get(objectKey)?.li.querySelector('button') ?? undefined;
  }

  clear(): void {
    this.selectingMode = false;
    this.selection.clear();
    this.grid.classList.remove('selecting');
    this.deps.onSelectionChange?.();
    this.cards.clear();
    this.doc = undefined;
    this.shownItems = [];
    this.grid.replaceChildren();
    setText(this.status, '');
  }

  setStatus(text: string, isError = false): void {
    setText(this.status, text);
    this.status.classList.toggle('error', isError);
  }

  /**
   * Applies a new index: reuses unchanged cards, rebuilds changed ones, reorders, removes gone
   * ones. Only the items matching the find field are shown, in the chosen order.
   */
  update(doc: IndexDoc): void {
    this.doc = doc;
    const keep = new Set<string>();
    let prev: Element | null = null;
    this.shownItems = findAndSort(doc.items, this.query, this.order);
    for (const item of this.shownItems) {
      keep.add(item.objectKey);
      const sig = itemSignature(item);
      let card = this.cards.get(item.objectKey);
      if (!card || card.sig !== sig) {
        const li = this.build(item);
        if (card) card.li.replaceWith(li);
        card = { sig, li, item };
        this.cards.set(item.objectKey, card);
      }
      const want: Element | null = prev ? prev.nextElementSibling : this.grid.firstElementChild;
      if (want !== card.li) {
        if (prev) prev.after(card.li);
        else this.grid.prepend(card.li);
      }
      prev = card.li;
    }
    for (const [key, card] of this.cards) {
      if (!keep.has(key)) {
        card.li.remove();
        this.cards.delete(key);
      }
    }
    // Pictures gone from the index (deleted, or moved to another key) leave the selection;
    // those the find field hides stay selected.
    const listed = new Set(doc.items.map((i) => i.objectKey));
    if (this.selection.prune((k) => listed.has(k))) this.selectionChanged();
    this.showCount();
  }

  get selecting(): boolean {
    return this.selectingMode;
  }

  /** Enters or leaves select mode; leaving it clears the selection. */
  setSelecting(on: boolean): void {
    if (on === this.selectingMode) return;
    this.selectingMode = on;
    if (!on) this.selection.clear();
    this.grid.classList.toggle('selecting', on);
    this.selectionChanged();
  }

  /** How many pictures are selected, and how many of them the grid does not show (find field). */
  get selectedCount(): { selected: number; hidden: number } {
    const hidden = this.selection.all.filter((k) => !this.cards.has(k)).length;
    return { selected: this.selection.size, hidden };
  }

  /** The selected pictures, those the find field hides included, in the grid's sort order. */
  selectedItems(): IndexItem[] {
    const all = findAndSort(this.doc?.items ?? [], '', this.order);
    return all.filter((i) => this.selection.has(i.objectKey));
  }

  /** Toggles the card of `objectKey`; with `range`, selects from the card last toggled to it. */
  toggleSelected(objectKey: string, range = false): void {
    if (!this.selectingMode) return;
    if (range) this.selection.selectRange(objectKey, this.shownItems.map((i) => i.objectKey));
    else this.selection.toggle(objectKey);
    this.selectionChanged();
  }

  selectAllShown(): void {
    this.selection.selectAll(this.shownItems.map((i) => i.objectKey));
    this.selectionChanged();
  }

  clearSelection(): void {
    this.selection.clear();
    this.selectionChanged();
  }

  /** After a bulk action: what succeeded leaves the selection, what failed is (still) in it. */
  settleSelection(succeeded: readonly string[], stillSelected: readonly string[]): void {
    for (const k of succeeded) this.selection.delete(k);
    for (const k of stillSelected) this.selection.add(k);
    this.selectionChanged();
  }

  private selectionChanged(): void {
    for (const [key, card] of this.cards) this.renderSelected(card.li, key);
    this.deps.onSelectionChange?.();
  }

  /**
   * A card's selection state: in select mode its button is a toggle (aria-pressed) showing a
   * check mark; otherwise it opens the detail dialog.
   */
  private renderSelected(li: HTMLLIElement, key: string): void {
    const button = li.querySelector('button.card');
    if (!button) return;
    const selected = this.selectingMode && this.selection.has(key);
    li.classList.toggle('selected', selected);
    if (this.selectingMode) {
      button.setAttribute('aria-pressed', String(selected));
      button.removeAttribute('aria-haspopup');
    } else {
      button.removeAttribute('aria-pressed');
      button.setAttribute('aria-haspopup', 'dialog');
    }
  }

  /** The normal status line: how many pictures, or the empty text. */
  showCount(): void {
    if (!this.doc) return this.setStatus('');
    const n = this.doc.items.length;
    const pictures = (k: number) => `${k} picture${k === 1 ? '' : 's'}`;
    if (n === 0) return this.setStatus(this.deps.emptyText);
    if (!this.query.trim()) return this.setStatus(pictures(n));
    const shown = this.cards.size;
    this.setStatus(shown === 0
      ? `No picture matches “${this.query.trim()}” (${pictures(n)} in all).`
      : `${shown} of ${pictures(n)} match “${this.query.trim()}”.`);
  }

  private build(item: IndexItem): HTMLLIElement {
    this.builds++;
    const thumb = h('span', { class: 'thumb' });
    if (item.refused) {
      thumb.append(h('span', { class: 'refused', 'data-role': 'refused', text: this.deps.describeRefusal?.(item.refused) ?? 'Not kept' }));
    } else if (item.thumbnailKey) {
      const img = h('img', { alt: '', decoding: 'async', loading: 'lazy', 'data-role': 'thumbnail' });
      const key = item.thumbnailKey;
      const unavailable = () => {
        img.remove();
        setText(thumb, 'Preview unavailable');
      };
      // A lazy image may load long after its URL was signed, when the credentials that signed
      // it have expired: on a failure it is signed again once (a new URL, or it is gone).
      let retried = false;
      img.addEventListener('error', () => {
        if (retried) return unavailable();
        retried = true;
        const failed = img.src;
        this.deps.presign(key, item.uploadDate).then(
          (url) => (url === failed ? unavailable() : void (img.src = url)),
          unavailable,
        );
      });
      thumb.append(img);
      this.deps.presign(key, item.uploadDate).then(
        (url) => { img.src = url; },
        () => setText(thumb, 'Preview unavailable'),
      );
    } else {
      thumb.append(h('span', { text: 'Processing…' }));
    }
    const badges = h('span', { class: 'badges' });
    if (this.deps.showVisibility) {
      badges.append(h('span', { class: `badge ${item.isPublic ? 'public' : 'private'}`, text: item.isPublic ? 'Public' : 'Private' }));
    }
    if (item.faceCount !== undefined && !item.refused) {
      badges.append(h('span', { class: 'badge', text: `${item.faceCount} face${item.faceCount === 1 ? '' : 's'}` }));
    }
    const button = h(
      'button',
      { type: 'button', class: 'card', 'aria-haspopup': 'dialog' },
      // The check mark of select mode (the button's aria-pressed says it to assistive technology).
      h('span', { class: 'check', 'aria-hidden': 'true' }),
      thumb,
      h('span', { class: 'card-title', 'data-role': 'title', text: item.title }),
      badges,
    );
    const key = item.objectKey;
    button.addEventListener('click', (e) => {
      if (this.selectingMode) this.toggleSelected(key, e.shiftKey);
      else this.deps.onOpen(this.cards.get(key)?.item ?? item);
    });
    // In select mode Space and Enter toggle here, where Shift can be read (a click a key makes
    // does not say whether Shift was held); the button's own click is prevented.
    button.addEventListener('keydown', (e) => {
      if (!this.selectingMode || (e.key !== ' ' && e.key !== 'Enter') || e.altKey || e.ctrlKey || e.metaKey) return;
      e.preventDefault();
      if (!e.repeat) this.toggleSelected(key, e.shiftKey);
    });
    const li = h('li', { 'data-key': key }, button);
    this.renderSelected(li, key);
    return li;
  }
}
