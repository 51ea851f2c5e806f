import { domainToASCII } from 'node:url';
import * as z from 'zod';
import {
  DEFAULT_BOT_USER_AGENT_PATTERN,
  DEFAULT_BURST_CLICKS_PER_SECOND,
  DEFAULT_DELIVERY_TIME_PROPERTIES,
  DEFAULT_EMAIL_CLICK_EVENTS,
  DEFAULT_EMAIL_OPEN_EVENTS,
  DEFAULT_MIN_SECONDS_AFTER_DELIVERY,
  DEFAULT_PROXY_FLAG_PROPERTIES,
  DEFAULT_PROXY_USER_AGENT_PATTERN,
} from './bot-defaults.js';
import { visibleTextIssues } from './id-text.js';
import {
  describeSlowPattern,
  MAX_PATTERN_LENGTH,
  PATTERN_LENGTH_MESSAGE,
} from './pattern-safety.js';
import { DEFAULT_PERSONAL_EMAIL_DOMAINS } from './personal-domains.js';
import {
  isReadableAt,
  isValidAt,
  whenReadable,
  whenValid,
} from './valid-fields.js';

/**
 * Schema of a scoring model document. A model is data: this schema
 * validates it, its content hash versions it, and model.ts compiles it.
 */

const ruleId = z
  .string()
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits, -')
  // Scoring keeps tallies in plain objects keyed by rule id, where
  // `constructor` would read Object.prototype's property.
  .refine((id) => !(id in Object.prototype), {
    message: 'is a name every JavaScript object has; choose another id',
  });

/**
 * Largest absolute number of points of one rule. Scores add points
 * over every counted event, so a rule of 1e308 points would overflow to
 * Infinity, which DynamoDB cannot store.
 */
const MAX_RULE_POINTS = 1_000_000;

const rulePoints = z.number().min(-MAX_RULE_POINTS).max(MAX_RULE_POINTS);

/**
 * Largest absolute score level (threshold, recycle level, minimum fit).
 * Levels are compared in cents, which stay exact integers far below
 * 2^53 at this size, and no real score comes near it.
 */
const MAX_SCORE_LEVEL = 1_000_000_000;

const LEVEL_MESSAGE = `must be between -${MAX_SCORE_LEVEL} and ${MAX_SCORE_LEVEL}`;

const scoreLevel = z
  .number()
  .min(-MAX_SCORE_LEVEL, LEVEL_MESSAGE)
  .max(MAX_SCORE_LEVEL, LEVEL_MESSAGE);

const positiveScoreLevel = z
  .number()
  .positive()
  .max(MAX_SCORE_LEVEL, `must be at most ${MAX_SCORE_LEVEL}`);

/** Maximum days of a cooldown or a cap window: ten years. */
const MAX_DAYS = 3653;

/**
 * Largest burst size. A lead keeps up to one less scored click than this
 * for each of its latest MAX_CLICK_SECONDS seconds with a click, so the
 * size bounds that part of its DynamoDB item (at most 4,500 clicks).
 */
const MAX_BURST_CLICKS_PER_SECOND = 10;

/**
 * Runs a pattern check only on a pattern without issues, so that an overlong
 * pattern is not compiled and an invalid one is not searched for slow
 * parts. A `when` option does this without aborting, because an aborting
 * issue would also stop the checks of every object that contains it.
 */
function hasNoIssues(payload: z.core.ParsePayload): boolean {
  return payload.issues.length === 0;
}

// Patterns are stored in Unicode NFC, because the traits, titles and
// properties they match are compared in NFC. A decomposed é in a pattern
// would never match them.
// NOTE: NFC also replaces characters such as U+0958 or the CJK
// compatibility ideographs. A class range written with one of them as a
// character changes or fails as out of order, unlike one written with
// \u escapes, which NFC leaves alone.
const regexPattern = z
  .string()
  .normalize('NFC')
  .min(1)
  .max(MAX_PATTERN_LENGTH, PATTERN_LENGTH_MESSAGE)
  .superRefine(
    (pattern, context) => {
      const message = invalidPatternMessage(pattern);
      if (message !== undefined) context.addIssue({ code: 'custom', message });
    },
    { when: hasNoIssues },
  )
  .superRefine(
    (pattern, context) => {
      const message = describeSlowPattern(pattern);
      if (message !== undefined) context.addIssue({ code: 'custom', message });
    },
    { when: hasNoIssues },
  );

const nonEmptyStrings = z.array(z.string().trim().min(1)).min(1);

/**
 * Rejects `__proto__` as the name of a trait or event property. Ingest
 * cannot keep such a field (assigning it sets an object's prototype), so
 * a rule that reads one could never match.
 */
function isNotProto(name: string): boolean {
  return name !== '__proto__';
}

const NOT_PROTO_MESSAGE =
  'cannot be __proto__, which ingest never keeps; name another field';

const traitName = z.string().min(1).refine(isNotProto, NOT_PROTO_MESSAGE);

/**
 * Minimum retention per quarter. Each event's weight is stored at the end
 * of its decay year, up to four quarters after the event, in units of
 * 2^-36 (see intent-tally.ts). At 0.001 a demo request early in a year
 * rounded to 0 points. At 0.05, a half-life of about 21 days, the weight
 * keeps at least 0.05^4 · 2^36 ≈ 430,000 units.
 */
export const MIN_RETENTION_PER_QUARTER = 0.05;

const retention = z
  .number()
  .min(
    MIN_RETENTION_PER_QUARTER,
    `must be at least ${MIN_RETENTION_PER_QUARTER} (a half-life of about 21 days), because faster decay rounds the weights of events away`,
  )
  .max(1, 'must be at most 1 (1 means no decay)');

const numberRange = z
  .object({ min: z.number().optional(), max: z.number().optional() })
  .strict()
  .refine((range) => range.min !== undefined || range.max !== undefined, {
    message: 'needs min, max or both',
    when: whenReadable([]),
  })
  .refine(
    (range) =>
      range.min === undefined ||
      range.max === undefined ||
      range.min < range.max,
    { message: 'min must be below max', when: whenValid(['min'], ['max']) },
  );

/**
 * A domain or domain suffix of a model list. Internationalized names may
 * be written in Unicode or in punycode, because matching compares their
 * IDNA ASCII forms (see domainListEntry).
 */
const domainName = z
  .string()
  .trim()
  .min(1)
  .regex(
    /^@?[\p{L}\p{M}\p{N}-]+(\.[\p{L}\p{M}\p{N}-]+)*$/u,
    'must be a domain or domain suffix such as example.com, ac.uk or bücher.example',
  )
  .refine(
    (domain) => domainToASCII(domain.replace(/^@/, '')) !== '',
    'must be a valid internationalized domain name (IDNA); check the punycode of its xn-- labels',
  );

const fitRuleSchema = z
  .object({
    id: ruleId,
    description: z.string().min(1),
    traits: z.array(traitName).min(1),
    group: ruleId.optional(),
    pattern: regexPattern.optional(),
    oneOf: nonEmptyStrings.optional(),
    range: numberRange.optional(),
    domains: z.array(domainName).min(1).optional(),
    points: rulePoints,
  })
  .strict()
  .refine(
    (rule) =>
      [rule.pattern, rule.oneOf, rule.range, rule.domains].filter(
        (c) => c !== undefined,
      ).length === 1,
    {
      message: 'needs exactly one of pattern, oneOf, range or domains',
      when: whenReadable([]),
    },
  );

const propertyCondition = z.union(
  [
    nonEmptyStrings,
    z.object({ pattern: regexPattern }).strict(),
    z.object({ range: numberRange }).strict(),
  ],
  {
    // Names the three forms, in place of zod's "Invalid input", when the
    // value fits none of them.
    error:
      'must be a list of values such as ["pro", "1"], {"pattern": "..."} or {"range": {"min": 600}}; write numbers in a list as strings',
  },
);

export const eventMatcherSchema = z
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
      .record(z.string().min(1), propertyCondition)
      .refine((conditions) => Object.keys(conditions).length > 0, {
        message:
          'needs at least one property condition, because an empty object matches every event; add a condition or remove properties',
        when: whenReadable([]),
      })
      .optional(),
  })
  .strict()
  .refine((matcher) => Object.values(matcher).some((c) => c !== undefined), {
    message: 'needs at least one condition',
    when: whenReadable([]),
  });

/**
 * Most events a cap may let count per window. Each window keeps the times
 * of its counted events in the lead's item, and a cap this high no longer
 * limits anything: omit the cap instead.
 */
const MAX_CAP_EVENTS = 1000;

/**
 * Shortest cap window: a day. A lead keeps its windows of the last two
 * years (CAP_HORIZON_MS in intent-tally.ts), so shorter windows could
 * fill its item, which DynamoDB limits to 400 KB.
 */
const MIN_WINDOW_DAYS = 1;

const capSchema = z
  .object({
    max: z
      .number()
      .int()
      .min(1)
      .max(
        MAX_CAP_EVENTS,
        `must be at most ${MAX_CAP_EVENTS}; omit cap to count every event`,
      ),
    windowDays: z
      .number()
      .min(
        MIN_WINDOW_DAYS,
        `must be at least ${MIN_WINDOW_DAYS} day, because a lead keeps two years of windows`,
      )
      .max(MAX_DAYS, `must be at most ${MAX_DAYS} days (ten years)`)
      .optional(),
  })
  .strict();

const intentRuleSchema = z
  .object({
    id: ruleId,
    description: z.string().min(1),
    when: eventMatcherSchema,
    points: rulePoints,
    retentionPerQuarter: retention.optional(),
    cap: capSchema.optional(),
  })
  .strict();

const qualificationSchema = z
  .object({
    threshold: positiveScoreLevel,
    recycleBelow: scoreLevel,
    minimumFit: scoreLevel.default(0),
    cooldownDays: z
      .number()
      .min(0, 'must be at least 0 days')
      .max(MAX_DAYS, `must be at most ${MAX_DAYS} days (ten years)`)
      .default(30),
  })
  .strict()
  .refine((q) => q.recycleBelow < q.threshold, {
    message: 'must be below qualification.threshold',
    path: ['recycleBelow'],
    when: whenValid(['recycleBelow'], ['threshold']),
  });

const propertyNames = z.array(
  z.string().trim().min(1).refine(isNotProto, NOT_PROTO_MESSAGE),
);

const emailClicksSchema = z
  .object({
    events: nonEmptyStrings.default([...DEFAULT_EMAIL_CLICK_EVENTS]),
    minSecondsAfterDelivery: z
      .number()
      .min(0, 'must be at least 0 seconds')
      .max(86_400, 'must be at most 86400 seconds (a day)')
      .default(DEFAULT_MIN_SECONDS_AFTER_DELIVERY),
    deliveryTimeProperties: propertyNames.default([
      ...DEFAULT_DELIVERY_TIME_PROPERTIES,
    ]),
    burstClicksPerSecond: z
      .number()
      .int()
      .min(2)
      .max(
        MAX_BURST_CLICKS_PER_SECOND,
        `must be at most ${MAX_BURST_CLICKS_PER_SECOND}, because a lead keeps the scored clicks of each second below it`,
      )
      .default(DEFAULT_BURST_CLICKS_PER_SECOND),
  })
  .strict();

const emailOpensSchema = z
  .object({
    events: nonEmptyStrings.default([...DEFAULT_EMAIL_OPEN_EVENTS]),
    proxyUserAgentPattern: regexPattern.default(
      DEFAULT_PROXY_USER_AGENT_PATTERN,
    ),
    proxyFlagProperties: propertyNames.default([
      ...DEFAULT_PROXY_FLAG_PROPERTIES,
    ]),
  })
  .strict();

const quarantineSchema = z
  .object({
    botUserAgentPattern: regexPattern.default(DEFAULT_BOT_USER_AGENT_PATTERN),
    emailClicks: emailClicksSchema.prefault({}),
    emailOpens: emailOpensSchema.prefault({}),
  })
  .strict();

/** Buying-group role: a lead has it when its title matches. */
const accountRoleSchema = z
  .object({
    id: ruleId,
    description: z.string().min(1),
    titlePattern: regexPattern,
  })
  .strict();

const accountQualificationSchema = z
  .object({
    /** Account score (fit + engagement) at which an account can qualify. */
    threshold: positiveScoreLevel,
    /** A marketing qualified account leaves its episode below this. */
    recycleBelow: scoreLevel,
    /** Roles that must each have an engaged lead. */
    requiredRoles: z.array(ruleId).default([]),
    /** Distinct roles with an engaged lead, required ones included. */
    minimumRoles: z.number().int().min(0).default(0),
  })
  .strict()
  .refine((q) => q.recycleBelow < q.threshold, {
    message: 'must be below accounts.qualification.threshold',
    path: ['recycleBelow'],
    when: whenValid(['recycleBelow'], ['threshold']),
  });

const accountsShapeSchema = z
  .object({
    /** Traits that name the company of a lead without a business email. */
    companyTraits: propertyNames.default(['company.name', 'company']),
    /** Traits that hold the lead's job title. */
    titleTraits: propertyNames.default(['title', 'job_title', 'jobTitle']),
    /** Email domains that never form an account (personal mailboxes). */
    personalEmailDomains: z
      .array(domainName)
      .default([...DEFAULT_PERSONAL_EMAIL_DOMAINS]),
    /** Fit rule groups that describe the company (firmographics). */
    fitGroups: z.array(ruleId).default([]),
    /** Decayed intent at which a lead counts as engaged. */
    engagedIntent: positiveScoreLevel.default(10),
    /**
     * Intent step at which a lead's share of its account is written
     * again; smaller steps track engagement closer and write more.
     */
    engagementStep: z
      .number()
      .min(0.01, 'must be at least 0.01, a cent of a score')
      .max(MAX_SCORE_LEVEL, `must be at most ${MAX_SCORE_LEVEL}`)
      .default(10),
    /**
     * Leads whose decayed intent makes up account engagement, the most
     * engaged first, so that many barely active leads do not add up to
     * an engaged account.
     */
    engagementLeads: z.number().int().positive().default(10),
    roles: z.array(accountRoleSchema).min(1),
    qualification: accountQualificationSchema,
  })
  .strict();

const accountsSchema = accountsShapeSchema.superRefine(checkAccountRoles, {
  when: whenReadable(['roles'], ['qualification', 'requiredRoles']),
});

/**
 * Adds an issue at each repeated role id, each required role that names no
 * role, and a minimum above the number of roles. Roles with an invalid id
 * are left out, and then required roles are not checked, because one of
 * them may name such a role.
 */
function checkAccountRoles(
  accounts: z.output<typeof accountsShapeSchema>,
  context: z.core.$RefinementCtx,
): void {
  const roleIds = new Set<string>();
  let allIdsValid = true;
  accounts.roles.forEach((role, index) => {
    if (!isValidAt(context.issues, ['roles', index, 'id'])) {
      allIdsValid = false;
      return;
    }
    if (roleIds.has(role.id)) {
      context.addIssue({
        code: 'custom',
        path: ['roles', index, 'id'],
        message: `duplicate role id "${role.id}"`,
      });
    }
    roleIds.add(role.id);
  });
  const { qualification } = accounts;
  qualification.requiredRoles.forEach((role, index) => {
    const path = ['qualification', 'requiredRoles', index];
    if (!allIdsValid || !isValidAt(context.issues, path)) return;
    if (!roleIds.has(role)) {
      context.addIssue({
        code: 'custom',
        path,
        message: `names no role of accounts.roles: "${role}"`,
      });
    }
  });
  if (
    isValidAt(context.issues, ['qualification', 'minimumRoles']) &&
    qualification.minimumRoles > accounts.roles.length
  ) {
    context.addIssue({
      code: 'custom',
      path: ['qualification', 'minimumRoles'],
      message: `must be at most the ${accounts.roles.length} roles defined`,
    });
  }
}

export const modelDocumentSchema = z
  .object({
    // The stack's description, at most 1,024 bytes, carries the name.
    name: z
      .string()
      .min(1)
      .max(200, 'must be at most 200 characters; use a short name')
      .superRefine((name, context) => {
        for (const message of visibleTextIssues(name)) {
          context.addIssue({ code: 'custom', message });
        }
      }),
    description: z.string().optional(),
    fit: z.object({ rules: z.array(fitRuleSchema) }).strict(),
    intent: z
      .object({
        retentionPerQuarter: retention.default(0.75),
        rules: z.array(intentRuleSchema).min(1),
      })
      .strict(),
    qualification: qualificationSchema,
    quarantine: quarantineSchema.prefault({}),
    accounts: accountsSchema.optional(),
  })
  .strict()
  .superRefine(
    (model, context) => {
      rejectRepeatedRuleIds(model, context);
      checkFitGroups(model, context);
    },
    { when: whenReadable(['fit', 'rules'], ['intent', 'rules']) },
  );

type ModelShape = {
  fit: { rules: { id: string; group?: string | undefined }[] };
  intent: { rules: { id: string }[] };
  accounts?: { fitGroups: string[] } | undefined;
};

/**
 * Adds an issue at each rule whose id repeats an earlier fit or intent
 * rule's. Rules with an invalid id are left out.
 */
function rejectRepeatedRuleIds(
  model: ModelShape,
  context: z.core.$RefinementCtx,
): void {
  const seen = new Set<string>();
  const rules = [
    ...model.fit.rules.map((rule, index) => ({ rule, section: 'fit', index })),
    ...model.intent.rules.map((rule, index) => ({
      rule,
      section: 'intent',
      index,
    })),
  ];
  for (const { rule, section, index } of rules) {
    const path = [section, 'rules', index, 'id'];
    if (!isValidAt(context.issues, path)) continue;
    if (seen.has(rule.id)) {
      context.addIssue({
        code: 'custom',
        path,
        message: `duplicate rule id "${rule.id}"`,
      });
    }
    seen.add(rule.id);
  }
}

/**
 * Adds an issue at each accounts.fitGroups entry that names no group of
 * fit.rules. Skipped while a fit rule's group is invalid, because that may
 * be the group an entry names.
 */
function checkFitGroups(
  model: ModelShape,
  context: z.core.$RefinementCtx,
): void {
  if (!isReadableAt(context.issues, ['accounts', 'fitGroups'])) return;
  const groupsValid = model.fit.rules.every((_, index) =>
    isValidAt(context.issues, ['fit', 'rules', index, 'group']),
  );
  if (!groupsValid) return;
  const groups = new Set(model.fit.rules.map((rule) => rule.group));
  model.accounts?.fitGroups.forEach((group, index) => {
    const path = ['accounts', 'fitGroups', index];
    if (!isValidAt(context.issues, path) || groups.has(group)) return;
    context.addIssue({
      code: 'custom',
      path,
      message: `names no group of fit.rules: "${group}"`,
    });
  });
}

export type ModelDocument = z.output<typeof modelDocumentSchema>;
export type FitRuleDocument = z.output<typeof fitRuleSchema>;
export type IntentRuleDocument = z.output<typeof intentRuleSchema>;
export type EventMatcherDocument = z.output<typeof eventMatcherSchema>;
export type PropertyConditionDocument = z.output<typeof propertyCondition>;
export type Qualification = z.output<typeof qualificationSchema>;
export type QuarantineDocument = z.output<typeof quarantineSchema>;
export type AccountsDocument = z.output<typeof accountsSchema>;

/**
 * Returns why `pattern` is not a regular expression that the engine can
 * compile, or undefined when it is. Patterns are compiled with the flags
 * i and u, as JavaScript reads them: Unicode mode rejects escapes of
 * characters without a meaning, such as `\_`, and no mode takes inline
 * flags such as `(?i)`.
 */
function invalidPatternMessage(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'iu');
    return undefined;
  } catch (error) {
    const reason = String((error as Error).message)
      .split(': ')
      .pop();
    return `must be a valid JavaScript regular expression in Unicode mode (${reason})${patternHint(pattern)}`;
  }
}

function patternHint(pattern: string): string {
  if (/\(\?[a-z-]+[:)]/.test(pattern)) {
    return '. Inline flags such as (?i) are not supported; patterns always ignore case, so remove the flag';
  }
  if (/\\[^\\^$.|?*+()[\]{}/\-dDwWsSbBnrtfv0-9cxukpP]/u.test(pattern)) {
    return '. In Unicode mode a backslash may only escape characters with a meaning, such as \\. or \\(, or start a class such as \\d; remove the backslash before a plain character';
  }
  return '';
}
