import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Log } from '../ports/logger.js';
import type { WriteKeyVerifier } from '../ports/write-keys.js';
import type { ScoringDependencies } from '../use-cases/dependencies.js';
import { readConfig } from './config.js';
import { DynamoLeadRepository } from './dynamodb/lead-repository.js';
import { EventBridgePublisher } from './eventbridge/event-publisher.js';
import { loadModel } from './model-source.js';
import { DigestWriteKeyVerifier, hashWriteKey } from './write-keys.js';

/** Everything a handler needs, built once per Lambda container. */
export interface Runtime {
  deps: ScoringDependencies;
  writeKeys: WriteKeyVerifier;
  logger: Logger;
}

let current: Runtime | undefined;

/**
 * Returns the runtime, creating it on first use from the environment.
 * Clients are reused across invocations; the endpoints come from the SDK's
 * usual settings (AWS_ENDPOINT_URL_DYNAMODB and so on), so the local
 * runtime needs no code of its own.
 */
export function runtime(): Runtime {
  current ??= createRuntime(process.env);
  return current;
}

/** Drops the cached runtime, so the next call reads the environment again. */
export function resetRuntime(): void {
  current = undefined;
}

export function createRuntime(env: NodeJS.ProcessEnv): Runtime {
  const config = readConfig(env);
  const logger = new Logger({ serviceName: 'mql-engine' });
  const model = loadModel(config.MQL_MODEL_FILE);
  logger.appendKeys({ modelVersion: model.version });
  const repository = new DynamoLeadRepository(new DynamoDBClient({}), {
    tableName: config.TABLE_NAME,
    reviewShards: config.REVIEW_SHARDS,
    eventRetentionDays: config.EVENT_RETENTION_DAYS,
  });
  const publisher = new EventBridgePublisher(new EventBridgeClient({}), {
    eventBusName: config.EVENT_BUS_NAME,
    source: config.EVENT_SOURCE,
  });
  return {
    deps: {
      repository,
      publisher,
      model,
      clock: Date.now,
      log: logAdapter(logger),
    },
    writeKeys: new DigestWriteKeyVerifier(writeKeyDigests(config)),
    logger,
  };
}

function writeKeyDigests(config: ReturnType<typeof readConfig>) {
  const digests = (config.WRITE_KEY_DIGESTS ?? '')
    .split(',')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const [sourceId = '', sha256 = ''] = pair.split(':');
      return { sourceId, sha256 };
    });
  if (config.MQL_WRITE_KEY !== undefined) {
    digests.push({
      sourceId: 'default',
      sha256: hashWriteKey(config.MQL_WRITE_KEY),
    });
  }
  return digests;
}

function logAdapter(logger: Logger): Log {
  return {
    debug: (message, fields) => logger.debug(message, fields ?? {}),
    info: (message, fields) => logger.info(message, fields ?? {}),
    warn: (message, fields) => logger.warn(message, fields ?? {}),
    error: (message, fields) => logger.error(message, fields ?? {}),
  };
}
