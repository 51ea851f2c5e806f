import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { PROJECT_ROOT } from '../../../lib/mql-engine-app.js';

/** Prefix of the child's output line that carries the handler's result. */
const RESULT_MARKER = 'RESULT ';

/** Result of one invocation: the handler's value and the Node that ran it. */
export interface BundleResult<T> {
  result: T;
  nodeVersion: string;
  /** The child's other output: the handler's log lines. */
  logs: string;
}

/**
 * Returns the Node binary that runs bundles: `MQL_LAMBDA_NODE` when set,
 * such as a Node of the Lambda runtime's major version, else the Node
 * that runs the tests.
 */
export function lambdaNode(): string {
  return process.env.MQL_LAMBDA_NODE || process.execPath;
}

/**
 * Runs a Lambda bundle's handler with `event` in a new Node process, as
 * a cold Lambda runtime would: modules resolve from the layer's
 * directory first, then from the repository's node_modules, which stand
 * in for the runtime's AWS SDK. Raises an error with the child's output
 * when the handler throws or the process fails.
 */
export function invokeBundle<T>(
  bundle: string,
  layerModules: string,
  environment: Record<string, string>,
  event: unknown,
): BundleResult<T> {
  const script = `
    const { handler } = require(${JSON.stringify(bundle)});
    handler(${JSON.stringify(event)}).then((result) => {
      console.log(${JSON.stringify(RESULT_MARKER)} + JSON.stringify({
        result,
        nodeVersion: process.version,
      }));
    });
  `;
  const child = spawnSync(lambdaNode(), ['-e', script], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      NODE_PATH: [layerModules, join(PROJECT_ROOT, 'node_modules')].join(
        delimiter,
      ),
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      ...environment,
    },
  });
  const line = child.stdout
    .split('\n')
    .find((output) => output.startsWith(RESULT_MARKER));
  if (child.status !== 0 || line === undefined) {
    throw new Error(
      `The bundle ${bundle} failed: ${child.error?.message ?? ''}${child.stderr}${child.stdout}`,
    );
  }
  const parsed = JSON.parse(line.slice(RESULT_MARKER.length)) as Omit<
    BundleResult<T>,
    'logs'
  >;
  const logs = child.stdout.replace(line, '') + child.stderr;
  return { ...parsed, logs };
}
