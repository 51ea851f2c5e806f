import { z } from 'zod';
import {
  DETAIL_SCHEMAS,
  type DetailType,
} from '../../functions/domain/event-contract.js';
import { EVENT_SOURCE } from './event-routing.js';

/**
 * JSON Schemas of the event contract, generated from the zod detail
 * schemas. `npm run schemas` writes them into schemas/, and the CDK app
 * registers each one, wrapped in the EventBridge event envelope, in the
 * stage's schema registry.
 */

/** Folder of the committed JSON Schemas, from the project root. */
export const SCHEMAS_DIR = 'schemas';

/** JSON Schema draft of the files; the schema registry reads draft 4. */
const TARGET = 'draft-4';

/** The JSON Schema of one detail type. */
export interface DetailJsonSchema {
  detailType: DetailType;
  /** File name in schemas/, such as `lead-qualified.json`. */
  fileName: string;
  /** Schema name in the registry, such as `mql-engine@LeadQualified`. */
  registryName: string;
  schema: Record<string, unknown>;
}

/** The description of every detail schema, with its detail type. */
const DESCRIPTION = /^The detail of "[^"]+" events with source (.+)\.$/;

function detailDescription(detailType: string): string {
  return `The detail of "${detailType}" events with source ${EVENT_SOURCE}.`;
}

/**
 * Returns whether `text` is a detail schema as schemaFileText writes it,
 * for any detail type: a JSON object whose description names its detail
 * type and this engine's event source.
 */
export function isDetailSchemaFile(text: string): boolean {
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch {
    return false;
  }
  if (schema === null || typeof schema !== 'object') return false;
  const { description } = schema as { description?: unknown };
  return (
    typeof description === 'string' &&
    DESCRIPTION.exec(description)?.[1] === EVENT_SOURCE
  );
}

/** Returns the JSON Schema of every detail type in DETAIL_SCHEMAS. */
export function detailJsonSchemas(): DetailJsonSchema[] {
  return (Object.keys(DETAIL_SCHEMAS) as DetailType[]).map((detailType) => ({
    detailType,
    fileName: `${detailType.toLowerCase().replaceAll(' ', '-')}.json`,
    registryName: `${EVENT_SOURCE}@${detailType.replaceAll(' ', '')}`,
    schema: {
      ...z.toJSONSchema(DETAIL_SCHEMAS[detailType], { target: TARGET }),
      title: `${detailType} detail`,
      description: detailDescription(detailType),
    },
  }));
}

/** Returns a file's text as `npm run schemas` writes it. */
export function schemaFileText(schema: DetailJsonSchema): string {
  return `${JSON.stringify(schema.schema, null, 2)}\n`;
}

/**
 * Returns the schema of a whole event as EventBridge delivers it, with
 * the detail schema in `detail`, for the schema registry.
 */
export function eventEnvelopeSchema(
  schema: DetailJsonSchema,
): Record<string, unknown> {
  const { $schema, title, description, ...detail } = schema.schema;
  return {
    $schema,
    title: schema.detailType,
    description,
    type: 'object',
    required: ['detail-type', 'source', 'detail', 'id', 'time'],
    properties: {
      version: { type: 'string' },
      id: { type: 'string' },
      'detail-type': { type: 'string', enum: [schema.detailType] },
      source: { type: 'string', enum: [EVENT_SOURCE] },
      account: { type: 'string' },
      time: { type: 'string', format: 'date-time' },
      region: { type: 'string' },
      resources: { type: 'array', items: { type: 'string' } },
      detail: { ...detail, title },
    },
  };
}
