import * as z from 'zod';
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

export type DetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];

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

/** An event waiting in the outbox to be published. */
export interface OutgoingEvent {
  eventId: string;
  leadId: string;
  detailType: DetailType;
  detail: LeadTransitionDetail;
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
