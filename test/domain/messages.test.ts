import { describe, expect, it } from 'vitest';
import type { FieldIssue } from '../../functions/domain/errors.js';
import {
  MAX_MESSAGE_BYTES,
  MAX_NESTING_DEPTH,
  parseMessage,
} from '../../functions/domain/message-checks.js';
import {
  CLOCK_SKEW_TOLERANCE_MS,
  EARLIEST_EVENT_TIME,
  flattenTraits,
  parseIsoDateTime,
  resolveEventTime,
  type SegmentMessage,
  segmentMessageSchema,
  toTrackingEvent,
} from '../../functions/domain/messages.js';

const receivedAt = Date.parse('2026-06-01T12:00:00Z');
const receivedAtText = '2026-06-01T12:00:00Z';

/** Returns the JSON text of `levels` arrays nested as `[[...]]`. */
function nestedArrays(levels: number): string {
  return `${'['.repeat(levels)}${']'.repeat(levels)}`;
}

function errorsOf(message: unknown): FieldIssue[] {
  const parsed = parseMessage(message);
  return parsed.success ? [] : parsed.errors;
}

describe('parseMessage', () => {
  const tooDeep = nestedArrays(MAX_NESTING_DEPTH + 1);

  it('takes a message nested up to the limit', () => {
    const message = JSON.parse(
      `{"type":"track","userId":"u","event":"x","properties":{"a":${nestedArrays(MAX_NESTING_DEPTH - 1)}}}`,
    );

    expect(parseMessage(message).success).toBe(true);
  });

  it('names each too-deep field and the other errors', () => {
    const message = JSON.parse(
      `{"type":"track","traits":${tooDeep},"context":${tooDeep},"timestamp":"soon"}`,
    );

    const errors = errorsOf(message);

    expect(errors.map((error) => error.field)).toEqual([
      'traits',
      'context',
      'timestamp',
      'event',
      'userId',
    ]);
    expect(errors[0]?.message).toContain(
      `more than ${MAX_NESTING_DEPTH} levels deep`,
    );
    expect(errors[1]?.message).toContain(
      `more than ${MAX_NESTING_DEPTH} levels deep`,
    );
    expect(errors[3]?.message).toBe('is required');
  });

  it('leaves out the schema errors of a too-deep field', () => {
    // An empty array in place of `event` would be "must not be empty",
    // and without `anonymousId` the message would lack an id.
    const message = JSON.parse(
      `{"type":"track","event":${tooDeep},"anonymousId":${tooDeep},"context":{"n":${tooDeep}}}`,
    );

    const errors = errorsOf(message);

    expect(errors.map((error) => error.field)).toEqual([
      'event',
      'anonymousId',
      'context',
    ]);
  });

  it('checks no schema beside a too-deep type', () => {
    const message = JSON.parse(`{"type":${tooDeep},"userId":7.5e400}`);

    expect(errorsOf(message).map((error) => error.field)).toEqual(['type']);
  });

  it('names a too-deep __proto__ field as data', () => {
    const message = JSON.parse(
      `{"type":"track","userId":"u","__proto__":${tooDeep}}`,
    );

    const errors = errorsOf(message);

    expect(errors.map((error) => error.field)).toEqual(['__proto__', 'event']);
    expect(Object.getPrototypeOf(message)).toBe(Object.prototype);
  });

  it('gives an oversized message the size error alone', () => {
    const message = {
      type: 'track',
      properties: { notes: 'x'.repeat(MAX_MESSAGE_BYTES) },
    };

    const errors = errorsOf(message);

    expect(errors).toHaveLength(1);
    expect(errors[0]?.field).toBe('(root)');
    expect(errors[0]?.message).toContain(
      `limit is ${MAX_MESSAGE_BYTES} bytes per message`,
    );
  });

  it('measures the message as sent', () => {
    const sent = {
      userId: 'u',
      event: 'x',
      properties: { notes: 'x'.repeat(MAX_MESSAGE_BYTES - 60) },
    };
    const sentBytes = Buffer.byteLength(JSON.stringify(sent));
    const padding = 'x'.repeat(MAX_MESSAGE_BYTES - sentBytes);
    const atLimit = {
      ...sent,
      properties: { notes: `${sent.properties.notes}${padding}` },
    };
    const message = { ...atLimit, type: 'track', sentAt: receivedAtText };

    expect(parseMessage(message, atLimit).success).toBe(true);
    expect(parseMessage(message).success).toBe(false);
  });

  it('measures the message when a sent field is too deep', () => {
    // The message's type replaced the sent one, which JSON.stringify
    // cannot measure without overflowing the stack.
    const sent = JSON.parse(
      `{"type":${nestedArrays(10_000)},"userId":"u","event":"x"}`,
    );
    const message = { ...sent, type: 'track' };

    expect(parseMessage(message, sent).success).toBe(true);
  });

  it('measures the sent message beside a too-deep field', () => {
    // Without its too-deep context the sent message is exactly at the
    // limit, so its other fields are still checked.
    const shallow = { userId: 'u', context: [], properties: { notes: '' } };
    const padding = MAX_MESSAGE_BYTES - JSON.stringify(shallow).length;
    const sent = JSON.parse(
      `{"userId":"u","context":${tooDeep},"properties":{"notes":"${'x'.repeat(padding)}"}}`,
    );
    const message = { ...sent, type: 'track', sentAt: receivedAtText };

    const parsed = parseMessage(message, sent);

    const fields = parsed.success
      ? []
      : parsed.errors.map((error) => error.field);
    expect(fields).toEqual(['context', 'event']);
    expect(errorsOf(message).map((error) => error.field)).toEqual(['context']);
  });

  it('checks no schema of an oversized message with a too-deep field', () => {
    const message = JSON.parse(
      `{"type":"track","context":${tooDeep},"properties":{"notes":"${'x'.repeat(MAX_MESSAGE_BYTES)}"}}`,
    );

    const errors = errorsOf(message);

    expect(errors).toHaveLength(1);
    expect(errors[0]?.field).toBe('context');
  });
});

describe('segmentMessageSchema', () => {
  it.each([
    { type: 'track', userId: 'u', event: 'Demo Requested' },
    { type: 'page', anonymousId: 'a', properties: { path: '/pricing' } },
    { type: 'screen', userId: 7, name: 'Home' },
    { type: 'identify', userId: 'u', traits: { title: 'CFO' } },
    { type: 'group', userId: 'u', groupId: 'acme', traits: {} },
    { type: 'alias', userId: 'u', previousId: 'a' },
  ])('accepts a $type message', (message) => {
    expect(segmentMessageSchema.safeParse(message).success).toBe(true);
  });

  it.each([
    { message: { type: 'track', event: 'x' }, field: 'userId' },
    { message: { type: 'track', userId: 'u' }, field: 'event' },
    { message: { type: 'track', userId: 'u', event: '' }, field: 'event' },
    { message: { type: 'jump', userId: 'u' }, field: 'type' },
    { message: { type: 'group', userId: 'u' }, field: 'groupId' },
    {
      message: { type: 'page', userId: 'u', timestamp: 'yesterday' },
      field: 'timestamp',
    },
    { message: { type: 'identify', userId: '  ' }, field: 'userId' },
  ])('rejects a message without a valid $field', ({ message, field }) => {
    const parsed = segmentMessageSchema.safeParse(message);

    expect(parsed.success).toBe(false);
    const paths = parsed.error?.issues.map((issue) => issue.path.join('.'));
    expect(paths).toContain(field);
  });
});

describe('segmentMessageSchema free content', () => {
  it.each([
    {
      json: '{"type":"track","userId":"u","event":"x","properties":{"n":1e400}}',
      path: 'properties.n',
    },
    {
      json: '{"type":"page","userId":"u","properties":{"a":{"b":[1,-1e999]}}}',
      path: 'properties.a.b.1',
    },
    {
      json: '{"type":"identify","userId":"u","traits":{"spend":1e309}}',
      path: 'traits.spend',
    },
    {
      json: '{"type":"track","userId":"u","event":"x","context":{"page":{"w":1e400}}}',
      path: 'context.page.w',
    },
  ])(
    'rejects a number JSON.parse reads as infinite at $path',
    ({ json, path }) => {
      const parsed = segmentMessageSchema.safeParse(JSON.parse(json));

      expect(parsed.success).toBe(false);
      const issue = parsed.error?.issues[0];
      expect(issue?.path.join('.')).toBe(path);
      expect(issue?.message).toContain('send a smaller number');
    },
  );

  it('keeps the largest finite numbers', () => {
    const parsed = segmentMessageSchema.safeParse(
      JSON.parse(
        '{"type":"track","userId":"u","event":"x","properties":{"n":1.7e308,"m":-5e-324}}',
      ),
    );

    expect(parsed.data).toMatchObject({
      properties: { n: 1.7e308, m: -5e-324 },
    });
  });

  it('drops a __proto__ key without changing the object it is in', () => {
    const parsed = segmentMessageSchema.safeParse(
      JSON.parse(
        '{"type":"page","userId":"u","properties":{"__proto__":{"path":"/pricing"},"title":"Blog"}}',
      ),
    );
    const event = toTrackingEvent(parsed.data as SegmentMessage, receivedAt);

    expect(event.properties).toEqual({ title: 'Blog' });
    expect(event.path).toBeUndefined();
  });
});

describe('segmentMessageSchema ids', () => {
  const track = { type: 'track', event: 'Demo Requested', userId: 'u' };

  it.each([
    {
      name: 'an anonymousId over 512 UTF-8 bytes',
      message: { ...track, anonymousId: '\u{1f600}'.repeat(129) },
      field: 'anonymousId',
      reason: 'is 516 bytes in UTF-8; the limit is 512 bytes',
    },
    {
      name: 'a messageId over 512 UTF-8 bytes',
      message: { ...track, messageId: '\u{1f600}'.repeat(200) },
      field: 'messageId',
      reason: 'at most 256 characters and 512 bytes',
    },
    {
      name: 'a groupId with a lone surrogate',
      message: { ...track, type: 'group', groupId: 'a\ud800b' },
      field: 'groupId',
      reason: 'lone surrogate',
    },
    {
      name: 'a userId with a lone low surrogate',
      message: { ...track, userId: '\udc00' },
      field: 'userId',
      reason: 'lone surrogate',
    },
    {
      name: 'a userId with NUL',
      message: { ...track, userId: 'a\u0000b' },
      field: 'userId',
      reason: 'control characters',
    },
    {
      name: 'a previousId with a C1 control',
      message: { type: 'alias', userId: 'u', previousId: 'a\u0085b' },
      field: 'previousId',
      reason: 'control characters',
    },
    {
      name: 'a userId number beyond 2^53',
      message: { ...track, userId: 2 ** 64 },
      field: 'userId',
      reason: 'Send the id as a string',
    },
    {
      name: 'a userId of Infinity',
      message: { ...track, userId: Infinity },
      field: 'userId',
      reason: 'which JSON parsing reads as Infinity',
    },
    {
      name: 'an anonymousId of -Infinity',
      message: { ...track, anonymousId: -Infinity },
      field: 'anonymousId',
      reason: 'which JSON parsing reads as -Infinity',
    },
    {
      name: 'a groupId of Infinity',
      message: { ...track, type: 'group', groupId: Infinity },
      field: 'groupId',
      reason: 'which JSON parsing reads as Infinity',
    },
    {
      name: 'a previousId of Infinity',
      message: { type: 'alias', userId: 'u', previousId: Infinity },
      field: 'previousId',
      reason: 'which JSON parsing reads as Infinity',
    },
    {
      name: 'a userId object',
      message: { ...track, userId: { id: 'u' } },
      field: 'userId',
      reason: 'must be a string or a number',
    },
    {
      name: 'a userId of two dots',
      message: { ...track, userId: ' .. ' },
      field: 'userId',
      reason: 'a URL path cannot name it',
    },
    {
      name: 'an alias from a userId of one dot',
      message: { type: 'alias', userId: 'u', previousId: '.' },
      field: 'previousId',
      reason: 'a URL path cannot name it',
    },
    {
      name: 'an email userId over 512 bytes once lower-cased',
      message: { ...track, userId: `${'\u0130'.repeat(250)}@a.example` },
      field: 'userId',
      reason: 'is 760 bytes in UTF-8 once normalized',
    },
    {
      name: 'an alias from an email over 512 bytes once lower-cased',
      message: {
        type: 'alias',
        userId: 'u',
        previousId: `${'\u0130'.repeat(250)}@a.example`,
      },
      field: 'previousId',
      reason: 'the limit is 512 bytes',
    },
    {
      name: 'an alias without previousId',
      message: { type: 'alias', userId: 'u' },
      field: 'previousId',
      reason: 'is required',
    },
    {
      name: 'a userId of only a zero-width space',
      message: { ...track, userId: '\u200b' },
      field: 'userId',
      reason: 'consists only of invisible characters',
    },
    {
      name: 'a previousId of format characters and spaces',
      message: { type: 'alias', userId: 'u', previousId: '\u200d \u2060' },
      field: 'previousId',
      reason: 'consists only of invisible characters',
    },
    {
      name: 'an anonymousId with a right-to-left override',
      message: { ...track, anonymousId: '\u202eevil' },
      field: 'anonymousId',
      reason: 'must not contain bidirectional controls',
    },
    {
      name: 'a groupId with a bidi isolate',
      message: { ...track, type: 'group', groupId: 'acme\u2066x\u2069' },
      field: 'groupId',
      reason: 'must not contain bidirectional controls',
    },
    {
      name: 'a groupId of true',
      message: { ...track, type: 'group', groupId: true },
      field: 'groupId',
      reason: 'must be a string or a number',
    },
  ])('rejects $name', ({ message, field, reason }) => {
    const parsed = segmentMessageSchema.safeParse(message);

    expect(parsed.success).toBe(false);
    const issue = parsed.error?.issues.find(
      (entry) => entry.path.join('.') === field,
    );
    expect(issue?.message).toContain(reason);
  });

  it.each([
    {
      field: 'userId',
      message: { ...track, userId: '\u200b', anonymousId: 'a' },
      advice: 'so the lead would look nameless. Send a visible id, or leave',
    },
    {
      field: 'anonymousId',
      message: { ...track, anonymousId: '\u200b' },
      advice: 'so the lead would look nameless. Send a visible id, or leave',
    },
    {
      field: 'groupId',
      message: { type: 'group', userId: 'u', groupId: '\u200b' },
      advice: 'so the account would look nameless. Use a visible id.',
    },
    {
      field: 'previousId',
      message: { type: 'alias', userId: 'u', previousId: '\u200b' },
      advice: 'so the lead would look nameless. Use a visible id.',
    },
    {
      field: 'userId',
      message: { type: 'alias', userId: '\u200b', previousId: 'a' },
      advice: 'so the lead would look nameless. Use a visible id.',
    },
  ])('advises on an invisible $message.type $field', (entry) => {
    const parsed = segmentMessageSchema.safeParse(entry.message);

    const issues = parsed.error?.issues.filter(
      (issue) => issue.path.join('.') === entry.field,
    );
    expect(issues).toHaveLength(1);
    expect(issues?.[0]?.message).toMatch(/^consists only of invisible/);
    expect(issues?.[0]?.message).toContain(entry.advice);
  });

  it('reports both limits of a long messageId once', () => {
    const message = { ...track, messageId: 'm'.repeat(5000) };

    const parsed = segmentMessageSchema.safeParse(message);

    const issues = parsed.error?.issues.filter(
      (entry) => entry.path.join('.') === 'messageId',
    );
    expect(issues).toHaveLength(1);
    expect(issues?.[0]?.message).toContain('5000 characters and 5000 bytes');
    expect(issues?.[0]?.message).toContain('at most 256 characters and 512');
  });

  it('counts messageId characters as code points', () => {
    const accepted = {
      ...track,
      messageId: `${'\u{1f600}'.repeat(100)}${'a'.repeat(100)}`,
    };
    const rejected = {
      ...track,
      messageId: `\u{1f600}${'a'.repeat(256)}`,
    };

    const parsed = segmentMessageSchema.safeParse(rejected);

    expect(segmentMessageSchema.safeParse(accepted).success).toBe(true);
    const issue = parsed.error?.issues.find(
      (entry) => entry.path.join('.') === 'messageId',
    );
    expect(issue?.message).toContain('is 257 characters and 260 bytes');
  });

  const page = { type: 'page', userId: 'u' };

  it.each([
    {
      field: 'event',
      message: { ...track, event: `${'\u{1f600}'.repeat(257)} ` },
      expected:
        'is 257 characters; the limit is 256 characters. Send a shorter event name, and the details in properties.',
    },
    {
      field: 'name',
      message: { ...page, name: 'n'.repeat(300) },
      expected:
        'is 300 characters; the limit is 256 characters. Send a shorter page or screen name, and the details in properties.',
    },
    {
      field: 'category',
      message: { ...page, type: 'screen', category: 'c'.repeat(257) },
      expected:
        'is 257 characters; the limit is 256 characters. Send a shorter category.',
    },
  ])('states the length of a long $field', ({ field, message, expected }) => {
    const parsed = segmentMessageSchema.safeParse(message);

    const issues = parsed.error?.issues.filter(
      (entry) => entry.path.join('.') === field,
    );
    expect(issues?.map((issue) => issue.message)).toEqual([expected]);
  });

  it.each([
    { field: 'event', message: { ...track, event: '\u{1f600}'.repeat(256) } },
    { field: 'name', message: { ...page, name: 'n'.repeat(256) } },
    { field: 'category', message: { ...page, category: 'c'.repeat(256) } },
  ])('accepts a $field of 256 characters', ({ message }) => {
    expect(segmentMessageSchema.safeParse(message).success).toBe(true);
  });

  it('accepts ids with a zero-width joiner between letters', () => {
    const message = { ...track, userId: 'a\u200db' };

    expect(segmentMessageSchema.safeParse(message).success).toBe(true);
  });

  it('accepts an email userId under 512 bytes once lower-cased', () => {
    const userId = `${'\u0130'.repeat(167)}@a.example`;
    const message = { ...track, userId };

    expect(Buffer.byteLength(userId.toLowerCase())).toBe(511);
    expect(segmentMessageSchema.safeParse(message).success).toBe(true);
  });

  it('accepts ids of exactly 512 UTF-8 bytes', () => {
    const message = {
      ...track,
      userId: '\u{1f600}'.repeat(128),
      messageId: '\u00e9'.repeat(256),
    };

    expect(segmentMessageSchema.safeParse(message).success).toBe(true);
  });

  it.each([null, '', '  '])('reads a userId of %j as absent', (userId) => {
    const message = { ...track, userId, anonymousId: 'browser-1' };

    const parsed = segmentMessageSchema.safeParse(message);

    expect(parsed.success).toBe(true);
    expect(parsed.data?.userId).toBeUndefined();
    expect(parsed.data?.anonymousId).toBe('browser-1');
  });

  it('rejects a message whose ids are all blank', () => {
    const message = { ...track, userId: '', anonymousId: null };

    const parsed = segmentMessageSchema.safeParse(message);

    expect(parsed.success).toBe(false);
    const issue = parsed.error?.issues.find(
      (entry) => entry.path.join('.') === 'userId',
    );
    expect(issue?.message).toBe('either userId or anonymousId is required');
  });

  it.each([
    { ids: {} },
    { ids: { userId: null } },
    { ids: { userId: ' ', anonymousId: null } },
  ])('names a missing id beside other fields: $ids', ({ ids }) => {
    const message = { type: 'track', ...ids };

    const parsed = segmentMessageSchema.safeParse(message);

    const issues = parsed.error?.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );
    expect(issues).toContain('event: is required');
    expect(issues).toContain(
      'userId: either userId or anonymousId is required',
    );
  });

  it('names a missing alias userId once', () => {
    const message = { type: 'alias', previousId: 'old' };

    const parsed = segmentMessageSchema.safeParse(message);

    const fields = parsed.error?.issues.map((issue) => issue.path.join('.'));
    expect(fields).toEqual(['userId']);
  });

  it('accepts ids with emoji and accented letters', () => {
    const message = { ...track, anonymousId: 'caf\u00e9-\u{1f600}' };

    expect(segmentMessageSchema.safeParse(message).success).toBe(true);
  });
});

describe('segmentMessageSchema messages', () => {
  const track = { type: 'track', event: 'Demo Requested', userId: 'u' };

  it.each([
    {
      change: { messageId: 5 },
      field: 'messageId',
      text: 'must be a string, not a number',
    },
    {
      change: { sentAt: 1 },
      field: 'sentAt',
      text: 'must be a string, not a number',
    },
    {
      change: { properties: [] },
      field: 'properties',
      text: 'must be an object, not an array',
    },
    { change: { event: undefined }, field: 'event', text: 'is required' },
    {
      change: { messageId: ' ' },
      field: 'messageId',
      text: 'must not be empty; send a unique id such as a UUID, or leave the field out to have one derived from the content',
    },
    {
      change: { type: 'jump' },
      field: 'type',
      text: 'must be one of track, page, screen, identify, group, alias',
    },
    {
      change: { type: undefined },
      field: 'type',
      text: 'is required; it must be one of track, page, screen, identify, group, alias',
    },
  ])('words $field plainly: $text', ({ change, field, text }) => {
    const parsed = segmentMessageSchema.safeParse({ ...track, ...change });

    const issue = parsed.error?.issues.find(
      (entry) => entry.path.join('.') === field,
    );
    expect(issue?.message).toBe(text);
  });

  it.each([
    { type: 'track', field: 'messageId' },
    { type: 'track', field: 'timestamp' },
    { type: 'track', field: 'originalTimestamp' },
    { type: 'track', field: 'sentAt' },
    { type: 'track', field: 'context' },
    { type: 'track', field: 'properties' },
    { type: 'page', field: 'name' },
    { type: 'screen', field: 'category' },
    { type: 'page', field: 'properties' },
    { type: 'identify', field: 'traits' },
    { type: 'group', field: 'traits' },
  ])('reads a null $field of a $type as absent', ({ type, field }) => {
    const message = { ...track, type, groupId: 'g1', [field]: null };

    const parsed = segmentMessageSchema.safeParse(message);

    expect(parsed.error?.issues).toBeUndefined();
    expect(parsed.data).not.toHaveProperty(field, null);
  });

  it('reads a page call of analytics-python', () => {
    // Segment's Python library sends each optional field, null when unset.
    const message = {
      type: 'page',
      messageId: 'py-1',
      userId: 'u',
      anonymousId: null,
      name: null,
      category: null,
      properties: { path: '/pricing' },
      context: { library: { name: 'analytics-python' } },
      integrations: {},
      timestamp: '2026-06-01T11:59:00.000+00:00',
    };

    const parsed = segmentMessageSchema.safeParse(message);

    expect(parsed.error?.issues).toBeUndefined();
    const event = toTrackingEvent(
      parsed.data as NonNullable<typeof parsed.data>,
      receivedAt,
    );
    expect(event.name).toBeUndefined();
    expect(event.category).toBeUndefined();
    expect(event.path).toBe('/pricing');
  });

  it('rejects a null event of a track', () => {
    const parsed = segmentMessageSchema.safeParse({ ...track, event: null });

    expect(parsed.error?.issues[0]?.path).toEqual(['event']);
    expect(parsed.error?.issues[0]?.message).toBe(
      'is required; it must be a string, not null',
    );
  });

  it.each([
    [
      'previousId',
      { type: 'alias', userId: 'u', previousId: null },
      'is required; it must be a string or a number, not null',
    ],
    [
      'userId',
      { type: 'alias', userId: null, previousId: 'p' },
      'is required; it must be a string or a number, not null',
    ],
    [
      'groupId',
      { ...track, type: 'group', groupId: null },
      'is required; it must be a string or a number, not null',
    ],
    [
      'type',
      { ...track, type: null },
      'is required; it must be one of track, page, screen, identify, group, alias, not null',
    ],
  ])('names a null required %s as required', (field, message, text) => {
    const parsed = segmentMessageSchema.safeParse(message);

    const issue = parsed.error?.issues.find(
      (entry) => entry.path.join('.') === field,
    );
    expect(issue?.message).toBe(text);
  });

  it('words traits of a string plainly', () => {
    const message = { type: 'identify', userId: 'u', traits: 'CFO' };

    const parsed = segmentMessageSchema.safeParse(message);

    expect(parsed.error?.issues[0]?.path).toEqual(['traits']);
    expect(parsed.error?.issues[0]?.message).toBe(
      'must be an object, not a string',
    );
  });
});

describe('segmentMessageSchema timestamps', () => {
  const track = { type: 'track', event: 'Demo Requested', userId: 'u' };

  it.each([
    '2026-12-01T00:00:00+25:00',
    '2026-12-01T00:00:00-05:60',
    '2026-12-01T00:00:00+2400',
  ])('names the invalid UTC offset of %s', (timestamp) => {
    const parsed = segmentMessageSchema.safeParse({ ...track, timestamp });

    const issue = parsed.error?.issues.find(
      (entry) => entry.path.join('.') === 'timestamp',
    );
    expect(issue?.message).toContain(
      `has an invalid UTC offset "${timestamp.slice(19)}"`,
    );
  });

  it.each([
    [
      '2026-12-31T23:59:60Z',
      'has a leap second (:60), which JavaScript dates cannot represent; seconds must be 00 to 59, so send :59 instead',
    ],
    [
      '2026-06-30T23:59:60.5+02:00',
      'has a leap second (:60), which JavaScript dates cannot represent; seconds must be 00 to 59, so send :59 instead',
    ],
    ['2026-12-31T23:59:61Z', 'has seconds 61; seconds must be 00 to 59'],
    ['2026-12-31T23:60:00Z', 'has minutes 60; minutes must be 00 to 59'],
    [
      '2026-12-31T25:00Z',
      'has hours 25; hours must be 00 to 23, or 24:00:00 for the end of the day',
    ],
  ])('names the out-of-range time of %s', (timestamp, message) => {
    const parsed = segmentMessageSchema.safeParse({ ...track, timestamp });

    const issue = parsed.error?.issues.find(
      (entry) => entry.path.join('.') === 'timestamp',
    );
    expect(issue?.message).toBe(message);
  });

  it('reads 24:00:00 as the end of the day', () => {
    const parsed = segmentMessageSchema.safeParse({
      ...track,
      timestamp: '2026-12-31T24:00:00Z',
    });

    expect(parsed.error?.issues).toBeUndefined();
  });

  it.each([
    '2026-02-30T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2026-04-31T12:00:00.000Z',
    '2026-06-31',
    '1900-02-29T00:00:00Z',
  ])('rejects %s, a day that does not exist', (timestamp) => {
    const parsed = segmentMessageSchema.safeParse({ ...track, timestamp });

    expect(parsed.success).toBe(false);
    const paths = parsed.error?.issues.map((issue) => issue.path.join('.'));
    expect(paths).toContain('timestamp');
  });

  it.each([
    '5',
    '12/25/2026',
    'Tue Mar 3 2026',
    '+275760-09-13T00:00:00Z',
    '-000001-01-01T00:00:00Z',
  ])('rejects %s, which is not ISO 8601 with a 4-digit year', (timestamp) => {
    const parsed = segmentMessageSchema.safeParse({ ...track, timestamp });

    expect(parsed.success).toBe(false);
    const paths = parsed.error?.issues.map((issue) => issue.path.join('.'));
    expect(paths).toContain('timestamp');
  });

  it.each([
    '2024-02-29T00:00:00Z',
    '2000-02-29T00:00:00Z',
    '2026-01-31T12:00:00+02:00',
    '2026-12-31T23:59:59.999Z',
    '2026-06-01T12:00:00.123456Z',
    '1970-01-01T00:00:00Z',
    '2026-06-01 12:00:00Z',
    '2026-06-01T12:00:00+0200',
    '2026-06-01',
  ])('accepts %s', (timestamp) => {
    const parsed = segmentMessageSchema.safeParse({
      ...track,
      timestamp,
      originalTimestamp: timestamp,
      sentAt: timestamp,
    });

    expect(parsed.success).toBe(true);
  });

  it.each([
    { text: '2026-06-01T12:00:00+02', utc: '2026-06-01T10:00:00.000Z' },
    { text: '2026-06-01T12:00:00-05', utc: '2026-06-01T17:00:00.000Z' },
    { text: '2026-06-01T12:00:00', utc: '2026-06-01T12:00:00.000Z' },
    { text: '2026-06-01T12:00', utc: '2026-06-01T12:00:00.000Z' },
    { text: '2026-06-01 12:00:00.5', utc: '2026-06-01T12:00:00.500Z' },
    { text: '2026-06-01', utc: '2026-06-01T00:00:00.000Z' },
  ])('reads $text as $utc in any server time zone', ({ text, utc }) => {
    const serverZone = process.env.TZ;
    try {
      for (const zone of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
        process.env.TZ = zone;

        const parsed = parseIsoDateTime(text);

        expect(parsed).toBeDefined();
        expect(new Date(parsed ?? 0).toISOString()).toBe(utc);
      }
    } finally {
      if (serverZone === undefined) delete process.env.TZ;
      else process.env.TZ = serverZone;
    }
  });
});

describe('resolveEventTime', () => {
  it('uses timestamp when the client clock agrees', () => {
    const time = resolveEventTime(
      {
        timestamp: '2026-06-01T11:00:00Z',
        sentAt: '2026-06-01T11:59:59Z',
      },
      receivedAt,
    );

    expect(time).toBe(Date.parse('2026-06-01T11:00:00Z'));
  });

  it('falls back to originalTimestamp, then the receive time', () => {
    const original = { originalTimestamp: '2026-06-01T10:00:00Z' };

    expect(resolveEventTime(original, receivedAt)).toBe(
      Date.parse('2026-06-01T10:00:00Z'),
    );
    expect(resolveEventTime({}, receivedAt)).toBe(receivedAt);
  });

  it('corrects a client clock that runs an hour fast', () => {
    const time = resolveEventTime(
      {
        timestamp: '2026-06-01T12:50:00Z',
        sentAt: '2026-06-01T13:00:00Z',
      },
      receivedAt,
    );

    expect(time).toBe(Date.parse('2026-06-01T11:50:00Z'));
  });

  it.each([
    { name: 'beyond the tolerance', aheadMs: 2 * CLOCK_SKEW_TOLERANCE_MS },
    { name: 'within the tolerance', aheadMs: CLOCK_SKEW_TOLERANCE_MS / 2 },
  ])('moves a future time $name to the receive time', ({ aheadMs }) => {
    const future = new Date(receivedAt + aheadMs).toISOString();

    expect(resolveEventTime({ timestamp: future }, receivedAt)).toBe(
      receivedAt,
    );
  });

  it('reads a timestamp with an offset of hours only', () => {
    const occurredAt = resolveEventTime(
      {
        timestamp: '2026-06-01T12:00:00+02',
        sentAt: '2026-06-01T14:00:00+02',
      },
      receivedAt,
    );

    expect(occurredAt).toBe(Date.parse('2026-06-01T10:00:00Z'));
  });

  it('moves a future originalTimestamp to the receive time', () => {
    const future = new Date(receivedAt + 3_600_000).toISOString();

    expect(resolveEventTime({ originalTimestamp: future }, receivedAt)).toBe(
      receivedAt,
    );
  });

  it('keeps a future time that sentAt shows to be clock skew', () => {
    const time = resolveEventTime(
      {
        timestamp: '2026-06-01T14:00:00Z',
        sentAt: '2026-06-01T15:00:00Z',
      },
      receivedAt,
    );

    expect(time).toBe(Date.parse('2026-06-01T11:00:00Z'));
  });

  it('stops a correction by a far-future sentAt at year 0000', () => {
    const time = resolveEventTime(
      {
        timestamp: '2026-06-01T11:00:00Z',
        sentAt: '9999-01-01T00:00:00Z',
      },
      receivedAt,
    );

    expect(time).toBe(EARLIEST_EVENT_TIME);
    expect(new Date(time).toISOString()).toBe('0000-01-01T00:00:00.000Z');
  });
});

describe('toTrackingEvent', () => {
  it('takes the page path from the URL when no path is given', () => {
    const message = segmentMessageSchema.parse({
      type: 'page',
      userId: 'u',
      messageId: 'm',
      properties: { url: 'https://vendor.example/pricing?plan=pro' },
    });

    expect(toTrackingEvent(message, receivedAt).path).toBe('/pricing');
  });

  it('files group traits under company', () => {
    const message = segmentMessageSchema.parse({
      type: 'group',
      userId: 'u',
      messageId: 'm',
      groupId: 'acme',
      traits: { industry: 'Retail', employees: 900 },
    });

    expect(toTrackingEvent(message, receivedAt).traits).toEqual({
      'company.industry': 'Retail',
      'company.employees': 900,
    });
  });

  it('derives the same messageId for a resent copy', () => {
    const first = { type: 'track', userId: 'u', event: 'Demo Requested' };
    const resent = { ...first, sentAt: '2026-06-01T11:59:00Z' };
    const ids = [first, resent].map(
      (m) =>
        toTrackingEvent(segmentMessageSchema.parse(m), receivedAt).messageId,
    );

    expect(ids[0]).toMatch(/^hash-[0-9a-f]{32}$/);
    expect(ids[1]).toBe(ids[0]);
  });

  it('gives events of every type the same fields in one order', () => {
    const messages = [
      { type: 'track', userId: 'u', event: 'Demo Requested' },
      { type: 'page', anonymousId: 'a', properties: { path: '/pricing' } },
      { type: 'identify', userId: 'u', traits: { title: 'CPO' } },
      { type: 'group', userId: 'u', groupId: 'g' },
      { type: 'alias', userId: 'u', previousId: 'a' },
    ];
    const shapes = messages.map((m) =>
      Object.keys(
        toTrackingEvent(segmentMessageSchema.parse(m), receivedAt),
      ).join(),
    );

    expect(new Set(shapes).size).toBe(1);
    expect(shapes[0]?.split(',')).toHaveLength(14);
  });

  it('leaves absent fields out of the stored JSON', () => {
    const message = segmentMessageSchema.parse({
      type: 'track',
      userId: 'u',
      messageId: 'm',
      event: 'Demo Requested',
    });
    const json = JSON.parse(
      JSON.stringify(toTrackingEvent(message, receivedAt)),
    );

    expect(Object.keys(json).sort()).toEqual([
      'messageId',
      'name',
      'occurredAt',
      'properties',
      'receivedAt',
      'traits',
      'type',
      'userId',
    ]);
  });
});

describe('flattenTraits', () => {
  it('keeps scalars two levels deep and drops the rest', () => {
    const flat = flattenTraits({
      title: 'CPO',
      company: { name: 'Acme', address: { city: 'Berlin' }, tags: ['a'] },
      vip: true,
      score: Number.NaN,
      '': 'empty key',
    });

    expect(flat).toEqual({ title: 'CPO', 'company.name': 'Acme', vip: true });
  });

  it.each([
    { value: -(2 ** 53), kept: '-9007199254740992' },
    { value: 2 ** 53, kept: '9007199254740992' },
    { value: 4.4e223, kept: '4.4e+223' },
    { value: 1.5e-200, kept: '1.5e-200' },
  ])('keeps $value as text DynamoDB can store', ({ value, kept }) => {
    expect(flattenTraits({ spend: value })).toEqual({ spend: kept });
  });

  it.each([0, 25_000, -1, 0.5, 2 ** 53 - 1])(
    'keeps %d as a number',
    (value) => {
      expect(flattenTraits({ spend: value })).toEqual({ spend: value });
    },
  );
});
