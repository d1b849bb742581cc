/** A grid of thumbnails kept in step with an index, card by card. */
import type { IndexDoc, IndexItem } from '../indexdoc';
import { itemSignature } from '../indexdoc';
import { h, setText } from './dom';

export interface GalleryDeps {
  presign: (key: string, version: string) => Promise<string>;
  onOpen: (item: IndexItem) => void;
  showVisibility: boolean;
  emptyText: string;
}

interface Card {
  sig: string;
  li: HTMLLIElement;
  item: IndexItem;
}

export class Gallery {
  private cards = new Map<string, Card>();
  private doc?: IndexDoc;
  /** Counts DOM card (re)builds, for tests and debugging. */
  builds = 0;

  constructor(private readonly grid: HTMLElement, private readonly status: HTMLElement, private readonly deps: GalleryDeps) {}

  get items(): IndexItem[] {
    return this.doc?.items ?? [];
  }

  find(objectKey: string): IndexItem | undefined {
    return this.cards.get(objectKey)?.item;
  }

  clear(): void {
    this.cards.clear();
    this.doc = undefined;
    this.grid.replaceChildren();
    setText(this.status, '');
  }

  setStatus(text: string, isError = false): void {
    setText(this.status, text);
    this.status.classList.toggle('error', isError);
  }

  /** Applies a new index: reuses unchanged cards, rebuilds changed ones, reorders, removes gone ones. */
  update(doc: IndexDoc): void {
    this.doc = doc;
    const keep = new Set<string>();
    let prev: Element | null = null;
    for (const item of doc.items) {
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
    this.setStatus(n === 0 ? this.deps.emptyText : `${n} picture${n === 1 ? '' : 's'}`);
  }

  private build(item: IndexItem): HTMLLIElement {
    this.builds++;
    const thumb = h('span', { class: 'thumb' });
    if (item.thumbnailKey) {
      const img = h('img', { alt: '', decoding: 'async', loading: 'lazy', 'data-role': 'thumbnail' });
      img.addEventListener('error', () => {
        img.remove();
        setText(thumb, 'Preview unavailable');
      });
      thumb.append(img);
      this.deps.presign(item.thumbnailKey, item.uploadDate).then(
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
    if (item.faceCount !== undefined) {
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
