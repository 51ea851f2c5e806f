import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addStageStack } from '../../lib/mql-engine-app.js';
import {
  SYNTH_USAGE,
  SynthUsageError,
  synthArguments,
} from '../../scripts/synth.js';
import { createApp } from './support/synthesize.js';

describe('synthArguments', () => {
  it.each([
    [[], ['synth', '--quiet', '-c', 'stage=dev']],
    [['prod'], ['synth', '--quiet', '-c', 'stage=prod']],
    [
      ['staging', '--verbose'],
      ['synth', '--quiet', '-c', 'stage=staging', '--verbose'],
    ],
    [
      ['--output', 'out'],
      ['synth', '--quiet', '-c', 'stage=dev', '--output', 'out'],
    ],
    [
      ['prod', '-c', 'key=value', '-o', 'out'],
      ['synth', '--quiet', '-c', 'stage=prod', '-c', 'key=value', '-o', 'out'],
    ],
  ])('maps %j to cdk %j', (argv, expected) => {
    expect(synthArguments(argv)).toEqual(expected);
  });

  it.each([
    [['--stage', 'prod']],
    [['--stage=prod']],
    [['prod', '--stage', 'staging']],
  ])('rejects %j', (argv) => {
    expect(() => synthArguments(argv)).toThrow(SynthUsageError);
    expect(() => synthArguments(argv)).toThrow('npm run synth -- prod');
  });

  it.each([
    [['prod', '--app', 'echo hi']],
    [['prod', '-a', 'echo hi']],
    [['prod', '--app=echo hi']],
    [['-a=node other.js']],
  ])('rejects the other app of %j', (argv) => {
    expect(() => synthArguments(argv)).toThrow(SynthUsageError);
    expect(() => synthArguments(argv)).toThrow('npx cdk synth --app');
  });
});

describe('npm run synth -- --help', () => {
  it('prints its own usage', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/synth.ts', 'prod', '--help'],
      { encoding: 'utf8', timeout: 60_000 },
    );

    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Usage: npm run synth -- [STAGE]');
    expect(run.stdout).toContain('config/stages/STAGE.json');
  });

  it('names stages with own defaults', () => {
    const usage = SYNTH_USAGE.replaceAll('\n', ' ');

    expect(usage).toContain(
      'a name other than dev, staging and prod gets the dev defaults',
    );
  });
});

describe('npm run synth with a usage error', () => {
  it('prints the error and a --help hint', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/synth.ts', '--stage', 'prod'],
      { encoding: 'utf8', timeout: 60_000 },
    );

    expect(run.status).toBe(2);
    expect(run.stderr).toContain('synth: ');
    expect(run.stderr).toContain('npm run synth -- prod');
    expect(run.stderr).toContain('Run "npm run synth -- --help" for usage.');
  });
});

describe('synthArguments one-letter options', () => {
  it.each([
    ['-cstage=dev', '-c stage=dev'],
    ['-oout', '-o out'],
  ])('rejects %s written without a space', (option, spaced) => {
    const parse = () => synthArguments(['prod', option]);

    expect(parse).toThrow(SynthUsageError);
    expect(parse).toThrow(`as in ${spaced}.`);
  });

  it('passes flags and options with =', () => {
    expect(synthArguments(['prod', '-v', '-c=key=value'])).toEqual([
      'synth',
      '--quiet',
      '-c',
      'stage=prod',
      '-v',
      '-c=key=value',
    ]);
  });
});

describe('synthArguments stage context', () => {
  it.each([
    [['prod', '-c', 'stage=dev'], 'prod', 'dev', '-c stage=dev'],
    [['prod', '--context', 'stage=dev'], 'prod', 'dev', '--context stage=dev'],
    [['prod', '--context=stage=dev'], 'prod', 'dev', '--context=stage=dev'],
    [['prod', '-c=stage=dev'], 'prod', 'dev', '-c=stage=dev'],
    [['-c', 'stage=prod', '-c', 'stage=dev'], 'prod', 'dev', '-c stage=dev'],
  ])('rejects %j', (argv, stage, contextStage, option) => {
    expect(() => synthArguments(argv)).toThrow(SynthUsageError);
    expect(() => synthArguments(argv)).toThrow(
      `Conflicting stages: ${stage} and ${contextStage} (${option}).`,
    );
  });

  it.each([
    [
      ['-c', 'stage=prod'],
      ['synth', '--quiet', '-c', 'stage=prod', '-c', 'stage=prod'],
    ],
    [
      ['prod', '--context', 'stage=prod'],
      ['synth', '--quiet', '-c', 'stage=prod', '--context', 'stage=prod'],
    ],
  ])('accepts the same stage in %j', (argv, expected) => {
    expect(synthArguments(argv)).toEqual(expected);
  });
});

describe('synthArguments option values', () => {
  it.each([
    [['prod', '-c'], '-c needs a value, such as -c stage=prod.'],
    [['--context'], '--context needs a value, such as --context stage=prod.'],
    [['prod', '--output'], '--output needs a value, such as --output cdk.out'],
    [['prod', '--profile'], '--profile needs a value, such as --profile VALUE'],
  ])('rejects %j without a value', (argv, message) => {
    expect(() => synthArguments(argv)).toThrow(SynthUsageError);
    expect(() => synthArguments(argv)).toThrow(message);
  });
});

describe('synthArguments extra arguments', () => {
  it.each([
    [['prod', 'extra'], 'extra'],
    [['prod', '--verbose', 'stack'], 'stack'],
    [['prod', '-c', 'key=value', 'other'], 'other'],
  ])('rejects %j naming %s', (argv, extra) => {
    expect(() => synthArguments(argv)).toThrow(SynthUsageError);
    expect(() => synthArguments(argv)).toThrow(
      `Unexpected argument "${extra}": npm run synth takes one stage`,
    );
  });
});

describe('stage without a file', () => {
  /** Returns the warnings of the stage's stack, unsynthesized. */
  function warningsOf(stage: string, configDir?: string): string[] {
    const app = createApp(stage, { bundle: false });
    const stack = addStageStack(
      app,
      configDir === undefined ? {} : { configDir },
    );
    return stack.node.metadata
      .filter((entry) => entry.type === 'aws:cdk:warning')
      .map((entry) => String(entry.data));
  }

  it('warns that a mistyped stage uses the dev defaults', () => {
    const configDir = mkdtempSync(join(tmpdir(), 'mql-engine-stages-'));
    try {
      expect(warningsOf('prd', configDir)).toEqual([
        `Stage prd has no ${join(configDir, 'prd.json')}, so it uses the dev defaults. Check the stage name, or add the file to configure the stage. [ack: mql-engine:stage-without-file]`,
      ]);
      expect(warningsOf('staging', configDir)).toEqual([
        `Stage staging has no ${join(configDir, 'staging.json')}, so it uses the staging defaults. Check the stage name, or add the file to configure the stage. [ack: mql-engine:stage-without-file]`,
      ]);
    } finally {
      rmSync(configDir, { recursive: true, force: true });
    }
  });

  it('adds no warning for a stage with its file', () => {
    expect(warningsOf('staging')).toEqual([]);
  });
});

describe('stage stack', () => {
  it('builds without deprecated CDK APIs', () => {
    // With JSII_DEPRECATED=fail, aws-cdk-lib raises instead of printing
    // a deprecation warning on every synth.
    const previous = process.env.JSII_DEPRECATED;
    process.env.JSII_DEPRECATED = 'fail';
    try {
      expect(() =>
        addStageStack(createApp('dev', { bundle: false })),
      ).not.toThrow();
    } finally {
      if (previous === undefined) delete process.env.JSII_DEPRECATED;
      else process.env.JSII_DEPRECATED = previous;
    }
  });
});

describe('alarm emails', () => {
  /** Returns the warnings of a stage whose file sets `alarms.emails`. */
  function warningsFor(emails: string[]): string[] {
    const configDir = mkdtempSync(join(tmpdir(), 'mql-engine-stages-'));
    try {
      writeFileSync(
        join(configDir, 'ops.json'),
        JSON.stringify({ alarms: { emails } }),
      );
      const stack = addStageStack(createApp('ops', { bundle: false }), {
        configDir,
      });
      return stack.node.metadata
        .filter((entry) => entry.type === 'aws:cdk:warning')
        .map((entry) => String(entry.data));
    } finally {
      rmSync(configDir, { recursive: true, force: true });
    }
  }

  it.each([
    'alerts@example.com',
    'alerts@Example.ORG',
    'alerts@ops.example.net',
    'alerts@corp.example',
    'alerts@mail.test',
    'alerts@host.invalid',
  ])('warns of reserved address %s', (email) => {
    const warnings = warningsFor(['oncall@acme.io', email]);

    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      'alarms.emails[1] is at a domain reserved for examples',
    );
  });

  it('warns of the shipped prod placeholder', () => {
    const stack = addStageStack(createApp('prod', { bundle: false }));
    const warnings = stack.node.metadata
      .filter((entry) => entry.type === 'aws:cdk:warning')
      .map((entry) => String(entry.data));

    expect(warnings).toEqual([
      expect.stringContaining('alarms.emails[0] is at a domain reserved'),
    ]);
  });

  it('adds no warning for real domains', () => {
    expect(warningsFor(['oncall@acme.io', 'ops@examples.com'])).toEqual([]);
  });
});
