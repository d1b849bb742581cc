/**
 * Which pictures of a grid are selected (My pictures' Select mode), by key. A click toggles one
 * and makes it the anchor; a Shift+click selects the range from the anchor to the clicked one
 * over the grid as shown (filtered by the find field, in its sort order), as file managers do.
 */
export class Selection {
  private readonly keys = new Set<string>();
  /** The key last toggled: where a range starts. */
  private anchor?: string;

  get size(): number {
    return this.keys.size;
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** The selected keys, in the order they were selected. */
  get all(): string[] {
    return [...this.keys];
  }

  /** Selects `key` if it was not, else unselects it; it becomes the anchor. */
  toggle(key: string): void {
    if (!this.keys.delete(key)) this.keys.add(key);
    this.anchor = key;
  }

  /**
   * Selects every key of `shown` from the anchor to `key`, both included (either way round),
   * and makes `key` the anchor. Without an anchor, or with one the grid no longer shows, it is
   * a toggle of `key` alone. Answers how many keys it selected that were not already.
   */
  selectRange(key: string, shown: readonly string[]): number {
    const to = shown.indexOf(key);
    const from = this.anchor === undefined ? -1 : shown.indexOf(this.anchor);
    if (to < 0 || from < 0) {
      const had = this.keys.has(key);
      this.toggle(key);
      return had ? 0 : 1;
    }
    let added = 0;
    for (let i = Math.min(from, to); i <= Math.max(from, to); i++) {
      if (!this.keys.has(shown[i])) {
        this.keys.add(shown[i]);
        added++;
      }
    }
    this.anchor = key;
    return added;
  }

  /** Selects every key of `shown` (the others selected stay so). */
  selectAll(shown: readonly string[]): void {
    for (const k of shown) this.keys.add(k);
  }

  add(key: string): void {
    this.keys.add(key);
  }

  delete(key: string): void {
    this.keys.delete(key);
    if (this.anchor === key) this.anchor = undefined;
  }

  clear(): void {
    this.keys.clear();
    this.anchor = undefined;
  }

  /** Drops the keys `exists` says are gone (deleted, or moved to another key); answers whether any went. */
  prune(exists: (key: string) => boolean): boolean {
    let changed = false;
    for (const k of this.keys) {
      if (!exists(k)) {
        this.keys.delete(k);
        changed = true;
      }
    }
    if (this.anchor !== undefined && !exists(this.anchor)) this.anchor = undefined;
    return changed;
  }
}
