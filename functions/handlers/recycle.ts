import { jsonResponse } from '../adapters/http/responses.js';
import {
  recordPublishMetrics,
  recordTransitionMetrics,
} from '../adapters/observability/metrics.js';
import { eraseLead } from '../use-cases/erase-lead.js';
import { recordDisposition } from '../use-cases/record-disposition.js';
import { dispositionOf, recycleReasonOf } from './disposition-body.js';
import { rejectBody } from './empty-body.js';
import { ERASURE_END_MS } from './erasure-time.js';
import { httpHandler } from './http-handler.js';
import {
  contentLocation,
  erasedContentLocation,
  leadIdOf,
} from './lead-path.js';
import { rejectUnknownQueryParameters } from './query-parameters.js';
import { routeTable } from './route-table.js';

/**
 * The sales feedback routes. Each returns the lead as GET /leads/{leadId}
 * does, 409 when the lead's state does not allow the disposition, and
 * 200 without a new event when the request repeats the lead's current
 * disposition.
 * - POST /leads/{leadId}/disposition: accepted, rejected (with a reason),
 *   converted (to sql or opportunity) or recycled (with a reason).
 * - POST /leads/{leadId}/recycle with `{"reason": "..."}`: the recycled
 *   disposition.
 *
 * DELETE /leads/{leadId} erases the lead and returns what it removed. An
 * id merged into another lead erases that lead, named by Content-Location.
 * Each route rejects a query parameter other than a SigV4 signature's
 * with 400 before it changes anything, so `?dryRun=true` is not ignored,
 * and DELETE rejects a body other than white space or `{}` in the same
 * way.
 */
export const handler = httpHandler(
  routeTable({
    'POST /leads/{leadId}/disposition': async (request, invocation) => {
      const leadId = leadIdOf(request);
      rejectUnknownQueryParameters(request, []);
      const disposition = dispositionOf(request);
      const result = await recordDisposition(
        invocation.deps,
        leadId,
        disposition,
      );
      recordTransitionMetrics(invocation.metrics, result.transitions);
      recordPublishMetrics(invocation.metrics, result.events);
      return jsonResponse(200, result.lead, contentLocation(result.lead));
    },
    'POST /leads/{leadId}/recycle': async (request, invocation) => {
      const leadId = leadIdOf(request);
      rejectUnknownQueryParameters(request, []);
      const reason = recycleReasonOf(request);
      const result = await recordDisposition(invocation.deps, leadId, {
        kind: 'recycled',
        reason,
      });
      recordTransitionMetrics(invocation.metrics, result.transitions);
      recordPublishMetrics(invocation.metrics, result.events);
      return jsonResponse(200, result.lead, contentLocation(result.lead));
    },
    'DELETE /leads/{leadId}': async (
      request,
      { deps, metrics, remainingTimeMs },
    ) => {
      const leadId = leadIdOf(request);
      rejectUnknownQueryParameters(request, []);
      rejectBody(request);
      const remaining = remainingTimeMs();
      const deadline =
        remaining === undefined
          ? undefined
          : deps.clock() + remaining - ERASURE_END_MS;
      const erasure = await eraseLead(deps, leadId, { deadline });
      recordPublishMetrics(metrics, erasure.events);
      return jsonResponse(
        200,
        erasure.result,
        erasedContentLocation(erasure.leadId, erasure.result),
      );
    },
  }),
);
