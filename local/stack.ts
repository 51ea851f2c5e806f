import type { Server } from 'node:http';
import { join } from 'node:path';
import { resetRuntime } from '../functions/adapters/runtime.js';
import { writeKeyProblem } from '../functions/adapters/write-keys.js';
import type { EventSettings } from '../lib/definitions/event-routing.js';
import {
  resourceName,
  SALES_TARGET,
} from '../lib/definitions/event-routing.js';
import { loadStageConfig } from '../lib/stage-config.js';
import { startLocalApi } from './http-server.js';
import { freePort } from './ports.js';
import { createEventRouting, createLeadTable } from './provision.js';
import { consumeQueue } from './sales-consumer.js';
import {
  checkDependencies,
  LOCAL_AWS,
  type LocalService,
  startDynamoDbLocal,
  startMoto,
} from './services.js';

/** Settings of the local stack; see README "Local settings". */
export interface LocalStackOptions {
  port: number;
  host?: string;
  writeKey: string;
  adminToken: string;
  /** Origins allowed to call the API from a browser. @default [] */
  corsOrigins?: readonly string[];
  /** Seconds between decay sweeps; 0 disables the timer. */
  sweepIntervalSeconds: number;
  /** Directory for DynamoDB Local's files; in memory when absent. */
  dataDir?: string;
  dynamoDbPort?: number;
  motoPort?: number;
  stage?: string;
  /**
   * Called with each event routed to the sales queue. When it throws or
   * rejects, the event stays on the queue and comes again after the
   * queue's visibility timeout (30 seconds).
   */
  onSalesEvent: (event: unknown) => unknown;
  /** Called with progress messages and errors caught in the background. */
  onStatus: (message: string, error?: unknown) => void;
}

/** A running local stack. */
export interface LocalStack {
  apiUrl: string;
  dynamoDbEndpoint: string;
  motoEndpoint: string;
  tableName: string;
  eventBusName: string;
  salesQueueUrl: string;
  /** Runs one decay sweep now and returns its counts. */
  sweep(): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local and moto, creates the table, event bus, rule and
 * queue, points the AWS SDK at them through the environment, and serves
 * the real handlers over HTTP. Everything started is stopped by `stop`.
 */
export async function startLocalStack(
  options: LocalStackOptions,
): Promise<LocalStack> {
  const writeKeyIssue = writeKeyProblem(options.writeKey);
  if (writeKeyIssue !== undefined) {
    throw new Error(`Invalid writeKey: ${writeKeyIssue}.`);
  }
  checkDependencies();
  const stage = options.stage ?? 'local';
  const started: LocalService[] = [];
  const stopServices = () =>
    Promise.all(started.map((service) => service.stop()));
  try {
    const [dynamoDbPort, motoPort] = await Promise.all([
      options.dynamoDbPort ?? freePort(),
      options.motoPort ?? freePort(),
    ]);
    options.onStatus('starting DynamoDB Local and moto_server');
    const services = await Promise.allSettled([
      startDynamoDbLocal({ port: dynamoDbPort, dataDir: options.dataDir }),
      startMoto({ port: motoPort }),
    ]);
    for (const result of services) {
      if (result.status === 'fulfilled') started.push(result.value);
    }
    const failure = services.find((result) => result.status === 'rejected');
    if (failure !== undefined) {
      throw (failure as PromiseRejectedResult).reason;
    }
    const [dynamo, moto] = started as [LocalService, LocalService];
    return await wireStack(options, stage, dynamo, moto, stopServices);
  } catch (error) {
    await stopServices();
    throw error;
  }
}

async function wireStack(
  options: LocalStackOptions,
  stage: string,
  dynamo: LocalService,
  moto: LocalService,
  stopServices: () => Promise<unknown>,
): Promise<LocalStack> {
  const tableName = resourceName(stage);
  await createLeadTable(dynamo.endpoint, tableName);
  const events = localEventSettings(stage);
  const routing = await createEventRouting(
    moto.endpoint,
    stage,
    events.targets,
  );
  const salesQueueUrl = routing.queueUrls[SALES_TARGET.id] ?? '';
  configureHandlerEnvironment({
    TABLE_NAME: tableName,
    EVENT_BUS_NAME: routing.eventBusName,
    MQL_WRITE_KEY: options.writeKey,
    STAGE_NAME: stage,
    EVENT_INCLUDE_EMAIL: String(events.includeEmail),
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: moto.endpoint,
    // Metrics and traces go to CloudWatch and X-Ray only; locally they
    // would add a JSON line per request to the log output.
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
  });
  const server = await startLocalApi({
    port: options.port,
    host: options.host,
    adminToken: options.adminToken,
    corsOrigins: options.corsOrigins ?? [],
    onError: (error) => options.onStatus('request failed', error),
  });
  const consumer = consumeQueue({
    endpoint: moto.endpoint,
    queueUrl: salesQueueUrl,
    onEvent: options.onSalesEvent,
    onError: (what, error) => options.onStatus(what, error),
  });
  const sweep = async () => {
    const { handler } = await import('../functions/handlers/sweep.js');
    return handler({});
  };
  const timer = startSweepTimer(options, sweep);
  return {
    apiUrl: `http://${options.host ?? '127.0.0.1'}:${portOf(server)}`,
    dynamoDbEndpoint: dynamo.endpoint,
    motoEndpoint: moto.endpoint,
    tableName,
    eventBusName: routing.eventBusName,
    salesQueueUrl,
    sweep,
    stop: async () => {
      timer.stop();
      await closeServer(server);
      await consumer.stop();
      await stopServices();
    },
  };
}

/**
 * Sets the variables the handlers read. Local credentials and region are
 * set too, so nothing started here can reach a real AWS account.
 */
function configureHandlerEnvironment(values: Record<string, string>): void {
  Object.assign(process.env, values, {
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  // The local runtime checks MQL_WRITE_KEY and reads no secret.
  delete process.env.WRITE_KEY_SECRET_NAME;
  // A runtime built earlier in this process, by another stack or a
  // benchmark, would keep sending to its own table and event bus.
  resetRuntime();
}

function startSweepTimer(
  options: LocalStackOptions,
  sweep: () => Promise<unknown>,
): { stop(): void } {
  let timeout: NodeJS.Timeout | undefined;
  let stopped = options.sweepIntervalSeconds <= 0;
  const schedule = () => {
    if (stopped) return;
    timeout = setTimeout(async () => {
      try {
        await sweep();
      } catch (error) {
        options.onStatus('decay sweep failed', error);
      }
      schedule();
    }, options.sweepIntervalSeconds * 1000);
  };
  schedule();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timeout);
    },
  };
}

function portOf(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Returns the event settings of the stage's configuration file, or the
 * defaults when there is none, so that the local rules are the ones the
 * stage deploys.
 */
function localEventSettings(stage: string): EventSettings {
  const configDir = join(import.meta.dirname, '..', 'config', 'stages');
  return loadStageConfig(stage, configDir).events;
}
