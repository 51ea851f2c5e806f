import { DynamoLeadRepository } from '../../functions/adapters/dynamodb/lead-repository.js';
import { EventBridgePublisher } from '../../functions/adapters/eventbridge/event-publisher.js';
import { DEFAULT_MODEL_DOCUMENT } from '../../functions/adapters/model-source.js';
import type { ScoringModel } from '../../functions/domain/model.js';
import { compileModel } from '../../functions/domain/model-validation.js';
import type { OutgoingEvent } from '../../functions/domain/outgoing-events.js';
import type { EventPublisher } from '../../functions/ports/event-publisher.js';
import type { Log } from '../../functions/ports/logger.js';
import type { ScoringDependencies } from '../../functions/use-cases/dependencies.js';
import { createTestRouting, createTestTable } from './aws.js';

/** A clock that tests move by hand. */
export interface ManualClock {
  now: number;
  advance(ms: number): void;
}

/** Default start time of a manual clock. */
export const CLOCK_START = Date.parse('2026-06-01T00:00:00Z');

export function manualClock(start = CLOCK_START) {
  const clock: ManualClock = {
    now: start,
    advance(ms) {
      clock.now += ms;
    },
  };
  return clock;
}

/** One recorded log call. */
export interface LogEntry {
  level: keyof Log;
  message: string;
  fields: Record<string, unknown> | undefined;
}

/** Returns a log that records every call instead of printing it. */
export function recordingLog(): Log & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const record =
    (level: keyof Log) =>
    (message: string, fields?: Record<string, unknown>) => {
      entries.push({ level, message, fields });
    };
  return {
    entries,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
}

/** Returns the bundled default model, compiled. */
export function defaultModel(): ScoringModel {
  return compileModel(DEFAULT_MODEL_DOCUMENT);
}

/**
 * Builds the use cases' dependencies on a fresh DynamoDB Local table and
 * a fresh moto event bus routed to its own sales queue.
 */
export async function realDependencies(
  options: { model?: ScoringModel; reviewShards?: number } = {},
) {
  const table = await createTestTable();
  const routing = await createTestRouting();
  const clock = manualClock();
  const log = recordingLog();
  const repository = new DynamoLeadRepository(table.client, {
    tableName: table.tableName,
    reviewShards: options.reviewShards ?? 4,
  });
  const publisher = recordingPublisher(
    new EventBridgePublisher(routing.events, {
      eventBusName: routing.eventBusName,
    }),
  );
  const deps: ScoringDependencies = {
    repository,
    publisher,
    model: options.model ?? defaultModel(),
    clock: () => clock.now,
    log,
  };
  return {
    deps,
    clock,
    log,
    table,
    routing,
    repository,
    published: publisher.published,
  };
}

/**
 * Wraps a publisher so tests can read every event the bus accepted, in
 * order. Events still go to the real bus.
 */
export function recordingPublisher(
  inner: EventPublisher,
): EventPublisher & { published: OutgoingEvent[] } {
  const published: OutgoingEvent[] = [];
  return {
    published,
    async publish(events) {
      const result = await inner.publish(events);
      const accepted = new Set(result.published);
      published.push(...events.filter((e) => accepted.has(e.eventId)));
      return result;
    },
  };
}
