// Types of exif-builder.mjs, for the unit tests written in TypeScript.
export interface EntrySpec {
  tag: number;
  type?: number;
  values?: number[] | string;
  ref?: string;
  lengthOf?: string;
}
export interface BuiltTiff {
  bytes: Uint8Array;
  offsets: Record<string, number>;
  sizes: Record<string, number>;
}
export function buildTiff(spec: {
  le?: boolean;
  order: string[];
  ifds: Record<string, EntrySpec[]>;
  next?: Record<string, string>;
  thumbnail?: number[];
}): BuiltTiff;
export function app1(payload: ArrayLike<number>): Uint8Array;
export function exifSegment(tiffBytes: Uint8Array): Uint8Array;
export function xmpSegment(xml: string): Uint8Array;
export function withSegments(jpeg: Uint8Array, ...segments: Uint8Array[]): Uint8Array;
export function phoneExif(options?: { le?: boolean; order?: string[]; orientation?: number; thumbnail?: Uint8Array }): BuiltTiff;
