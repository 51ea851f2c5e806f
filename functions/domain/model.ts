import { z } from 'zod';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { InvalidModelError } from './errors.js';
import { normalizeText, toFieldIssues } from './issues.js';

/**
 * A scoring model is data: a JSON document validated here, versioned by
 * the hash of its content, and compiled once into matchers.
 */

const ruleId = z
  .string()
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits, -');

const regexPattern = z
  .string()
  .min(1)
  .refine(isValidPattern, 'must be a valid regular expression');

const nonEmptyStrings = z.array(z.string().trim().min(1)).min(1);

const retention = z
  .number()
  .gt(0, 'must be above 0')
  .max(1, 'must be at most 1 (1 means no decay)');

const fitRuleSchema = z
  .object({
    id: ruleId,
    description: z.string().min(1),
    traits: z.array(z.string().min(1)).min(1),
    group: ruleId.optional(),
    pattern: regexPattern.optional(),
    oneOf: nonEmptyStrings.optional(),
    range: z
      .object({ min: z.number().optional(), max: z.number().optional() })
      .strict()
      .refine(
        (range) => range.min !== undefined || range.max !== undefined,
        'needs min, max or both',
      )
      .optional(),
    points: z.number().finite(),
  })
  .strict()
  .refine(
    (rule) =>
      [rule.pattern, rule.oneOf, rule.range].filter((c) => c !== undefined)
        .length === 1,
    { message: 'needs exactly one of pattern, oneOf or range' },
  );

const eventMatcherSchema = z
  .object({
    types: z
      .array(z.enum(['track', 'page', 'screen']))
      .min(1)
      .optional(),
    events: nonEmptyStrings.optional(),
    names: nonEmptyStrings.optional(),
    categories: nonEmptyStrings.optional(),
    path: regexPattern.optional(),
    properties: z
      .record(
        z.string().min(1),
        z.union([
          nonEmptyStrings,
          z.object({ pattern: regexPattern }).strict(),
        ]),
      )
      .optional(),
  })
  .strict()
  .refine(
    (matcher) => Object.values(matcher).some((c) => c !== undefined),
    'needs at least one condition',
  );

const intentRuleSchema = z
  .object({
    id: ruleId,
    description: z.string().min(1),
    when: eventMatcherSchema,
    points: z.number().finite(),
    retentionPerQuarter: retention.optional(),
  })
  .strict();

const qualificationSchema = z
  .object({
    threshold: z.number().positive(),
    recycleBelow: z.number(),
    minimumFit: z.number().default(0),
    cooldownDays: z.number().nonnegative().default(30),
  })
  .strict()
  .refine((q) => q.recycleBelow < q.threshold, {
    message: 'must be below qualification.threshold',
    path: ['recycleBelow'],
  });

/** Schema of a scoring model document. */
export const modelDocumentSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    fit: z.object({ rules: z.array(fitRuleSchema) }).strict(),
    intent: z
      .object({
        retentionPerQuarter: retention.default(0.75),
        rules: z.array(intentRuleSchema).min(1),
      })
      .strict(),
    qualification: qualificationSchema,
  })
  .strict()
  .superRefine((model, context) => {
    const seen = new Set<string>();
    const rules = [
      ...model.fit.rules.map((rule, index) => ({ rule, path: ['fit', index] })),
      ...model.intent.rules.map((rule, index) => ({
        rule,
        path: ['intent', index],
      })),
    ];
    for (const { rule, path } of rules) {
      if (seen.has(rule.id)) {
        context.addIssue({
          code: 'custom',
          path: [path[0] as string, 'rules', path[1] as number, 'id'],
          message: `duplicate rule id "${rule.id}"`,
        });
      }
      seen.add(rule.id);
    }
  });

export type ModelDocument = z.output<typeof modelDocumentSchema>;
export type FitRuleDocument = z.output<typeof fitRuleSchema>;
export type IntentRuleDocument = z.output<typeof intentRuleSchema>;
export type Qualification = z.output<typeof qualificationSchema>;

/** A fit rule ready to evaluate. */
export interface FitRule {
  id: string;
  description: string;
  traits: string[];
  group: string | undefined;
  points: number;
  matches(value: string | number | boolean): boolean;
}

/** An intent rule ready to evaluate. */
export interface IntentRule {
  id: string;
  description: string;
  points: number;
  retentionPerQuarter: number;
  when: EventMatcher;
}

/** Compiled conditions of an intent rule; every given field must match. */
export interface EventMatcher {
  types?: ReadonlySet<string>;
  events?: ReadonlySet<string>;
  names?: ReadonlySet<string>;
  categories?: ReadonlySet<string>;
  path?: RegExp;
  properties?: ReadonlyArray<[string, (value: string) => boolean]>;
}

/** A validated, compiled scoring model. */
export interface ScoringModel {
  /** First 12 hex digits of the SHA-256 of the canonical document. */
  version: string;
  name: string;
  document: ModelDocument;
  fitRules: FitRule[];
  intentRules: IntentRule[];
  intentRulesById: ReadonlyMap<string, IntentRule>;
  /** Default retention of positive intent per quarter of inactivity. */
  retentionPerQuarter: number;
  qualification: Qualification;
}

/**
 * Validates a model document and compiles it. Raises InvalidModelError
 * listing the path of every invalid field.
 */
export function compileModel(document: unknown): ScoringModel {
  const parsed = modelDocumentSchema.safeParse(document);
  if (!parsed.success) {
    throw new InvalidModelError(
      'The scoring model is invalid.',
      toFieldIssues(parsed.error),
    );
  }
  const model = parsed.data;
  const intentRules = model.intent.rules.map((rule) =>
    compileIntentRule(rule, model.intent.retentionPerQuarter),
  );
  return {
    version: modelVersion(model),
    name: model.name,
    document: model,
    fitRules: model.fit.rules.map(compileFitRule),
    intentRules,
    intentRulesById: new Map(intentRules.map((rule) => [rule.id, rule])),
    retentionPerQuarter: model.intent.retentionPerQuarter,
    qualification: model.qualification,
  };
}

/** Returns the content hash that versions a validated model document. */
export function modelVersion(document: ModelDocument): string {
  return sha256Hex(canonicalJson(document)).slice(0, 12);
}

function compileFitRule(rule: FitRuleDocument): FitRule {
  return {
    id: rule.id,
    description: rule.description,
    traits: rule.traits,
    group: rule.group,
    points: rule.points,
    matches: fitCondition(rule),
  };
}

function fitCondition(
  rule: FitRuleDocument,
): (value: string | number | boolean) => boolean {
  if (rule.pattern !== undefined) {
    const pattern = new RegExp(rule.pattern, 'iu');
    return (value) => pattern.test(String(value));
  }
  if (rule.oneOf !== undefined) {
    const allowed = new Set(rule.oneOf.map(normalizeText));
    return (value) => allowed.has(normalizeText(String(value)));
  }
  const min = rule.range?.min ?? Number.NEGATIVE_INFINITY;
  const max = rule.range?.max ?? Number.POSITIVE_INFINITY;
  return (value) => {
    const number = typeof value === 'number' ? value : Number(value);
    return Number.isFinite(number) && number >= min && number < max;
  };
}

function compileIntentRule(
  rule: IntentRuleDocument,
  defaultRetention: number,
): IntentRule {
  return {
    id: rule.id,
    description: rule.description,
    points: rule.points,
    retentionPerQuarter: rule.retentionPerQuarter ?? defaultRetention,
    when: compileMatcher(rule.when),
  };
}

function compileMatcher(
  when: z.output<typeof eventMatcherSchema>,
): EventMatcher {
  const matcher: EventMatcher = {};
  if (when.types) matcher.types = new Set(when.types);
  if (when.events) matcher.events = normalizedSet(when.events);
  if (when.names) matcher.names = normalizedSet(when.names);
  if (when.categories) matcher.categories = normalizedSet(when.categories);
  if (when.path) matcher.path = new RegExp(when.path, 'iu');
  if (when.properties) {
    matcher.properties = Object.entries(when.properties).map(
      ([key, condition]) => [key, valueCondition(condition)],
    );
  }
  return matcher;
}

function valueCondition(
  condition: string[] | { pattern: string },
): (value: string) => boolean {
  if (Array.isArray(condition)) {
    const allowed = normalizedSet(condition);
    return (value) => allowed.has(normalizeText(value));
  }
  const pattern = new RegExp(condition.pattern, 'iu');
  return (value) => pattern.test(value);
}

function normalizedSet(values: string[]): ReadonlySet<string> {
  return new Set(values.map(normalizeText));
}

function isValidPattern(pattern: string): boolean {
  try {
    new RegExp(pattern, 'iu');
    return true;
  } catch {
    return false;
  }
}
