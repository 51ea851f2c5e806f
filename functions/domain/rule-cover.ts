import { canonicalJson } from './canonical-json.js';
import { normalizeText } from './issues.js';
import type {
  EventMatcherDocument,
  PropertyConditionDocument,
} from './model-schema.js';

type EventType = 'track' | 'page' | 'screen';

/**
 * Tells whether every event that `later` matches also meets `earlier`, so
 * that a rule with `later` after a rule with `earlier` never scores. The
 * test is conservative. It compares conditions field by field and takes
 * two different paths or patterns as different, even when one regular
 * expression matches everything the other does. A `later` that matches
 * no event at all, such as one with both events and names, counts as not
 * covered, because model check names it as never matching instead.
 */
export function coversEvents(
  earlier: EventMatcherDocument,
  later: EventMatcherDocument,
): boolean {
  const laterTypes = typesOf(later);
  if (laterTypes.length === 0) return false;
  if (earlier.types && !isSubset(laterTypes, earlier.types)) return false;
  if (earlier.events && !isTextSubset(later.events, earlier.events)) {
    return false;
  }
  if (earlier.names && !isTextSubset(later.names, earlier.names)) return false;
  if (
    earlier.categories &&
    !isTextSubset(later.categories, earlier.categories)
  ) {
    return false;
  }
  if (earlier.path !== undefined && later.path !== earlier.path) return false;
  for (const [name, condition] of Object.entries(earlier.properties ?? {})) {
    const laterCondition = later.properties?.[name];
    if (!coversCondition(condition, laterCondition)) return false;
  }
  return true;
}

/** Returns the event types that a matcher can match. */
function typesOf(matcher: EventMatcherDocument): EventType[] {
  let types: EventType[] = matcher.types ?? ['track', 'page', 'screen'];
  // Track names belong to track events, page and screen names to views.
  if (matcher.events) types = types.filter((type) => type === 'track');
  if (matcher.names) types = types.filter((type) => type !== 'track');
  return types;
}

function coversCondition(
  earlier: PropertyConditionDocument,
  later: PropertyConditionDocument | undefined,
): boolean {
  if (later === undefined) return false;
  if (Array.isArray(earlier) && Array.isArray(later)) {
    return isTextSubset(later, earlier);
  }
  return canonicalJson(earlier) === canonicalJson(later);
}

function isSubset<T>(values: readonly T[], allowed: readonly T[]): boolean {
  return values.every((value) => allowed.includes(value));
}

/** Compares texts as matching does: trimmed, NFC and lower case. */
function isTextSubset(
  values: readonly string[] | undefined,
  allowed: readonly string[],
): boolean {
  if (values === undefined) return false;
  const normalized = allowed.map(normalizeText);
  return values.every((value) => normalized.includes(normalizeText(value)));
}
