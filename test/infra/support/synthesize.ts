import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  addStageStack,
  PROJECT_ROOT,
  type StageStackOptions,
} from '../../../lib/mql-engine-app.js';
import type { MqlEngineStack } from '../../../lib/mql-engine-stack.js';

/** A stage synthesized into a temporary cloud assembly. */
export interface SynthesizedStage {
  stack: MqlEngineStack;
  template: Template;
  /** Directory of the cloud assembly: templates, assets, reports. */
  assemblyDir: string;
  /** Deletes the cloud assembly. */
  cleanUp(): void;
}

/** Returns the directory of the bundle a function's Code points to. */
export function assetDirectory(
  synthesized: SynthesizedStage,
  functionResource: { Properties: Record<string, unknown> },
): string {
  const code = functionResource.Properties.Code as { S3Key: string };
  return assetDirectoryOfKey(synthesized, code.S3Key);
}

/** Returns the directory of the files a layer version's Content points to. */
export function layerDirectory(
  synthesized: SynthesizedStage,
  layerResource: { Properties: Record<string, unknown> },
): string {
  const content = layerResource.Properties.Content as { S3Key: string };
  return assetDirectoryOfKey(synthesized, content.S3Key);
}

/** Returns the directory of a file asset, named after its S3 key. */
function assetDirectoryOfKey(
  synthesized: SynthesizedStage,
  s3Key: string,
): string {
  const hash = s3Key.replace(/\.zip$/, '');
  return join(synthesized.assemblyDir, `asset.${hash}`);
}

/** Returns the context of cdk.json, so tests use the app's feature flags. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(
    readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8'),
  ) as { context: Record<string, unknown> };
  return cdkJson.context;
}

/**
 * Returns an app with the cdk.json context and `-c stage=<stage>`. With
 * `bundle: false` the functions get placeholder assets instead of esbuild
 * bundles, as `cdk synth --exclusively` does for the stacks it skips.
 */
export function createApp(
  stage: string,
  options: { outdir?: string; bundle?: boolean } = {},
): App {
  const context: Record<string, unknown> = { ...cdkJsonContext(), stage };
  if (options.bundle === false) {
    context['aws:cdk:bundling-stacks'] = [];
  }
  return new App({ outdir: options.outdir, context });
}

/**
 * Builds and synthesizes one stage as `cdk synth -c stage=<stage>` does,
 * with the cdk-nag checks and, unless `bundle` is false, real esbuild
 * bundling.
 */
export function synthesizeStage(
  stage: string,
  options: StageStackOptions & { bundle?: boolean } = {},
): SynthesizedStage {
  const { bundle, ...stackOptions } = options;
  const assemblyDir = mkdtempSync(join(tmpdir(), `mql-engine-${stage}-`));
  const app = createApp(stage, { outdir: assemblyDir, bundle });
  const stack = addStageStack(app, stackOptions);
  app.synth();
  return {
    stack,
    template: Template.fromStack(stack),
    assemblyDir,
    cleanUp: () => rmSync(assemblyDir, { recursive: true, force: true }),
  };
}

/**
 * Returns the cdk-nag reports of a synthesis; empty when it passed. The
 * report of construct annotations, which lists warnings such as a
 * placeholder alarm email, is left out, because tests read warnings
 * with Annotations.
 */
export function validationReports(synthesized: SynthesizedStage): unknown[] {
  const report = JSON.parse(
    readFileSync(
      join(synthesized.assemblyDir, 'validation-report.json'),
      'utf8',
    ),
  ) as { pluginReports: Array<{ pluginName?: string }> };
  return report.pluginReports.filter(
    (pluginReport) => pluginReport.pluginName !== 'Construct Annotations',
  );
}

/**
 * Runs cfn-lint on the stage's template. W3005 is ignored: it flags the
 * DependsOn that the CDK adds from each function to its role next to the
 * role's GetAtt, which is redundant, not wrong.
 */
/**
 * Time limit of a test that runs cfn-lint, which loads its rule set in a
 * new Python process each time and so takes tens of seconds on a busy
 * machine.
 */
export const LINT_TIMEOUT_MS = 120_000;

export function lintTemplate(synthesized: SynthesizedStage) {
  const templateFile = join(
    synthesized.assemblyDir,
    synthesized.stack.templateFile,
  );
  const lint = spawnSync(
    'cfn-lint',
    ['--ignore-checks', 'W3005', '--', templateFile],
    { encoding: 'utf8' },
  );
  return {
    error: lint.error,
    status: lint.status,
    output: lint.stdout + lint.stderr,
  };
}
