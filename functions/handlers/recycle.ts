import type { ApiRequest } from '../adapters/http/api-request.js';
import { readJsonBody } from '../adapters/http/request-body.js';
import { jsonResponse } from '../adapters/http/responses.js';
import { recordSalesRecycle } from '../adapters/observability/metrics.js';
import { ValidationError } from '../domain/errors.js';
import { recycleLead } from '../use-cases/recycle-lead.js';
import { httpHandler } from './http-handler.js';
import { contentLocation, leadIdOf } from './lead-path.js';

/** Maximum body of a recycle request in bytes. */
const MAX_BODY_BYTES = 4 * 1024;
/** Maximum length of a sales reason in characters. */
const MAX_REASON_LENGTH = 200;

/**
 * POST /leads/{leadId}/recycle with `{"reason": "..."}`: sales sends an
 * MQL back to marketing. Returns the lead as GET /leads/{leadId} does,
 * or 409 when the lead is not an MQL.
 */
export const handler = httpHandler(async (request, { deps, metrics }) => {
  const leadId = leadIdOf(request);
  const lead = await recycleLead(deps, { leadId, reason: reasonOf(request) });
  recordSalesRecycle(metrics);
  return jsonResponse(200, lead, contentLocation(lead));
});

function reasonOf(request: ApiRequest): string {
  const body = readJsonBody(request, MAX_BODY_BYTES);
  const reason =
    body !== null && typeof body === 'object' && !Array.isArray(body)
      ? (body as Record<string, unknown>).reason
      : undefined;
  if (
    typeof reason !== 'string' ||
    reason.trim() === '' ||
    reason.length > MAX_REASON_LENGTH
  ) {
    throw new ValidationError('The body must give the reason for recycling.', [
      {
        field: 'reason',
        message: `must be a non-empty string of at most ${MAX_REASON_LENGTH} characters`,
      },
    ]);
  }
  return reason.trim();
}
