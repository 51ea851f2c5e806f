import { canonicalJson, sha256Hex } from './canonical-json.js';
import { logRetentionPerMs } from './decay.js';
import { domainListEntry, emailDomainOf } from './identity.js';
import { type IntentRuleIndex, indexIntentRules } from './intent.js';
import { CAP_RESERVE } from './intent-tally.js';
import { collapseWhiteSpace, normalizeText } from './issues.js';
import { matchedPart } from './matched-part.js';
import type { TraitValue } from './messages.js';
import type {
  AccountsDocument,
  EventMatcherDocument,
  FitRuleDocument,
  IntentRuleDocument,
  ModelDocument,
  PropertyConditionDocument,
  Qualification,
  QuarantineDocument,
} from './model-schema.js';
import { DAY_MS } from './time.js';
import { traitNumber } from './trait-number.js';

export type { ModelDocument, Qualification } from './model-schema.js';

/** A fit rule ready to evaluate. */
export interface FitRule {
  id: string;
  description: string;
  traits: string[];
  group: string | undefined;
  points: number;
  matches(value: TraitValue): boolean;
}

/**
 * At most `max` events of a rule count per window of `windowMs`, with
 * windows aligned to the Unix epoch. Without a window, per lead.
 */
export interface IntentCap {
  max: number;
  windowMs: number | undefined;
  /**
   * Event times a window keeps beyond `max`, so that an event taken back
   * as part of a click burst can be replaced: CAP_RESERVE for rules that
   * can match an email click, 0 for the rest.
   */
  reserve: number;
}

/** An intent rule ready to evaluate. */
export interface IntentRule {
  id: string;
  description: string;
  points: number;
  retentionPerQuarter: number;
  /** ln(retentionPerQuarter) per millisecond (see weightUnits). */
  logRetentionPerMs: number;
  cap: IntentCap | undefined;
  when: EventMatcher;
}

/**
 * Compiled conditions of an intent rule. Every given field must match.
 * Names, event names and categories are stored normalized.
 */
export interface EventMatcher {
  types?: ReadonlySet<string>;
  events?: ReadonlySet<string>;
  names?: ReadonlySet<string>;
  categories?: ReadonlySet<string>;
  path?: RegExp;
  properties?: ReadonlyArray<[string, (value: unknown) => boolean]>;
}

/** Compiled quarantine settings (see bot-defaults.ts). */
export interface QuarantinePolicy {
  /** Tells whether a user agent is a bot's, remembering recent results. */
  isBotUserAgent(userAgent: string): boolean;
  emailClickEvents: ReadonlySet<string>;
  minMsAfterDelivery: number;
  deliveryTimeProperties: readonly string[];
  burstClicksPerSecond: number;
  emailOpenEvents: ReadonlySet<string>;
  proxyUserAgent: RegExp;
  proxyFlagProperties: readonly string[];
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
  /** The intent rules grouped for matching events (see intent.ts). */
  intentIndex: IntentRuleIndex;
  /** Default retention of positive intent per quarter of inactivity. */
  retentionPerQuarter: number;
  qualification: Qualification;
  quarantine: QuarantinePolicy;
  /** Account roll-up and buying groups; undefined when the model has none. */
  accounts: AccountPolicy | undefined;
  /**
   * Traits the model reads: those of fit rules, the account company and
   * title traits and `email`. A lead keeps them beyond its limit of other
   * traits.
   */
  traitNames: ReadonlySet<string>;
}

/** A buying-group role, held by leads whose title matches `title`. */
export interface AccountRole {
  id: string;
  description: string;
  title: RegExp;
}

/** Compiled account settings (see accounts in model-schema.ts). */
export interface AccountPolicy {
  companyTraits: readonly string[];
  titleTraits: readonly string[];
  /** Normalized personal mailbox domains. */
  personalEmailDomains: ReadonlySet<string>;
  fitGroups: ReadonlySet<string>;
  engagedIntent: number;
  engagementStep: number;
  engagementLeads: number;
  roles: readonly AccountRole[];
  qualification: AccountsDocument['qualification'];
}

/**
 * Compiles a model document that modelDocumentSchema has validated, with
 * its defaults filled in. compileModel in model-validation.ts validates
 * a document of unknown shape first. The Lambda bundles embed a document
 * that synthesis validated, so they compile it with this alone.
 */
export function compileValidatedModel(model: ModelDocument): ScoringModel {
  const quarantine = compileQuarantine(model.quarantine);
  const intentRules = model.intent.rules.map((rule) =>
    compileIntentRule(
      rule,
      model.intent.retentionPerQuarter,
      quarantine.emailClickEvents,
    ),
  );
  return {
    version: modelVersion(model),
    name: model.name,
    document: model,
    fitRules: model.fit.rules.map(compileFitRule),
    intentRules,
    intentRulesById: new Map(intentRules.map((rule) => [rule.id, rule])),
    intentIndex: indexIntentRules(intentRules),
    retentionPerQuarter: model.intent.retentionPerQuarter,
    qualification: model.qualification,
    quarantine,
    accounts: model.accounts && compileAccounts(model.accounts),
    traitNames: new Set([
      'email',
      ...model.fit.rules.flatMap((rule) => rule.traits),
      ...(model.accounts?.companyTraits ?? []),
      ...(model.accounts?.titleTraits ?? []),
    ]),
  };
}

function compileAccounts(document: AccountsDocument): AccountPolicy {
  return {
    companyTraits: document.companyTraits,
    titleTraits: document.titleTraits,
    personalEmailDomains: new Set(
      document.personalEmailDomains.map(domainListEntry),
    ),
    fitGroups: new Set(document.fitGroups),
    engagedIntent: document.engagedIntent,
    engagementStep: document.engagementStep,
    engagementLeads: document.engagementLeads,
    roles: document.roles.map((role) => ({
      id: role.id,
      description: role.description,
      title: new RegExp(role.titlePattern, 'iu'),
    })),
    qualification: document.qualification,
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

function fitCondition(rule: FitRuleDocument): (value: TraitValue) => boolean {
  if (rule.pattern !== undefined) {
    // Many leads share a title, so each distinct one is tested once.
    const test = memoize(new RegExp(rule.pattern, 'iu'));
    return (value) => test(collapsedOnce(matchedPart(String(value))));
  }
  if (rule.oneOf !== undefined) {
    const allowed = new Set(
      rule.oneOf.map((entry) => collapseWhiteSpace(normalizeText(entry))),
    );
    return (value) => allowed.has(collapsedOnce(String(value)));
  }
  if (rule.domains !== undefined) {
    return domainCondition(rule.domains);
  }
  return rangeCondition(rule.range ?? {});
}

/**
 * Matches an email address or a bare domain whose domain is one of
 * `domains` or lies under one of them, so `edu` matches `mit.edu` and
 * `example.com` matches `eu.example.com` but not `badexample.com`.
 */
function domainCondition(
  domains: readonly string[],
): (value: TraitValue) => boolean {
  const suffixes = domains.map(domainListEntry);
  return (value) => {
    const domain = emailDomainOf(String(value));
    if (domain === undefined) return false;
    return suffixes.some(
      (suffix) => domain === suffix || domain.endsWith(`.${suffix}`),
    );
  };
}

function rangeCondition(range: {
  min?: number | undefined;
  max?: number | undefined;
}): (value: unknown) => boolean {
  const min = range.min ?? Number.NEGATIVE_INFINITY;
  const max = range.max ?? Number.POSITIVE_INFINITY;
  return (value) => {
    const number = traitNumber(value);
    return number !== undefined && number >= min && number < max;
  };
}

function compileIntentRule(
  rule: IntentRuleDocument,
  defaultRetention: number,
  clickEvents: ReadonlySet<string>,
): IntentRule {
  const { cap } = rule;
  const retention = rule.retentionPerQuarter ?? defaultRetention;
  return {
    id: rule.id,
    description: rule.description,
    points: rule.points,
    retentionPerQuarter: retention,
    logRetentionPerMs: logRetentionPerMs(retention),
    cap:
      cap === undefined
        ? undefined
        : {
            max: cap.max,
            windowMs:
              cap.windowDays === undefined
                ? undefined
                : cap.windowDays * DAY_MS,
            reserve: canMatchClick(rule.when, clickEvents) ? CAP_RESERVE : 0,
          },
    when: compileMatcher(rule.when),
  };
}

/** Tells whether a rule's conditions can match an email click event. */
function canMatchClick(
  when: EventMatcherDocument,
  clickEvents: ReadonlySet<string>,
): boolean {
  if (when.types !== undefined && !when.types.includes('track')) {
    return false;
  }
  if (when.names !== undefined) {
    return false;
  }
  if (when.events === undefined) {
    return true;
  }
  return when.events.some((name) => clickEvents.has(normalizeText(name)));
}

function compileMatcher(when: EventMatcherDocument): EventMatcher {
  const matcher: EventMatcher = {};
  if (when.types) matcher.types = new Set(when.types);
  if (when.events) matcher.events = normalizedSet(when.events);
  if (when.names) matcher.names = normalizedSet(when.names);
  if (when.categories) matcher.categories = normalizedSet(when.categories);
  if (when.path) matcher.path = new RegExp(when.path, 'iu');
  if (when.properties) {
    matcher.properties = Object.entries(when.properties).map(
      ([key, condition]) => [key, propertyCondition(condition)],
    );
  }
  return matcher;
}

function propertyCondition(
  condition: PropertyConditionDocument,
): (value: unknown) => boolean {
  if (Array.isArray(condition)) {
    const allowed = normalizedSet(condition);
    return (value) => isScalar(value) && allowed.has(normalizeOnce(`${value}`));
  }
  if ('range' in condition) {
    return rangeCondition(condition.range);
  }
  const test = memoize(new RegExp(condition.pattern, 'iu'));
  return (value) =>
    isScalar(value) && test(normalizeOnce(matchedPart(`${value}`)));
}

function isScalar(value: unknown): value is string | number | boolean {
  return (
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  );
}

function compileQuarantine(document: QuarantineDocument): QuarantinePolicy {
  const { emailClicks, emailOpens } = document;
  return {
    isBotUserAgent: memoize(new RegExp(document.botUserAgentPattern, 'iu')),
    emailClickEvents: normalizedSet(emailClicks.events),
    minMsAfterDelivery: emailClicks.minSecondsAfterDelivery * 1000,
    deliveryTimeProperties: emailClicks.deliveryTimeProperties,
    burstClicksPerSecond: emailClicks.burstClicksPerSecond,
    emailOpenEvents: normalizedSet(emailOpens.events),
    proxyUserAgent: new RegExp(emailOpens.proxyUserAgentPattern, 'iu'),
    proxyFlagProperties: emailOpens.proxyFlagProperties,
  };
}

/** Texts remembered per pattern. The memo is cleared when full. */
const MAX_REMEMBERED_TEXTS = 1024;

/**
 * Wraps a pattern test in a bounded memo. A browser sends the same user
 * agent with every event, and the bot pattern is a long alternation, so
 * testing each distinct user agent once keeps the per-event cost low. The
 * same holds for titles and property values, which repeat across leads.
 */
function memoize(pattern: RegExp): (text: string) => boolean {
  const remembered = new Map<string, boolean>();
  return (value) => {
    const text = matchedPart(value);
    const known = remembered.get(text);
    if (known !== undefined) return known;
    const result = pattern.test(text);
    if (remembered.size >= MAX_REMEMBERED_TEXTS) remembered.clear();
    remembered.set(text, result);
    return result;
  };
}

/** Normalized texts by text as sent. The memo is cleared when full. */
const normalizedTexts = new Map<string, string>();

/**
 * Normalizes text as normalizeText does, remembering recent results,
 * because trait and property values repeat across events and leads, and
 * Unicode normalization costs more than a lookup.
 */
function normalizeOnce(text: string): string {
  let normalized = normalizedTexts.get(text);
  if (normalized === undefined) {
    normalized = normalizeText(text);
    if (normalizedTexts.size >= MAX_REMEMBERED_TEXTS) normalizedTexts.clear();
    normalizedTexts.set(text, normalized);
  }
  return normalized;
}

/** Collapsed normalized texts by text as sent, cleared when full. */
const collapsedTexts = new Map<string, string>();

/**
 * Returns collapseWhiteSpace(normalizeText(text)), remembering recent
 * results. A remembered result is the same string object every time, so
 * the pattern memo behind it finds it without hashing a new string.
 * Collapsing on every call instead scored about 7 % fewer events per
 * second in requests of 10 events (core workload, Node 20).
 */
function collapsedOnce(text: string): string {
  let collapsed = collapsedTexts.get(text);
  if (collapsed === undefined) {
    collapsed = collapseWhiteSpace(normalizeOnce(text));
    if (collapsedTexts.size >= MAX_REMEMBERED_TEXTS) collapsedTexts.clear();
    collapsedTexts.set(text, collapsed);
  }
  return collapsed;
}

function normalizedSet(values: readonly string[]): ReadonlySet<string> {
  return new Set(values.map(normalizeText));
}
