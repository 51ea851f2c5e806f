import type { LeadView } from '../../functions/use-cases/get-lead.js';
import type { IngestResult } from '../../functions/use-cases/ingest-messages.js';
import {
  AdminTokenRejectedError,
  ApiUnreachableError,
  RequestFailedError,
  WriteKeyRejectedError,
} from './errors.js';
import {
  RetryableError,
  type RetryListener,
  type RetryPolicy,
  withRetry,
} from './retry.js';

export interface ApiClientOptions {
  /** Base URL of the API, such as `http://127.0.0.1:3000`. */
  baseUrl: string;
  writeKey: string;
  adminToken: string;
  retryPolicy: RetryPolicy;
  /** Time limit of one request in milliseconds. */
  timeoutMs: number;
  onRetry?: RetryListener;
}

/**
 * Body of a POST /v1/batch response. A stage whose trackingResponse is
 * `counts` leaves out `leads` and `events`.
 */
export type BatchResponse = Omit<
  IngestResult,
  'transitions' | 'leads' | 'events'
> &
  Partial<Pick<IngestResult, 'leads' | 'events'>>;

/** Lead id used to check the admin token; no real lead has it. */
const TOKEN_CHECK_LEAD_ID = 'replay-admin-token-check';

/** Maximum characters of a response body quoted in an error. */
const MAX_DETAIL_LENGTH = 300;

/**
 * HTTP client of the two routes a replay uses: POST /v1/batch with the
 * write key and GET /leads/{leadId} with the admin token. Network errors,
 * timeouts, 408, 429 and 5xx responses are retried with backoff.
 */
export class ReplayApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  /**
   * Sends an empty batch, once, so an unreachable API or a wrong write key
   * is reported before any input is read.
   */
  async checkWriteKey(): Promise<void> {
    await this.postBatch('{"batch":[]}', { retryNetwork: false });
  }

  /** Reads a lead that does not exist, expecting 404 rather than 401. */
  async checkAdminToken(): Promise<void> {
    await this.getLead(TOKEN_CHECK_LEAD_ID);
  }

  /** Sends one request body to POST /v1/batch and returns its result. */
  async sendBatch(body: string): Promise<BatchResponse> {
    return this.postBatch(body, { retryNetwork: true });
  }

  /** Returns the lead scored now, or undefined when it does not exist. */
  async getLead(leadId: string): Promise<LeadView | undefined> {
    const path = `/leads/${encodeURIComponent(leadId)}`;
    const response = await this.request('GET', path, {
      headers: { authorization: `Bearer ${this.options.adminToken}` },
      retryNetwork: true,
    });
    if (response.status === 404) {
      return undefined;
    }
    if (response.status === 401) {
      throw new AdminTokenRejectedError(this.options.baseUrl);
    }
    const lead = await readJson(response, `GET ${path}`);
    if (!isLeadView(lead)) {
      throw new RequestFailedError(
        `GET ${path}`,
        response.status,
        'the response is not a lead of the mql-engine API (no score and ' +
          'status). Check that --url points at the API that `npm start` ' +
          'or the stack output ApiUrl names.',
      );
    }
    return lead;
  }

  private async postBatch(
    body: string,
    options: { retryNetwork: boolean },
  ): Promise<BatchResponse> {
    const credentials = Buffer.from(`${this.options.writeKey}:`).toString(
      'base64',
    );
    const response = await this.request('POST', '/v1/batch', {
      headers: {
        authorization: `Basic ${credentials}`,
        'content-type': 'application/json',
      },
      body,
      retryNetwork: options.retryNetwork,
    });
    if (response.status === 401) {
      throw new WriteKeyRejectedError(this.options.baseUrl);
    }
    if (response.status === 404) {
      throw new RequestFailedError(
        'POST /v1/batch',
        404,
        `${this.options.baseUrl} has no such route. Check --url.`,
      );
    }
    const result = await readJson(response, 'POST /v1/batch');
    if (!isBatchResult(result)) {
      throw new RequestFailedError(
        'POST /v1/batch',
        response.status,
        'the response is not a batch result of the mql-engine API (no ' +
          'results, counts and events). Check that --url points at the ' +
          'API that `npm start` or the stack output ApiUrl names.',
      );
    }
    return result;
  }

  /**
   * Sends a request with retries and returns any response that retrying
   * cannot change: 2xx, 401 and 404 for the caller to interpret.
   *
   * @throws RequestFailedError on other 4xx or when retries run out
   * @throws ApiUnreachableError when the API does not respond
   */
  private request(
    method: string,
    path: string,
    init: {
      headers: Record<string, string>;
      body?: string;
      retryNetwork: boolean;
    },
  ): Promise<Response> {
    const attempt = async () => {
      const response = await this.fetchOnce(method, path, init);
      await rejectFailedResponse(response, `${method} ${path}`);
      return response;
    };
    return withRetry(attempt, this.options.retryPolicy, this.options.onRetry);
  }

  private async fetchOnce(
    method: string,
    path: string,
    init: {
      headers: Record<string, string>;
      body?: string;
      retryNetwork: boolean;
    },
  ): Promise<Response> {
    try {
      return await fetch(resolveUrl(this.options.baseUrl, path), {
        method,
        headers: init.headers,
        body: init.body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      const failure = new ApiUnreachableError(this.options.baseUrl, error);
      throw init.retryNetwork ? new RetryableError(failure) : failure;
    }
  }
}

/**
 * Appends a route to the base URL, keeping any path the base has (such as
 * an API Gateway stage, `/prod`).
 */
export function resolveUrl(baseUrl: string, path: string): URL {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return new URL(path.replace(/^\/+/, ''), base);
}

/** Statuses worth retrying: timeouts, throttling and server errors. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

async function rejectFailedResponse(
  response: Response,
  description: string,
): Promise<void> {
  const { status } = response;
  if (response.ok || status === 401 || status === 404) {
    return;
  }
  const otherService = otherServiceName(response);
  if (otherService !== undefined) {
    // Retrying cannot turn another service into the API, so this fails
    // at once.
    const origin = new URL(response.url).origin;
    throw new RequestFailedError(
      description,
      status,
      `${origin} is ${otherService}, not the mql-engine API. ` +
        'Pass the API URL of the "ready:" line of `npm start`, or the ' +
        'stack output ApiUrl, as --url.',
    );
  }
  const failure = new RequestFailedError(
    description,
    status,
    await responseDetail(response),
  );
  if (isRetryableStatus(status)) {
    throw new RetryableError(failure, retryAfterMs(response));
  }
  throw failure;
}

/**
 * Returns the name of the service behind a response that the mql-engine
 * API never sends: DynamoDB's JSON 1.0 protocol, or a Python Werkzeug
 * server such as moto's. Both are URLs of the "ready:" line of
 * `npm start`. Returns undefined for any other response.
 */
function otherServiceName(response: Response): string | undefined {
  const contentType = response.headers.get('content-type') ?? '';
  if (contentType.startsWith('application/x-amz-json-1.0')) {
    return 'DynamoDB';
  }
  const server = response.headers.get('server') ?? '';
  if (server.startsWith('Werkzeug/')) {
    return "a Python Werkzeug server, such as moto's";
  }
  return undefined;
}

/** Returns the problem detail of an error response, or its text. */
async function responseDetail(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const detail = body.detail ?? body.title ?? body.message;
    if (typeof detail === 'string') return detail;
  } catch {
    // Not JSON: the text itself is the detail.
  }
  return text.slice(0, MAX_DETAIL_LENGTH) || response.statusText;
}

function retryAfterMs(response: Response): number | undefined {
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

async function readJson(
  response: Response,
  description: string,
): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new RequestFailedError(
      description,
      response.status,
      `the response is not JSON: ${text.slice(0, MAX_DETAIL_LENGTH)}`,
    );
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasNumbers(value: unknown, names: readonly string[]): boolean {
  return (
    isObject(value) && names.every((name) => typeof value[name] === 'number')
  );
}

/**
 * Tells whether a POST /v1/batch response has the fields a replay reads.
 * `leads` and `events` are optional, because stages whose
 * trackingResponse is `counts` leave them out.
 */
function isBatchResult(value: unknown): value is BatchResponse {
  return (
    isObject(value) &&
    Array.isArray(value.results) &&
    value.results.every(isObject) &&
    hasNumbers(value.counts, ['scored', 'duplicate', 'rejected']) &&
    (value.events === undefined ||
      hasNumbers(value.events, ['published', 'pending'])) &&
    (value.leads === undefined ||
      (Array.isArray(value.leads) && value.leads.every(isObject)))
  );
}

/** Tells whether a GET /leads/{leadId} response has a score and status. */
function isLeadView(value: unknown): value is LeadView {
  return (
    isObject(value) &&
    typeof value.score === 'number' &&
    typeof value.status === 'string'
  );
}
