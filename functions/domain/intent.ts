import { normalizeText } from './issues.js';
import { matchedPart } from './matched-part.js';
import type { TrackingEvent } from './messages.js';
import type { EventMatcher, IntentRule, ScoringModel } from './model.js';

/**
 * Returns the first intent rule, in model order, whose conditions all
 * match the event, or undefined. Only track, page and screen events carry
 * intent, and each scores under one rule at most. `trackName` is the
 * event's normalized track name (see trackNameOf), passed in so that it
 * is normalized once per event.
 */
export function matchIntentRule(
  event: TrackingEvent,
  trackName: string | undefined,
  model: ScoringModel,
): IntentRule | undefined {
  if (!isBehaviour(event)) {
    return undefined;
  }
  const candidates = candidatesOf(event, trackName, model.intentIndex);
  if (candidates.length === 0) return undefined;
  const fields = new MatchedFields(event, trackName);
  for (const rule of candidates) {
    if (matchesRest(rule.when, event, fields)) return rule;
  }
  return undefined;
}

/**
 * Intent rules grouped by what decides most matches: the event type, the
 * track name and the path. Each list keeps model order, so the first rule
 * of a list that matches is the first rule of the model that matches.
 */
export interface IntentRuleIndex {
  byType: ReadonlyMap<string, TypeRules>;
  /** Position of each rule in the model, by rule id. */
  positions: ReadonlyMap<string, number>;
}

/** Rules that can match events of one type. */
interface TypeRules {
  /** For events without a track name: rules with no event condition. */
  unnamed: RuleList;
  /** By normalized track name: the rules that accept that name. */
  byTrackName: ReadonlyMap<string, RuleList>;
}

/** Rules in model order, with their path tests remembered per path. */
interface RuleList {
  rules: readonly IntentRule[];
  /** The rules with no path condition, for events without a path. */
  pathless: readonly IntentRule[];
  /** The rules whose path condition, if any, accepts a path. */
  byPath: Map<string, readonly IntentRule[]>;
}

/** Paths remembered per rule list. The memo is cleared when full. */
const MAX_REMEMBERED_PATHS = 1024;

const BEHAVIOUR_TYPES = ['track', 'page', 'screen'];

/** Groups a model's intent rules for matchIntentRule. */
export function indexIntentRules(
  rules: readonly IntentRule[],
): IntentRuleIndex {
  const byType = new Map<string, TypeRules>();
  for (const type of BEHAVIOUR_TYPES) {
    const ofType = rules.filter(
      (rule) => rule.when.types === undefined || rule.when.types.has(type),
    );
    const names = new Set<string>();
    for (const rule of ofType) {
      for (const name of rule.when.events ?? []) names.add(name);
    }
    const byTrackName = new Map<string, RuleList>();
    for (const name of names) {
      byTrackName.set(
        name,
        ruleList(ofType.filter((rule) => acceptsName(rule, name))),
      );
    }
    const unnamed = ruleList(
      ofType.filter((rule) => rule.when.events === undefined),
    );
    byType.set(type, { unnamed, byTrackName });
  }
  const positions = new Map(rules.map((rule, position) => [rule.id, position]));
  return { byType, positions };
}

function acceptsName(rule: IntentRule, name: string): boolean {
  return rule.when.events === undefined || rule.when.events.has(name);
}

function ruleList(rules: IntentRule[]): RuleList {
  return {
    rules,
    pathless: rules.filter((rule) => rule.when.path === undefined),
    byPath: new Map(),
  };
}

/**
 * Returns the rules whose type, track name and path conditions accept
 * the event, in model order.
 */
function candidatesOf(
  event: TrackingEvent,
  trackName: string | undefined,
  index: IntentRuleIndex,
): readonly IntentRule[] {
  const ofType = index.byType.get(event.type);
  if (ofType === undefined) return [];
  const list =
    trackName === undefined
      ? ofType.unnamed
      : (ofType.byTrackName.get(trackName) ?? ofType.unnamed);
  if (event.path === undefined) return list.pathless;
  const path = matchedPart(event.path);
  let rules = list.byPath.get(path);
  if (rules === undefined) {
    rules = list.rules.filter(
      (rule) => rule.when.path === undefined || rule.when.path.test(path),
    );
    if (list.byPath.size >= MAX_REMEMBERED_PATHS) list.byPath.clear();
    list.byPath.set(path, rules);
  }
  return rules;
}

/** Normalized names of an event, computed on first use. */
class MatchedFields {
  private page: string | null | undefined;
  private normalizedCategory: string | null | undefined;

  constructor(
    private readonly event: TrackingEvent,
    readonly trackName: string | undefined,
  ) {}

  get pageName(): string | undefined {
    if (this.page === undefined) {
      const { type, name } = this.event;
      this.page =
        type !== 'track' && name !== undefined ? normalizeText(name) : null;
    }
    return this.page ?? undefined;
  }

  get category(): string | undefined {
    if (this.normalizedCategory === undefined) {
      const { category } = this.event;
      this.normalizedCategory =
        category === undefined ? null : normalizeText(category);
    }
    return this.normalizedCategory ?? undefined;
  }
}

function isBehaviour(event: TrackingEvent): boolean {
  return (
    event.type === 'track' || event.type === 'page' || event.type === 'screen'
  );
}

/**
 * Tells whether the conditions that candidatesOf does not check (page
 * names, categories and properties) match the event.
 */
function matchesRest(
  matcher: EventMatcher,
  event: TrackingEvent,
  fields: MatchedFields,
): boolean {
  if (matcher.names && !inSet(matcher.names, fields.pageName)) return false;
  if (matcher.categories && !inSet(matcher.categories, fields.category)) {
    return false;
  }
  if (matcher.properties) {
    for (const [key, test] of matcher.properties) {
      if (!test(event.properties[key])) return false;
    }
  }
  return true;
}

function inSet(set: ReadonlySet<string>, value: string | undefined): boolean {
  return value !== undefined && set.has(value);
}
