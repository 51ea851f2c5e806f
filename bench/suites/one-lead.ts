import type { TransactWriteItemsCommandInput } from '@aws-sdk/client-dynamodb';
import { MAX_EVENTS_PER_WRITE } from '../../functions/use-cases/update-lead.js';
import type { BenchContext, SuiteReport } from '../context.js';
import { startIngestBackend } from '../handler-backend.js';
import { median, timed } from '../stats.js';
import {
  capturedTransactions,
  itemCount,
  replayTransactions,
} from '../transaction-replay.js';

export const description =
  'One request of 4,000 events of one lead beside its transactions replayed alone.';

/** Events of the one lead per request, about 360 KB of the 500 KB body. */
const EVENTS = 4000;
const ROUNDS = 3;

let requests = 0;

/** Returns EVENTS page views of a new lead, each with a new message id. */
function oneLeadBatch(): unknown[] {
  requests += 1;
  const userId = `one-lead-${process.pid}-${requests}`;
  return Array.from({ length: EVENTS }, (_, index) => ({
    type: 'page',
    messageId: `${requests}-${index}`,
    userId,
    properties: { path: index % 5 === 0 ? '/pricing' : '/blog/a' },
  }));
}

export async function run(context: BenchContext): Promise<SuiteReport> {
  const backend = await startIngestBackend(context, 'bench-one-lead');
  const { client } = await context.dynamoDb();
  const post = async () => {
    const response = await backend.postBatch(oneLeadBatch());
    const scored = JSON.parse(response.body).counts?.scored;
    if (response.status !== 200 || scored !== EVENTS) {
      throw new Error(
        `The ingest handler returned ${response.status} and scored ` +
          `${scored} of ${EVENTS} events: ${response.body.slice(0, 300)}`,
      );
    }
  };

  const observed: TransactWriteItemsCommandInput[] = [];
  backend.observe((name, input) => {
    if (name === 'TransactWriteItemsCommand') {
      observed.push(input as TransactWriteItemsCommandInput);
    }
  });
  context.progress('[one-lead] capturing the transactions of one request');
  const writes = await capturedTransactions(observed, post);
  // One lead's transactions chain on its version, so they replay in order.
  const replay = () => replayTransactions(client, writes, 1);

  const requestMs: number[] = [];
  const replayMs: number[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    context.progress(`[one-lead] round ${round} of ${ROUNDS}`);
    requestMs.push((await timed(post)).ms);
    replayMs.push((await timed(replay)).ms);
  }
  const request = median(requestMs);
  const floor = median(replayMs);
  return {
    title: 'One lead per request',
    figures: [
      {
        name: `The handler's ${writes.length} transactions, replayed in order (baseline)`,
        value: floor / 1000,
        unit: 's',
      },
      {
        name: `One request of ${EVENTS.toLocaleString('en-US')} events of one lead`,
        value: request / 1000,
        unit: 's',
        baseline: { name: 'replayed transactions', value: floor / 1000 },
      },
    ],
    notes: [
      `Method: ${ROUNDS} alternating rounds, medians. Each round sends ` +
        `one POST /v1/batch of ${EVENTS.toLocaleString('en-US')} page views of a new lead to the ` +
        'real ingest handler in process on DynamoDB Local, then replays ' +
        "the handler's own transactions for one such request, captured " +
        'once before the rounds and sent again in order without their ' +
        'conditions, reads or scoring. The handler writes ' +
        `${MAX_EVENTS_PER_WRITE} events per transaction (` +
        `${writes.length} transactions of ${itemCount(writes)} items ` +
        'in all), each conditioned on the version the one before wrote, ' +
        'so they cannot overlap; the replay is the floor of that design.',
    ],
  };
}
