import { randomBytes } from 'node:crypto';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { ConflictError } from './errors.js';
import { roundCents } from './explanation.js';
import type { ReviewedLead } from './history.js';
import {
  type DispositionKind,
  type DispositionRecord,
  incarnationOf,
  type LeadState,
} from './lead.js';
import type { ScoringModel } from './model.js';
import {
  DETAIL_SCHEMA_VERSION,
  LEAD_DISPOSITION_CHANGED,
  type OutgoingEvent,
} from './outgoing-events.js';
import {
  catchUpReviews,
  type Evaluation,
  episodeRecordOf,
  evaluateLead,
  recycleNow,
} from './qualification.js';
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
  /** The lead after the reviews due before the disposition, if any. */
  reviewed: ReviewedLead | undefined;
  record: DispositionRecord;
  previous: DispositionRecord | undefined;
  outcome: OutcomeRecord;
}

/**
 * A disposition as one step of an episode's order: its kind, with
 * converted split by the stage the lead reached.
 */
export type DispositionStep =
  | 'accepted'
  | 'rejected'
  | 'recycled'
  | 'sql'
  | 'opportunity';

/**
 * Steps that may follow each step within one episode. Sales accepts an
 * MQL, rejects it, sends it back (recycled) or converts it, and a
 * conversion moves only from sql to opportunity. Rejected, recycled and
 * opportunity are last steps, and a converted lead cannot be rejected,
 * recycled or accepted again. A lead without a disposition in its
 * episode may take any step.
 */
const NEXT_STEPS: Record<DispositionStep, readonly DispositionStep[]> = {
  accepted: ['rejected', 'recycled', 'sql', 'opportunity'],
  sql: ['opportunity'],
  opportunity: [],
  rejected: [],
  recycled: [],
};

/** Returns the step of a disposition: its kind, or its stage if converted. */
export function dispositionStep(disposition: {
  kind: DispositionKind;
  convertedTo?: 'sql' | 'opportunity' | undefined;
}): DispositionStep {
  if (disposition.kind !== 'converted') return disposition.kind;
  return disposition.convertedTo ?? 'sql';
}

/** Returns a step as the API names it, such as `converted to sql`. */
function stepLabel(step: DispositionStep): string {
  return step === 'sql' || step === 'opportunity'
    ? `converted to ${step}`
    : step;
}

/** Joins labels as `a, b or c`. */
function alternatives(labels: readonly string[]): string {
  if (labels.length <= 1) return labels.join('');
  return `${labels.slice(0, -1).join(', ')} or ${labels[labels.length - 1]}`;
}

/** Names the dispositions that may follow a step in the same episode. */
function nextStepsSentence(step: DispositionStep): string {
  const allowed = NEXT_STEPS[step];
  if (allowed.length === 0) {
    return 'It takes no other disposition until it qualifies again.';
  }
  return `It can only be ${alternatives(allowed.map(stepLabel))} next.`;
}

/**
 * Tells whether a request repeats the disposition the lead already has
 * for its current episode, so a retried request changes nothing. Raises
 * ConflictError when it repeats the disposition with another reason,
 * because the reason has already gone out in "Lead Disposition Changed".
 */
export function repeatsDisposition(
  state: LeadState,
  request: DispositionRequest,
): boolean {
  const current = state.disposition;
  const repeated =
    current !== undefined &&
    current.episode === state.episode &&
    dispositionStep(current) === dispositionStep(request);
  if (!repeated) return false;
  if (current.reason !== request.reason) {
    const stored =
      current.reason === undefined
        ? 'without a reason'
        : `with the reason ${JSON.stringify(current.reason)}`;
    const step = dispositionStep(current);
    throw new ConflictError(
      `Lead ${state.leadId} is already ${stepLabel(step)} in episode ${state.episode} ${stored}; the reason of a recorded disposition cannot change. ${nextStepsSentence(step)} Resend the same body to retry.`,
    );
  }
  return true;
}

/**
 * Raises ConflictError when the lead's disposition in its current episode
 * does not allow the requested step next (see NEXT_STEPS), naming the
 * current disposition and the steps it allows.
 */
function checkOrder(state: LeadState, request: DispositionRequest): void {
  const previous = state.disposition;
  if (previous === undefined || previous.episode !== state.episode) return;
  const current = dispositionStep(previous);
  const allowed = NEXT_STEPS[current];
  if (allowed.includes(dispositionStep(request))) return;
  const { leadId, episode } = state;
  if (current === 'rejected' || current === 'recycled') {
    throw new ConflictError(
      `Lead ${leadId} was ${current} by sales in episode ${episode}, which ended the episode, so it takes no other disposition until it qualifies again.`,
    );
  }
  const where = `Lead ${leadId} is ${stepLabel(current)} in episode ${episode}`;
  if (allowed.length === 0) {
    throw new ConflictError(
      `${where}, the last step of an episode, so it takes no other disposition until it qualifies again.`,
    );
  }
  throw new ConflictError(
    `${where}, so it can only be ${alternatives(allowed.map(stepLabel))} next; a disposition cannot move back.`,
  );
}

/**
 * Applies a sales disposition at `now`. It must follow the episode's
 * current disposition in the order of NEXT_STEPS. Accepted, rejected and
 * recycled also need a lead that is an MQL now. Converted needs a lead
 * that qualified at least once. Rejected and recycled end the episode,
 * as the score falling below the recycle level does. Raises
 * ConflictError when the lead's state does not allow the disposition.
 */
export function planDisposition(
  stored: LeadState,
  request: DispositionRequest,
  model: ScoringModel,
  now: number,
): DispositionPlan {
  // Reviews the sweep has not run yet happen first, at their own times,
  // so a lead that qualified again at the end of its cooldown takes the
  // disposition in its new episode, as GET /leads shows it.
  const caughtUp = catchUpReviews(stored, model, now);
  // A copy, taken before the evaluation and the disposition change it.
  const reviewed =
    caughtUp.score === undefined
      ? undefined
      : { state: { ...caughtUp.state }, score: caughtUp.score };
  const current = evaluateLead(caughtUp.state, model, now);
  const state = current.state;
  const { kind } = request;

  if (state.episode === 0) {
    throw new ConflictError(
      `Lead ${state.leadId} never qualified; sales can only give a disposition on a lead that was an MQL.`,
    );
  }
  checkOrder(state, request);
  if (kind !== 'converted' && state.status !== 'mql') {
    throw new ConflictError(
      `Lead ${state.leadId} is ${state.status}, not an MQL; only an MQL can be ${kind}.`,
    );
  }
  const previous = state.disposition;

  const decided =
    kind === 'rejected' || kind === 'recycled'
      ? recycleNow(
          caughtUp.state,
          model,
          now,
          `${kind} by sales: ${request.reason}`,
        )
      : current;
  const evaluation: Evaluation = {
    ...decided,
    transitions: [...caughtUp.transitions, ...decided.transitions],
  };
  const mergedKey =
    previous?.episode === state.episode ? previous.episodeKey : undefined;
  const record: DispositionRecord = {
    kind,
    episode: state.episode,
    at: now,
    ...(mergedKey === undefined ? {} : { episodeKey: mergedKey }),
    ...(request.reason === undefined ? {} : { reason: request.reason }),
    ...(request.convertedTo === undefined
      ? {}
      : { convertedTo: request.convertedTo }),
  };
  evaluation.state.disposition = record;
  return {
    evaluation,
    reviewed,
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
export function episodeKeyOf(state: LeadState, episode: number): string {
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
  const episode = episodeRecordOf(
    state.episodes,
    record.episode,
    state.qualifiedAt,
  );
  return {
    episodeKey: record.episodeKey ?? episodeKeyOf(state, record.episode),
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
 * lead state the disposition changes, so every recorded disposition gets
 * its own id, also in a lead whose dispositions moved back before they
 * had an order. A retried request writes nothing, so it publishes no
 * second id.
 */
function dispositionEventId(
  state: LeadState,
  record: DispositionRecord,
): string {
  const incarnation = incarnationOf(state);
  return sha256Hex(
    canonicalJson([
      'disposition',
      state.leadId,
      ...(incarnation === undefined ? [] : [incarnation]),
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
