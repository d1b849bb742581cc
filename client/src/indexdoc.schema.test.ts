import { describe, expect, it } from 'vitest';
import schema from './content-index.schema.json';
import { parseIndex, parsePageRef, parseItem } from './indexdoc';

/**
 * The index JSON is defined once, by update-content-index's Rust types; their JSON Schema is
 * generated into content-index.schema.json (media-core checks the committed copy is current).
 * The client's parser must keep every field the schema has and invent none: a field added on
 * one side only fails here or there.
 */
type Property = { type?: string | string[]; $ref?: string; format?: string; anyOf?: Property[] };
type Defs = Record<string, { properties: Record<string, Property>; required?: string[]; oneOf?: { const: string }[] }>;
const defs = (schema as unknown as { $defs: Defs }).$defs;
const itemSchema = defs.IndexEntry;

/** The first value of an enumeration the property refers to (`Refusal`), if it is one. */
function enumValue(property: Property): string | undefined {
  const ref = [property, ...(property.anyOf ?? [])].find((p) => p.$ref)?.$ref;
  return ref ? defs[ref.replace('#/$defs/', '')]?.oneOf?.[0]?.const : undefined;
}

function sampleValue(name: string, property: Property): unknown {
  const types = ([] as string[]).concat(property.type ?? []);
  const member = enumValue(property);
  if (member !== undefined) return member;
  if (types.includes('boolean')) return true;
  if (types.includes('integer') || types.includes('number')) return 7;
  if (name === 'objectKey') return 'public/content/us-east-1:abc/p.jpg';
  if (name === 'uploadDate') return '2026-11-23T14:05:09.123Z';
  return `${name}-value`;
}

describe('the client reads the index the functions write', () => {
  it('keeps exactly the fields of the schema', () => {
    const raw = Object.fromEntries(Object.entries(itemSchema.properties).map(([name, p]) => [name, sampleValue(name, p)]));
    const parsed = parseItem(raw) as unknown as Record<string, unknown>;
    expect(parsed).toBeDefined();
    const kept = Object.keys(parsed).filter((k) => parsed[k] !== undefined).sort();
    expect(kept).toEqual(Object.keys(itemSchema.properties).sort());
    for (const [name, value] of Object.entries(raw)) expect(parsed[name], name).toEqual(value);
  });

  it('requires what the schema requires', () => {
    for (const name of ['identityId', 'objectKey', 'isPublic', 'title', 'description', 'uploadDate']) {
      expect(itemSchema.required, name).toContain(name);
    }
  });

  it('reads the pages a head lists as the schema defines them', () => {
    const pageSchema = defs.PageEntry;
    const raw = Object.fromEntries(Object.entries(pageSchema.properties).map(([name, p]) => [name, name === 'key' ? 'public/index/volume1-0.json' : sampleValue(name, p)]));
    const parsed = parsePageRef(raw) as unknown as Record<string, unknown>;
    expect(parsed).toBeDefined();
    // Every field of an entry is kept (a volume's level included), and none invented.
    expect(Object.keys(parsed).sort()).toEqual(Object.keys(pageSchema.properties).sort());
    for (const [name, value] of Object.entries(raw)) expect(parsed[name], name).toEqual(value);
    // What the schema requires, the parser always gives.
    const minimal = parsePageRef({ key: 'public/index/content-0.json' }) as unknown as Record<string, unknown>;
    expect(Object.keys(minimal).sort()).toEqual([...(pageSchema.required ?? [])].sort());
    // The head's own fields, pages included.
    const head = (schema as { properties: Record<string, Property> }).properties;
    expect(Object.keys(parseIndex({ items: [] })).sort()).toEqual(Object.keys(head).sort());
  });
});
