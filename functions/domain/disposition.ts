import { randomBytes } from 'node:crypto';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { ConflictError } from './errors.js';
import { roundCents } from './explanation.js';
import type { DispositionKind, DispositionRecord, LeadState } from './lead.js';
import type { ScoringModel } from './model.js';
import {
  DETAIL_SCHEMA_VERSION,
  LEAD_DISPOSITION_CHANGED,
  type OutgoingEvent,
} from './outgoing-events.js';
import { type Evaluation, evaluateLead, recycleNow } from './qualification.js';
import { toIso } from './time.js';

/** Sales feedback on a lead, as the disposition route accepts it. */
export interface DispositionRequest {
  kind: DispositionKind;
  /** Required for rejected and recycled. */
  reason?: string | undefined;
  /** Required for converted. */
  convertedTo?: 'sql' | 'opportunity' | undefined;
}

/**
 * One disposition as kept for the conversion report. It names the lead
 * episode only by a hash salted with the lead's outcomeSalt and stays
 * after the lead is erased, when the salt goes with the lead's state.
 */
export interface OutcomeRecord {
  /** SHA-256 prefix of the lead id and episode. */
  episodeKey: string;
  eventId: string;
  at: number;
  kind: DispositionKind;
  convertedTo?: 'sql' | 'opportunity';
  /** Score at the episode's qualification. */
  qualifiedScore: number;
  modelVersion: string;
}

/** Effect of a disposition on a lead. */
export interface DispositionPlan {
  evaluation: Evaluation;
  record: DispositionRecord;
  previous: DispositionRecord | undefined;
  outcome: OutcomeRecord;
}

/**
 * Tells whether a request repeats the disposition the lead already has
 * for its current episode, so a retried request changes nothing. Raises
 * ConflictError when it repeats a rejection or recycle with another
 * reason, because the episode has ended and its reason is already sent.
 */
export function repeatsDisposition(
  state: LeadState,
  request: DispositionRequest,
): boolean {
  const current = state.disposition;
  const repeated =
    current !== undefined &&
    current.episode === state.episode &&
    current.kind === request.kind &&
    current.convertedTo === request.convertedTo;
  if (!repeated) return false;
  const hasReason = request.kind === 'rejected' || request.kind === 'recycled';
  if (hasReason && current.reason !== request.reason) {
    throw new ConflictError(
      `Lead ${state.leadId} is already ${current.kind} in episode ${state.episode} with the reason ${JSON.stringify(current.reason ?? '')}; a disposition cannot change the reason of an ended episode.`,
    );
  }
  return true;
}

/**
 * Applies a sales disposition at `now`. Accepted, rejected and recycled
 * need a lead that is an MQL now. Converted needs a lead that qualified
 * at least once and was not rejected or recycled by sales since. Rejected
 * and recycled end the episode, as the score falling below the recycle
 * level does. Raises ConflictError when the lead's state does not allow
 * the disposition.
 */
export function planDisposition(
  state: LeadState,
  request: DispositionRequest,
  model: ScoringModel,
  now: number,
): DispositionPlan {
  const current = evaluateLead(state, model, now);
  const status = current.state.status;
  const { kind } = request;

  if (state.episode === 0) {
    throw new ConflictError(
      `Lead ${state.leadId} never qualified; sales can only give a disposition on a lead that was an MQL.`,
    );
  }
  if (kind !== 'converted' && status !== 'mql') {
    throw new ConflictError(
      `Lead ${state.leadId} is ${status}, not an MQL; only an MQL can be ${kind}.`,
    );
  }
  const previous = state.disposition;
  const closed =
    previous?.episode === state.episode &&
    (previous.kind === 'rejected' || previous.kind === 'recycled');
  if (kind === 'converted' && closed) {
    throw new ConflictError(
      `Lead ${state.leadId} was ${previous?.kind} by sales in episode ${state.episode}; it must qualify again before it can be converted.`,
    );
  }

  const evaluation =
    kind === 'rejected' || kind === 'recycled'
      ? recycleNow(state, model, now, `${kind} by sales: ${request.reason}`)
      : current;
  const record: DispositionRecord = {
    kind,
    episode: state.episode,
    at: now,
    ...(request.reason === undefined ? {} : { reason: request.reason }),
    ...(request.convertedTo === undefined
      ? {}
      : { convertedTo: request.convertedTo }),
  };
  evaluation.state.disposition = record;
  return {
    evaluation,
    record,
    previous,
    outcome: outcomeOf(state, record, model),
  };
}

/** Returns a random salt for the outcome keys of a new lead. */
export function newOutcomeSalt(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Returns the key of a lead episode in the conversion outcomes.
 * NOTE: a lead first written before outcomeSalt existed has no salt, and
 * anyone with its id can compute its key, erased or not.
 */
function episodeKeyOf(state: LeadState, episode: number): string {
  const parts =
    state.outcomeSalt === undefined
      ? ['outcome', state.leadId, episode]
      : ['outcome', state.outcomeSalt, state.leadId, episode];
  return sha256Hex(canonicalJson(parts)).slice(0, 32);
}

function outcomeOf(
  state: LeadState,
  record: DispositionRecord,
  model: ScoringModel,
): OutcomeRecord {
  const episode = state.episodes.find((e) => e.episode === record.episode);
  return {
    episodeKey: episodeKeyOf(state, record.episode),
    eventId: dispositionEventId(state, record),
    at: record.at,
    kind: record.kind,
    ...(record.convertedTo === undefined
      ? {}
      : { convertedTo: record.convertedTo }),
    qualifiedScore: episode?.score ?? 0,
    modelVersion: episode?.modelVersion ?? model.version,
  };
}

/**
 * Returns the id of a disposition's event. It includes the version of the
 * lead state the disposition changes, so a return to an earlier
 * disposition of the episode (converted, then accepted again) gets a new
 * id that consumers do not drop as a repeat. A retried request writes
 * nothing, so it publishes no second id.
 */
function dispositionEventId(
  state: LeadState,
  record: DispositionRecord,
): string {
  return sha256Hex(
    canonicalJson([
      'disposition',
      state.leadId,
      ...(state.createdAt === undefined ? [] : [state.createdAt]),
      state.version,
      record.episode,
      record.kind,
      record.convertedTo ?? null,
    ]),
  ).slice(0, 32);
}

/** Builds "Lead Disposition Changed" for a planned disposition. */
export function dispositionEvent(
  leadId: string,
  plan: DispositionPlan,
  model: ScoringModel,
): OutgoingEvent {
  const { record, previous, evaluation } = plan;
  const { eventId } = plan.outcome;
  return {
    eventId,
    leadId,
    detailType: LEAD_DISPOSITION_CHANGED,
    createdAt: record.at,
    detail: {
      schemaVersion: DETAIL_SCHEMA_VERSION,
      eventId,
      leadId,
      episode: record.episode,
      occurredAt: toIso(record.at),
      disposition: record.kind,
      previousDisposition:
        previous?.episode === record.episode ? previous.kind : null,
      convertedTo: record.convertedTo ?? null,
      reason: record.reason ?? null,
      status: evaluation.state.status,
      score: roundCents(evaluation.score.score),
      modelVersion: model.version,
    },
  };
}
