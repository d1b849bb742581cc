import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { jpegSegments, mayCarryLocation, scanLocation, stripLocation, TAG_GPS_IFD } from './location';
import { buildTiff, exifSegment, phoneExif, withSegments, xmpSegment, type BuiltTiff } from '../e2e/exif-builder.mjs';

/** A real JPEG (baseline, with its own JFIF APP0), the browser tests' face picture. */
const ASTRONAUT = new Uint8Array(fs.readFileSync(new URL('../e2e/fixtures/astronaut.jpg', import.meta.url)));

/** Where the TIFF data of the first inserted segment starts: SOI (2) + marker and length (4) + "Exif\0\0". */
const TIFF_AT = 2 + 4 + 6;

function readU(bytes: Uint8Array, at: number, size: number, le: boolean): number {
  let n = 0;
  for (let i = 0; i < size; i++) n += bytes[at + i] * 2 ** (8 * (le ? i : size - 1 - i));
  return n;
}

/** IFD entries as raw 12-byte strings (read independently of the code under test). */
function ifdEntries(tiff: Uint8Array, at: number, le: boolean): { entries: string[]; next: number; count: number } {
  const count = readU(tiff, at, 2, le);
  const entries: string[] = [];
  for (let i = 0; i < count; i++) entries.push(Buffer.from(tiff.subarray(at + 2 + i * 12, at + 14 + i * 12)).toString('hex'));
  return { entries, next: readU(tiff, at + 2 + count * 12, 4, le), count };
}

function tagOf(hexEntry: string, le: boolean): number {
  const b = Buffer.from(hexEntry, 'hex');
  return le ? b[0] | (b[1] << 8) : (b[0] << 8) | b[1];
}

/** The end of a block in the built TIFF: the next block's start, or the end. */
function blockEnd(built: BuiltTiff, order: string[], name: string): number {
  const i = order.indexOf(name);
  return i + 1 < order.length ? built.offsets[order[i + 1]] : built.bytes.length;
}

const ORDERS = [
  ['ifd0', 'exif', 'gps', 'ifd1', 'thumb'], // GPS after the Exif IFD
  ['ifd0', 'gps', 'exif', 'ifd1', 'thumb'], // GPS before the Exif IFD
  ['gps', 'ifd0', 'exif', 'ifd1', 'thumb'], // GPS before IFD0
  ['ifd0', 'ifd1', 'thumb', 'exif', 'gps'], // GPS last, after IFD1 and its thumbnail
];

describe('stripLocation on EXIF', () => {
  for (const le of [true, false]) {
    for (const order of ORDERS) {
      it(`${le ? 'little' : 'big'} endian, blocks ${order.join(' ')}`, () => {
        const thumbnail = ASTRONAUT.subarray(0, 600); // some bytes that must survive as they are
        const built = phoneExif({ le, order, thumbnail });
        const input = withSegments(ASTRONAUT, exifSegment(built.bytes));
        expect(scanLocation(input)).toEqual({ status: 'present', where: ['EXIF GPS position'] });

        const result = stripLocation(input);
        expect(result.status).toBe('stripped');
        if (result.status !== 'stripped') return;
        const out = result.bytes;
        expect(out.length).toBe(input.length);
        expect(Buffer.compare(input, withSegments(ASTRONAUT, exifSegment(built.bytes)))).toBe(0); // input untouched

        // Only IFD0 (which lost an entry) and the GPS block changed; every other byte, the
        // image data, the Exif IFD and the thumbnail included, is the same.
        const ifd0 = [TIFF_AT + built.offsets.ifd0, TIFF_AT + built.offsets.ifd0 + built.sizes.ifd0];
        const gps = [TIFF_AT + built.offsets.gps, TIFF_AT + blockEnd(built, order, 'gps')];
        const inside = (i: number, [s, e]: number[]) => i >= s && i < e;
        for (let i = 0; i < out.length; i++) {
          if (out[i] !== input[i] && !inside(i, ifd0) && !inside(i, gps)) throw new Error(`byte ${i} changed outside IFD0 and the GPS IFD`);
        }
        // The GPS IFD and its values are zeroed.
        expect(out.subarray(gps[0], gps[1]).every((b) => b === 0)).toBe(true);
        // IFD0: the same entries, byte for byte, minus the GPS pointer; the same next pointer
        // (IFD1 and its thumbnail still reachable); 12 zero bytes where the IFD used to end.
        const tiffIn = input.subarray(TIFF_AT);
        const tiffOut = out.subarray(TIFF_AT);
        const before = ifdEntries(tiffIn, built.offsets.ifd0, le);
        const after = ifdEntries(tiffOut, built.offsets.ifd0, le);
        expect(after.entries).toEqual(before.entries.filter((e) => tagOf(e, le) !== TAG_GPS_IFD));
        expect(after.count).toBe(before.count - 1);
        expect(after.next).toBe(built.offsets.ifd1);
        const end = built.offsets.ifd0 + built.sizes.ifd0;
        expect([...tiffOut.subarray(end - 12, end)]).toEqual(new Array(12).fill(0));
        // The orientation entry (tag 0x0112) is unchanged.
        expect(after.entries.find((e) => tagOf(e, le) === 0x0112)).toBe(before.entries.find((e) => tagOf(e, le) === 0x0112));
        const ifd1 = ifdEntries(tiffOut, built.offsets.ifd1, le);
        expect(ifd1.count).toBe(3);
        expect(Buffer.compare(out.subarray(TIFF_AT + built.offsets.thumb, TIFF_AT + built.offsets.thumb + thumbnail.length), thumbnail)).toBe(0);

        // Still a well-formed JPEG: the same segments, in the same places, through to the scan.
        expect(JSON.stringify(jpegSegments(out))).toBe(JSON.stringify(jpegSegments(input)));
        expect([out[out.length - 2], out[out.length - 1]]).toEqual([0xff, 0xd9]);
        expect(scanLocation(out)).toEqual({ status: 'none' });
        // Idempotent.
        expect(stripLocation(out).status).toBe('unchanged');
      });
    }
  }

  it('leaves a JPEG without EXIF, or with EXIF but no GPS, untouched (the same bytes object)', () => {
    const same = stripLocation(ASTRONAUT);
    expect(same.status === 'unchanged' && same.bytes).toBe(ASTRONAUT);
    const tiff = buildTiff({ le: true, order: ['ifd0'], ifds: { ifd0: [{ tag: 0x0112, type: 3, values: [6] }] } });
    const input = withSegments(ASTRONAUT, exifSegment(tiff.bytes));
    const result = stripLocation(input);
    expect(result.status).toBe('unchanged');
    expect(result.status === 'unchanged' && result.bytes).toBe(input);
    expect(scanLocation(input)).toEqual({ status: 'none' });
  });

  it('leaves other formats to the caller', () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
    expect(stripLocation(png).status).toBe('unchanged');
    expect(scanLocation(png).status).toBe('unknown');
  });

  it('does not zero bytes another IFD uses, even when a damaged GPS IFD points into them', () => {
    const built = phoneExif({ le: true });
    const tiff = built.bytes.slice();
    // Point the GPS latitude's value at the Exif IFD's date string.
    const gpsAt = built.offsets.gps;
    const latEntry = gpsAt + 2 + 2 * 12; // entries sorted: 0, 1, 2 (latitude), ...
    expect(readU(tiff, latEntry, 2, true)).toBe(2);
    const dateValue = readU(tiff, built.offsets.exif + 2 + 12 + 8, 4, true); // entries sorted: 0x829a, 0x9003 (the date)
    tiff.set([dateValue & 0xff, (dateValue >> 8) & 0xff, 0, 0], latEntry + 8);
    const input = withSegments(ASTRONAUT, exifSegment(tiff));
    const result = stripLocation(input);
    expect(result.status).toBe('stripped');
    if (result.status !== 'stripped') return;
    expect(Buffer.from(result.bytes.subarray(TIFF_AT + dateValue, TIFF_AT + dateValue + 19)).toString('latin1')).toBe('2026:11:30 12:00:00');
  });
});

describe('stripLocation on damaged EXIF: a clear failure, never a throw or a hang', () => {
  const cases: [string, () => Uint8Array][] = [
    ['a GPS pointer past the end of the block', () => {
      const b = phoneExif({ le: false });
      const t = b.bytes.slice();
      const gpsEntry = b.offsets.ifd0 + 2 + 5 * 12; // the last of six sorted entries
      expect(readU(t, gpsEntry, 2, false)).toBe(TAG_GPS_IFD);
      t.set([0xff, 0xff, 0xff, 0x00], gpsEntry + 8);
      return withSegments(ASTRONAUT, exifSegment(t));
    }],
    ['an IFD chain that loops back to IFD0', () => {
      const b = buildTiff({ le: true, order: ['ifd0', 'gps', 'ifd1'], next: { ifd0: 'ifd1', ifd1: 'ifd0' }, ifds: {
        ifd0: [{ tag: 0x0112, type: 3, values: [1] }, { tag: TAG_GPS_IFD, ref: 'gps' }],
        gps: [{ tag: 2, type: 5, values: [1, 1, 2, 1, 3, 1] }],
        ifd1: [{ tag: 0x0103, type: 3, values: [6] }],
      } });
      return withSegments(ASTRONAUT, exifSegment(b.bytes));
    }],
    ['an Exif IFD that points to itself', () => {
      const b = buildTiff({ le: false, order: ['ifd0', 'exif'], ifds: {
        ifd0: [{ tag: 0x8769, ref: 'exif' }],
        exif: [{ tag: 0x8769, ref: 'exif' }],
      } });
      return withSegments(ASTRONAUT, exifSegment(b.bytes));
    }],
    ['an IFD claiming 65,535 entries', () => {
      const b = phoneExif({ le: true });
      const t = b.bytes.slice();
      t.set([0xff, 0xff], b.offsets.ifd0);
      return withSegments(ASTRONAUT, exifSegment(t));
    }],
    ['an unknown byte order', () => {
      const t = phoneExif({ le: true }).bytes.slice();
      t.set([0x58, 0x58], 0);
      return withSegments(ASTRONAUT, exifSegment(t));
    }],
    ['a segment running past the end of the file', () => withSegments(ASTRONAUT, exifSegment(phoneExif().bytes)).subarray(0, 100)],
  ];
  for (const [name, make] of cases) {
    it(name, () => {
      const input = make();
      const copy = input.slice();
      const result = stripLocation(input);
      expect(result.status, JSON.stringify(result)).toBe('failed');
      expect(result.status === 'failed' && result.reason.length).toBeGreaterThan(5);
      expect(Buffer.compare(input, copy)).toBe(0);
      expect(scanLocation(input).status === 'none').toBe(false);
    });
  }

  it('random corruption of the EXIF block: always an answer, never location left when it says stripped', () => {
    const built = phoneExif({ le: true });
    const clean = withSegments(ASTRONAUT.subarray(0, 2000), exifSegment(built.bytes));
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const seen = { stripped: 0, unchanged: 0, failed: 0 };
    for (let round = 0; round < 3000; round++) {
      const input = clean.slice();
      for (let k = 0; k < 1 + Math.floor(random() * 4); k++) {
        input[TIFF_AT + Math.floor(random() * built.bytes.length)] = Math.floor(random() * 256);
      }
      const result = stripLocation(input);
      seen[result.status]++;
      if (result.status === 'stripped') {
        expect(result.bytes.length).toBe(input.length);
        expect(scanLocation(result.bytes).status).not.toBe('present');
      }
    }
    expect(seen.stripped).toBeGreaterThan(0);
    expect(seen.failed).toBeGreaterThan(0);
  });
});

describe('XMP location', () => {
  const packet = (body: string) => `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">${body}</rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;

  it('blanks GPS and place properties written as attributes or simple elements, and nothing else', () => {
    const xml = packet(
      '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
      + ' exif:GPSLatitude="48,51.4979N" exif:GPSLongitude=\'2,17.4012E\' tiff:Orientation="6" photoshop:City="Paris">'
      + '<exif:GPSAltitude>35/1</exif:GPSAltitude><dc:title>Tour</dc:title></rdf:Description>',
    );
    const input = withSegments(ASTRONAUT, xmpSegment(xml));
    expect(scanLocation(input)).toEqual({ status: 'present', where: ['XMP location'] });
    const result = stripLocation(input);
    expect(result.status).toBe('stripped');
    if (result.status !== 'stripped') return;
    expect(result.removed).toEqual(['XMP location']);
    const text = Buffer.from(result.bytes).toString('utf8');
    expect(text).not.toMatch(/GPS|City|48,51|Paris/);
    expect(text).toContain('tiff:Orientation="6"');
    expect(text).toContain('<dc:title>Tour</dc:title>');
    // Same length; every changed byte became a space.
    expect(result.bytes.length).toBe(input.length);
    for (let i = 0; i < input.length; i++) if (result.bytes[i] !== input[i]) expect(result.bytes[i]).toBe(0x20);
    expect(scanLocation(result.bytes)).toEqual({ status: 'none' });
  });

  it('refuses a location structure it cannot blank safely', () => {
    const xml = packet('<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"><Iptc4xmpExt:LocationCreated><rdf:Bag><rdf:li>x</rdf:li></rdf:Bag></Iptc4xmpExt:LocationCreated></rdf:Description>');
    const result = stripLocation(withSegments(ASTRONAUT, xmpSegment(xml)));
    expect(result.status).toBe('failed');
  });

  it('removes EXIF and XMP locations from one file together', () => {
    const xml = packet('<rdf:Description rdf:about="" exif:GPSLatitude="1,2N"/>');
    const input = withSegments(ASTRONAUT, exifSegment(phoneExif({ le: false }).bytes), xmpSegment(xml));
    const result = stripLocation(input);
    expect(result.status === 'stripped' && result.removed).toEqual(['EXIF GPS (position)', 'XMP location']);
    expect(scanLocation(result.status === 'stripped' ? result.bytes : input)).toEqual({ status: 'none' });
  });
});

describe('scanLocation on the first bytes only (a Range GET)', () => {
  it('answers from a head that holds the metadata, and "unknown" from one that stops inside it', () => {
    const input = withSegments(ASTRONAUT, exifSegment(phoneExif().bytes));
    expect(scanLocation(input.subarray(0, 2000)).status).toBe('present');
    expect(scanLocation(input.subarray(0, 60)).status).toBe('unknown');
    expect(scanLocation(ASTRONAUT.subarray(0, 40)).status).toBe('unknown');
    expect(scanLocation(ASTRONAUT).status).toBe('none');
  });
});

describe('mayCarryLocation', () => {
  it('is true for a location found, and for a JPEG whose metadata could not be read', () => {
    expect(mayCarryLocation({ status: 'present', where: ['EXIF GPS (position)'] }, 'image/png')).toBe(true);
    expect(mayCarryLocation({ status: 'unknown', reason: 'the metadata goes on past the bytes read' }, 'image/jpeg')).toBe(true);
  });

  it('is false for none found, and for a file of a kind that is not checked', () => {
    expect(mayCarryLocation({ status: 'none' }, 'image/jpeg')).toBe(false);
    expect(mayCarryLocation({ status: 'unknown', reason: 'only JPEG files are checked' }, 'image/png')).toBe(false);
    expect(mayCarryLocation({ status: 'unknown', reason: 'only JPEG files are checked' }, undefined)).toBe(false);
  });
});
