import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { DEFAULT_STAGE } from '../lib/mql-engine-app.js';
import { usageHint } from './command-line.js';

/**
 * `npm run synth -- [STAGE] [cdk synth options]`: synthesizes one stage
 * offline into cdk.out/, as `cdk synth --quiet -c stage=STAGE`. Without
 * STAGE it synthesizes dev. Exits with cdk's exit code.
 */

/** Mistake on the command line of `npm run synth`. */
export class SynthUsageError extends Error {}

/**
 * Returns the cdk arguments for the script's arguments: a first argument
 * that is not an option names the stage, and the rest pass through.
 * Raises SynthUsageError for `--stage`, which cdk would ignore with a
 * warning and synthesize dev, and for a `-c stage=…` of another stage,
 * which would override the stage argument.
 */
export function synthArguments(argv: readonly string[]): string[] {
  const stageOption = argv.find(
    (arg) => arg === '--stage' || arg.startsWith('--stage='),
  );
  if (stageOption !== undefined) {
    throw new SynthUsageError(
      `${stageOption} is not an option of npm run synth. Name the stage ` +
        'first, as in npm run synth -- prod, or pass -c stage=prod.',
    );
  }
  const appOption = argv.find((arg) => /^(?:-a|--app)(?:=|$)/.test(arg));
  if (appOption !== undefined) {
    // cdk would run the given command in place of bin/mql-engine.ts and
    // exit 0 without synthesizing this project's stack.
    throw new SynthUsageError(
      `${appOption} is not an option of npm run synth, which synthesizes ` +
        "this project's app. To synthesize another app, run " +
        'npx cdk synth --app COMMAND.',
    );
  }
  const [first, ...rest] = argv;
  const namesStage = first !== undefined && !first.startsWith('-');
  const options = namesStage ? rest : [...argv];
  const contextStages = stageContextOptions(options);
  const stage = namesStage ? first : (contextStages[0]?.stage ?? DEFAULT_STAGE);
  const conflicting = contextStages.find((context) => context.stage !== stage);
  if (conflicting !== undefined) {
    throw new SynthUsageError(
      `Conflicting stages: ${stage} and ${conflicting.stage} (${conflicting.option}). ` +
        `Name one stage, as in npm run synth -- ${stage}.`,
    );
  }
  const attached = options.find((option) => ATTACHED_VALUE.test(option));
  if (attached !== undefined) {
    const flag = attached.slice(0, 2);
    throw new SynthUsageError(
      `${attached} would be read as separate one-letter options. Put a ` +
        `space after ${flag}, as in ${flag} ${attached.slice(2)}.`,
    );
  }
  const last = options.at(-1);
  if (last !== undefined && OPTIONS_WITH_VALUE.has(last)) {
    throw new SynthUsageError(
      `${last} needs a value, such as ${last} ${exampleValue(last)}.`,
    );
  }
  const extra = extraArgument(options);
  if (extra !== undefined) {
    throw new SynthUsageError(
      `Unexpected argument "${extra}": npm run synth takes one stage, such ` +
        `as npm run synth -- ${stage}, then cdk synth options.`,
    );
  }
  return ['synth', '--quiet', '-c', `stage=${stage}`, ...options];
}

/**
 * Options of cdk synth (aws-cdk 2) that take a value as the next argument.
 * Any other option is taken as a flag.
 */
const OPTIONS_WITH_VALUE = new Set([
  '-a',
  '--app',
  '--build',
  '-c',
  '--context',
  '-o',
  '--output',
  '-p',
  '--plugin',
  '--profile',
  '--proxy',
  '--ca-bundle-path',
  '-r',
  '--role-arn',
  '--toolkit-stack-name',
]);

/**
 * Returns an example value of a cdk synth option that takes one, for the
 * message about a missing value.
 */
function exampleValue(option: string): string {
  if (option === '-c' || option === '--context') return 'stage=prod';
  if (option === '-o' || option === '--output') return 'cdk.out.prod';
  return 'VALUE';
}

/**
 * A one-letter option that takes a value, written together with it, such
 * as `-cstage=dev`: cdk reads it as the flags -c, -s, -t and so on, warns,
 * and synthesizes without the value.
 */
const ATTACHED_VALUE = /^-[acopr][^=]/;

/** Text of `npm run synth -- --help`. */
export const SYNTH_USAGE = `Usage: npm run synth -- [STAGE] [cdk synth options]

Synthesizes the stack of one stage offline into cdk.out/, as
cdk synth --quiet -c stage=STAGE. STAGE defaults to dev. Its settings
come from config/stages/STAGE.json over the stage's defaults, and a
stage without a file gets a warning. A stage with a name other than dev,
staging and prod gets the dev defaults.

Examples:
  npm run synth -- prod
  npm run synth -- staging --output cdk.out.staging

Other options go to cdk synth; npx cdk synth --help lists them.
`;

/** A `stage` context option: its stage and the option as typed. */
interface StageContext {
  stage: string;
  /** Such as `-c stage=dev`, `--context stage=dev` or `--context=stage=dev`. */
  option: string;
}

/** Returns every `stage` context option of `options`. */
function stageContextOptions(options: readonly string[]): StageContext[] {
  const contexts: { value: string; option: string }[] = [];
  options.forEach((option, index) => {
    const next = options[index + 1];
    if ((option === '-c' || option === '--context') && next !== undefined) {
      contexts.push({ value: next, option: `${option} ${next}` });
    }
    const inline = /^(?:-c|--context)=(.*)$/.exec(option);
    if (inline?.[1] !== undefined) contexts.push({ value: inline[1], option });
  });
  return contexts
    .filter((context) => context.value.startsWith('stage='))
    .map((context) => ({
      stage: context.value.slice('stage='.length),
      option: context.option,
    }));
}

/**
 * Returns the first argument after the stage that is neither an option
 * nor an option's value, or undefined. cdk would read it as a stack name
 * and fail only after bundling every function.
 */
function extraArgument(options: readonly string[]): string | undefined {
  let expectsValue = false;
  for (const option of options) {
    if (expectsValue) {
      expectsValue = false;
      continue;
    }
    if (!option.startsWith('-')) return option;
    expectsValue = OPTIONS_WITH_VALUE.has(option);
  }
  return undefined;
}

function main(): void {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(SYNTH_USAGE);
    return;
  }
  let args: string[];
  try {
    args = synthArguments(argv);
  } catch (error) {
    if (!(error instanceof SynthUsageError)) throw error;
    process.stderr.write(`synth: ${error.message}\n${usageHint('synth')}\n`);
    process.exitCode = 2;
    return;
  }
  const cdk = createRequire(import.meta.url).resolve('aws-cdk/bin/cdk');
  const result = spawnSync(process.execPath, [cdk, ...args], {
    stdio: 'inherit',
  });
  if (result.error !== undefined) {
    process.stderr.write(`cdk could not be started: ${result.error.message}\n`);
  }
  process.exitCode = result.status ?? 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main();
}
