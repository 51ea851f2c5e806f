import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactEmails } from '../../functions/adapters/observability/redaction.js';
import { resetRuntime } from '../../functions/adapters/runtime.js';
import type { LocalStack } from '../../local/stack.js';
import { runReplay } from '../../scripts/replay/run-replay.js';
import { startTestStack } from '../support/local-stack.js';
import { type CapturedOutput, captureOutput } from '../support/output.js';

const WRITE_KEY = 'personal-data-write-key';
const ADMIN_TOKEN = 'personal-data-admin-token';
const LEAD_COUNT = 12;

/** Email addresses as they would appear in any log line. */
const EMAIL_ADDRESS =
  /[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;

/**
 * Syllables of generated names, chosen so no name is an English word.
 * Two are not ASCII, so some emails have non-ASCII local parts and
 * domains, as internationalized addresses do.
 */
const SYLLABLES = ['zor', 'quil', 'vex', 'brin', 'täl', 'møk', 'yra', 'dax'];

interface Person {
  userId: string;
  firstName: string;
  lastName: string;
  email: string;
}

function generatedName(index: number, offset: number): string {
  const first = SYLLABLES[(index + offset) % SYLLABLES.length] ?? 'zor';
  const second = SYLLABLES[(index * 3 + offset + 1) % SYLLABLES.length];
  const name = `${first}${second}${String.fromCharCode(97 + (index % 26))}`;
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * People with names and emails. Every third one uses the email address as
 * userId, as some tracking setups do, so the lead id itself is an email.
 */
function people(count: number): Person[] {
  return Array.from({ length: count }, (_, index) => {
    const firstName = generatedName(index, 0);
    const lastName = generatedName(index, 5);
    const email =
      `${firstName}.${lastName}@${lastName}-gmbh.example.com`.toLowerCase();
    const userId = index % 3 === 0 ? email : `person-${index}`;
    return { userId, firstName, lastName, email };
  });
}

/**
 * Valid addresses (RFC 5321 and 5322) that a pattern for common addresses
 * misses, each used as a user id and as the email trait. They have a
 * quoted local part with a name, a `!` in the local part, a domain
 * without a dot, an address literal or one letter on each side.
 */
const UNUSUAL_ADDRESSES = [
  '"Zorquil Vexbrin"@quil-gmbh.example',
  'daxyra!vex.tälbrin@yra-gmbh.example',
  'brin.zorvex@intranet',
  'quil.møkdax@[10.0.0.1]',
  'x@localhost',
  'a@b',
];

/** People whose user id and email are one of UNUSUAL_ADDRESSES. */
function unusualPeople(): Person[] {
  return UNUSUAL_ADDRESSES.map((email, index) => ({
    userId: email,
    firstName: generatedName(LEAD_COUNT + index, 0),
    lastName: generatedName(LEAD_COUNT + index, 5),
    email,
  }));
}

/**
 * Parts of an address that must not be logged either: the local part
 * without quotes, the words of a quoted name and the domain. Parts of at
 * most three characters are left out, because they occur in any text.
 */
function addressParts(address: string): string[] {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at).replaceAll('"', '');
  const domain = address.slice(at + 1);
  const parts = [local, domain, ...local.split(/[\s!.]/)];
  return parts.filter((part) => part.length > 3);
}

/** Segment messages of one person, with personal data where clients put it. */
function messagesOf(person: Person, index: number): unknown[] {
  const { userId, firstName, lastName, email } = person;
  const name = `${firstName} ${lastName}`;
  return [
    {
      type: 'identify',
      messageId: `${index}-identify`,
      userId,
      traits: {
        name,
        firstName,
        lastName,
        email,
        title: 'Chief Procurement Officer',
        company: { name: `${lastName} GmbH`, employee_count: 12000 },
      },
    },
    {
      type: 'page',
      messageId: `${index}-pricing`,
      userId,
      name: 'Pricing',
      properties: {
        path: '/pricing',
        url: `https://vendor.example/pricing?email=${encodeURIComponent(email)}`,
      },
    },
    {
      type: 'track',
      messageId: `${index}-demo`,
      userId,
      event: 'Demo Requested',
      properties: { contactName: name, contactEmail: email },
    },
    {
      type: 'group',
      messageId: `${index}-group`,
      userId,
      groupId: `account-${index}`,
      traits: { name: `${lastName} GmbH`, owner: name },
    },
    // Invalid: a number as userId. It is rejected with its field path.
    {
      type: 'identify',
      messageId: `${index}-invalid`,
      userId: 42,
      traits: { email, name },
    },
    // A merge of the user id into another one, logged with both ids.
    {
      type: 'alias',
      messageId: `${index}-alias`,
      userId: `renamed-${index}`,
      previousId: userId,
    },
  ];
}

describe('log output of a replay', () => {
  const persons = [...people(LEAD_COUNT), ...unusualPeople()];
  let stack: LocalStack;
  let directory: string;
  let output: CapturedOutput;
  let savedLogLevel: string | undefined;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'personal-data-'));
    const file = join(directory, 'people.ndjson');
    const lines = persons.flatMap((person, index) =>
      messagesOf(person, index).map((message) => JSON.stringify(message)),
    );
    await writeFile(file, `${lines.join('\n')}\n`);

    savedLogLevel = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    resetRuntime();
    output = captureOutput();
    try {
      stack = await startTestStack({
        writeKey: WRITE_KEY,
        adminToken: ADMIN_TOKEN,
        onStatus: (message, error) =>
          process.stderr.write(`[status] ${message} ${String(error ?? '')}\n`),
      });
      await runWorkload(file);
    } finally {
      output.restore();
    }
  });

  afterAll(async () => {
    await stack?.stop();
    await rm(directory, { recursive: true, force: true });
    process.env.POWERTOOLS_LOG_LEVEL = savedLogLevel;
    resetRuntime();
  });

  /** Replays the file twice, then exercises errors, reads and the sweep. */
  async function runWorkload(file: string): Promise<void> {
    const replay = {
      file,
      url: stack.apiUrl,
      writeKey: WRITE_KEY,
      adminToken: ADMIN_TOKEN,
      batchSize: 7,
      concurrency: 4,
      referenceTime: Date.now(),
      maxVisits: 50,
    };
    await runReplay(replay);
    await runReplay(replay);
    const basic = `Basic ${Buffer.from('wrong-key:').toString('base64')}`;
    await fetch(`${stack.apiUrl}/v1/batch`, {
      method: 'POST',
      headers: { authorization: basic },
      body: JSON.stringify({ batch: messagesOf(persons[0] as Person, 0) }),
    });
    await fetch(`${stack.apiUrl}/v1/batch`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
      },
      body: `{"batch": [{"traits": {"email": "${persons[1]?.email}"`,
    });
    for (const person of persons.slice(0, 6)) {
      await fetch(
        `${stack.apiUrl}/leads/${encodeURIComponent(person.userId)}`,
        {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        },
      );
    }
    await stack.sweep();
  }

  it('captures the handlers debug logs', () => {
    const text = output.all();

    expect(text).toContain('"level":"DEBUG"');
    expect(text).toContain('"message":"messages ingested"');
    expect(text).toContain('"message":"request rejected"');
    expect(text).toContain('"message":"sweep finished"');
  });

  it('logs merged email ids redacted', () => {
    const linked = output
      .all()
      .split('\n')
      .filter((line) => line.includes('"message":"identity linked"'));

    expect(linked.length).toBeGreaterThan(0);
    const sourceTag = redactEmails(persons[0]?.userId ?? '');
    expect(sourceTag).toMatch(/^\[email sha256:[0-9a-f]{64}\]$/);
    expect(linked.join('\n')).toContain(`"sourceLeadId":"${sourceTag}"`);
    expect(linked.join('\n')).toContain('"targetLeadId":"renamed-0"');
  });

  it('contains no email address', () => {
    const match = EMAIL_ADDRESS.exec(output.all());

    expect(match?.[0]).toBeUndefined();
  });

  it('contains none of the emails sent', () => {
    const text = output.all().toLowerCase();

    const found = persons.filter(({ email }) => text.includes(email));

    expect(found.map(({ email }) => email)).toEqual([]);
  });

  it('contains no part of an unusual address', () => {
    const text = output.all().toLowerCase();
    const parts = UNUSUAL_ADDRESSES.flatMap((address) =>
      addressParts(address.toLowerCase()),
    );

    const found = parts.filter((part) => text.includes(part));

    expect(found).toEqual([]);
  });

  it('contains no first, last or full name', () => {
    const text = output.all().toLowerCase();
    const names = persons.flatMap(({ firstName, lastName }) => [
      firstName,
      lastName,
      `${firstName} ${lastName}`,
    ]);

    const found = names.filter((name) => text.includes(name.toLowerCase()));

    expect(found).toEqual([]);
  });
});
