import type { ApiRequest } from '../adapters/http/api-request.js';
import { ValidationError } from '../domain/errors.js';
import { leadIdTextIssues } from '../domain/id-text.js';
import { ANONYMOUS_PREFIX, ESCAPED_USER_PREFIX } from '../domain/identity.js';
import { normalizedEmailBytesIssue } from '../domain/messages.js';
import type { ErasureResult } from '../use-cases/erase-lead.js';
import type { HistoryView } from '../use-cases/get-history.js';
import type { LeadView } from '../use-cases/get-lead.js';
import {
  fitsBytes,
  MAX_LEAD_PATH_ID_BYTES,
  rejectedPathIdError,
} from './path-id.js';

/** Returns the lead id of a `/leads/{leadId}` path. */
export function leadIdOf(request: ApiRequest): string {
  const leadId = request.pathParameters.leadId;
  if (leadId === undefined || leadId.trim() === '') {
    throw new ValidationError('The path must name a lead: /leads/{leadId}.', [
      { field: 'leadId', message: 'is required' },
    ]);
  }
  if (!fitsBytes(leadId, MAX_LEAD_PATH_ID_BYTES)) {
    throw new ValidationError(
      `The lead id in the path must be at most ${MAX_LEAD_PATH_ID_BYTES} bytes in UTF-8.`,
      [
        {
          field: 'leadId',
          message: `must be at most ${MAX_LEAD_PATH_ID_BYTES} bytes in UTF-8`,
        },
      ],
    );
  }
  // Ingest escapes a userId that starts with `anon:` or `~`, so a lead
  // id that is a prefix alone names an empty anonymous or user id, which
  // no lead has.
  const trimmed = leadId.trim();
  for (const [prefix, article, id, example] of [
    [ANONYMOUS_PREFIX, 'an', 'anonymous id', 'browser-1'],
    [ESCAPED_USER_PREFIX, 'a', 'user id', 'anon:user-1'],
  ] as const) {
    if (
      trimmed.startsWith(prefix) &&
      trimmed.slice(prefix.length).trim() === ''
    ) {
      throw new ValidationError(
        `The lead id names no ${id} after "${prefix}", such as /leads/${prefix}${example}.`,
        [
          {
            field: 'leadId',
            message: `must name ${article} ${id} after "${prefix}"`,
          },
        ],
      );
    }
  }
  const issues = leadIdIssues(leadId.trim());
  if (issues.length > 0) throw rejectedPathIdError('leadId', issues);
  return leadId;
}

/**
 * Returns what a lead id breaks of the rules ingest applies to the id it
 * came from: the anonymous id after `anon:`, the user id after the `~`
 * that escapes it, or else the user id itself. Each is trimmed first, as
 * ingest trims it before its checks.
 */
function leadIdIssues(leadId: string): string[] {
  const options = { optional: false };
  for (const prefix of [ANONYMOUS_PREFIX, ESCAPED_USER_PREFIX]) {
    if (leadId.startsWith(prefix)) {
      return leadIdTextIssues(leadId.slice(prefix.length).trim(), options);
    }
  }
  const issues = leadIdTextIssues(leadId, options);
  const normalized = normalizedEmailBytesIssue(leadId);
  return normalized === undefined ? issues : [...issues, normalized];
}

/**
 * Returns a Content-Location header naming the lead shown, when the
 * request named a lead merged into it.
 */
export function contentLocation(lead: LeadView): Record<string, string> {
  if (lead.requestedLeadId === undefined) return {};
  return { 'content-location': `/leads/${encodeURIComponent(lead.leadId)}` };
}

/**
 * Returns a Content-Location header naming the history shown, when the
 * request named a lead merged into the lead it belongs to.
 */
export function historyContentLocation(
  history: HistoryView,
): Record<string, string> {
  if (history.requestedLeadId === undefined) return {};
  return {
    'content-location': `/leads/${encodeURIComponent(history.leadId)}/history`,
  };
}

/**
 * Returns a Content-Location header naming the lead erased, when the
 * request named a lead merged into it, as GET does for the same id.
 */
export function erasedContentLocation(
  leadId: string,
  result: ErasureResult,
): Record<string, string> {
  if (result.requestedLeadId === undefined) return {};
  return { 'content-location': `/leads/${encodeURIComponent(leadId)}` };
}
