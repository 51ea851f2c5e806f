import { normalizeText } from '../../../functions/domain/issues.js';
import type { TrackingEvent } from '../../../functions/domain/messages.js';
import type {
  EventMatcher,
  IntentRule,
  ScoringModel,
} from '../../../functions/domain/model.js';

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
  const fields = new MatchedFields(event, trackName);
  for (const rule of model.intentRules) {
    if (matches(rule.when, event, fields)) return rule;
  }
  return undefined;
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

function matches(
  matcher: EventMatcher,
  event: TrackingEvent,
  fields: MatchedFields,
): boolean {
  if (matcher.types && !matcher.types.has(event.type)) return false;
  if (matcher.events && !inSet(matcher.events, fields.trackName)) {
    return false;
  }
  if (matcher.names && !inSet(matcher.names, fields.pageName)) return false;
  if (matcher.categories && !inSet(matcher.categories, fields.category)) {
    return false;
  }
  if (matcher.path) {
    if (event.path === undefined || !matcher.path.test(event.path)) {
      return false;
    }
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
