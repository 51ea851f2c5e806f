import { ConcurrencyError } from '../domain/errors.js';
import { applyEvents, newLead } from '../domain/lead.js';
import type { TrackingEvent } from '../domain/messages.js';
import {
  type OutgoingEvent,
  transitionEvent,
} from '../domain/outgoing-events.js';
import { type Evaluation, evaluateLead } from '../domain/qualification.js';
import {
  DuplicateMessageError,
  type LeadChange,
  VersionConflictError,
} from '../ports/lead-repository.js';
import { sleepWithJitter } from './concurrency.js';
import type { ScoringDependencies } from './dependencies.js';

/** Maximum events per transaction: DynamoDB allows 100 items, 2 per event. */
export const MAX_EVENTS_PER_WRITE = 45;

/** Attempts before a lead update under contention gives up. */
const MAX_ATTEMPTS = 30;
const MAX_BACKOFF_MS = 250;

/** What one lead update stored and caused. */
export interface LeadUpdate {
  leadId: string;
  storedMessageIds: string[];
  duplicateMessageIds: string[];
  evaluation: Evaluation | undefined;
  outgoing: OutgoingEvent[];
}

/**
 * Adds events to a lead and evaluates it at `now`, retrying on conflicts
 * until its write wins. Events already stored are reported as duplicates
 * and change nothing. With no events it only re-evaluates the lead (the
 * sweep's path), and writes only when something changed.
 */
export async function updateLead(
  deps: ScoringDependencies,
  sourceId: string,
  leadId: string,
  events: readonly TrackingEvent[],
  now: number,
): Promise<LeadUpdate> {
  const update: LeadUpdate = {
    leadId,
    storedMessageIds: [],
    duplicateMessageIds: [],
    evaluation: undefined,
    outgoing: [],
  };
  const chunks = chunk(events, MAX_EVENTS_PER_WRITE);
  for (const events of chunks.length > 0 ? chunks : [[]]) {
    const result = await writeWithRetries(deps, sourceId, leadId, events, now);
    update.storedMessageIds.push(...result.storedMessageIds);
    update.duplicateMessageIds.push(...result.duplicateMessageIds);
    update.outgoing.push(...result.outgoing);
    update.evaluation = result.evaluation ?? update.evaluation;
  }
  return update;
}

async function writeWithRetries(
  deps: ScoringDependencies,
  sourceId: string,
  leadId: string,
  events: readonly TrackingEvent[],
  now: number,
): Promise<LeadUpdate> {
  const duplicates = new Set(
    await deps.repository.findStoredMessages(
      sourceId,
      events.map((event) => event.messageId),
    ),
  );
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const fresh = events.filter((event) => !duplicates.has(event.messageId));
    try {
      return await writeOnce(deps, sourceId, leadId, fresh, now, duplicates);
    } catch (error) {
      if (error instanceof DuplicateMessageError) {
        for (const id of error.messageIds) duplicates.add(id);
      } else if (!(error instanceof VersionConflictError)) {
        throw error;
      }
      deps.log.debug('lead write conflict', { leadId, attempt });
      await sleepWithJitter(Math.min(MAX_BACKOFF_MS, 10 * 2 ** attempt));
    }
  }
  throw new ConcurrencyError(
    `Lead ${leadId} kept changing concurrently; retry the request.`,
  );
}

async function writeOnce(
  deps: ScoringDependencies,
  sourceId: string,
  leadId: string,
  events: readonly TrackingEvent[],
  now: number,
  duplicates: ReadonlySet<string>,
): Promise<LeadUpdate> {
  const { model, repository } = deps;
  const stored = await repository.getLead(leadId);
  const duplicateMessageIds = [...duplicates];
  if (stored === undefined && events.length === 0) {
    return emptyUpdate(leadId, duplicateMessageIds);
  }
  const firstSeenAt = Math.min(now, ...events.map((e) => e.occurredAt));
  const before = stored ?? newLead(leadId, model, firstSeenAt);
  const applied = applyEvents(before, events, model);
  const evaluation = evaluateLead(applied.state, model, now);
  const outgoing = evaluation.transitions.map((transition) =>
    transitionEvent(leadId, transition, model, now),
  );
  const unchanged =
    stored !== undefined &&
    events.length === 0 &&
    outgoing.length === 0 &&
    evaluation.state.nextReviewAt === stored.nextReviewAt;
  if (!unchanged) {
    const outcomes = new Map(applied.outcomes.map((o) => [o.messageId, o]));
    const change: LeadChange = {
      sourceId,
      expectedVersion: before.version,
      state: { ...evaluation.state, version: before.version + 1 },
      events: events.map((event) => ({
        event,
        outcome: outcomes.get(event.messageId) ?? {
          messageId: event.messageId,
        },
      })),
      outgoing,
    };
    await repository.saveLeadChange(change);
  }
  return {
    leadId,
    storedMessageIds: events.map((event) => event.messageId),
    duplicateMessageIds,
    evaluation,
    outgoing,
  };
}

function emptyUpdate(leadId: string, duplicates: string[]): LeadUpdate {
  return {
    leadId,
    storedMessageIds: [],
    duplicateMessageIds: duplicates,
    evaluation: undefined,
    outgoing: [],
  };
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    chunks.push(items.slice(start, start + size));
  }
  return chunks;
}
