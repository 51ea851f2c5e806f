import type { Context } from 'aws-lambda';
import type { FunctionName } from '../lib/stage-settings.js';

/** Memory and timeout of one function, as the stage config sets them. */
export interface LocalFunctionSettings {
  memorySize: number;
  timeoutSeconds: number;
}

/**
 * Creates the Lambda context of one local invocation that starts now.
 * Its remaining time counts down from the function's timeout as Lambda's
 * does, so handlers that stop before the timeout, such as an erasure
 * or the decay sweep, stop at the same point locally. Nothing ends the
 * invocation at the timeout, as Lambda would, so a local invocation runs
 * until its handler returns.
 */
export function localLambdaContext(
  name: FunctionName,
  settings: LocalFunctionSettings,
  requestId: string,
): Context {
  const deadline = Date.now() + settings.timeoutSeconds * 1000;
  const functionName = `local-${name}`;
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const unsupported = () => {
    throw new Error(
      'The local Lambda context supports no callbacks; return a promise from the handler.',
    );
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(settings.memorySize),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
