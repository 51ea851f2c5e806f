import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Annotations, type App, Errors, Validations } from 'aws-cdk-lib';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigurationError } from './configuration-error.js';
import { resourceName } from './definitions/event-routing.js';
import { MqlEngineStack } from './mql-engine-stack.js';
import { loadScoringModel } from './scoring-model.js';
import { loadStageConfig, STAGE_DEFAULTS } from './stage-config.js';

/** Root of the repository, where functions/, models/ and config/ are. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Stage deployed when the `stage` context is not set. */
export const DEFAULT_STAGE = 'dev';

export interface StageStackOptions {
  /** Repository root. @default PROJECT_ROOT */
  projectRoot?: string;
  /** Directory of the `<stage>.json` files. @default config/stages */
  configDir?: string;
}

/**
 * Adds the stack of the stage named by the `stage` context (`-c stage=…`)
 * to the app, after validating the stage configuration and its scoring
 * model. Registers the cdk-nag AWS Solutions checks on the app, so
 * synthesis fails on any finding that is not acknowledged with a reason.
 */
export function addStageStack(
  app: App,
  options: StageStackOptions = {},
): MqlEngineStack {
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;
  const stageName = readStageName(app);
  const configDir = options.configDir ?? join(projectRoot, 'config', 'stages');
  const config = loadStageConfig(stageName, configDir);
  const model = loadScoringModel(join(projectRoot, config.modelFile));

  const stack = new MqlEngineStack(app, resourceName(stageName), {
    description: `mql-engine lead scoring, stage ${stageName}, model ${model.name}@${model.version}`,
    env: { account: config.account, region: config.region },
    config,
    model,
    projectRoot,
  });
  noteDefaultsOnly(stack, stageName, configDir);
  noteUnlistedRegion(stack, config.region);
  noteReservedEmails(stack, config.alarms.emails);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

/**
 * Synthesizes an app built by addStageStack. Raises ConfigurationError
 * at events.targets when the stack has more resources than
 * CloudFormation takes (500), because each routing target adds its own
 * resources and the other settings add too few to reach the limit.
 */
export function synthesizeStageApp(app: App): void {
  try {
    app.synth();
  } catch (error) {
    if (
      !Errors.isValidationError(error) ||
      error.name !== 'TooManyResourcesInStack'
    ) {
      throw error;
    }
    // The CDK's message goes on to count every resource type.
    const [count] = error.message.split(': AWS::');
    throw new ConfigurationError(
      `Invalid configuration of stage "${readStageName(app)}":`,
      [
        `events.targets: makes the stack too large for CloudFormation. ${count}. Each target adds a rule, a dead-letter queue, an alarm and its queue or API destination. Remove targets, or merge targets that go to one consumer into one target whose eventPattern uses $or.`,
      ],
    );
  }
}

/**
 * Adds a warning, which `cdk synth` prints and `cdk synth --strict`
 * fails on, when the stage has no file of its own, so a mistyped stage
 * name such as `prd` does not pass unnoticed with the dev defaults.
 */
function noteDefaultsOnly(
  stack: MqlEngineStack,
  stageName: string,
  configDir: string,
): void {
  if (existsSync(join(configDir, `${stageName}.json`))) return;
  const defaults = Object.hasOwn(STAGE_DEFAULTS, stageName) ? stageName : 'dev';
  Annotations.of(stack).addWarningV2(
    'mql-engine:stage-without-file',
    `Stage ${stageName} has no ${join(configDir, `${stageName}.json`)}, so it uses the ${defaults} defaults. Check the stage name, or add the file to configure the stage.`,
  );
}

/**
 * Adds a warning when the stage's region is not one that aws-cdk-lib
 * lists, so a mistyped region such as eu-west-9 shows at synthesis
 * instead of failing the deployment. A Region newer than this version
 * of aws-cdk-lib gets the warning too, so it is not an error.
 */
function noteUnlistedRegion(
  stack: MqlEngineStack,
  region: string | undefined,
): void {
  if (region === undefined) return;
  if (RegionInfo.regions.some((listed) => listed.name === region)) return;
  Annotations.of(stack).addWarningV2(
    'mql-engine:unlisted-region',
    `region ${region} is not a Region that aws-cdk-lib lists. Check its spelling; a Region newer than the installed aws-cdk-lib also gets this warning.`,
  );
}

/**
 * Domains reserved for examples and tests (RFC 2606), which receive no
 * mail. The shipped prod file has such a placeholder address.
 */
const RESERVED_EMAIL_DOMAIN =
  /(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid|localhost)$/;

/**
 * Adds a warning for each alarm email at a reserved domain, so a
 * placeholder address is replaced before the stage is deployed.
 * `cdk synth --strict` fails on it.
 */
function noteReservedEmails(
  stack: MqlEngineStack,
  emails: readonly string[],
): void {
  emails.forEach((email, index) => {
    const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
    if (!RESERVED_EMAIL_DOMAIN.test(domain)) return;
    Annotations.of(stack).addWarningV2(
      'mql-engine:reserved-alarm-email',
      `alarms.emails[${index}] is at a domain reserved for examples, which receives no mail, so no one would get the stage's alarms. Replace it with a monitored address.`,
    );
  });
}

function readStageName(app: App): string {
  const stage: unknown = app.node.tryGetContext('stage') ?? DEFAULT_STAGE;
  if (typeof stage !== 'string') {
    throw new ConfigurationError(
      `Invalid stage context: expected a name such as -c stage=dev, got ${JSON.stringify(stage)}.`,
    );
  }
  return stage;
}
