import { identityLinksOf, leadIdOf } from '../../functions/domain/identity.js';
import {
  applyEvents,
  compareEvents,
  type LeadState,
  type LeadStatus,
  newLead,
  scoringTimeOf,
} from '../../functions/domain/lead.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import type { ScoringModel } from '../../functions/domain/model.js';
import {
  evaluateLead,
  type Transition,
} from '../../functions/domain/qualification.js';

/** Links followed at most when resolving one lead id. */
const MAX_LINK_DEPTH = 8;

/** Reviews of one lead between two events at most; guards against loops. */
const MAX_REVIEWS_PER_STEP = 16;

/** A lead after replaying its events through one model. */
export interface SimulatedLead {
  leadId: string;
  score: number;
  status: LeadStatus;
  /** Qualifications over the whole replay. */
  episodes: number;
  events: number;
  quarantined: number;
}

/**
 * Resolves identity links the way ingest does, in event order: the first
 * link of a lead wins, and a link that would point a lead at itself is
 * ignored. Returns each merged lead id with the lead it belongs to.
 */
export function resolveIdentities(
  events: readonly TrackingEvent[],
): Map<string, string> {
  const mergedInto = new Map<string, string>();
  const resolve = (leadId: string) => resolveWith(mergedInto, leadId);
  for (const event of [...events].sort(compareEvents)) {
    for (const link of identityLinksOf(event)) {
      const target = resolve(link.to);
      if (target === link.from || mergedInto.has(link.from)) continue;
      mergedInto.set(link.from, target);
    }
  }
  return mergedInto;
}

function resolveWith(mergedInto: Map<string, string>, leadId: string): string {
  let current = leadId;
  for (let step = 0; step < MAX_LINK_DEPTH; step += 1) {
    const next = mergedInto.get(current);
    if (next === undefined) return current;
    current = next;
  }
  return current;
}

/** Groups events by the lead they count for after identity links. */
export function groupByLead(
  events: readonly TrackingEvent[],
): Map<string, TrackingEvent[]> {
  const mergedInto = resolveIdentities(events);
  const byLead = new Map<string, TrackingEvent[]>();
  for (const event of events) {
    const leadId = resolveWith(mergedInto, leadIdOf(event));
    const list = byLead.get(leadId) ?? [];
    list.push(event);
    byLead.set(leadId, list);
  }
  return byLead;
}

/**
 * Replays one lead's events through a model as if they had arrived in
 * real time. Each event is applied and evaluated at its own time. Between
 * events the lead is reviewed whenever its review time passes, as the
 * sweep would. The final score is taken at `asOf`.
 */
export function simulateLead(
  leadId: string,
  events: readonly TrackingEvent[],
  model: ScoringModel,
  asOf: number,
): SimulatedLead {
  const ordered = [...events].sort(compareEvents);
  const start =
    ordered.length > 0 ? scoringTimeOf(ordered[0] as TrackingEvent) : asOf;
  let state = newLead(leadId, model, Math.min(start, asOf));
  const transitions: Transition[] = [];
  for (const event of ordered) {
    const at = scoringTimeOf(event);
    if (at > asOf) break;
    state = reviewUntil(state, model, at, transitions);
    state = applyEvents(state, [event], model).state;
    const evaluation = evaluateLead(state, model, at);
    transitions.push(...evaluation.transitions);
    state = evaluation.state;
  }
  state = reviewUntil(state, model, asOf, transitions);
  const final = evaluateLead(state, model, asOf);
  transitions.push(...final.transitions);
  return {
    leadId,
    score: final.score.score,
    status: final.state.status,
    episodes: transitions.filter((t) => t.kind === 'qualified').length,
    events: final.state.eventCount,
    quarantined: quarantinedCount(final.state),
  };
}

/** Evaluates the lead at each review time that falls before `until`. */
function reviewUntil(
  state: LeadState,
  model: ScoringModel,
  until: number,
  transitions: Transition[],
): LeadState {
  let current = state;
  for (let review = 0; review < MAX_REVIEWS_PER_STEP; review += 1) {
    const due = current.nextReviewAt;
    if (due === undefined || due > until) break;
    const evaluation = evaluateLead(current, model, due);
    transitions.push(...evaluation.transitions);
    current = evaluation.state;
  }
  return current;
}

function quarantinedCount(state: LeadState): number {
  let total = 0;
  for (const tally of Object.values(state.quarantined)) total += tally.count;
  return total;
}

/** Replays every lead's events through a model. */
export function simulateModel(
  byLead: ReadonlyMap<string, readonly TrackingEvent[]>,
  model: ScoringModel,
  asOf: number,
): Map<string, SimulatedLead> {
  const leads = new Map<string, SimulatedLead>();
  for (const [leadId, events] of byLead) {
    leads.set(leadId, simulateLead(leadId, events, model, asOf));
  }
  return leads;
}
