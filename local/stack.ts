import type { Server } from 'node:http';
import { join } from 'node:path';
import { resetRuntime } from '../functions/adapters/runtime.js';
import { writeKeyProblem } from '../functions/adapters/write-keys.js';
import {
  resourceName,
  SALES_TARGET,
} from '../lib/definitions/event-routing.js';
import { loadStageConfig } from '../lib/stage-config.js';
import { bareHost, urlHost } from './host.js';
import { startLocalApi } from './http-server.js';
import { startLeftoverDeliveries } from './leftover-moto.js';
import { freePort } from './ports.js';
import { createEventRouting, createLeadTable } from './provision.js';
import { consumeQueue, type QueueConsumer } from './sales-consumer.js';
import {
  checkDependencies,
  LOCAL_AWS,
  type LocalService,
  startDynamoDbLocal,
  startMoto,
} from './services.js';
import { runLocalSweep } from './sweep.js';

/** Settings of the local stack; see README "Local settings". */
export interface LocalStackOptions {
  port: number;
  /** Interface of the API, an IPv6 address with or without brackets. */
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
  /** Directory of the `<stage>.json` files. @default config/stages */
  configDir?: string;
  /**
   * Called with each event routed to the sales queue. When it throws or
   * rejects, the event stays on the queue and comes again after the
   * queue's visibility timeout (30 seconds).
   */
  onSalesEvent: (event: unknown) => unknown;
  /** Called with progress messages and errors caught in the background. */
  onStatus: (message: string, error?: unknown) => void;
  /**
   * Called once when DynamoDB Local or moto_server exits after startup
   * without a call of `stop`. The stack then stops everything else, and
   * `stop()` resolves once it has.
   */
  onServiceExit?: (exit: ServiceExit) => void;
}

/** A service that exited on its own, with its exit code or signal. */
export interface ServiceExit {
  service: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Error of a service that exited during startup, after it had responded. */
export class ServiceExitError extends Error {
  constructor(
    readonly exit: ServiceExit,
    options?: { cause?: unknown },
  ) {
    super(`${describeServiceExit(exit)} during startup.`, options);
    this.name = 'ServiceExitError';
  }
}

/**
 * Describes a service exit, such as "moto_server exited unexpectedly
 * (exit code 1)" or "DynamoDB Local exited unexpectedly (signal SIGKILL)".
 */
export function describeServiceExit(exit: ServiceExit): string {
  const reason =
    exit.signal === null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
  return `${exit.service} exited unexpectedly (${reason})`;
}

/** A running local stack. */
export interface LocalStack {
  apiUrl: string;
  dynamoDbEndpoint: string;
  motoEndpoint: string;
  tableName: string;
  eventBusName: string;
  /** Queue URL of the stage's `sales` target, or undefined when it has none. */
  salesQueueUrl: string | undefined;
  /** The started DynamoDB Local and moto_server. */
  services: readonly LocalService[];
  /**
   * Runs one decay sweep now, with the stage's sweep timeout, and returns
   * its counts.
   */
  sweep(): Promise<unknown>;
  /** Stops everything the stack started. Later calls return the same promise. */
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
  let supervisor: ServiceSupervisor | undefined;
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
    supervisor = superviseServices(started, options.onServiceExit);
    const stack = await wireStack(options, stage, dynamo, moto, stopServices);
    return await supervisor.attach(stack);
  } catch (error) {
    supervisor?.detach();
    await stopServices();
    const exit = supervisor?.earlyExit();
    if (exit === undefined || error instanceof ServiceExitError) throw error;
    // The exit is the cause of the failed request to the service.
    throw new ServiceExitError(exit, { cause: error });
  }
}

interface ServiceSupervisor {
  /**
   * Starts supervising the ready stack and returns it with an idempotent
   * stop. Stops it and raises ServiceExitError when a service has
   * already exited.
   */
  attach(stack: LocalStack): Promise<LocalStack>;
  /** Ignores exits from now on, such as those of a failed startup. */
  detach(): void;
  /** Returns the first exit before attach, if any. */
  earlyExit(): ServiceExit | undefined;
}

/**
 * Watches the services for exits that `stop` did not cause. Once the
 * stack is attached, the first such exit calls onServiceExit and stops
 * the stack, so that requests do not fail with 500 against a service
 * that is gone.
 */
function superviseServices(
  services: readonly LocalService[],
  onServiceExit: ((exit: ServiceExit) => void) | undefined,
): ServiceSupervisor {
  let stack: LocalStack | undefined;
  let firstExit: ServiceExit | undefined;
  let stopping = false;
  const handleExit = (exit: ServiceExit) => {
    if (stopping) return;
    if (stack === undefined) {
      firstExit ??= exit;
      return;
    }
    onServiceExit?.(exit);
    void stack.stop();
  };
  for (const { name, process: child } of services) {
    if (child.exitCode !== null || child.signalCode !== null) {
      handleExit({
        service: name,
        code: child.exitCode,
        signal: child.signalCode,
      });
    } else {
      child.once('exit', (code, signal) =>
        handleExit({ service: name, code, signal }),
      );
    }
  }
  return {
    attach: async (ready) => {
      let stopped: Promise<void> | undefined;
      const supervised: LocalStack = {
        ...ready,
        stop: () => {
          stopping = true;
          stopped ??= ready.stop();
          return stopped;
        },
      };
      if (firstExit !== undefined) {
        await supervised.stop();
        throw new ServiceExitError(firstExit);
      }
      stack = supervised;
      return supervised;
    },
    detach: () => {
      stopping = true;
    },
    earlyExit: () => firstExit,
  };
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
  const configDir = options.configDir ?? DEFAULT_CONFIG_DIR;
  const { events, functions } = loadStageConfig(stage, configDir);
  const routing = await createEventRouting(
    moto.endpoint,
    stage,
    events.targets,
  );
  const salesQueueUrl = routing.queueUrls[SALES_TARGET.id];
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
    host: options.host === undefined ? undefined : bareHost(options.host),
    adminToken: options.adminToken,
    corsOrigins: options.corsOrigins ?? [],
    functions,
    onError: (error) => options.onStatus('request failed', error),
  });
  const consumer = consumeSalesQueue(
    options,
    moto.endpoint,
    salesQueueUrl,
    join(configDir, `${stage}.json`),
  );
  const leftovers =
    options.dataDir === undefined || moto.process.pid === undefined
      ? undefined
      : startLeftoverDeliveries({
          dir: options.dataDir,
          current: {
            pid: moto.process.pid,
            endpoint: moto.endpoint,
            // Without a sales target the record keeps an empty queue URL,
            // and a later start stops this moto_server without polling it.
            salesQueueUrl: salesQueueUrl ?? '',
          },
          onEvent: options.onSalesEvent,
          onStatus: options.onStatus,
        });
  const sweep = () => runLocalSweep(functions.sweep);
  const timer = startSweepTimer(options, sweep);
  return {
    apiUrl: `http://${urlHost(options.host ?? '127.0.0.1')}:${portOf(server)}`,
    dynamoDbEndpoint: dynamo.endpoint,
    motoEndpoint: moto.endpoint,
    tableName,
    eventBusName: routing.eventBusName,
    salesQueueUrl,
    services: [dynamo, moto],
    sweep,
    stop: async () => {
      timer.stop();
      await closeServer(server);
      await consumer?.stop();
      await leftovers?.stop();
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
 * Directory of the stage files, whose rules and function timeouts the
 * local stack uses so that they are the ones the stage deploys.
 */
const DEFAULT_CONFIG_DIR = join(import.meta.dirname, '..', 'config', 'stages');

/**
 * Starts delivering the sales queue's events to `onSalesEvent`. A stage
 * without a `sales` target gets one status message instead of a consumer
 * that would fail every poll.
 */
function consumeSalesQueue(
  options: LocalStackOptions,
  endpoint: string,
  salesQueueUrl: string | undefined,
  configFile: string,
): QueueConsumer | undefined {
  if (salesQueueUrl === undefined) {
    options.onStatus(
      `${configFile} has no "sales" target in events.targets, so no routed event reaches MQL_WEBHOOK_URL, MQL_EVENTS_FILE or stdout. Add a target with id "sales" to deliver events locally.`,
    );
    return undefined;
  }
  return consumeQueue({
    endpoint,
    queueUrl: salesQueueUrl,
    onEvent: options.onSalesEvent,
    onError: (what, error) => options.onStatus(what, error),
    onRecovered: (what) => options.onStatus(what),
  });
}
