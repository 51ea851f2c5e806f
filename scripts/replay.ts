import { usageHint } from './command-line.js';
import { ReplayError, UsageError } from './replay/errors.js';
import { replayMavenCrm } from './replay/maven-crm-run.js';
import { parseCliArguments, USAGE } from './replay/options.js';
import { formatSummary } from './replay/report.js';
import { runReplay } from './replay/run-replay.js';

/**
 * `npm run replay -- maven-crm DIR`: replays the Maven CRM sample
 * through a local stack of its own and prints account results.
 * `npm run replay -- FILE`: sends a file of tracking messages to a running
 * API and prints a summary on stdout. Progress and retries go to stderr.
 */
async function main(): Promise<void> {
  const request = parseCliArguments(
    process.argv.slice(2),
    process.env,
    Date.now(),
  );
  if (request.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (request.command === 'maven-crm') {
    await replayMavenCrm(request.directory, process.stdout, process.stderr);
    return;
  }
  const summary = await runReplay({
    ...request.replay,
    ...(request.quiet ? {} : { progressStream: process.stderr }),
  });
  process.stdout.write(
    request.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : formatSummary(summary),
  );
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`replay: ${error.message}\n${usageHint('replay')}\n`);
    process.exitCode = 2;
  } else if (error instanceof ReplayError) {
    process.stderr.write(`replay: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`replay: unexpected error: ${String(error)}\n`);
    if (error instanceof Error && error.stack) {
      process.stderr.write(`${error.stack}\n`);
    }
    process.exitCode = 1;
  }
});
