import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetRuntime } from '../../functions/adapters/runtime.js';
import {
  describeServiceExit,
  type LocalStack,
  type ServiceExit,
} from '../../local/stack.js';
import { startTestStack } from '../support/local-stack.js';

/** Waits until `condition` holds, for at most `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function hasExited(stack: LocalStack, name: string): boolean {
  const service = stack.services.find((candidate) => candidate.name === name);
  if (service === undefined) throw new Error(`no service ${name}`);
  return (
    service.process.exitCode !== null || service.process.signalCode !== null
  );
}

describe('local stack after a service exits', () => {
  let stack: LocalStack;
  const exits: ServiceExit[] = [];

  beforeAll(async () => {
    resetRuntime();
    stack = await startTestStack({
      writeKey: 'service-exit-write-key',
      adminToken: 'service-exit-admin-token',
      onServiceExit: (exit) => exits.push(exit),
    });
    const moto = stack.services.find(({ name }) => name === 'moto_server');
    moto?.process.kill('SIGKILL');
    // The stack stops DynamoDB Local itself, without a call of stop.
    await waitFor(() => hasExited(stack, 'DynamoDB Local'), 15_000);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    resetRuntime();
  });

  it('reports the service and its signal', () => {
    expect(exits).toEqual([
      { service: 'moto_server', code: null, signal: 'SIGKILL' },
    ]);
  });

  it('describes the exit in one line', () => {
    expect(describeServiceExit(exits[0] as ServiceExit)).toBe(
      'moto_server exited unexpectedly (signal SIGKILL)',
    );
  });

  it('stops DynamoDB Local', () => {
    expect(hasExited(stack, 'DynamoDB Local')).toBe(true);
  });

  it('closes the API', async () => {
    const request = fetch(`${stack.apiUrl}/leads/x`);

    await expect(request).rejects.toThrow();
  });

  it('ignores exits that stop causes', async () => {
    await stack.stop();

    expect(exits).toHaveLength(1);
  });
});

describe('local stack stop', () => {
  it('reports no exit when stopped', async () => {
    const exits: ServiceExit[] = [];
    resetRuntime();
    const stack = await startTestStack({
      writeKey: 'service-exit-write-key',
      adminToken: 'service-exit-admin-token',
      onServiceExit: (exit) => exits.push(exit),
    });

    await stack.stop();

    expect(exits).toEqual([]);
    expect(hasExited(stack, 'moto_server')).toBe(true);
    expect(hasExited(stack, 'DynamoDB Local')).toBe(true);
    resetRuntime();
  }, 120_000);
});
