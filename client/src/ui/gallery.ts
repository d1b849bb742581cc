/** A grid of thumbnails kept in step with an index, card by card. */
import type { IndexDoc, IndexItem, Refusal } from '../indexdoc';
import { itemSignature } from '../indexdoc';
import { findAndSort, isSortOrder, SORT_ORDERS, type SortOrder } from '../find';
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
    this.showCount();
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
      thumb,
      h('span', { class: 'card-title', 'data-role': 'title', text: item.title }),
      badges,
    );
    button.addEventListener('click', () => this.deps.onOpen(this.cards.get(item.objectKey)?.item ?? item));
    return h('li', { 'data-key': item.objectKey }, button);
  }
}
