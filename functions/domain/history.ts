import { explainTotals, shownTotals } from './explanation.js';
import type { LeadState, LeadStatus } from './lead.js';
import type { ScoringModel } from './model.js';
import type { LeadScore } from './score.js';

/**
 * Cause of a score change. `merge` is the write that adds a merged lead's
 * qualification history to the lead it merges into, or creates that lead.
 */
export type ScoreChangeCause =
  | 'event'
  | 'sweep'
  | 'disposition'
  | 'model'
  | 'merge';

/** A lead's score and status at one point of its history. */
export interface ScorePoint {
  score: number;
  fit: number;
  intent: number;
  status: LeadStatus;
}

/**
 * Returns a score point with the intent that GET /leads/{leadId} shows:
 * the score minus the fit, in cents. Earlier versions stored intent
 * rounded on its own, which can be a cent off that difference when the
 * fit has fractions of a cent. They stored the same score and fit.
 */
export function shownPoint(point: ScorePoint): ScorePoint {
  return { ...shownTotals(point.score, point.fit), status: point.status };
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
      : shownPoint({ ...last, status: stored.status });
  const after: ScorePoint = { ...explainTotals(score), status: next.status };
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

/** A lead after the reviews that were due before a write, and its score. */
export interface ReviewedLead {
  state: LeadState;
  score: LeadScore;
}

/** History entries of one write, and the version its state takes. */
export interface WriteHistory {
  version: number;
  /** Entry of the reviews due before the write, when they changed. */
  reviews?: HistoryEntry;
  /** Entry of the write's own change, after those reviews. */
  change?: HistoryEntry;
}

/**
 * Returns the history of a write that first ran the lead's due reviews,
 * as ingest and dispositions do. The reviews get their own entry, as the
 * sweep would have written it at the last of them (cause `sweep`). The
 * write's own entry starts from the reviewed score. Each entry takes its
 * own version, so a lead recycled by decay and qualified again by the
 * next event shows both steps. The state takes the last version used,
 * one above the stored one when no review changed anything.
 */
export function writeHistory(
  stored: LeadState | undefined,
  reviewed: ReviewedLead | undefined,
  next: LeadState,
  score: LeadScore,
  model: ScoringModel,
  cause: ScoreChangeCause,
  events: number,
): WriteHistory {
  const base = stored?.version ?? 0;
  const reviews =
    reviewed === undefined || cause === 'sweep'
      ? undefined
      : historyEntry(
          stored,
          { ...reviewed.state, version: base + 1 },
          reviewed.score,
          model,
          'sweep',
          0,
        );
  const version = reviews === undefined ? base + 1 : base + 2;
  const change = historyEntry(
    reviews === undefined ? stored : reviewed?.state,
    { ...next, version },
    score,
    model,
    cause,
    events,
  );
  return {
    version,
    ...(reviews === undefined ? {} : { reviews }),
    ...(change === undefined ? {} : { change }),
  };
}

/**
 * Returns the entries of a write's history as the `reviewHistory` and
 * `history` fields of the change that stores it, leaving out those that
 * are absent.
 */
export function historyFields(history: WriteHistory): {
  reviewHistory?: HistoryEntry;
  history?: HistoryEntry;
} {
  return {
    ...(history.reviews === undefined
      ? {}
      : { reviewHistory: history.reviews }),
    ...(history.change === undefined ? {} : { history: history.change }),
  };
}
