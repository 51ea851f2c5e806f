import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DETAIL_SCHEMAS,
  DETAIL_TYPES,
  MAX_ERASED_MERGED_LEADS,
} from '../../functions/domain/event-contract.js';
import {
  detailJsonSchemas,
  eventEnvelopeSchema,
  SCHEMAS_DIR,
  schemaFileText,
} from '../../lib/definitions/event-schemas.js';

const folder = resolve(import.meta.dirname, '..', '..', SCHEMAS_DIR);
const STALE = 'is stale; run `npm run schemas` and commit the result';

describe('committed JSON Schemas', () => {
  it.each(
    detailJsonSchemas().map((schema) => [schema.fileName, schema] as const),
  )('%s matches the zod schema', (fileName, schema) => {
    const file = join(folder, fileName);

    expect(existsSync(file), `${SCHEMAS_DIR}/${fileName} is missing`).toBe(
      true,
    );
    expect(readFileSync(file, 'utf8'), `${fileName} ${STALE}`).toBe(
      schemaFileText(schema),
    );
  });

  it('has no file of a removed detail type', () => {
    const expected = detailJsonSchemas().map((schema) => schema.fileName);

    expect(readdirSync(folder).sort()).toEqual(expected.sort());
  });
});

describe('detail JSON Schemas', () => {
  it('cover every detail type', () => {
    expect(detailJsonSchemas().map((schema) => schema.detailType)).toEqual(
      Object.values(DETAIL_TYPES),
    );
    expect(Object.keys(DETAIL_SCHEMAS)).toEqual(Object.values(DETAIL_TYPES));
  });

  it('name each schema by source and detail type', () => {
    const names = detailJsonSchemas().map((schema) => schema.registryName);

    expect(names).toContain('mql-engine@LeadQualified');
    expect(names).toContain('mql-engine@LeadDispositionChanged');
  });

  it('are draft 4 and forbid unknown fields', () => {
    for (const { schema } of detailJsonSchemas()) {
      expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
      expect(schema.additionalProperties).toBe(false);
      expect(schema.required).toEqual(
        expect.arrayContaining(['schemaVersion', 'eventId', 'occurredAt']),
      );
    }
  });

  it('list merged leads of Lead Erased as optional hashes', () => {
    const erased = detailJsonSchemas().find(
      (schema) => schema.detailType === 'Lead Erased',
    );
    const properties = erased?.schema.properties as Record<string, unknown>;

    expect(properties.mergedLeadIdSha256s).toMatchObject({
      type: 'array',
      maxItems: MAX_ERASED_MERGED_LEADS,
      items: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    });
    expect(properties.mergedLeadIdSha256sTruncated).toMatchObject({
      type: 'boolean',
    });
    // Entries stored before these fields existed lack them, so they stay
    // optional and the detail keeps schemaVersion 1.
    expect(erased?.schema.required).not.toContain('mergedLeadIdSha256s');
    expect(erased?.schema.required).not.toContain(
      'mergedLeadIdSha256sTruncated',
    );
    expect(properties.schemaVersion).toEqual({ type: 'string', enum: ['1'] });
  });

  it('wrap the detail in the event envelope', () => {
    const [qualified] = detailJsonSchemas();
    const envelope = eventEnvelopeSchema(qualified ?? fail());
    const properties = envelope.properties as Record<string, unknown>;

    expect(properties['detail-type']).toEqual({
      type: 'string',
      enum: ['Lead Qualified'],
    });
    expect(properties.source).toEqual({ type: 'string', enum: ['mql-engine'] });
    expect(properties.detail).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['leadId', 'score', 'episode']),
    });
  });
});

function fail(): never {
  throw new Error('no detail schema');
}
