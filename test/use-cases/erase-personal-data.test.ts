import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  sha256Hex,
} from '../../functions/domain/canonical-json.js';
import { eraseLead } from '../../functions/use-cases/erase-lead.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { recordDisposition } from '../../functions/use-cases/record-disposition.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { realDependencies } from '../support/dependencies.js';

type Context = Awaited<ReturnType<typeof realDependencies>>;

/**
 * A person whose email address and name appear in every place a
 * tracking client can put them: ids, event names, property keys and
 * values, trait values and a sales reason.
 */
const PERSON = {
  userId: 'u-7731',
  email: 'zorquil.vexbrin@daxmok-gmbh.example',
  oldEmail: 'z.vexbrin@quilmok.example',
  firstName: 'Zorquil',
  lastName: 'Vexbrin',
  anonymousId: 'device-7731-a',
};

function personMessages(): unknown[] {
  const { userId, email, oldEmail, firstName, lastName, anonymousId } = PERSON;
  const name = `${firstName} ${lastName}`;
  return [
    {
      type: 'page',
      messageId: `${anonymousId}-page`,
      anonymousId,
      name: `${name} pricing`,
      properties: { path: '/pricing', [email]: name },
    },
    {
      type: 'group',
      messageId: `${anonymousId}-group`,
      anonymousId,
      groupId: 'acct-42',
      traits: { name: 'Acme Industrial', owner: name, ownerEmail: email },
    },
    {
      type: 'identify',
      messageId: `${email}-identify`,
      userId,
      anonymousId,
      traits: {
        email,
        name,
        firstName,
        lastName,
        title: 'Chief Procurement Officer',
        company: {
          name: 'Acme Industrial',
          employee_count: 25000,
          industry: 'Manufacturing',
        },
        [`note ${lastName}`]: `${firstName} prefers calls`,
      },
    },
    {
      type: 'track',
      messageId: email,
      userId,
      event: `${name} requested a demo`,
      properties: { contact: { [lastName]: email } },
    },
    {
      type: 'track',
      messageId: `${email}-demo`,
      userId,
      event: 'Demo Requested',
    },
    {
      type: 'identify',
      messageId: `${oldEmail}-identify`,
      userId: oldEmail,
      traits: { email: oldEmail, name },
    },
    {
      type: 'alias',
      messageId: `${oldEmail}-alias`,
      previousId: oldEmail,
      userId,
    },
  ];
}

function colleagueMessages(): unknown[] {
  return [
    {
      type: 'identify',
      messageId: 'carl-identify',
      userId: 'carl@daxmok-gmbh.example',
      traits: { title: 'CFO', email: 'carl@daxmok-gmbh.example' },
    },
    {
      type: 'group',
      messageId: 'carl-group',
      userId: 'carl@daxmok-gmbh.example',
      groupId: 'acct-42',
    },
  ];
}

async function scanTable(context: Context) {
  const { Items = [] } = await context.table.client.send(
    new ScanCommand({ TableName: context.table.tableName }),
  );
  return Items.map((item) => unmarshall(item));
}

/** Every text of the person that must not outlive the erasure. */
function personalTexts(): string[] {
  const { userId, email, oldEmail, firstName, lastName, anonymousId } = PERSON;
  return [
    userId,
    email,
    oldEmail,
    firstName,
    lastName,
    anonymousId,
    sha256Hex(userId),
    sha256Hex(email),
  ].map((text) => text.toLowerCase());
}

function itemsNamingPerson(items: Record<string, unknown>[]) {
  return items.filter((item) => {
    const text = JSON.stringify(item).toLowerCase();
    return personalTexts().some((needle) => text.includes(needle));
  });
}

describe('erasure of personal data', () => {
  it('leaves no item naming the person', async () => {
    const context = await realDependencies();
    const { deps, clock } = context;
    const ingest = (messages: unknown[]) =>
      ingestMessages(deps, {
        sourceId: 'default',
        messages,
        receivedAt: clock.now,
      });
    await ingest(personMessages());
    await ingest(colleagueMessages());
    await recordDisposition(deps, PERSON.userId, {
      kind: 'rejected',
      reason: `${PERSON.firstName} ${PERSON.lastName} has no budget`,
    });
    clock.advance(60_000);
    await runSweep(deps, { now: clock.now, deadline: Infinity });
    const before = itemsNamingPerson(await scanTable(context));

    await eraseLead(deps, PERSON.userId);

    const after = itemsNamingPerson(await scanTable(context));
    expect(before.length).toBeGreaterThan(5);
    expect(after).toEqual([]);
  });

  it('publishes no email or name in details', async () => {
    const context = await realDependencies();
    const { deps, clock } = context;
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: [...personMessages(), ...colleagueMessages()],
      receivedAt: clock.now,
    });
    await recordDisposition(deps, PERSON.userId, {
      kind: 'rejected',
      reason: 'no budget this year',
    });
    await eraseLead(deps, PERSON.userId);

    const types = context.published.map((event) => event.detailType);
    const details = context.published.map((event) =>
      JSON.stringify(event.detail).toLowerCase(),
    );
    const { email, oldEmail, firstName, lastName } = PERSON;
    const needles = [email, oldEmail, firstName, lastName];
    const leaks = needles.filter((needle) =>
      details.some((detail) => detail.includes(needle.toLowerCase())),
    );
    expect(types).toContain('Lead Qualified');
    expect(types).toContain('Lead Erased');
    expect(leaks).toEqual([]);
  });

  it('keeps outcomes unlinkable after erasure', async () => {
    const context = await realDependencies();
    const { deps, clock } = context;
    const leadId = 'carla@daxmok-gmbh.example';
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: qualifyingBatch(leadId),
      receivedAt: clock.now,
    });
    const accepted = await recordDisposition(deps, leadId, {
      kind: 'accepted',
    });
    clock.advance(60_000);
    await recordDisposition(deps, leadId, {
      kind: 'converted',
      convertedTo: 'sql',
    });

    await eraseLead(deps, leadId);

    const outcomes = (await scanTable(context)).filter(
      (item) => item.entity === 'outcome',
    );
    const keys = new Set(outcomes.map((outcome) => outcome.episodeKey));
    const computable = sha256Hex(canonicalJson(['outcome', leadId, 1]));
    expect(outcomes).toHaveLength(2);
    expect(keys.size).toBe(1);
    expect(keys.has(computable.slice(0, 32))).toBe(false);
    expect(JSON.stringify(accepted.lead)).not.toContain('outcomeSalt');
  });
});
