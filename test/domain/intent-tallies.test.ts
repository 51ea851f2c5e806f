import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  copyTallies,
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
});
