import { scoringTimeOf } from '../../functions/domain/lead.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import {
  type ModelOutcome,
  outcomeOf,
  type StatusChanges,
  statusChanges,
} from './compare.js';
import {
  type LoadedEvents,
  readEventsFile,
  readOutcomes,
  readStoredEvents,
} from './event-sources.js';
import { loadModelFile, ModelFileError } from './model-file.js';
import type { BacktestOptions } from './options.js';
import { groupByLead, simulateModel } from './simulate.js';

/** Result of a backtest, as `model backtest` prints it. */
export interface BacktestResult {
  source: string;
  asOf: string;
  events: number;
  /** Events at or before the as-of time, the only ones the models score. */
  eventsUntilAsOf: number;
  /** Leads with an event at or before the as-of time. */
  leadsUntilAsOf: number;
  /** Scoring time of the earliest event in ISO 8601, absent without events. */
  firstEventAt?: string;
  leads: number;
  rejected: number;
  skippedLines: number;
  /** The first lines skipped or messages rejected, with the reason. */
  problems: string[];
  /** Leads with a known outcome. */
  labelledLeads: number;
  /** Outcomes whose lead id has no events, so no lead to evaluate. */
  unmatchedOutcomes: number;
  live: ModelOutcome;
  candidate: ModelOutcome;
  changes: StatusChanges;
  durationSeconds: number;
}

/**
 * Replays the events through the live and the candidate model and
 * compares what each would have produced.
 */
export async function runBacktest(
  options: BacktestOptions,
): Promise<BacktestResult> {
  const startedAt = performance.now();
  const [live, candidate] = await Promise.all([
    loadLiveModel(options),
    loadModelFile(options.candidateFile),
  ]);
  const loaded = await loadEvents(options);
  const byLead = groupByLead(loaded.events);
  const liveLeads = simulateModel(byLead, live, options.asOf);
  const candidateLeads = simulateModel(byLead, candidate, options.asOf);
  return {
    source: loaded.source,
    asOf: new Date(options.asOf).toISOString(),
    events: loaded.events.length,
    ...eventTimes(loaded.events, options.asOf),
    leads: byLead.size,
    leadsUntilAsOf: leadsUntil(byLead, options.asOf),
    rejected: loaded.rejected,
    skippedLines: loaded.skippedLines,
    problems: loaded.problems,
    labelledLeads: [...byLead.keys()].filter((id) => loaded.labels.has(id))
      .length,
    unmatchedOutcomes: [...loaded.labels.keys()].filter((id) => !byLead.has(id))
      .length,
    live: outcomeOf(live, liveLeads, loaded.labels),
    candidate: outcomeOf(candidate, candidateLeads, loaded.labels),
    changes: statusChanges(liveLeads, candidateLeads),
    durationSeconds: (performance.now() - startedAt) / 1000,
  };
}

/** Counts the events the models score and finds the earliest one. */
function eventTimes(
  events: readonly TrackingEvent[],
  asOf: number,
): Pick<BacktestResult, 'eventsUntilAsOf' | 'firstEventAt'> {
  let eventsUntilAsOf = 0;
  let first = Number.POSITIVE_INFINITY;
  for (const event of events) {
    const at = scoringTimeOf(event);
    if (at <= asOf) eventsUntilAsOf += 1;
    first = Math.min(first, at);
  }
  return Number.isFinite(first)
    ? { eventsUntilAsOf, firstEventAt: new Date(first).toISOString() }
    : { eventsUntilAsOf };
}

/** Counts the leads with an event at or before the as-of time. */
function leadsUntil(
  byLead: ReadonlyMap<string, readonly TrackingEvent[]>,
  asOf: number,
): number {
  return [...byLead.values()].filter((events) =>
    events.some((event) => scoringTimeOf(event) <= asOf),
  ).length;
}

/**
 * Loads the live model. An error about a file from --live or
 * MQL_MODEL_FILE names that source, because the command line names only
 * the candidate.
 */
async function loadLiveModel(options: BacktestOptions) {
  try {
    return await loadModelFile(options.liveFile);
  } catch (error) {
    if (!(error instanceof ModelFileError)) throw error;
    if (options.liveSource === undefined) throw error;
    const advice =
      options.liveSource === '--live'
        ? 'Correct --live FILE.'
        : 'Correct MQL_MODEL_FILE, unset it to compare with the bundled ' +
          'model, or pass --live FILE.';
    throw new ModelFileError(
      `${error.message} It is the live model, set by ${options.liveSource}. ${advice}`,
      error.issues,
    );
  }
}

async function loadEvents(options: BacktestOptions): Promise<LoadedEvents> {
  // Outcomes are read first, so a wrong file fails before a long scan.
  const labels =
    options.outcomesFile === undefined
      ? undefined
      : await readOutcomes(options.outcomesFile);
  const loaded =
    options.eventsFile === undefined
      ? await readStoredEvents({
          tableName: options.tableName,
          ...(options.tableSource === undefined
            ? {}
            : { tableSource: options.tableSource }),
          ...(options.endpoint === undefined
            ? {}
            : {
                endpoint: options.endpoint,
                endpointSource: options.endpointSource,
              }),
        })
      : await readEventsFile(options.eventsFile, {
          receivedAt: options.asOf,
          referenceTime: options.referenceTime,
          maxVisits: options.maxVisits,
          // Outcomes from a file replace the CSV's labels, which then
          // stay unread.
          readLabels: labels === undefined,
        });
  if (labels !== undefined) loaded.labels = labels;
  return loaded;
}
