import { NotFoundError } from '../domain/errors.js';
import {
  type ExplainedContribution,
  explainScore,
} from '../domain/explanation.js';
import type { LeadStatus } from '../domain/lead.js';
import { evaluateLead } from '../domain/qualification.js';
import { toIso } from '../domain/time.js';
import type { ScoringDependencies } from './dependencies.js';

/** A lead as the leads API returns it: scored at the time of the request. */
export interface LeadView {
  leadId: string;
  score: number;
  fit: number;
  intent: number;
  status: LeadStatus;
  episode: number;
  modelVersion: string;
  /** Time the score was computed for (the request time). */
  scoredAt: string;
  threshold: number;
  recycleBelow: number;
  firstSeenAt: string;
  lastEventAt: string;
  firstQualifiedAt: string | null;
  qualifiedAt: string | null;
  recycledAt: string | null;
  explanation: ExplainedContribution[];
}

/**
 * Returns a lead scored at the current time. Decay and any status change
 * due by now are applied to the view only; the sweep stores them and
 * publishes their events.
 */
export async function getLead(
  deps: ScoringDependencies,
  leadId: string,
): Promise<LeadView> {
  const stored = await deps.repository.getLead(leadId);
  if (stored === undefined) {
    throw new NotFoundError(`Lead ${leadId} was not found.`);
  }
  const now = deps.clock();
  const { state, score } = evaluateLead(stored, deps.model, now);
  const shown = explainScore(score);
  const { qualification } = deps.model;
  return {
    leadId,
    score: shown.score,
    fit: shown.fit,
    intent: shown.intent,
    status: state.status,
    episode: state.episode,
    modelVersion: deps.model.version,
    scoredAt: shown.at,
    threshold: qualification.threshold,
    recycleBelow: qualification.recycleBelow,
    firstSeenAt: toIso(state.firstSeenAt),
    lastEventAt: toIso(state.lastEventAt),
    firstQualifiedAt: isoOrNull(state.firstQualifiedAt),
    qualifiedAt: isoOrNull(state.qualifiedAt),
    recycledAt: isoOrNull(state.recycledAt),
    explanation: shown.contributions,
  };
}

function isoOrNull(epochMs: number | undefined): string | null {
  return epochMs === undefined ? null : toIso(epochMs);
}
