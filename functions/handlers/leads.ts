import { jsonResponse } from '../adapters/http/responses.js';
import { getLead } from '../use-cases/get-lead.js';
import { httpHandler } from './http-handler.js';
import { contentLocation, leadIdOf } from './lead-path.js';

/**
 * GET /leads/{leadId}: the lead's score decayed to the time of the
 * request, its status and the contribution of every rule. An id merged
 * into another lead returns that lead, with a Content-Location header
 * naming it.
 */
export const handler = httpHandler(async (request, { deps }) => {
  const lead = await getLead(deps, leadIdOf(request));
  return jsonResponse(200, lead, contentLocation(lead));
});
