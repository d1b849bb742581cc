import './style.css';
import { loadConfig, type AppConfig } from './config';
import { SESSION_EXPIRED_MESSAGE, Session } from './auth';
import { friendlyAuthError } from './auth-errors';
import { Api, SessionChangedError, friendlyApiError } from './api';
import { IndexPoller } from './poller';
import { PagedIndex } from './pages';
import { OlderButton } from './ui/older';
import { PUBLIC_INDEX_KEY, privateIndexKey, fileNameOfKey } from './keys';
import type { IndexItem } from './indexdoc';
import type { ResponseOverrides } from './originals';
import { Gallery, type GalleryDeps } from './ui/gallery';
import { UploadView } from './ui/upload';
import { DetailView } from './ui/detail';
import { AccountView } from './ui/account';
import { AccountForms, AFTER_SIGN_IN_KEY } from './ui/account-forms';
import { $, el, setText } from './ui/dom';
import { moveToVisibility } from './move';
import { mayCarryLocation, scanLocation, stripLocation, type LocationScan } from './location';
import { BulkBar } from './ui/bulk-bar';
import { isShareHash, shareUrl } from './share';
import { SharedView } from './ui/shared';
import { refusalText } from './bounds';
import {
  PictureForgetter, addToAlbum, deleteEveryAlbum, forgetPictures, isAlbumLinkHash, listAlbums, parseOwnAlbumHash,
  type AlbumEnv, type PictureInfo, type PublishDeps,
} from './albums';
import { AlbumView, AlbumsView, SharedAlbumView, itemsByFile } from './ui/albums';

type Route = 'public' | 'mine' | 'upload' | 'signin' | 'signup' | 'confirm' | 'forgot' | 'reset' | 'account' | 'shared'
  | 'albums' | 'album' | 'shared-album';
const ROUTES: Route[] = ['public', 'mine', 'upload', 'signin', 'signup', 'confirm', 'forgot', 'reset', 'account', 'shared', 'albums', 'album', 'shared-album'];
const NEEDS_SIGN_IN: Route[] = ['mine', 'upload', 'account', 'albums', 'album'];
const ACCOUNT_FORMS: Route[] = ['signin', 'signup', 'confirm', 'forgot', 'reset'];
const POLL_MS = 2500;
/**
 * First bytes of an original read to tell whether it carries a location: EXIF and XMP come
 * before the image data, each segment at most 64 KB.
 */
const DETAIL_HEAD_BYTES = 256 * 1024;

function showBanner(text: string): void {
  setText($('#banner-text'), text);
  $('#banner').hidden = false;
}
function hideBanner(): void {
  $('#banner').hidden = true;
}
/** A note that something the person asked for happened (the banner is for errors). */
function showNotice(text: string): void {
  setText($('#notice-text'), text);
  $('#notice').hidden = false;
}
function hideNotice(): void {
  $('#notice').hidden = true;
}
/** Hides the banner and the notice (on signing in: they were about the session before). */
function hideMessages(): void {
  hideBanner();
  hideNotice();
}

/** The close buttons of the banner and the notice, and the skip link. */
function wirePageChrome(): void {
  $('#banner-close').addEventListener('click', hideBanner);
  $('#notice-close').addEventListener('click', hideNotice);
  // The skip link moves focus without touching the route in the hash.
  $('.skip').addEventListener('click', (e) => {
    e.preventDefault();
    const h1 = document.querySelector<HTMLElement>('section.view:not([hidden]) h1');
    (h1 ?? $('#main')).focus();
  });
}

function routeFromHash(): Route {
  if (isShareHash(location.hash)) return 'shared';
  if (isAlbumLinkHash(location.hash)) return 'shared-album';
  if (location.hash.startsWith('#/album/')) return 'album';
  const r = location.hash.replace(/^#\/?/, '').split('?')[0] as Route;
  return ROUTES.includes(r) ? r : 'public';
}

/**
 * The signed-in person's pictures: whose they are, the head of their private index (polled)
 * and the pages loaded so far. Made when their identity is known and replaced whole when the
 * session changes: nothing of one person's pictures outlives their session.
 */
interface MyPictures {
  readonly identityId: string;
  readonly poller: IndexPoller;
  /** The head and the pages scrolled to. */
  readonly paged: PagedIndex;
  /** Takes deleted pictures out of this person's albums, a pass for those deleted together. */
  readonly forgetter: PictureForgetter;
}

class App {
  private readonly session: Session;
  private readonly api: Api;
  private readonly publicGallery: Gallery;
  private readonly mineGallery: Gallery;
  private readonly detail: DetailView;
  private readonly account: AccountView;
  private readonly shared: SharedView;
  private readonly bulk: BulkBar;
  private readonly albums: AlbumsView;
  private readonly album: AlbumView;
  private readonly sharedAlbum: SharedAlbumView;
  private readonly publicOlder = new OlderButton(el('#view-public [data-role="older"]', HTMLButtonElement));
  private readonly mineOlder = new OlderButton(el('#view-mine [data-role="older"]', HTMLButtonElement));
  private readonly publicPoller: IndexPoller;
  /** Undefined while nobody is signed in or their identity is being fetched. */
  private mine?: MyPictures;
  /** Bumped on every sign-in and sign-out: what a session started ignores later answers. */
  private sessionGeneration = 0;
  /**
   * Keys this page deleted (a delete, or the old key of a move) and did not upload again:
   * the private index may list them for a moment longer, but a move may take their names.
   */
  private readonly vacated = new Set<string>();
  private route: Route = 'public';
  private readonly presign = (key: string, version: string, overrides?: ResponseOverrides) => this.api.presign(key, version, overrides);

  constructor(config: AppConfig) {
    this.session = new Session(config);
    this.api = new Api(config, this.session);
    this.publicGallery = this.makeGallery('#view-public', this.publicOlder, { showVisibility: false, emptyText: 'No public pictures yet.' });
    this.mineGallery = this.makeGallery('#view-mine', this.mineOlder, {
      showVisibility: true, emptyText: 'You have not uploaded any pictures yet. Use Upload to add some.',
      describeRefusal: (refused) => refusalText(refused, config),
      onSelectionChange: () => this.bulk?.render(),
    });
    this.bulk = this.makeBulkBar();
    this.account = this.makeAccountView();
    this.detail = this.makeDetailView();
    this.shared = this.makeSharedView();
    ({ albums: this.albums, album: this.album, shared: this.sharedAlbum } = this.makeAlbumViews());
    this.wireUploadView(config);
    new AccountForms({ session: this.session, clearMessages: hideMessages });
    const publicIndex = this.makePoller(PUBLIC_INDEX_KEY, this.publicGallery, this.publicOlder, false);
    this.publicPoller = publicIndex.poller;
    this.publicOlder.paged = publicIndex.paged;
    this.publicOlder.sync();
    wirePageChrome();
    this.followChanges();
  }

  /**
   * A gallery of the view `view` (its grid, status line and find bar); a thumbnail opens the
   * detail view, which moves through the grid as shown and, past its last picture, loads older
   * ones as `older` (the view's "Load older pictures") does.
   */
  private makeGallery(view: string, older: OlderButton, deps: Pick<GalleryDeps, 'showVisibility' | 'emptyText' | 'describeRefusal' | 'onSelectionChange'>): Gallery {
    const bar = $(`${view} [data-role="find-bar"]`);
    const gallery: Gallery = new Gallery($(`${view} [data-role="grid"]`), $(`${view} [data-role="status"]`), {
      ...deps,
      presign: this.presign,
      onOpen: (item) => this.detail.open(item, {
        items: () => gallery.shown,
        canLoadMore: () => gallery.olderComeLast && older.canLoad,
        loadMore: () => older.loadOnce(),
        control: (key) => gallery.control(key),
      }),
      find: { bar, idPrefix: bar.dataset.idPrefix ?? view.replace(/\W/g, '') },
    });
    return gallery;
  }

  private makeAccountView(): AccountView {
    return new AccountView({
      session: this.session,
      deletionPorts: async () => {
        const identityId = await this.session.getIdentityId();
        return {
          listOwnOriginals: () => this.api.listOwnOriginals(identityId),
          deleteObjects: (keys) => this.api.deleteObjects(keys),
          deleteAlbums: async () => {
            await deleteEveryAlbum(this.albumEnv(identityId));
          },
          fetchPrivateIndex: async () => {
            const r = await this.api.fetchIndex(privateIndexKey(identityId), {});
            return r.status === 'ok' ? r.body : undefined;
          },
        };
      },
      describeApiError: friendlyApiError,
      notify: showNotice,
    });
  }

  private makeDetailView(): DetailView {
    return new DetailView({
      presign: this.presign,
      ownerId: () => this.signedInIdentityId(),
      save: async (item, title, description) => {
        await this.api.updateText(item.identityId, item.objectKey, title, description);
        this.pollSoon();
      },
      remove: (item) => this.deleteItem(item),
      move: (item, toPublic, removeLocation) => this.moveItem(item, toPublic, removeLocation),
      readHead: (key) => this.api.readObject(key, DETAIL_HEAD_BYTES),
      shareUrl: (item) => shareUrl(location.href, item),
      describeError: friendlyApiError,
      gone: (key) => this.vacated.has(key),
    });
  }

  /**
   * My pictures' selection and its bulk actions: each picture goes through the same delete and
   * move as the detail view's, for the person signed in when it starts.
   */
  private makeBulkBar(): BulkBar {
    return new BulkBar({
      gallery: this.mineGallery,
      remove: (item) => {
        this.checkOwner(item);
        return this.deleteItem(item);
      },
      move: async (item, toPublic, removeLocation) => {
        this.checkOwner(item);
        // As the detail view: the location is removed from a file that carries one, or may,
        // when the person asked; knowing that takes reading the file's first bytes.
        const strip = toPublic && removeLocation && mayCarryLocation(await this.scanForLocation(item), item.contentType);
        this.checkOwner(item);
        return this.moveItem(item, toPublic, strip);
      },
      describeError: friendlyApiError,
      albums: {
        list: async () => (await listAlbums(await this.myAlbumEnv())).map((a) => ({ id: a.doc.id, name: a.doc.name })),
        add: async (items, target) => {
          for (const item of items) this.checkOwner(item);
          return addToAlbum(await this.myAlbumEnv(), items, target, { ...this.publishDeps, describeError: friendlyApiError });
        },
      },
    });
  }

  /** The album code's view of the bucket for one identity, with the session's credentials. */
  private albumEnv(identityId: string): AlbumEnv {
    return { store: this.api.albumStore, identityId };
  }

  /** The signed-in person's album environment. */
  private async myAlbumEnv(): Promise<AlbumEnv> {
    return this.albumEnv(await this.session.getIdentityId());
  }

  /**
   * What an album's shared copy needs of the person's pictures, by file name: from their index
   * as loaded (the head and the pages scrolled to). A picture on a page not loaded yet is left
   * out of the shared copy until a change made when it is loaded (docs/albums.md).
   */
  private readonly publishDeps: PublishDeps = {
    pictures: async (files) => {
      if (this.mine && !this.mine.poller.doc) await this.mine.poller.pollNow();
      const byFile = itemsByFile((this.mine?.paged.doc.items ?? []).filter((i) => !this.vacated.has(i.objectKey) && !i.refused));
      const out = new Map<string, PictureInfo>();
      for (const file of files) {
        const item = byFile.get(file);
        if (item) out.set(file, { isPublic: item.isPublic, title: item.title, width: item.width, height: item.height, takenAt: item.takenAt });
      }
      return out;
    },
  };

  private makeAlbumViews(): { albums: AlbumsView; album: AlbumView; shared: SharedAlbumView } {
    const deps = {
      env: () => this.myAlbumEnv(),
      publishDeps: this.publishDeps,
      presign: (key: string) => this.api.presign(key),
      myItems: async () => {
        if (this.mine && !this.mine.poller.doc) await this.mine.poller.pollNow();
        return (this.mine?.paged.doc.items ?? []).filter((i) => !this.vacated.has(i.objectKey));
      },
      pageUrl: () => location.href,
      describeError: friendlyApiError,
    };
    return {
      albums: new AlbumsView(deps),
      album: new AlbumView(deps),
      shared: new SharedAlbumView({
        read: async (key) => (await this.api.albumStore.get(key))?.body,
        presign: (key) => this.api.presign(key),
        describeError: friendlyApiError,
      }),
    };
  }

  /**
   * A bulk action's item is sent only while its owner is the one signed in: after a sign-out or
   * a sign-in as someone else, the rest of the run must not go out with the next person's
   * credentials (the run is cancelled too; this guards an item already past its turn).
   */
  private checkOwner(item: IndexItem): void {
    if (!this.session.signedIn || item.identityId !== this.session.currentIdentityId) throw new SessionChangedError();
  }

  /** Whether the picture's original carries a location, from its first bytes (the detail view's check). */
  private async scanForLocation(item: IndexItem): Promise<LocationScan> {
    try {
      return scanLocation(await this.api.readObject(item.objectKey, DETAIL_HEAD_BYTES));
    } catch (err) {
      // Never published without knowing: the item fails, and says why.
      throw new Error(`Could not check the picture for a location: ${friendlyApiError(err)}`, { cause: err });
    }
  }

  /** Deletes one of the signed-in person's pictures (the detail view's and the selection's delete). */
  private async deleteItem(item: IndexItem): Promise<void> {
    await this.api.deleteObject(item.objectKey);
    this.vacated.add(item.objectKey);
    this.pollSoon();
    // Then out of every album holding it (and their shared copies). A failure fails the delete,
    // whose retry (deleting a deleted key succeeds) tries the albums again.
    const forgetter = this.mine?.identityId === item.identityId ? this.mine.forgetter : undefined;
    if (!forgetter) throw new SessionChangedError();
    try {
      await forgetter.forget(fileNameOfKey(item.objectKey));
    } catch (err) {
      throw new Error(`Deleted, but not yet removed from its albums: ${friendlyApiError(err)}`, { cause: err });
    }
  }

  /**
   * Moves a picture to the other prefix (public <-> private), without its location when
   * `removeLocation`; answers its new key.
   */
  private async moveItem(item: IndexItem, toPublic: boolean, removeLocation: boolean): Promise<string> {
    let body: Uint8Array | undefined;
    if (removeLocation) {
      const stripped = stripLocation(await this.api.readObject(item.objectKey));
      if (stripped.status === 'failed') throw new Error(`The location could not be removed safely: ${stripped.reason}.`);
      body = stripped.bytes;
    }
    const key = await moveToVisibility(item, toPublic, {
      takenNames: (isPublic) => this.takenNames(isPublic, this.vacated),
      copy: (from, to, type, meta) => this.api.copyObject(from, to, type, meta),
      put: (to, bytes, type, meta) => this.api.putNewObject(to, bytes, type, meta),
      remove: async (key) => {
        await this.api.deleteObject(key);
        this.vacated.add(key);
      },
    }, body);
    this.vacated.delete(key);
    this.pollSoon();
    return key;
  }

  private makeSharedView(): SharedView {
    return new SharedView({
      open: (item) => this.detail.open(item),
      myIdentityId: () => this.signedInIdentityId(),
      privateIndex: async () => {
        if (this.mine && !this.mine.poller.doc) await this.mine.poller.pollNow();
        return this.mine?.poller.doc;
      },
      publicIndex: async () => {
        if (!this.publicPoller.doc) await this.publicPoller.pollNow();
        return this.publicPoller.doc;
      },
      head: (key) => this.api.headObject(key),
      signedIn: () => this.session.signedIn,
      onFound: () => this.syncPolling(),
      describeError: friendlyApiError,
    });
  }

  private wireUploadView(config: AppConfig): void {
    new UploadView({
      identityId: () => this.session.getIdentityId(),
      // Names unused under both prefixes, so a share link (owner and file name) names one picture.
      takenNames: async () => new Set([...(await this.takenNames(true)), ...(await this.takenNames(false))]),
      upload: (key, file, type, meta, onProgress) => {
        // Keys are built for the identity current when the batch started: after a sign-in or
        // sign-out the rest of the batch must not go out with the next person's credentials.
        if (key.split('/')[2] !== this.session.currentIdentityId) {
          return { done: Promise.reject(new SessionChangedError()), abort: async () => {} };
        }
        return this.api.upload(key, file, type, meta, onProgress);
      },
      describeError: friendlyApiError,
      onUploaded: (keys) => {
        for (const key of keys) this.vacated.delete(key);
        this.pollSoon();
      },
      limits: config,
      storageUsed: async () => this.api.storageUsed(await this.session.getIdentityId()),
    });
  }

  /** Follows the route in the hash, the page's visibility, the session and the sign-out button. */
  private followChanges(): void {
    window.addEventListener('hashchange', () => this.navigate(true));
    document.addEventListener('visibilitychange', () => this.syncPolling());
    this.session.onChange(() => void this.onSessionChange());
    // Told here, not by the request that found out: that one belongs to the ended session, and
    // what it answers (loadIdentity's error, a poll's) is dropped with the session.
    this.session.onExpired(() => showBanner(SESSION_EXPIRED_MESSAGE));
    $('#signout-button').addEventListener('click', () => {
      void this.session.signOut().then(() => {
        // Signing out is not "sign in to see this page": the next sign-in starts at My pictures.
        sessionStorage.removeItem(AFTER_SIGN_IN_KEY);
        location.hash = '#/';
      });
    });
  }

  /** The signed-in person's identity, once known; undefined for a visitor. */
  private signedInIdentityId(): string | undefined {
    return this.session.signedIn ? this.mine?.identityId : undefined;
  }

  /** File names the signed-in user uses under one prefix (from the private index), but for `except` keys. */
  private async takenNames(isPublic: boolean, except: ReadonlySet<string> = new Set()): Promise<Set<string>> {
    if (this.mine && !this.mine.poller.doc) await this.mine.poller.pollNow();
    // The head and the pages scrolled to: names on pages not loaded yet are not known here
    // (docs/indexes.md).
    const loaded = this.mine?.paged.doc.items ?? [];
    const items = loaded.filter((i) => !except.has(i.objectKey));
    return new Set(items.filter((i) => i.isPublic === isPublic).map((i) => fileNameOfKey(i.objectKey)));
  }

  async start(): Promise<void> {
    $('#boot-status').hidden = true;
    this.renderAccount();
    if (this.session.signedIn) await this.loadIdentity();
    this.navigate(false);
  }

  /**
   * Polls the head of an index; its pages load as the person scrolls (pages.ts). One of the
   * session (`sessionBound`, a private index) ignores what is answered after the session ended.
   */
  private makePoller(key: string, gallery: Gallery, older: OlderButton, sessionBound = true): { poller: IndexPoller; paged: PagedIndex } {
    let failing = false;
    const generation = this.sessionGeneration;
    const live = () => !sessionBound || generation === this.sessionGeneration;
    const onError = (err: unknown) => {
      // A request cut short by a sign-in or sign-out: the next poll is the new session's.
      if (!live() || err instanceof SessionChangedError) return;
      failing = true;
      gallery.setStatus(`Could not refresh the pictures: ${friendlyApiError(err)} Retrying…`, true);
    };
    const paged = new PagedIndex({
      fetch: this.api.fetchIndex,
      onChange: (doc) => {
        if (!live()) return;
        gallery.update(doc);
        this.detail.refresh(doc.items);
        if (older.paged === paged) older.sync();
      },
      onError,
    });
    const poller = new IndexPoller({
      key,
      intervalMs: POLL_MS,
      fetch: this.api.fetchIndex,
      onChange: (head) => {
        if (live()) void paged.setHead(head);
      },
      onError,
      onSuccess: () => {
        if (failing && live()) {
          failing = false;
          gallery.showCount();
        }
      },
    });
    return { poller, paged };
  }

  /** Fetches the signed-in person's identity and shows their pictures in My pictures. */
  private async loadIdentity(): Promise<void> {
    const generation = this.sessionGeneration;
    try {
      const identityId = await this.session.getIdentityId();
      // Signed in or out meanwhile: that change loads its own identity.
      if (generation !== this.sessionGeneration) return;
      const index = this.makePoller(privateIndexKey(identityId), this.mineGallery, this.mineOlder);
      const env = this.albumEnv(identityId);
      const forgetter = new PictureForgetter((files) => forgetPictures(env, files, this.publishDeps));
      this.replaceMyPictures({ identityId, ...index, forgetter });
    } catch (err) {
      if (generation !== this.sessionGeneration) return;
      showBanner(`Could not get your credentials: ${friendlyAuthError(err, 'credentials')}`);
    }
  }

  /**
   * Makes `next` what My pictures shows (undefined: nothing, while nobody is signed in or their
   * identity is being fetched), stopping the polls of the pictures it replaces.
   */
  private replaceMyPictures(next: MyPictures | undefined): void {
    this.bulk.cancel();
    this.mine?.poller.stop();
    this.mine = next;
    this.mineGallery.clear();
    this.albums.clear();
    this.album.clear();
    this.mineOlder.paged = next?.paged;
    this.mineOlder.sync();
  }

  private async onSessionChange(): Promise<void> {
    this.sessionGeneration++;
    this.replaceMyPictures(undefined);
    this.renderAccount();
    if (this.session.signedIn) await this.loadIdentity();
    this.navigate(false);
  }

  private renderAccount(): void {
    const signedIn = this.session.signedIn;
    const email = $('#account-email');
    email.hidden = !signedIn;
    setText(email, signedIn ? `Signed in as ${this.session.email ?? ''}` : '');
    $('#signin-link').hidden = signedIn;
    $('#signup-link').hidden = signedIn;
    $('#signout-button').hidden = !signedIn;
    $('#account-link').hidden = !signedIn;
    this.account.render();
    for (const a of document.querySelectorAll<HTMLAnchorElement>('[data-nav="mine"], [data-nav="upload"], [data-nav="albums"]')) {
      a.classList.toggle('disabled-link', !signedIn);
      a.title = signedIn ? '' : 'Sign in first';
    }
  }

  private navigate(fromHashChange: boolean): void {
    let route = routeFromHash();
    if (ACCOUNT_FORMS.includes(route) && this.session.signedIn) {
      route = 'mine';
      history.replaceState(null, '', '#/mine');
    }
    if (NEEDS_SIGN_IN.includes(route) && !this.session.signedIn) {
      // One album's view comes back to that album after signing in.
      sessionStorage.setItem(AFTER_SIGN_IN_KEY, route === 'album' ? location.hash.replace(/^#\//, '') : route);
      route = 'signin';
      history.replaceState(null, '', '#/signin');
    }
    this.route = route;
    for (const r of ROUTES) $(`#view-${r}`).hidden = r !== route;
    for (const a of document.querySelectorAll<HTMLAnchorElement>('[data-nav]')) {
      if (a.dataset.nav === (route === 'album' ? 'albums' : route)) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    this.detail.close();
    this.sharedAlbum.close();
    this.syncPolling();
    if (fromHashChange) $(`#view-${route} h1`).focus();
    if (route === 'shared') void this.shared.show(location.hash);
    if (route === 'albums') void this.albums.show();
    if (route === 'album') void this.album.show(parseOwnAlbumHash(location.hash) ?? '');
    if (route === 'shared-album') void this.sharedAlbum.show(location.hash);
  }

  /** Polls only the index on screen, and only while the page is visible. */
  private syncPolling(): void {
    const visible = document.visibilityState !== 'hidden';
    // A shared picture follows the index it was found in (the owner's: theirs).
    const shared = this.route === 'shared' ? this.shared.source : undefined;
    if (visible && (this.route === 'public' || shared === 'public')) this.publicPoller.start();
    else this.publicPoller.stop();
    if (visible && (this.route === 'mine' || shared === 'mine') && this.mine) this.mine.poller.start();
    else this.mine?.poller.stop();
  }

  private pollSoon(): void {
    if (this.route === 'public' || this.route === 'shared') void this.publicPoller.pollNow();
    if (this.route === 'mine' || this.route === 'shared') void this.mine?.poller.pollNow();
  }
}

async function boot(): Promise<void> {
  let config: AppConfig;
  try {
    config = await loadConfig();
  } catch (err) {
    setText($('#boot-status'), '');
    showBanner(`The app cannot start: ${(err as Error).message}`);
    return;
  }
  const app = new App(config);
  await app.start();
}

window.addEventListener('unhandledrejection', (e) => {
  showBanner(`Something went wrong: ${friendlyApiError(e.reason)}`);
});

void boot();
