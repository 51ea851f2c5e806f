import { NotFoundError, ValidationError } from '../domain/errors.js';
import {
  type ScoreChangeCause,
  type ScorePoint,
  shownPoint,
} from '../domain/history.js';
import { displayText } from '../domain/id-text.js';
import { requestedLeadId } from '../domain/identity.js';
import { toIso } from '../domain/time.js';
import { InvalidCursorError } from '../ports/lead-repository.js';
import type { ScoringDependencies } from './dependencies.js';
import { resolveLeadId } from './link-identities.js';

/** One score change as the history route shows it. */
export interface HistoryEntryView {
  at: string;
  cause: ScoreChangeCause;
  before: ScorePoint | null;
  after: ScorePoint;
  modelVersion: string;
  previousModelVersion: string | null;
  events: number;
}

/** One page of a lead's history, newest first. */
export interface HistoryView {
  leadId: string;
  /** The id requested, when it names a lead merged into `leadId`. */
  requestedLeadId?: string;
  entries: HistoryEntryView[];
  /** Pass as `cursor` to read the next page; null on the last page. */
  nextCursor: string | null;
}

/**
 * Returns one page of a lead's score history, newest first. An id merged
 * into another lead returns that lead's history, with `requestedLeadId`
 * set. Raises NotFoundError for
 * an unknown lead and ValidationError for a cursor that does not belong
 * to this lead's history.
 */
export async function getHistory(
  deps: ScoringDependencies,
  requestedId: string,
  page: { limit: number; cursor?: string | undefined },
): Promise<HistoryView> {
  const leadId = await resolveLeadId(deps, requestedLeadId(requestedId));
  const state = await deps.repository.getLead(leadId);
  if (state === undefined || state.mergedInto !== undefined) {
    throw new NotFoundError(`Lead ${displayText(requestedId)} was not found.`);
  }
  try {
    const result = await deps.repository.listHistory(
      leadId,
      page.limit,
      page.cursor,
      state.incarnationId,
    );
    return {
      leadId,
      ...(leadId === requestedLeadId(requestedId)
        ? {}
        : { requestedLeadId: requestedId }),
      entries: result.entries.map((entry) => ({
        at: toIso(entry.at),
        cause: entry.cause,
        before: entry.before === null ? null : shownPoint(entry.before),
        after: shownPoint(entry.after),
        modelVersion: entry.modelVersion,
        previousModelVersion: entry.previousModelVersion ?? null,
        events: entry.events,
      })),
      nextCursor: result.cursor ?? null,
    };
  } catch (error) {
    if (!(error instanceof InvalidCursorError)) throw error;
    throw new ValidationError('The cursor is invalid.', [
      {
        field: 'cursor',
        message:
          'must be the nextCursor of an earlier page of this lead; omit it to start from the newest entry',
      },
    ]);
  }
}
