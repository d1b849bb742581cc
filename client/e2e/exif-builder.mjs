// Builds EXIF (TIFF) blocks byte by byte, and JPEGs carrying them, for the location tests
// (unit tests in src/location.test.ts and the browser test). Test code only.
//
// buildTiff({ le, order, ifds, thumbnail }):
//   le        true for little endian ("II"), false for big endian ("MM")
//   order     the blocks' order in the file after the 8-byte header, e.g.
//             ['gps', 'ifd0', 'exif', 'ifd1', 'thumb']; each IFD block is followed by its
//             out-of-line values
//   ifds      { name: [entry, ...] }; entry = { tag, type, values } with values a number
//             array (types 1, 3, 4, 5 as [num, den, ...], 7) or a string (type 2, NUL added),
//             or { tag, ref: 'name' } for a pointer (LONG) to another block, or
//             { tag, lengthOf: 'thumb' } for the thumbnail's byte count
//   next      { ifd0: 'ifd1' }: the next-IFD pointers
//   thumbnail bytes of the 'thumb' block
// Returns { bytes, offsets: { name: offset }, sizes: { name: length of the IFD itself } }.

const SIZES = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 7: 1, 9: 4, 10: 4 };

function valueBytes(entry, le) {
  if (entry.type === 2) return [...Buffer.from(`${entry.values}\0`, 'latin1')];
  const size = SIZES[entry.type];
  const out = [];
  for (const v of entry.values) {
    for (let i = 0; i < size; i++) {
      const shift = 8 * (le ? i : size - 1 - i);
      out.push(Math.floor(v / 2 ** shift) & 0xff);
    }
  }
  return out;
}

function uint(n, size, le) {
  const out = [];
  for (let i = 0; i < size; i++) out.push(Math.floor(n / 2 ** (8 * (le ? i : size - 1 - i))) & 0xff);
  return out;
}

export function buildTiff({ le = true, order, ifds, next = {}, thumbnail = [] }) {
  const resolved = {};
  for (const [name, entries] of Object.entries(ifds)) {
    resolved[name] = [...entries]
      .map((e) => (e.ref || e.lengthOf ? { tag: e.tag, type: 4, values: [0], ref: e.ref, lengthOf: e.lengthOf } : e))
      .sort((a, b) => a.tag - b.tag)
      .map((e) => ({ ...e, data: valueBytes(e, le) }));
  }
  const blockSize = (name) => {
    if (name === 'thumb') return thumbnail.length;
    const entries = resolved[name];
    const extra = entries.reduce((n, e) => n + (e.data.length > 4 ? e.data.length + (e.data.length % 2) : 0), 0);
    return 2 + entries.length * 12 + 4 + extra;
  };
  const offsets = {};
  let at = 8;
  for (const name of order) {
    offsets[name] = at;
    at += blockSize(name);
  }
  const bytes = new Uint8Array(at);
  bytes.set(le ? [0x49, 0x49, 42, 0] : [0x4d, 0x4d, 0, 42], 0);
  bytes.set(uint(offsets.ifd0, 4, le), 4);
  const sizes = {};
  for (const name of order) {
    if (name === 'thumb') {
      bytes.set(thumbnail, offsets.thumb);
      continue;
    }
    const entries = resolved[name];
    const start = offsets[name];
    sizes[name] = 2 + entries.length * 12 + 4;
    let values = start + sizes[name];
    bytes.set(uint(entries.length, 2, le), start);
    entries.forEach((e, i) => {
      const p = start + 2 + i * 12;
      const count = e.type === 2 ? e.data.length : e.type === 5 || e.type === 10 ? e.values.length / 2 : e.values.length;
      bytes.set([...uint(e.tag, 2, le), ...uint(e.type, 2, le), ...uint(count, 4, le)], p);
      let data = e.data;
      if (e.ref) data = uint(offsets[e.ref], 4, le);
      if (e.lengthOf) data = uint(thumbnail.length, 4, le);
      if (data.length > 4) {
        bytes.set(uint(values, 4, le), p + 8);
        bytes.set(data, values);
        values += data.length + (data.length % 2);
      } else {
        bytes.set(data, p + 8);
      }
    });
    const nextName = next[name];
    bytes.set(uint(nextName ? offsets[nextName] : 0, 4, le), start + 2 + entries.length * 12);
  }
  return { bytes, offsets, sizes };
}

/** An APP1 segment (marker, length, payload) holding `payload`. */
export function app1(payload) {
  const length = payload.length + 2;
  if (length > 0xffff) throw new Error('APP1 payload too long');
  return Uint8Array.from([0xff, 0xe1, length >> 8, length & 0xff, ...payload]);
}

export function exifSegment(tiffBytes) {
  return app1([...Buffer.from('Exif\0\0', 'latin1'), ...tiffBytes]);
}

export function xmpSegment(xml) {
  return app1([...Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1'), ...Buffer.from(xml, 'utf8')]);
}

/** `jpeg` with `segments` inserted right after its SOI marker. */
export function withSegments(jpeg, ...segments) {
  const parts = [jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The EXIF of a phone photo: orientation, camera, Exif IFD, a GPS position, a thumbnail in IFD1. */
export function phoneExif({ le = true, order = ['ifd0', 'exif', 'gps', 'ifd1', 'thumb'], orientation = 6, thumbnail } = {}) {
  const thumb = thumbnail ?? Uint8Array.from([0xff, 0xd8, 0xff, 0xd9]);
  return buildTiff({
    le,
    order,
    thumbnail: [...thumb],
    next: { ifd0: 'ifd1' },
    ifds: {
      ifd0: [
        { tag: 0x010f, type: 2, values: 'PhoneMaker' },
        { tag: 0x0110, type: 2, values: 'Model X' },
        { tag: 0x0112, type: 3, values: [orientation] },
        { tag: 0x011a, type: 5, values: [72, 1] },
        { tag: 0x8769, ref: 'exif' },
        { tag: 0x8825, ref: 'gps' },
      ],
      exif: [
        { tag: 0x9003, type: 2, values: '2026:11:30 12:00:00' },
        { tag: 0x829a, type: 5, values: [1, 120] },
      ],
      gps: [
        { tag: 0x0000, type: 1, values: [2, 3, 0, 0] },
        { tag: 0x0001, type: 2, values: 'N' },
        { tag: 0x0002, type: 5, values: [48, 1, 51, 1, 2979, 100] },
        { tag: 0x0003, type: 2, values: 'E' },
        { tag: 0x0004, type: 5, values: [2, 1, 17, 1, 4012, 100] },
        { tag: 0x001d, type: 2, values: '2026:11:30' },
      ],
      ifd1: [
        { tag: 0x0103, type: 3, values: [6] },
        { tag: 0x0201, ref: 'thumb' },
        { tag: 0x0202, lengthOf: 'thumb' },
      ],
    },
  });
}
