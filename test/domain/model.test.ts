import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DOCUMENT } from '../../functions/adapters/model-source.js';
import { InvalidModelError } from '../../functions/domain/errors.js';
import {
  compileValidatedModel,
  type ModelDocument,
} from '../../functions/domain/model.js';
import { checkModel, maximumFit } from '../../functions/domain/model-check.js';
import { compileModel } from '../../functions/domain/model-validation.js';

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
    qualification: { threshold: 40, recycleBelow: 25 },
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

/** Returns a copy of a JSON value with the keys of every object sorted. */
function withSortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withSortedKeys);
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value).sort();
  const record = value as Record<string, unknown>;
  return Object.fromEntries(
    keys.map((key) => [key, withSortedKeys(record[key])]),
  );
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
  it('names fraction in integer field', () => {
    const document = minimalModel();
    setPath(document, ['intent', 'rules', 0, 'cap'], { max: 2.5 });

    expect(() => compileModel(document)).toThrow(
      expect.objectContaining({
        issues: [
          {
            field: 'intent.rules[0].cap.max',
            message: 'must be a whole number, not 2.5',
          },
        ],
      }),
    );
  });

  it('rejects a __proto__ trait name', () => {
    const document = minimalModel();
    setPath(document, ['fit', 'rules', 0, 'traits'], ['title', '__proto__']);

    expect(issuesOf(document)).toEqual(['fit.rules[0].traits[1]']);
  });
  it.each([
    [
      'intent.rules[0].when.properties.__proto__',
      ['intent', 'rules', 0, 'when'],
    ],
    ['fit.rules[0].__proto__', ['fit', 'rules', 0]],
  ])('rejects a __proto__ key at %s', (field, path) => {
    const document = minimalModel();
    const parent = path.reduce<Record<string | number, unknown>>(
      (node, key) => node[key] as Record<string | number, unknown>,
      document,
    );
    const json = JSON.stringify({ ...parent, marker: true });
    const withProto = field.endsWith('properties.__proto__')
      ? json.replace('"marker":true', '"properties":{"__proto__":["x"]}')
      : json.replace('"marker":true', '"__proto__":{"points":1}');
    setPath(document, path, JSON.parse(withProto));

    expect(issuesOf(document)).toEqual([field]);
  });
  it('names a repeated rule id next to another error', () => {
    const document = minimalModel();
    const [rule] = (document.fit as { rules: unknown[] }).rules;
    setPath(document, ['fit', 'rules'], [rule, rule]);
    setPath(document, ['qualification', 'cooldownDays'], 'x');

    const issues = issuesOf(document);

    expect(issues).toContain('qualification.cooldownDays');
    expect(issues).toContain('fit.rules[1].id');
  });
  it('names a recycle level next to an invalid cooldown', () => {
    const document = minimalModel();
    setPath(document, ['qualification'], {
      threshold: 40,
      recycleBelow: 50,
      cooldownDays: 'x',
    });

    expect(issuesOf(document)).toEqual([
      'qualification.cooldownDays',
      'qualification.recycleBelow',
    ]);
  });
  it('names a repeated id next to an invalid pattern', () => {
    const document = minimalModel();
    const [rule] = (document.intent as { rules: unknown[] }).rules;
    setPath(document, ['intent', 'rules'], [rule, rule]);
    setPath(document, ['fit', 'rules', 0, 'pattern'], '(');

    expect(issuesOf(document)).toEqual([
      'fit.rules[0].pattern',
      'intent.rules[1].id',
    ]);
  });
  it('skips a repeat check of an invalid id', () => {
    const document = minimalModel();
    const [rule] = (document.fit as { rules: unknown[] }).rules;
    setPath(document, ['fit', 'rules'], [rule, rule]);
    setPath(document, ['fit', 'rules', 0, 'id'], 'Title');
    setPath(document, ['fit', 'rules', 1, 'id'], 'Title');

    expect(issuesOf(document)).toEqual(['fit.rules[0].id', 'fit.rules[1].id']);
  });
  it('accepts the edge values of each setting', () => {
    const document = minimalModel();
    setPath(document, ['intent', 'retentionPerQuarter'], 1);
    setPath(document, ['qualification'], {
      threshold: 1_000_000_000,
      recycleBelow: -1_000_000_000,
      minimumFit: -1_000_000_000,
      cooldownDays: 0,
    });
    setPath(document, ['intent', 'rules', 0, 'cap'], {
      max: 1000,
      windowDays: 1,
    });

    const model = compileModel(document);

    expect(model.retentionPerQuarter).toBe(1);
    expect(model.qualification.cooldownDays).toBe(0);
    expect(model.intentRules[0]?.cap).toMatchObject({ max: 1000 });
  });

  it('names the repeated group of a ReDoS pattern', () => {
    const document = minimalModel();
    setPath(document, ['fit', 'rules', 0, 'pattern'], '^(\\w+\\s?)+$');

    expect(() => compileModel(document)).toThrow(
      expect.objectContaining({
        issues: [
          expect.objectContaining({
            field: 'fit.rules[0].pattern',
            message: expect.stringContaining('repeats (\\w+\\s?)+'),
          }),
        ],
      }),
    );
  });

  it.each([
    {
      name: 'a count above 1000',
      pattern: 'a{1,100000}b{1,100000}',
      part: 'repeats a{1,100000} up to 100,000 times in all',
      fix: 'lower the counts to at most 1,000 in all',
    },
    {
      name: 'nested counts above 1000',
      pattern: '^(?:a{100}){100}$',
      part: 'repeats (?:a{100}){100} up to 10,000 times in all',
      fix: 'lower the counts to at most 1,000 in all',
    },
    {
      name: 'overlapping alternatives',
      pattern: '(\\w|\\d)+$',
      part: 'has (\\w|\\d)+, alternatives inside a repeat of which \\w and \\d',
      fix: 'make every alternative start with a different character',
    },
    {
      name: 'an unanchored pair',
      pattern: '\\w+\\w+$',
      part: 'has \\w+\\w+, two unbounded parts',
      fix: 'or anchor the pattern with ^',
    },
    {
      name: 'groups nested 2,000 deep',
      pattern: `${'('.repeat(2000)}a${')'.repeat(2000)}`,
      part: 'nests groups 2000 deep, more than 50',
      fix: 'remove groups that wrap a single group',
    },
    {
      name: 'a pattern above 4,096 characters',
      pattern: `^(?:${Array.from({ length: 1000 }, (_, i) => `x${i}`).join('|')})$`,
      part: 'must be at most 4,096 characters long',
      fix: 'split the pattern into several rules',
    },
  ])('names the part and the fix for $name', ({ pattern, part, fix }) => {
    const document = minimalModel();
    setPath(document, ['intent', 'rules', 0, 'when', 'path'], pattern);

    expect(() => compileModel(document)).toThrow(
      expect.objectContaining({
        issues: [
          expect.objectContaining({
            field: 'intent.rules[0].when.path',
            message: expect.stringContaining(part),
          }),
        ],
      }),
    );
    expect(() => compileModel(document)).toThrow(
      expect.objectContaining({
        issues: [
          expect.objectContaining({ message: expect.stringContaining(fix) }),
        ],
      }),
    );
  });

  it('accepts common title and path patterns', () => {
    const document = minimalModel();
    setPath(
      document,
      ['fit', 'rules', 0, 'pattern'],
      '(chief|vp).*procurement',
    );
    setPath(document, ['intent', 'rules', 0, 'when', 'path'], '^/pricing');
    setPath(document, ['intent', 'rules', 0, 'when', 'properties'], {
      plan: { pattern: '\\bcfo\\b|.*=.*' },
    });

    expect(issuesOf(document)).toEqual([]);
  });

  it('names the run of a polynomial ReDoS pattern', () => {
    const document = minimalModel();
    setPath(document, ['fit', 'rules', 0, 'pattern'], '^.*.*.*.*x$');

    expect(() => compileModel(document)).toThrow(
      expect.objectContaining({
        issues: [
          expect.objectContaining({
            field: 'fit.rules[0].pattern',
            message: expect.stringContaining(
              'has .*.*.*, three or more unbounded parts',
            ),
          }),
        ],
      }),
    );
  });

  it('accepts two unbounded parts in a row', () => {
    const document = minimalModel();
    setPath(document, ['fit', 'rules', 0, 'pattern'], '^vp.*procurement.*$');

    expect(issuesOf(document)).toEqual([]);
  });

  it.each(['\\p{', '(?<x', '[a-', '(a+'])(
    'rejects invalid %s once',
    (pattern) => {
      const document = minimalModel();
      setPath(document, ['fit', 'rules', 0, 'pattern'], pattern);

      expect(issuesOf(document)).toEqual(['fit.rules[0].pattern']);
    },
  );

  it('names an unknown field and what to do', () => {
    const document = minimalModel();
    setPath(document, ['qualification', 'treshold'], 5);

    expect(() => compileModel(document)).toThrow(
      expect.objectContaining({
        issues: [
          {
            field: 'qualification.treshold',
            message:
              'is not a known field; allowed fields are threshold, recycleBelow, minimumFit, cooldownDays. Remove it or correct its spelling.',
          },
        ],
      }),
    );
  });

  it.each([
    ['only spaces', '   ', 'must contain a visible character'],
    ['a line break', 'Procurement\nmodel', 'must not contain control'],
    ['a bidirectional override', 'ledom\u202e', 'bidirectional controls'],
    ['a lone surrogate', 'model \ud800', 'must be well-formed Unicode'],
  ])('rejects a model name of %s', (_case, name, message) => {
    const document = minimalModel();
    setPath(document, ['name'], name);

    expect(() => compileModel(document)).toThrow(
      expect.objectContaining({
        issues: [{ field: 'name', message: expect.stringContaining(message) }],
      }),
    );
  });

  it.each([
    ['\\_', 'Invalid escape', 'remove the backslash before a plain character'],
    ['(?i)cpo', 'Invalid group', 'Inline flags such as (?i) are not supported'],
    [
      'x(?i:cpo)',
      'Invalid group',
      'Inline flags such as (?i) are not supported',
    ],
    ['[z-a]', 'Range out of order in character class', ''],
  ])('says why pattern %s is invalid', (pattern, reason, hint) => {
    const document = minimalModel();
    setPath(document, ['fit', 'rules', 0, 'pattern'], pattern);

    expect(() => compileModel(document)).toThrow(
      expect.objectContaining({
        issues: [
          {
            field: 'fit.rules[0].pattern',
            message: expect.stringMatching(
              new RegExp(
                `^must be a valid JavaScript regular expression in Unicode mode \\(${reason.replace(/[()]/g, '\\$&')}\\).*${hint.replace(/[()?]/g, '\\$&')}`,
              ),
            ),
          },
        ],
      }),
    );
  });

  it('names a missing rule description plainly', () => {
    const document = minimalModel();
    const rules = (document.intent as { rules: Record<string, unknown>[] })
      .rules;
    delete rules[0]?.description;

    expect(() => compileModel(document)).toThrow(
      expect.objectContaining({
        issues: [
          { field: 'intent.rules[0].description', message: 'is required' },
        ],
      }),
    );
  });

  it.each([
    { name: 'a list of numbers', condition: [1, 2] },
    { name: 'an unknown condition', condition: { regex: 'pro' } },
    { name: 'a single value', condition: 'pro' },
  ])('names the forms of a property condition for $name', ({ condition }) => {
    const document = minimalModel();
    setPath(document, ['intent', 'rules', 0, 'when', 'properties'], {
      plan: condition,
    });

    expect(() => compileModel(document)).toThrow(
      expect.objectContaining({
        issues: [
          {
            field: 'intent.rules[0].when.properties.plan',
            message:
              'must be a list of values such as ["pro", "1"], {"pattern": "..."} or {"range": {"min": 600}}; write numbers in a list as strings',
          },
        ],
      }),
    );
  });

  it('names a number too large for JSON', () => {
    const document = JSON.parse(
      JSON.stringify(minimalModel()).replace('"points":20', '"points":1e400'),
    ) as Record<string, unknown>;

    expect(() => compileModel(document)).toThrow(
      expect.objectContaining({
        issues: [
          {
            field: 'fit.rules[0].points',
            message:
              'must be a finite number, not Infinity; a JSON number this large does not fit in a double',
          },
        ],
      }),
    );
  });

  it('scores with no fit rules', () => {
    const document = minimalModel();
    setPath(document, ['fit', 'rules'], []);

    const model = compileModel(document);

    expect(model.fitRules).toEqual([]);
    expect(maximumFit(model)).toBe(0);
    expect(checkModel(model)).toEqual([]);
  });

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

  it('fills in the quarantine defaults', () => {
    const model = compileModel(minimalModel());

    expect(model.document.quarantine.emailClicks).toMatchObject({
      minSecondsAfterDelivery: 10,
      burstClicksPerSecond: 3,
    });
    expect(model.quarantine.emailClickEvents.has('email link clicked')).toBe(
      true,
    );
  });

  it('lets a model override one quarantine setting', () => {
    const document = minimalModel();
    document.quarantine = { emailClicks: { minSecondsAfterDelivery: 30 } };

    const model = compileModel(document);

    expect(model.quarantine.minMsAfterDelivery).toBe(30_000);
    expect(model.quarantine.burstClicksPerSecond).toBe(3);
  });

  it('versions by content, not by key order', () => {
    const document = minimalModel();
    const reordered = Object.fromEntries(Object.entries(document).reverse());

    expect(compileModel(reordered).version).toBe(
      compileModel(document).version,
    );
  });

  it('versions a written-out default as omitted', () => {
    const explicit = minimalModel();
    setPath(explicit, ['qualification', 'cooldownDays'], 30);
    setPath(explicit, ['intent', 'retentionPerQuarter'], 0.75);

    expect(compileModel(explicit).version).toBe(
      compileModel(minimalModel()).version,
    );
  });

  it('versions the sorted JSON with defaults filled in', () => {
    const model = compileModel(minimalModel());
    const digest = createHash('sha256')
      .update(JSON.stringify(withSortedKeys(model.document)))
      .digest('hex');

    expect(model.version).toBe(digest.slice(0, 12));
    expect(model.document.qualification.cooldownDays).toBe(30);
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
      name: 'a retention below the minimum',
      path: ['intent', 'retentionPerQuarter'],
      value: 0.001,
      field: 'intent.retentionPerQuarter',
    },
    {
      name: 'a rule retention below the minimum',
      path: ['intent', 'rules', 0, 'retentionPerQuarter'],
      value: 0.01,
      field: 'intent.rules[0].retentionPerQuarter',
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
      name: 'a rule id every object has',
      path: ['intent', 'rules', 0, 'id'],
      value: 'constructor',
      field: 'intent.rules[0].id',
    },
    {
      name: 'an intent rule without conditions',
      path: ['intent', 'rules', 0, 'when'],
      value: {},
      field: 'intent.rules[0].when',
    },
    {
      name: 'an intent rule with no property conditions',
      path: ['intent', 'rules', 0, 'when'],
      value: { properties: {} },
      field: 'intent.rules[0].when.properties',
    },
    {
      name: 'an unknown field',
      path: ['qualification', 'treshold'],
      value: 5,
      field: 'qualification.treshold',
    },
    {
      name: 'a threshold beyond any score',
      path: ['qualification', 'threshold'],
      value: 1e308,
      field: 'qualification.threshold',
    },
    {
      name: 'a recycle level beyond any score',
      path: ['qualification', 'recycleBelow'],
      value: -1e308,
      field: 'qualification.recycleBelow',
    },
    {
      name: 'a minimum fit beyond any score',
      path: ['qualification', 'minimumFit'],
      value: 1e308,
      field: 'qualification.minimumFit',
    },
    {
      name: 'a cooldown of a thousand years',
      path: ['qualification', 'cooldownDays'],
      value: 365_250,
      field: 'qualification.cooldownDays',
    },
    {
      name: 'a negative cooldown',
      path: ['qualification', 'cooldownDays'],
      value: -1,
      field: 'qualification.cooldownDays',
    },
    {
      name: 'a cap of a million events',
      path: ['intent', 'rules', 0, 'cap'],
      value: { max: 1_000_000, windowDays: 30 },
      field: 'intent.rules[0].cap.max',
    },
    {
      name: 'a cap window of a second',
      path: ['intent', 'rules', 0, 'cap'],
      value: { max: 3, windowDays: 1 / 86_400 },
      field: 'intent.rules[0].cap.windowDays',
    },
    {
      name: 'a delivery delay of centuries',
      path: ['quarantine'],
      value: { emailClicks: { minSecondsAfterDelivery: 1e308 } },
      field: 'quarantine.emailClicks.minSecondsAfterDelivery',
    },
    {
      name: 'an engagement step below a cent',
      path: ['accounts'],
      value: {
        engagementStep: 0.001,
        roles: [{ id: 'cfo', description: 'CFO', titlePattern: 'cfo' }],
        qualification: { threshold: 50, recycleBelow: 40 },
      },
      field: 'accounts.engagementStep',
    },
    {
      name: 'an account threshold beyond any score',
      path: ['accounts'],
      value: {
        roles: [{ id: 'cfo', description: 'CFO', titlePattern: 'cfo' }],
        qualification: { threshold: 1e308, recycleBelow: 40 },
      },
      field: 'accounts.qualification.threshold',
    },
    {
      name: 'intent points that overflow a sum',
      path: ['intent', 'rules', 0, 'points'],
      value: 1e308,
      field: 'intent.rules[0].points',
    },
    {
      name: 'fit points beyond the limit',
      path: ['fit', 'rules', 0, 'points'],
      value: -2_000_000,
      field: 'fit.rules[0].points',
    },
    {
      name: 'a duplicate account role',
      path: ['accounts'],
      value: {
        roles: [
          { id: 'cfo', description: 'CFO', titlePattern: 'cfo' },
          { id: 'cfo', description: 'CFO again', titlePattern: 'finance' },
        ],
        qualification: { threshold: 50, recycleBelow: 40 },
      },
      field: 'accounts.roles[1].id',
    },
    {
      name: 'a fit group no rule has',
      path: ['accounts'],
      value: {
        fitGroups: ['company-size'],
        roles: [{ id: 'cfo', description: 'CFO', titlePattern: 'cfo' }],
        qualification: { threshold: 50, recycleBelow: 40 },
      },
      field: 'accounts.fitGroups[0]',
    },
    {
      name: 'a cap of zero events',
      path: ['intent', 'rules', 0, 'cap'],
      value: { max: 0, windowDays: 30 },
      field: 'intent.rules[0].cap.max',
    },
    {
      name: 'a cap window of zero days',
      path: ['intent', 'rules', 0, 'cap'],
      value: { max: 3, windowDays: 0 },
      field: 'intent.rules[0].cap.windowDays',
    },
    {
      name: 'a domain with a path',
      path: ['fit', 'rules', 0],
      value: {
        id: 'email',
        description: 'Email',
        traits: ['email'],
        domains: ['example.com/x'],
        points: 1,
      },
      field: 'fit.rules[0].domains[0]',
    },
    {
      name: 'an empty property range',
      path: ['intent', 'rules', 0, 'when'],
      value: { properties: { seconds: { range: {} } } },
      field: 'intent.rules[0].when.properties.seconds.range',
    },
    {
      name: 'a range with min above max',
      path: ['fit', 'rules', 0],
      value: {
        id: 'size',
        description: 'Size',
        traits: ['employees'],
        range: { min: 10, max: 5 },
        points: 1,
      },
      field: 'fit.rules[0].range',
    },
    {
      name: 'a title pattern that backtracks exponentially',
      path: ['fit', 'rules', 0, 'pattern'],
      value: '^(\\w+\\s?)+$',
      field: 'fit.rules[0].pattern',
    },
    {
      name: 'a path pattern that backtracks exponentially',
      path: ['intent', 'rules', 0, 'when', 'path'],
      value: '^(/.*)*x',
      field: 'intent.rules[0].when.path',
    },
    {
      name: 'a role title pattern that backtracks exponentially',
      path: ['accounts'],
      value: {
        roles: [{ id: 'cfo', description: 'CFO', titlePattern: '(a|b+)+$' }],
        qualification: { threshold: 50, recycleBelow: 40 },
      },
      field: 'accounts.roles[0].titlePattern',
    },
    {
      name: 'a path pattern with a count above 1000',
      path: ['intent', 'rules', 0, 'when', 'path'],
      value: 'a{1,100000}b{1,100000}',
      field: 'intent.rules[0].when.path',
    },
    {
      name: 'a title pattern with overlapping alternatives',
      path: ['fit', 'rules', 0, 'pattern'],
      value: '(ab|a|b)*c',
      field: 'fit.rules[0].pattern',
    },
    {
      name: 'a property pattern with an unanchored pair',
      path: ['intent', 'rules', 0, 'when', 'properties'],
      value: { query: { pattern: '.*.*=' } },
      field: 'intent.rules[0].when.properties.query.pattern',
    },
    {
      name: 'a bot pattern with an unanchored pair',
      path: ['quarantine'],
      value: { botUserAgentPattern: 'bot|\\w+\\w+$' },
      field: 'quarantine.botUserAgentPattern',
    },
    {
      name: 'an invalid bot pattern',
      path: ['quarantine'],
      value: { botUserAgentPattern: '[' },
      field: 'quarantine.botUserAgentPattern',
    },
    {
      name: 'a burst of one click',
      path: ['quarantine'],
      value: { emailClicks: { burstClicksPerSecond: 1 } },
      field: 'quarantine.emailClicks.burstClicksPerSecond',
    },
    {
      name: 'a name of 201 characters',
      path: ['name'],
      value: 'n'.repeat(201),
      field: 'name',
    },
    {
      name: 'a burst of 11 clicks',
      path: ['quarantine'],
      value: { emailClicks: { burstClicksPerSecond: 11 } },
      field: 'quarantine.emailClicks.burstClicksPerSecond',
    },
  ])('rejects $name with its path', ({ path, value, field }) => {
    const document = minimalModel();
    setPath(document, path, value);

    expect(issuesOf(document)).toContain(field);
  });
});

describe('compileValidatedModel', () => {
  it('compiles a validated document from JSON alike', () => {
    const validated = compileModel(DEFAULT_MODEL_DOCUMENT);
    const json = JSON.stringify(validated.document);

    const model = compileValidatedModel(JSON.parse(json) as ModelDocument);

    expect(model.version).toBe(validated.version);
    expect(model.document).toEqual(validated.document);
    expect(model.traitNames).toEqual(validated.traitNames);
    expect(compileModel(validated.document).version).toBe(validated.version);
  });
});

describe('checkModel', () => {
  it('finds nothing to warn about in the bundled model', () => {
    expect(checkModel(compileModel(DEFAULT_MODEL_DOCUMENT))).toEqual([]);
  });

  it.each([
    [
      ['fit', 'rules', 0, 'pattern'],
      '/cfo/i',
      'fit.rules[0].pattern',
      'Write cfo',
    ],
    [
      ['intent', 'rules', 0, 'when', 'path'],
      '^/pricing|',
      'intent.rules[0].when.path',
      'matches every value',
    ],
    [
      ['fit', 'rules', 0, 'pattern'],
      '^',
      'fit.rules[0].pattern',
      'matches every value',
    ],
    [
      ['fit', 'rules', 0, 'pattern'],
      '^$',
      'fit.rules[0].pattern',
      'matches an empty value, so a blank field meets the rule',
    ],
    [
      ['fit', 'rules', 0, 'pattern'],
      '^[^@]*$',
      'fit.rules[0].pattern',
      'matches an empty value, so a blank field meets the rule',
    ],
    [
      ['fit', 'rules', 0, 'pattern'],
      '^.{0,80}$',
      'fit.rules[0].pattern',
      'matches an empty value, so a blank field meets the rule',
    ],
    [
      ['fit', 'rules', 0, 'pattern'],
      '^(?!.*\\b(student|intern)\\b)',
      'fit.rules[0].pattern',
      'matches an empty value, so a blank field meets the rule',
    ],
    [
      ['fit', 'rules', 0, 'pattern'],
      '^(?:cfo)?$',
      'fit.rules[0].pattern',
      'matches an empty value, so a blank field meets the rule',
    ],
    [
      ['fit', 'rules', 0, 'pattern'],
      'chief^officer',
      'fit.rules[0].pattern',
      'can never match, because it has a ^ after a character',
    ],
    [
      ['intent', 'rules', 0, 'when', 'path'],
      '$^x',
      'intent.rules[0].when.path',
      'can never match, because it has a character that must match after a $',
    ],
    [
      ['fit', 'rules', 0, 'pattern'],
      'cfo[^\\s\\S]',
      'fit.rules[0].pattern',
      'the class [^\\s\\S], which matches no character',
    ],
  ])(
    'warns about the pattern at %j written as %s',
    (path, pattern, field, message) => {
      const document = minimalModel();
      setPath(document, path, pattern);

      const warnings = checkModel(compileModel(document));

      expect(warnings).toEqual([
        { field, message: expect.stringContaining(message) },
      ]);
    },
  );

  it.each(['^/pricing(/|$)', 'cfo$|^vp', '(?:^|\\s)cfo(?:$|\\s)', '\\$\\^'])(
    'accepts the pattern %s',
    (pattern) => {
      const document = minimalModel();
      setPath(document, ['fit', 'rules', 0, 'pattern'], pattern);

      expect(checkModel(compileModel(document))).toEqual([]);
    },
  );

  it('accepts a path between slashes', () => {
    const document = minimalModel();
    setPath(document, ['intent', 'rules', 0, 'when', 'path'], '/pricing/');

    expect(checkModel(compileModel(document))).toEqual([]);
  });

  it('warns when the maximum fit reaches the recycle level', () => {
    const document = minimalModel();
    setPath(document, ['qualification', 'recycleBelow'], 20);

    const warnings = checkModel(compileModel(document));

    expect(warnings.map((w) => w.field)).toEqual([
      'qualification.recycleBelow',
    ]);
  });

  it.each([
    { fit: 19.997, warns: true },
    { fit: 19.994, warns: false },
  ])('compares a maximum fit of $fit in cents', ({ fit, warns }) => {
    const document = minimalModel();
    setPath(document, ['fit', 'rules', 0, 'points'], fit);
    setPath(document, ['qualification', 'recycleBelow'], 20);

    const warnings = checkModel(compileModel(document));

    expect(warnings.map((w) => w.field)).toEqual(
      warns ? ['qualification.recycleBelow'] : [],
    );
  });

  it.each([
    {
      cap: undefined,
      recycleBelow: 50,
      held: 'them without bound',
      remedy: 'or a cap without a window',
    },
    {
      cap: { max: 2, windowDays: 30 },
      recycleBelow: 50,
      held: 'them without bound',
      remedy: 'or a cap without a window',
    },
    {
      cap: { max: 1 },
      recycleBelow: 40,
      held: 'up to 25 points of them',
      remedy: 'or lower their caps',
    },
  ])(
    'warns of lasting points held $held',
    ({ cap, recycleBelow, held, remedy }) => {
      const document = minimalModel();
      setPath(document, ['intent', 'rules', 0, 'retentionPerQuarter'], 1);
      if (cap !== undefined)
        setPath(document, ['intent', 'rules', 0, 'cap'], cap);
      setPath(document, ['qualification', 'threshold'], recycleBelow + 5);
      setPath(document, ['qualification', 'recycleBelow'], recycleBelow);

      const warnings = checkModel(compileModel(document));

      expect(warnings).toEqual([
        {
          field: 'qualification.recycleBelow',
          message: expect.stringContaining(
            `the points of pricing never decay (retentionPerQuarter 1), and a lead can keep ${held},`,
          ),
        },
      ]);
      expect(warnings[0]?.message).toMatch(
        new RegExp(`give those rules a retention below 1 ${remedy}$`),
      );
    },
  );

  it.each([
    { retention: 1, recycleBelow: 46 },
    { retention: 0.99, recycleBelow: 25 },
  ])(
    'accepts lasting points below the recycle level at $retention',
    ({ retention, recycleBelow }) => {
      const document = minimalModel();
      setPath(
        document,
        ['intent', 'rules', 0, 'retentionPerQuarter'],
        retention,
      );
      setPath(document, ['intent', 'rules', 0, 'cap'], { max: 1 });
      setPath(document, ['intent', 'rules', 1], {
        id: 'demo',
        description: 'Demo request',
        when: { types: ['track'], events: ['Demo Requested'] },
        points: 40,
      });
      setPath(document, ['qualification', 'threshold'], 60);
      setPath(document, ['qualification', 'recycleBelow'], recycleBelow);

      expect(checkModel(compileModel(document))).toEqual([]);
    },
  );

  it('warns when no lead can reach the minimum fit', () => {
    const document = minimalModel();
    setPath(document, ['qualification', 'minimumFit'], 25);

    const warnings = checkModel(compileModel(document));

    expect(warnings.map((w) => w.field)).toEqual(['qualification.minimumFit']);
  });

  it.each([
    {
      name: 'events on page types',
      when: { types: ['page'], events: ['Demo Requested'] },
    },
    { name: 'names on track types', when: { types: ['track'], names: ['A'] } },
    { name: 'events and names', when: { events: ['A'], names: ['B'] } },
  ])('warns about a rule that never matches: $name', ({ when }) => {
    const document = minimalModel();
    setPath(document, ['intent', 'rules', 0, 'when'], when);

    const warnings = checkModel(compileModel(document));

    expect(warnings.map((w) => w.field)).toEqual(['intent.rules[0].when']);
  });

  it.each([
    { points: 5000, retention: 0.05, warns: true },
    { points: 4000, retention: 0.05, warns: false },
    { points: -5000, retention: 0.05, warns: false },
    { points: 1_000_000, retention: 0.75, warns: false },
    { points: 1_000_000, retention: 0.15, warns: true },
  ])(
    'checks decay rounding of $points points at $retention',
    ({ points, retention, warns }) => {
      const document = minimalModel();
      setPath(document, ['intent', 'rules', 0, 'points'], points);
      setPath(
        document,
        ['intent', 'rules', 0, 'retentionPerQuarter'],
        retention,
      );

      // A negative rule also gets a warning that its retention has no
      // effect, which is not the rounding this test is about.
      const pointsWarnings = checkModel(compileModel(document)).filter(
        (warning) => warning.field === 'intent.rules[0].points',
      );

      expect(pointsWarnings.length).toBe(warns ? 1 : 0);
    },
  );

  it('warns about a rule hidden by an earlier one', () => {
    const document = minimalModel();
    const rules = (document.intent as { rules: unknown[] }).rules;
    rules.push({ ...(rules[0] as object), id: 'pricing-again' });

    const warnings = checkModel(compileModel(document));

    expect(warnings.map((w) => w.field)).toEqual(['intent.rules[1]']);
  });

  it.each([
    {
      name: 'a type over an event',
      earlier: { types: ['track'] },
      later: { events: ['Demo Requested'] },
      warns: true,
    },
    {
      name: 'more events over fewer',
      earlier: { events: ['Demo Requested', 'Contact Requested'] },
      later: { events: ['demo requested'], properties: { plan: ['pro'] } },
      warns: true,
    },
    {
      name: 'a path over a typed path',
      earlier: { path: '^/pricing' },
      later: { types: ['page'], path: '^/pricing' },
      warns: true,
    },
    {
      name: 'more property values over fewer',
      earlier: { properties: { plan: ['pro', 'free'] } },
      later: { events: ['A'], properties: { plan: ['pro'] } },
      warns: true,
    },
    {
      name: 'page type over names',
      earlier: { types: ['page'] },
      later: { names: ['Pricing'] },
      warns: false,
    },
    {
      name: 'an event over a type',
      earlier: { events: ['A'] },
      later: { types: ['track'] },
      warns: false,
    },
    {
      name: 'fewer property values over more',
      earlier: { properties: { plan: ['pro'] } },
      later: { events: ['A'], properties: { plan: ['pro', 'free'] } },
      warns: false,
    },
    {
      name: 'another path',
      earlier: { path: '^/pricing' },
      later: { path: '^/pricing/enterprise' },
      warns: false,
    },
  ])(
    'checks a rule hidden by a broader one: $name',
    ({ earlier, later, warns }) => {
      const document = minimalModel();
      setPath(
        document,
        ['intent', 'rules'],
        [
          { id: 'earlier', description: 'Earlier', when: earlier, points: 5 },
          { id: 'later', description: 'Later', when: later, points: 10 },
        ],
      );

      const warnings = checkModel(compileModel(document));

      expect(warnings.map((w) => w.field)).toEqual(
        warns ? ['intent.rules[1]'] : [],
      );
    },
  );

  it.each([
    { cap: undefined, threshold: 1_000_000, warns: false },
    { cap: { max: 2 }, threshold: 71, warns: true },
    { cap: { max: 2 }, threshold: 70, warns: false },
    { cap: { max: 1, windowDays: 30 }, threshold: 330, warns: true },
    { cap: { max: 1, windowDays: 30 }, threshold: 320, warns: false },
  ])(
    'checks a threshold of $threshold with cap $cap',
    ({ cap, threshold, warns }) => {
      const document = minimalModel();
      setPath(document, ['intent', 'rules', 0, 'cap'], cap);
      setPath(document, ['qualification', 'threshold'], threshold);

      const warnings = checkModel(compileModel(document));

      expect(warnings.map((w) => w.field)).toEqual(
        warns ? ['qualification.threshold'] : [],
      );
    },
  );

  it('warns once about a rule that never matches', () => {
    const document = minimalModel();
    setPath(
      document,
      ['intent', 'rules'],
      [
        {
          id: 'earlier',
          description: 'Earlier',
          when: { types: ['track'] },
          points: 5,
        },
        {
          id: 'later',
          description: 'Later',
          when: { types: ['page'], events: ['A'] },
          points: 10,
        },
      ],
    );

    const warnings = checkModel(compileModel(document));

    expect(warnings.map((w) => w.field)).toEqual(['intent.rules[1].when']);
  });

  it('warns about retention on negative points', () => {
    const document = minimalModel();
    const rules = (document.intent as { rules: unknown[] }).rules;
    rules.unshift({
      id: 'unsubscribed',
      description: 'Unsubscribed',
      when: { events: ['Unsubscribed'] },
      points: -10,
      retentionPerQuarter: 0.5,
    });

    const warnings = checkModel(compileModel(document));

    expect(warnings).toEqual([
      {
        field: 'intent.rules[0].retentionPerQuarter',
        message:
          'has no effect, because negative points never decay; remove it',
      },
    ]);
  });
});

describe('maximumFit', () => {
  it('adds the best rule of each group and every ungrouped rule', () => {
    const model = compileModel({
      ...minimalModel(),
      fit: {
        rules: [
          {
            id: 'a',
            description: 'a',
            traits: ['t'],
            group: 'g',
            pattern: 'a',
            points: 30,
          },
          {
            id: 'b',
            description: 'b',
            traits: ['t'],
            group: 'g',
            pattern: 'b',
            points: 25,
          },
          {
            id: 'c',
            description: 'c',
            traits: ['u'],
            pattern: 'c',
            points: 10,
          },
          {
            id: 'd',
            description: 'd',
            traits: ['v'],
            pattern: 'd',
            points: -10,
          },
        ],
      },
    });

    expect(maximumFit(model)).toBe(40);
  });
});
