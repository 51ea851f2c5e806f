import { randomUUID } from 'node:crypto';
import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkCase,
  type FuzzTarget,
  fuzzCaseArbitrary,
} from '../../bench/reliability/ingest-fuzz.js';
import { handler } from '../../functions/handlers/ingest.js';
import {
  startTrackingBackend,
  type TrackingBackend,
  WRITE_KEY,
} from '../support/tracking-api.js';

/** Cases per run; `npm run soak` runs 10,000. */
const CASES = Number(process.env.FUZZ_CASES ?? 300);

let backend: TrackingBackend;

beforeAll(async () => {
  backend = await startTrackingBackend();
});

afterAll(async () => {
  await backend?.stop();
});

describe('ingest route fuzzing', () => {
  it('answers 2xx or 4xx and stores exactly the scored messages', async () => {
    const run = randomUUID().slice(0, 8);
    const target: FuzzTarget = {
      writeKey: WRITE_KEY,
      send: async (event) => {
        const response = await handler(event);
        return {
          status: response.statusCode ?? 0,
          body: response.body ?? '',
        };
      },
      storedMessageIds: async (leadId) =>
        (await backend.storedEvents(leadId)).map((event) => event.messageId),
    };

    let scoredCases = 0;
    let clientErrors = 0;
    await fc.assert(
      fc.asyncProperty(fuzzCaseArbitrary, async (fuzzCase) => {
        const outcome = await checkCase(target, run, fuzzCase);
        expect(outcome.failure).toBeUndefined();
        if (outcome.scored > 0) scoredCases += 1;
        if (outcome.status >= 400) clientErrors += 1;
      }),
      { numRuns: CASES },
    );

    // The generated cases reach both the storing and the rejecting paths.
    expect(scoredCases).toBeGreaterThan(CASES / 20);
    expect(clientErrors).toBeGreaterThan(CASES / 20);
  }, 600_000);
});
