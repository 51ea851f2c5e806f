import type { LeadState } from '../domain/lead.js';
import type { EventPersonalData } from '../domain/outgoing-events.js';
import type { ScoringDependencies } from './dependencies.js';

/**
 * Returns the personal data the stage allows in a lead's event details:
 * the `email` trait when `eventOptions.includeEmail` is set, else nothing.
 */
export function eventPersonalData(
  deps: Pick<ScoringDependencies, 'eventOptions'>,
  state: Pick<LeadState, 'traits'> | undefined,
): EventPersonalData {
  if (deps.eventOptions?.includeEmail !== true) return {};
  const email = state?.traits.email?.value;
  return typeof email === 'string' ? { email } : {};
}
