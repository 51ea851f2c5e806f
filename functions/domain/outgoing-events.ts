import * as z from 'zod';
import type { AccountTransition } from './account.js';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { explainScore } from './explanation.js';
import type { ScoringModel } from './model.js';
import type { Transition } from './qualification.js';
import { toIso } from './time.js';

/** Version of the detail schemas below; raised on breaking changes. */
export const DETAIL_SCHEMA_VERSION = '1';

/** Maximum contributions carried in an event, largest first. */
const TOP_CONTRIBUTIONS = 5;

export const DETAIL_TYPES = {
  qualified: 'Lead Qualified',
  recycled: 'Lead Recycled',
} as const;

export const ACCOUNT_QUALIFIED = 'Account Qualified';
export const LEAD_DISPOSITION_CHANGED = 'Lead Disposition Changed';
export const LEAD_ERASED = 'Lead Erased';

export type DetailType =
  | (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES]
  | typeof ACCOUNT_QUALIFIED
  | typeof LEAD_DISPOSITION_CHANGED
  | typeof LEAD_ERASED;

const contributionSchema = z.object({
  kind: z.enum(['fit', 'intent']),
  ruleId: z.string(),
  points: z.number(),
});

const intentDetailSchema = contributionSchema.extend({
  /** Events before caps, and counted after them. */
  events: z.number().optional(),
  counted: z.number().optional(),
  /** Points before caps and decay. */
  rawPoints: z.number().optional(),
});

const quarantinedSchema = z.object({
  reason: z.string(),
  count: z.number(),
});

/**
 * Detail of "Lead Qualified" and "Lead Recycled" events. It carries ids,
 * scores and rule ids only: no traits, no raw payload. `contributions`
 * lists every rule, rounded so that the points add up to `score`, and
 * `topContributions` is its first five entries.
 */
export const leadTransitionDetailSchema = z.object({
  schemaVersion: z.literal(DETAIL_SCHEMA_VERSION),
  eventId: z.string(),
  leadId: z.string(),
  episode: z.number().int().positive(),
  status: z.enum(['mql', 'recycled']),
  previousStatus: z.enum(['engaged', 'mql', 'recycled']),
  occurredAt: z.iso.datetime(),
  score: z.number(),
  fit: z.number(),
  intent: z.number(),
  threshold: z.number(),
  recycleBelow: z.number(),
  modelVersion: z.string(),
  reason: z.string(),
  topContributions: z.array(contributionSchema),
  contributions: z.array(intentDetailSchema),
  quarantined: z.array(quarantinedSchema),
});

export type LeadTransitionDetail = z.infer<typeof leadTransitionDetailSchema>;

/**
 * Detail of "Account Qualified": an account became a marketing qualified
 * account. Published once per episode; carries role ids and counts, no
 * lead ids.
 */
export const accountQualifiedDetailSchema = z.object({
  schemaVersion: z.literal(DETAIL_SCHEMA_VERSION),
  eventId: z.string(),
  accountId: z.string(),
  episode: z.number().int().positive(),
  occurredAt: z.iso.datetime(),
  score: z.number(),
  fit: z.number(),
  engagement: z.number(),
  threshold: z.number(),
  rolesCovered: z.array(z.string()),
  rolesMissing: z.array(z.string()),
  requiredRoles: z.array(z.string()),
  leads: z.number().int().nonnegative(),
  engagedLeads: z.number().int().nonnegative(),
  modelVersion: z.string(),
});

export type AccountQualifiedDetail = z.infer<
  typeof accountQualifiedDetailSchema
>;

/**
 * Detail of "Lead Disposition Changed": sales accepted, rejected,
 * converted or recycled a qualified lead.
 */
export const leadDispositionDetailSchema = z.object({
  schemaVersion: z.literal(DETAIL_SCHEMA_VERSION),
  eventId: z.string(),
  leadId: z.string(),
  episode: z.number().int().nonnegative(),
  occurredAt: z.iso.datetime(),
  disposition: z.enum(['accepted', 'rejected', 'converted', 'recycled']),
  previousDisposition: z
    .enum(['accepted', 'rejected', 'converted', 'recycled'])
    .nullable(),
  convertedTo: z.enum(['sql', 'opportunity']).nullable(),
  reason: z.string().nullable(),
  status: z.enum(['engaged', 'mql', 'recycled']),
  score: z.number(),
  modelVersion: z.string(),
});

export type LeadDispositionDetail = z.infer<typeof leadDispositionDetailSchema>;

/**
 * Detail of "Lead Erased": every item of a lead was deleted. It names the
 * lead only by the SHA-256 of its id, so it carries no personal data.
 * Systems that store the id can hash it to find their own copy.
 */
export const leadErasedDetailSchema = z.object({
  schemaVersion: z.literal(DETAIL_SCHEMA_VERSION),
  eventId: z.string(),
  leadIdSha256: z.string().regex(/^[0-9a-f]{64}$/),
  occurredAt: z.iso.datetime(),
  itemsDeleted: z.number().int().nonnegative(),
  accountsUpdated: z.number().int().nonnegative(),
});

export type LeadErasedDetail = z.infer<typeof leadErasedDetailSchema>;

export type OutgoingDetail =
  | LeadTransitionDetail
  | AccountQualifiedDetail
  | LeadDispositionDetail
  | LeadErasedDetail;

/**
 * An event waiting in the outbox to be published. Its outbox entry lives
 * with the lead `leadId`, or with the account `accountId` for account
 * events; exactly one of the two is set.
 */
export interface OutgoingEvent {
  eventId: string;
  leadId?: string;
  accountId?: string;
  detailType: DetailType;
  detail: OutgoingDetail;
  createdAt: number;
}

/**
 * Returns the id of the event for one transition of one episode. It is the
 * same on every retry, so consumers can drop duplicate deliveries.
 */
export function transitionEventId(
  leadId: string,
  episode: number,
  kind: Transition['kind'],
): string {
  return sha256Hex(canonicalJson([leadId, episode, kind])).slice(0, 32);
}

/** Builds the outgoing event for a lead's status transition. */
export function transitionEvent(
  leadId: string,
  transition: Transition,
  model: ScoringModel,
  createdAt: number,
): OutgoingEvent {
  const eventId = transitionEventId(
    leadId,
    transition.episode,
    transition.kind,
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
    },
  };
}

/** Builds "Account Qualified" for an account's qualification. */
export function accountQualifiedEvent(
  accountId: string,
  transition: AccountTransition,
  model: ScoringModel,
  createdAt: number,
): OutgoingEvent {
  const eventId = sha256Hex(
    canonicalJson(['account', accountId, transition.episode, 'qualified']),
  ).slice(0, 32);
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
