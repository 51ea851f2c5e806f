import type { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { CapacityExceededError } from '../domain/errors.js';
import type { Log } from '../ports/logger.js';
import type { ScoringDependencies } from '../use-cases/dependencies.js';
import { readConfig, type TrackingResponse } from './config.js';
import { DynamoLeadRepository } from './dynamodb/lead-repository.js';
import {
  confirmEventBus,
  failOnMissingBus,
  onceUntilSuccess,
} from './eventbridge/bus-check.js';
import { EventBridgePublisher } from './eventbridge/event-publisher.js';
import { InvocationLogger } from './observability/logger.js';
import { SERVICE_NAME } from './observability/metric-names.js';
import { createMetrics } from './observability/metrics.js';
import { redactLogValue } from './observability/redaction.js';
import { createTracer } from './observability/tracing.js';
import { loadRuntimeModel } from './runtime-model.js';

/** Everything a handler needs, built once per Lambda container. */
export interface Runtime {
  deps: ScoringDependencies;
  /** Response of the tracking routes: lead ids and scores, or counts. */
  trackingResponse: TrackingResponse;
  /**
   * Logger shared by all invocations of the process. Handlers log through
   * an invocation's child logger instead (see startInvocation).
   */
  logger: InvocationLogger;
  /** Stage name, the `stage` dimension of every metric. */
  stageName: string;
  tracer: Tracer;
  /**
   * Resolves once the configured event bus is confirmed to exist, and
   * raises EventBusNotFoundError when it does not, or
   * CapacityExceededError when EventBridge throttled the check. The check
   * starts at cold start; handlers await it before doing any work.
   */
  ready(): Promise<void>;
}

let current: Promise<Runtime> | undefined;

/**
 * Returns the runtime, creating it on first use from the environment.
 * Clients are reused across invocations; the endpoints come from the SDK's
 * usual settings (AWS_ENDPOINT_URL_DYNAMODB and so on), so the local
 * runtime needs no code of its own. A failed creation is not kept, so
 * the next call tries again.
 */
export function runtime(): Promise<Runtime> {
  if (current === undefined) {
    const created = createRuntime(process.env);
    current = created;
    created.catch(() => {
      if (current === created) current = undefined;
    });
  }
  return current;
}

/** Drops the cached runtime, so the next call reads the environment again. */
export function resetRuntime(): void {
  current = undefined;
}

/**
 * Time after a failed event bus check before a container checks again.
 * Invocations in between skip the check, so an EventBridge outage adds
 * no check to each of them, and a missing bus fails them at once.
 */
const BUS_CHECK_RETRY_MS = 30_000;
/**
 * Time after a throttled event bus check before a container checks
 * again: the Retry-After of the 503 that such a check causes, so a
 * client's retry gets a new check.
 */
const THROTTLED_BUS_CHECK_RETRY_MS = 1_000;

function busCheckRetryMs(error: unknown): number {
  return error instanceof CapacityExceededError
    ? THROTTLED_BUS_CHECK_RETRY_MS
    : BUS_CHECK_RETRY_MS;
}

export async function createRuntime(env: NodeJS.ProcessEnv): Promise<Runtime> {
  const config = readConfig(env);
  const logger = new InvocationLogger({
    serviceName: SERVICE_NAME,
    jsonReplacerFn: redactLogValue,
  });
  const tracer = createTracer();
  const model = await loadRuntimeModel(config.MQL_MODEL_FILE);
  logger.appendKeys({ modelVersion: model.version, stage: config.STAGE_NAME });
  const log = logAdapter(logger);
  const repository = new DynamoLeadRepository(
    tracer.captureAWSv3Client(new DynamoDBClient({})),
    {
      tableName: config.TABLE_NAME,
      reviewShards: config.REVIEW_SHARDS,
      eventRetentionDays: config.EVENT_RETENTION_DAYS,
    },
  );
  const events = tracer.captureAWSv3Client(new EventBridgeClient({}));
  const publisher = new EventBridgePublisher(events, {
    eventBusName: config.EVENT_BUS_NAME,
    source: config.EVENT_SOURCE,
  });
  const checkBus = onceUntilSuccess(
    () => confirmEventBus(events, config.EVENT_BUS_NAME),
    { retryAfterMs: busCheckRetryMs, clock: Date.now },
  );
  // Start the check now so that it overlaps the cold start; a failure
  // surfaces when a handler awaits ready().
  checkBus().catch(() => undefined);
  const ready = failOnMissingBus(checkBus, (error) =>
    log.warn('event bus not confirmed; events wait in the outbox', {
      errorName: error instanceof Error ? error.name : typeof error,
    }),
  );
  return {
    ready,
    deps: {
      repository,
      publisher,
      model,
      clock: Date.now,
      log,
      eventOptions: { includeEmail: config.EVENT_INCLUDE_EMAIL === 'true' },
    },
    trackingResponse: config.TRACKING_RESPONSE,
    logger,
    stageName: config.STAGE_NAME,
    tracer,
  };
}

/**
 * The runtime of one invocation: a child logger that adds the
 * invocation's keys to every line, dependencies that log through it, and
 * metrics of its own. `R` is the runtime it starts from, such as the
 * ingest function's, which adds the write key verifier.
 */
export type Invocation<R extends Runtime = Runtime> = Omit<R, 'logger'> & {
  logger: Logger;
  metrics: Metrics;
  /**
   * Time left before Lambda stops the invocation, in ms, or undefined
   * without a Lambda context, as in tests that call a handler directly.
   * The local server passes a context that counts down the same way.
   */
  remainingTimeMs: () => number | undefined;
};

/**
 * Creates the logger, dependencies and metrics of one invocation. Keys
 * and metrics live on objects that no other invocation uses, so lines
 * and metrics stay apart when one process runs several invocations at
 * once, as the local server does. The child logger keeps the runtime's
 * persistent keys (model version, stage). Lines logged by components
 * built once per runtime, such as the write key verifier and the event
 * bus check, carry none of an invocation's keys.
 */
export function startInvocation<R extends Runtime>(
  runtime: R,
  keys: LogAttributes,
  context?: Context,
): Invocation<R> {
  const logger = runtime.logger.forInvocation(keys, context);
  return {
    ...runtime,
    deps: { ...runtime.deps, log: logAdapter(logger) },
    logger,
    metrics: createMetrics(runtime.stageName),
    remainingTimeMs: () => context?.getRemainingTimeInMillis(),
  };
}

function logAdapter(logger: Logger): Log {
  return {
    debug: (message, fields) => logger.debug(message, fields ?? {}),
    info: (message, fields) => logger.info(message, fields ?? {}),
    warn: (message, fields) => logger.warn(message, fields ?? {}),
    error: (message, fields) => logger.error(message, fields ?? {}),
  };
}
