import { roundCents } from './explanation.js';
import type { LeadState, LeadStatus } from './lead.js';
import type { ScoringModel } from './model.js';
import type { LeadScore } from './score.js';

/** Cause of a score change. */
export type ScoreChangeCause = 'event' | 'sweep' | 'disposition' | 'model';

/** A lead's score and status at one point of its history. */
export interface ScorePoint {
  score: number;
  fit: number;
  intent: number;
  status: LeadStatus;
}

/** One change of a lead's score, kept in its history. */
export interface HistoryEntry {
  /** Version of the lead state the change wrote; orders the history. */
  version: number;
  at: number;
  cause: ScoreChangeCause;
  /** Score before the change, null for a new lead. */
  before: ScorePoint | null;
  after: ScorePoint;
  modelVersion: string;
  /** Model that computed `before`, when it differs from `modelVersion`. */
  previousModelVersion?: string;
  /** Events the change stored. */
  events: number;
}

/**
 * Returns the history entry of a lead write, or undefined when neither
 * its rounded score nor its status changed. A write under a model other
 * than the one of the stored score is a model change unless events or a
 * disposition caused it.
 */
export function historyEntry(
  stored: LeadState | undefined,
  next: LeadState,
  score: LeadScore,
  model: ScoringModel,
  cause: ScoreChangeCause,
  events: number,
): HistoryEntry | undefined {
  const last = stored?.lastScore;
  const before: ScorePoint | null =
    stored === undefined || last === undefined
      ? null
      : {
          score: last.score,
          fit: last.fit,
          intent: last.intent,
          status: stored.status,
        };
  const after: ScorePoint = {
    score: roundCents(score.score),
    fit: roundCents(score.fit),
    intent: roundCents(score.intent),
    status: next.status,
  };
  if (
    before !== null &&
    before.score === after.score &&
    before.status === after.status
  ) {
    return undefined;
  }
  const modelChanged =
    last !== undefined && last.modelVersion !== model.version;
  return {
    version: next.version,
    at: score.at,
    cause: cause === 'sweep' && modelChanged ? 'model' : cause,
    before,
    after,
    modelVersion: model.version,
    ...(modelChanged ? { previousModelVersion: last.modelVersion } : {}),
    events,
  };
}
