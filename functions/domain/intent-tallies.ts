import type { IntentTally } from './intent-tally.js';

/**
 * A lead's intent tallies by rule id: two arrays of equal length, sorted
 * by rule id, so that any order of the same events gives equal values.
 * Arrays rather than a Map, because applyEvents copies a lead's tallies
 * on every request that changes one, and copying two short arrays costs
 * far less than copying a Map (core benchmark, Node 20).
 */
export interface IntentTallies {
  /** Rule ids, ascending, without repeats. */
  ruleIds: string[];
  /** The tally of the rule id at the same index. */
  tallies: IntentTally[];
}

/** Returns tallies of no rules. */
export function emptyTallies(): IntentTallies {
  return { ruleIds: [], tallies: [] };
}

/** Returns a copy that shares the tallies themselves. */
export function copyTallies(intent: IntentTallies): IntentTallies {
  return { ruleIds: intent.ruleIds.slice(), tallies: intent.tallies.slice() };
}

/**
 * Returns a copy with the tally of a rule stored, replacing the one it
 * had. Each array is allocated once at its final length, where copying
 * and then inserting grew both copies again.
 */
export function copyWithTally(
  intent: IntentTallies,
  ruleId: string,
  tally: IntentTally,
): IntentTallies {
  const { ruleIds, tallies } = intent;
  let index = 0;
  while (index < ruleIds.length && (ruleIds[index] as string) < ruleId) {
    index += 1;
  }
  const replaces = ruleIds[index] === ruleId;
  const length = replaces ? ruleIds.length : ruleIds.length + 1;
  const copiedIds = new Array<string>(length);
  const copiedTallies = new Array<IntentTally>(length);
  for (let before = 0; before < index; before += 1) {
    copiedIds[before] = ruleIds[before] as string;
    copiedTallies[before] = tallies[before] as IntentTally;
  }
  copiedIds[index] = ruleId;
  copiedTallies[index] = tally;
  const shift = replaces ? 0 : 1;
  for (let after = index + 1; after < length; after += 1) {
    copiedIds[after] = ruleIds[after - shift] as string;
    copiedTallies[after] = tallies[after - shift] as IntentTally;
  }
  return { ruleIds: copiedIds, tallies: copiedTallies };
}

/** Returns the tally of a rule, or undefined when it has none. */
export function tallyOf(
  intent: IntentTallies,
  ruleId: string,
): IntentTally | undefined {
  const index = intent.ruleIds.indexOf(ruleId);
  return index === -1 ? undefined : intent.tallies[index];
}

/** Stores the tally of a rule, replacing the one it had. */
export function setTally(
  intent: IntentTallies,
  ruleId: string,
  tally: IntentTally,
): void {
  const { ruleIds, tallies } = intent;
  let index = 0;
  while (index < ruleIds.length && (ruleIds[index] as string) < ruleId) {
    index += 1;
  }
  if (ruleIds[index] === ruleId) {
    tallies[index] = tally;
    return;
  }
  // Shifting by hand costs less than two splices (core benchmark).
  ruleIds.push(ruleId);
  tallies.push(tally);
  for (let last = ruleIds.length - 1; last > index; last -= 1) {
    ruleIds[last] = ruleIds[last - 1] as string;
    tallies[last] = tallies[last - 1] as IntentTally;
  }
  ruleIds[index] = ruleId;
  tallies[index] = tally;
}

/** Removes the tally of a rule, if it has one. */
export function deleteTally(intent: IntentTallies, ruleId: string): void {
  const index = intent.ruleIds.indexOf(ruleId);
  if (index === -1) return;
  intent.ruleIds.splice(index, 1);
  intent.tallies.splice(index, 1);
}
