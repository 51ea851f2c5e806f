import { describe, expect, it } from 'vitest';
import {
  evaluateLeads,
  type LabelledLead,
} from '../../scripts/replay/evaluation.js';

function lead(
  score: number,
  converted: boolean,
  status: LabelledLead['status'] = 'engaged',
): LabelledLead {
  return { score, converted, status };
}

describe('evaluateLeads', () => {
  it('computes AUC, conversion rates and lift', () => {
    const leads = [
      lead(120, true, 'mql'),
      lead(110, false, 'mql'),
      lead(40, true),
      lead(30, false),
      lead(20, false),
      lead(10, false),
    ];

    const evaluation = evaluateLeads(leads);

    expect(evaluation.leads).toBe(6);
    expect(evaluation.converted).toBe(2);
    expect(evaluation.auc).toBeCloseTo(7 / 8, 12);
    expect(evaluation.mqls).toBe(2);
    expect(evaluation.convertedMqls).toBe(1);
    expect(evaluation.conversionRate).toBeCloseTo(1 / 3, 12);
    expect(evaluation.mqlConversionRate).toBe(0.5);
    expect(evaluation.lift).toBeCloseTo(1.5, 12);
  });

  it('leaves MQL rate and lift undefined without MQLs', () => {
    const evaluation = evaluateLeads([lead(1, true), lead(0, false)]);

    expect(evaluation.mqls).toBe(0);
    expect(evaluation.mqlConversionRate).toBeNull();
    expect(evaluation.lift).toBeNull();
  });

  it('reports why the AUC is undefined for one class', () => {
    const evaluation = evaluateLeads([lead(1, false), lead(0, false)]);

    expect(evaluation.auc).toBeNull();
    expect(evaluation.aucUndefinedReason).toMatch(/0 positive and 2 negative/);
    expect(evaluation.conversionRate).toBe(0);
    expect(evaluation.lift).toBeNull();
  });

  it('handles no leads', () => {
    const evaluation = evaluateLeads([]);

    expect(evaluation.auc).toBeNull();
    expect(evaluation.conversionRate).toBeNull();
  });
});
