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
 * of its traits that the lead has. Fit does not decay.
 */
export function scoreFit(
  traits: Readonly<Record<string, TraitEntry>>,
  model: ScoringModel,
): FitContribution[] {
  const cached = fitCache.get(traits);
  if (cached?.model === model) return cached.contributions.slice();
  const contributions = matchFitRules(traits, model);
  fitCache.set(traits, { model, contributions });
  return contributions.slice();
}

/**
 * Fit of each traits record by model, because scoring a lead reads its fit
 * several times and a lead's traits change far less often than its
 * intent. A traits record is never changed after it is scored: applying
 * events copies it before the first change (see lead-copy.ts).
 */
const fitCache = new WeakMap<
  Readonly<Record<string, TraitEntry>>,
  { model: ScoringModel; contributions: FitContribution[] }
>();

function matchFitRules(
  traits: Readonly<Record<string, TraitEntry>>,
  model: ScoringModel,
): FitContribution[] {
  const contributions: FitContribution[] = [];
  const matchedGroups = new Set<string>();
  for (const rule of model.fitRules) {
    if (rule.group !== undefined && matchedGroups.has(rule.group)) {
      continue;
    }
    const trait = rule.traits.find((key) => traits[key] !== undefined);
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
      matchedGroups.add(rule.group);
    }
  }
  return contributions;
}
