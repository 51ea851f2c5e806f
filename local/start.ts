import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { createServer, isIP } from 'node:net';
import { z } from 'zod';
import { describeFileError } from '../functions/adapters/file-error.js';
import { addWriteKeyIssue } from '../functions/adapters/write-keys.js';
import { formatPath } from '../functions/domain/issues.js';
import { corsOriginsSchema } from '../lib/definitions/cors.js';
import {
  describeParseArgsError,
  type ParseArgsOptionsConfig,
  parseArgsOnce,
  usageHint,
} from '../scripts/command-line.js';
import { loadModelFile, ModelFileError } from '../scripts/model/model-file.js';
import { resolveUserPath } from '../scripts/user-path.js';
import { adminTokenProblem } from './admin-token.js';
import { lockDataDir, unlockDataDir } from './data-dir-lock.js';
import {
  checkEventsFile,
  eventDelivery,
  removeEmptyEventsFile,
} from './event-sinks.js';
import { bareHost, urlHost } from './host.js';
import { ListenError } from './http-server.js';
import { isLoopbackHost } from './loopback.js';
import {
  killRunningServices,
  MissingDependencyError,
  stopRunningServices,
} from './services.js';
import {
  describeServiceExit,
  type LocalStack,
  type ServiceExit,
  startLocalStack,
} from './stack.js';
import { statusLine } from './status-line.js';

/**
 * `npm start`: runs the whole engine locally. Routed MQL events are the
 * only output on stdout, one JSON line each; everything else (status,
 * handler logs) goes to stderr, so `npm start --silent | jq` works
 * (without --silent, npm prints its own banner on stdout first).
 */

const USAGE = `Usage: npm start -- [--data-dir DIR]

Options:
  --data-dir DIR  keep DynamoDB Local's data in DIR, used by one npm start
                  at a time (default: in memory)
  --help          print this help

Relative paths are read from the directory npm was run in.

Environment (defaults in brackets):
  PORT                       HTTP port of the local API [3000]
  HOST                       interface the API listens on, an IPv6
                             address with or without brackets [127.0.0.1]
  MQL_WRITE_KEY              tracking write key, required when HOST is not
                             a loopback address [dev-write-key]
  MQL_ADMIN_TOKEN            bearer token of the leads API, visible ASCII
                             only, required when HOST is not a loopback
                             address [dev-admin-token]
  MQL_SWEEP_INTERVAL_SECONDS whole seconds between decay sweeps, at most
                             2147483, 0 for none [60]
  MQL_MODEL_FILE             scoring model JSON [models/procurement-software.json]
  MQL_CORS_ORIGINS           comma-separated origins allowed to call the API
                             from a browser; the admin routes allow only
                             origins listed by name, not *, http://* or
                             https://*; empty turns CORS off [*]
  MQL_EVENTS_FILE            file that gets each routed event appended as a
                             JSON line [none]
  MQL_WEBHOOK_URL            http(s) URL that gets each routed event POSTed
                             as JSON; user:password@ in it is sent as HTTP
                             Basic auth [none]

An empty MQL_MODEL_FILE, MQL_EVENTS_FILE or MQL_WEBHOOK_URL counts as
unset. The other variables reject an empty value.
`;

/**
 * Maximum sweep interval: Node.js timers take at most 2^31 − 1 ms and run
 * a longer delay after 1 ms instead, which would sweep continuously.
 */
const MAX_SWEEP_INTERVAL_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** The admin token `npm start` uses when MQL_ADMIN_TOKEN is unset. */
const DEFAULT_ADMIN_TOKEN = 'dev-admin-token';
/** The write key `npm start` uses when MQL_WRITE_KEY is unset. */
const DEFAULT_WRITE_KEY = 'dev-write-key';

const SWEEP_INTERVAL_RANGE = `must be a whole number of seconds from 0 to ${MAX_SWEEP_INTERVAL_SECONDS}; 0 turns the sweep off`;

const PORT_RANGE = 'must be a port number from 0 to 65535';

const HOST_FORMAT =
  'must be an IP address or host name, such as 127.0.0.1, ::1 or localhost';

/** A DNS host name: labels of letters, digits and inner hyphens. */
const HOST_NAME =
  /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i;

/** Tells whether HOST is an IP address (IPv6 with or without brackets) or a host name. */
function isValidHost(host: string): boolean {
  return isIP(bareHost(host)) !== 0 || HOST_NAME.test(host);
}

/**
 * Builds the schema of an optional variable whose empty or blank value
 * counts as unset, because `NAME= npm start` is the shell's way to run
 * without it.
 */
function optionalVariableSchema<Schema extends z.ZodType>(schema: Schema) {
  return z.preprocess(
    (value) =>
      typeof value === 'string' && value.trim() === '' ? undefined : value,
    schema.optional(),
  );
}

/**
 * File path of a variable. White space around a path is invisible in the
 * "was not found" error that such a path would get.
 */
const pathVariableSchema = z.string().refine((file) => file.trim() === file, {
  message: 'must not start or end with white space; remove it',
});

/**
 * Builds the schema of a variable of decimal digits only. Number() reads
 * an empty or blank value as 0, so `PORT=` would pick a random port and
 * `MQL_SWEEP_INTERVAL_SECONDS=` would turn the sweep off. It also reads
 * `0x10`, `1e3` and `0.001`, the last a sweep every millisecond. An empty
 * or blank value gets its own message, because it looks like no value.
 */
function wholeNumber(message: string) {
  return z
    .string({ error: message })
    .superRefine((text, context) => {
      if (text.trim() === '') {
        context.addIssue({
          code: 'custom',
          message: `is empty; it ${message}. Unset it to use the default`,
        });
      } else if (!/^[0-9]+$/.test(text)) {
        context.addIssue({ code: 'custom', message });
      }
    })
    .transform(Number);
}

const environmentSchema = z
  .object({
    PORT: wholeNumber(PORT_RANGE)
      .pipe(z.number().max(65535, PORT_RANGE))
      .default(3000),
    HOST: z
      .string()
      .refine(isValidHost, HOST_FORMAT)
      .transform(bareHost)
      .default('127.0.0.1'),
    MQL_WRITE_KEY: z
      .string()
      .min(1)
      .default(DEFAULT_WRITE_KEY)
      .superRefine(addWriteKeyIssue),
    MQL_ADMIN_TOKEN: z
      .string()
      .default(DEFAULT_ADMIN_TOKEN)
      .superRefine((token, context) => {
        const problem = adminTokenProblem(token);
        if (problem !== undefined) {
          context.addIssue({ code: 'custom', message: problem });
        }
      }),
    MQL_SWEEP_INTERVAL_SECONDS: wholeNumber(SWEEP_INTERVAL_RANGE)
      .pipe(
        z
          .number()
          .max(
            MAX_SWEEP_INTERVAL_SECONDS,
            `must be at most ${MAX_SWEEP_INTERVAL_SECONDS} (about 24 days); 0 turns the sweep off`,
          ),
      )
      .default(60),
    MQL_CORS_ORIGINS: z
      .string()
      .default('*')
      .transform((text) =>
        text
          .split(',')
          .map((origin) => origin.trim())
          .filter((origin) => origin !== ''),
      )
      .pipe(corsOriginsSchema),
    MQL_MODEL_FILE: optionalVariableSchema(pathVariableSchema),
    MQL_EVENTS_FILE: optionalVariableSchema(pathVariableSchema),
    MQL_WEBHOOK_URL: optionalVariableSchema(
      z.url({
        protocol: /^https?$/,
        error:
          'must be an http or https URL, such as http://127.0.0.1:8080/mql',
      }),
    ),
  })
  .superRefine((env, context) => {
    // The default token and key are printed in the README, so on an
    // interface that other machines reach they would open the API to
    // anyone. An invalid HOST has its own issue, and more issues about
    // the credentials would only confuse.
    if (!isValidHost(env.HOST) || isLoopbackHost(env.HOST)) return;
    if (env.MQL_ADMIN_TOKEN === DEFAULT_ADMIN_TOKEN) {
      context.addIssue({
        code: 'custom',
        path: ['MQL_ADMIN_TOKEN'],
        message: `must be set to a secret token when HOST (${env.HOST}) is not a loopback address, because the default ${DEFAULT_ADMIN_TOKEN} is public`,
      });
    }
    // The tracking responses of npm start show each lead's score to a
    // request without an Origin header, so the write key guards scores as
    // well as writes.
    if (env.MQL_WRITE_KEY === DEFAULT_WRITE_KEY) {
      context.addIssue({
        code: 'custom',
        path: ['MQL_WRITE_KEY'],
        message: `must be set to a secret key when HOST (${env.HOST}) is not a loopback address, because the default ${DEFAULT_WRITE_KEY} is public and the tracking responses show lead scores`,
      });
    }
  });

const writeStdout = process.stdout.write.bind(process.stdout);

async function main(): Promise<void> {
  // On Node.js 20 the SDK warns on stderr that its later versions need
  // Node.js 22. npm start supports Node.js 20.19, so the warning is noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const values = parseCommandLine();
  if (values === undefined) return;
  if (values.help) {
    writeStdout(USAGE);
    return;
  }
  const env = environmentSchema.safeParse(process.env);
  if (!env.success) {
    const problems = env.error.issues.map(
      (issue) => `${formatPath(issue.path)}: ${issue.message}`,
    );
    fail(`Invalid environment: ${problems.join('; ')}\n${usageHint('start')}`);
    return;
  }
  const modelFile = resolveOptionalPath(env.data.MQL_MODEL_FILE);
  const modelProblem = await checkModelFile(modelFile);
  if (modelProblem !== undefined) {
    fail(`Invalid MQL_MODEL_FILE: ${modelProblem}`);
    return;
  }
  // The handlers in this process read the model from MQL_MODEL_FILE.
  if (modelFile === undefined) delete process.env.MQL_MODEL_FILE;
  else process.env.MQL_MODEL_FILE = modelFile;
  const eventsFile = resolveOptionalPath(env.data.MQL_EVENTS_FILE);
  const webhookUrl = env.data.MQL_WEBHOOK_URL;
  let ready = false;
  if (eventsFile !== undefined) {
    try {
      if (await checkEventsFile(eventsFile)) {
        process.on('exit', () => {
          if (!ready) removeEmptyEventsFile(eventsFile);
        });
      }
    } catch (error) {
      fail(
        `Invalid MQL_EVENTS_FILE: ${eventsFile} ${describeFileError(error, 'append')}`,
      );
      return;
    }
  }
  if (values['data-dir']?.trim() === '') {
    fail('Invalid --data-dir: it is empty; name a directory, such as .data.');
    return;
  }
  const dataDir = resolveOptionalPath(values['data-dir']);
  if (dataDir !== undefined) {
    const problem = checkDataDir(dataDir);
    if (problem !== undefined) {
      fail(`Invalid --data-dir: ${problem}`);
      return;
    }
    let lockProblem: string | undefined;
    try {
      lockProblem = lockDataDir(dataDir);
    } catch (error) {
      // The write check above trusts the permission bits, which root
      // passes even where the file system rejects new files, as sysfs does.
      fail(
        `Invalid --data-dir: ${dataDir} is not writable (${describeWithoutPath(error)}); name a directory you can write to.`,
      );
      return;
    }
    if (lockProblem !== undefined) {
      fail(`--data-dir ${lockProblem}`);
      return;
    }
    process.on('exit', () => unlockDataDir(dataDir));
  }
  const portProblem = await checkPortFree(env.data.HOST, env.data.PORT);
  if (portProblem !== undefined) {
    fail(portProblem);
    return;
  }
  // Handler logs go to stderr; stdout carries routed events only.
  process.stdout.write = process.stderr.write.bind(process.stderr);
  let stack: LocalStack | undefined;
  stopOnSignals(() => stack);
  stack = await startLocalStack({
    port: env.data.PORT,
    host: env.data.HOST,
    writeKey: env.data.MQL_WRITE_KEY,
    adminToken: env.data.MQL_ADMIN_TOKEN,
    sweepIntervalSeconds: env.data.MQL_SWEEP_INTERVAL_SECONDS,
    corsOrigins: env.data.MQL_CORS_ORIGINS,
    dataDir,
    onSalesEvent: eventDelivery({ write: writeStdout, eventsFile, webhookUrl }),
    onStatus: (message, error) => status(message, error),
    onServiceExit: (exit) => void exitAfterService(exit, () => stack),
  });
  ready = true;
  const dataDirNote = dataDir === undefined ? '' : `, data in ${dataDir}`;
  status(
    `ready: API ${stack.apiUrl}, DynamoDB Local ${stack.dynamoDbEndpoint}, ` +
      `moto ${stack.motoEndpoint}, table ${stack.tableName}, ` +
      `bus ${stack.eventBusName}${dataDirNote}. Press Ctrl-C to stop.`,
  );
}

/**
 * Reports a service that exited while the stack ran, waits until the
 * stack has stopped the other ones and exits with 1.
 */
async function exitAfterService(
  exit: ServiceExit,
  current: () => LocalStack | undefined,
): Promise<void> {
  status(`${describeServiceExit(exit)}; stopping the other services`);
  await (current()?.stop() ?? stopRunningServices());
  process.exit(1);
}

/**
 * Resolves a path from an option or variable against the directory npm
 * was run in (see resolveUserPath). Returns undefined for no path.
 */
function resolveOptionalPath(path: string | undefined): string | undefined {
  return path === undefined ? undefined : resolveUserPath(path);
}

const START_OPTIONS = {
  'data-dir': { type: 'string' },
  help: { type: 'boolean', default: false },
} satisfies ParseArgsOptionsConfig;

/**
 * Parses the command line. On a mistake it prints the problem and a
 * pointer to --help, sets exit code 2 and returns undefined.
 */
function parseCommandLine() {
  try {
    return parseArgsOnce({ options: START_OPTIONS }).values;
  } catch (error) {
    process.stderr.write(
      `[mql-engine] ${describeParseArgsError(error, START_OPTIONS)}\n${usageHint('start')}\n`,
    );
    process.exitCode = 2;
    return undefined;
  }
}

/**
 * Loads the model that the handlers will load, so a missing or invalid
 * MQL_MODEL_FILE stops startup instead of failing every request. Returns
 * the problem, naming the file and each invalid field, or undefined.
 */
async function checkModelFile(
  file: string | undefined,
): Promise<string | undefined> {
  if (file === undefined) return undefined;
  try {
    await loadModelFile(file);
    return undefined;
  } catch (error) {
    if (!(error instanceof ModelFileError)) throw error;
    const fields = error.issues.map(
      (issue) => `${issue.field}: ${issue.message}`,
    );
    return [error.message, ...fields].join('\n  ');
  }
}

/**
 * Listens on the API's address for a moment, so a port in use stops
 * startup before DynamoDB Local and moto start. Returns the problem, or
 * undefined when the address is free.
 */
async function checkPortFree(
  host: string,
  port: number,
): Promise<string | undefined> {
  if (port === 0) return undefined;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, host, resolve);
    });
  } catch (error) {
    return describeListenError(error, host, port);
  }
  await new Promise((resolve) => probe.close(resolve));
  return undefined;
}

/** Describes why the local API cannot listen on HOST and PORT. */
function describeListenError(
  error: unknown,
  host: string,
  port: number,
): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return (
      `Port ${port} on ${host} is in use. Stop the program that uses it, ` +
      'or set PORT to another port (PORT=0 picks a free one).'
    );
  }
  if (code === 'EACCES') {
    return `Port ${port} needs privileges. Set PORT to 1024 or above, or 0 for a free port.`;
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return `HOST ${host} is not an address of this machine. Set HOST to one, such as 127.0.0.1.`;
  }
  return `The API cannot listen on ${urlHost(host)}:${port} (${describe(error)}).`;
}

/**
 * Creates the data directory when missing and checks that DynamoDB Local
 * can write in it. Returns the problem, naming the path, or undefined.
 */
function checkDataDir(path: string): string | undefined {
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      return `${path} is a file or lies under one; name a directory.`;
    }
    return `${path} cannot be created (${describe(error)}).`;
  }
  if (!statSync(path).isDirectory()) {
    return `${path} is not a directory; name a directory.`;
  }
  try {
    accessSync(path, constants.W_OK);
  } catch {
    return `${path} is not writable; name a directory you can write to.`;
  }
  return undefined;
}

/**
 * Stops the stack on SIGINT or SIGTERM, and the services started so far
 * when the signal comes before the stack is ready. Services still running
 * when the process exits for another reason are killed.
 */
function stopOnSignals(current: () => LocalStack | undefined): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    status(`${signal} received, stopping`);
    await (current()?.stop() ?? stopRunningServices());
    status('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('exit', killRunningServices);
}

function status(message: string, error?: unknown): void {
  process.stderr.write(statusLine(message, error));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Returns the message of a file system error without the
 * `, open '/path'` part that Node.js appends, for errors whose path is
 * a temporary file that the user never named.
 */
function describeWithoutPath(error: unknown): string {
  const { syscall, path } = error as NodeJS.ErrnoException;
  const message = describe(error);
  if (syscall === undefined || path === undefined) return message;
  return message.replace(`, ${syscall} '${path}'`, '');
}

function fail(message: string): void {
  process.stderr.write(`[mql-engine] ${message}\n`);
  process.exitCode = 1;
}

main().catch((error: unknown) => {
  if (error instanceof MissingDependencyError) {
    fail(error.message);
  } else if (error instanceof ListenError) {
    // Another process can take the port after checkPortFree, while the
    // services start. startLocalStack has stopped them by now.
    fail(describeListenError(error.cause, error.host, error.port));
  } else {
    process.stderr.write(statusLine('failed to start', error));
    process.exitCode = 1;
  }
  process.exit();
});
