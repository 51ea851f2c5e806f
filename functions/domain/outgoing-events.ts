import type { AccountTransition } from './account.js';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import {
  type AccountQualifiedDetail,
  DETAIL_SCHEMA_VERSION,
  DETAIL_TYPES,
  type DetailOf,
  type DetailType,
} from './event-contract.js';
import { explainScore } from './explanation.js';
import type { ScoringModel } from './model.js';
import type { Transition } from './qualification.js';
import { toIso } from './time.js';

/** Maximum contributions carried in an event, largest first. */
const TOP_CONTRIBUTIONS = 5;

/** Model group whose matched fit rule becomes the detail's `persona`. */
const PERSONA_GROUP = 'persona';

export const ACCOUNT_QUALIFIED = DETAIL_TYPES.accountQualified;
export const LEAD_DISPOSITION_CHANGED = DETAIL_TYPES.dispositionChanged;
export const LEAD_ERASED = DETAIL_TYPES.erased;

/**
 * An event waiting in the outbox to be published. Its outbox entry lives
 * with the lead `leadId`, or with the account `accountId` for account
 * events; exactly one of the two is set.
 */
export type OutgoingEvent = {
  [T in DetailType]: {
    eventId: string;
    leadId?: string;
    accountId?: string;
    detailType: T;
    detail: DetailOf<T>;
    createdAt: number;
  };
}[DetailType];

/** Personal data a stage allows in event details. */
export interface EventPersonalData {
  /** Included only when the stage sets `events.includeEmail`. */
  email?: string;
}

/**
 * Returns the id of the event for one transition of one episode of one
 * incarnation of a lead (see incarnationOf). It is the same on every
 * retry, so consumers can drop duplicate deliveries.
 */
export function transitionEventId(
  leadId: string,
  episode: number,
  kind: Transition['kind'],
  incarnation?: string | number,
): string {
  const parts =
    incarnation === undefined
      ? [leadId, episode, kind]
      : [leadId, incarnation, episode, kind];
  return sha256Hex(canonicalJson(parts)).slice(0, 32);
}

/** Builds the outgoing event for a lead's status transition. */
export function transitionEvent(
  leadId: string,
  transition: Transition,
  model: ScoringModel,
  createdAt: number,
  personal: EventPersonalData = {},
  incarnation?: string | number,
): OutgoingEvent {
  const eventId = transitionEventId(
    leadId,
    transition.episode,
    transition.kind,
    incarnation,
  );
  const shown = explainScore(transition.score);
  const contributions = shown.contributions.map((c) =>
    c.kind === 'fit'
      ? { kind: c.kind, ruleId: c.ruleId, points: c.points }
      : {
          kind: c.kind,
          ruleId: c.ruleId,
          points: c.points,
          events: c.events,
          counted: c.counted,
          rawPoints: c.rawPoints,
        },
  );
  return {
    eventId,
    leadId,
    detailType: DETAIL_TYPES[transition.kind],
    createdAt,
    detail: {
      schemaVersion: DETAIL_SCHEMA_VERSION,
      eventId,
      leadId,
      episode: transition.episode,
      status: transition.to === 'mql' ? 'mql' : 'recycled',
      previousStatus: transition.from,
      occurredAt: toIso(transition.at),
      score: shown.score,
      fit: shown.fit,
      intent: shown.intent,
      threshold: model.qualification.threshold,
      recycleBelow: model.qualification.recycleBelow,
      modelVersion: model.version,
      reason: transition.reason,
      topContributions: contributions
        .slice(0, TOP_CONTRIBUTIONS)
        .map(({ kind, ruleId, points }) => ({ kind, ruleId, points })),
      contributions,
      quarantined: shown.quarantined.map(({ reason, count }) => ({
        reason,
        count,
      })),
      ...personaOf(contributions, model),
      ...(personal.email === undefined ? {} : { email: personal.email }),
    },
  };
}

function personaOf(
  contributions: ReadonlyArray<{ kind: string; ruleId: string }>,
  model: ScoringModel,
): { persona?: string } {
  const personaRules = new Set(
    model.fitRules
      .filter((rule) => rule.group === PERSONA_GROUP)
      .map((rule) => rule.id),
  );
  const match = contributions.find(
    (c) => c.kind === 'fit' && personaRules.has(c.ruleId),
  );
  return match === undefined ? {} : { persona: match.ruleId };
}

export {
  type AccountQualifiedDetail,
  DETAIL_SCHEMA_VERSION,
  DETAIL_TYPES,
  type DetailType,
  type LeadDispositionDetail,
  type LeadErasedDetail,
  type LeadTransitionDetail,
  leadTransitionDetailSchema,
} from './event-contract.js';

/** Builds "Account Qualified" for an account's qualification. */
export function accountQualifiedEvent(
  accountId: string,
  transition: AccountTransition,
  model: ScoringModel,
  createdAt: number,
  incarnationId?: string,
): OutgoingEvent {
  // An account stored before incarnation ids existed keeps its ids.
  const identity =
    incarnationId === undefined
      ? ['account', accountId, transition.episode, 'qualified']
      : ['account', accountId, incarnationId, transition.episode, 'qualified'];
  const eventId = sha256Hex(canonicalJson(identity)).slice(0, 32);
  const { score } = transition;
  const detail: AccountQualifiedDetail = {
    schemaVersion: DETAIL_SCHEMA_VERSION,
    eventId,
    accountId,
    episode: transition.episode,
    occurredAt: toIso(transition.at),
    score: score.score,
    fit: score.fit,
    engagement: score.engagement,
    threshold: model.accounts?.qualification.threshold ?? 0,
    rolesCovered: score.covered,
    rolesMissing: score.missing,
    requiredRoles: [...(model.accounts?.qualification.requiredRoles ?? [])],
    leads: score.leads,
    engagedLeads: score.engagedLeads,
    modelVersion: model.version,
  };
  return {
    eventId,
    accountId,
    detailType: ACCOUNT_QUALIFIED,
    detail,
    createdAt,
  };
}
