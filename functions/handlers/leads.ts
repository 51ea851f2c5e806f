import { jsonResponse } from '../adapters/http/responses.js';
import { ValidationError } from '../domain/errors.js';
import { getLead } from '../use-cases/get-lead.js';
import { httpHandler } from './http-handler.js';

/**
 * GET /leads/{leadId}: the lead's score decayed to the time of the
 * request, its status and the contribution of every rule.
 */
export const handler = httpHandler(async (request, { deps }) => {
  const leadId = request.pathParameters?.leadId;
  if (leadId === undefined || leadId === '') {
    throw new ValidationError('The path must name a lead: /leads/{leadId}.', [
      { field: 'leadId', message: 'is required' },
    ]);
  }
  const lead = await getLead(deps, leadId);
  return jsonResponse(200, lead);
});
