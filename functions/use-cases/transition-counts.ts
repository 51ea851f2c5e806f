import { DETAIL_TYPES, type OutgoingEvent } from '../domain/outgoing-events.js';

/** Status changes caused by one request or sweep run. */
export interface TransitionCounts {
  /** Leads that became MQLs: "Lead Qualified" events. */
  qualified: number;
  /** MQLs recycled: "Lead Recycled" events. */
  recycled: number;
}

/** Counts the transitions behind a list of outgoing events. */
export function countTransitions(
  events: readonly OutgoingEvent[],
): TransitionCounts {
  let qualified = 0;
  let recycled = 0;
  for (const event of events) {
    if (event.detailType === DETAIL_TYPES.qualified) qualified += 1;
    if (event.detailType === DETAIL_TYPES.recycled) recycled += 1;
  }
  return { qualified, recycled };
}
