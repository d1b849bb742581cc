/**
 * The "Load older pictures" button under a gallery: it loads the next page when
 * pressed (keyboard included) and, while it is on screen, as the person scrolls
 * down to it (IntersectionObserver), until no older page is left.
 */
import type { PagedIndex } from '../pages';

export class OlderButton {
  private onScreen = false;
  /** The index it pages through; replaced when the person signs in as someone else. */
  paged?: PagedIndex;

  constructor(private readonly button: HTMLButtonElement) {
    button.addEventListener('click', () => void this.load());
    if (typeof IntersectionObserver !== 'undefined') {
      new IntersectionObserver((entries) => {
        this.onScreen = entries.some((e) => e.isIntersecting);
        if (this.onScreen) void this.load();
      }, { rootMargin: '0px 0px 100px 0px' }).observe(button);
    }
  }

  /** Shows the button while older pictures remain. */
  sync(): void {
    this.button.hidden = !this.paged?.hasMore;
  }

  /** Whether older pictures remain to be loaded. */
  get canLoad(): boolean {
    return !!this.paged?.hasMore;
  }

  /**
   * Loads the next older page, as pressing the button does (the detail view's Next at the
   * last picture); joins a load under way (PagedIndex.loadOlder runs one at a time).
   */
  async loadOnce(): Promise<void> {
    const paged = this.paged;
    if (!paged?.hasMore) return;
    this.button.disabled = true;
    try {
      await paged.loadOlder();
    } finally {
      this.button.disabled = false;
      this.sync();
    }
  }

  private async load(): Promise<void> {
    const paged = this.paged;
    if (!paged || this.button.hidden || this.button.disabled) return;
    await this.loadOnce();
    // Still on screen after a short page: keep going until it scrolls out of view.
    if (this.onScreen && this.paged === paged && paged.hasMore) requestAnimationFrame(() => void this.load());
  }
}
