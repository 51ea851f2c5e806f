import { NotFoundError, ValidationError } from '../domain/errors.js';
import {
  type ScoreChangeCause,
  type ScorePoint,
  shownPoint,
} from '../domain/history.js';
import { displayText } from '../domain/id-text.js';
import { requestedLeadId } from '../domain/identity.js';
import { toIso } from '../domain/time.js';
import {
  type HistoryPage,
  InvalidCursorError,
} from '../ports/lead-repository.js';
import type { ScoringDependencies } from './dependencies.js';
import { MAX_REDIRECTS } from './update-lead.js';

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
  /**
   * The lead that `leadId` was merged into, on a page read with a cursor
   * that `leadId` returned before the merge.
   */
  mergedInto?: string;
  entries: HistoryEntryView[];
  /** Pass as `cursor` to read the next page; null on the last page. */
  nextCursor: string | null;
}

/** Position of one history page: its size and the cursor to start at. */
export interface HistoryPageRequest {
  limit: number;
  cursor?: string | undefined;
}

/**
 * Returns one page of a lead's score history, newest first. An id merged
 * into another lead returns that lead's history, with `requestedLeadId`
 * set. A cursor that the merged lead returned before its merge still
 * pages the merged lead's own entries, with `mergedInto` set, so a
 * listing started before a merge ends as it began. Raises NotFoundError
 * for an unknown lead and ValidationError for a cursor that does not
 * belong to this lead's history.
 */
export async function getHistory(
  deps: ScoringDependencies,
  requestedId: string,
  page: HistoryPageRequest,
): Promise<HistoryView> {
  // Reads each lead once while following merges, so a merge written after
  // the last read cannot turn that lead into a tombstone and a 404.
  const requested = requestedLeadId(requestedId);
  let leadId = requested;
  let state = await deps.repository.getLead(leadId);
  for (let step = 0; step < MAX_REDIRECTS; step += 1) {
    if (state?.mergedInto === undefined) break;
    leadId = state.mergedInto;
    state = await deps.repository.getLead(leadId);
  }
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
      ...(leadId === requested ? {} : { requestedLeadId: requestedId }),
      ...pageView(result),
    };
  } catch (error) {
    if (!(error instanceof InvalidCursorError)) throw error;
  }
  const merged =
    leadId === requested
      ? undefined
      : await mergedLeadPage(deps, requested, page);
  if (merged === undefined) throw invalidCursor();
  return { leadId: requested, mergedInto: leadId, ...pageView(merged) };
}

/**
 * Returns the next page of the merged lead `leadId`'s own history
 * when the page's cursor is one that this lead returned before its merge.
 * The merge leaves those entries under the merged lead. Returns undefined
 * when `leadId` is not merged or the cursor is not one of its cursors.
 * NOTE: a cursor of a merge target that was merged itself later stays
 * rejected on the ids merged into it. It keeps working on the path of
 * that target, whose tombstone it is bound to.
 */
async function mergedLeadPage(
  deps: ScoringDependencies,
  leadId: string,
  page: HistoryPageRequest,
): Promise<HistoryPage | undefined> {
  if (page.cursor === undefined) return undefined;
  const tombstone = await deps.repository.getLead(leadId);
  if (tombstone?.mergedInto === undefined) return undefined;
  try {
    return await deps.repository.listHistory(
      leadId,
      page.limit,
      page.cursor,
      tombstone.incarnationId,
    );
  } catch (error) {
    if (error instanceof InvalidCursorError) return undefined;
    throw error;
  }
}

/** Returns the entries and next cursor of a page as the route shows them. */
function pageView(
  page: HistoryPage,
): Pick<HistoryView, 'entries' | 'nextCursor'> {
  return {
    entries: page.entries.map((entry) => ({
      at: toIso(entry.at),
      cause: entry.cause,
      before: entry.before === null ? null : shownPoint(entry.before),
      after: shownPoint(entry.after),
      modelVersion: entry.modelVersion,
      previousModelVersion: entry.previousModelVersion ?? null,
      events: entry.events,
    })),
    nextCursor: page.cursor ?? null,
  };
}

function invalidCursor(): ValidationError {
  return new ValidationError('The cursor is invalid.', [
    {
      field: 'cursor',
      message:
        'must be the nextCursor of an earlier page of this lead; omit it to start from the newest entry',
    },
  ]);
}
