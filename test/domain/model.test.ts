import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DOCUMENT } from '../../functions/adapters/model-source.js';
import { InvalidModelError } from '../../functions/domain/errors.js';
import { compileModel } from '../../functions/domain/model.js';

function minimalModel(): Record<string, unknown> {
  return {
    name: 'minimal',
    fit: {
      rules: [
        {
          id: 'title-cfo',
          description: 'CFO',
          traits: ['title'],
          pattern: '\\bcfo\\b',
          points: 20,
        },
      ],
    },
    intent: {
      rules: [
        {
          id: 'pricing',
          description: 'Pricing page',
          when: { types: ['page'], path: '^/pricing' },
          points: 25,
        },
      ],
    },
    qualification: { threshold: 40, recycleBelow: 20 },
  };
}

/** Sets a nested value of a JSON document in place. */
function setPath(
  document: Record<string, unknown>,
  path: (string | number)[],
  value: unknown,
): void {
  let node = document as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    node = node[key] as Record<string | number, unknown>;
  }
  node[path[path.length - 1] as string | number] = value;
}

function issuesOf(document: unknown): string[] {
  try {
    compileModel(document);
  } catch (error) {
    if (error instanceof InvalidModelError) {
      return error.issues.map((issue) => issue.field);
    }
    throw error;
  }
  return [];
}

describe('compileModel', () => {
  it('compiles the bundled default model', () => {
    const model = compileModel(DEFAULT_MODEL_DOCUMENT);

    expect(model.name).toBe('procurement-software');
    expect(model.version).toMatch(/^[0-9a-f]{12}$/);
    expect(model.retentionPerQuarter).toBe(0.75);
  });

  it('applies defaults for decay, minimum fit and cooldown', () => {
    const model = compileModel(minimalModel());

    expect(model.retentionPerQuarter).toBe(0.75);
    expect(model.qualification.minimumFit).toBe(0);
    expect(model.qualification.cooldownDays).toBe(30);
  });

  it('versions by content, not by key order', () => {
    const document = minimalModel();
    const reordered = Object.fromEntries(Object.entries(document).reverse());

    expect(compileModel(reordered).version).toBe(
      compileModel(document).version,
    );
  });

  it('changes version when a weight changes', () => {
    const changed = minimalModel();
    setPath(changed, ['intent', 'rules', 0, 'points'], 26);

    expect(compileModel(changed).version).not.toBe(
      compileModel(minimalModel()).version,
    );
  });

  it.each([
    {
      name: 'an invalid regular expression',
      path: ['fit', 'rules', 0, 'pattern'],
      value: '(unclosed',
      field: 'fit.rules[0].pattern',
    },
    {
      name: 'a recycle level at the threshold',
      path: ['qualification', 'recycleBelow'],
      value: 40,
      field: 'qualification.recycleBelow',
    },
    {
      name: 'a retention above 1',
      path: ['intent', 'retentionPerQuarter'],
      value: 1.2,
      field: 'intent.retentionPerQuarter',
    },
    {
      name: 'a fit rule with two conditions',
      path: ['fit', 'rules', 0, 'oneOf'],
      value: ['CFO'],
      field: 'fit.rules[0]',
    },
    {
      name: 'a duplicate rule id',
      path: ['intent', 'rules', 0, 'id'],
      value: 'title-cfo',
      field: 'intent.rules[0].id',
    },
    {
      name: 'an intent rule without conditions',
      path: ['intent', 'rules', 0, 'when'],
      value: {},
      field: 'intent.rules[0].when',
    },
    {
      name: 'an unknown field',
      path: ['qualification', 'treshold'],
      value: 5,
      field: 'qualification',
    },
  ])('rejects $name with its path', ({ path, value, field }) => {
    const document = minimalModel();
    setPath(document, path, value);

    expect(issuesOf(document)).toContain(field);
  });
});
