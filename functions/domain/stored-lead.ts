import { emptyTallies, setTally } from './intent-tallies.js';
import {
  fromStoredTally,
  type IntentTally,
  type StoredIntentTally,
  toStoredTally,
} from './intent-tally.js';
import type { LeadState } from './lead.js';
import {
  fromStoredClickSeconds,
  type StoredClickSecond,
  toStoredClickSeconds,
} from './quarantine.js';

/**
 * A lead state in the form it is stored in: intent tallies in a record by
 * rule id, with their year sums and cap windows as records keyed by index
 * (see StoredIntentTally), and click seconds in a record by second. Every
 * other field is stored as it is, except that fields whose value is
 * undefined are left out.
 */
export type StoredLeadState = Omit<LeadState, 'intent' | 'clickSeconds'> & {
  intent: Record<string, StoredIntentTally>;
  clickSeconds: Record<string, StoredClickSecond>;
};

/** Converts a lead state to its stored form. */
export function toStoredLead(state: LeadState): StoredLeadState {
  const intent: Record<string, StoredIntentTally> = {};
  const { ruleIds, tallies } = state.intent;
  for (let index = 0; index < ruleIds.length; index += 1) {
    intent[ruleIds[index] as string] = toStoredTally(
      tallies[index] as IntentTally,
    );
  }
  const stored: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(state)) {
    if (value !== undefined) stored[key] = value;
  }
  stored.intent = intent;
  stored.clickSeconds = toStoredClickSeconds(state.clickSeconds);
  return stored as StoredLeadState;
}

/** Converts a stored lead state to the form that scoring uses. */
export function fromStoredLead(stored: StoredLeadState): LeadState {
  const intent = emptyTallies();
  for (const ruleId in stored.intent) {
    const tally = stored.intent[ruleId] as StoredIntentTally;
    setTally(intent, ruleId, fromStoredTally(tally));
  }
  return {
    ...stored,
    intent,
    clickSeconds: fromStoredClickSeconds(stored.clickSeconds),
  };
}
