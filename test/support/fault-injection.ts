import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoLeadRepository } from '../../functions/adapters/dynamodb/lead-repository.js';
import { EventBridgePublisher } from '../../functions/adapters/eventbridge/event-publisher.js';
import type {
  LeadRepository,
  OutboxEntry,
} from '../../functions/ports/lead-repository.js';
import type { ScoringDependencies } from '../../functions/use-cases/dependencies.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { LOCAL_AWS } from '../../local/services.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { createTestTable } from './aws.js';
import { defaultModel, manualClock, recordingLog } from './dependencies.js';

/**
 * Decides the result of one PutEvents entry from its event id, the number
 * of the PutEvents call and its parsed detail: undefined accepts it, a
 * result entry with an ErrorCode fails it.
 */
export type EntryFault = (
  eventId: string,
  call: number,
  detail: Record<string, unknown>,
) => PutEventsResultEntry | undefined;

/**
 * Builds the use cases' dependencies on a fresh DynamoDB Local table with
 * an EventBridge client whose PutEvents results come from `fault`. The
 * returned `delivered` lists the event id of every entry the fake bus
 * accepted, in order, repeats included.
 */
export async function faultyDependencies(fault: { current: EntryFault }) {
  const table = await createTestTable();
  const client = new EventBridgeClient(LOCAL_AWS);
  const mock = mockClient(client);
  const delivered: string[] = [];
  let calls = 0;
  mock.on(PutEventsCommand).callsFake((input) => {
    calls += 1;
    const entries: PutEventsRequestEntry[] = input.Entries ?? [];
    if (entries.length > 10) {
      throw new Error(
        `PutEvents got ${entries.length} entries; the limit is 10.`,
      );
    }
    const results = entries.map((entry, index) => {
      const detail = JSON.parse(entry.Detail ?? '{}');
      const eventId = detail.eventId as string;
      const failure = fault.current(eventId, calls, detail);
      if (failure !== undefined) return failure;
      delivered.push(eventId);
      return { EventId: `bus-${calls}-${index}` };
    });
    return {
      FailedEntryCount: results.filter((r) => r.ErrorCode).length,
      Entries: results,
    };
  });
  const clock = manualClock();
  const log = recordingLog();
  const repository = new DynamoLeadRepository(table.client, {
    tableName: table.tableName,
    reviewShards: 4,
  });
  const publisher = new EventBridgePublisher(client, {
    eventBusName: 'bus',
    sleep: async () => undefined,
  });
  const deps: ScoringDependencies = {
    repository,
    publisher,
    model: defaultModel(),
    clock: () => clock.now,
    log,
  };
  return {
    deps,
    clock,
    log,
    mock,
    delivered,
    repository,
    client: table.client,
  };
}

/**
 * Builds faultyDependencies whose bus fails entries by `fault.current`,
 * starting at `firstFault`, and ingests a qualifying batch of `leadId`
 * from `sourceId` through them. A test changes `fault.current` later.
 */
export async function qualifiedWithFault(
  leadId: string,
  firstFault: EntryFault,
  sourceId = 'web',
) {
  const fault = { current: firstFault };
  const setup = await faultyDependencies(fault);
  await ingestMessages(setup.deps, {
    sourceId,
    messages: qualifyingBatch(leadId),
    receivedAt: setup.clock.now,
  });
  return { setup, fault };
}

/** Lists every outbox entry of the table, pending or failed. */
export async function outboxEntries(
  repository: LeadRepository,
): Promise<OutboxEntry[]> {
  const entries: OutboxEntry[] = [];
  for (let shard = 0; shard < repository.reviewShards; shard += 1) {
    let cursor: string | undefined;
    do {
      const page = await repository.listDue(
        shard,
        Number.MAX_SAFE_INTEGER,
        100,
        cursor,
      );
      for (const item of page.items) {
        if (item.kind !== 'outbox') continue;
        const entry = await repository.getOutboxEntry(
          item.leadId,
          item.eventId,
        );
        if (entry !== undefined) entries.push(entry);
      }
      cursor = page.cursor;
    } while (cursor !== undefined);
  }
  let cursor: string | undefined;
  do {
    const page = await repository.listFailedOutbox(100, cursor);
    entries.push(...page.entries);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return entries;
}

/** Entry faults by name, for tables of cases. */
export const FAULTS = {
  throttled: {
    ErrorCode: 'ThrottlingException',
    ErrorMessage: 'Rate exceeded.',
  },
  internal: {
    ErrorCode: 'InternalFailure',
    ErrorMessage: 'Internal failure.',
  },
  invalid: {
    ErrorCode: 'InvalidArgument',
    ErrorMessage: 'Parameter Detail is not valid.',
  },
  malformed: {
    ErrorCode: 'MalformedDetail',
    ErrorMessage: 'Detail is malformed.',
  },
  denied: {
    ErrorCode: 'AccessDeniedException',
    ErrorMessage: 'Not authorized to put events.',
  },
} satisfies Record<string, PutEventsResultEntry>;
