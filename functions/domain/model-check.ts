import { canonicalJson } from './canonical-json.js';
import { isBelowInCents, roundCents } from './explanation.js';
import { WEIGHT_UNITS } from './intent-tally.js';
import type { ScoringModel } from './model.js';
import { describeImpossiblePattern } from './regex-impossible.js';
import { coversEvents } from './rule-cover.js';
import { QUARTER_MS } from './time.js';

/** A valid model setting that is likely a mistake, with where it is. */
export interface ModelWarning {
  field: string;
  message: string;
}

/**
 * Returns the highest fit a lead can reach: the best positive rule of
 * each group plus every positive rule outside a group. An upper bound,
 * because rules outside a group may exclude each other.
 */
export function maximumFit(model: ScoringModel): number {
  const bestOfGroup = new Map<string, number>();
  let ungrouped = 0;
  for (const rule of model.fitRules) {
    if (rule.group === undefined) {
      ungrouped += Math.max(0, rule.points);
    } else {
      const best = bestOfGroup.get(rule.group) ?? 0;
      bestOfGroup.set(rule.group, Math.max(best, rule.points));
    }
  }
  let total = ungrouped;
  for (const best of bestOfGroup.values()) total += best;
  return total;
}

/** Checks a compiled model for settings that defeat their purpose. */
export function checkModel(model: ScoringModel): ModelWarning[] {
  return [
    ...checkQualification(model),
    ...model.document.intent.rules.flatMap((rule, index) =>
      checkIntentRule(rule, index),
    ),
    ...shadowedRules(model),
    ...decayRoundingWarnings(model),
    ...patternWarnings(model.document),
  ];
}

/**
 * Largest error, in points, of one counted event's decayed value that
 * model check accepts: half a cent, so the shown cents keep to the exact
 * decay apart from values at a rounding boundary.
 */
const MAX_DECAY_ROUNDING_POINTS = 0.005;

/**
 * Finds decaying intent rules with enough points that the stored event
 * weights, multiples of 1 / WEIGHT_UNITS at the end of each event's
 * decay year, can put a counted event more than half a cent off its
 * exact decayed value. The error is at most |points| / (2 · WEIGHT_UNITS)
 * times retention^-4, because a weight is decayed back from its year end
 * over up to four quarters.
 */
function decayRoundingWarnings(model: ScoringModel): ModelWarning[] {
  return model.intentRules.flatMap((rule, index) => {
    const retention = rule.retentionPerQuarter;
    if (rule.points <= 0 || retention >= 1) return [];
    const error = rule.points / (2 * WEIGHT_UNITS) / retention ** 4;
    if (error <= MAX_DECAY_ROUNDING_POINTS) return [];
    return [
      {
        field: `intent.rules[${index}].points`,
        message:
          `at retentionPerQuarter ${retention}, each counted event can be ` +
          `up to ${error.toPrecision(2)} points off its exact decayed ` +
          'value, because event weights are stored in units of 2^-36; ' +
          'lower the points or raise the retention until points × ' +
          '2^-37 / retention^4 is at most 0.005',
      },
    ];
  });
}

/** Fields that hold regular expressions: `pattern`, `path`, `…Pattern`. */
const PATTERN_FIELD = /^(?:pattern|path|\w+Pattern)$/;

/**
 * A pattern written as a JavaScript literal, such as `/cpo/i`. The engine
 * takes patterns without slashes, so it matches the slashes and the flag
 * letters as text.
 */
const SLASH_LITERAL = /^\/.+\/[dgimsuvy]+$/;

/**
 * Values that a pattern reported as never matching is tested on, so an
 * error of the static check cannot produce a false warning.
 */
const SAMPLE_VALUES = [
  '',
  ' ',
  '\n',
  'a',
  'x',
  '0',
  'cfo',
  'Chief Procurement Officer',
  '/pricing',
  'https://example.com/pricing?plan=pro#top',
  'Mozilla/5.0 (compatible; Googlebot/2.1)',
  '^',
  '$',
];

/**
 * Finds patterns that are valid but likely mistakes: written between
 * slashes with flags, matching every value, the empty one included, or
 * matching none.
 */
function patternWarnings(document: unknown, field = ''): ModelWarning[] {
  if (Array.isArray(document)) {
    return document.flatMap((item, index) =>
      patternWarnings(item, `${field}[${index}]`),
    );
  }
  if (document === null || typeof document !== 'object') return [];
  return Object.entries(document).flatMap(([key, value]) => {
    const path = field === '' ? key : `${field}.${key}`;
    if (typeof value !== 'string' || !PATTERN_FIELD.test(key)) {
      return patternWarnings(value, path);
    }
    return patternWarning(value, path);
  });
}

/**
 * Values of varied shapes. A pattern that matches all of them and the
 * empty value counts as matching every value.
 */
const EVERY_VALUE_SAMPLES = [
  'x',
  '42',
  ' ',
  '/pricing',
  'Chief Procurement Officer',
  'Student intern',
  'jane.doe@example.com',
  'Einkaufsleiterin für Beschaffung, 日本',
  'Line one\nline two',
  'x'.repeat(300),
];

function patternWarning(pattern: string, field: string): ModelWarning[] {
  if (SLASH_LITERAL.test(pattern)) {
    const body = pattern.slice(1, pattern.lastIndexOf('/'));
    return [
      {
        field,
        message: `is written as a JavaScript literal; patterns take no slashes or flags and always ignore case, so this one matches the slashes and letters as text. Write ${body}`,
      },
    ];
  }
  const expression = new RegExp(pattern, 'iu');
  if (expression.test('')) {
    return [
      {
        field,
        message: EVERY_VALUE_SAMPLES.every((value) => expression.test(value))
          ? 'matches every value, even an empty one, so it decides nothing; check for an empty alternative such as a| or a lone ^'
          : 'matches an empty value, so a blank field meets the rule; check for an empty alternative such as a| or a part that is all optional',
      },
    ];
  }
  const impossible = describeImpossiblePattern(pattern);
  if (impossible !== undefined && !matchesSample(pattern)) {
    return [
      {
        field,
        message:
          `can never match, because it has ${impossible}. Patterns ` +
          'take no m flag, so ^ and $ match only at the start and end of ' +
          'the value. Fix the pattern or remove its rule',
      },
    ];
  }
  return [];
}

function matchesSample(pattern: string): boolean {
  const regex = new RegExp(pattern, 'iu');
  return [...SAMPLE_VALUES, pattern].some((value) => regex.test(value));
}

function checkQualification(model: ScoringModel): ModelWarning[] {
  const warnings: ModelWarning[] = [];
  const { threshold, recycleBelow, minimumFit } = model.qualification;
  const fit = maximumFit(model);
  if (!isBelowInCents(fit, recycleBelow)) {
    warnings.push({
      field: 'qualification.recycleBelow',
      message:
        `the maximum fit ${fit} reaches the recycle level ${recycleBelow}, ` +
        'so a lead with that fit never recycles by decay; raise ' +
        'recycleBelow above the maximum fit',
    });
  }
  if (fit < minimumFit) {
    warnings.push({
      field: 'qualification.minimumFit',
      message:
        `the maximum fit ${fit} is below the minimum fit ${minimumFit}, ` +
        'so no lead can qualify',
    });
  }
  const lasting = lastingIntent(model);
  if (
    lasting.rules.length > 0 &&
    !isBelowInCents(fit + lasting.points, recycleBelow)
  ) {
    const ids = lasting.rules.map((rule) => rule.id).join(', ');
    const unbounded = lasting.points === Number.POSITIVE_INFINITY;
    const keptPoints = unbounded
      ? 'them without bound'
      : `up to ${roundCents(lasting.points)} points of them`;
    // Caps without a window already bound these points, so only lower caps help.
    const remedy = unbounded ? 'a cap without a window' : 'lower their caps';
    warnings.push({
      field: 'qualification.recycleBelow',
      message:
        `the points of ${ids} never decay (retentionPerQuarter 1), and a ` +
        `lead can keep ${keptPoints}, which with the maximum fit ${fit} ` +
        `reaches the recycle level ${recycleBelow}, so such an MQL is ` +
        'never recycled by decay; give those rules a retention below 1 ' +
        `or ${remedy}`,
    });
  }
  const intent = maximumIntent(model);
  if (isBelowInCents(fit + intent, threshold)) {
    warnings.push({
      field: 'qualification.threshold',
      message:
        `the maximum fit ${fit} plus at most ${roundCents(intent)} points ` +
        `of capped intent stays below the threshold ${threshold}, so no ` +
        'lead can qualify; lower the threshold or raise the points or caps ' +
        'of the intent rules',
    });
  }
  return warnings;
}

/**
 * Returns the positive intent rules whose points never decay and the most
 * points a lead can keep of them. That is Infinity when one of them has no
 * cap or a cap per window, because each new window counts again.
 */
function lastingIntent(model: ScoringModel): {
  rules: ScoringModel['intentRules'];
  points: number;
} {
  const rules = model.intentRules.filter(
    (rule) => rule.points > 0 && rule.retentionPerQuarter >= 1,
  );
  let points = 0;
  for (const rule of rules) {
    const cap = rule.cap;
    if (cap === undefined || cap.windowMs !== undefined) {
      return { rules, points: Number.POSITIVE_INFINITY };
    }
    points += cap.max * rule.points;
  }
  return { rules, points };
}

/**
 * Returns an upper bound of a lead's intent, or Infinity when a positive
 * rule has no cap or a windowed cap without decay. A window k windows
 * before the current one ended at least k - 1 windows ago. So its counted
 * events keep at most r^((k - 1) · window / quarter) of their points, and
 * the windows add up to a geometric series.
 */
function maximumIntent(model: ScoringModel): number {
  let total = 0;
  for (const rule of model.intentRules) {
    if (rule.points <= 0) continue;
    const cap = rule.cap;
    if (cap === undefined) return Number.POSITIVE_INFINITY;
    const counted = cap.max * rule.points;
    if (cap.windowMs === undefined) {
      total += counted;
      continue;
    }
    const keptPerWindow =
      rule.retentionPerQuarter ** (cap.windowMs / QUARTER_MS);
    if (keptPerWindow >= 1) return Number.POSITIVE_INFINITY;
    total += counted * (1 + 1 / (1 - keptPerWindow));
  }
  return total;
}

type IntentRuleDocument = ScoringModel['document']['intent']['rules'][number];

function checkIntentRule(
  rule: IntentRuleDocument,
  index: number,
): ModelWarning[] {
  const field = `intent.rules[${index}].when`;
  const types = rule.when.types;
  const warnings: ModelWarning[] = [];
  if (rule.when.events && types && !types.includes('track')) {
    warnings.push({
      field,
      message: 'events match track events only, but types excludes track',
    });
  }
  if (rule.when.names && types?.every((type) => type === 'track')) {
    warnings.push({
      field,
      message: 'names match page and screen views only, but types is track',
    });
  }
  if (rule.when.events && rule.when.names) {
    warnings.push({
      field,
      message: 'events and names together never match: an event has one type',
    });
  }
  if (rule.points < 0 && rule.retentionPerQuarter !== undefined) {
    warnings.push({
      field: `intent.rules[${index}].retentionPerQuarter`,
      message: 'has no effect, because negative points never decay; remove it',
    });
  }
  return warnings;
}

/**
 * Finds intent rules that an earlier rule hides, because the earlier rule
 * has the same conditions or broader ones that every event of the later
 * rule meets.
 */
function shadowedRules(model: ScoringModel): ModelWarning[] {
  const rules = model.document.intent.rules;
  const warnings: ModelWarning[] = [];
  rules.forEach((rule, index) => {
    const earlier = rules
      .slice(0, index)
      .find((candidate) => coversEvents(candidate.when, rule.when));
    if (earlier === undefined) return;
    const message =
      canonicalJson(earlier.when) === canonicalJson(rule.when)
        ? `never scores: rule "${earlier.id}" has the same conditions and comes first`
        : `never scores: rule "${earlier.id}" comes first and matches every event that this rule matches`;
    warnings.push({ field: `intent.rules[${index}]`, message });
  });
  return warnings;
}
