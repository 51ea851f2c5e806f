import {
  checkModel,
  type ModelWarning,
} from '../functions/domain/model-check.js';
import { embeddedModelBytes, MAX_DEFINE_BYTES } from '../lib/scoring-model.js';
import { usageHint } from './command-line.js';
import { runBacktest } from './model/backtest.js';
import {
  compileModelDocument,
  ModelFileError,
  readModelDocument,
} from './model/model-file.js';
import { parseModelArguments, USAGE } from './model/options.js';
import { asOfNote, formatBacktest } from './model/report.js';
import { markLeadsForRescore } from './model/rescore.js';
import { formatModelSummary } from './model/summary.js';
import { ReplayError, UsageError } from './replay/errors.js';

/**
 * `npm run model -- check FILE`, `backtest FILE` and `rescore FILE`:
 * validate a scoring model, compare it with the live model on stored or
 * recorded events, or make the leads and accounts of earlier models due
 * for the sweep. Results go to stdout, errors to stderr.
 */
async function main(): Promise<void> {
  // The SDK warns about Node.js 20 on every client; the warning is noise
  // for a one-off command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const parsed = parseModelArguments(
    process.argv.slice(2),
    process.env,
    Date.now(),
  );
  if (parsed.command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed.command === 'check') {
    const document = await readModelDocument(parsed.file);
    const model = compileModelDocument(parsed.file, document);
    const warnings = [
      ...checkModel(model),
      ...embeddingWarnings(model.document),
    ];
    process.stdout.write(formatModelSummary(parsed.file, model, warnings));
    return;
  }
  if (parsed.command === 'rescore') {
    const { modelFile, ...target } = parsed.options;
    const document = await readModelDocument(modelFile);
    const model = compileModelDocument(modelFile, document);
    const result = await markLeadsForRescore({
      ...target,
      model,
      now: Date.now(),
    });
    process.stdout.write(
      `${result.marked} of ${result.leads} leads were scored by another ` +
        `model than ${model.version} and are due for the next sweep.\n` +
        `${result.accountsMarked} of ${result.accounts} accounts were ` +
        'checked by another model, or have no stored check and meet its ' +
        'rule, and are due for the next sweep.\n',
    );
    return;
  }
  const result = await runBacktest(parsed.options);
  const note = asOfNote(result);
  if (note !== undefined) process.stderr.write(`model: ${note}\n`);
  process.stdout.write(
    parsed.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : formatBacktest(result),
  );
}

/**
 * Returns a warning when `cdk synth` could not embed the model in the
 * bundles, so that a model that works locally does not first fail at
 * deployment.
 */
function embeddingWarnings(document: unknown): ModelWarning[] {
  const bytes = embeddedModelBytes(document);
  if (bytes <= MAX_DEFINE_BYTES) return [];
  return [
    {
      field: '(root)',
      message:
        `takes ${bytes} bytes as compact JSON, over the ${MAX_DEFINE_BYTES} ` +
        'bytes that cdk synth embeds in the Lambda bundles, so no stage ' +
        'can deploy it',
    },
  ];
}

main().catch((error: unknown) => {
  process.exitCode = error instanceof UsageError ? 2 : 1;
  if (error instanceof UsageError) {
    process.stderr.write(`model: ${error.message}\n${usageHint('model')}\n`);
  } else if (error instanceof ModelFileError) {
    const issues = error.issues.map(
      (issue) => `  ${issue.field}: ${issue.message}\n`,
    );
    process.stderr.write(`model: ${error.message}\n${issues.join('')}`);
  } else if (error instanceof ReplayError) {
    process.stderr.write(`model: ${error.message}\n`);
  } else {
    process.stderr.write(`model: unexpected error: ${String(error)}\n`);
    if (error instanceof Error && error.stack) {
      process.stderr.write(`${error.stack}\n`);
    }
  }
});
