import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Test files spend most of their time waiting on DynamoDB Local, moto
    // and child processes, so two run at once even on two cores. Vitest 4
    // leaves one core free by default, which runs one file at a time there.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 120_000,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Handler logs are checked by tests that record them; the rest of
      // the suite keeps its output to warnings and errors.
      POWERTOOLS_LOG_LEVEL: 'WARN',
      // Handlers would print an EMF metrics line per call; the metrics
      // tests turn the output back on.
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
  },
});
