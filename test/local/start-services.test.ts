import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  type LocalService,
  ServiceStartError,
  startServices,
} from '../../local/services.js';

/** Returns a started service whose stop() is recorded in `stopped`. */
function fakeService(name: string, stopped: string[]): LocalService {
  return {
    name,
    endpoint: 'http://127.0.0.1:1',
    process: {} as ChildProcess,
    stop: async () => {
      stopped.push(name);
    },
  };
}

describe('startServices', () => {
  it('returns the services in order', async () => {
    const stopped: string[] = [];

    const services = await startServices([
      { name: 'a', start: async () => fakeService('a', stopped) },
      { name: 'b', start: async () => fakeService('b', stopped) },
    ]);

    expect(services.map((service) => service.name)).toEqual(['a', 'b']);
    expect(stopped).toEqual([]);
  });

  it('stops the started services on a failure', async () => {
    const stopped: string[] = [];
    // The failing start settles first, so a plain Promise.all would
    // reject before the slower service had started.
    const slowStart = async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return fakeService('slow', stopped);
    };

    const outcome = startServices([
      { name: 'slow', start: slowStart },
      {
        name: 'moto_server',
        start: async () => {
          throw new Error('moto_server failed to start: it exited.');
        },
      },
    ]);

    await expect(outcome).rejects.toThrow(ServiceStartError);
    await expect(outcome).rejects.toThrow(
      /^moto_server failed to start: it exited\.$/,
    );
    expect(stopped).toEqual(['slow']);
  });

  it('names every service that failed', async () => {
    const outcome = startServices([
      {
        name: 'DynamoDB Local',
        start: async () => {
          throw new Error('Java was not found on PATH.');
        },
      },
      {
        name: 'moto_server',
        start: async () => {
          throw new Error('moto_server was not found on PATH.');
        },
      },
    ]);

    const error = await outcome.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServiceStartError);
    expect((error as ServiceStartError).services).toEqual([
      'DynamoDB Local',
      'moto_server',
    ]);
    expect((error as Error).message).toBe(
      'DynamoDB Local failed to start: Java was not found on PATH.\n' +
        'moto_server was not found on PATH.',
    );
  });
});
