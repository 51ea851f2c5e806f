import type { TraitEntry } from './lead.js';
import type { ScoringModel } from './model.js';

/** Points a fit rule adds because one of its traits matched. */
export interface FitContribution {
  ruleId: string;
  description: string;
  /** Trait key that matched, such as `title` or `company.industry`. */
  trait: string;
  points: number;
}

/**
 * Scores a lead's traits against the model's fit rules. Rules are checked
 * in model order; within a group only the first matching rule counts, so
 * a "VP Procurement and CFO" title scores once. Each rule reads the first
 * of its traits that the lead has. Fit does not decay. Calls with the
 * same traits record return the same list, which callers must not change.
 */
export function scoreFit(
  traits: Readonly<Record<string, TraitEntry>>,
  model: ScoringModel,
): readonly FitContribution[] {
  const last = lastFit;
  if (last.traits !== traits || last.model !== model) {
    last.contributions = matchFitRules(traits, model);
    last.traits = traits;
    last.model = model;
  }
  return last.contributions;
}

/**
 * The fit of the traits record scored last, because scoring a lead reads
 * its fit several times in a row (each review of a catch-up, the
 * evaluation, its account) and a lead's traits change far less often
 * than its intent. One entry costs less than a WeakMap by traits, whose
 * set ran on every request (core benchmark, Node 20). A traits record is
 * never changed after it is scored: applying events copies it before the
 * first change (see lead-copy.ts).
 */
const lastFit: {
  traits: Readonly<Record<string, TraitEntry>> | undefined;
  model: ScoringModel | undefined;
  contributions: readonly FitContribution[];
} = { traits: undefined, model: undefined, contributions: [] };

function matchFitRules(
  traits: Readonly<Record<string, TraitEntry>>,
  model: ScoringModel,
): FitContribution[] {
  const contributions: FitContribution[] = [];
  const matchedGroups: string[] = [];
  for (const rule of model.fitRules) {
    if (rule.group !== undefined && matchedGroups.includes(rule.group)) {
      continue;
    }
    const trait = firstPresent(rule.traits, traits);
    if (trait === undefined) {
      continue;
    }
    if (!rule.matches((traits[trait] as TraitEntry).value)) {
      continue;
    }
    contributions.push({
      ruleId: rule.id,
      description: rule.description,
      trait,
      points: rule.points,
    });
    if (rule.group !== undefined) {
      matchedGroups.push(rule.group);
    }
  }
  return contributions;
}

/**
 * Returns the first of `keys` that the traits have as their own, so that a
 * rule on a trait such as `constructor` does not read Object.prototype.
 */
function firstPresent(
  keys: readonly string[],
  traits: Readonly<Record<string, TraitEntry>>,
): string | undefined {
  for (const key of keys) {
    if (Object.hasOwn(traits, key) && traits[key] !== undefined) return key;
  }
  return undefined;
}
