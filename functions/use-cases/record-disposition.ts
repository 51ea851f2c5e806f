import {
  type DispositionRequest,
  dispositionEvent,
  dispositionStep,
  planDisposition,
  repeatsDisposition,
} from '../domain/disposition.js';
import { ConcurrencyError, NotFoundError } from '../domain/errors.js';
import { historyFields, writeHistory } from '../domain/history.js';
import { displayText } from '../domain/id-text.js';
import { requestedLeadId } from '../domain/identity.js';
import { incarnationOf, type LeadState } from '../domain/lead.js';
import { transitionEvent } from '../domain/outgoing-events.js';
import { catchUpReviews } from '../domain/qualification.js';
import { VersionConflictError } from '../ports/lead-repository.js';
import { checkAccounts, updateMembership } from './check-accounts.js';
import { sleepWithJitter } from './concurrency.js';
import type { ScoringDependencies } from './dependencies.js';
import { eventPersonalData } from './event-personal-data.js';
import { type LeadView, leadViewOf } from './get-lead.js';
import { resolveLeadId } from './link-identities.js';
import {
  addSummaries,
  NOTHING_PUBLISHED,
  type PublishSummary,
  publishEvents,
} from './publish-events.js';
import {
  countTransitions,
  type TransitionCounts,
} from './transition-counts.js';

const MAX_ATTEMPTS = 30;
const MAX_BACKOFF_MS = 250;

/** The lead after a disposition, and whether the request changed it. */
export interface DispositionResult {
  lead: LeadView;
  /** False when the request repeated the lead's current disposition. */
  changed: boolean;
  /** Status changes the request published: none when it changed nothing. */
  transitions: TransitionCounts;
  /** Counts of the events the request published, account events included. */
  events: PublishSummary;
}

const NO_TRANSITIONS: TransitionCounts = { qualified: 0, recycled: 0 };

/**
 * Records a sales disposition: the lead's state, a "Lead Disposition
 * Changed" event (plus "Lead Recycled" when a rejection or recycle ends
 * the episode) and an outcome for the conversion report, in one
 * transaction. A request that repeats the current disposition of the
 * episode writes and publishes nothing, and so does one sent through a
 * merged id that repeats, with the same reason, the disposition that id
 * had when it merged. Raises NotFoundError for an
 * unknown lead and ConflictError when the lead's state does not allow the
 * disposition.
 */
export async function recordDisposition(
  deps: ScoringDependencies,
  requestedId: string,
  request: DispositionRequest,
): Promise<DispositionResult> {
  const requested = requestedLeadId(requestedId);
  let leadId = await resolveLeadId(deps, requested);
  let mergedRepeat =
    leadId !== requested &&
    (await repeatsMergedDisposition(deps, requested, request));
  // Whether the last read found the lead held by an unfinished erasure,
  // which rejects every write until the erasure ends.
  let heldForErasure = false;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const stored = await deps.repository.getLead(leadId);
    if (stored === undefined) {
      throw new NotFoundError(
        `Lead ${displayText(requestedId)} was not found.`,
      );
    }
    heldForErasure = stored.erasureHeldUntil !== undefined;
    if (stored.mergedInto !== undefined) {
      // A merge turned the lead into a tombstone after resolveLeadId read
      // it, so the disposition follows the tombstone's link.
      leadId = await resolveLeadId(deps, stored.mergedInto);
      mergedRepeat = await repeatsMergedDisposition(deps, requested, request);
      continue;
    }
    if (mergedRepeat) {
      return {
        lead: leadViewOf(deps, stored, requestedId),
        changed: false,
        transitions: NO_TRANSITIONS,
        events: await recheckAccount(deps, stored),
      };
    }
    const now = deps.clock();
    // A retry repeats the disposition of the episode the lead is in now,
    // which a review due since the last write may have started.
    const current = catchUpReviews(stored, deps.model, now).state;
    if (repeatsDisposition(current, request)) {
      return {
        lead: leadViewOf(deps, stored, requestedId),
        changed: false,
        transitions: NO_TRANSITIONS,
        events: await recheckAccount(deps, stored),
      };
    }
    const plan = planDisposition(stored, request, deps.model, now);
    const { evaluation } = plan;
    const personal = eventPersonalData(deps, evaluation.state);
    const outgoing = [
      ...evaluation.transitions.map((transition) =>
        transitionEvent(
          leadId,
          transition,
          deps.model,
          now,
          personal,
          incarnationOf(evaluation.state),
        ),
      ),
      dispositionEvent(leadId, plan, deps.model),
    ];
    const membership = updateMembership(
      evaluation.state,
      evaluation.score,
      deps,
      now,
    );
    const history = writeHistory(
      stored,
      plan.reviewed,
      evaluation.state,
      evaluation.score,
      deps.model,
      'disposition',
      0,
    );
    const state = { ...evaluation.state, version: history.version };
    try {
      await deps.repository.saveLeadChange({
        sourceId: 'sales',
        expectedVersion: stored.version,
        state,
        events: [],
        outgoing,
        outcome: plan.outcome,
        ...historyFields(history),
        ...(membership.change === undefined
          ? {}
          : { membership: membership.change }),
      });
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      await sleepWithJitter(Math.min(MAX_BACKOFF_MS, 10 * 2 ** attempt));
      continue;
    }
    // The lead's events go out before the account check can fail.
    const leadEvents = await publishEvents(deps, outgoing);
    const accountEvents = await checkAccounts(deps, membership.accounts, now);
    const events = addSummaries(
      leadEvents,
      await publishEvents(deps, accountEvents),
    );
    deps.log.info('lead disposition recorded', {
      disposition: request.kind,
      episode: plan.record.episode,
    });
    // The view shows the state this request wrote, not a later one that
    // a concurrent request may have stored meanwhile.
    return {
      lead: leadViewOf(deps, state, requestedId),
      changed: true,
      transitions: countTransitions(outgoing),
      events,
    };
  }
  if (heldForErasure) {
    throw new ConcurrencyError(
      `Lead ${requestedId} is being erased, so the disposition was not recorded. A retry after the erasure finds no lead.`,
    );
  }
  throw new ConcurrencyError(
    `Lead ${requestedId} kept changing concurrently; retry the request.`,
  );
}

/**
 * Tells whether a request sent through the id of a merged lead repeats,
 * with the same reason, the disposition that lead had in its last episode
 * when it merged. Such a request is a retry of one sent before the merge
 * and changes nothing, even when the lead it merged into is in a later
 * episode by then. Any other request applies to that lead as usual.
 */
async function repeatsMergedDisposition(
  deps: ScoringDependencies,
  mergedId: string,
  request: DispositionRequest,
): Promise<boolean> {
  const tombstone = await deps.repository.getLead(mergedId);
  const stored = tombstone?.disposition;
  return (
    tombstone?.mergedInto !== undefined &&
    stored !== undefined &&
    stored.episode === tombstone.episode &&
    dispositionStep(stored) === dispositionStep(request) &&
    stored.reason === request.reason
  );
}

/**
 * Checks the account of a lead whose disposition a request repeats. A
 * request whose account check failed after its disposition was stored
 * fails with 503, and its retry stores nothing new, so the retry checks
 * the account again. The check writes only when the account changes.
 */
async function recheckAccount(
  deps: ScoringDependencies,
  stored: LeadState,
): Promise<PublishSummary> {
  const accountId = stored.membership?.accountId;
  if (accountId === undefined) return NOTHING_PUBLISHED;
  const accountEvents = await checkAccounts(deps, [accountId], deps.clock());
  return publishEvents(deps, accountEvents);
}
