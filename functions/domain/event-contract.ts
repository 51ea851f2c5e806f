import { domainToASCII } from 'node:url';
import * as z from 'zod/mini';
import { toFieldIssues } from './issues.js';

/**
 * The contract of the events the engine publishes: one zod schema per
 * detail type in DETAIL_SCHEMAS. The publisher validates every detail
 * against it before sending, and `npm run schemas` writes one JSON Schema
 * per entry into schemas/, which the CDK app registers in an EventBridge
 * schema registry. A detail type added to the map is picked up by all
 * three.
 *
 * Details carry ids, scores and rule ids, never traits or raw payloads.
 * The only personal data is `email`, present only where the stage
 * configuration turns on `events.includeEmail` (for CRM sync).
 */

/** Version of the detail schemas; raised on breaking changes. */
export const DETAIL_SCHEMA_VERSION = '1';

export const DETAIL_TYPES = {
  qualified: 'Lead Qualified',
  recycled: 'Lead Recycled',
  dispositionChanged: 'Lead Disposition Changed',
  accountQualified: 'Account Qualified',
  erased: 'Lead Erased',
} as const;

export type DetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];

const eventIdSchema = z
  .string()
  .check(
    z.minLength(1),
    z.describe(
      'Deterministic id of the event: the same on every delivery of the same change, so consumers can drop repeats.',
    ),
  );

const emailSchema = z
  .optional(z.email())
  .check(
    z.describe(
      "Lead's email address; present only when the stage sets events.includeEmail.",
    ),
  );

/**
 * Returns the form of an email address that the `email` field of a detail
 * accepts: the trimmed address itself, else with its domain in IDNA ASCII form
 * and without a trailing dot (`ann@bücher.example.` as
 * `ann@xn--bcher-kva.example`). Returns undefined
 * for an address the field rejects in both forms, such as one with a
 * non-ASCII local part, a quoted local part or a domain without a dot.
 */
export function detailEmailOf(trait: string): string | undefined {
  // Accounts read the trait trimmed, so the detail does too.
  const email = trait.trim();
  if (isDetailEmail(email)) return email;
  const at = email.lastIndexOf('@');
  // node:url decodes percent escapes, which no domain of an address has.
  if (at < 0 || email.includes('%', at)) return undefined;
  const asciiDomain = domainToASCII(email.slice(at + 1));
  if (asciiDomain === '') return undefined;
  // A trailing dot names the same domain, as accounts read it. It is
  // dropped after IDNA, which maps the ideographic full stop U+3002 to it.
  const ascii = `${email.slice(0, at)}@${asciiDomain.replace(/\.$/, '')}`;
  return isDetailEmail(ascii) ? ascii : undefined;
}

/**
 * A host name label (RFC 1123): 1 to 63 letters, digits and inner
 * hyphens. The zod email check allows labels that end in a hyphen or run
 * longer, which the `email` format of ajv-formats 3.0 rejects, so
 * consumers that validate details against schemas/ would reject them.
 */
const EMAIL_DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

function isDetailEmail(email: string): boolean {
  if (!emailSchema.safeParse(email).success) return false;
  const domain = email.slice(email.lastIndexOf('@') + 1);
  return domain.split('.').every((label) => EMAIL_DOMAIN_LABEL.test(label));
}

/** Fields of a contribution, shared by intentContributionSchema. */
const contributionFields = {
  kind: z.enum(['fit', 'intent']),
  ruleId: z.string().check(z.describe('Id of the model rule.')),
  points: z.number().check(z.describe('Points after decay and caps.')),
};

export const contributionSchema = z
  .object(contributionFields)
  .check(z.describe('What one rule added to the score.'));

const intentContributionSchema = z.object({
  ...contributionFields,
  events: z.optional(z.number()).check(z.describe('Events before caps.')),
  counted: z
    .optional(z.number())
    .check(z.describe('Events counted after caps.')),
  rawPoints: z
    .optional(z.number())
    .check(z.describe('Points before caps and decay.')),
});

const quarantinedSchema = z.object({
  reason: z.string(),
  count: z.number(),
});

/** Fields every detail carries. */
const baseDetailSchema = z.strictObject({
  schemaVersion: z.literal(DETAIL_SCHEMA_VERSION),
  eventId: eventIdSchema,
  occurredAt: z.iso.datetime().check(z.describe('When the change happened.')),
});

/** Score fields of lead and account details. */
const scoreFields = {
  score: z.number().check(z.describe('fit + intent at occurredAt.')),
  fit: z.number(),
  intent: z.number().check(z.describe('Intent after decay to occurredAt.')),
  threshold: z.number().check(z.describe('Score at which a lead qualifies.')),
  modelVersion: z
    .string()
    .check(z.describe('Content hash of the scoring model.')),
  topContributions: z
    .array(contributionSchema)
    .check(
      z.describe('The largest contributions, at most five, largest first.'),
    ),
};

const leadStatusSchema = z.enum(['engaged', 'mql', 'recycled']);

/**
 * Detail of "Lead Qualified" and "Lead Recycled". `contributions` lists
 * every rule, rounded so that the points add up to `score`, and
 * `topContributions` is its first five entries.
 */
export const leadTransitionDetailSchema = z.extend(baseDetailSchema, {
  leadId: z.string(),
  episode: z
    .number()
    .check(z.int(), z.positive(), z.describe('Qualification number.')),
  status: z.enum(['mql', 'recycled']),
  previousStatus: leadStatusSchema,
  ...scoreFields,
  recycleBelow: z
    .number()
    .check(z.describe('Score below which an MQL recycles, compared in cents.')),
  reason: z.string().check(z.describe('Why the status changed.')),
  persona: z
    .optional(z.string())
    .check(
      z.describe(
        'Id of the fit rule that matched in the model group "persona".',
      ),
    ),
  contributions: z.array(intentContributionSchema),
  quarantined: z.array(quarantinedSchema),
  email: emailSchema,
});

/** Dispositions sales reports for a lead. */
export const DISPOSITIONS = [
  'accepted',
  'rejected',
  'converted',
  'recycled',
] as const;

/**
 * Detail of "Lead Disposition Changed": sales accepted, rejected,
 * converted or recycled a lead.
 */
export const leadDispositionDetailSchema = z.extend(baseDetailSchema, {
  leadId: z.string(),
  episode: z
    .number()
    .check(
      z.int(),
      z.nonnegative(),
      z.describe('Qualification number the disposition applies to.'),
    ),
  disposition: z.enum(DISPOSITIONS),
  previousDisposition: z
    .nullable(z.enum(DISPOSITIONS))
    .check(z.describe('Disposition of the same episode before this one.')),
  convertedTo: z
    .nullable(z.enum(['sql', 'opportunity']))
    .check(z.describe('Set for "converted": what the lead became.')),
  reason: z
    .nullable(z.string())
    .check(
      z.describe(
        'Reason sales gave. Required for rejected and recycled, optional for accepted and converted.',
      ),
    ),
  status: leadStatusSchema.check(
    z.describe('Lead status after the disposition.'),
  ),
  score: z.number().check(z.describe('fit + intent at occurredAt.')),
  modelVersion: z
    .string()
    .check(z.describe('Content hash of the scoring model.')),
});

/**
 * Detail of "Account Qualified": an account became a marketing qualified
 * account. It carries role ids and counts, no lead ids.
 */
export const accountQualifiedDetailSchema = z.extend(baseDetailSchema, {
  accountId: z.string(),
  episode: z.number().check(z.int(), z.positive()),
  score: z.number().check(z.describe('fit + engagement at occurredAt.')),
  fit: z.number().check(z.describe('Best firmographic fit among its leads.')),
  engagement: z
    .number()
    .check(
      z.describe(
        'Decayed intent of its most engaged leads (accounts.engagementLeads).',
      ),
    ),
  threshold: z
    .number()
    .check(z.describe('Score at which an account qualifies.')),
  rolesCovered: z
    .array(z.string())
    .check(z.describe('Buying-group roles with an engaged lead.')),
  rolesMissing: z
    .array(z.string())
    .check(
      z.describe(
        'Buying-group roles without an engaged lead, required or not.',
      ),
    ),
  requiredRoles: z.array(z.string()),
  leads: z.number().check(z.int(), z.nonnegative()),
  engagedLeads: z.number().check(z.int(), z.nonnegative()),
  modelVersion: z
    .string()
    .check(z.describe('Content hash of the scoring model.')),
});

/**
 * Maximum number of merged-lead hashes in one "Lead Erased": about 67 KB
 * of JSON (64 hex digits, quotes and a comma each), so the detail stays
 * far below EventBridge's 256 KB limit per entry.
 * NOTE: merged leads past this many are erased but named in no event,
 * and only `mergedLeadIdSha256sTruncated` marks that some are missing.
 */
export const MAX_ERASED_MERGED_LEADS = 1_000;

const sha256HexSchema = z.string().check(z.regex(/^[0-9a-f]{64}$/));

/**
 * Detail of "Lead Erased": every item of the lead and of the leads merged
 * into it was deleted. It names these leads only by the SHA-256 of their
 * ids, which systems that store an id compute to find their own copy.
 * Anyone with an id can do the same. The merged-lead fields are optional
 * because "Lead Erased" events stored before they existed lack them.
 */
export const leadErasedDetailSchema = z.extend(baseDetailSchema, {
  leadIdSha256: sha256HexSchema,
  mergedLeadIdSha256s: z
    .optional(
      z.array(sha256HexSchema).check(z.maxLength(MAX_ERASED_MERGED_LEADS)),
    )
    .check(
      z.describe(
        'SHA-256 of the id of each lead merged into the erased lead, such as an anonymous id after identify or an alias, sorted.',
      ),
    ),
  mergedLeadIdSha256sTruncated: z
    .optional(z.boolean())
    .check(
      z.describe(
        'True when more leads were merged than mergedLeadIdSha256s lists.',
      ),
    ),
  itemsDeleted: z.number().check(z.int(), z.nonnegative()),
  accountsUpdated: z.number().check(z.int(), z.nonnegative()),
});

/** The detail schema of each detail type the engine publishes. */
export const DETAIL_SCHEMAS = {
  [DETAIL_TYPES.qualified]: leadTransitionDetailSchema,
  [DETAIL_TYPES.recycled]: leadTransitionDetailSchema,
  [DETAIL_TYPES.dispositionChanged]: leadDispositionDetailSchema,
  [DETAIL_TYPES.accountQualified]: accountQualifiedDetailSchema,
  [DETAIL_TYPES.erased]: leadErasedDetailSchema,
} as const satisfies Record<DetailType, z.ZodMiniType>;

export type DetailOf<T extends DetailType> = z.infer<
  (typeof DETAIL_SCHEMAS)[T]
>;
export type LeadTransitionDetail = z.infer<typeof leadTransitionDetailSchema>;
export type LeadDispositionDetail = z.infer<typeof leadDispositionDetailSchema>;
export type AccountQualifiedDetail = z.infer<
  typeof accountQualifiedDetailSchema
>;
export type LeadErasedDetail = z.infer<typeof leadErasedDetailSchema>;

/**
 * Returns why a detail breaks its detail type's schema, naming each
 * invalid field, or undefined when it is valid.
 */
export function detailProblem(
  detailType: string,
  detail: unknown,
): string | undefined {
  if (!Object.hasOwn(DETAIL_SCHEMAS, detailType)) {
    return `Unknown detail type "${detailType}"; add its schema to DETAIL_SCHEMAS.`;
  }
  const schema = DETAIL_SCHEMAS[detailType as DetailType];
  const parsed = schema.safeParse(detail);
  if (parsed.success) return undefined;
  const fields = toFieldIssues(parsed.error)
    .map((issue) => `${issue.field}: ${issue.message}`)
    .join('; ');
  return `Detail does not match the "${detailType}" schema: ${fields}`;
}
