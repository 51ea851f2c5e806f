import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoLeadRepository } from '../../functions/adapters/dynamodb/lead-repository.js';
import { tallyOf } from '../../functions/domain/intent-tallies.js';
import { compileModel } from '../../functions/domain/model-validation.js';
import { scoreLead } from '../../functions/domain/score.js';
import { testModelDocument } from '../fixtures/models.js';
import type { TrackingBackend } from '../support/tracking-api.js';
import {
  postBatch,
  startReliabilityBackend,
  useModelDocument,
} from './support/backend.js';

const REQUESTS = 64;
/** Points of one blog read in the test model, which has no cap on it. */
const BLOG_POINTS = 2;

let backend: TrackingBackend;
let repository: DynamoLeadRepository;

beforeAll(async () => {
  await useModelDocument(testModelDocument());
  ({ backend, repository } = await startReliabilityBackend());
});

afterAll(async () => {
  await backend?.stop();
  delete process.env.MQL_MODEL_FILE;
});

describe('concurrent requests for one lead', () => {
  it('lose no update', { timeout: 180_000 }, async () => {
    const leadId = `concurrent-${Date.now()}`;
    const at = new Date(Date.now() - 3_600_000).toISOString();
    const messages = Array.from({ length: REQUESTS }, (_, index) => ({
      type: 'page',
      messageId: `${leadId}-${index}`,
      userId: leadId,
      timestamp: at,
      properties: { path: `/blog/post-${index}` },
    }));

    const answers = await Promise.all(
      messages.map((message) => postBatch([message])),
    );

    const statuses = answers.flatMap((answer) =>
      answer.results.map((result) => result.status),
    );
    expect(statuses.filter((status) => status === 'scored')).toHaveLength(
      REQUESTS,
    );
    const state = await repository.getLead(leadId);
    expect(state?.eventCount).toBe(REQUESTS);
    const tally = state && tallyOf(state.intent, 'blog-read');
    expect(tally?.matched).toBe(REQUESTS);
    expect(await backend.storedEvents(leadId)).toHaveLength(REQUESTS);
    const model = compileModel(testModelDocument());
    const score = scoreLead(
      state ?? expect.unreachable(),
      model,
      Date.parse(at),
    );
    expect(score.intent).toBeCloseTo(REQUESTS * BLOG_POINTS, 6);
  });
});
