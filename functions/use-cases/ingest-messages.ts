import type { FieldIssue } from '../domain/errors.js';
import { explainTotals } from '../domain/explanation.js';
import { characterCount } from '../domain/id-text.js';
import {
  type IdentityLink,
  identityLinksOf,
  leadIdOf,
} from '../domain/identity.js';
import {
  incarnationOf,
  type LeadState,
  type LeadStatus,
} from '../domain/lead.js';
import { parseMessage } from '../domain/message-checks.js';
import {
  MAX_MESSAGE_ID_CHARACTERS,
  type TrackingEvent,
  toTrackingEvent,
} from '../domain/messages.js';
import type { StoredEvent } from '../ports/lead-repository.js';
import { checkAccounts } from './check-accounts.js';
import { mapWithConcurrency } from './concurrency.js';
import type { ScoringDependencies } from './dependencies.js';
import {
  type LinkOutcome,
  linkIdentities,
  resolveLeadId,
} from './link-identities.js';
import {
  addSummaries,
  type PublishSummary,
  publishEvents,
} from './publish-events.js';
import {
  countTransitions,
  type TransitionCounts,
} from './transition-counts.js';
import { type LeadUpdate, updateLead } from './update-lead.js';

export {
  MAX_MESSAGE_BYTES,
  MAX_NESTING_DEPTH,
} from '../domain/message-checks.js';

/** Leads updated in parallel within one request. */
export const LEAD_CONCURRENCY = 8;

/** A request to ingest messages from one tracking source. */
export interface IngestRequest {
  /** Tracking source the write key belongs to; scopes message ids. */
  sourceId: string;
  messages: readonly unknown[];
  /**
   * The messages as the client sent them, by index, where the tracking API
   * changed them by copying in a batch's `sentAt` or setting a route's
   * `type`. The size limit applies to these, or to `messages` without them.
   */
  sentMessages?: readonly unknown[];
  receivedAt: number;
}

/** What happened to one message, in request order. */
export type MessageResult =
  | { index: number; messageId: string; status: 'scored'; leadId: string }
  | { index: number; messageId: string; status: 'duplicate'; leadId: string }
  | {
      index: number;
      messageId?: string;
      status: 'rejected';
      errors: FieldIssue[];
    };

/** A lead's score after the request. */
export interface LeadSummary {
  leadId: string;
  status: LeadStatus;
  score: number;
  fit: number;
  intent: number;
  episode: number;
  /**
   * Stored version of the lead's state. Every write raises it, so of two
   * responses for one lead the one with the higher version is newer.
   */
  version: number;
}

export interface IngestResult {
  results: MessageResult[];
  leads: LeadSummary[];
  counts: { scored: number; duplicate: number; rejected: number };
  /**
   * Outgoing events published now, those left for the sweep, and those
   * the bus rejected for good (kept as failed outbox entries).
   */
  events: PublishSummary;
  /** Status changes the request caused, for metrics. */
  transitions: TransitionCounts;
}

/**
 * Validates messages one by one, links the identities they state (an
 * anonymous lead merges into the user it turns out to be), reads the
 * leads' states and stored message ids at once, stores the valid messages
 * per lead in one transaction each, evaluates
 * qualification and publishes the resulting events. An invalid message is
 * rejected on its own; the rest are stored.
 */
export async function ingestMessages(
  deps: ScoringDependencies,
  request: IngestRequest,
): Promise<IngestResult> {
  const { accepted, rejected } = validateMessages(request);
  const acceptedEvents = accepted.map((entry) => entry.event);
  const links = linksOf(acceptedEvents);
  const firstLinked = await linkIdentities(deps, links, request.receivedAt, {
    isStoredLink: (link) =>
      isStoredLink(deps, request.sourceId, acceptedEvents, link),
  });
  const merged = new Map(
    firstLinked
      .filter(
        (outcome) =>
          outcome.status !== 'same-lead' && outcome.status !== 'stored-message',
      )
      .map((outcome) => [outcome.from, outcome.to]),
  );
  const byLead = groupByLead(
    acceptedEvents,
    (leadId) => merged.get(leadId) ?? leadId,
  );
  // One read for every lead and message of the request, in place of a
  // read of each lead's state and markers before its write.
  const snapshot = await deps.repository.readIngestSnapshot(
    request.sourceId,
    [...byLead.keys()],
    [...byLead.values()].flat().map((event) => event.messageId),
  );
  const updates = await mapWithConcurrency(
    [...byLead],
    LEAD_CONCURRENCY,
    ([leadId, events]) =>
      updateLead(deps, request.sourceId, leadId, events, request.receivedAt, {
        state: snapshot.leads.get(leadId),
        storedMessages: snapshot.storedMessages,
      }),
  );
  const linked = [
    ...firstLinked,
    ...(await relinkErased(deps, firstLinked, updates, request.receivedAt)),
  ];

  // Lead events go to the bus before the account checks, so a stored
  // qualification is published at once, even when an account check fails.
  const leadOutgoing = updates.flatMap((update) => update.outgoing);
  const leadSummary = await publishEvents(deps, leadOutgoing);
  const accountEvents = await checkAccounts(
    deps,
    [
      ...updates.flatMap((update) => update.accounts),
      ...retriedAccounts(updates, snapshot.leads),
    ],
    request.receivedAt,
  );
  const linkOutgoing = linked.flatMap((outcome) => outcome.events.outgoing);
  const outgoing = [...linkOutgoing, ...leadOutgoing, ...accountEvents];
  const events = [
    ...linked.map((outcome) => outcome.events.summary),
    leadSummary,
    await publishEvents(deps, accountEvents),
  ].reduce(addSummaries);

  const results = [
    ...rejected,
    ...(await resultsOf(deps, accepted, updates)),
  ].sort((a, b) => a.index - b.index);
  deps.log.info('messages ingested', {
    sourceId: request.sourceId,
    messages: request.messages.length,
    leads: updates.length,
    transitions: outgoing.length,
  });
  return {
    results,
    leads: latestPerLead(updates).flatMap(summaryOf),
    counts: {
      scored: results.filter((r) => r.status === 'scored').length,
      duplicate: results.filter((r) => r.status === 'duplicate').length,
      rejected: rejected.length,
    },
    events,
    transitions: countTransitions(outgoing),
  };
}

/**
 * Links again each id that linking found already linked, when an erasure
 * deleted its target before this request wrote it. The erasure deleted
 * the link with the lead, and the events went to a new lead of that id.
 * The messages restate the link after the erasure, as a message sent
 * after it would, while links that no message restates stay deleted.
 * A request that stops before this point stored its messages, and its
 * retry makes the link because isOwedLink finds them on its target.
 */
async function relinkErased(
  deps: ScoringDependencies,
  linked: readonly LinkOutcome[],
  updates: readonly LeadUpdate[],
  now: number,
): Promise<LinkOutcome[]> {
  const written = new Map<string, LeadState>();
  for (const update of updates) {
    const state = update.evaluation?.state;
    if (state !== undefined) written.set(update.leadId, state);
  }
  const erased = linked.filter((outcome) => {
    const state = written.get(outcome.to);
    return (
      outcome.status === 'already-linked' &&
      outcome.targetIncarnation !== undefined &&
      state !== undefined &&
      incarnationOf(state) !== outcome.targetIncarnation
    );
  });
  if (erased.length === 0) return [];
  deps.log.info('identity linked again after erasure', {
    links: erased.length,
  });
  return linkIdentities(
    deps,
    erased.map((outcome) => ({ from: outcome.from, to: outcome.to })),
    now,
  );
}

/**
 * Returns the accounts of leads whose messages were all stored before.
 * A request whose account check failed after its leads were stored fails
 * with 503, and its retry stores nothing new, so the retry checks
 * those accounts again. The check writes only when an account changes.
 * The lead is the one the update wrote to, which differs from the one
 * read first when the messages' id was merged into another lead.
 */
function retriedAccounts(
  updates: readonly LeadUpdate[],
  states: ReadonlyMap<string, LeadState>,
): string[] {
  return updates.flatMap((update) => {
    const isRetry =
      update.storedMessageIds.length === 0 &&
      update.duplicateMessageIds.length > 0;
    const membership =
      update.evaluation?.state.membership ??
      states.get(update.leadId)?.membership;
    return isRetry && membership !== undefined ? [membership.accountId] : [];
  });
}

interface AcceptedMessage {
  index: number;
  event: TrackingEvent;
}

function validateMessages(request: IngestRequest): {
  accepted: AcceptedMessage[];
  rejected: MessageResult[];
} {
  const accepted: AcceptedMessage[] = [];
  const rejected: MessageResult[] = [];
  request.messages.forEach((message, index) => {
    const sent =
      request.sentMessages === undefined
        ? message
        : request.sentMessages[index];
    const parsed = parseMessage(message, sent);
    if (parsed.success) {
      const event = toTrackingEvent(parsed.data, request.receivedAt);
      accepted.push({ index, event });
      return;
    }
    const messageId = messageIdOf(message);
    rejected.push({
      index,
      ...(messageId === undefined ? {} : { messageId }),
      status: 'rejected',
      errors: parsed.errors,
    });
  });
  return { accepted, rejected };
}

/**
 * Groups events by lead, mapping each lead id through `resolve`, which
 * knows the leads this request merged.
 */
function groupByLead(
  events: TrackingEvent[],
  resolve: (leadId: string) => string,
): Map<string, TrackingEvent[]> {
  const byLead = new Map<string, TrackingEvent[]>();
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.messageId)) continue;
    seen.add(event.messageId);
    const leadId = resolve(leadIdOf(event));
    const list = byLead.get(leadId) ?? [];
    list.push(event);
    byLead.set(leadId, list);
  }
  return byLead;
}

/**
 * Tells whether every message among `events` that states `link` is a
 * resent copy of a message stored for the source, read from the message
 * markers, so the link is not made again. Returns false when the link is
 * still owed (see isOwedLink).
 */
async function isStoredLink(
  deps: ScoringDependencies,
  sourceId: string,
  events: readonly TrackingEvent[],
  link: IdentityLink,
): Promise<boolean> {
  const messageIds = events
    .filter((event) => statesLink(event, link))
    .map((event) => event.messageId);
  if (messageIds.length === 0) return false;
  const { storedMessages } = await deps.repository.readIngestSnapshot(
    sourceId,
    [],
    messageIds,
  );
  if (!messageIds.every((id) => storedMessages.has(id))) return false;
  return !(await isOwedLink(deps, sourceId, link, messageIds, storedMessages));
}

/**
 * Tells whether each stored message is stored with the same link on the
 * lead that `link.to` is now. linkIdentity calls isStoredLink only
 * while `link.from` is not merged, so a request stored those messages
 * after an erasure deleted the link and stopped before relinkErased, and
 * the link is still owed.
 * NOTE: a resent message whose link conflicted, because `link.from` was
 * merged into another lead, links its ids once that lead is erased.
 */
async function isOwedLink(
  deps: ScoringDependencies,
  sourceId: string,
  link: IdentityLink,
  messageIds: readonly string[],
  storedMessages: ReadonlyMap<string, string>,
): Promise<boolean> {
  const target = await resolveLeadId(deps, link.to);
  for (const messageId of messageIds) {
    const storingLead = storedMessages.get(messageId);
    if (
      storingLead === undefined ||
      (await resolveLeadId(deps, storingLead)) !== target
    ) {
      return false;
    }
    const stored = await findMessageEvent(
      deps,
      sourceId,
      messageId,
      target,
      storingLead,
    );
    if (stored === undefined || !statesLink(stored.event, link)) {
      return false;
    }
  }
  return true;
}

/**
 * Finds the stored event of a message on `storingLead`, the lead its
 * marker names, or on `target`, the lead that `storingLead` is merged
 * into. A merge moves events without rewriting their markers, so an
 * event it has not moved yet is still stored under the merged lead. The
 * merged lead is read first, because a move that runs between the two
 * reads takes the event from it to `target`, never back.
 */
async function findMessageEvent(
  deps: ScoringDependencies,
  sourceId: string,
  messageId: string,
  target: string,
  storingLead: string,
): Promise<StoredEvent | undefined> {
  const { repository } = deps;
  if (storingLead !== target) {
    const unmoved = await repository.findStoredEvent(
      storingLead,
      sourceId,
      messageId,
    );
    if (unmoved !== undefined) return unmoved;
  }
  return repository.findStoredEvent(target, sourceId, messageId);
}

/** Tells whether an event states `link`, with the same from and to ids. */
function statesLink(event: TrackingEvent, link: IdentityLink): boolean {
  return identityLinksOf(event).some(
    (stated) => stated.from === link.from && stated.to === link.to,
  );
}

/** Returns the distinct identity links that events state, in order. */
function linksOf(events: readonly TrackingEvent[]): IdentityLink[] {
  const seen = new Set<string>();
  const links: IdentityLink[] = [];
  for (const event of events) {
    for (const link of identityLinksOf(event)) {
      const key = JSON.stringify([link.from, link.to]);
      if (seen.has(key)) continue;
      seen.add(key);
      links.push(link);
    }
  }
  return links;
}

async function resultsOf(
  deps: ScoringDependencies,
  accepted: AcceptedMessage[],
  updates: LeadUpdate[],
): Promise<MessageResult[]> {
  const stored = new Set(updates.flatMap((u) => u.storedMessageIds));
  const leadOf = new Map<string, string>();
  const firstLeadOf = new Map<string, string>();
  for (const update of updates) {
    for (const id of update.storedMessageIds) leadOf.set(id, update.leadId);
    for (const id of update.duplicateMessageIds) leadOf.set(id, update.leadId);
    for (const [id, firstLeadId] of update.duplicateLeadIds) {
      firstLeadOf.set(id, firstLeadId);
    }
  }
  const otherFirstLeads = new Set<string>();
  for (const { event } of accepted) {
    const firstLeadId = firstLeadOf.get(event.messageId);
    if (
      firstLeadId !== undefined &&
      firstLeadId !== leadIdOf(event) &&
      firstLeadId !== leadOf.get(event.messageId)
    ) {
      otherFirstLeads.add(firstLeadId);
    }
  }
  const currentLeadOf = new Map(
    await mapWithConcurrency(
      [...otherFirstLeads],
      LEAD_CONCURRENCY,
      async (firstLeadId) =>
        [firstLeadId, await existingLeadId(deps, firstLeadId)] as const,
    ),
  );
  const claimed = new Set<string>();
  return accepted.map(({ index, event }) => {
    const firstLeadId = firstLeadOf.get(event.messageId);
    const leadId =
      (firstLeadId === undefined
        ? undefined
        : currentLeadOf.get(firstLeadId)) ??
      leadOf.get(event.messageId) ??
      leadIdOf(event);
    const isFirstCopy = !claimed.has(event.messageId);
    claimed.add(event.messageId);
    const status =
      isFirstCopy && stored.has(event.messageId) ? 'scored' : 'duplicate';
    return { index, messageId: event.messageId, status, leadId };
  });
}

/**
 * Returns the lead that `leadId` is now, following merges, or undefined
 * when no such lead is stored. A duplicate stored first by another lead
 * reports that lead only while it exists, so the result of a resent
 * message never names an erased lead.
 */
async function existingLeadId(
  deps: ScoringDependencies,
  leadId: string,
): Promise<string | undefined> {
  const current = await resolveLeadId(deps, leadId);
  const state = await deps.repository.getLead(current);
  return state === undefined || state.mergedInto !== undefined
    ? undefined
    : current;
}

function summaryOf(update: LeadUpdate): LeadSummary[] {
  if (update.evaluation === undefined) {
    return [];
  }
  const { state, score } = update.evaluation;
  const shown = explainTotals(score);
  return [
    {
      leadId: update.leadId,
      status: state.status,
      score: shown.score,
      fit: shown.fit,
      intent: shown.intent,
      episode: state.episode,
      version: state.version,
    },
  ];
}

/**
 * Keeps the newest evaluated update of each lead (two groups of events
 * can land on one lead when a merge redirects one of them).
 */
function latestPerLead(updates: LeadUpdate[]): LeadUpdate[] {
  const byLead = new Map<string, LeadUpdate>();
  for (const update of updates) {
    const kept = byLead.get(update.leadId);
    const version = update.evaluation?.state.version ?? -1;
    if (
      kept === undefined ||
      version > (kept.evaluation?.state.version ?? -1)
    ) {
      byLead.set(update.leadId, update);
    }
  }
  return [...byLead.values()];
}

/**
 * Returns the messageId of a rejected message for its result, or
 * undefined when it has none or one over MAX_MESSAGE_ID_CHARACTERS.
 */
function messageIdOf(message: unknown): string | undefined {
  if (message !== null && typeof message === 'object') {
    const id = (message as Record<string, unknown>).messageId;
    if (
      typeof id === 'string' &&
      characterCount(id) <= MAX_MESSAGE_ID_CHARACTERS
    ) {
      return id;
    }
  }
  return undefined;
}
