import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Subsegment } from 'aws-xray-sdk-core';
import { NotFoundError } from '../../domain/errors.js';
import type { HttpResponse } from '../http/responses.js';
import { SERVICE_NAME } from './metric-names.js';
import { redactEmails } from './redaction.js';

/**
 * Returns a Powertools Tracer. It traces only inside Lambda with active
 * tracing, so the local runtime and tests run without X-Ray.
 */
export function createTracer(): Tracer {
  return new Tracer({ serviceName: SERVICE_NAME });
}

/**
 * Runs a handler inside an X-Ray subsegment `## <name>`, annotated with
 * cold start and service name, and restores the parent segment after.
 * Responses are not recorded, because they hold lead scores. An error is
 * recorded with redactEmails applied to its message and stack, as in
 * logs, because error messages can name a lead by its id. A raised error marks the subsegment
 * as a fault.
 */
export async function traceHandler<T>(
  tracer: Tracer,
  name: string,
  run: () => Promise<T>,
): Promise<T> {
  return withSubsegment(tracer, name, async (subsegment) => {
    try {
      return await run();
    } catch (error) {
      subsegment?.addError(withoutEmails(error));
      throw error;
    }
  });
}

/**
 * Runs an HTTP route handler as traceHandler does, but turns a raised
 * error into its response with `respondToError`. The subsegment is
 * flagged by the response status, as X-Ray's own instrumentation flags
 * HTTP calls: `error` for 4xx, also `throttle` for 429, and `fault` for
 * 5xx. So a client's mistake never counts as a fault of the service.
 * The error of a 5xx is recorded as its cause. The error of a 4xx goes
 * to metadata, because the X-Ray SDK marks every recorded cause a fault.
 */
export async function traceRequest(
  tracer: Tracer,
  name: string,
  handle: () => Promise<HttpResponse>,
  respondToError: (error: unknown) => HttpResponse,
): Promise<HttpResponse> {
  return withSubsegment(tracer, name, async (subsegment) => {
    let response: HttpResponse;
    let failure: unknown;
    try {
      response = await handle();
    } catch (error) {
      failure = error;
      response = respondToError(error);
    }
    if (subsegment !== undefined) {
      flagStatus(subsegment, response.statusCode ?? 200, failure);
    }
    return response;
  });
}

async function withSubsegment<T>(
  tracer: Tracer,
  name: string,
  run: (subsegment: Subsegment | undefined) => Promise<T>,
): Promise<T> {
  const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
  if (parent === undefined) {
    return run(undefined);
  }
  const subsegment = parent.addNewSubsegment(`## ${name}`);
  tracer.setSegment(subsegment);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  try {
    return await run(subsegment);
  } finally {
    subsegment.close();
    tracer.setSegment(parent);
  }
}

/** Records a response status and its X-Ray flags on a subsegment. */
function flagStatus(
  subsegment: Subsegment,
  status: number,
  failure: unknown,
): void {
  subsegment.addAttribute('http', { response: { status } });
  if (status >= 500) {
    if (failure === undefined) subsegment.addFaultFlag();
    else subsegment.addError(withoutEmails(failure));
    return;
  }
  if (status < 400) return;
  subsegment.addErrorFlag();
  if (status === 429) subsegment.addThrottleFlag();
  if (failure !== undefined) {
    const { name, message } = withoutEmails(failure);
    subsegment.addMetadata('error', { name, message }, SERVICE_NAME);
  }
}

/**
 * Returns a copy of an error whose message and stack have no emails. An
 * error with a traceMessage gets it in place of its message, in the
 * stack's first line too.
 */
function withoutEmails(error: unknown): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const message =
    source instanceof NotFoundError && source.traceMessage !== undefined
      ? source.traceMessage
      : source.message;
  const stack = source.stack?.replace(source.message, () => message);
  const copy = new Error(redactEmails(message));
  copy.name = source.name;
  copy.stack = stack === undefined ? undefined : redactEmails(stack);
  return copy;
}
