import {
  ConcurrencyError,
  ConflictError,
  NotFoundError,
} from '../domain/errors.js';
import { userLeadId } from '../domain/identity.js';
import { transitionEvent } from '../domain/outgoing-events.js';
import { evaluateLead, recycleBySales } from '../domain/qualification.js';
import { VersionConflictError } from '../ports/lead-repository.js';
import { sleepWithJitter } from './concurrency.js';
import type { ScoringDependencies } from './dependencies.js';
import { eventPersonalData } from './event-personal-data.js';
import { getLead, type LeadView } from './get-lead.js';
import { resolveLeadId } from './link-identities.js';
import { publishEvents } from './publish-events.js';

const MAX_ATTEMPTS = 30;
const MAX_BACKOFF_MS = 250;

/** A sales decision to send an MQL back to marketing. */
export interface RecycleRequest {
  leadId: string;
  /** Reason sales gives for sending the lead back, such as "no budget". */
  reason: string;
}

/**
 * Recycles an MQL because sales sent it back: its episode ends with a
 * "Lead Recycled" event, and it can qualify again only after the cooldown
 * and new activity. Raises NotFoundError for an unknown lead and
 * ConflictError for a lead that is not an MQL.
 */
export async function recycleLead(
  deps: ScoringDependencies,
  request: RecycleRequest,
): Promise<LeadView> {
  const leadId = await resolveLeadId(deps, userLeadId(request.leadId));
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const stored = await deps.repository.getLead(leadId);
    if (stored === undefined || stored.mergedInto !== undefined) {
      throw new NotFoundError(`Lead ${request.leadId} was not found.`);
    }
    const now = deps.clock();
    const current = evaluateLead(stored, deps.model, now).state.status;
    if (current !== 'mql') {
      throw new ConflictError(
        `Lead ${request.leadId} is ${current}, not an MQL; only an MQL can be recycled.`,
      );
    }
    const evaluation = recycleBySales(stored, deps.model, now, request.reason);
    const personal = eventPersonalData(deps, evaluation.state);
    const outgoing = evaluation.transitions.map((transition) =>
      transitionEvent(leadId, transition, deps.model, now, personal),
    );
    try {
      await deps.repository.saveLeadChange({
        sourceId: 'sales',
        expectedVersion: stored.version,
        state: { ...evaluation.state, version: stored.version + 1 },
        events: [],
        outgoing,
      });
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      await sleepWithJitter(Math.min(MAX_BACKOFF_MS, 10 * 2 ** attempt));
      continue;
    }
    await publishEvents(deps, outgoing);
    deps.log.info('lead recycled by sales', {
      episode: evaluation.state.episode,
    });
    return getLead(deps, leadId);
  }
  throw new ConcurrencyError(
    `Lead ${request.leadId} kept changing concurrently; retry the request.`,
  );
}
