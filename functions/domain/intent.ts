import { normalizeText } from './issues.js';
import type { TrackingEvent } from './messages.js';
import type { EventMatcher, IntentRule, ScoringModel } from './model.js';

/**
 * Returns the first intent rule, in model order, whose conditions all
 * match the event, or undefined. Only track, page and screen events carry
 * intent, and each scores under one rule at most.
 */
export function matchIntentRule(
  event: TrackingEvent,
  model: ScoringModel,
): IntentRule | undefined {
  if (!isBehaviour(event)) {
    return undefined;
  }
  return model.intentRules.find((rule) => matches(rule.when, event));
}

function isBehaviour(event: TrackingEvent): boolean {
  return (
    event.type === 'track' || event.type === 'page' || event.type === 'screen'
  );
}

function matches(matcher: EventMatcher, event: TrackingEvent): boolean {
  if (matcher.types && !matcher.types.has(event.type)) return false;
  if (matcher.events) {
    if (event.type !== 'track') return false;
    if (!inSet(matcher.events, event.name)) return false;
  }
  if (matcher.names) {
    if (event.type === 'track') return false;
    if (!inSet(matcher.names, event.name)) return false;
  }
  if (matcher.categories && !inSet(matcher.categories, event.category)) {
    return false;
  }
  if (matcher.path) {
    if (event.path === undefined || !matcher.path.test(event.path)) {
      return false;
    }
  }
  return (matcher.properties ?? []).every(([key, test]) => {
    const value = event.properties[key];
    return (
      (typeof value === 'string' ||
        typeof value === 'number' ||
        typeof value === 'boolean') &&
      test(String(value))
    );
  });
}

function inSet(set: ReadonlySet<string>, value: string | undefined): boolean {
  return value !== undefined && set.has(normalizeText(value));
}
