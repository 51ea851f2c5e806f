import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../local/ports.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { unprivilegedSpawnOptions } from '../support/unreadable-file.js';

/**
 * Runs local/start.ts the way `npm start` does, with extra environment.
 * A variable set to undefined is removed.
 */
function startCli(
  env: Record<string, string | undefined>,
  args: string[] = [],
  ids: { uid?: number; gid?: number } = {},
): ChildProcess {
  const merged = { ...process.env, ...env };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete merged[name];
  }
  return spawn(
    process.execPath,
    ['--import', 'tsx', 'local/start.ts', ...args],
    {
      env: merged,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...ids,
    },
  );
}

function collect(stream: NodeJS.ReadableStream | null): { text: string } {
  const output = { text: '' };
  stream?.on('data', (chunk: Buffer) => {
    output.text += chunk.toString();
  });
  return output;
}

async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

function isListening(url: string): Promise<boolean> {
  const { port } = new URL(url);
  const hostname = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Returns the absolute path of a program found on PATH. */
function onPath(program: string): string {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(directory, program);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${program} is not on PATH`);
}

/** A directory for PATH that contains only the named programs. */
function pathWith(programs: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), 'mql-path-'));
  for (const [name, target] of Object.entries(programs)) {
    symlinkSync(target, join(directory, name));
  }
  return directory;
}

/** Returns the ids of the running processes whose parent is `parentId`. */
function childrenOf(parentId: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The parent id is the second field after the parenthesized name.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === parentId) children.push(Number(entry));
    } catch {
      // The process exited while the directory was read.
    }
  }
  return children;
}

function isRunning(processId: number): boolean {
  try {
    process.kill(processId, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  it('serves the API, delivers routed MQLs and stops on SIGINT', async () => {
    const posted: string[] = [];
    const webhook = createServer(async (request, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      posted.push(body);
      response.writeHead(204).end();
    });
    await new Promise<void>((resolve) =>
      webhook.listen(0, '127.0.0.1', resolve),
    );
    const { port } = webhook.address() as AddressInfo;
    const eventsFile = join(
      mkdtempSync(join(tmpdir(), 'mql-events-')),
      'events.jsonl',
    );
    const child = startCli({
      PORT: '0',
      MQL_SWEEP_INTERVAL_SECONDS: '0',
      MQL_EVENTS_FILE: eventsFile,
      MQL_WEBHOOK_URL: `http://127.0.0.1:${port}/hooks/mql`,
      // The test run turns the warning off; npm start must do it itself.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined,
    });
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    await waitFor(() => stderr.text.includes('ready:'), 60_000, 'ready');
    const endpoints = [...stderr.text.matchAll(/http:\/\/127\.0\.0\.1:\d+/g)];
    const [api, dynamo, moto] = endpoints.map((match) => match[0]);

    const response = await fetch(`${api}/v1/batch`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('dev-write-key:').toString('base64')}`,
      },
      body: JSON.stringify({ batch: qualifyingBatch('cli-lead') }),
    });
    const preflight = await fetch(`${api}/v1/t`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:8080',
        'access-control-request-method': 'POST',
      },
    });
    await waitFor(() => stdout.text.includes('\n'), 15_000, 'a routed event');
    child.kill('SIGINT');
    const code = await exited(child);

    expect(response.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    const lines = stdout.text.trim().split('\n');
    expect(lines).toHaveLength(1);
    const event = JSON.parse(lines[0] ?? '');
    expect(event['detail-type']).toBe('Lead Qualified');
    expect(event.detail.leadId).toBe('cli-lead');
    expect(code).toBe(0);
    for (const endpoint of [api, dynamo, moto]) {
      expect(await isListening(endpoint ?? '')).toBe(false);
    }
    webhook.close();
    expect(readFileSync(eventsFile, 'utf8')).toBe(stdout.text);
    expect(posted.map((body) => JSON.parse(body))).toEqual([event]);
    expect(stderr.text).not.toContain('NodeVersionSupportWarning');
  }, 120_000);

  it('stops every service when the npm process gets SIGTERM', async () => {
    const child = spawn('npm', ['start'], {
      env: { ...process.env, PORT: '0', MQL_SWEEP_INTERVAL_SECONDS: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const stderr = collect(child.stderr);
    await waitFor(() => stderr.text.includes('ready:'), 60_000, 'ready');
    const endpoints = [...stderr.text.matchAll(/http:\/\/127\.0\.0\.1:\d+/g)];

    child.kill('SIGTERM');
    await exited(child);
    await waitFor(() => stderr.text.includes('stopped'), 15_000, 'stopped');

    expect(endpoints).toHaveLength(3);
    for (const [endpoint] of endpoints) {
      expect(await isListening(endpoint)).toBe(false);
    }
  }, 120_000);

  it.runIf(process.platform === 'linux')(
    'stops its services on SIGTERM during startup',
    async () => {
      const child = startCli({ PORT: '0', MQL_SWEEP_INTERVAL_SECONDS: '0' });
      const stderr = collect(child.stderr);
      await waitFor(
        () => stderr.text.includes('starting DynamoDB Local'),
        60_000,
        'the services to start',
      );
      await waitFor(
        () => childrenOf(child.pid ?? 0).length >= 2,
        10_000,
        'two child processes',
      );
      const services = childrenOf(child.pid ?? 0);

      child.kill('SIGTERM');
      const code = await exited(child);
      await waitFor(
        () => !services.some(isRunning),
        15_000,
        'the services to stop',
      );

      expect(stderr.text).not.toContain('ready:');
      expect(code).toBe(0);
      expect(services.filter(isRunning)).toEqual([]);
    },
    120_000,
  );

  it('reads relative paths from INIT_CWD and serves IPv6', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mql-init-cwd-'));
    copyFileSync(
      'models/examples/x-education.json',
      join(directory, 'model.json'),
    );
    const child = startCli(
      {
        PORT: '0',
        HOST: '[::1]',
        INIT_CWD: directory,
        MQL_SWEEP_INTERVAL_SECONDS: '0',
        MQL_MODEL_FILE: 'model.json',
        MQL_EVENTS_FILE: 'events.jsonl',
      },
      ['--data-dir', 'data'],
    );
    const stderr = collect(child.stderr);
    try {
      await waitFor(() => stderr.text.includes('ready:'), 60_000, 'ready');
      const api = /API (\S+),/.exec(stderr.text)?.[1] ?? '';

      const response = await fetch(`${api}/v1/batch`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from('dev-write-key:').toString('base64')}`,
        },
        body: JSON.stringify({ batch: qualifyingBatch('ipv6-lead') }),
      });

      expect(api).toMatch(/^http:\/\/\[::1\]:\d+$/);
      expect(new URL(api).hostname).toBe('[::1]');
      expect(response.status).toBe(200);
      expect(stderr.text).toContain(`, data in ${join(directory, 'data')}.`);
      expect(existsSync(join(directory, 'data', 'mql-engine.lock'))).toBe(true);
      expect(existsSync(join(directory, 'events.jsonl'))).toBe(true);
    } finally {
      child.kill('SIGINT');
      await exited(child);
    }
  }, 120_000);

  it('treats empty optional variables as unset', async () => {
    const child = startCli({
      PORT: '0',
      HOST: '::1',
      MQL_SWEEP_INTERVAL_SECONDS: '0',
      MQL_MODEL_FILE: '',
      MQL_EVENTS_FILE: '',
      MQL_WEBHOOK_URL: ' ',
    });
    const stderr = collect(child.stderr);
    try {
      await waitFor(
        () => stderr.text.includes('ready:') || child.exitCode !== null,
        60_000,
        'ready or exit',
      );
      const api = /API (\S+),/.exec(stderr.text)?.[1] ?? '';

      const lead = await fetch(`${api}/leads/nobody`, {
        headers: { authorization: 'Bearer dev-admin-token' },
      });

      expect(stderr.text).not.toContain('Invalid');
      expect(api).toMatch(/^http:\/\/\[::1\]:\d+$/);
      expect(lead.status).toBe(404);
    } finally {
      child.kill('SIGINT');
      await exited(child);
    }
  }, 120_000);

  it.runIf(process.platform === 'linux')(
    'exits with 1 when DynamoDB Local exits',
    async () => {
      const child = startCli({ PORT: '0', MQL_SWEEP_INTERVAL_SECONDS: '0' });
      const stderr = collect(child.stderr);
      await waitFor(() => stderr.text.includes('ready:'), 60_000, 'ready');
      const moto = /moto (\S+),/.exec(stderr.text)?.[1] ?? '';
      const services = childrenOf(child.pid ?? 0);
      const dynamoDbLocal = services.find((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('DynamoDBLocal'),
      );

      process.kill(dynamoDbLocal ?? 0, 'SIGKILL');
      const code = await exited(child);

      expect(code).toBe(1);
      expect(stderr.text).toContain(
        '[mql-engine] DynamoDB Local exited unexpectedly (signal SIGKILL); stopping the other services\n',
      );
      expect(await isListening(moto)).toBe(false);
      expect(services.filter(isRunning)).toEqual([]);
    },
    120_000,
  );

  it.each([
    ['', 'HOST: must be an IP address or host name'],
    [' ', 'HOST: must be an IP address or host name'],
    ['[::1', 'HOST: must be an IP address or host name'],
    ['exa mple', 'HOST: must be an IP address or host name'],
  ])('rejects HOST=%j alone', async (host, message) => {
    const child = startCli({ HOST: host, MQL_ADMIN_TOKEN: undefined });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain(message);
    expect(stderr.text).not.toContain('MQL_ADMIN_TOKEN: must be set');
    expect(stderr.text).not.toContain('HOST (');
  });

  it.each([
    [
      'MQL_MODEL_FILE',
      'model.json',
      'The model file DIR/model.json was not found.',
    ],
    [
      'MQL_EVENTS_FILE',
      'none/events.jsonl',
      'Invalid MQL_EVENTS_FILE: DIR/none/events.jsonl cannot be opened',
    ],
  ])('names %s=%s resolved against INIT_CWD', async (name, value, message) => {
    const directory = mkdtempSync(join(tmpdir(), 'mql-init-cwd-'));
    const child = startCli({ INIT_CWD: directory, [name]: value });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain(message.replace('DIR', directory));
  });

  it('rejects an invalid MQL_CORS_ORIGINS and exits with 1', async () => {
    const child = startCli({ MQL_CORS_ORIGINS: 'https://site.example/path' });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain('MQL_CORS_ORIGINS[0]: must be *');
  });

  it('rejects an empty MQL_WRITE_KEY in plain words', async () => {
    const child = startCli({ MQL_WRITE_KEY: '' });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain('MQL_WRITE_KEY: must not be empty');
  });

  it('rejects an MQL_WRITE_KEY with a colon', async () => {
    const child = startCli({ MQL_WRITE_KEY: 'k3y:with:colons' });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain('MQL_WRITE_KEY: must not contain ":"');
    expect(stderr.text).toContain('RFC 7617');
  });

  it.each([
    ['a leading space', ' secret-token'],
    ['a trailing newline', 'secret-token\n'],
    ['an inner space', 'secret token'],
    ['a non-ASCII letter', 'sécret-token'],
  ])('rejects an MQL_ADMIN_TOKEN with %s', async (_case, token) => {
    const child = startCli({ MQL_ADMIN_TOKEN: token });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain(
      'MQL_ADMIN_TOKEN: must contain only visible ASCII characters, ! to ~',
    );
    expect(stderr.text).not.toContain(token);
  });

  it('rejects an empty MQL_ADMIN_TOKEN', async () => {
    const child = startCli({ MQL_ADMIN_TOKEN: '' });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain('MQL_ADMIN_TOKEN: must not be empty');
  });

  it('points an environment error to --help', async () => {
    const child = startCli({ PORT: 'abc' });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain(
      '[mql-engine] Invalid environment: PORT: must be a port number',
    );
    expect(stderr.text).toContain('Run "npm start -- --help" for usage.');
    expect(stderr.text).not.toContain('Usage:');
  });

  it('rejects the default admin token off loopback', async () => {
    const child = startCli({ HOST: '0.0.0.0', MQL_ADMIN_TOKEN: undefined });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain(
      'MQL_ADMIN_TOKEN: must be set to a secret token when HOST',
    );
    expect(stderr.text).not.toContain('ready:');
  });

  it('rejects the default write key off loopback', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737), reserved for documentation, so
    // a start that passed the check would fail to listen, not open a port.
    const child = startCli({
      HOST: '192.0.2.1',
      MQL_ADMIN_TOKEN: 'admin-token-for-this-test',
      MQL_WRITE_KEY: undefined,
    });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain(
      'MQL_WRITE_KEY: must be set to a secret key when HOST (192.0.2.1)',
    );
    expect(stderr.text).not.toContain('MQL_ADMIN_TOKEN');
    expect(stderr.text).not.toContain('ready:');
  });

  it('names a port in use before starting services', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) =>
      blocker.listen(0, '127.0.0.1', resolve),
    );
    const { port } = blocker.address() as AddressInfo;
    const child = startCli({ PORT: String(port) });
    const stderr = collect(child.stderr);

    const code = await exited(child);
    blocker.close();

    expect(code).toBe(1);
    expect(stderr.text).toContain(`Port ${port} on 127.0.0.1 is in use.`);
    expect(stderr.text).toContain('PORT=0 picks a free one');
    expect(stderr.text).not.toContain('starting DynamoDB Local');
  });

  it('removes an events file it created when the start fails', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) =>
      blocker.listen(0, '127.0.0.1', resolve),
    );
    const { port } = blocker.address() as AddressInfo;
    const directory = mkdtempSync(join(tmpdir(), 'mql-events-'));
    const created = join(directory, 'new.jsonl');
    const existing = join(directory, 'old.jsonl');
    writeFileSync(existing, '');

    const codes = [];
    for (const eventsFile of [created, existing]) {
      const child = startCli({
        PORT: String(port),
        MQL_EVENTS_FILE: eventsFile,
      });
      codes.push(await exited(child));
    }
    blocker.close();

    expect(codes).toEqual([1, 1]);
    expect(existsSync(created)).toBe(false);
    expect(existsSync(existing)).toBe(true);
  });

  it.runIf(process.platform === 'linux')(
    'names a port taken during startup',
    async () => {
      const port = await freePort();
      const child = startCli({
        PORT: String(port),
        MQL_SWEEP_INTERVAL_SECONDS: '0',
      });
      const stderr = collect(child.stderr);
      await waitFor(
        () => stderr.text.includes('starting DynamoDB Local'),
        60_000,
        'the services to start',
      );
      // The port passed the check before the services started, so only
      // the API's own listen call finds it taken.
      const blocker = createServer();
      await new Promise<void>((resolve) =>
        blocker.listen(port, '127.0.0.1', resolve),
      );
      await waitFor(
        () => childrenOf(child.pid ?? 0).length >= 2,
        10_000,
        'two child processes',
      );
      const services = childrenOf(child.pid ?? 0);

      const code = await exited(child);
      blocker.close();
      await waitFor(
        () => !services.some(isRunning),
        15_000,
        'the services to stop',
      );

      expect(code).toBe(1);
      expect(stderr.text).toContain(`Port ${port} on 127.0.0.1 is in use.`);
      expect(stderr.text).toContain('PORT=0 picks a free one');
      expect(stderr.text).not.toContain('EADDRINUSE');
      expect(stderr.text).not.toContain('ready:');
      expect(services.filter(isRunning)).toEqual([]);
    },
    120_000,
  );

  const sweepRange =
    'MQL_SWEEP_INTERVAL_SECONDS: must be a whole number of seconds from 0 to 2147483';

  it.each([
    ['PORT', 'abc', 'PORT: must be a port number from 0 to 65535'],
    ['PORT', '', 'PORT: is empty; it must be a port number from 0 to 65535'],
    ['PORT', ' ', 'PORT: is empty; it must be a port number from 0 to 65535'],
    ['PORT', '0x10', 'PORT: must be a port number from 0 to 65535'],
    ['PORT', '3e3', 'PORT: must be a port number from 0 to 65535'],
    ['MQL_SWEEP_INTERVAL_SECONDS', 'abc', sweepRange],
    ['MQL_SWEEP_INTERVAL_SECONDS', '-1', sweepRange],
    [
      'MQL_SWEEP_INTERVAL_SECONDS',
      '',
      'MQL_SWEEP_INTERVAL_SECONDS: is empty; it must be a whole number of seconds',
    ],
    ['MQL_SWEEP_INTERVAL_SECONDS', '0.001', sweepRange],
  ])('rejects %s=%s with its range', async (name, value, message) => {
    const child = startCli({ [name]: value });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain(message);
  });

  it.each([
    { args: ['--data_dir', 'x'], message: 'Did you mean --data-dir?' },
    { args: ['--data-dir'], message: '--data-dir needs a value' },
    {
      // --help would print the usage and exit with 0 if the repeat passed.
      args: ['--data-dir', 'a', '--data-dir', 'b', '--help'],
      message: '--data-dir is given more than once. Give it once.',
    },
  ])('rejects $args with a --help hint', async ({ args, message }) => {
    const child = startCli({}, args);
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(2);
    expect(stderr.text).toContain(message);
    expect(stderr.text).toContain('Run "npm start -- --help" for usage.');
    expect(stderr.text).not.toContain('Usage:');
    expect(stderr.text).not.toContain('failed to start');
  });

  it('rejects a sweep interval beyond the longest timer', async () => {
    const child = startCli({ MQL_SWEEP_INTERVAL_SECONDS: '100000000' });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain(
      'MQL_SWEEP_INTERVAL_SECONDS: must be at most 2147483',
    );
    expect(stderr.text).not.toContain('ready:');
  });

  it('rejects an MQL_WEBHOOK_URL that is not http and exits with 1', async () => {
    const child = startCli({ MQL_WEBHOOK_URL: 'ftp://127.0.0.1/mql' });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain(
      'MQL_WEBHOOK_URL: must be an http or https URL',
    );
  });

  it('names an MQL_EVENTS_FILE that cannot be written and exits with 1', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mql-events-'));
    const child = startCli({ MQL_EVENTS_FILE: directory });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain(
      `Invalid MQL_EVENTS_FILE: ${directory} is a directory. Name a file.`,
    );
    expect(stderr.text).not.toContain('EISDIR');
    expect(stderr.text).not.toContain('ready:');
  });

  it('explains an MQL_EVENTS_FILE without write permission', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mql-events-'));
    const file = join(directory, 'events.jsonl');
    writeFileSync(file, '');
    chmodSync(directory, 0o755);
    chmodSync(file, 0o444);
    const child = startCli(
      { MQL_EVENTS_FILE: file },
      [],
      unprivilegedSpawnOptions(),
    );
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain(
      `Invalid MQL_EVENTS_FILE: ${file} cannot be opened for appending: permission denied. Give the user that runs this command write permission`,
    );
    expect(stderr.text).not.toContain('EACCES');
  });

  it('rejects a --data-dir that is a file', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mql-data-'));
    const file = join(directory, 'table.db');
    writeFileSync(file, '');
    // A relative --data-dir is resolved against INIT_CWD.
    const child = startCli({ INIT_CWD: directory }, ['--data-dir', 'table.db']);
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain(
      `Invalid --data-dir: ${file} is a file or lies under one`,
    );
    expect(stderr.text).not.toContain('ready:');
  });

  // Root passes the write-permission check everywhere, but sysfs still
  // rejects a new file, so only the lock file's write can find this.
  it.runIf(process.getuid?.() === 0 && existsSync('/sys/kernel'))(
    'rejects a --data-dir that root cannot write',
    async () => {
      const child = startCli({ PORT: '0' }, ['--data-dir', '/sys/kernel']);
      const stderr = collect(child.stderr);

      const code = await exited(child);

      expect(code).toBe(1);
      expect(stderr.text).toContain(
        'Invalid --data-dir: /sys/kernel is not writable (EACCES',
      );
      expect(stderr.text).toContain('name a directory you can write to.');
      expect(stderr.text).not.toContain('failed to start');
      expect(stderr.text).not.toContain('.tmp');
    },
  );

  it.each(['', ' '])('rejects --data-dir=%j', async (value) => {
    const child = startCli({}, [`--data-dir=${value}`]);
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain('Invalid --data-dir: it is empty');
    expect(stderr.text).not.toContain('starting DynamoDB Local');
  });

  it('rejects a --data-dir that another start holds', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mql-data-'));
    const lockFile = join(directory, 'mql-engine.lock');
    // The test runner is a running process, as another npm start would be.
    writeFileSync(lockFile, `${process.pid}\n`);
    const child = startCli({ PORT: '0' }, ['--data-dir', directory]);
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain(
      `--data-dir ${directory} is in use by another npm start (process ${process.pid}).`,
    );
    expect(stderr.text).not.toContain('starting DynamoDB Local');
    expect(readFileSync(lockFile, 'utf8')).toBe(`${process.pid}\n`);
  });

  it.runIf(process.platform === 'linux')(
    'keeps --data-dir locked after SIGKILL',
    async () => {
      const directory = mkdtempSync(join(tmpdir(), 'mql-data-'));
      const first = startCli({ PORT: '0', MQL_SWEEP_INTERVAL_SECONDS: '0' }, [
        '--data-dir',
        directory,
      ]);
      const firstErr = collect(first.stderr);
      await waitFor(() => firstErr.text.includes('ready:'), 60_000, 'ready');
      const services = childrenOf(first.pid ?? 0);
      let second: ChildProcess | undefined;
      try {
        // SIGKILL leaves DynamoDB Local running on the directory.
        first.kill('SIGKILL');
        await exited(first);
        const dynamoDbLocal = services.find((pid) =>
          readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(directory),
        );
        expect(dynamoDbLocal).toBeDefined();

        second = startCli({ PORT: '0' }, ['--data-dir', directory]);
        const secondErr = collect(second.stderr);
        const secondExit = exited(second);
        await waitFor(
          () =>
            second?.exitCode !== null ||
            secondErr.text.includes('starting DynamoDB Local'),
          30_000,
          'the second start to exit or start its services',
        );

        expect(secondErr.text).not.toContain('starting DynamoDB Local');
        expect(await secondExit).toBe(1);
        expect(secondErr.text).toContain(
          `--data-dir ${directory} is in use by DynamoDB Local (process ${dynamoDbLocal}),`,
        );
        const moto = services.find((pid) =>
          readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('moto_server'),
        );
        expect(secondErr.text).toContain(
          `Leave moto_server (process ${moto}) running:`,
        );
      } finally {
        if (second?.exitCode === null) second.kill('SIGTERM');
        for (const pid of services.filter(isRunning)) process.kill(pid);
      }
    },
    120_000,
  );

  it.runIf(process.platform === 'linux')(
    'delivers events a killed start left queued',
    async () => {
      const directory = mkdtempSync(join(tmpdir(), 'mql-data-'));
      // A webhook that rejects every event keeps it on the sales queue.
      let webhookCalls = 0;
      const webhook = createServer((request, response) => {
        webhookCalls += 1;
        request.resume();
        response.statusCode = 500;
        response.end();
      });
      await new Promise<void>((resolve) =>
        webhook.listen(0, '127.0.0.1', resolve),
      );
      const { port } = webhook.address() as AddressInfo;
      const first = startCli(
        {
          PORT: '0',
          MQL_SWEEP_INTERVAL_SECONDS: '0',
          MQL_WEBHOOK_URL: `http://127.0.0.1:${port}/`,
        },
        ['--data-dir', directory],
      );
      const firstErr = collect(first.stderr);
      await waitFor(() => firstErr.text.includes('ready:'), 60_000, 'ready');
      const api = /API (http:\/\/127\.0\.0\.1:\d+)/.exec(firstErr.text)?.[1];
      const services = childrenOf(first.pid ?? 0);
      const commandOf = (pid: number) =>
        readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const moto = services.find((pid) =>
        commandOf(pid).includes('moto_server'),
      );
      const dynamoDbLocal = services.find((pid) =>
        commandOf(pid).includes(directory),
      );
      let second: ChildProcess | undefined;
      try {
        const response = await fetch(`${api}/v1/batch`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from('dev-write-key:').toString('base64')}`,
          },
          body: JSON.stringify({ batch: qualifyingBatch('queued-lead') }),
        });
        expect(response.status).toBe(200);
        await waitFor(() => webhookCalls > 0, 15_000, 'the webhook call');
        first.kill('SIGKILL');
        await exited(first);
        // The operator stops the DynamoDB Local that the lock file names.
        process.kill(dynamoDbLocal ?? 0, 'SIGTERM');
        await waitFor(
          () => !isRunning(dynamoDbLocal ?? 0),
          10_000,
          'DynamoDB Local to stop',
        );

        second = startCli({ PORT: '0', MQL_SWEEP_INTERVAL_SECONDS: '0' }, [
          '--data-dir',
          directory,
        ]);
        const secondOut = collect(second.stdout);
        const secondErr = collect(second.stderr);
        await waitFor(
          () => secondOut.text.includes('\n'),
          90_000,
          'the queued event on stdout',
        );
        await waitFor(
          () => !isRunning(moto ?? 0),
          15_000,
          'the earlier moto_server to stop',
        );

        const event = JSON.parse(secondOut.text.trim().split('\n')[0] ?? '');
        expect(event['detail-type']).toBe('Lead Qualified');
        expect(event.detail.leadId).toBe('queued-lead');
        expect(secondErr.text).toContain(
          `delivering the events left in the sales queue of moto_server (process ${moto})`,
        );
      } finally {
        if (second?.exitCode === null) second.kill('SIGTERM');
        if (second !== undefined) await exited(second);
        for (const pid of services.filter(isRunning)) process.kill(pid);
        webhook.close();
        rmSync(directory, { recursive: true, force: true });
      }
    },
    180_000,
  );

  it('names a missing MQL_MODEL_FILE and exits with 1', async () => {
    const child = startCli({ MQL_MODEL_FILE: '/nonexistent/model.json' });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain(
      'The model file /nonexistent/model.json was not found.',
    );
    expect(stderr.text).not.toContain('ready:');
  });

  it.each(['MQL_MODEL_FILE', 'MQL_EVENTS_FILE'])(
    'rejects white space around %s',
    async (variable) => {
      const child = startCli({ [variable]: 'models/default.json ' });
      const stderr = collect(child.stderr);

      const code = await exited(child);

      expect(code).toBe(1);
      expect(stderr.text).toContain(
        `Invalid environment: ${variable}: must not start or end with white space; remove it`,
      );
      expect(stderr.text).not.toContain('ready:');
    },
  );

  it('names the invalid fields of MQL_MODEL_FILE', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mql-model-'));
    const file = join(directory, 'model.json');
    writeFileSync(file, JSON.stringify({ name: 'broken' }));
    const child = startCli({ MQL_MODEL_FILE: file });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain(`The model file ${file} is invalid.`);
    expect(stderr.text).toMatch(/\n {2}fit: /);
  });

  it('names every missing program and exits with 1', async () => {
    const child = startCli({ PORT: '0', PATH: pathWith({}) });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).toContain('Java was not found on PATH');
    expect(stderr.text).toContain("pip install 'moto[server]'");
  });

  it('names moto alone when Java is present', async () => {
    const child = startCli({
      PORT: '0',
      PATH: pathWith({ java: onPath('java') }),
    });
    const stderr = collect(child.stderr);

    const code = await exited(child);

    expect(code).toBe(1);
    expect(stderr.text).not.toContain('Java was not found');
    expect(stderr.text).toContain('moto_server was not found on PATH');
  });
});
