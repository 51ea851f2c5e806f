import { NotFoundError } from '../domain/errors.js';
import {
  type ExplainedContribution,
  type ExplainedQuarantine,
  explainScore,
} from '../domain/explanation.js';
import { displayText } from '../domain/id-text.js';
import { requestedLeadId } from '../domain/identity.js';
import type { DispositionKind, LeadState, LeadStatus } from '../domain/lead.js';
import { catchUpReviews, evaluateLead } from '../domain/qualification.js';
import { toIso } from '../domain/time.js';
import type { ScoringDependencies } from './dependencies.js';
import { MAX_REDIRECTS } from './update-lead.js';

/** One qualification of a lead, as the leads API shows it. */
export interface EpisodeView {
  episode: number;
  qualifiedAt: string;
  score: number;
  modelVersion: string;
  recycledAt: string | null;
  recycleReason: string | null;
}

/** A lead as the leads API returns it: scored at the time of the request. */
export interface LeadView {
  leadId: string;
  /**
   * The user id as the tracking client sent it, when it differs from
   * `leadId` (a normalized email or an escaped `anon:` id), else null.
   */
  displayId: string | null;
  /** The id requested, when it named a lead merged into this one. */
  requestedLeadId?: string;
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
  /** Events that scored nothing because they look like machine activity. */
  quarantined: ExplainedQuarantine[];
  /** The latest qualifications, oldest first. */
  episodes: EpisodeView[];
  /** Latest sales disposition, null when sales gave none. */
  disposition: DispositionView | null;
}

/** A sales disposition as the leads API shows it. */
export interface DispositionView {
  disposition: DispositionKind;
  episode: number;
  at: string;
  reason: string | null;
  convertedTo: 'sql' | 'opportunity' | null;
}

/**
 * Returns a lead scored at the current time. An email-shaped id is
 * normalized as at ingest, and an id whose lead was merged into another
 * one returns that lead with `requestedLeadId` set. Decay and any status
 * change due by now are applied to the view only; the sweep stores them
 * and publishes their events.
 */
export async function getLead(
  deps: ScoringDependencies,
  requestedId: string,
): Promise<LeadView> {
  const stored = await findLead(deps, requestedLeadId(requestedId));
  if (stored === undefined) {
    throw new NotFoundError(`Lead ${displayText(requestedId)} was not found.`);
  }
  return leadViewOf(deps, stored, requestedId);
}

/**
 * Returns the view of a stored lead state at the current time, with
 * `requestedLeadId` set when the request named another id for it.
 */
export function leadViewOf(
  deps: ScoringDependencies,
  stored: LeadState,
  requestedId: string,
): LeadView {
  const leadId = requestedLeadId(requestedId);
  const now = deps.clock();
  // Reviews passed since the last write apply at their own times, as the
  // sweep will store them.
  // NOTE: under a model other than the stored score's, the view can show
  // a status change that the sweep stores only for leads that
  // `npm run model -- rescore` made due.
  const caughtUp = catchUpReviews(stored, deps.model, now).state;
  const { state, score } = evaluateLead(caughtUp, deps.model, now);
  const shown = explainScore(score);
  const { qualification } = deps.model;
  return {
    leadId: state.leadId,
    displayId: state.displayId ?? null,
    ...(state.leadId === leadId ? {} : { requestedLeadId: requestedId }),
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
    quarantined: shown.quarantined,
    episodes: state.episodes.map((episode) => ({
      episode: episode.episode,
      qualifiedAt: toIso(episode.qualifiedAt),
      score: episode.score,
      modelVersion: episode.modelVersion,
      recycledAt: isoOrNull(episode.recycledAt),
      recycleReason: episode.recycleReason ?? null,
    })),
    disposition:
      state.disposition === undefined
        ? null
        : {
            disposition: state.disposition.kind,
            episode: state.disposition.episode,
            at: toIso(state.disposition.at),
            reason: state.disposition.reason ?? null,
            convertedTo: state.disposition.convertedTo ?? null,
          },
  };
}

/** Reads a lead, following merged leads to the one they point at. */
async function findLead(
  deps: ScoringDependencies,
  leadId: string,
): Promise<LeadState | undefined> {
  let state = await deps.repository.getLead(leadId);
  for (let step = 0; step < MAX_REDIRECTS; step += 1) {
    if (state?.mergedInto === undefined) return state;
    state = await deps.repository.getLead(state.mergedInto);
  }
  return state?.mergedInto === undefined ? state : undefined;
}

function isoOrNull(epochMs: number | undefined): string | null {
  return epochMs === undefined ? null : toIso(epochMs);
}
