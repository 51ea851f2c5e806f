import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { EventBridgePublisher } from '../../functions/adapters/eventbridge/event-publisher.js';
import type { OutgoingEvent } from '../../functions/domain/outgoing-events.js';
import {
  type RoutingTarget,
  routingTargetSchema,
  SALES_TARGET,
} from '../../lib/definitions/event-routing.js';
import { createEventRouting } from '../../local/provision.js';
import { LOCAL_AWS } from '../../local/services.js';
import { uniqueName } from '../support/aws.js';

const PROCUREMENT_LEADERS = [
  'title-chief-procurement-officer',
  'title-vp-procurement',
  'title-director-strategic-sourcing',
];

/** Targets as a stage configuration file declares them. */
const TARGETS: RoutingTarget[] = [
  SALES_TARGET,
  {
    type: 'queue',
    id: 'procurement-leaders',
    description: 'MQLs in procurement leadership.',
    eventPattern: {
      'detail-type': ['Lead Qualified'],
      detail: { persona: PROCUREMENT_LEADERS },
    },
  },
  {
    type: 'queue',
    id: 'hot-leads',
    description: 'MQLs scoring above 80.',
    eventPattern: {
      'detail-type': ['Lead Qualified'],
      detail: { score: [{ numeric: ['>', 80] }] },
    },
  },
  {
    type: 'api-destination',
    id: 'crm',
    description: 'Sales feedback and erasures for the CRM.',
    eventPattern: {
      'detail-type': ['Lead Disposition Changed', 'Lead Erased'],
    },
    endpoint: 'https://crm.example.com/hooks/mql',
    auth: {
      type: 'api-key',
      headerName: 'x-api-key',
      secretName: 'crm/api-key',
    },
  },
].map((target) => routingTargetSchema.parse(target));

function qualified(id: string, score: number, persona?: string): OutgoingEvent {
  return {
    eventId: id,
    leadId: `lead-${id}`,
    detailType: 'Lead Qualified',
    createdAt: 0,
    detail: {
      schemaVersion: '1',
      eventId: id,
      leadId: `lead-${id}`,
      occurredAt: '2026-06-01T00:00:00.000Z',
      episode: 1,
      status: 'mql',
      previousStatus: 'engaged',
      score,
      fit: score / 2,
      intent: score / 2,
      threshold: 70,
      recycleBelow: 40,
      modelVersion: 'abc123',
      reason: 'score reached the threshold 70',
      topContributions: [],
      contributions: [],
      quarantined: [],
      ...(persona === undefined ? {} : { persona }),
    },
  };
}

const EVENTS: OutgoingEvent[] = [
  qualified('cpo-hot', 125, 'title-chief-procurement-officer'),
  qualified('vp-warm', 75, 'title-vp-procurement'),
  qualified('cfo-hot', 95, 'title-cfo'),
  qualified('anon-warm', 71),
  {
    eventId: 'recycled',
    leadId: 'lead-recycled',
    detailType: 'Lead Recycled',
    createdAt: 0,
    detail: {
      ...qualified('recycled', 90, 'title-chief-procurement-officer').detail,
      eventId: 'recycled',
      status: 'recycled',
      previousStatus: 'mql',
    } as never,
  } as OutgoingEvent,
  {
    eventId: 'accepted',
    leadId: 'lead-cpo-hot',
    detailType: 'Lead Disposition Changed',
    createdAt: 0,
    detail: {
      schemaVersion: '1',
      eventId: 'accepted',
      occurredAt: '2026-06-02T00:00:00.000Z',
      leadId: 'lead-cpo-hot',
      episode: 1,
      disposition: 'accepted',
      previousDisposition: null,
      convertedTo: null,
      reason: null,
      status: 'mql',
      score: 125,
      modelVersion: 'abc123',
    },
  },
  {
    eventId: 'erased',
    leadId: 'lead-anon-warm',
    detailType: 'Lead Erased',
    createdAt: 0,
    detail: {
      schemaVersion: '1',
      eventId: 'erased',
      occurredAt: '2026-06-03T00:00:00.000Z',
      leadIdSha256: 'a'.repeat(64),
      itemsDeleted: 4,
      accountsUpdated: 0,
    },
  },
];

/** Event ids each target must receive, and nothing else. */
const EXPECTED: Record<string, string[]> = {
  sales: ['anon-warm', 'cfo-hot', 'cpo-hot', 'vp-warm'],
  'procurement-leaders': ['cpo-hot', 'vp-warm'],
  'hot-leads': ['cfo-hot', 'cpo-hot'],
  crm: ['accepted', 'erased'],
};

const received = new Map<string, string[]>();

async function drain(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (let round = 0; round < 3; round += 1) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: round === 0 ? 1 : 0,
      }),
    );
    if (Messages.length === 0 && round > 0) break;
    for (const message of Messages) {
      ids.push(JSON.parse(message.Body ?? '{}').detail.eventId);
    }
  }
  return ids.sort();
}

beforeAll(async () => {
  const endpoint = inject('motoEndpoint');
  const routing = await createEventRouting(
    endpoint,
    uniqueName('routes'),
    TARGETS,
  );
  const events = new EventBridgeClient({ ...LOCAL_AWS, endpoint });
  const sqs = new SQSClient({ ...LOCAL_AWS, endpoint });
  const publisher = new EventBridgePublisher(events, {
    eventBusName: routing.eventBusName,
  });
  const result = await publisher.publish(EVENTS);
  if (result.failed.length > 0) {
    throw new Error(`publish failed: ${JSON.stringify(result.failed)}`);
  }
  for (const [targetId, queueUrl] of Object.entries(routing.queueUrls)) {
    received.set(targetId, await drain(sqs, queueUrl));
  }
});

describe('routing targets on moto', () => {
  it.each(Object.entries(EXPECTED))(
    '%s receives exactly its events',
    (targetId, expected) => {
      expect(received.get(targetId)).toEqual(expected);
    },
  );

  it('creates a queue for every target', () => {
    expect([...received.keys()].sort()).toEqual(
      TARGETS.map((target) => target.id).sort(),
    );
  });
});
