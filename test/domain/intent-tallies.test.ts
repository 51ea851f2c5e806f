import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  copyTallies,
  copyWithTally,
  deleteTally,
  emptyTallies,
  setTally,
  tallyOf,
} from '../../functions/domain/intent-tallies.js';
import { emptyTally } from '../../functions/domain/intent-tally.js';

const RULE_IDS = ['blog', 'demo', 'pricing', 'careers', 'a', 'z', 'demo-2'];

const operation = fc.record({
  kind: fc.constantFrom('set', 'set', 'delete'),
  ruleId: fc.constantFrom(...RULE_IDS),
});

describe('IntentTallies', () => {
  it('matches a Map under random changes', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (operations) => {
        const intent = emptyTallies();
        const expected = new Map<string, ReturnType<typeof emptyTally>>();

        for (const { kind, ruleId } of operations) {
          if (kind === 'set') {
            const tally = emptyTally();
            setTally(intent, ruleId, tally);
            expected.set(ruleId, tally);
          } else {
            deleteTally(intent, ruleId);
            expected.delete(ruleId);
          }
        }

        expect(intent.ruleIds).toEqual([...expected.keys()].sort());
        expect(intent.tallies).toHaveLength(intent.ruleIds.length);
        for (const ruleId of RULE_IDS) {
          expect(tallyOf(intent, ruleId)).toBe(expected.get(ruleId));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('copies without changing the original', () => {
    const intent = emptyTallies();
    const blog = emptyTally();
    setTally(intent, 'blog', blog);

    const copy = copyTallies(intent);
    setTally(copy, 'demo', emptyTally());
    deleteTally(copy, 'blog');

    expect(intent.ruleIds).toEqual(['blog']);
    expect(tallyOf(intent, 'blog')).toBe(blog);
    expect(copy.ruleIds).toEqual(['demo']);
  });

  it('copies with a tally as setTally stores it', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...RULE_IDS)),
        fc.constantFrom(...RULE_IDS),
        (present, ruleId) => {
          const intent = emptyTallies();
          for (const id of present) setTally(intent, id, emptyTally());
          const ruleIdsBefore = intent.ruleIds.slice();
          const talliesBefore = intent.tallies.slice();
          const tally = emptyTally();

          const copy = copyWithTally(intent, ruleId, tally);
          const expected = copyTallies(intent);
          setTally(expected, ruleId, tally);

          expect(copy.ruleIds).toEqual(expected.ruleIds);
          expect(copy.tallies).toHaveLength(expected.tallies.length);
          copy.tallies.forEach((copied, index) => {
            expect(copied).toBe(expected.tallies[index]);
          });
          expect(intent.ruleIds).toEqual(ruleIdsBefore);
          intent.tallies.forEach((kept, index) => {
            expect(kept).toBe(talliesBefore[index]);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
