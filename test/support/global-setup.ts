process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import type { TestProject } from 'vitest/node';
import { freePort } from '../../local/ports.js';
import {
  type LocalService,
  startDynamoDbLocal,
  startMoto,
} from '../../local/services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
    motoEndpoint: string;
  }
}

/**
 * Starts one DynamoDB Local and one moto server for the whole run. Tests
 * isolate themselves by creating uniquely named tables, buses and queues.
 */
export default async function setup(project: TestProject) {
  const services: LocalService[] = await Promise.all([
    freePort().then((port) => startDynamoDbLocal({ port })),
    freePort().then((port) => startMoto({ port })),
  ]);
  const [dynamo, moto] = services as [LocalService, LocalService];
  project.provide('dynamoDbEndpoint', dynamo.endpoint);
  project.provide('motoEndpoint', moto.endpoint);
  return async () => {
    await Promise.all(services.map((service) => service.stop()));
  };
}
