import type { ScoringDependencies } from './dependencies.js';
import type { LeadView } from './get-lead.js';
import { recordDisposition } from './record-disposition.js';

/** A sales decision to send an MQL back to marketing. */
export interface RecycleRequest {
  leadId: string;
  /** Reason sales gives for sending the lead back, such as "no budget". */
  reason: string;
}

/**
 * Recycles an MQL because sales sent it back: the "recycled" disposition.
 * Its episode ends with a "Lead Recycled" event, and it can qualify again
 * only after the cooldown and new activity. Raises NotFoundError for an
 * unknown lead and ConflictError for a lead that is not an MQL, unless
 * the request repeats the recycle that ended its episode.
 */
export async function recycleLead(
  deps: ScoringDependencies,
  request: RecycleRequest,
): Promise<LeadView> {
  const result = await recordDisposition(deps, request.leadId, {
    kind: 'recycled',
    reason: request.reason,
  });
  return result.lead;
}
