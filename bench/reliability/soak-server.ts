process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

import { randomUUID } from 'node:crypto';
import { startLocalStack } from '../../local/stack.js';

/**
 * The server side of `npm run soak`, run as a child process so that its
 * memory is measured apart from the load generator: the local stack with
 * the decay sweep on a timer. It reports over IPC when it is ready and
 * its heap and RSS every `MQL_SOAK_SAMPLE_MS`, after a full garbage
 * collection when Node runs with --expose-gc.
 */

const WRITE_KEY = process.env.MQL_WRITE_KEY ?? 'soak-write-key';
const SAMPLE_MS = Number(process.env.MQL_SOAK_SAMPLE_MS ?? 2_000);
const SWEEP_SECONDS = Number(process.env.MQL_SWEEP_INTERVAL_SECONDS ?? 10);

function send(message: unknown): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  let sweepErrors = 0;
  const stack = await startLocalStack({
    port: 0,
    writeKey: WRITE_KEY,
    adminToken: randomUUID(),
    sweepIntervalSeconds: SWEEP_SECONDS,
    stage: 'soak',
    onSalesEvent: () => send({ type: 'sales-event' }),
    onStatus: (message, error) => {
      if (error !== undefined) sweepErrors += 1;
      send({ type: 'status', message, error: error && String(error) });
    },
  });
  const gc = (globalThis as { gc?: () => void }).gc;
  const timer = setInterval(() => {
    gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    send({ type: 'memory', at: Date.now(), heapUsed, rss, sweepErrors });
  }, SAMPLE_MS);
  process.on('message', async (message) => {
    if ((message as { type?: string }).type !== 'stop') return;
    clearInterval(timer);
    await stack.stop();
    process.exit(0);
  });
  send({
    type: 'ready',
    apiUrl: stack.apiUrl,
    dynamoDbEndpoint: stack.dynamoDbEndpoint,
    tableName: stack.tableName,
    writeKey: WRITE_KEY,
  });
}

main().catch((error: unknown) => {
  send({ type: 'failed', error: String(error) });
  process.exit(1);
});
