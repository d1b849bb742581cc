import { describe, expect, it } from 'vitest';
import {
  AlbumFull, AlbumGone, MAX_ALBUM_PICTURES, addToAlbum, PictureForgetter, PreconditionFailed,
  addPictures, albumKey, albumLinkHash, changeAlbum, createAlbum, deleteAlbum, deleteEveryAlbum, forgetPictures, listAlbums,
  parseAlbumLinkHash, parseOwnAlbumHash, ownAlbumHash, parseSharedAlbum, publishAlbum, randomId, readAlbum, removePictures, renameAlbum,
  revokeLink, shareAlbum, sharedDocKey, sharedRenditionKey,
  type AlbumDoc, type AlbumEnv, type AlbumStore, type PictureInfo, type SharedAlbumDoc,
} from './albums';

const ID = 'us-east-1:1111';

/**
 * A bucket with S3's conditional writes: If-None-Match `*` fails with 412 when the key exists,
 * If-Match when the stored ETag differs (or there is no object); every write makes a new ETag.
 * `beforePut` runs before each write is applied: another writer getting in between.
 */
class FakeS3 implements AlbumStore {
  objects = new Map<string, { body: string; etag: string }>();
  calls: string[] = [];
  private n = 0;
  beforePut?: (key: string) => void;
  refuseCopy = new Set<string>();

  write(key: string, body: string): string {
    const etag = `"e${++this.n}"`;
    this.objects.set(key, { body, etag });
    return etag;
  }
  get(key: string) {
    this.calls.push(`get ${key}`);
    return Promise.resolve(this.objects.get(key));
  }
  put(key: string, body: string, cond?: { ifNoneMatch: '*' } | { ifMatch: string }) {
    this.calls.push(`put ${key}`);
    const hook = this.beforePut;
    this.beforePut = undefined;
    hook?.(key);
    const cur = this.objects.get(key);
    if (cond && 'ifNoneMatch' in cond && cur) return Promise.reject(new PreconditionFailed());
    if (cond && 'ifMatch' in cond && cur?.etag !== cond.ifMatch) return Promise.reject(new PreconditionFailed());
    return Promise.resolve(this.write(key, body));
  }
  list(prefix: string) {
    this.calls.push(`list ${prefix}`);
    return Promise.resolve([...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort());
  }
  copy(from: string, to: string) {
    this.calls.push(`copy ${from} -> ${to}`);
    const src = this.objects.get(from);
    if (!src || this.refuseCopy.has(from)) return Promise.reject(Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' }));
    this.write(to, src.body);
    return Promise.resolve();
  }
  delete(keys: string[]) {
    this.calls.push(`delete ${keys.length}`);
    for (const k of keys) this.objects.delete(k);
    return Promise.resolve([]);
  }
}

function setup() {
  const s3 = new FakeS3();
  let r = 0;
  const env: AlbumEnv = {
    store: s3, identityId: ID,
    now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, r)),
    random: (n) => new Uint8Array(n).fill(++r),
  };
  const info = new Map<string, PictureInfo>([
    ['a.jpg', { isPublic: true, title: 'A', width: 40, height: 30 }],
    ['b.jpg', { isPublic: false, title: 'B', width: 30, height: 40, takenAt: '2024-07-14T18:03:22' }],
    ['c.jpg', { isPublic: true, title: 'C' }],
  ]);
  for (const [file, p] of info) {
    for (const kind of ['thumbnails', 'previews']) s3.write(`${p.isPublic ? 'public' : 'private'}/${kind}/${ID}/${file}`, `${kind}:${file}`);
  }
  const deps = { pictures: (files: string[]) => Promise.resolve(new Map(files.filter((f) => info.has(f)).map((f) => [f, info.get(f)!] as const))) };
  return { s3, env, deps, info };
}

const docOf = (s3: FakeS3, key: string) => JSON.parse(s3.objects.get(key)!.body) as AlbumDoc;
const sharedOf = (s3: FakeS3, key: string) => JSON.parse(s3.objects.get(key)!.body) as SharedAlbumDoc;

describe('album documents', () => {
  it('creates with If-None-Match and lists by name', async () => {
    const { s3, env } = setup();
    const b = await createAlbum(env, '  Beach ', ['a.jpg', 'a.jpg', 'b.jpg']);
    await createAlbum(env, 'Alps');
    expect(b.doc).toMatchObject({ version: 1, name: 'Beach', pictures: ['a.jpg', 'b.jpg'] });
    expect(b.doc.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(docOf(s3, albumKey(ID, b.doc.id))).toEqual(b.doc);
    expect((await listAlbums(env)).map((a) => a.doc.name)).toEqual(['Alps', 'Beach']);
    await expect(createAlbum(env, '   ')).rejects.toThrow('needs a name');
  });

  it('a create never overwrites an album with the same id', async () => {
    const { s3, env } = setup();
    const env2 = { ...env, random: (n: number) => new Uint8Array(n).fill(7) };
    await createAlbum(env2, 'First');
    await expect(createAlbum(env2, 'Second')).rejects.toBeInstanceOf(PreconditionFailed);
    expect((await listAlbums(env)).map((a) => a.doc.name)).toEqual(['First']);
    expect(s3.objects.size).toBeGreaterThan(0);
  });

  it('a change that loses the race is applied again to what is stored (never an older state)', async () => {
    const { s3, env } = setup();
    const { doc } = await createAlbum(env, 'Trip', ['a.jpg']);
    // Another tab adds c.jpg between this tab's read and write.
    const key = albumKey(ID, doc.id);
    let interfered = false;
    s3.beforePut = (k) => {
      if (k !== key || interfered) return;
      interfered = true;
      const cur = JSON.parse(s3.objects.get(k)!.body) as AlbumDoc;
      s3.write(k, JSON.stringify({ ...cur, pictures: [...cur.pictures, 'c.jpg'] }));
    };
    const out = await addPictures(env, doc.id, ['b.jpg']);
    expect(interfered).toBe(true);
    expect(out.doc.pictures).toEqual(['a.jpg', 'c.jpg', 'b.jpg']);
    expect(docOf(s3, key).pictures).toEqual(['a.jpg', 'c.jpg', 'b.jpg']);
    // The create, the write that lost, the write over the other tab's.
    expect(s3.calls.filter((c) => c === `put ${key}`)).toHaveLength(3);
  });

  it('gives up after a bounded number of lost races', async () => {
    const { s3, env } = setup();
    const { doc } = await createAlbum(env, 'Busy');
    const key = albumKey(ID, doc.id);
    const always = (k: string) => {
      s3.write(k, s3.objects.get(k)!.body);
      s3.beforePut = always;
    };
    s3.beforePut = always;
    await expect(renameAlbum(env, doc.id, 'Calm')).rejects.toBeInstanceOf(PreconditionFailed);
    // The create, then MAX_WRITE_TRIES changes.
    expect(s3.calls.filter((c) => c === `put ${key}`)).toHaveLength(1 + 8);
  });

  it('renames, removes, refuses a change of an album deleted meanwhile, and bounds the size', async () => {
    const { env } = setup();
    const { doc } = await createAlbum(env, 'Old', ['a.jpg', 'b.jpg']);
    expect((await renameAlbum(env, doc.id, 'New')).doc.name).toBe('New');
    expect((await removePictures(env, doc.id, ['a.jpg'])).doc.pictures).toEqual(['b.jpg']);
    const many = Array.from({ length: MAX_ALBUM_PICTURES }, (_, i) => `p${i}.jpg`);
    await expect(addPictures(env, doc.id, many)).rejects.toBeInstanceOf(AlbumFull);
    await deleteAlbum(env, doc.id);
    await expect(renameAlbum(env, doc.id, 'X')).rejects.toBeInstanceOf(AlbumGone);
    expect(await readAlbum(env, doc.id)).toBeUndefined();
  });

  it('a change to nothing new writes nothing', async () => {
    const { s3, env } = setup();
    const { doc, etag } = await createAlbum(env, 'Same', ['a.jpg']);
    const before = s3.calls.length;
    expect((await addPictures(env, doc.id, ['a.jpg'])).etag).toBe(etag);
    expect(s3.calls.slice(before).some((c) => c.startsWith('put'))).toBe(false);
    expect(await changeAlbum(env, doc.id, () => undefined)).toMatchObject({ etag });
  });
});

describe('sharing', () => {
  it('publishes name, titles and rendition copies (private ones too), nothing else', async () => {
    const { s3, env, deps } = setup();
    const { doc } = await createAlbum(env, 'Shared', ['a.jpg', 'b.jpg', 'gone.jpg']);
    const shared = await shareAlbum(env, doc.id);
    const token = shared.doc.link!.token;
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const out = await publishAlbum(env, doc.id, deps);
    expect(out).toEqual({ shared: ['a.jpg', 'b.jpg'], missing: ['gone.jpg'] });
    expect(sharedOf(s3, sharedDocKey(ID, token))).toEqual({
      version: 1, name: 'Shared',
      pictures: [{ file: 'a.jpg', title: 'A', width: 40, height: 30 }, { file: 'b.jpg', title: 'B', width: 30, height: 40, takenAt: '2024-07-14T18:03:22' }],
    });
    expect(s3.objects.get(sharedRenditionKey(ID, token, 'previews', 'b.jpg'))?.body).toBe('previews:b.jpg');
    expect(s3.calls).toContain(`copy private/thumbnails/${ID}/b.jpg -> public/albums/${ID}/${token}/thumbnails/b.jpg`);
    expect([...s3.objects.keys()].filter((k) => k.startsWith(`public/albums/${ID}/${token}/`)).sort()).toEqual([
      `public/albums/${ID}/${token}/album.json`,
      `public/albums/${ID}/${token}/previews/a.jpg`, `public/albums/${ID}/${token}/previews/b.jpg`,
      `public/albums/${ID}/${token}/thumbnails/a.jpg`, `public/albums/${ID}/${token}/thumbnails/b.jpg`,
    ]);
    // A change copies only what is new and deletes what left.
    await removePictures(env, doc.id, ['a.jpg']);
    await addPictures(env, doc.id, ['c.jpg']);
    const copiesBefore = s3.calls.filter((c) => c.startsWith('copy')).length;
    await publishAlbum(env, doc.id, deps);
    expect(s3.calls.filter((c) => c.startsWith('copy')).length - copiesBefore).toBe(2);
    expect(s3.objects.has(sharedRenditionKey(ID, token, 'thumbnails', 'a.jpg'))).toBe(false);
    expect(sharedOf(s3, sharedDocKey(ID, token)).pictures.map((p) => p.file)).toEqual(['b.jpg', 'c.jpg']);
  });

  it('leaves out a picture whose renditions are not made yet, and copies it at the next publish', async () => {
    const { s3, env, deps } = setup();
    const { doc } = await createAlbum(env, 'New', ['a.jpg']);
    await shareAlbum(env, doc.id);
    s3.refuseCopy.add(`public/thumbnails/${ID}/a.jpg`);
    expect(await publishAlbum(env, doc.id, deps)).toEqual({ shared: [], missing: ['a.jpg'] });
    s3.refuseCopy.clear();
    expect(await publishAlbum(env, doc.id, deps)).toEqual({ shared: ['a.jpg'], missing: [] });
  });

  it('an album not shared publishes nothing', async () => {
    const { s3, env, deps } = setup();
    const { doc } = await createAlbum(env, 'Mine', ['a.jpg']);
    expect(await publishAlbum(env, doc.id, deps)).toBeUndefined();
    expect([...s3.objects.keys()].some((k) => k.startsWith('public/albums/'))).toBe(false);
  });

  it('publishes again when the album changed while it published', async () => {
    const { s3, env, deps } = setup();
    const { doc } = await createAlbum(env, 'Race', ['a.jpg']);
    const token = (await shareAlbum(env, doc.id)).doc.link!.token;
    let once = false;
    s3.beforePut = function hook(k) {
      if (k === sharedDocKey(ID, token) && !once) {
        once = true;
        const key = albumKey(ID, doc.id);
        const cur = JSON.parse(s3.objects.get(key)!.body) as AlbumDoc;
        s3.write(key, JSON.stringify({ ...cur, name: 'Renamed elsewhere' }));
      } else s3.beforePut = hook;
    };
    await publishAlbum(env, doc.id, deps);
    expect(sharedOf(s3, sharedDocKey(ID, token)).name).toBe('Renamed elsewhere');
  });

  it('revoking deletes everything under the token; a revoke during a publish leaves nothing behind', async () => {
    const { s3, env, deps } = setup();
    const { doc } = await createAlbum(env, 'Gone', ['a.jpg', 'b.jpg']);
    const first = (await shareAlbum(env, doc.id)).doc.link!.token;
    await publishAlbum(env, doc.id, deps);
    const revoked = await revokeLink(env, doc.id);
    expect(revoked.doc.link).toBeUndefined();
    expect([...s3.objects.keys()].filter((k) => k.startsWith(`public/albums/${ID}/${first}/`))).toEqual([]);
    // Sharing again makes a new token.
    const second = (await shareAlbum(env, doc.id)).doc.link!.token;
    expect(second).not.toBe(first);
    // Another tab revokes while this one writes the copy.
    s3.beforePut = (k) => {
      if (k !== sharedDocKey(ID, second)) return;
      const key = albumKey(ID, doc.id);
      const cur = JSON.parse(s3.objects.get(key)!.body) as AlbumDoc;
      delete cur.link;
      s3.write(key, JSON.stringify(cur));
    };
    await publishAlbum(env, doc.id, deps);
    expect([...s3.objects.keys()].filter((k) => k.startsWith('public/albums/'))).toEqual([]);
  });

  it('deleting an album deletes its shared copy', async () => {
    const { s3, env, deps } = setup();
    const { doc } = await createAlbum(env, 'Bye', ['a.jpg']);
    await shareAlbum(env, doc.id);
    await publishAlbum(env, doc.id, deps);
    await deleteAlbum(env, doc.id);
    expect([...s3.objects.keys()].filter((k) => k.includes('/albums/'))).toEqual([]);
  });
});

describe('what one change writes', () => {
  it('adding a picture to a full shared album: two documents and two copies, of bounded size', async () => {
    const { s3, env } = setup();
    // 500 pictures with long names and the longest titles: the worst case of a document.
    const files = Array.from({ length: MAX_ALBUM_PICTURES }, (_, i) => `IMG_20240714_180322_${String(i).padStart(4, '0')} holiday at the sea.jpg`);
    const info = new Map<string, PictureInfo>(files.map((f) => [f, { isPublic: false, title: 'T'.repeat(200), width: 4032, height: 3024, takenAt: '2024-07-14T18:03:22+02:00' }]));
    for (const f of files) for (const kind of ['thumbnails', 'previews']) s3.write(`private/${kind}/${ID}/${f}`, kind);
    const deps = { pictures: (fs: string[]) => Promise.resolve(new Map(fs.filter((f) => info.has(f)).map((f) => [f, info.get(f)!] as const))) };
    const { doc } = await createAlbum(env, 'N'.repeat(200), files.slice(0, -1));
    await shareAlbum(env, doc.id);
    await publishAlbum(env, doc.id, deps);

    const puts = new Map<string, number>();
    const store = s3.put.bind(s3);
    s3.put = (key, body, cond) => {
      puts.set(key, (puts.get(key) ?? 0) + body.length);
      return store(key, body, cond);
    };
    s3.calls = [];
    await addPictures(env, doc.id, files.slice(-1));
    await publishAlbum(env, doc.id, deps);
    const kinds = (k: string) => s3.calls.filter((c) => c.startsWith(k)).length;
    const bytes = [...puts.values()].reduce((a, b) => a + b, 0);
    console.log(`one addition to a full shared album: ${kinds('get')} GETs, ${kinds('list')} LISTs, ${kinds('put')} PUTs (${bytes} bytes: album ${puts.get(albumKey(ID, doc.id))}, shared copy ${[...puts.entries()].find(([k]) => k.endsWith('album.json'))?.[1]}), ${kinds('copy')} copies, ${kinds('delete')} deletes`);
    expect(kinds('put')).toBe(2);
    expect(kinds('copy')).toBe(2);
    expect(kinds('delete')).toBe(0);
    expect(bytes).toBeLessThan(200_000);
  });
});

describe('deleted pictures and accounts', () => {
  it('a deleted picture leaves every album and shared copy holding it', async () => {
    const { s3, env, deps, info } = setup();
    const one = await createAlbum(env, 'One', ['a.jpg', 'b.jpg']);
    const two = await createAlbum(env, 'Two', ['b.jpg']);
    const three = await createAlbum(env, 'Three', ['c.jpg']);
    const token = (await shareAlbum(env, one.doc.id)).doc.link!.token;
    await publishAlbum(env, one.doc.id, deps);
    info.delete('b.jpg');
    await forgetPictures(env, ['b.jpg'], deps);
    expect((await readAlbum(env, one.doc.id))!.doc.pictures).toEqual(['a.jpg']);
    expect((await readAlbum(env, two.doc.id))!.doc.pictures).toEqual([]);
    expect((await readAlbum(env, three.doc.id))!.etag).toBe(three.etag);
    expect(sharedOf(s3, sharedDocKey(ID, token)).pictures.map((p) => p.file)).toEqual(['a.jpg']);
    expect(s3.objects.has(sharedRenditionKey(ID, token, 'previews', 'b.jpg'))).toBe(false);
  });

  it('the forgetter runs one pass for deletions made together, and one after for those that come later', async () => {
    const passes: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const f = new PictureForgetter(async (files) => {
      passes.push(files);
      if (passes.length === 1) await gate;
    });
    const a = f.forget('a.jpg');
    const b = f.forget('b.jpg');
    await Promise.resolve();
    await Promise.resolve();
    const c = f.forget('c.jpg');
    const d = f.forget('d.jpg');
    release();
    await Promise.all([a, b, c, d]);
    expect(passes).toEqual([['a.jpg', 'b.jpg'], ['c.jpg', 'd.jpg']]);
    const failing = new PictureForgetter(() => Promise.reject(new Error('no')));
    await expect(failing.forget('x.jpg')).rejects.toThrow('no');
  });

  it('account deletion deletes every album document and shared copy, shared copies first', async () => {
    const { s3, env, deps } = setup();
    const { doc } = await createAlbum(env, 'A', ['a.jpg']);
    await createAlbum(env, 'B');
    await shareAlbum(env, doc.id);
    await publishAlbum(env, doc.id, deps);
    s3.write(`private/albums/us-east-1:2222/x.json`, '{}');
    expect(await deleteEveryAlbum(env)).toBe(2);
    expect([...s3.objects.keys()].filter((k) => k.includes('/albums/'))).toEqual(['private/albums/us-east-1:2222/x.json']);
  });
});

describe('links and documents', () => {
  it('round-trips a link and refuses partial ones', () => {
    const token = randomId();
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(parseAlbumLinkHash(albumLinkHash(ID, token))).toEqual({ identityId: ID, token });
    expect(parseAlbumLinkHash(`#/a/${ID}`)).toBeUndefined();
    expect(parseAlbumLinkHash(`#/a/${ID}/short`)).toBeUndefined();
    expect(parseAlbumLinkHash(`#/a/not-an-id/${token}`)).toBeUndefined();
    expect(parseOwnAlbumHash(ownAlbumHash('abc_-1'))).toBe('abc_-1');
    expect(parseOwnAlbumHash('#/album/a/b')).toBeUndefined();
  });

  it('reads a shared document defensively', () => {
    expect(parseSharedAlbum('nope')).toBeUndefined();
    expect(parseSharedAlbum('{"version":2,"name":"x","pictures":[]}')).toBeUndefined();
    expect(parseSharedAlbum('{"version":1,"name":"x","pictures":[{"file":"a.jpg"},{"file":"../b"},{"title":"t"}]}'))
      .toEqual({ version: 1, name: 'x', pictures: [{ file: 'a.jpg', title: 'a.jpg' }] });
  });
});

describe('adding a selection', () => {
  const describeError = (e: unknown) => (e as Error).message;
  const pic = (file: string, refused = false) => ({ objectKey: `private/content/${ID}/${file}`, ...(refused ? { refused: 'tooLarge' } : {}) });

  it('to a new album: one create with every kept picture', async () => {
    const { env, deps } = setup();
    const { report, name } = await addToAlbum(env, [pic('a.jpg'), pic('b.jpg'), pic('x.jpg', true)], { name: 'Fresh' }, { ...deps, describeError });
    expect(name).toBe('Fresh');
    expect(report.done.map((i) => i.objectKey)).toEqual([pic('a.jpg').objectKey, pic('b.jpg').objectKey]);
    expect(report.skipped.map((s) => s.reason)).toEqual(['the cloud did not keep the file']);
    const [album] = await listAlbums(env);
    expect(album.doc.pictures).toEqual(['a.jpg', 'b.jpg']);
  });

  it('to a shared album: skips what is in it, republishes, and fails all when it would be too full', async () => {
    const { s3, env, deps } = setup();
    const { doc } = await createAlbum(env, 'Old', ['a.jpg']);
    const token = (await shareAlbum(env, doc.id)).doc.link!.token;
    const { report } = await addToAlbum(env, [pic('a.jpg'), pic('c.jpg')], { albumId: doc.id }, { ...deps, describeError });
    expect(report.done.map((i) => i.objectKey)).toEqual([pic('c.jpg').objectKey]);
    expect(report.skipped.map((s) => s.reason)).toEqual(['already in the album']);
    expect(sharedOf(s3, sharedDocKey(ID, token)).pictures.map((p) => p.file)).toEqual(['a.jpg', 'c.jpg']);
    const many = Array.from({ length: MAX_ALBUM_PICTURES }, (_, i) => pic(`p${i}.jpg`));
    const full = await addToAlbum(env, many, { albumId: doc.id }, { ...deps, describeError });
    expect(full.report.failed).toHaveLength(MAX_ALBUM_PICTURES);
    expect(full.report.failed[0].reason).toBe('An album holds at most 500 pictures.');
  });
});
