import { jsonResponse } from '../adapters/http/responses.js';
import { getAccount } from '../use-cases/get-account.js';
import { getHistory } from '../use-cases/get-history.js';
import { getLead } from '../use-cases/get-lead.js';
import { accountContentLocation, accountIdOf } from './account-path.js';
import { historyPageOf } from './history-query.js';
import { httpHandler } from './http-handler.js';
import {
  contentLocation,
  historyContentLocation,
  leadIdOf,
} from './lead-path.js';
import { rejectUnknownQueryParameters } from './query-parameters.js';
import { routeTable } from './route-table.js';

/**
 * The read-only admin routes:
 * - GET /leads/{leadId}: the lead's score decayed to the time of the
 *   request, its status and the contribution of every rule. An id merged
 *   into another lead returns that lead, with a Content-Location header
 *   naming it.
 * - GET /leads/{leadId}/history?limit=&cursor=: the lead's score
 *   changes, newest first, one page at a time. An id merged into another
 *   lead returns that lead's history, with a Content-Location header,
 *   except with a cursor it returned before the merge (see getHistory).
 * - GET /accounts/{accountId}: the account's score, buying-group coverage
 *   and the leads behind it.
 * Each route rejects a query parameter it does not accept with 400.
 */
export const handler = httpHandler(
  routeTable({
    'GET /leads/{leadId}': async (request, { deps }) => {
      const leadId = leadIdOf(request);
      rejectUnknownQueryParameters(request, []);
      const lead = await getLead(deps, leadId);
      return jsonResponse(200, lead, contentLocation(lead));
    },
    'GET /leads/{leadId}/history': async (request, { deps }) => {
      const history = await getHistory(
        deps,
        leadIdOf(request),
        historyPageOf(request),
      );
      return jsonResponse(200, history, historyContentLocation(history));
    },
    'GET /accounts/{accountId}': async (request, { deps }) => {
      const accountId = accountIdOf(request, deps.model.accounts);
      rejectUnknownQueryParameters(request, []);
      const account = await getAccount(deps, accountId);
      return jsonResponse(200, account, accountContentLocation(account));
    },
  }),
);
