import type { ScoringModel } from '../../functions/domain/model.js';
import { type Evaluation, evaluateLeads } from '../replay/evaluation.js';
import type { SimulatedLead } from './simulate.js';

/** Results of one model over the replayed leads. */
export interface ModelOutcome {
  name: string;
  version: string;
  /** Leads that are MQLs at the as-of time. */
  mqls: number;
  /** Leads that qualified at least once. */
  qualifiedLeads: number;
  /** Qualifications, counting every episode. */
  episodes: number;
  /** Events quarantined as machine activity. */
  quarantined: number;
  /** Present when outcomes are known: ranking and MQL conversion. */
  evaluation?: Evaluation & QualifiedConversion;
}

/** Conversion of the leads that qualified at least once. */
export interface QualifiedConversion {
  /** Converted leads among those that qualified at least once. */
  qualifiedConverted: number;
  qualifiedConversionRate: number | null;
  qualifiedLift: number | null;
  /** Share of converted leads that qualified at least once. */
  recall: number | null;
}

/** Differences between the live and the candidate model per lead. */
export interface StatusChanges {
  /** Leads whose status at the as-of time differs. */
  changed: number;
  /** Counts per `live→candidate` status pair. */
  byTransition: Record<string, number>;
  /** Leads that qualify under the candidate only, and the live only. */
  qualifiedOnlyByCandidate: number;
  qualifiedOnlyByLive: number;
  /** Up to ten leads of each kind, for a closer look. */
  examples: { candidateOnly: string[]; liveOnly: string[] };
}

const MAX_EXAMPLES = 10;

/** Summarizes one model's simulated leads. */
export function outcomeOf(
  model: ScoringModel,
  leads: ReadonlyMap<string, SimulatedLead>,
  labels: ReadonlyMap<string, boolean>,
): ModelOutcome {
  const all = [...leads.values()];
  const outcome: ModelOutcome = {
    name: model.name,
    version: model.version,
    mqls: all.filter((lead) => lead.status === 'mql').length,
    qualifiedLeads: all.filter((lead) => lead.episodes > 0).length,
    episodes: all.reduce((sum, lead) => sum + lead.episodes, 0),
    quarantined: all.reduce((sum, lead) => sum + lead.quarantined, 0),
  };
  const labelled = all.flatMap((lead) => {
    const converted = labels.get(lead.leadId);
    return converted === undefined ? [] : [{ ...lead, converted }];
  });
  if (labelled.length > 0) {
    outcome.evaluation = {
      ...evaluateLeads(labelled),
      ...qualifiedConversion(labelled),
    };
  }
  return outcome;
}

function qualifiedConversion(
  leads: ReadonlyArray<SimulatedLead & { converted: boolean }>,
): QualifiedConversion {
  const converted = leads.filter((lead) => lead.converted).length;
  const qualified = leads.filter((lead) => lead.episodes > 0);
  const qualifiedConverted = qualified.filter((lead) => lead.converted).length;
  const rate = ratio(qualifiedConverted, qualified.length);
  const baseRate = ratio(converted, leads.length);
  return {
    qualifiedConverted,
    qualifiedConversionRate: rate,
    qualifiedLift: rate === null || !baseRate ? null : rate / baseRate,
    recall: ratio(qualifiedConverted, converted),
  };
}

/** Compares the live and the candidate model lead by lead. */
export function statusChanges(
  live: ReadonlyMap<string, SimulatedLead>,
  candidate: ReadonlyMap<string, SimulatedLead>,
): StatusChanges {
  const changes: StatusChanges = {
    changed: 0,
    byTransition: {},
    qualifiedOnlyByCandidate: 0,
    qualifiedOnlyByLive: 0,
    examples: { candidateOnly: [], liveOnly: [] },
  };
  for (const [leadId, before] of live) {
    const after = candidate.get(leadId);
    if (after === undefined) continue;
    if (before.status !== after.status) {
      changes.changed += 1;
      const key = `${before.status}→${after.status}`;
      changes.byTransition[key] = (changes.byTransition[key] ?? 0) + 1;
    }
    if (after.episodes > 0 && before.episodes === 0) {
      changes.qualifiedOnlyByCandidate += 1;
      addExample(changes.examples.candidateOnly, leadId);
    }
    if (before.episodes > 0 && after.episodes === 0) {
      changes.qualifiedOnlyByLive += 1;
      addExample(changes.examples.liveOnly, leadId);
    }
  }
  return changes;
}

function addExample(list: string[], leadId: string): void {
  if (list.length < MAX_EXAMPLES) list.push(leadId);
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}
