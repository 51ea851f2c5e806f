import { describe, expect, it } from 'vitest';
import { compileModel } from '../../functions/domain/model-validation.js';
import { formatModelSummary } from '../../scripts/model/summary.js';

function modelWithIntent(rule: Record<string, unknown>) {
  return compileModel({
    name: 'summary',
    fit: {
      rules: [
        {
          id: 'buyer',
          description: 'Buyer',
          traits: ['title'],
          oneOf: ['buyer'],
          points: 20,
        },
      ],
    },
    intent: {
      rules: [{ id: 'rule', description: 'Rule', points: 10, ...rule }],
    },
    qualification: { threshold: 40, recycleBelow: 25 },
  });
}

function intentLine(summary: string): string | undefined {
  return summary.split('\n').find((line) => line.includes(' rule '));
}

describe('formatModelSummary', () => {
  it('shows the retention of a decaying rule', () => {
    const model = modelWithIntent({
      when: { events: ['Demo Requested'] },
      retentionPerQuarter: 0.5,
    });

    const line = intentLine(formatModelSummary('m.json', model, []));

    expect(line).toContain('(retention 0.5)');
  });

  it('shows no retention for negative points', () => {
    const model = modelWithIntent({
      when: { events: ['Unsubscribed'] },
      points: -30,
      retentionPerQuarter: 0.5,
    });

    const line = intentLine(formatModelSummary('m.json', model, []));

    expect(line).toContain('(no decay)');
    expect(line).not.toContain('retention');
  });

  it('names a single allowed value', () => {
    const model = modelWithIntent({ when: { events: ['Demo Requested'] } });

    const summary = formatModelSummary('m.json', model, []);

    expect(summary).toContain('equal to "buyer" on title');
  });

  it('names quarantine checks without properties', () => {
    const model = compileModel({
      ...modelWithIntent({ when: { events: ['A'] } }).document,
      quarantine: {
        emailClicks: { deliveryTimeProperties: [] },
        emailOpens: { proxyFlagProperties: [] },
      },
    });

    const summary = formatModelSummary('m.json', model, []);

    expect(summary).toContain(
      'Email Link Clicked, Email Clicked, Clicked Email Link: no delivery time property, so no click is quarantined for its delay after delivery',
    );
    expect(summary).toContain(
      'Email Opened, Opened Email from a privacy proxy (user agent)',
    );
  });

  it('lists the account settings', () => {
    const model = compileModel({
      ...modelWithIntent({ when: { events: ['A'] } }).document,
      fit: {
        rules: [
          {
            id: 'size',
            description: 'Size',
            traits: ['employees'],
            group: 'company-size',
            range: { min: 1000 },
            points: 20,
          },
        ],
      },
      accounts: {
        fitGroups: ['company-size'],
        roles: [
          { id: 'cfo', description: 'CFO', titlePattern: '\\bcfo\\b' },
          { id: 'buyer', description: 'Buyer', titlePattern: 'buyer' },
        ],
        qualification: {
          threshold: 150,
          recycleBelow: 120,
          requiredRoles: ['cfo'],
          minimumRoles: 2,
        },
      },
    });

    const summary = formatModelSummary('m.json', model, []);

    expect(summary).toContain('Accounts:');
    expect(summary).toContain(
      '  role cfo                    pattern /\\bcfo\\b/',
    );
    expect(summary).toContain(
      '  MQA at 150 points (the best fit of groups company-size plus the intent of the 10 most engaged leads); recycled below 120',
    );
    expect(summary).toContain(
      '  needs role cfo and at least 2 roles in all, each with a lead of intent 10 or more',
    );
  });

  it('says when a model has no accounts', () => {
    const model = modelWithIntent({ when: { events: ['A'] } });

    const summary = formatModelSummary('m.json', model, []);

    expect(summary).toContain(
      'Accounts:\n  none; no lead rolls up to an account',
    );
  });
});
