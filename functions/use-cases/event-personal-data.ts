import { detailEmailOf } from '../domain/event-contract.js';
import type { LeadState } from '../domain/lead.js';
import type { EventPersonalData } from '../domain/outgoing-events.js';
import type { ScoringDependencies } from './dependencies.js';

/**
 * Returns the personal data the stage allows in a lead's event details:
 * the `email` trait when `eventOptions.includeEmail` is set, in the form
 * that `detailEmailOf` returns, else nothing.
 */
export function eventPersonalData(
  deps: Pick<ScoringDependencies, 'eventOptions'>,
  state: Pick<LeadState, 'traits'> | undefined,
): EventPersonalData {
  if (deps.eventOptions?.includeEmail !== true) return {};
  const trait = state?.traits.email?.value;
  // An address that the detail schema rejects would keep the whole event
  // from being sent, so such an address is left out instead.
  const email = typeof trait === 'string' ? detailEmailOf(trait) : undefined;
  return email === undefined ? {} : { email };
}
