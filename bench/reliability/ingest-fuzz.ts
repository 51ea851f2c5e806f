import { deflateSync, gzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as fc from 'fast-check';

/**
 * A fast-check property over the ingest route, shared by the test suite
 * (a few hundred cases) and `npm run soak` (10,000 cases). Each case is
 * one request with a generated body, headers and encoding. It holds when
 * the handler responds 2xx with a result per message or 4xx, never 5xx,
 * and the lead of the case stores exactly the messages reported `scored`.
 */

/** The running ingest backend that cases are sent to. */
export interface FuzzTarget {
  writeKey: string;
  send(
    event: APIGatewayProxyEventV2,
  ): Promise<{ status: number; body: string }>;
  /** Message ids stored for a lead. */
  storedMessageIds(leadId: string): Promise<string[]>;
}

/** One generated request. */
export interface FuzzCase {
  caseId: number;
  messages: unknown[];
  /** Body layout: a batch, a single call, or raw text. */
  shape: 'batch' | 'single' | 'raw';
  raw: string;
  auth: 'header' | 'body' | 'wrong' | 'none' | 'garbled';
  encoding: 'none' | 'gzip' | 'deflate' | 'gzip-unlabelled' | 'unknown';
  base64: boolean;
  contentType: string;
  /** Bytes of padding added to one message's properties. */
  padding: number;
}

let nextCase = 0;

// Most generated messages are valid, so the storing path is fuzzed too.
const leadIdArbitrary = fc.constantFrom(
  'lead',
  'lead',
  'lead',
  'lead',
  'missing',
  'empty',
  'object',
);

const textArbitrary = fc.oneof(
  { arbitrary: fc.constantFrom('Demo Requested', 'Pricing'), weight: 4 },
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('Demo Requested', 'Pricing', '', ' ', '\u0000', '💥'),
);

const timestampArbitrary = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 4 },
  fc
    .integer({ min: -30 * 86_400_000, max: 3_600_000 })
    .map((offset) => new Date(Date.now() + offset).toISOString()),
  fc.constantFrom('yesterday', '2026-13-45T00:00:00Z', '', '1970-01-01'),
);

const messageArbitrary = fc.record(
  {
    type: fc.oneof(
      {
        arbitrary: fc.constantFrom(
          'track',
          'page',
          'screen',
          'identify',
          'group',
          'alias',
        ),
        weight: 6,
      },
      fc.constantFrom('Track', 'unknown', '', 7),
    ),
    messageId: fc.oneof(
      { arbitrary: fc.uuid(), weight: 6 },
      fc.constantFrom('fixed-id', ''),
      fc.integer(),
      fc.string({ minLength: 257, maxLength: 300 }),
    ),
    userId: leadIdArbitrary,
    event: textArbitrary,
    name: textArbitrary,
    previousId: fc.oneof(fc.constant('someone-else'), fc.integer()),
    groupId: fc.oneof(fc.constant('acme'), fc.constant(null)),
    timestamp: timestampArbitrary,
    properties: fc.oneof(
      {
        arbitrary: fc.dictionary(
          fc.string({ maxLength: 8 }),
          fc.jsonValue({ maxDepth: 2 }),
          { maxKeys: 5 },
        ),
        weight: 6,
      },
      fc.constantFrom(null, 'text', [1, 2]),
    ),
    traits: fc.dictionary(
      fc.constantFrom('title', 'email', 'company', 'seniority'),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 3 },
    ),
  },
  { requiredKeys: ['type'] },
);

/** Generates one request case. */
export const fuzzCaseArbitrary: fc.Arbitrary<FuzzCase> = fc
  .record({
    messages: fc.array(messageArbitrary, { maxLength: 20 }),
    shape: fc.constantFrom('batch', 'batch', 'batch', 'single', 'raw'),
    raw: fc.oneof(
      fc.string({ maxLength: 50 }),
      fc.json(),
      fc.constantFrom('{"batch":', '{"batch": {}}', 'null', '[]', '\uFFFD'),
    ),
    auth: fc.constantFrom(
      'header',
      'header',
      'body',
      'wrong',
      'none',
      'garbled',
    ),
    encoding: fc.constantFrom(
      'none',
      'none',
      'gzip',
      'deflate',
      'gzip-unlabelled',
      'unknown',
    ),
    base64: fc.boolean(),
    contentType: fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      '',
    ),
    padding: fc.oneof(
      fc.constant(0),
      fc.integer({ min: 0, max: 40_000 }),
      fc.constant(600_000),
    ),
  })
  .map((fields) => {
    nextCase += 1;
    return { ...fields, caseId: nextCase };
  });

/** Returns the lead id every valid message of a case is scored for. */
export function caseLeadId(run: string, fuzzCase: FuzzCase): string {
  return `fuzz-${run}-${fuzzCase.caseId}`;
}

function concreteMessage(
  message: Record<string, unknown>,
  leadId: string,
): Record<string, unknown> {
  const concrete: Record<string, unknown> = { ...message };
  switch (message.userId) {
    case 'lead':
      concrete.userId = leadId;
      break;
    case 'missing':
      delete concrete.userId;
      break;
    case 'empty':
      concrete.userId = '';
      break;
    default:
      concrete.userId = { id: leadId };
  }
  if (concrete.timestamp === undefined) delete concrete.timestamp;
  // Links stay inside the case, so no case merges another case's lead.
  if (typeof concrete.previousId === 'string') {
    concrete.previousId = `${leadId}-previous`;
  }
  // Unique per case, so the stored ids show what this case wrote.
  if (typeof concrete.messageId === 'string' && concrete.messageId !== '') {
    concrete.messageId = `${leadId}-${concrete.messageId}`;
  }
  return concrete;
}

/** Builds the API Gateway event of a case. */
export function caseEvent(
  fuzzCase: FuzzCase,
  leadId: string,
  writeKey: string,
): APIGatewayProxyEventV2 {
  const messages = fuzzCase.messages.map((message) =>
    concreteMessage(message as Record<string, unknown>, leadId),
  );
  if (fuzzCase.padding > 0 && messages[0] !== undefined) {
    messages[0].properties = { padding: 'x'.repeat(fuzzCase.padding) };
  }
  const headers: Record<string, string> = {};
  if (fuzzCase.contentType !== '') {
    headers['content-type'] = fuzzCase.contentType;
  }
  const basic = (key: string) =>
    `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
  if (fuzzCase.auth === 'header') headers.authorization = basic(writeKey);
  if (fuzzCase.auth === 'wrong') headers.authorization = basic('not-the-key');
  if (fuzzCase.auth === 'garbled') headers.authorization = 'Basic %%%';
  const bodyKey = fuzzCase.auth === 'body' ? { writeKey } : {};
  let path = '/v1/batch';
  let text: string;
  if (fuzzCase.shape === 'raw') {
    text = fuzzCase.raw;
  } else if (fuzzCase.shape === 'single') {
    const single: Record<string, unknown> = {
      ...(messages[0] ?? {}),
      ...bodyKey,
    };
    const type = typeof single.type === 'string' ? single.type : 'track';
    path = `/v1/${['track', 'page', 'screen', 'identify', 'group', 'alias'].includes(type) ? type : 'track'}`;
    text = JSON.stringify(single);
  } else {
    text = JSON.stringify({ batch: messages, ...bodyKey });
  }
  let bytes = Buffer.from(text, 'utf8');
  if (fuzzCase.encoding === 'gzip' || fuzzCase.encoding === 'gzip-unlabelled') {
    bytes = gzipSync(bytes);
  } else if (fuzzCase.encoding === 'deflate') {
    bytes = deflateSync(bytes);
  }
  if (fuzzCase.encoding === 'gzip') headers['content-encoding'] = 'gzip';
  if (fuzzCase.encoding === 'deflate') headers['content-encoding'] = 'deflate';
  if (fuzzCase.encoding === 'unknown') headers['content-encoding'] = 'zstd';
  const base64 = fuzzCase.base64 || fuzzCase.encoding !== 'none';
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'fuzz',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: 'POST',
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'fuzz',
      },
      requestId: `fuzz-${fuzzCase.caseId}`,
      routeKey: `POST ${path}`,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body: base64 ? bytes.toString('base64') : bytes.toString('utf8'),
    isBase64Encoded: base64,
  };
}

/** The response to one case and why it failed, if it did. */
export interface CaseOutcome {
  status: number;
  /** Messages the response reports as scored. */
  scored: number;
  failure: string | undefined;
}

/** Sends one case and checks the answer and what was stored. */
export async function checkCase(
  target: FuzzTarget,
  run: string,
  fuzzCase: FuzzCase,
): Promise<CaseOutcome> {
  const leadId = caseLeadId(run, fuzzCase);
  const response = await target.send(
    caseEvent(fuzzCase, leadId, target.writeKey),
  );
  const stored = new Set(await target.storedMessageIds(leadId));
  const { status } = response;
  const outcome = (failure: string | undefined, scored = 0) => ({
    status,
    scored,
    failure,
  });
  if (status >= 500) {
    return outcome(`returned ${status}: ${response.body.slice(0, 200)}`);
  }
  if (status >= 400) {
    return outcome(
      stored.size === 0
        ? undefined
        : `returned ${status} but stored ${stored.size} messages`,
    );
  }
  if (status < 200 || status >= 300) {
    return outcome(`returned ${status}`);
  }
  const body = JSON.parse(response.body) as {
    results: Array<{ status: string; messageId?: string; leadId?: string }>;
  };
  const scored = body.results
    .filter((result) => result.status === 'scored')
    .map((result) => result.messageId ?? '');
  const unknown = body.results.filter(
    (result) => !['scored', 'duplicate', 'rejected'].includes(result.status),
  );
  if (unknown.length > 0) {
    return outcome(`returned unknown statuses ${JSON.stringify(unknown)}`);
  }
  const missing = scored.filter((id) => !stored.has(id));
  const extra = [...stored].filter((id) => !scored.includes(id));
  if (missing.length > 0 || extra.length > 0) {
    return outcome(
      `stored ${stored.size} messages for ${scored.length} scored: missing ${missing.length}, unreported ${extra.length}`,
      scored.length,
    );
  }
  return outcome(undefined, scored.length);
}
