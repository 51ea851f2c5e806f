import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from '../local/ports.js';
import { startDynamoDbLocal, startMoto } from '../local/services.js';
import { shouldRun } from './help-only.js';
import { parseIntegerOption } from './integer-option.js';
import { measureDelivery } from './reliability/delivery.js';
import { formatDeliverySection, replaceSection } from './reliability/report.js';

/**
 * `npm run reliability`: measures delivery with half of all PutEvents
 * entries failing and writes the result into the delivery section of
 * RELIABILITY.md. Starts its own DynamoDB Local and moto server on free
 * loopback ports. MQL_RELIABILITY_MQLS sets the number of MQLs (100).
 */
const USAGE = `Usage: npm run reliability

Measures event delivery with half of all PutEvents entries failing and
writes the result into RELIABILITY.md. Starts its own DynamoDB Local and
moto server on free loopback ports.

Environment:
  MQL_RELIABILITY_MQLS  number of MQLs to produce [100]
`;

async function main(): Promise<void> {
  if (!shouldRun('reliability', USAGE, process.argv.slice(2))) return;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const mqls = parseIntegerOption(
    'MQL_RELIABILITY_MQLS',
    process.env.MQL_RELIABILITY_MQLS ?? '100',
    1,
  );
  const [dynamo, moto] = await Promise.all([
    freePort().then((port) => startDynamoDbLocal({ port })),
    freePort().then((port) => startMoto({ port })),
  ]);
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
    const file = resolve(import.meta.dirname, '..', 'RELIABILITY.md');
    const document = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const section = formatDeliverySection(report, {
      seed: options.seed,
      nonRetryableShare: options.nonRetryableShare,
      measuredOn: `Node.js ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}`,
    });
    writeFileSync(file, replaceSection(document, section));
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (report.delivered !== report.mqls || report.duplicates > 0) {
      process.exitCode = 1;
    }
  } finally {
    await Promise.all([dynamo.stop(), moto.stop()]);
  }
}

main().catch((error: unknown) => {
  process.exitCode = 1;
  process.stderr.write(`reliability: ${String(error)}\n`);
});
