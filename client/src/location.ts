/**
 * Location tags in JPEG files: finding them, and removing them losslessly before a public
 * upload (docs/decisions/location-privacy.md).
 *
 * Removal never re-encodes pixels and never changes the file's length or any offset:
 *  - EXIF: every GPS IFD pointer entry (tag 0x8825) is taken out of the IFD that holds it by
 *    moving the IFD's later entries and its next-IFD pointer up by 12 bytes and zeroing the
 *    12 bytes freed at its end; then the GPS IFD and its values are zeroed, except bytes that
 *    another IFD also refers to. Everything else, the orientation included, stays byte for byte.
 *  - XMP (APP1 "http://ns.adobe.com/xap/1.0/"): GPS and place properties written as simple
 *    attributes or simple elements are overwritten with spaces (XML whitespace).
 *  - Anything this cannot remove with certainty (a damaged EXIF block, a location property in
 *    a form it does not rewrite, location in extended XMP) is a failure with a reason: the
 *    caller then does not upload the file publicly without the person's choice.
 *
 * The parser is bounded: each IFD is visited at most once and at most MAX_IFDS are read, so a
 * loop or an absurd offset in a hostile file ends in a failure, never a hang or a throw.
 */

const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0"
const XMP_HEADER = 'http://ns.adobe.com/xap/1.0/\u0000';
const XMP_EXTENSION_HEADER = 'http://ns.adobe.com/xmp/extension/\u0000';
export const TAG_GPS_IFD = 0x8825;
const TAG_EXIF_IFD = 0x8769;
const TAG_INTEROP_IFD = 0xa005;
const TAG_SUB_IFDS = 0x014a;
const TAG_THUMBNAIL_OFFSET = 0x0201;
const TAG_THUMBNAIL_LENGTH = 0x0202;
const TAG_STRIP_OFFSETS = 0x0111;
const TAG_STRIP_BYTE_COUNTS = 0x0117;
const GPS_LATITUDE = 0x0002;
const GPS_LONGITUDE = 0x0004;
const MAX_IFDS = 32;
/** Bytes per value of each TIFF field type (TIFF 6.0 and EXIF 2.3 types 1-13). */
const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4 };

/** XMP properties that say where a picture was taken (simple-valued ones). */
const XMP_LOCATION = /(?:exif:GPS[A-Za-z]*|photoshop:(?:City|State|Country)|Iptc4xmpCore:(?:Location|CountryCode)|Iptc4xmpExt:Location(?:Created|Shown))/;
const XMP_LOCATION_NAME = XMP_LOCATION.source;

export class LocationError extends Error {}

export type StripResult =
  /** Nothing to remove: `bytes` is the input itself. */
  | { status: 'unchanged'; bytes: Uint8Array }
  /** A copy with the location removed; `removed` says what went. */
  | { status: 'stripped'; bytes: Uint8Array; removed: string[] }
  /** The location could not be removed with certainty; nothing was changed. */
  | { status: 'failed'; reason: string };

export type LocationScan =
  | { status: 'none' }
  | { status: 'present'; where: string[] }
  /** Not a JPEG, cut off before the image data, or damaged: cannot say. */
  | { status: 'unknown'; reason: string };

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

interface Segment {
  marker: number;
  /** Offset of the segment's data (after marker and length). */
  start: number;
  end: number;
}

/**
 * The marker segments before the image data. `complete` is false when the bytes end before
 * the start-of-scan (a head read with a Range GET, or a truncated file).
 */
export function jpegSegments(bytes: Uint8Array): { segments: Segment[]; complete: boolean } {
  if (!isJpeg(bytes)) throw new LocationError('not a JPEG');
  const segments: Segment[] = [];
  let pos = 2;
  while (pos < bytes.length) {
    if (bytes[pos] !== 0xff) throw new LocationError(`no marker at byte ${pos}`);
    while (pos < bytes.length && bytes[pos] === 0xff) pos++; // fill bytes
    if (pos >= bytes.length) break;
    const marker = bytes[pos++];
    if (marker === 0xda || marker === 0xd9) return { segments, complete: true }; // SOS / EOI
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length
    if (pos + 2 > bytes.length) break;
    const length = (bytes[pos] << 8) | bytes[pos + 1];
    if (length < 2) throw new LocationError(`segment length ${length} at byte ${pos}`);
    const end = pos + length;
    if (end > bytes.length) break;
    segments.push({ marker, start: pos + 2, end });
    pos = end;
  }
  return { segments, complete: false };
}

function startsWith(bytes: Uint8Array, at: number, prefix: ArrayLike<number> | string): boolean {
  const p = typeof prefix === 'string' ? Array.from(prefix, (c) => c.charCodeAt(0)) : Array.from(prefix);
  if (at + p.length > bytes.length) return false;
  return p.every((b, i) => bytes[at + i] === b);
}

/** One byte per character, so string indexes are byte offsets. */
function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

// ---------- EXIF (TIFF structure) ----------

interface Entry {
  /** Offset of the 12-byte entry in the TIFF data. */
  at: number;
  tag: number;
  type: number;
  count: number;
  /** Offset of the value (inline: within the entry), or -1 when it lies outside the data. */
  valueAt: number;
  valueBytes: number;
}

interface Ifd {
  at: number;
  /** Byte length of the IFD: count, entries and the next-IFD pointer. */
  length: number;
  entries: Entry[];
  kind: 'main' | 'exif' | 'interop' | 'sub' | 'gps';
}

class Tiff {
  readonly le: boolean;
  constructor(readonly data: Uint8Array) {
    if (data.length < 8) throw new LocationError('EXIF block shorter than its header');
    if (data[0] === 0x49 && data[1] === 0x49) this.le = true;
    else if (data[0] === 0x4d && data[1] === 0x4d) this.le = false;
    else throw new LocationError('EXIF block with an unknown byte order');
    if (this.u16(2) !== 42) throw new LocationError('EXIF block without the TIFF magic number');
  }

  u16(at: number): number {
    const d = this.data;
    return this.le ? d[at] | (d[at + 1] << 8) : (d[at] << 8) | d[at + 1];
  }

  u32(at: number): number {
    const d = this.data;
    return (this.le
      ? d[at] | (d[at + 1] << 8) | (d[at + 2] << 16) | (d[at + 3] << 24)
      : (d[at] << 24) | (d[at + 1] << 16) | (d[at + 2] << 8) | d[at + 3]) >>> 0;
  }

  readIfd(at: number, kind: Ifd['kind']): Ifd {
    const d = this.data;
    if (at < 8 || at + 2 > d.length) throw new LocationError(`${kind} IFD at ${at} is outside the EXIF block`);
    const n = this.u16(at);
    const length = 2 + n * 12 + 4;
    if (at + length > d.length) throw new LocationError(`${kind} IFD at ${at} (${n} entries) runs past the EXIF block`);
    const entries: Entry[] = [];
    for (let i = 0; i < n; i++) {
      const e = at + 2 + i * 12;
      const type = this.u16(e + 2);
      const count = this.u32(e + 4);
      const size = (TYPE_SIZES[type] ?? 0) * count;
      let valueAt = e + 8;
      if (size > 4) {
        valueAt = this.u32(e + 8);
        if (valueAt + size > d.length) valueAt = -1;
      }
      entries.push({ at: e, tag: this.u16(e), type, count, valueAt, valueBytes: TYPE_SIZES[type] ? size : 4 });
    }
    return { at, length, entries, kind };
  }

  /** Values of an entry of SHORT or LONG type (offset and count arrays). */
  numbers(e: Entry): number[] {
    if (e.valueAt < 0 || (e.type !== 3 && e.type !== 4)) return [];
    const out: number[] = [];
    for (let i = 0; i < e.count && i < 4096; i++) out.push(e.type === 3 ? this.u16(e.valueAt + i * 2) : this.u32(e.valueAt + i * 4));
    return out;
  }

  /** Every IFD reachable from IFD0, each once: the chain, Exif, Interop, SubIFDs, GPS. */
  walk(): Ifd[] {
    const seen = new Set<number>();
    const ifds: Ifd[] = [];
    const queue: { at: number; kind: Ifd['kind'] }[] = [{ at: this.u32(4), kind: 'main' }];
    while (queue.length) {
      const { at, kind } = queue.shift()!;
      if (seen.has(at)) throw new LocationError(`IFD at ${at} is referred to twice (a loop)`);
      if (ifds.length >= MAX_IFDS) throw new LocationError(`more than ${MAX_IFDS} IFDs`);
      seen.add(at);
      const ifd = this.readIfd(at, kind);
      ifds.push(ifd);
      for (const e of ifd.entries) {
        if (e.tag === TAG_GPS_IFD) queue.push({ at: this.pointer(e), kind: 'gps' });
        else if (kind !== 'gps' && e.tag === TAG_EXIF_IFD) queue.push({ at: this.pointer(e), kind: 'exif' });
        else if (kind !== 'gps' && e.tag === TAG_INTEROP_IFD) queue.push({ at: this.pointer(e), kind: 'interop' });
        else if (kind !== 'gps' && e.tag === TAG_SUB_IFDS) for (const p of this.numbers(e)) queue.push({ at: p, kind: 'sub' });
      }
      if (kind === 'main') {
        const next = this.u32(at + ifd.length - 4);
        if (next !== 0) queue.push({ at: next, kind: 'main' });
      }
    }
    return ifds;
  }

  private pointer(e: Entry): number {
    if ((e.type !== 4 && e.type !== 13) || e.count !== 1) throw new LocationError(`IFD pointer tag 0x${e.tag.toString(16)} of type ${e.type} x ${e.count}`);
    return this.u32(e.at + 8);
  }
}

/** Byte ranges [start, end) of an IFD and the values its entries point to. */
function rangesOf(tiff: Tiff, ifd: Ifd): [number, number][] {
  const ranges: [number, number][] = [[ifd.at, ifd.at + ifd.length]];
  for (const e of ifd.entries) {
    if (e.valueAt >= 0 && e.valueBytes > 4) ranges.push([e.valueAt, e.valueAt + e.valueBytes]);
  }
  // Thumbnail data (IFD1): a JPEG stream, or uncompressed strips.
  const byTag = new Map(ifd.entries.map((e) => [e.tag, e]));
  const pairs: [number, number][] = [[TAG_THUMBNAIL_OFFSET, TAG_THUMBNAIL_LENGTH], [TAG_STRIP_OFFSETS, TAG_STRIP_BYTE_COUNTS]];
  for (const [offsetTag, lengthTag] of pairs) {
    const o = byTag.get(offsetTag);
    const l = byTag.get(lengthTag);
    if (!o || !l) continue;
    const offsets = tiff.numbers(o);
    const lengths = tiff.numbers(l);
    offsets.forEach((start, i) => {
      if (lengths[i] !== undefined) ranges.push([start, Math.min(tiff.data.length, start + lengths[i])]);
    });
  }
  return ranges;
}

/** Whether a GPS IFD holds a position (latitude or longitude). */
function gpsHasPosition(gps: Ifd): boolean {
  return gps.entries.some((e) => e.tag === GPS_LATITUDE || e.tag === GPS_LONGITUDE);
}

/** Removes the GPS pointer entries and zeroes the GPS IFDs, in place. Returns what went. */
function stripExif(tiff: Tiff): string[] {
  const ifds = tiff.walk();
  const gps = ifds.filter((i) => i.kind === 'gps');
  const holders = ifds.filter((i) => i.kind !== 'gps' && i.entries.some((e) => e.tag === TAG_GPS_IFD));
  if (!holders.length) return [];
  const d = tiff.data;
  // Bytes other IFDs use are never zeroed, even if a (damaged) GPS IFD points into them.
  const keep = new Uint8Array(d.length);
  for (const ifd of ifds) {
    if (ifd.kind === 'gps') continue;
    for (const [s, e] of rangesOf(tiff, ifd)) keep.fill(1, Math.max(0, s), Math.min(d.length, e));
  }
  const zero = new Uint8Array(d.length);
  for (const g of gps) for (const [s, e] of rangesOf(tiff, g)) zero.fill(1, Math.max(0, s), Math.min(d.length, e));
  for (let i = 0; i < d.length; i++) if (zero[i] && !keep[i]) d[i] = 0;
  // Then take the pointers out, moving each holder's later entries and next pointer up.
  for (const ifd of holders) {
    let n = ifd.entries.length;
    for (let i = n - 1; i >= 0; i--) {
      if (ifd.entries[i].tag !== TAG_GPS_IFD) continue;
      const entry = ifd.at + 2 + i * 12;
      const tail = ifd.at + 2 + n * 12 + 4; // end of the IFD as it is now
      d.copyWithin(entry, entry + 12, tail);
      d.fill(0, tail - 12, tail);
      n--;
    }
    const le = tiff.le;
    d[ifd.at] = le ? n & 0xff : n >> 8;
    d[ifd.at + 1] = le ? n >> 8 : n & 0xff;
  }
  return [`EXIF GPS (${gps.some(gpsHasPosition) ? 'position' : 'GPS tags'})`];
}

function scanExif(tiff: Tiff): string[] {
  const gps = tiff.walk().filter((i) => i.kind === 'gps');
  return gps.some(gpsHasPosition) ? ['EXIF GPS position'] : [];
}

// ---------- XMP ----------

/** Simple-valued location properties: `prefix:Name="v"` attributes and `<prefix:Name>v</prefix:Name>` elements. */
const XMP_BLANKABLE = new RegExp(
  [
    `\\s${XMP_LOCATION_NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*')`,
    `<(${XMP_LOCATION_NAME})(?:\\s[^<>]*)?>[^<]*</\\1\\s*>`,
    `<${XMP_LOCATION_NAME}(?:\\s[^<>]*)?/>`,
  ].join('|'),
  'g',
);

/** Blanks location properties of an XMP packet in place; throws when some cannot be. */
function stripXmp(bytes: Uint8Array, start: number, end: number): boolean {
  const text = latin1(bytes.subarray(start, end));
  let found = false;
  for (const m of text.matchAll(XMP_BLANKABLE)) {
    found = true;
    bytes.fill(0x20, start + m.index, start + m.index + m[0].length);
  }
  if (XMP_LOCATION.test(latin1(bytes.subarray(start, end)))) {
    throw new LocationError('the XMP block holds a location in a form this app cannot remove safely');
  }
  return found;
}

// ---------- the two entry points ----------

/**
 * Removes GPS and place tags from a JPEG, losslessly (see the module comment). A non-JPEG is
 * returned unchanged (the caller decides what to tell the person).
 */
export function stripLocation(input: Uint8Array): StripResult {
  if (!isJpeg(input)) return { status: 'unchanged', bytes: input };
  const out = input.slice();
  const removed: string[] = [];
  try {
    const { segments, complete } = jpegSegments(out);
    if (!complete) throw new LocationError('the file ends before its image data');
    for (const s of segments) {
      if (s.marker !== 0xe1) continue;
      if (startsWith(out, s.start, EXIF_HEADER)) {
        removed.push(...stripExif(new Tiff(out.subarray(s.start + EXIF_HEADER.length, s.end))));
      } else if (startsWith(out, s.start, XMP_HEADER)) {
        if (stripXmp(out, s.start + XMP_HEADER.length, s.end)) removed.push('XMP location');
      } else if (startsWith(out, s.start, XMP_EXTENSION_HEADER)) {
        if (/GPS|Location|City|Country/.test(latin1(out.subarray(s.start, s.end)))) {
          throw new LocationError('extended XMP may hold a location, which this app cannot remove');
        }
      }
    }
  } catch (err) {
    if (err instanceof LocationError) return { status: 'failed', reason: err.message };
    return { status: 'failed', reason: `unreadable metadata (${(err as Error).message})` };
  }
  if (!removed.length) return { status: 'unchanged', bytes: input };
  return { status: 'stripped', bytes: out, removed: [...new Set(removed)] };
}

/** Whether a JPEG (or its first bytes) carries a location. Never throws. */
export function scanLocation(bytes: Uint8Array): LocationScan {
  if (!isJpeg(bytes)) return { status: 'unknown', reason: 'only JPEG files are checked' };
  const where: string[] = [];
  try {
    const { segments, complete } = jpegSegments(bytes);
    for (const s of segments) {
      if (s.marker !== 0xe1) continue;
      if (startsWith(bytes, s.start, EXIF_HEADER)) where.push(...scanExif(new Tiff(bytes.subarray(s.start + EXIF_HEADER.length, s.end))));
      else if (startsWith(bytes, s.start, XMP_HEADER) && XMP_LOCATION.test(latin1(bytes.subarray(s.start, s.end)))) where.push('XMP location');
    }
    if (where.length) return { status: 'present', where };
    if (!complete) return { status: 'unknown', reason: 'the metadata goes on past the bytes read' };
    return { status: 'none' };
  } catch (err) {
    return { status: 'unknown', reason: err instanceof LocationError ? err.message : String(err) };
  }
}

/**
 * Whether a picture may tell where it was taken, as its scan says: a location is there, or may
 * be (a JPEG whose metadata could not be read). Removing it is then offered, and done when the
 * person asks, before the picture is made public (the detail view, and My pictures' selection).
 */
export function mayCarryLocation(scan: LocationScan, contentType: string | undefined): boolean {
  return scan.status === 'present' || (scan.status === 'unknown' && contentType === 'image/jpeg');
}
