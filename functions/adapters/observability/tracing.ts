import { Tracer } from '@aws-lambda-powertools/tracer';
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
 * recorded with its email addresses redacted, as in logs, because error
 * messages can name a lead by its id.
 */
export async function traceHandler<T>(
  tracer: Tracer,
  name: string,
  run: () => Promise<T>,
): Promise<T> {
  const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
  if (parent === undefined) {
    return run();
  }
  const subsegment = parent.addNewSubsegment(`## ${name}`);
  tracer.setSegment(subsegment);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  try {
    return await run();
  } catch (error) {
    subsegment.addError(withoutEmails(error));
    throw error;
  } finally {
    subsegment.close();
    tracer.setSegment(parent);
  }
}

/** Returns a copy of an error whose message and stack have no emails. */
function withoutEmails(error: unknown): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const copy = new Error(redactEmails(source.message));
  copy.name = source.name;
  copy.stack =
    source.stack === undefined ? undefined : redactEmails(source.stack);
  return copy;
}
