import { resolve } from 'node:path';
import { freePort } from '../local/ports.js';
import {
  type LocalService,
  startDynamoDbLocal,
  startMoto,
  startServices,
} from '../local/services.js';
import { usageHint } from './command-line.js';
import { shouldRun } from './help-only.js';
import { parseIntegerOption } from './integer-option.js';
import { measureDelivery } from './reliability/delivery.js';
import {
  formatDeliverySection,
  writeDeliverySection,
} from './reliability/report.js';
import { UsageError } from './replay/errors.js';

/**
 * `npm run reliability`: measures delivery with half of all PutEvents
 * entries failing and writes the result into the delivery section of
 * RELIABILITY.md. Starts its own DynamoDB Local and moto server on free
 * loopback ports, and when either fails to start, stops the other and
 * exits with 1. MQL_RELIABILITY_MQLS sets the number of MQLs.
 */

/** Number of MQLs of the run that RELIABILITY.md records. */
const DEFAULT_MQLS = 100;

const USAGE = `Usage: npm run reliability

Measures event delivery with half of all PutEvents entries failing,
prints the result as JSON and writes it into RELIABILITY.md. Starts its
own DynamoDB Local and moto server on free loopback ports.

Environment:
  MQL_RELIABILITY_MQLS  number of MQLs to produce [${DEFAULT_MQLS}]; with
                        any other number RELIABILITY.md is left as it is
`;

async function main(): Promise<void> {
  if (!shouldRun('reliability', USAGE, process.argv.slice(2))) return;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const mqls = readMqls(process.env.MQL_RELIABILITY_MQLS);
  const [dynamo, moto] = (await startServices([
    {
      name: 'DynamoDB Local',
      start: async () => startDynamoDbLocal({ port: await freePort() }),
    },
    {
      name: 'moto_server',
      start: async () => startMoto({ port: await freePort() }),
    },
  ])) as [LocalService, LocalService];
  try {
    const options = {
      dynamoDbEndpoint: dynamo.endpoint,
      motoEndpoint: moto.endpoint,
      mqls,
      failureRate: 0.5,
      nonRetryableShare: 0.2,
      seed: 6,
    };
    const report = await measureDelivery(options);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (mqls === DEFAULT_MQLS) {
      const section = formatDeliverySection(report, {
        seed: options.seed,
        nonRetryableShare: options.nonRetryableShare,
        measuredOn: `Node.js ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}`,
      });
      writeDeliverySection(
        resolve(import.meta.dirname, '..', 'RELIABILITY.md'),
        section,
      );
    } else {
      process.stderr.write(
        `reliability: RELIABILITY.md was left as it was, because it records runs of ${DEFAULT_MQLS} MQLs and this run had ${mqls}.\n`,
      );
    }
    if (report.delivered !== report.mqls || report.duplicates > 0) {
      process.exitCode = 1;
    }
  } finally {
    await Promise.all([dynamo.stop(), moto.stop()]);
  }
}

/** Reads MQL_RELIABILITY_MQLS. An empty or blank value counts as unset. */
function readMqls(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return DEFAULT_MQLS;
  return parseIntegerOption('MQL_RELIABILITY_MQLS', text, 1);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.exitCode = 2;
    process.stderr.write(
      `reliability: ${error.message}\n${usageHint('reliability')}\n`,
    );
    return;
  }
  process.exitCode = 1;
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`reliability: ${message}\n`);
});
