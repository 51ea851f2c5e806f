import { z } from 'zod';
import {
  DETAIL_SCHEMAS,
  DETAIL_TYPES,
} from '../../functions/domain/event-contract.js';

/**
 * Checks of the names and values in an event pattern against the events
 * the engine sends, so that a misspelt field or detail type fails
 * synthesis instead of making a rule that never matches. EventBridge
 * accepts any field name, and a rule on a field that no event has
 * matches nothing.
 */

type Path = (string | number)[];

/**
 * A field of the engine's events: its nested fields when it is an
 * object, and the values it takes when every event that has it lists
 * them (an enum), undefined for any value.
 */
interface EventField {
  fields: Map<string, EventField> | undefined;
  values: Set<unknown> | undefined;
}

/** A JSON Schema node, as z.toJSONSchema writes it. */
interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  enum?: unknown[];
  const?: unknown;
}

/**
 * Returns the field a JSON Schema node describes. An array field stands
 * for its items, because a pattern's value matches any element of an
 * array (Amazon EventBridge User Guide, "Matching on multiple field
 * values"). Alternatives (`anyOf`, such as a nullable field) merge their
 * fields and values.
 * NOTE: the fields of objects in an array (`topContributions.ruleId`)
 * are taken as fields of the array; AWS was not asked to confirm that
 * such a rule matches.
 */
function fieldOfSchema(node: SchemaNode): EventField {
  const alternatives = node.anyOf ?? node.oneOf;
  if (alternatives !== undefined) {
    return alternatives.map(fieldOfSchema).reduce(mergeFields);
  }
  if (node.items !== undefined) return fieldOfSchema(node.items);
  if (node.properties !== undefined) {
    const fields = new Map<string, EventField>();
    for (const [name, child] of Object.entries(node.properties)) {
      fields.set(name, fieldOfSchema(child));
    }
    return { fields, values: undefined };
  }
  if (node.type === 'null') return { fields: undefined, values: new Set() };
  if (node.const !== undefined) {
    return { fields: undefined, values: new Set([node.const]) };
  }
  return {
    fields: undefined,
    values: node.enum === undefined ? undefined : new Set(node.enum),
  };
}

/** Returns a field that stands for both `a` and `b`. */
function mergeFields(a: EventField, b: EventField): EventField {
  let fields: Map<string, EventField> | undefined;
  if (a.fields !== undefined || b.fields !== undefined) {
    fields = new Map(a.fields);
    for (const [name, field] of b.fields ?? []) {
      const known = fields.get(name);
      fields.set(name, known === undefined ? field : mergeFields(known, field));
    }
  }
  const values =
    a.values === undefined || b.values === undefined
      ? undefined
      : new Set([...a.values, ...b.values]);
  return { fields, values };
}

/** A field that takes any value and has no nested fields. */
const ANY_VALUE: EventField = { fields: undefined, values: undefined };

/**
 * Returns the fields of the events the engine sends: the EventBridge
 * envelope, with `detail-type` limited to the engine's detail types and
 * `detail` the merged fields of every detail schema. Built on first use.
 */
const eventFields = (() => {
  let cached: EventField | undefined;
  return (): EventField => {
    if (cached !== undefined) return cached;
    const detail = Object.values(DETAIL_SCHEMAS)
      .map((schema) => fieldOfSchema(z.toJSONSchema(schema) as SchemaNode))
      .reduce(mergeFields);
    cached = {
      fields: new Map<string, EventField>([
        ['version', ANY_VALUE],
        ['id', ANY_VALUE],
        [
          'detail-type',
          { fields: undefined, values: new Set(Object.values(DETAIL_TYPES)) },
        ],
        ['source', ANY_VALUE],
        ['account', ANY_VALUE],
        ['time', ANY_VALUE],
        ['region', ANY_VALUE],
        ['resources', ANY_VALUE],
        ['detail', detail],
      ]),
      values: undefined,
    };
    return cached;
  };
})();

/**
 * Adds an issue for every field of `pattern` that no event of the engine
 * has, and for every plain value that a field with a fixed set of values
 * never takes. Operator matchers (prefix, numeric and the others) are
 * not checked against values. Run it on a pattern whose syntax passed
 * checkPatternFields.
 */
export function checkPatternNames(
  pattern: Record<string, unknown>,
  context: z.RefinementCtx,
): void {
  checkFields(pattern, eventFields(), [], context);
}

function checkFields(
  pattern: Record<string, unknown>,
  field: EventField,
  path: Path,
  context: z.RefinementCtx,
): void {
  for (const [name, value] of Object.entries(pattern)) {
    const fieldPath = [...path, name];
    if (name === '$or') {
      if (!Array.isArray(value)) continue;
      value.forEach((alternative, index) => {
        if (isObject(alternative)) {
          checkFields(alternative, field, [...fieldPath, index], context);
        }
      });
      continue;
    }
    if (field.fields === undefined) {
      context.addIssue({
        code: 'custom',
        path: fieldPath,
        message: `is not a field: ${path.join('.')} is a value in the engine's events, so the rule would match nothing; match it with an array of values instead`,
      });
      continue;
    }
    const known = field.fields.get(name);
    if (known === undefined) {
      const names = [...field.fields.keys()].sort();
      context.addIssue({
        code: 'custom',
        path: fieldPath,
        message: `is not a field of the engine's events, so the rule would match nothing; use one of ${names.join(', ')}`,
      });
      continue;
    }
    if (Array.isArray(value)) {
      checkValues(value, known, fieldPath, context);
    } else if (isObject(value)) {
      checkFields(value, known, fieldPath, context);
    }
  }
}

function checkValues(
  values: unknown[],
  field: EventField,
  path: Path,
  context: z.RefinementCtx,
): void {
  const allowed = field.values;
  if (allowed === undefined || allowed.size === 0) return;
  values.forEach((value, index) => {
    if (typeof value !== 'string' || allowed.has(value)) return;
    context.addIssue({
      code: 'custom',
      path: [...path, index],
      message: `is not a value the engine sends, so it would match nothing; use one of ${[...allowed].map((known) => JSON.stringify(known)).join(', ')}`,
    });
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
