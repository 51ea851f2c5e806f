import { accountIdForLog } from '../domain/account.js';
import { NotFoundError } from '../domain/errors.js';
import type { LeadState } from '../domain/lead.js';
import { DETAIL_TYPES, type OutgoingEvent } from '../domain/outgoing-events.js';
import type { LeadChange } from '../ports/lead-repository.js';
import { checkAccounts } from './check-accounts.js';
import { mapWithConcurrency } from './concurrency.js';
import type { ScoringDependencies } from './dependencies.js';
import { ErasurePausedError, eraseLead } from './erase-lead.js';
import { moveEvents, noLinkEvents } from './link-identities.js';
import { publishEvents } from './publish-events.js';
import type { SweepOptions, SweepResult } from './run-sweep.js';
import { countTransitions } from './transition-counts.js';
import { type PlannedReview, planReview, updateLead } from './update-lead.js';

/** Leads reviewed at once on the per-lead path. */
const LEAD_CONCURRENCY = 4;

/** Counts of a sweep that reviewing leads adds to. */
export type ReviewCounts = Pick<
  SweepResult,
  | 'leadsChanged'
  | 'transitions'
  | 'qualified'
  | 'recycled'
  | 'published'
  | 'pending'
  | 'failed'
  | 'incomplete'
>;

/** Returns review counts of zero, for a run to add to. */
export function emptyReviewCounts(): ReviewCounts {
  return {
    leadsChanged: 0,
    transitions: 0,
    qualified: 0,
    recycled: 0,
    published: 0,
    pending: 0,
    failed: 0,
    incomplete: false,
  };
}

/**
 * Reviews due leads at `run.now` and publishes their transitions. The states
 * are read in one batch and the changes written several leads per
 * transaction, each lead under the version it was read at. A lead whose
 * write does not commit, because an ingest or another sweep changed it
 * after the read, is reviewed again alone from a fresh read, so that
 * writer's change is never overwritten and each transition is published
 * once. Events are published only after their transaction committed.
 * `mayStart` is asked before each lead; a lead it stops keeps its review
 * time, so it stays due for the next run. The erasure of a lead that an
 * erasure left held stops at `run.deadline`.
 */
export async function reviewLeads(
  deps: ScoringDependencies,
  leadIds: readonly string[],
  run: SweepOptions,
  counts: ReviewCounts,
  mayStart: () => boolean,
): Promise<void> {
  // One lead gains nothing from a batch read or a grouped transaction.
  if (leadIds.length === 1) {
    await reviewLeadsAlone(deps, leadIds, run, counts, mayStart);
    return;
  }
  const { now } = run;
  let states: Map<string, LeadState>;
  try {
    states = await deps.repository.getLeads(leadIds);
  } catch (error) {
    // The leads keep their review time, so the next run takes them up.
    counts.incomplete = true;
    deps.log.error('sweep lead read failed', { error, leadIds });
    return;
  }
  const planned = new Map<LeadChange, PlannedReview>();
  const merged: LeadState[] = [];
  const erasing: LeadState[] = [];
  for (const leadId of leadIds) {
    if (!mayStart()) {
      counts.incomplete = true;
      break;
    }
    const state = states.get(leadId);
    if (state?.erasureHeldUntil !== undefined) {
      erasing.push(state);
      continue;
    }
    if (state?.mergedInto !== undefined) {
      merged.push(state);
      continue;
    }
    if (state === undefined) continue;
    const plan = guard(deps, counts, leadId, () =>
      planReview(deps, state, now),
    );
    if (plan?.change !== undefined) planned.set(plan.change, plan);
  }
  const retry = await commitPlanned(deps, planned, now, counts).catch(
    (error: unknown) => {
      // Which changes committed is unknown, so each lead is read again.
      deps.log.warn('sweep group write failed', { error });
      return [...planned.keys()].map((change) => change.state.leadId);
    },
  );
  await mapWithConcurrency(merged, LEAD_CONCURRENCY, (state) =>
    guardAsync(deps, counts, state.leadId, () =>
      finishMerge(deps, state, now, counts),
    ),
  );
  await mapWithConcurrency(erasing, LEAD_CONCURRENCY, (state) =>
    guardAsync(deps, counts, state.leadId, () =>
      finishErasure(deps, state, run, counts),
    ),
  );
  await reviewLeadsAlone(deps, retry, run, counts, mayStart);
}

/**
 * Reviews each lead on its own: reads it, then updates it under its
 * version until the write wins. This is the path of a lone due lead and
 * of a lead whose grouped write did not commit. Counts the transitions
 * and publishes them.
 */
export async function reviewLeadsAlone(
  deps: ScoringDependencies,
  leadIds: readonly string[],
  run: SweepOptions,
  counts: ReviewCounts,
  mayStart: () => boolean,
): Promise<void> {
  await mapWithConcurrency(leadIds, LEAD_CONCURRENCY, async (leadId) => {
    if (!mayStart()) {
      counts.incomplete = true;
      return;
    }
    await guardAsync(deps, counts, leadId, () =>
      reviewLead(deps, leadId, run, counts),
    );
  });
}

/**
 * Writes the planned changes in grouped transactions, checks the
 * accounts of the committed ones and publishes their events. Returns the
 * ids of the leads whose change was not committed, to review again.
 */
async function commitPlanned(
  deps: ScoringDependencies,
  planned: ReadonlyMap<LeadChange, PlannedReview>,
  now: number,
  counts: ReviewCounts,
): Promise<string[]> {
  if (planned.size === 0) return [];
  const written = await deps.repository.saveLeadChanges([...planned.keys()]);
  const leadIdOf = (change: LeadChange) => change.state.leadId;
  if (written.conflicted.length > 0) {
    deps.log.debug('sweep group conflict', {
      leadIds: written.conflicted.map(leadIdOf),
    });
  }
  for (const { change, error } of written.failed) {
    deps.log.warn('sweep group write failed', {
      error,
      leadId: leadIdOf(change),
    });
  }
  const committed = written.saved.flatMap((change) => {
    const plan = planned.get(change);
    return plan === undefined ? [] : [plan];
  });
  const outgoing = committed.flatMap((plan) => plan.outgoing);
  for (const plan of committed) countLeadEvents(counts, plan.outgoing);
  const accounts = committed.flatMap((plan) => plan.accounts);
  await publishCounted(deps, outgoing, counts);
  const accountEvents = await checkAccountsLogged(deps, accounts, now, counts);
  await publishCounted(deps, accountEvents, counts);
  return [...written.conflicted, ...written.failed.map((f) => f.change)].map(
    leadIdOf,
  );
}

async function reviewLead(
  deps: ScoringDependencies,
  leadId: string,
  run: SweepOptions,
  counts: ReviewCounts,
): Promise<void> {
  const { now } = run;
  const state = await deps.repository.getLead(leadId);
  if (state?.erasureHeldUntil !== undefined) {
    await finishErasure(deps, state, run, counts);
    return;
  }
  if (state?.mergedInto !== undefined) {
    await finishMerge(deps, state, now, counts);
    return;
  }
  // The state just read serves the first attempt, so a due lead costs one
  // read unless a writer races the sweep.
  const update = await updateLead(deps, 'sweep', leadId, [], now, {
    state,
    storedMessages: new Map(),
  });
  countLeadEvents(counts, update.outgoing);
  await publishCounted(deps, update.outgoing, counts);
  const accountEvents = await checkAccounts(deps, update.accounts, now);
  await publishCounted(deps, accountEvents, counts);
}

/**
 * Moves a merged lead's events on when its merge is unfinished, and
 * counts the events the move publishes, as a request's merge does.
 */
async function finishMerge(
  deps: ScoringDependencies,
  state: LeadState,
  now: number,
  counts: ReviewCounts,
): Promise<void> {
  if (!state.mergePending || state.mergedInto === undefined) return;
  const events = noLinkEvents();
  await moveEvents(deps, state, now, events);
  const leadEvents = events.outgoing.filter(
    (event) => event.detailType !== DETAIL_TYPES.accountQualified,
  );
  countLeadEvents(counts, leadEvents);
  counts.published += events.summary.published;
  counts.pending += events.summary.pending;
  counts.failed += events.summary.failed;
}

/**
 * Finishes the erasure of a lead whose erasure stopped part-way and
 * whose hold has ended: no writer changes such a lead until an erasure
 * deletes it. A hold still running belongs to an erasure that may still
 * be working, so the lead is left to it. An erasure that reaches the
 * run's deadline stops and leaves the lead due for the next run.
 */
async function finishErasure(
  deps: ScoringDependencies,
  state: LeadState,
  run: SweepOptions,
  counts: ReviewCounts,
): Promise<void> {
  const heldUntil = state.erasureHeldUntil;
  if (heldUntil === undefined || heldUntil >= run.now) return;
  try {
    const { result, events } = await eraseLead(deps, state.leadId, {
      deadline: run.deadline,
    });
    counts.pending += events.pending;
    counts.failed += events.failed;
    deps.log.info('sweep finished a stopped erasure', {
      itemsDeleted: result.itemsDeleted,
    });
  } catch (error) {
    // eraseLead logged the pause and made the lead due at once.
    if (error instanceof ErasurePausedError) {
      counts.incomplete = true;
      return;
    }
    // A repeated request erased the lead first.
    if (!(error instanceof NotFoundError)) throw error;
  }
}

/**
 * Checks the accounts of committed changes. A failure is logged and
 * leaves the run incomplete, but the leads' events are still published.
 */
async function checkAccountsLogged(
  deps: ScoringDependencies,
  accountIds: readonly string[],
  now: number,
  counts: ReviewCounts,
): Promise<OutgoingEvent[]> {
  try {
    return await checkAccounts(deps, accountIds, now);
  } catch (error) {
    counts.incomplete = true;
    deps.log.error('sweep account check failed', {
      error,
      accountIds: accountIds.map(accountIdForLog),
    });
    return [];
  }
}

function countLeadEvents(
  counts: ReviewCounts,
  outgoing: readonly OutgoingEvent[],
): void {
  if (outgoing.length === 0) return;
  const transitions = countTransitions(outgoing);
  counts.leadsChanged += 1;
  counts.transitions += outgoing.length;
  counts.qualified += transitions.qualified;
  counts.recycled += transitions.recycled;
}

async function publishCounted(
  deps: ScoringDependencies,
  events: readonly OutgoingEvent[],
  counts: ReviewCounts,
): Promise<void> {
  if (events.length === 0) return;
  const published = await publishEvents(deps, events);
  counts.published += published.published;
  counts.pending += published.pending;
  counts.failed += published.failed;
}

/** Runs one lead's step; an error is logged and leaves the run incomplete. */
function guard<T>(
  deps: ScoringDependencies,
  counts: ReviewCounts,
  leadId: string,
  step: () => T,
): T | undefined {
  try {
    return step();
  } catch (error) {
    logLeadFailure(deps, counts, leadId, error);
    return undefined;
  }
}

async function guardAsync(
  deps: ScoringDependencies,
  counts: ReviewCounts,
  leadId: string,
  step: () => Promise<void>,
): Promise<void> {
  try {
    await step();
  } catch (error) {
    logLeadFailure(deps, counts, leadId, error);
  }
}

function logLeadFailure(
  deps: ScoringDependencies,
  counts: ReviewCounts,
  leadId: string,
  error: unknown,
): void {
  counts.incomplete = true;
  deps.log.error('sweep item failed', { error, kind: 'lead', leadId });
}
